/* A small, strict TOML 1.0 reader for the service configuration.
 *
 * The whole document is parsed into a tree of values. Anything TOML 1.0 forbids is an error:
 * duplicate keys, tables defined twice, extending inline tables or static arrays, invalid
 * escapes or Unicode scalar values, bad bare keys, two key/value pairs on one line, trailing
 * garbage, control characters, invalid UTF-8, leading zeros, misplaced underscores, integers
 * outside 64 bits. Error messages read "name:line: message".
 *
 * Choices left open by TOML:
 *  - Date-times (offset, local date-time, local date, local time) are validated (field ranges,
 *    days per month, leap years) and kept as their source text in a TOML_DATETIME value; the
 *    configuration never uses them.
 *  - Floats are converted with strtod(), so the process must keep the "C" LC_NUMERIC locale
 *    (the service never calls setlocale). Floats beyond the double range are an error.
 *  - CRLF is a newline everywhere; inside multi-line strings it is stored as LF.
 *  - Strings and keys may hold U+0000 (written \u0000): lengths are returned alongside, and
 *    the text is always NUL-terminated as well.
 *  - A table created implicitly by a header ("b" by [a.b.c]) may later be defined by its own
 *    [a.b] header, but not extended with dotted keys from [a]: TOML 1.0 lets dotted keys define
 *    only tables that do not exist yet.
 *  - A UTF-8 byte order mark at the very start is skipped.
 *
 * Limits: the input is at most TOML_MAX_INPUT bytes and no value is nested deeper than
 * TOML_MAX_DEPTH tables/arrays below the root (headers, dotted keys and inline values all
 * count), so that hostile input can exhaust neither memory nor the stack.
 *
 * No global state: concurrent parses are safe. */
#ifndef PARSEC_TOML_H
#define PARSEC_TOML_H

#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_INPUT (1024 * 1024)
#define TOML_MAX_DEPTH 64

enum toml_type {
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,
};

enum toml_datetime_kind {
    TOML_DT_OFFSET,     /* 1979-05-27T07:32:00Z, 1979-05-27 00:32:00.5-07:00 */
    TOML_DT_LOCAL,      /* 1979-05-27T07:32:00 */
    TOML_DT_LOCAL_DATE, /* 1979-05-27 */
    TOML_DT_LOCAL_TIME, /* 07:32:00.999 */
};

struct toml_value;

/* Parses text[0..len) (need not be NUL-terminated). On success returns 0 and *root is the
 * root table, to be released with toml_free. On failure returns -1, *root is NULL and err
 * holds "name:line: message" (truncated to err_len). */
int toml_parse(const char *name, const char *text, size_t len, struct toml_value **root, char *err,
               size_t err_len);

/* Frees a tree (NULL-safe). String contents are wiped first: configurations hold PINs. */
void toml_free(struct toml_value *v);

/* v must not be NULL. */
enum toml_type toml_type(const struct toml_value *v);
/* "table", "array", "string", "integer", "float", "boolean", "date-time". */
const char *toml_type_name(enum toml_type t);
/* Line where the value starts; for tables, the line of their header or first key. */
int toml_line(const struct toml_value *v);

/* Tables, in document order. toml_get is NULL when the key is absent or t is not a table. */
size_t toml_table_len(const struct toml_value *t);
/* Key i; *key_len (if not NULL) is its length and *line (if not NULL) the line of the key or
 * of the header that defined it. */
const char *toml_table_key(const struct toml_value *t, size_t i, size_t *key_len, int *line);
const struct toml_value *toml_table_value(const struct toml_value *t, size_t i);
const struct toml_value *toml_get(const struct toml_value *t, const char *key);
/* Line of key in t, 0 when absent. */
int toml_get_line(const struct toml_value *t, const char *key);

/* Arrays (inline arrays and arrays of tables alike). */
size_t toml_array_len(const struct toml_value *a);
const struct toml_value *toml_array_at(const struct toml_value *a, size_t i);

/* Scalars. Each accessor expects the matching type and returns 0/NULL otherwise. */
const char *toml_string(const struct toml_value *v, size_t *len); /* STRING or DATETIME */
int64_t toml_int(const struct toml_value *v);
double toml_float(const struct toml_value *v);
int toml_bool(const struct toml_value *v);
enum toml_datetime_kind toml_datetime_kind(const struct toml_value *v);

#endif
