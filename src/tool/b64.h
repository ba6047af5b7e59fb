/* Base64 as the original tool handles it: standard alphabet, '=' padding, one line when
 * encoding; decoding with the exact rules and error reports of the Rust base64 0.13 crate
 * (padding optional, no whitespace, no URL-safe characters, canonical trailing bits), because
 * scripts may match the error text that `decrypt` prints. */
#ifndef PARSEC_TOOL_B64_H
#define PARSEC_TOOL_B64_H

#include <stddef.h>
#include <stdint.h>

/* Longest input `decrypt` accepts on its command line is bounded by the kernel's argument
 * limit; this bounds the decoder independently of it. */
#define B64_DECODE_MAX_IN (16u * 1024u * 1024u)

enum b64_error {
    B64_OK = 0,
    B64_INVALID_BYTE,        /* offset, byte */
    B64_INVALID_LENGTH,      /* a 6-bit remainder */
    B64_INVALID_LAST_SYMBOL, /* offset, byte: non-zero bits the output would drop */
    B64_TOO_LONG,            /* above B64_DECODE_MAX_IN */
    B64_NO_MEMORY,
};

struct b64_status {
    enum b64_error err;
    size_t offset;
    uint8_t byte;
};

/* Encodes in[0..n) on one line without a newline. Returns a malloc'd NUL-terminated string,
 * or NULL when out of memory. */
char *b64_encode(const uint8_t *in, size_t n);

/* Decodes text[0..n) into a malloc'd buffer (*out, *out_len; *out is non-NULL on success,
 * even for empty output). Returns 0 or -1 with *st describing the failure. */
int b64_decode(const char *text, size_t n, uint8_t **out, size_t *out_len, struct b64_status *st);

/* Display and Debug texts of a failure, as the Rust crate prints them
 * ("Invalid byte 10, offset 8." / "InvalidByte(8, 10)"). */
void b64_error_display(const struct b64_status *st, char *buf, size_t cap);
void b64_error_debug(const struct b64_status *st, char *buf, size_t cap);

#endif
