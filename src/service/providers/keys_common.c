#define _DEFAULT_SOURCE /* explicit_bzero */
#include "service/providers/keys_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "psa/convert.h"
#include "wire/opcode.h"
#include "wire/status.h"

int keys_app_check(const struct psc_app *app)
{
    return app && app->name ? 0 : PSC_NOT_AUTHENTICATED;
}

int keys_create_check(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                      int is_import, const char *mod)
{
    int rc = keys_app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    if (conv_attrs_deprecated(&a->attrs)) {
        log_warn(mod, "The key requested to %s is deprecated", is_import ? "import" : "generate");
        if (!is_import && !p->env.allow_deprecated)
            return PSC_DEPRECATED_PRIMITIVE;
    }
    return 0;
}

void keys_log_op_error(struct psc_provider *p, const struct psc_args *a, int rc, const char *mod)
{
    char kb[LOG_STR_BUF];
    if (rc != 0 && p->env.log_error_details)
        log_error(mod, "%s on key \"%s\" status: %d",
                  psc_opcode_name(a->opcode) ? psc_opcode_name(a->opcode) : "operation",
                  log_str(kb, a->key_name), rc);
}

int keys_lookup(struct psc_provider *p, const struct psc_app *app, const char *name,
                struct kim_info *info)
{
    int rc = keys_app_check(app);
    if (rc != 0)
        return rc;
    struct kim_ident who;
    provider_ident(p, app, name ? name : "", &who);
    rc = kim_get(p->kim, &who, info);
    if (rc != 0)
        kim_info_clear(info);
    return rc;
}

int keys_lookup_id(struct psc_provider *p, const struct psc_app *app, const char *name,
                   uint32_t *id, struct psc_attrs *attrs)
{
    struct kim_info info = {0};
    int rc = keys_lookup(p, app, name, &info);
    if (rc == 0)
        rc = keys_id_from_info(&info, id);
    if (rc == 0 && attrs)
        *attrs = info.attrs;
    kim_info_clear(&info);
    return rc;
}

int keys_coherency_pass(struct psc_provider *p, keys_probe_fn probe, void *ctx, const char *mod,
                        char *err, size_t err_len)
{
    struct kim_entry *e = NULL;
    size_t n = 0;
    int rc = kim_list(p->kim, p->type->id, p->type->uuid, p->name, NULL, 0, &e, &n);
    if (rc != 0) {
        snprintf(err, err_len, "cannot list the key mappings (status %d)", rc);
        return -1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        enum keys_probe pr = probe(ctx, &e[i], err, err_len);
        if (pr == KEYS_PRESENT)
            continue;
        if (pr != KEYS_ABSENT && pr != KEYS_NO_ID) {
            rc = -1;
            break;
        }
        struct kim_ident who = {
            .app = e[i].app,
            .auth = e[i].auth,
            .provider_id = e[i].provider_id,
            .provider_uuid = e[i].provider_uuid,
            .provider_name = e[i].provider_name,
            .key_name = e[i].key_name,
        };
        char kb[LOG_STR_BUF], ab[LOG_STR_BUF];
        log_warn(mod, "key \"%s\" of \"%s\" %s: its mapping is removed", log_str(kb, e[i].key_name),
                 log_str(ab, e[i].app),
                 pr == KEYS_NO_ID ? "has no valid key id" : "is not in the back-end");
        int r = kim_remove(p->kim, &who);
        if (r != 0 && r != PSC_PSA_DOES_NOT_EXIST) {
            snprintf(err, err_len, "cannot remove a stale key mapping (status %d)", r);
            rc = -1;
        }
    }
    kim_entries_free(e, n);
    return rc;
}

int keys_unmap_destroyed(struct psc_provider *p, const struct psc_app *app, const char *name,
                         const uint8_t *id, size_t id_len, int gone, const char *mod)
{
    struct kim_ident who;
    provider_ident(p, app, name ? name : "", &who);
    int rc = kim_remove_if(p->kim, &who, id, id_len);
    if (gone) {
        /* Destroyed by a concurrent request, or a mapping left by an interrupted destroy. */
        char kb[LOG_STR_BUF], ab[LOG_STR_BUF];
        if (rc == 0)
            log_warn(mod, "key \"%s\" of \"%s\" was not in the back-end: its mapping is removed",
                     log_str(kb, who.key_name), log_str(ab, who.app));
        return PSC_PSA_DOES_NOT_EXIST;
    }
    /* Removed meanwhile by a request that found the key gone: this one destroyed it. */
    return rc == PSC_PSA_DOES_NOT_EXIST ? 0 : rc;
}

void keys_id_to_le(uint32_t id, uint8_t b[KEYS_ID_U32_LEN])
{
    for (int i = 0; i < KEYS_ID_U32_LEN; i++)
        b[i] = (uint8_t)(id >> (8 * i));
}

int keys_id_from_info(const struct kim_info *info, uint32_t *id)
{
    if (!info->id || info->id_len != KEYS_ID_U32_LEN)
        return PSC_KEY_INFO_MANAGER_ERROR;
    *id = 0;
    for (int i = 0; i < KEYS_ID_U32_LEN; i++)
        *id |= (uint32_t)info->id[i] << (8 * i);
    return 0;
}

int keys_out_alloc(struct psc_out *out, size_t cap)
{
    out->len = 0;
    out->p = calloc(1, cap ? cap : 1);
    return out->p ? 0 : PSC_PSA_INSUFFICIENT_MEMORY;
}

int keys_out_finish(struct psc_out *out, size_t cap, int rc)
{
    if (!out->p)
        return rc;
    if (rc != 0) {
        explicit_bzero(out->p, cap ? cap : 1);
        free(out->p);
        out->p = NULL;
        out->len = 0;
    } else if (out->len < cap) {
        explicit_bzero(out->p + out->len, cap - out->len);
    }
    return rc;
}
