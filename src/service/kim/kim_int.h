/* What the two key info manager stores implement behind kim.h. kim.c owns the locking (one
 * writer or many readers per store) and argument checks; a store only sees well-formed
 * identities (non-NULL names) and never two writers at once. */
#ifndef PARSEC_KIM_INT_H
#define PARSEC_KIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "service/kim/kim.h"

/* Module name in log lines. */
#define KIM_LOG "kim"
/* Application name of the service's own keys. */
#define KIM_INTERNAL_APP "parsec"

/* Which mappings a listing wants: all of them, or one provider's (and optionally one
 * application's), see kim_list. */
struct kim_filter {
    int all;
    uint8_t provider_id;
    const char *provider_uuid;
    const char *provider_name;
    const char *app; /* NULL: every client application, internal keys excluded */
    uint8_t auth;
};

/* A growing array of entries. */
struct kim_list {
    struct kim_entry *e;
    size_t n, cap;
};

/* Appends an entry. The strings are copied; the id is moved out of info (which is left
 * cleared) whether or not the call succeeds. */
int kim_list_add(struct kim_list *l, const char *app, uint8_t auth, uint8_t provider_id,
                 const char *provider_uuid, const char *provider_name, const char *key_name,
                 struct kim_info *info);

struct kim_store_ops {
    int (*get)(void *st, const struct kim_ident *who, struct kim_info *info);
    int (*insert)(void *st, const struct kim_ident *who, const struct kim_info *info);
    int (*replace)(void *st, const struct kim_ident *who, const struct kim_info *info);
    int (*remove)(void *st, const struct kim_ident *who);
    int (*exists)(void *st, const struct kim_ident *who, int *exists);
    int (*list)(void *st, const struct kim_filter *f, struct kim_list *out);
    void (*close)(void *st);
};

extern const struct kim_store_ops kim_sqlite_ops;
extern const struct kim_store_ops kim_ondisk_ops;

/* Open a store; on failure write a message naming the file into err. */
int kim_sqlite_open(const char *db_path, void **st, char *err, size_t err_len);
int kim_ondisk_open(const char *root, uint8_t default_auth, void **st, char *err, size_t err_len);

/* The UUID of provider id 0-5 (wire-protocol.md §7), NULL for any other id. */
const char *kim_provider_uuid(uint8_t provider_id);
/* The provider id of a UUID, -1 if it names no known provider. */
int kim_provider_id_of_uuid(const char *uuid);

/* Whether s[0..len) can be a name: well-formed UTF-8 without NUL (names are C strings here). */
int kim_name_valid(const uint8_t *s, size_t len);

#endif
