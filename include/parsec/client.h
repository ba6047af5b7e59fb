/* libparsec: the C client library for the Parsec service.
 *
 * A client finds the service (PARSEC_SERVICE_ENDPOINT or the default socket), asks it which
 * providers and authenticators it runs (the "bootstrap"), and then sends one request per call,
 * each on a new connection to the service's Unix socket. Values are PSA Crypto API values as
 * Mbed TLS 2.28's <psa/crypto.h> defines them: key types, algorithms and usage flags are
 * psa_key_type_t, psa_algorithm_t and PSA_KEY_USAGE_* bits.
 *
 * Conventions for every function below:
 *  - The return value is PARSEC_SUCCESS (0) or an enum parsec_error value (parsec/errors.h):
 *    a status returned by the service (same number as on the wire), or a client-side error.
 *    Any call that talks to the service can also fail with PARSEC_ERROR_CONNECT,
 *    PARSEC_ERROR_IO, PARSEC_ERROR_TIMEOUT, the reply errors of the 0x10000 range,
 *    PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE and PARSEC_ERROR_NO_MEMORY; those are not
 *    repeated for each function.
 *  - A NULL pointer where a value is required gives PARSEC_ERROR_INVALID_ARGUMENT, and so does
 *    a NULL key name or a key name longer than PARSEC_KEY_NAME_MAX bytes.
 *  - Output buffers are (uint8_t *out, size_t out_size, size_t *out_len). On success *out_len
 *    is the number of bytes written. If out_size is too small the call returns
 *    PARSEC_ERROR_BUFFER_TOO_SMALL, writes nothing to out, and stores the needed length in
 *    *out_len (the operation was still performed by the service: a signature was made, random
 *    bytes were drawn and thrown away). out may be NULL when out_size is 0.
 *  - Lists are returned in arrays the library allocates; free them with the matching
 *    parsec_*_free function (NULL-safe). On failure the output list is NULL and its count 0.
 *  - Secrets the library handles (exported keys, decrypted plaintexts, shared secrets, key
 *    material being imported, activated credentials) are wiped from its own buffers before
 *    they are freed.
 *  - Cryptographic operations (parsec_generate_key and below) go to the client's implicit
 *    provider. If it is Core (0), they fail with PARSEC_ERROR_INVALID_PROVIDER and nothing is
 *    sent. Core operations (ping, list_*, delete_client) always go to provider 0. The TPM key
 *    attestation functions always go to the TPM provider (3).
 *  - A client may be used by several threads at once: each call uses its own connection and a
 *    snapshot of the settings taken under the client's lock. The setters may be called at any
 *    time; calls already running keep the settings they started with.
 *
 * Build: cc prog.c $(pkg-config --cflags --libs parsec). */
#ifndef PARSEC_CLIENT_H
#define PARSEC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <psa/crypto.h>

#include "parsec/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits and defaults ------------------------------------------------------------------ */

/* Default endpoint when PARSEC_SERVICE_ENDPOINT is not set. */
#define PARSEC_DEFAULT_ENDPOINT "unix:/run/parsec/parsec.sock"
/* Environment variable naming the service endpoint. */
#define PARSEC_ENDPOINT_ENV "PARSEC_SERVICE_ENDPOINT"
/* The SPIFFE Workload API socket JWT-SVID authentication fetches its tokens from. */
#define PARSEC_SPIFFE_ENDPOINT_ENV "SPIFFE_ENDPOINT_SOCKET"
/* Default read and write timeout of each request's socket, in milliseconds. */
#define PARSEC_DEFAULT_TIMEOUT_MS 60000u
/* Timeout value meaning "use the default" (config struct and parsec_client_set_timeout). */
#define PARSEC_TIMEOUT_DEFAULT 0u
/* Timeout value meaning "no timeout": reads and writes block until they complete. */
#define PARSEC_TIMEOUT_INFINITE UINT64_MAX
/* Default largest reply body accepted (16 MiB): larger replies fail with
 * PARSEC_ERROR_RESPONSE_TOO_LONG before the body is read. */
#define PARSEC_DEFAULT_MAX_BODY_SIZE ((size_t)16 << 20)
/* Longest key name, application name or client name accepted, in bytes. */
#define PARSEC_KEY_NAME_MAX 4096
/* Largest number of bytes parsec_generate_random asks the service for in one request; larger
 * requests are split (the service limits one reply to 1 MiB by default). */
#define PARSEC_RANDOM_CHUNK ((size_t)1 << 16)

/* Provider ids (wire-protocol.md §7). */
enum parsec_provider_id {
    PARSEC_PROVIDER_CORE = 0,
    PARSEC_PROVIDER_MBED_CRYPTO = 1,
    PARSEC_PROVIDER_PKCS11 = 2,
    PARSEC_PROVIDER_TPM = 3,
    PARSEC_PROVIDER_TRUSTED_SERVICE = 4,
    PARSEC_PROVIDER_CRYPTOAUTHLIB = 5,
};
#define PARSEC_PROVIDER_ID_MAX 5

/* Authentication types (wire-protocol.md §8). */
enum parsec_auth_type {
    PARSEC_AUTH_NONE = 0,
    PARSEC_AUTH_DIRECT = 1,
    PARSEC_AUTH_JWT = 2,
    PARSEC_AUTH_UNIX_PEER_CREDENTIALS = 3,
    PARSEC_AUTH_JWT_SVID = 4,
};

/* Opcodes (wire-protocol.md §9), for parsec_list_opcodes results. */
enum parsec_opcode {
    PARSEC_OP_PING = 0x01,
    PARSEC_OP_PSA_GENERATE_KEY = 0x02,
    PARSEC_OP_PSA_DESTROY_KEY = 0x03,
    PARSEC_OP_PSA_SIGN_HASH = 0x04,
    PARSEC_OP_PSA_VERIFY_HASH = 0x05,
    PARSEC_OP_PSA_IMPORT_KEY = 0x06,
    PARSEC_OP_PSA_EXPORT_PUBLIC_KEY = 0x07,
    PARSEC_OP_LIST_PROVIDERS = 0x08,
    PARSEC_OP_LIST_OPCODES = 0x09,
    PARSEC_OP_PSA_ASYMMETRIC_ENCRYPT = 0x0A,
    PARSEC_OP_PSA_ASYMMETRIC_DECRYPT = 0x0B,
    PARSEC_OP_PSA_EXPORT_KEY = 0x0C,
    PARSEC_OP_PSA_GENERATE_RANDOM = 0x0D,
    PARSEC_OP_LIST_AUTHENTICATORS = 0x0E,
    PARSEC_OP_PSA_HASH_COMPUTE = 0x0F,
    PARSEC_OP_PSA_HASH_COMPARE = 0x10,
    PARSEC_OP_PSA_AEAD_ENCRYPT = 0x11,
    PARSEC_OP_PSA_AEAD_DECRYPT = 0x12,
    PARSEC_OP_PSA_RAW_KEY_AGREEMENT = 0x13,
    PARSEC_OP_PSA_CIPHER_ENCRYPT = 0x14,
    PARSEC_OP_PSA_CIPHER_DECRYPT = 0x15,
    PARSEC_OP_PSA_SIGN_MESSAGE = 0x18,
    PARSEC_OP_PSA_VERIFY_MESSAGE = 0x19,
    PARSEC_OP_LIST_KEYS = 0x1A,
    PARSEC_OP_LIST_CLIENTS = 0x1B,
    PARSEC_OP_DELETE_CLIENT = 0x1C,
    PARSEC_OP_ATTEST_KEY = 0x1E,
    PARSEC_OP_PREPARE_KEY_ATTESTATION = 0x1F,
    PARSEC_OP_CAN_DO_CRYPTO = 0x20,
};

/* Name of an opcode as the original spells it ("PsaGenerateRandom"), NULL if undefined. */
PARSEC_API const char *parsec_opcode_name(uint32_t opcode);

/* The PSA Crypto 1.0.1 "cache" usage flag, which Mbed TLS 2.28 does not define. */
#define PARSEC_KEY_USAGE_CACHE ((psa_key_usage_t)0x00000004)

/* ---- the client --------------------------------------------------------------------------- */

struct parsec_client; /* opaque */

/* Configuration flags. */
/* No bootstrap request: implicit provider Core, authentication None (the original's "naked"
 * client, used for ping / list-providers / list-authenticators / list-opcodes). The socket path
 * is still checked. Explicit provider / auth settings still apply. */
#define PARSEC_CLIENT_NAKED 0x1u
/* Use cfg->provider as the implicit provider instead of the first ListProviders entry (the
 * ListProviders request is then not sent). */
#define PARSEC_CLIENT_SET_PROVIDER 0x2u
/* Use cfg->auth_type instead of choosing from ListAuthenticators (that request is then not
 * sent). PARSEC_AUTH_DIRECT needs cfg->app_name. */
#define PARSEC_CLIENT_SET_AUTH 0x4u

/* All-zero = defaults. */
struct parsec_client_config {
    /* Service endpoint URI ("unix:/path" or "unix:///path"). NULL: the PARSEC_SERVICE_ENDPOINT
     * environment variable, or PARSEC_DEFAULT_ENDPOINT if it is unset. */
    const char *endpoint;
    /* Application name for Direct authentication. Used when the bootstrap chooses Direct (the
     * service lists Direct before any other supported authenticator), or with
     * PARSEC_CLIENT_SET_AUTH + PARSEC_AUTH_DIRECT. Copied. */
    const char *app_name;
    /* Read and write timeout of each request socket in milliseconds: PARSEC_TIMEOUT_DEFAULT
     * (0) = 60 s, PARSEC_TIMEOUT_INFINITE = blocking. The bootstrap requests use it too. */
    uint64_t timeout_ms;
    /* Largest reply body accepted; 0 = PARSEC_DEFAULT_MAX_BODY_SIZE. */
    size_t max_body_size;
    /* PARSEC_CLIENT_* flags. */
    unsigned flags;
    /* With PARSEC_CLIENT_SET_PROVIDER: the implicit provider id (0-255, not checked against the
     * service, as in the original). */
    int provider;
    /* With PARSEC_CLIENT_SET_AUTH: PARSEC_AUTH_NONE, PARSEC_AUTH_DIRECT,
     * PARSEC_AUTH_UNIX_PEER_CREDENTIALS or PARSEC_AUTH_JWT_SVID (others, and JWT-SVID in a
     * build without it: PARSEC_ERROR_NOT_SUPPORTED). */
    int auth_type;
};

/* Creates a client, as the Rust BasicClient does:
 *  1. Endpoint: cfg->endpoint, else $PARSEC_SERVICE_ENDPOINT, else PARSEC_DEFAULT_ENDPOINT.
 *     Parsing follows the original (RFC 3986, the `url` crate): the scheme must be "unix"
 *     (any case); the URI path is used: "unix:/p" and "unix:///p" give "/p", "unix://host/p"
 *     gives "/p" (the authority is ignored), "unix:rel/p" gives the relative "rel/p"; dot
 *     segments are removed, percent-escapes are kept as they are (not decoded), query and
 *     fragment are ignored. An empty value, a value without a scheme, another scheme, or an
 *     invalid character -> PARSEC_ERROR_INVALID_SOCKET_URL. The path must then exist and be a
 *     socket (symlinks followed) -> else PARSEC_ERROR_INVALID_SOCKET_ADDRESS.
 *  2. Unless PARSEC_CLIENT_NAKED or PARSEC_CLIENT_SET_PROVIDER: ListProviders (to Core, no
 *     authentication); the implicit provider is the first entry (the service lists crypto
 *     providers in priority order and Core last). Empty list -> PARSEC_ERROR_NO_PROVIDER.
 *  3. Unless PARSEC_CLIENT_NAKED or PARSEC_CLIENT_SET_AUTH: ListAuthenticators (to Core, no
 *     authentication); the first supported entry in the service's order wins: Direct (needs
 *     cfg->app_name, else PARSEC_ERROR_MISSING_PARAM at once), Unix peer credentials (the
 *     real uid, getuid(), as 4 little-endian bytes) or JWT-SVID (a token for audience
 *     "parsec" fetched from the SPIFFE Workload API at $SPIFFE_ENDPOINT_SOCKET for every
 *     request; passed over when the variable is unset or not a unix: path, or in a build
 *     without JWT-SVID). JWT is skipped. Nothing supported -> PARSEC_ERROR_NO_AUTHENTICATOR,
 *     or PARSEC_ERROR_SPIFFE_SOCKET if JWT-SVID was listed and passed over for the socket. A request whose token cannot be fetched fails with
 *     PARSEC_ERROR_SPIFFE, one the service refuses with PARSEC_ERROR_AUTHENTICATION_ERROR.
 * cfg may be NULL (all defaults). On success *client must be freed with parsec_client_free;
 * on failure *client is NULL. Errors: those above, PARSEC_ERROR_INVALID_ARGUMENT (bad provider
 * / auth_type value, app name too long or empty), plus the transport errors and any status
 * the service returns to the bootstrap requests. */
PARSEC_API int parsec_client_new(struct parsec_client **client,
                                 const struct parsec_client_config *cfg);

/* Frees a client (NULL-safe). No call may be running on it. */
PARSEC_API void parsec_client_free(struct parsec_client *client);

/* Socket path parsing alone (step 1 above without the existence check), for programs and
 * tests: writes the path the endpoint URI designates into path (NUL-terminated).
 * Errors: PARSEC_ERROR_INVALID_SOCKET_URL, PARSEC_ERROR_BUFFER_TOO_SMALL (*path_len = needed
 * length including the NUL; path_len may be NULL), PARSEC_ERROR_INVALID_ARGUMENT. */
PARSEC_API int parsec_endpoint_parse(const char *uri, char *path, size_t path_size,
                                     size_t *path_len);

/* Sets the implicit provider (0-255; not checked against the service). */
PARSEC_API int parsec_client_set_provider(struct parsec_client *client, int provider);
/* Current implicit provider id. */
PARSEC_API int parsec_client_provider(const struct parsec_client *client);

/* Authentication for the following requests. An explicit application name selects Direct. */
PARSEC_API int parsec_client_set_auth_direct(struct parsec_client *client, const char *app_name);
PARSEC_API int parsec_client_set_auth_unix_peer(struct parsec_client *client);
/* JWT-SVID: PARSEC_ERROR_SPIFFE_SOCKET if $SPIFFE_ENDPOINT_SOCKET is unset or not a unix:
 * path, PARSEC_ERROR_NOT_SUPPORTED in a build without JWT-SVID. */
PARSEC_API int parsec_client_set_auth_jwt_svid(struct parsec_client *client);
PARSEC_API int parsec_client_set_auth_none(struct parsec_client *client);
/* Current authentication type (enum parsec_auth_type). */
PARSEC_API int parsec_client_auth_type(const struct parsec_client *client);

/* Read/write timeout of later requests: PARSEC_TIMEOUT_DEFAULT = 60 s,
 * PARSEC_TIMEOUT_INFINITE = blocking, otherwise milliseconds. */
PARSEC_API int parsec_client_set_timeout(struct parsec_client *client, uint64_t timeout_ms);
/* Largest reply body accepted by later requests; 0 = PARSEC_DEFAULT_MAX_BODY_SIZE. */
PARSEC_API int parsec_client_set_max_body_size(struct parsec_client *client, size_t max);
/* The socket path the client connects to (valid until parsec_client_free). */
PARSEC_API const char *parsec_client_socket_path(const struct parsec_client *client);

/* ---- core operations ---------------------------------------------------------------------- */

/* Ping (always sent without authentication): the highest wire protocol version the service
 * speaks, 1.0 today. maj/min may be NULL. */
PARSEC_API int parsec_ping(struct parsec_client *client, uint8_t *maj, uint8_t *min);

struct parsec_provider_info {
    uint8_t id;    /* enum parsec_provider_id */
    char uuid[37]; /* lower-case hyphenated, e.g. "1c1139dc-ad7c-47dc-ad6b-db6fdb466552" */
    char *description;
    char *vendor; /* "" when the service sends none */
    uint32_t version_maj, version_min, version_rev;
};
/* ListProviders, in the service's order (priority order, Core last). A provider id above 5 ->
 * PARSEC_ERROR_RESPONSE_PROVIDER, a malformed UUID -> PARSEC_ERROR_RESPONSE_UUID. */
PARSEC_API int parsec_list_providers(struct parsec_client *client,
                                     struct parsec_provider_info **providers, size_t *count);
PARSEC_API void parsec_provider_info_free(struct parsec_provider_info *providers, size_t count);

struct parsec_authenticator_info {
    uint8_t id; /* enum parsec_auth_type */
    char *description;
    uint32_t version_maj, version_min, version_rev;
};
/* ListAuthenticators (sent with the client's authentication). An id above 4 ->
 * PARSEC_ERROR_ENCODING. */
PARSEC_API int parsec_list_authenticators(struct parsec_client *client,
                                          struct parsec_authenticator_info **auths, size_t *count);
PARSEC_API void parsec_authenticator_info_free(struct parsec_authenticator_info *auths,
                                               size_t count);

/* ListOpcodes of provider `provider` (0-255; values above 5 are sent and the service answers
 * PARSEC_ERROR_PROVIDER_DOES_NOT_EXIST). Opcodes in the service's order (unspecified). An
 * undefined opcode in the reply -> PARSEC_ERROR_ENCODING. Free with parsec_opcodes_free. */
PARSEC_API int parsec_list_opcodes(struct parsec_client *client, int provider, uint32_t **opcodes,
                                   size_t *count);
PARSEC_API void parsec_opcodes_free(uint32_t *opcodes);

/* Key attributes, PSA-encoded. */
struct parsec_key_attributes {
    psa_key_type_t type;   /* PSA_KEY_TYPE_* */
    size_t bits;           /* key size; 0 on import = deduce from the data */
    psa_key_usage_t usage; /* PSA_KEY_USAGE_* bits (and PARSEC_KEY_USAGE_CACHE) */
    psa_algorithm_t alg;   /* permitted algorithm, PSA_ALG_NONE permits nothing */
};

struct parsec_key_info {
    char *name;
    uint8_t provider_id;
    struct parsec_key_attributes attributes;
};
/* ListKeys: the caller's keys on every provider (needs authentication). Keys whose attributes
 * this library cannot represent in PSA form fail the whole call with PARSEC_ERROR_ENCODING. */
PARSEC_API int parsec_list_keys(struct parsec_client *client, struct parsec_key_info **keys,
                                size_t *count);
PARSEC_API void parsec_key_info_free(struct parsec_key_info *keys, size_t count);

/* The attributes of the first key called `name` in ListKeys, whatever its provider (as the
 * original client's key_attributes helper). provider_id may be NULL.
 * Errors: PARSEC_ERROR_NOT_FOUND. */
PARSEC_API int parsec_key_attributes(struct parsec_client *client, const char *name,
                                     struct parsec_key_attributes *attributes,
                                     uint8_t *provider_id);

/* ListClients (admin only: PARSEC_ERROR_ADMIN_OPERATION / PARSEC_ERROR_NOT_AUTHENTICATED).
 * An array of *count NUL-terminated names. */
PARSEC_API int parsec_list_clients(struct parsec_client *client, char ***clients, size_t *count);
PARSEC_API void parsec_string_list_free(char **list, size_t count);

/* DeleteClient (admin only): destroys every key of application `name`. */
PARSEC_API int parsec_delete_client(struct parsec_client *client, const char *name);

/* ---- key management ----------------------------------------------------------------------- */

/* PsaGenerateKey: a new key called name. Errors from the service include
 * PARSEC_ERROR_PSA_ALREADY_EXISTS, PARSEC_ERROR_PSA_NOT_SUPPORTED,
 * PARSEC_ERROR_PSA_INVALID_ARGUMENT, PARSEC_ERROR_DEPRECATED_PRIMITIVE. Attributes with no wire
 * form (e.g. a Twisted Edwards curve) -> PARSEC_ERROR_ENCODING, nothing sent. */
PARSEC_API int parsec_generate_key(struct parsec_client *client, const char *name,
                                   const struct parsec_key_attributes *attributes);

/* PsaImportKey: key material in PSA export format (DER RSAPublicKey / RSAPrivateKey, EC
 * uncompressed point or private scalar, raw symmetric bytes). */
PARSEC_API int parsec_import_key(struct parsec_client *client, const char *name,
                                 const struct parsec_key_attributes *attributes,
                                 const uint8_t *data, size_t data_len);

/* PsaDestroyKey. PARSEC_ERROR_PSA_DOES_NOT_EXIST for an unknown name. */
PARSEC_API int parsec_destroy_key(struct parsec_client *client, const char *name);

/* PsaExportPublicKey: the public part in PSA format (DER RSAPublicKey, EC uncompressed
 * point). */
PARSEC_API int parsec_export_public_key(struct parsec_client *client, const char *name,
                                        uint8_t *out, size_t out_size, size_t *out_len);

/* PsaExportKey: the key material (needs PSA_KEY_USAGE_EXPORT, else
 * PARSEC_ERROR_PSA_NOT_PERMITTED). */
PARSEC_API int parsec_export_key(struct parsec_client *client, const char *name, uint8_t *out,
                                 size_t out_size, size_t *out_len);

/* CanDoCrypto check types. */
enum parsec_check_type {
    PARSEC_CHECK_USE = 1,
    PARSEC_CHECK_GENERATE = 2,
    PARSEC_CHECK_IMPORT = 3,
    PARSEC_CHECK_DERIVE = 4,
};
/* CanDoCrypto: PARSEC_SUCCESS if the implicit provider supports these attributes for that
 * use, PARSEC_ERROR_PSA_NOT_SUPPORTED if not. */
PARSEC_API int parsec_can_do_crypto(struct parsec_client *client, int check_type,
                                    const struct parsec_key_attributes *attributes);

/* ---- signatures --------------------------------------------------------------------------- */

/* PsaSignHash: signs a hash computed by the caller. alg is a specific signature algorithm,
 * e.g. PSA_ALG_ECDSA(PSA_ALG_SHA_256). ECDSA signatures are r || s (PSA format, 2 x the curve
 * size), RSA signatures the raw modulus-sized value. */
PARSEC_API int parsec_sign_hash(struct parsec_client *client, const char *name, psa_algorithm_t alg,
                                const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t sig_size,
                                size_t *sig_len);

/* PsaVerifyHash: PARSEC_SUCCESS if valid, PARSEC_ERROR_PSA_INVALID_SIGNATURE if not. */
PARSEC_API int parsec_verify_hash(struct parsec_client *client, const char *name,
                                  psa_algorithm_t alg, const uint8_t *hash, size_t hash_len,
                                  const uint8_t *sig, size_t sig_len);

/* PsaSignMessage: hashes and signs msg in the service. */
PARSEC_API int parsec_sign_message(struct parsec_client *client, const char *name,
                                   psa_algorithm_t alg, const uint8_t *msg, size_t msg_len,
                                   uint8_t *sig, size_t sig_size, size_t *sig_len);

/* PsaVerifyMessage: PARSEC_SUCCESS if valid, PARSEC_ERROR_PSA_INVALID_SIGNATURE if not. */
PARSEC_API int parsec_verify_message(struct parsec_client *client, const char *name,
                                     psa_algorithm_t alg, const uint8_t *msg, size_t msg_len,
                                     const uint8_t *sig, size_t sig_len);

/* ---- encryption --------------------------------------------------------------------------- */

/* PsaAsymmetricEncrypt / Decrypt (RSA PKCS#1 v1.5 or OAEP). salt (the OAEP label) may be NULL
 * with salt_len 0 for none. */
PARSEC_API int parsec_asymmetric_encrypt(struct parsec_client *client, const char *name,
                                         psa_algorithm_t alg, const uint8_t *in, size_t in_len,
                                         const uint8_t *salt, size_t salt_len, uint8_t *out,
                                         size_t out_size, size_t *out_len);
PARSEC_API int parsec_asymmetric_decrypt(struct parsec_client *client, const char *name,
                                         psa_algorithm_t alg, const uint8_t *in, size_t in_len,
                                         const uint8_t *salt, size_t salt_len, uint8_t *out,
                                         size_t out_size, size_t *out_len);

/* PsaAeadEncrypt: out = ciphertext || tag. additional_data may be NULL with ad_len 0. */
PARSEC_API int parsec_aead_encrypt(struct parsec_client *client, const char *name,
                                   psa_algorithm_t alg, const uint8_t *nonce, size_t nonce_len,
                                   const uint8_t *ad, size_t ad_len, const uint8_t *in,
                                   size_t in_len, uint8_t *out, size_t out_size, size_t *out_len);
/* PsaAeadDecrypt: in = ciphertext || tag. A wrong tag -> PARSEC_ERROR_PSA_INVALID_SIGNATURE. */
PARSEC_API int parsec_aead_decrypt(struct parsec_client *client, const char *name,
                                   psa_algorithm_t alg, const uint8_t *nonce, size_t nonce_len,
                                   const uint8_t *ad, size_t ad_len, const uint8_t *in,
                                   size_t in_len, uint8_t *out, size_t out_size, size_t *out_len);

/* PsaCipherEncrypt: out = IV (chosen by the service) || ciphertext. */
PARSEC_API int parsec_cipher_encrypt(struct parsec_client *client, const char *name,
                                     psa_algorithm_t alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t out_size, size_t *out_len);
/* PsaCipherDecrypt: in = IV || ciphertext. */
PARSEC_API int parsec_cipher_decrypt(struct parsec_client *client, const char *name,
                                     psa_algorithm_t alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t out_size, size_t *out_len);

/* ---- other cryptography ------------------------------------------------------------------- */

/* PsaHashCompute: alg is a hash, e.g. PSA_ALG_SHA_256. */
PARSEC_API int parsec_hash_compute(struct parsec_client *client, psa_algorithm_t alg,
                                   const uint8_t *in, size_t in_len, uint8_t *hash,
                                   size_t hash_size, size_t *hash_len);
/* The digest of in computed in this process, with no request: alg is PSA_ALG_SHA_1,
 * PSA_ALG_SHA_224, PSA_ALG_SHA_256, PSA_ALG_SHA_384 or PSA_ALG_SHA_512; any other value
 * -> PARSEC_ERROR_PSA_NOT_SUPPORTED. *hash_len is set to the digest length also when it returns
 * PARSEC_ERROR_BUFFER_TOO_SMALL. The message fallbacks below use it, because the PKCS#11 and
 * TPM providers offer neither PsaSignMessage nor PsaHashCompute. */
PARSEC_API int parsec_hash_local(psa_algorithm_t alg, const uint8_t *in, size_t in_len,
                                 uint8_t *hash, size_t hash_size, size_t *hash_len);
/* PsaHashCompare: PARSEC_SUCCESS if hash is the digest of in, else
 * PARSEC_ERROR_PSA_INVALID_SIGNATURE. */
PARSEC_API int parsec_hash_compare(struct parsec_client *client, psa_algorithm_t alg,
                                   const uint8_t *in, size_t in_len, const uint8_t *hash,
                                   size_t hash_len);

/* PsaRawKeyAgreement: alg is a raw agreement (PSA_ALG_ECDH or PSA_ALG_FFDH); peer_key in PSA
 * public-key import format. */
PARSEC_API int parsec_raw_key_agreement(struct parsec_client *client, psa_algorithm_t alg,
                                        const char *private_key_name, const uint8_t *peer_key,
                                        size_t peer_key_len, uint8_t *out, size_t out_size,
                                        size_t *out_len);

/* PsaGenerateRandom: fills out[0 .. size) (in several requests of at most PARSEC_RANDOM_CHUNK
 * bytes when size is larger). size 0 sends nothing. */
PARSEC_API int parsec_generate_random(struct parsec_client *client, uint8_t *out, size_t size);

/* ---- TPM key attestation ------------------------------------------------------------------ */

/* Key attestation with TPM2_ActivateCredential (TPM provider only, experimental in the
 * protocol). A third party (a verifier) gets the key's TPM name and public area and the TPM's
 * endorsement key from parsec_prepare_activate_credential, checks them, and makes a credential
 * (TPM2_MakeCredential, e.g. `tpm2_makecredential -T none`): a secret of its choice encrypted
 * to the endorsement key and bound to the key's name. Only the TPM that holds both keys gets
 * the secret back through parsec_activate_credential, which proves the key lives in that TPM.
 *
 * Both functions first send ListProviders: a service that does not list the TPM provider gives
 * PARSEC_ERROR_NO_PROVIDER and nothing more is sent. The request then goes to the TPM provider
 * whatever the implicit provider is (Core included), with the client's authentication.
 * attesting_key_name NULL (or "") is the default attesting key, the TPM's endorsement key; the
 * service supports no other today (PARSEC_ERROR_PSA_NOT_SUPPORTED). Other errors from the
 * service: PARSEC_ERROR_PSA_DOES_NOT_EXIST (no such key), PARSEC_ERROR_PSA_GENERIC_ERROR (the
 * endorsement hierarchy refused the service's password: its endorsement_hierarchy_auth),
 * PARSEC_ERROR_PSA_INVALID_ARGUMENT (a credential that does not open with this key). A reply
 * without the ActivateCredential output -> PARSEC_ERROR_ENCODING. */

/* Buffer sizes that hold any answer of a TPM whose keys are at most RSA 4096: a TPM2B_NAME
 * (a hash algorithm and a digest up to SHA-512; sizeof(TPMU_NAME) in the TSS), a marshalled
 * TPMT_PUBLIC (sizeof(TPMT_PUBLIC) in the TSS), a DER RSAPublicKey with an exponent of up to
 * 32 bits, and a TPM2B_DIGEST (sizeof(TPMU_HA)). */
#define PARSEC_TPM_NAME_MAX 68
#define PARSEC_TPM_PUBLIC_MAX 612
#define PARSEC_ATTESTING_KEY_PUB_MAX 528
#define PARSEC_TPM_CREDENTIAL_MAX 64

/* PrepareKeyAttestation: what a verifier needs to make a credential for key key_name:
 *  - name: the key's TPM name (contents of its TPM2B_NAME: algorithm id || digest);
 *  - public_area: its public area (a marshalled TPMT_PUBLIC, whose hash is the name);
 *  - attesting_key_pub: the attesting key's public key (DER RSAPublicKey, RSA 2048 for the
 *    endorsement key).
 * Three output buffers of the usual form. If any is too small the call returns
 * PARSEC_ERROR_BUFFER_TOO_SMALL, writes none of them, and stores all three needed lengths;
 * buffers of the PARSEC_*_MAX sizes above are always large enough. */
PARSEC_API int parsec_prepare_activate_credential(
    struct parsec_client *client, const char *key_name, const char *attesting_key_name,
    uint8_t *name, size_t name_size, size_t *name_len, uint8_t *public_area, size_t public_size,
    size_t *public_len, uint8_t *attesting_key_pub, size_t pub_size, size_t *pub_len);

/* AttestKey: TPM2_ActivateCredential with key key_name and the attesting key on a credential
 * made by the verifier: credential_blob is the contents of its TPM2B_ID_OBJECT, secret that of
 * its TPM2B_ENCRYPTED_SECRET. out receives the verifier's secret (contents of a TPM2B_DIGEST,
 * at most PARSEC_TPM_CREDENTIAL_MAX bytes), which the library wipes from its own buffers. */
PARSEC_API int parsec_activate_credential(struct parsec_client *client, const char *key_name,
                                          const char *attesting_key_name,
                                          const uint8_t *credential_blob, size_t blob_len,
                                          const uint8_t *secret, size_t secret_len, uint8_t *out,
                                          size_t out_size, size_t *out_len);

/* ---- the easy path ------------------------------------------------------------------------ */

/* ECDSA P-256 key with SHA-256: type ECC key pair SECP_R1, 256 bits, algorithm
 * PSA_ALG_ECDSA(PSA_ALG_SHA_256), usage sign/verify hash and message (the public key can always
 * be exported; the private key cannot). */
PARSEC_API int parsec_ecc_key_create(struct parsec_client *client, const char *name);
/* RSA signing key: PKCS#1 v1.5 with SHA-256, sign/verify hash and message. bits 0 = 2048. */
PARSEC_API int parsec_rsa_sign_key_create(struct parsec_client *client, const char *name,
                                          size_t bits);
/* RSA encryption key: OAEP with SHA-256, encrypt/decrypt. bits 0 = 2048. */
PARSEC_API int parsec_rsa_encrypt_key_create(struct parsec_client *client, const char *name,
                                             size_t bits);
/* AES-256-GCM key (16-byte tag), encrypt/decrypt. */
PARSEC_API int parsec_aes_gcm_key_create(struct parsec_client *client, const char *name);

/* Largest signature / public key of the keys the easy path creates. */
#define PARSEC_ECDSA_P256_SIG_SIZE 64
#define PARSEC_ECC_P256_PUBLIC_KEY_SIZE 65

/* ECDSA-SHA-256 signature of msg (r || s, 64 bytes for P-256) with a key created by
 * parsec_ecc_key_create. Sent as PsaSignMessage; if the provider answers
 * PARSEC_ERROR_PSA_NOT_SUPPORTED (the original Mbed Crypto, PKCS#11 and TPM providers have no
 * SignMessage), the message is hashed with parsec_hash_local and sent as PsaSignHash, which
 * gives the same signature. Same for verification. */
PARSEC_API int parsec_sign_message_ecdsa(struct parsec_client *client, const char *name,
                                         const uint8_t *msg, size_t msg_len, uint8_t *sig,
                                         size_t sig_size, size_t *sig_len);
/* PARSEC_SUCCESS if sig is a valid ECDSA-SHA-256 signature of msg, else
 * PARSEC_ERROR_PSA_INVALID_SIGNATURE. */
PARSEC_API int parsec_verify_message_ecdsa(struct parsec_client *client, const char *name,
                                           const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                           size_t sig_len);

/* AES-GCM with a 12-byte nonce the library draws from the service's RNG:
 * out = nonce (12) || ciphertext || tag (16), i.e. in_len + 28 bytes. */
#define PARSEC_AES_GCM_OVERHEAD 28
PARSEC_API int parsec_seal_aes_gcm(struct parsec_client *client, const char *name,
                                   const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                                   size_t *out_len);
/* Reverse of parsec_seal_aes_gcm; PARSEC_ERROR_PSA_INVALID_SIGNATURE if tampered. */
PARSEC_API int parsec_open_aes_gcm(struct parsec_client *client, const char *name,
                                   const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                                   size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
