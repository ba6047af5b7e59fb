#include "tool/b64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

char *b64_encode(const uint8_t *in, size_t n)
{
    /* EVP_EncodeBlock takes an int length; encode in chunks that keep it far from that. */
    enum { CHUNK = 3 * 1024 * 1024 };
    if (n > SIZE_MAX / 2)
        return NULL;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, in + i, (int)k);
    }
    out[o] = '\0';
    return out;
}

static int symbol_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int fail(struct b64_status *st, enum b64_error e, size_t offset, uint8_t byte)
{
    st->err = e;
    st->offset = offset;
    st->byte = byte;
    return -1;
}

/* The Rust crate decodes 8-symbol chunks in a fast loop that knows nothing of padding, and
 * keeps the final chunk (the last 8 symbols, or the partial chunk) for a slow path that
 * accepts up to two '=' at the end of a quad. Errors therefore depend on where a byte falls
 * relative to that final chunk, and this decoder follows the same split. */
int b64_decode(const char *text, size_t n, uint8_t **out, size_t *out_len, struct b64_status *st)
{
    const uint8_t *in = (const uint8_t *)text;
    uint8_t *buf = NULL;
    size_t o = 0;
    memset(st, 0, sizeof(*st));
    *out = NULL;
    *out_len = 0;
    if (n > B64_DECODE_MAX_IN)
        return fail(st, B64_TOO_LONG, 0, 0);
    size_t rem = n % 8;
    if (rem == 1 || rem == 5)
        return fail(st, B64_INVALID_LENGTH, 0, 0);
    size_t tail = rem ? rem : (n >= 8 ? 8 : n);
    size_t lead = n - tail;
    buf = malloc(n / 4 * 3 + 3);
    if (!buf)
        return fail(st, B64_NO_MEMORY, 0, 0);
    for (size_t i = 0; i < lead; i += 4) {
        uint32_t acc = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = symbol_value(in[i + k]);
            if (v < 0) {
                free(buf);
                return fail(st, B64_INVALID_BYTE, i + k, in[i + k]);
            }
            acc = acc << 6 | (uint32_t)v;
        }
        buf[o++] = (uint8_t)(acc >> 16);
        buf[o++] = (uint8_t)(acc >> 8);
        buf[o++] = (uint8_t)acc;
    }
    uint64_t bits = 0;
    size_t morsels = 0, pads = 0, first_pad = 0;
    uint8_t last = 0;
    for (size_t i = 0; i < tail; i++) {
        uint8_t c = in[lead + i];
        if (c == '=') {
            if (i % 4 < 2) {
                free(buf);
                return fail(st, B64_INVALID_BYTE, lead + (pads ? first_pad : i), c);
            }
            if (pads++ == 0)
                first_pad = i;
            continue;
        }
        if (pads) {
            free(buf);
            return fail(st, B64_INVALID_BYTE, lead + first_pad, '=');
        }
        int v = symbol_value(c);
        if (v < 0) {
            free(buf);
            return fail(st, B64_INVALID_BYTE, lead + i, c);
        }
        bits |= (uint64_t)v << (64 - (morsels + 1) * 6);
        morsels++;
        last = c;
    }
    static const unsigned ready_bits[9] = {0, 0, 8, 16, 24, 0, 32, 40, 48};
    if (morsels == 1 || morsels == 5) {
        free(buf);
        return fail(st, B64_INVALID_LENGTH, 0, 0);
    }
    unsigned ready = ready_bits[morsels];
    if (morsels && (bits & (UINT64_MAX >> ready)) != 0) {
        free(buf);
        return fail(st, B64_INVALID_LAST_SYMBOL, lead + morsels - 1, last);
    }
    for (unsigned b = 0; b < ready; b += 8)
        buf[o++] = (uint8_t)(bits >> (56 - b));
    *out = buf;
    *out_len = o;
    return 0;
}

void b64_error_display(const struct b64_status *st, char *buf, size_t cap)
{
    switch (st->err) {
    case B64_INVALID_BYTE:
        snprintf(buf, cap, "Invalid byte %u, offset %zu.", st->byte, st->offset);
        break;
    case B64_INVALID_LENGTH:
        snprintf(buf, cap, "Encoded text cannot have a 6-bit remainder.");
        break;
    case B64_INVALID_LAST_SYMBOL:
        snprintf(buf, cap, "Invalid last symbol %u, offset %zu.", st->byte, st->offset);
        break;
    case B64_TOO_LONG:
        snprintf(buf, cap, "Encoded text is longer than %u bytes.", B64_DECODE_MAX_IN);
        break;
    default:
        snprintf(buf, cap, "Out of memory.");
        break;
    }
}

void b64_error_debug(const struct b64_status *st, char *buf, size_t cap)
{
    switch (st->err) {
    case B64_INVALID_BYTE:
        snprintf(buf, cap, "InvalidByte(%zu, %u)", st->offset, st->byte);
        break;
    case B64_INVALID_LENGTH:
        snprintf(buf, cap, "InvalidLength");
        break;
    case B64_INVALID_LAST_SYMBOL:
        snprintf(buf, cap, "InvalidLastSymbol(%zu, %u)", st->offset, st->byte);
        break;
    case B64_TOO_LONG:
        snprintf(buf, cap, "TooLong");
        break;
    default:
        snprintf(buf, cap, "OutOfMemory");
        break;
    }
}
