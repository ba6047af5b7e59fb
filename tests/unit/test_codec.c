/* The generic decode/encode step: Operation bodies packed with protobuf-c, decoded by the
 * codec into struct psc_args; results packed from struct psc_out and from core messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest_key.pb-c.h"
#include "can_do_crypto.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "prepare_key_attestation.pb-c.h"
#include "psa_aead_encrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compare.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "psa_raw_key_agreement.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_verify_message.pb-c.h"

#include "psa/convert.h"
#include "service/codec.h"
#include "wire/opcode.h"
#include "wire/status.h"

struct body {
    uint8_t b[512];
    size_t n;
};

static struct body pack(const void *m)
{
    struct body out;

    out.n = protobuf_c_message_get_packed_size(m);
    assert_true(out.n <= sizeof(out.b));
    assert_int_equal(protobuf_c_message_pack(m, out.b), out.n);
    return out;
}

static void append(struct body *b, const uint8_t *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static int decode(uint32_t opcode, struct body b, struct psc_args *a, ProtobufCMessage **msg)
{
    int r = codec_decode_args(opcode, b.b, b.n, a, msg);

    if (r != 0) {
        assert_null(*msg);
    } else {
        assert_non_null(*msg);
    }
    return r;
}

static void assert_bytes(struct psc_bytes got, const void *want, size_t len)
{
    assert_int_equal(got.len, len);
    if (len != 0) {
        assert_memory_equal(got.p, want, len);
    }
}

/* Attributes of a P-256 signing key with an ECDSA(SHA-256) policy, as stack messages. */
struct attrs_msgs {
    PsaKeyAttributes__KeyAttributes attrs;
    PsaKeyAttributes__KeyType type;
    PsaKeyAttributes__KeyType__EccKeyPair ecc;
    PsaKeyAttributes__KeyPolicy policy;
    PsaKeyAttributes__UsageFlags flags;
    PsaAlgorithm__Algorithm alg;
    PsaAlgorithm__Algorithm__AsymmetricSignature sig;
    PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa ecdsa;
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash hash;
};

static void attrs_init(struct attrs_msgs *s)
{
    psa_key_attributes__key_attributes__init(&s->attrs);
    psa_key_attributes__key_type__init(&s->type);
    psa_key_attributes__key_type__ecc_key_pair__init(&s->ecc);
    psa_key_attributes__key_policy__init(&s->policy);
    psa_key_attributes__usage_flags__init(&s->flags);
    psa_algorithm__algorithm__init(&s->alg);
    psa_algorithm__algorithm__asymmetric_signature__init(&s->sig);
    psa_algorithm__algorithm__asymmetric_signature__ecdsa__init(&s->ecdsa);
    psa_algorithm__algorithm__asymmetric_signature__sign_hash__init(&s->hash);
    s->ecc.curve_family = PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECP_R1;
    s->type.variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR;
    s->type.ecc_key_pair = &s->ecc;
    s->flags.sign_hash = 1;
    s->flags.verify_hash = 1;
    s->hash.variant_case =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
    s->hash.specific = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    s->ecdsa.hash_alg = &s->hash;
    s->sig.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
    s->sig.ecdsa = &s->ecdsa;
    s->alg.variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE;
    s->alg.asymmetric_signature = &s->sig;
    s->policy.key_usage_flags = &s->flags;
    s->policy.key_algorithm = &s->alg;
    s->attrs.key_type = &s->type;
    s->attrs.key_bits = 256;
    s->attrs.key_policy = &s->policy;
}

static void check_attrs(const struct psc_args *a)
{
    assert_true(a->has_attrs);
    assert_int_equal(a->attrs.type, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    assert_int_equal(a->attrs.bits, 256);
    assert_int_equal(a->attrs.usage, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    assert_int_equal(a->attrs.alg, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
}

/* ---- Table ---------------------------------------------------------------------------------- */

static void table_covers_every_opcode(void **state)
{
    static const struct {
        uint32_t op;
        const char *package;
    } want[] = {
        {PSC_OP_PING, "ping"},
        {PSC_OP_PSA_GENERATE_KEY, "psa_generate_key"},
        {PSC_OP_PSA_DESTROY_KEY, "psa_destroy_key"},
        {PSC_OP_PSA_SIGN_HASH, "psa_sign_hash"},
        {PSC_OP_PSA_VERIFY_HASH, "psa_verify_hash"},
        {PSC_OP_PSA_IMPORT_KEY, "psa_import_key"},
        {PSC_OP_PSA_EXPORT_PUBLIC_KEY, "psa_export_public_key"},
        {PSC_OP_LIST_PROVIDERS, "list_providers"},
        {PSC_OP_LIST_OPCODES, "list_opcodes"},
        {PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "psa_asymmetric_encrypt"},
        {PSC_OP_PSA_ASYMMETRIC_DECRYPT, "psa_asymmetric_decrypt"},
        {PSC_OP_PSA_EXPORT_KEY, "psa_export_key"},
        {PSC_OP_PSA_GENERATE_RANDOM, "psa_generate_random"},
        {PSC_OP_LIST_AUTHENTICATORS, "list_authenticators"},
        {PSC_OP_PSA_HASH_COMPUTE, "psa_hash_compute"},
        {PSC_OP_PSA_HASH_COMPARE, "psa_hash_compare"},
        {PSC_OP_PSA_AEAD_ENCRYPT, "psa_aead_encrypt"},
        {PSC_OP_PSA_AEAD_DECRYPT, "psa_aead_decrypt"},
        {PSC_OP_PSA_RAW_KEY_AGREEMENT, "psa_raw_key_agreement"},
        {PSC_OP_PSA_CIPHER_ENCRYPT, "psa_cipher_encrypt"},
        {PSC_OP_PSA_CIPHER_DECRYPT, "psa_cipher_decrypt"},
        {PSC_OP_PSA_SIGN_MESSAGE, "psa_sign_message"},
        {PSC_OP_PSA_VERIFY_MESSAGE, "psa_verify_message"},
        {PSC_OP_LIST_KEYS, "list_keys"},
        {PSC_OP_LIST_CLIENTS, "list_clients"},
        {PSC_OP_DELETE_CLIENT, "delete_client"},
        {PSC_OP_ATTEST_KEY, "attest_key"},
        {PSC_OP_PREPARE_KEY_ATTESTATION, "prepare_key_attestation"},
        {PSC_OP_CAN_DO_CRYPTO, "can_do_crypto"},
    };
    size_t defined = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const ProtobufCMessageDescriptor *op = codec_op_desc(want[i].op);
        const ProtobufCMessageDescriptor *res = codec_result_desc(want[i].op);

        assert_non_null(op);
        assert_non_null(res);
        assert_string_equal(op->package_name, want[i].package);
        assert_string_equal(res->package_name, want[i].package);
        assert_string_equal(op->short_name, "Operation");
        assert_string_equal(res->short_name, "Result");
    }
    /* Exactly the opcodes the wire layer defines. */
    for (uint32_t op = 0; op < 0x100; op++) {
        assert_int_equal(codec_op_desc(op) != NULL, psc_opcode_is_valid(op));
        defined += codec_op_desc(op) != NULL;
    }
    assert_int_equal(defined, sizeof(want) / sizeof(want[0]));
    assert_null(codec_op_desc(0x16)); /* PsaMacCompute: no opcode */
    assert_null(codec_op_desc(0x17));
    assert_null(codec_op_desc(0x1d));
    assert_null(codec_result_desc(0xffffffff));
}

/* ---- Decoding ------------------------------------------------------------------------------- */

static void decode_sign_hash(void **state)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    struct attrs_msgs s;
    uint8_t hash[32];
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    attrs_init(&s);
    memset(hash, 0xab, sizeof(hash));
    op.key_name = "my key";
    op.alg = &s.sig;
    op.hash.data = hash;
    op.hash.len = sizeof(hash);
    assert_int_equal(decode(PSC_OP_PSA_SIGN_HASH, pack(&op), &a, &msg), 0);
    assert_int_equal(a.opcode, PSC_OP_PSA_SIGN_HASH);
    assert_string_equal(a.key_name, "my key");
    assert_int_equal(a.alg, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_bytes(a.hash, hash, sizeof(hash));
    assert_false(a.has_attrs);
    assert_int_equal(a.signature.len, 0);
    assert_int_equal(a.data.len, 0);
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_generate_and_import(void **state)
{
    PsaGenerateKey__Operation gen = PSA_GENERATE_KEY__OPERATION__INIT;
    PsaImportKey__Operation imp = PSA_IMPORT_KEY__OPERATION__INIT;
    struct attrs_msgs s;
    uint8_t data[] = {1, 2, 3, 4, 5};
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    attrs_init(&s);
    gen.key_name = "k";
    gen.attributes = &s.attrs;
    assert_int_equal(decode(PSC_OP_PSA_GENERATE_KEY, pack(&gen), &a, &msg), 0);
    assert_string_equal(a.key_name, "k");
    check_attrs(&a);
    assert_int_equal(a.alg, 0);
    protobuf_c_message_free_unpacked(msg, NULL);

    imp.key_name = "imported";
    imp.attributes = &s.attrs;
    imp.data.data = data;
    imp.data.len = sizeof(data);
    assert_int_equal(decode(PSC_OP_PSA_IMPORT_KEY, pack(&imp), &a, &msg), 0);
    assert_string_equal(a.key_name, "imported");
    check_attrs(&a);
    assert_bytes(a.data, data, sizeof(data));
    protobuf_c_message_free_unpacked(msg, NULL);

    /* Attributes are mandatory. */
    gen.attributes = NULL;
    assert_int_equal(decode(PSC_OP_PSA_GENERATE_KEY, pack(&gen), &a, &msg), PSC_INVALID_ENCODING);
    /* And so are their sub-messages. */
    gen.attributes = &s.attrs;
    s.policy.key_algorithm = NULL;
    assert_int_equal(decode(PSC_OP_PSA_GENERATE_KEY, pack(&gen), &a, &msg), PSC_INVALID_ENCODING);
    s.policy.key_algorithm = &s.alg;
    s.ecc.curve_family = 42;
    assert_int_equal(decode(PSC_OP_PSA_GENERATE_KEY, pack(&gen), &a, &msg), PSC_INVALID_ENCODING);
    assert_false(a.has_attrs);
}

static void decode_aead_and_asym(void **state)
{
    PsaAeadEncrypt__Operation op = PSA_AEAD_ENCRYPT__OPERATION__INIT;
    PsaAlgorithm__Algorithm__Aead aead = PSA_ALGORITHM__ALGORITHM__AEAD__INIT;
    PsaAsymmetricEncrypt__Operation enc = PSA_ASYMMETRIC_ENCRYPT__OPERATION__INIT;
    PsaAlgorithm__Algorithm__AsymmetricEncryption ae =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__INIT;
    PsaAlgorithm__Algorithm__AsymmetricEncryption__RsaOaep oaep =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__RSA_OAEP__INIT;
    uint8_t nonce[12] = {9}, ad[3] = {7, 7, 7}, pt[40] = {1}, salt[4] = {5};
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    aead.variant_case = PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_DEFAULT_LENGTH_TAG;
    aead.aead_with_default_length_tag =
        PSA_ALGORITHM__ALGORITHM__AEAD__AEAD_WITH_DEFAULT_LENGTH_TAG__GCM;
    op.key_name = "aes";
    op.alg = &aead;
    op.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
    op.additional_data = (ProtobufCBinaryData){sizeof(ad), ad};
    op.plaintext = (ProtobufCBinaryData){sizeof(pt), pt};
    assert_int_equal(decode(PSC_OP_PSA_AEAD_ENCRYPT, pack(&op), &a, &msg), 0);
    assert_string_equal(a.key_name, "aes");
    assert_int_equal(a.alg, PSA_ALG_GCM);
    assert_bytes(a.nonce, nonce, sizeof(nonce));
    assert_bytes(a.additional_data, ad, sizeof(ad));
    assert_bytes(a.plaintext, pt, sizeof(pt));
    protobuf_c_message_free_unpacked(msg, NULL);

    /* The AEAD oneof left empty. */
    aead.variant_case = PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT__NOT_SET;
    assert_int_equal(decode(PSC_OP_PSA_AEAD_ENCRYPT, pack(&op), &a, &msg), PSC_INVALID_ENCODING);

    oaep.hash_alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    ae.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_OAEP;
    ae.rsa_oaep = &oaep;
    enc.key_name = "rsa";
    enc.alg = &ae;
    enc.plaintext = (ProtobufCBinaryData){sizeof(pt), pt};
    enc.salt = (ProtobufCBinaryData){sizeof(salt), salt};
    assert_int_equal(decode(PSC_OP_PSA_ASYMMETRIC_ENCRYPT, pack(&enc), &a, &msg), 0);
    assert_int_equal(a.alg, PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256));
    assert_bytes(a.plaintext, pt, sizeof(pt));
    assert_bytes(a.salt, salt, sizeof(salt));
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_enum_algorithms(void **state)
{
    PsaHashCompare__Operation hc = PSA_HASH_COMPARE__OPERATION__INIT;
    PsaCipherEncrypt__Operation ce = PSA_CIPHER_ENCRYPT__OPERATION__INIT;
    PsaRawKeyAgreement__Operation ka = PSA_RAW_KEY_AGREEMENT__OPERATION__INIT;
    uint8_t in[] = "abc", h[32] = {3}, peer[65] = {4};
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    hc.alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    hc.input = (ProtobufCBinaryData){3, in};
    hc.hash = (ProtobufCBinaryData){sizeof(h), h};
    assert_int_equal(decode(PSC_OP_PSA_HASH_COMPARE, pack(&hc), &a, &msg), 0);
    assert_int_equal(a.alg, PSA_ALG_SHA_256);
    assert_string_equal(a.key_name, "");
    assert_bytes(a.input, in, 3);
    assert_bytes(a.hash, h, sizeof(h));
    protobuf_c_message_free_unpacked(msg, NULL);
    /* HASH_NONE (absent) and an undefined value. */
    hc.alg = PSA_ALGORITHM__ALGORITHM__HASH__HASH_NONE;
    assert_int_equal(decode(PSC_OP_PSA_HASH_COMPARE, pack(&hc), &a, &msg), PSC_INVALID_ENCODING);
    hc.alg = 99;
    assert_int_equal(decode(PSC_OP_PSA_HASH_COMPARE, pack(&hc), &a, &msg), PSC_INVALID_ENCODING);

    ce.key_name = "aes";
    ce.alg = PSA_ALGORITHM__ALGORITHM__CIPHER__CBC_PKCS7;
    ce.plaintext = (ProtobufCBinaryData){3, in};
    assert_int_equal(decode(PSC_OP_PSA_CIPHER_ENCRYPT, pack(&ce), &a, &msg), 0);
    assert_int_equal(a.alg, PSA_ALG_CBC_PKCS7);
    assert_bytes(a.plaintext, in, 3);
    protobuf_c_message_free_unpacked(msg, NULL);

    ka.alg = PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__ECDH;
    ka.private_key_name = "ecdh key";
    ka.peer_key = (ProtobufCBinaryData){sizeof(peer), peer};
    assert_int_equal(decode(PSC_OP_PSA_RAW_KEY_AGREEMENT, pack(&ka), &a, &msg), 0);
    assert_string_equal(a.key_name, "ecdh key");
    assert_int_equal(a.alg, PSA_ALG_ECDH);
    assert_bytes(a.peer_key, peer, sizeof(peer));
    protobuf_c_message_free_unpacked(msg, NULL);
    ka.alg = PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__RAW_NONE;
    assert_int_equal(decode(PSC_OP_PSA_RAW_KEY_AGREEMENT, pack(&ka), &a, &msg),
                     PSC_INVALID_ENCODING);
}

static void decode_verify_message_and_random(void **state)
{
    PsaVerifyMessage__Operation vm = PSA_VERIFY_MESSAGE__OPERATION__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature sig =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature__RsaPkcs1v15SignRaw raw =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__RSA_PKCS1V15_SIGN_RAW__INIT;
    PsaGenerateRandom__Operation gr = PSA_GENERATE_RANDOM__OPERATION__INIT;
    uint8_t m[] = "message", s[64] = {8};
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    sig.variant_case =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN_RAW;
    sig.rsa_pkcs1v15_sign_raw = &raw;
    vm.key_name = "rsa";
    vm.alg = &sig;
    vm.message = (ProtobufCBinaryData){7, m};
    vm.signature = (ProtobufCBinaryData){sizeof(s), s};
    assert_int_equal(decode(PSC_OP_PSA_VERIFY_MESSAGE, pack(&vm), &a, &msg), 0);
    assert_int_equal(a.alg, PSA_ALG_RSA_PKCS1V15_SIGN_RAW);
    assert_bytes(a.message, m, 7);
    assert_bytes(a.signature, s, sizeof(s));
    protobuf_c_message_free_unpacked(msg, NULL);
    /* alg is mandatory. */
    vm.alg = NULL;
    assert_int_equal(decode(PSC_OP_PSA_VERIFY_MESSAGE, pack(&vm), &a, &msg), PSC_INVALID_ENCODING);

    gr.size = 0x123456789ull;
    assert_int_equal(decode(PSC_OP_PSA_GENERATE_RANDOM, pack(&gr), &a, &msg), 0);
    assert_int_equal(a.size, 0x123456789ull);
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_can_do_crypto(void **state)
{
    CanDoCrypto__Operation op = CAN_DO_CRYPTO__OPERATION__INIT;
    struct attrs_msgs s;
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    attrs_init(&s);
    op.check_type = CAN_DO_CRYPTO__CHECK_TYPE__GENERATE;
    op.attributes = &s.attrs;
    assert_int_equal(decode(PSC_OP_CAN_DO_CRYPTO, pack(&op), &a, &msg), 0);
    assert_int_equal(a.check_type, 2);
    check_attrs(&a);
    protobuf_c_message_free_unpacked(msg, NULL);
    /* CHECKTYPE_NONE and undefined values. */
    op.check_type = CAN_DO_CRYPTO__CHECK_TYPE__CHECKTYPE_NONE;
    assert_int_equal(decode(PSC_OP_CAN_DO_CRYPTO, pack(&op), &a, &msg), PSC_INVALID_ENCODING);
    op.check_type = 5;
    assert_int_equal(decode(PSC_OP_CAN_DO_CRYPTO, pack(&op), &a, &msg), PSC_INVALID_ENCODING);
    op.check_type = CAN_DO_CRYPTO__CHECK_TYPE__DERIVE;
    op.attributes = NULL;
    assert_int_equal(decode(PSC_OP_CAN_DO_CRYPTO, pack(&op), &a, &msg), PSC_INVALID_ENCODING);
}

static void decode_attestation(void **state)
{
    AttestKey__Operation ak = ATTEST_KEY__OPERATION__INIT;
    AttestKey__AttestationMechanismParams params = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__INIT;
    AttestKey__AttestationMechanismParams__ActivateCredential ac =
        ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    PrepareKeyAttestation__Operation pk = PREPARE_KEY_ATTESTATION__OPERATION__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationParams pparams =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationParams__ActivateCredential pac =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    uint8_t blob[8] = {1}, secret[4] = {2};
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    ac.credential_blob = (ProtobufCBinaryData){sizeof(blob), blob};
    ac.secret = (ProtobufCBinaryData){sizeof(secret), secret};
    params.mechanism_case = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    params.activate_credential = &ac;
    ak.attested_key_name = "attested";
    ak.parameters = &params;
    assert_int_equal(decode(PSC_OP_ATTEST_KEY, pack(&ak), &a, &msg), 0);
    assert_string_equal(a.key_name, "attested");
    assert_string_equal(a.attesting_key_name, "");
    assert_bytes(a.credential_blob, blob, sizeof(blob));
    assert_bytes(a.secret, secret, sizeof(secret));
    /* The mechanism's own fields also stay in the message. */
    AttestKey__Operation *got = (AttestKey__Operation *)msg;
    assert_int_equal(got->parameters->activate_credential->secret.len, sizeof(secret));
    protobuf_c_message_free_unpacked(msg, NULL);
    /* parameters and its mechanism are mandatory. */
    params.mechanism_case = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__MECHANISM__NOT_SET;
    assert_int_equal(decode(PSC_OP_ATTEST_KEY, pack(&ak), &a, &msg), PSC_INVALID_ENCODING);
    ak.parameters = NULL;
    assert_int_equal(decode(PSC_OP_ATTEST_KEY, pack(&ak), &a, &msg), PSC_INVALID_ENCODING);

    /* PrepareKeyAttestation names its key inside the mechanism. */
    pac.attested_key_name = "inner";
    pparams.mechanism_case =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    pparams.activate_credential = &pac;
    pk.parameters = &pparams;
    assert_int_equal(decode(PSC_OP_PREPARE_KEY_ATTESTATION, pack(&pk), &a, &msg), 0);
    assert_string_equal(a.key_name, "inner");
    assert_string_equal(a.attesting_key_name, "");
    protobuf_c_message_free_unpacked(msg, NULL);
    pac.attesting_key_name = "other";
    assert_int_equal(decode(PSC_OP_PREPARE_KEY_ATTESTATION, pack(&pk), &a, &msg), 0);
    assert_string_equal(a.attesting_key_name, "other");
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_malformed(void **state)
{
    static const uint8_t truncated[] = {0x0a, 0x05, 'a', 'b'}; /* key_name, short */
    static const uint8_t wrong_type[] = {0x08, 0x01};          /* key_name as varint */
    static const uint8_t bad_varint[] = {0x1a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0x01}; /* 11-byte varint */
    static const uint8_t group[] = {0x0b, 0x0c};                              /* start/end group */
    static const uint8_t bad_utf8[] = {0x0a, 0x02, 0xc3, 0x28};
    static const uint8_t nul_in_name[] = {0x0a, 0x03, 'a', 0x00, 'b'};
    static const uint8_t nested_bad_utf8[] = {0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x03, 0xed, 0xa0, 0x80};
    struct psc_args a;
    ProtobufCMessage *msg = (void *)1;

    (void)state;
#define BAD(op, v, want)                                                                           \
    assert_int_equal(codec_decode_args((op), (v), sizeof(v), &a, &msg), (want));                   \
    assert_null(msg)
    BAD(PSC_OP_PSA_DESTROY_KEY, truncated, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_PSA_DESTROY_KEY, wrong_type, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_PSA_SIGN_HASH, bad_varint, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_PSA_DESTROY_KEY, group, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_PSA_DESTROY_KEY, bad_utf8, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_PSA_DESTROY_KEY, nul_in_name, PSC_DESERIALIZING_BODY_FAILED);
    BAD(PSC_OP_DELETE_CLIENT, bad_utf8, PSC_DESERIALIZING_BODY_FAILED);
    /* PrepareKeyAttestation.parameters.activate_credential.attested_key_name = surrogate. */
    BAD(PSC_OP_PREPARE_KEY_ATTESTATION, nested_bad_utf8, PSC_DESERIALIZING_BODY_FAILED);
    BAD(0x16, truncated, PSC_OPCODE_DOES_NOT_EXIST);
    BAD(0x1d, truncated, PSC_OPCODE_DOES_NOT_EXIST);
    BAD(0x1000, truncated, PSC_OPCODE_DOES_NOT_EXIST);
#undef BAD
    assert_int_equal(codec_decode_msg(PSC_OP_DELETE_CLIENT, bad_utf8, sizeof(bad_utf8), &msg),
                     PSC_DESERIALIZING_BODY_FAILED);
    assert_null(msg);
    /* Valid UTF-8 beyond ASCII is fine. */
    static const uint8_t utf8[] = {0x0a, 0x04, 0xc3, 0xa9, 0xc3, 0xa9};
    assert_int_equal(codec_decode_args(PSC_OP_PSA_DESTROY_KEY, utf8, sizeof(utf8), &a, &msg), 0);
    assert_string_equal(a.key_name, "\xc3\xa9\xc3\xa9");
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_unknown_fields_skipped(void **state)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    struct attrs_msgs s;
    uint8_t hash[32] = {1};
    /* field 15 varint, field 20 bytes (with invalid UTF-8: not a string we know), field 21
     * fixed32, field 22 fixed64. */
    static const uint8_t unknown[] = {0x78, 0x96, 0x01, 0xa2, 0x01, 0x02, 0xff, 0xfe,
                                      0xad, 0x01, 1,    2,    3,    4,    0xb1, 0x01,
                                      1,    2,    3,    4,    5,    6,    7,    8};
    struct psc_args a;
    ProtobufCMessage *msg;
    struct body b;

    (void)state;
    attrs_init(&s);
    op.key_name = "k";
    op.alg = &s.sig;
    op.hash = (ProtobufCBinaryData){sizeof(hash), hash};
    b = pack(&op);
    append(&b, unknown, sizeof(unknown));
    assert_int_equal(decode(PSC_OP_PSA_SIGN_HASH, b, &a, &msg), 0);
    assert_string_equal(a.key_name, "k");
    assert_int_equal(a.alg, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_bytes(a.hash, hash, sizeof(hash));
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void decode_empty_bodies(void **state)
{
    struct psc_args a;
    ProtobufCMessage *msg;

    (void)state;
    /* Operations without mandatory messages decode from nothing. */
    assert_int_equal(codec_decode_args(PSC_OP_PING, NULL, 0, &a, &msg), 0);
    protobuf_c_message_free_unpacked(msg, NULL);
    assert_int_equal(codec_decode_args(PSC_OP_PSA_DESTROY_KEY, (const uint8_t *)"", 0, &a, &msg),
                     0);
    assert_string_equal(a.key_name, "");
    protobuf_c_message_free_unpacked(msg, NULL);
    assert_int_equal(codec_decode_msg(PSC_OP_LIST_OPCODES, NULL, 0, &msg), 0);
    assert_ptr_equal(msg->descriptor, codec_op_desc(PSC_OP_LIST_OPCODES));
    protobuf_c_message_free_unpacked(msg, NULL);
    /* Those with one do not. */
    assert_int_equal(codec_decode_args(PSC_OP_PSA_SIGN_HASH, NULL, 0, &a, &msg),
                     PSC_INVALID_ENCODING);
    assert_int_equal(codec_decode_args(PSC_OP_PSA_IMPORT_KEY, NULL, 0, &a, &msg),
                     PSC_INVALID_ENCODING);
    assert_int_equal(codec_decode_args(PSC_OP_PSA_HASH_COMPUTE, NULL, 0, &a, &msg),
                     PSC_INVALID_ENCODING);
    assert_int_equal(codec_decode_args(PSC_OP_PSA_DESTROY_KEY, NULL, 3, &a, &msg),
                     PSC_DESERIALIZING_BODY_FAILED);
}

/* ---- Encoding ------------------------------------------------------------------------------- */

static void encode_ping(void **state)
{
    Ping__Result r = PING__RESULT__INIT;
    uint8_t *body;
    size_t len;

    (void)state;
    r.wire_protocol_version_maj = 1;
    r.wire_protocol_version_min = 0;
    assert_int_equal(codec_encode_msg(&r.base, &body, &len), 0);
    assert_int_equal(len, 2);
    assert_int_equal(body[0], 0x08);
    assert_int_equal(body[1], 0x01);
    free(body);
}

static void encode_bytes_results(void **state)
{
    uint8_t sig[70];
    struct psc_out out = {.p = sig, .len = sizeof(sig)};
    uint8_t *body;
    size_t len;
    PsaSignHash__Result *res;

    (void)state;
    for (size_t i = 0; i < sizeof(sig); i++) {
        sig[i] = (uint8_t)i;
    }
    assert_int_equal(codec_encode_bytes(PSC_OP_PSA_SIGN_HASH, &out, &body, &len), 0);
    /* signature = 1, length 70 */
    assert_int_equal(len, 2 + sizeof(sig));
    assert_int_equal(body[0], 0x0a);
    assert_int_equal(body[1], sizeof(sig));
    assert_memory_equal(body + 2, sig, sizeof(sig));
    res = psa_sign_hash__result__unpack(NULL, len, body);
    assert_non_null(res);
    assert_int_equal(res->signature.len, sizeof(sig));
    psa_sign_hash__result__free_unpacked(res, NULL);
    free(body);

    /* Every bytes result has its field at number 1. */
    static const uint32_t bytes_ops[] = {
        PSC_OP_PSA_EXPORT_PUBLIC_KEY, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, PSC_OP_PSA_ASYMMETRIC_DECRYPT,
        PSC_OP_PSA_EXPORT_KEY,        PSC_OP_PSA_GENERATE_RANDOM,    PSC_OP_PSA_HASH_COMPUTE,
        PSC_OP_PSA_AEAD_ENCRYPT,      PSC_OP_PSA_AEAD_DECRYPT,       PSC_OP_PSA_RAW_KEY_AGREEMENT,
        PSC_OP_PSA_CIPHER_ENCRYPT,    PSC_OP_PSA_CIPHER_DECRYPT,     PSC_OP_PSA_SIGN_MESSAGE,
    };
    for (size_t i = 0; i < sizeof(bytes_ops) / sizeof(bytes_ops[0]); i++) {
        out.len = 3;
        assert_int_equal(codec_encode_bytes(bytes_ops[i], &out, &body, &len), 0);
        assert_int_equal(len, 5);
        assert_int_equal(body[0], 0x0a);
        assert_int_equal(body[1], 3);
        free(body);
    }

    /* An empty byte string is absent in proto3: zero bytes. */
    out.len = 0;
    assert_int_equal(codec_encode_bytes(PSC_OP_PSA_SIGN_HASH, &out, &body, &len), 0);
    assert_int_equal(len, 0);
    assert_null(body);
    assert_int_equal(codec_encode_bytes(PSC_OP_PSA_GENERATE_RANDOM, NULL, &body, &len), 0);
    assert_int_equal(len, 0);
}

static void encode_empty_and_unsupported(void **state)
{
    uint8_t x = 1;
    struct psc_out out = {.p = &x, .len = 1};
    uint8_t *body = (void *)1;
    size_t len = 99;

    (void)state;
    /* Results without fields encode to nothing, whatever out holds. */
    static const uint32_t empty_ops[] = {
        PSC_OP_PSA_GENERATE_KEY, PSC_OP_PSA_DESTROY_KEY,  PSC_OP_PSA_VERIFY_HASH,
        PSC_OP_PSA_IMPORT_KEY,   PSC_OP_PSA_HASH_COMPARE, PSC_OP_PSA_VERIFY_MESSAGE,
        PSC_OP_DELETE_CLIENT,    PSC_OP_CAN_DO_CRYPTO,
    };
    for (size_t i = 0; i < sizeof(empty_ops) / sizeof(empty_ops[0]); i++) {
        assert_int_equal(codec_encode_bytes(empty_ops[i], &out, &body, &len), 0);
        assert_int_equal(len, 0);
        assert_null(body);
    }
    /* Structured results cannot be built from bytes. */
    assert_int_equal(codec_encode_bytes(PSC_OP_LIST_PROVIDERS, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    assert_int_equal(codec_encode_bytes(PSC_OP_PING, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    assert_int_equal(codec_encode_bytes(0x16, &out, &body, &len), PSC_SERIALIZING_BODY_FAILED);
    assert_null(body);
    assert_int_equal(len, 0);
    assert_int_equal(codec_encode_msg(NULL, &body, &len), PSC_SERIALIZING_BODY_FAILED);
}

/* Key attestation results: byte strings inside a oneof inside a message, in field order. */
static void encode_attestation_results(void **state)
{
    uint8_t three[] = {'n', 'n', 'p', 'p', 'p', 'e'};
    struct psc_out out = {.p = three, .len = sizeof(three), .part = {2, 3, 1}, .n_parts = 3};
    uint8_t *body;
    size_t len;

    (void)state;
    assert_int_equal(codec_encode_bytes(PSC_OP_PREPARE_KEY_ATTESTATION, &out, &body, &len), 0);
    PrepareKeyAttestation__Result *pr = prepare_key_attestation__result__unpack(NULL, len, body);
    assert_non_null(pr);
    free(body);
    assert_non_null(pr->output);
    assert_int_equal(
        pr->output->mechanism_case,
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL);
    const PrepareKeyAttestation__PrepareKeyAttestationOutput__ActivateCredential *ac =
        pr->output->activate_credential;
    assert_bytes((struct psc_bytes){ac->name.data, ac->name.len}, "nn", 2);
    assert_bytes((struct psc_bytes){ac->public_.data, ac->public_.len}, "ppp", 3);
    assert_bytes((struct psc_bytes){ac->attesting_key_pub.data, ac->attesting_key_pub.len}, "e", 1);
    prepare_key_attestation__result__free_unpacked(pr, NULL);

    /* A count or length that does not match the Result's fields is refused. */
    out.n_parts = 2;
    out.part[1] = 4;
    assert_int_equal(codec_encode_bytes(PSC_OP_PREPARE_KEY_ATTESTATION, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    out.n_parts = 0;
    assert_int_equal(codec_encode_bytes(PSC_OP_PREPARE_KEY_ATTESTATION, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    out.n_parts = 3;
    out.part[0] = out.part[1] = out.part[2] = 1;
    assert_int_equal(codec_encode_bytes(PSC_OP_PREPARE_KEY_ATTESTATION, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    out.n_parts = PSC_OUT_PARTS_MAX + 1;
    assert_int_equal(codec_encode_bytes(PSC_OP_PREPARE_KEY_ATTESTATION, &out, &body, &len),
                     PSC_SERIALIZING_BODY_FAILED);
    assert_null(body);

    /* AttestKey: one byte string, the credential. */
    out.n_parts = 0;
    assert_int_equal(codec_encode_bytes(PSC_OP_ATTEST_KEY, &out, &body, &len), 0);
    AttestKey__Result *ar = attest_key__result__unpack(NULL, len, body);
    assert_non_null(ar);
    free(body);
    assert_non_null(ar->output);
    assert_int_equal(ar->output->mechanism_case,
                     ATTEST_KEY__ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL);
    assert_bytes((struct psc_bytes){ar->output->activate_credential->credential.data,
                                    ar->output->activate_credential->credential.len},
                 three, sizeof(three));
    attest_key__result__free_unpacked(ar, NULL);
}

static void encode_core_messages(void **state)
{
    ListProviders__ProviderInfo core = LIST_PROVIDERS__PROVIDER_INFO__INIT;
    ListProviders__ProviderInfo *list[] = {&core};
    ListProviders__Result r = LIST_PROVIDERS__RESULT__INIT;
    ListProviders__Result *back;
    uint8_t *body;
    size_t len;

    (void)state;
    core.uuid = "47049873-2a43-4845-9d72-831eab668784";
    core.description = "core";
    core.version_maj = 1;
    core.version_min = 5;
    r.n_providers = 1;
    r.providers = list;
    assert_int_equal(codec_encode_msg(&r.base, &body, &len), 0);
    back = list_providers__result__unpack(NULL, len, body);
    assert_non_null(back);
    assert_int_equal(back->n_providers, 1);
    assert_string_equal(back->providers[0]->uuid, core.uuid);
    assert_string_equal(back->providers[0]->vendor, "");
    assert_int_equal(back->providers[0]->version_min, 5);
    list_providers__result__free_unpacked(back, NULL);
    free(body);

    /* A malformed message (a repeated field without its array) is refused, not packed. */
    r.providers = NULL;
    assert_int_equal(codec_encode_msg(&r.base, &body, &len), PSC_SERIALIZING_BODY_FAILED);
    assert_null(body);

    /* ListKeys with attributes built by the conversion layer. */
    ListKeys__KeyInfo ki = LIST_KEYS__KEY_INFO__INIT;
    ListKeys__KeyInfo *keys[] = {&ki};
    ListKeys__Result lk = LIST_KEYS__RESULT__INIT;
    struct psc_attrs attrs = {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                              PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256)};
    ki.provider_id = 1;
    ki.name = "key";
    assert_int_equal(conv_attrs_to_pb(&attrs, &ki.attributes), 0);
    lk.n_keys = 1;
    lk.keys = keys;
    assert_int_equal(codec_encode_msg(&lk.base, &body, &len), 0);
    ListKeys__Result *lback = list_keys__result__unpack(NULL, len, body);
    assert_non_null(lback);
    struct psc_attrs got;
    assert_int_equal(conv_attrs_from_pb(lback->keys[0]->attributes, &got), 0);
    assert_int_equal(got.type, attrs.type);
    assert_int_equal(got.bits, attrs.bits);
    assert_int_equal(got.usage, attrs.usage);
    assert_int_equal(got.alg, attrs.alg);
    list_keys__result__free_unpacked(lback, NULL);
    protobuf_c_message_free_unpacked(&ki.attributes->base, NULL);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_covers_every_opcode),
        cmocka_unit_test(decode_sign_hash),
        cmocka_unit_test(decode_generate_and_import),
        cmocka_unit_test(decode_aead_and_asym),
        cmocka_unit_test(decode_enum_algorithms),
        cmocka_unit_test(decode_verify_message_and_random),
        cmocka_unit_test(decode_can_do_crypto),
        cmocka_unit_test(decode_attestation),
        cmocka_unit_test(decode_malformed),
        cmocka_unit_test(decode_unknown_fields_skipped),
        cmocka_unit_test(decode_empty_bodies),
        cmocka_unit_test(encode_ping),
        cmocka_unit_test(encode_bytes_results),
        cmocka_unit_test(encode_empty_and_unsupported),
        cmocka_unit_test(encode_attestation_results),
        cmocka_unit_test(encode_core_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
