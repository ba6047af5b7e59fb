/* TOML documents: keys, tables, arrays, the tree and its accessors. Scalars are read by
 * toml_lex.c. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "common/toml_priv.h"

#include <stdlib.h>
#include <string.h>

/* Tables with more keys than this get a hash index, so that a hostile document with
 * hundreds of thousands of keys costs linear, not quadratic, time. */
#define TAB_INDEX_MIN 8
/* Longest key quoted back in an error message. */
#define KEY_SHOWN 64

/* A key as written: up to TOML_MAX_DEPTH dotted parts, each owned until inserted. */
struct key {
    char *part[TOML_MAX_DEPTH];
    size_t len[TOML_MAX_DEPTH];
    size_t n;
};

static void key_clear(struct key *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->part[i]);
    k->n = 0;
}

/* The first `upto` parts of k joined with dots, for messages; control bytes shown as '?'. */
static const char *key_show(const struct key *k, size_t upto, char out[KEY_SHOWN + 4])
{
    size_t o = 0;
    for (size_t i = 0; i < upto && o < KEY_SHOWN; i++) {
        if (i)
            out[o++] = '.';
        for (size_t j = 0; j < k->len[i] && o < KEY_SHOWN; j++) {
            unsigned char c = (unsigned char)k->part[i][j];
            out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
        }
    }
    if (o >= KEY_SHOWN)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
    return out;
}

/* "an integer", "a string", ... for messages. */
static const char *a_type(const struct toml_value *v)
{
    switch (v->type) {
    case TOML_ARRAY:
        return "an array";
    case TOML_INTEGER:
        return "an integer";
    case TOML_TABLE:
        return "a table";
    case TOML_STRING:
        return "a string";
    case TOML_FLOAT:
        return "a float";
    case TOML_BOOL:
        return "a boolean";
    default:
        return "a date-time";
    }
}

/* ---- the tree --------------------------------------------------------------------------- */

static struct toml_value *new_value(struct toml_parser *ps, enum toml_type type, int depth,
                                    uint8_t flags)
{
    if (depth > TOML_MAX_DEPTH) {
        toml_fail(ps, "values nested deeper than %d levels", TOML_MAX_DEPTH);
        return NULL;
    }
    struct toml_value *v = calloc(1, sizeof(*v));
    if (!v) {
        toml_fail(ps, "out of memory");
        return NULL;
    }
    v->type = type;
    v->line = ps->line;
    v->depth = (uint8_t)depth;
    v->flags = flags;
    return v;
}

static uint32_t key_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

static int key_eq(const struct toml_kv *kv, const char *k, size_t n)
{
    return kv->key_len == n && memcmp(kv->key, k, n) == 0;
}

struct toml_kv *toml_tab_find(const struct toml_value *t, const char *k, size_t n)
{
    if (!t->u.tab.index) {
        for (size_t i = 0; i < t->u.tab.len; i++)
            if (key_eq(&t->u.tab.kv[i], k, n))
                return &t->u.tab.kv[i];
        return NULL;
    }
    size_t mask = t->u.tab.index_cap - 1;
    for (size_t h = key_hash(k, n) & mask;; h = (h + 1) & mask) {
        uint32_t slot = t->u.tab.index[h];
        if (slot == 0)
            return NULL;
        if (key_eq(&t->u.tab.kv[slot - 1], k, n))
            return &t->u.tab.kv[slot - 1];
    }
}

static void index_put(struct toml_value *t, size_t pos)
{
    const struct toml_kv *kv = &t->u.tab.kv[pos];
    size_t mask = t->u.tab.index_cap - 1;
    size_t h = key_hash(kv->key, kv->key_len) & mask;
    while (t->u.tab.index[h])
        h = (h + 1) & mask;
    t->u.tab.index[h] = (uint32_t)(pos + 1);
}

/* Keeps the index at most half full. */
static int tab_reindex(struct toml_parser *ps, struct toml_value *t)
{
    if (t->u.tab.len <= TAB_INDEX_MIN)
        return 0;
    if (t->u.tab.index && t->u.tab.index_cap >= 2 * t->u.tab.len) {
        index_put(t, t->u.tab.len - 1);
        return 0;
    }
    size_t cap = 32;
    while (cap < 4 * t->u.tab.len)
        cap *= 2;
    uint32_t *index = calloc(cap, sizeof(*index));
    if (!index)
        return toml_fail(ps, "out of memory");
    free(t->u.tab.index);
    t->u.tab.index = index;
    t->u.tab.index_cap = cap;
    for (size_t i = 0; i < t->u.tab.len; i++)
        index_put(t, i);
    return 0;
}

/* Appends part i of k with value v to t; takes ownership of both on success. */
static int tab_add(struct toml_parser *ps, struct toml_value *t, struct key *k, size_t i, int line,
                   struct toml_value *v)
{
    if (t->u.tab.len == t->u.tab.cap) {
        size_t cap = t->u.tab.cap ? 2 * t->u.tab.cap : 4;
        struct toml_kv *kv = realloc(t->u.tab.kv, cap * sizeof(*kv));
        if (!kv)
            return toml_fail(ps, "out of memory");
        t->u.tab.kv = kv;
        t->u.tab.cap = cap;
    }
    struct toml_kv *kv = &t->u.tab.kv[t->u.tab.len++];
    kv->key = k->part[i];
    kv->key_len = k->len[i];
    kv->line = line;
    kv->value = v;
    k->part[i] = NULL;
    return tab_reindex(ps, t);
}

static int arr_push(struct toml_parser *ps, struct toml_value *a, struct toml_value *v)
{
    if (a->u.arr.len == a->u.arr.cap) {
        size_t cap = a->u.arr.cap ? 2 * a->u.arr.cap : 4;
        struct toml_value **items = realloc(a->u.arr.items, cap * sizeof(*items));
        if (!items)
            return toml_fail(ps, "out of memory");
        a->u.arr.items = items;
        a->u.arr.cap = cap;
    }
    a->u.arr.items[a->u.arr.len++] = v;
    return 0;
}

/* Creates table part i of k inside t; returns it or NULL. */
static struct toml_value *tab_add_table(struct toml_parser *ps, struct toml_value *t, struct key *k,
                                        size_t i, uint8_t flags)
{
    struct toml_value *v = new_value(ps, TOML_TABLE, t->depth + 1, flags);
    if (v && tab_add(ps, t, k, i, ps->line, v) < 0) {
        toml_free(v);
        return NULL;
    }
    return v;
}

void toml_free(struct toml_value *v)
{
    if (!v)
        return;
    switch (v->type) {
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.tab.len; i++) {
            free(v->u.tab.kv[i].key);
            toml_free(v->u.tab.kv[i].value);
        }
        free(v->u.tab.kv);
        free(v->u.tab.index);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++)
            toml_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case TOML_STRING:
    case TOML_DATETIME:
        if (v->u.str.ptr)
            explicit_bzero(v->u.str.ptr, v->u.str.len);
        free(v->u.str.ptr);
        break;
    default:
        break;
    }
    free(v);
}

/* ---- whitespace, comments, newlines ----------------------------------------------------- */

static void skip_ws(struct toml_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

static int at_newline(const struct toml_parser *ps)
{
    return ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r');
}

/* Consumes LF or CRLF (toml_check_text guarantees a CR is followed by LF). */
static void eat_newline(struct toml_parser *ps)
{
    if (*ps->p == '\r')
        ps->p++;
    ps->p++;
    ps->line++;
}

static void skip_comment(struct toml_parser *ps)
{
    if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && !at_newline(ps))
            ps->p++;
}

/* Inside arrays: whitespace, newlines and comments in any number. */
static void skip_blank(struct toml_parser *ps)
{
    for (;;) {
        skip_ws(ps);
        skip_comment(ps);
        if (!at_newline(ps))
            return;
        eat_newline(ps);
    }
}

/* After a key/value pair or a header only a comment may follow on the line. */
static int expect_eol(struct toml_parser *ps, const char *after)
{
    char d[24];
    skip_ws(ps);
    skip_comment(ps);
    if (ps->p == ps->end)
        return 0;
    if (at_newline(ps)) {
        eat_newline(ps);
        return 0;
    }
    return toml_fail(ps, "expected a new line after %s, found %s", after, toml_chdesc(ps, d));
}

/* ---- keys ------------------------------------------------------------------------------- */

static int bare_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int parse_bare_part(struct toml_parser *ps, struct key *k)
{
    char d[24];
    const char *s = ps->p;
    while (ps->p < ps->end && bare_key_char(*ps->p))
        ps->p++;
    size_t n = (size_t)(ps->p - s);
    if (n == 0)
        return toml_fail(ps, "expected a key, found %s", toml_chdesc(ps, d));
    if (ps->p < ps->end && !strchr(" \t.=]\n\r", *ps->p))
        return toml_fail(ps, "invalid character %s in bare key '%.*s'", toml_chdesc(ps, d),
                         (int)(n < KEY_SHOWN ? n : KEY_SHOWN), s);
    if (!(k->part[k->n] = malloc(n + 1)))
        return toml_fail(ps, "out of memory");
    memcpy(k->part[k->n], s, n);
    k->part[k->n][n] = '\0';
    k->len[k->n++] = n;
    return 0;
}

static int parse_quoted_part(struct toml_parser *ps, struct key *k)
{
    struct toml_buf b = {0};
    if (toml_lex_string(ps, &b, 1) < 0) {
        free(b.ptr);
        return -1;
    }
    if (!b.ptr && !(b.ptr = calloc(1, 1)))
        return toml_fail(ps, "out of memory");
    k->part[k->n] = b.ptr;
    k->len[k->n++] = b.len;
    return 0;
}

/* key = part *( ws "." ws part ), parts bare or quoted. */
static int parse_key(struct toml_parser *ps, struct key *k)
{
    for (;;) {
        skip_ws(ps);
        if (k->n == TOML_MAX_DEPTH)
            return toml_fail(ps, "key with more than %d dotted parts", TOML_MAX_DEPTH);
        int r = ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'') ? parse_quoted_part(ps, k)
                                                                     : parse_bare_part(ps, k);
        if (r < 0)
            return -1;
        skip_ws(ps);
        if (ps->p == ps->end || *ps->p != '.')
            return 0;
        ps->p++;
    }
}

/* ---- values ----------------------------------------------------------------------------- */

static int parse_value(struct toml_parser *ps, int depth, struct toml_value **out);
static int keyval(struct toml_parser *ps, struct toml_value *t);

static int parse_array(struct toml_parser *ps, struct toml_value *a)
{
    char d[24];
    ps->p++;
    for (;;) {
        struct toml_value *v;
        skip_blank(ps);
        if (ps->p < ps->end && *ps->p == ']')
            break;
        if (parse_value(ps, a->depth + 1, &v) < 0)
            return -1;
        if (arr_push(ps, a, v) < 0) {
            toml_free(v);
            return -1;
        }
        skip_blank(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']')
            break;
        return toml_fail(ps, "expected ',' or ']' in array, found %s", toml_chdesc(ps, d));
    }
    ps->p++;
    return 0;
}

static int parse_inline_table(struct toml_parser *ps, struct toml_value *t)
{
    char d[24];
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}')
        goto done;
    for (;;) {
        if (ps->p == ps->end || at_newline(ps))
            return toml_fail(ps, "inline table not closed on its line");
        if (keyval(ps, t) < 0)
            return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}')
            break;
        if (ps->p == ps->end || *ps->p != ',')
            return toml_fail(ps, "expected ',' or '}' in inline table, found %s",
                             toml_chdesc(ps, d));
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}')
            return toml_fail(ps, "trailing comma in inline table");
    }
done:
    ps->p++;
    t->flags = TOML_TBL_INLINE;
    return 0;
}

static int parse_string_value(struct toml_parser *ps, struct toml_value *v)
{
    struct toml_buf b = {0};
    if (toml_lex_string(ps, &b, 0) < 0) {
        free(b.ptr);
        return -1;
    }
    if (!b.ptr && !(b.ptr = calloc(1, 1)))
        return toml_fail(ps, "out of memory");
    v->u.str.ptr = b.ptr;
    v->u.str.len = b.len;
    return 0;
}

static int parse_value(struct toml_parser *ps, int depth, struct toml_value **out)
{
    char c = ps->p < ps->end ? *ps->p : '\0';
    enum toml_type type = c == '[' ? TOML_ARRAY : c == '{' ? TOML_TABLE : TOML_STRING;
    uint8_t flags = c == '[' ? TOML_ARR_STATIC : 0;
    struct toml_value *v = new_value(ps, type, depth, flags);
    int r;
    if (!v)
        return -1;
    if (c == '[')
        r = parse_array(ps, v);
    else if (c == '{')
        r = parse_inline_table(ps, v);
    else if (c == '"' || c == '\'')
        r = parse_string_value(ps, v);
    else
        r = toml_lex_scalar(ps, v);
    if (r < 0) {
        toml_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- key/value pairs -------------------------------------------------------------------- */

/* Steps from t into part i of a dotted key, creating the table if needed. Only tables made by
 * dotted keys may be extended this way. */
static struct toml_value *dotted_step(struct toml_parser *ps, struct toml_value *t, struct key *k,
                                      size_t i)
{
    char shown[KEY_SHOWN + 4];
    struct toml_kv *kv = toml_tab_find(t, k->part[i], k->len[i]);
    if (!kv)
        return tab_add_table(ps, t, k, i, TOML_TBL_DOTTED);
    struct toml_value *v = kv->value;
    if (v->type == TOML_TABLE && v->flags == TOML_TBL_DOTTED)
        return v;
    if (v->type == TOML_TABLE)
        toml_fail(ps, "table '%s' is already defined", key_show(k, i + 1, shown));
    else
        toml_fail(ps, "key '%s' is already defined as %s", key_show(k, i + 1, shown), a_type(v));
    return NULL;
}

static int keyval(struct toml_parser *ps, struct toml_value *t)
{
    char d[24], shown[KEY_SHOWN + 4];
    struct key k = {0};
    struct toml_value *v = NULL;
    int line = ps->line, r = -1;
    if (parse_key(ps, &k) < 0)
        goto out;
    if (ps->p == ps->end || *ps->p != '=') {
        toml_fail(ps, "expected '=' after key '%s', found %s", key_show(&k, k.n, shown),
                  toml_chdesc(ps, d));
        goto out;
    }
    ps->p++;
    skip_ws(ps);
    for (size_t i = 0; i + 1 < k.n; i++)
        if (!(t = dotted_step(ps, t, &k, i)))
            goto out;
    if (toml_tab_find(t, k.part[k.n - 1], k.len[k.n - 1])) {
        toml_fail(ps, "duplicate key '%s'", key_show(&k, k.n, shown));
        goto out;
    }
    if (parse_value(ps, t->depth + 1, &v) < 0)
        goto out;
    v->line = line;
    if (tab_add(ps, t, &k, k.n - 1, line, v) < 0)
        goto out;
    v = NULL;
    r = 0;
out:
    toml_free(v);
    key_clear(&k);
    return r;
}

/* ---- [table] and [[array.of.tables]] ---------------------------------------------------- */

/* Steps from t into part i of a header key: tables (not inline ones) are entered, arrays of
 * tables lead to their last element, missing parts become implicit tables. */
static struct toml_value *header_step(struct toml_parser *ps, struct toml_value *t, struct key *k,
                                      size_t i)
{
    char shown[KEY_SHOWN + 4];
    struct toml_kv *kv = toml_tab_find(t, k->part[i], k->len[i]);
    if (!kv)
        return tab_add_table(ps, t, k, i, TOML_TBL_IMPLICIT);
    struct toml_value *v = kv->value;
    if (v->type == TOML_TABLE && v->flags != TOML_TBL_INLINE)
        return v;
    if (v->type == TOML_ARRAY && v->flags == TOML_ARR_TABLES)
        return v->u.arr.items[v->u.arr.len - 1];
    if (v->type == TOML_TABLE || v->type == TOML_ARRAY)
        toml_fail(ps, "cannot extend %s '%s'",
                  v->type == TOML_TABLE ? "inline table" : "static array",
                  key_show(k, i + 1, shown));
    else
        toml_fail(ps, "key '%s' is already defined as %s", key_show(k, i + 1, shown), a_type(v));
    return NULL;
}

/* [a.b.c]: defines the last part, which may exist only as an implicit table. */
static struct toml_value *define_table(struct toml_parser *ps, struct toml_value *t, struct key *k)
{
    char shown[KEY_SHOWN + 4];
    size_t i = k->n - 1;
    struct toml_kv *kv = toml_tab_find(t, k->part[i], k->len[i]);
    if (!kv)
        return tab_add_table(ps, t, k, i, TOML_TBL_HEADER);
    struct toml_value *v = kv->value;
    if (v->type == TOML_TABLE && v->flags == TOML_TBL_IMPLICIT) {
        v->flags = TOML_TBL_HEADER;
        v->line = kv->line = ps->line;
        return v;
    }
    if (v->type == TOML_TABLE)
        toml_fail(ps, "table '%s' is already defined", key_show(k, k->n, shown));
    else if (v->type == TOML_ARRAY && v->flags == TOML_ARR_TABLES)
        toml_fail(ps, "'%s' is already defined as an array of tables", key_show(k, k->n, shown));
    else
        toml_fail(ps, "key '%s' is already defined as %s", key_show(k, k->n, shown), a_type(v));
    return NULL;
}

/* [[a.b.c]]: appends a table to the array of tables named by the last part. */
static struct toml_value *append_table(struct toml_parser *ps, struct toml_value *t, struct key *k)
{
    char shown[KEY_SHOWN + 4];
    size_t i = k->n - 1;
    struct toml_value *a, *e;
    struct toml_kv *kv = toml_tab_find(t, k->part[i], k->len[i]);
    if (!kv) {
        if (!(a = new_value(ps, TOML_ARRAY, t->depth + 1, TOML_ARR_TABLES)))
            return NULL;
        if (tab_add(ps, t, k, i, ps->line, a) < 0) {
            toml_free(a);
            return NULL;
        }
    } else if ((a = kv->value)->type != TOML_ARRAY || a->flags != TOML_ARR_TABLES) {
        if (a->type == TOML_ARRAY)
            toml_fail(ps, "cannot append to static array '%s'", key_show(k, k->n, shown));
        else
            toml_fail(ps, "key '%s' is already defined as %s", key_show(k, k->n, shown), a_type(a));
        return NULL;
    }
    if (!(e = new_value(ps, TOML_TABLE, a->depth + 1, TOML_TBL_HEADER)))
        return NULL;
    if (arr_push(ps, a, e) < 0) {
        toml_free(e);
        return NULL;
    }
    return e;
}

static int header(struct toml_parser *ps)
{
    struct key k = {0};
    int aot = ps->end - ps->p >= 2 && ps->p[1] == '[', r = -1;
    char d[24];
    struct toml_value *t = ps->root;
    ps->p += aot ? 2 : 1;
    if (parse_key(ps, &k) < 0)
        goto out;
    for (int closing = aot ? 2 : 1; closing > 0; closing--, ps->p++) {
        if (ps->p == ps->end || *ps->p != ']') {
            toml_fail(ps, "expected '%s' to close the table header, found %s", aot ? "]]" : "]",
                      toml_chdesc(ps, d));
            goto out;
        }
    }
    for (size_t i = 0; t && i + 1 < k.n; i++)
        t = header_step(ps, t, &k, i);
    if (t)
        t = aot ? append_table(ps, t, &k) : define_table(ps, t, &k);
    if (!t)
        goto out;
    ps->cur = t;
    r = expect_eol(ps, "a table header");
out:
    key_clear(&k);
    return r;
}

/* ---- the document ----------------------------------------------------------------------- */

static int parse_document(struct toml_parser *ps)
{
    /* A UTF-8 byte order mark is tolerated, as editors on some systems write one. */
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xef\xbb\xbf", 3) == 0)
        ps->p += 3;
    for (;;) {
        skip_ws(ps);
        if (ps->p == ps->end)
            return 0;
        if (*ps->p == '#') {
            skip_comment(ps);
        } else if (at_newline(ps)) {
            eat_newline(ps);
        } else if (*ps->p == '[') {
            if (header(ps) < 0)
                return -1;
        } else if (keyval(ps, ps->cur) < 0 || expect_eol(ps, "a value") < 0) {
            return -1;
        }
    }
}

int toml_parse(const char *name, const char *text, size_t len, struct toml_value **root, char *err,
               size_t err_len)
{
    if (!text)
        text = ""; /* NULL + 0 is undefined */
    struct toml_parser ps = {
        .name = name, .p = text, .end = text + len, .line = 1, .err = err, .err_len = err_len};
    int r = -1;
    *root = NULL;
    if (err_len)
        err[0] = '\0';
    if (len > TOML_MAX_INPUT) {
        ps.line = 0;
        toml_fail(&ps, "file larger than %d bytes", TOML_MAX_INPUT);
        goto out;
    }
    if (toml_check_text(&ps) < 0)
        goto out;
    if (!(ps.root = new_value(&ps, TOML_TABLE, 0, TOML_TBL_HEADER)))
        goto out;
    ps.cur = ps.root;
    if (parse_document(&ps) < 0)
        goto out;
    *root = ps.root;
    ps.root = NULL;
    r = 0;
out:
    toml_free(ps.root);
    return r;
}
