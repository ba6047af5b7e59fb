#ifndef PARSEC_UTF8_H
#define PARSEC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Whether p[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF). NUL bytes are well-formed UTF-8 and accepted. */
int utf8_valid(const uint8_t *p, size_t len);

#endif
