/* The hashes both PKCS#11 sides know (the PKCS#11 provider of the service and the PKCS#11
 * module over libparsec): their PSA, PKCS#11 and Mbed TLS names, length, and the DER
 * DigestInfo prefix that precedes the digest in a PKCS#1 v1.5 signature (RFC 8017 §9.2,
 * note 1). Header-only, for the two translation units that include it: the module and the
 * provider build against different libraries. Include after the PKCS#11, PSA and Mbed TLS md
 * headers. */
#ifndef PARSEC_P11_HASH_H
#define PARSEC_P11_HASH_H

#include <stddef.h>
#include <stdint.h>

struct p11_hash {
    psa_algorithm_t psa;
    CK_MECHANISM_TYPE ckm;    /* CKM_SHA256 ... */
    CK_RSA_PKCS_MGF_TYPE mgf; /* CKG_MGF1_SHA256 ... */
    mbedtls_md_type_t md;
    size_t len;
    size_t di_len;
    uint8_t di[19];
};

static const struct p11_hash p11_hashes[] = {
    {PSA_ALG_SHA_1,
     CKM_SHA_1,
     CKG_MGF1_SHA1,
     MBEDTLS_MD_SHA1,
     20,
     15,
     {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}},
    {PSA_ALG_SHA_224,
     CKM_SHA224,
     CKG_MGF1_SHA224,
     MBEDTLS_MD_SHA224,
     28,
     19,
     {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04,
      0x05, 0x00, 0x04, 0x1c}},
    {PSA_ALG_SHA_256,
     CKM_SHA256,
     CKG_MGF1_SHA256,
     MBEDTLS_MD_SHA256,
     32,
     19,
     {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
      0x05, 0x00, 0x04, 0x20}},
    {PSA_ALG_SHA_384,
     CKM_SHA384,
     CKG_MGF1_SHA384,
     MBEDTLS_MD_SHA384,
     48,
     19,
     {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
      0x05, 0x00, 0x04, 0x30}},
    {PSA_ALG_SHA_512,
     CKM_SHA512,
     CKG_MGF1_SHA512,
     MBEDTLS_MD_SHA512,
     64,
     19,
     {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
      0x05, 0x00, 0x04, 0x40}},
};
#define P11_N_HASHES (sizeof(p11_hashes) / sizeof(p11_hashes[0]))
/* Longest digest in p11_hashes. */
#define P11_HASH_MAX 64

#endif
