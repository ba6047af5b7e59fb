/* fst_dir: which folders the service trusts, on real folders. Cases about folders of another
 * user need root (to chown to a uid nobody has) and are skipped otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "service/fs_trust.h"

/* A uid no account has: the "other user" of these tests. */
#define OTHER_UID 54321

struct t {
    char dir[64]; /* mkdtemp: ours, 0700 */
};

static char *at(struct t *t, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", t->dir, rel);
    return b;
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/test-fst-XXXXXX");
    if (!t || !mkdtemp(t->dir))
        return -1;
    *state = t;
    return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static int teardown(void **state)
{
    struct t *t = *state;
    nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

/* fst_dir succeeds; returns the physical path (freed by the caller). */
static char *ok(const char *path, mode_t mode)
{
    char err[1024] = "", *canon = NULL;
    int fd = fst_dir("folder", path, mode, &canon, err, sizeof(err));
    if (fd < 0)
        fail_msg("%s refused: %s", path, err);
    /* A descriptor to read the folder with. */
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat(canon, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    close(fd);
    return canon;
}

/* fst_dir refuses, saying what. */
static void refused(const char *path, mode_t mode, const char *what)
{
    char err[1024] = "", *canon = (char *)1;
    assert_int_equal(fst_dir("folder", path, mode, &canon, err, sizeof(err)), -1);
    assert_null(canon);
    if (!strstr(err, what) || !strstr(err, path))
        fail_msg("message \"%s\" lacks \"%s\" or the path", err, what);
}

static void creates_with_exact_mode(void **state)
{
    struct t *t = *state;
    mode_t old = umask(077);
    free(ok(at(t, "a/b/c"), 0755));
    umask(old);
    assert_int_equal(mode_of(at(t, "a")), 0755);
    assert_int_equal(mode_of(at(t, "a/b/c")), 0755);
    free(ok(at(t, "p/q"), 0700));
    assert_int_equal(mode_of(at(t, "p")), 0700);
    /* Nothing created without a mode. */
    refused(at(t, "none"), 0, "No such file");
    assert_int_equal(access(at(t, "none"), F_OK), -1);
}

static void existing_keeps_its_mode(void **state)
{
    struct t *t = *state;
    assert_int_equal(mkdir(at(t, "open"), 0), 0);
    chmod(at(t, "open"), 0755);
    free(ok(at(t, "open"), 0700));
    assert_int_equal(mode_of(at(t, "open")), 0755);
    /* Writable by others: refused, and left as it is. */
    chmod(at(t, "open"), 0775);
    refused(at(t, "open"), 0700, "can be written by other users (mode 0775)");
    chmod(at(t, "open"), 01777);
    refused(at(t, "open"), 0700, "can be written by other users (mode 1777)");
    assert_int_equal(mode_of(at(t, "open")), 01777);
    /* A file where a folder is wanted. */
    int fd = open(at(t, "file"), O_CREAT | O_WRONLY, 0600);
    close(fd);
    refused(at(t, "file"), 0700, "is not a folder");
    refused(at(t, "file/below"), 0700, "is not a folder");
}

static void ancestors(void **state)
{
    struct t *t = *state;
    /* Sticky and world-writable above (like /tmp): fine, the folder inside is ours. */
    assert_int_equal(mkdir(at(t, "tmp"), 0700), 0);
    chmod(at(t, "tmp"), 01777);
    free(ok(at(t, "tmp/ours"), 0700));
    /* Without the sticky bit anyone could rename what is inside. */
    chmod(at(t, "tmp"), 0777);
    refused(at(t, "tmp/ours"), 0700, "above it, can be written by other users (mode 0777");
    chmod(at(t, "tmp"), 0770);
    refused(at(t, "tmp/ours"), 0700, "no sticky bit");
    chmod(at(t, "tmp"), 0711);
    free(ok(at(t, "tmp/ours"), 0700));
}

static void symbolic_links(void **state)
{
    struct t *t = *state;
    free(ok(at(t, "real/store"), 0700));
    /* The folder itself must not be a link. */
    assert_int_equal(symlink(at(t, "real/store"), at(t, "store-link")), 0);
    refused(at(t, "store-link"), 0700, "is a symbolic link");
    /* Links above it are followed, the physical path is what is checked and returned. */
    assert_int_equal(symlink("real", at(t, "rel-link")), 0);
    char *c = ok(at(t, "rel-link/store"), 0700);
    assert_string_equal(c, at(t, "real/store"));
    free(c);
    assert_int_equal(symlink(at(t, "real"), at(t, "abs-link")), 0);
    c = ok(at(t, "abs-link/./store/../store/"), 0);
    assert_string_equal(c, at(t, "real/store"));
    free(c);
    assert_int_equal(access(at(t, "real/x"), F_OK), -1);
    /* A link through an open folder is refused there, wherever it points. */
    assert_int_equal(mkdir(at(t, "open"), 0700), 0);
    chmod(at(t, "open"), 0777);
    assert_int_equal(symlink(at(t, "real"), at(t, "open/link")), 0);
    refused(at(t, "open/link/store"), 0700, "can be written by other users");
    /* Loops end. */
    assert_int_equal(symlink("loop", at(t, "loop")), 0);
    refused(at(t, "loop/x"), 0700, "symbolic links");
    /* The parent of a link's target is the physical one. */
    assert_int_equal(symlink("real/store", at(t, "deep")), 0);
    c = ok(at(t, "deep/.."), 0);
    assert_string_equal(c, at(t, "real"));
    free(c);
}

static void relative_and_empty(void **state)
{
    struct t *t = *state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(t->dir), 0);
    char *c = ok("rel/dir", 0700);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(c, at(t, "rel/dir"));
    free(c);
    refused("", 0700, "empty");
}

static void other_users(void **state)
{
    struct t *t = *state;
    if (geteuid() != 0)
        skip();
    /* A folder someone else made first: refused, whatever its mode. */
    assert_int_equal(mkdir(at(t, "theirs"), 0700), 0);
    assert_int_equal(chown(at(t, "theirs"), OTHER_UID, OTHER_UID), 0);
    chmod(at(t, "theirs"), 0777);
    refused(at(t, "theirs"), 0700, "is owned by uid 54321, not by the service's user (uid 0)");
    chmod(at(t, "theirs"), 0755);
    refused(at(t, "theirs"), 0700, "is owned by uid 54321");
    assert_int_equal(mode_of(at(t, "theirs")), 0755);
    /* Above ours, it could be renamed away: refused too. */
    assert_int_equal(mkdir(at(t, "theirs/ours"), 0700), 0);
    refused(at(t, "theirs/ours"), 0700, "a folder above it must be owned by root");
    /* Even through a link. */
    assert_int_equal(symlink(at(t, "theirs"), at(t, "link")), 0);
    refused(at(t, "link/ours"), 0700, "is owned by uid 54321");
    /* Nothing was created in a refused place. */
    refused(at(t, "theirs/new"), 0700, "is owned by uid 54321");
    assert_int_equal(access(at(t, "theirs/new"), F_OK), -1);
}

/* An ACL giving another user write access shows in the group bits (they become the ACL's
 * mask, which bounds every named entry): refused like a group-writable folder. */
static void acl_write_is_refused(void **state)
{
    struct t *t = *state;
    /* system.posix_acl_access, version 2: user::rwx user:OTHER_UID:rwx group::--- mask::rwx
     * other::--- (tag, permissions, id; little-endian). */
    /* clang-format off */
    static const uint8_t acl[] = {
        2, 0, 0, 0,                                                    /* version */
        0x01, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,                         /* user:: */
        0x02, 0, 7, 0, OTHER_UID & 0xff, (OTHER_UID >> 8) & 0xff, 0, 0, /* user:OTHER_UID: */
        0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,                         /* group:: */
        0x10, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,                         /* mask:: */
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,                         /* other:: */
    };
    /* clang-format on */
    assert_int_equal(mkdir(at(t, "acl"), 0700), 0);
    if (setxattr(at(t, "acl"), "system.posix_acl_access", acl, sizeof(acl), 0) != 0) {
        if (errno == EOPNOTSUPP || errno == ENOTSUP)
            skip();
        fail_msg("setxattr: %s", strerror(errno));
    }
    assert_int_equal(mode_of(at(t, "acl")), 0770);
    refused(at(t, "acl"), 0700, "can be written by other users (mode 0770)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_with_exact_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_keeps_its_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(ancestors, setup, teardown),
        cmocka_unit_test_setup_teardown(symbolic_links, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(other_users, setup, teardown),
        cmocka_unit_test_setup_teardown(acl_write_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
