#define _POSIX_C_SOURCE 200809L
#include "service/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "service/auth/auth.h"
#include "service/kim/kim.h"

static const char *const MOD = "parsec::service";

/* Starts the configured providers in configuration order, each on its key manager. */
static int build_providers(struct psc_service *s, char *err, size_t err_len)
{
    struct config *cfg = &s->cfg;
    struct psc_provider_env env = {
        .buffer_size_limit = cfg->core.buffer_size_limit,
        .allow_deprecated = cfg->core.allow_deprecated,
        .log_error_details = cfg->core.log_error_details,
    };
    s->providers = calloc(cfg->n_providers ? cfg->n_providers : 1, sizeof(*s->providers));
    if (!s->providers) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->n_providers; i++) {
        const struct cfg_provider *pc = &cfg->providers[i];
        const struct psc_provider_type *t = providers_find(pc->provider_type);
        if (!t) {
            snprintf(err, err_len,
                     "provider \"%s\" of type %s is not compiled into this build (this build "
                     "provides: %s): change its provider_type or remove its [[provider]]",
                     pc->name, pc->provider_type, providers_built());
            return -1;
        }
        struct psc_kim *kim = NULL;
        for (size_t k = 0; k < cfg->n_kims; k++)
            if (strcmp(cfg->kims[k].name, pc->key_info_manager) == 0)
                kim = s->kims[k]; /* the last of equal names wins, as in the original */
        if (!kim) {
            snprintf(err, err_len, "provider \"%s\": key manager \"%s\" is not defined", pc->name,
                     pc->key_info_manager);
            return -1;
        }
        char perr[512] = "";
        struct psc_provider *p = NULL;
        int started = t->create(pc, kim, &env, &p, perr, sizeof(perr));
        if (started > 0) {
            /* A provider whose device is absent and that may be skipped (skip_if_no_tpm). */
            log_warn(MOD, "Provider \"%s\" is skipped: %s", pc->name, perr);
            continue;
        }
        if (started != 0) {
            snprintf(err, err_len, "provider \"%s\" failed to start: %s", pc->name, perr);
            return -1;
        }
        s->providers[s->n_providers++] = p;
        if (s->by_id[t->id])
            log_warn(MOD, "several providers of type %s: requests for provider id %u go to \"%s\"",
                     t->config_type, t->id, p->name);
        s->by_id[t->id] = p;
        log_info(MOD, "provider \"%s\" (%s) started", p->name, t->config_type);
    }
    if (s->n_providers == 0) {
        snprintf(err, err_len, "need one provider: the configuration starts none");
        return -1;
    }
    return 0;
}

/* [authenticator], then [[extra_authenticator]] in file order (the parser refused a type
 * configured twice). */
static int build_auths(struct psc_service *s, char *err, size_t err_len)
{
    for (size_t i = 0; i <= s->cfg.n_extra_auths; i++) {
        const struct cfg_authenticator *c =
            i == 0 ? &s->cfg.authenticator : &s->cfg.extra_auths[i - 1];
        struct psc_auth *a;
        if (c->type > PSC_AUTH_TYPE_MAX || s->auth_by_type[c->type] ||
            s->n_auths == PSC_AUTH_TYPE_MAX) {
            snprintf(err, err_len, "authenticator \"%s\" is configured twice", c->auth_type);
            return -1;
        }
        if (auth_new(c, s->cfg.core.thread_pool_size, &a, err, err_len) != 0)
            return -1;
        s->auth_by_type[c->type] = s->auths[s->n_auths++] = a;
        if (c->type == PSC_AUTH_DIRECT)
            log_warn(MOD, "the Direct authenticator trusts the name each client claims: use it "
                          "only with mutually trusted clients");
    }
    /* The on-disk store does not record who authenticated an application: with two
     * authenticators, the name "1000" of Direct and uid 1000 would share keys. */
    for (size_t k = 0; s->n_auths > 1 && k < s->cfg.n_kims; k++)
        if (s->cfg.kims[k].type == CFG_KIM_ON_DISK) {
            snprintf(err, err_len,
                     "key manager \"%s\": the OnDisk key info manager cannot keep the "
                     "applications of several authenticators apart; use SQLite",
                     s->cfg.kims[k].name);
            return -1;
        }
    return 0;
}

int service_build(struct config *cfg, struct psc_service **out, char *err, size_t err_len)
{
    *out = NULL;
    struct psc_service *s = calloc(1, sizeof(*s));
    if (!s) {
        config_free(cfg);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    if (build_auths(s, err, err_len) != 0)
        goto fail;
    s->kims = calloc(s->cfg.n_kims ? s->cfg.n_kims : 1, sizeof(*s->kims));
    if (!s->kims) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < s->cfg.n_kims; k++) {
        char kerr[512] = "";
        if (kim_open(&s->cfg.kims[k], s->cfg.authenticator.type, &s->kims[k], kerr,
                     sizeof(kerr)) != 0) {
            snprintf(err, err_len, "key manager \"%s\": %s", s->cfg.kims[k].name, kerr);
            goto fail;
        }
    }
    if (build_providers(s, err, err_len) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    service_free(s);
    return -1;
}

void service_free(struct psc_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_providers; i++)
        s->providers[i]->type->destroy(s->providers[i]);
    free(s->providers);
    for (size_t k = 0; s->kims && k < s->cfg.n_kims; k++)
        kim_close(s->kims[k]);
    free(s->kims);
    for (size_t i = 0; i < s->n_auths; i++)
        auth_free(s->auths[i]);
    config_free(&s->cfg);
    free(s);
}
