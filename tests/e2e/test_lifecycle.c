/* The daemon as a process: signals, reloads, systemd notifications and socket activation, the
 * listening socket's set-up, and clients that connect and stay silent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "list_clients.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_key_attributes.pb-c.h"
#include "wire/opcode.h"
#include "wire/status.h"

static int ping(const char *sock)
{
    return e2e_call(sock, 0, PSC_OP_PING, NULL, NULL, NULL, NULL);
}

static char *config_with(const char *base, const char *find, const char *replace)
{
    const char *at = strstr(base, find);
    assert_non_null(at);
    char *out;
    assert_true(asprintf(&out, "%.*s%s%s", (int)(at - base), base, replace, at + strlen(find)) > 0);
    return out;
}

static void sigterm_and_sigint_exit_zero(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_true(daemon_log_contains(&d, "Parsec is now terminated."));
    daemon_cleanup(&d);
    daemon_start(&d, E2E_CONFIG_DIRECT);
    assert_int_equal(daemon_stop(&d, SIGINT), 0);
    daemon_cleanup(&d);
}

/* A request in flight when SIGTERM arrives is still answered. */
static void stop_finishes_in_flight(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    /* An RSA key generation takes long enough to still be running at the signal. */
    PsaKeyAttributes__KeyType kt = PSA_KEY_ATTRIBUTES__KEY_TYPE__INIT;
    PsaKeyAttributes__KeyType__RsaKeyPair rsa = PSA_KEY_ATTRIBUTES__KEY_TYPE__RSA_KEY_PAIR__INIT;
    kt.variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_KEY_PAIR;
    kt.rsa_key_pair = &rsa;
    PsaKeyAttributes__UsageFlags uf = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
    uf.sign_hash = 1;
    PsaAlgorithm__Algorithm alg = PSA_ALGORITHM__ALGORITHM__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature sig =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature__RsaPkcs1v15SignRaw raw =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__RSA_PKCS1V15_SIGN_RAW__INIT;
    sig.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN_RAW;
    sig.rsa_pkcs1v15_sign_raw = &raw;
    alg.variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE;
    alg.asymmetric_signature = &sig;
    PsaKeyAttributes__KeyPolicy pol = PSA_KEY_ATTRIBUTES__KEY_POLICY__INIT;
    pol.key_usage_flags = &uf;
    pol.key_algorithm = &alg;
    PsaKeyAttributes__KeyAttributes at = PSA_KEY_ATTRIBUTES__KEY_ATTRIBUTES__INIT;
    at.key_type = &kt;
    /* Under a memory checker RSA-2048 is already slow enough, and 4096 could outlast the
     * client's timeout. */
    at.key_bits = getenv("PARSEC_E2E_WRAPPER") ? 2048 : 4096;
    at.key_policy = &pol;
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    op.key_name = "slow";
    op.attributes = &at;
    size_t len;
    uint8_t *req = e2e_build(e2e_header(1, PSC_OP_PSA_GENERATE_KEY, PSC_AUTH_DIRECT), &op.base,
                             "app", 3, &len);
    int fd = e2e_connect(d.sock);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    free(req);
    /* Time for the daemon to accept and read it (longer under a memory checker). */
    usleep(getenv("PARSEC_E2E_WRAPPER") ? 500000 : 100000);
    kill(d.pid, SIGTERM);
    struct psc_header r;
    uint8_t *body;
    assert_int_equal(e2e_read_reply(fd, &r, &body), 0);
    free(body);
    close(fd);
    assert_int_equal(r.status, 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
}

static void reload_applies_and_failed_reload_keeps_serving(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    assert_int_equal(e2e_call(d.sock, 0, PSC_OP_LIST_CLIENTS, "newadmin", NULL, NULL, NULL),
                     PSC_ADMIN_OPERATION);
    char *cfg = config_with(E2E_CONFIG_DIRECT, "{ name = \"admin\" }",
                            "{ name = \"admin\" }, { name = \"newadmin\" }");
    daemon_write_config(&d, cfg);
    free(cfg);
    kill(d.pid, SIGHUP);
    int rc = PSC_ADMIN_OPERATION;
    for (int i = 0; i < 500 && rc != 0; i++) {
        usleep(10000);
        rc = e2e_call(d.sock, 0, PSC_OP_LIST_CLIENTS, "newadmin", NULL, NULL, NULL);
    }
    assert_int_equal(rc, 0);
    /* The line is written after the new configuration serves, so it may trail the call. */
    assert_true(daemon_wait_log(&d, "Parsec configuration reloaded.", 10000));

    /* A broken file: the service logs why and keeps serving on the previous configuration. */
    daemon_write_config(&d, "[core_settings]\nthis is not toml\n");
    kill(d.pid, SIGHUP);
    assert_true(daemon_wait_log(&d, "reload failed", 10000));
    assert_int_equal(ping(d.sock), 0);
    assert_int_equal(e2e_call(d.sock, 0, PSC_OP_LIST_CLIENTS, "newadmin", NULL, NULL, NULL), 0);
    /* A valid file whose provider cannot start (unknown key manager) is refused as well. */
    cfg = config_with(E2E_CONFIG_DIRECT, "key_info_manager = \"sqlite-manager\"",
                      "key_info_manager = \"nowhere\"");
    daemon_write_config(&d, cfg);
    free(cfg);
    kill(d.pid, SIGHUP);
    assert_true(daemon_wait_log(&d, "key manager 'nowhere'", 10000));
    assert_int_equal(ping(d.sock), 0);
    assert_int_equal(e2e_call(d.sock, 0, PSC_OP_LIST_CLIENTS, "newadmin", NULL, NULL, NULL), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
}

/* A reload that moves the socket: the new path serves, the old one is gone from service. */
static void reload_moves_socket(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    char *cfg = config_with(E2E_CONFIG_DIRECT, "@DIR@/parsec.sock", "@DIR@/run/other.sock");
    daemon_write_config(&d, cfg);
    free(cfg);
    kill(d.pid, SIGHUP);
    char other[400];
    snprintf(other, sizeof(other), "%s/run/other.sock", d.dir);
    int rc = -1;
    for (int i = 0; i < 500 && rc != 0; i++) {
        usleep(10000);
        if (access(other, F_OK) == 0)
            rc = ping(other);
    }
    assert_int_equal(rc, 0);
    /* The old socket is closed and its file removed. */
    for (int i = 0; i < 500 && access(d.sock, F_OK) == 0; i++)
        usleep(10000);
    assert_int_not_equal(access(d.sock, F_OK), 0);
    assert_int_equal(e2e_connect(d.sock), -1);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
}

/* Receives systemd notifications on a datagram socket. */
static int notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static int wait_notification(int fd, const char *want, char *got, size_t got_len)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            return 0;
        ssize_t n = recv(fd, got, got_len - 1, 0);
        if (n <= 0)
            return 0;
        got[n] = 0;
        if (strstr(got, want))
            return 1;
    }
}

static void systemd_notifications(void **state)
{
    (void)state;
    struct daemon d;
    daemon_prepare(&d, E2E_CONFIG_DIRECT);
    char path[400], env[420], msg[1024];
    snprintf(path, sizeof(path), "%s/notify", d.dir);
    int nfd = notify_socket(path);
    snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", path);
    char *envs[] = {env, NULL};
    assert_int_equal(daemon_launch(&d, envs), 0);
    assert_true(wait_notification(nfd, "READY=1", msg, sizeof(msg)));
    kill(d.pid, SIGHUP);
    assert_true(wait_notification(nfd, "RELOADING=1", msg, sizeof(msg)));
    assert_non_null(strstr(msg, "MONOTONIC_USEC="));
    assert_true(wait_notification(nfd, "READY=1", msg, sizeof(msg)));
    kill(d.pid, SIGTERM);
    assert_true(wait_notification(nfd, "STOPPING=1", msg, sizeof(msg)));
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    close(nfd);
    daemon_cleanup(&d);
}

/* systemd socket activation: the daemon serves the socket it is given on fd 3. */
static void socket_activation(void **state)
{
    (void)state;
    struct daemon d;
    daemon_prepare(&d, E2E_CONFIG_DIRECT);
    char act[400];
    snprintf(act, sizeof(act), "%s/activated.sock", d.dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(act) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, act, strlen(act) + 1);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 16), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(lfd, 3) < 0 || chdir(d.dir) != 0)
            _exit(126);
        char buf[64];
        snprintf(buf, sizeof(buf), "%d", (int)getpid());
        setenv("LISTEN_PID", buf, 1);
        setenv("LISTEN_FDS", "1", 1);
        int lg = open(d.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(lg, 2);
        execl(PARSEC_BIN, "parsec", "-c", d.cfg, (char *)NULL);
        _exit(127);
    }
    close(lfd);
    d.pid = pid;
    int rc = -1;
    for (int i = 0; i < 500 && rc != 0; i++) {
        usleep(10000);
        rc = ping(act);
    }
    assert_int_equal(rc, 0);
    /* The configured socket path was not created: the activated socket is the only one. */
    assert_int_not_equal(access(d.sock, F_OK), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
}

static void socket_path_handling(void **state)
{
    (void)state;
    struct daemon d;
    /* A missing parent folder is created; a stale socket is replaced. */
    char *cfg = config_with(E2E_CONFIG_DIRECT, "@DIR@/parsec.sock", "@DIR@/a/b/parsec.sock");
    daemon_prepare(&d, cfg);
    snprintf(d.sock, sizeof(d.sock), "%s/a/b/parsec.sock", d.dir);
    assert_int_equal(daemon_launch(&d, NULL), 0);
    assert_int_equal(daemon_stop(&d, SIGKILL), 128 + SIGKILL);
    struct stat st;
    assert_int_equal(stat(d.sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(daemon_launch(&d, NULL), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
    free(cfg);
    /* Something that is not a socket is never removed: start-up fails. */
    daemon_prepare(&d, E2E_CONFIG_DIRECT);
    FILE *f = fopen(d.sock, "w");
    fputs("precious", f);
    fclose(f);
    assert_int_equal(daemon_launch(&d, NULL), -1);
    assert_int_equal(stat(d.sock, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    /* One line says what to change in which file. */
    assert_int_equal(daemon_log_contains(&d, "change socket_path in [listener]"), 1);
    assert_int_equal(daemon_log_contains(&d, d.cfg), 1);
    daemon_cleanup(&d);
}

/* The lines of the daemon's log that contain s. */
static int log_lines_with(const struct daemon *d, const char *s)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, s) != NULL;
    fclose(f);
    return n;
}

/* A socket file nobody listens on, as a killed service leaves. */
static void make_stale_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
}

/* A start that fails after the socket was created (here: a provider this build does not have)
 * removes it, and says in one line what to change in which file, even with logging off. */
static void failed_start_removes_socket(void **state)
{
    (void)state;
    static const char *const env[][2] = {{NULL}, {"RUST_LOG=off"}};
    for (size_t i = 0; i < 2; i++) {
        struct daemon d;
        char *cfg = config_with(E2E_CONFIG_DIRECT, "provider_type = \"MbedCrypto\"",
                                "provider_type = \"TrustedService\"");
        daemon_prepare(&d, cfg);
        free(cfg);
        assert_int_equal(daemon_launch(&d, (char *const *)env[i]), -1);
        assert_int_not_equal(access(d.sock, F_OK), 0);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(log_lines_with(&d, "cannot start"), 1);
        char want[400];
        snprintf(want, sizeof(want), "cannot start with %s: provider \"", d.cfg);
        assert_int_equal(log_lines_with(&d, want), 1);
        assert_int_equal(log_lines_with(&d, "change its provider_type"), 1);
        daemon_cleanup(&d);
    }
}

/* Without RUST_LOG and log_level the service's warnings reach stderr, its information does
 * not; RUST_LOG=error hides the warnings as in the original. */
static void warnings_shown_by_default(void **state)
{
    (void)state;
    unsetenv("RUST_LOG");
    unsetenv("PARSEC_LOG");
    char *cfg = config_with(E2E_CONFIG_DIRECT, "log_level = \"info\"\n", "");
    struct daemon d;
    daemon_prepare(&d, cfg);
    free(cfg);
    make_stale_socket(d.sock);
    assert_int_equal(daemon_launch(&d, NULL), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_equal(log_lines_with(&d, "removing the existing socket"), 1);
    assert_true(log_lines_with(&d, "[WARN ") >= 1);
    assert_int_equal(log_lines_with(&d, "[INFO "), 0);

    char *const quiet[] = {"RUST_LOG=error", NULL};
    assert_int_equal(unlink(d.log), 0);
    if (access(d.sock, F_OK) != 0)
        make_stale_socket(d.sock);
    assert_int_equal(daemon_launch(&d, quiet), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_equal(log_lines_with(&d, "[WARN "), 0);
    daemon_cleanup(&d);
}

static void refuses_root_without_allow_root(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    struct daemon d;
    char *cfg = config_with(E2E_CONFIG_DIRECT, "allow_root = true", "allow_root = false");
    daemon_prepare(&d, cfg);
    free(cfg);
    assert_int_equal(daemon_launch(&d, NULL), -1);
    assert_true(daemon_log_contains(&d, "should not be running as root"));
    daemon_cleanup(&d);
}

/* Start-up errors name the file and line. */
static void bad_config_fails_with_line(void **state)
{
    (void)state;
    struct daemon d;
    daemon_prepare(&d, "[core_settings]\n[listener]\nlistener_type = \"DomainSocket\"\n"
                       "timeout = \"soon\"\n");
    assert_int_equal(daemon_launch(&d, NULL), -1);
    assert_true(daemon_log_contains(&d, "config.toml:4"));
    daemon_cleanup(&d);
}

/* More workers than descriptors allow: the start fails part-way through creating them, says
 * why, stops the threads it had started and exits 1 (not a crash, not a hang). */
static void partial_start_failure_unwinds(void **state)
{
    (void)state;
    struct daemon d;
    char *cfg = config_with(E2E_CONFIG_DIRECT, "thread_pool_size = 2", "thread_pool_size = 200");
    daemon_prepare(&d, cfg);
    free(cfg);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* One epoll descriptor per worker: the start runs out after a few dozen. */
        struct rlimit rl = {64, 64};
        int fd = open(d.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || dup2(fd, 2) < 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(126);
        execl(PARSEC_BIN, "parsec", "-c", d.cfg, (char *)NULL);
        _exit(127);
    }
    int st = 0, done = 0;
    for (int i = 0; i < 3000 && !done; i++) {
        done = waitpid(pid, &st, WNOHANG) == pid;
        if (!done)
            usleep(10000);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    assert_true(done);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(daemon_log_contains(&d, "Too many open files"));
    daemon_cleanup(&d);
}

/* 500 clients connect and say nothing: another client is still served at once. */
static void silent_clients_do_not_block(void **state)
{
    (void)state;
    struct daemon d;
    /* A long timeout, so that no silent connection is closed during the test. */
    char *cfg = config_with(E2E_CONFIG_DIRECT, "timeout = 500", "timeout = 60000");
    daemon_start(&d, cfg);
    free(cfg);
    enum { SILENT = 500 };
    int fds[SILENT];
    for (int i = 0; i < SILENT; i++) {
        fds[i] = e2e_connect(d.sock);
        assert_true(fds[i] >= 0);
    }
    /* A half-sent header on some of them, too. */
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    uint8_t b[PSC_WIRE_HEADER_SIZE];
    psc_header_encode(&h, b);
    for (int i = 0; i < SILENT; i += 5)
        assert_int_equal(send(fds[i], b, 10, MSG_NOSIGNAL), 10);
    for (int i = 0; i < 20; i++)
        assert_int_equal(ping(d.sock), 0);
    /* The silent connections are all still open: the pings were not served by closing them,
     * nor did they wait for the silent ones' 60 s timeout. */
    for (int i = 0; i < SILENT; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        assert_int_equal(poll(&p, 1, 0), 0);
        close(fds[i]);
    }
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    daemon_cleanup(&d);
}

int main(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigterm_and_sigint_exit_zero),
        cmocka_unit_test(stop_finishes_in_flight),
        cmocka_unit_test(reload_applies_and_failed_reload_keeps_serving),
        cmocka_unit_test(reload_moves_socket),
        cmocka_unit_test(systemd_notifications),
        cmocka_unit_test(socket_activation),
        cmocka_unit_test(socket_path_handling),
        cmocka_unit_test(failed_start_removes_socket),
        cmocka_unit_test(warnings_shown_by_default),
        cmocka_unit_test(refuses_root_without_allow_root),
        cmocka_unit_test(bad_config_fails_with_line),
        cmocka_unit_test(partial_start_failure_unwinds),
        cmocka_unit_test(silent_clients_do_not_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
