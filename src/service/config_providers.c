/* [[provider]] sections (service-config.md §8): common keys, then the options of each provider
 * type. Every type is parsed, even those this build does not implement, so that such a
 * provider is reported by the service as not compiled in rather than as a bad file. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "service/config_priv.h"

#include <stdlib.h>
#include <string.h>

#include "wire/opcode.h"

static const char *const common_keys[] = {"provider_type", "name", "key_info_manager", NULL};
/* Each type's own keys, written once: the union of them tells "valid for another type" from
 * "unknown". */
#define MBED_KEYS "key_store_path"
#define PKCS11_KEYS                                                                                \
    "library_path", "serial_number", "slot_number", "user_pin", "software_public_operations",      \
        "allow_export", "token_label", "user_pin_file", "user_pin_env"
#define TPM_KEYS "tcti", "owner_hierarchy_auth", "endorsement_hierarchy_auth", "skip_if_no_tpm"
#define CAL_KEYS                                                                                   \
    "iface_type", "device_type", "wake_delay", "rx_retries", "slave_address", "bus", "baud",       \
        "access_key_file_name"
static const char *const mbed_keys[] = {MBED_KEYS, NULL};
static const char *const pkcs11_keys[] = {PKCS11_KEYS, NULL};
static const char *const tpm_keys[] = {TPM_KEYS, NULL};
static const char *const cal_keys[] = {CAL_KEYS, NULL};
static const char *const ts_keys[] = {NULL};
static const char *const all_keys[] = {MBED_KEYS, PKCS11_KEYS, TPM_KEYS, CAL_KEYS, NULL};

static int parse_mbed(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_provider *p)
{
    return cfg_get_str(c, t, "key_store_path", &p->key_store_path) < 0 ? -1 : 0;
}

static int parse_pkcs11(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_provider *p)
{
    int r;
    if (cfg_need_str(c, t, "library_path", "provider", &p->library_path) < 0 ||
        cfg_get_str(c, t, "serial_number", &p->serial_number) < 0 ||
        (r = cfg_get_u64(c, t, "slot_number", &p->slot_number)) < 0 ||
        cfg_get_str(c, t, "user_pin", &p->user_pin) < 0 ||
        cfg_get_str(c, t, "token_label", &p->token_label) < 0 ||
        cfg_get_str(c, t, "user_pin_file", &p->user_pin_file) < 0 ||
        cfg_get_str(c, t, "user_pin_env", &p->user_pin_env) < 0 ||
        cfg_get_bool(c, t, "software_public_operations", &p->software_public_operations) < 0 ||
        cfg_get_bool(c, t, "allow_export", &p->allow_export) < 0)
        return -1;
    p->has_slot_number = r;
    /* One source of PIN: two would leave the reader guessing which one is used. */
    if (!!p->user_pin + !!p->user_pin_file + !!p->user_pin_env > 1)
        return cfg_fail(c, toml_line(t),
                        "a Pkcs11 provider takes only one of 'user_pin', 'user_pin_file' and "
                        "'user_pin_env'");
    return 0;
}

static int parse_tpm(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_provider *p)
{
    if (cfg_need_str(c, t, "tcti", "provider", &p->tcti) < 0 ||
        cfg_need_str(c, t, "owner_hierarchy_auth", "provider", &p->owner_hierarchy_auth) < 0 ||
        cfg_get_str(c, t, "endorsement_hierarchy_auth", &p->endorsement_hierarchy_auth) < 0 ||
        cfg_get_bool(c, t, "skip_if_no_tpm", &p->skip_if_no_tpm) < 0)
        return -1;
    return 0;
}

/* The i2c options are required only by the i2c interface, which the provider checks when it
 * starts, as the original does; here they only need their Rust integer types' ranges. */
static int parse_cal(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_provider *p)
{
    if (cfg_need_str(c, t, "iface_type", "provider", &p->iface_type) < 0 ||
        cfg_need_str(c, t, "device_type", "provider", &p->device_type) < 0 ||
        cfg_get_int(c, t, "wake_delay", 0, UINT16_MAX, &p->wake_delay) < 0 ||
        cfg_get_int(c, t, "rx_retries", INT32_MIN, INT32_MAX, &p->rx_retries) < 0 ||
        cfg_get_int(c, t, "slave_address", 0, UINT8_MAX, &p->slave_address) < 0 ||
        cfg_get_int(c, t, "bus", 0, UINT8_MAX, &p->bus) < 0 ||
        cfg_get_int(c, t, "baud", 0, UINT32_MAX, &p->baud) < 0 ||
        cfg_get_str(c, t, "access_key_file_name", &p->access_key_file_name) < 0)
        return -1;
    return 0;
}

static int parse_ts(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_provider *p)
{
    (void)c, (void)t, (void)p;
    return 0;
}

static const struct provider_kind {
    const char *type;
    uint8_t id;
    const char *default_name;
    const char *what; /* for "not used by ..." warnings */
    const char *const *keys;
    int (*parse)(const struct cfg_ctx *, const struct toml_value *, struct cfg_provider *);
} kinds[] = {
    {"MbedCrypto", PSC_PROVIDER_MBED_CRYPTO, "mbed-crypto-provider", "a MbedCrypto provider",
     mbed_keys, parse_mbed},
    {"Pkcs11", PSC_PROVIDER_PKCS11, "pkcs11-provider", "a Pkcs11 provider", pkcs11_keys,
     parse_pkcs11},
    {"Tpm", PSC_PROVIDER_TPM, "tpm-provider", "a Tpm provider", tpm_keys, parse_tpm},
    {"CryptoAuthLib", PSC_PROVIDER_CRYPTOAUTHLIB, "cryptoauthlib-provider",
     "a CryptoAuthLib provider", cal_keys, parse_cal},
    {"TrustedService", PSC_PROVIDER_TRUSTED_SERVICE, "trusted-service-provider",
     "a TrustedService provider", ts_keys, parse_ts},
};

void cfg_provider_free(struct cfg_provider *p)
{
    char *secrets[] = {p->user_pin, p->owner_hierarchy_auth, p->endorsement_hierarchy_auth};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (secrets[i])
            explicit_bzero(secrets[i], strlen(secrets[i]));
    char *all[] = {p->provider_type,
                   p->name,
                   p->key_info_manager,
                   p->key_store_path,
                   p->library_path,
                   p->serial_number,
                   p->user_pin,
                   p->token_label,
                   p->user_pin_file,
                   p->user_pin_env,
                   p->tcti,
                   p->owner_hierarchy_auth,
                   p->endorsement_hierarchy_auth,
                   p->iface_type,
                   p->device_type,
                   p->access_key_file_name};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    memset(p, 0, sizeof(*p));
}

static const struct provider_kind *find_kind(const char *type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

static int check_kim_declared(const struct cfg_ctx *c, const struct toml_value *t,
                              const struct config *cfg, const struct cfg_provider *p)
{
    for (size_t i = 0; i < cfg->n_kims; i++)
        if (strcmp(cfg->kims[i].name, p->key_info_manager) == 0)
            return 0;
    return cfg_fail(c, toml_get_line(t, "key_info_manager"),
                    "provider '%s' uses key manager '%s', which no [[key_manager]] declares",
                    p->name, p->key_info_manager);
}

static int parse_provider(const struct cfg_ctx *c, const struct toml_value *t,
                          const struct config *cfg, struct cfg_provider *p)
{
    const struct provider_kind *k;
    p->allow_export = 1;
    p->wake_delay = p->rx_retries = p->slave_address = p->bus = p->baud = -1;
    if (cfg_need_str(c, t, "provider_type", "provider", &p->provider_type) < 0)
        return -1;
    if (!(k = find_kind(p->provider_type)))
        return cfg_fail(c, toml_get_line(t, "provider_type"),
                        "'provider_type' must be one of MbedCrypto, Pkcs11, Tpm, CryptoAuthLib, "
                        "TrustedService, not \"%s\"",
                        p->provider_type);
    p->id = k->id;
    if (cfg_str_or(c, t, "name", k->default_name, &p->name) < 0 ||
        cfg_need_str(c, t, "key_info_manager", "provider", &p->key_info_manager) < 0 ||
        check_kim_declared(c, t, cfg, p) < 0 || k->parse(c, t, p) < 0)
        return -1;
    cfg_check_keys(c, t, "provider", common_keys, k->keys, all_keys, k->what);
    return 0;
}

/* Provider names identify keys in the mappings: two providers may not share one. */
static int check_unique_name(const struct cfg_ctx *c, const struct toml_value *t,
                             const struct config *cfg)
{
    const struct cfg_provider *last = &cfg->providers[cfg->n_providers - 1];
    for (size_t i = 0; i + 1 < cfg->n_providers; i++)
        if (strcmp(cfg->providers[i].name, last->name) == 0) {
            int line = toml_get_line(t, "name");
            return cfg_fail(c, line ? line : toml_line(t), "duplicate provider names found: '%s'",
                            last->name);
        }
    return 0;
}

int cfg_parse_providers(const struct cfg_ctx *c, const struct toml_value *root, struct config *cfg)
{
    const struct toml_value *a;
    if (cfg_array_of_tables(c, root, "provider", &a) < 0)
        return -1;
    size_t n = toml_array_len(a);
    if (n == 0)
        return 0;
    if (!(cfg->providers = calloc(n, sizeof(*cfg->providers))))
        return cfg_fail(c, toml_line(a), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct toml_value *t = toml_array_at(a, i);
        /* Counted before parsing so that config_free releases a half-filled entry. */
        if (parse_provider(c, t, cfg, &cfg->providers[cfg->n_providers++]) < 0 ||
            check_unique_name(c, t, cfg) < 0)
            return -1;
    }
    return 0;
}
