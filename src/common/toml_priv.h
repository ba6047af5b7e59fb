/* Internals shared by the TOML document parser (toml.c) and its scalar lexer (toml_lex.c).
 * Not for use outside src/common/toml*.c. */
#ifndef PARSEC_TOML_PRIV_H
#define PARSEC_TOML_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "common/toml.h"

/* Table flags: how a table came to exist decides whether it may be defined or extended later
 * (TOML 1.0 "Table" and "Inline Table" rules). */
#define TOML_TBL_IMPLICIT 0x01 /* created as a prefix of a [header]; may be defined once later */
#define TOML_TBL_HEADER 0x02   /* defined by [header] or [[header]] */
#define TOML_TBL_DOTTED 0x04   /* created by a dotted key; extensible by dotted keys only */
#define TOML_TBL_INLINE 0x08   /* { ... }: sealed */
/* Array flags. */
#define TOML_ARR_STATIC 0x10 /* [ ... ]: sealed */
#define TOML_ARR_TABLES 0x20 /* built by [[header]]: may be appended to */

struct toml_kv {
    char *key; /* NUL-terminated; key_len excludes the NUL (a key may hold U+0000) */
    size_t key_len;
    int line;
    struct toml_value *value;
};

struct toml_value {
    enum toml_type type;
    int line;
    uint8_t flags;
    uint8_t depth; /* tables/arrays between the root and this value */
    uint8_t dt_kind;
    union {
        struct {
            char *ptr;
            size_t len;
        } str;
        int64_t i;
        double f;
        int b;
        struct {
            struct toml_kv *kv;
            size_t len, cap;
            uint32_t *index; /* open-addressing slots holding kv position + 1; NULL if small */
            size_t index_cap;
        } tab;
        struct {
            struct toml_value **items;
            size_t len, cap;
        } arr;
    } u;
};

struct toml_parser {
    const char *name;
    const char *p, *end;
    int line;
    int failed;
    char *err;
    size_t err_len;
    struct toml_value *root;
    struct toml_value *cur; /* table receiving key/value pairs */
};

/* A growable byte buffer; ptr is NUL-terminated once toml_lex_string succeeds. */
struct toml_buf {
    char *ptr;
    size_t len, cap;
};

/* Records "name:line: message" (the first failure only) and returns -1. */
int toml_fail(struct toml_parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Describes the byte at ps->p for messages: "'x'", "end of line", "byte 0xC3". */
const char *toml_chdesc(const struct toml_parser *ps, char out[24]);

/* The entry for key k[0..n) in table t, or NULL. */
struct toml_kv *toml_tab_find(const struct toml_value *t, const char *k, size_t n);

/* Rejects invalid UTF-8, control characters and lone CRs anywhere in the input. */
int toml_check_text(struct toml_parser *ps);
/* ps->p is at a quote: reads any string form (for keys only the single-line forms) into out,
 * which the caller frees. */
int toml_lex_string(struct toml_parser *ps, struct toml_buf *out, int is_key);
/* Reads a boolean, integer, float or date-time at ps->p into v (type and payload). */
int toml_lex_scalar(struct toml_parser *ps, struct toml_value *v);

#endif
