/* One built configuration of the service: authenticator, key stores and providers. It is
 * immutable while it serves requests; a reload builds a new one and swaps it in. */
#ifndef PARSEC_SERVICE_H
#define PARSEC_SERVICE_H

#include <stddef.h>

#include "service/config.h"
#include "service/providers/provider.h"
#include "wire/opcode.h"

struct psc_kim;
struct psc_auth;

struct psc_service {
    struct config cfg;
    struct psc_kim **kims; /* parallel to cfg.kims */
    /* Active authenticators: by auth type (NULL when not configured), and in configuration
     * order ([authenticator] first), the order ListAuthenticators reports. */
    struct psc_auth *auth_by_type[PSC_AUTH_TYPE_MAX + 1];
    struct psc_auth *auths[PSC_AUTH_TYPE_MAX];
    size_t n_auths;
    /* Instantiated crypto providers in configuration order (ListProviders order). */
    struct psc_provider **providers;
    size_t n_providers;
    /* Which instance receives wire requests for a provider id: the last configured of its type,
     * as in the original service. NULL for an id with no instance; [0] is unused (core). */
    struct psc_provider *by_id[PSC_PROVIDER_ID_MAX + 1];
};

/* Builds a service from a configuration, taking ownership of *cfg (it is zeroed). On failure
 * writes a message to err; *cfg is freed either way. */
int service_build(struct config *cfg, struct psc_service **out, char *err, size_t err_len);
void service_free(struct psc_service *s);

#endif
