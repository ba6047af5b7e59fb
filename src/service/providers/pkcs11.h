/* The PKCS#11 provider (provider id 2): keys as token objects of any PKCS#11 v2.40 module
 * (HSM, smart card, SoftHSM2), mapped to (application, key name) by the key info manager with
 * the original service's key ids: a random u32, big-endian in CKA_ID on both halves of a key,
 * little-endian in the mapping.
 *
 * Sessions are kept in a bounded pool, logged in once and opened again when the module reports
 * one lost; object handles are cached by key id. Requests run in parallel when the module
 * accepts OS locking, except that creating or destroying an object excludes every other use of
 * the token's objects (SoftHSM2 2.6.1 fails a creation that runs beside a search). */
#ifndef PARSEC_PROVIDER_PKCS11_H
#define PARSEC_PROVIDER_PKCS11_H

#include "service/providers/provider.h"

extern const struct psc_provider_type psc_pkcs11_provider;

#endif
