/* libparsec-pkcs11: a PKCS#11 v2.40 module presenting the caller's Parsec keys as token objects.
 *
 * Shape: one slot per crypto provider the service lists (slot id = provider id), one
 * parsec_client per slot. Every key of the caller on that provider is a private-key object and
 * a public-key object (a public key alone, a public-key object only). Objects are views of
 * the service's keys: nothing is stored in the module except, per session, the key list and
 * the public values (fetched once per session). Private key material never enters the module.
 *
 * Locking: one module lock (g_lock) guards the slot and session tables and the object-handle
 * registry; each session has its own lock, held for the whole of a call on that session (so a
 * session used from two threads at once is serialised, not corrupted). Calls to the service
 * are made with the session lock only, except the one-time discovery of the slots and of a
 * slot's mechanisms, under the module lock. Lock order: session, then module. */
#ifndef PARSEC_P11_H
#define PARSEC_P11_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

#include "parsec/client.h"

/* ---- limits --------------------------------------------------------------------------------- */

/* Open sessions at once, over all slots (CKR_SESSION_COUNT beyond). */
#define P11_MAX_SESSIONS 1024
/* Distinct key names the module hands object handles to in its lifetime (CKR_DEVICE_MEMORY
 * beyond); a handle stays valid for the name it was given to until C_Finalize. */
#define P11_MAX_OBJECT_NAMES 65536
/* Largest public key in PSA export format kept per key (RSA 8192: about 1 KiB). */
#define P11_PUBKEY_MAX 2048
/* Input collected by C_SignUpdate / C_VerifyUpdate for the mechanisms that sign their input as
 * it is (CKM_ECDSA, CKM_RSA_PKCS, CKM_RSA_PKCS_PSS): a hash or a DigestInfo, never more. */
#define P11_RAW_INPUT_MAX 1024
/* Largest signature or RSA block (RSA 8192). */
#define P11_SIG_MAX 1024
/* Mechanisms a slot can list. */
#define P11_MAX_MECHS 40

#define P11_MANUFACTURER "Parsec"
#define P11_LIBRARY_DESCRIPTION "Parsec PKCS#11 module"

/* ---- slots, keys, sessions ------------------------------------------------------------------ */

struct p11_slot {
    CK_SLOT_ID id; /* the provider id */
    struct parsec_client *client;
    char uuid[37];
    char vendor[64];
    uint32_t version_maj, version_min;
    int logged_in;
    int mechs_loaded;
    size_t n_mechs;
    CK_MECHANISM_TYPE mechs[P11_MAX_MECHS];
    CK_MECHANISM_INFO mech_info[P11_MAX_MECHS];
};

struct p11_key {
    char *name;
    uint32_t index; /* in the handle registry */
    struct parsec_key_attributes attr;
    int has_private; /* a key pair: both objects; a public key: the public object only */
    int pub_state;   /* 0 not fetched yet, 1 fetched, -1 the service refused */
    size_t pub_len;
    uint8_t pub[P11_PUBKEY_MAX];
};

enum p11_op_kind { OP_NONE = 0, OP_SIGN, OP_VERIFY, OP_ENCRYPT, OP_DECRYPT, OP_DIGEST, OP_COUNT };

/* One active operation of a session. */
struct p11_op {
    int active;
    CK_MECHANISM_TYPE mech;
    psa_algorithm_t alg;      /* the key's policy algorithm or the mechanism's */
    mbedtls_md_type_t md;     /* hash computed in the module, MBEDTLS_MD_NONE for none */
    mbedtls_md_context_t ctx; /* when md != NONE */
    int multi;                /* C_*Update seen: the single-part call is no longer allowed */
    char *key_name;
    size_t key_bits;
    psa_key_type_t key_type;
    size_t out_len; /* signature / block length */
    uint8_t *label; /* OAEP label */
    size_t label_len;
    size_t raw_len;
    uint8_t raw[P11_RAW_INPUT_MAX];
};

struct p11_session {
    CK_SESSION_HANDLE handle;
    struct p11_slot *slot;
    CK_FLAGS flags;
    pthread_mutex_t lock;
    int refs; /* under g_lock: calls running on it, plus one for being open */
    int keys_loaded;
    size_t n_keys;
    struct p11_key **keys;
    int finding;
    size_t n_found, found_pos;
    CK_OBJECT_HANDLE *found;
    struct p11_op ops[OP_COUNT];
};

/* ---- module.c ------------------------------------------------------------------------------- */

extern pthread_mutex_t g_lock;
/* CKR_OK and a held session (its lock taken), or an error. */
CK_RV p11_session_get(CK_SESSION_HANDLE h, struct p11_session **s);
void p11_session_put(struct p11_session *s);
/* Index of name in the handle registry (added if new). Takes g_lock. */
CK_RV p11_registry_index(CK_SLOT_ID slot, const char *name, uint32_t *index);
/* Copies a UTF-8 string into a blank-padded fixed field. */
void p11_pad(CK_UTF8CHAR *dst, size_t size, const char *src);
CK_RV p11_rv(int parsec_rc);

/* ---- objects.c ------------------------------------------------------------------------------ */

#define P11_HANDLE_PRIVATE(i) ((CK_OBJECT_HANDLE)(i)*2 + 1)
#define P11_HANDLE_PUBLIC(i) ((CK_OBJECT_HANDLE)(i)*2 + 2)

/* (Re)reads the caller's keys on the session's slot, keeping the public values already fetched
 * for keys that did not change. */
CK_RV p11_keys_refresh(struct p11_session *s);
/* The key and class of an object handle; loads the key list the first time. */
CK_RV p11_object_find(struct p11_session *s, CK_OBJECT_HANDLE h, struct p11_key **key,
                      CK_OBJECT_CLASS *cls);
/* Fetches the public value if not done yet. */
CK_RV p11_key_public(struct p11_session *s, struct p11_key *k);
void p11_keys_free(struct p11_session *s);
/* SHA-1 of the name: the stable CKA_ID. */
void p11_key_id(const char *name, uint8_t id[20]);
/* Bytes of an EC key's curve size, or the RSA modulus size. */
size_t p11_key_bytes(const struct p11_key *k);
int p11_key_is_rsa(const struct p11_key *k);
int p11_key_is_ec(const struct p11_key *k);

/* ---- crypto.c ------------------------------------------------------------------------------- */

void p11_op_reset(struct p11_op *op);
/* Loads the slot's mechanism list from ListOpcodes and CanDoCrypto (once). */
void p11_mechs_load(struct p11_slot *slot);
/* The mechanisms the key's policy permits (CKA_ALLOWED_MECHANISMS), at most P11_MAX_MECHS. */
size_t p11_allowed_mechs(const struct p11_key *k, CK_MECHANISM_TYPE *out);

#endif
