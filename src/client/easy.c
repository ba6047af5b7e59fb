/* The easy path: key templates that need no PSA knowledge, and ECDSA / AES-GCM helpers. */
#include <stdint.h>

#include "client/client_int.h"

#define EASY_GCM_NONCE 12
#define EASY_GCM_TAG 16
_Static_assert(EASY_GCM_NONCE + EASY_GCM_TAG == PARSEC_AES_GCM_OVERHEAD,
               "the sealed layout is nonce || ciphertext || tag");
#define EASY_RSA_DEFAULT_BITS 2048
#define EASY_SIGN_USAGE                                                                            \
    (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_SIGN_MESSAGE |            \
     PSA_KEY_USAGE_VERIFY_MESSAGE)

int parsec_ecc_key_create(struct parsec_client *c, const char *name)
{
    const struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
        .bits = 256,
        .usage = EASY_SIGN_USAGE,
        .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256),
    };
    return parsec_generate_key(c, name, &a);
}

int parsec_rsa_sign_key_create(struct parsec_client *c, const char *name, size_t bits)
{
    const struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
        .bits = bits ? bits : EASY_RSA_DEFAULT_BITS,
        .usage = EASY_SIGN_USAGE,
        .alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256),
    };
    return parsec_generate_key(c, name, &a);
}

int parsec_rsa_encrypt_key_create(struct parsec_client *c, const char *name, size_t bits)
{
    const struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
        .bits = bits ? bits : EASY_RSA_DEFAULT_BITS,
        .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
        .alg = PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
    };
    return parsec_generate_key(c, name, &a);
}

int parsec_aes_gcm_key_create(struct parsec_client *c, const char *name)
{
    const struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_AES,
        .bits = 256,
        .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
        .alg = PSA_ALG_GCM,
    };
    return parsec_generate_key(c, name, &a);
}

/* The original Mbed Crypto provider, and the PKCS#11 and TPM providers, have no SignMessage /
 * VerifyMessage: on PsaErrorNotSupported the message is hashed here (they have no HashCompute
 * either) and the hash signed instead, which gives the same signature. */
int parsec_sign_message_ecdsa(struct parsec_client *c, const char *name, const uint8_t *msg,
                              size_t msg_len, uint8_t *sig, size_t sig_size, size_t *sig_len)
{
    const psa_algorithm_t alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    uint8_t hash[PSA_HASH_LENGTH(PSA_ALG_SHA_256)];
    size_t hash_len = 0;
    int rc = parsec_sign_message(c, name, alg, msg, msg_len, sig, sig_size, sig_len);
    if (rc != PARSEC_ERROR_PSA_NOT_SUPPORTED)
        return rc;
    rc = parsec_hash_local(PSA_ALG_SHA_256, msg, msg_len, hash, sizeof(hash), &hash_len);
    if (rc == 0)
        rc = parsec_sign_hash(c, name, alg, hash, hash_len, sig, sig_size, sig_len);
    cl_wipe(hash, sizeof(hash));
    return rc;
}

int parsec_verify_message_ecdsa(struct parsec_client *c, const char *name, const uint8_t *msg,
                                size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    const psa_algorithm_t alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    uint8_t hash[PSA_HASH_LENGTH(PSA_ALG_SHA_256)];
    size_t hash_len = 0;
    int rc = parsec_verify_message(c, name, alg, msg, msg_len, sig, sig_len);
    if (rc != PARSEC_ERROR_PSA_NOT_SUPPORTED)
        return rc;
    rc = parsec_hash_local(PSA_ALG_SHA_256, msg, msg_len, hash, sizeof(hash), &hash_len);
    if (rc == 0)
        rc = parsec_verify_hash(c, name, alg, hash, hash_len, sig, sig_len);
    cl_wipe(hash, sizeof(hash));
    return rc;
}

int parsec_seal_aes_gcm(struct parsec_client *c, const char *name, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t ct_len = 0;
    if (!out_len || cl_check_buf(in, in_len) != 0 || in_len > SIZE_MAX - PARSEC_AES_GCM_OVERHEAD)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out_len = in_len + PARSEC_AES_GCM_OVERHEAD;
    if (!out || out_size < *out_len)
        return PARSEC_ERROR_BUFFER_TOO_SMALL;
    int rc = parsec_generate_random(c, out, EASY_GCM_NONCE);
    if (rc == 0)
        rc = parsec_aead_encrypt(c, name, PSA_ALG_GCM, out, EASY_GCM_NONCE, NULL, 0, in, in_len,
                                 out + EASY_GCM_NONCE, out_size - EASY_GCM_NONCE, &ct_len);
    if (rc == 0 && ct_len + EASY_GCM_NONCE != *out_len)
        rc = PARSEC_ERROR_RESPONSE_BODY;
    if (rc != 0) {
        cl_wipe(out, out_size);
        *out_len = 0; /* nothing in out is valid any more */
    }
    return rc;
}

int parsec_open_aes_gcm(struct parsec_client *c, const char *name, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t out_size, size_t *out_len)
{
    if (!out_len || !in || in_len < PARSEC_AES_GCM_OVERHEAD)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    return parsec_aead_decrypt(c, name, PSA_ALG_GCM, in, EASY_GCM_NONCE, NULL, 0,
                               in + EASY_GCM_NONCE, in_len - EASY_GCM_NONCE, out, out_size,
                               out_len);
}
