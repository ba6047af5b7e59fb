/* Every operation of the PKCS#11 provider (provider 2) over the real socket, on a real SoftHSM2
 * token in a private folder: results checked by OpenSSL (signatures verify, ciphertexts decrypt,
 * exported keys equal the keys imported), the token looked at directly (key ids, objects left
 * after a destroy), then the error rows, two tenants, parallel use beside key creation, and a
 * second daemon with software public-key operations and exports refused. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>

#include "e2e_keys.h"
#define E2E_PROVIDER PSC_PROVIDER_PKCS11
#include "e2e_psa.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "p11_env.h"

static struct p11_token T;
static struct daemon D;
static struct caller C;

static int setup(void **state)
{
    (void)state;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);
    daemon_start(&D, p11_config("allow_deprecated = true\n", NULL));
    C = (struct caller){.sock = D.sock, .app = "p11-ops"};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    p11_token_cleanup(&T);
    return 0;
}

static Attrs *ecc_attrs(uint32_t bits, unsigned usage, int hash)
{
    return attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), bits, usage, alg_sig(SIG_ECDSA, hash));
}

static const char *group_of(size_t bits)
{
    switch (bits) {
    case 192:
        return "P-192";
    case 224:
        return "P-224";
    case 256:
        return "P-256";
    case 384:
        return "P-384";
    default:
        return "P-521";
    }
}

/* The key's id as the mapping stores it (4 bytes, little-endian). */
static uint32_t mapped_id(const struct daemon *d, const char *app, const char *key)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/kim/mappings.sqlite3", d->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT key_id, provider_uuid FROM key_mapping WHERE "
                                        "application_name = ? AND key_name = ?",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, app, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(q, 0), 4);
    const uint8_t *b = sqlite3_column_blob(q, 0);
    uint32_t id =
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    assert_string_equal((const char *)sqlite3_column_text(q, 1),
                        "30e39502-eba6-4d60-a4af-c518b7f5e38f");
    sqlite3_finalize(q);
    sqlite3_close(db);
    return id;
}

static void id_be(uint32_t id, uint8_t b[4])
{
    b[0] = (uint8_t)(id >> 24);
    b[1] = (uint8_t)(id >> 16);
    b[2] = (uint8_t)(id >> 8);
    b[3] = (uint8_t)id;
}

/* ---- identity ------------------------------------------------------------------------------ */

static void test_identity(void **state)
{
    (void)state;
    ProtobufCMessage *res;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_PROVIDERS, NULL, NULL,
                              &list_providers__result__descriptor, &res),
                     0);
    ListProviders__Result *lp = (ListProviders__Result *)res;
    assert_int_equal(lp->n_providers, 2);
    assert_int_equal(lp->providers[0]->id, 2);
    assert_string_equal(lp->providers[0]->uuid, "30e39502-eba6-4d60-a4af-c518b7f5e38f");
    assert_string_equal(lp->providers[0]->description,
                        "PKCS #11 provider, interfacing with a PKCS #11 library.");
    assert_string_equal(lp->providers[0]->vendor, "OASIS Standard.");
    assert_int_equal(lp->providers[0]->version_maj, 0);
    assert_int_equal(lp->providers[0]->version_min, 1);
    assert_int_equal(lp->providers[0]->version_rev, 0);
    assert_int_equal(lp->providers[1]->id, 0);
    protobuf_c_message_free_unpacked(res, NULL);

    ListOpcodes__Operation lo = LIST_OPCODES__OPERATION__INIT;
    lo.provider_id = 2;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_OPCODES, NULL, &lo.base,
                              &list_opcodes__result__descriptor, &res),
                     0);
    ListOpcodes__Result *ops = (ListOpcodes__Result *)res;
    uint64_t seen = 0;
    for (size_t i = 0; i < ops->n_opcodes; i++)
        seen |= 1ull << ops->opcodes[i];
    assert_int_equal(ops->n_opcodes, 10);
    assert_true(seen == ((1ull << 0x02) | (1ull << 0x03) | (1ull << 0x04) | (1ull << 0x05) |
                         (1ull << 0x06) | (1ull << 0x07) | (1ull << 0x0A) | (1ull << 0x0B) |
                         (1ull << 0x0D) | (1ull << 0x20)));
    protobuf_c_message_free_unpacked(res, NULL);
    /* Not advertised, not served. */
    struct buf out;
    assert_int_equal(op_export(&C, "nothing", &out), PSC_PSA_NOT_SUPPORTED);
}

/* ---- ECC ----------------------------------------------------------------------------------- */

static void test_ecc_generate_sign_verify(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {192, 224, 256, 384, 521};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "ecc-%u", sizes[i]);
        assert_int_equal(
            op_generate(&C, name, ecc_attrs(sizes[i], U_SIGN_HASH | U_VERIFY_HASH, HASH(SHA_256))),
            0);
        struct buf pub, sig;
        assert_int_equal(op_export_public(&C, name, &pub), 0);
        size_t half = (sizes[i] + 7) / 8;
        assert_int_equal(pub.n, 2 * half + 1);
        EVP_PKEY *k = pkey_ec_public(group_of(sizes[i]), pub);
        assert_non_null(k);
        struct buf h = digest(HASH(SHA_256), buf_str("message for the token"));
        assert_int_equal(op_sign_hash(&C, name, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
        assert_int_equal(sig.n, 2 * half);
        assert_true(ossl_verify(k, NULL, PAD_NONE, h, sig));
        assert_int_equal(op_verify_hash(&C, name, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig), 0);
        struct buf bad = buf_copy(sig.p, sig.n);
        bad.p[3] ^= 1;
        assert_int_equal(op_verify_hash(&C, name, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, bad),
                         PSC_PSA_INVALID_SIGNATURE);
        struct buf other = digest(HASH(SHA_256), buf_str("another message"));
        assert_int_equal(op_verify_hash(&C, name, sig_alg(SIG_ECDSA, HASH(SHA_256)), other, sig),
                         PSC_PSA_INVALID_SIGNATURE);
    }
}

/* The original's key ids: a u32, little-endian in the mapping, big-endian CKA_ID on both
 * halves of the key on the token. */
static void test_key_ids_as_original(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "id-check", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    uint32_t id = mapped_id(&D, "p11-ops", "id-check");
    uint8_t be[4];
    id_be(id, be);
    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    CK_OBJECT_HANDLE h[4];
    assert_int_equal(p11_direct_find(&d, be, h, 4), 2);
    CK_OBJECT_CLASS c0 = p11_direct_class(&d, h[0]), c1 = p11_direct_class(&d, h[1]);
    assert_true((c0 == CKO_PUBLIC_KEY && c1 == CKO_PRIVATE_KEY) ||
                (c0 == CKO_PRIVATE_KEY && c1 == CKO_PUBLIC_KEY));
    /* The private half is a token object that never leaves it. */
    CK_OBJECT_HANDLE priv = c0 == CKO_PRIVATE_KEY ? h[0] : h[1];
    CK_BBOOL tok = 0, sens = 0, ext = 1;
    CK_ATTRIBUTE a[] = {
        {CKA_TOKEN, &tok, 1}, {CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &ext, 1}};
    assert_int_equal(d.f->C_GetAttributeValue(d.s, priv, a, 3), CKR_OK);
    assert_true(tok && sens && !ext);
    p11_direct_close(&d);
}

/* ---- RSA ----------------------------------------------------------------------------------- */

static void test_rsa_pkcs1_sign_any_hash(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "rsa-sign",
                                 attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH | U_VERIFY_HASH,
                                       alg_sig(SIG_PKCS1, HASH_ANY))),
                     0);
    struct buf pub, sig;
    assert_int_equal(op_export_public(&C, "rsa-sign", &pub), 0);
    EVP_PKEY *k = pkey_rsa_public(pub);
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bits(k), 2048);
    static const int hs[] = {HASH(SHA_1), HASH(SHA_224), HASH(SHA_256), HASH(SHA_384),
                             HASH(SHA_512)};
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        struct buf h = digest(hs[i], buf_str("rsa message"));
        assert_int_equal(op_sign_hash(&C, "rsa-sign", sig_alg(SIG_PKCS1, hs[i]), h, &sig), 0);
        assert_int_equal(sig.n, 256);
        assert_true(ossl_verify(k, md_of(hs[i]), PAD_PKCS1, h, sig));
        assert_int_equal(op_verify_hash(&C, "rsa-sign", sig_alg(SIG_PKCS1, hs[i]), h, sig), 0);
        sig.p[10] ^= 0x40;
        assert_int_equal(op_verify_hash(&C, "rsa-sign", sig_alg(SIG_PKCS1, hs[i]), h, sig),
                         PSC_PSA_INVALID_SIGNATURE);
    }
}

static void test_rsa_pss_sign(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "rsa-pss",
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_SIGN_HASH | U_VERIFY_HASH,
                                       alg_sig(SIG_PSS, HASH(SHA_256)))),
                     0);
    struct buf pub, sig;
    assert_int_equal(op_export_public(&C, "rsa-pss", &pub), 0);
    EVP_PKEY *k = pkey_rsa_public(pub);
    assert_non_null(k);
    struct buf h = digest(HASH(SHA_256), buf_str("pss message"));
    assert_int_equal(op_sign_hash(&C, "rsa-pss", sig_alg(SIG_PSS, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(k, EVP_sha256(), PAD_PSS, h, sig));
    assert_int_equal(op_verify_hash(&C, "rsa-pss", sig_alg(SIG_PSS, HASH(SHA_256)), h, sig), 0);
    sig.p[0] ^= 1;
    assert_int_equal(op_verify_hash(&C, "rsa-pss", sig_alg(SIG_PSS, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
    /* A PKCS#1 v1.5 signature is not what this key's policy permits. */
    assert_int_equal(op_sign_hash(&C, "rsa-pss", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &sig),
                     PSC_PSA_NOT_PERMITTED);
}

/* PKCS#1 v1.5 over data the client prepared (RsaPkcs1v15SignRaw): the token adds only the
 * padding. */
static void test_rsa_pkcs1_raw_sign(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "rsa-raw",
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_SIGN_HASH | U_VERIFY_HASH,
                                       alg_sig(SIG_PKCS1_RAW, 0))),
                     0);
    struct buf pub, sig, data = buf_str("any bytes, up to the modulus less 11");
    assert_int_equal(op_export_public(&C, "rsa-raw", &pub), 0);
    assert_int_equal(op_sign_hash(&C, "rsa-raw", sig_alg(SIG_PKCS1_RAW, 0), data, &sig), 0);
    assert_true(ossl_verify(pkey_rsa_public(pub), NULL, PAD_PKCS1, data, sig));
    assert_int_equal(op_verify_hash(&C, "rsa-raw", sig_alg(SIG_PKCS1_RAW, 0), data, sig), 0);
}

static void rsa_crypt_round(const char *name, int oaep_hash)
{
    int oaep = oaep_hash != 0;
    assert_int_equal(op_generate(&C, name,
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_ENCRYPT | U_DECRYPT,
                                       alg_enc(oaep_hash))),
                     0);
    struct buf pub, ct, pt;
    assert_int_equal(op_export_public(&C, name, &pub), 0);
    EVP_PKEY *k = pkey_rsa_public(pub);
    assert_non_null(k);
    struct buf msg = buf_str("a secret for the token");
    /* OpenSSL encrypts, the token decrypts. */
    ct = ossl_encrypt(k, oaep ? PAD_OAEP : PAD_PKCS1, oaep ? md_of(oaep_hash) : NULL, buf_none(),
                      msg);
    assert_int_equal(op_asym_decrypt(&C, name, enc_alg(oaep_hash), ct, buf_none(), &pt), 0);
    assert_true(buf_eq(pt, msg));
    /* The token both ways. */
    assert_int_equal(op_asym_encrypt(&C, name, enc_alg(oaep_hash), msg, buf_none(), &ct), 0);
    assert_int_equal(ct.n, 128);
    assert_int_equal(op_asym_decrypt(&C, name, enc_alg(oaep_hash), ct, buf_none(), &pt), 0);
    assert_true(buf_eq(pt, msg));
    /* A damaged ciphertext is bad padding. */
    ct.p[5] ^= 0x10;
    assert_int_equal(op_asym_decrypt(&C, name, enc_alg(oaep_hash), ct, buf_none(), &pt),
                     PSC_PSA_INVALID_PADDING);
    /* Shorter than the modulus. */
    assert_int_equal(
        op_asym_decrypt(&C, name, enc_alg(oaep_hash), buf_copy(ct.p, 64), buf_none(), &pt),
        PSC_PSA_INVALID_ARGUMENT);
    /* SoftHSM2 takes no OAEP label. */
    if (oaep)
        assert_int_equal(op_asym_encrypt(&C, name, enc_alg(oaep_hash), msg, buf_str("label"), &ct),
                         PSC_PSA_NOT_SUPPORTED);
    /* Too long for the key. */
    struct buf big = {e2e_alloc(200), 200};
    assert_int_equal(op_asym_encrypt(&C, name, enc_alg(oaep_hash), big, buf_none(), &ct),
                     PSC_PSA_INVALID_ARGUMENT);
}

static void test_rsa_encrypt_pkcs1(void **state)
{
    (void)state;
    rsa_crypt_round("rsa-crypt", 0);
}

static void test_rsa_encrypt_oaep_sha1(void **state)
{
    (void)state;
    rsa_crypt_round("rsa-oaep", HASH(SHA_1));
}

/* SoftHSM2 does OAEP with SHA-1 only: another hash is refused as not supported up front, at
 * CanDoCrypto and at use, never as a device failure. */
static void test_oaep_other_hashes_not_supported(void **state)
{
    (void)state;
    assert_int_equal(op_can_do(&C, 1,
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT,
                                     alg_enc(HASH(SHA_1)))),
                     0);
    assert_int_equal(op_can_do(&C, 1,
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT,
                                     alg_enc(HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "rsa-oaep256",
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_ENCRYPT | U_DECRYPT,
                                       alg_enc(HASH(SHA_256)))),
                     0);
    struct buf ct;
    assert_int_equal(
        op_asym_encrypt(&C, "rsa-oaep256", enc_alg(HASH(SHA_256)), buf_str("x"), buf_none(), &ct),
        PSC_PSA_NOT_SUPPORTED);
}

/* ---- import -------------------------------------------------------------------------------- */

static void test_import_rsa_public(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_key(PEM_RSA2048);
    struct buf der = der_rsa_public(priv);
    assert_int_equal(op_import(&C, "rsa-imported",
                               attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               der),
                     0);
    struct buf out;
    assert_int_equal(op_export_public(&C, "rsa-imported", &out), 0);
    assert_true(buf_eq(out, der));
    struct buf h = digest(HASH(SHA_256), buf_str("signed by OpenSSL"));
    struct buf sig = ossl_sign(priv, EVP_sha256(), PAD_PKCS1, h, 0);
    assert_int_equal(op_verify_hash(&C, "rsa-imported", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig),
                     0);
    sig.p[100] ^= 2;
    assert_int_equal(op_verify_hash(&C, "rsa-imported", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
    /* A public key cannot sign. */
    assert_int_equal(op_sign_hash(&C, "rsa-imported", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &sig),
                     PSC_PSA_NOT_PERMITTED);

    /* Encryption to an imported key, decrypted by OpenSSL with the private key. */
    assert_int_equal(op_import(&C, "rsa-imported-enc",
                               attrs(key_type(KT_RSA_PUB, 0), 2048, U_ENCRYPT, alg_enc(0)), der),
                     0);
    struct buf ct, pt;
    struct buf msg = buf_str("to OpenSSL");
    assert_int_equal(op_asym_encrypt(&C, "rsa-imported-enc", enc_alg(0), msg, buf_none(), &ct), 0);
    assert_int_equal(ossl_decrypt(priv, PAD_PKCS1, NULL, buf_none(), ct, &pt), 0);
    assert_true(buf_eq(pt, msg));
    /* A size that is not the key's. */
    assert_int_equal(op_import(&C, "rsa-wrong-size",
                               attrs(key_type(KT_RSA_PUB, 0), 1024, U_ENCRYPT, alg_enc(0)), der),
                     PSC_PSA_INVALID_ARGUMENT);
}

static void test_import_ecc_public(void **state)
{
    (void)state;
    EVP_PKEY *priv = ossl_keygen("EC", "P-256");
    struct buf pt = public_octets(priv);
    Attrs *at = attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "ecc-imported", at, pt), 0);
    struct buf out;
    assert_int_equal(op_export_public(&C, "ecc-imported", &out), 0);
    assert_true(buf_eq(out, pt));
    struct buf h = digest(HASH(SHA_256), buf_str("ecc signed by OpenSSL"));
    struct buf sig = ossl_sign(priv, NULL, PAD_NONE, h, 32);
    assert_int_equal(op_verify_hash(&C, "ecc-imported", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig),
                     0);
    sig.p[40] ^= 1;
    assert_int_equal(op_verify_hash(&C, "ecc-imported", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
    /* A point off the curve, a truncated point, no data. */
    struct buf off = buf_copy(pt.p, pt.n);
    off.p[64] ^= 1;
    assert_int_equal(op_import(&C, "ecc-bad", at, off), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_import(&C, "ecc-bad", at, buf_copy(pt.p, 33)), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_import(&C, "ecc-bad", at, buf_none()), PSC_PSA_INVALID_ARGUMENT);
}

/* DER RSAPublicKey with an n_len-byte modulus and an e_len-byte exponent (odd, top bit set
 * for n; 0x01 ... 0x01 for e). */
static struct buf rsa_pub_der(size_t n_len, size_t e_len)
{
    size_t body = 4 + 1 + n_len + 2 + e_len;
    struct buf b = {e2e_alloc(body + 4), 0};
    uint8_t *p = b.p;
    *p++ = 0x30;
    *p++ = 0x82;
    *p++ = (uint8_t)(body >> 8);
    *p++ = (uint8_t)body;
    *p++ = 0x02;
    *p++ = 0x82;
    *p++ = (uint8_t)((n_len + 1) >> 8);
    *p++ = (uint8_t)(n_len + 1);
    *p++ = 0x00;
    memset(p, 0xc3, n_len);
    p += n_len;
    *p++ = 0x02;
    *p++ = (uint8_t)e_len;
    memset(p, 0x00, e_len);
    p[0] = 0x01;
    p[e_len - 1] = 0x01;
    p += e_len;
    b.n = (size_t)(p - b.p);
    return b;
}

static void test_import_refused(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_key(PEM_RSA2048);
    /* Private keys are created on the token, never imported into it. */
    assert_int_equal(op_import(&C, "rsa-pair",
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               der_rsa_private(priv)),
                     PSC_PSA_NOT_SUPPORTED);
    /* Montgomery curves are not on the token. */
    EVP_PKEY *x = ossl_keygen("X25519", NULL);
    assert_int_equal(
        op_import(&C, "x25519",
                  attrs(key_type(KT_ECC_PUB, ECC(MONTGOMERY)), 255, U_DERIVE, alg_ka_raw(KA_ECDH)),
                  public_octets(x)),
        PSC_PSA_NOT_SUPPORTED);
    /* A public exponent longer than 64 bits, and a modulus beyond the module's sizes. */
    assert_int_equal(op_import(&C, "big-e",
                               attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               rsa_pub_der(256, 9)),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_import(&C, "big-n",
                               attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               rsa_pub_der(4096, 3)),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_import(&C, "garbage",
                               attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256))),
                               buf_str("not DER at all")),
                     PSC_PSA_INVALID_ARGUMENT);
}

/* ---- error rows ---------------------------------------------------------------------------- */

static void test_generate_refused(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "k1",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_K1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(
        op_generate(&C, "aes", attrs(key_type(KT_AES, 0), 128, U_ENCRYPT, alg_aead(AEAD(GCM), 0))),
        PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "pub",
                                 attrs(key_type(KT_RSA_PUB, 0), 1024, U_VERIFY_HASH,
                                       alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_INVALID_ARGUMENT);
    /* The token records the key's one mechanism: a key with none cannot be made. */
    assert_int_equal(
        op_generate(&C, "no-alg", attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, 0, alg_none())),
        PSC_PSA_NOT_SUPPORTED);
    /* Too big a key would hold every other request back while the token makes it. */
    assert_int_equal(op_generate(&C, "rsa-huge",
                                 attrs(key_type(KT_RSA_PAIR, 0), 8192, U_SIGN_HASH,
                                       alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, 2,
                               attrs(key_type(KT_RSA_PAIR, 0), 8192, U_SIGN_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    /* No mechanism signs deterministically. */
    assert_int_equal(op_generate(&C, "det",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_DET_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    /* Nothing of the refused keys is mapped. */
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&C, &r), 0);
    assert_null(list_find(r, "k1"));
    assert_null(list_find(r, "no-alg"));
}

static void test_errors(void **state)
{
    (void)state;
    struct buf out;
    struct buf h = digest(HASH(SHA_256), buf_str("m"));
    assert_int_equal(op_sign_hash(&C, "absent", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export_public(&C, "absent", &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&C, "absent"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_generate(&C, "err", ecc_attrs(256, U_VERIFY_HASH, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(&C, "err", ecc_attrs(256, U_VERIFY_HASH, HASH(SHA_256))),
                     PSC_PSA_ALREADY_EXISTS);
    /* No sign usage; another algorithm; deterministic ECDSA; a hash of the wrong length. */
    assert_int_equal(op_sign_hash(&C, "err", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_generate(&C, "err2", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    assert_int_equal(op_sign_hash(&C, "err2", sig_alg(SIG_ECDSA, HASH(SHA_384)),
                                  digest(HASH(SHA_384), buf_str("m")), &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_sign_hash(&C, "err2", sig_alg(SIG_DET_ECDSA, HASH(SHA_256)), h, &out),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_sign_hash(&C, "err2", sig_alg(SIG_ECDSA, HASH(SHA_256)), buf_copy(h.p, 20), &out),
        PSC_PSA_INVALID_ARGUMENT);
    /* An encryption on a signing key. */
    assert_int_equal(op_asym_encrypt(&C, "err2", enc_alg(0), buf_str("x"), buf_none(), &out),
                     PSC_PSA_NOT_PERMITTED);
}

static void test_generate_random(void **state)
{
    (void)state;
    struct buf a, b;
    assert_int_equal(op_generate_random(&C, 32, &a), 0);
    assert_int_equal(a.n, 32);
    assert_int_equal(op_generate_random(&C, 32, &b), 0);
    assert_false(buf_eq(a, b));
    assert_int_equal(op_generate_random(&C, 0, &a), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(op_generate_random(&C, (1 << 20) + 1, &a), PSC_RESPONSE_TOO_LARGE);
}

static void test_can_do_crypto(void **state)
{
    (void)state;
    /* Generate */
    assert_int_equal(op_can_do(&C, 2, ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    assert_int_equal(op_can_do(&C, 2,
                               attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH,
                                     alg_sig(SIG_PSS, HASH(SHA_256)))),
                     0);
    assert_int_equal(op_can_do(&C, 2,
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_K1)), 256, U_SIGN_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, 2,
                               attrs(key_type(KT_RSA_PUB, 0), 2048, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    /* Import */
    assert_int_equal(op_can_do(&C, 3,
                               attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     0);
    assert_int_equal(op_can_do(&C, 3, ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
    /* Use */
    assert_int_equal(op_can_do(&C, 1,
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                                     alg_sig(SIG_DET_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, 1,
                               attrs(key_type(KT_RSA_PAIR, 0), 256, U_SIGN_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED); /* below the module's smallest RSA key */
    /* Derive */
    assert_int_equal(op_can_do(&C, 4, ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
}

/* ---- destroy ------------------------------------------------------------------------------- */

static void test_destroy_removes_token_objects(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "doomed", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    struct buf h = digest(HASH(SHA_256), buf_str("m")), sig, pub1, pub2;
    /* Used once, so that its handles are cached. */
    assert_int_equal(op_sign_hash(&C, "doomed", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    assert_int_equal(op_export_public(&C, "doomed", &pub1), 0);
    uint8_t be[4];
    id_be(mapped_id(&D, "p11-ops", "doomed"), be);
    assert_int_equal(op_destroy(&C, "doomed"), 0);
    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    assert_int_equal(p11_direct_find(&d, be, NULL, 0), 0);
    p11_direct_close(&d);
    assert_int_equal(op_sign_hash(&C, "doomed", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&C, "doomed"), PSC_PSA_DOES_NOT_EXIST);
    /* The name is free again, for a new key (not the old handles). */
    assert_int_equal(op_generate(&C, "doomed", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    assert_int_equal(op_export_public(&C, "doomed", &pub2), 0);
    assert_false(buf_eq(pub1, pub2));
    assert_int_equal(op_sign_hash(&C, "doomed", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(pkey_ec_public("P-256", pub2), NULL, PAD_NONE, h, sig));
}

/* ---- tenants ------------------------------------------------------------------------------- */

static void test_two_tenants(void **state)
{
    (void)state;
    struct caller A = {.sock = D.sock, .app = "tenant-a"};
    struct caller B = {.sock = D.sock, .app = "tenant-b"};
    struct caller admin = {.sock = D.sock, .app = "admin"};
    assert_int_equal(op_generate(&A, "shared-name", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    struct buf h = digest(HASH(SHA_256), buf_str("m")), sig, pa, pb;
    assert_int_equal(op_sign_hash(&B, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&B, "shared-name"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_generate(&B, "shared-name", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    assert_int_equal(op_export_public(&A, "shared-name", &pa), 0);
    assert_int_equal(op_export_public(&B, "shared-name", &pb), 0);
    assert_false(buf_eq(pa, pb));
    assert_int_equal(op_sign_hash(&B, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     0);
    assert_true(ossl_verify(pkey_ec_public("P-256", pb), NULL, PAD_NONE, h, sig));
    assert_false(ossl_verify(pkey_ec_public("P-256", pa), NULL, PAD_NONE, h, sig));
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&B, &r), 0);
    assert_int_equal(r->n_keys, 1);
    /* DeleteClient removes A's objects from the token, and only A's. */
    uint8_t be_a[4], be_b[4];
    id_be(mapped_id(&D, "tenant-a", "shared-name"), be_a);
    id_be(mapped_id(&D, "tenant-b", "shared-name"), be_b);
    assert_int_equal(op_delete_client(&admin, "tenant-a"), 0);
    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    assert_int_equal(p11_direct_find(&d, be_a, NULL, 0), 0);
    assert_int_equal(p11_direct_find(&d, be_b, NULL, 0), 2);
    p11_direct_close(&d);
    assert_int_equal(op_export_public(&A, "shared-name", &pa), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_sign_hash(&B, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     0);
}

/* ---- parallel use beside creation ---------------------------------------------------------- */

#define PAR_SIGNERS 2
#define PAR_MAKERS 3
#define PAR_KEYS 6 /* per maker */
static volatile int par_stop;
static int par_failures;
static pthread_mutex_t par_lock = PTHREAD_MUTEX_INITIALIZER;

/* One request built by hand: the arena and the OpenSSL helpers are not for threads. */
static int par_call(uint32_t opcode, const ProtobufCMessage *op)
{
    size_t len;
    uint8_t *req =
        e2e_build(e2e_header(PSC_PROVIDER_PKCS11, opcode, PSC_AUTH_DIRECT), op, "p11-ops", 7, &len);
    struct psc_header rsp;
    uint8_t *body = NULL;
    int rc = e2e_raw(D.sock, req, len, &rsp, &body);
    free(req);
    free(body);
    return rc != 0 ? -1 : (int)rsp.status;
}

static void par_failed(void)
{
    pthread_mutex_lock(&par_lock);
    par_failures++;
    pthread_mutex_unlock(&par_lock);
}

static void *par_signer(void *arg)
{
    (void)arg;
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash sh =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa ec =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__ECDSA__INIT;
    SigAlg alg = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    sh.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
    sh.specific = HASH(SHA_256);
    ec.hash_alg = &sh;
    alg.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
    alg.ecdsa = &ec;
    uint8_t hash[32] = {1, 2, 3};
    op.key_name = "par-signer";
    op.alg = &alg;
    op.hash.data = hash;
    op.hash.len = sizeof(hash);
    while (!par_stop)
        if (par_call(PSC_OP_PSA_SIGN_HASH, &op.base) != 0)
            par_failed();
    return NULL;
}

/* Creates and destroys keys: each creation searches the token for its new id, each destroy
 * for the key's objects. */
static void *par_maker(void *arg)
{
    int who = (int)(intptr_t)arg;
    PsaKeyAttributes__KeyType__EccKeyPair ekp = PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_KEY_PAIR__INIT;
    ekp.curve_family = ECC(SECP_R1);
    KeyType kt = PSA_KEY_ATTRIBUTES__KEY_TYPE__INIT;
    kt.variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR;
    kt.ecc_key_pair = &ekp;
    PsaKeyAttributes__UsageFlags uf = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
    uf.sign_hash = 1;
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash sh =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__INIT;
    sh.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
    sh.specific = HASH(SHA_256);
    PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa ec =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__ECDSA__INIT;
    ec.hash_alg = &sh;
    SigAlg sa = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    sa.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
    sa.ecdsa = &ec;
    Alg alg = PSA_ALGORITHM__ALGORITHM__INIT;
    alg.variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE;
    alg.asymmetric_signature = &sa;
    PsaKeyAttributes__KeyPolicy pol = PSA_KEY_ATTRIBUTES__KEY_POLICY__INIT;
    pol.key_usage_flags = &uf;
    pol.key_algorithm = &alg;
    Attrs at = PSA_KEY_ATTRIBUTES__KEY_ATTRIBUTES__INIT;
    at.key_type = &kt;
    at.key_bits = 256;
    at.key_policy = &pol;
    for (int i = 0; i < PAR_KEYS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "par-%d-%d", who, i);
        PsaGenerateKey__Operation g = PSA_GENERATE_KEY__OPERATION__INIT;
        g.key_name = name;
        g.attributes = &at;
        if (par_call(PSC_OP_PSA_GENERATE_KEY, &g.base) != 0)
            par_failed();
        PsaDestroyKey__Operation d = PSA_DESTROY_KEY__OPERATION__INIT;
        d.key_name = name;
        if (i % 2 && par_call(PSC_OP_PSA_DESTROY_KEY, &d.base) != 0)
            par_failed();
    }
    return NULL;
}

/* SoftHSM2 2.6.1 fails an object creation that runs beside a search in another session: the
 * provider must keep them apart, so every creation and destruction succeeds while others run
 * and signers sign. */
static void test_parallel_creation(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "par-signer", ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    pthread_t sg[PAR_SIGNERS], mk[PAR_MAKERS];
    par_stop = 0;
    par_failures = 0;
    for (int i = 0; i < PAR_SIGNERS; i++)
        assert_int_equal(pthread_create(&sg[i], NULL, par_signer, NULL), 0);
    for (int i = 0; i < PAR_MAKERS; i++)
        assert_int_equal(pthread_create(&mk[i], NULL, par_maker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < PAR_MAKERS; i++)
        pthread_join(mk[i], NULL);
    par_stop = 1;
    for (int i = 0; i < PAR_SIGNERS; i++)
        pthread_join(sg[i], NULL);
    assert_int_equal(par_failures, 0);
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&C, &r), 0);
    assert_non_null(list_find(r, "par-0-0"));
    assert_null(list_find(r, "par-0-1"));
}

#define COLD_KEYS 60
#define COLD_READERS 2

static void *par_exporter(void *arg)
{
    (void)arg;
    for (int i = 0; i < COLD_KEYS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "cold-%d", i);
        PsaExportPublicKey__Operation op = PSA_EXPORT_PUBLIC_KEY__OPERATION__INIT;
        op.key_name = name;
        if (par_call(PSC_OP_PSA_EXPORT_PUBLIC_KEY, &op.base) != 0)
            par_failed();
    }
    return NULL;
}

/* After a restart no handle is cached: the first use of each key searches the token, and each
 * search reads every object of SoftHSM2's file store, so searches are long and many. Creations
 * and destructions beside them must all succeed. */
static void test_cold_finds_beside_creation(void **state)
{
    (void)state;
    for (int i = 0; i < COLD_KEYS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "cold-%d", i);
        assert_int_equal(op_generate(&C, name, ecc_attrs(256, U_SIGN_HASH, HASH(SHA_256))), 0);
    }
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    pthread_t rd[COLD_READERS], mk;
    par_failures = 0;
    for (int i = 0; i < COLD_READERS; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, par_exporter, NULL), 0);
    assert_int_equal(pthread_create(&mk, NULL, par_maker, (void *)(intptr_t)9), 0);
    for (int i = 0; i < COLD_READERS; i++)
        pthread_join(rd[i], NULL);
    pthread_join(mk, NULL);
    assert_int_equal(par_failures, 0);
}

/* ---- software public operations, exports refused -------------------------------------------- */

static void test_software_public_operations(void **state)
{
    (void)state;
    p11_token_init("second", "2222");
    struct daemon d2;
    daemon_start(&d2, p11_config("allow_deprecated = true\n",
                                 "token_label = \"second\"\nuser_pin = \"2222\"\n"
                                 "software_public_operations = true\n"
                                 "allow_export = false\n"));
    struct caller c2 = {.sock = d2.sock, .app = "soft"};
    assert_int_equal(
        op_generate(&c2, "e",
                    ecc_attrs(256, U_SIGN_HASH | U_VERIFY_HASH | U_EXPORT, HASH(SHA_256))),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        op_generate(&c2, "e", ecc_attrs(384, U_SIGN_HASH | U_VERIFY_HASH, HASH(SHA_384))), 0);
    struct buf h = digest(HASH(SHA_384), buf_str("soft")), sig, pt, ct;
    assert_int_equal(op_sign_hash(&c2, "e", sig_alg(SIG_ECDSA, HASH(SHA_384)), h, &sig), 0);
    assert_int_equal(op_verify_hash(&c2, "e", sig_alg(SIG_ECDSA, HASH(SHA_384)), h, sig), 0);
    sig.p[7] ^= 4;
    assert_int_equal(op_verify_hash(&c2, "e", sig_alg(SIG_ECDSA, HASH(SHA_384)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);

    assert_int_equal(op_generate(&c2, "r",
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_SIGN_HASH | U_VERIFY_HASH,
                                       alg_sig(SIG_PSS, HASH(SHA_256)))),
                     0);
    struct buf h2 = digest(HASH(SHA_256), buf_str("soft rsa"));
    assert_int_equal(op_sign_hash(&c2, "r", sig_alg(SIG_PSS, HASH(SHA_256)), h2, &sig), 0);
    assert_int_equal(op_verify_hash(&c2, "r", sig_alg(SIG_PSS, HASH(SHA_256)), h2, sig), 0);
    sig.p[7] ^= 4;
    assert_int_equal(op_verify_hash(&c2, "r", sig_alg(SIG_PSS, HASH(SHA_256)), h2, sig),
                     PSC_PSA_INVALID_SIGNATURE);

    assert_int_equal(op_generate(&c2, "o",
                                 attrs(key_type(KT_RSA_PAIR, 0), 1024, U_ENCRYPT | U_DECRYPT,
                                       alg_enc(HASH(SHA_1)))),
                     0);
    struct buf msg = buf_str("encrypted in software");
    assert_int_equal(op_asym_encrypt(&c2, "o", enc_alg(HASH(SHA_1)), msg, buf_none(), &ct), 0);
    assert_int_equal(op_asym_decrypt(&c2, "o", enc_alg(HASH(SHA_1)), ct, buf_none(), &pt), 0);
    assert_true(buf_eq(pt, msg));
    assert_int_equal(daemon_stop(&d2, SIGTERM), 0);
    daemon_cleanup(&d2);
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_identity, e2e_arena_free),
        cmocka_unit_test_teardown(test_ecc_generate_sign_verify, e2e_arena_free),
        cmocka_unit_test_teardown(test_key_ids_as_original, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_pkcs1_sign_any_hash, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_pss_sign, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_pkcs1_raw_sign, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_encrypt_pkcs1, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_encrypt_oaep_sha1, e2e_arena_free),
        cmocka_unit_test_teardown(test_oaep_other_hashes_not_supported, e2e_arena_free),
        cmocka_unit_test_teardown(test_import_rsa_public, e2e_arena_free),
        cmocka_unit_test_teardown(test_import_ecc_public, e2e_arena_free),
        cmocka_unit_test_teardown(test_import_refused, e2e_arena_free),
        cmocka_unit_test_teardown(test_generate_refused, e2e_arena_free),
        cmocka_unit_test_teardown(test_errors, e2e_arena_free),
        cmocka_unit_test_teardown(test_generate_random, e2e_arena_free),
        cmocka_unit_test_teardown(test_can_do_crypto, e2e_arena_free),
        cmocka_unit_test_teardown(test_destroy_removes_token_objects, e2e_arena_free),
        cmocka_unit_test_teardown(test_two_tenants, e2e_arena_free),
        cmocka_unit_test_teardown(test_parallel_creation, e2e_arena_free),
        cmocka_unit_test_teardown(test_cold_finds_beside_creation, e2e_arena_free),
        cmocka_unit_test_teardown(test_software_public_operations, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
