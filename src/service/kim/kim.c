/* The key info manager front: picks the store a [[key_manager]] entry names and makes every
 * call thread-safe. Readers (get, exists, list) share the store; writers (insert, replace,
 * remove) have it alone, so a store's check-then-write sequences need no locking of their
 * own against this process. */
#define _POSIX_C_SOURCE 200809L
#include "service/kim/kim.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/platform_util.h>

#include "common/log.h"
#include "common/utf8.h"
#include "service/config.h"
#include "service/kim/kim_int.h"
#include "wire/opcode.h"
#include "wire/status.h"

struct psc_kim {
    const struct kim_store_ops *ops;
    void *st;
    pthread_rwlock_t lock;
};

static const char *const provider_uuids[] = {
    "47049873-2a43-4845-9d72-831eab668784", /* core */
    "1c1139dc-ad7c-47dc-ad6b-db6fdb466552", /* Mbed Crypto */
    "30e39502-eba6-4d60-a4af-c518b7f5e38f", /* PKCS #11 */
    "1e4954a4-ff21-46d3-ab0c-661eeb667e1d", /* TPM */
    "71129441-508a-4da6-b6e8-7b98a777e4c0", /* Trusted Service */
    "b8ba81e2-e9f7-4bdd-b096-a29d0019960c", /* CryptoAuthLib */
};

const char *kim_provider_uuid(uint8_t provider_id)
{
    if (provider_id >= sizeof(provider_uuids) / sizeof(provider_uuids[0]))
        return NULL;
    return provider_uuids[provider_id];
}

int kim_provider_id_of_uuid(const char *uuid)
{
    for (size_t i = 0; i < sizeof(provider_uuids) / sizeof(provider_uuids[0]); i++)
        if (uuid != NULL && strcmp(uuid, provider_uuids[i]) == 0)
            return (int)i;
    return -1;
}

int kim_name_valid(const uint8_t *s, size_t len)
{
    return memchr(s, '\0', len) == NULL && utf8_valid(s, len);
}

int kim_list_add(struct kim_list *l, const char *app, uint8_t auth, uint8_t provider_id,
                 const char *provider_uuid, const char *provider_name, const char *key_name,
                 struct kim_info *info)
{
    struct kim_entry *e;
    int rc = PSC_PSA_INSUFFICIENT_MEMORY;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct kim_entry *grown;
        if (cap > SIZE_MAX / sizeof(*grown))
            goto out;
        grown = realloc(l->e, cap * sizeof(*grown));
        if (grown == NULL)
            goto out;
        l->e = grown;
        l->cap = cap;
    }
    e = &l->e[l->n];
    memset(e, 0, sizeof(*e));
    e->auth = auth;
    e->provider_id = provider_id;
    e->app = strdup(app);
    e->provider_uuid = strdup(provider_uuid);
    e->provider_name = strdup(provider_name);
    e->key_name = strdup(key_name);
    e->info = *info;
    memset(info, 0, sizeof(*info));
    l->n++;
    if (e->app == NULL || e->provider_uuid == NULL || e->provider_name == NULL ||
        e->key_name == NULL)
        goto out;
    rc = 0;
out:
    kim_info_clear(info);
    return rc;
}

int kim_open(const struct cfg_kim *cfg, uint8_t default_auth, struct psc_kim **out, char *err,
             size_t err_len)
{
    struct psc_kim *kim = NULL;
    int rc = PSC_KEY_INFO_MANAGER_ERROR;

    *out = NULL;
    if (err_len > 0)
        err[0] = '\0';
    kim = calloc(1, sizeof(*kim));
    if (kim == NULL) {
        snprintf(err, err_len, "out of memory");
        return PSC_PSA_INSUFFICIENT_MEMORY;
    }
    if (pthread_rwlock_init(&kim->lock, NULL) != 0) {
        snprintf(err, err_len, "cannot create the key info manager lock");
        free(kim);
        return rc;
    }
    switch (cfg->type) {
    case CFG_KIM_SQLITE:
        kim->ops = &kim_sqlite_ops;
        rc = cfg->sqlite_db_path == NULL
                 ? PSC_KEY_INFO_MANAGER_ERROR
                 : kim_sqlite_open(cfg->sqlite_db_path, &kim->st, err, err_len);
        break;
    case CFG_KIM_ON_DISK:
        kim->ops = &kim_ondisk_ops;
        rc = cfg->store_path == NULL
                 ? PSC_KEY_INFO_MANAGER_ERROR
                 : kim_ondisk_open(cfg->store_path, default_auth, &kim->st, err, err_len);
        break;
    default:
        snprintf(err, err_len, "key info manager \"%s\": unknown manager type",
                 cfg->name ? cfg->name : "");
        break;
    }
    if (rc != 0) {
        if (err_len > 0 && err[0] == '\0')
            snprintf(err, err_len, "key info manager \"%s\": no store path",
                     cfg->name ? cfg->name : "");
        pthread_rwlock_destroy(&kim->lock);
        free(kim);
        return rc;
    }
    *out = kim;
    return 0;
}

void kim_close(struct psc_kim *kim)
{
    if (kim == NULL)
        return;
    kim->ops->close(kim->st);
    pthread_rwlock_destroy(&kim->lock);
    free(kim);
}

static int ident_ok(const struct kim_ident *who)
{
    return who != NULL && who->app != NULL && who->key_name != NULL && who->provider_uuid != NULL &&
           who->provider_name != NULL &&
           (who->auth <= PSC_AUTH_TYPE_MAX || who->auth == PSC_AUTH_INTERNAL);
}

/* Internal key names are the service's own, and the on-disk store checks them with their
 * prefix. A refused name is logged (escaped and cut, whatever log_error_details says), as the
 * on-disk store always logged a name it could not hold. */
static int names_fit(const struct kim_ident *who)
{
    if (who->auth == PSC_AUTH_INTERNAL ||
        (strnlen(who->app, KIM_NAME_MAX + 1) <= KIM_NAME_MAX &&
         strnlen(who->key_name, KIM_NAME_MAX + 1) <= KIM_NAME_MAX))
        return 1;
    char ab[LOG_STR_BUF], kb[LOG_STR_BUF];
    log_error(KIM_LOG, "key \"%s\" of application \"%s\" refused: names are at most %d bytes",
              log_str(kb, who->key_name), log_str(ab, who->app), KIM_NAME_MAX);
    return 0;
}

static int info_ok(const struct kim_info *info)
{
    return info != NULL && (info->id != NULL || info->id_len == 0);
}

int kim_get(struct psc_kim *kim, const struct kim_ident *who, struct kim_info *info)
{
    int rc;

    if (info == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    memset(info, 0, sizeof(*info));
    if (kim == NULL || !ident_ok(who))
        return PSC_PSA_INVALID_ARGUMENT;
    pthread_rwlock_rdlock(&kim->lock);
    rc = kim->ops->get(kim->st, who, info);
    pthread_rwlock_unlock(&kim->lock);
    if (rc != 0)
        kim_info_clear(info);
    return rc;
}

int kim_insert(struct psc_kim *kim, const struct kim_ident *who, const struct kim_info *info)
{
    int rc;

    if (kim == NULL || !ident_ok(who) || !info_ok(info))
        return PSC_PSA_INVALID_ARGUMENT;
    if (!names_fit(who))
        return PSC_KEY_INFO_MANAGER_ERROR;
    pthread_rwlock_wrlock(&kim->lock);
    rc = kim->ops->insert(kim->st, who, info);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

int kim_replace(struct psc_kim *kim, const struct kim_ident *who, const struct kim_info *info)
{
    int rc;

    if (kim == NULL || !ident_ok(who) || !info_ok(info))
        return PSC_PSA_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&kim->lock);
    rc = kim->ops->replace(kim->st, who, info);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

/* The current mapping, if it still names key id, under the write lock. */
static int still_names(struct psc_kim *kim, const struct kim_ident *who, const uint8_t *id,
                       size_t id_len)
{
    struct kim_info cur = {0};
    int rc = kim->ops->get(kim->st, who, &cur);
    if (rc == 0 && (cur.id_len != id_len || memcmp(cur.id, id, id_len) != 0))
        rc = PSC_PSA_DOES_NOT_EXIST;
    kim_info_clear(&cur);
    return rc;
}

int kim_replace_if(struct psc_kim *kim, const struct kim_ident *who, const uint8_t *id,
                   size_t id_len, const struct kim_info *info)
{
    int rc;

    if (kim == NULL || !ident_ok(who) || id == NULL || !info_ok(info))
        return PSC_PSA_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&kim->lock);
    rc = still_names(kim, who, id, id_len);
    if (rc == 0)
        rc = kim->ops->replace(kim->st, who, info);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

int kim_remove(struct psc_kim *kim, const struct kim_ident *who)
{
    int rc;

    if (kim == NULL || !ident_ok(who))
        return PSC_PSA_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&kim->lock);
    rc = kim->ops->remove(kim->st, who);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

int kim_remove_if(struct psc_kim *kim, const struct kim_ident *who, const uint8_t *id,
                  size_t id_len)
{
    int rc;

    if (kim == NULL || !ident_ok(who) || id == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&kim->lock);
    rc = still_names(kim, who, id, id_len);
    if (rc == 0)
        rc = kim->ops->remove(kim->st, who);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

int kim_exists(struct psc_kim *kim, const struct kim_ident *who, int *exists)
{
    int rc;

    if (exists == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    *exists = 0;
    if (kim == NULL || !ident_ok(who))
        return PSC_PSA_INVALID_ARGUMENT;
    if (!names_fit(who))
        return PSC_KEY_INFO_MANAGER_ERROR;
    pthread_rwlock_rdlock(&kim->lock);
    rc = kim->ops->exists(kim->st, who, exists);
    pthread_rwlock_unlock(&kim->lock);
    return rc;
}

static int list(struct psc_kim *kim, const struct kim_filter *f, struct kim_entry **out, size_t *n)
{
    struct kim_list l = {0};
    int rc;

    pthread_rwlock_rdlock(&kim->lock);
    rc = kim->ops->list(kim->st, f, &l);
    pthread_rwlock_unlock(&kim->lock);
    if (rc != 0) {
        kim_entries_free(l.e, l.n);
        return rc;
    }
    *out = l.e;
    *n = l.n;
    return 0;
}

int kim_list(struct psc_kim *kim, uint8_t provider_id, const char *provider_uuid,
             const char *provider_name, const char *app, uint8_t auth, struct kim_entry **out,
             size_t *n)
{
    struct kim_filter f = {0, provider_id, provider_uuid, provider_name, app, auth};

    if (out == NULL || n == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    *out = NULL;
    *n = 0;
    if (kim == NULL || provider_uuid == NULL || provider_name == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    return list(kim, &f, out, n);
}

int kim_list_all(struct psc_kim *kim, struct kim_entry **out, size_t *n)
{
    struct kim_filter f = {.all = 1};

    if (out == NULL || n == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    *out = NULL;
    *n = 0;
    if (kim == NULL)
        return PSC_PSA_INVALID_ARGUMENT;
    return list(kim, &f, out, n);
}

void kim_info_clear(struct kim_info *info)
{
    if (info == NULL)
        return;
    /* A TPM key id holds the key's auth value and wrapped private part. */
    if (info->id != NULL) {
        mbedtls_platform_zeroize(info->id, info->id_len);
        free(info->id);
    }
    memset(info, 0, sizeof(*info));
}

void kim_entries_free(struct kim_entry *e, size_t n)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(e[i].app);
        free(e[i].provider_uuid);
        free(e[i].provider_name);
        free(e[i].key_name);
        kim_info_clear(&e[i].info);
    }
    free(e);
}
