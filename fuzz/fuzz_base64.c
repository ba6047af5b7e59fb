/* URL-safe padded base64 (src/common/base64.h), the names of on-disk key mappings.
 *
 * Input: taken both as a name to decode and as bytes to encode. Invariants: decoding is strict,
 * so a text that decodes is the one canonical encoding of its bytes; any bytes encode to a text
 * of the announced length that decodes back to them; buffers of exactly the announced size
 * suffice and one byte less is refused. Buffers are allocated to the exact size so that
 * AddressSanitizer sees any write past them. */
#include <string.h>

#include "common/base64.h"
#include "fuzz_check.h"
#include "wire/status.h"

static int in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* data as a name. */
static void check_decode(const uint8_t *data, size_t size)
{
    size_t cap = BASE64_DECODED_MAX(size);
    uint8_t *out = malloc(cap ? cap : 1);
    size_t n = 0;
    FUZZ_CHECK(out != NULL);

    int rc = base64url_decode((const char *)data, size, out, cap, &n);
    FUZZ_CHECK(rc == 0 || rc == PSC_INVALID_ENCODING);
    if (rc == 0) {
        FUZZ_CHECK(size % 4 == 0 && n <= cap && n + 2 >= cap);
        /* Canonical: encoding the bytes gives the very same text. */
        size_t tcap = BASE64_ENCODED_LEN(n) + 1, tlen = 0;
        char *text = malloc(tcap);
        FUZZ_CHECK(text != NULL);
        FUZZ_CHECK(base64url_encode(out, n, text, tcap, &tlen) == 0);
        FUZZ_CHECK(tlen == size && memcmp(text, data, size) == 0 && text[tlen] == '\0');
        free(text);
        /* Exactly n bytes of room suffice, one less does not. */
        uint8_t *exact = malloc(n ? n : 1);
        size_t n2 = 0;
        FUZZ_CHECK(exact != NULL);
        FUZZ_CHECK(base64url_decode((const char *)data, size, exact, n, &n2) == 0);
        FUZZ_CHECK(n2 == n && memcmp(exact, out, n) == 0);
        if (n > 0)
            FUZZ_CHECK(base64url_decode((const char *)data, size, exact, n - 1, &n2) ==
                       PSC_PSA_BUFFER_TOO_SMALL);
        free(exact);
    }
    free(out);
}

/* data as bytes. */
static void check_encode(const uint8_t *data, size_t size)
{
    size_t need = BASE64_ENCODED_LEN(size), tlen = 0;
    char *text = malloc(need + 1);
    FUZZ_CHECK(text != NULL);

    FUZZ_CHECK(base64url_encode(data, size, text, need, &tlen) == PSC_PSA_BUFFER_TOO_SMALL);
    FUZZ_CHECK(base64url_encode(data, size, text, need + 1, &tlen) == 0);
    FUZZ_CHECK(tlen == need && text[tlen] == '\0');
    size_t pad = size % 3 == 0 ? 0 : 3 - size % 3;
    for (size_t i = 0; i < tlen; i++)
        FUZZ_CHECK(i >= tlen - pad ? text[i] == '=' : in_alphabet(text[i]));

    uint8_t *back = malloc(size ? size : 1);
    size_t n = 0;
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(base64url_decode(text, tlen, back, size, &n) == 0);
    FUZZ_CHECK(n == size && memcmp(back, data, size) == 0);
    free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_encode(data, size);
    return 0;
}
