/* Read-only accessors of a parsed TOML tree. Each is NULL-safe and type-checked, so that the
 * configuration layer can probe optional keys without testing types first. */
#include "common/toml_priv.h"

#include <string.h>

enum toml_type toml_type(const struct toml_value *v)
{
    return v->type;
}

const char *toml_type_name(enum toml_type t)
{
    switch (t) {
    case TOML_TABLE:
        return "table";
    case TOML_ARRAY:
        return "array";
    case TOML_STRING:
        return "string";
    case TOML_INTEGER:
        return "integer";
    case TOML_FLOAT:
        return "float";
    case TOML_BOOL:
        return "boolean";
    case TOML_DATETIME:
        return "date-time";
    }
    return "unknown";
}

int toml_line(const struct toml_value *v)
{
    return v ? v->line : 0;
}

size_t toml_table_len(const struct toml_value *t)
{
    return t && t->type == TOML_TABLE ? t->u.tab.len : 0;
}

const char *toml_table_key(const struct toml_value *t, size_t i, size_t *key_len, int *line)
{
    if (i >= toml_table_len(t))
        return NULL;
    if (key_len)
        *key_len = t->u.tab.kv[i].key_len;
    if (line)
        *line = t->u.tab.kv[i].line;
    return t->u.tab.kv[i].key;
}

const struct toml_value *toml_table_value(const struct toml_value *t, size_t i)
{
    return i < toml_table_len(t) ? t->u.tab.kv[i].value : NULL;
}

const struct toml_value *toml_get(const struct toml_value *t, const char *key)
{
    if (!t || t->type != TOML_TABLE || !key)
        return NULL;
    const struct toml_kv *kv = toml_tab_find(t, key, strlen(key));
    return kv ? kv->value : NULL;
}

int toml_get_line(const struct toml_value *t, const char *key)
{
    if (!t || t->type != TOML_TABLE || !key)
        return 0;
    const struct toml_kv *kv = toml_tab_find(t, key, strlen(key));
    return kv ? kv->line : 0;
}

size_t toml_array_len(const struct toml_value *a)
{
    return a && a->type == TOML_ARRAY ? a->u.arr.len : 0;
}

const struct toml_value *toml_array_at(const struct toml_value *a, size_t i)
{
    return i < toml_array_len(a) ? a->u.arr.items[i] : NULL;
}

const char *toml_string(const struct toml_value *v, size_t *len)
{
    if (!v || (v->type != TOML_STRING && v->type != TOML_DATETIME))
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.ptr;
}

int64_t toml_int(const struct toml_value *v)
{
    return v && v->type == TOML_INTEGER ? v->u.i : 0;
}

double toml_float(const struct toml_value *v)
{
    return v && v->type == TOML_FLOAT ? v->u.f : 0.0;
}

int toml_bool(const struct toml_value *v)
{
    return v && v->type == TOML_BOOL ? v->u.b : 0;
}

enum toml_datetime_kind toml_datetime_kind(const struct toml_value *v)
{
    return v && v->type == TOML_DATETIME ? (enum toml_datetime_kind)v->dt_kind : TOML_DT_OFFSET;
}
