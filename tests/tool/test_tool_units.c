/* Unit tests of parsec-tool's local parts: DER writing and ECDSA signature conversion (checked
 * against OpenSSL), SubjectPublicKeyInfo building, base64 with the original's error reports,
 * lossy UTF-8 output, option parsing, log filters, and the Debug spellings of PSA values. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tool/args.h"
#include "tool/b64.h"
#include "tool/der.h"
#include "tool/names.h"
#include "tool/spki.h"
#include "tool/tlog.h"
#include "tool/utf8lossy.h"

/* ---- DER ---------------------------------------------------------------------------------- */

static void expect_sig(const uint8_t *rs, size_t len, const uint8_t *want, size_t want_len)
{
    uint8_t out[DER_ECDSA_SIG_MAX(132)];
    size_t n = 0;
    assert_int_equal(der_ecdsa_sig_from_raw(rs, len, out, sizeof(out), &n), 0);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, n);
}

static void test_ecdsa_minimal_integers(void **state)
{
    (void)state;
    /* r = 0x0001, s = 0x7f00: leading zero dropped, no sign octet. */
    const uint8_t a[] = {0x00, 0x01, 0x7f, 0x00};
    const uint8_t a_der[] = {0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x7f, 0x00};
    expect_sig(a, sizeof(a), a_der, sizeof(a_der));
    /* r = 0x80.., s = 0x00 0x80: sign octet added; a leading zero kept only when needed. */
    const uint8_t b[] = {0x80, 0x01, 0x00, 0x80};
    const uint8_t b_der[] = {0x30, 0x09, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x02, 0x00, 0x80};
    expect_sig(b, sizeof(b), b_der, sizeof(b_der));
    /* Zero is one 0x00 octet. */
    const uint8_t c[] = {0x00, 0x00, 0x00, 0x00};
    const uint8_t c_der[] = {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00};
    expect_sig(c, sizeof(c), c_der, sizeof(c_der));
    uint8_t out[16];
    size_t n;
    assert_int_equal(der_ecdsa_sig_from_raw(a, 3, out, sizeof(out), &n), 1135);
    assert_int_equal(der_ecdsa_sig_from_raw(a, 0, out, sizeof(out), &n), 1135);
    assert_int_equal(der_ecdsa_sig_from_raw(b, 4, out, 4, &n), 1138);
}

/* Every shape of r and s (leading zero octets, high bits) against OpenSSL's encoder, which
 * writes minimal DER, for P-256, P-384 and P-521 sizes. */
static void test_ecdsa_against_openssl(void **state)
{
    (void)state;
    static const size_t halves[] = {32, 48, 66};
    for (int iter = 0; iter < 3000; iter++) {
        size_t half = halves[iter % 3];
        uint8_t rs[132];
        assert_int_equal(RAND_bytes(rs, (int)(2 * half)), 1);
        /* Force the rare cases: leading zero octets, and a high first bit. */
        switch (iter % 8) {
        case 0:
            rs[0] = 0;
            break;
        case 1:
            rs[half] = 0;
            rs[half + 1] = 0x12;
            break;
        case 2:
            rs[0] = 0;
            rs[1] = 0;
            rs[2] |= 0x80;
            break;
        case 3:
            rs[0] |= 0x80;
            rs[half] |= 0x80;
            break;
        case 4:
            memset(rs, 0, half);
            break;
        case 5:
            rs[0] = 0;
            rs[1] = 0x7f;
            break;
        default:
            break;
        }
        ECDSA_SIG *sig = ECDSA_SIG_new();
        assert_non_null(sig);
        BIGNUM *r = BN_bin2bn(rs, (int)half, NULL), *s = BN_bin2bn(rs + half, (int)half, NULL);
        assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
        unsigned char *ref = NULL;
        int ref_len = i2d_ECDSA_SIG(sig, &ref);
        assert_true(ref_len > 0);
        uint8_t out[DER_ECDSA_SIG_MAX(132)];
        size_t n = 0;
        assert_int_equal(der_ecdsa_sig_from_raw(rs, 2 * half, out, sizeof(out), &n), 0);
        assert_int_equal(n, (size_t)ref_len);
        assert_memory_equal(out, ref, n);
        OPENSSL_free(ref);
        ECDSA_SIG_free(sig);
    }
}

static void test_der_lengths_and_oids(void **state)
{
    (void)state;
    struct der d;
    uint8_t big[300];
    memset(big, 0xab, sizeof(big));
    der_init(&d);
    der_begin(&d, DER_SEQUENCE);
    der_put_tlv(&d, DER_OCTET_STRING, big, 200); /* length 0x81 0xc8 */
    der_begin(&d, DER_SEQUENCE);
    der_end(&d);
    der_end(&d);
    assert_int_equal(der_finish(&d), 0);
    /* 30 81 cd: 3 + 200 + 2 = 205 content bytes, one length octet in long form. */
    assert_int_equal(d.len, 3 + 205);
    assert_int_equal(d.buf[0], 0x30);
    assert_int_equal(d.buf[1], 0x81);
    assert_int_equal(d.buf[2], 205);
    assert_int_equal(d.buf[3], 0x04);
    assert_int_equal(d.buf[4], 0x81);
    assert_int_equal(d.buf[5], 200);
    der_free(&d);

    uint8_t oid[32];
    size_t n = 0;
    const uint8_t sha256rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    assert_int_equal(der_oid_encode("1.2.840.113549.1.1.11", oid, sizeof(oid), &n), 0);
    assert_int_equal(n, sizeof(sha256rsa));
    assert_memory_equal(oid, sha256rsa, n);
    const uint8_t sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
    assert_int_equal(der_oid_encode("2.16.840.1.101.3.4.2.1", oid, sizeof(oid), &n), 0);
    assert_memory_equal(oid, sha256, n);
    assert_int_not_equal(der_oid_encode("1", oid, sizeof(oid), &n), 0);
    assert_int_not_equal(der_oid_encode("1.2.", oid, sizeof(oid), &n), 0);
    assert_int_not_equal(der_oid_encode("3.1", oid, sizeof(oid), &n), 0);
    assert_int_not_equal(der_oid_encode("1.40", oid, sizeof(oid), &n), 0);

    /* Unbalanced end, and values above the limit, poison the writer. */
    der_init(&d);
    der_end(&d);
    assert_int_not_equal(der_finish(&d), 0);
    der_free(&d);
    der_init(&d);
    der_begin(&d, DER_SEQUENCE);
    assert_int_not_equal(der_finish(&d), 0);
    der_free(&d);
}

static void test_der_reader(void **state)
{
    (void)state;
    const uint8_t ok[] = {0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03};
    const uint8_t *p = ok, *c;
    size_t n;
    assert_int_equal(der_get(&p, ok + sizeof(ok), DER_SEQUENCE, &c, &n), 0);
    assert_int_equal(n, 6);
    assert_ptr_equal(p, ok + sizeof(ok));
    assert_true(spki_rsa_public_key_valid(ok, sizeof(ok)));
    const uint8_t trailing[] = {0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x00};
    assert_false(spki_rsa_public_key_valid(trailing, sizeof(trailing)));
    const uint8_t negative[] = {0x30, 0x06, 0x02, 0x01, 0x85, 0x02, 0x01, 0x03};
    assert_false(spki_rsa_public_key_valid(negative, sizeof(negative)));
    const uint8_t long_form_short[] = {0x30, 0x81, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03};
    assert_false(spki_rsa_public_key_valid(long_form_short, sizeof(long_form_short)));
    const uint8_t truncated[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03};
    assert_false(spki_rsa_public_key_valid(truncated, sizeof(truncated)));
    const uint8_t indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
    assert_false(spki_rsa_public_key_valid(indefinite, sizeof(indefinite)));
}

/* Our SPKI of a key's PSA export must be byte for byte OpenSSL's own. */
static void check_spki(EVP_PKEY *key, psa_key_type_t type, size_t bits)
{
    unsigned char *psa = NULL, *ref = NULL;
    int psa_len = i2d_PublicKey(key, &psa); /* PKCS#1 for RSA, the point for EC */
    int ref_len = i2d_PUBKEY(key, &ref);
    assert_true(psa_len > 0 && ref_len > 0);
    struct der d;
    der_init(&d);
    assert_int_equal(spki_put(&d, "test", type, bits, psa, (size_t)psa_len, 0), 0);
    assert_int_equal(der_finish(&d), 0);
    assert_int_equal(d.len, (size_t)ref_len);
    assert_memory_equal(d.buf, ref, d.len);
    der_free(&d);
    OPENSSL_free(psa);
    OPENSSL_free(ref);
}

static void test_spki_against_openssl(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_RSA_gen(1024);
    assert_non_null(rsa);
    check_spki(rsa, PSA_KEY_TYPE_RSA_KEY_PAIR, 1024);
    EVP_PKEY_free(rsa);
    static const struct {
        const char *curve;
        psa_ecc_family_t family;
        size_t bits;
    } curves[] = {{"P-256", PSA_ECC_FAMILY_SECP_R1, 256},
                  {"P-384", PSA_ECC_FAMILY_SECP_R1, 384},
                  {"P-521", PSA_ECC_FAMILY_SECP_R1, 521},
                  {"secp256k1", PSA_ECC_FAMILY_SECP_K1, 256}};
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        EVP_PKEY *ec = EVP_EC_gen(curves[i].curve);
        assert_non_null(ec);
        check_spki(ec, PSA_KEY_TYPE_ECC_PUBLIC_KEY(curves[i].family), curves[i].bits);
        EVP_PKEY_free(ec);
    }
    /* Unknown sizes and families are refused, as the original refuses them. */
    struct der d;
    const uint8_t point[65] = {4};
    der_init(&d);
    assert_int_equal(spki_put(&d, "test", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 255,
                              point, sizeof(point), 0),
                     -1);
    assert_int_equal(spki_put(&d, "test", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255,
                              point, sizeof(point), 0),
                     -1);
    assert_int_equal(spki_put(&d, "test", PSA_KEY_TYPE_AES, 128, point, 16, 0), -1);
    assert_int_equal(spki_put(&d, "test", PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, point, 16, 0), -1);
    der_free(&d);
}

/* ---- base64 ------------------------------------------------------------------------------- */

static void expect_decoded(const char *in, const char *want)
{
    uint8_t *out;
    size_t n;
    struct b64_status st;
    assert_int_equal(b64_decode(in, strlen(in), &out, &n, &st), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    free(out);
}

static void expect_b64_error(const char *in, const char *display, const char *debug)
{
    uint8_t *out;
    size_t n;
    struct b64_status st;
    char buf[128];
    assert_int_equal(b64_decode(in, strlen(in), &out, &n, &st), -1);
    assert_null(out);
    b64_error_display(&st, buf, sizeof(buf));
    assert_string_equal(buf, display);
    b64_error_debug(&st, buf, sizeof(buf));
    assert_string_equal(buf, debug);
}

static void test_base64(void **state)
{
    (void)state;
    expect_decoded("", "");
    expect_decoded("aGVsbG8=", "hello");
    expect_decoded("aGVsbG8", "hello");
    expect_decoded("QQ", "A");
    expect_decoded("QQ=", "A");
    expect_decoded("QQ==", "A");
    expect_decoded("QUJD", "ABC");
    expect_decoded("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=", "abcdefghijklmnopqrstuvwxyz");
    expect_b64_error("AAAAAAAA\nAAA", "Invalid byte 10, offset 8.", "InvalidByte(8, 10)");
    expect_b64_error("abc!", "Invalid byte 33, offset 3.", "InvalidByte(3, 33)");
    expect_b64_error("abcde", "Encoded text cannot have a 6-bit remainder.", "InvalidLength");
    expect_b64_error("a", "Encoded text cannot have a 6-bit remainder.", "InvalidLength");
    expect_b64_error("aGVsbG9=", "Invalid last symbol 57, offset 6.", "InvalidLastSymbol(6, 57)");
    expect_b64_error("AA==AA==", "Invalid byte 61, offset 2.", "InvalidByte(2, 61)");
    expect_b64_error("A===", "Invalid byte 61, offset 1.", "InvalidByte(1, 61)");
    expect_b64_error("AAAA====", "Invalid byte 61, offset 4.", "InvalidByte(4, 61)");
    expect_b64_error("-_AA", "Invalid byte 45, offset 0.", "InvalidByte(0, 45)");
    /* '=' before the final chunk is just an invalid byte. */
    expect_b64_error("AA==AAAAAAAA", "Invalid byte 61, offset 2.", "InvalidByte(2, 61)");
    expect_b64_error("aGVsbG8=AAAAAAAA", "Invalid byte 61, offset 7.", "InvalidByte(7, 61)");
    expect_b64_error("aGVsbG8= ", "Encoded text cannot have a 6-bit remainder.", "InvalidLength");

    const uint8_t bytes[] = {0xff, 0x00, 0xfe, 0x10};
    char *text = b64_encode(bytes, sizeof(bytes));
    assert_string_equal(text, "/wD+EA==");
    free(text);
    text = b64_encode(bytes, 0);
    assert_string_equal(text, "");
    free(text);
}

/* ---- lossy UTF-8 -------------------------------------------------------------------------- */

static void expect_lossy(const char *in, size_t n, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(utf8_lossy_write(f, (const uint8_t *)in, n), 0);
    fclose(f);
    assert_string_equal(buf, want);
    free(buf);
}

static void test_utf8_lossy(void **state)
{
    (void)state;
#define FFFD "\xef\xbf\xbd"
    expect_lossy("plain", 5, "plain");
    expect_lossy("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
    expect_lossy("a\xff"
                 "b",
                 3, "a" FFFD "b");
    expect_lossy("\xe2\x82", 2, FFFD);
    expect_lossy("\xe2\x82"
                 "A",
                 3, FFFD "A");
    expect_lossy("\xed\xa0\x80", 3, FFFD FFFD FFFD);
    expect_lossy("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
    expect_lossy("\xc0\xaf", 2, FFFD FFFD);
    expect_lossy("\xf0\x9f\x98", 3, FFFD);
    expect_lossy("\xe0\x80\x80", 3, FFFD FFFD FFFD);
    expect_lossy("x\x00y", 3, "x"); /* a NUL is copied; the string compare stops at it */
#undef FFFD
}

/* ---- options ------------------------------------------------------------------------------ */

static const struct arg_spec test_opts[] = {
    {'k', "key-name", ARG_STRING, 1, "KEY_NAME", "key"},
    {'s', "for-signing", ARG_FLAG, 0, NULL, "flag s"},
    {'r', "for-signing-pss", ARG_FLAG, 0, NULL, "flag r"},
    {'b', "bits", ARG_USIZE, 0, "BITS", "bits"},
    {'p', "provider", ARG_U8, 0, "PROVIDER", "provider"},
    {0, "san", ARG_MULTI, 0, "SAN", "san"},
};

static const struct cmd_spec test_spec = {
    .name = "t",
    .about = "test",
    .opts = test_opts,
    .nopts = sizeof(test_opts) / sizeof(test_opts[0]),
    .positional = "INPUT_DATA",
};

static enum args_result parse(struct args *a, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return args_parse(&test_spec, "parsec-tool t", argc, argv, a);
}

static void test_args(void **state)
{
    (void)state;
    struct args a;
    assert_int_equal(parse(&a, 3, "-k", "name", "data"), ARGS_OK);
    assert_string_equal(a.v[0].str, "name");
    assert_string_equal(a.positional, "data");
    assert_int_equal(parse(&a, 2, "data", "--key-name=n=1"), ARGS_OK);
    assert_string_equal(a.v[0].str, "n=1");
    assert_int_equal(parse(&a, 2, "-knm", "x"), ARGS_OK);
    assert_string_equal(a.v[0].str, "nm");
    assert_int_equal(parse(&a, 2, "-k=v", "x"), ARGS_OK);
    assert_string_equal(a.v[0].str, "v");
    assert_int_equal(parse(&a, 3, "-srk", "n", "x"), ARGS_OK);
    assert_int_equal(a.v[1].count, 1);
    assert_int_equal(a.v[2].count, 1);
    assert_string_equal(a.v[0].str, "n");
    assert_int_equal(parse(&a, 4, "-k", "n", "--", "-data"), ARGS_OK);
    assert_string_equal(a.positional, "-data");
    assert_int_equal(parse(&a, 3, "-k", "n", ""), ARGS_OK);
    assert_string_equal(a.positional, "");
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "--san", "a"), ARGS_OK);
    assert_int_equal(parse(&a, 7, "-k", "n", "x", "--san", "a", "--san", "b,c"), ARGS_OK);
    assert_int_equal(a.v[5].count, 2);
    assert_string_equal(a.v[5].values[0], "a");
    assert_string_equal(a.v[5].values[1], "b,c");
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-b", "+0042"), ARGS_OK);
    assert_int_equal(a.v[3].num, 42);
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-p", "255"), ARGS_OK);
    assert_int_equal(a.v[4].num, 255);
    assert_int_equal(parse(&a, 3, "-k", "-", "x"), ARGS_OK); /* a lone '-' is a value */
    assert_string_equal(a.v[0].str, "-");

    /* Mistakes the original's parser refuses. */
    assert_int_equal(parse(&a, 1, "x"), ARGS_ERROR);                       /* missing -k */
    assert_int_equal(parse(&a, 2, "-k", "n"), ARGS_ERROR);                 /* missing data */
    assert_int_equal(parse(&a, 3, "-k", "-n", "x"), ARGS_ERROR);           /* value like option */
    assert_int_equal(parse(&a, 5, "-k", "n", "-k", "m", "x"), ARGS_ERROR); /* repeated */
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "y"), ARGS_ERROR);       /* extra */
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "--nope"), ARGS_ERROR);
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "-z"), ARGS_ERROR);
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "--for-signing=yes"), ARGS_ERROR);
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-p", "256"), ARGS_ERROR);
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-p", "0x1"), ARGS_ERROR);
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-p", " 1"), ARGS_ERROR);
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "-p="), ARGS_ERROR);
    assert_int_equal(parse(&a, 5, "-k", "n", "x", "-b", "99999999999999999999999"), ARGS_ERROR);
    assert_int_equal(parse(&a, 6, "-k", "n", "x", "--san", "a", "b"), ARGS_ERROR);
    assert_int_equal(parse(&a, 4, "-k", "n", "x", "--san"), ARGS_ERROR);
    assert_int_equal(parse(&a, 3, "-k", "n", "-x"), ARGS_ERROR);

    /* Help wins over missing arguments. */
    assert_int_equal(parse(&a, 1, "--help"), ARGS_HELP);
    assert_int_equal(parse(&a, 2, "-k", "-h"), ARGS_ERROR); /* -h is not a value either */
    assert_int_equal(parse(&a, 1, "-sh"), ARGS_HELP);

    uint64_t v;
    const char *why;
    assert_int_equal(args_parse_number("007", 255, &v, &why), 0);
    assert_int_equal(v, 7);
    assert_int_equal(args_parse_number("", 255, &v, &why), -1);
    assert_string_equal(why, "cannot parse integer from empty string");
    assert_int_equal(args_parse_number("+", 255, &v, &why), -1);
    assert_string_equal(why, "invalid digit found in string");
    assert_int_equal(args_parse_number("256", 255, &v, &why), -1);
    assert_string_equal(why, "number too large to fit in target type");
}

/* ---- log filter --------------------------------------------------------------------------- */

static void test_log_filter(void **state)
{
    (void)state;
    unsetenv("RUST_LOG");
    tlog_init();
    assert_true(tlog_enabled(TLOG_INFO, "parsec_tool::subcommands::ping"));
    assert_true(tlog_enabled(TLOG_INFO, "parsec_client::core::basic_client"));
    assert_false(tlog_enabled(TLOG_DEBUG, "parsec_tool"));

    setenv("RUST_LOG", "error", 1);
    tlog_init();
    assert_false(tlog_enabled(TLOG_INFO, "parsec_tool"));
    assert_false(tlog_enabled(TLOG_WARN, "parsec_tool"));
    assert_true(tlog_enabled(TLOG_ERROR, "parsec_tool"));

    setenv("RUST_LOG", "off", 1);
    tlog_init();
    assert_false(tlog_enabled(TLOG_ERROR, "parsec_tool"));

    setenv("RUST_LOG", "parsec_tool=debug", 1);
    tlog_init();
    assert_true(tlog_enabled(TLOG_DEBUG, "parsec_tool::util"));
    assert_true(tlog_enabled(TLOG_INFO, "parsec_client::core::basic_client"));
    assert_false(tlog_enabled(TLOG_DEBUG, "parsec_client::core::basic_client"));

    setenv("RUST_LOG", " warn , parsec_tool::subcommands=off,parsec_tool::util", 1);
    tlog_init();
    assert_false(tlog_enabled(TLOG_ERROR, "parsec_tool::subcommands::sign"));
    assert_true(tlog_enabled(TLOG_WARN, "parsec_tool"));
    assert_false(tlog_enabled(TLOG_INFO, "parsec_tool"));
    assert_true(tlog_enabled(TLOG_TRACE, "parsec_tool::util"));

    setenv("RUST_LOG", "parsec_tool=loud,INFO", 1); /* a bad directive is skipped */
    tlog_init();
    assert_true(tlog_enabled(TLOG_INFO, "parsec_tool"));
    assert_false(tlog_enabled(TLOG_DEBUG, "parsec_tool"));
    unsetenv("RUST_LOG");
}

/* ---- names -------------------------------------------------------------------------------- */

static void expect_alg(psa_algorithm_t alg, const char *want)
{
    char buf[NAMES_MAX];
    names_alg(alg, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void expect_type(psa_key_type_t t, const char *want)
{
    char buf[NAMES_MAX];
    names_key_type(t, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_names(void **state)
{
    (void)state;
    expect_type(PSA_KEY_TYPE_RSA_KEY_PAIR, "RsaKeyPair");
    expect_type(PSA_KEY_TYPE_RSA_PUBLIC_KEY, "RsaPublicKey");
    expect_type(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                "EccKeyPair { curve_family: SecpR1 }");
    expect_type(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_K1),
                "EccPublicKey { curve_family: SecpK1 }");
    expect_type(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919),
                "DhKeyPair { group_family: Rfc7919 }");
    expect_type(PSA_KEY_TYPE_AES, "Aes");
    expect_type(PSA_KEY_TYPE_RAW_DATA, "RawData");

    expect_alg(PSA_ALG_NONE, "None");
    expect_alg(PSA_ALG_SHA_256, "Hash(Sha256)");
    expect_alg(PSA_ALG_CBC_PKCS7, "Cipher(CbcPkcs7)");
    expect_alg(PSA_ALG_GCM, "Aead(AeadWithDefaultLengthTag(Gcm))");
    expect_alg(PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 8),
               "Aead(AeadWithShortenedTag { aead_alg: Gcm, tag_length: 8 })");
    expect_alg(PSA_ALG_HMAC(PSA_ALG_SHA_256), "Mac(FullLength(Hmac { hash_alg: Sha256 }))");
    expect_alg(PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 10),
               "Mac(Truncated { mac_alg: Hmac { hash_alg: Sha256 }, mac_length: 10 })");
    expect_alg(PSA_ALG_ECDSA(PSA_ALG_SHA_256),
               "AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) })");
    expect_alg(PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), "AsymmetricSignature(Ecdsa { hash_alg: Any })");
    expect_alg(PSA_ALG_ECDSA_ANY, "AsymmetricSignature(EcdsaAny)");
    expect_alg(PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_384),
               "AsymmetricSignature(DeterministicEcdsa { hash_alg: Specific(Sha384) })");
    expect_alg(PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256),
               "AsymmetricSignature(RsaPkcs1v15Sign { hash_alg: Specific(Sha256) })");
    expect_alg(PSA_ALG_RSA_PKCS1V15_SIGN_RAW, "AsymmetricSignature(RsaPkcs1v15SignRaw)");
    expect_alg(PSA_ALG_RSA_PSS(PSA_ALG_SHA_256),
               "AsymmetricSignature(RsaPss { hash_alg: Specific(Sha256) })");
    expect_alg(PSA_ALG_RSA_PKCS1V15_CRYPT, "AsymmetricEncryption(RsaPkcs1v15Crypt)");
    expect_alg(PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
               "AsymmetricEncryption(RsaOaep { hash_alg: Sha256 })");
    expect_alg(PSA_ALG_ECDH, "KeyAgreement(Raw(Ecdh))");
    expect_alg(PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256)),
               "KeyAgreement(WithKeyDerivation { ka_alg: Ecdh, kdf_alg: Hkdf { hash_alg: Sha256 "
               "} })");
    expect_alg(PSA_ALG_TLS12_PRF(PSA_ALG_SHA_256), "KeyDerivation(Tls12Prf { hash_alg: Sha256 })");

    char buf[NAMES_MAX];
    names_alg_inner(PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), buf, sizeof(buf));
    assert_string_equal(buf, "RsaOaep { hash_alg: Sha256 }");
    assert_string_equal(names_provider(1), "Mbed Crypto provider");
    assert_null(names_provider(6));
    assert_string_equal(names_auth(3), "Unix Peer Credentials authentication");
    assert_string_equal(names_opcode(0x0d), "PsaGenerateRandom");
    assert_string_equal(names_status_text(1140), "asking for an item that doesn't exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_minimal_integers),
        cmocka_unit_test(test_ecdsa_against_openssl),
        cmocka_unit_test(test_der_lengths_and_oids),
        cmocka_unit_test(test_der_reader),
        cmocka_unit_test(test_spki_against_openssl),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_utf8_lossy),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_log_filter),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
