/* Building well-formed wire requests, for the front-end fuzz target's own housekeeping
 * (importing and destroying keys through the service) and for the corpus generator. */
#ifndef PARSEC_FUZZ_REQUEST_H
#define PARSEC_FUZZ_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "fuzz_keys.h"

/* A complete request: 36-byte header, op packed as the body (NULL: empty body), and, when app
 * is not NULL, a Direct authentication field naming app. *out is malloc'd. Returns 0 or -1. */
int fuzz_request_build(uint8_t provider, uint32_t opcode, const char *app,
                       const ProtobufCMessage *op, uint8_t **out, size_t *len);

/* PsaImportKey of a fixed key for FUZZ_APP on the Mbed Crypto provider. */
int fuzz_request_import(const struct fuzz_key *k, uint8_t **out, size_t *len);

/* PsaDestroyKey of name for app on a provider, auth_type as given (0 or Direct). */
int fuzz_request_destroy(uint8_t provider, const char *app, const char *name, uint8_t **out,
                         size_t *len);

#endif
