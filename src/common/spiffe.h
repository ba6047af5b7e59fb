/* A client of the SPIFFE Workload API (JWT-SVID profile) over its Unix socket: gRPC carried by
 * nghttp2's HTTP/2. Each call opens its own connection and ends within its deadline whatever
 * the server does (slow, silent, huge or malformed replies). Shared by the service, which
 * validates tokens, and libparsec, which fetches them. */
#ifndef PARSEC_SPIFFE_H
#define PARSEC_SPIFFE_H

#include <stddef.h>

/* The audience Parsec tokens are issued for and checked against. */
#define SPIFFE_PARSEC_AUDIENCE "parsec"
/* The largest reply accepted from the Workload API (gRPC message, headers and trailers). */
#define SPIFFE_MAX_REPLY (64u * 1024u)

/* Whether endpoint names a Unix socket this client can reach: "unix:///path" or "unix:/path"
 * (the forms of SPIFFE_ENDPOINT_SOCKET), or a plain absolute path. */
int spiffe_endpoint_ok(const char *endpoint);

/* ValidateJWTSVID(audience, token). On success returns 0 and the SPIFFE ID of the token in
 * *spiffe_id (malloc'd). Otherwise -1 and a one-line reason in err (the token is not in it). */
int spiffe_validate_jwt(const char *endpoint, const char *token, const char *audience,
                        int timeout_ms, char **spiffe_id, char *err, size_t err_len);

/* FetchJWTSVID(audience): the first JWT-SVID the Workload API gives this process, in *token
 * (malloc'd; free it with spiffe_token_free). -1 and a reason in err otherwise. */
int spiffe_fetch_jwt(const char *endpoint, const char *audience, int timeout_ms, char **token,
                     char *err, size_t err_len);
void spiffe_token_free(char *token);

#endif
