#define _GNU_SOURCE
#include "service/fs_trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Folders are opened only to be checked and walked through: O_PATH needs no read permission,
 * so a traverse-only folder above (mode 0711, or 0750 to a group member) is fine, and a
 * folder that fails the check is refused for that reason, not for a failed open. */
#define WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct walk {
    const char *what; /* for messages */
    const char *path; /* as given */
    uid_t euid;
    char todo[PATH_MAX];  /* what is left to walk, absolute */
    char canon[PATH_MAX]; /* physical path of the folder reached; "" for "/" */
    char *err;
    size_t err_len;
};

static int refuse(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct walk *w, const char *fmt, ...)
{
    char why[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(w->err, w->err_len, "%s %s is refused: %s", w->what, w->path, why);
    return -1;
}

static const char *shown(const char *canon)
{
    return canon[0] ? canon : "/";
}

/* The rules of the header comment, for the folder at canon. */
static int check(struct walk *w, const struct stat *st, int final)
{
    const char *p = shown(w->canon);
    unsigned mode = (unsigned)(st->st_mode & 07777);

    if (!S_ISDIR(st->st_mode))
        return refuse(w, "%s is not a folder", p);
    if (final) {
        if (st->st_uid != w->euid)
            return refuse(w, "%s is owned by uid %u, not by the service's user (uid %u)", p,
                          (unsigned)st->st_uid, (unsigned)w->euid);
        if (mode & 022)
            return refuse(w, "%s can be written by other users (mode %04o)", p, mode);
        return 0;
    }
    if (st->st_uid != 0 && st->st_uid != w->euid)
        return refuse(w,
                      "%s is owned by uid %u; a folder above it must be owned by root or by "
                      "the service's user (uid %u)",
                      p, (unsigned)st->st_uid, (unsigned)w->euid);
    if ((mode & 022) && !(mode & S_ISVTX))
        return refuse(w, "%s, above it, can be written by other users (mode %04o, no sticky bit)",
                      p, mode);
    return 0;
}

/* Replaces todo with prefix + tail (tail may point into todo). */
static int set_todo(struct walk *w, const char *prefix, const char *tail)
{
    char next[PATH_MAX];
    if ((size_t)snprintf(next, sizeof(next), "%s%s", prefix, tail) >= sizeof(next))
        return refuse(w, "the path is too long once its links are followed");
    memcpy(w->todo, next, strlen(next) + 1);
    return 0;
}

/* Creates folder name in dfd and opens it, with exactly the given mode (the umask would
 * narrow it). Returns -1 with errno set if it appeared meanwhile, -2 once refused. */
static int make(struct walk *w, int dfd, const char *name, mode_t mode)
{
    if (mkdirat(dfd, name, 0700) != 0) {
        if (errno == EEXIST)
            return openat(dfd, name, WALK_FLAGS);
        refuse(w, "cannot create %s/%s: %s", w->canon, name, strerror(errno));
        return -2;
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        refuse(w, "cannot open %s/%s: %s", w->canon, name, strerror(errno));
        return -2;
    }
    if (fchmod(fd, mode) != 0) {
        refuse(w, "cannot set the mode of %s/%s: %s", w->canon, name, strerror(errno));
        close(fd);
        return -2;
    }
    return fd;
}

/* One step of the walk: opens name in dfd, following a link above the last component by
 * rewriting todo (returns -2 then: walk again from the root). */
static int step(struct walk *w, int dfd, const char *name, const char *rest, int last,
                mode_t create_mode, int *links)
{
    int fd = openat(dfd, name, WALK_FLAGS);
    if (fd < 0 && errno == ENOENT && create_mode) {
        fd = make(w, dfd, name, create_mode);
        if (fd == -2)
            return -1;
    }
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat ls;
    if ((e != ELOOP && e != ENOTDIR) || fstatat(dfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(ls.st_mode)) {
        if (e == ENOTDIR)
            return refuse(w, "%s/%s is not a folder", w->canon, name);
        return refuse(w, "cannot open %s/%s: %s", w->canon, name, strerror(e));
    }
    if (last)
        return refuse(w, "%s/%s is a symbolic link", w->canon, name);
    if (++*links > FST_MAX_LINKS)
        return refuse(w, "more than %d symbolic links", FST_MAX_LINKS);
    char target[PATH_MAX];
    ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
    if (n <= 0)
        return refuse(w, "cannot read link %s/%s: %s", w->canon, name,
                      n < 0 ? strerror(errno) : "empty");
    target[n] = '\0';
    char prefix[2 * PATH_MAX];
    if (target[0] == '/')
        snprintf(prefix, sizeof(prefix), "%s", target);
    else
        snprintf(prefix, sizeof(prefix), "%s/%s", w->canon, target);
    if (strlen(prefix) >= PATH_MAX)
        return refuse(w, "the path is too long once its links are followed");
    return set_todo(w, prefix, rest) == 0 ? -2 : -1;
}

static int walk(struct walk *w, mode_t create_mode)
{
    int fd = -1, links = 0;
    struct stat st;

again:
    if (fd >= 0)
        close(fd);
    w->canon[0] = '\0';
    fd = open("/", WALK_FLAGS);
    if (fd < 0)
        return refuse(w, "cannot open /: %s", strerror(errno));
    const char *p = w->todo;
    for (;;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        const char *rest = end;
        while (*rest == '/')
            rest++;
        int last = *rest == '\0';
        size_t n = (size_t)(end - p);
        if (fstat(fd, &st) != 0 || check(w, &st, n == 0) != 0)
            goto fail;
        if (n == 0) {
            int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (rfd < 0)
                refuse(w, "cannot open %s: %s", shown(w->canon), strerror(errno));
            close(fd);
            return rfd;
        }
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            refuse(w, "a component is longer than %d bytes", NAME_MAX);
            goto fail;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (strcmp(name, ".") == 0) {
            p = end;
            continue;
        }
        if (strcmp(name, "..") == 0) {
            /* canon has no link in it, so its parent is the physical parent. */
            char parent[PATH_MAX];
            snprintf(parent, sizeof(parent), "%s", w->canon);
            char *slash = strrchr(parent, '/');
            if (slash)
                *slash = '\0';
            if (set_todo(w, parent, end) != 0)
                goto fail;
            goto again;
        }
        int next = step(w, fd, name, end, last, create_mode, &links);
        if (next == -2)
            goto again;
        if (next < 0)
            goto fail;
        close(fd);
        fd = next;
        size_t c = strlen(w->canon);
        if (c + 1 + n >= sizeof(w->canon)) {
            refuse(w, "the path is too long");
            goto fail;
        }
        w->canon[c] = '/';
        memcpy(w->canon + c + 1, name, n + 1);
        p = end;
    }
fail:
    close(fd);
    return -1;
}

int fst_dir(const char *what, const char *path, mode_t create_mode, char **canon, char *err,
            size_t err_len)
{
    struct walk w = {.what = what, .path = path, .euid = geteuid(), .err = err, .err_len = err_len};
    char cwd[PATH_MAX];
    int n;

    if (canon)
        *canon = NULL;
    if (!*path)
        return refuse(&w, "the path is empty");
    if (path[0] == '/') {
        n = snprintf(w.todo, sizeof(w.todo), "%s", path);
    } else {
        if (!getcwd(cwd, sizeof(cwd)))
            return refuse(&w, "cannot read the working directory: %s", strerror(errno));
        n = snprintf(w.todo, sizeof(w.todo), "%s/%s", cwd, path);
    }
    if (n < 0 || (size_t)n >= sizeof(w.todo))
        return refuse(&w, "the path is too long");
    int fd = walk(&w, create_mode);
    if (fd >= 0 && canon && !(*canon = strdup(shown(w.canon)))) {
        snprintf(err, err_len, "out of memory");
        close(fd);
        return -1;
    }
    return fd;
}
