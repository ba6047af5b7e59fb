/* libparsec-psa: the PSA Crypto API 1.x served by a Parsec service.
 *
 * A program written against the standard <psa/crypto.h> (Mbed TLS 2.28's header on Debian)
 * links -lparsec-psa instead of -lmbedcrypto, and every call below becomes a Parsec request
 * made with libparsec (pkg-config: parsec-psa). This header adds the few functions that have
 * no PSA equivalent: configuration and the key id <-> key name mapping. It is not needed by a
 * program that uses the defaults.
 *
 * Initialisation. psa_crypto_init() creates one process-wide Parsec client with the defaults
 * of parsec_client_new() (endpoint from PARSEC_SERVICE_ENDPOINT, bootstrap choosing the
 * provider and the authenticator); the application name used if the service authenticates
 * with Direct is $PARSEC_PSA_APP_NAME, else "parsec-psa". parsec_psa_init() may be called
 * first instead to choose the configuration. Every other function returns PSA_ERROR_BAD_STATE
 * before initialisation. mbedtls_psa_crypto_free() destroys the volatile keys (below) and the
 * client; psa_crypto_init() may then be called again.
 *
 * Key ids and Parsec key names (all keys live in the service under a name):
 *   - Persistent ids 1 .. 0x3FFFFFFF (PSA_KEY_ID_USER_MIN .. PSA_KEY_ID_USER_MAX) <-> the name
 *     "psa-key-<id in decimal>", e.g. id 42 <-> "psa-key-42". psa_generate_key/psa_import_key
 *     with a persistent lifetime and id N create the key "psa-key-N".
 *   - Volatile keys (lifetime PSA_KEY_LIFETIME_VOLATILE, the default): the library draws a
 *     random id in 0x60000000 .. 0x7FFFFFFF and creates the key "psa-volatile-<id>" (another id
 *     is drawn if the name exists). The ids are remembered by the process; these keys are
 *     destroyed by psa_destroy_key, by mbedtls_psa_crypto_free() and at normal process exit
 *     (atexit). After a crash they stay in the service under that name.
 *   - Any other key name (keys made by parsec-tool or another client) <-> the id
 *     0x40000000 | (FNV-1a-32(name) & 0x1FFFFFFF), in 0x40000000 .. 0x5FFFFFFF. Given such an
 *     id the library finds the name by running ListKeys and hashing the names it returns (the
 *     first match in ListKeys order wins if two names collide); parsec_psa_key_id() computes it
 *     from a name. These keys count as persistent.
 *   Keys are used on the client's implicit provider (the service's first provider unless
 *   configured otherwise).
 *
 * Supported: psa_crypto_init, psa_generate_key, psa_import_key, psa_destroy_key,
 * psa_export_public_key, psa_export_key, psa_get_key_attributes, psa_reset_key_attributes,
 * psa_purge_key (no-op), psa_open_key / psa_close_key (the handle is the key id),
 * psa_sign_hash, psa_verify_hash, psa_sign_message, psa_verify_message,
 * psa_asymmetric_encrypt / decrypt, psa_aead_encrypt / decrypt, psa_cipher_encrypt / decrypt,
 * psa_hash_compute, psa_hash_compare, psa_raw_key_agreement, psa_generate_random,
 * psa_set_key_domain_parameters (only without parameters), mbedtls_psa_crypto_free.
 *
 * Not supported, returning PSA_ERROR_NOT_SUPPORTED (the service has no such operation):
 * psa_copy_key, MAC (psa_mac_*), every multi-part operation (psa_hash_setup/update/finish/
 * verify/abort/clone, psa_cipher_*_setup / generate_iv / set_iv / update / finish / abort,
 * psa_aead_*_setup / ... / abort), key derivation (psa_key_derivation_*),
 * psa_get_key_domain_parameters with parameters. The abort functions return PSA_SUCCESS.
 * Lifetimes with a location other than local storage -> PSA_ERROR_NOT_SUPPORTED.
 *
 * Errors: a Parsec PSA status 1000 + x becomes -x (1140 -> PSA_ERROR_DOES_NOT_EXIST = -140),
 * except that functions taking a key id report a key that does not exist as
 * PSA_ERROR_INVALID_HANDLE, as the PSA API specifies (and Mbed TLS does). Other outcomes:
 * output buffer too small -> PSA_ERROR_BUFFER_TOO_SMALL (the output length is then 0); an id
 * that names no key -> PSA_ERROR_INVALID_HANDLE; attributes or algorithms with no Parsec form,
 * DeprecatedPrimitive, implicit provider Core -> PSA_ERROR_NOT_SUPPORTED; authentication and
 * admin statuses -> PSA_ERROR_NOT_PERMITTED; I/O, timeout, connection, endpoint and malformed
 * replies -> PSA_ERROR_COMMUNICATION_FAILURE; out of memory -> PSA_ERROR_INSUFFICIENT_MEMORY;
 * anything else -> PSA_ERROR_GENERIC_ERROR (see parsec_psa_status()).
 *
 * psa_sign_message / psa_verify_message are sent as PsaSignMessage / PsaVerifyMessage; a
 * provider without them (the original Mbed Crypto provider) answers PsaErrorNotSupported, and
 * the library then hashes with PsaHashCompute and uses PsaSignHash / PsaVerifyHash. */
#ifndef PARSEC_PSA_H
#define PARSEC_PSA_H

#include <psa/crypto.h>

#include "parsec/client.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARSEC_PSA_APP_NAME_ENV "PARSEC_PSA_APP_NAME"
#define PARSEC_PSA_DEFAULT_APP_NAME "parsec-psa"
#define PARSEC_PSA_KEY_PREFIX "psa-key-"
#define PARSEC_PSA_VOLATILE_PREFIX "psa-volatile-"
#define PARSEC_PSA_NAMED_ID_MIN ((psa_key_id_t)0x40000000)
#define PARSEC_PSA_NAMED_ID_MAX ((psa_key_id_t)0x5FFFFFFF)
#define PARSEC_PSA_VOLATILE_ID_MIN ((psa_key_id_t)0x60000000)
#define PARSEC_PSA_VOLATILE_ID_MAX ((psa_key_id_t)0x7FFFFFFF)
/* Longest name the mapping produces or accepts. */
#define PARSEC_PSA_NAME_MAX 64

/* Initialises the PSA front with a client configuration (NULL = defaults; an app_name NULL in
 * it uses $PARSEC_PSA_APP_NAME or "parsec-psa"). PSA_SUCCESS if already initialised (the
 * configuration is then ignored). */
PARSEC_API psa_status_t parsec_psa_init(const struct parsec_client_config *cfg);

/* The process-wide client (NULL before initialisation), e.g. to list keys or change the
 * provider with parsec_client_set_provider. Owned by the library. */
PARSEC_API struct parsec_client *parsec_psa_client(void);

/* The key id of a Parsec key name according to the mapping above (no request is sent).
 * PSA_ERROR_INVALID_ARGUMENT for NULL or an empty name. */
PARSEC_API psa_status_t parsec_psa_key_id(const char *name, psa_key_id_t *id);

/* The Parsec key name of a key id (NUL-terminated, at most PARSEC_PSA_NAME_MAX bytes for
 * psa-key/psa-volatile names). For an id in the named range this sends ListKeys; no key ->
 * PSA_ERROR_INVALID_HANDLE. id 0 or outside every range -> PSA_ERROR_INVALID_HANDLE.
 * PSA_ERROR_BUFFER_TOO_SMALL if name_size is too small. */
PARSEC_API psa_status_t parsec_psa_key_name(psa_key_id_t id, char *name, size_t name_size);

/* The PSA status for a libparsec error code (see above). */
PARSEC_API psa_status_t parsec_psa_status(int parsec_error);

#ifdef __cplusplus
}
#endif

#endif
