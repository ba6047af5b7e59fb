/* Typed Parsec calls and independent checks for the stress, hostile-client and crash tests.
 *
 * Unlike the e2e harness calls, nothing here asserts: cmocka is not thread-safe, and these
 * functions run in many client threads at once. Each call opens its own connection (as Parsec
 * clients do) and returns the reply's status (>= 0), or one of the negative ST_* values below
 * when there was no well-formed reply. */
#ifndef PARSEC_STRESS_OPS_H
#define PARSEC_STRESS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "psa/attrs.h"

/* connect() failed: the request was certainly not seen by the service. */
#define ST_NOCONN (-2)
/* The request may have been sent, but no whole, well-formed reply came back. */
#define ST_IO (-1)

/* Provider the key operations go to (Mbed Crypto). */
#define ST_PROVIDER 1

/* The configuration of a test daemon (for daemon_prepare, "@DIR@" is its folder): Direct
 * authentication and the Mbed Crypto provider, with the given [core_settings] lines, listener
 * timeout (a string of digits, in ms) and key store (ST_KIM_SQLITE or ST_KIM_ONDISK). */
#define ST_CONFIG(core, timeout, kim)                                                              \
    "[core_settings]\nallow_root = true\n" core "[listener]\n"                                     \
    "listener_type = \"DomainSocket\"\ntimeout = " timeout "\n"                                    \
    "socket_path = \"@DIR@/parsec.sock\"\n[authenticator]\nauth_type = \"Direct\"\n" kim           \
    "key_store_path = \"@DIR@/keys\"\n"
#define ST_KIM_SQLITE                                                                              \
    "[[key_manager]]\nname = \"sqlite-manager\"\nmanager_type = \"SQLite\"\n"                      \
    "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n[[provider]]\n"                              \
    "provider_type = \"MbedCrypto\"\nkey_info_manager = \"sqlite-manager\"\n"
#define ST_KIM_ONDISK                                                                              \
    "[[key_manager]]\nname = \"on-disk-manager\"\nmanager_type = \"OnDisk\"\n"                     \
    "store_path = \"@DIR@/mappings\"\n[[provider]]\n"                                              \
    "provider_type = \"MbedCrypto\"\nkey_info_manager = \"on-disk-manager\"\n"

/* Connects to sock with a receive/send timeout of timeout_ms (0: none); -1 on failure. */
int st_connect(const char *sock, unsigned timeout_ms);
/* Writes all of len bytes; 0 or -1. */
int st_write_all(int fd, const void *p, size_t len);
/* Reads one reply header and body (body malloc'd, NULL if empty); 0 or -1. */
int st_read_reply(int fd, uint8_t hdr[36], uint8_t **body, uint32_t *body_len);
/* Decodes the status of a 36-byte reply header after checking magic and size; -1 if bad. */
int st_reply_status(const uint8_t hdr[36]);
/* Whether a reply header is the generic one of wire-protocol.md §6 (provider 0, session 0,
 * opcode Ping, empty body) carrying this status. */
int st_is_generic(const uint8_t hdr[36], int status);

/* Builds header || body || auth; app NULL: no authentication, else Direct. malloc'd. */
uint8_t *st_frame(uint8_t provider, uint32_t opcode, const ProtobufCMessage *op, const char *app,
                  size_t *len);

/* One request and its reply. On status 0 and rdesc != NULL, *result gets the unpacked result
 * (free with protobuf_c_message_free_unpacked); a result that does not unpack is ST_IO. */
int st_call(const char *sock, uint8_t provider, uint32_t opcode, const char *app,
            const ProtobufCMessage *op, const ProtobufCMessageDescriptor *rdesc,
            ProtobufCMessage **result);

/* Ping; 0 only for a fully correct reply (opcode, body 08 01). */
int st_ping(const char *sock);

int st_generate(const char *sock, const char *app, const char *name, const struct psc_attrs *a);
int st_import(const char *sock, const char *app, const char *name, const struct psc_attrs *a,
              const uint8_t *data, size_t len);
int st_destroy(const char *sock, const char *app, const char *name);
int st_sign(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
            const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len);
int st_verify(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
              const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len);
int st_export_public(const char *sock, const char *app, const char *name, uint8_t *out, size_t cap,
                     size_t *len);
int st_encrypt(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
               const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);
int st_decrypt(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
               const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);
/* The names of app's keys on ST_PROVIDER (malloc'd array of malloc'd strings). */
int st_list_keys(const char *sock, const char *app, char ***names, size_t *n);
void st_names_free(char **names, size_t n);

/* Key attributes the tests use. */
struct psc_attrs st_attrs_ecdsa_p256(void);
struct psc_attrs st_attrs_rsa_sign(size_t bits);
struct psc_attrs st_attrs_rsa_crypt(size_t bits);
struct psc_attrs st_attrs_rsa_public_verify(size_t bits);

#define ST_ALG_ECDSA PSA_ALG_ECDSA(PSA_ALG_SHA_256)
#define ST_ALG_RSA_SIGN PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)
#define ST_ALG_RSA_CRYPT PSA_ALG_RSA_PKCS1V15_CRYPT

/* ---- independent checks with OpenSSL libcrypto ------------------------------------------- */

/* Verifies a signature over a SHA-256 hash with a public key in PSA export format (RSA:
 * PKCS#1 RSAPublicKey DER; ECC P-256: 04 || X || Y) and a PSA signature (RSA PKCS#1 v1.5, or
 * ECDSA r || s). Returns 1 valid, 0 invalid, -1 if the key could not be read. */
int st_ossl_verify(psa_key_type_t type, const uint8_t *pub, size_t pub_len, const uint8_t *hash,
                   size_t hash_len, const uint8_t *sig, size_t sig_len);
/* RSA PKCS#1 v1.5 encryption with a PKCS#1 RSAPublicKey DER; 0 or -1. */
int st_ossl_rsa_encrypt(const uint8_t *pub, size_t pub_len, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t cap, size_t *out_len);
/* A fresh RSA public key of this size as PKCS#1 RSAPublicKey DER (malloc'd); 0 or -1. */
int st_ossl_rsa_public(unsigned bits, uint8_t **der, size_t *len);
/* A fresh RSA key pair of this size as PKCS#1 RSAPrivateKey DER, the PSA import format
 * (malloc'd); 0 or -1. */
int st_ossl_rsa_private(unsigned bits, uint8_t **der, size_t *len);
/* Random bytes (OpenSSL's generator: thread-safe). */
void st_random(void *p, size_t len);
/* SHA-256. */
void st_sha256(const void *p, size_t len, uint8_t out[32]);

/* ---- the daemon seen from outside ------------------------------------------------------- */

/* Open file descriptors of a process; -1 if it cannot be read. */
int st_fd_count(int pid);
/* Waits until the process has `want` descriptors (a connection is closed by the service just
 * after its reply is written, so it may outlive the client's read by a moment), at most
 * max_wait_ms; returns the last count. */
int st_fd_settle(int pid, int want, unsigned max_wait_ms);
/* The process's descriptor count once it has stopped changing (connections being closed by
 * the service settle first): a baseline to compare with. */
int st_fd_stable(int pid);
/* A field of /proc/<pid>/status in kB (VmRSS, VmHWM); -1 if absent. */
long st_status_kb(int pid, const char *field);
/* Records a failed check from any thread (the first few are printed); st_errors() counts them
 * for the main thread to assert on. */
void st_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned long st_errors(void);

/* Reads an unsigned number from the environment, or def. */
unsigned long st_env_ulong(const char *name, unsigned long def);

#endif
