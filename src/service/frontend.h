/* The front end: everything that happens to a fully read request (wire-protocol.md §6 steps
 * 9-23). Pure with respect to I/O: it takes bytes and returns the reply's bytes. */
#ifndef PARSEC_FRONTEND_H
#define PARSEC_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "service/auth/auth.h"
#include "service/service.h"
#include "wire/header.h"

struct fe_request {
    struct psc_header h;
    const uint8_t *body;
    const uint8_t *auth;          /* h.body_len and h.auth_len bytes */
    const struct peer_cred *peer; /* NULL when unknown (fuzzing) */
};

/* A reply body is at most buffer_size_limit bytes plus this much protobuf framing (field tags
 * and lengths): a buffer of exactly buffer_size_limit bytes (GenerateRandom) still fits. A
 * larger reply (ListKeys or ListClients over a very large store) is answered
 * ResponseTooLarge (10). */
#define FE_REPLY_FRAMING 64

/* Handles one request and writes the complete reply (header and body) into a malloc'd buffer.
 * Returns the reply's status, or -1 if no reply could be built (out of memory). */
int frontend_handle(struct psc_service *s, const struct fe_request *rq, uint8_t **reply,
                    size_t *reply_len);

/* Admission of a request to a provider that serialises its back-end (psc_provider_type.serial):
 * at most max requests run on or wait for such a provider at once, the others wait outside the
 * workers (the server parks their connections) so that a slow or hung back-end cannot take
 * every worker from the other providers. Returns 1 if the request may be handled now, and
 * frontend_release must follow its handling; 0 if it must wait for a release. Requests for
 * other providers are always admitted. The caller keeps the service from being reloaded
 * between the two calls. */
int frontend_admit(struct psc_service *s, const struct psc_header *h, unsigned max);
/* Ends an admitted request. Returns 1 if it freed a place a waiting request may take. */
int frontend_release(struct psc_service *s, const struct psc_header *h);

/* A reply with the generic header (provider 0, opcode Ping, no body) for errors found before
 * the request header could be trusted. */
void frontend_generic_reply(int status, uint8_t out[PSC_WIRE_HEADER_SIZE]);

#endif
