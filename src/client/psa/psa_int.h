/* libparsec-psa internals: the process-wide client and the key id <-> name mapping. */
#ifndef PARSEC_PSA_INT_H
#define PARSEC_PSA_INT_H

#include <stddef.h>

/* The PSA functions this library defines are its API: they must stay visible although the
 * library is built with hidden visibility by default. */
#pragma GCC visibility push(default)
#include <psa/crypto.h>
#pragma GCC visibility pop

#include "parsec/psa.h"

/* Buffer for a resolved key name: psa-key / psa-volatile names are short, names found with
 * ListKeys can be as long as any key name. */
#define FR_NAME_BUF (PARSEC_KEY_NAME_MAX + 1)

/* The client, or PSA_ERROR_BAD_STATE before psa_crypto_init. */
psa_status_t fr_client(struct parsec_client **c);

/* The client and the Parsec name of a key id (see parsec/psa.h). PSA_ERROR_BAD_STATE before
 * psa_crypto_init, PSA_ERROR_INVALID_HANDLE for an id that names no key. */
psa_status_t fr_key(psa_key_id_t id, struct parsec_client **c, char name[FR_NAME_BUF]);

/* parsec_psa_status, with PSA_ERROR_DOES_NOT_EXIST turned into PSA_ERROR_INVALID_HANDLE: PSA
 * functions that take a key id report a missing key that way. */
psa_status_t fr_key_status(int parsec_error);

/* Volatile key ids this process created. */
int fr_volatile_add(psa_key_id_t id);
void fr_volatile_remove(psa_key_id_t id);
int fr_volatile_has(psa_key_id_t id);

#endif
