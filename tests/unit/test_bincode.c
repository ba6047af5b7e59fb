/* bincode of psa-crypto Attributes and KeyInfo: the spec's worked examples, every variant of
 * every enum against its index, round trips, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psa/attrs.h"
#include "service/kim/bincode.h"
#include "service/kim/kim.h"
#include "wire/status.h"

/* key-info-manager.md §3: RSA-2048 key pair, encrypt + decrypt, PKCS#1 v1.5 encryption. The
 * spec calls it 38 bytes, which counts the 4-byte key id in front of it: the fixture file
 * below is 8 (id length) + 4 (id) + 34. */
static const uint8_t rsa_attrs[] = {
    0x01, 0x00, 0x00, 0x00,                                     /* Persistent */
    0x09, 0x00, 0x00, 0x00,                                     /* RsaKeyPair */
    0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 2048 */
    0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* encrypt, decrypt */
    0x06, 0x00, 0x00, 0x00,                                     /* AsymmetricEncryption */
    0x00, 0x00, 0x00, 0x00,                                     /* RsaPkcs1v15Crypt */
};

/* §6.2: e2e_tests/fake_mappings/cGFyc2VjLXRvb2w=/1/dG90bw== */
static const uint8_t fixture_mbed[46] = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* len(id) */
    0x04, 0x00, 0x00, 0x00,                         /* PSA key id 4 */
    0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const struct psc_attrs rsa = {
    .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
    .bits = 2048,
    .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
    .alg = PSA_ALG_RSA_PKCS1V15_CRYPT,
};

/* ---- byte builder ------------------------------------------------------------------------ */

struct bytes {
    uint8_t b[128];
    size_t n;
};

static void put_u32(struct bytes *x, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct bytes *x, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}

static void put_u8(struct bytes *x, uint8_t v)
{
    x->b[x->n++] = v;
}

/* Attributes header up to (excluding) the algorithm: Persistent, given type tokens, bits,
 * usage bools. */
static void put_head(struct bytes *x, const uint32_t *type, size_t ntype, uint64_t bits,
                     const uint8_t usage[10])
{
    put_u32(x, 1);
    for (size_t i = 0; i < ntype; i++)
        put_u32(x, type[i]);
    put_u64(x, bits);
    for (int i = 0; i < 10; i++)
        put_u8(x, usage[i]);
}

static const uint32_t raw_type[] = {0};
static const uint8_t no_usage[10] = {0};

static void expect_decode_fails(const uint8_t *b, size_t n)
{
    struct psc_attrs a;
    assert_int_equal(bincode_attrs_decode(b, n, &a, NULL), PSC_INVALID_ENCODING);
}

/* ---- worked examples --------------------------------------------------------------------- */

static void test_rsa_example(void **state)
{
    uint8_t out[BINCODE_ATTRS_MAX];
    struct psc_attrs a;
    size_t n = 0, used = 0;

    (void)state;
    assert_int_equal(bincode_attrs_encode(&rsa, out, sizeof(out), &n), 0);
    assert_int_equal(n, sizeof(rsa_attrs));
    assert_memory_equal(out, rsa_attrs, sizeof(rsa_attrs));

    assert_int_equal(bincode_attrs_decode(rsa_attrs, sizeof(rsa_attrs), &a, &used), 0);
    assert_int_equal(used, sizeof(rsa_attrs));
    assert_int_equal(a.type, rsa.type);
    assert_int_equal(a.bits, rsa.bits);
    assert_int_equal(a.usage, rsa.usage);
    assert_int_equal(a.alg, rsa.alg);

    /* Too small an output buffer. */
    assert_int_equal(sizeof(rsa_attrs), 34);
    assert_int_equal(bincode_attrs_encode(&rsa, out, 33, &n), PSC_PSA_BUFFER_TOO_SMALL);
}

static void check_fixture(const uint8_t *file, size_t len, const uint8_t id[4])
{
    struct kim_info info;
    uint8_t *enc = NULL;
    size_t enc_len = 0, used = 0;

    assert_int_equal(bincode_key_info_decode(file, len, &info, &used), 0);
    assert_int_equal(used, 46);
    assert_int_equal(info.id_len, 4);
    assert_memory_equal(info.id, id, 4);
    assert_int_equal(info.attrs.type, PSA_KEY_TYPE_RSA_KEY_PAIR);
    assert_int_equal(info.attrs.bits, 2048);
    assert_int_equal(info.attrs.usage, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    assert_int_equal(info.attrs.alg, PSA_ALG_RSA_PKCS1V15_CRYPT);

    assert_int_equal(bincode_key_info_encode(&info, &enc, &enc_len), 0);
    assert_int_equal(enc_len, 46);
    assert_memory_equal(enc, file, 46);
    free(enc);
    kim_info_clear(&info);
    assert_null(info.id);
}

static void test_fixture_files(void **state)
{
    static const uint8_t mbed_id[4] = {0x04, 0x00, 0x00, 0x00};
    static const uint8_t pkcs11_id[4] = {0x77, 0x1d, 0xba, 0x76};
    uint8_t pkcs11[46];

    (void)state;
    check_fixture(fixture_mbed, sizeof(fixture_mbed), mbed_id);
    memcpy(pkcs11, fixture_mbed, sizeof(pkcs11));
    memcpy(pkcs11 + 8, pkcs11_id, 4);
    check_fixture(pkcs11, sizeof(pkcs11), pkcs11_id);
    /* PKCS#11 id 0x76ba1d77 is stored as a little-endian u32. */
    assert_int_equal((uint32_t)pkcs11_id[0] | (uint32_t)pkcs11_id[1] << 8 |
                         (uint32_t)pkcs11_id[2] << 16 | (uint32_t)pkcs11_id[3] << 24,
                     0x76ba1d77);
}

static void test_ecdsa_example(void **state)
{
    static const uint8_t expected[] = {
        0x01, 0x00, 0x00, 0x00,                                     /* Persistent */
        0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,             /* EccKeyPair { SecpR1 } */
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 256 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, /* sign/verify hash */
        0x05, 0x00, 0x00, 0x00,                                     /* AsymmetricSignature */
        0x03, 0x00, 0x00, 0x00,                                     /* Ecdsa */
        0x00, 0x00, 0x00, 0x00,                                     /* SignHash::Specific */
        0x06, 0x00, 0x00, 0x00,                                     /* Sha256 */
    };
    const struct psc_attrs ecc = {
        .type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
        .bits = 256,
        .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
        .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256),
    };
    uint8_t out[BINCODE_ATTRS_MAX];
    struct psc_attrs a;
    size_t n;

    (void)state;
    assert_int_equal(bincode_attrs_encode(&ecc, out, sizeof(out), &n), 0);
    assert_int_equal(n, sizeof(expected));
    assert_memory_equal(out, expected, sizeof(expected));
    assert_int_equal(bincode_attrs_decode(expected, sizeof(expected), &a, NULL), 0);
    assert_memory_equal(&a, &ecc, sizeof(a));
}

/* ---- every algorithm variant ------------------------------------------------------------- */

#define NO_LEN UINT64_MAX

struct alg_case {
    psa_algorithm_t alg;
    uint32_t tok[6];
    size_t ntok;
    uint64_t len; /* trailing usize, NO_LEN if none */
};

static const psa_algorithm_t hash_list[15] = {
    PSA_ALG_MD2,         PSA_ALG_MD4,      PSA_ALG_MD5,      PSA_ALG_RIPEMD160, PSA_ALG_SHA_1,
    PSA_ALG_SHA_224,     PSA_ALG_SHA_256,  PSA_ALG_SHA_384,  PSA_ALG_SHA_512,   PSA_ALG_SHA_512_224,
    PSA_ALG_SHA_512_256, PSA_ALG_SHA3_224, PSA_ALG_SHA3_256, PSA_ALG_SHA3_384,  PSA_ALG_SHA3_512,
};

static const psa_algorithm_t cipher_list[8] = {
    PSA_ALG_STREAM_CIPHER,
    PSA_ALG_CTR,
    PSA_ALG_CFB,
    PSA_ALG_OFB,
    PSA_ALG_XTS,
    PSA_ALG_ECB_NO_PADDING,
    PSA_ALG_CBC_NO_PADDING,
    PSA_ALG_CBC_PKCS7,
};

static const struct alg_case fixed_cases[] = {
    {PSA_ALG_NONE, {0}, 1, NO_LEN},
    {PSA_ALG_HMAC(PSA_ALG_SHA_256), {2, 0, 0, 6}, 4, NO_LEN},
    {PSA_ALG_HMAC(PSA_ALG_SHA3_512), {2, 0, 0, 14}, 4, NO_LEN},
    {PSA_ALG_CBC_MAC, {2, 0, 1}, 3, NO_LEN},
    {PSA_ALG_CMAC, {2, 0, 2}, 3, NO_LEN},
    {PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 16), {2, 1, 0, 6}, 4, 16},
    {PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 32), {2, 1, 0, 6}, 4, 32},
    {PSA_ALG_TRUNCATED_MAC(PSA_ALG_CBC_MAC, 4), {2, 1, 1}, 3, 4},
    {PSA_ALG_TRUNCATED_MAC(PSA_ALG_CMAC, 63), {2, 1, 2}, 3, 63},
    {PSA_ALG_CCM, {4, 0, 0}, 3, NO_LEN},
    {PSA_ALG_GCM, {4, 0, 1}, 3, NO_LEN},
    {PSA_ALG_CHACHA20_POLY1305, {4, 0, 2}, 3, NO_LEN},
    {PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8), {4, 1, 0}, 3, 8},
    {PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 12), {4, 1, 1}, 3, 12},
    {PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CHACHA20_POLY1305, 4), {4, 1, 2}, 3, 4},
    {PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), {5, 0, 0, 6}, 4, NO_LEN},
    {PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH), {5, 0, 1}, 3, NO_LEN},
    {PSA_ALG_RSA_PKCS1V15_SIGN_RAW, {5, 1}, 2, NO_LEN},
    {PSA_ALG_RSA_PSS(PSA_ALG_SHA_384), {5, 2, 0, 7}, 4, NO_LEN},
    {PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH), {5, 2, 1}, 3, NO_LEN},
    {PSA_ALG_ECDSA(PSA_ALG_SHA_256), {5, 3, 0, 6}, 4, NO_LEN},
    {PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), {5, 3, 1}, 3, NO_LEN},
    {PSA_ALG_ECDSA_ANY, {5, 4}, 2, NO_LEN},
    {PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_512), {5, 5, 0, 8}, 4, NO_LEN},
    {PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_ANY_HASH), {5, 5, 1}, 3, NO_LEN},
    {PSA_ALG_RSA_PKCS1V15_CRYPT, {6, 0}, 2, NO_LEN},
    {PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), {6, 1, 6}, 3, NO_LEN},
    {PSA_ALG_RSA_OAEP(PSA_ALG_SHA_1), {6, 1, 4}, 3, NO_LEN},
    {PSA_ALG_FFDH, {7, 0, 0}, 3, NO_LEN},
    {PSA_ALG_ECDH, {7, 0, 1}, 3, NO_LEN},
    {PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)),
     {7, 1, 1, 0, 6},
     5,
     NO_LEN},
    {PSA_ALG_KEY_AGREEMENT(PSA_ALG_FFDH, PSA_ALG_TLS12_PRF(PSA_ALG_SHA_384)),
     {7, 1, 0, 1, 7},
     5,
     NO_LEN},
    {PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_512)),
     {7, 1, 1, 2, 8},
     5,
     NO_LEN},
    {PSA_ALG_HKDF(PSA_ALG_SHA_256), {8, 0, 6}, 3, NO_LEN},
    {PSA_ALG_TLS12_PRF(PSA_ALG_SHA_256), {8, 1, 6}, 3, NO_LEN},
    {PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_384), {8, 2, 7}, 3, NO_LEN},
};

/* Encodes alg with RawData attributes and checks the bytes after the header against the
 * tokens; then decodes back. */
static void check_alg(psa_algorithm_t alg, const uint32_t *tok, size_t ntok, uint64_t len)
{
    struct psc_attrs in = {.type = PSA_KEY_TYPE_RAW_DATA, .bits = 8, .alg = alg}, back;
    struct bytes want = {0};
    uint8_t out[BINCODE_ATTRS_MAX];
    size_t n = 0, used = 0;
    int rc;

    put_head(&want, raw_type, 1, 8, no_usage);
    for (size_t i = 0; i < ntok; i++)
        put_u32(&want, tok[i]);
    if (len != NO_LEN)
        put_u64(&want, len);

    rc = bincode_attrs_encode(&in, out, sizeof(out), &n);
    if (rc != 0)
        fail_msg("algorithm 0x%08x not encodable (%d)", alg, rc);
    assert_int_equal(n, want.n);
    assert_memory_equal(out, want.b, n);
    assert_int_equal(bincode_attrs_decode(want.b, want.n, &back, &used), 0);
    assert_int_equal(used, want.n);
    assert_int_equal(back.alg, alg);
    /* Cut anywhere inside the algorithm, the value is refused. */
    for (size_t cut = want.n - 4 * ntok - (len != NO_LEN ? 8 : 0); cut < want.n; cut++)
        expect_decode_fails(want.b, cut);
}

static void test_every_algorithm(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fixed_cases) / sizeof(fixed_cases[0]); i++)
        check_alg(fixed_cases[i].alg, fixed_cases[i].tok, fixed_cases[i].ntok, fixed_cases[i].len);
    for (uint32_t h = 0; h < 15; h++) {
        uint32_t t_hash[] = {1, h};
        uint32_t t_hmac[] = {2, 0, 0, h};
        uint32_t t_pkcs1[] = {5, 0, 0, h};
        uint32_t t_pss[] = {5, 2, 0, h};
        uint32_t t_ecdsa[] = {5, 3, 0, h};
        uint32_t t_det[] = {5, 5, 0, h};
        uint32_t t_oaep[] = {6, 1, h};
        uint32_t t_hkdf[] = {8, 0, h};
        uint32_t t_prf[] = {8, 1, h};
        uint32_t t_psk[] = {8, 2, h};
        uint32_t t_ka[] = {7, 1, 1, 0, h};
        psa_algorithm_t a = hash_list[h];
        check_alg(a, t_hash, 2, NO_LEN);
        check_alg(PSA_ALG_HMAC(a), t_hmac, 4, NO_LEN);
        check_alg(PSA_ALG_RSA_PKCS1V15_SIGN(a), t_pkcs1, 4, NO_LEN);
        check_alg(PSA_ALG_RSA_PSS(a), t_pss, 4, NO_LEN);
        check_alg(PSA_ALG_ECDSA(a), t_ecdsa, 4, NO_LEN);
        check_alg(PSA_ALG_DETERMINISTIC_ECDSA(a), t_det, 4, NO_LEN);
        check_alg(PSA_ALG_RSA_OAEP(a), t_oaep, 3, NO_LEN);
        check_alg(PSA_ALG_HKDF(a), t_hkdf, 3, NO_LEN);
        check_alg(PSA_ALG_TLS12_PRF(a), t_prf, 3, NO_LEN);
        check_alg(PSA_ALG_TLS12_PSK_TO_MS(a), t_psk, 3, NO_LEN);
        check_alg(PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(a)), t_ka, 5, NO_LEN);
    }
    for (uint32_t c = 0; c < 8; c++) {
        uint32_t t[] = {3, c};
        check_alg(cipher_list[c], t, 2, NO_LEN);
    }
}

/* Encodings psa-crypto can write but that name a PSA value another encoding also names:
 * they decode to that value (a zero-length truncation is the full MAC, a GCM tag shortened
 * to its default 16 bytes is GCM). */
static void test_equivalent_forms(void **state)
{
    struct bytes x = {0};
    struct psc_attrs a;

    (void)state;
    put_head(&x, raw_type, 1, 8, no_usage);
    put_u32(&x, 2), put_u32(&x, 1), put_u32(&x, 0), put_u32(&x, 6), put_u64(&x, 0);
    assert_int_equal(bincode_attrs_decode(x.b, x.n, &a, NULL), 0);
    assert_int_equal(a.alg, PSA_ALG_HMAC(PSA_ALG_SHA_256));

    x.n = 0;
    put_head(&x, raw_type, 1, 8, no_usage);
    put_u32(&x, 4), put_u32(&x, 1), put_u32(&x, 1), put_u64(&x, 16);
    assert_int_equal(bincode_attrs_decode(x.b, x.n, &a, NULL), 0);
    assert_int_equal(a.alg, PSA_ALG_GCM);
}

/* ---- key types, usage, lifetime ---------------------------------------------------------- */

static void check_type(psa_key_type_t type, const uint32_t *tok, size_t ntok)
{
    struct psc_attrs in = {.type = type, .bits = 255}, back;
    struct bytes want = {0};
    uint8_t out[BINCODE_ATTRS_MAX];
    size_t n = 0;

    put_head(&want, tok, ntok, 255, no_usage);
    put_u32(&want, 0);
    if (bincode_attrs_encode(&in, out, sizeof(out), &n) != 0)
        fail_msg("key type 0x%04x not encodable", type);
    assert_int_equal(n, want.n);
    assert_memory_equal(out, want.b, n);
    assert_int_equal(bincode_attrs_decode(want.b, want.n, &back, NULL), 0);
    assert_int_equal(back.type, type);
    assert_int_equal(back.bits, 255);
}

static void test_every_key_type(void **state)
{
    static const psa_key_type_t plain[10] = {
        PSA_KEY_TYPE_RAW_DATA,     PSA_KEY_TYPE_HMAC,     PSA_KEY_TYPE_DERIVE,
        PSA_KEY_TYPE_AES,          PSA_KEY_TYPE_DES,      PSA_KEY_TYPE_CAMELLIA,
        PSA_KEY_TYPE_ARC4,         PSA_KEY_TYPE_CHACHA20, PSA_KEY_TYPE_RSA_PUBLIC_KEY,
        PSA_KEY_TYPE_RSA_KEY_PAIR,
    };
    static const psa_ecc_family_t ecc[9] = {
        PSA_ECC_FAMILY_SECP_K1,        PSA_ECC_FAMILY_SECP_R1, PSA_ECC_FAMILY_SECP_R2,
        PSA_ECC_FAMILY_SECT_K1,        PSA_ECC_FAMILY_SECT_R1, PSA_ECC_FAMILY_SECT_R2,
        PSA_ECC_FAMILY_BRAINPOOL_P_R1, PSA_ECC_FAMILY_FRP,     PSA_ECC_FAMILY_MONTGOMERY,
    };

    (void)state;
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t t[] = {i};
        check_type(plain[i], t, 1);
    }
    for (uint32_t f = 0; f < 9; f++) {
        uint32_t pair[] = {10, f}, pub[] = {11, f};
        check_type(PSA_KEY_TYPE_ECC_KEY_PAIR(ecc[f]), pair, 2);
        check_type(PSA_KEY_TYPE_ECC_PUBLIC_KEY(ecc[f]), pub, 2);
    }
    uint32_t dh_pair[] = {12, 0}, dh_pub[] = {13, 0};
    check_type(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919), dh_pair, 2);
    check_type(PSA_KEY_TYPE_DH_PUBLIC_KEY(PSA_DH_FAMILY_RFC7919), dh_pub, 2);
}

static void test_usage_order(void **state)
{
    /* export copy cache encrypt decrypt sign_message verify_message sign_hash verify_hash
     * derive; cache is PSA API 1.1's 0x4. */
    static const psa_key_usage_t bits[10] = {
        PSA_KEY_USAGE_EXPORT,         PSA_KEY_USAGE_COPY,      0x00000004,
        PSA_KEY_USAGE_ENCRYPT,        PSA_KEY_USAGE_DECRYPT,   PSA_KEY_USAGE_SIGN_MESSAGE,
        PSA_KEY_USAGE_VERIFY_MESSAGE, PSA_KEY_USAGE_SIGN_HASH, PSA_KEY_USAGE_VERIFY_HASH,
        PSA_KEY_USAGE_DERIVE,
    };
    psa_key_usage_t all = 0;
    uint8_t out[BINCODE_ATTRS_MAX];
    struct psc_attrs back;
    size_t n;

    (void)state;
    for (int i = 0; i < 10; i++) {
        struct psc_attrs in = {.type = PSA_KEY_TYPE_RAW_DATA, .bits = 8, .usage = bits[i]};
        assert_int_equal(bincode_attrs_encode(&in, out, sizeof(out), &n), 0);
        for (int k = 0; k < 10; k++)
            assert_int_equal(out[4 + 4 + 8 + k], k == i);
        assert_int_equal(bincode_attrs_decode(out, n, &back, NULL), 0);
        assert_int_equal(back.usage, bits[i]);
        all |= bits[i];
    }
    struct psc_attrs in = {.type = PSA_KEY_TYPE_RAW_DATA, .usage = all};
    assert_int_equal(bincode_attrs_encode(&in, out, sizeof(out), &n), 0);
    assert_int_equal(bincode_attrs_decode(out, n, &back, NULL), 0);
    assert_int_equal(back.usage, all);
}

static void test_lifetimes_read(void **state)
{
    struct bytes x;
    struct psc_attrs a;

    (void)state;
    for (uint32_t lt = 0; lt < 3; lt++) {
        x.n = 0;
        put_u32(&x, lt);
        if (lt == 2)
            put_u32(&x, 0x00800001); /* Custom(u32) */
        memcpy(x.b + x.n, rsa_attrs + 4, sizeof(rsa_attrs) - 4);
        x.n += sizeof(rsa_attrs) - 4;
        assert_int_equal(bincode_attrs_decode(x.b, x.n, &a, NULL), 0);
        assert_int_equal(a.alg, PSA_ALG_RSA_PKCS1V15_CRYPT);
        assert_int_equal(a.bits, 2048);
    }
    /* Custom lifetime cut short. */
    x.n = 0;
    put_u32(&x, 2);
    put_u8(&x, 1);
    expect_decode_fails(x.b, x.n);
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void test_unencodable(void **state)
{
    static const psa_algorithm_t algs[] = {
        PSA_ALG_RSA_PSS_ANY_SALT(PSA_ALG_SHA_256),
        PSA_ALG_AT_LEAST_THIS_LENGTH_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 16),
        PSA_ALG_AEAD_WITH_AT_LEAST_THIS_LENGTH_TAG(PSA_ALG_GCM, 8),
        PSA_ALG_HMAC(PSA_ALG_ANY_HASH),
        PSA_ALG_ANY_HASH,
        PSA_ALG_SHAKE256_512,
        PSA_ALG_RSA_PSS_BASE,             /* no hash */
        PSA_ALG_DETERMINISTIC_ECDSA_BASE, /* no hash */
        PSA_ALG_RSA_OAEP(PSA_ALG_ANY_HASH),
        PSA_ALG_HKDF(PSA_ALG_ANY_HASH),
        PSA_ALG_PURE_EDDSA,
        PSA_ALG_ED25519PH,
        0x80000001,               /* vendor */
        0x04c0ff00,               /* unknown cipher */
        0x05500300,               /* unknown AEAD */
        0x09030000,               /* unknown key agreement */
        0x08000400,               /* unknown KDF */
        PSA_ALG_CATEGORY_MAC | 1, /* unknown MAC */
        0x7f000000,               /* unknown category */
    };
    static const psa_key_type_t types[] = {
        PSA_KEY_TYPE_NONE,
        PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_TWISTED_EDWARDS),
        PSA_KEY_TYPE_ECC_PUBLIC_KEY(0x01),
        PSA_KEY_TYPE_DH_KEY_PAIR(0x7e),
        0x1234,
    };
    uint8_t out[BINCODE_ATTRS_MAX];
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct psc_attrs a = {.type = PSA_KEY_TYPE_RAW_DATA, .alg = algs[i]};
        if (bincode_attrs_encode(&a, out, sizeof(out), &n) != PSC_PSA_NOT_SUPPORTED)
            fail_msg("algorithm 0x%08x encoded", algs[i]);
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct psc_attrs a = {.type = types[i]};
        if (bincode_attrs_encode(&a, out, sizeof(out), &n) != PSC_PSA_NOT_SUPPORTED)
            fail_msg("key type 0x%04x encoded", types[i]);
    }
    struct psc_attrs a = {.type = PSA_KEY_TYPE_RAW_DATA, .usage = 0x00010000};
    assert_int_equal(bincode_attrs_encode(&a, out, sizeof(out), &n), PSC_PSA_NOT_SUPPORTED);
    a = (struct psc_attrs){.type = PSA_KEY_TYPE_RAW_DATA, .bits = (size_t)UINT32_MAX + 1};
    assert_int_equal(bincode_attrs_encode(&a, out, sizeof(out), &n), PSC_PSA_NOT_SUPPORTED);
}

/* Replaces the u32 at offset off of a copy of the RSA example and expects a refusal. */
static void bad_u32_at(size_t off, uint32_t v)
{
    uint8_t b[sizeof(rsa_attrs)];
    memcpy(b, rsa_attrs, sizeof(b));
    for (int i = 0; i < 4; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
    expect_decode_fails(b, sizeof(b));
}

/* Header + algorithm tokens that must be refused. */
static void bad_alg(const uint32_t *tok, size_t ntok, uint64_t len)
{
    struct bytes x = {0};
    put_head(&x, raw_type, 1, 8, no_usage);
    for (size_t i = 0; i < ntok; i++)
        put_u32(&x, tok[i]);
    if (len != NO_LEN)
        put_u64(&x, len);
    expect_decode_fails(x.b, x.n);
}

static void bad_type(const uint32_t *tok, size_t ntok)
{
    struct bytes x = {0};
    put_head(&x, tok, ntok, 8, no_usage);
    put_u32(&x, 0);
    expect_decode_fails(x.b, x.n);
}

static void test_malformed_attributes(void **state)
{
    struct psc_attrs a;

    (void)state;
    /* Every strict prefix of a valid encoding, including nothing at all. */
    for (size_t n = 0; n < sizeof(rsa_attrs); n++)
        expect_decode_fails(rsa_attrs, n);
    assert_int_equal(bincode_attrs_decode(NULL, 0, &a, NULL), PSC_INVALID_ENCODING);

    bad_u32_at(0, 3);          /* lifetime */
    bad_u32_at(0, 0x01000001); /* lifetime with high bytes */
    bad_u32_at(4, 14);         /* key type */
    bad_u32_at(4, 0xffffffff);
    bad_u32_at(26, 9); /* algorithm */
    bad_u32_at(30, 2); /* AsymmetricEncryption */

    /* Bits beyond 32 bits. */
    uint8_t b[sizeof(rsa_attrs)];
    memcpy(b, rsa_attrs, sizeof(b));
    b[12] = 1;
    expect_decode_fails(b, sizeof(b));
    /* Each usage bool at 2 and 0xff. */
    for (int i = 0; i < 10; i++) {
        memcpy(b, rsa_attrs, sizeof(b));
        b[16 + i] = 2;
        expect_decode_fails(b, sizeof(b));
        b[16 + i] = 0xff;
        expect_decode_fails(b, sizeof(b));
    }

    uint32_t ecc_fam[] = {10, 9}, ecc_pub_fam[] = {11, 0xffff}, dh_fam[] = {12, 1},
             dh_pub_fam[] = {13, 1};
    bad_type(ecc_fam, 2);
    bad_type(ecc_pub_fam, 2);
    bad_type(dh_fam, 2);
    bad_type(dh_pub_fam, 2);
    bad_type(ecc_fam, 1); /* family missing: the next u32 is the 'bits' low half */

    static const struct {
        uint32_t tok[6];
        size_t ntok;
        uint64_t len;
    } algs[] = {
        {{1, 15}, 2, NO_LEN},       /* Hash */
        {{2, 2, 0, 6}, 4, NO_LEN},  /* Mac */
        {{2, 0, 3}, 3, NO_LEN},     /* FullLengthMac */
        {{2, 0, 0, 15}, 4, NO_LEN}, /* HMAC hash */
        {{2, 1, 0, 6}, 4, 64},      /* truncation beyond the PSA field */
        {{2, 1, 1}, 3, UINT64_MAX - 1},
        {{3, 8}, 2, NO_LEN},          /* Cipher */
        {{4, 2, 0}, 3, NO_LEN},       /* Aead */
        {{4, 0, 3}, 3, NO_LEN},       /* AeadWithDefaultLengthTag */
        {{4, 1, 1}, 3, 64},           /* tag length beyond the PSA field */
        {{5, 6}, 2, NO_LEN},          /* AsymmetricSignature */
        {{5, 0, 2, 6}, 4, NO_LEN},    /* SignHash */
        {{5, 3, 0, 15}, 4, NO_LEN},   /* hash in SignHash */
        {{6, 2}, 2, NO_LEN},          /* AsymmetricEncryption */
        {{6, 1, 15}, 3, NO_LEN},      /* OAEP hash */
        {{7, 2, 0}, 3, NO_LEN},       /* KeyAgreement */
        {{7, 0, 2}, 3, NO_LEN},       /* RawKeyAgreement */
        {{7, 1, 0, 3, 6}, 5, NO_LEN}, /* KeyDerivation inside */
        {{8, 3, 6}, 3, NO_LEN},       /* KeyDerivation */
        {{8, 0, 0x100}, 3, NO_LEN},   /* hash with a high byte */
        {{0x100}, 1, NO_LEN},         /* Algorithm with a high byte */
    };
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        bad_alg(algs[i].tok, algs[i].ntok, algs[i].len);
}

static void test_key_info_bounds(void **state)
{
    struct kim_info info;
    struct bytes x;
    size_t used = 0;
    uint8_t junk[64];

    (void)state;
    for (size_t n = 0; n < sizeof(fixture_mbed); n++) {
        if (bincode_key_info_decode(fixture_mbed, n, &info, NULL) != PSC_INVALID_ENCODING)
            fail_msg("%zu-byte prefix accepted", n);
        assert_null(info.id);
    }
    /* Trailing bytes are ignored, as bincode does. */
    memcpy(junk, fixture_mbed, sizeof(fixture_mbed));
    memset(junk + sizeof(fixture_mbed), 0xAB, sizeof(junk) - sizeof(fixture_mbed));
    assert_int_equal(bincode_key_info_decode(junk, sizeof(junk), &info, &used), 0);
    assert_int_equal(used, sizeof(fixture_mbed));
    kim_info_clear(&info);

    /* Id lengths past the end, past any real id, and past 2^63. */
    static const uint64_t lens[] = {39, BINCODE_KEY_ID_MAX + 1, (uint64_t)1 << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        x.n = 0;
        put_u64(&x, lens[i]);
        memcpy(x.b + x.n, rsa_attrs, sizeof(rsa_attrs));
        x.n += sizeof(rsa_attrs);
        assert_int_equal(bincode_key_info_decode(x.b, x.n, &info, NULL), PSC_INVALID_ENCODING);
        assert_null(info.id);
    }

    /* An empty id is well-formed. */
    x.n = 0;
    put_u64(&x, 0);
    memcpy(x.b + x.n, rsa_attrs, sizeof(rsa_attrs));
    x.n += sizeof(rsa_attrs);
    assert_int_equal(bincode_key_info_decode(x.b, x.n, &info, &used), 0);
    assert_int_equal(info.id_len, 0);
    assert_non_null(info.id);
    uint8_t *enc;
    size_t enc_len;
    assert_int_equal(bincode_key_info_encode(&info, &enc, &enc_len), 0);
    assert_int_equal(enc_len, x.n);
    assert_memory_equal(enc, x.b, x.n);
    free(enc);
    kim_info_clear(&info);

    /* An id longer than any real one is not written either. */
    struct kim_info big = {.id = junk, .id_len = BINCODE_KEY_ID_MAX + 1, .attrs = rsa};
    assert_int_equal(bincode_key_info_encode(&big, &enc, &enc_len), PSC_PSA_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_example),      cmocka_unit_test(test_fixture_files),
        cmocka_unit_test(test_ecdsa_example),    cmocka_unit_test(test_every_algorithm),
        cmocka_unit_test(test_equivalent_forms), cmocka_unit_test(test_every_key_type),
        cmocka_unit_test(test_usage_order),      cmocka_unit_test(test_lifetimes_read),
        cmocka_unit_test(test_unencodable),      cmocka_unit_test(test_malformed_attributes),
        cmocka_unit_test(test_key_info_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
