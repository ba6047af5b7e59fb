#include <stddef.h>
#include <string.h>

#include "service/kim/kim.h"
#include "service/providers/mbed_crypto.h"
#include "service/providers/pkcs11.h"
#include "service/providers/provider.h"
#ifdef PARSEC_HAVE_TPM
#include "service/providers/tpm.h"
#endif

/* Provider types built into this service. */
static const struct psc_provider_type *const types[] = {
    &psc_mbed_crypto_provider,
    &psc_pkcs11_provider,
#ifdef PARSEC_HAVE_TPM
    &psc_tpm_provider,
#endif
};

const struct psc_provider_type *providers_find(const char *config_type)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i]->config_type, config_type) == 0)
            return types[i];
    return NULL;
}

const char *providers_built(void)
{
    return "MbedCrypto"
#ifdef PARSEC_HAVE_TPM
           ", Tpm"
#endif
        ;
}

void provider_ident(const struct psc_provider *p, const struct psc_app *app, const char *key_name,
                    struct kim_ident *out)
{
    out->app = app->name;
    out->auth = app->auth;
    out->provider_id = p->type->id;
    out->provider_uuid = p->type->uuid;
    out->provider_name = p->name;
    out->key_name = key_name;
}
