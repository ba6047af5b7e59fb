/* The on-disk key info manager: one file per mapping in the original service's folder layout
 * (key-info-manager.md §6), byte for byte:
 *
 *   <root>/<B64 app>/<provider id>/<B64 key>      bincode KeyInfo, mode 0600, folders 0700
 *   <root>/parsec/<B64(provider short name ++ key)>   the service's own (internal) keys
 *
 * The folder is the only copy of the mappings: a lookup opens the one file the identity names,
 * a listing reads the folders. Keeping no index means nothing can drift from the disk (say
 * after a failed fsync), costs one small open and read per lookup, and the start-up pass
 * still reads every file once to refuse a tree the original service would refuse.
 *
 * Unlike the original, writes are crash-safe: the record goes to a temporary file in the same
 * folder, is fsync'd, renamed over the final name and the folder fsync'd, so a crash leaves
 * the old or the new mapping, never a torn one. Temporary names start with '.', which no
 * base64 name can, and leftovers are deleted at the next start. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "common/base64.h"
#include "common/log.h"
#include "service/fs_trust.h"
#include "service/kim/bincode.h"
#include "service/kim/kim_int.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* Longest file name (Linux NAME_MAX): app and key names encode to at most this, which limits
 * them to 189 bytes (the original documents 188). */
#define FILE_NAME_MAX 255
#define NAME_BUF (FILE_NAME_MAX + 1)
_Static_assert(KIM_NAME_MAX == FILE_NAME_MAX / 4 * 3, "the name bound of both stores");
/* "<app>/<id>/<key>" relative to the root. */
#define REL_PATH_BUF (2 * NAME_BUF + 8)
/* Folder of the internal keys (the internal application's name, not base64). */
#define INTERNAL_DIR KIM_INTERNAL_APP
#define TMP_PREFIX ".tmp-"
/* Attempts at a fresh temporary name before giving up. */
#define TMP_ATTEMPTS 64
#define DIR_MODE 0700
#define FILE_MODE 0600

/* Provider short names of internal key files, in the order a name is matched against them. */
static const struct short_name {
    const char *name;
    uint8_t id;
} short_names[] = {
    {"core", PSC_PROVIDER_CORE},
    {"pkcs11", PSC_PROVIDER_PKCS11},
    {"mbedcrypto", PSC_PROVIDER_MBED_CRYPTO},
    {"tpm", PSC_PROVIDER_TPM},
    {"trusted-service", PSC_PROVIDER_TRUSTED_SERVICE},
    {"cryptoauthlib", PSC_PROVIDER_CRYPTOAUTHLIB},
};
#define N_SHORT_NAMES (sizeof(short_names) / sizeof(short_names[0]))

struct ondisk_store {
    int root_fd;
    char *root;
    uint8_t default_auth;
    unsigned tmp_counter;
};

static const char *short_name_of(uint8_t provider_id)
{
    for (size_t i = 0; i < N_SHORT_NAMES; i++)
        if (short_names[i].id == provider_id)
            return short_names[i].name;
    return NULL;
}

/* The entry of short_names a decoded internal key name starts with, NULL for none (a file of
 * no provider, which the original service ignores). */
static const struct short_name *short_name_prefix(const char *name)
{
    for (size_t i = 0; i < N_SHORT_NAMES; i++)
        if (strncmp(name, short_names[i].name, strlen(short_names[i].name)) == 0)
            return &short_names[i];
    return NULL;
}

/* ---- names ------------------------------------------------------------------------------ */

/* B64 of a name as a file name; -1 if it is empty or too long for one. */
static int encode_name(const char *prefix, const char *name, char out[NAME_BUF])
{
    size_t pl = strlen(prefix), nl = strlen(name);
    uint8_t raw[FILE_NAME_MAX];

    /* Three bytes become four characters: more than 191 bytes cannot fit in 255. */
    if (pl + nl == 0 || pl + nl > FILE_NAME_MAX / 4 * 3)
        return -1;
    memcpy(raw, prefix, pl);
    memcpy(raw + pl, name, nl);
    if (BASE64_ENCODED_LEN(pl + nl) > FILE_NAME_MAX)
        return -1;
    return base64url_encode(raw, pl + nl, out, NAME_BUF, NULL) == 0 ? 0 : -1;
}

/* The name a file or folder name encodes, NUL-terminated in out; -1 if it is not canonical
 * base64 of well-formed UTF-8. */
static int decode_name(const char *file, char out[NAME_BUF])
{
    size_t n;

    if (base64url_decode(file, strlen(file), (uint8_t *)out, NAME_BUF - 1, &n) != 0 ||
        !kim_name_valid((const uint8_t *)out, n))
        return -1;
    out[n] = '\0';
    return 0;
}

/* The provider id of a provider folder name. 1 for a canonical id ("0"-"5"), 0 for a name
 * the original service also reads as an id ("+1", "01": Rust's u8 parsing) but which lookups
 * here never visit, -1 otherwise. */
static int parse_provider_dir(const char *s, uint8_t *id)
{
    const char *p = s;
    unsigned v = 0;

    if (*p == '+')
        p++;
    if (*p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
        if (v > UINT8_MAX)
            return -1;
    }
    if (v > PSC_PROVIDER_ID_MAX)
        return -1;
    *id = (uint8_t)v;
    return s[0] == (char)('0' + v) && s[1] == '\0' ? 1 : 0;
}

/* Where a mapping lives: a folder relative to the root and a file name in it. */
struct location {
    char dir[REL_PATH_BUF];
    char app[NAME_BUF];
    char file[NAME_BUF];
    int internal;
};

/* -1 if the identity cannot name a file (empty or over-long name, unknown provider). */
static int locate(const struct kim_ident *who, struct location *loc)
{
    memset(loc, 0, sizeof(*loc));
    if (who->provider_id > PSC_PROVIDER_ID_MAX)
        return -1;
    if (who->auth == PSC_AUTH_INTERNAL) {
        const char *sn = short_name_of(who->provider_id);
        loc->internal = 1;
        snprintf(loc->dir, sizeof(loc->dir), "%s", INTERNAL_DIR);
        return sn != NULL && encode_name(sn, who->key_name, loc->file) == 0 ? 0 : -1;
    }
    if (encode_name("", who->app, loc->app) != 0 || encode_name("", who->key_name, loc->file) != 0)
        return -1;
    snprintf(loc->dir, sizeof(loc->dir), "%s/%u", loc->app, who->provider_id);
    return 0;
}

/* ---- files ------------------------------------------------------------------------------ */

static int is_tmp(const char *name)
{
    return strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;
}

/* Entry type after following symbolic links, as the original service looks at entries;
 * 0 when it cannot be examined (such entries are skipped like the original skips them). */
static mode_t entry_type(int dfd, const char *name)
{
    struct stat sb;
    if (fstatat(dfd, name, &sb, 0) != 0)
        return 0;
    return sb.st_mode & S_IFMT;
}

static DIR *open_dir(int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return d;
}

/* Reads and decodes one record. Returns 0, PSC_PSA_DOES_NOT_EXIST, PSC_INVALID_ENCODING or
 * PSC_KEY_INFO_MANAGER_ERROR (errno kept). */
static int read_record(int dfd, const char *name, struct kim_info *info)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat sb;
    int fd, rc = PSC_KEY_INFO_MANAGER_ERROR, e = 0;

    memset(info, 0, sizeof(*info));
    fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? PSC_PSA_DOES_NOT_EXIST
                                                   : PSC_KEY_INFO_MANAGER_ERROR;
    if (fstat(fd, &sb) != 0)
        goto out;
    if (!S_ISREG(sb.st_mode)) {
        errno = EISDIR;
        goto out;
    }
    buf = malloc(BINCODE_KEY_INFO_MAX);
    if (buf == NULL) {
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    /* Bincode ignores what follows a record, so a prefix of a longer file decodes the same. */
    while (len < BINCODE_KEY_INFO_MAX) {
        ssize_t r = read(fd, buf + len, BINCODE_KEY_INFO_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        len += (size_t)r;
    }
    rc = bincode_key_info_decode(buf, len, info, NULL);
out:
    e = errno;
    if (buf != NULL) {
        mbedtls_platform_zeroize(buf, BINCODE_KEY_INFO_MAX);
        free(buf);
    }
    close(fd);
    errno = e;
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Replaces (or creates) dfd/name with content, atomically and durably. */
static int write_atomic(struct ondisk_store *s, int dfd, const char *name, const uint8_t *buf,
                        size_t len)
{
    char tmp[64];
    int fd = -1, rc = -1, e;

    for (int i = 0; i < TMP_ATTEMPTS && fd < 0; i++) {
        snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%u", (long)getpid(), s->tmp_counter++);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
        if (fd < 0 && errno != EEXIST)
            return -1;
    }
    if (fd < 0)
        return -1;
    /* The umask may have removed bits; the mode is exactly 0600 like the original's files. */
    if (fchmod(fd, FILE_MODE) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) != 0)
        goto out;
    rc = 0;
    if (fsync(dfd) != 0)
        rc = -1;
    goto done;
out:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    errno = e;
done:
    return rc;
}

/* Opens folder name under at, creating it (0700) when create is set. A new folder's entry is
 * made durable in at. The original service re-applies 0700 to the folders at each write. */
static int open_subdir(int at, const char *name, int create)
{
    int created = 0;

    if (create) {
        if (mkdirat(at, name, DIR_MODE) == 0)
            created = 1;
        else if (errno != EEXIST)
            return -1;
        if (fchmodat(at, name, DIR_MODE, 0) != 0)
            return -1;
    }
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && created && fsync(at) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The folder of a location: the internal folder, or app/provider (created when asked). */
static int open_location_dir(struct ondisk_store *s, const struct location *loc, int create)
{
    int app_fd, fd;
    char pid[8];

    if (loc->internal)
        return openat(s->root_fd, INTERNAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    app_fd = open_subdir(s->root_fd, loc->app, create);
    if (app_fd < 0)
        return -1;
    snprintf(pid, sizeof(pid), "%s", strrchr(loc->dir, '/') + 1);
    fd = open_subdir(app_fd, pid, create);
    int e = errno;
    close(app_fd);
    errno = e;
    return fd;
}

static int io_fail(struct ondisk_store *s, const char *what, const struct location *loc)
{
    log_error(KIM_LOG, "on-disk key info manager: cannot %s %s/%s/%s: %s", what, s->root, loc->dir,
              loc->file, strerror(errno));
    return PSC_KEY_INFO_MANAGER_ERROR;
}

/* ---- operations ------------------------------------------------------------------------- */

static int ondisk_get(void *p, const struct kim_ident *who, struct kim_info *info)
{
    struct ondisk_store *s = p;
    struct location loc;
    char rel[2 * REL_PATH_BUF];
    int rc;

    if (locate(who, &loc) != 0)
        return PSC_PSA_DOES_NOT_EXIST;
    snprintf(rel, sizeof(rel), "%s/%s", loc.dir, loc.file);
    rc = read_record(s->root_fd, rel, info);
    if (rc == PSC_INVALID_ENCODING) {
        log_error(KIM_LOG, "on-disk key info manager: %s/%s is not a valid mapping", s->root, rel);
        rc = PSC_KEY_INFO_MANAGER_ERROR;
    } else if (rc == PSC_KEY_INFO_MANAGER_ERROR) {
        io_fail(s, "read", &loc);
    }
    return rc;
}

static int ondisk_exists(void *p, const struct kim_ident *who, int *exists)
{
    struct ondisk_store *s = p;
    struct location loc;
    char rel[2 * REL_PATH_BUF];
    struct stat sb;

    if (locate(who, &loc) != 0)
        return 0;
    snprintf(rel, sizeof(rel), "%s/%s", loc.dir, loc.file);
    if (fstatat(s->root_fd, rel, &sb, 0) == 0) {
        *exists = 1;
        return 0;
    }
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    return io_fail(s, "examine", &loc);
}

/* Insert (must_exist 0) or replace (must_exist 1). */
static int store(struct ondisk_store *s, const struct kim_ident *who, const struct kim_info *info,
                 int must_exist)
{
    struct location loc;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat sb;
    int dfd = -1, rc;

    if (locate(who, &loc) != 0) {
        char kb[LOG_STR_BUF];
        log_error(KIM_LOG,
                  "on-disk key info manager: application or key name of \"%s\" cannot "
                  "be a file name (empty, or longer than 189 bytes)",
                  log_str(kb, who->key_name));
        return must_exist ? PSC_PSA_DOES_NOT_EXIST : PSC_KEY_INFO_MANAGER_ERROR;
    }
    rc = bincode_key_info_encode(info, &buf, &len);
    if (rc != 0)
        return rc;
    dfd = open_location_dir(s, &loc, !must_exist);
    if (dfd < 0) {
        rc = must_exist && (errno == ENOENT || errno == ENOTDIR) ? PSC_PSA_DOES_NOT_EXIST
                                                                 : io_fail(s, "open", &loc);
        goto out;
    }
    if (fstatat(dfd, loc.file, &sb, 0) == 0) {
        if (!must_exist) {
            rc = PSC_PSA_ALREADY_EXISTS;
            goto out;
        }
    } else if (errno != ENOENT) {
        rc = io_fail(s, "examine", &loc);
        goto out;
    } else if (must_exist) {
        rc = PSC_PSA_DOES_NOT_EXIST;
        goto out;
    }
    if (write_atomic(s, dfd, loc.file, buf, len) != 0) {
        rc = io_fail(s, "write", &loc);
        goto out;
    }
    rc = 0;
out:
    if (dfd >= 0)
        close(dfd);
    if (buf != NULL) {
        mbedtls_platform_zeroize(buf, len);
        free(buf);
    }
    return rc;
}

static int ondisk_insert(void *p, const struct kim_ident *who, const struct kim_info *info)
{
    return store(p, who, info, 0);
}

static int ondisk_replace(void *p, const struct kim_ident *who, const struct kim_info *info)
{
    return store(p, who, info, 1);
}

static int ondisk_remove(void *p, const struct kim_ident *who)
{
    struct ondisk_store *s = p;
    struct location loc;
    int dfd, rc = 0;

    /* Internal keys are removed from where they are written; the original service looks for
     * them under another name and leaves the file behind. */
    if (locate(who, &loc) != 0)
        return PSC_PSA_DOES_NOT_EXIST;
    dfd = open_location_dir(s, &loc, 0);
    if (dfd < 0)
        return errno == ENOENT || errno == ENOTDIR ? PSC_PSA_DOES_NOT_EXIST
                                                   : io_fail(s, "open", &loc);
    if (unlinkat(dfd, loc.file, 0) != 0)
        rc = errno == ENOENT ? PSC_PSA_DOES_NOT_EXIST : io_fail(s, "remove", &loc);
    else if (fsync(dfd) != 0)
        rc = io_fail(s, "sync the folder of", &loc);
    close(dfd);
    return rc;
}

/* ---- listing ---------------------------------------------------------------------------- */

/* Adds the records of one provider folder (at/dir) to a listing. */
static int list_provider_dir(struct ondisk_store *s, int at, const char *dir, const char *app,
                             uint8_t provider_id, const char *uuid, const char *pname,
                             struct kim_list *out)
{
    DIR *d = open_dir(at, dir);
    struct dirent *de;
    char key[NAME_BUF];
    struct kim_info info;
    int rc = 0;

    if (d == NULL)
        return errno == ENOENT || errno == ENOTDIR ? 0 : PSC_KEY_INFO_MANAGER_ERROR;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (is_tmp(de->d_name) || entry_type(dirfd(d), de->d_name) != S_IFREG)
            continue;
        if (decode_name(de->d_name, key) != 0) {
            log_error(KIM_LOG, "on-disk key info manager: %s/%s/%s: file name is not a key name",
                      s->root, dir, de->d_name);
            rc = PSC_KEY_INFO_MANAGER_ERROR;
            break;
        }
        rc = read_record(dirfd(d), de->d_name, &info);
        if (rc == PSC_PSA_DOES_NOT_EXIST) {
            rc = 0; /* removed meanwhile by another process */
            continue;
        }
        if (rc != 0) {
            log_error(KIM_LOG, "on-disk key info manager: %s/%s/%s is not a valid mapping", s->root,
                      dir, de->d_name);
            rc = PSC_KEY_INFO_MANAGER_ERROR;
            break;
        }
        rc = kim_list_add(out, app, s->default_auth, provider_id, uuid, pname, key, &info);
        if (rc != 0)
            break;
    }
    if (rc == 0 && errno != 0)
        rc = PSC_KEY_INFO_MANAGER_ERROR;
    closedir(d);
    return rc;
}

/* Adds internal keys (of one provider, or of all when all is set). */
static int list_internal(struct ondisk_store *s, const struct kim_filter *f, struct kim_list *out)
{
    DIR *d = open_dir(s->root_fd, INTERNAL_DIR);
    struct dirent *de;
    char name[NAME_BUF];
    struct kim_info info;
    int rc = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : PSC_KEY_INFO_MANAGER_ERROR;
    while ((errno = 0, de = readdir(d)) != NULL) {
        const struct short_name *sn;
        if (is_tmp(de->d_name) || entry_type(dirfd(d), de->d_name) != S_IFREG)
            continue;
        if (decode_name(de->d_name, name) != 0) {
            log_error(KIM_LOG, "on-disk key info manager: %s/%s/%s: file name is not a key name",
                      s->root, INTERNAL_DIR, de->d_name);
            rc = PSC_KEY_INFO_MANAGER_ERROR;
            break;
        }
        sn = short_name_prefix(name);
        if (sn == NULL || (!f->all && sn->id != f->provider_id))
            continue;
        rc = read_record(dirfd(d), de->d_name, &info);
        if (rc == PSC_PSA_DOES_NOT_EXIST) {
            rc = 0;
            continue;
        }
        if (rc != 0) {
            log_error(KIM_LOG, "on-disk key info manager: %s/%s/%s is not a valid mapping", s->root,
                      INTERNAL_DIR, de->d_name);
            rc = PSC_KEY_INFO_MANAGER_ERROR;
            break;
        }
        rc = kim_list_add(out, KIM_INTERNAL_APP, PSC_AUTH_INTERNAL, sn->id,
                          f->all ? kim_provider_uuid(sn->id) : f->provider_uuid,
                          f->all ? "" : f->provider_name, name + strlen(sn->name), &info);
        if (rc != 0)
            break;
    }
    if (rc == 0 && errno != 0)
        rc = PSC_KEY_INFO_MANAGER_ERROR;
    closedir(d);
    return rc;
}

static int ondisk_list(void *p, const struct kim_filter *f, struct kim_list *out)
{
    struct ondisk_store *s = p;
    char app_dir[NAME_BUF], app[NAME_BUF], rel[REL_PATH_BUF];
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if (!f->all && f->provider_id > PSC_PROVIDER_ID_MAX)
        return 0;
    if (!f->all && f->app != NULL) {
        if (f->auth == PSC_AUTH_INTERNAL)
            return strcmp(f->app, KIM_INTERNAL_APP) == 0 ? list_internal(s, f, out) : 0;
        if (encode_name("", f->app, app_dir) != 0)
            return 0;
        snprintf(rel, sizeof(rel), "%s/%u", app_dir, f->provider_id);
        return list_provider_dir(s, s->root_fd, rel, f->app, f->provider_id, f->provider_uuid,
                                 f->provider_name, out);
    }
    if (f->all) {
        rc = list_internal(s, f, out);
        if (rc != 0)
            return rc;
    }
    d = open_dir(s->root_fd, ".");
    if (d == NULL)
        return PSC_KEY_INFO_MANAGER_ERROR;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, INTERNAL_DIR) == 0 ||
            entry_type(dirfd(d), de->d_name) != S_IFDIR || decode_name(de->d_name, app) != 0)
            continue;
        for (uint8_t id = 0; id <= PSC_PROVIDER_ID_MAX && rc == 0; id++) {
            if (!f->all && id != f->provider_id)
                continue;
            snprintf(rel, sizeof(rel), "%s/%u", de->d_name, id);
            rc = list_provider_dir(s, dirfd(d), rel, app, id,
                                   f->all ? kim_provider_uuid(id) : f->provider_uuid,
                                   f->all ? "" : f->provider_name, out);
        }
        if (rc != 0)
            break;
    }
    if (rc == 0 && errno != 0)
        rc = PSC_KEY_INFO_MANAGER_ERROR;
    closedir(d);
    return rc;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* Deletes a temporary file a crash left behind. */
static void drop_tmp(struct ondisk_store *s, int dfd, const char *dir, const char *name)
{
    log_warn(KIM_LOG, "on-disk key info manager: removing unfinished write %s/%s/%s", s->root, dir,
             name);
    unlinkat(dfd, name, 0);
}

/* Checks a record decodes; on failure writes err naming the file. */
static int check_record(struct ondisk_store *s, int dfd, const char *rel_dir, const char *name,
                        char *err, size_t err_len)
{
    struct kim_info info;
    int rc = read_record(dfd, name, &info);

    kim_info_clear(&info);
    if (rc == PSC_INVALID_ENCODING)
        snprintf(err, err_len,
                 "on-disk key info manager: %s/%s/%s: cannot decode the key info it holds", s->root,
                 rel_dir, name);
    else if (rc != 0)
        snprintf(err, err_len, "on-disk key info manager: cannot read %s/%s/%s: %s", s->root,
                 rel_dir, name, strerror(errno));
    return rc;
}

/* §6.3 rule 1: the internal keys folder. */
static int check_internal(struct ondisk_store *s, char *err, size_t err_len)
{
    DIR *d = open_dir(s->root_fd, INTERNAL_DIR);
    struct dirent *de;
    char name[NAME_BUF];
    int rc = 0;

    if (d == NULL) {
        snprintf(err, err_len, "on-disk key info manager: cannot open %s/%s: %s", s->root,
                 INTERNAL_DIR, strerror(errno));
        return -1;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (entry_type(dirfd(d), de->d_name) != S_IFREG)
            continue;
        if (is_tmp(de->d_name)) {
            drop_tmp(s, dirfd(d), INTERNAL_DIR, de->d_name);
            continue;
        }
        if (decode_name(de->d_name, name) != 0) {
            snprintf(err, err_len,
                     "on-disk key info manager: %s/%s/%s: file name is not base64 of a name",
                     s->root, INTERNAL_DIR, de->d_name);
            rc = -1;
            break;
        }
        if (short_name_prefix(name) == NULL)
            continue; /* not a provider's: ignored, as by the original */
        if (check_record(s, dirfd(d), INTERNAL_DIR, de->d_name, err, err_len) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && errno != 0) {
        snprintf(err, err_len, "on-disk key info manager: cannot list %s/%s: %s", s->root,
                 INTERNAL_DIR, strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

/* §6.3 rules 2-3 for one provider folder app_dir/prov_dir. */
static int check_provider_dir(struct ondisk_store *s, int app_fd, const char *app_dir,
                              const char *prov_dir, size_t *count, char *err, size_t err_len)
{
    DIR *d = open_dir(app_fd, prov_dir);
    struct dirent *de;
    char rel[REL_PATH_BUF], name[NAME_BUF];
    uint8_t id;
    int rc = 0, canonical = -2;

    snprintf(rel, sizeof(rel), "%s/%s", app_dir, prov_dir);
    if (d == NULL)
        return 0; /* vanished or unreadable as a folder: the original skips it too */
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (entry_type(dirfd(d), de->d_name) != S_IFREG)
            continue;
        if (is_tmp(de->d_name)) {
            drop_tmp(s, dirfd(d), rel, de->d_name);
            continue;
        }
        if (check_record(s, dirfd(d), rel, de->d_name, err, err_len) != 0) {
            rc = -1;
            break;
        }
        /* The folder names are checked once, at the first record the folder holds: a
         * folder without records is ignored whatever its name, as by the original. */
        if (canonical == -2) {
            if (decode_name(app_dir, name) != 0) {
                snprintf(err, err_len,
                         "on-disk key info manager: %s/%s: folder name is not base64 of an "
                         "application name",
                         s->root, app_dir);
                rc = -1;
                break;
            }
            canonical = parse_provider_dir(prov_dir, &id);
        }
        if (canonical < 0) {
            snprintf(err, err_len,
                     "on-disk key info manager: %s/%s: folder name is not a provider id", s->root,
                     rel);
            rc = -1;
            break;
        }
        if (decode_name(de->d_name, name) != 0) {
            snprintf(err, err_len,
                     "on-disk key info manager: %s/%s/%s: file name is not base64 of a key name",
                     s->root, rel, de->d_name);
            rc = -1;
            break;
        }
        if (canonical == 0) {
            log_warn(KIM_LOG,
                     "on-disk key info manager: ignoring %s/%s/%s: provider folder "
                     "names other than 0-5 are not looked up",
                     s->root, rel, de->d_name);
            continue;
        }
        (*count)++;
    }
    if (rc == 0 && errno != 0) {
        snprintf(err, err_len, "on-disk key info manager: cannot list %s/%s: %s", s->root, rel,
                 strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

/* §6.3 rules 2-3: every application folder. */
static int check_tree(struct ondisk_store *s, size_t *count, char *err, size_t err_len)
{
    DIR *root = open_dir(s->root_fd, ".");
    struct dirent *de, *pe;
    int rc = 0;

    if (root == NULL) {
        snprintf(err, err_len, "on-disk key info manager: cannot list %s: %s", s->root,
                 strerror(errno));
        return -1;
    }
    while (rc == 0 && (errno = 0, de = readdir(root)) != NULL) {
        DIR *app;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            entry_type(dirfd(root), de->d_name) != S_IFDIR)
            continue;
        app = open_dir(dirfd(root), de->d_name);
        if (app == NULL)
            continue;
        while (rc == 0 && (errno = 0, pe = readdir(app)) != NULL) {
            if (strcmp(pe->d_name, ".") == 0 || strcmp(pe->d_name, "..") == 0 ||
                entry_type(dirfd(app), pe->d_name) != S_IFDIR)
                continue;
            rc = check_provider_dir(s, dirfd(app), de->d_name, pe->d_name, count, err, err_len);
        }
        if (rc == 0 && errno != 0) {
            snprintf(err, err_len, "on-disk key info manager: cannot list %s/%s: %s", s->root,
                     de->d_name, strerror(errno));
            rc = -1;
        }
        closedir(app);
    }
    if (rc == 0 && errno != 0) {
        snprintf(err, err_len, "on-disk key info manager: cannot list %s: %s", s->root,
                 strerror(errno));
        rc = -1;
    }
    closedir(root);
    return rc;
}

static void ondisk_close(void *p)
{
    struct ondisk_store *s = p;
    if (s == NULL)
        return;
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s->root);
    free(s);
}

int kim_ondisk_open(const char *root, uint8_t default_auth, void **out, char *err, size_t err_len)
{
    struct ondisk_store *s = calloc(1, sizeof(*s));
    size_t count = 0;
    int rc = PSC_KEY_INFO_MANAGER_ERROR;

    *out = NULL;
    if (s == NULL || (s->root = strdup(root)) == NULL) {
        free(s);
        snprintf(err, err_len, "out of memory");
        return PSC_PSA_INSUFFICIENT_MEMORY;
    }
    s->root_fd = -1;
    s->default_auth = default_auth;
    /* The folder is created private; one that existed keeps its mode, as long as no other
     * user can change it. */
    s->root_fd =
        fst_dir("on-disk key info manager: mappings folder", root, DIR_MODE, NULL, err, err_len);
    if (s->root_fd < 0)
        goto out;
    if ((mkdirat(s->root_fd, INTERNAL_DIR, DIR_MODE) != 0 && errno != EEXIST) ||
        fchmodat(s->root_fd, INTERNAL_DIR, DIR_MODE, 0) != 0) {
        snprintf(err, err_len, "on-disk key info manager: cannot create %s/%s: %s", root,
                 INTERNAL_DIR, strerror(errno));
        goto out;
    }
    if (check_internal(s, err, err_len) != 0 || check_tree(s, &count, err, err_len) != 0)
        goto out;
    log_info(KIM_LOG, "on-disk key info manager: %zu mapping files in %s", count, root);
    *out = s;
    s = NULL;
    rc = 0;
out:
    ondisk_close(s);
    return rc;
}

const struct kim_store_ops kim_ondisk_ops = {
    .get = ondisk_get,
    .insert = ondisk_insert,
    .replace = ondisk_replace,
    .remove = ondisk_remove,
    .exists = ondisk_exists,
    .list = ondisk_list,
    .close = ondisk_close,
};
