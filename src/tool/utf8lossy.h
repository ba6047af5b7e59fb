/* Printing bytes as text the way Rust's String::from_utf8_lossy does: well-formed UTF-8 is
 * copied, and every maximal ill-formed subpart (Unicode §3.9, "U+FFFD substitution of maximal
 * subparts") becomes one U+FFFD. */
#ifndef PARSEC_TOOL_UTF8LOSSY_H
#define PARSEC_TOOL_UTF8LOSSY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Returns 0, or -1 if writing failed. */
int utf8_lossy_write(FILE *f, const uint8_t *p, size_t n);

#endif
