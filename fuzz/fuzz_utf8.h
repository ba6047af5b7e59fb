/* A reference UTF-8 validator for the fuzz targets' invariants. */
#ifndef PARSEC_FUZZ_UTF8_H
#define PARSEC_FUZZ_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Well-formed UTF-8 after the Unicode Standard's table 3-7 of byte ranges, written without
 * decoding code points so that it shares nothing with common/utf8.c. */
static inline int utf8_wellformed(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        uint8_t lo = 0x80, hi = 0xBF;
        size_t more;
        if (b <= 0x7F) {
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            more = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            more = 2;
            if (b == 0xE0)
                lo = 0xA0;
            if (b == 0xED)
                hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            more = 3;
            if (b == 0xF0)
                lo = 0x90;
            if (b == 0xF4)
                hi = 0x8F;
        } else {
            return 0;
        }
        if (n - i - 1 < more)
            return 0;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= more; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                return 0;
        i += more + 1;
    }
    return 1;
}

#endif
