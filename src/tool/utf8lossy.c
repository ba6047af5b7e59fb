#include "tool/utf8lossy.h"

/* Length of the well-formed sequence starting at p[0..n), or, when it is ill-formed, minus the
 * length of its maximal subpart (at least 1). */
static long sequence(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        need = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 3;
        if (b == 0xe0)
            lo = 0xa0; /* no overlongs */
        else if (b == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return -1;
    }
    for (size_t i = 1; i < need; i++) {
        uint8_t min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
        if (i >= n || p[i] < min || p[i] > max)
            return -(long)i;
    }
    return (long)need;
}

int utf8_lossy_write(FILE *f, const uint8_t *p, size_t n)
{
    static const uint8_t replacement[] = {0xef, 0xbf, 0xbd};
    size_t i = 0;
    while (i < n) {
        long s = sequence(p + i, n - i);
        if (s > 0) {
            if (fwrite(p + i, 1, (size_t)s, f) != (size_t)s)
                return -1;
            i += (size_t)s;
        } else {
            if (fwrite(replacement, 1, sizeof(replacement), f) != sizeof(replacement))
                return -1;
            i += (size_t)-s;
        }
    }
    return 0;
}
