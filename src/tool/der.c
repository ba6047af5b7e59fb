#include "tool/der.h"

#include <stdlib.h>
#include <string.h>

#include "wire/status.h"

/* Bytes a definite length takes after the tag: 1 up to 127, then 0x8N + N bytes. */
static size_t len_size(size_t n)
{
    size_t s = 1;
    if (n >= 0x80)
        for (size_t v = n; v; v >>= 8)
            s++;
    return s;
}

static void put_len(uint8_t *p, size_t n)
{
    size_t s = len_size(n);
    if (s == 1) {
        p[0] = (uint8_t)n;
        return;
    }
    p[0] = (uint8_t)(0x80 | (s - 1));
    for (size_t i = s - 1; i > 0; i--, n >>= 8)
        p[i] = (uint8_t)(n & 0xff);
}

void der_init(struct der *d)
{
    memset(d, 0, sizeof(*d));
}

void der_free(struct der *d)
{
    if (!d)
        return;
    if (d->buf) {
        explicit_bzero(d->buf, d->cap);
        free(d->buf);
    }
    memset(d, 0, sizeof(*d));
}

int der_finish(const struct der *d)
{
    if (d->err)
        return d->err;
    return d->depth ? PSC_PSA_INVALID_ARGUMENT : 0;
}

/* Makes room for n more bytes. */
static int reserve(struct der *d, size_t n)
{
    if (d->err)
        return -1;
    if (n > DER_MAX_LEN || d->len > DER_MAX_LEN - n) {
        d->err = PSC_PSA_BUFFER_TOO_SMALL;
        return -1;
    }
    if (d->len + n <= d->cap)
        return 0;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < d->len + n)
        cap *= 2;
    uint8_t *b = malloc(cap);
    if (!b) {
        d->err = PSC_PSA_INSUFFICIENT_MEMORY;
        return -1;
    }
    /* Copy and wipe rather than realloc: the buffer may hold a signature or key material
     * the caller wants gone once freed. */
    if (d->buf) {
        memcpy(b, d->buf, d->len);
        explicit_bzero(d->buf, d->cap);
        free(d->buf);
    }
    d->buf = b;
    d->cap = cap;
    return 0;
}

void der_set_error(struct der *d, int err)
{
    if (!d->err)
        d->err = err;
}

void der_put_raw(struct der *d, const void *p, size_t n)
{
    if (n == 0 || reserve(d, n) != 0)
        return;
    memcpy(d->buf + d->len, p, n);
    d->len += n;
}

void der_put_tlv(struct der *d, uint8_t tag, const void *content, size_t n)
{
    if (reserve(d, 1 + len_size(n)) != 0)
        return;
    d->buf[d->len++] = tag;
    put_len(d->buf + d->len, n);
    d->len += len_size(n);
    der_put_raw(d, content, n);
}

void der_begin(struct der *d, uint8_t tag)
{
    if (d->err)
        return;
    if (d->depth == DER_MAX_DEPTH) {
        d->err = PSC_PSA_INVALID_ARGUMENT;
        return;
    }
    if (reserve(d, 2) != 0)
        return;
    d->buf[d->len++] = tag;
    d->open[d->depth++] = d->len;
    d->buf[d->len++] = 0; /* one length byte reserved; der_end() widens it if needed */
}

void der_end(struct der *d)
{
    if (d->err)
        return;
    if (d->depth == 0) {
        d->err = PSC_PSA_INVALID_ARGUMENT;
        return;
    }
    size_t at = d->open[--d->depth];
    size_t content = d->len - at - 1;
    size_t extra = len_size(content) - 1;
    if (extra) {
        if (reserve(d, extra) != 0)
            return;
        memmove(d->buf + at + 1 + extra, d->buf + at + 1, content);
        d->len += extra;
    }
    put_len(d->buf + at, content);
}

void der_put_uint(struct der *d, const uint8_t *be, size_t n)
{
    while (n > 1 && be[0] == 0) {
        be++;
        n--;
    }
    static const uint8_t zero = 0;
    if (n == 0) {
        be = &zero;
        n = 1;
    }
    int pad = (be[0] & 0x80) != 0;
    if (reserve(d, 1 + len_size(n + (size_t)pad)) != 0)
        return;
    d->buf[d->len++] = DER_INTEGER;
    put_len(d->buf + d->len, n + (size_t)pad);
    d->len += len_size(n + (size_t)pad);
    if (pad)
        der_put_raw(d, &zero, 1);
    der_put_raw(d, be, n);
}

void der_put_small_uint(struct der *d, uint64_t v)
{
    uint8_t be[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        be[i] = (uint8_t)(v & 0xff);
    der_put_uint(d, be, sizeof(be));
}

/* Largest OID content the tool writes: every OID it uses is below 16 bytes. */
#define DER_OID_MAX 64

int der_oid_encode(const char *dotted, uint8_t *out, size_t cap, size_t *out_len)
{
    uint64_t arcs[DER_OID_MAX];
    size_t n = 0;
    const char *p = dotted;
    for (;;) {
        if (*p < '0' || *p > '9' || n == DER_OID_MAX || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
            return PSC_PSA_INVALID_ARGUMENT;
        uint64_t v = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > (UINT64_MAX - 9) / 10)
                return PSC_PSA_INVALID_ARGUMENT;
            v = v * 10 + (uint64_t)(*p - '0');
        }
        arcs[n++] = v;
        if (*p == '\0')
            break;
        if (*p++ != '.')
            return PSC_PSA_INVALID_ARGUMENT;
    }
    if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) || arcs[1] > UINT64_MAX - 80)
        return PSC_PSA_INVALID_ARGUMENT;
    arcs[1] += arcs[0] * 40;
    size_t len = 0;
    for (size_t i = 1; i < n; i++) {
        uint8_t tmp[10];
        size_t k = 0;
        uint64_t v = arcs[i];
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v);
        if (cap - len < k)
            return PSC_PSA_BUFFER_TOO_SMALL;
        while (k--)
            out[len++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
    }
    *out_len = len;
    return 0;
}

void der_put_oid(struct der *d, const char *dotted)
{
    uint8_t c[DER_OID_MAX];
    size_t n = 0;
    if (d->err)
        return;
    int rc = der_oid_encode(dotted, c, sizeof(c), &n);
    if (rc != 0) {
        d->err = rc;
        return;
    }
    der_put_tlv(d, DER_OID, c, n);
}

void der_put_null(struct der *d)
{
    der_put_tlv(d, DER_NULL, NULL, 0);
}

void der_put_bool(struct der *d, int v)
{
    uint8_t b = v ? 0xff : 0x00;
    der_put_tlv(d, DER_BOOLEAN, &b, 1);
}

void der_put_bits(struct der *d, const uint8_t *p, size_t n)
{
    static const uint8_t unused = 0;
    if (n > DER_MAX_LEN) {
        if (!d->err)
            d->err = PSC_PSA_BUFFER_TOO_SMALL;
        return;
    }
    if (reserve(d, 1 + len_size(n + 1)) != 0)
        return;
    d->buf[d->len++] = DER_BIT_STRING;
    put_len(d->buf + d->len, n + 1);
    d->len += len_size(n + 1);
    der_put_raw(d, &unused, 1);
    der_put_raw(d, p, n);
}

int der_get(const uint8_t **p, const uint8_t *end, uint8_t tag, const uint8_t **content,
            size_t *len)
{
    const uint8_t *q = *p;
    if (end - q < 2 || q[0] != tag)
        return PSC_INVALID_ENCODING;
    q++;
    size_t n = *q++;
    if (n & 0x80) {
        size_t k = n & 0x7f;
        /* No indefinite form, no length wider than size_t, no leading zero byte. */
        if (k == 0 || k > sizeof(size_t) || (size_t)(end - q) < k || q[0] == 0)
            return PSC_INVALID_ENCODING;
        n = 0;
        while (k--)
            n = (n << 8) | *q++;
        if (n < 0x80)
            return PSC_INVALID_ENCODING;
    }
    if ((size_t)(end - q) < n)
        return PSC_INVALID_ENCODING;
    *content = q;
    *len = n;
    *p = q + n;
    return 0;
}

int der_ecdsa_sig_from_raw(const uint8_t *rs, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    struct der d;
    int rc;
    if (len == 0 || len % 2 != 0)
        return PSC_PSA_INVALID_ARGUMENT;
    der_init(&d);
    der_begin(&d, DER_SEQUENCE);
    der_put_uint(&d, rs, len / 2);
    der_put_uint(&d, rs + len / 2, len / 2);
    der_end(&d);
    rc = der_finish(&d);
    if (rc != 0)
        goto out;
    if (d.len > cap) {
        rc = PSC_PSA_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(out, d.buf, d.len);
    *out_len = d.len;
out:
    der_free(&d);
    return rc;
}
