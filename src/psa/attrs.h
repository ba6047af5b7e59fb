/* Key attributes as PSA Crypto API values: the one native form in which the service, its
 * providers and its key stores handle key types, sizes, usage flags and algorithms.
 *
 * The numeric encodings are those of the PSA Crypto API 1.x as Mbed TLS 2.28 defines them in
 * <psa/crypto_values.h>; conversions to and from protobuf (psa/convert.h) and bincode
 * (kim/bincode.h) are the only places that know about other encodings. */
#ifndef PARSEC_PSA_ATTRS_H
#define PARSEC_PSA_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include <psa/crypto.h>

/* Mbed TLS 2.28 predates the FRP curve family; its PSA encoding is fixed by the API. */
#ifndef PSA_ECC_FAMILY_FRP
#define PSA_ECC_FAMILY_FRP ((psa_ecc_family_t)0x33)
#endif

struct psc_attrs {
    psa_key_type_t type;
    size_t bits;
    psa_key_usage_t usage; /* PSA_KEY_USAGE_* bits */
    psa_algorithm_t alg;   /* permitted algorithm; 0 (PSA_ALG_NONE) permits nothing */
};

#endif
