/* Another local user against the service's folders and socket (docs/threat-model.md, "The
 * file system"). Two real users are created with useradd: A runs the daemon, B is the other
 * user, who pre-creates folders the daemon might use. Needs root (to create the users and act
 * as them); skipped otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "wire/opcode.h"

/* Bound on the wait for a daemon to be ready or to exit: generous, it runs sanitized. */
#define WAIT_STEPS 12000 /* of 10 ms */
/* A path built from one of in_base's. */
#define BUF 1024

struct user {
    char name[32];
    uid_t uid;
    gid_t gid;
};

static struct user A, B;
static char base[64];
static int usable;

/* A daemon run as a user, with its own environment. */
struct run {
    pid_t pid;
    char log[PATH_MAX];
};

static struct run cur; /* killed by the teardown if a test failed with it running */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[PATH_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    (void)!system(cmd);
}

static int add_user(struct user *u, const char *tag)
{
    snprintf(u->name, sizeof(u->name), "pfst%s%ld", tag, (long)getpid());
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "useradd -M -N -d /nonexistent -s /usr/sbin/nologin %s", u->name);
    if (system(cmd) != 0)
        return -1;
    struct passwd *pw = getpwnam(u->name);
    if (!pw)
        return -1;
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        fprintf(stderr, "test_fs_trust: not root: cannot create the second user these tests "
                        "need; skipping them\n");
        return 0;
    }
    if (add_user(&A, "a") != 0 || add_user(&B, "b") != 0) {
        fprintf(stderr, "test_fs_trust: useradd failed; skipping\n");
        return 0;
    }
    snprintf(base, sizeof(base), "/tmp/parsec-fst-XXXXXX");
    if (!mkdtemp(base) || chmod(base, 0755) != 0)
        return -1;
    usable = 1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (base[0])
        sh("rm -rf '%s'", base);
    if (A.name[0])
        sh("userdel %s", A.name);
    if (B.name[0])
        sh("userdel %s", B.name);
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    if (cur.pid > 0) {
        kill(cur.pid, SIGKILL);
        waitpid(cur.pid, NULL, 0);
    }
    memset(&cur, 0, sizeof(cur));
    return 0;
}

static const char *in_base(const char *rel)
{
    static char buf[8][256];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, sizeof(buf[0]), "%s/%s", base, rel);
    return b;
}

/* A folder made by who, with mode. */
static const char *folder(const char *rel, const struct user *who, mode_t mode)
{
    const char *p = in_base(rel);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(chown(p, who ? who->uid : 0, who ? who->gid : 0), 0);
    assert_int_equal(chmod(p, mode), 0);
    return p;
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* A configuration file readable by A. key_store NULL: none (the working directory). */
static const char *config(const char *rel, const char *sock, const char *db, const char *key_store)
{
    const char *p = in_base(rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f,
            "[core_settings]\nallow_root = true\nthread_pool_size = 2\nlog_level = \"info\"\n"
            "[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 500\n"
            "socket_path = \"%s\"\n"
            "[authenticator]\nauth_type = \"Direct\"\n"
            "[[key_manager]]\nname = \"sqlite-manager\"\nmanager_type = \"SQLite\"\n"
            "sqlite_db_path = \"%s\"\n"
            "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"sqlite-manager\"\n",
            sock, db);
    if (key_store)
        fprintf(f, "key_store_path = \"%s\"\n", key_store);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, 0644), 0);
    return p;
}

/* Starts the daemon as who (NULL: root) in cwd, on cfg (NULL: embedded defaults), with only
 * the given environment (NULL-terminated) besides PATH and the sanitizers' options. */
static void start(const struct user *who, const char *cwd, const char *cfg, const char *env[])
{
    static int n;
    snprintf(cur.log, sizeof(cur.log), "%s/daemon-%d.log", base, n++);
    const char *envp[32];
    size_t k = 0;
    static char keep[4][512];
    const char *pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
    envp[k++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    envp[k++] = "PARSEC_LOG=info"; /* "Parsec is ready." on the embedded defaults too */
    for (size_t i = 0; pass[i]; i++) {
        const char *v = getenv(pass[i]);
        int set_here = 0;
        for (size_t j = 0; env && env[j]; j++)
            set_here |= strncmp(env[j], pass[i], strlen(pass[i])) == 0;
        if (v && !set_here) {
            snprintf(keep[i], sizeof(keep[i]), "%s=%s", pass[i], v);
            envp[k++] = keep[i];
        }
    }
    for (size_t j = 0; env && env[j] && k < 31; j++)
        envp[k++] = env[j];
    envp[k] = NULL;
    cur.pid = fork();
    assert_true(cur.pid >= 0);
    if (cur.pid == 0) {
        int fd = open(cur.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(cwd) != 0)
            _exit(126);
        if (who && (setgroups(0, NULL) != 0 || setgid(who->gid) != 0 || setuid(who->uid) != 0))
            _exit(125);
        if (cfg)
            execle(PARSEC_BIN, "parsec", "-c", cfg, (char *)NULL, envp);
        else
            execle(PARSEC_BIN, "parsec", (char *)NULL, envp);
        _exit(127);
    }
}

static int log_has(const char *s)
{
    FILE *f = fopen(cur.log, "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, s) != NULL;
    fclose(f);
    return found;
}

static void show_log(void)
{
    sh("cat '%s' >&2", cur.log);
}

/* 1 once the daemon is ready, 0 once it exited (with a failure status). */
static int outcome(void)
{
    for (int i = 0; i < WAIT_STEPS; i++) {
        int st;
        if (waitpid(cur.pid, &st, WNOHANG) == cur.pid) {
            cur.pid = 0;
            assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
            return 0;
        }
        if (log_has("Parsec is ready."))
            return 1;
        usleep(10000);
    }
    fail_msg("the daemon neither started nor exited");
    return -1;
}

static void stop(void)
{
    kill(cur.pid, SIGTERM);
    waitpid(cur.pid, NULL, 0);
    cur.pid = 0;
}

/* The daemon must refuse to start, saying each of the words. */
static void expect_refusal(const char *w1, const char *w2)
{
    if (outcome() != 0) {
        show_log();
        fail_msg("the daemon started; it should have refused (%s %s)", w1, w2);
    }
    if (!log_has(w1) || !log_has(w2)) {
        show_log();
        fail_msg("the refusal does not say \"%s\" and \"%s\"", w1, w2);
    }
}

static void expect_ready(void)
{
    if (outcome() != 1) {
        show_log();
        fail_msg("the daemon did not start");
    }
}

/* A Ping over path, as who: 0 when it was answered with success. */
static int ping_as(const struct user *who, const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(who->gid) != 0 || setuid(who->uid) != 0)
            _exit(2);
        uint8_t req[PSC_WIRE_HEADER_SIZE];
        struct psc_header h = e2e_header(0, PSC_OP_PING, 0), rsp;
        psc_header_encode(&h, req);
        uint8_t *body = NULL;
        _exit(e2e_raw(path, req, sizeof(req), &rsp, &body) == 0 && rsp.status == 0 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

/* No state folder named: no falling back to /tmp/parsec-<uid>, which B made first, open to
 * all, so as to replace the socket and read the next client's imported private key. */
static void no_fallback_into_tmp(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *cwd = folder("tmp-a", &A, 0700);
    char trap[64];
    snprintf(trap, sizeof(trap), "/tmp/parsec-%u", (unsigned)A.uid);
    sh("rm -rf '%s'", trap);
    assert_int_equal(mkdir(trap, 0777), 0);
    assert_int_equal(chown(trap, B.uid, B.gid), 0);
    assert_int_equal(chmod(trap, 0777), 0);
    start(&A, cwd, NULL, NULL);
    expect_refusal("PARSEC_STATE_DIR", "no state folder");
    char sock[128];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", trap);
    assert_int_equal(access(sock, F_OK), -1);
    sh("rm -rf '%s'", trap);
}

/* A state folder B made (open to all), or one of A's inside a folder of B's, is refused. */
static void state_folder_of_another_user(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *cwd = folder("state-a", &A, 0700);
    folder("state-b", &B, 0777);
    const char *theirs = folder("state-b/parsec", &B, 0777);
    char env[PATH_MAX + 32];
    snprintf(env, sizeof(env), "PARSEC_STATE_DIR=%s", theirs);
    const char *envs[] = {env, NULL};
    start(&A, cwd, NULL, envs);
    char why[64];
    snprintf(why, sizeof(why), "is owned by uid %u", (unsigned)B.uid);
    expect_refusal(theirs, why);
    assert_int_equal(access(in_base("state-b/parsec/parsec.sock"), F_OK), -1);

    /* A's own folder, but B could rename it away and put another in its place. */
    const char *mine = folder("state-b/mine", &A, 0700);
    snprintf(env, sizeof(env), "PARSEC_STATE_DIR=%s", mine);
    start(&A, cwd, NULL, envs);
    expect_refusal(mine, "a folder above it must be owned by root");
}

/* A socket folder B can write: B could swap the socket for one of its own. */
static void socket_folder_of_another_user(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *cwd = folder("sock-a", &A, 0700);
    folder("sock-b", &B, 0777);
    char sock[BUF], db[BUF], keys[BUF];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", in_base("sock-b"));
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", cwd);
    snprintf(keys, sizeof(keys), "%s/keys", cwd);
    const char *cfg = config("sock-a.toml", sock, db, keys);
    start(&A, cwd, cfg, NULL);
    char why[64];
    snprintf(why, sizeof(why), "is owned by uid %u", (unsigned)B.uid);
    expect_refusal("socket folder", why);
    assert_int_equal(access(sock, F_OK), -1);

    /* A's, but open to all. */
    const char *open = folder("sock-a/open", &A, 0777);
    snprintf(sock, sizeof(sock), "%s/parsec.sock", open);
    cfg = config("sock-a1.toml", sock, db, keys);
    start(&A, cwd, cfg, NULL);
    expect_refusal("socket folder", "can be written by other users (mode 0777)");
    assert_int_equal(access(sock, F_OK), -1);

    /* B's folder, not writable by others, with a folder of A's in it: still B's to rename. */
    assert_int_equal(chmod(in_base("sock-b"), 0755), 0);
    folder("sock-b/run", &A, 0755);
    snprintf(sock, sizeof(sock), "%s/parsec.sock", in_base("sock-b/run"));
    cfg = config("sock-a2.toml", sock, db, keys);
    start(&A, cwd, cfg, NULL);
    expect_refusal("socket folder", "a folder above it must be owned by root");
}

/* The socket gets its mode at bind, not by a chmod of its name afterwards: a link swapped in
 * between would have the service change the mode of the link's target. */
static void socket_mode_without_chmod_by_name(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *dir = folder("bind-a", &A, 0755);
    const char *run = folder("bind-a/run", &A, 0755);
    char sock[BUF], db[BUF], keys[BUF], secret[BUF], fifo[BUF], link[BUF];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", run);
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", dir);
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    snprintf(secret, sizeof(secret), "%s/secret", dir);
    snprintf(fifo, sizeof(fifo), "%s/pause", base);
    snprintf(link, sizeof(link), "%s/link", run);
    int fd = open(secret, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, A.uid, A.gid), 0);
    close(fd);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(chown(fifo, A.uid, A.gid), 0);
    const char *cfg = config("bind-a.toml", sock, db, keys);
    char pause_env[PATH_MAX + 32];
    snprintf(pause_env, sizeof(pause_env), "PARSEC_TEST_BIND_PAUSE=%s", fifo);
    /* A sanitized daemon would refuse a library preloaded before its runtime. */
    char asan[512];
    const char *outer = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%sverify_asan_link_order=0", outer ? outer : "",
             outer && *outer ? ":" : "");
    const char *envs[] = {"LD_PRELOAD=" BIND_PAUSE_LIB, pause_env, asan, NULL};
    start(&A, dir, cfg, envs);

    /* The daemon holds right after bind until it can read a byte from the FIFO. */
    int w = -1;
    for (int i = 0; i < WAIT_STEPS && w < 0; i++) {
        w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (w < 0) {
            assert_int_equal(errno, ENXIO);
            assert_int_equal(waitpid(cur.pid, NULL, WNOHANG), 0);
            usleep(10000);
        }
    }
    assert_true(w >= 0);
    struct stat st;
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    /* What a user able to write the folder would do in that window. */
    assert_int_equal(symlink(secret, link), 0);
    assert_int_equal(rename(link, sock), 0);
    assert_int_equal(write(w, "g", 1), 1);
    close(w);
    expect_ready();
    stop();
    assert_int_equal(mode_of(secret), 0600);
    /* The socket had the mode every client needs from the start. */
    assert_int_equal(st.st_mode & 07777, 0666);
}

/* The working directory is the default key store: it keeps its mode; a shared one (like /tmp,
 * or a key store open to others) is refused, and left as it was. */
static void working_directory_not_chmodded(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *cwd = folder("cwd-a", &A, 0755);
    char sock[BUF], db[BUF];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", cwd);
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", cwd);
    const char *cfg = config("cwd-a.toml", sock, db, NULL);
    start(&A, cwd, cfg, NULL);
    expect_ready();
    stop();
    assert_int_equal(mode_of(cwd), 0755);

    /* A root daemon started in a /tmp-like folder. */
    const char *shared = folder("shared", NULL, 01777);
    const char *root_dir = folder("cwd-root", NULL, 0700);
    snprintf(sock, sizeof(sock), "%s/parsec.sock", root_dir);
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", root_dir);
    cfg = config("cwd-root.toml", sock, db, NULL);
    start(NULL, shared, cfg, NULL);
    expect_refusal("key store", "can be written by other users (mode 1777)");
    assert_int_equal(mode_of(shared), 01777);

    /* A configured key store that already exists, open to all. */
    const char *keys = folder("cwd-a/keys", &A, 0777);
    snprintf(sock, sizeof(sock), "%s/parsec.sock", cwd);
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", cwd);
    cfg = config("cwd-a2.toml", sock, db, keys);
    start(&A, cwd, cfg, NULL);
    expect_refusal(keys, "can be written by other users (mode 0777)");
    assert_int_equal(mode_of(keys), 0777);
}

/* A socket folder the service creates can be crossed by the clients of other users. */
static void created_socket_folder_reachable(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *dir = folder("pub-a", &A, 0755);
    char sock[BUF], db[BUF], keys[BUF], run[BUF / 2];
    snprintf(run, sizeof(run), "%s/run/parsec", dir);
    snprintf(sock, sizeof(sock), "%s/parsec.sock", run);
    snprintf(db, sizeof(db), "%s/state/kim/db.sqlite3", dir);
    snprintf(keys, sizeof(keys), "%s/state/keys", dir);
    const char *cfg = config("pub-a.toml", sock, db, keys);
    start(&A, dir, cfg, NULL);
    expect_ready();
    assert_int_equal(mode_of(run), 0755);
    assert_int_equal(mode_of(in_base("pub-a/run")), 0755);
    /* State folders it creates stay private. */
    assert_int_equal(mode_of(in_base("pub-a/state")), 0700);
    assert_int_equal(mode_of(keys), 0700);
    assert_int_equal(ping_as(&B, sock), 0);
    stop();
}

/* The documented layout: the socket folder is the service user's, 0750 with the clients'
 * group, below root's folders. It is accepted as it is. */
static void documented_layout_accepted(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *lib = folder("var-lib-parsec", &A, 0700);
    const char *run = folder("run-parsec", &A, 0750);
    assert_int_equal(chown(run, A.uid, B.gid), 0);
    assert_int_equal(chmod(run, 0750), 0);
    char sock[BUF], db[BUF];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", run);
    snprintf(db, sizeof(db), "%s/kim-mappings/sqlite/db.sqlite3", lib);
    const char *cfg = config("layout.toml", sock, db, NULL);
    start(&A, lib, cfg, NULL);
    expect_ready();
    assert_int_equal(mode_of(run), 0750);
    assert_int_equal(mode_of(lib), 0700);
    assert_int_equal(ping_as(&B, sock), 0);
    stop();
}

/* A reload that moves the socket into a folder another user can write is refused like a
 * start; the running socket keeps serving. */
static void reload_into_untrusted_folder(void **state)
{
    (void)state;
    if (!usable)
        skip();
    const char *dir = folder("reload-a", &A, 0755);
    folder("reload-b", &B, 0777);
    char sock[BUF], sock2[BUF], db[BUF];
    snprintf(sock, sizeof(sock), "%s/parsec.sock", dir);
    snprintf(sock2, sizeof(sock2), "%s/parsec.sock", in_base("reload-b"));
    snprintf(db, sizeof(db), "%s/kim/db.sqlite3", dir);
    const char *cfg = config("reload.toml", sock, db, NULL);
    start(&A, dir, cfg, NULL);
    expect_ready();
    config("reload.toml", sock2, db, NULL);
    kill(cur.pid, SIGHUP);
    int i;
    for (i = 0; i < WAIT_STEPS && !log_has("configuration reload failed"); i++) {
        assert_false(log_has("Parsec configuration reloaded."));
        usleep(10000);
    }
    if (i == WAIT_STEPS) {
        show_log();
        fail_msg("the reload was neither refused nor done");
    }
    assert_true(log_has("socket folder"));
    assert_int_equal(access(sock2, F_OK), -1);
    assert_int_equal(ping_as(&A, sock), 0);
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(no_fallback_into_tmp, test_teardown),
        cmocka_unit_test_teardown(state_folder_of_another_user, test_teardown),
        cmocka_unit_test_teardown(socket_folder_of_another_user, test_teardown),
        cmocka_unit_test_teardown(socket_mode_without_chmod_by_name, test_teardown),
        cmocka_unit_test_teardown(working_directory_not_chmodded, test_teardown),
        cmocka_unit_test_teardown(created_socket_folder_reachable, test_teardown),
        cmocka_unit_test_teardown(documented_layout_accepted, test_teardown),
        cmocka_unit_test_teardown(reload_into_untrusted_folder, test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
