/* The TOML reader: every construct of TOML 1.0 read back, and a table of invalid documents each
 * with the exact "name:line:" of its error. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/toml.h"

static struct toml_value *parse_ok(const char *text)
{
    struct toml_value *root = NULL;
    char err[256] = "";
    int r = toml_parse("t.toml", text, strlen(text), &root, err, sizeof(err));
    if (r != 0)
        fail_msg("unexpected error: %s", err);
    assert_non_null(root);
    return root;
}

/* Follows a path of keys through nested tables. */
static const struct toml_value *at(const struct toml_value *t, const char *a, const char *b,
                                   const char *c)
{
    const struct toml_value *v = toml_get(t, a);
    if (v && b)
        v = toml_get(v, b);
    if (v && c)
        v = toml_get(v, c);
    assert_non_null(v);
    return v;
}

static void assert_str(const struct toml_value *v, const char *want)
{
    size_t len;
    assert_int_equal(toml_type(v), TOML_STRING);
    const char *s = toml_string(v, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(want));
    assert_string_equal(s, want);
}

static void test_basic_strings(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("a = \"tab\\there \\\"q\\\" back\\\\slash\"\n"
                                    "b = \"\\b\\f\\n\\r\"\n"
                                    "c = \"\\u00e9\\U0001F600\\u0041\"\n"
                                    "d = \"\"\n"
                                    "e = \"caf\xc3\xa9 with\ta raw tab\" # comment\n"
                                    "f = \"\\u0000x\"\n");
    assert_str(toml_get(r, "a"), "tab\there \"q\" back\\slash");
    assert_str(toml_get(r, "b"), "\b\f\n\r");
    assert_str(toml_get(r, "c"), "\xc3\xa9\xf0\x9f\x98\x80"
                                 "A");
    assert_str(toml_get(r, "d"), "");
    assert_str(toml_get(r, "e"), "caf\xc3\xa9 with\ta raw tab");
    size_t len;
    const char *s = toml_string(toml_get(r, "f"), &len);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "\0x", 2);
    toml_free(r);
}

static void test_literal_and_multiline_strings(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("a = 'C:\\Users\\no\\escapes'\n"
                                    "b = \"\"\"\nfirst\nsecond\"\"\"\n"
                                    "c = \"\"\"one \\\n     two \\\n\n  three\"\"\"\n"
                                    "d = '''\nraw \\n ''text'' '''\n"
                                    "e = \"\"\"two quotes at the end\"\"\"\"\"\n"
                                    "f = '''x'''''\n"
                                    "g = \"\"\"crlf\r\nline\"\"\"\r\n"
                                    "h = \"\"\"\"\"\"\n");
    assert_str(toml_get(r, "a"), "C:\\Users\\no\\escapes");
    assert_str(toml_get(r, "b"), "first\nsecond");
    assert_str(toml_get(r, "c"), "one two three");
    assert_str(toml_get(r, "d"), "raw \\n ''text'' ");
    assert_str(toml_get(r, "e"), "two quotes at the end\"\"");
    assert_str(toml_get(r, "f"), "x''");
    assert_str(toml_get(r, "g"), "crlf\nline");
    assert_str(toml_get(r, "h"), "");
    toml_free(r);
}

static void test_integers(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("a = 42\nb = +17\nc = -5\nd = 0\ne = -0\nf = 1_000_000\n"
                                    "g = 0xDEAD_beef\nh = 0o755\ni = 0b1101\nj = 0x000001\n"
                                    "max = 9223372036854775807\nmin = -9223372036854775808\n"
                                    "hmax = 0x7FFFFFFFFFFFFFFF\n");
    assert_int_equal(toml_type(toml_get(r, "a")), TOML_INTEGER);
    assert_int_equal(toml_int(toml_get(r, "a")), 42);
    assert_int_equal(toml_int(toml_get(r, "b")), 17);
    assert_int_equal(toml_int(toml_get(r, "c")), -5);
    assert_int_equal(toml_int(toml_get(r, "d")), 0);
    assert_int_equal(toml_int(toml_get(r, "e")), 0);
    assert_int_equal(toml_int(toml_get(r, "f")), 1000000);
    assert_int_equal(toml_int(toml_get(r, "g")), 0xdeadbeef);
    assert_int_equal(toml_int(toml_get(r, "h")), 0755);
    assert_int_equal(toml_int(toml_get(r, "i")), 13);
    assert_int_equal(toml_int(toml_get(r, "j")), 1);
    assert_true(toml_int(toml_get(r, "max")) == INT64_MAX);
    assert_true(toml_int(toml_get(r, "min")) == INT64_MIN);
    assert_true(toml_int(toml_get(r, "hmax")) == INT64_MAX);
    toml_free(r);
}

static void test_floats_and_booleans(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("a = 3.1415\nb = -0.01\nc = 5e+22\nd = 1e06\ne = -2E-2\n"
                                    "f = 6.626e-34\ng = 224_617.445_991\nh = inf\ni = -inf\n"
                                    "j = nan\nk = +nan\nl = 0.0\nt = true\nu = false\n");
    assert_int_equal(toml_type(toml_get(r, "a")), TOML_FLOAT);
    assert_true(toml_float(toml_get(r, "a")) == 3.1415);
    assert_true(toml_float(toml_get(r, "b")) == -0.01);
    assert_true(toml_float(toml_get(r, "c")) == 5e22);
    assert_true(toml_float(toml_get(r, "d")) == 1e6);
    assert_true(toml_float(toml_get(r, "e")) == -2e-2);
    assert_true(toml_float(toml_get(r, "f")) == 6.626e-34);
    assert_true(toml_float(toml_get(r, "g")) == 224617.445991);
    assert_true(isinf(toml_float(toml_get(r, "h"))) && toml_float(toml_get(r, "h")) > 0);
    assert_true(isinf(toml_float(toml_get(r, "i"))) && toml_float(toml_get(r, "i")) < 0);
    assert_true(isnan(toml_float(toml_get(r, "j"))));
    assert_true(isnan(toml_float(toml_get(r, "k"))));
    assert_true(toml_float(toml_get(r, "l")) == 0.0);
    assert_int_equal(toml_type(toml_get(r, "t")), TOML_BOOL);
    assert_int_equal(toml_bool(toml_get(r, "t")), 1);
    assert_int_equal(toml_bool(toml_get(r, "u")), 0);
    toml_free(r);
}

static void test_datetimes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum toml_datetime_kind kind;
    } cases[] = {
        {"1979-05-27T07:32:00Z", TOML_DT_OFFSET},
        {"1979-05-27T00:32:00.999999-07:00", TOML_DT_OFFSET},
        {"1979-05-27 07:32:00+05:30", TOML_DT_OFFSET},
        {"1979-05-27t07:32:00z", TOML_DT_OFFSET},
        {"1979-05-27T07:32:00", TOML_DT_LOCAL},
        {"2000-02-29", TOML_DT_LOCAL_DATE},
        {"07:32:00", TOML_DT_LOCAL_TIME},
        {"23:59:60.5", TOML_DT_LOCAL_TIME},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[96];
        snprintf(doc, sizeof(doc), "d = %s # note\n", cases[i].text);
        struct toml_value *r = parse_ok(doc);
        const struct toml_value *v = toml_get(r, "d");
        assert_int_equal(toml_type(v), TOML_DATETIME);
        assert_int_equal(toml_datetime_kind(v), cases[i].kind);
        assert_string_equal(toml_string(v, NULL), cases[i].text);
        toml_free(r);
    }
}

static void test_arrays(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("a = [ 1, 2, 3, ]\n"
                                    "b = []\n"
                                    "c = [ [1, 2], ['x'], [] ]\n"
                                    "d = [ 1, \"mixed\", { k = true }, 2.5 ]\n"
                                    "e = [\n  1, # one\n\n  # comment line\n  2\n]\n"
                                    "f = 1\n");
    const struct toml_value *a = toml_get(r, "a");
    assert_int_equal(toml_type(a), TOML_ARRAY);
    assert_int_equal(toml_array_len(a), 3);
    assert_int_equal(toml_int(toml_array_at(a, 2)), 3);
    assert_null(toml_array_at(a, 3));
    assert_int_equal(toml_array_len(toml_get(r, "b")), 0);
    const struct toml_value *c = toml_get(r, "c");
    assert_int_equal(toml_array_len(c), 3);
    assert_int_equal(toml_int(toml_array_at(toml_array_at(c, 0), 1)), 2);
    assert_str(toml_array_at(toml_array_at(c, 1), 0), "x");
    const struct toml_value *d = toml_get(r, "d");
    assert_int_equal(toml_type(toml_array_at(d, 2)), TOML_TABLE);
    assert_int_equal(toml_bool(toml_get(toml_array_at(d, 2), "k")), 1);
    assert_int_equal(toml_array_len(toml_get(r, "e")), 2);
    assert_int_equal(toml_get_line(r, "f"), 11);
    toml_free(r);
}

static void test_inline_tables(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("p = { x = 1, y = 2 }\n"
                                    "e = {}\n"
                                    "n = { a.b = 1, a.c = 'two', in = { deep = true } }\n"
                                    "admins = [ { name = \"a\" }, { name = \"b\" } ]\n");
    assert_int_equal(toml_int(at(r, "p", "y", NULL)), 2);
    assert_int_equal(toml_table_len(toml_get(r, "e")), 0);
    assert_int_equal(toml_int(at(r, "n", "a", "b")), 1);
    assert_str(at(r, "n", "a", "c"), "two");
    assert_int_equal(toml_bool(at(r, "n", "in", "deep")), 1);
    const struct toml_value *admins = toml_get(r, "admins");
    assert_int_equal(toml_array_len(admins), 2);
    assert_str(toml_get(toml_array_at(admins, 1), "name"), "b");
    toml_free(r);
}

static void test_keys(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("bare_key-1 = 1\n"
                                    "1234 = 2\n"
                                    "\"quoted key\" = 3\n"
                                    "'literal \"key\"' = 4\n"
                                    "\"\" = 5\n"
                                    "site . \"example.com\" . 'x' = 6\n"
                                    "true = 7\n"
                                    "\"\\u0041\" = 8\n");
    assert_int_equal(toml_int(toml_get(r, "bare_key-1")), 1);
    assert_int_equal(toml_int(toml_get(r, "1234")), 2);
    assert_int_equal(toml_int(toml_get(r, "quoted key")), 3);
    assert_int_equal(toml_int(toml_get(r, "literal \"key\"")), 4);
    assert_int_equal(toml_int(toml_get(r, "")), 5);
    assert_int_equal(toml_int(at(r, "site", "example.com", "x")), 6);
    assert_int_equal(toml_int(toml_get(r, "true")), 7);
    assert_int_equal(toml_int(toml_get(r, "A")), 8);
    /* Document order and lines are kept. */
    int line;
    size_t len;
    assert_string_equal(toml_table_key(r, 2, &len, &line), "quoted key");
    assert_int_equal(len, 10);
    assert_int_equal(line, 3);
    assert_int_equal(toml_get_line(r, "site"), 6);
    assert_int_equal(toml_get_line(r, "absent"), 0);
    assert_null(toml_get(r, "absent"));
    toml_free(r);
}

static void test_tables(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("top = 0\n"
                                    "[a.b.c]\n"
                                    "x = 1\n"
                                    "[a]\n" /* defining an implicit table later is allowed */
                                    "y = 2\n"
                                    "[ \"q\" . r ]\n"
                                    "[fruit]\n"
                                    "apple.color = 'red'\n"
                                    "apple.taste.sweet = true\n"
                                    "[fruit.apple.texture]\n" /* sub-table of a dotted table */
                                    "smooth = true\n"
                                    "[empty]\n");
    assert_int_equal(toml_int(toml_get(r, "top")), 0);
    assert_int_equal(toml_int(toml_get(at(r, "a", "b", "c"), "x")), 1);
    assert_int_equal(toml_int(at(r, "a", "y", NULL)), 2);
    assert_int_equal(toml_type(at(r, "q", "r", NULL)), TOML_TABLE);
    assert_str(at(r, "fruit", "apple", "color"), "red");
    assert_int_equal(toml_bool(toml_get(at(r, "fruit", "apple", "taste"), "sweet")), 1);
    assert_int_equal(toml_bool(toml_get(at(r, "fruit", "apple", "texture"), "smooth")), 1);
    assert_int_equal(toml_table_len(toml_get(r, "empty")), 0);
    /* A table's line is the line of the header that defined it. */
    assert_int_equal(toml_line(toml_get(r, "a")), 4);
    assert_int_equal(toml_get_line(r, "a"), 4);
    assert_int_equal(toml_line(toml_get(r, "empty")), 12);
    assert_int_equal(toml_table_len(r), 5);
    toml_free(r);
}

static void test_arrays_of_tables(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("[[fruits]]\n"
                                    "name = 'apple'\n"
                                    "[fruits.physical]\n"
                                    "color = 'red'\n"
                                    "[[fruits.varieties]]\n"
                                    "name = 'red delicious'\n"
                                    "[[fruits.varieties]]\n"
                                    "name = 'granny smith'\n"
                                    "\n"
                                    "[[fruits]]\n"
                                    "name = 'banana'\n"
                                    "[[fruits.varieties]]\n"
                                    "name = 'plantain'\n"
                                    "[[empty]]\n"
                                    "[[empty]]\n");
    const struct toml_value *f = toml_get(r, "fruits");
    assert_int_equal(toml_type(f), TOML_ARRAY);
    assert_int_equal(toml_array_len(f), 2);
    assert_str(toml_get(toml_array_at(f, 0), "name"), "apple");
    assert_str(at(toml_array_at(f, 0), "physical", "color", NULL), "red");
    assert_int_equal(toml_array_len(toml_get(toml_array_at(f, 0), "varieties")), 2);
    assert_str(toml_get(toml_array_at(toml_get(toml_array_at(f, 0), "varieties"), 1), "name"),
               "granny smith");
    assert_int_equal(toml_array_len(toml_get(toml_array_at(f, 1), "varieties")), 1);
    assert_int_equal(toml_line(toml_array_at(f, 1)), 10);
    assert_int_equal(toml_array_len(toml_get(r, "empty")), 2);
    toml_free(r);
}

static void test_whitespace_comments_newlines(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("\xef\xbb\xbf# byte order mark, then a comment \xc3\xa9\n"
                                    "\t a\t=\t1\t# trailing\r\n"
                                    "\r\n"
                                    "b=2#no space\n"
                                    "   [ t ]   # header comment\n"
                                    "c = 3");
    assert_int_equal(toml_int(toml_get(r, "a")), 1);
    assert_int_equal(toml_int(toml_get(r, "b")), 2);
    assert_int_equal(toml_get_line(r, "b"), 4);
    assert_int_equal(toml_int(at(r, "t", "c", NULL)), 3);
    assert_int_equal(toml_get_line(toml_get(r, "t"), "c"), 6);
    toml_free(r);
    r = parse_ok("");
    assert_int_equal(toml_table_len(r), 0);
    toml_free(r);
    r = parse_ok("# only a comment");
    assert_int_equal(toml_table_len(r), 0);
    toml_free(r);
}

/* Tables beyond a few keys are hashed: every key must still be found, and duplicates still
 * caught. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 5000 };
    char *doc = malloc(N * 24 + 32), *p = doc;
    assert_non_null(doc);
    for (int i = 0; i < N; i++)
        p += sprintf(p, "key%d = %d\n", i, i);
    struct toml_value *r = parse_ok(doc);
    assert_int_equal(toml_table_len(r), N);
    for (int i = 0; i < N; i += 7) {
        char k[16];
        snprintf(k, sizeof(k), "key%d", i);
        assert_int_equal(toml_int(toml_get(r, k)), i);
        assert_int_equal(toml_get_line(r, k), i + 1);
    }
    assert_null(toml_get(r, "key5000"));
    toml_free(r);
    strcpy(p, "key4321 = 0\n");
    char err[128];
    assert_int_equal(toml_parse("t.toml", doc, strlen(doc), &r, err, sizeof(err)), -1);
    assert_string_equal(err, "t.toml:5001: duplicate key 'key4321'");
    free(doc);
}

static void test_accessors_are_type_checked(void **state)
{
    (void)state;
    struct toml_value *r = parse_ok("s = 'x'\ni = 5\na = [1]\n");
    const struct toml_value *s = toml_get(r, "s"), *i = toml_get(r, "i");
    assert_null(toml_get(s, "x"));
    assert_null(toml_get(NULL, "x"));
    assert_int_equal(toml_int(s), 0);
    assert_null(toml_string(i, NULL));
    assert_int_equal(toml_array_len(s), 0);
    assert_int_equal(toml_table_len(i), 0);
    assert_null(toml_table_key(r, 3, NULL, NULL));
    assert_null(toml_table_value(r, 3));
    assert_int_equal(toml_int(toml_table_value(r, 1)), 5);
    assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
    assert_string_equal(toml_type_name(TOML_DATETIME), "date-time");
    toml_free(r);
    toml_free(NULL);
}

/* ---- limits ----------------------------------------------------------------------------- */

static char *nested(const char *prefix, int depth, char open, char close)
{
    size_t n = strlen(prefix);
    char *s = malloc(n + 2 * (size_t)depth + 2);
    assert_non_null(s);
    memcpy(s, prefix, n);
    memset(s + n, open, (size_t)depth);
    memset(s + n + depth, close, (size_t)depth);
    strcpy(s + n + 2 * depth, "\n");
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char err[128];
    struct toml_value *r;
    char *ok = nested("a = ", TOML_MAX_DEPTH, '[', ']');
    char *deep = nested("a = ", TOML_MAX_DEPTH + 1, '[', ']');
    toml_free(parse_ok(ok));
    assert_int_equal(toml_parse("t.toml", deep, strlen(deep), &r, err, sizeof(err)), -1);
    assert_null(r);
    assert_string_equal(err, "t.toml:1: values nested deeper than 64 levels");
    free(ok);
    free(deep);
    /* Headers and dotted keys count as well. */
    char hdr[2 * TOML_MAX_DEPTH + 8] = "[a";
    for (int i = 1; i < TOML_MAX_DEPTH; i++)
        strcat(hdr, ".a");
    strcat(hdr, "]\n");
    toml_free(parse_ok(hdr));
    strcpy(hdr + strlen(hdr) - 2, ".a]\n");
    assert_int_equal(toml_parse("t.toml", hdr, strlen(hdr), &r, err, sizeof(err)), -1);
    assert_string_equal(err, "t.toml:1: key with more than 64 dotted parts");
    char dotted[2 * TOML_MAX_DEPTH + 16] = "[t]\na";
    for (int i = 1; i < TOML_MAX_DEPTH; i++)
        strcat(dotted, ".a");
    strcat(dotted, " = 1\n");
    assert_int_equal(toml_parse("t.toml", dotted, strlen(dotted), &r, err, sizeof(err)), -1);
    assert_string_equal(err, "t.toml:2: values nested deeper than 64 levels");
}

static void test_size_limit(void **state)
{
    (void)state;
    char err[128];
    struct toml_value *r;
    size_t n = TOML_MAX_INPUT + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '\n', n);
    assert_int_equal(toml_parse("big.toml", big, n, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "big.toml: file larger than 1048576 bytes");
    assert_int_equal(toml_parse("big.toml", big, n - 1, &r, err, sizeof(err)), 0);
    toml_free(r);
    free(big);
    /* A short error buffer is truncated, never overrun. */
    char small[8];
    assert_int_equal(toml_parse("t.toml", "a = ", 4, &r, small, sizeof(small)), -1);
    assert_string_equal(small, "t.toml:");
    assert_int_equal(toml_parse("t.toml", "a = ", 4, &r, NULL, 0), -1);
}

/* ---- invalid documents ------------------------------------------------------------------ */

static const struct {
    const char *doc;
    const char *prefix; /* exact start of the message */
    const char *fragment;
} invalid[] = {
    /* keys */
    {"timeout = 1\ntimeout = 2\n", "t.toml:2: ", "duplicate key 'timeout'"},
    {"a = 1\n\"a\" = 2\n", "t.toml:2: ", "duplicate key 'a'"},
    {"ke$y = 1\n", "t.toml:1: ", "invalid character '$' in bare key 'ke'"},
    {"k\xc3\xa9y = 1\n", "t.toml:1: ", "invalid character byte 0xC3 in bare key 'k'"},
    {"= 1\n", "t.toml:1: ", "expected a key, found '='"},
    {"a. = 1\n", "t.toml:1: ", "expected a key, found '='"},
    {"a b = 1\n", "t.toml:1: ", "expected '=' after key 'a', found 'b'"},
    {"a\n", "t.toml:1: ", "expected '=' after key 'a', found end of line"},
    {"\"\"\"k\"\"\" = 1\n", "t.toml:1: ", "a multi-line string cannot be a key"},
    {"\"a\nb\" = 1\n", "t.toml:1: ", "unterminated string"},
    /* newline between pairs, trailing garbage */
    {"a = 1 b = 2\n", "t.toml:1: ", "expected a new line after a value, found 'b'"},
    {"a = \"x\" y\n", "t.toml:1: ", "expected a new line after a value, found 'y'"},
    {"[t] x = 1\n", "t.toml:1: ", "expected a new line after a table header, found 'x'"},
    {"a = 1\n\n\nb = truee\n", "t.toml:4: ", "invalid value 'truee'"},
    {"a = bare\n", "t.toml:1: ", "strings must be quoted"},
    {"a =\n", "t.toml:1: ", "expected a value, found end of line"},
    {"a = ", "t.toml:1: ", "expected a value, found end of file"},
    /* tables */
    {"[a]\nx = 1\n[a]\n", "t.toml:3: ", "table 'a' is already defined"},
    {"[a.b]\n[a]\n[a.b]\n", "t.toml:3: ", "table 'a.b' is already defined"},
    {"[a]\nb.c = 1\n[a.b]\n", "t.toml:3: ", "table 'a.b' is already defined"},
    {"[a.b]\nx = 1\n[a]\nb.y = 2\n", "t.toml:4: ", "table 'b' is already defined"},
    {"a = 1\n[a]\n", "t.toml:2: ", "key 'a' is already defined as an integer"},
    {"a = 'x'\n[a.b]\n", "t.toml:2: ", "key 'a' is already defined as a string"},
    {"a.b = 1\na.b.c = 2\n", "t.toml:2: ", "key 'a.b' is already defined as an integer"},
    {"a = {}\n[a.b]\n", "t.toml:2: ", "cannot extend inline table 'a'"},
    {"a = { b = 1 }\na.c = 2\n", "t.toml:2: ", "table 'a' is already defined"},
    {"a = { b = { c = 1 }, b.d = 2 }\n", "t.toml:1: ", "table 'b' is already defined"},
    {"[a.b.c]\n[a]\nb.d = 1\n", "t.toml:3: ", "table 'b' is already defined"},
    {"[a\n", "t.toml:1: ", "expected ']' to close the table header, found end of line"},
    {"[[a]\n", "t.toml:1: ", "expected ']]' to close the table header, found end of line"},
    {"[]\n", "t.toml:1: ", "expected a key, found ']'"},
    /* arrays of tables */
    {"a = [1]\n[[a]]\n", "t.toml:2: ", "cannot append to static array 'a'"},
    {"a = [{ b = 1 }]\n[a.c]\n", "t.toml:2: ", "cannot extend static array 'a'"},
    {"[[a]]\n[a]\n", "t.toml:2: ", "'a' is already defined as an array of tables"},
    {"[a]\n[[a]]\n", "t.toml:2: ", "key 'a' is already defined as a table"},
    {"[[a.b]]\n[a]\nb.y = 2\n", "t.toml:3: ", "key 'b' is already defined as an array"},
    /* arrays and inline tables */
    {"a = [1 2]\n", "t.toml:1: ", "expected ',' or ']' in array, found '2'"},
    {"a = [1,,2]\n", "t.toml:1: ", "expected a value, found ','"},
    {"a = [\n1,\n2\n", "t.toml:4: ", "expected ',' or ']' in array, found end of file"},
    {"a = { x = 1, }\n", "t.toml:1: ", "trailing comma in inline table"},
    {"a = { x = 1\n}\n", "t.toml:1: ", "expected ',' or '}' in inline table, found end of line"},
    {"a = {\nx = 1 }\n", "t.toml:1: ", "inline table not closed on its line"},
    {"a = { x = 1, x = 2 }\n", "t.toml:1: ", "duplicate key 'x'"},
    /* strings */
    {"a = \"bad \\q escape\"\n",
     "t.toml:1: ", "invalid escape sequence: backslash followed by 'q'"},
    {"a = \"\\x41\"\n", "t.toml:1: ", "invalid escape sequence: backslash followed by 'x'"},
    {"a = \"\\u00G0\"\n", "t.toml:1: ", "invalid Unicode escape: expected 4 hex digits"},
    {"a = \"\\uD800\"\n", "t.toml:1: ", "Unicode escape U+D800 is not a scalar value"},
    {"a = \"\\U00110000\"\n", "t.toml:1: ", "Unicode escape U+110000 is not a scalar value"},
    {"a = \"\\u12\"\n", "t.toml:1: ", "invalid Unicode escape: expected 4 hex digits"},
    {"a = \"\\u12", "t.toml:1: ", "truncated Unicode escape"},
    {"a = \"open\nb = 1\n", "t.toml:1: ", "unterminated string"},
    {"a = 'open\n", "t.toml:1: ", "unterminated string"},
    {"\n\na = \"\"\"\nnever\nclosed\n", "t.toml:3: ", "unterminated multi-line string"},
    {"a = '''x''''''\n", "t.toml:1: ", "too many quotes closing a multi-line string"},
    {"a = \"\"\"x\\ y\"\"\"\n",
     "t.toml:1: ", "invalid escape sequence: backslash followed by a space"},
    /* integers */
    {"a = 9223372036854775808\n", "t.toml:1: ", "integer does not fit in 64 bits"},
    {"a = -9223372036854775809\n", "t.toml:1: ", "integer does not fit in 64 bits"},
    {"a = 0x8000000000000000\n", "t.toml:1: ", "integer does not fit in 64 bits"},
    {"a = 0123\n", "t.toml:1: ", "leading zeros are not allowed in '0123'"},
    {"a = +0x10\n", "t.toml:1: ", "a sign is not allowed on hexadecimal, octal or binary"},
    {"a = 1__000\n", "t.toml:1: ", "invalid integer '1__000'"},
    {"a = 1_\n", "t.toml:1: ", "invalid integer '1_'"},
    {"a = _1\n", "t.toml:1: ", "invalid value '_1'"},
    {"a = 0b102\n", "t.toml:1: ", "invalid integer '0b102'"},
    {"a = 0o\n", "t.toml:1: ", "invalid integer '0o'"},
    {"a = 0X10\n", "t.toml:1: ", "invalid integer '0X10'"},
    /* floats */
    {"a = 1.\n", "t.toml:1: ", "invalid number '1.'"},
    {"a = .5\n", "t.toml:1: ", "invalid value '.5'"},
    {"a = 1.e5\n", "t.toml:1: ", "invalid number '1.e5'"},
    {"a = 01.5\n", "t.toml:1: ", "invalid number '01.5'"},
    {"a = 1e\n", "t.toml:1: ", "invalid number '1e'"},
    {"a = 1_.5\n", "t.toml:1: ", "invalid number '1_.5'"},
    {"a = 1e400\n", "t.toml:1: ", "float '1e400' is out of range"},
    {"a = infinity\n", "t.toml:1: ", "invalid value 'infinity'"},
    {"a = NaN\n", "t.toml:1: ", "invalid value 'NaN'"},
    /* booleans */
    {"a = True\n", "t.toml:1: ", "invalid value 'True'"},
    /* date-times */
    {"a = 1979-02-29\n", "t.toml:1: ", "invalid date-time '1979-02-29'"},
    {"a = 1979-13-01\n", "t.toml:1: ", "invalid date-time '1979-13-01'"},
    {"a = 1979-05-27T24:00:00\n", "t.toml:1: ", "invalid date-time"},
    {"a = 07:32\n", "t.toml:1: ", "invalid date-time '07:32'"},
    {"a = 1979-05-27T07:32:00+7:00\n", "t.toml:1: ", "invalid date-time"},
    {"a = 1979-05-27T07:32:00.\n", "t.toml:1: ", "invalid date-time"},
    /* bytes */
    {"a = 1\nb = \"\x01\"\n", "t.toml:2: ", "control character U+0001 is not allowed"},
    {"# comment \x7f\n", "t.toml:1: ", "control character U+007F is not allowed"},
    {"a = 1\r\nb = 2\rc = 3\n", "t.toml:2: ", "carriage return not followed by a newline"},
    {"a = \"\xc3\x28\"\n", "t.toml:1: ", "invalid UTF-8 (byte 0xC3)"},
    {"a = \"\xed\xa0\x80\"\n", "t.toml:1: ", "invalid UTF-8 (byte 0xED)"},     /* surrogate */
    {"a = \"\xc0\xaf\"\n", "t.toml:1: ", "invalid UTF-8 (byte 0xC0)"},         /* overlong */
    {"a = \"\xf4\x90\x80\x80\"\n", "t.toml:1: ", "invalid UTF-8 (byte 0xF4)"}, /* > U+10FFFF */
    {"\n\n\na = \"\xe2\x82\"", "t.toml:4: ", "invalid UTF-8 (byte 0xE2)"},     /* truncated */
};

static void test_invalid_documents(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        struct toml_value *r = (struct toml_value *)&r; /* must be reset to NULL */
        char err[256];
        int rc = toml_parse("t.toml", invalid[i].doc, strlen(invalid[i].doc), &r, err, sizeof(err));
        if (rc != -1 || r != NULL)
            fail_msg("case %zu accepted: %s", i, invalid[i].doc);
        if (strncmp(err, invalid[i].prefix, strlen(invalid[i].prefix)) != 0 ||
            !strstr(err, invalid[i].fragment))
            fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i, err, invalid[i].prefix,
                     invalid[i].fragment);
    }
}

/* NUL bytes inside the input are control characters too, whatever follows. */
static void test_embedded_nul(void **state)
{
    (void)state;
    static const char doc[] = "a = 1\nb = \"x\0y\"\n";
    struct toml_value *r;
    char err[128];
    assert_int_equal(toml_parse("t.toml", doc, sizeof(doc) - 1, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "t.toml:2: control character U+0000 is not allowed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_strings),
        cmocka_unit_test(test_literal_and_multiline_strings),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats_and_booleans),
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_inline_tables),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_arrays_of_tables),
        cmocka_unit_test(test_whitespace_comments_newlines),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_accessors_are_type_checked),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_embedded_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
