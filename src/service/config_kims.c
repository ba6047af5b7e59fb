/* [[key_manager]] sections (service-config.md §7). */
#include "service/config_priv.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define KIM_ON_DISK_DEFAULT_PATH "/var/lib/parsec/mappings"
#define KIM_SQLITE_DEFAULT_PATH                                                                    \
    "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3"

static const char *const kim_common_keys[] = {"name", "manager_type", NULL};
static const char *const kim_path_keys[] = {"store_path", "sqlite_db_path", NULL};

void cfg_kim_free(struct cfg_kim *k)
{
    free(k->name);
    free(k->store_path);
    free(k->sqlite_db_path);
    memset(k, 0, sizeof(*k));
}

static int parse_kim(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_kim *k)
{
    char *type = NULL;
    int r = -1;
    if (cfg_need_str(c, t, "name", "key_manager", &k->name) < 0 ||
        cfg_need_str(c, t, "manager_type", "key_manager", &type) < 0)
        goto out;
    if (strcmp(type, "SQLite") == 0) {
        static const char *const own[] = {"sqlite_db_path", NULL};
        k->type = CFG_KIM_SQLITE;
        r = cfg_str_or(c, t, own[0], KIM_SQLITE_DEFAULT_PATH, &k->sqlite_db_path);
        if (r == 0)
            cfg_check_keys(c, t, "key_manager", kim_common_keys, own, kim_path_keys,
                           "a SQLite key manager");
    } else if (strcmp(type, "OnDisk") == 0) {
        static const char *const own[] = {"store_path", NULL};
        k->type = CFG_KIM_ON_DISK;
        r = cfg_str_or(c, t, own[0], KIM_ON_DISK_DEFAULT_PATH, &k->store_path);
        if (r == 0)
            cfg_check_keys(c, t, "key_manager", kim_common_keys, own, kim_path_keys,
                           "an OnDisk key manager");
    } else {
        cfg_fail(c, toml_get_line(t, "manager_type"),
                 "'manager_type' must be \"SQLite\" or \"OnDisk\", not \"%s\"", type);
    }
out:
    free(type);
    return r;
}

/* The original service keeps key managers in a map by name: a later declaration with the
 * same name replaces the earlier one. Kept for compatibility, but said aloud. */
static void kim_replace_duplicate(const struct cfg_ctx *c, const struct toml_value *t,
                                  struct config *cfg)
{
    struct cfg_kim *last = &cfg->kims[cfg->n_kims - 1];
    for (size_t i = 0; i + 1 < cfg->n_kims; i++) {
        if (strcmp(cfg->kims[i].name, last->name) != 0)
            continue;
        log_warn(CFG_LOG_MODULE,
                 "%s:%d: key manager '%s' is declared twice: the later one "
                 "replaces the earlier one",
                 c->name, toml_line(t), last->name);
        cfg_kim_free(&cfg->kims[i]);
        cfg->kims[i] = *last;
        memset(last, 0, sizeof(*last));
        cfg->n_kims--;
        return;
    }
}

int cfg_parse_kims(const struct cfg_ctx *c, const struct toml_value *root, struct config *cfg)
{
    const struct toml_value *a;
    if (cfg_array_of_tables(c, root, "key_manager", &a) < 0)
        return -1;
    if (!a || toml_array_len(a) == 0)
        return 0;
    if (!(cfg->kims = calloc(toml_array_len(a), sizeof(*cfg->kims))))
        return cfg_fail(c, toml_line(a), "out of memory");
    for (size_t i = 0; i < toml_array_len(a); i++) {
        const struct toml_value *t = toml_array_at(a, i);
        /* Counted before parsing so that config_free releases a half-filled entry. */
        if (parse_kim(c, t, &cfg->kims[cfg->n_kims++]) < 0)
            return -1;
        kim_replace_duplicate(c, t, cfg);
    }
    return 0;
}
