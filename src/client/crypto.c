/* Cryptographic operations (operations.md §6): sent to the implicit provider. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "client/client_int.h"
#include "psa/convert.h"
#include "psa_aead_decrypt.pb-c.h"
#include "psa_aead_encrypt.pb-c.h"
#include "psa_asymmetric_decrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_cipher_decrypt.pb-c.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compare.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_raw_key_agreement.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_sign_message.pb-c.h"
#include "psa_verify_hash.pb-c.h"
#include "psa_verify_message.pb-c.h"

static ProtobufCBinaryData bin(const uint8_t *p, size_t n)
{
    ProtobufCBinaryData b = {n, (uint8_t *)p};
    return b;
}

static void msg_free(void *m)
{
    if (m)
        protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* Common argument checks of an operation on a named key with one input. */
static int check_in(const char *name, const void *in, size_t in_len)
{
    if (cl_check_name(name) != 0 || cl_check_buf(in, in_len) != 0)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    return 0;
}

/* The same for an operation with an output, checked before anything is converted or sent. */
static int check_io(const char *name, const void *in, size_t in_len, const size_t *out_len)
{
    return out_len ? check_in(name, in, in_len) : PARSEC_ERROR_INVALID_ARGUMENT;
}

/* ---- signatures ---- */

int parsec_sign_hash(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                     const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t sig_size,
                     size_t *sig_len)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    int rc = check_io(name, hash, hash_len, sig_len);
    if (rc == 0)
        rc = cl_conv_error(conv_sign_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.hash = bin(hash, hash_len);
        rc = cl_call_out(c, PARSEC_OP_PSA_SIGN_HASH, &op.base, &psa_sign_hash__result__descriptor,
                         offsetof(PsaSignHash__Result, signature), sig, sig_size, sig_len);
    }
    msg_free(op.alg);
    return rc;
}

int parsec_verify_hash(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                       const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len)
{
    PsaVerifyHash__Operation op = PSA_VERIFY_HASH__OPERATION__INIT;
    int rc = check_in(name, hash, hash_len);
    if (rc == 0)
        rc = cl_check_buf(sig, sig_len);
    if (rc == 0)
        rc = cl_conv_error(conv_sign_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.hash = bin(hash, hash_len);
        op.signature = bin(sig, sig_len);
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_VERIFY_HASH, &op.base, NULL, NULL);
    }
    msg_free(op.alg);
    return rc;
}

int parsec_sign_message(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                        const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t sig_size,
                        size_t *sig_len)
{
    PsaSignMessage__Operation op = PSA_SIGN_MESSAGE__OPERATION__INIT;
    int rc = check_io(name, msg, msg_len, sig_len);
    if (rc == 0)
        rc = cl_conv_error(conv_sign_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.message = bin(msg, msg_len);
        rc = cl_call_out(c, PARSEC_OP_PSA_SIGN_MESSAGE, &op.base,
                         &psa_sign_message__result__descriptor,
                         offsetof(PsaSignMessage__Result, signature), sig, sig_size, sig_len);
    }
    msg_free(op.alg);
    return rc;
}

int parsec_verify_message(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                          const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    PsaVerifyMessage__Operation op = PSA_VERIFY_MESSAGE__OPERATION__INIT;
    int rc = check_in(name, msg, msg_len);
    if (rc == 0)
        rc = cl_check_buf(sig, sig_len);
    if (rc == 0)
        rc = cl_conv_error(conv_sign_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.message = bin(msg, msg_len);
        op.signature = bin(sig, sig_len);
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_VERIFY_MESSAGE, &op.base, NULL, NULL);
    }
    msg_free(op.alg);
    return rc;
}

/* ---- asymmetric encryption ---- */

int parsec_asymmetric_encrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                              const uint8_t *in, size_t in_len, const uint8_t *salt,
                              size_t salt_len, uint8_t *out, size_t out_size, size_t *out_len)
{
    PsaAsymmetricEncrypt__Operation op = PSA_ASYMMETRIC_ENCRYPT__OPERATION__INIT;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0)
        rc = cl_check_buf(salt, salt_len);
    if (rc == 0)
        rc = cl_conv_error(conv_asym_enc_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.plaintext = bin(in, in_len);
        op.salt = bin(salt, salt_len);
        rc =
            cl_call_out(c, PARSEC_OP_PSA_ASYMMETRIC_ENCRYPT, &op.base,
                        &psa_asymmetric_encrypt__result__descriptor,
                        offsetof(PsaAsymmetricEncrypt__Result, ciphertext), out, out_size, out_len);
    }
    msg_free(op.alg);
    return rc;
}

int parsec_asymmetric_decrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                              const uint8_t *in, size_t in_len, const uint8_t *salt,
                              size_t salt_len, uint8_t *out, size_t out_size, size_t *out_len)
{
    PsaAsymmetricDecrypt__Operation op = PSA_ASYMMETRIC_DECRYPT__OPERATION__INIT;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0)
        rc = cl_check_buf(salt, salt_len);
    if (rc == 0)
        rc = cl_conv_error(conv_asym_enc_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.ciphertext = bin(in, in_len);
        op.salt = bin(salt, salt_len);
        rc = cl_call_out(c, PARSEC_OP_PSA_ASYMMETRIC_DECRYPT, &op.base,
                         &psa_asymmetric_decrypt__result__descriptor,
                         offsetof(PsaAsymmetricDecrypt__Result, plaintext), out, out_size, out_len);
    }
    msg_free(op.alg);
    return rc;
}

/* ---- AEAD ---- */

int parsec_aead_encrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                        const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                        const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    PsaAeadEncrypt__Operation op = PSA_AEAD_ENCRYPT__OPERATION__INIT;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0 && (cl_check_buf(nonce, nonce_len) != 0 || cl_check_buf(ad, ad_len) != 0))
        rc = PARSEC_ERROR_INVALID_ARGUMENT;
    if (rc == 0)
        rc = cl_conv_error(conv_aead_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.nonce = bin(nonce, nonce_len);
        op.additional_data = bin(ad, ad_len);
        op.plaintext = bin(in, in_len);
        rc = cl_call_out(c, PARSEC_OP_PSA_AEAD_ENCRYPT, &op.base,
                         &psa_aead_encrypt__result__descriptor,
                         offsetof(PsaAeadEncrypt__Result, ciphertext), out, out_size, out_len);
    }
    msg_free(op.alg);
    return rc;
}

int parsec_aead_decrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                        const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                        const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    PsaAeadDecrypt__Operation op = PSA_AEAD_DECRYPT__OPERATION__INIT;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0 && (cl_check_buf(nonce, nonce_len) != 0 || cl_check_buf(ad, ad_len) != 0))
        rc = PARSEC_ERROR_INVALID_ARGUMENT;
    if (rc == 0)
        rc = cl_conv_error(conv_aead_to_pb(alg, &op.alg));
    if (rc == 0) {
        op.key_name = (char *)name;
        op.nonce = bin(nonce, nonce_len);
        op.additional_data = bin(ad, ad_len);
        op.ciphertext = bin(in, in_len);
        rc = cl_call_out(c, PARSEC_OP_PSA_AEAD_DECRYPT, &op.base,
                         &psa_aead_decrypt__result__descriptor,
                         offsetof(PsaAeadDecrypt__Result, plaintext), out, out_size, out_len);
    }
    msg_free(op.alg);
    return rc;
}

/* ---- symmetric ciphers ---- */

int parsec_cipher_encrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                          const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                          size_t *out_len)
{
    PsaCipherEncrypt__Operation op = PSA_CIPHER_ENCRYPT__OPERATION__INIT;
    PsaAlgorithm__Algorithm__Cipher pb_alg;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0)
        rc = cl_conv_error(conv_cipher_to_pb(alg, &pb_alg));
    if (rc != 0)
        return rc;
    op.key_name = (char *)name;
    op.alg = pb_alg;
    op.plaintext = bin(in, in_len);
    return cl_call_out(c, PARSEC_OP_PSA_CIPHER_ENCRYPT, &op.base,
                       &psa_cipher_encrypt__result__descriptor,
                       offsetof(PsaCipherEncrypt__Result, ciphertext), out, out_size, out_len);
}

int parsec_cipher_decrypt(struct parsec_client *c, const char *name, psa_algorithm_t alg,
                          const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                          size_t *out_len)
{
    PsaCipherDecrypt__Operation op = PSA_CIPHER_DECRYPT__OPERATION__INIT;
    PsaAlgorithm__Algorithm__Cipher pb_alg;
    int rc = check_io(name, in, in_len, out_len);
    if (rc == 0)
        rc = cl_conv_error(conv_cipher_to_pb(alg, &pb_alg));
    if (rc != 0)
        return rc;
    op.key_name = (char *)name;
    op.alg = pb_alg;
    op.ciphertext = bin(in, in_len);
    return cl_call_out(c, PARSEC_OP_PSA_CIPHER_DECRYPT, &op.base,
                       &psa_cipher_decrypt__result__descriptor,
                       offsetof(PsaCipherDecrypt__Result, plaintext), out, out_size, out_len);
}

/* ---- hashes, key agreement, random ---- */

int parsec_hash_compute(struct parsec_client *c, psa_algorithm_t alg, const uint8_t *in,
                        size_t in_len, uint8_t *hash, size_t hash_size, size_t *hash_len)
{
    PsaHashCompute__Operation op = PSA_HASH_COMPUTE__OPERATION__INIT;
    PsaAlgorithm__Algorithm__Hash pb_alg;
    if (cl_check_buf(in, in_len) != 0 || !hash_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    int rc = cl_conv_error(conv_hash_to_pb(alg, &pb_alg));
    if (rc != 0)
        return rc;
    op.alg = pb_alg;
    op.input = bin(in, in_len);
    return cl_call_out(c, PARSEC_OP_PSA_HASH_COMPUTE, &op.base,
                       &psa_hash_compute__result__descriptor,
                       offsetof(PsaHashCompute__Result, hash), hash, hash_size, hash_len);
}

/* The one-shot Mbed TLS functions clear their context before returning: nothing of the
 * message is left on the stack but the digest, which is wiped here. */
int parsec_hash_local(psa_algorithm_t alg, const uint8_t *in, size_t in_len, uint8_t *hash,
                      size_t hash_size, size_t *hash_len)
{
    uint8_t md[PSA_HASH_MAX_SIZE];
    static const uint8_t empty[1];
    int rc = -1;
    if (cl_check_buf(in, in_len) != 0 || !hash_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *hash_len = 0;
    if (!in)
        in = empty;
    switch (alg) {
    case PSA_ALG_SHA_1:
        rc = mbedtls_sha1_ret(in, in_len, md);
        break;
    case PSA_ALG_SHA_224:
    case PSA_ALG_SHA_256:
        rc = mbedtls_sha256_ret(in, in_len, md, alg == PSA_ALG_SHA_224);
        break;
    case PSA_ALG_SHA_384:
    case PSA_ALG_SHA_512:
        rc = mbedtls_sha512_ret(in, in_len, md, alg == PSA_ALG_SHA_384);
        break;
    default:
        return PARSEC_ERROR_PSA_NOT_SUPPORTED;
    }
    if (rc != 0) {
        rc = PARSEC_ERROR_PSA_GENERIC_ERROR;
        goto out;
    }
    *hash_len = PSA_HASH_LENGTH(alg);
    if (!hash || hash_size < *hash_len) {
        rc = PARSEC_ERROR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(hash, md, *hash_len);
out:
    cl_wipe(md, sizeof(md));
    return rc;
}

int parsec_hash_compare(struct parsec_client *c, psa_algorithm_t alg, const uint8_t *in,
                        size_t in_len, const uint8_t *hash, size_t hash_len)
{
    PsaHashCompare__Operation op = PSA_HASH_COMPARE__OPERATION__INIT;
    PsaAlgorithm__Algorithm__Hash pb_alg;
    if (cl_check_buf(in, in_len) != 0 || cl_check_buf(hash, hash_len) != 0)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    int rc = cl_conv_error(conv_hash_to_pb(alg, &pb_alg));
    if (rc != 0)
        return rc;
    op.alg = pb_alg;
    op.input = bin(in, in_len);
    op.hash = bin(hash, hash_len);
    return cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_HASH_COMPARE, &op.base, NULL, NULL);
}

int parsec_raw_key_agreement(struct parsec_client *c, psa_algorithm_t alg,
                             const char *private_key_name, const uint8_t *peer_key,
                             size_t peer_key_len, uint8_t *out, size_t out_size, size_t *out_len)
{
    PsaRawKeyAgreement__Operation op = PSA_RAW_KEY_AGREEMENT__OPERATION__INIT;
    PsaAlgorithm__Algorithm__KeyAgreement__Raw pb_alg;
    int rc = check_io(private_key_name, peer_key, peer_key_len, out_len);
    if (rc == 0)
        rc = cl_conv_error(conv_raw_ka_to_pb(alg, &pb_alg));
    if (rc != 0)
        return rc;
    op.alg = pb_alg;
    op.private_key_name = (char *)private_key_name;
    op.peer_key = bin(peer_key, peer_key_len);
    return cl_call_out(c, PARSEC_OP_PSA_RAW_KEY_AGREEMENT, &op.base,
                       &psa_raw_key_agreement__result__descriptor,
                       offsetof(PsaRawKeyAgreement__Result, shared_secret), out, out_size, out_len);
}

int parsec_generate_random(struct parsec_client *c, uint8_t *out, size_t size)
{
    size_t done = 0;
    int rc = 0;
    if (cl_check_buf(out, size) != 0)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    while (rc == 0 && done < size) {
        PsaGenerateRandom__Operation op = PSA_GENERATE_RANDOM__OPERATION__INIT;
        PsaGenerateRandom__Result *r = NULL;
        size_t n = size - done < PARSEC_RANDOM_CHUNK ? size - done : PARSEC_RANDOM_CHUNK;
        op.size = n;
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_GENERATE_RANDOM, &op.base,
                     &psa_generate_random__result__descriptor, (ProtobufCMessage **)&r);
        if (rc != 0)
            break;
        if (r->random_bytes.len != n) {
            rc = PARSEC_ERROR_RESPONSE_BODY;
        } else {
            memcpy(out + done, r->random_bytes.data, n);
            done += n;
        }
        cl_result_free(&r->base);
    }
    if (rc != 0)
        cl_wipe(out, size);
    return rc;
}
