/* Process-wide state of the PSA front: one client, the volatile keys, status mapping, and the
 * key id <-> name mapping documented in parsec/psa.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psa_int.h"

/* Volatile keys one process may hold at once. */
#define FR_VOLATILE_MAX 4096

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct parsec_client *g_client;
static psa_key_id_t *g_volatile;
static size_t g_nvolatile;
static int g_atexit_done;

psa_status_t parsec_psa_status(int err)
{
    if (err == PARSEC_SUCCESS)
        return PSA_SUCCESS;
    if (err > 1000 && err < 2000)
        return (psa_status_t)(1000 - err);
    switch (err) {
    case PARSEC_ERROR_BUFFER_TOO_SMALL:
        return PSA_ERROR_BUFFER_TOO_SMALL;
    case PARSEC_ERROR_NOT_FOUND:
        return PSA_ERROR_INVALID_HANDLE;
    case PARSEC_ERROR_INVALID_ARGUMENT:
        return PSA_ERROR_INVALID_ARGUMENT;
    case PARSEC_ERROR_NO_MEMORY:
        return PSA_ERROR_INSUFFICIENT_MEMORY;
    case PARSEC_ERROR_ENCODING:
    case PARSEC_ERROR_DEPRECATED_PRIMITIVE:
    case PARSEC_ERROR_INVALID_PROVIDER:
    case PARSEC_ERROR_NOT_SUPPORTED:
        return PSA_ERROR_NOT_SUPPORTED;
    case PARSEC_ERROR_AUTHENTICATION_ERROR:
    case PARSEC_ERROR_AUTHENTICATOR_DOES_NOT_EXIST:
    case PARSEC_ERROR_AUTHENTICATOR_NOT_REGISTERED:
    case PARSEC_ERROR_NOT_AUTHENTICATED:
    case PARSEC_ERROR_ADMIN_OPERATION:
    case PARSEC_ERROR_SPIFFE_SOCKET: /* no identity to authenticate with */
        return PSA_ERROR_NOT_PERMITTED;
    case PARSEC_ERROR_SPIFFE: /* the Workload API did not answer */
        return PSA_ERROR_COMMUNICATION_FAILURE;
    case PARSEC_ERROR_CONNECTION_ERROR:
    case PARSEC_ERROR_TIMEOUT:
    case PARSEC_ERROR_CONNECT:
    case PARSEC_ERROR_INVALID_SOCKET_URL:
    case PARSEC_ERROR_INVALID_SOCKET_ADDRESS:
    case PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE:
        return PSA_ERROR_COMMUNICATION_FAILURE;
    default:
        break;
    }
    if (err > PARSEC_ERROR_CLIENT_BASE && err < PARSEC_ERROR_LOCAL_BASE)
        return PSA_ERROR_COMMUNICATION_FAILURE; /* malformed reply, I/O */
    return PSA_ERROR_GENERIC_ERROR;
}

psa_status_t fr_key_status(int err)
{
    psa_status_t st = parsec_psa_status(err);
    return st == PSA_ERROR_DOES_NOT_EXIST ? PSA_ERROR_INVALID_HANDLE : st;
}

/* ---- initialisation ---------------------------------------------------------------------- */

static void at_exit(void)
{
    mbedtls_psa_crypto_free();
}

psa_status_t parsec_psa_init(const struct parsec_client_config *cfg)
{
    struct parsec_client_config c = {0};
    psa_status_t st = PSA_SUCCESS;
    if (cfg)
        c = *cfg;
    if (!c.app_name) {
        const char *env = getenv(PARSEC_PSA_APP_NAME_ENV);
        c.app_name = env && *env ? env : PARSEC_PSA_DEFAULT_APP_NAME;
    }
    pthread_mutex_lock(&g_lock);
    if (!g_client) {
        st = parsec_psa_status(parsec_client_new(&g_client, &c));
        if (st == PSA_SUCCESS && !g_atexit_done)
            g_atexit_done = atexit(at_exit) == 0;
    }
    pthread_mutex_unlock(&g_lock);
    return st;
}

psa_status_t psa_crypto_init(void)
{
    return parsec_psa_init(NULL);
}

struct parsec_client *parsec_psa_client(void)
{
    pthread_mutex_lock(&g_lock);
    struct parsec_client *c = g_client;
    pthread_mutex_unlock(&g_lock);
    return c;
}

psa_status_t fr_client(struct parsec_client **c)
{
    *c = parsec_psa_client();
    return *c ? PSA_SUCCESS : PSA_ERROR_BAD_STATE;
}

void mbedtls_psa_crypto_free(void)
{
    pthread_mutex_lock(&g_lock);
    struct parsec_client *c = g_client;
    psa_key_id_t *v = g_volatile;
    size_t n = g_nvolatile;
    g_client = NULL;
    g_volatile = NULL;
    g_nvolatile = 0;
    pthread_mutex_unlock(&g_lock);
    for (size_t i = 0; c && i < n; i++) {
        char name[PARSEC_PSA_NAME_MAX];
        snprintf(name, sizeof(name), PARSEC_PSA_VOLATILE_PREFIX "%u", (unsigned)v[i]);
        (void)parsec_destroy_key(c, name);
    }
    free(v);
    parsec_client_free(c);
}

/* ---- volatile keys ----------------------------------------------------------------------- */

int fr_volatile_add(psa_key_id_t id)
{
    int rc = -1;
    pthread_mutex_lock(&g_lock);
    if (g_nvolatile < FR_VOLATILE_MAX) {
        psa_key_id_t *n = realloc(g_volatile, (g_nvolatile + 1) * sizeof(*n));
        if (n) {
            g_volatile = n;
            g_volatile[g_nvolatile++] = id;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

void fr_volatile_remove(psa_key_id_t id)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nvolatile; i++) {
        if (g_volatile[i] == id) {
            g_volatile[i] = g_volatile[--g_nvolatile];
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

int fr_volatile_has(psa_key_id_t id)
{
    int found = 0;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nvolatile && !found; i++)
        found = g_volatile[i] == id;
    pthread_mutex_unlock(&g_lock);
    return found;
}

/* ---- key ids and names ------------------------------------------------------------------- */

/* "<prefix><decimal>" with no leading zero and a value in [min, max]: the id, else 0. */
static psa_key_id_t prefixed_id(const char *name, const char *prefix, psa_key_id_t min,
                                psa_key_id_t max)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0)
        return 0;
    const char *d = name + pl;
    if (*d < '1' || *d > '9')
        return 0;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return 0;
        v = v * 10 + (uint64_t)(*d - '0');
        if (v > max)
            return 0;
    }
    return v >= min ? (psa_key_id_t)v : 0;
}

static psa_key_id_t hashed_id(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return PARSEC_PSA_NAMED_ID_MIN | (h & (PARSEC_PSA_NAMED_ID_MAX - PARSEC_PSA_NAMED_ID_MIN));
}

psa_status_t parsec_psa_key_id(const char *name, psa_key_id_t *id)
{
    if (!name || !*name || !id)
        return PSA_ERROR_INVALID_ARGUMENT;
    psa_key_id_t v =
        prefixed_id(name, PARSEC_PSA_KEY_PREFIX, PSA_KEY_ID_USER_MIN, PSA_KEY_ID_USER_MAX);
    if (!v)
        v = prefixed_id(name, PARSEC_PSA_VOLATILE_PREFIX, PARSEC_PSA_VOLATILE_ID_MIN,
                        PARSEC_PSA_VOLATILE_ID_MAX);
    *id = v ? v : hashed_id(name);
    return PSA_SUCCESS;
}

/* A key made elsewhere: the first ListKeys name that hashes to id. */
static psa_status_t find_named(struct parsec_client *c, psa_key_id_t id, char *name, size_t size)
{
    struct parsec_key_info *k = NULL;
    size_t n = 0;
    int rc = parsec_list_keys(c, &k, &n);
    if (rc != 0)
        return parsec_psa_status(rc);
    psa_status_t st = PSA_ERROR_INVALID_HANDLE;
    for (size_t i = 0; i < n; i++) {
        psa_key_id_t kid;
        if (parsec_psa_key_id(k[i].name, &kid) != PSA_SUCCESS || kid != id)
            continue;
        size_t len = strlen(k[i].name);
        if (len + 1 > size) {
            st = PSA_ERROR_BUFFER_TOO_SMALL;
        } else {
            memcpy(name, k[i].name, len + 1);
            st = PSA_SUCCESS;
        }
        break;
    }
    parsec_key_info_free(k, n);
    return st;
}

static psa_status_t name_of(struct parsec_client *c, psa_key_id_t id, char *name, size_t size)
{
    int n;
    if (id >= PSA_KEY_ID_USER_MIN && id <= PSA_KEY_ID_USER_MAX)
        n = snprintf(name, size, PARSEC_PSA_KEY_PREFIX "%u", (unsigned)id);
    else if (id >= PARSEC_PSA_VOLATILE_ID_MIN && id <= PARSEC_PSA_VOLATILE_ID_MAX)
        n = snprintf(name, size, PARSEC_PSA_VOLATILE_PREFIX "%u", (unsigned)id);
    else if (id >= PARSEC_PSA_NAMED_ID_MIN && id <= PARSEC_PSA_NAMED_ID_MAX)
        return find_named(c, id, name, size);
    else
        return PSA_ERROR_INVALID_HANDLE;
    return (n < 0 || (size_t)n >= size) ? PSA_ERROR_BUFFER_TOO_SMALL : PSA_SUCCESS;
}

psa_status_t fr_key(psa_key_id_t id, struct parsec_client **c, char name[FR_NAME_BUF])
{
    psa_status_t st = fr_client(c);
    return st == PSA_SUCCESS ? name_of(*c, id, name, FR_NAME_BUF) : st;
}

psa_status_t parsec_psa_key_name(psa_key_id_t id, char *name, size_t name_size)
{
    struct parsec_client *c = NULL;
    if (!name)
        return PSA_ERROR_INVALID_ARGUMENT;
    if (id >= PARSEC_PSA_NAMED_ID_MIN && id <= PARSEC_PSA_NAMED_ID_MAX) {
        psa_status_t st = fr_client(&c);
        if (st != PSA_SUCCESS)
            return st;
    }
    return name_of(c, id, name, name_size);
}
