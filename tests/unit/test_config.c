/* The configuration reader: the shapes of config.toml the original service accepts, every
 * default, every required option, type and range errors with their "file:line:", and the
 * warnings about keys that have no effect. Warnings are read back from the real log output. */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/toml.h"
#include "service/config.h"
#include "wire/opcode.h"

#define DATA TEST_DATA_DIR "/config/"
#define PACKAGED TEST_DATA_DIR "/../../packaging/config.toml"

/* Lines 1-6; what a test appends starts at line 7. */
#define BASE                                                                                       \
    "[core_settings]\n"                                                                            \
    "[listener]\n"                                                                                 \
    "listener_type = \"DomainSocket\"\n"                                                           \
    "timeout = 200\n"                                                                              \
    "[authenticator]\n"                                                                            \
    "auth_type = \"UnixPeerCredentials\"\n"
/* Lines 7-9; a provider appended after it starts at line 10. */
#define KIM                                                                                        \
    "[[key_manager]]\n"                                                                            \
    "name = \"kim\"\n"                                                                             \
    "manager_type = \"SQLite\"\n"

/* ---- stderr capture, to read the warnings the log really printed ------------------------- */

static FILE *cap_file;
static int cap_saved_fd = -1;

static void capture_begin(void)
{
    fflush(stderr);
    cap_file = tmpfile();
    assert_non_null(cap_file);
    cap_saved_fd = dup(STDERR_FILENO);
    assert_true(cap_saved_fd >= 0);
    assert_true(dup2(fileno(cap_file), STDERR_FILENO) >= 0);
}

/* Returns what was logged since capture_begin (to free). */
static char *capture_end(void)
{
    fflush(stderr);
    assert_true(dup2(cap_saved_fd, STDERR_FILENO) >= 0);
    close(cap_saved_fd);
    long n = ftell(cap_file);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    rewind(cap_file);
    assert_int_equal(fread(s, 1, (size_t)n, cap_file), (size_t)n);
    fclose(cap_file);
    return s;
}

/* Parses text as "c.toml"; returns the result and (if wanted) the logged warnings. */
static int parse(const char *text, struct config *cfg, char *err, size_t err_len, char **log)
{
    capture_begin();
    int r = config_parse("c.toml", text, strlen(text), cfg, err, err_len);
    char *l = capture_end();
    if (log)
        *log = l;
    else
        free(l);
    return r;
}

static void parse_ok(const char *text, struct config *cfg)
{
    char err[256] = "";
    char *log;
    if (parse(text, cfg, err, sizeof(err), &log) != 0)
        fail_msg("unexpected error: %s", err);
    if (log[0])
        fail_msg("unexpected warnings: %s", log);
    free(log);
}

static void load_ok(const char *path, struct config *cfg, char **log)
{
    char err[256] = "";
    capture_begin();
    int r = config_load(path, cfg, err, sizeof(err));
    *log = capture_end();
    if (r != 0)
        fail_msg("unexpected error: %s", err);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    log_set_timestamp(0);
    return 0;
}

static int is_zeroed(const struct config *cfg)
{
    static const struct config zero;
    return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* ---- accepted files ---------------------------------------------------------------------- */

static void test_minimal_defaults(void **state)
{
    (void)state;
    struct config cfg;
    parse_ok(BASE, &cfg);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(cfg.core.allow_root, 0);
    assert_int_equal(cfg.core.thread_pool_size, cpus > 0 ? (size_t)cpus : 1);
    assert_int_equal(cfg.core.idle_listener_sleep_duration, 10);
    assert_null(cfg.core.log_level);
    assert_int_equal(cfg.core.log_timestamp, 0);
    assert_int_equal(cfg.core.body_len_limit, 1 << 20);
    assert_int_equal(cfg.core.log_error_details, 0);
    assert_int_equal(cfg.core.buffer_size_limit, 1 << 20);
    assert_int_equal(cfg.core.allow_deprecated, 0);
    assert_int_equal(cfg.core.request_time_limit, 10000);
    assert_int_equal(cfg.core.request_memory_limit, 0);
    assert_int_equal(cfg.core.peer_share_percent, 50);
    assert_int_equal(cfg.core.max_connections, 0);
    assert_int_equal(cfg.core.stop_grace_period, 2000);
    assert_string_equal(cfg.listener.listener_type, "DomainSocket");
    assert_int_equal(cfg.listener.timeout, 200);
    assert_string_equal(cfg.listener.socket_path, "/run/parsec/parsec.sock");
    assert_string_equal(cfg.authenticator.auth_type, "UnixPeerCredentials");
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(cfg.authenticator.n_admins, 0);
    assert_null(cfg.authenticator.admins);
    assert_null(cfg.authenticator.workload_endpoint);
    assert_int_equal(cfg.n_kims, 0);
    assert_int_equal(cfg.n_providers, 0);
    config_free(&cfg);
    assert_true(is_zeroed(&cfg));
}

static void test_key_manager_defaults(void **state)
{
    (void)state;
    struct config cfg;
    parse_ok(BASE "[[key_manager]]\nname = \"s\"\nmanager_type = \"SQLite\"\n"
                  "[[key_manager]]\nname = \"d\"\nmanager_type = \"OnDisk\"\n",
             &cfg);
    assert_int_equal(cfg.n_kims, 2);
    assert_string_equal(cfg.kims[0].name, "s");
    assert_int_equal(cfg.kims[0].type, CFG_KIM_SQLITE);
    assert_string_equal(cfg.kims[0].sqlite_db_path,
                        "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    assert_null(cfg.kims[0].store_path);
    assert_string_equal(cfg.kims[1].name, "d");
    assert_int_equal(cfg.kims[1].type, CFG_KIM_ON_DISK);
    assert_string_equal(cfg.kims[1].store_path, "/var/lib/parsec/mappings");
    assert_null(cfg.kims[1].sqlite_db_path);
    config_free(&cfg);
}

static void test_provider_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *type, *extra, *name;
        uint8_t id;
    } kinds[] = {
        {"MbedCrypto", "", "mbed-crypto-provider", 1},
        {"Pkcs11", "library_path = \"/lib/p11.so\"\n", "pkcs11-provider", 2},
        {"Tpm", "tcti = \"mssim\"\nowner_hierarchy_auth = \"\"\n", "tpm-provider", 3},
        {"CryptoAuthLib", "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\n",
         "cryptoauthlib-provider", 5},
        {"TrustedService", "", "trusted-service-provider", 4},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char doc[512];
        struct config cfg;
        snprintf(doc, sizeof(doc),
                 BASE KIM "[[provider]]\nprovider_type = \"%s\"\nkey_info_manager = \"kim\"\n%s",
                 kinds[i].type, kinds[i].extra);
        parse_ok(doc, &cfg);
        assert_int_equal(cfg.n_providers, 1);
        const struct cfg_provider *p = &cfg.providers[0];
        assert_string_equal(p->provider_type, kinds[i].type);
        assert_string_equal(p->name, kinds[i].name);
        assert_int_equal(p->id, kinds[i].id);
        assert_string_equal(p->key_info_manager, "kim");
        assert_null(p->key_store_path);
        assert_int_equal(p->has_slot_number, 0);
        assert_null(p->serial_number);
        assert_null(p->user_pin);
        assert_int_equal(p->software_public_operations, 0);
        assert_int_equal(p->allow_export, 1);
        assert_null(p->endorsement_hierarchy_auth);
        assert_int_equal(p->skip_if_no_tpm, 0);
        assert_true(p->wake_delay == -1 && p->rx_retries == -1 && p->slave_address == -1 &&
                    p->bus == -1 && p->baud == -1);
        assert_null(p->access_key_file_name);
        config_free(&cfg);
    }
}

static void test_all_providers_on_disk(void **state)
{
    (void)state;
    struct config cfg;
    char *log;
    load_ok(DATA "all-providers-ondisk.toml", &cfg, &log);
    assert_string_equal(log, "");
    free(log);
    assert_int_equal(cfg.core.allow_root, 1);
    assert_int_equal(cfg.core.log_error_details, 1);
    assert_string_equal(cfg.listener.socket_path, "/tmp/parsec.sock");
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_DIRECT);
    assert_int_equal(cfg.authenticator.n_admins, 3);
    assert_string_equal(cfg.authenticator.admins[0], "list_clients test");
    assert_string_equal(cfg.authenticator.admins[2], "client1");
    assert_int_equal(cfg.n_kims, 1);
    assert_int_equal(cfg.kims[0].type, CFG_KIM_ON_DISK);
    assert_string_equal(cfg.kims[0].store_path, "./mappings");
    assert_int_equal(cfg.n_providers, 5);
    static const char *const order[] = {"mbed-crypto-provider", "tpm-provider", "pkcs11-provider",
                                        "cryptoauthlib-provider", "trusted-service-provider"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cfg.providers[i].name, order[i]);
    assert_string_equal(cfg.providers[1].tcti, "mssim");
    assert_string_equal(cfg.providers[1].owner_hierarchy_auth, "tpm_pass");
    assert_int_equal(cfg.providers[2].has_slot_number, 1);
    assert_int_equal(cfg.providers[2].slot_number, 1234567890);
    assert_string_equal(cfg.providers[2].user_pin, "123456");
    assert_string_equal(cfg.providers[3].iface_type, "test-interface");
    assert_string_equal(cfg.providers[3].device_type, "always-success");
    config_free(&cfg);
}

static void test_all_providers_sqlite_misspelt_path(void **state)
{
    (void)state;
    struct config cfg;
    char *log;
    load_ok(DATA "all-providers-sqlite.toml", &cfg, &log);
    char want[256];
    snprintf(want, sizeof(want),
             "[WARN  parsec::config] %s:19: unknown key 'database_path' in [key_manager] "
             "(ignored)\n",
             DATA "all-providers-sqlite.toml");
    assert_string_equal(log, want);
    free(log);
    assert_int_equal(cfg.kims[0].type, CFG_KIM_SQLITE);
    assert_string_equal(cfg.kims[0].sqlite_db_path,
                        "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    assert_int_equal(cfg.authenticator.n_admins, 2);
    assert_string_equal(cfg.authenticator.admins[1], "spiffe://example.org/parsec-client-1");
    assert_int_equal(cfg.n_providers, 3);
    assert_int_equal(cfg.providers[2].has_slot_number, 0);
    config_free(&cfg);
}

static void test_two_managers_and_every_core_option(void **state)
{
    (void)state;
    struct config cfg;
    char *log;
    load_ok(DATA "two-managers.toml", &cfg, &log);
    assert_string_equal(log, "");
    free(log);
    assert_int_equal(cfg.core.thread_pool_size, 2);
    assert_int_equal(cfg.core.idle_listener_sleep_duration, 12);
    assert_string_equal(cfg.core.log_level, "trace");
    assert_int_equal(cfg.core.log_timestamp, 1);
    assert_int_equal(cfg.core.body_len_limit, 1024);
    assert_int_equal(cfg.core.log_error_details, 1);
    assert_int_equal(cfg.core.buffer_size_limit, 2048);
    assert_int_equal(cfg.core.allow_deprecated, 1);
    assert_int_equal(cfg.core.allow_root, 1);
    assert_int_equal(cfg.listener.timeout, 202);
    assert_int_equal(cfg.authenticator.n_admins, 2);
    assert_string_equal(cfg.authenticator.admins[0], "0");
    assert_string_equal(cfg.authenticator.admins[1], "1000");
    assert_int_equal(cfg.n_kims, 2);
    assert_string_equal(cfg.kims[0].sqlite_db_path,
                        "./kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    assert_string_equal(cfg.kims[1].store_path, "/var/lib/parsec/mappings-old");
    assert_int_equal(cfg.n_providers, 2);
    assert_string_equal(cfg.providers[0].name, "mbed-new");
    assert_string_equal(cfg.providers[0].key_store_path, "/var/lib/parsec/psa");
    assert_string_equal(cfg.providers[1].key_info_manager, "on-disk");
    config_free(&cfg);
}

/* The limits of ours (docs/configuration.md), beside the original's options. */
static void test_resource_limits(void **state)
{
    (void)state;
    struct config cfg;
    parse_ok("[core_settings]\n"
             "request_time_limit = 5000\n"
             "request_memory_limit = 134217728\n"
             "peer_share_percent = 25\n"
             "max_connections = 4096\n"
             "stop_grace_period = 500\n"
             "[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 200\n"
             "[authenticator]\nauth_type = \"Direct\"\n",
             &cfg);
    assert_int_equal(cfg.core.request_time_limit, 5000);
    assert_int_equal(cfg.core.request_memory_limit, 134217728);
    assert_int_equal(cfg.core.peer_share_percent, 25);
    assert_int_equal(cfg.core.max_connections, 4096);
    assert_int_equal(cfg.core.stop_grace_period, 500);
    config_free(&cfg);
}

static void test_hardware_provider_options(void **state)
{
    (void)state;
    struct config cfg;
    char *log;
    load_ok(DATA "hardware-options.toml", &cfg, &log);
    assert_string_equal(log, "");
    free(log);
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_JWT_SVID);
    assert_string_equal(cfg.authenticator.workload_endpoint,
                        "unix:///run/spire/sockets/agent.sock");
    const struct cfg_provider *p = &cfg.providers[0];
    assert_string_equal(p->name, "hsm");
    assert_string_equal(p->serial_number, "  5a3c1e7f9b2d4860 ");
    assert_int_equal(p->has_slot_number, 1);
    assert_int_equal(p->slot_number, 0x7fffffff);
    assert_string_equal(p->user_pin, "hex:31323334");
    assert_int_equal(p->software_public_operations, 1);
    assert_int_equal(p->allow_export, 0);
    p = &cfg.providers[1];
    assert_string_equal(p->tcti, "swtpm:host=localhost,port=2321");
    assert_string_equal(p->owner_hierarchy_auth, "");
    assert_string_equal(p->endorsement_hierarchy_auth, "str:endorse");
    assert_int_equal(p->skip_if_no_tpm, 1);
    p = &cfg.providers[2];
    assert_int_equal(p->wake_delay, 1600);
    assert_int_equal(p->rx_retries, -20);
    assert_int_equal(p->slave_address, 0xc0);
    assert_int_equal(p->bus, 1);
    assert_int_equal(p->baud, 400000);
    assert_string_equal(p->access_key_file_name, "/etc/parsec/access_keys.toml");
    config_free(&cfg);
}

static void test_packaged_config(void **state)
{
    (void)state;
    struct config cfg;
    char *log;
    load_ok(PACKAGED, &cfg, &log);
    assert_string_equal(log, ""); /* not a single warning */
    free(log);
    assert_string_equal(cfg.listener.socket_path, "/run/parsec/parsec.sock");
    assert_int_equal(cfg.listener.timeout, 200);
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(cfg.n_kims, 1);
    assert_int_equal(cfg.kims[0].type, CFG_KIM_SQLITE);
    assert_string_equal(cfg.kims[0].name, "sqlite-manager");
    assert_int_equal(cfg.n_providers, 1);
    assert_int_equal(cfg.providers[0].id, PSC_PROVIDER_MBED_CRYPTO);
    assert_string_equal(cfg.providers[0].name, "mbed-crypto-provider");
    assert_string_equal(cfg.providers[0].key_info_manager, "sqlite-manager");
    config_free(&cfg);
}

/* The original keeps key managers in a map: a second one with the same name wins. */
static void test_duplicate_key_manager_replaces(void **state)
{
    (void)state;
    struct config cfg;
    char err[256], *log;
    assert_int_equal(parse(BASE KIM "[[key_manager]]\nname = \"kim\"\nmanager_type = \"OnDisk\"\n"
                                    "store_path = \"/x\"\n",
                           &cfg, err, sizeof(err), &log),
                     0);
    assert_non_null(strstr(log, "c.toml:10: key manager 'kim' is declared twice"));
    free(log);
    assert_int_equal(cfg.n_kims, 1);
    assert_int_equal(cfg.kims[0].type, CFG_KIM_ON_DISK);
    assert_string_equal(cfg.kims[0].store_path, "/x");
    config_free(&cfg);
}

/* ---- warnings ---------------------------------------------------------------------------- */

static void test_unknown_keys_warn_but_load(void **state)
{
    (void)state;
    struct config cfg;
    char err[256], *log;
    static const char doc[] = "[core_settings]\n"
                              "thread_pool = 4\n" /* 2 */
                              "[listener]\n"
                              "listener_type = \"DomainSocket\"\n"
                              "timeout = 200\n"
                              "socket = \"/tmp/s\"\n" /* 6 */
                              "[authenticator]\n"
                              "auth_type = \"Direct\"\n"
                              "workload_endpoint = \"unix:///x\"\n"      /* 9 */
                              "admins = [ { name = \"a\", uid = 1 } ]\n" /* 10 */
                              "[[key_manager]]\n"
                              "name = \"kim\"\n"
                              "manager_type = \"SQLite\"\n"
                              "store_path = \"/var/lib/parsec/kim\"\n" /* 14 */
                              "[[provider]]\n"
                              "provider_type = \"MbedCrypto\"\n"
                              "key_info_manager = \"kim\"\n"
                              "tcti = \"mssim\"\n"  /* 18 */
                              "colour = \"blue\"\n" /* 19 */
                              "[[provider]]\n"
                              "provider_type = \"Pkcs11\"\n"
                              "key_info_manager = \"kim\"\n"
                              "library_path = \"/p11.so\"\n"
                              "key_store_path = \"/k\"\n" /* 24 */
                              "[provder]\n";              /* 25 */
    assert_int_equal(parse(doc, &cfg, err, sizeof(err), &log), 0);
    static const char want[] =
        "[WARN  parsec::config] c.toml:2: unknown key 'thread_pool' in [core_settings] (ignored)\n"
        "[WARN  parsec::config] c.toml:6: unknown key 'socket' in [listener] (ignored)\n"
        "[WARN  parsec::config] c.toml:10: unknown key 'uid' in [authenticator.admins] "
        "(ignored)\n"
        "[WARN  parsec::config] c.toml:9: 'workload_endpoint' is not used by the Direct "
        "authenticator (ignored)\n"
        "[WARN  parsec::config] c.toml:14: 'store_path' is not used by a SQLite key manager "
        "(ignored)\n"
        "[WARN  parsec::config] c.toml:18: 'tcti' is not used by a MbedCrypto provider "
        "(ignored)\n"
        "[WARN  parsec::config] c.toml:19: unknown key 'colour' in [provider] (ignored)\n"
        "[WARN  parsec::config] c.toml:24: 'key_store_path' is not used by a Pkcs11 provider "
        "(ignored)\n"
        "[WARN  parsec::config] c.toml:25: unknown key 'provder' at the top level (ignored)\n";
    assert_string_equal(log, want);
    free(log);
    /* Ignored keys changed nothing. */
    assert_string_equal(cfg.kims[0].sqlite_db_path,
                        "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    assert_null(cfg.kims[0].store_path);
    assert_null(cfg.providers[0].tcti);
    assert_null(cfg.providers[1].key_store_path);
    assert_null(cfg.authenticator.workload_endpoint);
    assert_string_equal(cfg.listener.socket_path, "/run/parsec/parsec.sock");
    config_free(&cfg);
}

/* ---- errors ------------------------------------------------------------------------------ */

static const struct {
    const char *doc;
    const char *want; /* the exact message, or its start when it ends with "..." */
} errors[] = {
    /* sections */
    {"[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n[authenticator]\n"
     "auth_type = \"Direct\"\n",
     "c.toml: missing required section [core_settings]"},
    {"[core_settings]\n[authenticator]\nauth_type = \"Direct\"\n",
     "c.toml: missing required section [listener]"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n",
     "c.toml: missing required section [authenticator]"},
    {"core_settings = 1\n", "c.toml:1: 'core_settings' must be a table ([core_settings])"},
    {"[[core_settings]]\n", "c.toml:1: 'core_settings' must be a table ([core_settings])"},
    /* TOML errors pass through */
    {BASE "auth_type = \"Direct\"\n", "c.toml:7: duplicate key 'auth_type'"},
    {"[core_settings]\n[listener]\ntimeout = 1\ntimeout = 2\n",
     "c.toml:4: duplicate key 'timeout'"},
    /* [core_settings] */
    {"[core_settings]\nthread_pool_size = 0\n",
     "c.toml:2: 'thread_pool_size' must be at least 1: no thread would serve requests"},
    {"[core_settings]\nthread_pool_size = -4\n",
     "c.toml:2: 'thread_pool_size' must not be negative"},
    {"[core_settings]\nallow_root = \"yes\"\n",
     "c.toml:2: 'allow_root' must be a boolean (true or false)"},
    {"[core_settings]\nbody_len_limit = 1e6\n", "c.toml:2: 'body_len_limit' must be an integer"},
    {"[core_settings]\nidle_listener_sleep_duration = -1\n",
     "c.toml:2: 'idle_listener_sleep_duration' must not be negative"},
    {"[core_settings]\nlog_level = \"verbose\"\n",
     "c.toml:2: 'log_level' must be one of off, error, warn, info, debug, trace"},
    {"[core_settings]\nlog_level = 3\n", "c.toml:2: 'log_level' must be a string"},
    {"[core_settings]\npeer_share_percent = 0\n",
     "c.toml:2: 'peer_share_percent' must be at least 1"},
    {"[core_settings]\npeer_share_percent = 101\n",
     "c.toml:2: 'peer_share_percent' must be at most 100"},
    {"[core_settings]\nrequest_time_limit = -1\n",
     "c.toml:2: 'request_time_limit' must not be negative"},
    {"[core_settings]\nmax_connections = \"many\"\n",
     "c.toml:2: 'max_connections' must be an integer"},
    /* [listener] */
    {"[core_settings]\n[listener]\ntimeout = 1\n",
     "c.toml:2: missing required key 'listener_type' in [listener]"},
    {"[core_settings]\n[listener]\nlistener_type = \"Tcp\"\ntimeout = 1\n",
     "c.toml:3: 'listener_type' must be \"DomainSocket\", not \"Tcp\""},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\n",
     "c.toml:2: missing required key 'timeout' in [listener]"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = \"200\"\n",
     "c.toml:4: 'timeout' must be an integer"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = -1\n",
     "c.toml:4: 'timeout' must not be negative"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "socket_path = \"\"\n",
     "c.toml:5: 'socket_path' must hold 1 to 107 bytes"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "socket_path = \"/tmp/0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123\"\n",
     "c.toml:5: 'socket_path' must hold 1 to 107 bytes"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "socket_path = \"/tmp/a\\u0000b\"\n",
     "c.toml:5: 'socket_path' must not contain a NUL character"},
    /* [authenticator] */
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "[authenticator]\n",
     "c.toml:5: missing required key 'auth_type' in [authenticator]"},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "[authenticator]\nauth_type = \"direct\"\n",
     "c.toml:6: 'auth_type' must be one of Direct, UnixPeerCredentials, JwtSvid, not "
     "\"direct\""},
    {"[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 1\n"
     "[authenticator]\nauth_type = \"JwtSvid\"\n",
     "c.toml:5: missing required key 'workload_endpoint' in [authenticator]"},
    {BASE "admins = \"root\"\n", "c.toml:7: 'admins' must be an array of tables"},
    {BASE "admins = [ \"root\" ]\n", "c.toml:7: 'admins' must be an array of tables"},
    {BASE "admins = [ {} ]\n", "c.toml:7: missing required key 'name' in [authenticator.admins]"},
    {BASE "admins = [ { name = 0 } ]\n", "c.toml:7: 'name' must be a string"},
    /* [[key_manager]] */
    {"key_manager = 1\n" BASE, "c.toml:1: 'key_manager' must be an array of tables"},
    {BASE "[key_manager]\nname = \"k\"\n", "c.toml:7: 'key_manager' must be an array of tables"},
    {BASE "[[key_manager]]\nmanager_type = \"SQLite\"\n",
     "c.toml:7: missing required key 'name' in [key_manager]"},
    {BASE "[[key_manager]]\nname = \"k\"\n",
     "c.toml:7: missing required key 'manager_type' in [key_manager]"},
    {BASE "[[key_manager]]\nname = \"k\"\nmanager_type = \"Sqlite\"\n",
     "c.toml:9: 'manager_type' must be \"SQLite\" or \"OnDisk\", not \"Sqlite\""},
    {BASE "[[key_manager]]\nname = \"k\"\nmanager_type = \"OnDisk\"\nstore_path = 1\n",
     "c.toml:10: 'store_path' must be a string"},
    /* [[provider]] */
    {BASE KIM "[provider]\n", "c.toml:10: 'provider' must be an array of tables"},
    {BASE KIM "[[provider]]\nkey_info_manager = \"kim\"\n",
     "c.toml:10: missing required key 'provider_type' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedTls\"\n",
     "c.toml:11: 'provider_type' must be one of MbedCrypto, Pkcs11, Tpm, CryptoAuthLib, "
     "TrustedService, not \"MbedTls\""},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedCrypto\"\n",
     "c.toml:10: missing required key 'key_info_manager' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"other\"\n",
     "c.toml:12: provider 'mbed-crypto-provider' uses key manager 'other', which no "
     "[[key_manager]] declares"},
    {BASE "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"kim\"\n",
     "c.toml:9: provider 'mbed-crypto-provider' uses key manager 'kim', which no "
     "[[key_manager]] declares"},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"kim\"\n"
              "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"kim\"\n",
     "c.toml:13: duplicate provider names found: 'mbed-crypto-provider'"},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedCrypto\"\nname = \"p\"\n"
              "key_info_manager = \"kim\"\n"
              "[[provider]]\nprovider_type = \"TrustedService\"\nname = \"p\"\n"
              "key_info_manager = \"kim\"\n",
     "c.toml:16: duplicate provider names found: 'p'"},
    {BASE KIM "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"kim\"\n"
              "key_store_path = true\n",
     "c.toml:13: 'key_store_path' must be a string"},
    {BASE KIM "[[provider]]\nprovider_type = \"Pkcs11\"\nkey_info_manager = \"kim\"\n",
     "c.toml:10: missing required key 'library_path' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"Pkcs11\"\nkey_info_manager = \"kim\"\n"
              "library_path = \"/p.so\"\nslot_number = -1\n",
     "c.toml:14: 'slot_number' must not be negative"},
    {BASE KIM "[[provider]]\nprovider_type = \"Pkcs11\"\nkey_info_manager = \"kim\"\n"
              "library_path = \"/p.so\"\nuser_pin = \"12\\u000034\"\n",
     "c.toml:14: 'user_pin' must not contain a NUL character"},
    {BASE KIM "[[provider]]\nprovider_type = \"Pkcs11\"\nkey_info_manager = \"kim\"\n"
              "library_path = \"/p.so\"\nallow_export = 0\n",
     "c.toml:14: 'allow_export' must be a boolean (true or false)"},
    {BASE KIM "[[provider]]\nprovider_type = \"Tpm\"\nkey_info_manager = \"kim\"\n"
              "owner_hierarchy_auth = \"\"\n",
     "c.toml:10: missing required key 'tcti' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"Tpm\"\nkey_info_manager = \"kim\"\n"
              "tcti = \"mssim\"\n",
     "c.toml:10: missing required key 'owner_hierarchy_auth' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "device_type = \"atecc508a\"\n",
     "c.toml:10: missing required key 'iface_type' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\n",
     "c.toml:10: missing required key 'device_type' in [provider]"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\nwake_delay = 70000\n",
     "c.toml:15: 'wake_delay' must be at most 65535"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\nslave_address = 0x100\n",
     "c.toml:15: 'slave_address' must be at most 255"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\nrx_retries = -2147483649\n",
     "c.toml:15: 'rx_retries' must be at least -2147483648"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\nbaud = 4294967296\n",
     "c.toml:15: 'baud' must be at most 4294967295"},
    {BASE KIM "[[provider]]\nprovider_type = \"CryptoAuthLib\"\nkey_info_manager = \"kim\"\n"
              "iface_type = \"i2c\"\ndevice_type = \"atecc508a\"\nbus = -1\n",
     "c.toml:15: 'bus' must not be negative"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        struct config cfg;
        char err[512] = "";
        memset(&cfg, 0xa5, sizeof(cfg)); /* whatever was there is overwritten */
        if (parse(errors[i].doc, &cfg, err, sizeof(err), NULL) != -1)
            fail_msg("case %zu accepted", i);
        if (strcmp(err, errors[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, err, errors[i].want);
        assert_true(is_zeroed(&cfg));
        config_free(&cfg);
    }
}

/* [[extra_authenticator]]: parsed like [authenticator], in file order, one per type. */
static void test_extra_authenticators(void **state)
{
    (void)state;
    struct config cfg;
    parse_ok(BASE "admins = [ { name = \"0\" } ]\n"
                  "[[extra_authenticator]]\n"
                  "auth_type = \"JwtSvid\"\n"
                  "workload_endpoint = \"unix:///run/spire/agent.sock\"\n"
                  "workload_timeout = 250\n"
                  "admins = [ { name = \"spiffe://example.org/admin\" } ]\n"
                  "[[extra_authenticator]]\n"
                  "auth_type = \"Direct\"\n",
             &cfg);
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(cfg.n_extra_auths, 2);
    assert_int_equal(cfg.extra_auths[0].type, PSC_AUTH_JWT_SVID);
    assert_string_equal(cfg.extra_auths[0].workload_endpoint, "unix:///run/spire/agent.sock");
    assert_int_equal(cfg.extra_auths[0].workload_timeout, 250);
    assert_int_equal(cfg.extra_auths[0].n_admins, 1);
    assert_string_equal(cfg.extra_auths[0].admins[0], "spiffe://example.org/admin");
    assert_int_equal(cfg.extra_auths[1].type, PSC_AUTH_DIRECT);
    assert_int_equal(cfg.extra_auths[1].n_admins, 0);
    config_free(&cfg);

    /* One [authenticator]: nothing extra, the JwtSvid default deadline. */
    parse_ok("[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 200\n"
             "[authenticator]\nauth_type = \"JwtSvid\"\nworkload_endpoint = \"unix:/a\"\n",
             &cfg);
    assert_int_equal(cfg.n_extra_auths, 0);
    assert_null(cfg.extra_auths);
    assert_int_equal(cfg.authenticator.workload_timeout, 1000);
    config_free(&cfg);

    static const struct {
        const char *doc, *want;
    } bad[] = {
        {BASE "[[extra_authenticator]]\nauth_type = \"UnixPeerCredentials\"\n",
         "c.toml:8: authenticator \"UnixPeerCredentials\" is configured twice"},
        {BASE "[[extra_authenticator]]\nauth_type = \"Direct\"\n"
              "[[extra_authenticator]]\nauth_type = \"Direct\"\n",
         "c.toml:10: authenticator \"Direct\" is configured twice"},
        {BASE "[[extra_authenticator]]\nauth_type = \"JwtSvid\"\n",
         "c.toml:7: missing required key 'workload_endpoint' in [extra_authenticator]"},
        {BASE "[[extra_authenticator]]\nauth_type = \"JwtSvid\"\nworkload_endpoint = \"unix:/a\"\n"
              "workload_timeout = 0\n",
         "c.toml:10: 'workload_timeout' must be at least 1"},
        {BASE "[[extra_authenticator]]\nauth_type = \"Jwt\"\n",
         "c.toml:8: 'auth_type' must be one of Direct, UnixPeerCredentials, JwtSvid, not "
         "\"Jwt\""},
        {BASE "[extra_authenticator]\nauth_type = \"Direct\"\n", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "";
        if (parse(bad[i].doc, &cfg, err, sizeof(err), NULL) != -1)
            fail_msg("case %zu accepted", i);
        if (bad[i].want && strcmp(err, bad[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, err, bad[i].want);
        assert_true(is_zeroed(&cfg));
        config_free(&cfg);
    }
}

/* ---- loading files ----------------------------------------------------------------------- */

static void test_load_errors(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(config_load("/nonexistent/config.toml", &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/config.toml: cannot open: No such file or directory");
    assert_true(is_zeroed(&cfg));
    assert_int_equal(config_load(TEST_DATA_DIR, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ": not a readable regular file"));

    char path[] = "/tmp/parsec-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *big = malloc(TOML_MAX_INPUT + 1);
    assert_non_null(big);
    memset(big, '#', TOML_MAX_INPUT + 1);
    assert_int_equal(write(fd, big, TOML_MAX_INPUT + 1), TOML_MAX_INPUT + 1);
    free(big);
    close(fd);
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -1);
    char want[128];
    snprintf(want, sizeof(want), "%s: file larger than 1048576 bytes", path);
    assert_string_equal(err, want);

    /* Syntax errors name the file as given. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(BASE "\n\n[listener]\n", f);
    fclose(f);
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:9: table 'listener' is already defined", path);
    assert_string_equal(err, want);
    unlink(path);
}

/* ---- embedded defaults and release ------------------------------------------------------- */

static void test_embedded(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(config_embedded("/var/lib/parsec/", &cfg), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(cfg.core.thread_pool_size, cpus > 0 ? (size_t)cpus : 1);
    assert_int_equal(cfg.core.body_len_limit, 1 << 20);
    assert_int_equal(cfg.core.buffer_size_limit, 1 << 20);
    assert_int_equal(cfg.core.idle_listener_sleep_duration, 10);
    assert_int_equal(cfg.core.allow_root, 0);
    assert_null(cfg.core.log_level);
    assert_string_equal(cfg.listener.listener_type, "DomainSocket");
    assert_int_equal(cfg.listener.timeout, 200);
    assert_string_equal(cfg.listener.socket_path, "/var/lib/parsec/parsec.sock");
    assert_string_equal(cfg.authenticator.auth_type, "UnixPeerCredentials");
    assert_int_equal(cfg.authenticator.type, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(cfg.authenticator.n_admins, 0);
    assert_int_equal(cfg.n_kims, 1);
    assert_string_equal(cfg.kims[0].name, "sqlite-manager");
    assert_int_equal(cfg.kims[0].type, CFG_KIM_SQLITE);
    assert_string_equal(cfg.kims[0].sqlite_db_path,
                        "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3");
    assert_int_equal(cfg.n_providers, 1);
    const struct cfg_provider *p = &cfg.providers[0];
    assert_string_equal(p->provider_type, "MbedCrypto");
    assert_int_equal(p->id, PSC_PROVIDER_MBED_CRYPTO);
    assert_string_equal(p->name, "mbed-crypto-provider");
    assert_string_equal(p->key_info_manager, "sqlite-manager");
    assert_string_equal(p->key_store_path, "/var/lib/parsec/mbed-crypto");
    assert_int_equal(p->allow_export, 1);
    config_free(&cfg);

    assert_int_equal(config_embedded("state", &cfg), 0);
    assert_string_equal(cfg.listener.socket_path, "state/parsec.sock");
    assert_string_equal(cfg.providers[0].key_store_path, "state/mbed-crypto");
    config_free(&cfg);
}

static void test_free_is_safe(void **state)
{
    (void)state;
    struct config cfg = {0};
    config_free(NULL);
    config_free(&cfg);
    config_free(&cfg);
    assert_int_equal(config_embedded("/s", &cfg), 0);
    config_free(&cfg);
    assert_true(is_zeroed(&cfg));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_key_manager_defaults),
        cmocka_unit_test(test_provider_defaults),
        cmocka_unit_test(test_all_providers_on_disk),
        cmocka_unit_test(test_all_providers_sqlite_misspelt_path),
        cmocka_unit_test(test_two_managers_and_every_core_option),
        cmocka_unit_test(test_resource_limits),
        cmocka_unit_test(test_hardware_provider_options),
        cmocka_unit_test(test_packaged_config),
        cmocka_unit_test(test_duplicate_key_manager_replaces),
        cmocka_unit_test(test_unknown_keys_warn_but_load),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_extra_authenticators),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_embedded),
        cmocka_unit_test(test_free_is_safe),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
