/* Authenticators: turn a request's auth field into an application name (wire-protocol.md §8).
 * Only the configured authenticator is active. */
#ifndef PARSEC_AUTH_H
#define PARSEC_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "service/config.h"

/* What the kernel says about the connected peer (SO_PEERCRED). */
struct peer_cred {
    uid_t uid; /* effective uid of the peer at connect time */
    gid_t gid;
    pid_t pid;
};

/* Whether this build implements the authenticator named in the configuration; if not, a
 * message for the start-up error is written into err. */
int auth_supported(const struct cfg_authenticator *cfg, char *err, size_t err_len);

/* Authenticates a request whose auth type is the configured one. On success returns 0 and a
 * malloc'd NUL-terminated application name in *name. Otherwise PSC_AUTHENTICATION_ERROR
 * (or PSC_INVALID_ENCODING for a JWT-SVID that is not UTF-8). */
int auth_authenticate(const struct cfg_authenticator *cfg, const uint8_t *auth, size_t len,
                      const struct peer_cred *peer, char **name);

/* Whether an authenticated name is listed in the configured admins. */
int auth_is_admin(const struct cfg_authenticator *cfg, const char *name);

/* The ListAuthenticators description of an authenticator type. */
const char *auth_description(uint8_t type);

#endif
