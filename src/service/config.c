/* The service configuration: reading config.toml, the [core_settings], [listener] and
 * [authenticator] sections, the embedded defaults and release. Options and defaults follow
 * service-config.md §2-8; unlike the original, unknown keys are reported (as warnings, so
 * that every file the original accepts still loads). */
#define _DEFAULT_SOURCE /* explicit_bzero, strdup */
#include "service/config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "wire/opcode.h"

#define DEFAULT_IDLE_SLEEP_MS 10
#define DEFAULT_BODY_LEN_LIMIT (1u << 20)
#define DEFAULT_BUFFER_SIZE_LIMIT (1u << 20)
#define DEFAULT_REQUEST_TIME_LIMIT_MS 10000
#define DEFAULT_PEER_SHARE_PERCENT 50
#define DEFAULT_STOP_GRACE_MS 2000
#define DEFAULT_SOCKET_PATH "/run/parsec/parsec.sock"
/* The longest path a Unix socket address can hold (sun_path without its NUL). */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define EMBEDDED_TIMEOUT_MS 200
/* How long a JWT-SVID validation may wait for the Workload API by default, and at most. */
#define DEFAULT_WORKLOAD_TIMEOUT_MS 1000
#define MAX_WORKLOAD_TIMEOUT_MS 60000

static size_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

/* A required top-level table. */
static int section(const struct cfg_ctx *c, const struct toml_value *root, const char *key,
                   const struct toml_value **out)
{
    *out = toml_get(root, key);
    if (!*out)
        return cfg_fail(c, 0, "missing required section [%s]", key);
    if (toml_type(*out) != TOML_TABLE)
        return cfg_fail(c, toml_get_line(root, key), "'%s' must be a table ([%s])", key, key);
    return 0;
}

static void core_defaults(struct cfg_core *core)
{
    core->thread_pool_size = online_cpus();
    core->idle_listener_sleep_duration = DEFAULT_IDLE_SLEEP_MS;
    core->body_len_limit = DEFAULT_BODY_LEN_LIMIT;
    core->buffer_size_limit = DEFAULT_BUFFER_SIZE_LIMIT;
    core->request_time_limit = DEFAULT_REQUEST_TIME_LIMIT_MS;
    core->peer_share_percent = DEFAULT_PEER_SHARE_PERCENT;
    core->stop_grace_period = DEFAULT_STOP_GRACE_MS;
}

static int parse_core(const struct cfg_ctx *c, const struct toml_value *t, struct cfg_core *core)
{
    static const char *const keys[] = {"allow_root",
                                       "thread_pool_size",
                                       "idle_listener_sleep_duration",
                                       "log_level",
                                       "log_timestamp",
                                       "body_len_limit",
                                       "log_error_details",
                                       "buffer_size_limit",
                                       "allow_deprecated",
                                       "request_time_limit",
                                       "request_memory_limit",
                                       "peer_share_percent",
                                       "max_connections",
                                       "stop_grace_period",
                                       NULL};
    int64_t share = DEFAULT_PEER_SHARE_PERCENT;
    core_defaults(core);
    if (cfg_get_bool(c, t, "allow_root", &core->allow_root) < 0 ||
        cfg_get_size(c, t, "thread_pool_size", &core->thread_pool_size) < 0 ||
        cfg_get_u64(c, t, "idle_listener_sleep_duration", &core->idle_listener_sleep_duration) <
            0 ||
        cfg_get_str(c, t, "log_level", &core->log_level) < 0 ||
        cfg_get_bool(c, t, "log_timestamp", &core->log_timestamp) < 0 ||
        cfg_get_size(c, t, "body_len_limit", &core->body_len_limit) < 0 ||
        cfg_get_bool(c, t, "log_error_details", &core->log_error_details) < 0 ||
        cfg_get_size(c, t, "buffer_size_limit", &core->buffer_size_limit) < 0 ||
        cfg_get_bool(c, t, "allow_deprecated", &core->allow_deprecated) < 0 ||
        cfg_get_u64(c, t, "request_time_limit", &core->request_time_limit) < 0 ||
        cfg_get_size(c, t, "request_memory_limit", &core->request_memory_limit) < 0 ||
        cfg_get_int(c, t, "peer_share_percent", 1, 100, &share) < 0 ||
        cfg_get_size(c, t, "max_connections", &core->max_connections) < 0 ||
        cfg_get_u64(c, t, "stop_grace_period", &core->stop_grace_period) < 0)
        return -1;
    core->peer_share_percent = (uint64_t)share;
    /* The original panics on an empty pool; say why instead. */
    if (core->thread_pool_size == 0)
        return cfg_fail(c, toml_get_line(t, "thread_pool_size"),
                        "'thread_pool_size' must be at least 1: no thread would serve requests");
    if (core->log_level && log_level_parse(core->log_level) < 0)
        return cfg_fail(c, toml_get_line(t, "log_level"),
                        "'log_level' must be one of off, error, warn, info, debug, trace");
    cfg_check_keys(c, t, "core_settings", keys, NULL, NULL, NULL);
    return 0;
}

static int parse_listener(const struct cfg_ctx *c, const struct toml_value *t,
                          struct cfg_listener *l)
{
    static const char *const keys[] = {"listener_type", "timeout", "socket_path", NULL};
    if (cfg_need_str(c, t, "listener_type", "listener", &l->listener_type) < 0)
        return -1;
    if (strcmp(l->listener_type, "DomainSocket") != 0)
        return cfg_fail(c, toml_get_line(t, "listener_type"),
                        "'listener_type' must be \"DomainSocket\", not \"%s\"", l->listener_type);
    int r = cfg_get_u64(c, t, "timeout", &l->timeout);
    if (r == 0)
        return cfg_fail(c, toml_line(t), "missing required key 'timeout' in [listener]");
    if (r < 0 || cfg_str_or(c, t, "socket_path", DEFAULT_SOCKET_PATH, &l->socket_path) < 0)
        return -1;
    size_t n = strlen(l->socket_path);
    if (n == 0 || n > SOCKET_PATH_MAX)
        return cfg_fail(c, toml_get_line(t, "socket_path"),
                        "'socket_path' must hold 1 to %zu bytes", (size_t)SOCKET_PATH_MAX);
    cfg_check_keys(c, t, "listener", keys, NULL, NULL, NULL);
    return 0;
}

/* admins = [ { name = "..." }, ... ], also written [[authenticator.admins]]. */
static int parse_admins(const struct cfg_ctx *c, const struct toml_value *t, const char *section,
                        struct cfg_authenticator *a)
{
    static const char *const keys[] = {"name", NULL};
    char where[64];
    snprintf(where, sizeof(where), "%s.admins", section);
    const struct toml_value *arr;
    if (cfg_array_of_tables(c, t, "admins", &arr) < 0)
        return -1;
    size_t n = toml_array_len(arr);
    if (n == 0)
        return 0;
    if (!(a->admins = calloc(n, sizeof(*a->admins))))
        return cfg_fail(c, toml_line(arr), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct toml_value *e = toml_array_at(arr, i);
        if (cfg_need_str(c, e, "name", where, &a->admins[a->n_admins]) < 0)
            return -1;
        a->n_admins++;
        cfg_check_keys(c, e, where, keys, NULL, NULL, NULL);
    }
    return 0;
}

/* One authenticator: [authenticator] or an entry of [[extra_authenticator]] (section names
 * which, for messages). */
static int parse_auth(const struct cfg_ctx *c, const struct toml_value *t, const char *section,
                      struct cfg_authenticator *a)
{
    static const char *const common[] = {"auth_type", "admins", NULL};
    static const char *const jwt[] = {"workload_endpoint", "workload_timeout", NULL};
    a->workload_timeout = DEFAULT_WORKLOAD_TIMEOUT_MS;
    if (cfg_need_str(c, t, "auth_type", section, &a->auth_type) < 0)
        return -1;
    if (strcmp(a->auth_type, "Direct") == 0)
        a->type = PSC_AUTH_DIRECT;
    else if (strcmp(a->auth_type, "UnixPeerCredentials") == 0)
        a->type = PSC_AUTH_UNIX_PEER_CREDENTIALS;
    else if (strcmp(a->auth_type, "JwtSvid") == 0)
        a->type = PSC_AUTH_JWT_SVID;
    else
        return cfg_fail(c, toml_get_line(t, "auth_type"),
                        "'auth_type' must be one of Direct, UnixPeerCredentials, JwtSvid, not "
                        "\"%s\"",
                        a->auth_type);
    if (a->type == PSC_AUTH_JWT_SVID) {
        int64_t ms;
        int r = cfg_get_int(c, t, "workload_timeout", 1, MAX_WORKLOAD_TIMEOUT_MS, &ms);
        if (r < 0 || cfg_need_str(c, t, "workload_endpoint", section, &a->workload_endpoint) < 0)
            return -1;
        if (r > 0)
            a->workload_timeout = (uint64_t)ms;
    }
    if (parse_admins(c, t, section, a) < 0)
        return -1;
    if (a->type == PSC_AUTH_JWT_SVID)
        cfg_check_keys(c, t, section, common, jwt, NULL, NULL);
    else if (a->type == PSC_AUTH_DIRECT)
        cfg_check_keys(c, t, section, common, NULL, jwt, "the Direct authenticator");
    else
        cfg_check_keys(c, t, section, common, NULL, jwt, "the UnixPeerCredentials authenticator");
    return 0;
}

/* [[extra_authenticator]]: authenticators active beside [authenticator], in file order. A
 * table name of our own, so that the original service (whose configuration reader ignores
 * unknown top-level tables) still reads such a file, with [authenticator] alone. */
static int parse_extra_auths(const struct cfg_ctx *c, const struct toml_value *root,
                             struct config *cfg)
{
    const struct toml_value *arr;
    if (cfg_array_of_tables(c, root, "extra_authenticator", &arr) < 0)
        return -1;
    size_t n = toml_array_len(arr);
    if (n == 0)
        return 0;
    if (!(cfg->extra_auths = calloc(n, sizeof(*cfg->extra_auths))))
        return cfg_fail(c, toml_line(arr), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct toml_value *e = toml_array_at(arr, i);
        struct cfg_authenticator *a = &cfg->extra_auths[i];
        cfg->n_extra_auths++;
        if (parse_auth(c, e, "extra_authenticator", a) < 0)
            return -1;
        /* The header's auth type chooses the authenticator: one of each type at most. */
        int dup = a->type == cfg->authenticator.type;
        for (size_t j = 0; j < i; j++)
            dup |= a->type == cfg->extra_auths[j].type;
        if (dup)
            return cfg_fail(c, toml_get_line(e, "auth_type"),
                            "authenticator \"%s\" is configured twice", a->auth_type);
    }
    return 0;
}

static int parse_root(const struct cfg_ctx *c, const struct toml_value *root, struct config *cfg)
{
    static const char *const keys[] = {
        "core_settings",       "listener", "authenticator", "key_manager", "provider",
        "extra_authenticator", NULL};
    const struct toml_value *t;
    /* In file order, so that the first error reported is the first one a reader meets. */
    if (section(c, root, "core_settings", &t) < 0 || parse_core(c, t, &cfg->core) < 0 ||
        section(c, root, "listener", &t) < 0 || parse_listener(c, t, &cfg->listener) < 0 ||
        section(c, root, "authenticator", &t) < 0 ||
        parse_auth(c, t, "authenticator", &cfg->authenticator) < 0 ||
        parse_extra_auths(c, root, cfg) < 0 || cfg_parse_kims(c, root, cfg) < 0 ||
        cfg_parse_providers(c, root, cfg) < 0)
        return -1;
    cfg_check_keys(c, root, NULL, keys, NULL, NULL, NULL);
    return 0;
}

int config_parse(const char *name, const char *text, size_t len, struct config *cfg, char *err,
                 size_t err_len)
{
    struct cfg_ctx c = {.name = name, .err = err, .err_len = err_len};
    struct toml_value *root = NULL;
    struct config tmp = {0};
    int r = -1;
    memset(cfg, 0, sizeof(*cfg));
    if (err_len)
        err[0] = '\0';
    if (toml_parse(name, text, len, &root, err, err_len) < 0)
        goto out;
    if (parse_root(&c, root, &tmp) < 0)
        goto out;
    *cfg = tmp;
    memset(&tmp, 0, sizeof(tmp));
    r = 0;
out:
    config_free(&tmp);
    toml_free(root);
    return r;
}

/* Reads at most TOML_MAX_INPUT bytes of a regular file into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t err_len)
{
    struct cfg_ctx c = {.name = path, .err = err, .err_len = err_len};
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    int r = -1, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cfg_fail(&c, 0, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        cfg_fail(&c, 0, "not a readable regular file");
        goto out;
    }
    /* One byte more than allowed, to notice a file that grew past the limit. */
    if (!(buf = malloc(TOML_MAX_INPUT + 1))) {
        cfg_fail(&c, 0, "out of memory");
        goto out;
    }
    while (n <= TOML_MAX_INPUT) {
        ssize_t got = read(fd, buf + n, TOML_MAX_INPUT + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            cfg_fail(&c, 0, "cannot read: %s", strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > TOML_MAX_INPUT) {
        cfg_fail(&c, 0, "file larger than %d bytes", TOML_MAX_INPUT);
        goto out;
    }
    *out = buf, *len = n, buf = NULL;
    r = 0;
out:
    if (buf) {
        explicit_bzero(buf, n);
        free(buf);
    }
    close(fd);
    return r;
}

int config_load(const char *path, struct config *cfg, char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    memset(cfg, 0, sizeof(*cfg));
    if (read_file(path, &text, &len, err, err_len) < 0)
        return -1;
    int r = config_parse(path, text, len, cfg, err, err_len);
    explicit_bzero(text, len); /* the file may hold PINs and hierarchy passwords */
    free(text);
    return r;
}

/* ---- embedded defaults ------------------------------------------------------------------ */

static int embedded_kim(const char *state_dir, struct config *cfg)
{
    if (!(cfg->kims = calloc(1, sizeof(*cfg->kims))))
        return -1;
    cfg->n_kims = 1;
    cfg->kims[0].type = CFG_KIM_SQLITE;
    cfg->kims[0].name = strdup("sqlite-manager");
    cfg->kims[0].sqlite_db_path =
        cfg_path_join(state_dir, "kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    return cfg->kims[0].name && cfg->kims[0].sqlite_db_path ? 0 : -1;
}

static int embedded_provider(const char *state_dir, struct config *cfg)
{
    if (!(cfg->providers = calloc(1, sizeof(*cfg->providers))))
        return -1;
    cfg->n_providers = 1;
    struct cfg_provider *p = &cfg->providers[0];
    p->id = PSC_PROVIDER_MBED_CRYPTO;
    p->allow_export = 1;
    p->wake_delay = p->rx_retries = p->slave_address = p->bus = p->baud = -1;
    p->provider_type = strdup("MbedCrypto");
    p->name = strdup("mbed-crypto-provider");
    p->key_info_manager = strdup("sqlite-manager");
    p->key_store_path = cfg_path_join(state_dir, "mbed-crypto");
    return p->provider_type && p->name && p->key_info_manager && p->key_store_path ? 0 : -1;
}

static void cfg_auth_free(struct cfg_authenticator *a)
{
    free(a->auth_type);
    for (size_t i = 0; i < a->n_admins; i++)
        free(a->admins[i]);
    free(a->admins);
    free(a->workload_endpoint);
}

int config_embedded(const char *state_dir, struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    core_defaults(&cfg->core);
    cfg->listener.timeout = EMBEDDED_TIMEOUT_MS;
    cfg->authenticator.type = PSC_AUTH_UNIX_PEER_CREDENTIALS;
    cfg->listener.listener_type = strdup("DomainSocket");
    cfg->listener.socket_path = cfg_path_join(state_dir, "parsec.sock");
    cfg->authenticator.auth_type = strdup("UnixPeerCredentials");
    if (!cfg->listener.listener_type || !cfg->listener.socket_path ||
        !cfg->authenticator.auth_type || embedded_kim(state_dir, cfg) < 0 ||
        embedded_provider(state_dir, cfg) < 0) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free(cfg->core.log_level);
    free(cfg->listener.listener_type);
    free(cfg->listener.socket_path);
    cfg_auth_free(&cfg->authenticator);
    for (size_t i = 0; i < cfg->n_extra_auths; i++)
        cfg_auth_free(&cfg->extra_auths[i]);
    free(cfg->extra_auths);
    for (size_t i = 0; i < cfg->n_kims; i++)
        cfg_kim_free(&cfg->kims[i]);
    free(cfg->kims);
    for (size_t i = 0; i < cfg->n_providers; i++)
        cfg_provider_free(&cfg->providers[i]);
    free(cfg->providers);
    memset(cfg, 0, sizeof(*cfg));
}
