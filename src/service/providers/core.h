/* The core provider (id 0): Ping, ListProviders, ListOpcodes, ListAuthenticators, ListKeys,
 * ListClients, DeleteClient (operations.md §4). Its answers are derived from the running
 * service's provider tables and key stores. */
#ifndef PARSEC_CORE_H
#define PARSEC_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "service/op.h"
#include "service/service.h"

/* Serves one core operation whose body is still protobuf. On success *body is the encoded
 * Result (malloc'd, may be NULL with *len 0 for an empty result). Returns 0 or a status. */
int core_handle(struct psc_service *s, const struct psc_app *app, uint32_t opcode,
                const uint8_t *in, size_t in_len, uint8_t **body, size_t *len);

/* The opcodes ListOpcodes reports for the core provider (ListClients and DeleteClient are
 * served but not advertised, as in the original). */
extern const uint32_t core_advertised_opcodes[5];

#endif
