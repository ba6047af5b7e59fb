/* The TOML reader (src/common/toml.h) and the configuration layer built on it
 * (src/service/config.h): config.toml is read at start and at every SIGHUP, so a damaged file
 * must be refused cleanly.
 *
 * Input: a document. Invariants: a parse fails with a "name:line: message" error, or gives a
 * tree whose every accessor agrees with itself (keys found by lookup at their own position,
 * strings NUL-terminated and valid UTF-8, nesting within TOML_MAX_DEPTH, lines within the
 * document); printing the tree back as TOML (inline form) and parsing that gives the same tree;
 * the configuration layer refuses whatever the reader refuses. */
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "common/toml.h"
#include "fuzz_check.h"
#include "fuzz_utf8.h"
#include "service/config.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = (b->cap + n + 1) * 2;
        char *p = realloc(b->p, cap);
        FUZZ_CHECK(p != NULL);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A basic string: every control character escaped, the rest copied (it is valid UTF-8). */
static void put_quoted(struct buf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&s[i], 1);
        }
    }
    put(b, "\"", 1);
}

static void emit_value(struct buf *b, const struct toml_value *v);

static void emit_kv(struct buf *b, const struct toml_value *t, size_t i)
{
    size_t klen = 0;
    const char *k = toml_table_key(t, i, &klen, NULL);
    put_quoted(b, k, klen);
    puts_(b, " = ");
    emit_value(b, toml_table_value(t, i));
}

static void emit_value(struct buf *b, const struct toml_value *v)
{
    char num[64];
    size_t n = 0;
    const char *s;

    switch (toml_type(v)) {
    case TOML_TABLE:
        puts_(b, "{");
        for (size_t i = 0; i < toml_table_len(v); i++) {
            if (i)
                puts_(b, ", ");
            emit_kv(b, v, i);
        }
        puts_(b, "}");
        break;
    case TOML_ARRAY:
        puts_(b, "[");
        for (size_t i = 0; i < toml_array_len(v); i++) {
            if (i)
                puts_(b, ", ");
            emit_value(b, toml_array_at(v, i));
        }
        puts_(b, "]");
        break;
    case TOML_STRING:
        s = toml_string(v, &n);
        put_quoted(b, s, n);
        break;
    case TOML_INTEGER:
        snprintf(num, sizeof(num), "%lld", (long long)toml_int(v));
        puts_(b, num);
        break;
    case TOML_FLOAT: {
        double f = toml_float(v);
        if (isnan(f))
            snprintf(num, sizeof(num), "%snan", signbit(f) ? "-" : "");
        else if (isinf(f))
            snprintf(num, sizeof(num), "%sinf", f < 0 ? "-" : "");
        else
            snprintf(num, sizeof(num), "%.17e", f); /* always a float, exact round trip */
        puts_(b, num);
        break;
    }
    case TOML_BOOL:
        puts_(b, toml_bool(v) ? "true" : "false");
        break;
    case TOML_DATETIME:
        s = toml_string(v, &n);
        put(b, s, n);
        break;
    }
}

static int same_tree(const struct toml_value *a, const struct toml_value *b)
{
    size_t na, nb;
    const char *sa, *sb;

    if (toml_type(a) != toml_type(b))
        return 0;
    switch (toml_type(a)) {
    case TOML_TABLE:
        if (toml_table_len(a) != toml_table_len(b))
            return 0;
        for (size_t i = 0; i < toml_table_len(a); i++) {
            sa = toml_table_key(a, i, &na, NULL);
            sb = toml_table_key(b, i, &nb, NULL);
            if (na != nb || memcmp(sa, sb, na) != 0 ||
                !same_tree(toml_table_value(a, i), toml_table_value(b, i)))
                return 0;
        }
        return 1;
    case TOML_ARRAY:
        if (toml_array_len(a) != toml_array_len(b))
            return 0;
        for (size_t i = 0; i < toml_array_len(a); i++)
            if (!same_tree(toml_array_at(a, i), toml_array_at(b, i)))
                return 0;
        return 1;
    case TOML_DATETIME:
        if (toml_datetime_kind(a) != toml_datetime_kind(b))
            return 0;
        /* fall through */
    case TOML_STRING:
        sa = toml_string(a, &na);
        sb = toml_string(b, &nb);
        return na == nb && memcmp(sa, sb, na) == 0;
    case TOML_INTEGER:
        return toml_int(a) == toml_int(b);
    case TOML_FLOAT: {
        double x = toml_float(a), y = toml_float(b);
        if (isnan(x) || isnan(y))
            return isnan(x) && isnan(y);
        return x == y && signbit(x) == signbit(y);
    }
    case TOML_BOOL:
        return toml_bool(a) == toml_bool(b);
    }
    return 0;
}

/* Accessor self-consistency of a parsed tree; depth counts tables and arrays below the root. */
static void walk(const struct toml_value *v, int depth, int max_line)
{
    size_t n = 0;
    const char *s;
    int line = toml_line(v);

    FUZZ_CHECK(depth <= TOML_MAX_DEPTH);
    FUZZ_CHECK(line >= 1 && line <= max_line);
    FUZZ_CHECK(strcmp(toml_type_name(toml_type(v)), "unknown") != 0);
    switch (toml_type(v)) {
    case TOML_TABLE:
        for (size_t i = 0; i < toml_table_len(v); i++) {
            size_t klen = 0;
            int kline = 0;
            const char *k = toml_table_key(v, i, &klen, &kline);
            const struct toml_value *val = toml_table_value(v, i);
            FUZZ_CHECK(k != NULL && val != NULL && k[klen] == '\0');
            FUZZ_CHECK(utf8_wellformed((const uint8_t *)k, klen));
            FUZZ_CHECK(kline >= 1 && kline <= max_line);
            /* Keys are unique, so lookup by name finds this very entry. */
            if (memchr(k, 0, klen) == NULL) {
                FUZZ_CHECK(toml_get(v, k) == val);
                FUZZ_CHECK(toml_get_line(v, k) == kline);
            }
            walk(val, depth + 1, max_line);
        }
        FUZZ_CHECK(toml_table_key(v, toml_table_len(v), NULL, NULL) == NULL);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < toml_array_len(v); i++) {
            FUZZ_CHECK(toml_array_at(v, i) != NULL);
            walk(toml_array_at(v, i), depth + 1, max_line);
        }
        FUZZ_CHECK(toml_array_at(v, toml_array_len(v)) == NULL);
        break;
    case TOML_STRING:
        s = toml_string(v, &n);
        FUZZ_CHECK(s != NULL && s[n] == '\0' && utf8_wellformed((const uint8_t *)s, n));
        break;
    case TOML_DATETIME:
        s = toml_string(v, &n);
        FUZZ_CHECK(s != NULL && s[n] == '\0' && n >= 8);
        FUZZ_CHECK(toml_datetime_kind(v) <= TOML_DT_LOCAL_TIME);
        break;
    default:
        FUZZ_CHECK(toml_string(v, NULL) == NULL);
        break;
    }
}

static int err_ok(const char *err, size_t cap)
{
    return memchr(err, 0, cap) != NULL && err[0] != '\0';
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Warnings about unknown keys would be most of the run time. */
    log_set_level(getenv("PARSEC_FUZZ_LOG") ? LOG_TRACE : LOG_OFF);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct toml_value *root = NULL, *again = NULL;
    char err[256];
    struct config cfg;

    int max_line = 1;
    for (size_t i = 0; i < size; i++)
        max_line += data[i] == '\n';

    int rc = toml_parse("fuzz.toml", (const char *)data, size, &root, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(root == NULL && err_ok(err, sizeof(err)));
        FUZZ_CHECK(strncmp(err, "fuzz.toml:", 10) == 0);
    } else {
        FUZZ_CHECK(root != NULL && toml_type(root) == TOML_TABLE);
        FUZZ_CHECK(size <= TOML_MAX_INPUT);
        for (size_t i = 0; i < toml_table_len(root); i++)
            walk(toml_table_value(root, i), 1, max_line);

        struct buf b = {NULL, 0, 0};
        for (size_t i = 0; i < toml_table_len(root); i++) {
            emit_kv(&b, root, i);
            puts_(&b, "\n");
        }
        if (b.len <= TOML_MAX_INPUT) {
            int rc2 = toml_parse("printed.toml", b.p ? b.p : "", b.len, &again, err, sizeof(err));
            if (rc2 != 0)
                fprintf(stderr, "printed document refused: %s\n%s\n", err, b.p);
            FUZZ_CHECK(rc2 == 0);
            FUZZ_CHECK(same_tree(root, again));
            toml_free(again);
        }
        free(b.p);
        toml_free(root);
    }

    memset(&cfg, 0, sizeof(cfg));
    int crc = config_parse("fuzz.toml", (const char *)data, size, &cfg, err, sizeof(err));
    if (crc == 0) {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(cfg.listener.listener_type != NULL);
        FUZZ_CHECK(cfg.n_kims == 0 || cfg.kims != NULL);
        FUZZ_CHECK(cfg.n_providers == 0 || cfg.providers != NULL);
        config_free(&cfg);
    } else {
        FUZZ_CHECK(crc == -1 && err_ok(err, sizeof(err)));
    }
    return 0;
}
