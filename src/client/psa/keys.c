/* PSA key management on Parsec keys. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "psa_int.h"

/* Tries at drawing a free volatile id before giving up. */
#define FR_VOLATILE_TRIES 16

/* Every usage flag the PSA Crypto API 1.1 defines (cache, 0x4, is not in Mbed TLS 2.28's
 * header); the Parsec wire protocol carries each of them. */
#define FR_USAGE_DEFINED                                                                           \
    (PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_COPY | 0x00000004u | PSA_KEY_USAGE_ENCRYPT |             \
     PSA_KEY_USAGE_DECRYPT | PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE |           \
     PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_DERIVE)

static psa_status_t to_parsec_attrs(const psa_key_attributes_t *a,
                                    struct parsec_key_attributes *out)
{
    /* Undefined usage bits are invalid attributes, as in Mbed TLS. */
    if ((psa_get_key_usage_flags(a) & ~(psa_key_usage_t)FR_USAGE_DEFINED) != 0)
        return PSA_ERROR_INVALID_ARGUMENT;
    /* Neither domain parameters nor Mbed TLS's enrollment algorithm (a second permitted
     * algorithm) have a place in the Parsec key attributes: dropping one would change the
     * key's policy. */
    if ((a->domain_parameters != NULL && a->domain_parameters_size != 0) ||
        psa_get_key_enrollment_algorithm(a) != PSA_ALG_NONE)
        return PSA_ERROR_NOT_SUPPORTED;
    out->type = psa_get_key_type(a);
    out->bits = psa_get_key_bits(a);
    out->usage = psa_get_key_usage_flags(a);
    out->alg = psa_get_key_algorithm(a);
    return PSA_SUCCESS;
}

static psa_key_id_t random_volatile_id(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint32_t)rand();
    return PARSEC_PSA_VOLATILE_ID_MIN |
           (r & (PARSEC_PSA_VOLATILE_ID_MAX - PARSEC_PSA_VOLATILE_ID_MIN));
}

/* Creates the key (generate when data is NULL, import otherwise) under the name the
 * attributes' lifetime and id call for. */
static psa_status_t create(const psa_key_attributes_t *attributes, const uint8_t *data,
                           size_t data_length, mbedtls_svc_key_id_t *key)
{
    struct parsec_client *c = NULL;
    struct parsec_key_attributes pa;
    char name[PARSEC_PSA_NAME_MAX];
    psa_status_t st;

    if (!attributes || !key)
        return PSA_ERROR_INVALID_ARGUMENT;
    *key = 0;
    if ((st = fr_client(&c)) != PSA_SUCCESS)
        return st;
    if ((st = to_parsec_attrs(attributes, &pa)) != PSA_SUCCESS)
        return st;
    psa_key_lifetime_t lifetime = psa_get_key_lifetime(attributes);
    if (PSA_KEY_LIFETIME_GET_LOCATION(lifetime) != PSA_KEY_LOCATION_LOCAL_STORAGE)
        return PSA_ERROR_NOT_SUPPORTED;
    psa_key_id_t id = psa_get_key_id(attributes);
    int is_volatile = PSA_KEY_LIFETIME_IS_VOLATILE(lifetime);
    if (is_volatile ? id != 0 : (id < PSA_KEY_ID_USER_MIN || id > PSA_KEY_ID_USER_MAX))
        return PSA_ERROR_INVALID_ARGUMENT;

    int rc = 0;
    for (int tries = 0; tries < (is_volatile ? FR_VOLATILE_TRIES : 1); tries++) {
        if (is_volatile) {
            id = random_volatile_id();
            snprintf(name, sizeof(name), PARSEC_PSA_VOLATILE_PREFIX "%u", (unsigned)id);
        } else {
            snprintf(name, sizeof(name), PARSEC_PSA_KEY_PREFIX "%u", (unsigned)id);
        }
        rc = data ? parsec_import_key(c, name, &pa, data, data_length)
                  : parsec_generate_key(c, name, &pa);
        if (rc != PARSEC_ERROR_PSA_ALREADY_EXISTS)
            break;
    }
    if (rc != 0)
        return parsec_psa_status(rc);
    if (is_volatile && fr_volatile_add(id) != 0) {
        (void)parsec_destroy_key(c, name);
        return PSA_ERROR_INSUFFICIENT_MEMORY;
    }
    *key = id;
    return PSA_SUCCESS;
}

psa_status_t psa_generate_key(const psa_key_attributes_t *attributes, mbedtls_svc_key_id_t *key)
{
    return create(attributes, NULL, 0, key);
}

psa_status_t psa_import_key(const psa_key_attributes_t *attributes, const uint8_t *data,
                            size_t data_length, mbedtls_svc_key_id_t *key)
{
    if (!data || data_length == 0)
        return PSA_ERROR_INVALID_ARGUMENT;
    return create(attributes, data, data_length, key);
}

psa_status_t psa_destroy_key(mbedtls_svc_key_id_t key)
{
    struct parsec_client *c = NULL;
    char name[FR_NAME_BUF];
    if (key == 0)
        return PSA_SUCCESS; /* the null key: nothing to do, as the API specifies */
    psa_status_t st = fr_key(key, &c, name);
    if (st == PSA_SUCCESS)
        st = fr_key_status(parsec_destroy_key(c, name));
    if (st == PSA_SUCCESS)
        fr_volatile_remove(key);
    return st;
}

static psa_status_t export(mbedtls_svc_key_id_t key, int public_only, uint8_t *data,
                           size_t data_size, size_t *data_length)
{
    struct parsec_client *c = NULL;
    char name[FR_NAME_BUF];
    if (!data_length)
        return PSA_ERROR_INVALID_ARGUMENT;
    *data_length = 0;
    psa_status_t st = fr_key(key, &c, name);
    if (st != PSA_SUCCESS)
        return st;
    size_t len = 0;
    int rc = public_only ? parsec_export_public_key(c, name, data, data_size, &len)
                         : parsec_export_key(c, name, data, data_size, &len);
    if (rc == 0)
        *data_length = len;
    return fr_key_status(rc);
}

psa_status_t psa_export_public_key(mbedtls_svc_key_id_t key, uint8_t *data, size_t data_size,
                                   size_t *data_length)
{
    return export(key, 1, data, data_size, data_length);
}

psa_status_t psa_export_key(mbedtls_svc_key_id_t key, uint8_t *data, size_t data_size,
                            size_t *data_length)
{
    return export(key, 0, data, data_size, data_length);
}

psa_status_t psa_get_key_attributes(mbedtls_svc_key_id_t key, psa_key_attributes_t *attributes)
{
    struct parsec_client *c = NULL;
    struct parsec_key_attributes pa;
    char name[FR_NAME_BUF];
    if (!attributes)
        return PSA_ERROR_INVALID_ARGUMENT;
    psa_reset_key_attributes(attributes);
    psa_status_t st = fr_key(key, &c, name);
    if (st == PSA_SUCCESS)
        st = fr_key_status(parsec_key_attributes(c, name, &pa, NULL));
    if (st != PSA_SUCCESS)
        return st;
    psa_set_key_id(attributes, key); /* also makes the lifetime persistent */
    if (fr_volatile_has(key))
        attributes->core.lifetime = PSA_KEY_LIFETIME_VOLATILE;
    psa_set_key_type(attributes, pa.type);
    psa_set_key_bits(attributes, pa.bits);
    psa_set_key_usage_flags(attributes, pa.usage);
    psa_set_key_algorithm(attributes, pa.alg);
    return PSA_SUCCESS;
}

void psa_reset_key_attributes(psa_key_attributes_t *attributes)
{
    if (!attributes)
        return;
    /* Domain parameters are never allocated by this library (see psa_set_key_domain_parameters)
     * so there is nothing to free. */
    *attributes = psa_key_attributes_init();
}

psa_status_t psa_set_key_domain_parameters(psa_key_attributes_t *attributes, psa_key_type_t type,
                                           const uint8_t *data, size_t data_length)
{
    if (!attributes)
        return PSA_ERROR_INVALID_ARGUMENT;
    if (data_length != 0)
        return PSA_ERROR_NOT_SUPPORTED;
    (void)data;
    attributes->domain_parameters = NULL;
    attributes->domain_parameters_size = 0;
    attributes->core.type = type;
    return PSA_SUCCESS;
}

psa_status_t psa_get_key_domain_parameters(const psa_key_attributes_t *attributes, uint8_t *data,
                                           size_t data_size, size_t *data_length)
{
    (void)data;
    (void)data_size;
    if (!attributes || !data_length)
        return PSA_ERROR_INVALID_ARGUMENT;
    *data_length = 0;
    return PSA_SUCCESS;
}

psa_status_t psa_open_key(mbedtls_svc_key_id_t key, psa_key_handle_t *handle)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    if (!handle)
        return PSA_ERROR_INVALID_ARGUMENT;
    *handle = 0;
    psa_status_t st = psa_get_key_attributes(key, &a);
    if (st == PSA_SUCCESS)
        *handle = key; /* a handle is the key id itself */
    return st;
}

psa_status_t psa_close_key(psa_key_handle_t handle)
{
    (void)handle;
    return PSA_SUCCESS;
}

psa_status_t psa_purge_key(mbedtls_svc_key_id_t key)
{
    /* Nothing is cached in this process. */
    (void)key;
    struct parsec_client *c = NULL;
    return fr_client(&c);
}

psa_status_t psa_copy_key(mbedtls_svc_key_id_t source_key, const psa_key_attributes_t *attributes,
                          mbedtls_svc_key_id_t *target_key)
{
    (void)source_key;
    (void)attributes;
    if (target_key)
        *target_key = 0;
    return PSA_ERROR_NOT_SUPPORTED;
}
