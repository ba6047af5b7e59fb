/* protobuf <-> PSA conversion against the tables of operations.md §3.
 *
 * Protobuf inputs are written here as wire bytes, field numbers taken from the spec tables, so
 * these tests check the .proto field numbers as well as the conversion. Every accepted input
 * must also come back byte for byte from PSA -> protobuf (round trip), except the documented
 * normalisations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psa/convert.h"
#include "wire/status.h"

/* ---- A tiny protobuf writer --------------------------------------------------------------- */

struct pb {
    uint8_t b[128];
    size_t n;
};

static const struct pb E = {{0}, 0}; /* empty message */

static void put_varint(struct pb *p, uint64_t v)
{
    do {
        assert_true(p->n < sizeof(p->b));
        p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

/* Field `num` as a varint. */
static struct pb V(unsigned num, uint64_t v) {
    struct pb p = E;
    put_varint(&p, (uint64_t)num << 3);
    put_varint(&p, v);
    return p;
}

/* Field `num` as an embedded message. */
static struct pb
M(unsigned num, struct pb inner) {
    struct pb p = E;
    put_varint(&p, (uint64_t)num << 3 | 2);
    put_varint(&p, inner.n);
    assert_true(p.n + inner.n <= sizeof(p.b));
    memcpy(p.b + p.n, inner.b, inner.n);
    p.n += inner.n;
    return p;
}

static struct pb
C(struct pb a, struct pb b) {
    assert_true(a.n + b.n <= sizeof(a.b));
    memcpy(a.b + a.n, b.b, b.n);
    a.n += b.n;
    return a;
}

static void *
unpack(const ProtobufCMessageDescriptor *d, struct pb p)
{
    void *m = protobuf_c_message_unpack(d, NULL, p.n, p.b);
    assert_non_null(m);
    return m;
}

static void free_msg(void *m)
{
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* Packs m (taking ownership) and compares with the expected bytes. */
static void assert_packs_to(void *m, struct pb want)
{
    uint8_t out[256];
    size_t n;

    assert_non_null(m);
    n = protobuf_c_message_get_packed_size(m);
    assert_true(n <= sizeof(out));
    assert_int_equal(protobuf_c_message_pack(m, out), n);
    assert_int_equal(n, want.n);
    assert_memory_equal(out, want.b, n);
    free_msg(m);
}

/* ---- Spec tables ---------------------------------------------------------------------------- */

static const struct {
    int pb;
    psa_algorithm_t psa;
    int deprecated;
} hashes[] = {
    {1, PSA_ALG_MD2, 1},          {2, PSA_ALG_MD4, 1},          {3, PSA_ALG_MD5, 1},
    {4, PSA_ALG_RIPEMD160, 0},    {5, PSA_ALG_SHA_1, 1},        {6, PSA_ALG_SHA_224, 0},
    {7, PSA_ALG_SHA_256, 0},      {8, PSA_ALG_SHA_384, 0},      {9, PSA_ALG_SHA_512, 0},
    {10, PSA_ALG_SHA_512_224, 0}, {11, PSA_ALG_SHA_512_256, 0}, {12, PSA_ALG_SHA3_224, 0},
    {13, PSA_ALG_SHA3_256, 0},    {14, PSA_ALG_SHA3_384, 0},    {15, PSA_ALG_SHA3_512, 0},
};

static const struct {
    int pb;
    psa_algorithm_t psa;
} ciphers[] = {
    {1, PSA_ALG_STREAM_CIPHER},
    {2, PSA_ALG_CTR},
    {3, PSA_ALG_CFB},
    {4, PSA_ALG_OFB},
    {5, PSA_ALG_XTS},
    {6, PSA_ALG_ECB_NO_PADDING},
    {7, PSA_ALG_CBC_NO_PADDING},
    {8, PSA_ALG_CBC_PKCS7},
};

static const struct {
    int pb;
    psa_algorithm_t psa;
} aeads[] = {{1, PSA_ALG_CCM}, {2, PSA_ALG_GCM}, {3, PSA_ALG_CHACHA20_POLY1305}};

/* PSA Crypto 1.1's CCM* without tag: a cipher Mbed TLS 2.28 does not know, no protobuf form. */
#define PSC_TEST_CCM_STAR_NO_TAG ((psa_algorithm_t)0x04c01300)

/* Undefined values of every enum with a *_NONE member. */
static const int bad_enum[] = {0, 16, 99, 1000, -1};

/* ---- Helpers running one conversion in both directions ------------------------------------ */

/* Algorithm bytes -> PSA; then PSA -> Algorithm must give the same bytes. */
static void alg_both_ways(struct pb alg, psa_algorithm_t want)
{
    PsaAlgorithm__Algorithm *m = unpack(&psa_algorithm__algorithm__descriptor, alg), *back;
    psa_algorithm_t got = 0x12345678;

    assert_int_equal(conv_alg_from_pb(m, &got), 0);
    assert_int_equal(got, want);
    free_msg(m);
    assert_int_equal(conv_alg_to_pb(want, &back), 0);
    assert_packs_to(back, alg);
}

static void alg_rejected(struct pb alg)
{
    PsaAlgorithm__Algorithm *m = unpack(&psa_algorithm__algorithm__descriptor, alg);
    psa_algorithm_t got = 0x12345678;

    assert_int_equal(conv_alg_from_pb(m, &got), PSC_INVALID_ENCODING);
    assert_int_equal(got, 0x12345678);
    free_msg(m);
}

static void psa_alg_has_no_pb(psa_algorithm_t alg)
{
    PsaAlgorithm__Algorithm *m = (void *)1;

    assert_int_equal(conv_alg_to_pb(alg, &m), PSC_INVALID_ENCODING);
    assert_null(m);
}

/* ---- Hash ----------------------------------------------------------------------------------- */

static void hash_every_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        psa_algorithm_t a = 0;
        PsaAlgorithm__Algorithm__Hash h = 0;

        assert_int_equal(conv_hash_from_pb(hashes[i].pb, &a), 0);
        assert_int_equal(a, hashes[i].psa);
        assert_int_equal(conv_hash_to_pb(hashes[i].psa, &h), 0);
        assert_int_equal(h, hashes[i].pb);
        assert_int_equal(
            conv_alg_enum_from_pb(&psa_algorithm__algorithm__hash__descriptor, hashes[i].pb, &a),
            0);
        assert_int_equal(a, hashes[i].psa);
        /* Algorithm.hash = 2 */
        alg_both_ways(V(2, hashes[i].pb), hashes[i].psa);
    }
}

static void hash_invalid(void **state)
{
    psa_algorithm_t a = 0;
    PsaAlgorithm__Algorithm__Hash h;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_enum) / sizeof(bad_enum[0]); i++) {
        assert_int_equal(conv_hash_from_pb(bad_enum[i], &a), PSC_INVALID_ENCODING);
        assert_int_equal(
            conv_alg_enum_from_pb(&psa_algorithm__algorithm__hash__descriptor, bad_enum[i], &a),
            PSC_INVALID_ENCODING);
    }
    /* An explicit HASH_NONE inside the oneof. */
    alg_rejected(V(2, 0));
    alg_rejected(V(2, 16));
    /* PSA hashes without a protobuf form. */
    assert_int_equal(conv_hash_to_pb(PSA_ALG_ANY_HASH, &h), PSC_INVALID_ENCODING);
    assert_int_equal(conv_hash_to_pb(PSA_ALG_SHAKE256_512, &h), PSC_INVALID_ENCODING);
    psa_alg_has_no_pb(PSA_ALG_ANY_HASH);
    psa_alg_has_no_pb(PSA_ALG_SHAKE256_512);
}

/* ---- Cipher --------------------------------------------------------------------------------- */

static void cipher_every_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
        psa_algorithm_t a = 0;
        PsaAlgorithm__Algorithm__Cipher c = 0;

        assert_int_equal(conv_cipher_from_pb(ciphers[i].pb, &a), 0);
        assert_int_equal(a, ciphers[i].psa);
        assert_int_equal(conv_cipher_to_pb(ciphers[i].psa, &c), 0);
        assert_int_equal(c, ciphers[i].pb);
        assert_int_equal(
            conv_alg_enum_from_pb(&psa_algorithm__algorithm__cipher__descriptor, ciphers[i].pb, &a),
            0);
        assert_int_equal(a, ciphers[i].psa);
        /* Algorithm.cipher = 4 */
        alg_both_ways(V(4, ciphers[i].pb), ciphers[i].psa);
        assert_false(conv_alg_deprecated(ciphers[i].psa));
    }
}

static void cipher_invalid(void **state)
{
    psa_algorithm_t a;
    PsaAlgorithm__Algorithm__Cipher c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_enum) / sizeof(bad_enum[0]); i++) {
        assert_int_equal(conv_cipher_from_pb(bad_enum[i], &a), PSC_INVALID_ENCODING);
    }
    assert_int_equal(conv_cipher_from_pb(9, &a), PSC_INVALID_ENCODING);
    alg_rejected(V(4, 0));
    alg_rejected(V(4, 9));
    assert_int_equal(conv_cipher_to_pb(PSA_ALG_CCM, &c), PSC_INVALID_ENCODING);
    psa_alg_has_no_pb(PSC_TEST_CCM_STAR_NO_TAG);
}

/* ---- AEAD ----------------------------------------------------------------------------------- */

static void aead_every_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++) {
        /* Algorithm.aead = 5 { aead_with_default_length_tag = 1 } */
        alg_both_ways(M(5, V(1, aeads[i].pb)), aeads[i].psa);
        /* { aead_with_shortened_tag = 2 { aead_alg = 1, tag_length = 2 } } */
        alg_both_ways(M(5, M(2, C(V(1, aeads[i].pb), V(2, 8)))),
                      PSA_ALG_AEAD_WITH_SHORTENED_TAG(aeads[i].psa, 8));
        alg_both_ways(M(5, M(2, C(V(1, aeads[i].pb), V(2, 1)))),
                      PSA_ALG_AEAD_WITH_SHORTENED_TAG(aeads[i].psa, 1));
        alg_both_ways(M(5, M(2, C(V(1, aeads[i].pb), V(2, 63)))),
                      PSA_ALG_AEAD_WITH_SHORTENED_TAG(aeads[i].psa, 63));
        /* A tag of length 0 (proto3 leaves the field out) is a PSA value of its own. */
        alg_both_ways(M(5, M(2, V(1, aeads[i].pb))),
                      PSA_ALG_AEAD_WITH_SHORTENED_TAG(aeads[i].psa, 0));
        assert_false(conv_alg_deprecated(aeads[i].psa));
    }
    /* The numbers themselves (PSA Crypto API 1.0): GCM with an 8-byte tag. */
    assert_int_equal(PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 8), 0x05480200);
}

static void aead_default_length_normalises(void **state)
{
    PsaAlgorithm__Algorithm__Aead *m, *back;
    psa_algorithm_t a;

    (void)state;
    /* A shortened tag of the default length (16) is the default algorithm. */
    m = unpack(&psa_algorithm__algorithm__aead__descriptor, M(2, C(V(1, 2), V(2, 16))));
    assert_int_equal(conv_aead_from_pb(m, &a), 0);
    assert_int_equal(a, PSA_ALG_GCM);
    free_msg(m);
    assert_int_equal(conv_aead_to_pb(a, &back), 0);
    assert_packs_to(back, V(1, 2));
}

static void aead_invalid(void **state)
{
    PsaAlgorithm__Algorithm__Aead *m;
    psa_algorithm_t a;

    (void)state;
    alg_rejected(M(5, E));                          /* no variant */
    alg_rejected(M(5, V(1, 0)));                    /* default tag NONE */
    alg_rejected(M(5, V(1, 4)));                    /* undefined */
    alg_rejected(M(5, M(2, V(2, 8))));              /* shortened, aead_alg NONE */
    alg_rejected(M(5, M(2, C(V(1, 9), V(2, 8)))));  /* shortened, undefined */
    alg_rejected(M(5, M(2, C(V(1, 2), V(2, 64))))); /* does not fit PSA's 6 bits */
    assert_int_equal(conv_aead_from_pb(NULL, &a), PSC_INVALID_ENCODING);
    m = unpack(&psa_algorithm__algorithm__aead__descriptor, E);
    assert_int_equal(conv_aead_from_pb(m, &a), PSC_INVALID_ENCODING);
    free_msg(m);
    psa_alg_has_no_pb(PSA_ALG_AEAD_WITH_AT_LEAST_THIS_LENGTH_TAG(PSA_ALG_GCM, 8));
    psa_alg_has_no_pb(0x05500300); /* an undefined AEAD */
}

/* ---- Asymmetric signature ------------------------------------------------------------------- */

static const struct {
    unsigned pb_case;
    psa_algorithm_t base;
} hashed_sign[] = {
    {1, PSA_ALG_RSA_PKCS1V15_SIGN_BASE},
    {3, PSA_ALG_RSA_PSS_BASE},
    {4, PSA_ALG_ECDSA_BASE},
    {6, PSA_ALG_DETERMINISTIC_ECDSA_BASE},
};

static void sign_every_row(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof(hashed_sign) / sizeof(hashed_sign[0]); s++) {
        for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
            psa_algorithm_t want = hashed_sign[s].base | (hashes[h].psa & PSA_ALG_HASH_MASK);
            /* asymmetric_signature = 6 { scheme { hash_alg = 1 { specific = 2 } } } */
            alg_both_ways(M(6, M(hashed_sign[s].pb_case, M(1, V(2, hashes[h].pb)))), want);
            assert_int_equal(conv_alg_deprecated(want), hashes[h].deprecated);
        }
        /* SignHash.any = 1 is the PSA any-hash wildcard. */
        psa_algorithm_t any = hashed_sign[s].base | (PSA_ALG_ANY_HASH & PSA_ALG_HASH_MASK);
        alg_both_ways(M(6, M(hashed_sign[s].pb_case, M(1, M(1, E)))), any);
        assert_false(conv_alg_deprecated(any));
    }
    /* The named PSA macros agree. */
    alg_both_ways(M(6, M(1, M(1, V(2, 7)))), PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256));
    alg_both_ways(M(6, M(3, M(1, V(2, 8)))), PSA_ALG_RSA_PSS(PSA_ALG_SHA_384));
    alg_both_ways(M(6, M(4, M(1, V(2, 7)))), PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    alg_both_ways(M(6, M(6, M(1, V(2, 9)))), PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_512));
    alg_both_ways(M(6, M(4, M(1, M(1, E)))), PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    /* Unhashed schemes. */
    alg_both_ways(M(6, M(2, E)), PSA_ALG_RSA_PKCS1V15_SIGN_RAW);
    alg_both_ways(M(6, M(5, E)), PSA_ALG_ECDSA_ANY);
    assert_false(conv_alg_deprecated(PSA_ALG_RSA_PKCS1V15_SIGN_RAW));
    assert_false(conv_alg_deprecated(PSA_ALG_ECDSA_ANY));
}

static void sign_operation_level(void **state)
{
    PsaAlgorithm__Algorithm__AsymmetricSignature *m, *back;
    psa_algorithm_t a;

    (void)state;
    m = unpack(&psa_algorithm__algorithm__asymmetric_signature__descriptor, M(4, M(1, V(2, 7))));
    assert_int_equal(conv_sign_from_pb(m, &a), 0);
    assert_int_equal(a, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(conv_alg_msg_from_pb(&m->base, &a), 0);
    assert_int_equal(a, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    free_msg(m);
    assert_int_equal(conv_sign_to_pb(PSA_ALG_RSA_PSS(PSA_ALG_SHA_256), &back), 0);
    assert_packs_to(back, M(3, M(1, V(2, 7))));
    assert_int_equal(conv_sign_to_pb(PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH), &back), 0);
    assert_packs_to(back, M(1, M(1, M(1, E))));
    assert_int_equal(conv_sign_to_pb(PSA_ALG_SHA_256, &back), PSC_INVALID_ENCODING);
    assert_null(back);
}

static void sign_invalid(void **state)
{
    PsaAlgorithm__Algorithm__AsymmetricSignature *m;
    psa_algorithm_t a;

    (void)state;
    alg_rejected(M(6, E));                    /* no scheme */
    alg_rejected(M(6, M(4, E)));              /* ecdsa without hash_alg */
    alg_rejected(M(6, M(1, E)));              /* pkcs1 without hash_alg */
    alg_rejected(M(6, M(3, M(1, E))));        /* SignHash with no variant */
    alg_rejected(M(6, M(6, M(1, V(2, 0)))));  /* specific HASH_NONE */
    alg_rejected(M(6, M(4, M(1, V(2, 42))))); /* specific undefined */
    m = unpack(&psa_algorithm__algorithm__asymmetric_signature__descriptor, E);
    assert_int_equal(conv_sign_from_pb(m, &a), PSC_INVALID_ENCODING);
    free_msg(m);
    assert_int_equal(conv_sign_from_pb(NULL, &a), PSC_INVALID_ENCODING);
    psa_alg_has_no_pb(PSA_ALG_RSA_PSS_ANY_SALT(PSA_ALG_SHA_256));
    psa_alg_has_no_pb(PSA_ALG_PURE_EDDSA);
    psa_alg_has_no_pb(PSA_ALG_ED25519PH);
    psa_alg_has_no_pb(PSA_ALG_ECDSA_BASE | 0x20); /* undefined hash */
    psa_alg_has_no_pb(PSA_ALG_ECDSA(PSA_ALG_SHAKE256_512));
}

/* ---- Asymmetric encryption ------------------------------------------------------------------ */

static void asym_enc_every_row(void **state)
{
    PsaAlgorithm__Algorithm__AsymmetricEncryption *back;

    (void)state;
    /* asymmetric_encryption = 7 { rsa_pkcs1v15_crypt = 1 | rsa_oaep = 2 { hash_alg = 1 } } */
    alg_both_ways(M(7, M(1, E)), PSA_ALG_RSA_PKCS1V15_CRYPT);
    for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
        alg_both_ways(M(7, M(2, V(1, hashes[h].pb))), PSA_ALG_RSA_OAEP(hashes[h].psa));
        assert_int_equal(conv_alg_deprecated(PSA_ALG_RSA_OAEP(hashes[h].psa)),
                         hashes[h].deprecated);
    }
    assert_false(conv_alg_deprecated(PSA_ALG_RSA_PKCS1V15_CRYPT));
    assert_int_equal(conv_asym_enc_to_pb(PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), &back), 0);
    assert_packs_to(back, M(2, V(1, 7)));
    alg_rejected(M(7, E));
    alg_rejected(M(7, M(2, E)));        /* OAEP hash NONE */
    alg_rejected(M(7, M(2, V(1, 77)))); /* OAEP hash undefined */
    psa_alg_has_no_pb(PSA_ALG_RSA_OAEP(PSA_ALG_ANY_HASH));
}

/* ---- Key derivation and key agreement ------------------------------------------------------- */

static const struct {
    unsigned pb_case;
    psa_algorithm_t base;
} kdfs[] = {{1, PSA_ALG_HKDF_BASE}, {2, PSA_ALG_TLS12_PRF_BASE}, {3, PSA_ALG_TLS12_PSK_TO_MS_BASE}};

static void kdf_every_row(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(kdfs) / sizeof(kdfs[0]); k++) {
        for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
            psa_algorithm_t want = kdfs[k].base | (hashes[h].psa & PSA_ALG_HASH_MASK);
            /* key_derivation = 9 { kdf { hash_alg = 1 } } */
            alg_both_ways(M(9, M(kdfs[k].pb_case, V(1, hashes[h].pb))), want);
            assert_int_equal(conv_alg_deprecated(want), hashes[h].deprecated);
        }
    }
    alg_both_ways(M(9, M(1, V(1, 7))), PSA_ALG_HKDF(PSA_ALG_SHA_256));
    alg_both_ways(M(9, M(2, V(1, 8))), PSA_ALG_TLS12_PRF(PSA_ALG_SHA_384));
    alg_both_ways(M(9, M(3, V(1, 7))), PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256));
    alg_rejected(M(9, E));
    alg_rejected(M(9, M(1, E)));
    alg_rejected(M(9, M(2, V(1, 16))));
    psa_alg_has_no_pb(PSA_ALG_HKDF(PSA_ALG_ANY_HASH));
    psa_alg_has_no_pb(0x08000400); /* an undefined KDF */
}

static void key_agreement_every_row(void **state)
{
    static const struct {
        int pb;
        psa_algorithm_t psa;
    } raws[] = {{1, PSA_ALG_FFDH}, {2, PSA_ALG_ECDH}};

    (void)state;
    for (size_t r = 0; r < 2; r++) {
        psa_algorithm_t a = 0;
        PsaAlgorithm__Algorithm__KeyAgreement__Raw e = 0;

        /* The operation-level enum (PsaRawKeyAgreement.alg). */
        assert_int_equal(conv_raw_ka_from_pb(raws[r].pb, &a), 0);
        assert_int_equal(a, raws[r].psa);
        assert_int_equal(conv_raw_ka_to_pb(raws[r].psa, &e), 0);
        assert_int_equal(e, raws[r].pb);
        assert_int_equal(
            conv_alg_enum_from_pb(&psa_algorithm__algorithm__key_agreement__raw__descriptor,
                                  raws[r].pb, &a),
            0);
        assert_int_equal(a, raws[r].psa);
        /* key_agreement = 8 { raw = 1 } */
        alg_both_ways(M(8, V(1, raws[r].pb)), raws[r].psa);
        assert_false(conv_alg_deprecated(raws[r].psa));
        /* { with_key_derivation = 2 { ka_alg = 1, kdf_alg = 2 { kdf { hash_alg } } } } */
        for (size_t k = 0; k < sizeof(kdfs) / sizeof(kdfs[0]); k++) {
            for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
                psa_algorithm_t kdf = kdfs[k].base | (hashes[h].psa & PSA_ALG_HASH_MASK);
                psa_algorithm_t want = PSA_ALG_KEY_AGREEMENT(raws[r].psa, kdf);

                alg_both_ways(
                    M(8, M(2, C(V(1, raws[r].pb), M(2, M(kdfs[k].pb_case, V(1, hashes[h].pb)))))),
                    want);
                assert_int_equal(conv_alg_deprecated(want), hashes[h].deprecated);
            }
        }
    }
    assert_int_equal(PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)),
                     0x09020109);
}

static void key_agreement_invalid(void **state)
{
    psa_algorithm_t a;
    PsaAlgorithm__Algorithm__KeyAgreement__Raw e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_enum) / sizeof(bad_enum[0]); i++) {
        assert_int_equal(conv_raw_ka_from_pb(bad_enum[i], &a), PSC_INVALID_ENCODING);
    }
    assert_int_equal(conv_raw_ka_from_pb(3, &a), PSC_INVALID_ENCODING);
    alg_rejected(M(8, E));                               /* no variant */
    alg_rejected(M(8, V(1, 0)));                         /* raw NONE */
    alg_rejected(M(8, V(1, 3)));                         /* raw undefined */
    alg_rejected(M(8, M(2, V(1, 2))));                   /* no kdf_alg */
    alg_rejected(M(8, M(2, M(2, M(1, V(1, 7))))));       /* ka_alg NONE */
    alg_rejected(M(8, M(2, C(V(1, 2), M(2, E)))));       /* kdf with no variant */
    alg_rejected(M(8, M(2, C(V(1, 2), M(2, M(1, E)))))); /* kdf hash NONE */
    assert_int_equal(
        conv_raw_ka_to_pb(PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)), &e),
        PSC_INVALID_ENCODING);
    psa_alg_has_no_pb(0x09030000); /* an undefined key agreement */
    psa_alg_has_no_pb(PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, 0x08000400));
}

/* ---- MAC ------------------------------------------------------------------------------------ */

static void mac_every_row(void **state)
{
    PsaAlgorithm__Algorithm__Mac *back;

    (void)state;
    for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
        psa_algorithm_t hmac = PSA_ALG_HMAC(hashes[h].psa);
        /* mac = 3 { full_length = 1 { hmac = 1 { hash_alg = 1 } } } */
        alg_both_ways(M(3, M(1, M(1, V(1, hashes[h].pb)))), hmac);
        /* { truncated = 2 { mac_alg = 1 { hmac }, mac_length = 2 } } */
        alg_both_ways(M(3, M(2, C(M(1, M(1, V(1, hashes[h].pb))), V(2, 10)))),
                      PSA_ALG_TRUNCATED_MAC(hmac, 10));
        assert_int_equal(conv_alg_deprecated(hmac), hashes[h].deprecated);
        assert_int_equal(conv_alg_deprecated(PSA_ALG_TRUNCATED_MAC(hmac, 10)),
                         hashes[h].deprecated);
    }
    alg_both_ways(M(3, M(1, M(2, E))), PSA_ALG_CBC_MAC);
    alg_both_ways(M(3, M(1, M(3, E))), PSA_ALG_CMAC);
    alg_both_ways(M(3, M(2, C(M(1, M(3, E)), V(2, 8)))), PSA_ALG_TRUNCATED_MAC(PSA_ALG_CMAC, 8));
    alg_both_ways(M(3, M(2, C(M(1, M(2, E)), V(2, 4)))), PSA_ALG_TRUNCATED_MAC(PSA_ALG_CBC_MAC, 4));
    alg_both_ways(M(3, M(2, C(M(1, M(1, V(1, 7))), V(2, 63)))),
                  PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 63));
    assert_false(conv_alg_deprecated(PSA_ALG_CMAC));
    assert_false(conv_alg_deprecated(PSA_ALG_CBC_MAC));
    assert_int_equal(PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 16), 0x03900009);
    assert_int_equal(conv_mac_to_pb(PSA_ALG_HMAC(PSA_ALG_SHA_256), &back), 0);
    assert_packs_to(back, M(1, M(1, V(1, 7))));
}

static void mac_invalid(void **state)
{
    psa_algorithm_t a;

    (void)state;
    alg_rejected(M(3, E));                                /* no variant */
    alg_rejected(M(3, M(1, E)));                          /* full length, no variant */
    alg_rejected(M(3, M(1, M(1, E))));                    /* hmac hash NONE */
    alg_rejected(M(3, M(2, V(2, 8))));                    /* truncated without mac_alg */
    alg_rejected(M(3, M(2, C(M(1, E), V(2, 8)))));        /* mac_alg with no variant */
    alg_rejected(M(3, M(2, M(1, M(3, E)))));              /* mac_length 0 */
    alg_rejected(M(3, M(2, C(M(1, M(3, E)), V(2, 64))))); /* beyond 6 bits */
    assert_int_equal(conv_mac_from_pb(NULL, &a), PSC_INVALID_ENCODING);
    psa_alg_has_no_pb(PSA_ALG_AT_LEAST_THIS_LENGTH_MAC(PSA_ALG_CMAC, 8));
    psa_alg_has_no_pb(PSA_ALG_HMAC(PSA_ALG_ANY_HASH));
    psa_alg_has_no_pb(PSA_ALG_CIPHER_MAC_BASE | 0x0300); /* an undefined cipher MAC */
}

/* ---- Algorithm oneof ------------------------------------------------------------------------ */

static void algorithm_none_and_empty(void **state)
{
    PsaAlgorithm__Algorithm *back;
    psa_algorithm_t a;

    (void)state;
    alg_both_ways(M(1, E), PSA_ALG_NONE); /* none = 1 */
    alg_rejected(E);                      /* empty oneof */
    assert_int_equal(conv_alg_from_pb(NULL, &a), PSC_INVALID_ENCODING);
    assert_int_equal(conv_alg_msg_from_pb(NULL, &a), PSC_INVALID_ENCODING);
    assert_false(conv_alg_deprecated(PSA_ALG_NONE));
    psa_alg_has_no_pb(0x7f000000); /* no category */
    psa_alg_has_no_pb(0x80000000); /* vendor */
    /* A message that is not an algorithm. */
    back = NULL;
    assert_int_equal(conv_alg_to_pb(PSA_ALG_NONE, &back), 0);
    PsaKeyAttributes__UsageFlags u = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
    assert_int_equal(conv_alg_msg_from_pb(&u.base, &a), PSC_INVALID_ENCODING);
    assert_int_equal(
        conv_alg_enum_from_pb(&psa_key_attributes__key_type__ecc_family__descriptor, 1, &a),
        PSC_INVALID_ENCODING);
    free_msg(back);
}

/* ---- Key types ------------------------------------------------------------------------------ */

static const struct {
    unsigned pb_case;
    psa_key_type_t psa;
} plain_types[] = {
    {1, PSA_KEY_TYPE_RAW_DATA},      {2, PSA_KEY_TYPE_HMAC},     {3, PSA_KEY_TYPE_DERIVE},
    {4, PSA_KEY_TYPE_AES},           {5, PSA_KEY_TYPE_DES},      {6, PSA_KEY_TYPE_CAMELLIA},
    {7, PSA_KEY_TYPE_ARC4},          {8, PSA_KEY_TYPE_CHACHA20}, {9, PSA_KEY_TYPE_RSA_PUBLIC_KEY},
    {10, PSA_KEY_TYPE_RSA_KEY_PAIR},
};

static const struct {
    int pb;
    psa_ecc_family_t psa;
} ecc_families[] = {
    {1, PSA_ECC_FAMILY_SECP_K1},        {2, PSA_ECC_FAMILY_SECP_R1}, {3, PSA_ECC_FAMILY_SECP_R2},
    {4, PSA_ECC_FAMILY_SECT_K1},        {5, PSA_ECC_FAMILY_SECT_R1}, {6, PSA_ECC_FAMILY_SECT_R2},
    {7, PSA_ECC_FAMILY_BRAINPOOL_P_R1}, {8, 0x33 /* FRP */},         {9, PSA_ECC_FAMILY_MONTGOMERY},
};

static void key_type_both_ways(struct pb kt, psa_key_type_t want)
{
    PsaKeyAttributes__KeyType *m = unpack(&psa_key_attributes__key_type__descriptor, kt), *back;
    psa_key_type_t got = 0;

    assert_int_equal(conv_key_type_from_pb(m, &got), 0);
    assert_int_equal(got, want);
    free_msg(m);
    assert_int_equal(conv_key_type_to_pb(want, &back), 0);
    assert_packs_to(back, kt);
}

static void key_type_rejected(struct pb kt)
{
    PsaKeyAttributes__KeyType *m = unpack(&psa_key_attributes__key_type__descriptor, kt);
    psa_key_type_t got = 0x1234;

    assert_int_equal(conv_key_type_from_pb(m, &got), PSC_INVALID_ENCODING);
    assert_int_equal(got, 0x1234);
    free_msg(m);
}

static void key_type_has_no_pb(psa_key_type_t t)
{
    PsaKeyAttributes__KeyType *m = (void *)1;

    assert_int_equal(conv_key_type_to_pb(t, &m), PSC_INVALID_ENCODING);
    assert_null(m);
}

static void key_type_every_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(plain_types) / sizeof(plain_types[0]); i++) {
        key_type_both_ways(M(plain_types[i].pb_case, E), plain_types[i].psa);
    }
    for (size_t i = 0; i < sizeof(ecc_families) / sizeof(ecc_families[0]); i++) {
        /* ecc_key_pair = 11 / ecc_public_key = 12 { curve_family = 1 } */
        key_type_both_ways(M(11, V(1, ecc_families[i].pb)),
                           PSA_KEY_TYPE_ECC_KEY_PAIR(ecc_families[i].psa));
        key_type_both_ways(M(12, V(1, ecc_families[i].pb)),
                           PSA_KEY_TYPE_ECC_PUBLIC_KEY(ecc_families[i].psa));
    }
    /* dh_key_pair = 13 / dh_public_key = 14 { group_family = 1 (RFC7919 = 0, the default) } */
    key_type_both_ways(M(13, E), PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919));
    key_type_both_ways(M(14, E), PSA_KEY_TYPE_DH_PUBLIC_KEY(PSA_DH_FAMILY_RFC7919));
    /* Spot checks of the numbers. */
    assert_int_equal(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 0x7112);
    assert_int_equal(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_MONTGOMERY), 0x4141);
    assert_int_equal(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919), 0x7203);
    key_type_both_ways(M(11, V(1, 8)), 0x7133);
}

static void key_type_invalid(void **state)
{
    psa_key_type_t t;

    (void)state;
    key_type_rejected(E);                 /* no variant */
    key_type_rejected(M(11, E));          /* ECC_FAMILY_NONE */
    key_type_rejected(M(12, V(1, 10)));   /* undefined family */
    key_type_rejected(M(11, V(1, 1000))); /* undefined family */
    key_type_rejected(M(13, V(1, 1)));    /* undefined DH family */
    key_type_rejected(M(14, V(1, 3)));    /* undefined DH family */
    assert_int_equal(conv_key_type_from_pb(NULL, &t), PSC_INVALID_ENCODING);
    key_type_has_no_pb(PSA_KEY_TYPE_NONE);
    key_type_has_no_pb(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_TWISTED_EDWARDS));
    key_type_has_no_pb(PSA_KEY_TYPE_ECC_PUBLIC_KEY(0x55));
    key_type_has_no_pb(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_CUSTOM));
    key_type_has_no_pb(PSA_KEY_TYPE_ARIA);
    key_type_has_no_pb(0x1234);
}

/* ---- Usage flags ---------------------------------------------------------------------------- */

static const psa_key_usage_t usage_bits[] = {
    PSA_KEY_USAGE_EXPORT,         PSA_KEY_USAGE_COPY,      PSA_KEY_USAGE_CACHE,
    PSA_KEY_USAGE_ENCRYPT,        PSA_KEY_USAGE_DECRYPT,   PSA_KEY_USAGE_SIGN_MESSAGE,
    PSA_KEY_USAGE_VERIFY_MESSAGE, PSA_KEY_USAGE_SIGN_HASH, PSA_KEY_USAGE_VERIFY_HASH,
    PSA_KEY_USAGE_DERIVE,
};

static void usage_every_flag(void **state)
{
    psa_key_usage_t all = 0;
    struct pb all_pb = E;

    (void)state;
    for (size_t i = 0; i < 10; i++) {
        PsaKeyAttributes__UsageFlags *m, back = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
        psa_key_usage_t u = 0;
        uint8_t out[32];

        /* UsageFlags field i + 1 is bool. */
        m = unpack(&psa_key_attributes__usage_flags__descriptor, V((unsigned)i + 1, 1));
        assert_int_equal(conv_usage_from_pb(m, &u), 0);
        assert_int_equal(u, usage_bits[i]);
        free_msg(m);
        assert_int_equal(conv_usage_to_pb(usage_bits[i], &back), 0);
        assert_int_equal(protobuf_c_message_pack(&back.base, out), 2);
        assert_int_equal(out[0], (i + 1) << 3);
        assert_int_equal(out[1], 1);
        all |= usage_bits[i];
        all_pb = C(all_pb, V((unsigned)i + 1, 1));
    }
    assert_int_equal(all, CONV_USAGE_ALL);
    assert_int_equal(PSA_KEY_USAGE_CACHE, 0x4);
    /* All set, and none set. */
    PsaKeyAttributes__UsageFlags *m = unpack(&psa_key_attributes__usage_flags__descriptor, all_pb);
    psa_key_usage_t u = 0;
    assert_int_equal(conv_usage_from_pb(m, &u), 0);
    assert_int_equal(u, all);
    free_msg(m);
    m = unpack(&psa_key_attributes__usage_flags__descriptor, E);
    assert_int_equal(conv_usage_from_pb(m, &u), 0);
    assert_int_equal(u, 0);
    free_msg(m);
    assert_int_equal(conv_usage_from_pb(NULL, &u), PSC_INVALID_ENCODING);
    /* Bits without a protobuf form. */
    PsaKeyAttributes__UsageFlags back = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
    assert_int_equal(conv_usage_to_pb(0x8, &back), PSC_INVALID_ENCODING);
    assert_int_equal(conv_usage_to_pb(PSA_KEY_USAGE_DERIVE | 0x00008000, &back),
                     PSC_INVALID_ENCODING);
}

/* ---- Key attributes ------------------------------------------------------------------------- */

/* KeyAttributes { key_type = 1, key_bits = 2, key_policy = 3 { key_usage_flags = 1,
 * key_algorithm = 2 } } */
static struct pb attrs_pb(struct pb type, uint32_t bits, struct pb usage, struct pb alg)
{
    struct pb a = M(1, type);
    if (bits != 0) {
        a = C(a, V(2, bits));
    }
    return C(a, M(3, C(M(1, usage), M(2, alg))));
}

static void attrs_both_ways(void **state)
{
    PsaKeyAttributes__KeyAttributes *m, *back;
    struct psc_attrs a;
    struct pb in;

    (void)state;
    /* ECC P-256 key pair, sign_hash + verify_hash, ECDSA(SHA-256). */
    in = attrs_pb(M(11, V(1, 2)), 256, C(V(8, 1), V(9, 1)), M(6, M(4, M(1, V(2, 7)))));
    m = unpack(&psa_key_attributes__key_attributes__descriptor, in);
    assert_int_equal(conv_attrs_from_pb(m, &a), 0);
    assert_int_equal(a.type, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    assert_int_equal(a.bits, 256);
    assert_int_equal(a.usage, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    assert_int_equal(a.alg, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    free_msg(m);
    assert_int_equal(conv_attrs_to_pb(&a, &back), 0);
    assert_packs_to(back, in);

    /* key_bits 0 (deduce on import), no usage, Algorithm.none: the service still sends the
     * type, the policy, the (empty) flags and the algorithm. */
    in = attrs_pb(M(10, E), 0, E, M(1, E));
    m = unpack(&psa_key_attributes__key_attributes__descriptor, in);
    assert_int_equal(conv_attrs_from_pb(m, &a), 0);
    assert_int_equal(a.type, PSA_KEY_TYPE_RSA_KEY_PAIR);
    assert_int_equal(a.bits, 0);
    assert_int_equal(a.usage, 0);
    assert_int_equal(a.alg, PSA_ALG_NONE);
    free_msg(m);
    assert_int_equal(conv_attrs_to_pb(&a, &back), 0);
    assert_non_null(back->key_type);
    assert_non_null(back->key_policy);
    assert_non_null(back->key_policy->key_usage_flags);
    assert_non_null(back->key_policy->key_algorithm);
    assert_packs_to(back, in);
    /* Exact bytes: 0a 02 52 00 | 1a 06 0a 00 12 02 0a 00 */
    static const uint8_t want[] = {0x0a, 0x02, 0x52, 0x00, 0x1a, 0x06,
                                   0x0a, 0x00, 0x12, 0x02, 0x0a, 0x00};
    assert_int_equal(in.n, sizeof(want));
    assert_memory_equal(in.b, want, sizeof(want));

    /* AES-256 with every flag and a key agreement policy. */
    struct pb all = E;
    for (unsigned i = 1; i <= 10; i++) {
        all = C(all, V(i, 1));
    }
    in = attrs_pb(M(4, E), 256, all, M(8, M(2, C(V(1, 2), M(2, M(1, V(1, 7)))))));
    m = unpack(&psa_key_attributes__key_attributes__descriptor, in);
    assert_int_equal(conv_attrs_from_pb(m, &a), 0);
    assert_int_equal(a.usage, CONV_USAGE_ALL);
    assert_int_equal(a.alg, PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    free_msg(m);
    assert_int_equal(conv_attrs_to_pb(&a, &back), 0);
    assert_packs_to(back, in);
}

static void attrs_rejected(struct pb in)
{
    PsaKeyAttributes__KeyAttributes *m =
        unpack(&psa_key_attributes__key_attributes__descriptor, in);
    struct psc_attrs a = {.type = 0x1111};

    assert_int_equal(conv_attrs_from_pb(m, &a), PSC_INVALID_ENCODING);
    assert_int_equal(a.type, 0x1111);
    free_msg(m);
}

static void attrs_invalid(void **state)
{
    struct psc_attrs a = {0};
    PsaKeyAttributes__KeyAttributes *back = (void *)1;

    (void)state;
    struct pb type = M(4, E), alg = M(1, E);
    attrs_rejected(E);                                        /* everything missing */
    attrs_rejected(M(3, C(M(1, E), M(2, alg))));              /* no key_type */
    attrs_rejected(M(1, type));                               /* no key_policy */
    attrs_rejected(C(M(1, type), M(3, M(2, alg))));           /* no key_usage_flags */
    attrs_rejected(C(M(1, type), M(3, M(1, E))));             /* no key_algorithm */
    attrs_rejected(C(M(1, E), M(3, C(M(1, E), M(2, alg)))));  /* empty key type */
    attrs_rejected(C(M(1, type), M(3, C(M(1, E), M(2, E))))); /* empty algorithm */
    attrs_rejected(attrs_pb(M(11, E), 256, E, alg));          /* ECC family NONE */
    attrs_rejected(attrs_pb(type, 128, E, V(2, 0)));          /* hash NONE */
    assert_int_equal(conv_attrs_from_pb(NULL, &a), PSC_INVALID_ENCODING);

    /* PSA values without protobuf form. */
    a = (struct psc_attrs){PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSC_TEST_CCM_STAR_NO_TAG};
    assert_int_equal(conv_attrs_to_pb(&a, &back), PSC_INVALID_ENCODING);
    assert_null(back);
    a = (struct psc_attrs){PSA_KEY_TYPE_AES, 128, 0x8, PSA_ALG_GCM};
    assert_int_equal(conv_attrs_to_pb(&a, &back), PSC_INVALID_ENCODING);
    assert_null(back);
    a = (struct psc_attrs){0x1234, 128, 0, PSA_ALG_GCM};
    assert_int_equal(conv_attrs_to_pb(&a, &back), PSC_INVALID_ENCODING);
    assert_null(back);
#if SIZE_MAX > UINT32_MAX
    a = (struct psc_attrs){PSA_KEY_TYPE_AES, (size_t)UINT32_MAX + 1, 0, PSA_ALG_GCM};
    assert_int_equal(conv_attrs_to_pb(&a, &back), PSC_INVALID_ENCODING);
    assert_null(back);
#endif
}

/* ---- Deprecated primitives ------------------------------------------------------------------ */

static void deprecated_keys(void **state)
{
    const psa_algorithm_t ok = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    struct psc_attrs a;

    (void)state;
#define KEY(t, b) ((a = (struct psc_attrs){(t), (b), 0, ok}), conv_attrs_deprecated(&a))
    assert_true(KEY(PSA_KEY_TYPE_DES, 64));
    assert_true(KEY(PSA_KEY_TYPE_DES, 192));
    assert_true(KEY(PSA_KEY_TYPE_ARC4, 128));
    assert_false(KEY(PSA_KEY_TYPE_AES, 128));
    assert_false(KEY(PSA_KEY_TYPE_RSA_KEY_PAIR, 2048));
    /* ECC public keys. */
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_BRAINPOOL_P_R1), 160));
    assert_false(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_BRAINPOOL_P_R1), 256));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_R1), 163));
    assert_false(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_R1), 233));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_K1), 163));
    assert_false(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_K1), 233));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_R2), 163));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECT_R2), 0));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R2), 160));
    assert_true(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R2), 999));
    assert_false(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256));
    assert_false(KEY(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 160));
    /* The original service's quirk: key pairs on the same curves are not flagged. */
    assert_false(KEY(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_BRAINPOOL_P_R1), 160));
    assert_false(KEY(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECT_R1), 163));
    assert_false(KEY(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECT_K1), 163));
    assert_false(KEY(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECT_R2), 163));
    assert_false(KEY(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R2), 160));
#undef KEY
    /* A deprecated algorithm flags any key. */
    a = (struct psc_attrs){PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, 0, PSA_ALG_RSA_PSS(PSA_ALG_SHA_1)};
    assert_true(conv_attrs_deprecated(&a));
    a.alg = PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH);
    assert_false(conv_attrs_deprecated(&a));
    a.alg = PSA_ALG_NONE;
    assert_false(conv_attrs_deprecated(&a));
}

static void deprecated_algorithms(void **state)
{
    (void)state;
    /* Every hash row carries its own flag (checked with each family above); a few
     * composites by name. */
    assert_true(conv_alg_deprecated(PSA_ALG_MD5));
    assert_true(conv_alg_deprecated(PSA_ALG_HMAC(PSA_ALG_MD4)));
    assert_true(conv_alg_deprecated(PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_1), 10)));
    assert_true(conv_alg_deprecated(PSA_ALG_ECDSA(PSA_ALG_MD2)));
    assert_true(conv_alg_deprecated(PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_1)));
    assert_true(conv_alg_deprecated(PSA_ALG_RSA_OAEP(PSA_ALG_SHA_1)));
    assert_true(conv_alg_deprecated(PSA_ALG_TLS12_PRF(PSA_ALG_MD5)));
    assert_true(
        conv_alg_deprecated(PSA_ALG_KEY_AGREEMENT(PSA_ALG_FFDH, PSA_ALG_HKDF(PSA_ALG_SHA_1))));
    assert_false(
        conv_alg_deprecated(PSA_ALG_KEY_AGREEMENT(PSA_ALG_FFDH, PSA_ALG_HKDF(PSA_ALG_SHA_256))));
    assert_false(conv_alg_deprecated(PSA_ALG_ECDH));
    assert_false(conv_alg_deprecated(PSA_ALG_RIPEMD160));
    assert_false(conv_alg_deprecated(PSA_ALG_ECDSA(PSA_ALG_ANY_HASH)));
    assert_false(conv_alg_deprecated(PSA_ALG_CBC_PKCS7));
    assert_false(conv_alg_deprecated(PSA_ALG_CHACHA20_POLY1305));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_every_row),
        cmocka_unit_test(hash_invalid),
        cmocka_unit_test(cipher_every_row),
        cmocka_unit_test(cipher_invalid),
        cmocka_unit_test(aead_every_row),
        cmocka_unit_test(aead_default_length_normalises),
        cmocka_unit_test(aead_invalid),
        cmocka_unit_test(sign_every_row),
        cmocka_unit_test(sign_operation_level),
        cmocka_unit_test(sign_invalid),
        cmocka_unit_test(asym_enc_every_row),
        cmocka_unit_test(kdf_every_row),
        cmocka_unit_test(key_agreement_every_row),
        cmocka_unit_test(key_agreement_invalid),
        cmocka_unit_test(mac_every_row),
        cmocka_unit_test(mac_invalid),
        cmocka_unit_test(algorithm_none_and_empty),
        cmocka_unit_test(key_type_every_row),
        cmocka_unit_test(key_type_invalid),
        cmocka_unit_test(usage_every_flag),
        cmocka_unit_test(attrs_both_ways),
        cmocka_unit_test(attrs_invalid),
        cmocka_unit_test(deprecated_keys),
        cmocka_unit_test(deprecated_algorithms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
