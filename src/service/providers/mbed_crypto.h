/* The Mbed Crypto provider (provider id 1): PSA Crypto operations in process, on the PSA Crypto
 * API of Mbed TLS 2.28, with keys stored as PSA persistent keys (one unencrypted file per key in
 * the key store folder) and mapped to (application, key name) by the key info manager.
 *
 * Mbed TLS keeps its PSA state (key slots, random generator, storage folder) per process, so
 * every instance of this provider shares one back-end: instances must use the same key store
 * folder, key ids are allocated from one process-wide counter, and calls into its PSA API are
 * serialised by one process-wide lock (key pairs are computed outside it: mbed_keygen.h). */
#ifndef PARSEC_PROVIDER_MBED_CRYPTO_H
#define PARSEC_PROVIDER_MBED_CRYPTO_H

#include "service/providers/provider.h"

extern const struct psc_provider_type psc_mbed_crypto_provider;

#endif
