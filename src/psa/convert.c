/* protobuf <-> PSA conversion of key attributes and algorithms (see convert.h).
 *
 * Everything is table-driven: enums map through {protobuf value, PSA value} rows, and the
 * algorithm families whose protobuf form is "a oneof of schemes, some carrying a hash"
 * (signature, asymmetric encryption, key derivation, full-length MAC) share one scheme table
 * walker. The walker reaches the oneof members through the protobuf-c field descriptors, so
 * adding a scheme is adding a row. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "psa/convert.h"
#include "wire/status.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Value maps ---------------------------------------------------------------------------- */

struct map {
    int pb;
    uint32_t psa;
};

static const struct map hash_map[] = {
    {PSA_ALGORITHM__ALGORITHM__HASH__MD2, PSA_ALG_MD2},
    {PSA_ALGORITHM__ALGORITHM__HASH__MD4, PSA_ALG_MD4},
    {PSA_ALGORITHM__ALGORITHM__HASH__MD5, PSA_ALG_MD5},
    {PSA_ALGORITHM__ALGORITHM__HASH__RIPEMD160, PSA_ALG_RIPEMD160},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_1, PSA_ALG_SHA_1},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_224, PSA_ALG_SHA_224},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_256, PSA_ALG_SHA_256},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_384, PSA_ALG_SHA_384},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_512, PSA_ALG_SHA_512},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_512_224, PSA_ALG_SHA_512_224},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA_512_256, PSA_ALG_SHA_512_256},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA3_224, PSA_ALG_SHA3_224},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA3_256, PSA_ALG_SHA3_256},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA3_384, PSA_ALG_SHA3_384},
    {PSA_ALGORITHM__ALGORITHM__HASH__SHA3_512, PSA_ALG_SHA3_512},
};

/* The hashes the PSA Crypto API deprecates (operations.md §3.6). */
static const psa_algorithm_t deprecated_hashes[] = {PSA_ALG_MD2, PSA_ALG_MD4, PSA_ALG_MD5,
                                                    PSA_ALG_SHA_1};

static const struct map cipher_map[] = {
    {PSA_ALGORITHM__ALGORITHM__CIPHER__STREAM_CIPHER, PSA_ALG_STREAM_CIPHER},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__CTR, PSA_ALG_CTR},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__CFB, PSA_ALG_CFB},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__OFB, PSA_ALG_OFB},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__XTS, PSA_ALG_XTS},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__ECB_NO_PADDING, PSA_ALG_ECB_NO_PADDING},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__CBC_NO_PADDING, PSA_ALG_CBC_NO_PADDING},
    {PSA_ALGORITHM__ALGORITHM__CIPHER__CBC_PKCS7, PSA_ALG_CBC_PKCS7},
};

/* Default-length-tag AEADs; their PSA encodings carry the default tag length (16). */
static const struct map aead_map[] = {
    {PSA_ALGORITHM__ALGORITHM__AEAD__AEAD_WITH_DEFAULT_LENGTH_TAG__CCM, PSA_ALG_CCM},
    {PSA_ALGORITHM__ALGORITHM__AEAD__AEAD_WITH_DEFAULT_LENGTH_TAG__GCM, PSA_ALG_GCM},
    {PSA_ALGORITHM__ALGORITHM__AEAD__AEAD_WITH_DEFAULT_LENGTH_TAG__CHACHA20_POLY1305,
     PSA_ALG_CHACHA20_POLY1305},
};

static const struct map raw_ka_map[] = {
    {PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__FFDH, PSA_ALG_FFDH},
    {PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__ECDH, PSA_ALG_ECDH},
};

static const struct map ecc_family_map[] = {
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECP_K1, PSA_ECC_FAMILY_SECP_K1},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECP_R1, PSA_ECC_FAMILY_SECP_R1},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECP_R2, PSA_ECC_FAMILY_SECP_R2},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECT_K1, PSA_ECC_FAMILY_SECT_K1},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECT_R1, PSA_ECC_FAMILY_SECT_R1},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__SECT_R2, PSA_ECC_FAMILY_SECT_R2},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__BRAINPOOL_P_R1, PSA_ECC_FAMILY_BRAINPOOL_P_R1},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__FRP, PSA_ECC_FAMILY_FRP},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__MONTGOMERY, PSA_ECC_FAMILY_MONTGOMERY},
};

static const struct map dh_family_map[] = {
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__DH_FAMILY__RFC7919, PSA_DH_FAMILY_RFC7919},
};

static const struct {
    size_t offset;
    psa_key_usage_t bit;
} usage_map[] = {
    {offsetof(PsaKeyAttributes__UsageFlags, export), PSA_KEY_USAGE_EXPORT},
    {offsetof(PsaKeyAttributes__UsageFlags, copy), PSA_KEY_USAGE_COPY},
    {offsetof(PsaKeyAttributes__UsageFlags, cache), PSA_KEY_USAGE_CACHE},
    {offsetof(PsaKeyAttributes__UsageFlags, encrypt), PSA_KEY_USAGE_ENCRYPT},
    {offsetof(PsaKeyAttributes__UsageFlags, decrypt), PSA_KEY_USAGE_DECRYPT},
    {offsetof(PsaKeyAttributes__UsageFlags, sign_message), PSA_KEY_USAGE_SIGN_MESSAGE},
    {offsetof(PsaKeyAttributes__UsageFlags, verify_message), PSA_KEY_USAGE_VERIFY_MESSAGE},
    {offsetof(PsaKeyAttributes__UsageFlags, sign_hash), PSA_KEY_USAGE_SIGN_HASH},
    {offsetof(PsaKeyAttributes__UsageFlags, verify_hash), PSA_KEY_USAGE_VERIFY_HASH},
    {offsetof(PsaKeyAttributes__UsageFlags, derive), PSA_KEY_USAGE_DERIVE},
};

/* Key types: the ten parameterless ones map one to one; the ECC and DH variants carry a
 * family (field 1 of their sub-message) that PSA keeps in the low byte of the type. */
enum family_kind { FAM_NONE, FAM_ECC, FAM_DH };

static const struct {
    unsigned pb_case;
    psa_key_type_t psa; /* the type, or the base the family is or'ed into */
    enum family_kind fam;
} key_type_map[] = {
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RAW_DATA, PSA_KEY_TYPE_RAW_DATA, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_HMAC, PSA_KEY_TYPE_HMAC, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DERIVE, PSA_KEY_TYPE_DERIVE, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_AES, PSA_KEY_TYPE_AES, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DES, PSA_KEY_TYPE_DES, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_CAMELLIA, PSA_KEY_TYPE_CAMELLIA, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ARC4, PSA_KEY_TYPE_ARC4, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_CHACHA20, PSA_KEY_TYPE_CHACHA20, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_PUBLIC_KEY, PSA_KEY_TYPE_RSA_PUBLIC_KEY, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_KEY_PAIR, PSA_KEY_TYPE_RSA_KEY_PAIR, FAM_NONE},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR, PSA_KEY_TYPE_ECC_KEY_PAIR_BASE, FAM_ECC},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_PUBLIC_KEY, PSA_KEY_TYPE_ECC_PUBLIC_KEY_BASE,
     FAM_ECC},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DH_KEY_PAIR, PSA_KEY_TYPE_DH_KEY_PAIR_BASE, FAM_DH},
    {PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DH_PUBLIC_KEY, PSA_KEY_TYPE_DH_PUBLIC_KEY_BASE, FAM_DH},
};

/* ECC public keys on these curves are deprecated (bits 0: the whole family). */
static const struct {
    psa_ecc_family_t family;
    size_t bits;
} deprecated_ecc_public[] = {
    {PSA_ECC_FAMILY_BRAINPOOL_P_R1, 160}, {PSA_ECC_FAMILY_SECT_R2, 0},
    {PSA_ECC_FAMILY_SECT_R1, 163},        {PSA_ECC_FAMILY_SECT_K1, 163},
    {PSA_ECC_FAMILY_SECP_R2, 0},
};

/* Schemes: a oneof member (field number pb_case) whose sub-message is empty (PARAM_NONE) or
 * holds one field numbered 1: a Hash enum (PARAM_HASH) or a SignHash message
 * (PARAM_SIGN_HASH). PSA puts the hash in the low byte of the algorithm. */
enum scheme_param { PARAM_NONE, PARAM_HASH, PARAM_SIGN_HASH };

struct scheme {
    unsigned pb_case;
    psa_algorithm_t psa; /* the algorithm, or the base the hash is or'ed into */
    enum scheme_param param;
};

static const struct scheme sign_schemes[] = {
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN,
     PSA_ALG_RSA_PKCS1V15_SIGN_BASE, PARAM_SIGN_HASH},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN_RAW,
     PSA_ALG_RSA_PKCS1V15_SIGN_RAW, PARAM_NONE},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PSS, PSA_ALG_RSA_PSS_BASE,
     PARAM_SIGN_HASH},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA, PSA_ALG_ECDSA_BASE,
     PARAM_SIGN_HASH},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA_ANY, PSA_ALG_ECDSA_ANY,
     PARAM_NONE},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_DETERMINISTIC_ECDSA,
     PSA_ALG_DETERMINISTIC_ECDSA_BASE, PARAM_SIGN_HASH},
};

static const struct scheme asym_enc_schemes[] = {
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_PKCS1V15_CRYPT,
     PSA_ALG_RSA_PKCS1V15_CRYPT, PARAM_NONE},
    {PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_OAEP, PSA_ALG_RSA_OAEP_BASE,
     PARAM_HASH},
};

static const struct scheme kdf_schemes[] = {
    {PSA_ALGORITHM__ALGORITHM__KEY_DERIVATION__VARIANT_HKDF, PSA_ALG_HKDF_BASE, PARAM_HASH},
    {PSA_ALGORITHM__ALGORITHM__KEY_DERIVATION__VARIANT_TLS12_PRF, PSA_ALG_TLS12_PRF_BASE,
     PARAM_HASH},
    {PSA_ALGORITHM__ALGORITHM__KEY_DERIVATION__VARIANT_TLS12_PSK_TO_MS,
     PSA_ALG_TLS12_PSK_TO_MS_BASE, PARAM_HASH},
};

static const struct scheme full_mac_schemes[] = {
    {PSA_ALGORITHM__ALGORITHM__MAC__FULL_LENGTH__VARIANT_HMAC, PSA_ALG_HMAC_BASE, PARAM_HASH},
    {PSA_ALGORITHM__ALGORITHM__MAC__FULL_LENGTH__VARIANT_CBC_MAC, PSA_ALG_CBC_MAC, PARAM_NONE},
    {PSA_ALGORITHM__ALGORITHM__MAC__FULL_LENGTH__VARIANT_CMAC, PSA_ALG_CMAC, PARAM_NONE},
};

static int map_to_psa(const struct map *m, size_t n, int pb, uint32_t *psa)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].pb == pb) {
            *psa = m[i].psa;
            return 0;
        }
    }
    return PSC_INVALID_ENCODING;
}

static int map_to_pb(const struct map *m, size_t n, uint32_t psa, int *pb)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].psa == psa) {
            *pb = m[i].pb;
            return 0;
        }
    }
    return PSC_INVALID_ENCODING;
}

/* ---- Reflection helpers ---------------------------------------------------------------------
 * Every message these helpers touch has exactly one oneof, and oneof members are sub-messages
 * or enums; scheme sub-messages carry their parameter in field 1. */

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, unsigned num)
{
    return protobuf_c_message_descriptor_get_field(d, num);
}

/* Field number of the oneof member that is set, 0 if none. */
static unsigned oneof_case(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        if (d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            return *(const uint32_t *)((const uint8_t *)m + d->fields[i].quantifier_offset);
        }
    }
    return 0;
}

/* The sub-message in field f of m (NULL when absent). */
static const ProtobufCMessage *get_msg(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        return NULL;
    }
    return *(ProtobufCMessage *const *)((const uint8_t *)m + f->offset);
}

static int get_enum(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return *(const int *)((const uint8_t *)m + f->offset);
}

static void *msg_new(const ProtobufCMessageDescriptor *d)
{
    void *m = malloc(d->sizeof_message);

    if (m != NULL) {
        protobuf_c_message_init(d, m);
    }
    return m;
}

static void msg_free(void *m)
{
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* Selects oneof member num of m, stores a fresh sub-message in it and returns it. */
static ProtobufCMessage *set_oneof_msg(ProtobufCMessage *m, unsigned num)
{
    const ProtobufCFieldDescriptor *f = field(m->descriptor, num);
    ProtobufCMessage *sub;

    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || (sub = msg_new(f->descriptor)) == NULL) {
        return NULL;
    }
    *(ProtobufCMessage **)((uint8_t *)m + f->offset) = sub;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        *(uint32_t *)((uint8_t *)m + f->quantifier_offset) = num;
    }
    return sub;
}

static void set_oneof_enum(ProtobufCMessage *m, unsigned num, int value)
{
    const ProtobufCFieldDescriptor *f = field(m->descriptor, num);

    *(int *)((uint8_t *)m + f->offset) = value;
    *(uint32_t *)((uint8_t *)m + f->quantifier_offset) = num;
}

/* ---- Hashes and schemes ------------------------------------------------------------------- */

int conv_hash_from_pb(PsaAlgorithm__Algorithm__Hash pb, psa_algorithm_t *out)
{
    return map_to_psa(hash_map, NELEM(hash_map), (int)pb, out);
}

int conv_hash_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Hash *out)
{
    int pb, r;

    if ((r = map_to_pb(hash_map, NELEM(hash_map), alg, &pb)) == 0) {
        *out = (PsaAlgorithm__Algorithm__Hash)pb;
    }
    return r;
}

static int sign_hash_from_pb(const PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash *sh,
                             psa_algorithm_t *out)
{
    if (sh == NULL) {
        return PSC_INVALID_ENCODING;
    }
    switch (sh->variant_case) {
    case PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_ANY:
        *out = PSA_ALG_ANY_HASH;
        return 0;
    case PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC:
        return conv_hash_from_pb(sh->specific, out);
    default:
        return PSC_INVALID_ENCODING;
    }
}

/* m is a scheme oneof message (AsymmetricSignature, AsymmetricEncryption, KeyDerivation,
 * Mac.FullLength). */
static int scheme_from_pb(const ProtobufCMessage *m, const struct scheme *tab, size_t n,
                          psa_algorithm_t *out)
{
    const ProtobufCMessage *sub;
    const ProtobufCFieldDescriptor *pf;
    psa_algorithm_t hash = 0;
    unsigned c;
    int r;

    if (m == NULL) {
        return PSC_INVALID_ENCODING;
    }
    c = oneof_case(m);
    for (size_t i = 0; i < n; i++) {
        if (tab[i].pb_case != c) {
            continue;
        }
        if ((sub = get_msg(m, field(m->descriptor, c))) == NULL) {
            return PSC_INVALID_ENCODING;
        }
        pf = field(sub->descriptor, 1);
        switch (tab[i].param) {
        case PARAM_NONE:
            *out = tab[i].psa;
            return 0;
        case PARAM_HASH:
            r = conv_hash_from_pb((PsaAlgorithm__Algorithm__Hash)get_enum(sub, pf), &hash);
            break;
        case PARAM_SIGN_HASH:
            r = sign_hash_from_pb(
                (const PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash *)get_msg(sub, pf),
                &hash);
            break;
        default:
            r = PSC_INVALID_ENCODING;
        }
        if (r == 0) {
            *out = tab[i].psa | (hash & PSA_ALG_HASH_MASK);
        }
        return r;
    }
    return PSC_INVALID_ENCODING;
}

/* Whether alg is scheme s: exactly, or its base with a hash in the low byte. */
static int scheme_matches(const struct scheme *s, psa_algorithm_t alg)
{
    if (s->param == PARAM_NONE) {
        return alg == s->psa;
    }
    return (alg & ~PSA_ALG_HASH_MASK) == s->psa && (alg & PSA_ALG_HASH_MASK) != 0;
}

/* Fills the empty scheme oneof message m for alg. */
static int scheme_to_pb(psa_algorithm_t alg, const struct scheme *tab, size_t n,
                        ProtobufCMessage *m)
{
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash *sh;
    ProtobufCMessage *sub;
    psa_algorithm_t hash = PSA_ALG_CATEGORY_HASH | (alg & PSA_ALG_HASH_MASK);
    int pb = 0, any;

    for (size_t i = 0; i < n; i++) {
        if (!scheme_matches(&tab[i], alg)) {
            continue;
        }
        /* The hash is checked before anything is allocated; only a signature scheme can
         * carry the any-hash wildcard. */
        any = tab[i].param == PARAM_SIGN_HASH && hash == PSA_ALG_ANY_HASH;
        if (tab[i].param != PARAM_NONE && !any &&
            map_to_pb(hash_map, NELEM(hash_map), hash, &pb) != 0) {
            return PSC_INVALID_ENCODING;
        }
        if ((sub = set_oneof_msg(m, tab[i].pb_case)) == NULL) {
            return PSC_INVALID_ENCODING;
        }
        if (tab[i].param == PARAM_HASH) {
            *(int *)((uint8_t *)sub + field(sub->descriptor, 1)->offset) = pb;
        } else if (tab[i].param == PARAM_SIGN_HASH) {
            if ((sh = (void *)set_oneof_msg(sub, 1)) == NULL) {
                return PSC_INVALID_ENCODING;
            }
            if (any) {
                if (set_oneof_msg(
                        &sh->base,
                        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_ANY) ==
                    NULL) {
                    return PSC_INVALID_ENCODING;
                }
            } else {
                set_oneof_enum(
                    &sh->base,
                    PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC,
                    pb);
            }
        }
        return 0;
    }
    return PSC_INVALID_ENCODING;
}

/* Allocates a message of type d, fills it with fill(alg, table, m) and returns it in *out. */
static int scheme_new(psa_algorithm_t alg, const struct scheme *tab, size_t n,
                      const ProtobufCMessageDescriptor *d, void **out)
{
    ProtobufCMessage *m = msg_new(d);
    int r = PSC_INVALID_ENCODING;

    *out = NULL;
    if (m == NULL) {
        goto out;
    }
    if ((r = scheme_to_pb(alg, tab, n, m)) != 0) {
        goto out;
    }
    *out = m;
    m = NULL;
out:
    msg_free(m);
    return r;
}

int conv_sign_from_pb(const PsaAlgorithm__Algorithm__AsymmetricSignature *pb, psa_algorithm_t *out)
{
    return scheme_from_pb(pb ? &pb->base : NULL, sign_schemes, NELEM(sign_schemes), out);
}

int conv_sign_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__AsymmetricSignature **out)
{
    return scheme_new(alg, sign_schemes, NELEM(sign_schemes),
                      &psa_algorithm__algorithm__asymmetric_signature__descriptor, (void **)out);
}

int conv_asym_enc_from_pb(const PsaAlgorithm__Algorithm__AsymmetricEncryption *pb,
                          psa_algorithm_t *out)
{
    return scheme_from_pb(pb ? &pb->base : NULL, asym_enc_schemes, NELEM(asym_enc_schemes), out);
}

int conv_asym_enc_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__AsymmetricEncryption **out)
{
    return scheme_new(alg, asym_enc_schemes, NELEM(asym_enc_schemes),
                      &psa_algorithm__algorithm__asymmetric_encryption__descriptor, (void **)out);
}

int conv_kdf_from_pb(const PsaAlgorithm__Algorithm__KeyDerivation *pb, psa_algorithm_t *out)
{
    return scheme_from_pb(pb ? &pb->base : NULL, kdf_schemes, NELEM(kdf_schemes), out);
}

int conv_kdf_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyDerivation **out)
{
    return scheme_new(alg, kdf_schemes, NELEM(kdf_schemes),
                      &psa_algorithm__algorithm__key_derivation__descriptor, (void **)out);
}

/* ---- Enum-only algorithm types ------------------------------------------------------------ */

int conv_cipher_from_pb(PsaAlgorithm__Algorithm__Cipher pb, psa_algorithm_t *out)
{
    return map_to_psa(cipher_map, NELEM(cipher_map), (int)pb, out);
}

int conv_cipher_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Cipher *out)
{
    int pb, r;

    if ((r = map_to_pb(cipher_map, NELEM(cipher_map), alg, &pb)) == 0) {
        *out = (PsaAlgorithm__Algorithm__Cipher)pb;
    }
    return r;
}

int conv_raw_ka_from_pb(PsaAlgorithm__Algorithm__KeyAgreement__Raw pb, psa_algorithm_t *out)
{
    return map_to_psa(raw_ka_map, NELEM(raw_ka_map), (int)pb, out);
}

int conv_raw_ka_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyAgreement__Raw *out)
{
    int pb, r;

    if ((r = map_to_pb(raw_ka_map, NELEM(raw_ka_map), alg, &pb)) == 0) {
        *out = (PsaAlgorithm__Algorithm__KeyAgreement__Raw)pb;
    }
    return r;
}

/* ---- MAC ---------------------------------------------------------------------------------- */

int conv_mac_from_pb(const PsaAlgorithm__Algorithm__Mac *pb, psa_algorithm_t *out)
{
    psa_algorithm_t full;
    int r;

    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    switch (pb->variant_case) {
    case PSA_ALGORITHM__ALGORITHM__MAC__VARIANT_FULL_LENGTH:
        return scheme_from_pb(pb->full_length ? &pb->full_length->base : NULL, full_mac_schemes,
                              NELEM(full_mac_schemes), out);
    case PSA_ALGORITHM__ALGORITHM__MAC__VARIANT_TRUNCATED:
        if (pb->truncated == NULL || pb->truncated->mac_alg == NULL) {
            return PSC_INVALID_ENCODING;
        }
        if ((r = scheme_from_pb(&pb->truncated->mac_alg->base, full_mac_schemes,
                                NELEM(full_mac_schemes), &full)) != 0) {
            return r;
        }
        if (pb->truncated->mac_length == 0 || pb->truncated->mac_length > CONV_ALG_LENGTH_MAX) {
            return PSC_INVALID_ENCODING;
        }
        *out = PSA_ALG_TRUNCATED_MAC(full, pb->truncated->mac_length);
        return 0;
    default:
        return PSC_INVALID_ENCODING;
    }
}

int conv_mac_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Mac **out)
{
    PsaAlgorithm__Algorithm__Mac *m = NULL;
    PsaAlgorithm__Algorithm__Mac__Truncated *t;
    ProtobufCMessage *full;
    size_t len = PSA_MAC_TRUNCATED_LENGTH(alg);
    int r = PSC_INVALID_ENCODING;

    *out = NULL;
    if (!PSA_ALG_IS_MAC(alg) || (alg & PSA_ALG_MAC_AT_LEAST_THIS_LENGTH_FLAG) != 0) {
        goto out;
    }
    if ((m = msg_new(&psa_algorithm__algorithm__mac__descriptor)) == NULL) {
        goto out;
    }
    if (len == 0) {
        full = set_oneof_msg(&m->base, PSA_ALGORITHM__ALGORITHM__MAC__VARIANT_FULL_LENGTH);
    } else {
        if ((t = (void *)set_oneof_msg(&m->base,
                                       PSA_ALGORITHM__ALGORITHM__MAC__VARIANT_TRUNCATED)) == NULL) {
            goto out;
        }
        t->mac_length = (uint32_t)len;
        full = set_oneof_msg(&t->base, 1);
    }
    if (full == NULL) {
        goto out;
    }
    if ((r = scheme_to_pb(PSA_ALG_FULL_LENGTH_MAC(alg), full_mac_schemes, NELEM(full_mac_schemes),
                          full)) != 0) {
        goto out;
    }
    *out = m;
    m = NULL;
out:
    msg_free(m);
    return r;
}

/* ---- AEAD --------------------------------------------------------------------------------- */

int conv_aead_from_pb(const PsaAlgorithm__Algorithm__Aead *pb, psa_algorithm_t *out)
{
    psa_algorithm_t base;
    int r;

    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    switch (pb->variant_case) {
    case PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_DEFAULT_LENGTH_TAG:
        return map_to_psa(aead_map, NELEM(aead_map), (int)pb->aead_with_default_length_tag, out);
    case PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_SHORTENED_TAG:
        if (pb->aead_with_shortened_tag == NULL) {
            return PSC_INVALID_ENCODING;
        }
        if ((r = map_to_psa(aead_map, NELEM(aead_map), (int)pb->aead_with_shortened_tag->aead_alg,
                            &base)) != 0) {
            return r;
        }
        /* A tag of length 0 is a valid PSA policy value (convert.h). */
        if (pb->aead_with_shortened_tag->tag_length > CONV_ALG_LENGTH_MAX) {
            return PSC_INVALID_ENCODING;
        }
        /* A tag of the default length yields the default algorithm itself (convert.h). */
        *out = PSA_ALG_AEAD_WITH_SHORTENED_TAG(base, pb->aead_with_shortened_tag->tag_length);
        return 0;
    default:
        return PSC_INVALID_ENCODING;
    }
}

int conv_aead_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Aead **out)
{
    PsaAlgorithm__Algorithm__Aead *m = NULL;
    PsaAlgorithm__Algorithm__Aead__AeadWithShortenedTag *s;
    size_t len = PSA_ALG_AEAD_GET_TAG_LENGTH(alg);
    int pb = 0, r = PSC_INVALID_ENCODING;

    *out = NULL;
    if (!PSA_ALG_IS_AEAD(alg) || (alg & PSA_ALG_AEAD_AT_LEAST_THIS_LENGTH_FLAG) != 0) {
        goto out;
    }
    for (size_t i = 0; i < NELEM(aead_map); i++) {
        if (PSA_ALG_AEAD_WITH_SHORTENED_TAG(alg, 0) ==
            PSA_ALG_AEAD_WITH_SHORTENED_TAG(aead_map[i].psa, 0)) {
            pb = aead_map[i].pb;
            break;
        }
    }
    if (pb == 0 || (m = msg_new(&psa_algorithm__algorithm__aead__descriptor)) == NULL) {
        goto out;
    }
    if (alg == PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(alg)) {
        set_oneof_enum(&m->base,
                       PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_DEFAULT_LENGTH_TAG, pb);
    } else {
        if ((s = (void *)set_oneof_msg(
                 &m->base, PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_SHORTENED_TAG)) ==
            NULL) {
            goto out;
        }
        s->aead_alg = (PsaAlgorithm__Algorithm__Aead__AeadWithDefaultLengthTag)pb;
        s->tag_length = (uint32_t)len;
    }
    *out = m;
    m = NULL;
    r = 0;
out:
    msg_free(m);
    return r;
}

/* ---- Key agreement ------------------------------------------------------------------------ */

int conv_ka_from_pb(const PsaAlgorithm__Algorithm__KeyAgreement *pb, psa_algorithm_t *out)
{
    psa_algorithm_t ka, kdf;
    int r;

    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    switch (pb->variant_case) {
    case PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__VARIANT_RAW:
        return conv_raw_ka_from_pb(pb->raw, out);
    case PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__VARIANT_WITH_KEY_DERIVATION:
        if (pb->with_key_derivation == NULL) {
            return PSC_INVALID_ENCODING;
        }
        if ((r = conv_raw_ka_from_pb(pb->with_key_derivation->ka_alg, &ka)) != 0 ||
            (r = conv_kdf_from_pb(pb->with_key_derivation->kdf_alg, &kdf)) != 0) {
            return r;
        }
        *out = PSA_ALG_KEY_AGREEMENT(ka, kdf);
        return 0;
    default:
        return PSC_INVALID_ENCODING;
    }
}

int conv_ka_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyAgreement **out)
{
    PsaAlgorithm__Algorithm__KeyAgreement *m = NULL;
    PsaAlgorithm__Algorithm__KeyAgreement__WithKeyDerivation *w;
    PsaAlgorithm__Algorithm__KeyAgreement__Raw raw;
    int r = PSC_INVALID_ENCODING;

    *out = NULL;
    if (!PSA_ALG_IS_KEY_AGREEMENT(alg)) {
        goto out;
    }
    if ((r = conv_raw_ka_to_pb(PSA_ALG_KEY_AGREEMENT_GET_BASE(alg), &raw)) != 0) {
        goto out;
    }
    r = PSC_INVALID_ENCODING;
    if ((m = msg_new(&psa_algorithm__algorithm__key_agreement__descriptor)) == NULL) {
        goto out;
    }
    if (PSA_ALG_IS_RAW_KEY_AGREEMENT(alg)) {
        set_oneof_enum(&m->base, PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__VARIANT_RAW, raw);
    } else {
        if ((w = (void *)set_oneof_msg(
                 &m->base, PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__VARIANT_WITH_KEY_DERIVATION)) ==
            NULL) {
            goto out;
        }
        w->ka_alg = raw;
        if ((r = conv_kdf_to_pb(PSA_ALG_KEY_AGREEMENT_GET_KDF(alg), &w->kdf_alg)) != 0) {
            goto out;
        }
    }
    *out = m;
    m = NULL;
    r = 0;
out:
    msg_free(m);
    return r;
}

/* ---- The Algorithm oneof ------------------------------------------------------------------ */

int conv_alg_from_pb(const PsaAlgorithm__Algorithm *pb, psa_algorithm_t *out)
{
    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    switch (pb->variant_case) {
    case PSA_ALGORITHM__ALGORITHM__VARIANT_NONE:
        *out = PSA_ALG_NONE;
        return 0;
    case PSA_ALGORITHM__ALGORITHM__VARIANT_HASH:
        return conv_hash_from_pb(pb->hash, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_MAC:
        return conv_mac_from_pb(pb->mac, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_CIPHER:
        return conv_cipher_from_pb(pb->cipher, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_AEAD:
        return conv_aead_from_pb(pb->aead, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE:
        return conv_sign_from_pb(pb->asymmetric_signature, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_ENCRYPTION:
        return conv_asym_enc_from_pb(pb->asymmetric_encryption, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_KEY_AGREEMENT:
        return conv_ka_from_pb(pb->key_agreement, out);
    case PSA_ALGORITHM__ALGORITHM__VARIANT_KEY_DERIVATION:
        return conv_kdf_from_pb(pb->key_derivation, out);
    default:
        return PSC_INVALID_ENCODING;
    }
}

int conv_alg_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm **out)
{
    PsaAlgorithm__Algorithm *m = NULL;
    int r = PSC_INVALID_ENCODING, e = 0;

    *out = NULL;
    if ((m = msg_new(&psa_algorithm__algorithm__descriptor)) == NULL) {
        goto out;
    }
    if (alg == PSA_ALG_NONE) {
        if (set_oneof_msg(&m->base, PSA_ALGORITHM__ALGORITHM__VARIANT_NONE) == NULL) {
            goto out;
        }
        r = 0;
    } else if (PSA_ALG_IS_HASH(alg)) {
        if ((r = map_to_pb(hash_map, NELEM(hash_map), alg, &e)) == 0) {
            set_oneof_enum(&m->base, PSA_ALGORITHM__ALGORITHM__VARIANT_HASH, e);
        }
    } else if (PSA_ALG_IS_CIPHER(alg)) {
        if ((r = map_to_pb(cipher_map, NELEM(cipher_map), alg, &e)) == 0) {
            set_oneof_enum(&m->base, PSA_ALGORITHM__ALGORITHM__VARIANT_CIPHER, e);
        }
    } else if (PSA_ALG_IS_MAC(alg)) {
        if ((r = conv_mac_to_pb(alg, &m->mac)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_MAC;
        }
    } else if (PSA_ALG_IS_AEAD(alg)) {
        if ((r = conv_aead_to_pb(alg, &m->aead)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_AEAD;
        }
    } else if (PSA_ALG_IS_SIGN(alg)) {
        if ((r = conv_sign_to_pb(alg, &m->asymmetric_signature)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE;
        }
    } else if (PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg)) {
        if ((r = conv_asym_enc_to_pb(alg, &m->asymmetric_encryption)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_ENCRYPTION;
        }
    } else if (PSA_ALG_IS_KEY_AGREEMENT(alg)) {
        if ((r = conv_ka_to_pb(alg, &m->key_agreement)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_KEY_AGREEMENT;
        }
    } else if (PSA_ALG_IS_KEY_DERIVATION(alg)) {
        if ((r = conv_kdf_to_pb(alg, &m->key_derivation)) == 0) {
            m->variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_KEY_DERIVATION;
        }
    }
    if (r != 0) {
        goto out;
    }
    *out = m;
    m = NULL;
out:
    msg_free(m);
    return r;
}

/* ---- Generic algorithm dispatch (used by the service's generic decode step) ---------------- */

int conv_alg_msg_from_pb(const ProtobufCMessage *m, psa_algorithm_t *out)
{
    const ProtobufCMessageDescriptor *d;

    if (m == NULL) {
        return PSC_INVALID_ENCODING;
    }
    d = m->descriptor;
    if (d == &psa_algorithm__algorithm__descriptor) {
        return conv_alg_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__mac__descriptor) {
        return conv_mac_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__aead__descriptor) {
        return conv_aead_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__asymmetric_signature__descriptor) {
        return conv_sign_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__asymmetric_encryption__descriptor) {
        return conv_asym_enc_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__key_agreement__descriptor) {
        return conv_ka_from_pb((const void *)m, out);
    }
    if (d == &psa_algorithm__algorithm__key_derivation__descriptor) {
        return conv_kdf_from_pb((const void *)m, out);
    }
    return PSC_INVALID_ENCODING;
}

int conv_alg_enum_from_pb(const ProtobufCEnumDescriptor *d, int value, psa_algorithm_t *out)
{
    if (d == &psa_algorithm__algorithm__hash__descriptor) {
        return map_to_psa(hash_map, NELEM(hash_map), value, out);
    }
    if (d == &psa_algorithm__algorithm__cipher__descriptor) {
        return map_to_psa(cipher_map, NELEM(cipher_map), value, out);
    }
    if (d == &psa_algorithm__algorithm__key_agreement__raw__descriptor) {
        return map_to_psa(raw_ka_map, NELEM(raw_ka_map), value, out);
    }
    return PSC_INVALID_ENCODING;
}

/* ---- Key attributes ----------------------------------------------------------------------- */

int conv_usage_from_pb(const PsaKeyAttributes__UsageFlags *pb, psa_key_usage_t *out)
{
    psa_key_usage_t u = 0;

    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    for (size_t i = 0; i < NELEM(usage_map); i++) {
        if (*(const protobuf_c_boolean *)((const uint8_t *)pb + usage_map[i].offset)) {
            u |= usage_map[i].bit;
        }
    }
    *out = u;
    return 0;
}

int conv_usage_to_pb(psa_key_usage_t usage, PsaKeyAttributes__UsageFlags *out)
{
    if ((usage & ~(psa_key_usage_t)CONV_USAGE_ALL) != 0) {
        return PSC_INVALID_ENCODING;
    }
    for (size_t i = 0; i < NELEM(usage_map); i++) {
        *(protobuf_c_boolean *)((uint8_t *)out + usage_map[i].offset) =
            (usage & usage_map[i].bit) != 0;
    }
    return 0;
}

int conv_key_type_from_pb(const PsaKeyAttributes__KeyType *pb, psa_key_type_t *out)
{
    const ProtobufCMessage *sub;
    uint32_t fam;
    unsigned c;
    int r;

    if (pb == NULL) {
        return PSC_INVALID_ENCODING;
    }
    c = pb->variant_case;
    for (size_t i = 0; i < NELEM(key_type_map); i++) {
        if (key_type_map[i].pb_case != c) {
            continue;
        }
        if ((sub = get_msg(&pb->base, field(pb->base.descriptor, c))) == NULL) {
            return PSC_INVALID_ENCODING;
        }
        switch (key_type_map[i].fam) {
        case FAM_NONE:
            *out = key_type_map[i].psa;
            return 0;
        case FAM_ECC:
            r = map_to_psa(ecc_family_map, NELEM(ecc_family_map),
                           get_enum(sub, field(sub->descriptor, 1)), &fam);
            break;
        default:
            r = map_to_psa(dh_family_map, NELEM(dh_family_map),
                           get_enum(sub, field(sub->descriptor, 1)), &fam);
            break;
        }
        if (r == 0) {
            *out = (psa_key_type_t)(key_type_map[i].psa | fam);
        }
        return r;
    }
    return PSC_INVALID_ENCODING;
}

int conv_key_type_to_pb(psa_key_type_t type, PsaKeyAttributes__KeyType **out)
{
    PsaKeyAttributes__KeyType *m = NULL;
    ProtobufCMessage *sub;
    const struct map *fmap;
    size_t nfam;
    int fam = 0, r = PSC_INVALID_ENCODING;

    *out = NULL;
    for (size_t i = 0; i < NELEM(key_type_map); i++) {
        if (key_type_map[i].fam == FAM_NONE) {
            if (type != key_type_map[i].psa) {
                continue;
            }
        } else if ((type & ~(psa_key_type_t)0xff) != key_type_map[i].psa) {
            continue;
        } else {
            fmap = key_type_map[i].fam == FAM_ECC ? ecc_family_map : dh_family_map;
            nfam = key_type_map[i].fam == FAM_ECC ? NELEM(ecc_family_map) : NELEM(dh_family_map);
            if (map_to_pb(fmap, nfam, type & 0xff, &fam) != 0) {
                goto out;
            }
        }
        if ((m = msg_new(&psa_key_attributes__key_type__descriptor)) == NULL ||
            (sub = set_oneof_msg(&m->base, key_type_map[i].pb_case)) == NULL) {
            goto out;
        }
        if (key_type_map[i].fam != FAM_NONE) {
            *(int *)((uint8_t *)sub + field(sub->descriptor, 1)->offset) = fam;
        }
        *out = m;
        m = NULL;
        r = 0;
        break;
    }
out:
    msg_free(m);
    return r;
}

int conv_attrs_from_pb(const PsaKeyAttributes__KeyAttributes *pb, struct psc_attrs *out)
{
    struct psc_attrs a = {0};
    int r;

    if (pb == NULL || pb->key_policy == NULL) {
        return PSC_INVALID_ENCODING;
    }
    if ((r = conv_key_type_from_pb(pb->key_type, &a.type)) != 0 ||
        (r = conv_usage_from_pb(pb->key_policy->key_usage_flags, &a.usage)) != 0 ||
        (r = conv_alg_from_pb(pb->key_policy->key_algorithm, &a.alg)) != 0) {
        return r;
    }
    a.bits = pb->key_bits;
    *out = a;
    return 0;
}

int conv_attrs_to_pb(const struct psc_attrs *a, PsaKeyAttributes__KeyAttributes **out)
{
    PsaKeyAttributes__KeyAttributes *m = NULL;
    PsaKeyAttributes__KeyPolicy *pol;
    int r = PSC_INVALID_ENCODING;

    *out = NULL;
    if (a->bits > UINT32_MAX) {
        goto out;
    }
    if ((m = msg_new(&psa_key_attributes__key_attributes__descriptor)) == NULL) {
        goto out;
    }
    m->key_bits = (uint32_t)a->bits;
    if ((m->key_policy = pol = msg_new(&psa_key_attributes__key_policy__descriptor)) == NULL ||
        (pol->key_usage_flags = msg_new(&psa_key_attributes__usage_flags__descriptor)) == NULL) {
        goto out;
    }
    if ((r = conv_key_type_to_pb(a->type, &m->key_type)) != 0 ||
        (r = conv_usage_to_pb(a->usage, pol->key_usage_flags)) != 0 ||
        (r = conv_alg_to_pb(a->alg, &pol->key_algorithm)) != 0) {
        goto out;
    }
    *out = m;
    m = NULL;
out:
    msg_free(m);
    return r;
}

/* ---- Deprecated primitives ---------------------------------------------------------------- */

int conv_alg_deprecated(psa_algorithm_t alg)
{
    psa_algorithm_t hash;

    /* Every family with a hash parameter keeps it in the low byte (a key agreement: its KDF's
     * hash); ciphers, AEADs and block-cipher MACs have none. */
    if (PSA_ALG_IS_HASH(alg)) {
        hash = alg;
    } else if (PSA_ALG_IS_HMAC(alg) || PSA_ALG_IS_SIGN(alg) ||
               PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg) || PSA_ALG_IS_KEY_DERIVATION(alg) ||
               PSA_ALG_IS_KEY_AGREEMENT(alg)) {
        hash = PSA_ALG_CATEGORY_HASH | (alg & PSA_ALG_HASH_MASK);
    } else {
        return 0;
    }
    for (size_t i = 0; i < NELEM(deprecated_hashes); i++) {
        if (hash == deprecated_hashes[i]) {
            return 1;
        }
    }
    return 0;
}

int conv_attrs_deprecated(const struct psc_attrs *a)
{
    if (conv_alg_deprecated(a->alg) || a->type == PSA_KEY_TYPE_DES ||
        a->type == PSA_KEY_TYPE_ARC4) {
        return 1;
    }
    if (!PSA_KEY_TYPE_IS_ECC_PUBLIC_KEY(a->type)) {
        return 0;
    }
    for (size_t i = 0; i < NELEM(deprecated_ecc_public); i++) {
        if (PSA_KEY_TYPE_ECC_GET_FAMILY(a->type) == deprecated_ecc_public[i].family &&
            (deprecated_ecc_public[i].bits == 0 || deprecated_ecc_public[i].bits == a->bits)) {
            return 1;
        }
    }
    return 0;
}
