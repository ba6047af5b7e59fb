/* The SQLite key info manager: schema version 1 of the original service, byte for byte
 * (key-info-manager.md §7).
 *
 * One connection per store, its prepared statements used under a mutex. The database is the
 * only copy of the mappings: every call reads or writes it, each write is one statement and
 * therefore one atomic, durable transaction (default rollback journal, synchronous FULL; WAL
 * would make the file unreadable to the original service's SQLite in some set-ups). A name is
 * unique per (authenticator, application, key name) across providers, so insert refuses a
 * taken name rather than overwriting it; reads, replacements and removals also match the
 * provider's uuid and name, so a provider never sees or touches another provider's key. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "service/fs_trust.h"
#include "service/kim/bincode.h"
#include "service/kim/kim_int.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* How long a statement waits for another process's lock on the file before failing. */
#define SQLITE_BUSY_TIMEOUT_MS 5000
#define SCHEMA_VERSION 1
/* key_id_version and key_attributes_version of every row. */
#define RECORD_VERSION 1

/* The creation statements exactly as the original service runs them: SQLite keeps their text
 * (from CREATE on, without IF NOT EXISTS) in sqlite_master, so a database we create is
 * indistinguishable from one it created. */
static const char ddl_metadata[] =
    "CREATE TABLE kim_metadata (\n"
    "                        id                    TEXT NOT NULL,\n"
    "                        int_value             INTEGER NOT NULL,\n"
    "                        PRIMARY KEY (id)\n"
    "                    )";
static const char ddl_mapping[] =
    "CREATE TABLE IF NOT EXISTS key_mapping (\n"
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

/* Columns of a listed row, in this order. */
#define ROW_COLUMNS                                                                                \
    "authenticator_id, application_name, key_name, provider_uuid, provider_name, key_id, "         \
    "key_attributes"
/* ?1-?5 of every per-key statement bind the identity (see bind_ident). */
#define WHERE_IDENT                                                                                \
    "authenticator_id = ?1 AND application_name = ?2 AND key_name = ?3 AND provider_uuid = ?4 "    \
    "AND provider_name = ?5"

enum stmt_id {
    ST_GET,
    ST_EXISTS,
    ST_INSERT,
    ST_UPDATE,
    ST_DELETE,
    ST_LIST_PROVIDER,
    ST_LIST_APP,
    ST_LIST_ALL,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_GET] = "SELECT key_id, key_attributes FROM key_mapping WHERE " WHERE_IDENT,
    [ST_EXISTS] = "SELECT 1 FROM key_mapping WHERE authenticator_id = ?1 AND "
                  "application_name = ?2 AND key_name = ?3",
    [ST_INSERT] = "INSERT INTO key_mapping (authenticator_id, application_name, key_name, "
                  "provider_uuid, provider_name, key_id, key_id_version, key_attributes, "
                  "key_attributes_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, 1)",
    [ST_UPDATE] = "UPDATE key_mapping SET key_id = ?6, key_id_version = 1, key_attributes = ?7, "
                  "key_attributes_version = 1 WHERE " WHERE_IDENT,
    [ST_DELETE] = "DELETE FROM key_mapping WHERE " WHERE_IDENT,
    [ST_LIST_PROVIDER] = "SELECT " ROW_COLUMNS " FROM key_mapping WHERE provider_uuid = ?1 AND "
                         "provider_name = ?2 AND authenticator_id != 255 "
                         "ORDER BY application_name, authenticator_id, key_name",
    [ST_LIST_APP] = "SELECT " ROW_COLUMNS " FROM key_mapping WHERE provider_uuid = ?1 AND "
                    "provider_name = ?2 AND application_name = ?3 AND authenticator_id = ?4 "
                    "ORDER BY key_name",
    [ST_LIST_ALL] = "SELECT " ROW_COLUMNS " FROM key_mapping "
                    "ORDER BY authenticator_id, application_name, key_name",
};

struct sqlite_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *st[ST_COUNT];
    char *path;
};

static void store_free(struct sqlite_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    if (s->db != NULL)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

/* ---- row checks shared by opening and reading ------------------------------------------- */

static int valid_auth(sqlite3_int64 v)
{
    return (v >= 0 && v <= PSC_AUTH_TYPE_MAX) || v == PSC_AUTH_INTERNAL;
}

/* A TEXT column as a C string, NULL if it is not well-formed text. */
static const char *column_name(sqlite3_stmt *st, int col)
{
    const unsigned char *t;
    int n;

    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return NULL;
    t = sqlite3_column_text(st, col);
    n = sqlite3_column_bytes(st, col);
    if (t == NULL || n < 0 || !kim_name_valid(t, (size_t)n))
        return NULL;
    return (const char *)t;
}

/* The key id and attributes of the current row (columns id_col, id_col + 1). info->id is
 * malloc'd. */
static int column_info(sqlite3_stmt *st, int id_col, struct kim_info *info)
{
    const void *id, *attrs;
    int id_len, attrs_len;

    memset(info, 0, sizeof(*info));
    if (sqlite3_column_type(st, id_col) != SQLITE_BLOB ||
        sqlite3_column_type(st, id_col + 1) != SQLITE_BLOB)
        return PSC_INVALID_ENCODING;
    id = sqlite3_column_blob(st, id_col);
    id_len = sqlite3_column_bytes(st, id_col);
    attrs = sqlite3_column_blob(st, id_col + 1);
    attrs_len = sqlite3_column_bytes(st, id_col + 1);
    if (id_len < 0 || id_len > BINCODE_KEY_ID_MAX || attrs_len < 0 || (id == NULL && id_len > 0))
        return PSC_INVALID_ENCODING;
    if (bincode_attrs_decode(attrs, (size_t)attrs_len, &info->attrs, NULL) != 0)
        return PSC_INVALID_ENCODING;
    info->id = malloc(id_len > 0 ? (size_t)id_len : 1);
    if (info->id == NULL)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    if (id_len > 0)
        memcpy(info->id, id, (size_t)id_len);
    info->id_len = (size_t)id_len;
    return 0;
}

/* Appends the current row (ROW_COLUMNS) to a listing. */
static int row_to_entry(sqlite3_stmt *st, struct kim_list *l)
{
    const char *app = column_name(st, 1), *key = column_name(st, 2);
    const char *uuid = column_name(st, 3), *pname = column_name(st, 4);
    struct kim_info info;
    sqlite3_int64 auth;
    int rc, pid;

    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
        return PSC_INVALID_ENCODING;
    auth = sqlite3_column_int64(st, 0);
    if (!valid_auth(auth) || app == NULL || key == NULL || uuid == NULL || pname == NULL)
        return PSC_INVALID_ENCODING;
    rc = column_info(st, 5, &info);
    if (rc != 0)
        return rc;
    /* The store keeps the provider's UUID only; one unknown to this build (a newer provider
     * type) is reported as the core provider's id. */
    pid = kim_provider_id_of_uuid(uuid);
    return kim_list_add(l, app, (uint8_t)auth, (uint8_t)(pid < 0 ? 0 : pid), uuid, pname, key,
                        &info);
}

/* ---- opening ---------------------------------------------------------------------------- */

/* A column as text for a message ("" for NULL). */
static const char *text_of(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? (const char *)t : "";
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* §7.2 rules 1-4 inside one transaction, so that two services starting on a new file cannot
 * both create the tables. On failure writes err. */
static int check_schema(struct sqlite_store *s, char *err, size_t err_len)
{
    sqlite3_stmt *st = NULL;
    struct kim_list dummy = {0};
    int rc = -1, step, tables;

    if (exec(s->db, "BEGIN IMMEDIATE") != SQLITE_OK)
        goto sql_error;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "(name = 'key_mapping' OR name = 'kim_metadata')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto sql_error;
    tables = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (tables == 0) {
        if (exec(s->db, ddl_metadata) != SQLITE_OK ||
            exec(s->db, "INSERT INTO kim_metadata (id, int_value) VALUES ('schema_version', 1)") !=
                SQLITE_OK ||
            exec(s->db, ddl_mapping) != SQLITE_OK)
            goto sql_error;
    } else if (tables != 2) {
        snprintf(err, err_len,
                 "SQLite key info manager database %s: schema is not in a recognised format "
                 "(one of the tables key_mapping and kim_metadata is missing)",
                 s->path);
        goto out;
    }

    if (sqlite3_prepare_v2(s->db, "SELECT int_value FROM kim_metadata WHERE id = 'schema_version'",
                           -1, &st, NULL) != SQLITE_OK)
        goto sql_error;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
            sqlite3_column_int64(st, 0) != SCHEMA_VERSION) {
            snprintf(err, err_len,
                     "SQLite key info manager database %s: schema version is incompatible "
                     "(this service uses version %d, the database version %s)",
                     s->path, SCHEMA_VERSION, text_of(st, 0));
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        goto sql_error;
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT key_id_version, key_attributes_version FROM key_mapping WHERE "
                           "key_id_version != 1 OR key_attributes_version != 1 LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        goto sql_error;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(err, err_len,
                 "SQLite key info manager database %s: mappings use an incompatible "
                 "key_id_version %s or key_attributes_version %s (this service uses %d and %d)",
                 s->path, text_of(st, 0), text_of(st, 1), RECORD_VERSION, RECORD_VERSION);
        goto out;
    }
    if (step != SQLITE_DONE)
        goto sql_error;
    sqlite3_finalize(st);
    st = NULL;

    /* The original service loads every row at start-up and refuses to start on one it cannot
     * read; the same pass here gives the same start-up errors. */
    if (sqlite3_prepare_v2(s->db, stmt_sql[ST_LIST_ALL], -1, &st, NULL) != SQLITE_OK)
        goto sql_error;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int bad = row_to_entry(st, &dummy);
        kim_entries_free(dummy.e, dummy.n);
        dummy = (struct kim_list){0};
        if (bad != 0) {
            snprintf(err, err_len,
                     "SQLite key info manager database %s: unreadable mapping (authenticator %lld, "
                     "application \"%s\", key \"%s\"): invalid authenticator id, name or key "
                     "attributes",
                     s->path, (long long)sqlite3_column_int64(st, 0), text_of(st, 1),
                     text_of(st, 2));
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        goto sql_error;
    sqlite3_finalize(st);
    st = NULL;

    if (exec(s->db, "COMMIT") != SQLITE_OK)
        goto sql_error;
    rc = 0;
    goto out;

sql_error:
    snprintf(err, err_len, "SQLite key info manager database %s: %s", s->path,
             sqlite3_errmsg(s->db));
out:
    sqlite3_finalize(st);
    if (rc != 0 && !sqlite3_get_autocommit(s->db))
        exec(s->db, "ROLLBACK");
    return rc;
}

/* SQLite's per-connection lookaside pool and its initial bulk page-cache allocation would stay
 * resident for the life of the service (about 60 kB of heap once freed blocks are reused) to
 * speed up small allocations: a key lookup costs the same number of instructions without them
 * (callgrind), and pages are still cached as they are read. Both settings must precede SQLite's
 * initialisation; if another user in the process initialised it first, they are refused and
 * the defaults stay, which is harmless. */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

int kim_sqlite_open(const char *db_path, void **out, char *err, size_t err_len)
{
    static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
    struct sqlite_store *s = NULL;
    int fd, rc = PSC_KEY_INFO_MANAGER_ERROR;

    *out = NULL;
    (void)pthread_once(&setup_once, sqlite_setup);
    s = calloc(1, sizeof(*s));
    if (s == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        snprintf(err, err_len, "out of memory");
        return PSC_PSA_INSUFFICIENT_MEMORY;
    }
    s->path = strdup(db_path);
    if (s->path == NULL) {
        snprintf(err, err_len, "out of memory");
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    /* The folder is created private; one that existed keeps its mode, as long as no other
     * user can change it (or the file in it). */
    const char *slash = strrchr(db_path, '/');
    char *dir =
        slash ? strndup(db_path, slash == db_path ? 1 : (size_t)(slash - db_path)) : strdup(".");
    if (dir == NULL) {
        snprintf(err, err_len, "out of memory");
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    fd = fst_dir("SQLite key info manager: database folder", dir, 0700, NULL, err, err_len);
    free(dir);
    if (fd < 0)
        goto out;
    close(fd);
    /* Create a new file 0600 from the start: SQLite would use 0644 until the chmod below. */
    fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "SQLite key info manager: cannot open %s: %s", db_path,
                 strerror(errno));
        goto out;
    }
    close(fd);
    if (sqlite3_open_v2(db_path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, err_len, "SQLite key info manager: cannot open %s: %s", db_path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_TIMEOUT_MS);
    if (check_schema(s, err, err_len) != 0)
        goto out;
    /* Only the service may read the mappings; an existing file may have been created with
     * other permissions. */
    if (chmod(db_path, 0600) != 0) {
        snprintf(err, err_len, "SQLite key info manager: cannot chmod %s: %s", db_path,
                 strerror(errno));
        goto out;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, err_len, "SQLite key info manager database %s: %s", db_path,
                     sqlite3_errmsg(s->db));
            goto out;
        }
    }
    log_info(KIM_LOG, "SQLite key info manager: using %s", db_path);
    *out = s;
    s = NULL;
    rc = 0;
out:
    store_free(s);
    return rc;
}

static void sqlite_close(void *st)
{
    store_free(st);
}

/* ---- operations ------------------------------------------------------------------------- */

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Binds ?1-?5 (those the statement has) to the identity. */
static int bind_ident(sqlite3_stmt *st, const struct kim_ident *who)
{
    int n = sqlite3_bind_parameter_count(st);
    int rc = sqlite3_bind_int(st, 1, who->auth);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, who->app);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, who->key_name);
    if (rc == SQLITE_OK && n >= 4)
        rc = bind_text(st, 4, who->provider_uuid);
    if (rc == SQLITE_OK && n >= 5)
        rc = bind_text(st, 5, who->provider_name);
    return rc;
}

/* Binds ?6 (key id) and ?7 (encoded attributes, in attrs[]). */
static int bind_info(sqlite3_stmt *st, const struct kim_info *info, const uint8_t *attrs,
                     size_t attrs_len)
{
    int rc;
    /* A NULL pointer would bind SQL NULL, which key_id's NOT NULL refuses. */
    if (info->id_len == 0)
        rc = sqlite3_bind_zeroblob(st, 6, 0);
    else
        rc = sqlite3_bind_blob(st, 6, info->id, (int)info->id_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 7, attrs, (int)attrs_len, SQLITE_STATIC);
    return rc;
}

static void finish(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int sql_fail(struct sqlite_store *s, const char *what)
{
    log_error(KIM_LOG, "SQLite key info manager %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    return PSC_KEY_INFO_MANAGER_ERROR;
}

static int sqlite_get(void *p, const struct kim_ident *who, struct kim_info *info)
{
    struct sqlite_store *s = p;
    sqlite3_stmt *st = s->st[ST_GET];
    int rc, step;

    pthread_mutex_lock(&s->mu);
    if (bind_ident(st, who) != SQLITE_OK) {
        rc = sql_fail(s, "get");
        goto out;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = PSC_PSA_DOES_NOT_EXIST;
    } else if (step != SQLITE_ROW) {
        rc = sql_fail(s, "get");
    } else {
        rc = column_info(st, 0, info);
        if (rc == PSC_INVALID_ENCODING) {
            char kb[LOG_STR_BUF];
            log_error(KIM_LOG, "SQLite key info manager %s: unreadable mapping of key \"%s\"",
                      s->path, log_str(kb, who->key_name));
            rc = PSC_KEY_INFO_MANAGER_ERROR;
        }
    }
out:
    finish(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sqlite_exists(void *p, const struct kim_ident *who, int *exists)
{
    struct sqlite_store *s = p;
    sqlite3_stmt *st = s->st[ST_EXISTS];
    int rc = 0, step;

    pthread_mutex_lock(&s->mu);
    if (bind_ident(st, who) != SQLITE_OK) {
        rc = sql_fail(s, "exists");
        goto out;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *exists = 1;
    else if (step != SQLITE_DONE)
        rc = sql_fail(s, "exists");
out:
    finish(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Runs the insert or update statement; changes receives the rows touched. */
static int write_row(struct sqlite_store *s, enum stmt_id id, const struct kim_ident *who,
                     const struct kim_info *info, int *changes)
{
    sqlite3_stmt *st = s->st[id];
    uint8_t attrs[BINCODE_ATTRS_MAX];
    size_t attrs_len;
    int rc, step;

    if (info->id_len > BINCODE_KEY_ID_MAX)
        return PSC_PSA_INVALID_ARGUMENT;
    rc = bincode_attrs_encode(&info->attrs, attrs, sizeof(attrs), &attrs_len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    if (bind_ident(st, who) != SQLITE_OK || bind_info(st, info, attrs, attrs_len) != SQLITE_OK) {
        rc = sql_fail(s, "write");
        goto out;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        *changes = sqlite3_changes(s->db);
    } else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        rc = PSC_PSA_ALREADY_EXISTS;
    } else {
        rc = sql_fail(s, "write");
    }
out:
    finish(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sqlite_insert(void *p, const struct kim_ident *who, const struct kim_info *info)
{
    int changes = 0;
    return write_row(p, ST_INSERT, who, info, &changes);
}

static int sqlite_replace(void *p, const struct kim_ident *who, const struct kim_info *info)
{
    int changes = 0;
    int rc = write_row(p, ST_UPDATE, who, info, &changes);
    if (rc == 0 && changes == 0)
        rc = PSC_PSA_DOES_NOT_EXIST;
    return rc;
}

static int sqlite_remove(void *p, const struct kim_ident *who)
{
    struct sqlite_store *s = p;
    sqlite3_stmt *st = s->st[ST_DELETE];
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    if (bind_ident(st, who) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        rc = sql_fail(s, "remove");
    else if (sqlite3_changes(s->db) == 0)
        rc = PSC_PSA_DOES_NOT_EXIST;
    finish(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sqlite_list(void *p, const struct kim_filter *f, struct kim_list *out)
{
    struct sqlite_store *s = p;
    sqlite3_stmt *st;
    int rc = 0, step, b = SQLITE_OK;

    pthread_mutex_lock(&s->mu);
    if (f->all) {
        st = s->st[ST_LIST_ALL];
    } else {
        st = s->st[f->app != NULL ? ST_LIST_APP : ST_LIST_PROVIDER];
        b = bind_text(st, 1, f->provider_uuid);
        if (b == SQLITE_OK)
            b = bind_text(st, 2, f->provider_name);
        if (b == SQLITE_OK && f->app != NULL)
            b = bind_text(st, 3, f->app);
        if (b == SQLITE_OK && f->app != NULL)
            b = sqlite3_bind_int(st, 4, f->auth);
    }
    if (b != SQLITE_OK) {
        rc = sql_fail(s, "list");
        goto out;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = row_to_entry(st, out);
        if (rc == PSC_INVALID_ENCODING) {
            char kb[LOG_STR_BUF];
            log_error(KIM_LOG, "SQLite key info manager %s: unreadable mapping of key \"%s\"",
                      s->path, log_str(kb, text_of(st, 2)));
            rc = PSC_KEY_INFO_MANAGER_ERROR;
        }
        if (rc != 0)
            goto out;
    }
    if (step != SQLITE_DONE)
        rc = sql_fail(s, "list");
out:
    finish(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

const struct kim_store_ops kim_sqlite_ops = {
    .get = sqlite_get,
    .insert = sqlite_insert,
    .replace = sqlite_replace,
    .remove = sqlite_remove,
    .exists = sqlite_exists,
    .list = sqlite_list,
    .close = sqlite_close,
};
