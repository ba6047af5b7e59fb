/* Key pairs made outside the Mbed Crypto provider's PSA lock.
 *
 * Generating an RSA key pair takes from a tenth of a second (2048 bits) to several seconds
 * (4096 bits), and PSA Crypto in Mbed TLS 2.28 is not thread-safe, so a psa_generate_key under
 * the provider's one lock would stall every other client's operation for that long. The slow
 * part is therefore done here with Mbed TLS's own RSA and ECP functions, which work on the
 * caller's contexts only and may run in many threads at once, each with its own random
 * generator. The key comes out in the form psa_import_key takes (RSAPrivateKey DER, or the
 * private value of an ECC key), and the provider imports it under the lock: Mbed TLS stores an
 * imported key exactly as a generated one (same attributes, same key file format). */
#ifndef PARSEC_PROVIDER_MBED_KEYGEN_H
#define PARSEC_PROVIDER_MBED_KEYGEN_H

#include <stddef.h>
#include <stdint.h>

#include "psa/attrs.h"

/* Whether mbed_keygen makes keys of these attributes: RSA key pairs of 1024 to 4096 bits (a
 * multiple of 8) and key pairs on the curves Mbed TLS knows for that size. Other keys are left
 * to psa_generate_key, which answers for them as the client expects. */
int mbed_keygen_handles(const struct psc_attrs *k);

/* Makes a key pair of k's type and size. On success *out (malloc'd) holds *len bytes for
 * psa_import_key; release it with mbed_keygen_free. Returns 0 or a PSC status
 * (PsaErrorInsufficientEntropy when the random generator cannot be seeded). Thread-safe. */
int mbed_keygen(const struct psc_attrs *k, uint8_t **out, size_t *len);

/* Wipes and frees what mbed_keygen gave (NULL-safe). */
void mbed_keygen_free(uint8_t *p, size_t len);

#endif
