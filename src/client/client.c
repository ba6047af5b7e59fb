/* Client creation (discovery and bootstrap, parsec-tool-and-clients.md §5.1-5.3) and
 * settings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/client_int.h"
#include "common/utf8.h"

#define CL_KNOWN_FLAGS (PARSEC_CLIENT_NAKED | PARSEC_CLIENT_SET_PROVIDER | PARSEC_CLIENT_SET_AUTH)

static void lock(const struct parsec_client *c)
{
    pthread_mutex_lock((pthread_mutex_t *)&c->lock);
}

static void unlock(const struct parsec_client *c)
{
    pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
}

static int check_app_name(const char *name)
{
    if (!name)
        return 0;
    size_t n = strnlen(name, PARSEC_KEY_NAME_MAX + 1);
    return (n == 0 || n > PARSEC_KEY_NAME_MAX) ? PARSEC_ERROR_INVALID_ARGUMENT : 0;
}

static int check_config(const struct parsec_client_config *cfg)
{
    if (cfg->flags & ~CL_KNOWN_FLAGS)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    if ((cfg->flags & PARSEC_CLIENT_SET_PROVIDER) && (cfg->provider < 0 || cfg->provider > 255))
        return PARSEC_ERROR_INVALID_ARGUMENT;
    if (cfg->flags & PARSEC_CLIENT_SET_AUTH) {
        switch (cfg->auth_type) {
        case PARSEC_AUTH_NONE:
        case PARSEC_AUTH_UNIX_PEER_CREDENTIALS:
            break;
        case PARSEC_AUTH_DIRECT:
            if (!cfg->app_name)
                return PARSEC_ERROR_MISSING_PARAM;
            break;
        case PARSEC_AUTH_JWT_SVID: {
            const char *e;
            int rc = cl_spiffe_endpoint(&e);
            if (rc != 0)
                return rc;
            break;
        }
        case PARSEC_AUTH_JWT:
            return PARSEC_ERROR_NOT_SUPPORTED;
        default:
            return PARSEC_ERROR_INVALID_ARGUMENT;
        }
    }
    return check_app_name(cfg->app_name);
}

/* The endpoint in force: the configuration's, the environment's (if it is valid UTF-8, as the
 * original ignores a non-Unicode value), or the default. */
static const char *endpoint_of(const struct parsec_client_config *cfg)
{
    if (cfg->endpoint)
        return cfg->endpoint;
    const char *env = getenv(PARSEC_ENDPOINT_ENV);
    if (env && utf8_valid((const uint8_t *)env, strlen(env)))
        return env;
    return PARSEC_DEFAULT_ENDPOINT;
}

static int check_socket(const char *path)
{
    struct stat st;
    if (strlen(path) > CL_SOCKET_PATH_MAX || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return PARSEC_ERROR_INVALID_SOCKET_ADDRESS;
    return 0;
}

/* The implicit provider: the first entry of ListProviders. */
static int bootstrap_provider(struct parsec_client *c)
{
    struct parsec_provider_info *p = NULL;
    size_t n = 0;
    int rc = parsec_list_providers(c, &p, &n);
    if (rc == 0 && n == 0)
        rc = PARSEC_ERROR_NO_PROVIDER;
    if (rc == 0)
        c->provider = p[0].id;
    parsec_provider_info_free(p, n);
    return rc;
}

/* The first authenticator the client supports, in the service's order. Direct without an
 * application name is an error at once, as in the original, not a reason to look further.
 * JWT-SVID without a Workload API socket is passed over (this process is no SPIFFE workload),
 * and named in the error if nothing else fits. */
static int bootstrap_auth(struct parsec_client *c)
{
    struct parsec_authenticator_info *a = NULL;
    size_t n = 0;
    int rc = parsec_list_authenticators(c, &a, &n);
    if (rc != 0)
        goto out;
    rc = PARSEC_ERROR_NO_AUTHENTICATOR;
    for (size_t i = 0; i < n; i++) {
        if (a[i].id == PARSEC_AUTH_DIRECT) {
            rc = c->app_name ? 0 : PARSEC_ERROR_MISSING_PARAM;
        } else if (a[i].id == PARSEC_AUTH_UNIX_PEER_CREDENTIALS) {
            rc = 0;
        } else if (a[i].id == PARSEC_AUTH_JWT_SVID) {
            const char *e;
            int r = cl_spiffe_endpoint(&e);
            if (r != 0) {
                if (r == PARSEC_ERROR_SPIFFE_SOCKET)
                    rc = r;
                continue;
            }
            rc = 0;
        } else {
            continue; /* None, JWT: not supported by this library */
        }
        if (rc == 0)
            c->auth_type = a[i].id;
        break;
    }
out:
    parsec_authenticator_info_free(a, n);
    return rc;
}

int parsec_client_new(struct parsec_client **client, const struct parsec_client_config *cfg)
{
    static const struct parsec_client_config defaults;
    struct parsec_client *c = NULL;
    int rc;

    if (!client)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *client = NULL;
    if (!cfg)
        cfg = &defaults;
    if ((rc = check_config(cfg)) != 0)
        return rc;
    if (!(c = calloc(1, sizeof(*c))))
        return PARSEC_ERROR_NO_MEMORY;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return PARSEC_ERROR_NO_MEMORY;
    }
    c->provider = PARSEC_PROVIDER_CORE;
    c->auth_type = PARSEC_AUTH_NONE;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : PARSEC_DEFAULT_TIMEOUT_MS;
    c->max_body = cfg->max_body_size ? cfg->max_body_size : PARSEC_DEFAULT_MAX_BODY_SIZE;
    if (cfg->app_name && !(c->app_name = strdup(cfg->app_name))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    if ((rc = cl_endpoint_path(endpoint_of(cfg), &c->socket_path)) != 0)
        goto out;
    if ((rc = check_socket(c->socket_path)) != 0)
        goto out;

    /* Providers first, then authenticators, both sent without authentication. */
    if (cfg->flags & PARSEC_CLIENT_SET_PROVIDER)
        c->provider = cfg->provider;
    else if (!(cfg->flags & PARSEC_CLIENT_NAKED) && (rc = bootstrap_provider(c)) != 0)
        goto out;
    if (cfg->flags & PARSEC_CLIENT_SET_AUTH)
        c->auth_type = cfg->auth_type;
    else if (!(cfg->flags & PARSEC_CLIENT_NAKED) && (rc = bootstrap_auth(c)) != 0)
        goto out;
out:
    if (rc != 0) {
        int e = errno;
        parsec_client_free(c);
        errno = e;
        return rc;
    }
    *client = c;
    return 0;
}

void parsec_client_free(struct parsec_client *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->socket_path);
    if (c->app_name) {
        cl_wipe(c->app_name, strlen(c->app_name));
        free(c->app_name);
    }
    free(c);
}

int parsec_client_set_provider(struct parsec_client *c, int provider)
{
    if (!c || provider < 0 || provider > 255)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    lock(c);
    c->provider = provider;
    unlock(c);
    return 0;
}

int parsec_client_provider(const struct parsec_client *c)
{
    if (!c)
        return PARSEC_PROVIDER_CORE;
    lock(c);
    int p = c->provider;
    unlock(c);
    return p;
}

static int set_auth(struct parsec_client *c, int type, const char *app_name)
{
    char *copy = NULL;
    if (!c)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    if (app_name && !(copy = strdup(app_name)))
        return PARSEC_ERROR_NO_MEMORY;
    lock(c);
    c->auth_type = type;
    if (copy) {
        char *old = c->app_name;
        c->app_name = copy;
        copy = old;
    }
    unlock(c);
    if (copy) {
        cl_wipe(copy, strlen(copy));
        free(copy);
    }
    return 0;
}

int parsec_client_set_auth_direct(struct parsec_client *c, const char *app_name)
{
    if (!app_name || check_app_name(app_name) != 0)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    return set_auth(c, PARSEC_AUTH_DIRECT, app_name);
}

int parsec_client_set_auth_unix_peer(struct parsec_client *c)
{
    return set_auth(c, PARSEC_AUTH_UNIX_PEER_CREDENTIALS, NULL);
}

int parsec_client_set_auth_jwt_svid(struct parsec_client *c)
{
    const char *e;
    int rc = cl_spiffe_endpoint(&e);
    return rc != 0 ? rc : set_auth(c, PARSEC_AUTH_JWT_SVID, NULL);
}

int parsec_client_set_auth_none(struct parsec_client *c)
{
    return set_auth(c, PARSEC_AUTH_NONE, NULL);
}

int parsec_client_auth_type(const struct parsec_client *c)
{
    if (!c)
        return PARSEC_AUTH_NONE;
    lock(c);
    int t = c->auth_type;
    unlock(c);
    return t;
}

int parsec_client_set_timeout(struct parsec_client *c, uint64_t timeout_ms)
{
    if (!c)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    lock(c);
    c->timeout_ms = timeout_ms ? timeout_ms : PARSEC_DEFAULT_TIMEOUT_MS;
    unlock(c);
    return 0;
}

int parsec_client_set_max_body_size(struct parsec_client *c, size_t max)
{
    if (!c)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    lock(c);
    c->max_body = max ? max : PARSEC_DEFAULT_MAX_BODY_SIZE;
    unlock(c);
    return 0;
}

const char *parsec_client_socket_path(const struct parsec_client *c)
{
    return c ? c->socket_path : NULL;
}
