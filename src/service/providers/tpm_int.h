/* Internals of the TPM provider, shared by its three files:
 *   tpm_keys.c  key blobs (the original's PasswordContext) and public templates, pure code;
 *   tpm_ctx.c   the ESAPI context: session, root key, cache of loaded keys, reset recovery;
 *   tpm.c       the operations and the provider table. */
#ifndef PARSEC_PROVIDER_TPM_INT_H
#define PARSEC_PROVIDER_TPM_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "psa/attrs.h"
#include "service/providers/provider.h"

/* Size of the random auth value of the root key and of every generated key (as the original). */
#define TPM_KEY_AUTH_LEN 32
/* Largest number of loaded keys kept, whatever the TPM reports: with a resource manager the
 * TPM's own count says nothing about what fits, and more keys than this in turn is rare. */
#define TPM_CACHE_MAX 16
/* The name of the root key's internal mapping (key-info-manager.md §4). */
#define TPM_ROOT_KEY_NAME "RootKeyTPM"

/* A key as its mapping stores it (key-info-manager.md §4.1). An empty private part is an
 * imported public key. imported: a key pair made outside the TPM and imported under the root
 * key (its public area has no fixedTPM/fixedParent/sensitiveDataOrigin); recorded as 1 in the
 * blob's legacy "sequence" field, which the original always writes as 0 and never reads. */
struct tpm_key {
    int imported;
    TPM2B_AUTH auth;
    int is_ecc;
    TPM2B_PUBLIC_KEY_RSA rsa_n; /* RSA modulus, big-endian */
    TPMS_ECC_POINT ecc;         /* ECC point, big-endian coordinates */
    TPM2B_PRIVATE priv;
};

/* One loaded key: the mapping it was loaded from (blob and attributes: two imported public keys
 * have equal blobs and differ by their policy, hence public area), and its ESAPI handle. */
struct tpm_slot {
    uint8_t *blob;
    size_t blob_len;
    struct psc_attrs attrs;
    ESYS_TR handle;
    uint64_t used;
};

struct tpm_provider {
    struct psc_provider base;
    pthread_mutex_t lock; /* serialises every use of the members below */
    char *tcti_conf;
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR session;
    ESYS_TR root;
    TPMT_SYM_DEF_OBJECT cipher; /* session cipher, also the root key's symmetric scheme */
    TPM2B_AUTH owner_auth, endorsement_auth;
    int has_endorsement_auth;
    TPM2B_NAME root_name;           /* name of the root key the mappings' blobs belong to */
    struct tpm_provider *next_live; /* instances of this process (tpm.c) */
    struct tpm_slot cache[TPM_CACHE_MAX];
    size_t cache_cap;
    uint64_t tick;
};

/* A key blob of the legacy format (key-info-manager.md §4.2): a context saved from the TPM
 * (TPM2_ContextSave through ESAPI: contextBlob holds ESAPI's form, the TPM's blob followed by
 * ESAPI's metadata) and the key's auth value. Such a key is migrated to the current format on
 * its first use (tpm.c). */
struct tpm_legacy {
    TPMS_CONTEXT context;
    TPM2B_AUTH auth;
};

/* ---- tpm_keys.c --------------------------------------------------------------------------- */

/* Decodes a mapping's id bytes. Returns 0, or PSC_KEY_INFO_MANAGER_ERROR for bytes that are not
 * a key blob of the current format. */
int tpm_key_decode(const uint8_t *in, size_t len, struct tpm_key *k);
/* Encodes a key into a malloc'd buffer. Returns 0 or PSC_PSA_INSUFFICIENT_MEMORY. */
int tpm_key_encode(const struct tpm_key *k, uint8_t **out, size_t *len);
/* Wipes a key (it holds its auth value). */
void tpm_key_wipe(struct tpm_key *k);
/* Decodes a mapping's id bytes as a legacy blob. Returns 0, or PSC_KEY_INFO_MANAGER_ERROR for
 * bytes that are not one: lengths beyond the TPM's buffers, a context that is not ESAPI's form
 * of a saved key. */
int tpm_legacy_decode(const uint8_t *in, size_t len, struct tpm_legacy *lg);
void tpm_legacy_wipe(struct tpm_legacy *lg);
/* Sets k's public key from the public area of a key taken out of the TPM, whose private part
 * (empty for a public key) is already in k, and checks that the public area rebuilt from the
 * attributes a is pub byte for byte, as the private part only loads under that one. A public
 * key is loaded alone, with the template's object attributes: only those may differ. Returns 0,
 * PSC_PSA_NOT_SUPPORTED (attributes the provider has no template for) or
 * PSC_KEY_INFO_MANAGER_ERROR (another template, or a key pair's attributes for a public key
 * or the reverse). */
int tpm_key_of_public(const struct psc_attrs *a, const TPM2B_PUBLIC *pub, struct tpm_key *k);

/* The public area of a key with these attributes (providers.md §4), with unique (may be NULL)
 * from the stored key. external: for a key the TPM did not make, a public key loaded alone or
 * an imported key pair (no fixedTPM/fixedParent/sensitiveDataOrigin).
 * Returns 0, PSC_PSA_NOT_SUPPORTED or PSC_PSA_INVALID_ARGUMENT. */
int tpm_public_template(const struct psc_attrs *a, const struct tpm_key *unique, int external,
                        TPM2B_PUBLIC *out);
/* The root key's template for a session cipher. */
void tpm_root_template(const TPMT_SYM_DEF_OBJECT *cipher, TPM2B_PUBLIC *out);
/* The TPM hash of a PSA hash algorithm, TPM2_ALG_ERROR if the TPM provider has none. */
TPM2_ALG_ID tpm_hash_alg(psa_algorithm_t hash);

/* Public key formats of the interface: DER RSAPublicKey, and 0x04 || X || Y. */
int tpm_rsa_public_parse(const uint8_t *der, size_t len, TPM2B_PUBLIC_KEY_RSA *n);
int tpm_rsa_public_der(const TPM2B_PUBLIC_KEY_RSA *n, uint8_t **out, size_t *len);
int tpm_ecc_point_parse(const uint8_t *in, size_t len, size_t bits, TPMS_ECC_POINT *p);
/* An RSAPrivateKey (PKCS#1 DER, the PSA key pair format): modulus and first prime, which is
 * what a TPM takes; the exponent must be 65537. */
int tpm_rsa_private_parse(const uint8_t *der, size_t len, TPM2B_PUBLIC_KEY_RSA *n,
                          TPM2B_PRIVATE_KEY_RSA *p);
/* The public point of a NIST curve private scalar d (bits/8 bytes, big-endian). Returns 0 or
 * PSC_PSA_INVALID_ARGUMENT. */
int tpm_ecc_public_of(size_t bits, const uint8_t *d, size_t len, TPMS_ECC_POINT *q);
/* Whether a key is loaded with the external template. */
#define TPM_KEY_EXTERNAL(k) ((k)->priv.size == 0 || (k)->imported)
int tpm_ecc_point_export(const TPMS_ECC_POINT *p, size_t bits, uint8_t **out, size_t *len);

/* The code of a TPM response without its parameter/handle/session number; other layers'
 * codes unchanged. */
TSS2_RC tpm_code(TSS2_RC rc);
/* The wire status of an ESAPI/TPM response code (providers.md §4, error mapping). */
int tpm_status(TSS2_RC rc);

/* The endorsement key's template (TCG EK Credential Profile, RSA-2048 "L-1"). */
void tpm_ek_template(TPM2B_PUBLIC *out);

/* ---- tpm_start.c -------------------------------------------------------------------------- */

/* A hierarchy password as the original reads it ("str:", "hex:" or the text). what names the
 * option in a message; the value never appears in one. Returns 0 or -1. */
int tpm_auth_parse(const char *s, const char *what, TPM2B_AUTH *out, char *err, size_t err_len);
/* The provider instances of the process: a new one takes the TPM over from older ones on the
 * same TCTI (a reload), see tpm_start.c. */
void tpm_live_take_over(const struct tpm_provider *t);
void tpm_live_add(struct tpm_provider *t);
void tpm_live_remove(struct tpm_provider *t);
/* Checks the root key against the stored one at start (key-info-manager.md §5.1) and handles
 * an owner-hierarchy clear. Returns 0, or -1 with a message. */
int tpm_root_check(struct tpm_provider *t, char *err, size_t err_len);

/* ---- tpm_ctx.c ---------------------------------------------------------------------------- */

/* Opens the TCTI and ESAPI context, probes the cipher, starts the session and creates the root
 * key. On failure a message goes to err. *no_tpm is set when the TCTI itself cannot be opened. */
int tpm_ctx_open(struct tpm_provider *t, int *no_tpm, char *err, size_t err_len);
/* Creates the TPM's endorsement key from its template (the key is the same at every creation):
 * *ek is its handle, to flush; *pub (if not NULL) its public area, to Esys_Free. Needs the
 * endorsement hierarchy's password. Caller holds t->lock. */
TSS2_RC tpm_ek_load(struct tpm_provider *t, ESYS_TR *ek, TPM2B_PUBLIC **pub);
/* The name of the TPM's endorsement key (created, named and flushed). */
TSS2_RC tpm_ek_name(struct tpm_provider *t, TPM2B_NAME *name);
/* Closes the context without flushing: its objects are left to whoever opens the TPM next. */
void tpm_ctx_drop(struct tpm_provider *t);
/* Flushes everything loaded and closes the context. */
void tpm_ctx_close(struct tpm_provider *t);
/* Whether a failure means the TPM lost the service's objects (reset, flushed behind its back,
 * connection lost): the context is then reopened and the operation retried once. */
int tpm_ctx_lost(TSS2_RC rc);
/* Reopens the context after a loss; the root key must come back with the same name. */
int tpm_ctx_reopen(struct tpm_provider *t);

/* The handle of a stored key, loaded or taken from the cache. blob is the mapping's id bytes.
 * Caller holds t->lock. */
TSS2_RC tpm_key_handle(struct tpm_provider *t, const uint8_t *blob, size_t blob_len,
                       const struct psc_attrs *a, const struct tpm_key *k, ESYS_TR *h);
/* Flushes the least recently used key; 0 if the cache was empty. Caller holds t->lock. */
int tpm_cache_evict(struct tpm_provider *t);
/* Drops a key from the cache (after destroy). Caller holds t->lock. */
void tpm_cache_forget(struct tpm_provider *t, const uint8_t *blob, size_t blob_len,
                      const struct psc_attrs *a);
/* Sets the session's attributes for a command: decrypt (first parameter encrypted),
 * encrypt (first response parameter encrypted). */
void tpm_session_use(struct tpm_provider *t, int decrypt, int encrypt);

#endif
