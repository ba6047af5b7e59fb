/* Authenticators: turn a request's auth field into an application name (wire-protocol.md §8).
 * Every configured authenticator is active; the request header's auth type picks one. */
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

/* One active authenticator: its configuration and what it needs at run time. */
struct psc_auth;

/* Builds the authenticator a configuration entry describes (cfg must outlive it). workers is
 * the size of the worker pool, which bounds how many may wait on an outside service at once.
 * On failure (e.g. not compiled into this build) returns -1 with a message in err. */
int auth_new(const struct cfg_authenticator *cfg, size_t workers, struct psc_auth **out, char *err,
             size_t err_len);
void auth_free(struct psc_auth *a);

uint8_t auth_type(const struct psc_auth *a);

/* Authenticates a request whose auth type is this authenticator's. On success returns 0 and a
 * malloc'd NUL-terminated application name in *name. Otherwise PSC_AUTHENTICATION_ERROR
 * (or PSC_INVALID_ENCODING for a JWT-SVID that is not UTF-8). */
int auth_authenticate(struct psc_auth *a, const uint8_t *auth, size_t len,
                      const struct peer_cred *peer, char **name);

/* Whether an authenticated name is listed in this authenticator's admins. */
int auth_is_admin(const struct psc_auth *a, const char *name);

/* The ListAuthenticators description of an authenticator type. */
const char *auth_description(uint8_t type);

#endif
