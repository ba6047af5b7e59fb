/* Hexadecimal digits, for the parsers of configuration values and of the service's replies. */
#ifndef PARSEC_HEX_H
#define PARSEC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/* Decodes 2 * n hex digits from s into n bytes at out. Returns 0, or -1 if a character is not
 * a hex digit (out is then partly written: the caller wipes it if it is a secret). */
int hex_decode(const char *s, size_t n, uint8_t *out);

#endif
