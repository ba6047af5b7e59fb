/* PEM framing (RFC 7468) of DER data as the tool prints it: "-----BEGIN <TAG>-----", standard
 * base64 in 64-character lines, "-----END <TAG>-----", each line ending with LF. */
#ifndef PARSEC_TOOL_PEM_H
#define PARSEC_TOOL_PEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Characters of base64 per PEM line. */
#define PEM_LINE_CHARS 64

/* Writes the PEM block to f. Returns 0, or -1 if writing failed. */
int pem_write(FILE *f, const char *tag, const uint8_t *der, size_t n);

#endif
