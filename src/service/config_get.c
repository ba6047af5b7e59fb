/* Typed access to configuration keys, with "file:line:" messages for wrong types, ranges and
 * unknown keys. */
#define _DEFAULT_SOURCE /* strdup */
#include "service/config_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int cfg_fail(const struct cfg_ctx *c, int line, const char *fmt, ...)
{
    if (!c->err || c->err_len == 0)
        return -1;
    int n = line > 0 ? snprintf(c->err, c->err_len, "%s:%d: ", c->name, line)
                     : snprintf(c->err, c->err_len, "%s: ", c->name);
    if (n >= 0 && (size_t)n < c->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The value of key if present with the expected type; *r is 0 (absent), 1 or -1. */
static const struct toml_value *typed(const struct cfg_ctx *c, const struct toml_value *t,
                                      const char *key, enum toml_type type, const char *a_type,
                                      int *r)
{
    const struct toml_value *v = toml_get(t, key);
    *r = 0;
    if (!v)
        return NULL;
    if (toml_type(v) != type) {
        *r = cfg_fail(c, toml_get_line(t, key), "'%s' must be %s", key, a_type);
        return NULL;
    }
    *r = 1;
    return v;
}

int cfg_get_bool(const struct cfg_ctx *c, const struct toml_value *t, const char *key, int *out)
{
    int r;
    const struct toml_value *v = typed(c, t, key, TOML_BOOL, "a boolean (true or false)", &r);
    if (v)
        *out = toml_bool(v);
    return r;
}

int cfg_get_int(const struct cfg_ctx *c, const struct toml_value *t, const char *key, int64_t min,
                int64_t max, int64_t *out)
{
    int r;
    const struct toml_value *v = typed(c, t, key, TOML_INTEGER, "an integer", &r);
    if (!v)
        return r;
    int64_t i = toml_int(v);
    int line = toml_get_line(t, key);
    if (i < min && min == 0)
        return cfg_fail(c, line, "'%s' must not be negative", key);
    if (i < min)
        return cfg_fail(c, line, "'%s' must be at least %lld", key, (long long)min);
    if (i > max)
        return cfg_fail(c, line, "'%s' must be at most %lld", key, (long long)max);
    *out = i;
    return 1;
}

int cfg_get_u64(const struct cfg_ctx *c, const struct toml_value *t, const char *key, uint64_t *out)
{
    int64_t i = 0;
    int r = cfg_get_int(c, t, key, 0, INT64_MAX, &i);
    if (r == 1)
        *out = (uint64_t)i;
    return r;
}

int cfg_get_size(const struct cfg_ctx *c, const struct toml_value *t, const char *key, size_t *out)
{
    int64_t i = 0;
    int64_t max = (uint64_t)SIZE_MAX < (uint64_t)INT64_MAX ? (int64_t)SIZE_MAX : INT64_MAX;
    int r = cfg_get_int(c, t, key, 0, max, &i);
    if (r == 1)
        *out = (size_t)i;
    return r;
}

int cfg_get_str(const struct cfg_ctx *c, const struct toml_value *t, const char *key, char **out)
{
    int r;
    size_t len;
    const struct toml_value *v = typed(c, t, key, TOML_STRING, "a string", &r);
    if (!v)
        return r;
    const char *s = toml_string(v, &len);
    /* C strings end at the first NUL: a hidden tail would silently change the meaning. */
    if (memchr(s, '\0', len))
        return cfg_fail(c, toml_get_line(t, key), "'%s' must not contain a NUL character", key);
    if (!(*out = strdup(s)))
        return cfg_fail(c, toml_get_line(t, key), "out of memory");
    return 1;
}

int cfg_need_str(const struct cfg_ctx *c, const struct toml_value *t, const char *key,
                 const char *section, char **out)
{
    int r = cfg_get_str(c, t, key, out);
    if (r == 0)
        return cfg_fail(c, toml_line(t), "missing required key '%s' in [%s]", key, section);
    return r < 0 ? -1 : 0;
}

int cfg_str_or(const struct cfg_ctx *c, const struct toml_value *t, const char *key,
               const char *def, char **out)
{
    int r = cfg_get_str(c, t, key, out);
    if (r == 0 && !(*out = strdup(def)))
        return cfg_fail(c, toml_line(t), "out of memory");
    return r < 0 ? -1 : 0;
}

/* The tables of an optional [[key]]; *out is NULL when absent. */
int cfg_array_of_tables(const struct cfg_ctx *c, const struct toml_value *root, const char *key,
                        const struct toml_value **out)
{
    const struct toml_value *a = toml_get(root, key);
    *out = NULL;
    if (!a)
        return 0;
    if (toml_type(a) != TOML_ARRAY)
        return cfg_fail(c, toml_get_line(root, key), "'%s' must be an array of tables", key);
    for (size_t i = 0; i < toml_array_len(a); i++)
        if (toml_type(toml_array_at(a, i)) != TOML_TABLE)
            return cfg_fail(c, toml_line(toml_array_at(a, i)), "'%s' must be an array of tables",
                            key);
    *out = a;
    return 0;
}

static int listed(const char *const *list, const char *key)
{
    for (; list && *list; list++)
        if (strcmp(*list, key) == 0)
            return 1;
    return 0;
}

void cfg_check_keys(const struct cfg_ctx *c, const struct toml_value *t, const char *section,
                    const char *const *common, const char *const *own, const char *const *foreign,
                    const char *what)
{
    for (size_t i = 0; i < toml_table_len(t); i++) {
        int line;
        const char *key = toml_table_key(t, i, NULL, &line);
        if (listed(common, key) || listed(own, key))
            continue;
        if (!section)
            log_warn(CFG_LOG_MODULE, "%s:%d: unknown key '%s' at the top level (ignored)", c->name,
                     line, key);
        else if (listed(foreign, key))
            log_warn(CFG_LOG_MODULE, "%s:%d: '%s' is not used by %s (ignored)", c->name, line, key,
                     what);
        else
            log_warn(CFG_LOG_MODULE, "%s:%d: unknown key '%s' in [%s] (ignored)", c->name, line,
                     key, section);
    }
}

char *cfg_path_join(const char *dir, const char *leaf)
{
    size_t dl = strlen(dir), ll = strlen(leaf);
    while (dl > 0 && dir[dl - 1] == '/')
        dl--;
    char *p = malloc(dl + 1 + ll + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, leaf, ll + 1);
    return p;
}
