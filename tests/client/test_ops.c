/* Every libparsec operation against the real daemon (Direct authentication, Mbed Crypto
 * provider), results checked with OpenSSL where the service produced cryptographic output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "util.h"

#define APP "ops-app"

static struct daemon g_d;
static struct parsec_client *g_c;

static int setup(void **state)
{
    (void)state;
    daemon_start(&g_d, E2E_CONFIG_DIRECT);
    g_c = tu_client(&g_d, APP);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parsec_client_free(g_c);
    daemon_cleanup(&g_d);
    return 0;
}

static void test_core(void **state)
{
    (void)state;
    uint8_t maj = 9, min = 9;
    assert_int_equal(parsec_ping(g_c, &maj, &min), 0);
    assert_int_equal(maj, 1);
    assert_int_equal(min, 0);
    assert_int_equal(parsec_ping(g_c, NULL, NULL), 0);

    struct parsec_provider_info *p = NULL;
    size_t np = 0;
    assert_int_equal(parsec_list_providers(g_c, &p, &np), 0);
    assert_int_equal(np, 2);
    assert_int_equal(p[0].id, PARSEC_PROVIDER_MBED_CRYPTO);
    assert_string_equal(p[0].uuid, "1c1139dc-ad7c-47dc-ad6b-db6fdb466552");
    assert_string_equal(p[0].vendor, "Arm");
    assert_non_null(strstr(p[0].description, "Mbed Crypto"));
    assert_int_equal(p[1].id, PARSEC_PROVIDER_CORE);
    assert_string_equal(p[1].uuid, "47049873-2a43-4845-9d72-831eab668784");
    assert_string_equal(p[1].vendor, "");
    parsec_provider_info_free(p, np);
    /* The bootstrap took the first one. */
    assert_int_equal(parsec_client_provider(g_c), PARSEC_PROVIDER_MBED_CRYPTO);
    assert_int_equal(parsec_client_auth_type(g_c), PARSEC_AUTH_DIRECT);

    struct parsec_authenticator_info *a = NULL;
    size_t na = 0;
    assert_int_equal(parsec_list_authenticators(g_c, &a, &na), 0);
    assert_int_equal(na, 1);
    assert_int_equal(a[0].id, PARSEC_AUTH_DIRECT);
    assert_non_null(strstr(a[0].description, "Directly parses"));
    assert_int_equal(a[0].version_maj, 0);
    assert_int_equal(a[0].version_min, 1);
    parsec_authenticator_info_free(a, na);

    uint32_t *ops = NULL;
    size_t nops = 0;
    assert_int_equal(parsec_list_opcodes(g_c, 0, &ops, &nops), 0);
    assert_int_equal(nops, 5);
    unsigned mask = 0;
    for (size_t i = 0; i < nops; i++)
        mask |= 1u << ops[i];
    assert_int_equal(mask, (1u << 1) | (1u << 8) | (1u << 9) | (1u << 14) | (1u << 26));
    parsec_opcodes_free(ops);
    assert_int_equal(parsec_list_opcodes(g_c, 1, &ops, &nops), 0);
    int has_random = 0;
    for (size_t i = 0; i < nops; i++)
        has_random |= ops[i] == PARSEC_OP_PSA_GENERATE_RANDOM;
    assert_true(has_random);
    parsec_opcodes_free(ops);
    assert_int_equal(parsec_list_opcodes(g_c, 9, &ops, &nops),
                     PARSEC_ERROR_PROVIDER_DOES_NOT_EXIST);
    assert_null(ops);
    assert_int_equal(nops, 0);
    assert_int_equal(parsec_list_opcodes(g_c, 3, &ops, &nops),
                     PARSEC_ERROR_PROVIDER_NOT_REGISTERED);
    assert_int_equal(parsec_list_opcodes(g_c, 256, &ops, &nops), PARSEC_ERROR_INVALID_ARGUMENT);
}

static void test_ecc_keys(void **state)
{
    (void)state;
    uint8_t pub[128], sig[128], hash[32], small[8];
    size_t pub_len = 0, sig_len = 0, len = 0;
    const uint8_t msg[] = "signed by Parsec, checked by OpenSSL";

    assert_int_equal(parsec_ecc_key_create(g_c, "ecc"), 0);
    assert_int_equal(parsec_ecc_key_create(g_c, "ecc"), PARSEC_ERROR_PSA_ALREADY_EXISTS);

    /* The key is listed with the easy path's attributes. */
    struct parsec_key_attributes attrs;
    uint8_t prov = 0;
    assert_int_equal(parsec_key_attributes(g_c, "ecc", &attrs, &prov), 0);
    assert_int_equal(prov, PARSEC_PROVIDER_MBED_CRYPTO);
    assert_int_equal(attrs.type, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    assert_int_equal(attrs.bits, 256);
    assert_int_equal(attrs.alg, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(attrs.usage, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH |
                                      PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE);
    assert_int_equal(parsec_key_attributes(g_c, "nope", &attrs, NULL), PARSEC_ERROR_NOT_FOUND);

    struct parsec_key_info *keys = NULL;
    size_t nkeys = 0;
    assert_int_equal(parsec_list_keys(g_c, &keys, &nkeys), 0);
    assert_int_equal(nkeys, 1);
    assert_string_equal(keys[0].name, "ecc");
    assert_int_equal(keys[0].provider_id, 1);
    parsec_key_info_free(keys, nkeys);

    /* Public key: length query, too small, exact. */
    assert_int_equal(parsec_export_public_key(g_c, "ecc", NULL, 0, &len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 65);
    memset(small, 0xAA, sizeof(small));
    assert_int_equal(parsec_export_public_key(g_c, "ecc", small, sizeof(small), &len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 65);
    assert_int_equal(small[0], 0xAA); /* nothing written */
    assert_int_equal(parsec_export_public_key(g_c, "ecc", pub, sizeof(pub), &pub_len), 0);
    assert_int_equal(pub_len, 65);
    assert_int_equal(pub[0], 0x04);
    EVP_PKEY *pk = tu_p256_pub(pub, pub_len);
    assert_non_null(pk);

    /* Private export is refused by policy. */
    uint8_t priv[64];
    assert_int_equal(parsec_export_key(g_c, "ecc", priv, sizeof(priv), &len),
                     PARSEC_ERROR_PSA_NOT_PERMITTED);

    /* sign_hash over OpenSSL's SHA-256, verified by OpenSSL and by the service. */
    tu_sha256(msg, sizeof(msg), hash);
    assert_int_equal(parsec_sign_hash(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig,
                                      sizeof(sig), &sig_len),
                     0);
    assert_int_equal(sig_len, 64);
    assert_true(tu_ecdsa_verify(pk, msg, sizeof(msg), sig, sig_len));
    assert_int_equal(
        parsec_verify_hash(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, sig_len), 0);
    sig[5] ^= 1;
    assert_false(tu_ecdsa_verify(pk, msg, sizeof(msg), sig, sig_len));
    assert_int_equal(
        parsec_verify_hash(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, sig_len),
        PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    assert_int_equal(
        parsec_sign_hash(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, 10, &sig_len),
        PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(sig_len, 64);

    /* sign_message / verify_message and the easy path. */
    assert_int_equal(parsec_sign_message(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg,
                                         sizeof(msg), sig, sizeof(sig), &sig_len),
                     0);
    assert_true(tu_ecdsa_verify(pk, msg, sizeof(msg), sig, sig_len));
    assert_int_equal(parsec_verify_message(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg,
                                           sizeof(msg), sig, sig_len),
                     0);
    assert_int_equal(parsec_verify_message(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg,
                                           sizeof(msg) - 1, sig, sig_len),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    assert_int_equal(
        parsec_sign_message_ecdsa(g_c, "ecc", msg, sizeof(msg), sig, sizeof(sig), &sig_len), 0);
    assert_true(tu_ecdsa_verify(pk, msg, sizeof(msg), sig, sig_len));
    assert_int_equal(parsec_verify_message_ecdsa(g_c, "ecc", msg, sizeof(msg), sig, sig_len), 0);
    sig[63] ^= 0x40;
    assert_int_equal(parsec_verify_message_ecdsa(g_c, "ecc", msg, sizeof(msg), sig, sig_len),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    /* A wrong algorithm for the key's policy. */
    assert_int_equal(parsec_sign_hash(g_c, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_384), hash, 32, sig,
                                      sizeof(sig), &sig_len),
                     PARSEC_ERROR_PSA_NOT_PERMITTED);
    EVP_PKEY_free(pk);

    /* can_do_crypto. */
    assert_int_equal(parsec_can_do_crypto(g_c, PARSEC_CHECK_USE, &attrs), 0);
    assert_int_equal(parsec_can_do_crypto(g_c, PARSEC_CHECK_GENERATE, &attrs), 0);
    assert_int_equal(parsec_can_do_crypto(g_c, PARSEC_CHECK_DERIVE, &attrs),
                     PARSEC_ERROR_PSA_NOT_SUPPORTED);
    assert_int_equal(parsec_can_do_crypto(g_c, 0, &attrs), PARSEC_ERROR_INVALID_ARGUMENT);

    assert_int_equal(parsec_destroy_key(g_c, "ecc"), 0);
    assert_int_equal(parsec_destroy_key(g_c, "ecc"), PARSEC_ERROR_PSA_DOES_NOT_EXIST);
    assert_int_equal(parsec_export_public_key(g_c, "ecc", pub, sizeof(pub), &len),
                     PARSEC_ERROR_PSA_DOES_NOT_EXIST);
}

static void test_import_export(void **state)
{
    (void)state;
    uint8_t key[32], out[64];
    size_t len = 0;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    struct parsec_key_attributes a = {.type = PSA_KEY_TYPE_AES,
                                      .bits = 0, /* deduced from the data */
                                      .usage = PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_ENCRYPT |
                                               PSA_KEY_USAGE_DECRYPT,
                                      .alg = PSA_ALG_GCM};
    assert_int_equal(parsec_import_key(g_c, "aes-imp", &a, key, sizeof(key)), 0);
    assert_int_equal(parsec_export_key(g_c, "aes-imp", out, 31, &len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 32);
    assert_int_equal(parsec_export_key(g_c, "aes-imp", out, sizeof(out), &len), 0);
    assert_int_equal(len, 32);
    assert_memory_equal(out, key, 32);
    struct parsec_key_attributes got;
    assert_int_equal(parsec_key_attributes(g_c, "aes-imp", &got, NULL), 0);
    assert_int_equal(got.bits, 256);

    /* AEAD: the service encrypts, OpenSSL decrypts with the known key, and back. */
    const uint8_t nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const uint8_t ad[] = "additional";
    const uint8_t pt[] = "GCM plaintext of some length";
    uint8_t ct[128], back[128];
    size_t ct_len = 0, back_len = 0;
    assert_int_equal(parsec_aead_encrypt(g_c, "aes-imp", PSA_ALG_GCM, nonce, 12, ad, sizeof(ad), pt,
                                         sizeof(pt), ct, sizeof(ct), &ct_len),
                     0);
    assert_int_equal(ct_len, sizeof(pt) + 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    uint8_t ossl[128];
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, ad, sizeof(ad)), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, ossl, &n, ct, (int)sizeof(pt)), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, ct + sizeof(pt)), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, ossl + n, &n2), 1);
    assert_int_equal(n + n2, sizeof(pt));
    assert_memory_equal(ossl, pt, sizeof(pt));
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(parsec_aead_decrypt(g_c, "aes-imp", PSA_ALG_GCM, nonce, 12, ad, sizeof(ad), ct,
                                         ct_len, back, sizeof(back), &back_len),
                     0);
    assert_int_equal(back_len, sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    assert_int_equal(parsec_aead_decrypt(g_c, "aes-imp", PSA_ALG_GCM, nonce, 12, ad, 3, ct, ct_len,
                                         back, sizeof(back), &back_len),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    assert_int_equal(parsec_aead_decrypt(g_c, "aes-imp", PSA_ALG_GCM, nonce, 12, ad, sizeof(ad), ct,
                                         ct_len, back, 4, &back_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(back_len, sizeof(pt));
    assert_int_equal(parsec_destroy_key(g_c, "aes-imp"), 0);

    /* Cipher (CBC, PKCS#7): output is IV || ciphertext, checked with OpenSSL. */
    struct parsec_key_attributes cb = {.type = PSA_KEY_TYPE_AES,
                                       .bits = 128,
                                       .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
                                       .alg = PSA_ALG_CBC_PKCS7};
    assert_int_equal(parsec_import_key(g_c, "aes-cbc", &cb, key, 16), 0);
    assert_int_equal(parsec_cipher_encrypt(g_c, "aes-cbc", PSA_ALG_CBC_PKCS7, pt, sizeof(pt), ct,
                                           sizeof(ct), &ct_len),
                     0);
    assert_int_equal(ct_len, 16 + 32); /* IV + 29 bytes padded to 32 */
    ctx = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, ct), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, ossl, &n, ct + 16, (int)ct_len - 16), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, ossl + n, &n2), 1);
    assert_int_equal(n + n2, sizeof(pt));
    assert_memory_equal(ossl, pt, sizeof(pt));
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(parsec_cipher_decrypt(g_c, "aes-cbc", PSA_ALG_CBC_PKCS7, ct, ct_len, back,
                                           sizeof(back), &back_len),
                     0);
    assert_int_equal(back_len, sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    assert_int_equal(parsec_destroy_key(g_c, "aes-cbc"), 0);
}

static void test_easy_gcm(void **state)
{
    (void)state;
    const uint8_t pt[] = "sealed";
    uint8_t sealed[64], back[64];
    size_t sealed_len = 0, back_len = 0;
    assert_int_equal(parsec_aes_gcm_key_create(g_c, "gcm"), 0);
    assert_int_equal(parsec_seal_aes_gcm(g_c, "gcm", pt, sizeof(pt), sealed, 10, &sealed_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(sealed_len, sizeof(pt) + PARSEC_AES_GCM_OVERHEAD);
    assert_int_equal(
        parsec_seal_aes_gcm(g_c, "gcm", pt, sizeof(pt), sealed, sizeof(sealed), &sealed_len), 0);
    assert_int_equal(sealed_len, sizeof(pt) + PARSEC_AES_GCM_OVERHEAD);
    assert_int_equal(
        parsec_open_aes_gcm(g_c, "gcm", sealed, sealed_len, back, sizeof(back), &back_len), 0);
    assert_int_equal(back_len, sizeof(pt));
    assert_memory_equal(back, pt, sizeof(pt));
    sealed[3] ^= 1; /* the nonce */
    assert_int_equal(
        parsec_open_aes_gcm(g_c, "gcm", sealed, sealed_len, back, sizeof(back), &back_len),
        PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    assert_int_equal(parsec_open_aes_gcm(g_c, "gcm", sealed, 10, back, sizeof(back), &back_len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_destroy_key(g_c, "gcm"), 0);
}

static void test_rsa(void **state)
{
    (void)state;
    uint8_t pub[512], ct[256], pt[256], sig[256];
    size_t pub_len = 0, ct_len = 0, pt_len = 0, sig_len = 0;
    const uint8_t msg[] = "RSA through Parsec";

    assert_int_equal(parsec_rsa_encrypt_key_create(g_c, "rsa-enc", 1024), 0);
    assert_int_equal(parsec_export_public_key(g_c, "rsa-enc", pub, sizeof(pub), &pub_len), 0);
    EVP_PKEY *pk = tu_rsa_pub(pub, pub_len);
    assert_non_null(pk);
    assert_int_equal(EVP_PKEY_get_bits(pk), 1024);

    /* Round trip in the service, with and without a label. */
    assert_int_equal(parsec_asymmetric_encrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               msg, sizeof(msg), NULL, 0, ct, sizeof(ct), &ct_len),
                     0);
    assert_int_equal(ct_len, 128);
    assert_int_equal(parsec_asymmetric_decrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               ct, ct_len, NULL, 0, pt, sizeof(pt), &pt_len),
                     0);
    assert_int_equal(pt_len, sizeof(msg));
    assert_memory_equal(pt, msg, sizeof(msg));
    const uint8_t label[] = "label";
    assert_int_equal(parsec_asymmetric_encrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               msg, sizeof(msg), label, sizeof(label), ct,
                                               sizeof(ct), &ct_len),
                     0);
    assert_int_equal(parsec_asymmetric_decrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               ct, ct_len, NULL, 0, pt, sizeof(pt), &pt_len),
                     PARSEC_ERROR_PSA_INVALID_PADDING);

    /* OpenSSL encrypts with the exported key (OAEP SHA-256), the service decrypts. */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    size_t olen = sizeof(ct);
    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &olen, msg, sizeof(msg)), 1);
    EVP_PKEY_CTX_free(ctx);
    assert_int_equal(parsec_asymmetric_decrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               ct, olen, NULL, 0, pt, 4, &pt_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(pt_len, sizeof(msg));
    assert_int_equal(parsec_asymmetric_decrypt(g_c, "rsa-enc", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
                                               ct, olen, NULL, 0, pt, sizeof(pt), &pt_len),
                     0);
    assert_memory_equal(pt, msg, sizeof(msg));
    EVP_PKEY_free(pk);
    assert_int_equal(parsec_destroy_key(g_c, "rsa-enc"), 0);

    /* PKCS#1 v1.5 signature checked by OpenSSL. */
    assert_int_equal(parsec_rsa_sign_key_create(g_c, "rsa-sign", 1024), 0);
    assert_int_equal(parsec_export_public_key(g_c, "rsa-sign", pub, sizeof(pub), &pub_len), 0);
    pk = tu_rsa_pub(pub, pub_len);
    assert_non_null(pk);
    assert_int_equal(parsec_sign_message(g_c, "rsa-sign",
                                         PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), msg,
                                         sizeof(msg), sig, sizeof(sig), &sig_len),
                     0);
    assert_int_equal(sig_len, 128);
    assert_true(tu_rsa_pkcs1_verify(pk, msg, sizeof(msg), sig, sig_len));
    EVP_PKEY_free(pk);
    assert_int_equal(parsec_destroy_key(g_c, "rsa-sign"), 0);
}

static void test_hash_random_agreement(void **state)
{
    (void)state;
    uint8_t h[64], want[32];
    size_t h_len = 0;
    const uint8_t in[] = "hash me";
    tu_sha256(in, sizeof(in), want);
    assert_int_equal(
        parsec_hash_compute(g_c, PSA_ALG_SHA_256, in, sizeof(in), h, sizeof(h), &h_len), 0);
    assert_int_equal(h_len, 32);
    assert_memory_equal(h, want, 32);
    assert_int_equal(parsec_hash_compute(g_c, PSA_ALG_SHA_256, in, sizeof(in), h, 31, &h_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(parsec_hash_compare(g_c, PSA_ALG_SHA_256, in, sizeof(in), want, 32), 0);
    want[0] ^= 1;
    assert_int_equal(parsec_hash_compare(g_c, PSA_ALG_SHA_256, in, sizeof(in), want, 32),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    /* An empty input is a valid message. */
    assert_int_equal(parsec_hash_compute(g_c, PSA_ALG_SHA_256, NULL, 0, h, sizeof(h), &h_len), 0);
    tu_sha256((const uint8_t *)"", 0, want);
    assert_memory_equal(h, want, 32);

    /* Random: distinct draws, several requests for large sizes, nothing for 0. */
    uint8_t r1[32], r2[32];
    assert_int_equal(parsec_generate_random(g_c, r1, sizeof(r1)), 0);
    assert_int_equal(parsec_generate_random(g_c, r2, sizeof(r2)), 0);
    assert_memory_not_equal(r1, r2, sizeof(r1));
    size_t big = 3 * PARSEC_RANDOM_CHUNK + 17;
    uint8_t *b = calloc(1, big);
    assert_non_null(b);
    assert_int_equal(parsec_generate_random(g_c, b, big), 0);
    size_t zeros = 0;
    for (size_t i = big - 1024; i < big; i++)
        zeros += b[i] == 0;
    assert_true(zeros < 32); /* the tail was filled too */
    free(b);
    assert_int_equal(parsec_generate_random(g_c, NULL, 0), 0);
    assert_int_equal(parsec_generate_random(g_c, NULL, 1), PARSEC_ERROR_INVALID_ARGUMENT);

    /* ECDH with a peer key made by OpenSSL: both sides compute the same secret. */
    struct parsec_key_attributes a = {.type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                                      .bits = 256,
                                      .usage = PSA_KEY_USAGE_DERIVE,
                                      .alg = PSA_ALG_ECDH};
    assert_int_equal(parsec_generate_key(g_c, "ecdh", &a), 0);
    uint8_t our_pub[65], peer_pub[65], secret[64], ossl_secret[64];
    size_t our_len = 0, secret_len = 0;
    assert_int_equal(parsec_export_public_key(g_c, "ecdh", our_pub, sizeof(our_pub), &our_len), 0);
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(peer);
    size_t peer_len = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, peer_pub,
                                                     sizeof(peer_pub), &peer_len),
                     1);
    assert_int_equal(parsec_raw_key_agreement(g_c, PSA_ALG_ECDH, "ecdh", peer_pub, peer_len, secret,
                                              sizeof(secret), &secret_len),
                     0);
    assert_int_equal(secret_len, 32);
    EVP_PKEY *ours = tu_p256_pub(our_pub, our_len);
    EVP_PKEY_CTX *dctx = EVP_PKEY_CTX_new(peer, NULL);
    size_t olen = sizeof(ossl_secret);
    assert_int_equal(EVP_PKEY_derive_init(dctx), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(dctx, ours), 1);
    assert_int_equal(EVP_PKEY_derive(dctx, ossl_secret, &olen), 1);
    assert_int_equal(olen, 32);
    assert_memory_equal(secret, ossl_secret, 32);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(ours);
    EVP_PKEY_free(peer);
    assert_int_equal(parsec_destroy_key(g_c, "ecdh"), 0);
}

static void test_admin(void **state)
{
    (void)state;
    char **clients = NULL;
    size_t n = 0;
    assert_int_equal(parsec_ecc_key_create(g_c, "owned"), 0);
    assert_int_equal(parsec_list_clients(g_c, &clients, &n), PARSEC_ERROR_ADMIN_OPERATION);
    assert_null(clients);
    assert_int_equal(parsec_delete_client(g_c, APP), PARSEC_ERROR_ADMIN_OPERATION);

    struct parsec_client *admin = tu_client(&g_d, "admin");
    assert_int_equal(parsec_list_clients(admin, &clients, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(clients[0], APP);
    parsec_string_list_free(clients, n);
    assert_int_equal(parsec_delete_client(admin, APP), 0);
    assert_int_equal(parsec_list_clients(admin, &clients, &n), 0);
    assert_int_equal(n, 0);
    parsec_string_list_free(clients, n);
    parsec_client_free(admin);
    assert_int_equal(parsec_destroy_key(g_c, "owned"), PARSEC_ERROR_PSA_DOES_NOT_EXIST);
}

static void test_client_side_errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t len;
    /* Arguments. */
    assert_int_equal(parsec_destroy_key(g_c, NULL), PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_ping(NULL, NULL, NULL), PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_export_public_key(g_c, "k", buf, sizeof(buf), NULL),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_sign_hash(g_c, "k", PSA_ALG_ECDSA(PSA_ALG_SHA_256), NULL, 32, buf,
                                      sizeof(buf), &len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    char *longname = malloc(PARSEC_KEY_NAME_MAX + 2);
    assert_non_null(longname);
    memset(longname, 'k', PARSEC_KEY_NAME_MAX + 1);
    longname[PARSEC_KEY_NAME_MAX + 1] = '\0';
    assert_int_equal(parsec_destroy_key(g_c, longname), PARSEC_ERROR_INVALID_ARGUMENT);
    free(longname);
    assert_int_equal(parsec_generate_key(g_c, "k", NULL), PARSEC_ERROR_INVALID_ARGUMENT);

    /* Values with no wire form are refused before sending. */
    struct parsec_key_attributes ed = {.type = PSA_KEY_TYPE_ECC_KEY_PAIR(0x42),
                                       .bits = 255,
                                       .usage = PSA_KEY_USAGE_SIGN_HASH,
                                       .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256)};
    assert_int_equal(parsec_generate_key(g_c, "k", &ed), PARSEC_ERROR_ENCODING);
    assert_int_equal(
        parsec_hash_compute(g_c, PSA_ALG_HMAC(PSA_ALG_SHA_256), buf, 1, buf, sizeof(buf), &len),
        PARSEC_ERROR_ENCODING);
    assert_int_equal(parsec_sign_hash(g_c, "k", PSA_ALG_GCM, buf, 32, buf, sizeof(buf), &len),
                     PARSEC_ERROR_ENCODING);

    /* Implicit provider Core: crypto refused locally, core operations still work. */
    assert_int_equal(parsec_client_set_provider(g_c, 0), 0);
    assert_int_equal(parsec_generate_random(g_c, buf, 4), PARSEC_ERROR_INVALID_PROVIDER);
    assert_int_equal(parsec_ecc_key_create(g_c, "k"), PARSEC_ERROR_INVALID_PROVIDER);
    assert_int_equal(parsec_ping(g_c, NULL, NULL), 0);
    /* A provider that is valid but not configured: the service answers. */
    assert_int_equal(parsec_client_set_provider(g_c, 3), 0);
    assert_int_equal(parsec_generate_random(g_c, buf, 4), PARSEC_ERROR_PROVIDER_NOT_REGISTERED);
    assert_int_equal(parsec_client_set_provider(g_c, 300), PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_client_set_provider(g_c, 1), 0);

    /* No authentication: key operations need it, random does not. */
    assert_int_equal(parsec_client_set_auth_none(g_c), 0);
    assert_int_equal(parsec_ecc_key_create(g_c, "k"), PARSEC_ERROR_NOT_AUTHENTICATED);
    struct parsec_key_info *keys = NULL;
    size_t nkeys = 0;
    assert_int_equal(parsec_list_keys(g_c, &keys, &nkeys), PARSEC_ERROR_NOT_AUTHENTICATED);
    assert_int_equal(parsec_generate_random(g_c, buf, 4), 0);
    /* Another application name: another key namespace. */
    assert_int_equal(parsec_client_set_auth_direct(g_c, "other-app"), 0);
    assert_int_equal(parsec_client_auth_type(g_c), PARSEC_AUTH_DIRECT);
    assert_int_equal(parsec_ecc_key_create(g_c, "k"), 0);
    assert_int_equal(parsec_client_set_auth_direct(g_c, APP), 0);
    assert_int_equal(parsec_destroy_key(g_c, "k"), PARSEC_ERROR_PSA_DOES_NOT_EXIST);
    assert_int_equal(parsec_client_set_auth_direct(g_c, "other-app"), 0);
    assert_int_equal(parsec_destroy_key(g_c, "k"), 0);
    assert_int_equal(parsec_client_set_auth_direct(g_c, APP), 0);
    assert_int_equal(parsec_client_set_auth_direct(g_c, ""), PARSEC_ERROR_INVALID_ARGUMENT);

    /* Reply size limit. */
    assert_int_equal(parsec_client_set_max_body_size(g_c, 16), 0);
    uint8_t r[64];
    assert_int_equal(parsec_generate_random(g_c, r, 8), 0);
    assert_int_equal(parsec_generate_random(g_c, r, 64), PARSEC_ERROR_RESPONSE_TOO_LONG);
    assert_int_equal(parsec_client_set_max_body_size(g_c, 0), 0);
    assert_int_equal(parsec_generate_random(g_c, r, 64), 0);

    /* The service's own limit on request bodies. */
    size_t huge = (1u << 20) + 64;
    uint8_t *in = calloc(1, huge);
    assert_non_null(in);
    assert_int_equal(parsec_hash_compute(g_c, PSA_ALG_SHA_256, in, huge, r, sizeof(r), &len),
                     PARSEC_ERROR_BODY_SIZE_EXCEEDS_LIMIT);
    free(in);
    assert_int_equal(parsec_client_set_timeout(g_c, PARSEC_TIMEOUT_INFINITE), 0);
    assert_int_equal(parsec_ping(g_c, NULL, NULL), 0);
    assert_int_equal(parsec_client_set_timeout(g_c, PARSEC_TIMEOUT_DEFAULT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core),          cmocka_unit_test(test_ecc_keys),
        cmocka_unit_test(test_import_export), cmocka_unit_test(test_easy_gcm),
        cmocka_unit_test(test_rsa),           cmocka_unit_test(test_hash_random_agreement),
        cmocka_unit_test(test_admin),         cmocka_unit_test(test_client_side_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
