/* A small DER (ITU-T X.690) writer and reader: enough to build SubjectPublicKeyInfo, PKCS#10
 * requests and X.509 certificates, and to check the PKCS#1 RSAPublicKey a service returns.
 *
 * The writer appends to a growable buffer. Errors are sticky: after the first failure every
 * call is a no-op and der_finish() reports it, so building code can stay linear. */
#ifndef PARSEC_TOOL_DER_H
#define PARSEC_TOOL_DER_H

#include <stddef.h>
#include <stdint.h>

/* Largest object the tool ever builds (a certificate with a 16384-bit RSA key and many SANs
 * stays far below). Anything larger is refused rather than grown without bound. */
#define DER_MAX_LEN (256u * 1024u)
/* Deepest nesting of open constructed values in one writer. */
#define DER_MAX_DEPTH 16

#define DER_BOOLEAN 0x01
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_UTF8_STRING 0x0c
#define DER_IA5_STRING 0x16
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18
#define DER_SEQUENCE 0x30
#define DER_SET 0x31
#define DER_CONTEXT(n) (0x80 | (n))      /* [n] IMPLICIT, primitive */
#define DER_CONTEXT_CONS(n) (0xa0 | (n)) /* [n], constructed */

struct der {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err;                    /* first error, 0 if none */
    size_t open[DER_MAX_DEPTH]; /* offsets of the length bytes of open values */
    size_t depth;
};

void der_init(struct der *d);
/* Frees (and wipes) the buffer. NULL-safe. */
void der_free(struct der *d);
/* Returns 0 when every call so far succeeded and no value is left open, else the first error
 * (PSC_PSA_INSUFFICIENT_MEMORY, PSC_PSA_INVALID_ARGUMENT, PSC_PSA_BUFFER_TOO_SMALL). */
int der_finish(const struct der *d);

/* Records an error (the first one wins), e.g. when a caller finds a value it cannot write. */
void der_set_error(struct der *d, int err);

void der_put_raw(struct der *d, const void *p, size_t n);
/* A whole primitive value: tag, definite length, content. */
void der_put_tlv(struct der *d, uint8_t tag, const void *content, size_t n);
/* Opens a constructed value; its length is written by the matching der_end(). */
void der_begin(struct der *d, uint8_t tag);
void der_end(struct der *d);

/* An INTEGER holding the unsigned big-endian number be[0..n): leading zero bytes dropped, one
 * 0x00 added when the first remaining byte has its high bit set, 0 encoded as 02 01 00. */
void der_put_uint(struct der *d, const uint8_t *be, size_t n);
void der_put_small_uint(struct der *d, uint64_t v);
/* An OBJECT IDENTIFIER from its dotted form ("1.2.840.10045.4.3.2"). */
void der_put_oid(struct der *d, const char *dotted);
void der_put_null(struct der *d);
void der_put_bool(struct der *d, int v);
/* A BIT STRING with no unused bits. */
void der_put_bits(struct der *d, const uint8_t *p, size_t n);

/* Content bytes of an OID in dotted form, into out[0..cap). Returns 0 or
 * PSC_PSA_INVALID_ARGUMENT (malformed) / PSC_PSA_BUFFER_TOO_SMALL. */
int der_oid_encode(const char *dotted, uint8_t *out, size_t cap, size_t *out_len);

/* Reads one value with the expected tag from *p (not past end); on success *p moves past it
 * and content/len describe its content. Only definite, minimal DER lengths are accepted.
 * Returns 0 or PSC_INVALID_ENCODING. */
int der_get(const uint8_t **p, const uint8_t *end, uint8_t tag, const uint8_t **content,
            size_t *len);

/* Converts a raw ECDSA signature r||s (two equal halves, as PSA returns it) into the DER
 * Ecdsa-Sig-Value SEQUENCE { INTEGER r, INTEGER s } of RFC 3279, with minimal integers.
 * Returns 0, PSC_PSA_INVALID_ARGUMENT (empty or odd length) or PSC_PSA_BUFFER_TOO_SMALL. */
int der_ecdsa_sig_from_raw(const uint8_t *rs, size_t len, uint8_t *out, size_t cap,
                           size_t *out_len);
/* Room always enough for der_ecdsa_sig_from_raw of a raw signature of len bytes. */
#define DER_ECDSA_SIG_MAX(len) ((len) + 16)

#endif
