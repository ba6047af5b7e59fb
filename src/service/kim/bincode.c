/* bincode 1.3 of psa-crypto 0.13 Attributes and of KeyInfo (key-info-manager.md §2-§3).
 *
 * Decoding walks the psa-crypto enum tree and builds the PSA value with the Mbed TLS macros.
 * Encoding analyses the PSA value into that tree and then decodes its own output: a value that
 * does not come back identical has no exact psa-crypto form and is refused, so what we store
 * always reads back as what we were given. */
#include "service/kim/bincode.h"

#include <stdlib.h>
#include <string.h>

#include "psa/attrs.h"
#include "wire/status.h"

/* For PSA_KEY_USAGE_CACHE, which Mbed TLS 2.28 predates: one definition for the protobuf and
 * the bincode forms of the usage flags. */
#include "psa/convert.h"

/* Variant indices of the psa-crypto enums (declaration order). */
enum { LIFETIME_VOLATILE, LIFETIME_PERSISTENT, LIFETIME_CUSTOM };
enum {
    ALG_NONE,
    ALG_HASH,
    ALG_MAC,
    ALG_CIPHER,
    ALG_AEAD,
    ALG_ASYM_SIGN,
    ALG_ASYM_ENC,
    ALG_KEY_AGREEMENT,
    ALG_KEY_DERIVATION,
};
enum { MAC_FULL, MAC_TRUNCATED };
enum { FULL_MAC_HMAC, FULL_MAC_CBC, FULL_MAC_CMAC };
enum { AEAD_DEFAULT_TAG, AEAD_SHORT_TAG };
enum { SIGN_HASH_SPECIFIC, SIGN_HASH_ANY };
enum {
    SIGN_RSA_PKCS1V15,
    SIGN_RSA_PKCS1V15_RAW,
    SIGN_RSA_PSS,
    SIGN_ECDSA,
    SIGN_ECDSA_ANY,
    SIGN_DET_ECDSA,
};
enum { ENC_RSA_PKCS1V15, ENC_RSA_OAEP };
enum { KA_RAW, KA_WITH_KDF };
enum { TYPE_ECC_PAIR = 10, TYPE_ECC_PUBLIC, TYPE_DH_PAIR, TYPE_DH_PUBLIC, TYPE_COUNT };

/* A MAC or AEAD tag length lives in a 6-bit field of the PSA encoding. */
#define PSA_LENGTH_FIELD_MAX 63u

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const psa_algorithm_t hashes[] = {
    PSA_ALG_MD2,         PSA_ALG_MD4,      PSA_ALG_MD5,      PSA_ALG_RIPEMD160, PSA_ALG_SHA_1,
    PSA_ALG_SHA_224,     PSA_ALG_SHA_256,  PSA_ALG_SHA_384,  PSA_ALG_SHA_512,   PSA_ALG_SHA_512_224,
    PSA_ALG_SHA_512_256, PSA_ALG_SHA3_224, PSA_ALG_SHA3_256, PSA_ALG_SHA3_384,  PSA_ALG_SHA3_512,
};

static const psa_algorithm_t ciphers[] = {
    PSA_ALG_STREAM_CIPHER,
    PSA_ALG_CTR,
    PSA_ALG_CFB,
    PSA_ALG_OFB,
    PSA_ALG_XTS,
    PSA_ALG_ECB_NO_PADDING,
    PSA_ALG_CBC_NO_PADDING,
    PSA_ALG_CBC_PKCS7,
};

static const psa_algorithm_t aeads[] = {PSA_ALG_CCM, PSA_ALG_GCM, PSA_ALG_CHACHA20_POLY1305};

static const psa_algorithm_t raw_key_agreements[] = {PSA_ALG_FFDH, PSA_ALG_ECDH};

static const psa_algorithm_t kdf_bases[] = {PSA_ALG_HKDF_BASE, PSA_ALG_TLS12_PRF_BASE,
                                            PSA_ALG_TLS12_PSK_TO_MS_BASE};

/* Key types without a parameter, by variant index 0-9. */
static const psa_key_type_t plain_types[] = {
    PSA_KEY_TYPE_RAW_DATA,     PSA_KEY_TYPE_HMAC,     PSA_KEY_TYPE_DERIVE,
    PSA_KEY_TYPE_AES,          PSA_KEY_TYPE_DES,      PSA_KEY_TYPE_CAMELLIA,
    PSA_KEY_TYPE_ARC4,         PSA_KEY_TYPE_CHACHA20, PSA_KEY_TYPE_RSA_PUBLIC_KEY,
    PSA_KEY_TYPE_RSA_KEY_PAIR,
};

static const psa_ecc_family_t ecc_families[] = {
    PSA_ECC_FAMILY_SECP_K1,        PSA_ECC_FAMILY_SECP_R1, PSA_ECC_FAMILY_SECP_R2,
    PSA_ECC_FAMILY_SECT_K1,        PSA_ECC_FAMILY_SECT_R1, PSA_ECC_FAMILY_SECT_R2,
    PSA_ECC_FAMILY_BRAINPOOL_P_R1, PSA_ECC_FAMILY_FRP,     PSA_ECC_FAMILY_MONTGOMERY,
};

static const psa_dh_family_t dh_families[] = {PSA_DH_FAMILY_RFC7919};

/* UsageFlags fields in declaration order. */
static const psa_key_usage_t usage_bits[] = {
    PSA_KEY_USAGE_EXPORT,         PSA_KEY_USAGE_COPY,      PSA_KEY_USAGE_CACHE,
    PSA_KEY_USAGE_ENCRYPT,        PSA_KEY_USAGE_DECRYPT,   PSA_KEY_USAGE_SIGN_MESSAGE,
    PSA_KEY_USAGE_VERIFY_MESSAGE, PSA_KEY_USAGE_SIGN_HASH, PSA_KEY_USAGE_VERIFY_HASH,
    PSA_KEY_USAGE_DERIVE,
};

/* ---- reading ---------------------------------------------------------------------------- */

struct rd {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
    if (r->len - r->off < n)
        return PSC_INVALID_ENCODING;
    *out = r->p + r->off;
    r->off += n;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
    const uint8_t *b;
    if (rd_bytes(r, 4, &b) != 0)
        return PSC_INVALID_ENCODING;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
    const uint8_t *b;
    if (rd_bytes(r, 8, &b) != 0)
        return PSC_INVALID_ENCODING;
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = *v << 8 | b[i];
    return 0;
}

static int rd_bool(struct rd *r, int *v)
{
    const uint8_t *b;
    if (rd_bytes(r, 1, &b) != 0 || b[0] > 1)
        return PSC_INVALID_ENCODING;
    *v = b[0];
    return 0;
}

/* Reads an enum variant index that must be below n. */
static int rd_variant(struct rd *r, size_t n, uint32_t *v)
{
    if (rd_u32(r, v) != 0 || *v >= n)
        return PSC_INVALID_ENCODING;
    return 0;
}

/* A usize length that must fit the 6-bit PSA field. */
static int rd_length_field(struct rd *r, uint32_t *v)
{
    uint64_t l;
    if (rd_u64(r, &l) != 0 || l > PSA_LENGTH_FIELD_MAX)
        return PSC_INVALID_ENCODING;
    *v = (uint32_t)l;
    return 0;
}

static int dec_hash(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    if (rd_variant(r, ARRAY_LEN(hashes), &v) != 0)
        return PSC_INVALID_ENCODING;
    *alg = hashes[v];
    return 0;
}

static int dec_sign_hash(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    if (rd_variant(r, 2, &v) != 0)
        return PSC_INVALID_ENCODING;
    if (v == SIGN_HASH_ANY) {
        *alg = PSA_ALG_ANY_HASH;
        return 0;
    }
    return dec_hash(r, alg);
}

static int dec_full_mac(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    psa_algorithm_t h;
    if (rd_variant(r, 3, &v) != 0)
        return PSC_INVALID_ENCODING;
    switch (v) {
    case FULL_MAC_HMAC:
        if (dec_hash(r, &h) != 0)
            return PSC_INVALID_ENCODING;
        *alg = PSA_ALG_HMAC(h);
        return 0;
    case FULL_MAC_CBC:
        *alg = PSA_ALG_CBC_MAC;
        return 0;
    default:
        *alg = PSA_ALG_CMAC;
        return 0;
    }
}

static int dec_mac(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v, l;
    if (rd_variant(r, 2, &v) != 0 || dec_full_mac(r, alg) != 0)
        return PSC_INVALID_ENCODING;
    if (v == MAC_TRUNCATED) {
        if (rd_length_field(r, &l) != 0)
            return PSC_INVALID_ENCODING;
        *alg = PSA_ALG_TRUNCATED_MAC(*alg, l);
    }
    return 0;
}

static int dec_aead(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v, a, l;
    if (rd_variant(r, 2, &v) != 0 || rd_variant(r, ARRAY_LEN(aeads), &a) != 0)
        return PSC_INVALID_ENCODING;
    *alg = aeads[a];
    if (v == AEAD_SHORT_TAG) {
        if (rd_length_field(r, &l) != 0)
            return PSC_INVALID_ENCODING;
        *alg = PSA_ALG_AEAD_WITH_SHORTENED_TAG(*alg, l);
    }
    return 0;
}

static int dec_sign(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    psa_algorithm_t h = 0;
    if (rd_variant(r, 6, &v) != 0)
        return PSC_INVALID_ENCODING;
    if (v != SIGN_RSA_PKCS1V15_RAW && v != SIGN_ECDSA_ANY && dec_sign_hash(r, &h) != 0)
        return PSC_INVALID_ENCODING;
    switch (v) {
    case SIGN_RSA_PKCS1V15:
        *alg = PSA_ALG_RSA_PKCS1V15_SIGN(h);
        break;
    case SIGN_RSA_PKCS1V15_RAW:
        *alg = PSA_ALG_RSA_PKCS1V15_SIGN_RAW;
        break;
    case SIGN_RSA_PSS:
        *alg = PSA_ALG_RSA_PSS(h);
        break;
    case SIGN_ECDSA:
        *alg = PSA_ALG_ECDSA(h);
        break;
    case SIGN_ECDSA_ANY:
        *alg = PSA_ALG_ECDSA_ANY;
        break;
    default:
        *alg = PSA_ALG_DETERMINISTIC_ECDSA(h);
        break;
    }
    return 0;
}

static int dec_asym_enc(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    psa_algorithm_t h;
    if (rd_variant(r, 2, &v) != 0)
        return PSC_INVALID_ENCODING;
    if (v == ENC_RSA_PKCS1V15) {
        *alg = PSA_ALG_RSA_PKCS1V15_CRYPT;
        return 0;
    }
    if (dec_hash(r, &h) != 0)
        return PSC_INVALID_ENCODING;
    *alg = PSA_ALG_RSA_OAEP(h);
    return 0;
}

static int dec_kdf(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    psa_algorithm_t h;
    if (rd_variant(r, ARRAY_LEN(kdf_bases), &v) != 0 || dec_hash(r, &h) != 0)
        return PSC_INVALID_ENCODING;
    *alg = kdf_bases[v] | (h & PSA_ALG_HASH_MASK);
    return 0;
}

static int dec_key_agreement(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v, ka;
    psa_algorithm_t kdf;
    if (rd_variant(r, 2, &v) != 0 || rd_variant(r, ARRAY_LEN(raw_key_agreements), &ka) != 0)
        return PSC_INVALID_ENCODING;
    *alg = raw_key_agreements[ka];
    if (v == KA_WITH_KDF) {
        if (dec_kdf(r, &kdf) != 0)
            return PSC_INVALID_ENCODING;
        *alg = PSA_ALG_KEY_AGREEMENT(*alg, kdf);
    }
    return 0;
}

static int dec_alg(struct rd *r, psa_algorithm_t *alg)
{
    uint32_t v;
    if (rd_variant(r, 9, &v) != 0)
        return PSC_INVALID_ENCODING;
    switch (v) {
    case ALG_NONE:
        *alg = PSA_ALG_NONE;
        return 0;
    case ALG_HASH:
        return dec_hash(r, alg);
    case ALG_MAC:
        return dec_mac(r, alg);
    case ALG_CIPHER:
        if (rd_variant(r, ARRAY_LEN(ciphers), &v) != 0)
            return PSC_INVALID_ENCODING;
        *alg = ciphers[v];
        return 0;
    case ALG_AEAD:
        return dec_aead(r, alg);
    case ALG_ASYM_SIGN:
        return dec_sign(r, alg);
    case ALG_ASYM_ENC:
        return dec_asym_enc(r, alg);
    case ALG_KEY_AGREEMENT:
        return dec_key_agreement(r, alg);
    default:
        return dec_kdf(r, alg);
    }
}

static int dec_type(struct rd *r, psa_key_type_t *type)
{
    uint32_t v, f;
    if (rd_variant(r, TYPE_COUNT, &v) != 0)
        return PSC_INVALID_ENCODING;
    if (v < ARRAY_LEN(plain_types)) {
        *type = plain_types[v];
        return 0;
    }
    if (v == TYPE_ECC_PAIR || v == TYPE_ECC_PUBLIC) {
        if (rd_variant(r, ARRAY_LEN(ecc_families), &f) != 0)
            return PSC_INVALID_ENCODING;
        *type = v == TYPE_ECC_PAIR ? PSA_KEY_TYPE_ECC_KEY_PAIR(ecc_families[f])
                                   : PSA_KEY_TYPE_ECC_PUBLIC_KEY(ecc_families[f]);
        return 0;
    }
    if (rd_variant(r, ARRAY_LEN(dh_families), &f) != 0)
        return PSC_INVALID_ENCODING;
    *type = v == TYPE_DH_PAIR ? PSA_KEY_TYPE_DH_KEY_PAIR(dh_families[f])
                              : PSA_KEY_TYPE_DH_PUBLIC_KEY(dh_families[f]);
    return 0;
}

static int dec_attrs(struct rd *r, struct psc_attrs *a)
{
    uint32_t v, custom;
    uint64_t bits;
    int set;
    struct psc_attrs out = {0};

    /* The lifetime is always Persistent in what the service writes; psc_attrs has no room for
     * it and every form is well-formed bincode, so it is read and dropped. */
    if (rd_variant(r, 3, &v) != 0)
        return PSC_INVALID_ENCODING;
    if (v == LIFETIME_CUSTOM && rd_u32(r, &custom) != 0)
        return PSC_INVALID_ENCODING;
    if (dec_type(r, &out.type) != 0 || rd_u64(r, &bits) != 0)
        return PSC_INVALID_ENCODING;
    /* Key sizes travel as uint32 in every request, so no mapping can hold a larger one. */
    if (bits > UINT32_MAX)
        return PSC_INVALID_ENCODING;
    out.bits = (size_t)bits;
    for (size_t i = 0; i < ARRAY_LEN(usage_bits); i++) {
        if (rd_bool(r, &set) != 0)
            return PSC_INVALID_ENCODING;
        if (set)
            out.usage |= usage_bits[i];
    }
    if (dec_alg(r, &out.alg) != 0)
        return PSC_INVALID_ENCODING;
    *a = out;
    return 0;
}

int bincode_attrs_decode(const uint8_t *in, size_t len, struct psc_attrs *a, size_t *used)
{
    struct rd r = {in, len, 0};
    int rc;

    if (in == NULL && len != 0)
        return PSC_INVALID_ENCODING;
    rc = dec_attrs(&r, a);
    if (rc == 0 && used != NULL)
        *used = r.off;
    return rc;
}

/* ---- writing ---------------------------------------------------------------------------- */

struct wr {
    uint8_t *p;
    size_t cap;
    size_t off;
    int overflow;
};

static void wr_bytes(struct wr *w, const uint8_t *b, size_t n)
{
    if (w->overflow || w->cap - w->off < n) {
        w->overflow = 1;
        return;
    }
    if (n != 0)
        memcpy(w->p + w->off, b, n);
    w->off += n;
}

static void wr_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wr_bytes(w, b, sizeof(b));
}

static void wr_u64(struct wr *w, uint64_t v)
{
    uint8_t b[8];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(v >> (8 * i));
    wr_bytes(w, b, sizeof(b));
}

static void wr_u8(struct wr *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

static int index_of(const psa_algorithm_t *tab, size_t n, psa_algorithm_t v)
{
    for (size_t i = 0; i < n; i++)
        if (tab[i] == v)
            return (int)i;
    return -1;
}

static int enc_hash(struct wr *w, psa_algorithm_t h)
{
    int i = index_of(hashes, ARRAY_LEN(hashes), h);
    if (i < 0)
        return PSC_PSA_NOT_SUPPORTED;
    wr_u32(w, (uint32_t)i);
    return 0;
}

/* The hash carried in the low byte of a hash-and-sign, OAEP or KDF algorithm. */
static psa_algorithm_t low_hash(psa_algorithm_t alg)
{
    return PSA_ALG_CATEGORY_HASH | (alg & PSA_ALG_HASH_MASK);
}

static int enc_sign_hash(struct wr *w, psa_algorithm_t alg)
{
    if (low_hash(alg) == PSA_ALG_ANY_HASH) {
        wr_u32(w, SIGN_HASH_ANY);
        return 0;
    }
    wr_u32(w, SIGN_HASH_SPECIFIC);
    return enc_hash(w, low_hash(alg));
}

static int enc_full_mac(struct wr *w, psa_algorithm_t alg)
{
    if (alg == PSA_ALG_CBC_MAC) {
        wr_u32(w, FULL_MAC_CBC);
        return 0;
    }
    if (alg == PSA_ALG_CMAC) {
        wr_u32(w, FULL_MAC_CMAC);
        return 0;
    }
    if (!PSA_ALG_IS_HMAC(alg))
        return PSC_PSA_NOT_SUPPORTED;
    wr_u32(w, FULL_MAC_HMAC);
    return enc_hash(w, PSA_ALG_HMAC_GET_HASH(alg));
}

static int enc_mac(struct wr *w, psa_algorithm_t alg)
{
    uint32_t l = PSA_MAC_TRUNCATED_LENGTH(alg);
    int rc;

    wr_u32(w, l == 0 ? MAC_FULL : MAC_TRUNCATED);
    rc = enc_full_mac(w, PSA_ALG_FULL_LENGTH_MAC(alg));
    if (rc == 0 && l != 0)
        wr_u64(w, l);
    return rc;
}

static int enc_aead(struct wr *w, psa_algorithm_t alg)
{
    psa_algorithm_t base = PSA_ALG_AEAD_WITH_SHORTENED_TAG(alg, 0);
    int i = -1;

    for (size_t k = 0; k < ARRAY_LEN(aeads); k++)
        if (PSA_ALG_AEAD_WITH_SHORTENED_TAG(aeads[k], 0) == base)
            i = (int)k;
    if (i < 0)
        return PSC_PSA_NOT_SUPPORTED;
    if (alg == aeads[i]) {
        wr_u32(w, AEAD_DEFAULT_TAG);
        wr_u32(w, (uint32_t)i);
    } else {
        wr_u32(w, AEAD_SHORT_TAG);
        wr_u32(w, (uint32_t)i);
        wr_u64(w, PSA_ALG_AEAD_GET_TAG_LENGTH(alg));
    }
    return 0;
}

static int enc_sign(struct wr *w, psa_algorithm_t alg)
{
    psa_algorithm_t base = alg & ~PSA_ALG_HASH_MASK;
    uint32_t v;

    if (alg == PSA_ALG_RSA_PKCS1V15_SIGN_RAW) {
        wr_u32(w, SIGN_RSA_PKCS1V15_RAW);
        return 0;
    }
    if (alg == PSA_ALG_ECDSA_ANY) {
        wr_u32(w, SIGN_ECDSA_ANY);
        return 0;
    }
    if (base == PSA_ALG_RSA_PKCS1V15_SIGN_BASE)
        v = SIGN_RSA_PKCS1V15;
    else if (base == PSA_ALG_RSA_PSS_BASE)
        v = SIGN_RSA_PSS;
    else if (base == PSA_ALG_ECDSA_BASE)
        v = SIGN_ECDSA;
    else if (base == PSA_ALG_DETERMINISTIC_ECDSA_BASE)
        v = SIGN_DET_ECDSA;
    else
        return PSC_PSA_NOT_SUPPORTED;
    wr_u32(w, v);
    return enc_sign_hash(w, alg);
}

static int enc_kdf(struct wr *w, psa_algorithm_t alg)
{
    int i = index_of(kdf_bases, ARRAY_LEN(kdf_bases), alg & ~PSA_ALG_HASH_MASK);
    if (i < 0)
        return PSC_PSA_NOT_SUPPORTED;
    wr_u32(w, (uint32_t)i);
    return enc_hash(w, low_hash(alg));
}

static int enc_key_agreement(struct wr *w, psa_algorithm_t alg)
{
    int ka = index_of(raw_key_agreements, ARRAY_LEN(raw_key_agreements),
                      PSA_ALG_KEY_AGREEMENT_GET_BASE(alg));
    if (ka < 0)
        return PSC_PSA_NOT_SUPPORTED;
    if (PSA_ALG_IS_RAW_KEY_AGREEMENT(alg)) {
        wr_u32(w, KA_RAW);
        wr_u32(w, (uint32_t)ka);
        return 0;
    }
    wr_u32(w, KA_WITH_KDF);
    wr_u32(w, (uint32_t)ka);
    return enc_kdf(w, PSA_ALG_KEY_AGREEMENT_GET_KDF(alg));
}

static int enc_alg(struct wr *w, psa_algorithm_t alg)
{
    int i;

    if (alg == PSA_ALG_NONE) {
        wr_u32(w, ALG_NONE);
        return 0;
    }
    if (PSA_ALG_IS_VENDOR_DEFINED(alg))
        return PSC_PSA_NOT_SUPPORTED;
    if (PSA_ALG_IS_HASH(alg)) {
        wr_u32(w, ALG_HASH);
        return enc_hash(w, alg);
    }
    if (PSA_ALG_IS_MAC(alg)) {
        wr_u32(w, ALG_MAC);
        return enc_mac(w, alg);
    }
    if (PSA_ALG_IS_CIPHER(alg)) {
        i = index_of(ciphers, ARRAY_LEN(ciphers), alg);
        if (i < 0)
            return PSC_PSA_NOT_SUPPORTED;
        wr_u32(w, ALG_CIPHER);
        wr_u32(w, (uint32_t)i);
        return 0;
    }
    if (PSA_ALG_IS_AEAD(alg)) {
        wr_u32(w, ALG_AEAD);
        return enc_aead(w, alg);
    }
    if (PSA_ALG_IS_SIGN(alg)) {
        wr_u32(w, ALG_ASYM_SIGN);
        return enc_sign(w, alg);
    }
    if (PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg)) {
        wr_u32(w, ALG_ASYM_ENC);
        if (alg == PSA_ALG_RSA_PKCS1V15_CRYPT) {
            wr_u32(w, ENC_RSA_PKCS1V15);
            return 0;
        }
        if (!PSA_ALG_IS_RSA_OAEP(alg))
            return PSC_PSA_NOT_SUPPORTED;
        wr_u32(w, ENC_RSA_OAEP);
        return enc_hash(w, low_hash(alg));
    }
    if (PSA_ALG_IS_KEY_AGREEMENT(alg)) {
        wr_u32(w, ALG_KEY_AGREEMENT);
        return enc_key_agreement(w, alg);
    }
    if (PSA_ALG_IS_KEY_DERIVATION(alg)) {
        wr_u32(w, ALG_KEY_DERIVATION);
        return enc_kdf(w, alg);
    }
    return PSC_PSA_NOT_SUPPORTED;
}

static int enc_type(struct wr *w, psa_key_type_t type)
{
    for (size_t i = 0; i < ARRAY_LEN(plain_types); i++) {
        if (plain_types[i] == type) {
            wr_u32(w, (uint32_t)i);
            return 0;
        }
    }
    if (PSA_KEY_TYPE_IS_ECC(type)) {
        psa_ecc_family_t f = PSA_KEY_TYPE_ECC_GET_FAMILY(type);
        for (size_t i = 0; i < ARRAY_LEN(ecc_families); i++) {
            if (ecc_families[i] == f) {
                wr_u32(w, PSA_KEY_TYPE_IS_ECC_KEY_PAIR(type) ? TYPE_ECC_PAIR : TYPE_ECC_PUBLIC);
                wr_u32(w, (uint32_t)i);
                return 0;
            }
        }
    }
    if (PSA_KEY_TYPE_IS_DH(type)) {
        psa_dh_family_t f = PSA_KEY_TYPE_DH_GET_FAMILY(type);
        for (size_t i = 0; i < ARRAY_LEN(dh_families); i++) {
            if (dh_families[i] == f) {
                wr_u32(w, PSA_KEY_TYPE_IS_DH_KEY_PAIR(type) ? TYPE_DH_PAIR : TYPE_DH_PUBLIC);
                wr_u32(w, (uint32_t)i);
                return 0;
            }
        }
    }
    return PSC_PSA_NOT_SUPPORTED;
}

int bincode_attrs_encode(const struct psc_attrs *a, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t buf[BINCODE_ATTRS_MAX];
    struct wr w = {buf, sizeof(buf), 0, 0};
    psa_key_usage_t known = 0;
    struct psc_attrs back;
    int rc;

    if (a->bits > UINT32_MAX)
        return PSC_PSA_NOT_SUPPORTED;
    for (size_t i = 0; i < ARRAY_LEN(usage_bits); i++)
        known |= usage_bits[i];
    if ((a->usage & ~known) != 0)
        return PSC_PSA_NOT_SUPPORTED;

    wr_u32(&w, LIFETIME_PERSISTENT);
    rc = enc_type(&w, a->type);
    if (rc != 0)
        return rc;
    wr_u64(&w, a->bits);
    for (size_t i = 0; i < ARRAY_LEN(usage_bits); i++)
        wr_u8(&w, (a->usage & usage_bits[i]) != 0);
    rc = enc_alg(&w, a->alg);
    if (rc != 0)
        return rc;
    if (w.overflow)
        return PSC_PSA_NOT_SUPPORTED;

    /* Values such as RSA-PSS with any salt or an at-least-this-length MAC share a tree shape
     * with a storable value; only an exact read-back proves the bytes mean the input. */
    if (bincode_attrs_decode(buf, w.off, &back, NULL) != 0 || back.type != a->type ||
        back.bits != a->bits || back.usage != a->usage || back.alg != a->alg)
        return PSC_PSA_NOT_SUPPORTED;

    if (cap < w.off)
        return PSC_PSA_BUFFER_TOO_SMALL;
    memcpy(out, buf, w.off);
    *len = w.off;
    return 0;
}

/* ---- KeyInfo ---------------------------------------------------------------------------- */

int bincode_key_info_encode(const struct kim_info *info, uint8_t **out, size_t *len)
{
    uint8_t attrs[BINCODE_ATTRS_MAX];
    size_t attrs_len, total;
    struct wr w;
    uint8_t *buf;
    int rc;

    *out = NULL;
    *len = 0;
    if (info->id_len > BINCODE_KEY_ID_MAX || (info->id == NULL && info->id_len != 0))
        return PSC_PSA_INVALID_ARGUMENT;
    rc = bincode_attrs_encode(&info->attrs, attrs, sizeof(attrs), &attrs_len);
    if (rc != 0)
        return rc;
    total = 8 + info->id_len + attrs_len;
    buf = malloc(total);
    if (buf == NULL)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    w = (struct wr){buf, total, 0, 0};
    wr_u64(&w, info->id_len);
    wr_bytes(&w, info->id, info->id_len);
    wr_bytes(&w, attrs, attrs_len);
    *out = buf;
    *len = w.off;
    return 0;
}

int bincode_key_info_decode(const uint8_t *in, size_t len, struct kim_info *info, size_t *used)
{
    struct rd r = {in, len, 0};
    struct psc_attrs attrs;
    const uint8_t *id;
    uint64_t id_len;
    uint8_t *copy = NULL;

    memset(info, 0, sizeof(*info));
    if (in == NULL && len != 0)
        return PSC_INVALID_ENCODING;
    if (rd_u64(&r, &id_len) != 0 || id_len > BINCODE_KEY_ID_MAX ||
        rd_bytes(&r, (size_t)id_len, &id) != 0 || dec_attrs(&r, &attrs) != 0)
        return PSC_INVALID_ENCODING;
    /* malloc(0) may return NULL: keep a one-byte buffer so a non-NULL id means success. */
    copy = malloc(id_len != 0 ? (size_t)id_len : 1);
    if (copy == NULL)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    if (id_len != 0)
        memcpy(copy, id, (size_t)id_len);
    info->id = copy;
    info->id_len = (size_t)id_len;
    info->attrs = attrs;
    if (used != NULL)
        *used = r.off;
    return 0;
}
