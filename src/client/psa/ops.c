/* PSA cryptographic operations on Parsec keys: each resolves the key id to a name and makes
 * one libparsec call. On failure every output length is 0. */
#include <string.h>

#include "psa_int.h"

#include "psa/policy.h"

/* The checks Mbed TLS makes on an operation's algorithm before it looks at the key, with its
 * statuses (those of the PSA Crypto API 1.1 and of the Arm PSA architecture tests): an
 * algorithm of another family, or a policy wildcard used as an operation's algorithm, is an
 * invalid argument, except for AEAD where it is unsupported. No request is sent for them. */
static psa_status_t sign_hash_alg(psa_algorithm_t alg)
{
    return PSA_ALG_IS_SIGN_HASH(alg) && PSA_ALG_SIGN_GET_HASH(alg) != PSA_ALG_ANY_HASH
               ? PSA_SUCCESS
               : PSA_ERROR_INVALID_ARGUMENT;
}

/* A message is hashed first: the scheme must name a specific hash. */
static psa_status_t sign_message_alg(psa_algorithm_t alg)
{
    psa_algorithm_t h = PSA_ALG_SIGN_GET_HASH(alg);
    return PSA_ALG_IS_SIGN_HASH(alg) && h != 0 && h != PSA_ALG_ANY_HASH
               ? PSA_SUCCESS
               : PSA_ERROR_INVALID_ARGUMENT;
}

static psa_status_t aead_alg(psa_algorithm_t alg)
{
    return PSA_ALG_IS_AEAD(alg) && (alg & PSA_ALG_AEAD_AT_LEAST_THIS_LENGTH_FLAG) == 0
               ? PSA_SUCCESS
               : PSA_ERROR_NOT_SUPPORTED;
}

static psa_status_t cipher_alg(psa_algorithm_t alg)
{
    return PSA_ALG_IS_CIPHER(alg) ? PSA_SUCCESS : PSA_ERROR_INVALID_ARGUMENT;
}

/* A key agreement followed by a key derivation is for psa_key_derivation_key_agreement. */
static psa_status_t raw_ka_alg(psa_algorithm_t alg)
{
    return PSA_ALG_IS_RAW_KEY_AGREEMENT(alg) ? PSA_SUCCESS : PSA_ERROR_INVALID_ARGUMENT;
}

/* What every operation on a key does first: the output length (if any) is 0 until the
 * operation succeeds, an uninitialised library is a bad state, then the algorithm check
 * (alg_st, from the functions above), then the key id is resolved. */
static psa_status_t key_prepare(mbedtls_svc_key_id_t key, psa_status_t alg_st, size_t *out_len,
                                int has_out, struct parsec_client **c, char name[FR_NAME_BUF])
{
    if (has_out && !out_len)
        return PSA_ERROR_INVALID_ARGUMENT;
    if (out_len)
        *out_len = 0;
    psa_status_t st = fr_client(c);
    if (st == PSA_SUCCESS)
        st = alg_st;
    return st == PSA_SUCCESS ? fr_key(key, c, name) : st;
}

/* key_prepare for an operation with an output. */
static psa_status_t key_name_out(mbedtls_svc_key_id_t key, psa_status_t alg_st, size_t *out_len,
                                 struct parsec_client **c, char name[FR_NAME_BUF])
{
    return key_prepare(key, alg_st, out_len, 1, c, name);
}

/* key_prepare for an operation without one. */
static psa_status_t key_name(mbedtls_svc_key_id_t key, psa_status_t alg_st,
                             struct parsec_client **c, char name[FR_NAME_BUF])
{
    return key_prepare(key, alg_st, NULL, 0, c, name);
}

/* The service answers PsaErrorNotPermitted both when the key's usage flags or policy refuse
 * the operation and when the key's type cannot serve the algorithm (the original's rule); the
 * PSA API calls the latter an invalid argument. On that error path only, the key's attributes
 * tell the two apart. */
static int refine_not_permitted(struct parsec_client *c, const char *name, enum policy_usage need,
                                psa_algorithm_t alg, int rc)
{
    struct parsec_key_attributes pa;
    if (rc != PARSEC_ERROR_PSA_NOT_PERMITTED || parsec_key_attributes(c, name, &pa, NULL) != 0)
        return rc;
    if (policy_usage_allowed(pa.usage, need) && policy_alg_permitted(pa.alg, alg) &&
        !policy_alg_compatible(pa.type, alg))
        return PARSEC_ERROR_PSA_INVALID_ARGUMENT;
    return rc;
}

/* An asymmetric encryption given an algorithm of another family: Mbed TLS answers after its
 * usage and policy checks, and by the key's type (an RSA key: invalid argument; any other key
 * has no asymmetric encryption at all: not supported, as the Arm PSA architecture tests
 * expect). The key's attributes give the same answer. */
static int asym_wrong_family(struct parsec_client *c, const char *name, enum policy_usage need,
                             psa_algorithm_t alg)
{
    struct parsec_key_attributes pa;
    int rc = parsec_key_attributes(c, name, &pa, NULL);
    if (rc != 0)
        return rc;
    if (!policy_usage_allowed(pa.usage, need) || !policy_alg_permitted(pa.alg, alg))
        return PARSEC_ERROR_PSA_NOT_PERMITTED;
    return PSA_KEY_TYPE_IS_RSA(pa.type) ? PARSEC_ERROR_PSA_INVALID_ARGUMENT
                                        : PARSEC_ERROR_PSA_NOT_SUPPORTED;
}

/* The end of an operation on a key: the status, and the result length (if any), 0 on
 * failure. */
static psa_status_t key_done(struct parsec_client *c, const char *name, enum policy_usage need,
                             psa_algorithm_t alg, int rc, size_t len, size_t *out_len)
{
    rc = refine_not_permitted(c, name, need, alg, rc);
    if (out_len)
        *out_len = rc == 0 ? len : 0;
    return fr_key_status(rc);
}

psa_status_t psa_sign_hash(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *hash,
                           size_t hash_length, uint8_t *signature, size_t signature_size,
                           size_t *signature_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, sign_hash_alg(alg), signature_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_sign_hash(c, name, alg, hash, hash_length, signature, signature_size, &len);
    return key_done(c, name, POLICY_SIGN_HASH, alg, rc, len, signature_length);
}

psa_status_t psa_verify_hash(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *hash,
                             size_t hash_length, const uint8_t *signature, size_t signature_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    psa_status_t st = key_name(key, sign_hash_alg(alg), &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_verify_hash(c, name, alg, hash, hash_length, signature, signature_length);
    return key_done(c, name, POLICY_VERIFY_HASH, alg, rc, 0, NULL);
}

/* The original Mbed Crypto provider, and the PKCS#11 and TPM providers, have no SignMessage /
 * VerifyMessage: on PsaErrorNotSupported the message is hashed here (they have no HashCompute
 * either) and the hash is signed / verified instead. The caller wipes the hash. */
static int hash_for(psa_algorithm_t alg, const uint8_t *input, size_t input_length,
                    uint8_t hash[PSA_HASH_MAX_SIZE], size_t *hash_len)
{
    /* sign_message_alg has checked that the scheme names a specific hash. */
    return parsec_hash_local(PSA_ALG_SIGN_GET_HASH(alg), input, input_length, hash,
                             PSA_HASH_MAX_SIZE, hash_len);
}

psa_status_t psa_sign_message(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *input,
                              size_t input_length, uint8_t *signature, size_t signature_size,
                              size_t *signature_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, sign_message_alg(alg), signature_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc =
        parsec_sign_message(c, name, alg, input, input_length, signature, signature_size, &len);
    if (rc == PARSEC_ERROR_PSA_NOT_SUPPORTED) {
        uint8_t hash[PSA_HASH_MAX_SIZE];
        size_t hash_len = 0;
        rc = hash_for(alg, input, input_length, hash, &hash_len);
        if (rc == 0)
            rc = parsec_sign_hash(c, name, alg, hash, hash_len, signature, signature_size, &len);
        explicit_bzero(hash, sizeof(hash));
    }
    return key_done(c, name, POLICY_SIGN_MESSAGE, alg, rc, len, signature_length);
}

psa_status_t psa_verify_message(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *input,
                                size_t input_length, const uint8_t *signature,
                                size_t signature_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    psa_status_t st = key_name(key, sign_message_alg(alg), &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_verify_message(c, name, alg, input, input_length, signature, signature_length);
    if (rc == PARSEC_ERROR_PSA_NOT_SUPPORTED) {
        uint8_t hash[PSA_HASH_MAX_SIZE];
        size_t hash_len = 0;
        rc = hash_for(alg, input, input_length, hash, &hash_len);
        if (rc == 0)
            rc = parsec_verify_hash(c, name, alg, hash, hash_len, signature, signature_length);
        explicit_bzero(hash, sizeof(hash));
    }
    return key_done(c, name, POLICY_VERIFY_MESSAGE, alg, rc, 0, NULL);
}

psa_status_t psa_asymmetric_encrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg,
                                    const uint8_t *input, size_t input_length, const uint8_t *salt,
                                    size_t salt_length, uint8_t *output, size_t output_size,
                                    size_t *output_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, PSA_SUCCESS, output_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    if (!PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg))
        return fr_key_status(asym_wrong_family(c, name, POLICY_ENCRYPT, alg));
    int rc = parsec_asymmetric_encrypt(c, name, alg, input, input_length, salt, salt_length, output,
                                       output_size, &len);
    return key_done(c, name, POLICY_ENCRYPT, alg, rc, len, output_length);
}

psa_status_t psa_asymmetric_decrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg,
                                    const uint8_t *input, size_t input_length, const uint8_t *salt,
                                    size_t salt_length, uint8_t *output, size_t output_size,
                                    size_t *output_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, PSA_SUCCESS, output_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    if (!PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg))
        return fr_key_status(asym_wrong_family(c, name, POLICY_DECRYPT, alg));
    int rc = parsec_asymmetric_decrypt(c, name, alg, input, input_length, salt, salt_length, output,
                                       output_size, &len);
    return key_done(c, name, POLICY_DECRYPT, alg, rc, len, output_length);
}

psa_status_t psa_aead_encrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *nonce,
                              size_t nonce_length, const uint8_t *additional_data,
                              size_t additional_data_length, const uint8_t *plaintext,
                              size_t plaintext_length, uint8_t *ciphertext, size_t ciphertext_size,
                              size_t *ciphertext_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, aead_alg(alg), ciphertext_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_aead_encrypt(c, name, alg, nonce, nonce_length, additional_data,
                                 additional_data_length, plaintext, plaintext_length, ciphertext,
                                 ciphertext_size, &len);
    return key_done(c, name, POLICY_ENCRYPT, alg, rc, len, ciphertext_length);
}

psa_status_t psa_aead_decrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *nonce,
                              size_t nonce_length, const uint8_t *additional_data,
                              size_t additional_data_length, const uint8_t *ciphertext,
                              size_t ciphertext_length, uint8_t *plaintext, size_t plaintext_size,
                              size_t *plaintext_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, aead_alg(alg), plaintext_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_aead_decrypt(c, name, alg, nonce, nonce_length, additional_data,
                                 additional_data_length, ciphertext, ciphertext_length, plaintext,
                                 plaintext_size, &len);
    return key_done(c, name, POLICY_DECRYPT, alg, rc, len, plaintext_length);
}

psa_status_t psa_cipher_encrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *input,
                                size_t input_length, uint8_t *output, size_t output_size,
                                size_t *output_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, cipher_alg(alg), output_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_cipher_encrypt(c, name, alg, input, input_length, output, output_size, &len);
    return key_done(c, name, POLICY_ENCRYPT, alg, rc, len, output_length);
}

psa_status_t psa_cipher_decrypt(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *input,
                                size_t input_length, uint8_t *output, size_t output_size,
                                size_t *output_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(key, cipher_alg(alg), output_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_cipher_decrypt(c, name, alg, input, input_length, output, output_size, &len);
    return key_done(c, name, POLICY_DECRYPT, alg, rc, len, output_length);
}

psa_status_t psa_hash_compute(psa_algorithm_t alg, const uint8_t *input, size_t input_length,
                              uint8_t *hash, size_t hash_size, size_t *hash_length)
{
    struct parsec_client *c;
    size_t len = 0;
    if (!hash_length)
        return PSA_ERROR_INVALID_ARGUMENT;
    *hash_length = 0;
    psa_status_t st = fr_client(&c);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_hash_compute(c, alg, input, input_length, hash, hash_size, &len);
    *hash_length = rc == 0 ? len : 0;
    return parsec_psa_status(rc);
}

psa_status_t psa_hash_compare(psa_algorithm_t alg, const uint8_t *input, size_t input_length,
                              const uint8_t *hash, size_t hash_length)
{
    struct parsec_client *c;
    psa_status_t st = fr_client(&c);
    if (st != PSA_SUCCESS)
        return st;
    return parsec_psa_status(parsec_hash_compare(c, alg, input, input_length, hash, hash_length));
}

psa_status_t psa_raw_key_agreement(psa_algorithm_t alg, mbedtls_svc_key_id_t private_key,
                                   const uint8_t *peer_key, size_t peer_key_length, uint8_t *output,
                                   size_t output_size, size_t *output_length)
{
    struct parsec_client *c;
    char name[FR_NAME_BUF];
    size_t len = 0;
    psa_status_t st = key_name_out(private_key, raw_ka_alg(alg), output_length, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    int rc = parsec_raw_key_agreement(c, alg, name, peer_key, peer_key_length, output, output_size,
                                      &len);
    return key_done(c, name, POLICY_DERIVE, alg, rc, len, output_length);
}

psa_status_t psa_generate_random(uint8_t *output, size_t output_size)
{
    struct parsec_client *c;
    psa_status_t st = fr_client(&c);
    if (st != PSA_SUCCESS)
        return st;
    return parsec_psa_status(parsec_generate_random(c, output, output_size));
}
