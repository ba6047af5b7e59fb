/* Every operation of the Mbed Crypto provider (provider 1) over the real socket, with requests
 * built from the protobuf types directly and every result checked by OpenSSL: signatures verify
 * both ways, ciphertexts decrypt both ways, shared secrets match, exported keys parse and equal
 * the keys imported. Then every error row of operations.md §9 that applies to this provider.
 *
 * Keys are fixed OpenSSL-generated keys, imported, so that runtime stays short (RSA key
 * generation is tested once, at 1024 bits). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>

#include "e2e_keys.h"
#include "e2e_psa.h"

static struct daemon D;
static struct caller C;
/* A second daemon a test starts; stopped here too if the test fails half-way. */
static struct daemon D2;

static int test_teardown(void **state)
{
    if (D2.dir[0])
        daemon_cleanup(&D2);
    memset(&D2, 0, sizeof(D2));
    return e2e_arena_free(state);
}

static int setup(void **state)
{
    (void)state;
    daemon_start(&D, E2E_CONFIG_DIRECT);
    C = (struct caller){.sock = D.sock, .app = "crypto-ops"};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    return 0;
}

/* The configuration of the tests, with lines added to [core_settings]. */
static const char *config_with(const char *core_lines)
{
    static char cfg[4096];
    const char *at = strstr(E2E_CONFIG_DIRECT, "log_level");
    assert_non_null(at);
    snprintf(cfg, sizeof(cfg), "%.*s%s%s", (int)(at - E2E_CONFIG_DIRECT), E2E_CONFIG_DIRECT,
             core_lines, at);
    return cfg;
}

static struct buf hex(const char *s)
{
    size_t n = strlen(s) / 2;
    struct buf b = {e2e_alloc(n), n};
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        b.p[i] = (uint8_t)v;
    }
    return b;
}

static struct buf flip(struct buf b, size_t at)
{
    struct buf c = buf_copy(b.p, b.n);
    c.p[at % c.n] ^= 0x01;
    return c;
}

/* An OpenSSL EC key pair from a private scalar and its point (to sign with an exported key). */
static EVP_PKEY *pkey_ec_private(const char *group, struct buf scalar, struct buf point)
{
    BIGNUM *d = BN_bin2bn(scalar.p, (int)scalar.n, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_true(d && bld);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d), 1);
    assert_int_equal(
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.p, point.n), 1);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    assert_true(params && ctx);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params), 1);
    /* The scalar must be the private half of the point. */
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    assert_non_null(chk);
    assert_int_equal(EVP_PKEY_pairwise_check(chk), 1);
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(d);
    return keep_pkey(k);
}

/* ---- OpenSSL symmetric ciphers ---------------------------------------------------------- */

/* OpenSSL AEAD. Encryption returns ciphertext || tag; decryption takes ciphertext || tag and
 * returns 0 with the plaintext, or -1 when the tag does not match. */
static int ossl_aead(int enc, const EVP_CIPHER *cipher, int ccm, struct buf key, struct buf nonce,
                     struct buf ad, struct buf in, size_t tag_len, struct buf *out)
{
    assert_true(enc || in.n >= tag_len);
    size_t body = enc ? in.n : in.n - tag_len;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    *out = (struct buf){e2e_alloc(body + tag_len + 32), 0};
    int len = 0;
    assert_int_equal(EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)nonce.n, NULL), 1);
    if (ccm || !enc)
        assert_int_equal(
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, enc ? NULL : in.p + body),
            1);
    assert_int_equal(EVP_CipherInit_ex(ctx, NULL, NULL, key.p, nonce.p, enc), 1);
    if (ccm) /* CCM needs the length first */
        assert_int_equal(EVP_CipherUpdate(ctx, NULL, &len, NULL, (int)body), 1);
    if (ad.n)
        assert_int_equal(EVP_CipherUpdate(ctx, NULL, &len, ad.p, (int)ad.n), 1);
    int ok = EVP_CipherUpdate(ctx, out->p, &len, in.p, (int)body) == 1;
    out->n = (size_t)len;
    if (ok && !ccm) {
        ok = EVP_CipherFinal_ex(ctx, out->p + out->n, &len) == 1;
        out->n += (size_t)len;
    }
    if (ok && enc) {
        assert_int_equal(
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, out->p + out->n), 1);
        out->n += tag_len;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static struct buf ossl_cipher(int enc, const EVP_CIPHER *cipher, struct buf key, struct buf iv,
                              struct buf in, int padding)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    struct buf out = {e2e_alloc(in.n + 32), 0};
    int len = 0;
    assert_int_equal(EVP_CipherInit_ex(ctx, cipher, NULL, key.p, iv.n ? iv.p : NULL, enc), 1);
    assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, padding), 1);
    assert_int_equal(EVP_CipherUpdate(ctx, out.p, &len, in.p, (int)in.n), 1);
    out.n = (size_t)len;
    assert_int_equal(EVP_CipherFinal_ex(ctx, out.p + out.n, &len), 1);
    out.n += (size_t)len;
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

/* ---- key creation, export, destruction -------------------------------------------------- */

/* Generated keys: the exported public part parses in OpenSSL and matches what the key signs. */
static void generate_keys(void **state)
{
    (void)state;
    int files = daemon_count_key_files(&D);
    struct buf h256 = digest(HASH(SHA_256), buf_str("generated"));

    /* ECC P-256 and P-384, with the private part exported and checked against the public. */
    static const struct {
        const char *name, *group;
        uint32_t bits;
        int hash;
    } ec[] = {{"gen-p256", "prime256v1", 256, HASH(SHA_256)},
              {"gen-p384", "secp384r1", 384, HASH(SHA_384)}};
    for (size_t i = 0; i < 2; i++) {
        Attrs *at = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), ec[i].bits,
                          U_SIGN_HASH | U_VERIFY_HASH | U_EXPORT, alg_sig(SIG_ECDSA, ec[i].hash));
        assert_int_equal(op_generate(&C, ec[i].name, at), 0);
        struct buf pub, priv, sig, h = digest(ec[i].hash, buf_str("generated"));
        assert_int_equal(op_export_public(&C, ec[i].name, &pub), 0);
        size_t half = ec[i].bits / 8;
        assert_int_equal(pub.n, 1 + 2 * half);
        assert_int_equal(pub.p[0], 0x04);
        EVP_PKEY *pk = pkey_ec_public(ec[i].group, pub);
        assert_non_null(pk);
        assert_int_equal(op_sign_hash(&C, ec[i].name, sig_alg(SIG_ECDSA, ec[i].hash), h, &sig), 0);
        assert_int_equal(sig.n, 2 * half);
        assert_true(ossl_verify(pk, md_of(ec[i].hash), PAD_NONE, h, sig));
        assert_int_equal(op_export(&C, ec[i].name, &priv), 0);
        assert_int_equal(priv.n, half);
        EVP_PKEY *kp = pkey_ec_private(ec[i].group, priv, pub);
        struct buf osig = ossl_sign(kp, md_of(ec[i].hash), PAD_NONE, h, half);
        assert_int_equal(op_verify_hash(&C, ec[i].name, sig_alg(SIG_ECDSA, ec[i].hash), h, osig),
                         0);
    }

    /* RSA: 1024 bits keeps generation short; the public part is a DER RSAPublicKey. */
    Attrs *rsa = attrs(key_type(KT_RSA_PAIR, 0), 1024, U_SIGN_HASH | U_VERIFY_HASH,
                       alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_generate(&C, "gen-rsa1024", rsa), 0);
    struct buf rpub, rsig;
    assert_int_equal(op_export_public(&C, "gen-rsa1024", &rpub), 0);
    EVP_PKEY *rpk = pkey_rsa_public(rpub);
    assert_non_null(rpk);
    assert_int_equal(EVP_PKEY_get_bits(rpk), 1024);
    BIGNUM *e = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(rpk, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_true(BN_is_word(e, 65537));
    BN_free(e);
    assert_int_equal(
        op_sign_hash(&C, "gen-rsa1024", sig_alg(SIG_PKCS1, HASH(SHA_256)), h256, &rsig), 0);
    assert_int_equal(rsig.n, 128);
    assert_true(ossl_verify(rpk, EVP_sha256(), PAD_PKCS1, h256, rsig));
    /* Exporting the private part needs the export flag this key does not have. */
    struct buf none;
    assert_int_equal(op_export(&C, "gen-rsa1024", &none), PSC_PSA_NOT_PERMITTED);

    /* X25519: the public value is 32 bytes and agrees with OpenSSL. */
    Attrs *x = attrs(key_type(KT_ECC_PAIR, ECC(MONTGOMERY)), 255, U_DERIVE, alg_ka_raw(KA_ECDH));
    assert_int_equal(op_generate(&C, "gen-x25519", x), 0);
    struct buf xpub, secret;
    assert_int_equal(op_export_public(&C, "gen-x25519", &xpub), 0);
    assert_int_equal(xpub.n, 32);
    EVP_PKEY *peer = ossl_keygen("X25519", NULL);
    assert_int_equal(op_raw_key_agreement(&C, "gen-x25519", KA_ECDH, public_octets(peer), &secret),
                     0);
    assert_true(buf_eq(secret, ossl_derive(peer, pkey_x25519_public(xpub))));

    /* Symmetric keys: the exported key has the size asked for, and two keys differ. */
    struct buf k1, k2;
    Attrs *aes =
        attrs(key_type(KT_AES, 0), 256, U_EXPORT | U_ENCRYPT | U_DECRYPT, alg_aead(AEAD(GCM), 0));
    assert_int_equal(op_generate(&C, "gen-aes256", aes), 0);
    assert_int_equal(op_generate(&C, "gen-aes256-b", aes), 0);
    assert_int_equal(op_export(&C, "gen-aes256", &k1), 0);
    assert_int_equal(op_export(&C, "gen-aes256-b", &k2), 0);
    assert_int_equal(k1.n, 32);
    assert_int_equal(k2.n, 32);
    assert_false(buf_eq(k1, k2));
    Attrs *cc = attrs(key_type(KT_CHACHA20, 0), 256, U_ENCRYPT | U_DECRYPT,
                      alg_aead(AEAD(CHACHA20_POLY1305), 0));
    assert_int_equal(op_generate(&C, "gen-chacha", cc), 0);
    Attrs *raw = attrs(key_type(KT_RAW, 0), 128, U_EXPORT, alg_none());
    assert_int_equal(op_generate(&C, "gen-raw", raw), 0);
    assert_int_equal(op_export(&C, "gen-raw", &k1), 0);
    assert_int_equal(k1.n, 16);

    /* Every generated key is one file in the key store; destroying removes the file and the
     * name. */
    static const char *const made[] = {"gen-p256",   "gen-p384",     "gen-rsa1024", "gen-x25519",
                                       "gen-aes256", "gen-aes256-b", "gen-chacha",  "gen-raw"};
    const int n_made = (int)(sizeof(made) / sizeof(made[0]));
    assert_int_equal(daemon_count_key_files(&D), files + n_made);
    for (int i = 0; i < n_made; i++) {
        assert_int_equal(op_destroy(&C, made[i]), 0);
        assert_int_equal(op_destroy(&C, made[i]), PSC_PSA_DOES_NOT_EXIST);
    }
    assert_int_equal(op_export_public(&C, "gen-p256", &none), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(daemon_count_key_files(&D), files);
    /* The name is free again. */
    assert_int_equal(op_generate(&C, "gen-raw", raw), 0);
    assert_int_equal(op_destroy(&C, "gen-raw"), 0);
}

/* Imported keys export back to the same bytes; public exports match OpenSSL's encodings. */
static void import_export(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048), *p256 = pem_key(PEM_P256), *x = pem_key(PEM_X25519);
    struct buf out;

    Attrs *ra = attrs(key_type(KT_RSA_PAIR, 0), 2048, U_EXPORT | U_SIGN_HASH,
                      alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-rsa", ra, der_rsa_private(rsa)), 0);
    assert_int_equal(op_export(&C, "imp-rsa", &out), 0);
    assert_true(buf_eq(out, der_rsa_private(rsa)));
    const unsigned char *p = out.p;
    EVP_PKEY *back = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)out.n);
    assert_non_null(back);
    assert_int_equal(EVP_PKEY_eq(back, rsa), 1);
    EVP_PKEY_free(back);
    assert_int_equal(op_export_public(&C, "imp-rsa", &out), 0);
    assert_true(buf_eq(out, der_rsa_public(rsa)));

    Attrs *rp = attrs(key_type(KT_RSA_PUB, 0), 2048, U_VERIFY_HASH, alg_sig(SIG_PKCS1, HASH_ANY));
    assert_int_equal(op_import(&C, "imp-rsa-pub", rp, der_rsa_public(rsa)), 0);
    assert_int_equal(op_export_public(&C, "imp-rsa-pub", &out), 0);
    assert_true(buf_eq(out, der_rsa_public(rsa)));
    assert_int_equal(EVP_PKEY_eq(pkey_rsa_public(out), rsa), 1);
    /* A public key exports with PsaExportKey too, without the export flag (upstream e2e
     * export_key::import_and_export_rsa_public_key). */
    assert_int_equal(op_export(&C, "imp-rsa-pub", &out), 0);
    assert_true(buf_eq(out, der_rsa_public(rsa)));

    /* key_bits 0: the size is deduced from the data, and the mapping records the real size. */
    Attrs *ea = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 0, U_EXPORT | U_SIGN_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-p256", ea, ec_private_scalar(p256, 32)), 0);
    assert_int_equal(op_export(&C, "imp-p256", &out), 0);
    assert_true(buf_eq(out, ec_private_scalar(p256, 32)));
    assert_int_equal(op_export_public(&C, "imp-p256", &out), 0);
    assert_true(buf_eq(out, public_octets(p256)));
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&C, &lk), 0);
    const ListKeys__KeyInfo *ki = list_find(lk, "imp-p256");
    assert_non_null(ki);
    assert_int_equal(ki->provider_id, 1);
    assert_int_equal(ki->attributes->key_bits, 256);
    assert_int_equal(ki->attributes->key_type->variant_case,
                     PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR);
    assert_int_equal(ki->attributes->key_type->ecc_key_pair->curve_family, ECC(SECP_R1));
    assert_true(ki->attributes->key_policy->key_usage_flags->export);
    assert_true(ki->attributes->key_policy->key_usage_flags->sign_hash);
    assert_false(ki->attributes->key_policy->key_usage_flags->verify_hash);
    assert_false(ki->attributes->key_policy->key_usage_flags->cache);

    /* The cache flag, which Mbed TLS 2.28 has no bit for, is kept in the mapping. */
    Attrs *cached = attrs(key_type(KT_AES, 0), 128, U_CACHE | U_ENCRYPT, alg_cipher(CIPHER(CTR)));
    assert_int_equal(op_import(&C, "imp-cached", cached, hex("000102030405060708090a0b0c0d0e0f")),
                     0);
    assert_int_equal(op_cipher_encrypt(&C, "imp-cached", CIPHER(CTR), buf_str("x"), &out), 0);
    assert_int_equal(op_list_keys(&C, &lk), 0);
    ki = list_find(lk, "imp-cached");
    assert_non_null(ki);
    assert_true(ki->attributes->key_policy->key_usage_flags->cache);
    assert_true(ki->attributes->key_policy->key_usage_flags->encrypt);
    assert_int_equal(ki->attributes->key_policy->key_algorithm->cipher, CIPHER(CTR));
    assert_int_equal(op_destroy(&C, "imp-cached"), 0);

    Attrs *ep = attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-p256-pub", ep, public_octets(p256)), 0);
    assert_int_equal(op_export_public(&C, "imp-p256-pub", &out), 0);
    assert_true(buf_eq(out, public_octets(p256)));

    Attrs *xa = attrs(key_type(KT_ECC_PAIR, ECC(MONTGOMERY)), 255, U_EXPORT | U_DERIVE,
                      alg_ka_raw(KA_ECDH));
    assert_int_equal(op_import(&C, "imp-x25519", xa, raw_private(x)), 0);
    assert_int_equal(op_export(&C, "imp-x25519", &out), 0);
    assert_true(buf_eq(out, raw_private(x)));
    assert_int_equal(op_export_public(&C, "imp-x25519", &out), 0);
    assert_true(buf_eq(out, public_octets(x)));

    struct buf aes = hex("000102030405060708090a0b0c0d0e0f");
    Attrs *aa = attrs(key_type(KT_AES, 0), 128, U_EXPORT | U_ENCRYPT, alg_cipher(CIPHER(CTR)));
    assert_int_equal(op_import(&C, "imp-aes", aa, aes), 0);
    assert_int_equal(op_export(&C, "imp-aes", &out), 0);
    assert_true(buf_eq(out, aes));
    /* A symmetric key has no public part. */
    assert_int_equal(op_export_public(&C, "imp-aes", &out), PSC_PSA_INVALID_ARGUMENT);

    static const char *const made[] = {"imp-rsa",      "imp-rsa-pub", "imp-p256",
                                       "imp-p256-pub", "imp-x25519",  "imp-aes"};
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
        assert_int_equal(op_destroy(&C, made[i]), 0);
}

/* ---- signatures ------------------------------------------------------------------------- */

static void sign_verify_rsa(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048);
    struct buf der = der_rsa_private(rsa), sig, sig2;
    const unsigned both = U_SIGN_HASH | U_VERIFY_HASH;

    /* PKCS#1 v1.5 under an any-hash policy: each specific hash, both directions. */
    assert_int_equal(
        op_import(&C, "rsa-pkcs1",
                  attrs(key_type(KT_RSA_PAIR, 0), 2048, both, alg_sig(SIG_PKCS1, HASH_ANY)), der),
        0);
    static const int hashes[] = {HASH(SHA_224), HASH(SHA_256), HASH(SHA_384), HASH(SHA_512)};
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        struct buf h = digest(hashes[i], buf_str("PKCS#1 v1.5"));
        SigAlg *alg = sig_alg(SIG_PKCS1, hashes[i]);
        assert_int_equal(op_sign_hash(&C, "rsa-pkcs1", alg, h, &sig), 0);
        assert_int_equal(sig.n, 256);
        assert_true(ossl_verify(rsa, md_of(hashes[i]), PAD_PKCS1, h, sig));
        assert_false(ossl_verify(rsa, md_of(hashes[i]), PAD_PKCS1, flip(h, 0), sig));
        /* PKCS#1 v1.5 is deterministic: OpenSSL makes the same signature. */
        assert_true(buf_eq(sig, ossl_sign(rsa, md_of(hashes[i]), PAD_PKCS1, h, 0)));
        assert_int_equal(op_verify_hash(&C, "rsa-pkcs1", alg, h, sig), 0);
        assert_int_equal(op_verify_hash(&C, "rsa-pkcs1", alg, h, flip(sig, 100)),
                         PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(op_verify_hash(&C, "rsa-pkcs1", alg, flip(h, 3), sig),
                         PSC_PSA_INVALID_SIGNATURE);
    }

    /* PKCS#1 v1.5 without DigestInfo: any input length. */
    assert_int_equal(
        op_import(&C, "rsa-raw",
                  attrs(key_type(KT_RSA_PAIR, 0), 2048, both, alg_sig(SIG_PKCS1_RAW, 0)), der),
        0);
    struct buf raw = buf_str("twenty-one raw bytes!");
    assert_int_equal(op_sign_hash(&C, "rsa-raw", sig_alg(SIG_PKCS1_RAW, 0), raw, &sig), 0);
    assert_true(ossl_verify(rsa, NULL, PAD_PKCS1, raw, sig));
    assert_int_equal(op_verify_hash(&C, "rsa-raw", sig_alg(SIG_PKCS1_RAW, 0), raw,
                                    ossl_sign(rsa, NULL, PAD_PKCS1, raw, 0)),
                     0);

    /* PSS: randomised, verified by OpenSSL; OpenSSL's salt-as-long-as-the-hash verifies here. */
    assert_int_equal(
        op_import(&C, "rsa-pss",
                  attrs(key_type(KT_RSA_PAIR, 0), 2048, both, alg_sig(SIG_PSS, HASH(SHA_256))),
                  der),
        0);
    struct buf h = digest(HASH(SHA_256), buf_str("PSS"));
    SigAlg *pss = sig_alg(SIG_PSS, HASH(SHA_256));
    assert_int_equal(op_sign_hash(&C, "rsa-pss", pss, h, &sig), 0);
    assert_int_equal(op_sign_hash(&C, "rsa-pss", pss, h, &sig2), 0);
    assert_false(buf_eq(sig, sig2));
    assert_true(ossl_verify(rsa, EVP_sha256(), PAD_PSS, h, sig));
    assert_true(ossl_verify(rsa, EVP_sha256(), PAD_PSS, h, sig2));
    assert_false(ossl_verify(rsa, EVP_sha256(), PAD_PSS, flip(h, 0), sig));
    assert_int_equal(
        op_verify_hash(&C, "rsa-pss", pss, h, ossl_sign(rsa, EVP_sha256(), PAD_PSS, h, 0)), 0);
    assert_int_equal(op_verify_hash(&C, "rsa-pss", pss, h, flip(sig, 7)),
                     PSC_PSA_INVALID_SIGNATURE);

    /* Messages: the service hashes, OpenSSL checks over the digest; a sign_hash key may sign
     * messages. */
    struct buf msg = buf_str("a message signed whole");
    struct buf hm = digest(HASH(SHA_256), msg);
    assert_int_equal(op_sign_message(&C, "rsa-pss", pss, msg, &sig), 0);
    assert_true(ossl_verify(rsa, EVP_sha256(), PAD_PSS, hm, sig));
    assert_int_equal(
        op_verify_message(&C, "rsa-pss", pss, msg, ossl_sign(rsa, EVP_sha256(), PAD_PSS, hm, 0)),
        0);
    assert_int_equal(op_verify_message(&C, "rsa-pss", pss, flip(msg, 0), sig),
                     PSC_PSA_INVALID_SIGNATURE);
    SigAlg *v15 = sig_alg(SIG_PKCS1, HASH(SHA_384));
    struct buf hm384 = digest(HASH(SHA_384), msg);
    assert_int_equal(op_sign_message(&C, "rsa-pkcs1", v15, msg, &sig), 0);
    assert_true(ossl_verify(rsa, EVP_sha384(), PAD_PKCS1, hm384, sig));
    assert_int_equal(op_verify_message(&C, "rsa-pkcs1", v15, msg, sig), 0);
    assert_int_equal(op_verify_message(&C, "rsa-pkcs1", v15, msg, flip(sig, 0)),
                     PSC_PSA_INVALID_SIGNATURE);

    /* A public key verifies what OpenSSL signed, and cannot sign. */
    assert_int_equal(
        op_import(&C, "rsa-verify-only",
                  attrs(key_type(KT_RSA_PUB, 0), 2048, U_VERIFY_HASH | U_VERIFY_MESSAGE,
                        alg_sig(SIG_PKCS1, HASH(SHA_256))),
                  der_rsa_public(rsa)),
        0);
    SigAlg *s256 = sig_alg(SIG_PKCS1, HASH(SHA_256));
    assert_int_equal(op_verify_hash(&C, "rsa-verify-only", s256, h,
                                    ossl_sign(rsa, EVP_sha256(), PAD_PKCS1, h, 0)),
                     0);
    assert_int_equal(op_verify_message(&C, "rsa-verify-only", s256, msg,
                                       ossl_sign(rsa, EVP_sha256(), PAD_PKCS1, hm, 0)),
                     0);
    assert_int_equal(op_sign_hash(&C, "rsa-verify-only", s256, h, &sig), PSC_PSA_NOT_PERMITTED);

    /* ListKeys gives the policies back as they were sent: the wildcard stays a wildcard. */
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&C, &lk), 0);
    const ListKeys__KeyInfo *ki = list_find(lk, "rsa-pkcs1");
    assert_non_null(ki);
    const SigAlg *pol = ki->attributes->key_policy->key_algorithm->asymmetric_signature;
    assert_int_equal(pol->variant_case,
                     PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN);
    assert_int_equal(pol->rsa_pkcs1v15_sign->hash_alg->variant_case,
                     PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_ANY);
    ki = list_find(lk, "rsa-pss");
    assert_non_null(ki);
    pol = ki->attributes->key_policy->key_algorithm->asymmetric_signature;
    assert_int_equal(pol->variant_case,
                     PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PSS);
    assert_int_equal(pol->rsa_pss->hash_alg->specific, HASH(SHA_256));
    ki = list_find(lk, "rsa-raw");
    assert_non_null(ki);
    assert_int_equal(ki->attributes->key_policy->key_algorithm->asymmetric_signature->variant_case,
                     PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN_RAW);

    static const char *const made[] = {"rsa-pkcs1", "rsa-raw", "rsa-pss", "rsa-verify-only"};
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
        assert_int_equal(op_destroy(&C, made[i]), 0);
}

static void sign_verify_ecc(void **state)
{
    (void)state;
    static const struct {
        const char *name, *group;
        const char *pem;
        uint32_t bits;
        int hash;
    } ec[] = {{"ecdsa-p256", "prime256v1", PEM_P256, 256, HASH(SHA_256)},
              {"ecdsa-p384", "secp384r1", PEM_P384, 384, HASH(SHA_384)}};
    const unsigned all = U_SIGN_HASH | U_VERIFY_HASH | U_SIGN_MESSAGE | U_VERIFY_MESSAGE;
    struct buf msg = buf_str("ECDSA message");
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *k = pem_key(ec[i].pem);
        size_t half = ec[i].bits / 8;
        struct buf h = digest(ec[i].hash, msg), sig, sig2;
        SigAlg *alg = sig_alg(SIG_ECDSA, ec[i].hash);
        assert_int_equal(op_import(&C, ec[i].name,
                                   attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), ec[i].bits, all,
                                         alg_sig(SIG_ECDSA, ec[i].hash)),
                                   ec_private_scalar(k, half)),
                         0);
        assert_int_equal(op_sign_hash(&C, ec[i].name, alg, h, &sig), 0);
        assert_int_equal(sig.n, 2 * half);
        assert_true(ossl_verify(k, md_of(ec[i].hash), PAD_NONE, h, sig));
        /* OpenSSL's verdict discriminates: a changed hash or signature fails. */
        assert_false(ossl_verify(k, md_of(ec[i].hash), PAD_NONE, flip(h, 0), sig));
        assert_false(ossl_verify(k, md_of(ec[i].hash), PAD_NONE, h, flip(sig, 9)));
        /* Randomised ECDSA: a second signature differs and verifies too. */
        assert_int_equal(op_sign_hash(&C, ec[i].name, alg, h, &sig2), 0);
        assert_false(buf_eq(sig, sig2));
        assert_true(ossl_verify(k, md_of(ec[i].hash), PAD_NONE, h, sig2));
        struct buf osig = ossl_sign(k, md_of(ec[i].hash), PAD_NONE, h, half);
        assert_int_equal(op_verify_hash(&C, ec[i].name, alg, h, osig), 0);
        assert_int_equal(op_verify_hash(&C, ec[i].name, alg, h, flip(osig, 5)),
                         PSC_PSA_INVALID_SIGNATURE);
        /* Messages. */
        assert_int_equal(op_sign_message(&C, ec[i].name, alg, msg, &sig), 0);
        assert_true(ossl_verify(k, md_of(ec[i].hash), PAD_NONE, h, sig));
        assert_int_equal(op_verify_message(&C, ec[i].name, alg, msg, osig), 0);
        assert_int_equal(op_verify_message(&C, ec[i].name, alg, flip(msg, 1), osig),
                         PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(op_destroy(&C, ec[i].name), 0);
    }

    EVP_PKEY *k = pem_key(PEM_P256);
    struct buf scalar = ec_private_scalar(k, 32), h = digest(HASH(SHA_256), msg), s1, s2;

    /* Deterministic ECDSA (RFC 6979): the same signature twice, valid for OpenSSL. */
    SigAlg *det = sig_alg(SIG_DET_ECDSA, HASH(SHA_256));
    assert_int_equal(
        op_import(&C, "ecdsa-det",
                  attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH,
                        alg_sig(SIG_DET_ECDSA, HASH(SHA_256))),
                  scalar),
        0);
    assert_int_equal(op_sign_hash(&C, "ecdsa-det", det, h, &s1), 0);
    assert_int_equal(op_sign_hash(&C, "ecdsa-det", det, h, &s2), 0);
    assert_true(buf_eq(s1, s2));
    assert_true(ossl_verify(k, EVP_sha256(), PAD_NONE, h, s1));
    assert_int_equal(op_verify_hash(&C, "ecdsa-det", det, h, s1), 0);

    /* ECDSA over a hash of any length. */
    SigAlg *any = sig_alg(SIG_ECDSA_ANY, 0);
    assert_int_equal(op_import(&C, "ecdsa-any",
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256,
                                     U_SIGN_HASH | U_VERIFY_HASH, alg_sig(SIG_ECDSA_ANY, 0)),
                               scalar),
                     0);
    struct buf h384 = digest(HASH(SHA_384), msg);
    assert_int_equal(op_sign_hash(&C, "ecdsa-any", any, h, &s1), 0);
    assert_true(ossl_verify(k, NULL, PAD_NONE, h, s1));
    assert_int_equal(op_sign_hash(&C, "ecdsa-any", any, h384, &s1), 0);
    assert_int_equal(op_verify_hash(&C, "ecdsa-any", any, h384, s1), 0);

    /* A public key verifies what OpenSSL signed. */
    SigAlg *e256 = sig_alg(SIG_ECDSA, HASH(SHA_256));
    assert_int_equal(op_import(&C, "ecdsa-pub",
                               attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256))),
                               public_octets(k)),
                     0);
    assert_int_equal(
        op_verify_hash(&C, "ecdsa-pub", e256, h, ossl_sign(k, EVP_sha256(), PAD_NONE, h, 32)), 0);
    assert_int_equal(op_sign_hash(&C, "ecdsa-pub", e256, h, &s1), PSC_PSA_NOT_PERMITTED);

    assert_int_equal(op_destroy(&C, "ecdsa-det"), 0);
    assert_int_equal(op_destroy(&C, "ecdsa-any"), 0);
    assert_int_equal(op_destroy(&C, "ecdsa-pub"), 0);
}

/* ---- asymmetric encryption -------------------------------------------------------------- */

static void asymmetric_encryption(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048);
    struct buf der = der_rsa_private(rsa), pt = buf_str("a short secret"), ct, back;
    static const struct {
        const char *name;
        int oaep_hash; /* 0: PKCS#1 v1.5 */
        const char *label;
    } cases[] = {
        {"enc-v15", 0, NULL},
        {"enc-oaep256", HASH(SHA_256), NULL},
        {"enc-oaep256-label", HASH(SHA_256), "a label"},
        {"enc-oaep384", HASH(SHA_384), NULL},
        /* SHA-1 is deprecated: an import is only warned about. */
        {"enc-oaep1", HASH(SHA_1), "l"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int pad = cases[i].oaep_hash ? PAD_OAEP : PAD_PKCS1;
        const EVP_MD *md = cases[i].oaep_hash ? md_of(cases[i].oaep_hash) : NULL;
        struct buf label = cases[i].label ? buf_str(cases[i].label) : buf_none();
        EncAlg *alg = enc_alg(cases[i].oaep_hash);
        assert_int_equal(op_import(&C, cases[i].name,
                                   attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT,
                                         alg_enc(cases[i].oaep_hash)),
                                   der),
                         0);
        /* Ours to OpenSSL. */
        assert_int_equal(op_asym_encrypt(&C, cases[i].name, alg, pt, label, &ct), 0);
        assert_int_equal(ct.n, 256);
        assert_int_equal(ossl_decrypt(rsa, pad, md, label, ct, &back), 0);
        assert_true(buf_eq(back, pt));
        /* OpenSSL to ours, and ours to ours. */
        ct = ossl_encrypt(rsa, pad, md, label, pt);
        assert_int_equal(op_asym_decrypt(&C, cases[i].name, alg, ct, label, &back), 0);
        assert_true(buf_eq(back, pt));
        assert_int_equal(op_asym_encrypt(&C, cases[i].name, alg, pt, label, &ct), 0);
        assert_int_equal(op_asym_decrypt(&C, cases[i].name, alg, ct, label, &back), 0);
        assert_true(buf_eq(back, pt));
        /* OAEP binds the label. */
        if (cases[i].oaep_hash)
            assert_int_equal(op_asym_decrypt(&C, cases[i].name, alg, ct, buf_str("other"), &back),
                             PSC_PSA_INVALID_PADDING);
        assert_int_equal(op_destroy(&C, cases[i].name), 0);
    }

    /* A public key encrypts for OpenSSL's private key and cannot decrypt. */
    EncAlg *v15 = enc_alg(0);
    assert_int_equal(op_import(&C, "enc-pub",
                               attrs(key_type(KT_RSA_PUB, 0), 2048, U_ENCRYPT, alg_enc(0)),
                               der_rsa_public(rsa)),
                     0);
    assert_int_equal(op_asym_encrypt(&C, "enc-pub", v15, pt, buf_none(), &ct), 0);
    assert_int_equal(ossl_decrypt(rsa, PAD_PKCS1, NULL, buf_none(), ct, &back), 0);
    assert_true(buf_eq(back, pt));
    assert_int_equal(op_asym_decrypt(&C, "enc-pub", v15, ct, buf_none(), &back),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_destroy(&C, "enc-pub"), 0);
}

/* ---- AEAD and ciphers ------------------------------------------------------------------- */

static void aead(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum key_kind kind;
        const char *key;
        int aead;
        uint32_t tag; /* 0: default (16) */
        size_t nonce;
        int ccm;
    } cases[] = {
        {"aead-gcm128", KT_AES, "00112233445566778899aabbccddeeff", AEAD(GCM), 0, 12, 0},
        {"aead-gcm256-t12", KT_AES,
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", AEAD(GCM), 12, 12, 0},
        {"aead-ccm128", KT_AES, "404142434445464748494a4b4c4d4e4f", AEAD(CCM), 0, 13, 1},
        {"aead-ccm192-t8", KT_AES, "404142434445464748494a4b4c4d4e4f5051525354555657", AEAD(CCM), 8,
         11, 1},
        {"aead-chachapoly", KT_CHACHA20,
         "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
         AEAD(CHACHA20_POLY1305), 0, 12, 0},
    };
    struct buf pt = buf_str("Ladies and Gentlemen of the class of '99"), ad = buf_str("header");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf key = hex(cases[i].key), ct, back;
        size_t tag = cases[i].tag ? cases[i].tag : 16;
        const EVP_CIPHER *cipher;
        if (cases[i].kind == KT_CHACHA20)
            cipher = EVP_chacha20_poly1305();
        else if (cases[i].ccm)
            cipher = key.n == 16 ? EVP_aes_128_ccm() : EVP_aes_192_ccm();
        else
            cipher = key.n == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
        struct buf nonce = {e2e_alloc(cases[i].nonce), cases[i].nonce};
        for (size_t j = 0; j < nonce.n; j++)
            nonce.p[j] = (uint8_t)(0xA0 + i + j);
        AeadAlg *alg = aead_alg(cases[i].aead, cases[i].tag);
        assert_int_equal(
            op_import(&C, cases[i].name,
                      attrs(key_type(cases[i].kind, 0), (uint32_t)key.n * 8, U_ENCRYPT | U_DECRYPT,
                            alg_aead(cases[i].aead, cases[i].tag)),
                      key),
            0);
        for (int with_ad = 0; with_ad < 2; with_ad++) {
            struct buf a = with_ad ? ad : buf_none();
            assert_int_equal(op_aead_encrypt(&C, cases[i].name, alg, nonce, a, pt, &ct), 0);
            assert_int_equal(ct.n, pt.n + tag);
            assert_int_equal(ossl_aead(0, cipher, cases[i].ccm, key, nonce, a, ct, tag, &back), 0);
            assert_true(buf_eq(back, pt));
            /* OpenSSL's ciphertext is the same bytes (same key, nonce, data). */
            struct buf oct;
            assert_int_equal(ossl_aead(1, cipher, cases[i].ccm, key, nonce, a, pt, tag, &oct), 0);
            assert_true(buf_eq(oct, ct));
            assert_int_equal(op_aead_decrypt(&C, cases[i].name, alg, nonce, a, oct, &back), 0);
            assert_true(buf_eq(back, pt));
            /* A changed tag, ciphertext or additional data is refused. */
            assert_int_equal(
                op_aead_decrypt(&C, cases[i].name, alg, nonce, a, flip(oct, oct.n - 1), &back),
                PSC_PSA_INVALID_SIGNATURE);
            assert_int_equal(op_aead_decrypt(&C, cases[i].name, alg, nonce, a, flip(oct, 0), &back),
                             PSC_PSA_INVALID_SIGNATURE);
            assert_int_equal(
                op_aead_decrypt(&C, cases[i].name, alg, nonce, buf_str("other"), oct, &back),
                PSC_PSA_INVALID_SIGNATURE);
        }
        assert_int_equal(op_destroy(&C, cases[i].name), 0);
    }
}

static void cipher(void **state)
{
    (void)state;
    struct buf key = hex("2b7e151628aed2a6abf7158809cf4f3c"), ct, back;
    /* 32 bytes: a whole number of blocks, for the modes without padding. */
    struct buf pt = buf_str("thirty-two bytes of plain text!!");
    assert_int_equal(pt.n, 32);
    static const struct {
        const char *name;
        int alg;
        size_t iv;
        int padding;
    } modes[] = {
        {"cipher-cbc-pkcs7", CIPHER(CBC_PKCS7), 16, 1},
        {"cipher-cbc", CIPHER(CBC_NO_PADDING), 16, 0},
        {"cipher-ctr", CIPHER(CTR), 16, 0},
        {"cipher-cfb", CIPHER(CFB), 16, 0},
        {"cipher-ofb", CIPHER(OFB), 16, 0},
        {"cipher-ecb", CIPHER(ECB_NO_PADDING), 0, 0},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const EVP_CIPHER *oc;
        switch (modes[i].alg) {
        case CIPHER(CBC_PKCS7):
        case CIPHER(CBC_NO_PADDING):
            oc = EVP_aes_128_cbc();
            break;
        case CIPHER(CTR):
            oc = EVP_aes_128_ctr();
            break;
        case CIPHER(CFB):
            oc = EVP_aes_128_cfb128();
            break;
        case CIPHER(OFB):
            oc = EVP_aes_128_ofb();
            break;
        default:
            oc = EVP_aes_128_ecb();
            break;
        }
        assert_int_equal(op_import(&C, modes[i].name,
                                   attrs(key_type(KT_AES, 0), 128, U_ENCRYPT | U_DECRYPT,
                                         alg_cipher(modes[i].alg)),
                                   key),
                         0);
        /* Ours: IV || ciphertext; OpenSSL decrypts the rest with that IV. */
        assert_int_equal(op_cipher_encrypt(&C, modes[i].name, modes[i].alg, pt, &ct), 0);
        size_t body = modes[i].padding ? 48 : 32;
        assert_int_equal(ct.n, modes[i].iv + body);
        struct buf iv = {ct.p, modes[i].iv}, rest = {ct.p + modes[i].iv, body};
        assert_true(buf_eq(ossl_cipher(0, oc, key, iv, rest, modes[i].padding), pt));
        /* A fresh random IV each time (ECB has none and is deterministic). */
        struct buf ct2;
        assert_int_equal(op_cipher_encrypt(&C, modes[i].name, modes[i].alg, pt, &ct2), 0);
        assert_true(modes[i].iv ? !buf_eq(ct, ct2) : buf_eq(ct, ct2));
        /* OpenSSL's IV || ciphertext decrypts here. */
        struct buf oiv = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        oiv.n = modes[i].iv;
        struct buf oct = ossl_cipher(1, oc, key, oiv, pt, modes[i].padding);
        struct buf in = {e2e_alloc(oiv.n + oct.n), oiv.n + oct.n};
        memcpy(in.p, oiv.p, oiv.n);
        memcpy(in.p + oiv.n, oct.p, oct.n);
        assert_int_equal(op_cipher_decrypt(&C, modes[i].name, modes[i].alg, in, &back), 0);
        assert_true(buf_eq(back, pt));
        assert_int_equal(op_destroy(&C, modes[i].name), 0);
    }

    /* CBC with PKCS#7 padding on a length that is not a whole number of blocks. */
    assert_int_equal(op_import(&C, "cipher-pad",
                               attrs(key_type(KT_AES, 0), 128, U_ENCRYPT | U_DECRYPT,
                                     alg_cipher(CIPHER(CBC_PKCS7))),
                               key),
                     0);
    struct buf odd = buf_str("five!");
    assert_int_equal(op_cipher_encrypt(&C, "cipher-pad", CIPHER(CBC_PKCS7), odd, &ct), 0);
    assert_int_equal(ct.n, 32);
    struct buf iv = {ct.p, 16}, rest = {ct.p + 16, 16};
    assert_true(buf_eq(ossl_cipher(0, EVP_aes_128_cbc(), key, iv, rest, 1), odd));
    assert_int_equal(op_cipher_decrypt(&C, "cipher-pad", CIPHER(CBC_PKCS7), ct, &back), 0);
    assert_true(buf_eq(back, odd));
    assert_int_equal(op_destroy(&C, "cipher-pad"), 0);

    /* ChaCha20 stream cipher: a 12-byte nonce; OpenSSL's IV is a 32-bit counter (0) then it. */
    struct buf ck = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(op_import(&C, "cipher-chacha",
                               attrs(key_type(KT_CHACHA20, 0), 256, U_ENCRYPT | U_DECRYPT,
                                     alg_cipher(CIPHER(STREAM_CIPHER))),
                               ck),
                     0);
    assert_int_equal(op_cipher_encrypt(&C, "cipher-chacha", CIPHER(STREAM_CIPHER), odd, &ct), 0);
    assert_int_equal(ct.n, 12 + odd.n);
    struct buf civ = {e2e_alloc(16), 16};
    memcpy(civ.p + 4, ct.p, 12);
    struct buf cbody = {ct.p + 12, odd.n};
    assert_true(buf_eq(ossl_cipher(0, EVP_chacha20(), ck, civ, cbody, 0), odd));
    assert_int_equal(op_cipher_decrypt(&C, "cipher-chacha", CIPHER(STREAM_CIPHER), ct, &back), 0);
    assert_true(buf_eq(back, odd));
    assert_int_equal(op_destroy(&C, "cipher-chacha"), 0);
}

/* ---- key agreement ---------------------------------------------------------------------- */

static void key_agreement(void **state)
{
    (void)state;
    static const struct {
        const char *name, *pem, *curve; /* curve NULL: X25519 */
        int family;
        uint32_t bits;
        size_t secret;
    } cases[] = {
        {"ecdh-p256", PEM_P256, "P-256", ECC(SECP_R1), 256, 32},
        {"ecdh-p384", PEM_P384, "P-384", ECC(SECP_R1), 384, 48},
        {"ecdh-x25519", PEM_X25519, NULL, ECC(MONTGOMERY), 255, 32},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *ours = pem_key(cases[i].pem);
        struct buf priv =
            cases[i].curve ? ec_private_scalar(ours, cases[i].bits / 8) : raw_private(ours);
        assert_int_equal(op_import(&C, cases[i].name,
                                   attrs(key_type(KT_ECC_PAIR, cases[i].family), cases[i].bits,
                                         U_DERIVE, alg_ka_raw(KA_ECDH)),
                                   priv),
                         0);
        EVP_PKEY *peer =
            cases[i].curve ? ossl_keygen("EC", cases[i].curve) : ossl_keygen("X25519", NULL);
        struct buf secret;
        assert_int_equal(
            op_raw_key_agreement(&C, cases[i].name, KA_ECDH, public_octets(peer), &secret), 0);
        assert_int_equal(secret.n, cases[i].secret);
        assert_true(buf_eq(secret, ossl_derive(peer, ours)));
        /* A peer key that is not a point of the curve. */
        struct buf bad = public_octets(peer);
        bad.n -= 1;
        assert_int_equal(op_raw_key_agreement(&C, cases[i].name, KA_ECDH, bad, &secret),
                         PSC_PSA_INVALID_ARGUMENT);
        assert_int_equal(op_destroy(&C, cases[i].name), 0);
    }
}

/* ---- keyless operations ----------------------------------------------------------------- */

static void hash(void **state)
{
    (void)state;
    /* No authentication needed. */
    struct caller anon = {.sock = D.sock};
    static const int hashes[] = {HASH(MD5),     HASH(SHA_1),   HASH(SHA_224),
                                 HASH(SHA_256), HASH(SHA_384), HASH(SHA_512)};
    struct buf in = buf_str("The quick brown fox jumps over the lazy dog"), out;
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        struct buf want = digest(hashes[i], in);
        assert_int_equal(op_hash_compute(&anon, hashes[i], in, &out), 0);
        assert_true(buf_eq(out, want));
        assert_int_equal(op_hash_compare(&anon, hashes[i], in, want), 0);
        assert_int_equal(op_hash_compare(&C, hashes[i], in, flip(want, 0)),
                         PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(op_hash_compare(&C, hashes[i], flip(in, 0), want),
                         PSC_PSA_INVALID_SIGNATURE);
        /* A hash of the wrong length is a mismatch, as in the original and Mbed TLS. */
        struct buf shorter = {want.p, want.n - 1};
        assert_int_equal(op_hash_compare(&C, hashes[i], in, shorter), PSC_PSA_INVALID_SIGNATURE);
    }
    /* Known answer, and the empty input. */
    assert_int_equal(op_hash_compute(&anon, HASH(SHA_256), buf_str("abc"), &out), 0);
    assert_true(
        buf_eq(out, hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")));
    assert_int_equal(op_hash_compute(&anon, HASH(SHA_256), buf_none(), &out), 0);
    assert_true(
        buf_eq(out, hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")));
}

static void random_bytes(void **state)
{
    (void)state;
    struct caller anon = {.sock = D.sock};
    struct buf a, b;
    assert_int_equal(op_generate_random(&anon, 32, &a), 0);
    assert_int_equal(op_generate_random(&C, 32, &b), 0);
    assert_int_equal(a.n, 32);
    assert_int_equal(b.n, 32);
    assert_false(buf_eq(a, b));
    /* Exactly the limit (1 MiB by default) is served, one byte more is refused. */
    assert_int_equal(op_generate_random(&anon, 1u << 20, &a), 0);
    assert_int_equal(a.n, 1u << 20);
    assert_int_equal(op_generate_random(&anon, (1u << 20) + 1, &a), PSC_RESPONSE_TOO_LARGE);
    assert_int_equal(op_generate_random(&anon, UINT64_MAX, &a), PSC_RESPONSE_TOO_LARGE);
}

static void can_do_crypto(void **state)
{
    (void)state;
    enum { USE = 1, GENERATE = 2, IMPORT = 3, DERIVE = 4 };
    Attrs *rsa_sign =
        attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH, alg_sig(SIG_PKCS1, HASH(SHA_256)));
    Attrs *ecc_sign = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH,
                            alg_sig(SIG_ECDSA, HASH(SHA_256)));
    Attrs *rsa_pub = attrs(key_type(KT_RSA_PUB, 0), 2048, U_ENCRYPT, alg_enc(0));
    Attrs *aes_none = attrs(key_type(KT_AES, 0), 256, U_EXPORT, alg_none());
    assert_int_equal(op_can_do(&C, USE, rsa_sign), 0);
    assert_int_equal(op_can_do(&C, GENERATE, rsa_sign), 0);
    assert_int_equal(op_can_do(&C, USE, ecc_sign), 0);
    assert_int_equal(op_can_do(&C, GENERATE, ecc_sign), 0);
    assert_int_equal(op_can_do(&C, IMPORT, rsa_pub), 0);
    assert_int_equal(op_can_do(&C, GENERATE, aes_none), 0);
    /* Public keys are imported, not generated. */
    assert_int_equal(op_can_do(&C, GENERATE, rsa_pub), PSC_PSA_NOT_SUPPORTED);
    /* RSA sizes other than 1024/2048/4096. */
    Attrs *rsa3072 =
        attrs(key_type(KT_RSA_PAIR, 0), 3072, U_SIGN_HASH, alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_can_do(&C, GENERATE, rsa3072), PSC_PSA_NOT_SUPPORTED);
    /* USE needs an algorithm, a use flag, and an algorithm that fits the key. */
    assert_int_equal(op_can_do(&C, USE, aes_none), PSC_PSA_NOT_SUPPORTED);
    Attrs *derive_only = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_DERIVE,
                               alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_can_do(&C, USE, derive_only), PSC_PSA_NOT_SUPPORTED);
    Attrs *mismatch = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                            alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_can_do(&C, USE, mismatch), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, DERIVE, ecc_sign), PSC_PSA_NOT_SUPPORTED);
    /* CHECKTYPE_NONE is not a value, and an application is needed. */
    assert_int_equal(op_can_do(&C, 0, ecc_sign), PSC_INVALID_ENCODING);
    struct caller anon = {.sock = D.sock};
    assert_int_equal(op_can_do(&anon, USE, ecc_sign), PSC_NOT_AUTHENTICATED);
}

/* ---- operations.md §9 error rows -------------------------------------------------------- */

/* 1139 for a name already used, 1140 for a name never used, by every operation on a key. */
static void errors_names(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_key(PEM_P256);
    Attrs *at = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "taken", at, ec_private_scalar(k, 32)), 0);
    int files = daemon_count_key_files(&D);
    assert_int_equal(op_import(&C, "taken", at, ec_private_scalar(k, 32)), PSC_PSA_ALREADY_EXISTS);
    assert_int_equal(op_generate(&C, "taken", at), PSC_PSA_ALREADY_EXISTS);
    /* A refused creation leaves nothing behind. */
    assert_int_equal(daemon_count_key_files(&D), files);
    assert_int_equal(op_destroy(&C, "taken"), 0);

    const char *ghost = "never-created";
    struct buf out, h = digest(HASH(SHA_256), buf_str("x")),
                    b16 = hex("00112233445566778899aabbccddeeff");
    SigAlg *s = sig_alg(SIG_ECDSA, HASH(SHA_256));
    assert_int_equal(op_destroy(&C, ghost), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export_public(&C, ghost, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export(&C, ghost, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_sign_hash(&C, ghost, s, h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_verify_hash(&C, ghost, s, h, h), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_sign_message(&C, ghost, s, h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_verify_message(&C, ghost, s, h, h), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_asym_encrypt(&C, ghost, enc_alg(0), h, buf_none(), &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_asym_decrypt(&C, ghost, enc_alg(0), h, buf_none(), &out),
                     PSC_PSA_DOES_NOT_EXIST);
    AeadAlg *gcm = aead_alg(AEAD(GCM), 0);
    assert_int_equal(op_aead_encrypt(&C, ghost, gcm, b16, buf_none(), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_aead_decrypt(&C, ghost, gcm, b16, buf_none(), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_cipher_encrypt(&C, ghost, CIPHER(CTR), h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_cipher_decrypt(&C, ghost, CIPHER(CTR), h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_raw_key_agreement(&C, ghost, KA_ECDH, public_octets(k), &out),
                     PSC_PSA_DOES_NOT_EXIST);
}

/* 1133: usage flag missing, algorithm outside the policy, export without the flag. */
static void errors_not_permitted(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048), *p256 = pem_key(PEM_P256);
    struct buf out, h = digest(HASH(SHA_256), buf_str("x")), pt = buf_str("pt");
    /* An RSA signing key (SHA-256 only, sign_hash without verify_hash). */
    assert_int_equal(op_import(&C, "np-rsa-sign",
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               der_rsa_private(rsa)),
                     0);
    struct buf sig;
    assert_int_equal(op_sign_hash(&C, "np-rsa-sign", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &sig),
                     0);
    assert_int_equal(op_verify_hash(&C, "np-rsa-sign", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig),
                     PSC_PSA_NOT_PERMITTED);
    struct buf h384 = digest(HASH(SHA_384), buf_str("x"));
    assert_int_equal(op_sign_hash(&C, "np-rsa-sign", sig_alg(SIG_PKCS1, HASH(SHA_384)), h384, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_sign_hash(&C, "np-rsa-sign", sig_alg(SIG_PSS, HASH(SHA_256)), h, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_asym_encrypt(&C, "np-rsa-sign", enc_alg(0), pt, buf_none(), &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_export(&C, "np-rsa-sign", &out), PSC_PSA_NOT_PERMITTED);
    /* The public part is always exportable. */
    assert_int_equal(op_export_public(&C, "np-rsa-sign", &out), 0);

    /* An encryption key: encrypt only, PKCS#1 v1.5 only. */
    assert_int_equal(op_import(&C, "np-rsa-enc",
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT, alg_enc(0)),
                               der_rsa_private(rsa)),
                     0);
    assert_int_equal(op_asym_encrypt(&C, "np-rsa-enc", enc_alg(0), pt, buf_none(), &out), 0);
    assert_int_equal(op_asym_decrypt(&C, "np-rsa-enc", enc_alg(0), out, buf_none(), &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_asym_encrypt(&C, "np-rsa-enc", enc_alg(HASH(SHA_256)), pt, buf_none(), &out),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_sign_hash(&C, "np-rsa-enc", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &out),
                     PSC_PSA_NOT_PERMITTED);

    /* An ECC signing key used for key agreement, and a key-agreement key used to sign. */
    assert_int_equal(
        op_import(&C, "np-ecc-sign",
                  attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_SIGN_MESSAGE,
                        alg_sig(SIG_ECDSA, HASH(SHA_256))),
                  ec_private_scalar(p256, 32)),
        0);
    assert_int_equal(op_raw_key_agreement(&C, "np-ecc-sign", KA_ECDH, public_octets(p256), &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_sign_hash(&C, "np-ecc-sign", sig_alg(SIG_DET_ECDSA, HASH(SHA_256)), h, &out),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_import(&C, "np-ecc-ecdh",
                  attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_DERIVE, alg_ka_raw(KA_ECDH)),
                  ec_private_scalar(p256, 32)),
        0);
    assert_int_equal(op_sign_hash(&C, "np-ecc-ecdh", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_sign_message(&C, "np-ecc-ecdh", sig_alg(SIG_ECDSA, HASH(SHA_256)), pt, &out),
        PSC_PSA_NOT_PERMITTED);

    /* Symmetric keys: the other direction, another mode. */
    struct buf key = hex("00112233445566778899aabbccddeeff"),
               nonce = hex("000102030405060708090a0b");
    assert_int_equal(op_import(&C, "np-aes-gcm",
                               attrs(key_type(KT_AES, 0), 128, U_ENCRYPT, alg_aead(AEAD(GCM), 0)),
                               key),
                     0);
    assert_int_equal(
        op_aead_encrypt(&C, "np-aes-gcm", aead_alg(AEAD(GCM), 0), nonce, buf_none(), pt, &out), 0);
    assert_int_equal(
        op_aead_decrypt(&C, "np-aes-gcm", aead_alg(AEAD(GCM), 0), nonce, buf_none(), out, &out),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_aead_encrypt(&C, "np-aes-gcm", aead_alg(AEAD(CCM), 0), nonce, buf_none(), pt, &out),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_aead_encrypt(&C, "np-aes-gcm", aead_alg(AEAD(GCM), 8), nonce, buf_none(), pt, &out),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_cipher_encrypt(&C, "np-aes-gcm", CIPHER(CTR), pt, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_import(&C, "np-aes-cbc",
                  attrs(key_type(KT_AES, 0), 128, U_DECRYPT, alg_cipher(CIPHER(CBC_PKCS7))), key),
        0);
    assert_int_equal(op_cipher_encrypt(&C, "np-aes-cbc", CIPHER(CBC_PKCS7), pt, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_cipher_decrypt(&C, "np-aes-cbc", CIPHER(CTR), flip(key, 0), &out),
                     PSC_PSA_NOT_PERMITTED);

    static const char *const made[] = {"np-rsa-sign", "np-rsa-enc", "np-ecc-sign",
                                       "np-ecc-ecdh", "np-aes-gcm", "np-aes-cbc"};
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
        assert_int_equal(op_destroy(&C, made[i]), 0);
}

/* 1134: what this provider does not implement. */
static void errors_not_supported(void **state)
{
    (void)state;
    struct buf out, in = buf_str("abc"), h32 = digest(HASH(SHA_256), in);
    assert_int_equal(op_hash_compute(&C, HASH(SHA3_256), in, &out), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_hash_compute(&C, HASH(SHA3_512), in, &out), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_hash_compare(&C, HASH(SHA3_256), in, h32), PSC_PSA_NOT_SUPPORTED);
    /* Curves Mbed TLS 2.28 lacks, and FFDH keys. */
    assert_int_equal(op_generate(&C, "ns-x448",
                                 attrs(key_type(KT_ECC_PAIR, ECC(MONTGOMERY)), 448, U_DERIVE,
                                       alg_ka_raw(KA_ECDH))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "ns-sect233",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECT_R1)), 233, U_SIGN_HASH,
                                       alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(
        op_generate(&C, "ns-dh", attrs(key_type(KT_DH_PAIR, 0), 2048, U_DERIVE, alg_none())),
        PSC_PSA_NOT_SUPPORTED);
    /* Nothing was left under those names. */
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&C, &lk), 0);
    assert_null(list_find(lk, "ns-x448"));
    assert_null(list_find(lk, "ns-sect233"));
    assert_null(list_find(lk, "ns-dh"));
}

/* 1135: the input rules. */
static void errors_invalid_argument(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048), *rsa3072 = pem_key(PEM_RSA3072),
             *p256 = pem_key(PEM_P256);
    struct buf out, h = digest(HASH(SHA_256), buf_str("x"));
    /* Hash length must be the policy hash's. */
    assert_int_equal(
        op_import(&C, "ia-ecc",
                  attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH,
                        alg_sig(SIG_ECDSA, HASH(SHA_256))),
                  ec_private_scalar(p256, 32)),
        0);
    SigAlg *s = sig_alg(SIG_ECDSA, HASH(SHA_256));
    struct buf h31 = {h.p, 31}, h33 = buf_copy("0123456789abcdef0123456789abcdefX", 33);
    assert_int_equal(op_sign_hash(&C, "ia-ecc", s, h31, &out), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_sign_hash(&C, "ia-ecc", s, h33, &out), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_sign_hash(&C, "ia-ecc", s, buf_none(), &out), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_sign_hash(&C, "ia-ecc", s, h, &out), 0);
    assert_int_equal(op_verify_hash(&C, "ia-ecc", s, h31, out), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_destroy(&C, "ia-ecc"), 0);

    /* Asymmetric encryption: empty input, salt with PKCS#1 v1.5. */
    assert_int_equal(
        op_import(&C, "ia-rsa",
                  attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT, alg_enc(0)),
                  der_rsa_private(rsa)),
        0);
    EncAlg *v15 = enc_alg(0);
    assert_int_equal(op_asym_encrypt(&C, "ia-rsa", v15, buf_none(), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_asym_encrypt(&C, "ia-rsa", v15, buf_str("pt"), buf_str("salt"), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_asym_encrypt(&C, "ia-rsa", v15, buf_str("pt"), buf_none(), &out), 0);
    assert_int_equal(op_asym_decrypt(&C, "ia-rsa", v15, out, buf_str("salt"), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_asym_decrypt(&C, "ia-rsa", v15, buf_none(), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_destroy(&C, "ia-rsa"), 0);

    /* RSA sizes: only 1024, 2048 and 4096 may be named; a deduced size is taken as it is. */
    Attrs *g3072 =
        attrs(key_type(KT_RSA_PAIR, 0), 3072, U_SIGN_HASH, alg_sig(SIG_PKCS1, HASH(SHA_256)));
    int files = daemon_count_key_files(&D);
    assert_int_equal(op_generate(&C, "ia-rsa3072", g3072), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_import(&C, "ia-rsa3072", g3072, der_rsa_private(rsa3072)),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(daemon_count_key_files(&D), files);
    g3072->key_bits = 0;
    assert_int_equal(op_import(&C, "ia-rsa3072", g3072, der_rsa_private(rsa3072)), 0);
    assert_int_equal(op_sign_hash(&C, "ia-rsa3072", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &out), 0);
    assert_int_equal(out.n, 384);
    assert_true(ossl_verify(rsa3072, EVP_sha256(), PAD_PKCS1, h, out));
    assert_int_equal(op_destroy(&C, "ia-rsa3072"), 0);
    /* A named size that is not the data's. */
    assert_int_equal(op_import(&C, "ia-size",
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 384, U_SIGN_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256))),
                               ec_private_scalar(p256, 32)),
                     PSC_PSA_INVALID_ARGUMENT);
    /* Public-key types cannot be generated. */
    assert_int_equal(op_generate(&C, "ia-pub",
                                 attrs(key_type(KT_RSA_PUB, 0), 2048, U_VERIFY_HASH,
                                       alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(daemon_count_key_files(&D), files);

    /* AEAD: empty nonce, empty plaintext or ciphertext. */
    struct buf key = hex("00112233445566778899aabbccddeeff"),
               nonce = hex("000102030405060708090a0b");
    AeadAlg *gcm = aead_alg(AEAD(GCM), 0);
    assert_int_equal(
        op_import(&C, "ia-gcm",
                  attrs(key_type(KT_AES, 0), 128, U_ENCRYPT | U_DECRYPT, alg_aead(AEAD(GCM), 0)),
                  key),
        0);
    assert_int_equal(op_aead_encrypt(&C, "ia-gcm", gcm, buf_none(), buf_none(), buf_str("p"), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_aead_encrypt(&C, "ia-gcm", gcm, nonce, buf_str("ad"), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_aead_decrypt(&C, "ia-gcm", gcm, nonce, buf_none(), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_aead_decrypt(&C, "ia-gcm", gcm, buf_none(), buf_none(), key, &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_destroy(&C, "ia-gcm"), 0);

    /* Ciphers: empty input. */
    assert_int_equal(
        op_import(&C, "ia-ctr",
                  attrs(key_type(KT_AES, 0), 128, U_ENCRYPT | U_DECRYPT, alg_cipher(CIPHER(CTR))),
                  key),
        0);
    assert_int_equal(op_cipher_encrypt(&C, "ia-ctr", CIPHER(CTR), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_cipher_decrypt(&C, "ia-ctr", CIPHER(CTR), buf_none(), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_destroy(&C, "ia-ctr"), 0);

    /* Hash compare: a hash of the wrong length is a mismatch, not a bad argument. */
    assert_int_equal(op_hash_compare(&C, HASH(SHA_256), buf_str("x"), h31),
                     PSC_PSA_INVALID_SIGNATURE);
}

/* 19: operations on keys need an authenticated application. */
static void errors_not_authenticated(void **state)
{
    (void)state;
    EVP_PKEY *p256 = pem_key(PEM_P256);
    Attrs *at = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "na-key", at, ec_private_scalar(p256, 32)), 0);
    struct caller anon = {.sock = D.sock};
    struct buf out, h = digest(HASH(SHA_256), buf_str("x")),
                    k16 = hex("00112233445566778899aabbccddeeff");
    SigAlg *s = sig_alg(SIG_ECDSA, HASH(SHA_256));
    assert_int_equal(op_generate(&anon, "na-key2", at), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_import(&anon, "na-key2", at, ec_private_scalar(p256, 32)),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_destroy(&anon, "na-key"), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_export_public(&anon, "na-key", &out), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_export(&anon, "na-key", &out), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_sign_hash(&anon, "na-key", s, h, &out), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_verify_hash(&anon, "na-key", s, h, h), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_sign_message(&anon, "na-key", s, h, &out), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_verify_message(&anon, "na-key", s, h, h), PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_asym_encrypt(&anon, "na-key", enc_alg(0), h, buf_none(), &out),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_asym_decrypt(&anon, "na-key", enc_alg(0), h, buf_none(), &out),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(
        op_aead_encrypt(&anon, "na-key", aead_alg(AEAD(GCM), 0), k16, buf_none(), h, &out),
        PSC_NOT_AUTHENTICATED);
    assert_int_equal(
        op_aead_decrypt(&anon, "na-key", aead_alg(AEAD(GCM), 0), k16, buf_none(), h, &out),
        PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_cipher_encrypt(&anon, "na-key", CIPHER(CTR), h, &out),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_cipher_decrypt(&anon, "na-key", CIPHER(CTR), h, &out),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(op_raw_key_agreement(&anon, "na-key", KA_ECDH, public_octets(p256), &out),
                     PSC_NOT_AUTHENTICATED);
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&anon, &lk), PSC_NOT_AUTHENTICATED);
    /* The key is untouched. */
    assert_int_equal(op_sign_hash(&C, "na-key", s, h, &out), 0);
    assert_int_equal(op_destroy(&C, "na-key"), 0);
}

/* 22: a deprecated primitive is refused at generation unless allow_deprecated = true; an
 * import is only warned about. */
static void errors_deprecated(void **state)
{
    (void)state;
    EVP_PKEY *p256 = pem_key(PEM_P256);
    struct buf out, h1 = digest(HASH(SHA_1), buf_str("legacy"));
    Attrs *sha1 = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_EXPORT,
                        alg_sig(SIG_ECDSA, HASH(SHA_1)));
    Attrs *des = attrs(key_type(KT_DES, 0), 192, U_ENCRYPT, alg_cipher(CIPHER(CBC_PKCS7)));
    Attrs *oaep_md5 = attrs(key_type(KT_RSA_PAIR, 0), 1024, U_DECRYPT, alg_enc(HASH(MD5)));
    int files = daemon_count_key_files(&D);
    assert_int_equal(op_generate(&C, "dep-sha1", sha1), PSC_DEPRECATED_PRIMITIVE);
    assert_int_equal(op_generate(&C, "dep-des", des), PSC_DEPRECATED_PRIMITIVE);
    assert_int_equal(op_generate(&C, "dep-md5", oaep_md5), PSC_DEPRECATED_PRIMITIVE);
    assert_int_equal(daemon_count_key_files(&D), files);
    assert_true(daemon_log_contains(&D, "deprecated"));
    /* Import: accepted, the key works. */
    assert_int_equal(op_import(&C, "dep-sha1", sha1, ec_private_scalar(p256, 32)), 0);
    assert_int_equal(op_sign_hash(&C, "dep-sha1", sig_alg(SIG_ECDSA, HASH(SHA_1)), h1, &out), 0);
    assert_true(ossl_verify(p256, EVP_sha1(), PAD_NONE, h1, out));
    assert_int_equal(op_destroy(&C, "dep-sha1"), 0);

    /* A service that allows deprecated primitives generates them. */
    daemon_start(&D2, config_with("allow_deprecated = true\n"));
    struct caller c2 = {.sock = D2.sock, .app = "crypto-ops"};
    assert_int_equal(op_generate(&c2, "dep-sha1", sha1), 0);
    assert_int_equal(op_sign_hash(&c2, "dep-sha1", sig_alg(SIG_ECDSA, HASH(SHA_1)), h1, &out), 0);
    struct buf pub;
    assert_int_equal(op_export_public(&c2, "dep-sha1", &pub), 0);
    assert_true(ossl_verify(pkey_ec_public("prime256v1", pub), EVP_sha1(), PAD_NONE, h1, out));
    assert_int_equal(op_generate(&c2, "dep-des", des), 0);
    struct buf pt = buf_str("des");
    assert_int_equal(op_cipher_encrypt(&c2, "dep-des", CIPHER(CBC_PKCS7), pt, &out), 0);
    assert_int_equal(out.n, 8 + 8);
    assert_int_equal(op_destroy(&c2, "dep-sha1"), 0);
    assert_int_equal(op_destroy(&c2, "dep-des"), 0);
    assert_int_equal(daemon_stop(&D2, SIGTERM), 0);
    daemon_cleanup(&D2);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, test_teardown)
    const struct CMUnitTest tests[] = {
        T(generate_keys),
        T(import_export),
        T(sign_verify_rsa),
        T(sign_verify_ecc),
        T(asymmetric_encryption),
        T(aead),
        T(cipher),
        T(key_agreement),
        T(hash),
        T(random_bytes),
        T(can_do_crypto),
        T(errors_names),
        T(errors_not_permitted),
        T(errors_not_supported),
        T(errors_invalid_argument),
        T(errors_not_authenticated),
        T(errors_deprecated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
