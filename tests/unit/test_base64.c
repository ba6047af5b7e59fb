/* URL-safe padded base64 as used for on-disk key mapping names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"
#include "wire/status.h"

static void check_pair(const char *raw, size_t raw_len, const char *text)
{
    char enc[256];
    uint8_t dec[256];
    size_t n = 12345;

    assert_int_equal(base64url_encode((const uint8_t *)raw, raw_len, enc, sizeof(enc), &n), 0);
    assert_int_equal(n, strlen(text));
    assert_string_equal(enc, text);
    n = 12345;
    assert_int_equal(base64url_decode(text, strlen(text), dec, sizeof(dec), &n), 0);
    assert_int_equal(n, raw_len);
    assert_memory_equal(dec, raw, raw_len);
}

static void test_mapping_names(void **state)
{
    (void)state;
    check_pair("parsec-tool", 11, "cGFyc2VjLXRvb2w=");
    check_pair("toto", 4, "dG90bw==");
    check_pair("tpmRootKeyTPM", 13, "dHBtUm9vdEtleVRQTQ==");
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    check_pair("", 0, "");
    check_pair("f", 1, "Zg==");
    check_pair("fo", 2, "Zm8=");
    check_pair("foo", 3, "Zm9v");
    check_pair("foob", 4, "Zm9vYg==");
    check_pair("fooba", 5, "Zm9vYmE=");
    check_pair("foobar", 6, "Zm9vYmFy");
}

static void test_url_safe_alphabet(void **state)
{
    (void)state;
    /* 0xfb 0xff is "+/8=" in the standard alphabet. */
    check_pair("\xfb\xff", 2, "-_8=");
    check_pair("\xfb\xef\xbe", 3, "----");
    check_pair("\xff\xff\xff", 3, "____");
    /* Every byte value survives a round trip. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    char enc[BASE64_ENCODED_LEN(256) + 1];
    uint8_t dec[256];
    size_t n;
    assert_int_equal(base64url_encode((uint8_t *)all, 256, enc, sizeof(enc), &n), 0);
    assert_int_equal(n, BASE64_ENCODED_LEN(256));
    assert_null(strpbrk(enc, "+/"));
    assert_int_equal(base64url_decode(enc, n, dec, sizeof(dec), &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(dec, all, 256);
}

static void test_rejects_non_canonical(void **state)
{
    static const char *const bad[] = {
        "Zg",       /* padding missing */
        "Zg=",      /* padding short */
        "Zm8",      /* padding missing */
        "Zg===",    /* padding too long */
        "Zg=====",  /* padding too long */
        "Z===",     /* one symbol cannot make a byte */
        "====",     /* padding only */
        "=Zg=",     /* padding first */
        "Zg==Zg==", /* padding inside */
        "Zm=v",     /* padding inside the last quantum */
        "Zh==",     /* trailing bits set */
        "Zm9=",     /* trailing bits set */
        "+/8=",     /* standard alphabet */
        "Zm9v\n",   /* whitespace */
        "Zm 9v",    /* whitespace */
        "Zm9v====", /* padding after a full quantum */
        "Zm9\x80",  /* non-ASCII */
    };
    uint8_t out[16];
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = base64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n);
        if (rc != PSC_INVALID_ENCODING)
            fail_msg("\"%s\" accepted (rc %d)", bad[i], rc);
    }
    /* An embedded NUL is a foreign character. */
    assert_int_equal(base64url_decode("Zg\0=", 4, out, sizeof(out), &n), PSC_INVALID_ENCODING);
}

static void test_bounds(void **state)
{
    char enc[8];
    uint8_t dec[2];
    size_t n;

    (void)state;
    /* "foo" needs 4 characters and the NUL. */
    assert_int_equal(base64url_encode((const uint8_t *)"foo", 3, enc, 4, &n),
                     PSC_PSA_BUFFER_TOO_SMALL);
    assert_int_equal(base64url_encode((const uint8_t *)"foo", 3, enc, 5, &n), 0);
    assert_string_equal(enc, "Zm9v");
    assert_int_equal(base64url_decode("Zm9v", 4, dec, sizeof(dec), &n), PSC_PSA_BUFFER_TOO_SMALL);
    assert_int_equal(base64url_decode("Zm8=", 4, dec, sizeof(dec), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(base64url_encode((const uint8_t *)"x", SIZE_MAX, enc, sizeof(enc), &n),
                     PSC_PSA_BUFFER_TOO_SMALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_names),
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_safe_alphabet),
        cmocka_unit_test(test_rejects_non_canonical),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
