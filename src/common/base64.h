/* Base64 with the RFC 4648 §5 URL- and filename-safe alphabet ('-', '_') and '=' padding, as
 * the original service names its on-disk key mapping files and folders. Decoding is strict
 * like Rust's base64 0.22 URL_SAFE engine: the padding must be present and canonical, and the
 * unused bits of the last symbol must be zero, so every byte string has exactly one name. */
#ifndef PARSEC_BASE64_H
#define PARSEC_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, padding included, terminating NUL excluded. Callers
 * must keep n below SIZE_MAX / 2 (base64url_encode checks). */
#define BASE64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)
/* Upper bound of the bytes a text of n characters decodes to. */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3)

/* Encodes in[0..in_len) into out, NUL-terminated. out_cap must be at least
 * BASE64_ENCODED_LEN(in_len) + 1, else PSC_PSA_BUFFER_TOO_SMALL. *out_len (may be NULL) gets
 * the text length. */
int base64url_encode(const uint8_t *in, size_t in_len, char *out, size_t out_cap, size_t *out_len);

/* Decodes in[0..in_len) into out[0..out_cap). Returns 0, PSC_INVALID_ENCODING for anything
 * but canonical padded URL-safe base64 (wrong length, foreign character, misplaced or missing
 * '=', non-zero trailing bits), or PSC_PSA_BUFFER_TOO_SMALL. */
int base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
