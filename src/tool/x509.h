/* PKCS#10 certification requests (RFC 2986) and self-signed X.509 v3 certificates (RFC 5280)
 * signed by a key that never leaves the Parsec service: the to-be-signed part is built here,
 * hashed here, and signed with PsaSignHash. */
#ifndef PARSEC_TOOL_X509_H
#define PARSEC_TOOL_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tool/tool.h"

/* Longest serial number RFC 5280 §4.1.2.2 allows, in octets. */
#define X509_SERIAL_MAX 20

/* Distinguished-name values (NULL: absent) and subject alternative names. Whatever the order
 * of the command line, the name is written as CN, OU, O, L, ST, C, serialNumber, one
 * attribute per RDN, every value a UTF8String, as the original tool writes it. */
struct x509_subject {
    const char *cn, *ou, *o, *l, *st, *c, *serial_number;
    const char *const *san;
    size_t nsan;
};

enum x509_scheme { X509_RSA_PKCS1, X509_RSA_PSS, X509_ECDSA };

/* A signature algorithm the certificate formats can name, and the hash it signs with. */
struct x509_sigalg {
    enum x509_scheme scheme;
    psa_algorithm_t hash;
};

/* Maps a key's attributes (ListKeys) to the signature algorithm of the request, with the
 * original's rules and error messages (logged under target). 0 or -1 with the error
 * recorded. */
int x509_choose_sigalg(const char *target, const struct parsec_key_attributes *a,
                       struct x509_sigalg *out);

/* Checks the SANs before anything is signed: a value that is not an IP address must be ASCII
 * to be a dNSName. 0 or -1 with the error recorded. */
int x509_check_sans(const struct x509_subject *s);

/* Everything a request or certificate needs to know about the signing key. */
struct x509_key {
    const char *name;
    const struct parsec_key_attributes *attrs;
    struct x509_sigalg alg;
    const uint8_t *spki; /* the DER SubjectPublicKeyInfo */
    size_t spki_len;
    const uint8_t *pub; /* the service's public key export (the BIT STRING content) */
    size_t pub_len;
};

/* Builds and signs a CSR; *der is malloc'd. 0 or -1 with the error recorded. */
int x509_make_csr(struct tool *t, const struct x509_key *k, const struct x509_subject *s,
                  uint8_t **der, size_t *len);

struct x509_cert_params {
    uint8_t serial[X509_SERIAL_MAX]; /* big-endian, positive */
    size_t serial_len;
    time_t not_before, not_after;
    int ca; /* basicConstraints cA, keyCertSign and cRLSign */
};

/* Builds and signs a self-signed certificate; *der is malloc'd. */
int x509_make_cert(struct tool *t, const struct x509_key *k, const struct x509_subject *s,
                   const struct x509_cert_params *p, uint8_t **der, size_t *len);

#endif
