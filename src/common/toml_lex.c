/* TOML scalars: the input's byte-level validity, strings, booleans, numbers and date-times.
 * Everything here is strict TOML 1.0; see toml.h for the choices TOML leaves open. */
#include "common/hex.h"
#include "common/toml_priv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest token quoted back in an error message. */
#define TOKEN_SHOWN 40
#define SHOWN(n) ((int)((n) < TOKEN_SHOWN ? (n) : TOKEN_SHOWN))

int toml_fail(struct toml_parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return -1;
    ps->failed = 1;
    if (!ps->err || ps->err_len == 0)
        return -1;
    /* Line 0 marks whole-file errors (size), reported without a line. */
    int n = ps->line > 0 ? snprintf(ps->err, ps->err_len, "%s:%d: ", ps->name, ps->line)
                         : snprintf(ps->err, ps->err_len, "%s: ", ps->name);
    if (n >= 0 && (size_t)n < ps->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *toml_chdesc(const struct toml_parser *ps, char out[24])
{
    if (ps->p >= ps->end)
        return "end of file";
    unsigned char c = (unsigned char)*ps->p;
    if (c == '\n' || c == '\r')
        return "end of line";
    if (c > 0x20 && c < 0x7f)
        snprintf(out, 24, "'%c'", c);
    else if (c == ' ')
        return "a space";
    else
        snprintf(out, 24, "byte 0x%02X", c);
    return out;
}

/* Length of the UTF-8 sequence at s (1-4), 0 if it is not a valid scalar value encoding. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    size_t n;
    uint32_t cp, min;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f, min = 0x80;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int toml_check_text(struct toml_parser *ps)
{
    const unsigned char *s = (const unsigned char *)ps->p;
    const unsigned char *end = (const unsigned char *)ps->end;
    int line = 1;
    while (s < end) {
        unsigned char c = *s;
        size_t n = 1;
        if (c == '\n') {
            line++;
        } else if (c == '\r') {
            if (s + 1 == end || s[1] != '\n')
                goto bad_cr;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            ps->line = line;
            return toml_fail(ps, "control character U+%04X is not allowed", c);
        } else if (c >= 0x80 && (n = utf8_len(s, (size_t)(end - s))) == 0) {
            ps->line = line;
            return toml_fail(ps, "invalid UTF-8 (byte 0x%02X)", c);
        }
        s += n;
    }
    return 0;
bad_cr:
    ps->line = line;
    return toml_fail(ps, "carriage return not followed by a newline");
}

/* ---- strings ---------------------------------------------------------------------------- */

static int buf_put(struct toml_parser *ps, struct toml_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n) { /* keep one byte for the final NUL */
        size_t cap = b->cap ? b->cap : 32;
        while (cap - b->len <= n)
            cap *= 2; /* bounded by TOML_MAX_INPUT: cannot overflow */
        char *p = realloc(b->ptr, cap);
        if (!p)
            return toml_fail(ps, "out of memory");
        b->ptr = p;
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

static int buf_put_utf8(struct toml_parser *ps, struct toml_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    return buf_put(ps, b, u, n);
}

/* ps->p is just after "\u" or "\U"; reads ndigits hex digits as a Unicode scalar value. */
static int lex_unicode(struct toml_parser *ps, struct toml_buf *b, int ndigits)
{
    uint32_t cp = 0;
    if (ps->end - ps->p < ndigits)
        return toml_fail(ps, "truncated Unicode escape");
    for (int i = 0; i < ndigits; i++) {
        int h = hex_digit(ps->p[i]);
        if (h < 0)
            return toml_fail(ps, "invalid Unicode escape: expected %d hex digits", ndigits);
        cp = (cp << 4) | (uint32_t)h;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return toml_fail(ps, "Unicode escape U+%04X is not a scalar value", (unsigned)cp);
    ps->p += ndigits;
    return buf_put_utf8(ps, b, cp);
}

/* ps->p is at a backslash inside a basic string. */
static int lex_escape(struct toml_parser *ps, struct toml_buf *b)
{
    static const char from[] = "btnfr\"\\";
    static const char to[] = "\b\t\n\f\r\"\\";
    char d[24];
    ps->p++;
    if (ps->p == ps->end)
        return toml_fail(ps, "unterminated string");
    char c = *ps->p;
    if (c == 'u' || c == 'U') {
        ps->p++;
        return lex_unicode(ps, b, c == 'u' ? 4 : 8);
    }
    const char *f = c ? strchr(from, c) : NULL;
    if (!f)
        return toml_fail(ps, "invalid escape sequence: backslash followed by %s",
                         toml_chdesc(ps, d));
    ps->p++;
    return buf_put(ps, b, &to[f - from], 1);
}

static int lex_basic(struct toml_parser *ps, struct toml_buf *b)
{
    ps->p++;
    for (;;) {
        if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r')
            return toml_fail(ps, "unterminated string");
        if (*ps->p == '"') {
            ps->p++;
            return buf_put(ps, b, "", 0);
        }
        if (*ps->p == '\\') {
            if (lex_escape(ps, b) < 0)
                return -1;
            continue;
        }
        if (buf_put(ps, b, ps->p, 1) < 0)
            return -1;
        ps->p++;
    }
}

static int lex_literal(struct toml_parser *ps, struct toml_buf *b)
{
    const char *start = ++ps->p;
    while (ps->p < ps->end && *ps->p != '\'' && *ps->p != '\n' && *ps->p != '\r')
        ps->p++;
    if (ps->p == ps->end || *ps->p != '\'')
        return toml_fail(ps, "unterminated string");
    size_t n = (size_t)(ps->p - start);
    ps->p++;
    return buf_put(ps, b, start, n);
}

/* Skips the newline right after an opening delimiter, which is not part of the string. */
static void skip_first_newline(struct toml_parser *ps)
{
    if (ps->p < ps->end && *ps->p == '\r')
        ps->p++; /* toml_check_text guarantees the LF */
    if (ps->p < ps->end && *ps->p == '\n') {
        ps->p++;
        ps->line++;
    }
}

/* A run of quote characters q inside a multi-line string: three to five of them close it
 * (up to two belong to the content), fewer are content. Returns 1 when closed. */
static int ml_quotes(struct toml_parser *ps, struct toml_buf *b, char q)
{
    size_t n = 0;
    while (ps->p + n < ps->end && ps->p[n] == q)
        n++;
    if (n > 5)
        return toml_fail(ps, "too many quotes closing a multi-line string");
    if (buf_put(ps, b, ps->p, n >= 3 ? n - 3 : n) < 0)
        return -1;
    ps->p += n;
    return n >= 3;
}

/* A backslash at the end of a line in a multi-line basic string removes the line break and
 * all whitespace up to the next visible character. Returns 1 if it was such a backslash. */
static int ml_line_ending_backslash(struct toml_parser *ps)
{
    const char *q = ps->p + 1;
    while (q < ps->end && (*q == ' ' || *q == '\t'))
        q++;
    if (q == ps->end || (*q != '\n' && *q != '\r'))
        return 0;
    while (q < ps->end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) {
        if (*q == '\n')
            ps->line++;
        q++;
    }
    ps->p = q;
    return 1;
}

static int lex_multiline(struct toml_parser *ps, struct toml_buf *b, char q)
{
    int start_line = ps->line;
    ps->p += 3;
    skip_first_newline(ps);
    for (;;) {
        int r;
        if (ps->p == ps->end) {
            ps->line = start_line;
            return toml_fail(ps, "unterminated multi-line string");
        }
        char c = *ps->p;
        if (c == q) {
            if ((r = ml_quotes(ps, b, q)) != 0)
                return r < 0 ? -1 : buf_put(ps, b, "", 0);
        } else if (c == '\\' && q == '"') {
            if (!ml_line_ending_backslash(ps) && lex_escape(ps, b) < 0)
                return -1;
        } else if (c == '\r') {
            ps->p++; /* CRLF is stored as LF */
        } else {
            if (buf_put(ps, b, ps->p, 1) < 0)
                return -1;
            if (c == '\n')
                ps->line++;
            ps->p++;
        }
    }
}

int toml_lex_string(struct toml_parser *ps, struct toml_buf *out, int is_key)
{
    char q = *ps->p;
    int multi = ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q;
    if (multi && is_key)
        return toml_fail(ps, "a multi-line string cannot be a key");
    if (multi)
        return lex_multiline(ps, out, q);
    return q == '"' ? lex_basic(ps, out) : lex_literal(ps, out);
}

/* ---- numbers ---------------------------------------------------------------------------- */

static int is_digit_of(char c, int base)
{
    int v = hex_digit(c);
    return v >= 0 && v < base;
}

/* A non-empty run of digits of base, single underscores allowed between digits only. */
static int digits_ok(const char *s, size_t n, int base)
{
    if (n == 0 || !is_digit_of(s[0], base) || !is_digit_of(s[n - 1], base))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == '_' && s[i - 1] == '_')
            return 0;
        if (s[i] != '_' && !is_digit_of(s[i], base))
            return 0;
    }
    return 1;
}

/* Accumulates the digits of s (already validated) into *out, failing past max. */
static int accumulate(const char *s, size_t n, int base, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        uint64_t d = (uint64_t)hex_digit(s[i]);
        if (v > (max - d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + d;
    }
    *out = v;
    return 0;
}

static int lex_prefixed_int(struct toml_parser *ps, const char *s, size_t n, struct toml_value *v)
{
    int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    uint64_t u;
    if (!digits_ok(s + 2, n - 2, base))
        return toml_fail(ps, "invalid integer '%.*s'", SHOWN(n), s);
    if (accumulate(s + 2, n - 2, base, (uint64_t)INT64_MAX, &u) < 0)
        return toml_fail(ps, "integer does not fit in 64 bits");
    v->type = TOML_INTEGER;
    v->u.i = (int64_t)u;
    return 0;
}

static int lex_decimal_int(struct toml_parser *ps, const char *s, size_t n, struct toml_value *v)
{
    int neg = s[0] == '-';
    size_t off = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    uint64_t u;
    if (!digits_ok(s + off, n - off, 10))
        return toml_fail(ps, "invalid integer '%.*s'", SHOWN(n), s);
    if (s[off] == '0' && n - off > 1)
        return toml_fail(ps, "leading zeros are not allowed in '%.*s'", SHOWN(n), s);
    if (accumulate(s + off, n - off, 10, (uint64_t)INT64_MAX + (uint64_t)neg, &u) < 0)
        return toml_fail(ps, "integer does not fit in 64 bits");
    v->type = TOML_INTEGER;
    if (neg)
        v->u.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    else
        v->u.i = (int64_t)u;
    return 0;
}

/* Checks the float grammar: int-part [ "." digits ] [ e [sign] digits ], at least one of the
 * optional parts, no leading zero in the integer part. s excludes the sign. */
static int float_ok(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    const char *e = memchr(s, 'e', n);
    if (!e)
        e = memchr(s, 'E', n);
    if ((!dot && !e) || (dot && e && dot > e))
        return 0;
    const char *int_end = dot ? dot : e;
    size_t il = (size_t)(int_end - s);
    if (!digits_ok(s, il, 10) || (s[0] == '0' && il > 1))
        return 0;
    if (dot) {
        const char *frac_end = e ? e : s + n;
        if (!digits_ok(dot + 1, (size_t)(frac_end - dot - 1), 10))
            return 0;
    }
    if (e) {
        const char *x = e + 1;
        if (x < s + n && (*x == '+' || *x == '-'))
            x++;
        if (!digits_ok(x, (size_t)(s + n - x), 10))
            return 0;
    }
    return 1;
}

static int lex_float(struct toml_parser *ps, const char *s, size_t n, struct toml_value *v)
{
    size_t off = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    v->type = TOML_FLOAT;
    if (n - off == 3 && (memcmp(s + off, "inf", 3) == 0 || memcmp(s + off, "nan", 3) == 0)) {
        double x = s[off] == 'i' ? INFINITY : NAN;
        v->u.f = s[0] == '-' ? -x : x;
        return 0;
    }
    if (!float_ok(s + off, n - off))
        return toml_fail(ps, "invalid number '%.*s'", SHOWN(n), s);
    char *tmp = malloc(n + 1), *q = tmp, *endp;
    if (!tmp)
        return toml_fail(ps, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            *q++ = s[i];
    *q = '\0';
    errno = 0;
    v->u.f = strtod(tmp, &endp);
    int bad = *endp != '\0' || isinf(v->u.f);
    free(tmp);
    if (bad)
        return toml_fail(ps, "float '%.*s' is out of range", SHOWN(n), s);
    return 0;
}

static int lex_number(struct toml_parser *ps, const char *s, size_t n, struct toml_value *v)
{
    size_t off = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    int prefixed = n - off > 2 && s[off] == '0' &&
                   (s[off + 1] == 'x' || s[off + 1] == 'o' || s[off + 1] == 'b');
    if (prefixed && off)
        return toml_fail(ps, "a sign is not allowed on hexadecimal, octal or binary integers");
    if (prefixed)
        return lex_prefixed_int(ps, s, n, v);
    if (n - off == 3 && (memcmp(s + off, "inf", 3) == 0 || memcmp(s + off, "nan", 3) == 0))
        return lex_float(ps, s, n, v);
    for (size_t i = off; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return lex_float(ps, s, n, v);
    return lex_decimal_int(ps, s, n, v);
}

/* ---- date-times ------------------------------------------------------------------------- */

/* Reads exactly n decimal digits at s into *out. */
static int fixed_digits(const char *s, size_t avail, size_t n, int *out)
{
    int v = 0;
    if (avail < n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* YYYY-MM-DD; returns the bytes consumed or 0. */
static size_t parse_date(const char *s, size_t n)
{
    int y, m, d;
    if (fixed_digits(s, n, 4, &y) || n < 10 || s[4] != '-' || fixed_digits(s + 5, 2, 2, &m) ||
        s[7] != '-' || fixed_digits(s + 8, 2, 2, &d))
        return 0;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    return 10;
}

/* HH:MM:SS[.fraction]; returns the bytes consumed or 0. */
static size_t parse_time(const char *s, size_t n)
{
    int h, m, sec;
    if (fixed_digits(s, n, 2, &h) || n < 8 || s[2] != ':' || fixed_digits(s + 3, 2, 2, &m) ||
        s[5] != ':' || fixed_digits(s + 6, 2, 2, &sec))
        return 0;
    if (h > 23 || m > 59 || sec > 60) /* 60: leap second */
        return 0;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return 0;
    }
    return i;
}

/* Z or +HH:MM / -HH:MM; returns the bytes consumed or 0. */
static size_t parse_offset(const char *s, size_t n)
{
    int h, m;
    if (n >= 1 && (s[0] == 'Z' || s[0] == 'z'))
        return 1;
    if (n < 6 || (s[0] != '+' && s[0] != '-') || fixed_digits(s + 1, 2, 2, &h) || s[3] != ':' ||
        fixed_digits(s + 4, 2, 2, &m) || h > 23 || m > 59)
        return 0;
    return 6;
}

/* Classifies s as one of the four date-time forms; -1 if it is none. */
static int datetime_kind(const char *s, size_t n)
{
    size_t t = parse_time(s, n);
    if (t)
        return t == n ? TOML_DT_LOCAL_TIME : -1;
    size_t d = parse_date(s, n);
    if (!d)
        return -1;
    if (d == n)
        return TOML_DT_LOCAL_DATE;
    if (s[d] != 'T' && s[d] != 't' && s[d] != ' ')
        return -1;
    t = parse_time(s + d + 1, n - d - 1);
    if (!t)
        return -1;
    size_t used = d + 1 + t;
    if (used == n)
        return TOML_DT_LOCAL;
    size_t o = parse_offset(s + used, n - used);
    return o && used + o == n ? TOML_DT_OFFSET : -1;
}

static int lex_datetime(struct toml_parser *ps, const char *s, size_t n, struct toml_value *v)
{
    int kind = datetime_kind(s, n);
    if (kind < 0)
        return toml_fail(ps, "invalid date-time '%.*s'", SHOWN(n), s);
    v->u.str.ptr = malloc(n + 1);
    if (!v->u.str.ptr)
        return toml_fail(ps, "out of memory");
    memcpy(v->u.str.ptr, s, n);
    v->u.str.ptr[n] = '\0';
    v->u.str.len = n;
    v->type = TOML_DATETIME;
    v->dt_kind = (uint8_t)kind;
    return 0;
}

/* ---- scalar dispatch -------------------------------------------------------------------- */

static int token_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '+' || c == '-' || c == '.' || c == ':';
}

/* The extent of a bare scalar. A date followed by a space and a digit continues as a
 * date-time with a space separator ("1979-05-27 07:32:00"). */
static size_t token_len(const struct toml_parser *ps)
{
    const char *s = ps->p;
    size_t n = 0, avail = (size_t)(ps->end - s);
    while (n < avail && token_char(s[n]))
        n++;
    if (n == 10 && parse_date(s, n) && avail > 12 && s[10] == ' ' && s[11] >= '0' && s[11] <= '9') {
        n = 11;
        while (n < avail && token_char(s[n]))
            n++;
    }
    return n;
}

/* Whether s starts a number: a digit after an optional sign, or [+-]inf / [+-]nan. */
static int number_start(const char *s, size_t n)
{
    size_t off = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (n > off && s[off] >= '0' && s[off] <= '9')
        return 1;
    return n - off == 3 && (memcmp(s + off, "inf", 3) == 0 || memcmp(s + off, "nan", 3) == 0);
}

/* Whether s starts like a date (four digits and a dash) or contains a time. */
static int datetime_start(const char *s, size_t n)
{
    if (memchr(s, ':', n))
        return 1;
    if (n < 5 || s[4] != '-')
        return 0;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int toml_lex_scalar(struct toml_parser *ps, struct toml_value *v)
{
    const char *s = ps->p;
    size_t n = token_len(ps);
    char d[24];
    int r;
    if (n == 0)
        return toml_fail(ps, "expected a value, found %s", toml_chdesc(ps, d));
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        v->type = TOML_BOOL;
        v->u.b = n == 4;
        r = 0;
    } else if (datetime_start(s, n)) {
        r = lex_datetime(ps, s, n, v);
    } else if (number_start(s, n)) {
        r = lex_number(ps, s, n, v);
    } else {
        r = toml_fail(ps, "invalid value '%.*s' (strings must be quoted)", SHOWN(n), s);
    }
    if (r == 0)
        ps->p += n;
    return r;
}
