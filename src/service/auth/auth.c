#define _POSIX_C_SOURCE 200809L
#include "service/auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "wire/opcode.h"
#include "wire/status.h"

struct psc_auth {
    const struct cfg_authenticator *cfg;
};

int auth_new(const struct cfg_authenticator *cfg, size_t workers, struct psc_auth **out,
             char *err, size_t err_len)
{
    (void)workers;
    *out = NULL;
    if (cfg->type != PSC_AUTH_DIRECT && cfg->type != PSC_AUTH_UNIX_PEER_CREDENTIALS) {
        snprintf(err, err_len, "authenticator \"%s\" is not compiled into this build",
                 cfg->auth_type ? cfg->auth_type : "?");
        return -1;
    }
    struct psc_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    a->cfg = cfg;
    *out = a;
    return 0;
}

void auth_free(struct psc_auth *a)
{
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

int auth_authenticate(struct psc_auth *a, const uint8_t *auth, size_t len,
                      const struct peer_cred *peer, char **name)
{
    *name = NULL;
    switch (a->cfg->type) {
    case PSC_AUTH_DIRECT:
        return auth_direct(auth, len, name);
    case PSC_AUTH_UNIX_PEER_CREDENTIALS:
        return auth_unix_peer(auth, len, peer, name);
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
