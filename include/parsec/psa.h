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
 * Every function of the PSA Crypto API 1.x that Mbed TLS 2.28 declares, and how it is served.
 * "Forwarded": one request (or the few named) to the service, whose status is returned as
 * described under Errors below. "Local": answered in the process, no request. "Not offered":
 * the Parsec protocol has no such operation; the function exists so that a program using it
 * links, and it returns the status shown.
 *
 *   psa_crypto_init, parsec_psa_init            forwarded (ListProviders, ListAuthenticators:
 *                                               the client's bootstrap); again: local, success
 *   mbedtls_psa_crypto_free                     forwarded (PsaDestroyKey of this process's
 *                                               volatile keys), then local
 *   psa_generate_key, psa_import_key            forwarded (PsaGenerateKey / PsaImportKey)
 *   psa_destroy_key                             forwarded (PsaDestroyKey); key 0: local, success
 *   psa_export_key, psa_export_public_key       forwarded (PsaExportKey / PsaExportPublicKey)
 *   psa_get_key_attributes, psa_open_key        forwarded (ListKeys)
 *   psa_close_key                               local: success (a handle is the key id)
 *   psa_purge_key                               local: success (nothing is cached here)
 *   psa_reset_key_attributes                    local
 *   psa_set/get_key_domain_parameters           local; parameters other than none ->
 *                                               PSA_ERROR_NOT_SUPPORTED (not in the protocol)
 *   psa_sign_hash, psa_verify_hash              forwarded (PsaSignHash / PsaVerifyHash)
 *   psa_sign_message, psa_verify_message        forwarded (PsaSignMessage / PsaVerifyMessage;
 *                                               see the fallback at the end)
 *   psa_asymmetric_encrypt / decrypt            forwarded (PsaAsymmetricEncrypt / Decrypt)
 *   psa_aead_encrypt / decrypt                  forwarded (PsaAeadEncrypt / Decrypt)
 *   psa_cipher_encrypt / decrypt                forwarded (PsaCipherEncrypt / Decrypt)
 *   psa_raw_key_agreement                       forwarded (PsaRawKeyAgreement)
 *   psa_hash_compute, psa_hash_compare          forwarded (PsaHashCompute / PsaHashCompare)
 *   psa_generate_random                         forwarded (PsaGenerateRandom, in chunks)
 *   psa_copy_key                                not offered: PSA_ERROR_NOT_SUPPORTED (no copy
 *                                               operation; export and import instead)
 *   psa_mac_compute, psa_mac_verify             not offered: PSA_ERROR_NOT_SUPPORTED (the
 *                                               protocol defines MAC messages but no opcode)
 *   multi-part operations: psa_hash_setup / update / finish / verify / clone, psa_mac_*_setup /
 *   update / finish, psa_cipher_*_setup / generate_iv / set_iv / update / finish,
 *   psa_aead_*_setup / generate_nonce / set_nonce / set_lengths / update_ad / update / finish /
 *   verify                                      not offered: PSA_ERROR_NOT_SUPPORTED (every
 *                                               Parsec operation is single-part and stateless)
 *   psa_hash_abort, psa_mac_abort, psa_cipher_abort, psa_aead_abort, psa_key_derivation_abort
 *                                               local: PSA_SUCCESS (nothing to abort)
 *   key derivation: psa_key_derivation_setup / get_capacity / set_capacity / input_bytes /
 *   input_key / key_agreement / output_bytes / output_key
 *                                               not offered: PSA_ERROR_NOT_SUPPORTED (no key
 *                                               derivation operation in the protocol)
 *
 * Checks made before any request, with the statuses of Mbed TLS 2.28, the PSA Crypto API 1.1
 * and the Arm PSA architecture tests:
 *   - not initialised -> PSA_ERROR_BAD_STATE (every function but the local ones above);
 *   - an operation's algorithm of the wrong family, or a policy wildcard (PSA_ALG_ANY_HASH
 *     inside a signature) used as an operation's algorithm -> PSA_ERROR_INVALID_ARGUMENT for
 *     psa_sign_hash, psa_verify_hash, psa_sign_message, psa_verify_message (which also need a
 *     scheme with a specific hash), psa_cipher_encrypt / decrypt, psa_raw_key_agreement (a
 *     key agreement combined with a key derivation included); -> PSA_ERROR_NOT_SUPPORTED for
 *     psa_aead_encrypt / decrypt (also an "at least this tag length" wildcard) and for
 *     psa_hash_compute / compare (not a specific hash). psa_asymmetric_encrypt / decrypt
 *     answer as Mbed TLS does, by the key (its attributes are read with ListKeys):
 *     PSA_ERROR_NOT_PERMITTED if its usage flag or policy refuses, else
 *     PSA_ERROR_INVALID_ARGUMENT for an RSA key and PSA_ERROR_NOT_SUPPORTED for any other
 *     (no asymmetric encryption exists for it);
 *   - usage flags with bits the PSA Crypto API 1.1 does not define -> PSA_ERROR_INVALID_ARGUMENT
 *     (psa_generate_key, psa_import_key); the cache flag (0x4) is defined and carried;
 *   - a NULL pointer for a length output or for the attributes, psa_import_key with no data,
 *     a persistent key whose id is outside 1 .. 0x3FFFFFFF, a volatile key with an id
 *     -> PSA_ERROR_INVALID_ARGUMENT; a lifetime whose location is not local storage
 *     -> PSA_ERROR_NOT_SUPPORTED.
 * A key type that cannot serve the operation's algorithm (an AES key given to psa_sign_hash)
 * is refused by the service with PsaErrorNotPermitted, as the original service does; on that
 * error only, the library reads the key's attributes (ListKeys) and returns
 * PSA_ERROR_INVALID_ARGUMENT when the usage flag and the policy allowed the operation.
 *
 * Key policies the wire protocol cannot carry: creating a key with one returns
 * PSA_ERROR_NOT_SUPPORTED and nothing is sent. They are: the key type PSA_KEY_TYPE_NONE, ARIA,
 * Twisted Edwards curves, ECC families other than SECP K1/R1/R2, SECT K1/R1/R2, Brainpool P R1,
 * FRP and Montgomery, DH groups other than RFC 7919; the algorithms PSA_ALG_ANY_HASH alone,
 * hashes other than MD2, MD4, MD5, RIPEMD-160, SHA-1, SHA-2 and SHA-3 (SHAKE256-512 has none),
 * the "at least this length" wildcards of MAC and AEAD (PSA_ALG_AT_LEAST_THIS_LENGTH_MAC,
 * PSA_ALG_AEAD_WITH_AT_LEAST_THIS_LENGTH_TAG), truncated MAC lengths outside 1 .. 63, shortened
 * AEAD tags longer than 63, PSA_ALG_RSA_PSS_ANY_SALT, EdDSA, OAEP, HMAC or a key derivation
 * with PSA_ALG_ANY_HASH, key derivations other than HKDF, TLS 1.2 PRF and TLS 1.2 PSK-to-MS,
 * key agreements other than FFDH and ECDH (raw or followed by one of those derivations), and
 * any vendor or undefined value; nor Mbed TLS's enrollment algorithm
 * (psa_set_key_enrollment_algorithm), nor domain parameters. Everything else PSA can express
 * is carried, including unusual but valid policies: a shortened AEAD tag of length 0, a key
 * agreement combined with a key derivation on an ECC, DH or derivation key, a signature policy
 * with PSA_ALG_ANY_HASH.
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
 * provider without them (the original Mbed Crypto provider, the PKCS#11 and TPM providers)
 * answers PsaErrorNotSupported, and the library then hashes the message itself
 * (parsec_hash_local: SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512; another hash ->
 * PSA_ERROR_NOT_SUPPORTED) and uses PsaSignHash / PsaVerifyHash. */
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
