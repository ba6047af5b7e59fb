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

/* A public key exports whatever its usage flags say; a key pair or a symmetric key needs the
 * export flag. */
static void test_export_public_key_type(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t pair = 0, pub = 0, ecc = 0, ecc_pub = 0;
    uint8_t der[300], out[300];
    size_t der_len = 0, out_len = 0;

    psa_set_key_type(&attr, PSA_KEY_TYPE_RSA_KEY_PAIR);
    psa_set_key_bits(&attr, 1024);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256));
    CHECK_STATUS(psa_generate_key(&attr, &pair), PSA_SUCCESS);
    CHECK_STATUS(psa_export_public_key(pair, der, sizeof(der), &der_len), PSA_SUCCESS);
    CHECK_STATUS(psa_export_key(pair, out, sizeof(out), &out_len), PSA_ERROR_NOT_PERMITTED);

    psa_set_key_type(&attr, PSA_KEY_TYPE_RSA_PUBLIC_KEY);
    psa_set_key_bits(&attr, 0);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
    CHECK_STATUS(psa_import_key(&attr, der, der_len, &pub), PSA_SUCCESS);
    CHECK_STATUS(psa_export_key(pub, out, sizeof(out), &out_len), PSA_SUCCESS);
    CHECK(out_len == der_len && memcmp(out, der, der_len) == 0);

    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK_STATUS(psa_generate_key(&attr, &ecc), PSA_SUCCESS);
    CHECK_STATUS(psa_export_public_key(ecc, der, sizeof(der), &der_len), PSA_SUCCESS);
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_usage_flags(&attr, 0);
    CHECK_STATUS(psa_import_key(&attr, der, der_len, &ecc_pub), PSA_SUCCESS);
    CHECK_STATUS(psa_export_key(ecc_pub, out, sizeof(out), &out_len), PSA_SUCCESS);
    CHECK(out_len == der_len && memcmp(out, der, der_len) == 0);

    CHECK_STATUS(psa_destroy_key(pair), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(pub), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(ecc), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(ecc_pub), PSA_SUCCESS);
}

/* Algorithms of the wrong family, and policy wildcards used as an operation's algorithm, are
 * invalid arguments (PSA Crypto API 1.1; the Arm PSA architecture tests check them with a key
 * whose policy names the same wrong algorithm). */
static void test_wrong_algorithm_family(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    uint8_t hash[32] = {1}, sig[256], out[256];
    size_t len = 0;
    const psa_algorithm_t sha = PSA_ALG_SHA_256;

    psa_set_key_type(&attr, PSA_KEY_TYPE_RSA_KEY_PAIR);
    psa_set_key_bits(&attr, 1024);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH |
                                       PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE |
                                       PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attr, sha);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
    CHECK_STATUS(psa_sign_hash(key, sha, hash, 32, sig, sizeof(sig), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_verify_hash(key, sha, hash, 32, sig, 128), PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_sign_message(key, sha, hash, 32, sig, sizeof(sig), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_verify_message(key, sha, hash, 32, sig, 128), PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_asymmetric_encrypt(key, sha, hash, 32, NULL, 0, out, sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_asymmetric_decrypt(key, sha, sig, 128, NULL, 0, out, sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_cipher_encrypt(key, sha, hash, 32, out, sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_cipher_decrypt(key, sha, hash, 32, out, sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_raw_key_agreement(sha, key, hash, 32, out, sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    /* A wildcard permits, it is never an operation's algorithm. */
    CHECK_STATUS(
        psa_sign_hash(key, PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH), hash, 32, sig, sizeof(sig), &len),
        PSA_ERROR_INVALID_ARGUMENT);
    /* Signing a message needs a scheme with a specific hash. */
    CHECK_STATUS(
        psa_sign_message(key, PSA_ALG_RSA_PKCS1V15_SIGN_RAW, hash, 32, sig, sizeof(sig), &len),
        PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);

    /* An ECC key has no asymmetric encryption at all: not supported (Arm PSA tests). A usage
     * refusal comes first. */
    psa_key_attributes_t eattr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t ecc = 0;
    psa_set_key_type(&eattr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&eattr, 256);
    psa_set_key_usage_flags(&eattr, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&eattr, PSA_ALG_ECDSA_ANY);
    CHECK_STATUS(psa_generate_key(&eattr, &ecc), PSA_SUCCESS);
    CHECK_STATUS(
        psa_asymmetric_encrypt(ecc, PSA_ALG_ECDSA_ANY, hash, 32, NULL, 0, out, sizeof(out), &len),
        PSA_ERROR_NOT_SUPPORTED);
    CHECK_STATUS(
        psa_asymmetric_decrypt(ecc, PSA_ALG_ECDSA_ANY, hash, 32, NULL, 0, out, sizeof(out), &len),
        PSA_ERROR_NOT_PERMITTED);
    CHECK_STATUS(psa_destroy_key(ecc), PSA_SUCCESS);
    CHECK_STATUS(
        psa_asymmetric_encrypt(ecc, PSA_ALG_ECDSA_ANY, hash, 32, NULL, 0, out, sizeof(out), &len),
        PSA_ERROR_INVALID_HANDLE);

    /* PKCS#1 v1.5 encryption takes no salt. */
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_RSA_PKCS1V15_CRYPT);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
    CHECK_STATUS(psa_asymmetric_encrypt(key, PSA_ALG_RSA_PKCS1V15_CRYPT, hash, 32, hash, 16, out,
                                        sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK(len == 0);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);
}

/* A key whose type cannot serve the algorithm is an invalid argument; a usage flag or policy
 * that refuses the operation is not permitted. */
static void test_incompatible_key_type(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t aes = 0, aes2 = 0, rsa = 0;
    const uint8_t material[16] = {1, 2, 3};
    uint8_t hash[32] = {0}, sig[256], out[256];
    size_t len = 0;
    const psa_algorithm_t pkcs1 = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256);

    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 128);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH |
                                       PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE);
    psa_set_key_algorithm(&attr, pkcs1);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &aes), PSA_SUCCESS);
    CHECK_STATUS(psa_sign_hash(aes, pkcs1, hash, 32, sig, sizeof(sig), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_verify_hash(aes, pkcs1, hash, 32, sig, 128), PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_sign_message(aes, pkcs1, hash, 32, sig, sizeof(sig), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_verify_message(aes, pkcs1, hash, 32, sig, 128), PSA_ERROR_INVALID_ARGUMENT);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attr, PSA_ALG_RSA_PKCS1V15_CRYPT);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &aes2), PSA_SUCCESS);
    CHECK_STATUS(psa_asymmetric_encrypt(aes2, PSA_ALG_RSA_PKCS1V15_CRYPT, hash, 32, NULL, 0, out,
                                        sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_asymmetric_decrypt(aes2, PSA_ALG_RSA_PKCS1V15_CRYPT, sig, 128, NULL, 0, out,
                                        sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK(len == 0);

    psa_set_key_type(&attr, PSA_KEY_TYPE_RSA_KEY_PAIR);
    psa_set_key_bits(&attr, 1024);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attr, pkcs1);
    CHECK_STATUS(psa_generate_key(&attr, &rsa), PSA_SUCCESS);
    CHECK_STATUS(psa_sign_hash(rsa, pkcs1, hash, 32, sig, sizeof(sig), &len),
                 PSA_ERROR_NOT_PERMITTED);
    CHECK_STATUS(psa_asymmetric_encrypt(rsa, PSA_ALG_RSA_PKCS1V15_CRYPT, hash, 32, NULL, 0, out,
                                        sizeof(out), &len),
                 PSA_ERROR_NOT_PERMITTED);
    CHECK_STATUS(psa_destroy_key(aes), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(aes2), PSA_SUCCESS);
    CHECK_STATUS(psa_destroy_key(rsa), PSA_SUCCESS);
}

/* Usage bits the API does not define are invalid, not unsupported. */
static void test_undefined_usage_bits(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    const uint8_t material[16] = {0};
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 128);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | 0x00000040u);
    psa_set_key_algorithm(&attr, PSA_ALG_CTR);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK(key == 0);
}

/* Unusual but valid policies that the wire protocol carries are imported. */
static void test_unusual_policies(void)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    const uint8_t material[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    uint8_t nonce[13] = {0}, out[64];
    size_t len = 0;
    const psa_algorithm_t ccm0 = PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 0);

    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&attr, 128);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&attr, ccm0);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key), PSA_SUCCESS);
    psa_key_attributes_t got = PSA_KEY_ATTRIBUTES_INIT;
    CHECK_STATUS(psa_get_key_attributes(key, &got), PSA_SUCCESS);
    CHECK(psa_get_key_algorithm(&got) == ccm0);
    /* A tag of length 0 is no valid AEAD. */
    CHECK_STATUS(psa_aead_encrypt(key, ccm0, nonce, sizeof(nonce), NULL, 0, material, 16, out,
                                  sizeof(out), &len),
                 PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(
        psa_aead_decrypt(key, ccm0, nonce, sizeof(nonce), NULL, 0, out, 32, out, sizeof(out), &len),
        PSA_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);

    /* A derivation key whose policy is a key agreement followed by a key derivation. */
    const psa_algorithm_t ka = PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    psa_set_key_type(&attr, PSA_KEY_TYPE_DERIVE);
    psa_set_key_bits(&attr, 0);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, ka);
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &key), PSA_SUCCESS);
    CHECK_STATUS(psa_get_key_attributes(key, &got), PSA_SUCCESS);
    CHECK(psa_get_key_algorithm(&got) == ka);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);
    /* Mbed TLS's enrollment algorithm has no place on the wire: refused, nothing created. */
    psa_key_id_t none = 0;
    psa_set_key_enrollment_algorithm(&attr, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    CHECK_STATUS(psa_import_key(&attr, material, sizeof(material), &none), PSA_ERROR_NOT_SUPPORTED);
    CHECK(none == 0);
    psa_set_key_enrollment_algorithm(&attr, PSA_ALG_NONE);
    /* The same policy on an ECC key pair. */
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
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
    /* A hash of the wrong length is a mismatch too, as in Mbed TLS. */
    CHECK_STATUS(psa_hash_compare(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, abc_sha256, 31),
                 PSA_ERROR_INVALID_SIGNATURE);
    CHECK_STATUS(psa_hash_compare(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, abc_sha256, 0),
                 PSA_ERROR_INVALID_SIGNATURE);
    /* Not a hash algorithm, a wildcard or an undefined hash: unsupported (Arm PSA tests). */
    const psa_algorithm_t not_hashes[] = {PSA_ALG_CTR, PSA_ALG_ANY_HASH, 0x02FFFFFF};
    for (size_t i = 0; i < sizeof(not_hashes) / sizeof(not_hashes[0]); i++) {
        CHECK_STATUS(
            psa_hash_compute(not_hashes[i], (const uint8_t *)"abc", 3, h, sizeof(h), &h_len),
            PSA_ERROR_NOT_SUPPORTED);
        CHECK(h_len == 0);
        CHECK_STATUS(psa_hash_compare(not_hashes[i], (const uint8_t *)"abc", 3, abc_sha256, 32),
                     PSA_ERROR_NOT_SUPPORTED);
    }
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
    test_export_public_key_type();
    test_wrong_algorithm_family();
    test_incompatible_key_type();
    test_undefined_usage_bits();
    test_unusual_policies();
    test_unsupported();
    mbedtls_psa_crypto_free();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("psa front: all checks passed\n");
    return failures ? 1 : 0;
}
