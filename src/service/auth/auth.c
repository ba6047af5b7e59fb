#define _POSIX_C_SOURCE 200809L
#include "service/auth/auth.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/utf8.h"
#ifdef PARSEC_JWT_SVID
#include "common/spiffe.h"
#endif
#include "wire/opcode.h"
#include "wire/status.h"

struct psc_auth {
    const struct cfg_authenticator *cfg;
    /* JwtSvid: how many more workers may wait on the Workload API now. At most half the pool
     * (at least one) waits there, so a slow or silent Workload API leaves the other half to
     * every other request. */
    sem_t slots;
    int has_slots;
};

static int supported(uint8_t type)
{
#ifdef PARSEC_JWT_SVID
    if (type == PSC_AUTH_JWT_SVID)
        return 1;
#endif
    return type == PSC_AUTH_DIRECT || type == PSC_AUTH_UNIX_PEER_CREDENTIALS;
}

int auth_new(const struct cfg_authenticator *cfg, size_t workers, struct psc_auth **out, char *err,
             size_t err_len)
{
    *out = NULL;
    if (!supported(cfg->type)) {
        snprintf(err, err_len, "authenticator \"%s\" is not compiled into this build",
                 cfg->auth_type ? cfg->auth_type : "?");
        return -1;
    }
#ifdef PARSEC_JWT_SVID
    if (cfg->type == PSC_AUTH_JWT_SVID && !spiffe_endpoint_ok(cfg->workload_endpoint)) {
        snprintf(err, err_len,
                 "JwtSvid authenticator: workload_endpoint \"%.200s\" is not a unix: socket "
                 "path (unix:///path/to/socket)",
                 cfg->workload_endpoint ? cfg->workload_endpoint : "");
        return -1;
    }
#endif
    struct psc_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    a->cfg = cfg;
    if (cfg->type == PSC_AUTH_JWT_SVID) {
        unsigned n = workers / 2 > 0 ? (unsigned)(workers / 2) : 1;
        if (sem_init(&a->slots, 0, n) != 0) {
            snprintf(err, err_len, "sem_init: %s", strerror(errno));
            free(a);
            return -1;
        }
        a->has_slots = 1;
    }
    *out = a;
    return 0;
}

void auth_free(struct psc_auth *a)
{
    if (!a)
        return;
    if (a->has_slots)
        sem_destroy(&a->slots);
    free(a);
}

uint8_t auth_type(const struct psc_auth *a)
{
    return a->cfg->type;
}

static int auth_direct(const uint8_t *auth, size_t len, char **name)
{
    /* A name with a NUL inside could not be stored or compared as a C string. */
    if (len == 0 || !utf8_valid(auth, len) || memchr(auth, 0, len))
        return PSC_AUTHENTICATION_ERROR;
    *name = strndup((const char *)auth, len);
    return *name ? 0 : PSC_PSA_INSUFFICIENT_MEMORY;
}

static int auth_unix_peer(const uint8_t *auth, size_t len, const struct peer_cred *peer,
                          char **name)
{
    if (len != 4 || peer == NULL)
        return PSC_AUTHENTICATION_ERROR;
    uint32_t uid = (uint32_t)auth[0] | (uint32_t)auth[1] << 8 | (uint32_t)auth[2] << 16 |
                   (uint32_t)auth[3] << 24;
    if (uid != (uint32_t)peer->uid)
        return PSC_AUTHENTICATION_ERROR;
    char buf[16];
    snprintf(buf, sizeof(buf), "%u", uid);
    *name = strdup(buf);
    return *name ? 0 : PSC_PSA_INSUFFICIENT_MEMORY;
}

#ifdef PARSEC_JWT_SVID
static const char *const MOD = "parsec::auth";

/* The token, validated by the Workload API with the Parsec audience; the application is the
 * SPIFFE ID it names. Every failure is 11 to the client and one line in the log. */
static int auth_jwt_svid(struct psc_auth *a, const uint8_t *auth, size_t len, char **name)
{
    if (!utf8_valid(auth, len))
        return PSC_INVALID_ENCODING;
    /* A NUL would cut the token short on its way to the Workload API. */
    if (len == 0 || memchr(auth, 0, len))
        return PSC_AUTHENTICATION_ERROR;
    /* A worker that found every slot taken answers at once rather than wait for one. */
    if (sem_trywait(&a->slots) != 0) {
        log_warn(MOD, "JWT-SVID not validated: the workers allowed to wait on the Workload API "
                      "are all waiting");
        return PSC_AUTHENTICATION_ERROR;
    }
    int timeout_ms = (int)a->cfg->workload_timeout;
    char *token = strndup((const char *)auth, len);
    char err[256] = "";
    int rc = PSC_PSA_INSUFFICIENT_MEMORY;
    if (token) {
        rc = spiffe_validate_jwt(a->cfg->workload_endpoint, token, SPIFFE_PARSEC_AUDIENCE,
                                 timeout_ms, name, err, sizeof(err)) == 0
                 ? 0
                 : PSC_AUTHENTICATION_ERROR;
        spiffe_token_free(token);
    }
    sem_post(&a->slots);
    if (rc == PSC_AUTHENTICATION_ERROR)
        log_warn(MOD, "JWT-SVID not validated: %s", err);
    return rc;
}
#endif

int auth_authenticate(struct psc_auth *a, const uint8_t *auth, size_t len,
                      const struct peer_cred *peer, char **name)
{
    *name = NULL;
    switch (a->cfg->type) {
    case PSC_AUTH_DIRECT:
        return auth_direct(auth, len, name);
    case PSC_AUTH_UNIX_PEER_CREDENTIALS:
        return auth_unix_peer(auth, len, peer, name);
#ifdef PARSEC_JWT_SVID
    case PSC_AUTH_JWT_SVID:
        return auth_jwt_svid(a, auth, len, name);
#endif
    default:
        return PSC_AUTHENTICATION_ERROR;
    }
}

int auth_is_admin(const struct psc_auth *a, const char *name)
{
    for (size_t i = 0; name && i < a->cfg->n_admins; i++)
        if (strcmp(a->cfg->admins[i], name) == 0)
            return 1;
    return 0;
}

const char *auth_description(uint8_t type)
{
    switch (type) {
    case PSC_AUTH_DIRECT:
        return "Directly parses the authentication field as a UTF-8 string and uses that as the "
               "application identity. Should be used for testing only.";
    case PSC_AUTH_UNIX_PEER_CREDENTIALS:
        return "Uses Unix peer credentials to authenticate the client. Verifies that the "
               "self-declared Unix user identifier (UID) in the request's authentication header "
               "matches that which is found from the peer credentials.";
    case PSC_AUTH_JWT_SVID:
        return "Authenticator validating a JWT SPIFFE Verifiable Identity Document";
    default:
        return "";
    }
}
