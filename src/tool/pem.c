#include "tool/pem.h"

#include <openssl/evp.h>

int pem_write(FILE *f, const char *tag, const uint8_t *der, size_t n)
{
    /* 48 input bytes make exactly one 64-character line. */
    enum { LINE_BYTES = PEM_LINE_CHARS / 4 * 3 };
    unsigned char line[PEM_LINE_CHARS + 1];
    if (fprintf(f, "-----BEGIN %s-----\n", tag) < 0)
        return -1;
    for (size_t i = 0; i < n; i += LINE_BYTES) {
        size_t k = n - i < LINE_BYTES ? n - i : LINE_BYTES;
        int len = EVP_EncodeBlock(line, der + i, (int)k);
        if (fwrite(line, 1, (size_t)len, f) != (size_t)len || fputc('\n', f) == EOF)
            return -1;
    }
    if (fprintf(f, "-----END %s-----\n", tag) < 0)
        return -1;
    return 0;
}
