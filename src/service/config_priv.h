/* Internals of the configuration reader, shared by config*.c files. Not for use elsewhere. */
#ifndef PARSEC_SERVICE_CONFIG_PRIV_H
#define PARSEC_SERVICE_CONFIG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "common/toml.h"
#include "service/config.h"

#define CFG_LOG_MODULE "parsec::config"

/* Where messages go: "name:line: message" into err. */
struct cfg_ctx {
    const char *name;
    char *err;
    size_t err_len;
};

/* Writes "name:line: message" (or "name: message" when line is 0) and returns -1. */
int cfg_fail(const struct cfg_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed getters of key in table t. Each returns 1 when the key is present and *out was set,
 * 0 when absent (*out untouched), -1 after reporting a wrong type or range. */
int cfg_get_bool(const struct cfg_ctx *c, const struct toml_value *t, const char *key, int *out);
int cfg_get_int(const struct cfg_ctx *c, const struct toml_value *t, const char *key, int64_t min,
                int64_t max, int64_t *out);
int cfg_get_u64(const struct cfg_ctx *c, const struct toml_value *t, const char *key,
                uint64_t *out);
int cfg_get_size(const struct cfg_ctx *c, const struct toml_value *t, const char *key, size_t *out);
/* Strings are copied; *out must be NULL on entry (it is only set on success). */
int cfg_get_str(const struct cfg_ctx *c, const struct toml_value *t, const char *key, char **out);

/* As cfg_get_str, but a missing key is reported as an error (0 on success). */
int cfg_need_str(const struct cfg_ctx *c, const struct toml_value *t, const char *key,
                 const char *section, char **out);
/* As cfg_get_str, but a missing key yields a copy of def (0 on success). */
int cfg_str_or(const struct cfg_ctx *c, const struct toml_value *t, const char *key,
               const char *def, char **out);

/* Logs a warning for every key of t not in common or own. Keys listed in foreign (valid for
 * another type of the same section) are reported as not used by `what`. A NULL section means
 * the top level of the file. */
void cfg_check_keys(const struct cfg_ctx *c, const struct toml_value *t, const char *section,
                    const char *const *common, const char *const *own, const char *const *foreign,
                    const char *what);

/* The tables of an optional [[key]] of root; *out is NULL when absent (0 then too). */
int cfg_array_of_tables(const struct cfg_ctx *c, const struct toml_value *root, const char *key,
                        const struct toml_value **out);

/* malloc'd "dir/leaf" (no doubled slash), NULL when out of memory. */
char *cfg_path_join(const char *dir, const char *leaf);

/* [[key_manager]] (config_kims.c) and [[provider]] (config_providers.c). */
int cfg_parse_kims(const struct cfg_ctx *c, const struct toml_value *root, struct config *cfg);
int cfg_parse_providers(const struct cfg_ctx *c, const struct toml_value *root, struct config *cfg);
void cfg_kim_free(struct cfg_kim *k);
void cfg_provider_free(struct cfg_provider *p);

#endif
