/* A program written only against the standard PSA Crypto API (<psa/crypto.h>), linked with
 * libparsec-psa instead of Mbed TLS: every call below is served by a Parsec service
 * (PARSEC_SERVICE_ENDPOINT). Exit status 0 when every check passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, want)                                                                   \
    do {                                                                                           \
        psa_status_t st_ = (expr);                                                                 \
        if (st_ != (want)) {                                                                       \
            fprintf(stderr, "%s:%d: %s = %d, expected %d\n", __FILE__, __LINE__, #expr, (int)st_,  \
                    (int)(want));                                                                  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void test_sign_verify(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    const uint8_t msg[] = "message signed through the PSA front";
    uint8_t hash[PSA_HASH_MAX_SIZE], sig[PSA_SIGNATURE_MAX_SIZE], pub[128];
    size_t hash_len = 0, sig_len = 0, pub_len = 0;

    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
    CHECK(key != 0);

    CHECK_STATUS(psa_hash_compute(PSA_ALG_SHA_256, msg, sizeof(msg), hash, sizeof(hash), &hash_len),
                 PSA_SUCCESS);
    CHECK(hash_len == 32);
    CHECK_STATUS(psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig,
                               sizeof(sig), &sig_len),
                 PSA_SUCCESS);
    CHECK(sig_len == 64);
    CHECK_STATUS(psa_verify_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig, sig_len),
                 PSA_SUCCESS);
    /* Message variants (sign_hash usage also permits them). */
    CHECK_STATUS(psa_sign_message(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg, sizeof(msg), sig,
                                  sizeof(sig), &sig_len),
                 PSA_SUCCESS);
    CHECK_STATUS(
        psa_verify_message(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg, sizeof(msg), sig, sig_len),
        PSA_SUCCESS);
    /* A message signature is a signature of its hash. */
    CHECK_STATUS(psa_verify_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig, sig_len),
                 PSA_SUCCESS);
    sig[10] ^= 1;
    CHECK_STATUS(
        psa_verify_message(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg, sizeof(msg), sig, sig_len),
        PSA_ERROR_INVALID_SIGNATURE);
    /* Buffer too small. */
    CHECK_STATUS(
        psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig, 10, &sig_len),
        PSA_ERROR_BUFFER_TOO_SMALL);

    /* The public key, imported back as a public key, verifies a fresh signature. */
    CHECK_STATUS(psa_export_public_key(key, pub, sizeof(pub), &pub_len), PSA_SUCCESS);
    CHECK(pub_len == 65 && pub[0] == 0x04);
    CHECK_STATUS(psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig,
                               sizeof(sig), &sig_len),
                 PSA_SUCCESS);
    psa_key_attributes_t pattr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t pkey = 0;
    psa_set_key_type(&pattr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&pattr, 256);
    psa_set_key_usage_flags(&pattr, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&pattr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK_STATUS(psa_import_key(&pattr, pub, pub_len, &pkey), PSA_SUCCESS);
    CHECK_STATUS(
        psa_verify_hash(pkey, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig, sig_len),
        PSA_SUCCESS);

    /* Attributes as PSA reports them. */
    psa_key_attributes_t got = PSA_KEY_ATTRIBUTES_INIT;
    CHECK_STATUS(psa_get_key_attributes(key, &got), PSA_SUCCESS);
    CHECK(psa_get_key_type(&got) == PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    CHECK(psa_get_key_bits(&got) == 256);
    CHECK(psa_get_key_algorithm(&got) == PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK((psa_get_key_usage_flags(&got) & PSA_KEY_USAGE_SIGN_HASH) != 0);
    CHECK(psa_get_key_id(&got) == key);
    CHECK(PSA_KEY_LIFETIME_IS_VOLATILE(psa_get_key_lifetime(&got)));
    psa_reset_key_attributes(&got);
    CHECK(psa_get_key_type(&got) == 0);

    /* The private key cannot be exported (no export usage). */
    uint8_t priv[64];
    size_t priv_len = 0;
    CHECK_STATUS(psa_export_key(key, priv, sizeof(priv), &priv_len), PSA_ERROR_NOT_PERMITTED);

    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(pkey), PSA_SUCCESS);
    CHECK_STATUS(psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, hash_len, sig,
                               sizeof(sig), &sig_len),
                 PSA_ERROR_INVALID_HANDLE);
    CHECK_STATUS(psa_destroy_key(key), PSA_ERROR_INVALID_HANDLE);
}

static void test_persistent_export(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    const uint8_t material[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    uint8_t out[32];
    size_t out_len = 0;

    psa_set_key_id(&attr, 4242);
    psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 128);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_GCM);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key), PSA_SUCCESS);
    CHECK(key == 4242);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key), PSA_ERROR_ALREADY_EXISTS);
    CHECK_STATUS(psa_export_key(4242, out, sizeof(out), &out_len), PSA_SUCCESS);
    CHECK(out_len == 16 && memcmp(out, material, 16) == 0);
    psa_key_attributes_t got = PSA_KEY_ATTRIBUTES_INIT;
    CHECK_STATUS(psa_get_key_attributes(4242, &got), PSA_SUCCESS);
    CHECK(psa_get_key_lifetime(&got) == PSA_KEY_LIFETIME_PERSISTENT);
    psa_key_handle_t h = 0;
    CHECK_STATUS(psa_open_key(4242, &h), PSA_SUCCESS);
    CHECK_STATUS(psa_close_key(h), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(4242), PSA_SUCCESS);
    CHECK_STATUS(psa_open_key(4242, &h), PSA_ERROR_INVALID_HANDLE);

    /* Persistent keys need an id in the user range; volatile ones must not have one. */
    psa_set_key_id(&attr, 0x40000001);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key),
                 PSA_ERROR_INVALID_ARGUMENT);
}

static void test_aead(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    const uint8_t pt[] = "AEAD through Parsec";
    const uint8_t ad[] = "header";
    uint8_t nonce[12], ct[64], back[64];
    size_t ct_len = 0, back_len = 0;

    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_GCM);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
    CHECK_STATUS(psa_generate_random(nonce, sizeof(nonce)), PSA_SUCCESS);
    CHECK_STATUS(psa_aead_encrypt(key, PSA_ALG_GCM, nonce, sizeof(nonce), ad, sizeof(ad), pt,
                                  sizeof(pt), ct, sizeof(ct), &ct_len),
                 PSA_SUCCESS);
    CHECK(ct_len == sizeof(pt) + 16);
    CHECK(memcmp(ct, pt, sizeof(pt)) != 0);
    CHECK_STATUS(psa_aead_decrypt(key, PSA_ALG_GCM, nonce, sizeof(nonce), ad, sizeof(ad), ct,
                                  ct_len, back, sizeof(back), &back_len),
                 PSA_SUCCESS);
    CHECK(back_len == sizeof(pt) && memcmp(back, pt, sizeof(pt)) == 0);
    ct[0] ^= 0x80;
    CHECK_STATUS(psa_aead_decrypt(key, PSA_ALG_GCM, nonce, sizeof(nonce), ad, sizeof(ad), ct,
                                  ct_len, back, sizeof(back), &back_len),
                 PSA_ERROR_INVALID_SIGNATURE);
    CHECK(back_len == 0);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);
}

static void test_hash_random(void)
{
    static const uint8_t abc_sha256[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                           0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                           0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                           0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t h[64], r1[32], r2[32];
    size_t h_len = 0;
    CHECK_STATUS(psa_hash_compute(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, h, sizeof(h), &h_len),
                 PSA_SUCCESS);
    CHECK(h_len == 32 && memcmp(h, abc_sha256, 32) == 0);
    CHECK_STATUS(psa_hash_compare(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, abc_sha256, 32),
                 PSA_SUCCESS);
    CHECK_STATUS(psa_hash_compare(PSA_ALG_SHA_256, (const uint8_t *)"abd", 3, abc_sha256, 32),
                 PSA_ERROR_INVALID_SIGNATURE);
    CHECK_STATUS(psa_generate_random(r1, sizeof(r1)), PSA_SUCCESS);
    CHECK_STATUS(psa_generate_random(r2, sizeof(r2)), PSA_SUCCESS);
    CHECK(memcmp(r1, r2, sizeof(r1)) != 0);
    CHECK_STATUS(psa_generate_random(r1, 0), PSA_SUCCESS);
}

static void test_unsupported(void)
{
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    CHECK_STATUS(psa_hash_setup(&op, PSA_ALG_SHA_256), PSA_ERROR_NOT_SUPPORTED);
    CHECK_STATUS(psa_hash_abort(&op), PSA_SUCCESS);
    uint8_t mac[32];
    size_t mac_len;
    CHECK_STATUS(
        psa_mac_compute(1, PSA_ALG_HMAC(PSA_ALG_SHA_256), mac, 1, mac, sizeof(mac), &mac_len),
        PSA_ERROR_NOT_SUPPORTED);
}

int main(void)
{
    uint8_t r[4];
    /* Before initialisation nothing is sent. */
    CHECK_STATUS(psa_generate_random(r, sizeof(r)), PSA_ERROR_BAD_STATE);
    CHECK_STATUS(psa_crypto_init(), PSA_SUCCESS);
    CHECK_STATUS(psa_crypto_init(), PSA_SUCCESS);
    test_sign_verify();
    test_persistent_export();
    test_aead();
    test_hash_random();
    test_unsupported();
    mbedtls_psa_crypto_free();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("psa front: all checks passed\n");
    return failures ? 1 : 0;
}
