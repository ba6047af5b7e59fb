/* Helpers shared by the client library tests: clients bound to a test daemon, and OpenSSL
 * checks of what the service produced. */
#ifndef PARSEC_TEST_CLIENT_UTIL_H
#define PARSEC_TEST_CLIENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "harness.h"
#include "parsec/client.h"

/* "unix:<sock>" into buf. */
void tu_endpoint(const char *sock, char *buf, size_t size);
/* A bootstrapped client for the daemon (app_name used if the service runs Direct). Fails the
 * test on error. */
struct parsec_client *tu_client(const struct daemon *d, const char *app_name);
/* Same with flags / provider / auth (see struct parsec_client_config); returns the error. */
int tu_client_cfg(const char *sock, const char *app_name, unsigned flags, int provider,
                  int auth_type, struct parsec_client **out);

/* EVP_PKEY of a P-256 public key given as an uncompressed point. */
EVP_PKEY *tu_p256_pub(const uint8_t *point, size_t len);
/* EVP_PKEY of a DER RSAPublicKey. */
EVP_PKEY *tu_rsa_pub(const uint8_t *der, size_t len);
/* Verifies a PSA-format (r || s) ECDSA signature of msg with SHA-256: 1 valid, 0 not. */
int tu_ecdsa_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                    size_t sig_len);
/* Verifies an RSA PKCS#1 v1.5 SHA-256 signature of msg: 1 valid, 0 not. */
int tu_rsa_pkcs1_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len);
/* SHA-256 of data. */
void tu_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
