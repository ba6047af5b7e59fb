#include "common/base64.h"

#include <stdint.h>

#include "wire/status.h"

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a symbol of the URL-safe alphabet, -1 for anything else ('=' included). */
static int symbol_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int base64url_encode(const uint8_t *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    size_t need, o = 0;

    if (in_len > SIZE_MAX / 2)
        return PSC_PSA_BUFFER_TOO_SMALL;
    need = BASE64_ENCODED_LEN(in_len);
    if (out == NULL || out_cap < need + 1)
        return PSC_PSA_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < in_len; i += 3) {
        size_t left = in_len - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = left > 1 ? alphabet[v >> 6 & 63] : '=';
        out[o++] = left > 2 ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

int base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t pad = 0, o = 0, n;

    if (in_len % 4 != 0)
        return PSC_INVALID_ENCODING;
    if (in_len > 0 && in[in_len - 1] == '=')
        pad = in_len > 1 && in[in_len - 2] == '=' ? 2 : 1;
    n = in_len / 4 * 3 - pad;
    if (n > out_cap || (out == NULL && n != 0))
        return PSC_PSA_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < in_len; i += 4) {
        /* Only the last quantum may hold padding, and only after at least two symbols. */
        size_t symbols = i + 4 == in_len ? 4 - pad : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int s = 0;
            if (k < symbols) {
                s = symbol_value((unsigned char)in[i + k]);
                if (s < 0)
                    return PSC_INVALID_ENCODING;
            }
            v = v << 6 | (uint32_t)s;
        }
        /* A canonical encoder leaves the bits past the last whole byte at zero. */
        if ((symbols == 2 && (v & 0xFFFF) != 0) || (symbols == 3 && (v & 0xFF) != 0))
            return PSC_INVALID_ENCODING;
        out[o++] = (uint8_t)(v >> 16);
        if (symbols > 2)
            out[o++] = (uint8_t)(v >> 8);
        if (symbols > 3)
            out[o++] = (uint8_t)v;
    }
    if (out_len != NULL)
        *out_len = o;
    return 0;
}
