/* A provider is a table: its identity and one handler per opcode it implements.
 *
 * ListProviders and ListOpcodes are derived from these tables. Handlers receive PSA-typed
 * arguments (service/op.h) and return 0 or a wire status (wire/status.h). A handler may be
 * called from several worker threads at once: a provider whose back-end is not thread-safe
 * serialises inside itself. */
#ifndef PARSEC_PROVIDER_H
#define PARSEC_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "service/config.h"
#include "service/op.h"
#include "wire/opcode.h"

struct psc_provider;
struct psc_kim;

typedef int (*psc_op_fn)(struct psc_provider *p, const struct psc_app *app,
                         const struct psc_args *a, struct psc_out *out);

/* Service-wide settings a provider needs (from [core_settings]). */
struct psc_provider_env {
    size_t buffer_size_limit;
    int allow_deprecated;
    int log_error_details;
};

struct psc_provider_type {
    uint8_t id;
    const char *uuid;
    const char *description;
    const char *vendor;
    uint32_t version_maj, version_min, version_rev;
    const char *config_type;     /* provider_type value in config.toml, e.g. "MbedCrypto" */
    const char *default_name;    /* e.g. "mbed-crypto-provider" */
    psc_op_fn ops[PSC_OP_LIMIT]; /* NULL: not implemented (PsaErrorNotSupported) */
    /* The provider runs one request at a time on its back-end (one TPM context): the server
     * lets its requests take at most all workers but one, so that a slow or hung back-end never
     * holds the requests of other providers (frontend_admit). */
    int serial;
    /* Builds an instance: opens the back-end and runs the start-up coherency pass over the
     * provider's mappings. kim may be shared with other providers. On failure writes a message
     * to err and returns -1; returns 1 (with a message in err) when the provider's device is
     * absent and the configuration lets the service start without it. */
    int (*create)(const struct cfg_provider *cfg, struct psc_kim *kim,
                  const struct psc_provider_env *env, struct psc_provider **out, char *err,
                  size_t err_len);
    void (*destroy)(struct psc_provider *p);
};

/* Common head of every provider instance; a provider embeds it first in its own struct. */
struct psc_provider {
    const struct psc_provider_type *type;
    _Atomic unsigned inside; /* requests admitted to a serial provider (frontend_admit) */
    char *name;              /* configured name */
    struct psc_kim *kim;
    struct psc_provider_env env;
};

/* Every provider type this build knows, in provider-id order, and a lookup by config name.
 * A type known to the config but not built here is reported by providers_find as NULL. */
const struct psc_provider_type *providers_find(const char *config_type);
/* The config names of the provider types built in, comma-separated, for messages. */
const char *providers_built(void);

/* The key identity of a key name for an application on a provider. */
struct kim_ident;
void provider_ident(const struct psc_provider *p, const struct psc_app *app, const char *key_name,
                    struct kim_ident *out);

#endif
