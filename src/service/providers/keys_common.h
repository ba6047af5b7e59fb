/* Steps every provider that maps a client's key name to a back-end key takes in the same order,
 * whatever the back-end: the look-up of the caller's key, the start-up coherency pass and the
 * removal of a mapping after its key was destroyed (key-info-manager.md §5).
 *
 * The order they keep: a key is created before its mapping and destroyed before it, so a crash
 * between the two steps leaves either an orphan back-end key (reported at start, never a usable
 * half key) or a mapping to nothing (removed by the next coherency pass). */
#ifndef PARSEC_PROVIDER_KEYS_COMMON_H
#define PARSEC_PROVIDER_KEYS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "service/kim/kim.h"
#include "service/providers/provider.h"

/* 0 for an authenticated caller, PSC_NOT_AUTHENTICATED otherwise. */
int keys_app_check(const struct psc_app *app);

/* The first checks of a GenerateKey or ImportKey request, in the order the original service makes
 * them: an authenticated caller, attributes, and a deprecated primitive, which a generation
 * refuses (PSC_DEPRECATED_PRIMITIVE) unless allow_deprecated is set and an import only warns of.
 * Returns 0 or the status for the client. */
int keys_create_check(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                      int is_import, const char *mod);

/* With log_error_details, the failure of an operation on the key a names (its name escaped). */
void keys_log_op_error(struct psc_provider *p, const struct psc_args *a, int rc, const char *mod);

/* The mapping of the caller's key. Keys live in the caller's namespace: another application's
 * key of the same name is not found. On success release info with kim_info_clear. */
int keys_lookup(struct psc_provider *p, const struct psc_app *app, const char *name,
                struct kim_info *info);

/* keys_lookup of a key whose mapping holds a u32 id (below): its id, and its attributes as the
 * mapping keeps them when attrs is not NULL. */
int keys_lookup_id(struct psc_provider *p, const struct psc_app *app, const char *name,
                   uint32_t *id, struct psc_attrs *attrs);

/* What a probe says of the back-end key a mapping names. */
enum keys_probe {
    KEYS_PRESENT = 0, /* the key is there: the mapping stays */
    KEYS_ABSENT = 1,  /* the key is gone: the mapping is removed */
    KEYS_NO_ID = 2,   /* the id does not name a key of the back-end: the mapping is removed */
    KEYS_FAILED = -1  /* the back-end cannot tell: the start fails (err says why) */
};
typedef enum keys_probe (*keys_probe_fn)(void *ctx, const struct kim_entry *e, char *err,
                                         size_t err_len);

/* The start-up coherency pass over the provider's mappings: each one is probed, and those whose
 * key is absent are removed. Returns 0, or -1 with a message in err. */
int keys_coherency_pass(struct psc_provider *p, keys_probe_fn probe, void *ctx, const char *mod,
                        char *err, size_t err_len);

/* The second step of a destroy, once the back-end key with this id (as stored in the mapping)
 * is destroyed, or was found gone (gone != 0). Only the mapping that still names this id is
 * removed: a concurrent destroy and create may have given the name to another key since the
 * look-up. Returns the status for the client: 0, PSC_PSA_DOES_NOT_EXIST when the key was gone,
 * or the store's error. */
int keys_unmap_destroyed(struct psc_provider *p, const struct psc_app *app, const char *name,
                         const uint8_t *id, size_t id_len, int gone, const char *mod);

/* A key id stored as the mappings of Mbed Crypto, PKCS#11 and Trusted Service keys hold it: a
 * u32, 4 bytes little-endian (key-info-manager.md §4). Decoding fails with
 * PSC_KEY_INFO_MANAGER_ERROR for a mapping whose id is not 4 bytes. */
#define KEYS_ID_U32_LEN 4
void keys_id_to_le(uint32_t id, uint8_t b[KEYS_ID_U32_LEN]);
int keys_id_from_info(const struct kim_info *info, uint32_t *id);

/* An operation's output buffer of cap bytes, zeroed (PSC_PSA_INSUFFICIENT_MEMORY if it cannot
 * be had). keys_out_finish ends it: on failure (rc != 0) it is wiped and freed, on success the
 * bytes past out->len are wiped, so that no secret is left in freed memory or beyond the
 * length the service wipes after the reply. Returns rc. */
int keys_out_alloc(struct psc_out *out, size_t cap);
int keys_out_finish(struct psc_out *out, size_t cap, int rc);

#endif
