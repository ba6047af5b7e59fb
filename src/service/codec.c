/* Generic protobuf decode/encode of request and response bodies (see codec.h). */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "attest_key.pb-c.h"
#include "can_do_crypto.pb-c.h"
#include "delete_client.pb-c.h"
#include "list_authenticators.pb-c.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "prepare_key_attestation.pb-c.h"
#include "psa_aead_decrypt.pb-c.h"
#include "psa_aead_encrypt.pb-c.h"
#include "psa_asymmetric_decrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_cipher_decrypt.pb-c.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_export_key.pb-c.h"
#include "psa_export_public_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compare.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "psa_raw_key_agreement.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_sign_message.pb-c.h"
#include "psa_verify_hash.pb-c.h"
#include "psa_verify_message.pb-c.h"

#include "common/utf8.h"
#include "psa/convert.h"
#include "service/codec.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The header's body length is 32 bits: no body may be longer. */
#define CODEC_BODY_MAX UINT32_MAX

struct codec_entry {
    const ProtobufCMessageDescriptor *op;
    const ProtobufCMessageDescriptor *result;
};

#define ENTRY(code, pkg) [code] = {&pkg##__operation__descriptor, &pkg##__result__descriptor}

static const struct codec_entry codec_table[PSC_OP_LIMIT] = {
    ENTRY(PSC_OP_PING, ping),
    ENTRY(PSC_OP_PSA_GENERATE_KEY, psa_generate_key),
    ENTRY(PSC_OP_PSA_DESTROY_KEY, psa_destroy_key),
    ENTRY(PSC_OP_PSA_SIGN_HASH, psa_sign_hash),
    ENTRY(PSC_OP_PSA_VERIFY_HASH, psa_verify_hash),
    ENTRY(PSC_OP_PSA_IMPORT_KEY, psa_import_key),
    ENTRY(PSC_OP_PSA_EXPORT_PUBLIC_KEY, psa_export_public_key),
    ENTRY(PSC_OP_LIST_PROVIDERS, list_providers),
    ENTRY(PSC_OP_LIST_OPCODES, list_opcodes),
    ENTRY(PSC_OP_PSA_ASYMMETRIC_ENCRYPT, psa_asymmetric_encrypt),
    ENTRY(PSC_OP_PSA_ASYMMETRIC_DECRYPT, psa_asymmetric_decrypt),
    ENTRY(PSC_OP_PSA_EXPORT_KEY, psa_export_key),
    ENTRY(PSC_OP_PSA_GENERATE_RANDOM, psa_generate_random),
    ENTRY(PSC_OP_LIST_AUTHENTICATORS, list_authenticators),
    ENTRY(PSC_OP_PSA_HASH_COMPUTE, psa_hash_compute),
    ENTRY(PSC_OP_PSA_HASH_COMPARE, psa_hash_compare),
    ENTRY(PSC_OP_PSA_AEAD_ENCRYPT, psa_aead_encrypt),
    ENTRY(PSC_OP_PSA_AEAD_DECRYPT, psa_aead_decrypt),
    ENTRY(PSC_OP_PSA_RAW_KEY_AGREEMENT, psa_raw_key_agreement),
    ENTRY(PSC_OP_PSA_CIPHER_ENCRYPT, psa_cipher_encrypt),
    ENTRY(PSC_OP_PSA_CIPHER_DECRYPT, psa_cipher_decrypt),
    ENTRY(PSC_OP_PSA_SIGN_MESSAGE, psa_sign_message),
    ENTRY(PSC_OP_PSA_VERIFY_MESSAGE, psa_verify_message),
    ENTRY(PSC_OP_LIST_KEYS, list_keys),
    ENTRY(PSC_OP_LIST_CLIENTS, list_clients),
    ENTRY(PSC_OP_DELETE_CLIENT, delete_client),
    ENTRY(PSC_OP_ATTEST_KEY, attest_key),
    ENTRY(PSC_OP_PREPARE_KEY_ATTESTATION, prepare_key_attestation),
    ENTRY(PSC_OP_CAN_DO_CRYPTO, can_do_crypto),
};

/* Operation fields naming the key an operation works on. */
static const char *const key_name_fields[] = {"key_name", "private_key_name", "attested_key_name"};

/* Operation bytes fields and the struct psc_args member each one lands in. */
static const struct {
    const char *name;
    size_t offset;
} bytes_fields[] = {
    {"data", offsetof(struct psc_args, data)},
    {"hash", offsetof(struct psc_args, hash)},
    {"message", offsetof(struct psc_args, message)},
    {"plaintext", offsetof(struct psc_args, plaintext)},
    {"ciphertext", offsetof(struct psc_args, ciphertext)},
    {"input", offsetof(struct psc_args, input)},
    {"peer_key", offsetof(struct psc_args, peer_key)},
    {"signature", offsetof(struct psc_args, signature)},
    {"salt", offsetof(struct psc_args, salt)},
    {"nonce", offsetof(struct psc_args, nonce)},
    {"additional_data", offsetof(struct psc_args, additional_data)},
    {"credential_blob", offsetof(struct psc_args, credential_blob)},
    {"secret", offsetof(struct psc_args, secret)},
};

const ProtobufCMessageDescriptor *codec_op_desc(uint32_t opcode)
{
    return opcode < PSC_OP_LIMIT ? codec_table[opcode].op : NULL;
}

const ProtobufCMessageDescriptor *codec_result_desc(uint32_t opcode)
{
    return opcode < PSC_OP_LIMIT ? codec_table[opcode].result : NULL;
}

/* ---- Wiping allocator ---------------------------------------------------------------------- */

/* protobuf-c copies every bytes and string field of a request into blocks of its own (key
 * material, plaintexts, passwords), and frees them itself when a body fails to parse half-way.
 * Wiping in the allocator's free reaches every one of those blocks, on every path, whatever the
 * message. A block is wiped to its usable size, which is at least the size asked for; freeing
 * with the default allocator instead stays correct, only without the wipe. */
static void *wipe_alloc(void *data, size_t size)
{
    (void)data;
    return malloc(size);
}

static void wipe_free(void *data, void *p)
{
    (void)data;
    if (p != NULL) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

static ProtobufCAllocator wipe_allocator = {wipe_alloc, wipe_free, NULL};

void codec_msg_free(ProtobufCMessage *m)
{
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, &wipe_allocator);
    }
}

/* ---- Decoding ------------------------------------------------------------------------------ */

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) {
            return -1;
        }
        x |= (uint64_t)(p[*pos] & 0x7f) << shift;
        if ((p[(*pos)++] & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* protobuf-c neither checks that strings are UTF-8 (the original service rejects them while
 * parsing) nor keeps their length (a NUL byte would silently cut a key name short), so every
 * string of the body is checked here on the wire bytes, following d for nested messages. */
static int check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
                         unsigned depth)
{
    const ProtobufCFieldDescriptor *f;
    uint64_t key, n;
    size_t pos = 0;
    int r;

    if (depth > CODEC_DEPTH_MAX) {
        return PSC_DESERIALIZING_BODY_FAILED;
    }
    while (pos < len) {
        if (read_varint(p, len, &pos, &key) != 0) {
            return PSC_DESERIALIZING_BODY_FAILED;
        }
        /* Field number 0 and keys beyond 32 bits are not protobuf (the original service's
         * decoder refuses them); protobuf-c lets field 0 through when its key is not
         * minimally encoded (80 00). */
        if ((key >> 3) == 0 || key > UINT32_MAX) {
            return PSC_DESERIALIZING_BODY_FAILED;
        }
        switch (key & 7) {
        case 0: /* varint */
            if (read_varint(p, len, &pos, &n) != 0) {
                return PSC_DESERIALIZING_BODY_FAILED;
            }
            break;
        case 1: /* 64-bit */
            if (len - pos < 8) {
                return PSC_DESERIALIZING_BODY_FAILED;
            }
            pos += 8;
            break;
        case 5: /* 32-bit */
            if (len - pos < 4) {
                return PSC_DESERIALIZING_BODY_FAILED;
            }
            pos += 4;
            break;
        case 2: /* length-delimited */
            if (read_varint(p, len, &pos, &n) != 0 || n > len - pos) {
                return PSC_DESERIALIZING_BODY_FAILED;
            }
            f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
                (!utf8_valid(p + pos, n) || memchr(p + pos, 0, n) != NULL)) {
                return PSC_DESERIALIZING_BODY_FAILED;
            }
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                (r = check_strings(f->descriptor, p + pos, n, depth + 1)) != 0) {
                return r;
            }
            pos += n;
            break;
        default: /* groups: not proto3 */
            return PSC_DESERIALIZING_BODY_FAILED;
        }
    }
    return 0;
}

int codec_decode_msg(uint32_t opcode, const uint8_t *body, size_t len, ProtobufCMessage **msg)
{
    const ProtobufCMessageDescriptor *d = codec_op_desc(opcode);
    ProtobufCMessage *m = NULL;
    static const uint8_t empty[1];
    int r;

    *msg = NULL;
    if (d == NULL) {
        return PSC_OPCODE_DOES_NOT_EXIST;
    }
    if (body == NULL) {
        if (len != 0) {
            return PSC_DESERIALIZING_BODY_FAILED;
        }
        body = empty;
    }
    if ((m = protobuf_c_message_unpack(d, &wipe_allocator, len, body)) == NULL) {
        r = PSC_DESERIALIZING_BODY_FAILED;
        goto out;
    }
    if ((r = check_strings(d, body, len, 0)) != 0) {
        goto out;
    }
    *msg = m;
    m = NULL;
out:
    codec_msg_free(m);
    return r;
}

static int name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether every oneof of m has a member set. */
static int oneofs_set(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const uint8_t *)m + d->fields[i].quantifier_offset) == 0) {
            return 0;
        }
    }
    return 1;
}

static void fill_bytes(const ProtobufCFieldDescriptor *f, const ProtobufCBinaryData *b,
                       struct psc_args *a)
{
    struct psc_bytes *dst;

    for (size_t i = 0; i < NELEM(bytes_fields); i++) {
        if (strcmp(f->name, bytes_fields[i].name) == 0) {
            dst = (struct psc_bytes *)((uint8_t *)a + bytes_fields[i].offset);
            dst->p = b->data;
            dst->len = b->len;
            break;
        }
    }
}

static int fill_enum(const ProtobufCFieldDescriptor *f, int v, struct psc_args *a)
{
    if (strcmp(f->name, "alg") == 0) {
        return conv_alg_enum_from_pb(f->descriptor, v, &a->alg);
    }
    /* Any other enum (CheckType) must hold a defined value other than its *_NONE. */
    if (v == 0 || protobuf_c_enum_descriptor_get_value(f->descriptor, v) == NULL) {
        return PSC_INVALID_ENCODING;
    }
    if (strcmp(f->name, "check_type") == 0) {
        a->check_type = (uint32_t)v;
    }
    return 0;
}

static int fill_args(const ProtobufCMessage *m, struct psc_args *a, unsigned depth);

static int fill_msg(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *sub,
                    struct psc_args *a, unsigned depth)
{
    int r;

    /* Every message field of an operation (attributes, alg, parameters) is mandatory. */
    if (sub == NULL) {
        return PSC_INVALID_ENCODING;
    }
    if (strcmp(f->name, "attributes") == 0) {
        if ((r = conv_attrs_from_pb((const PsaKeyAttributes__KeyAttributes *)sub, &a->attrs)) ==
            0) {
            a->has_attrs = 1;
        }
        return r;
    }
    if (strcmp(f->name, "alg") == 0) {
        return conv_alg_msg_from_pb(sub, &a->alg);
    }
    /* A parameter container (attestation mechanisms): its oneof must be set, and its fields
     * follow the same rules. */
    if (!oneofs_set(sub)) {
        return PSC_INVALID_ENCODING;
    }
    return fill_args(sub, a, depth + 1);
}

static int fill_args(const ProtobufCMessage *m, struct psc_args *a, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const ProtobufCFieldDescriptor *f;
    const uint8_t *v;
    const char *s;
    int r = 0;

    if (depth > CODEC_DEPTH_MAX) {
        return PSC_INVALID_ENCODING;
    }
    for (unsigned i = 0; i < d->n_fields && r == 0; i++) {
        f = &d->fields[i];
        v = (const uint8_t *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const uint8_t *)m + f->quantifier_offset) != f->id) {
            continue;
        }
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING:
            if (name_in(f->name, key_name_fields, NELEM(key_name_fields))) {
                s = *(char *const *)v;
                a->key_name = s != NULL ? s : "";
            } else if (strcmp(f->name, "attesting_key_name") == 0) {
                s = *(char *const *)v;
                a->attesting_key_name = s != NULL ? s : "";
            }
            break;
        case PROTOBUF_C_TYPE_BYTES:
            fill_bytes(f, (const ProtobufCBinaryData *)v, a);
            break;
        case PROTOBUF_C_TYPE_UINT64:
            if (strcmp(f->name, "size") == 0) {
                a->size = *(const uint64_t *)v;
            }
            break;
        case PROTOBUF_C_TYPE_ENUM:
            r = fill_enum(f, *(const int *)v, a);
            break;
        case PROTOBUF_C_TYPE_MESSAGE:
            r = fill_msg(f, *(ProtobufCMessage *const *)v, a, depth);
            break;
        default:
            break;
        }
    }
    return r;
}

/* The arguments of a body that names nothing; also what a failed decode leaves behind, so that
 * no pointer into a freed message survives. */
static void args_reset(struct psc_args *args, uint32_t opcode)
{
    memset(args, 0, sizeof(*args));
    args->opcode = opcode;
    args->key_name = "";
    args->attesting_key_name = "";
}

int codec_decode_args(uint32_t opcode, const uint8_t *body, size_t len, struct psc_args *args,
                      ProtobufCMessage **msg)
{
    ProtobufCMessage *m = NULL;
    int r;

    args_reset(args, opcode);
    *msg = NULL;
    if ((r = codec_decode_msg(opcode, body, len, &m)) != 0) {
        goto out;
    }
    if ((r = fill_args(m, args, 0)) != 0) {
        goto out;
    }
    *msg = m;
    m = NULL;
out:
    codec_msg_free(m);
    if (r != 0) {
        args_reset(args, opcode);
    }
    return r;
}

/* ---- Encoding ------------------------------------------------------------------------------ */

int codec_encode_msg(const ProtobufCMessage *m, uint8_t **body, size_t *len)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    int r = PSC_SERIALIZING_BODY_FAILED;

    *body = NULL;
    *len = 0;
    if (m == NULL || !protobuf_c_message_check(m)) {
        goto out;
    }
    n = protobuf_c_message_get_packed_size(m);
    if (n > CODEC_BODY_MAX) {
        goto out;
    }
    if (n == 0) {
        r = 0;
        goto out;
    }
    if ((buf = malloc(n)) == NULL || protobuf_c_message_pack(m, buf) != n) {
        goto out;
    }
    *body = buf;
    *len = n;
    buf = NULL;
    r = 0;
out:
    /* A result that failed to pack may still hold part of a secret. */
    if (buf != NULL) {
        explicit_bzero(buf, n);
        free(buf);
    }
    return r;
}

/* The byte strings of a result, handed out in order. */
struct slices {
    uint8_t *p;
    size_t left;
    const size_t *part;
    unsigned n, next;
};

static int slice_take(struct slices *s, ProtobufCBinaryData *b)
{
    size_t n;

    if (s->n == 0) {
        /* A single byte string: the whole output, once. */
        if (s->next++ != 0) {
            return -1;
        }
        n = s->left;
    } else {
        if (s->next >= s->n || s->part[s->next] > s->left) {
            return -1;
        }
        n = s->part[s->next++];
    }
    b->data = NULL;
    b->len = n;
    if (n != 0) {
        b->data = s->p;
        s->p += n;
        s->left -= n;
    }
    return 0;
}

/* Frees a message built by result_build: its sub-messages and itself, not the bytes. */
static void result_free(ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f;

    if (m == NULL) {
        return;
    }
    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        f = &m->descriptor->fields[i];
        /* The members of a oneof share their storage: only the one set is a message. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const uint8_t *)m + f->quantifier_offset) != f->id) {
            continue;
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            result_free(*(ProtobufCMessage **)((uint8_t *)m + f->offset));
        }
    }
    free(m);
}

/* Builds a message of d whose bytes fields, depth first, take the output's byte strings in
 * order. A sub-message is built for every message field and, of a oneof, for its first member
 * only (every Parsec result has one mechanism). Any other kind of field cannot come from bytes. */
static int result_build(const ProtobufCMessageDescriptor *d, struct slices *s, unsigned depth,
                        ProtobufCMessage **out)
{
    const ProtobufCFieldDescriptor *f;
    ProtobufCMessage *m;
    uint32_t *case_of;
    uint8_t *v;

    *out = NULL;
    if (depth > CODEC_DEPTH_MAX || (m = calloc(1, d->sizeof_message)) == NULL) {
        return -1;
    }
    protobuf_c_message_init(d, m);
    *out = m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        f = &d->fields[i];
        v = (uint8_t *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            return -1;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            case_of = (uint32_t *)((uint8_t *)m + f->quantifier_offset);
            if (*case_of != 0) {
                continue;
            }
            *case_of = f->id;
        }
        if (f->type == PROTOBUF_C_TYPE_BYTES) {
            if (slice_take(s, (ProtobufCBinaryData *)v) != 0) {
                return -1;
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (result_build(f->descriptor, s, depth + 1, (ProtobufCMessage **)v) != 0) {
                return -1;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

int codec_encode_bytes(uint32_t opcode, const struct psc_out *out, uint8_t **body, size_t *len)
{
    const ProtobufCMessageDescriptor *d = codec_result_desc(opcode);
    ProtobufCMessage *m = NULL;
    struct slices s = {NULL, 0, NULL, 0, 0};
    int r = PSC_SERIALIZING_BODY_FAILED;

    *body = NULL;
    *len = 0;
    if (d == NULL) {
        goto out;
    }
    if (d->n_fields == 0) {
        r = 0;
        goto out;
    }
    if (out != NULL) {
        if (out->n_parts > PSC_OUT_PARTS_MAX) {
            goto out;
        }
        s.p = out->p;
        s.left = out->len;
        s.part = out->part;
        s.n = out->n_parts;
    }
    /* Every byte string must find its field, and every field its byte string. */
    if (result_build(d, &s, 0, &m) != 0 || s.left != 0 || (s.n != 0 && s.next != s.n)) {
        goto out;
    }
    r = codec_encode_msg(m, body, len);
out:
    /* Only the messages are ours: the bytes stay the caller's. */
    result_free(m);
    return r;
}
