/* SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) for the public keys a Parsec service exports in PSA
 * format: a PKCS#1 RSAPublicKey for RSA keys, an uncompressed point for ECC keys. */
#ifndef PARSEC_TOOL_SPKI_H
#define PARSEC_TOOL_SPKI_H

#include <stddef.h>
#include <stdint.h>

#include <psa/crypto.h>

#include "tool/der.h"

/* The named-curve OID of an ECC family and size (export-public-key's table), or NULL. */
const char *spki_curve_oid(psa_ecc_family_t family, size_t bits);

/* Whether p[0..n) is a DER RSAPublicKey: SEQUENCE { INTEGER, INTEGER }, nothing after. */
int spki_rsa_public_key_valid(const uint8_t *p, size_t n);

/* Appends the SubjectPublicKeyInfo of a key of this type and size whose PSA export is
 * pub[0..n). RSA keys get {rsaEncryption, NULL}, or, when pss_hash is a SHA-2 hash, the
 * id-RSASSA-PSS algorithm with the parameters of that hash. ECC keys get {id-ecPublicKey,
 * named curve}. Errors are logged under target with the original tool's messages; returns 0
 * or -1 with the tool error recorded. */
int spki_put(struct der *d, const char *target, psa_key_type_t type, size_t bits,
             const uint8_t *pub, size_t n, psa_algorithm_t pss_hash);

/* The RSASSA-PSS-params of RFC 4055 for a SHA-2 hash: that hash, MGF1 with it, salt length
 * equal to its digest length, trailer field omitted. */
void spki_put_pss_params(struct der *d, psa_algorithm_t hash);

/* OID of a SHA-2 hash (dotted), or NULL. */
const char *spki_hash_oid(psa_algorithm_t hash);

#endif
