/* Key info managers: the persistent map from a key's identity to its back-end reference and
 * attributes (key-info-manager.md). Two stores sit behind this one interface, SQLite and the
 * legacy on-disk folder, both byte-compatible with the original service's files.
 *
 * Every function is safe to call from several threads. Every function returns 0 or a wire
 * status: PSC_PSA_DOES_NOT_EXIST (1140), PSC_PSA_ALREADY_EXISTS (1139),
 * PSC_KEY_INFO_MANAGER_ERROR (14) for a storage failure. A change is durable and atomic once
 * the call returns: a crash at any moment leaves either the old or the new mapping. */
#ifndef PARSEC_KIM_H
#define PARSEC_KIM_H

#include <stddef.h>
#include <stdint.h>

#include "psa/attrs.h"

struct psc_kim;
struct cfg_kim;

/* Longest application or key name a new mapping may have, in bytes. The on-disk store keeps
 * each name as a file name (base64 of at most 255 characters: 189 bytes); the SQLite store
 * keeps the same bound, so that no store holds names another cannot, and a listing of names
 * stays small. kim_insert and kim_exists refuse a longer name with PSC_KEY_INFO_MANAGER_ERROR
 * (14), the status the original on-disk store gives it; lookups and removals still reach
 * mappings an earlier version stored with longer names. */
#define KIM_NAME_MAX 189

/* Who owns a key, on which provider, under which name. */
struct kim_ident {
    const char *app;           /* application name ("parsec" for internal keys) */
    uint8_t auth;              /* authenticator id 0-4, or PSC_AUTH_INTERNAL (255) */
    uint8_t provider_id;       /* 1-5 */
    const char *provider_uuid; /* lowercase hyphenated */
    const char *provider_name; /* configured provider name */
    const char *key_name;
};

/* What a mapping holds: the provider's key id, exactly as stored (bincode of the provider's
 * id type, e.g. 4 bytes LE for a PSA key id), and the key's attributes. */
struct kim_info {
    uint8_t *id;
    size_t id_len;
    struct psc_attrs attrs;
};

/* One mapping as listed. All strings and id are owned by the entry. */
struct kim_entry {
    char *app;
    uint8_t auth;
    uint8_t provider_id;
    char *provider_uuid;
    char *provider_name;
    char *key_name;
    struct kim_info info;
};

/* Opens (creating if needed) the store a [[key_manager]] entry describes. default_auth is the
 * configured authenticator's type: the on-disk store does not record who authenticated an
 * application and attributes every key to it. Fails with a message in err. */
int kim_open(const struct cfg_kim *cfg, uint8_t default_auth, struct psc_kim **out, char *err,
             size_t err_len);
void kim_close(struct psc_kim *kim);

/* Looks a key up. On success info->id is malloc'd; release with kim_info_clear. */
int kim_get(struct psc_kim *kim, const struct kim_ident *who, struct kim_info *info);
/* Adds a mapping; PSC_PSA_ALREADY_EXISTS if the identity is taken (SQLite: the name is taken
 * by the application under any provider; on-disk: under the same provider id). */
int kim_insert(struct psc_kim *kim, const struct kim_ident *who, const struct kim_info *info);
/* Replaces an existing mapping's info; PSC_PSA_DOES_NOT_EXIST if there is none. */
int kim_replace(struct psc_kim *kim, const struct kim_ident *who, const struct kim_info *info);
/* Replaces a mapping's info only if it still names key id (id_len bytes, as stored);
 * otherwise, or if there is none, PSC_PSA_DOES_NOT_EXIST. For a caller that rewrites the
 * mapping it read earlier (kim_remove_if's reason). */
int kim_replace_if(struct psc_kim *kim, const struct kim_ident *who, const uint8_t *id,
                   size_t id_len, const struct kim_info *info);
/* Removes a mapping; PSC_PSA_DOES_NOT_EXIST if there is none. */
int kim_remove(struct psc_kim *kim, const struct kim_ident *who);
/* Removes a mapping only if it still names key id (id_len bytes, as stored); otherwise, or if
 * there is none, PSC_PSA_DOES_NOT_EXIST. For a caller that acted on the key it looked up
 * earlier: the name may have been given to another key since. */
int kim_remove_if(struct psc_kim *kim, const struct kim_ident *who, const uint8_t *id,
                  size_t id_len);
/* Whether the name is taken for this application (same scope as kim_insert's check). */
int kim_exists(struct psc_kim *kim, const struct kim_ident *who, int *exists);

/* Lists the mappings of one provider (matched on uuid and name for SQLite, on provider id for
 * on-disk). If app is not NULL only that application's keys are listed (SQLite: same name and
 * auth; on-disk: same name). Internal keys are listed only when app names them. The array and
 * its entries are malloc'd; release with kim_entries_free. */
int kim_list(struct psc_kim *kim, uint8_t provider_id, const char *provider_uuid,
             const char *provider_name, const char *app, uint8_t auth, struct kim_entry **out,
             size_t *n);
/* Every mapping in the store, of any provider, internal ones included. */
int kim_list_all(struct psc_kim *kim, struct kim_entry **out, size_t *n);

void kim_info_clear(struct kim_info *info);
void kim_entries_free(struct kim_entry *e, size_t n);

#endif
