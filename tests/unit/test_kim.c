/* Key info managers on real files: both stores' behaviour and namespacing, modes, and
 * compatibility with what the original service writes (fixtures built from the spec's worked
 * examples and the original's exact DDL). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "psa/attrs.h"
#include "service/config.h"
#include "service/kim/kim.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define KIM_INTERNAL_APP_NAME "parsec"
#define MBED_UUID "1c1139dc-ad7c-47dc-ad6b-db6fdb466552"
#define PKCS11_UUID "30e39502-eba6-4d60-a4af-c518b7f5e38f"
#define TPM_UUID "1e4954a4-ff21-46d3-ab0c-661eeb667e1d"

/* The RSA-2048 encrypt/decrypt PKCS#1 v1.5 attributes of key-info-manager.md §3. */
static const uint8_t rsa_attr_bytes[34] = {
    0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* §6.2: the committed fixture file cGFyc2VjLXRvb2w=/1/dG90bw== (46 bytes). */
static const uint8_t fixture_mbed[46] = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x09, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const struct psc_attrs rsa = {
    .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
    .bits = 2048,
    .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
    .alg = PSA_ALG_RSA_PKCS1V15_CRYPT,
};

static const struct psc_attrs ecc = {
    .type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
    .bits = 256,
    .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
    .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256),
};

/* The original service's statements, exactly as it runs them (sqlite_manager/mod.rs). */
static const char orig_ddl_metadata[] =
    "\n                    CREATE TABLE kim_metadata (\n"
    "                        id                    TEXT NOT NULL,\n"
    "                        int_value             INTEGER NOT NULL,\n"
    "                        PRIMARY KEY (id)\n"
    "                    )\n                    ";
static const char orig_version_row[] =
    "INSERT INTO kim_metadata (id, int_value) VALUES ('schema_version', 1)";
static const char orig_ddl_mapping[] =
    "\n                    CREATE TABLE IF NOT EXISTS key_mapping (\n"
    "                        authenticator_id            INTEGER NOT NULL,\n"
    "                        application_name            TEXT NOT NULL,\n"
    "                        key_name                    TEXT NOT NULL,\n"
    "                        provider_uuid               TEXT NOT NULL,\n"
    "                        provider_name               TEXT NOT NULL,\n"
    "                        key_id                      BLOB NOT NULL,\n"
    "                        key_id_version              INTEGER NOT NULL,\n"
    "                        key_attributes              BLOB NOT NULL,\n"
    "                        key_attributes_version      INTEGER NOT NULL,\n"
    "                        PRIMARY KEY (authenticator_id, application_name, key_name)\n"
    "                    )\n                    ";
/* What SQLite keeps of them in sqlite_master. */
static const char stored_metadata[] =
    "CREATE TABLE kim_metadata (\n"
    "                        id                    TEXT NOT NULL,\n"
    "                        int_value             INTEGER NOT NULL,\n"
    "                        PRIMARY KEY (id)\n"
    "                    )";
static const char stored_mapping[] =
    "CREATE TABLE key_mapping (\n"
    "                        authenticator_id            INTEGER NOT NULL,\n"
    "                        application_name            TEXT NOT NULL,\n"
    "                        key_name                    TEXT NOT NULL,\n"
    "                        provider_uuid               TEXT NOT NULL,\n"
    "                        provider_name               TEXT NOT NULL,\n"
    "                        key_id                      BLOB NOT NULL,\n"
    "                        key_id_version              INTEGER NOT NULL,\n"
    "                        key_attributes              BLOB NOT NULL,\n"
    "                        key_attributes_version      INTEGER NOT NULL,\n"
    "                        PRIMARY KEY (authenticator_id, application_name, key_name)\n"
    "                    )";
/* The original's insert (column order differs from the table's). */
static const char orig_replace[] =
    "REPLACE INTO `key_mapping` (`authenticator_id`, `application_name`, `provider_uuid`, "
    "`provider_name`, `key_name`, `key_id`, `key_id_version`, `key_attributes`, "
    "`key_attributes_version`) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);";

struct t {
    char dir[64];
    char path[PATH_MAX]; /* db file or mappings root */
    enum cfg_kim_type type;
    struct psc_kim *kim;
};

/* ---- fixtures ---------------------------------------------------------------------------- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state, enum cfg_kim_type type)
{
    struct t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    snprintf(t->dir, sizeof(t->dir), "/tmp/test-kim-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    t->type = type;
    if (type == CFG_KIM_SQLITE)
        snprintf(t->path, sizeof(t->path), "%s/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3",
                 t->dir);
    else
        snprintf(t->path, sizeof(t->path), "%s/lib/mappings", t->dir);
    *state = t;
    return 0;
}

static int setup_sqlite(void **state)
{
    return setup(state, CFG_KIM_SQLITE);
}

static int setup_ondisk(void **state)
{
    return setup(state, CFG_KIM_ON_DISK);
}

static int teardown(void **state)
{
    struct t *t = *state;
    kim_close(t->kim);
    nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

static int try_open(struct t *t, uint8_t default_auth, char *err, size_t err_len)
{
    struct cfg_kim cfg = {.name = "kim", .type = t->type};
    if (t->type == CFG_KIM_SQLITE)
        cfg.sqlite_db_path = t->path;
    else
        cfg.store_path = t->path;
    kim_close(t->kim);
    t->kim = NULL;
    return kim_open(&cfg, default_auth, &t->kim, err, err_len);
}

static void open_ok(struct t *t, uint8_t default_auth)
{
    char err[512] = "";
    int rc = try_open(t, default_auth, err, sizeof(err));
    if (rc != 0)
        fail_msg("kim_open: %d %s", rc, err);
    assert_non_null(t->kim);
}

/* Expects opening to fail with a message containing what. */
static void open_fails(struct t *t, const char *what)
{
    char err[512] = "";
    assert_int_not_equal(try_open(t, PSC_AUTH_DIRECT, err, sizeof(err)), 0);
    assert_null(t->kim);
    if (strstr(err, what) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, what);
}

static struct kim_ident ident(const char *app, uint8_t auth, uint8_t pid, const char *key)
{
    struct kim_ident w = {.app = app, .auth = auth, .provider_id = pid, .key_name = key};
    switch (pid) {
    case PSC_PROVIDER_PKCS11:
        w.provider_uuid = PKCS11_UUID, w.provider_name = "pkcs11-provider";
        break;
    case PSC_PROVIDER_TPM:
        w.provider_uuid = TPM_UUID, w.provider_name = "tpm-provider";
        break;
    default:
        w.provider_uuid = MBED_UUID, w.provider_name = "mbed-crypto-provider";
        break;
    }
    return w;
}

static void id_bytes(uint32_t v, uint8_t out[4])
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void insert(struct t *t, const struct kim_ident *w, uint32_t id, const struct psc_attrs *a)
{
    uint8_t b[4];
    id_bytes(id, b);
    struct kim_info info = {.id = b, .id_len = 4, .attrs = *a};
    assert_int_equal(kim_insert(t->kim, w, &info), 0);
}

/* Expects a mapping with that 4-byte id and attributes. */
static void expect(struct t *t, const struct kim_ident *w, uint32_t id, const struct psc_attrs *a)
{
    struct kim_info info;
    uint8_t b[4];
    int rc = kim_get(t->kim, w, &info);
    if (rc != 0)
        fail_msg("get %s/%s: %d", w->app, w->key_name, rc);
    id_bytes(id, b);
    assert_int_equal(info.id_len, 4);
    assert_memory_equal(info.id, b, 4);
    assert_int_equal(info.attrs.type, a->type);
    assert_int_equal(info.attrs.bits, a->bits);
    assert_int_equal(info.attrs.usage, a->usage);
    assert_int_equal(info.attrs.alg, a->alg);
    kim_info_clear(&info);
}

static void expect_missing(struct t *t, const struct kim_ident *w)
{
    struct kim_info info;
    assert_int_equal(kim_get(t->kim, w, &info), PSC_PSA_DOES_NOT_EXIST);
    assert_null(info.id);
}

static int exists(struct t *t, const struct kim_ident *w)
{
    int e = -1;
    assert_int_equal(kim_exists(t->kim, w, &e), 0);
    return e;
}

static size_t count(struct t *t, uint8_t pid, const char *uuid, const char *pname, const char *app,
                    uint8_t auth)
{
    struct kim_entry *e = NULL;
    size_t n = 99;
    assert_int_equal(kim_list(t->kim, pid, uuid, pname, app, auth, &e, &n), 0);
    kim_entries_free(e, n);
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return sb.st_mode & 07777;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

static size_t read_file(const char *path, uint8_t *b, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    n = read(fd, b, cap);
    close(fd);
    assert_true(n >= 0);
    return (size_t)n;
}

static void mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirs(const char *fmt, ...)
{
    char p[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof(p), fmt, ap);
    va_end(ap);
    for (char *c = p + 1; *c; c++) {
        if (*c == '/') {
            *c = '\0';
            mkdir(p, 0700);
            *c = '/';
        }
    }
    mkdir(p, 0700);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* ---- both stores ------------------------------------------------------------------------- */

static void test_basic(void **state)
{
    struct t *t = *state;
    struct kim_ident w = ident("app", PSC_AUTH_DIRECT, PSC_PROVIDER_MBED_CRYPTO, "key");
    uint8_t b[4];
    struct kim_info info;

    open_ok(t, PSC_AUTH_DIRECT);
    expect_missing(t, &w);
    assert_int_equal(exists(t, &w), 0);
    assert_int_equal(kim_remove(t->kim, &w), PSC_PSA_DOES_NOT_EXIST);
    id_bytes(7, b);
    info = (struct kim_info){.id = b, .id_len = 4, .attrs = ecc};
    assert_int_equal(kim_replace(t->kim, &w, &info), PSC_PSA_DOES_NOT_EXIST);
    expect_missing(t, &w);

    insert(t, &w, 2, &rsa);
    expect(t, &w, 2, &rsa);
    assert_int_equal(exists(t, &w), 1);

    /* A taken name is refused and the mapping left alone. */
    id_bytes(3, b);
    info = (struct kim_info){.id = b, .id_len = 4, .attrs = ecc};
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_PSA_ALREADY_EXISTS);
    expect(t, &w, 2, &rsa);

    assert_int_equal(kim_replace(t->kim, &w, &info), 0);
    expect(t, &w, 3, &ecc);

    assert_int_equal(kim_remove(t->kim, &w), 0);
    expect_missing(t, &w);
    assert_int_equal(exists(t, &w), 0);
    assert_int_equal(kim_remove(t->kim, &w), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", NULL, 0), 0);

    /* The name is free again. */
    insert(t, &w, 4, &rsa);
    expect(t, &w, 4, &rsa);

    /* A conditional removal leaves a mapping that names another key alone. */
    id_bytes(2, b);
    assert_int_equal(kim_remove_if(t->kim, &w, b, 4), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(kim_remove_if(t->kim, &w, b, 3), PSC_PSA_DOES_NOT_EXIST);
    expect(t, &w, 4, &rsa);
    id_bytes(4, b);
    assert_int_equal(kim_remove_if(t->kim, &w, b, 4), 0);
    expect_missing(t, &w);
    assert_int_equal(kim_remove_if(t->kim, &w, b, 4), PSC_PSA_DOES_NOT_EXIST);

    /* So does a conditional replacement; it replaces the mapping that names the key. */
    uint8_t nb[4];
    id_bytes(9, nb);
    info = (struct kim_info){.id = nb, .id_len = 4, .attrs = ecc};
    assert_int_equal(kim_replace_if(t->kim, &w, b, 4, &info), PSC_PSA_DOES_NOT_EXIST);
    expect_missing(t, &w);
    insert(t, &w, 5, &rsa);
    assert_int_equal(kim_replace_if(t->kim, &w, b, 4, &info), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(kim_replace_if(t->kim, &w, b, 3, &info), PSC_PSA_DOES_NOT_EXIST);
    expect(t, &w, 5, &rsa);
    id_bytes(5, b);
    assert_int_equal(kim_replace_if(t->kim, &w, b, 4, &info), 0);
    expect(t, &w, 9, &ecc);
    assert_int_equal(kim_replace_if(t->kim, &w, b, 4, &info), PSC_PSA_DOES_NOT_EXIST);
    expect(t, &w, 9, &ecc);
}

static void test_arguments(void **state)
{
    struct t *t = *state;
    struct kim_ident w = ident("app", PSC_AUTH_DIRECT, PSC_PROVIDER_MBED_CRYPTO, "key");
    struct kim_info info = {.attrs = rsa};
    struct kim_entry *e;
    size_t n;
    int ex;

    open_ok(t, PSC_AUTH_DIRECT);
    w.key_name = NULL;
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(kim_get(t->kim, &w, &info), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(kim_exists(t->kim, &w, &ex), PSC_PSA_INVALID_ARGUMENT);
    w = ident("app", 9, PSC_PROVIDER_MBED_CRYPTO, "key");
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(kim_insert(t->kim, NULL, &info), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(kim_list(t->kim, 1, NULL, "x", NULL, 0, &e, &n), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(kim_get(NULL, &w, &info), PSC_PSA_INVALID_ARGUMENT);

    /* Attributes without a psa-crypto form are not stored. */
    w = ident("app", PSC_AUTH_DIRECT, PSC_PROVIDER_MBED_CRYPTO, "key");
    info = (struct kim_info){.attrs = rsa};
    info.attrs.alg = PSA_ALG_RSA_PSS_ANY_SALT(PSA_ALG_SHA_256);
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_PSA_NOT_SUPPORTED);
    expect_missing(t, &w);

    /* An empty id is a valid mapping. */
    info.attrs = rsa;
    assert_int_equal(kim_insert(t->kim, &w, &info), 0);
    assert_int_equal(kim_get(t->kim, &w, &info), 0);
    assert_int_equal(info.id_len, 0);
    kim_info_clear(&info);
    kim_close(NULL);
    kim_info_clear(NULL);
    kim_entries_free(NULL, 0);
}

static void test_reopen(void **state)
{
    struct t *t = *state;
    struct kim_ident a = ident("app", PSC_AUTH_UNIX_PEER_CREDENTIALS, 1, "one");
    struct kim_ident b = ident("app", PSC_AUTH_UNIX_PEER_CREDENTIALS, 2, "two");
    struct kim_ident c = ident("app", PSC_AUTH_UNIX_PEER_CREDENTIALS, 1, "three");

    open_ok(t, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    insert(t, &a, 10, &rsa);
    insert(t, &b, 0x76ba1d77, &ecc);
    insert(t, &c, 12, &rsa);
    assert_int_equal(kim_remove(t->kim, &c), 0);
    open_ok(t, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    expect(t, &a, 10, &rsa);
    expect(t, &b, 0x76ba1d77, &ecc);
    expect_missing(t, &c);
    open_ok(t, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    expect(t, &b, 0x76ba1d77, &ecc);
}

static void test_long_and_unicode_names(void **state)
{
    struct t *t = *state;
    /* File names limit on-disk names to 189 bytes; SQLite keeps the same bound. */
    size_t max = KIM_NAME_MAX;
    char ascii[300], emoji[300], too_long[300];
    struct kim_ident w;

    open_ok(t, PSC_AUTH_DIRECT);
    memset(ascii, 'k', max);
    ascii[max] = '\0';
    emoji[0] = '\0';
    for (size_t i = 0; i + 4 <= max; i += 4)
        strcat(emoji, "\xF0\x9F\x94\x91"); /* U+1F511 KEY */

    w = ident(ascii, PSC_AUTH_DIRECT, 1, ascii);
    insert(t, &w, 2, &rsa);
    w = ident(emoji, PSC_AUTH_DIRECT, 1, emoji);
    insert(t, &w, 3, &ecc);
    w = ident("caf\xC3\xA9", PSC_AUTH_DIRECT, 1, "\xE2\x9C\x93 \xE4\xB8\xAD");
    insert(t, &w, 4, &rsa);

    open_ok(t, PSC_AUTH_DIRECT);
    w = ident(ascii, PSC_AUTH_DIRECT, 1, ascii);
    expect(t, &w, 2, &rsa);
    w = ident(emoji, PSC_AUTH_DIRECT, 1, emoji);
    expect(t, &w, 3, &ecc);
    w = ident("caf\xC3\xA9", PSC_AUTH_DIRECT, 1, "\xE2\x9C\x93 \xE4\xB8\xAD");
    expect(t, &w, 4, &rsa);

    struct kim_entry *e;
    size_t n;
    assert_int_equal(
        kim_list(t->kim, 1, MBED_UUID, "mbed-crypto-provider", emoji, PSC_AUTH_DIRECT, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].key_name, emoji);
    assert_string_equal(e[0].app, emoji);
    kim_entries_free(e, n);

    uint8_t b[4] = {1, 0, 0, 0};
    struct kim_info info = {.id = b, .id_len = 4, .attrs = rsa};
    int ex = -1;
    memset(too_long, 'k', max + 1);
    too_long[max + 1] = '\0';
    w = ident("app", PSC_AUTH_DIRECT, 1, too_long);
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_KEY_INFO_MANAGER_ERROR);
    expect_missing(t, &w);
    assert_int_equal(kim_exists(t->kim, &w, &ex), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(ex, 0);
    w = ident(too_long, PSC_AUTH_DIRECT, 1, "k");
    assert_int_equal(kim_insert(t->kim, &w, &info), PSC_KEY_INFO_MANAGER_ERROR);
    expect_missing(t, &w);
    if (t->type == CFG_KIM_ON_DISK) {
        w = ident("app", PSC_AUTH_DIRECT, 1, "");
        assert_int_equal(kim_insert(t->kim, &w, &info), PSC_KEY_INFO_MANAGER_ERROR);
        expect_missing(t, &w);
    }
}

struct worker {
    struct t *t;
    int n;
    int failures;
};

#define THREADS 4
#define KEYS_PER_THREAD 16

static void *work(void *arg)
{
    struct worker *wk = arg;
    char app[32], key[32];
    for (int i = 0; i < KEYS_PER_THREAD; i++) {
        uint8_t b[4];
        struct kim_info info = {.id = b, .id_len = 4, .attrs = rsa}, got = {0};
        snprintf(app, sizeof(app), "app%d", wk->n);
        snprintf(key, sizeof(key), "key%d", i);
        struct kim_ident w = ident(app, PSC_AUTH_DIRECT, 1, key);
        id_bytes((uint32_t)(wk->n * 1000 + i), b);
        if (kim_insert(wk->t->kim, &w, &info) != 0 || kim_get(wk->t->kim, &w, &got) != 0 ||
            got.id_len != 4 || memcmp(got.id, b, 4) != 0)
            wk->failures++;
        kim_info_clear(&got);
        /* Everyone also races for one shared name: exactly one may win. */
        struct kim_ident shared = ident("shared", PSC_AUTH_DIRECT, 1, key);
        int rc = kim_insert(wk->t->kim, &shared, &info);
        if (rc != 0 && rc != PSC_PSA_ALREADY_EXISTS)
            wk->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct t *t = *state;
    pthread_t th[THREADS];
    struct worker wk[THREADS];

    open_ok(t, PSC_AUTH_DIRECT);
    for (int i = 0; i < THREADS; i++) {
        wk[i] = (struct worker){t, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &wk[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].failures, 0);
    }
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", NULL, 0),
                     THREADS * KEYS_PER_THREAD + KEYS_PER_THREAD);
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", "shared", PSC_AUTH_DIRECT),
                     KEYS_PER_THREAD);
}

/* ---- SQLite ------------------------------------------------------------------------------ */

static void test_sqlite_namespaces(void **state)
{
    struct t *t = *state;
    struct kim_ident mbed = ident("app", PSC_AUTH_DIRECT, 1, "k");
    struct kim_ident pkcs11 = ident("app", PSC_AUTH_DIRECT, 2, "k");
    struct kim_ident unix_app = ident("app", PSC_AUTH_UNIX_PEER_CREDENTIALS, 1, "k");
    struct kim_ident other_app = ident("app2", PSC_AUTH_DIRECT, 1, "k");
    struct kim_ident renamed = mbed;
    struct kim_ident internal = ident(KIM_INTERNAL_APP_NAME, PSC_AUTH_INTERNAL, 3, "RootKeyTPM");
    struct kim_ident parsec_client = ident("parsec", PSC_AUTH_DIRECT, 3, "RootKeyTPM");
    uint8_t b[4] = {9, 9, 9, 9};
    struct kim_info info = {.id = b, .id_len = 4, .attrs = ecc};
    struct kim_entry *e;
    size_t n;

    open_ok(t, PSC_AUTH_DIRECT);
    insert(t, &mbed, 2, &rsa);

    /* One name per (authenticator, application) across providers. */
    assert_int_equal(kim_insert(t->kim, &pkcs11, &info), PSC_PSA_ALREADY_EXISTS);
    assert_int_equal(exists(t, &pkcs11), 1);
    expect_missing(t, &pkcs11); /* but another provider cannot read it */
    assert_int_equal(kim_remove(t->kim, &pkcs11), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(kim_replace(t->kim, &pkcs11, &info), PSC_PSA_DOES_NOT_EXIST);
    expect(t, &mbed, 2, &rsa);

    /* Another authenticator or application is another namespace. */
    insert(t, &unix_app, 3, &ecc);
    insert(t, &other_app, 4, &rsa);
    expect(t, &unix_app, 3, &ecc);
    expect(t, &other_app, 4, &rsa);
    expect(t, &mbed, 2, &rsa);

    /* A renamed provider (same uuid) no longer sees its rows, which still hold the name. */
    renamed.provider_name = "mbed-renamed";
    expect_missing(t, &renamed);
    assert_int_equal(kim_insert(t->kim, &renamed, &info), PSC_PSA_ALREADY_EXISTS);
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-renamed", NULL, 0), 0);
    renamed = mbed;
    renamed.provider_uuid = PKCS11_UUID;
    expect_missing(t, &renamed);

    /* Internal keys are their own namespace, listed only when asked for. */
    insert(t, &internal, 5, &rsa);
    insert(t, &parsec_client, 6, &ecc);
    expect(t, &internal, 5, &rsa);
    expect(t, &parsec_client, 6, &ecc);

    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", NULL, 0), 3);
    assert_int_equal(count(t, 3, TPM_UUID, "tpm-provider", NULL, 0), 1); /* parsec_client */
    assert_int_equal(count(t, 3, TPM_UUID, "tpm-provider", "parsec", PSC_AUTH_INTERNAL), 1);
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", "app", PSC_AUTH_DIRECT), 1);
    assert_int_equal(
        count(t, 1, MBED_UUID, "mbed-crypto-provider", "app", PSC_AUTH_UNIX_PEER_CREDENTIALS), 1);
    assert_int_equal(count(t, 1, MBED_UUID, "mbed-crypto-provider", "app", PSC_AUTH_JWT_SVID), 0);
    assert_int_equal(count(t, 2, PKCS11_UUID, "pkcs11-provider", NULL, 0), 0);

    assert_int_equal(
        kim_list(t->kim, 3, TPM_UUID, "tpm-provider", "parsec", PSC_AUTH_INTERNAL, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].app, "parsec");
    assert_int_equal(e[0].auth, PSC_AUTH_INTERNAL);
    assert_int_equal(e[0].provider_id, 3);
    assert_string_equal(e[0].provider_uuid, TPM_UUID);
    assert_string_equal(e[0].provider_name, "tpm-provider");
    assert_string_equal(e[0].key_name, "RootKeyTPM");
    assert_int_equal(e[0].info.id_len, 4);
    assert_int_equal(e[0].info.id[0], 5);
    assert_int_equal(e[0].info.attrs.alg, rsa.alg);
    kim_entries_free(e, n);

    assert_int_equal(kim_list_all(t->kim, &e, &n), 0);
    assert_int_equal(n, 5);
    kim_entries_free(e, n);
}

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    return db;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Creates a database as the original service does, with its statements. */
static sqlite3 *original_db(const char *path)
{
    sqlite3 *db = db_open(path);
    db_exec(db, orig_ddl_metadata);
    db_exec(db, orig_version_row);
    db_exec(db, orig_ddl_mapping);
    return db;
}

/* Inserts a row with the original's REPLACE statement. */
static void original_row(sqlite3 *db, int auth, const char *app, const char *uuid,
                         const char *pname, const char *key, const uint8_t *id, int id_len,
                         int id_version, const uint8_t *attrs, int attrs_len, int attrs_version)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, orig_replace, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, auth);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, pname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, id, id_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, id_version);
    sqlite3_bind_blob(st, 8, attrs, attrs_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, attrs_version);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void db_dir(struct t *t)
{
    mkdirs("%s/kim-mappings/sqlite", t->dir);
}

static void test_sqlite_original_fixture(void **state)
{
    struct t *t = *state;
    static const uint8_t id2[4] = {0x02, 0x00, 0x00, 0x00};
    struct kim_ident w = ident("parsec-tool", PSC_AUTH_DIRECT, 1, "rsa-mbed");
    struct kim_entry *e;
    size_t n;

    db_dir(t);
    sqlite3 *db = original_db(t->path);
    /* §7.1 example row: Mbed Crypto key rsa-mbed of Direct-authenticated parsec-tool. */
    original_row(db, 1, "parsec-tool", MBED_UUID, "mbed-crypto-provider", "rsa-mbed", id2, 4, 1,
                 rsa_attr_bytes, sizeof(rsa_attr_bytes), 1);
    sqlite3_close(db);
    chmod(t->path, 0644);

    open_ok(t, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(mode_of(t->path), 0600);
    expect(t, &w, 2, &rsa);
    assert_int_equal(kim_list(t->kim, 1, MBED_UUID, "mbed-crypto-provider", "parsec-tool",
                              PSC_AUTH_DIRECT, &e, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].key_name, "rsa-mbed");
    assert_int_equal(e[0].auth, PSC_AUTH_DIRECT);
    assert_int_equal(e[0].provider_id, 1);
    kim_entries_free(e, n);
    /* The name is taken for every provider of this application. */
    struct kim_ident tpm = ident("parsec-tool", PSC_AUTH_DIRECT, 3, "rsa-mbed");
    uint8_t b[4] = {0};
    struct kim_info info = {.id = b, .id_len = 4, .attrs = rsa};
    assert_int_equal(kim_insert(t->kim, &tpm, &info), PSC_PSA_ALREADY_EXISTS);
    /* Removing it writes to the original's table. */
    assert_int_equal(kim_remove(t->kim, &w), 0);
    kim_close(t->kim);
    t->kim = NULL;
    db = db_open(t->path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM key_mapping", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* sqlite_master as "type|name|tbl_name|rootpage|sql" lines. */
static char *dump_master(const char *path)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    size_t cap = 8192, len = 0;
    char *out = calloc(1, cap);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, name, tbl_name, rootpage, "
                                        "ifnull(sql, '<null>') FROM sqlite_master ORDER BY name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        len +=
            (size_t)snprintf(out + len, cap - len, "%s|%s|%s|%d|%s\n", sqlite3_column_text(st, 0),
                             sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                             sqlite3_column_int(st, 3), sqlite3_column_text(st, 4));
    assert_true(len < cap);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Every row of both tables, values quoted with their SQL types. */
static char *dump_rows(const char *path)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    size_t cap = 8192, len = 0;
    char *out = calloc(1, cap);
    assert_int_equal(
        sqlite3_prepare_v2(
            db,
            "SELECT quote(id) || ':' || typeof(id) || '|' || quote(int_value) || ':' || "
            "typeof(int_value) FROM kim_metadata UNION ALL "
            "SELECT quote(authenticator_id) || ':' || typeof(authenticator_id) || '|' || "
            "quote(application_name) || ':' || typeof(application_name) || '|' || "
            "quote(key_name) || '|' || quote(provider_uuid) || '|' || quote(provider_name) || "
            "'|' || quote(key_id) || ':' || typeof(key_id) || '|' || quote(key_id_version) || "
            "':' || typeof(key_id_version) || '|' || quote(key_attributes) || ':' || "
            "typeof(key_attributes) || '|' || quote(key_attributes_version) || ':' || "
            "typeof(key_attributes_version) FROM key_mapping",
            -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", sqlite3_column_text(st, 0));
    assert_true(len < cap);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void test_sqlite_writes_original_format(void **state)
{
    struct t *t = *state;
    char ref[PATH_MAX + 8];
    static const uint8_t id2[4] = {0x02, 0x00, 0x00, 0x00};
    struct kim_ident w = ident("parsec-tool", PSC_AUTH_DIRECT, 1, "rsa-mbed");

    open_ok(t, PSC_AUTH_DIRECT);
    insert(t, &w, 2, &rsa);
    kim_close(t->kim);
    t->kim = NULL;

    snprintf(ref, sizeof(ref), "%s/ref.sqlite3", t->dir);
    sqlite3 *db = original_db(ref);
    original_row(db, 1, "parsec-tool", MBED_UUID, "mbed-crypto-provider", "rsa-mbed", id2, 4, 1,
                 rsa_attr_bytes, sizeof(rsa_attr_bytes), 1);
    sqlite3_close(db);

    char *ours = dump_master(t->path), *theirs = dump_master(ref);
    assert_string_equal(ours, theirs);
    assert_non_null(strstr(ours, stored_metadata));
    assert_non_null(strstr(ours, stored_mapping));
    free(ours);
    free(theirs);

    ours = dump_rows(t->path);
    theirs = dump_rows(ref);
    assert_string_equal(ours, theirs);
    assert_non_null(strstr(ours, "'schema_version':text|1:integer\n"));
    assert_non_null(
        strstr(ours, "1:integer|'parsec-tool':text|'rsa-mbed'|'" MBED_UUID
                     "'|'mbed-crypto-provider'|X'02000000':blob|1:integer|"
                     "X'01000000090000000008000000000000000000010100000000000600000000000000':blob|"
                     "1:integer\n"));
    free(ours);
    free(theirs);

    /* Default rollback journal, file and created folders private. */
    db = db_open(t->path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(mode_of(t->path), 0600);
    char d[PATH_MAX + 32];
    snprintf(d, sizeof(d), "%s/kim-mappings/sqlite", t->dir);
    assert_int_equal(mode_of(d), 0700);
    snprintf(d, sizeof(d), "%s/kim-mappings", t->dir);
    assert_int_equal(mode_of(d), 0700);
}

static void test_sqlite_startup_errors(void **state)
{
    struct t *t = *state;
    static const uint8_t id2[4] = {2, 0, 0, 0};
    sqlite3 *db;

    db_dir(t);

    /* Only one of the two tables. */
    db = db_open(t->path);
    db_exec(db, orig_ddl_metadata);
    sqlite3_close(db);
    open_fails(t, "not in a recognised format");
    unlink(t->path);

    db = db_open(t->path);
    db_exec(db, orig_ddl_mapping);
    sqlite3_close(db);
    open_fails(t, "not in a recognised format");
    unlink(t->path);

    /* Schema version 2. */
    db = original_db(t->path);
    db_exec(db, "UPDATE kim_metadata SET int_value = 2");
    sqlite3_close(db);
    open_fails(t, "schema version is incompatible");
    unlink(t->path);

    /* Record versions other than 1. */
    db = original_db(t->path);
    original_row(db, 1, "a", MBED_UUID, "m", "k", id2, 4, 2, rsa_attr_bytes, sizeof(rsa_attr_bytes),
                 1);
    sqlite3_close(db);
    open_fails(t, "key_id_version");
    unlink(t->path);
    db = original_db(t->path);
    original_row(db, 1, "a", MBED_UUID, "m", "k", id2, 4, 1, rsa_attr_bytes, sizeof(rsa_attr_bytes),
                 0);
    sqlite3_close(db);
    open_fails(t, "key_attributes_version");
    unlink(t->path);

    /* Authenticator id that is neither an AuthType nor 255. */
    db = original_db(t->path);
    original_row(db, 7, "a", MBED_UUID, "m", "k", id2, 4, 1, rsa_attr_bytes, sizeof(rsa_attr_bytes),
                 1);
    sqlite3_close(db);
    open_fails(t, "unreadable mapping");
    unlink(t->path);

    /* Attributes that do not decode (cut short). */
    db = original_db(t->path);
    original_row(db, 1, "a", MBED_UUID, "m", "k", id2, 4, 1, rsa_attr_bytes, 30, 1);
    sqlite3_close(db);
    open_fails(t, "unreadable mapping");
    unlink(t->path);

    /* Not a database at all. */
    write_file(t->path, (const uint8_t *)"this is not a database file, not at all....", 44);
    open_fails(t, t->path);
    unlink(t->path);

    /* Other tables are ignored; no version row is accepted, as by the original. */
    db = original_db(t->path);
    db_exec(db, "CREATE TABLE other (x)");
    db_exec(db, "DELETE FROM kim_metadata");
    original_row(db, PSC_AUTH_INTERNAL, "parsec", TPM_UUID, "tpm-provider", "RootKeyTPM", id2, 4, 1,
                 rsa_attr_bytes, sizeof(rsa_attr_bytes), 1);
    sqlite3_close(db);
    open_ok(t, PSC_AUTH_DIRECT);
    struct kim_ident root = ident("parsec", PSC_AUTH_INTERNAL, 3, "RootKeyTPM");
    expect(t, &root, 2, &rsa);
}

/* ---- on-disk ----------------------------------------------------------------------------- */

static void test_ondisk_namespaces(void **state)
{
    struct t *t = *state;
    struct kim_ident mbed = ident("app", PSC_AUTH_DIRECT, 1, "rsa");
    struct kim_ident pkcs11 = ident("app", PSC_AUTH_DIRECT, 2, "rsa");
    struct kim_ident other_auth = ident("app", PSC_AUTH_UNIX_PEER_CREDENTIALS, 1, "rsa");
    struct kim_ident other_name = mbed;
    uint8_t b[4] = {1, 2, 3, 4};
    struct kim_info info = {.id = b, .id_len = 4, .attrs = ecc};
    struct kim_entry *e;
    size_t n;

    open_ok(t, PSC_AUTH_DIRECT);
    insert(t, &mbed, 2, &rsa);
    /* The same name once per provider type. */
    assert_int_equal(exists(t, &pkcs11), 0);
    insert(t, &pkcs11, 0x76ba1d77, &ecc);
    expect(t, &mbed, 2, &rsa);
    expect(t, &pkcs11, 0x76ba1d77, &ecc);

    /* The authenticator is not stored: all keys belong to the configured one. */
    assert_int_equal(kim_insert(t->kim, &other_auth, &info), PSC_PSA_ALREADY_EXISTS);
    expect(t, &other_auth, 2, &rsa);
    /* Nor is the provider name: a renamed provider keeps its keys. */
    other_name.provider_name = "renamed";
    other_name.provider_uuid = "not-looked-at";
    expect(t, &other_name, 2, &rsa);

    assert_int_equal(kim_list(t->kim, 1, MBED_UUID, "my-mbed", "app", PSC_AUTH_JWT_SVID, &e, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].app, "app");
    assert_int_equal(e[0].auth, PSC_AUTH_DIRECT); /* the configured authenticator */
    assert_int_equal(e[0].provider_id, 1);
    assert_string_equal(e[0].provider_uuid, MBED_UUID);
    assert_string_equal(e[0].provider_name, "my-mbed");
    assert_string_equal(e[0].key_name, "rsa");
    assert_int_equal(e[0].info.id[0], 2);
    kim_entries_free(e, n);
    open_ok(t, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(kim_list(t->kim, 2, PKCS11_UUID, "p", NULL, 0, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].auth, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(e[0].info.id[0], 0x77);
    kim_entries_free(e, n);

    /* Removing one provider's key leaves the other's. */
    assert_int_equal(kim_remove(t->kim, &mbed), 0);
    expect_missing(t, &mbed);
    expect(t, &pkcs11, 0x76ba1d77, &ecc);
    assert_int_equal(count(t, 1, MBED_UUID, "m", NULL, 0), 0);
}

static void test_ondisk_layout_and_modes(void **state)
{
    struct t *t = *state;
    struct kim_ident w = ident("parsec-tool", PSC_AUTH_DIRECT, 1, "toto");
    struct kim_ident p = ident("parsec-tool", PSC_AUTH_DIRECT, 2, "toto");
    char path[PATH_MAX + 64];
    uint8_t buf[128];
    DIR *d;
    struct dirent *de;

    umask(022);
    open_ok(t, PSC_AUTH_DIRECT);
    assert_int_equal(mode_of(t->path), 0700);
    snprintf(path, sizeof(path), "%s/lib", t->dir);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof(path), "%s/parsec", t->path);
    assert_int_equal(mode_of(path), 0700);

    insert(t, &w, 4, &rsa);
    insert(t, &p, 0x76ba1d77, &rsa);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=", t->path);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1", t->path);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1/dG90bw==", t->path);
    assert_int_equal(mode_of(path), 0600);
    /* Byte for byte the committed fixture files. */
    assert_int_equal(read_file(path, buf, sizeof(buf)), 46);
    assert_memory_equal(buf, fixture_mbed, 46);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/2/dG90bw==", t->path);
    assert_int_equal(read_file(path, buf, sizeof(buf)), 46);
    assert_memory_equal(buf + 8, "\x77\x1d\xba\x76", 4);
    assert_memory_equal(buf + 12, fixture_mbed + 12, 34);

    /* A replacement leaves one file, no temporary behind. */
    uint8_t b[4] = {5, 0, 0, 0};
    struct kim_info info = {.id = b, .id_len = 4, .attrs = ecc};
    assert_int_equal(kim_replace(t->kim, &w, &info), 0);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1", t->path);
    d = opendir(path);
    assert_non_null(d);
    int files = 0;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp", 4) == 0)
            files++;
    closedir(d);
    assert_int_equal(files, 1);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1/dG90bw==", t->path);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(read_file(path, buf, sizeof(buf)), 8 + 4 + 46);

    /* Removal deletes the file and leaves the folders, as the original does. */
    assert_int_equal(kim_remove(t->kim, &w), 0);
    assert_false(file_exists(path));
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1", t->path);
    assert_true(file_exists(path));

    /* The folders inside the store are the service's and are made private again at
     * start-up; the store itself keeps the mode it was given, as long as only the service's
     * user can write it, and is refused otherwise. */
    chmod(t->path, 0755);
    snprintf(path, sizeof(path), "%s/parsec", t->path);
    chmod(path, 0755);
    open_ok(t, PSC_AUTH_DIRECT);
    assert_int_equal(mode_of(t->path), 0755);
    assert_int_equal(mode_of(path), 0700);
    kim_close(t->kim);
    t->kim = NULL;
    chmod(t->path, 0777);
    open_fails(t, "can be written by other users (mode 0777)");
    assert_int_equal(mode_of(t->path), 0777);
    chmod(t->path, 0700);
}

/* The e2e fake_mappings tree of the original project. */
static void make_fixture_tree(struct t *t)
{
    char path[PATH_MAX + 64];
    uint8_t pkcs11[46];

    mkdirs("%s/cGFyc2VjLXRvb2w=/1", t->path);
    mkdirs("%s/cGFyc2VjLXRvb2w=/2", t->path);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1/dG90bw==", t->path);
    write_file(path, fixture_mbed, sizeof(fixture_mbed));
    memcpy(pkcs11, fixture_mbed, sizeof(pkcs11));
    memcpy(pkcs11 + 8, "\x77\x1d\xba\x76", 4);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/2/dG90bw==", t->path);
    write_file(path, pkcs11, sizeof(pkcs11));
}

static void test_ondisk_original_fixture(void **state)
{
    struct t *t = *state;
    struct kim_ident mbed = ident("parsec-tool", PSC_AUTH_DIRECT, 1, "toto");
    struct kim_ident pkcs11 = ident("parsec-tool", PSC_AUTH_DIRECT, 2, "toto");
    struct kim_entry *e;
    size_t n;

    make_fixture_tree(t);
    open_ok(t, PSC_AUTH_DIRECT);
    expect(t, &mbed, 4, &rsa);
    expect(t, &pkcs11, 0x76ba1d77, &rsa);
    assert_int_equal(kim_list(t->kim, 1, MBED_UUID, "mbed-crypto-provider", NULL, 0, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].app, "parsec-tool");
    assert_string_equal(e[0].key_name, "toto");
    assert_int_equal(e[0].auth, PSC_AUTH_DIRECT);
    assert_int_equal(e[0].info.id_len, 4);
    assert_memory_equal(e[0].info.id, "\x04\x00\x00\x00", 4);
    kim_entries_free(e, n);
    assert_int_equal(kim_list_all(t->kim, &e, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].key_name, "toto");
        assert_string_equal(e[i].provider_uuid, e[i].provider_id == 1 ? MBED_UUID : PKCS11_UUID);
    }
    kim_entries_free(e, n);
    /* The start-up pass of a provider removes dangling mappings through this interface. */
    assert_int_equal(kim_remove(t->kim, &mbed), 0);
    assert_int_equal(kim_remove(t->kim, &pkcs11), 0);
    open_ok(t, PSC_AUTH_DIRECT);
    expect_missing(t, &mbed);
    assert_int_equal(kim_list_all(t->kim, &e, &n), 0);
    assert_int_equal(n, 0);
    kim_entries_free(e, n);
}

static void test_ondisk_internal_keys(void **state)
{
    struct t *t = *state;
    struct kim_ident root = ident("parsec", PSC_AUTH_INTERNAL, 3, "RootKeyTPM");
    struct kim_ident client = ident("parsec", PSC_AUTH_DIRECT, 3, "RootKeyTPM");
    char path[PATH_MAX + 64];
    uint8_t name[34];
    struct kim_entry *e;
    size_t n;

    open_ok(t, PSC_AUTH_DIRECT);
    memset(name, 0xAB, sizeof(name));
    struct kim_info info = {.id = name,
                            .id_len = sizeof(name),
                            .attrs = {.type = PSA_KEY_TYPE_RSA_PUBLIC_KEY, .bits = 2048}};
    assert_int_equal(kim_insert(t->kim, &root, &info), 0);
    snprintf(path, sizeof(path), "%s/parsec/dHBtUm9vdEtleVRQTQ==", t->path);
    assert_int_equal(mode_of(path), 0600);
    /* A client application named "parsec" lives elsewhere (B64 folder). */
    assert_int_equal(exists(t, &client), 0);
    insert(t, &client, 1, &rsa);
    snprintf(path, sizeof(path), "%s/cGFyc2Vj/3/Um9vdEtleVRQTQ==", t->path);
    assert_true(file_exists(path));

    open_ok(t, PSC_AUTH_DIRECT);
    struct kim_info got;
    assert_int_equal(kim_get(t->kim, &root, &got), 0);
    assert_int_equal(got.id_len, 34);
    assert_memory_equal(got.id, name, 34);
    assert_int_equal(got.attrs.type, PSA_KEY_TYPE_RSA_PUBLIC_KEY);
    assert_int_equal(got.attrs.alg, PSA_ALG_NONE);
    kim_info_clear(&got);
    expect(t, &client, 1, &rsa);

    assert_int_equal(count(t, 3, TPM_UUID, "tpm-provider", NULL, 0), 1);
    assert_int_equal(
        kim_list(t->kim, 3, TPM_UUID, "tpm-provider", "parsec", PSC_AUTH_INTERNAL, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].key_name, "RootKeyTPM");
    assert_int_equal(e[0].auth, PSC_AUTH_INTERNAL);
    assert_int_equal(e[0].provider_id, 3);
    kim_entries_free(e, n);
    assert_int_equal(count(t, 1, MBED_UUID, "m", "parsec", PSC_AUTH_INTERNAL), 0);
    assert_int_equal(kim_list_all(t->kim, &e, &n), 0);
    assert_int_equal(n, 2);
    kim_entries_free(e, n);

    /* Removal deletes the file that insert wrote. */
    assert_int_equal(kim_remove(t->kim, &root), 0);
    snprintf(path, sizeof(path), "%s/parsec/dHBtUm9vdEtleVRQTQ==", t->path);
    assert_false(file_exists(path));
    open_ok(t, PSC_AUTH_DIRECT);
    expect_missing(t, &root);
}

/* Writes name under the mappings root with the given content. */
static void put(struct t *t, const char *rel, const uint8_t *b, size_t n)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/%s", t->path, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs("%s", path);
    *slash = '/';
    write_file(path, b, n);
}

static void reset_tree(struct t *t)
{
    nftw(t->path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdirs("%s/parsec", t->path);
}

static void test_ondisk_startup_rules(void **state)
{
    struct t *t = *state;
    char path[PATH_MAX + 64];

    /* Undecodable content. */
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2w=/1/dG90bw==", fixture_mbed, 45);
    open_fails(t, "cGFyc2VjLXRvb2w=/1/dG90bw==");
    /* Application folder name that is not base64 (or not canonical). */
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2x=/1/dG90bw==", fixture_mbed, 46);
    open_fails(t, "cGFyc2VjLXRvb2x=");
    /* Key file name that is not base64. */
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2w=/1/toto", fixture_mbed, 46);
    open_fails(t, "toto");
    /* Name that is base64 of invalid UTF-8. */
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2w=/1/_w==", fixture_mbed, 46);
    open_fails(t, "_w==");
    /* Provider folder that is not a provider id, when it holds a file. */
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2w=/7/dG90bw==", fixture_mbed, 46);
    open_fails(t, "cGFyc2VjLXRvb2w=/7");
    reset_tree(t);
    put(t, "cGFyc2VjLXRvb2w=/256/dG90bw==", fixture_mbed, 46);
    open_fails(t, "not a provider id");
    /* A sub-folder of parsec/ holding a file. */
    reset_tree(t);
    put(t, "parsec/1/dG90bw==", fixture_mbed, 46);
    open_fails(t, "/parsec: folder name is not base64");
    /* Internal key file: undecodable name, undecodable content. */
    reset_tree(t);
    put(t, "parsec/notbase64", fixture_mbed, 46);
    open_fails(t, "parsec/notbase64");
    reset_tree(t);
    put(t, "parsec/dHBtUm9vdEtleVRQTQ==", fixture_mbed + 8, 20);
    open_fails(t, "dHBtUm9vdEtleVRQTQ==");

    /* Tolerated: empty odd folders, stray files at the top two levels, internal files of no
     * provider, odd but valid provider folder names, trailing bytes. */
    reset_tree(t);
    mkdirs("%s/lost+found/x", t->path);
    mkdirs("%s/cGFyc2VjLXRvb2w=/notanid", t->path);
    put(t, "stray-file", fixture_mbed, 3);
    put(t, "cGFyc2VjLXRvb2w=/stray", fixture_mbed, 3);
    put(t, "parsec/Zm9vYmFy", fixture_mbed, 3); /* "foobar": no provider prefix */
    put(t, "cGFyc2VjLXRvb2w=/01/dG90bw==", fixture_mbed, 46);
    uint8_t longer[60];
    memcpy(longer, fixture_mbed, 46);
    memset(longer + 46, 0xEE, 14);
    put(t, "cGFyc2VjLXRvb2w=/1/dG90bw==", longer, sizeof(longer));
    /* Leftover of a crashed write. */
    put(t, "cGFyc2VjLXRvb2w=/1/.tmp-1-0", fixture_mbed, 10);
    open_ok(t, PSC_AUTH_DIRECT);
    struct kim_ident w = ident("parsec-tool", PSC_AUTH_DIRECT, 1, "toto");
    expect(t, &w, 4, &rsa);
    assert_int_equal(count(t, 1, MBED_UUID, "m", NULL, 0), 1);
    snprintf(path, sizeof(path), "%s/cGFyc2VjLXRvb2w=/1/.tmp-1-0", t->path);
    assert_false(file_exists(path));
}

int main(void)
{
#define BOTH(f)                                                                                    \
    cmocka_unit_test_setup_teardown(f, setup_sqlite, teardown),                                    \
        cmocka_unit_test_setup_teardown(f, setup_ondisk, teardown)
    const struct CMUnitTest tests[] = {
        BOTH(test_basic),
        BOTH(test_arguments),
        BOTH(test_reopen),
        BOTH(test_long_and_unicode_names),
        BOTH(test_threads),
        cmocka_unit_test_setup_teardown(test_sqlite_namespaces, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_original_fixture, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_writes_original_format, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_startup_errors, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_ondisk_namespaces, setup_ondisk, teardown),
        cmocka_unit_test_setup_teardown(test_ondisk_layout_and_modes, setup_ondisk, teardown),
        cmocka_unit_test_setup_teardown(test_ondisk_original_fixture, setup_ondisk, teardown),
        cmocka_unit_test_setup_teardown(test_ondisk_internal_keys, setup_ondisk, teardown),
        cmocka_unit_test_setup_teardown(test_ondisk_startup_rules, setup_ondisk, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
