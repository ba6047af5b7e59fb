/* Every operation's body decoding (src/service/codec.h) and the protobuf <-> PSA conversion
 * (src/psa/convert.h), without a service behind them.
 *
 * Input: byte 0 picks the opcode (0-63: every defined opcode and some undefined ones), the
 * rest is the request body. Invariants:
 *  - decoding fails only with the statuses codec.h lists, and leaves nothing behind;
 *  - the generic argument decoder agrees with the message decoder (it can only refuse more);
 *  - a decoded message packs again, and what it packs decodes again to the same bytes;
 *  - the PSA values of attributes and algorithms convert back to protobuf (the conversion is
 *    total on what it produced), back again to the same PSA values, and that protobuf is a
 *    fixed point: converting it once more packs to the same bytes (convert.h "canonical");
 *  - attributes bincode can store read back as themselves;
 *  - a one-byte-string result carries exactly the bytes it was given. */
#include <string.h>

#include "common/log.h"
#include "fuzz_check.h"
#include "psa/convert.h"
#include "service/codec.h"
#include "service/kim/bincode.h"
#include "wire/opcode.h"
#include "wire/status.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *body = NULL;
    FUZZ_CHECK(codec_encode_msg(m, &body, len) == 0);
    FUZZ_CHECK((*len == 0) == (body == NULL));
    return body;
}

static int same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int same_attrs(const struct psc_attrs *a, const struct psc_attrs *b)
{
    return a->type == b->type && a->bits == b->bits && a->usage == b->usage && a->alg == b->alg;
}

/* A decoded message packs, and its packing is a fixed point of decode + pack. */
static void check_repack(uint32_t opcode, const ProtobufCMessage *m)
{
    size_t len = 0, len2 = 0;
    uint8_t *body = pack(m, &len);
    ProtobufCMessage *again = NULL;
    FUZZ_CHECK(codec_decode_msg(opcode, body, len, &again) == 0);
    uint8_t *body2 = pack(again, &len2);
    FUZZ_CHECK(same_bytes(body, len, body2, len2));
    codec_msg_free(again);
    free(body2);
    free(body);
}

static void check_attrs(const struct psc_attrs *a)
{
    PsaKeyAttributes__KeyAttributes *pb = NULL, *pb2 = NULL;
    struct psc_attrs back;
    size_t len = 0, len2 = 0;

    FUZZ_CHECK(conv_attrs_to_pb(a, &pb) == 0 && pb != NULL);
    FUZZ_CHECK(conv_attrs_from_pb(pb, &back) == 0 && same_attrs(&back, a));
    FUZZ_CHECK(conv_attrs_to_pb(&back, &pb2) == 0 && pb2 != NULL);
    uint8_t *b1 = pack(&pb->base, &len);
    uint8_t *b2 = pack(&pb2->base, &len2);
    FUZZ_CHECK(same_bytes(b1, len, b2, len2));
    free(b1);
    free(b2);
    protobuf_c_message_free_unpacked(&pb->base, NULL);
    protobuf_c_message_free_unpacked(&pb2->base, NULL);
    (void)conv_attrs_deprecated(a);

    /* What the key store would write reads back as the same attributes. */
    uint8_t enc[BINCODE_ATTRS_MAX];
    size_t elen = 0;
    int rc = bincode_attrs_encode(a, enc, sizeof(enc), &elen);
    FUZZ_CHECK(rc == 0 || rc == PSC_PSA_NOT_SUPPORTED);
    if (rc == 0) {
        FUZZ_CHECK(bincode_attrs_decode(enc, elen, &back, NULL) == 0);
        FUZZ_CHECK(same_attrs(&back, a));
    }
}

/* An algorithm enum field's PSA value converts back to the same enum value's PSA value. */
static void check_alg_enum(const ProtobufCEnumDescriptor *d, psa_algorithm_t alg)
{
    psa_algorithm_t back = 0;
    int rc = -1, v = 0;

    if (d == &psa_algorithm__algorithm__hash__descriptor) {
        PsaAlgorithm__Algorithm__Hash h;
        rc = conv_hash_to_pb(alg, &h);
        v = (int)h;
    } else if (d == &psa_algorithm__algorithm__cipher__descriptor) {
        PsaAlgorithm__Algorithm__Cipher c;
        rc = conv_cipher_to_pb(alg, &c);
        v = (int)c;
    } else if (d == &psa_algorithm__algorithm__key_agreement__raw__descriptor) {
        PsaAlgorithm__Algorithm__KeyAgreement__Raw k;
        rc = conv_raw_ka_to_pb(alg, &k);
        v = (int)k;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(conv_alg_enum_from_pb(d, v, &back) == 0 && back == alg);
}

/* Same for an algorithm message field. */
static void check_alg_msg(const ProtobufCMessageDescriptor *d, psa_algorithm_t alg)
{
    psa_algorithm_t back = 0;
    void *m = NULL;
    int rc = -1;

    if (d == &psa_algorithm__algorithm__asymmetric_signature__descriptor)
        rc = conv_sign_to_pb(alg, (PsaAlgorithm__Algorithm__AsymmetricSignature **)&m);
    else if (d == &psa_algorithm__algorithm__asymmetric_encryption__descriptor)
        rc = conv_asym_enc_to_pb(alg, (PsaAlgorithm__Algorithm__AsymmetricEncryption **)&m);
    else if (d == &psa_algorithm__algorithm__aead__descriptor)
        rc = conv_aead_to_pb(alg, (PsaAlgorithm__Algorithm__Aead **)&m);
    else if (d == &psa_algorithm__algorithm__mac__descriptor)
        rc = conv_mac_to_pb(alg, (PsaAlgorithm__Algorithm__Mac **)&m);
    else if (d == &psa_algorithm__algorithm__key_agreement__descriptor)
        rc = conv_ka_to_pb(alg, (PsaAlgorithm__Algorithm__KeyAgreement **)&m);
    else if (d == &psa_algorithm__algorithm__key_derivation__descriptor)
        rc = conv_kdf_to_pb(alg, (PsaAlgorithm__Algorithm__KeyDerivation **)&m);
    else if (d == &psa_algorithm__algorithm__descriptor)
        rc = conv_alg_to_pb(alg, (PsaAlgorithm__Algorithm **)&m);
    FUZZ_CHECK(rc == 0 && m != NULL);
    const ProtobufCMessage *pm = m;
    FUZZ_CHECK(pm->descriptor == d);
    FUZZ_CHECK(conv_alg_msg_from_pb(pm, &back) == 0 && back == alg);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* alg came from field f; it converts back through the same type and through the generic
 * Algorithm message. */
static void check_alg(const ProtobufCFieldDescriptor *f, psa_algorithm_t alg)
{
    psa_algorithm_t back = 0;
    PsaAlgorithm__Algorithm *any = NULL;

    if (f->type == PROTOBUF_C_TYPE_ENUM)
        check_alg_enum(f->descriptor, alg);
    else
        check_alg_msg(f->descriptor, alg);
    FUZZ_CHECK(conv_alg_to_pb(alg, &any) == 0 && any != NULL);
    FUZZ_CHECK(conv_alg_from_pb(any, &back) == 0 && back == alg);
    protobuf_c_message_free_unpacked(&any->base, NULL);
    (void)conv_alg_deprecated(alg);
}

/* The result of an operation whose result is one byte string (or nothing), carrying body. */
static void check_result(uint32_t opcode, const uint8_t *body, size_t len)
{
    const ProtobufCMessageDescriptor *rd = codec_result_desc(opcode);
    struct psc_out out = {.p = (uint8_t *)(uintptr_t)body, .len = len};
    uint8_t *res = NULL;
    size_t rlen = 0;

    if (rd == NULL || psc_opcode_is_core(opcode) ||
        (rd->n_fields != 0 && rd->fields[0].type != PROTOBUF_C_TYPE_BYTES))
        return;
    FUZZ_CHECK(codec_encode_bytes(opcode, &out, &res, &rlen) == 0);
    ProtobufCMessage *r =
        protobuf_c_message_unpack(rd, NULL, rlen, res ? res : (const uint8_t *)"");
    FUZZ_CHECK(r != NULL);
    if (rd->n_fields == 1) {
        const ProtobufCBinaryData *b =
            (const ProtobufCBinaryData *)((const uint8_t *)r + rd->fields[0].offset);
        FUZZ_CHECK(same_bytes(b->data, b->len, body, len));
    } else {
        FUZZ_CHECK(rlen == 0);
    }
    protobuf_c_message_free_unpacked(r, NULL);
    free(res);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(getenv("PARSEC_FUZZ_LOG") ? LOG_TRACE : LOG_OFF);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ProtobufCMessage *msg = NULL, *amsg = NULL;
    struct psc_args args;

    if (size < 1)
        return 0;
    uint32_t opcode = data[0] & 0x3F;
    const uint8_t *body = size > 1 ? data + 1 : NULL;
    size_t len = size - 1;
    int defined = codec_op_desc(opcode) != NULL;
    FUZZ_CHECK(defined == psc_opcode_is_valid(opcode));
    FUZZ_CHECK(defined == (codec_result_desc(opcode) != NULL));

    int rc = codec_decode_msg(opcode, body, len, &msg);
    if (!defined)
        FUZZ_CHECK(rc == PSC_OPCODE_DOES_NOT_EXIST);
    else
        FUZZ_CHECK(rc == 0 || rc == PSC_DESERIALIZING_BODY_FAILED);
    FUZZ_CHECK((rc == 0) == (msg != NULL));
    if (msg) {
        FUZZ_CHECK(msg->descriptor == codec_op_desc(opcode));
        check_repack(opcode, msg);
    }

    int arc = codec_decode_args(opcode, body, len, &args, &amsg);
    FUZZ_CHECK((arc == 0) == (amsg != NULL));
    FUZZ_CHECK(args.opcode == opcode && args.key_name != NULL);
    if (rc != 0)
        FUZZ_CHECK(arc == rc);
    else
        FUZZ_CHECK(arc == 0 || arc == PSC_INVALID_ENCODING);
    if (arc != 0) {
        FUZZ_CHECK(args.has_attrs == 0 && args.alg == 0 && args.key_name[0] == '\0');
    } else {
        if (args.has_attrs)
            check_attrs(&args.attrs);
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(amsg->descriptor, "alg");
        if (f != NULL)
            check_alg(f, args.alg);
        codec_msg_free(amsg);
    }
    codec_msg_free(msg);
    check_result(opcode, body, len);
    return 0;
}
