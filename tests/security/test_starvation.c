/* One user cannot starve the others (docs/threat-model.md, "Resources"): a hostile user
 * (uid 65534, in child processes) takes all it can of the daemon's request memory, or of its
 * descriptors, while a well-behaved user (root, this process) keeps asking. What is asserted is
 * the well-behaved user's status: every one of its requests is answered, correctly. Its waits
 * are long and bounded (GOOD_WAIT_MS): only a daemon that does not serve it trips them.
 *
 * Memory: the hostile user sends large requests all but their last byte, in waves of smaller
 * and smaller sizes, until the daemon refuses it; without a per-user share the budget is then
 * full to the last few hundred bytes and a 4 KiB request from anyone is refused 1141.
 *
 * Descriptors: three hostile processes open up to HOSTILE_CONNS connections each and trickle
 * one byte into each every TRICKLE_MS, reconnecting those the daemon closes. Without a
 * per-user share and a time limit that progress does not renew, the daemon's descriptors and
 * then its listening queue are full for good, and a Ping from anyone waits for ever.
 *
 * Acting as another user needs root; the test skips otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "psa_hash_compute.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define HOSTILE_UID 65534
/* How long the well-behaved client waits to connect, and then for its reply. */
#define GOOD_WAIT_MS 60000
/* How long the hostile side may take to get into place. */
#define SETUP_WAIT_MS 120000
/* The well-behaved request: a hash over 4 KiB. */
#define GOOD_INPUT 4096
/* Descriptor test: processes, connections each, pause between trickled bytes (well within the
 * 1 s timeout), and Pings asked while they trickle: GOOD_PINGS, GOOD_PING_GAP_MS apart, span
 * more than the default request_time_limit (10 s), so that the Pings also meet the hostile
 * connections being cut and coming back. */
#define HOSTILE_PROCS 3
#define HOSTILE_CONNS 9000
#define TRICKLE_MS 300
#define RECONNECTS_PER_ROUND 500
#define GOOD_PINGS 60
#define GOOD_PING_GAP_MS 200
/* The body each trickling connection announces: far more than it ever sends. */
#define TRICKLE_BODY 60000

static const char MEM_CONFIG[] = ST_CONFIG("thread_pool_size = 2\n", "60000", ST_KIM_SQLITE);
static const char FD_CONFIG[] = ST_CONFIG("thread_pool_size = 2\n", "1000", ST_KIM_SQLITE);

static struct daemon D;
static pid_t kids[HOSTILE_PROCS];
static int n_kids;

static int skip_unless_root(void)
{
    if (geteuid() != 0) {
        printf("not root: cannot act as a second user, skipped\n");
        return 1;
    }
    return 0;
}

/* Starts the daemon so that the hostile user can reach its socket. */
static void start_shared(const char *config)
{
    daemon_start(&D, config);
    assert_int_equal(chmod(D.dir, 0711), 0);
    assert_int_equal(chmod(D.sock, 0666), 0);
}

/* In a child: becomes the hostile user for good. */
static void become_hostile(void)
{
    if (setgroups(0, NULL) != 0 || setgid(HOSTILE_UID) != 0 || setuid(HOSTILE_UID) != 0) {
        fprintf(stderr, "cannot become uid %d: %s\n", HOSTILE_UID, strerror(errno));
        _exit(3);
    }
    signal(SIGPIPE, SIG_IGN);
}

static pid_t fork_hostile(void (*body)(int report_fd), int *report_fd)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        become_hostile();
        body(p[1]);
        _exit(0);
    }
    close(p[1]);
    kids[n_kids++] = pid;
    *report_fd = p[0];
    return pid;
}

/* Reads one report line from a child within SETUP_WAIT_MS; -1 if none came. */
static int read_report(int fd, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    size_t n = 0;
    uint64_t end = e2e_now_ms() + SETUP_WAIT_MS;
    while (n + 1 < cap && e2e_now_ms() < end) {
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return -1;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = 0;
    return n > 0 && buf[n - 1] == '\n' ? 0 : -1;
}

static void kill_kids(void)
{
    for (int i = 0; i < n_kids; i++) {
        kill(kids[i], SIGKILL);
        while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    n_kids = 0;
}

static int teardown(void **state)
{
    (void)state;
    kill_kids();
    if (D.pid > 0)
        daemon_stop(&D, SIGKILL);
    daemon_cleanup(&D);
    return 0;
}

/* The daemon's socket (its folder's path is short). */
static struct sockaddr_un sock_addr(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strnlen(D.sock, sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, D.sock, n);
    return sa;
}

/* The well-behaved client: one request over a connection whose connect and reply waits are
 * bounded; returns the reply's status, or a negative ST_* value. */
static int good_request(const uint8_t *req, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ST_NOCONN;
    struct timeval tv = {.tv_sec = GOOD_WAIT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_un sa = sock_addr();
    int rc = ST_NOCONN;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    rc = ST_IO;
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t bl;
    if (st_write_all(fd, req, len) != 0 || st_read_reply(fd, hdr, &body, &bl) != 0)
        goto out;
    rc = st_reply_status(hdr);
    free(body);
out:
    close(fd);
    return rc;
}

/* ---- memory ------------------------------------------------------------------------------ */

static const struct {
    size_t body, n;
} waves[] = {{1u << 20, 80}, {65536, 40}, {8192, 40}, {4096, 40}, {1024, 100}};
#define MAX_HELD 300

/* Sends each wave's requests short of their last byte, waits until the daemon has read them or
 * refused them, and reports "held bytes refused". */
static void hostile_memory(int report)
{
    static uint8_t req[PSC_WIRE_HEADER_SIZE + (1u << 20)];
    int fds[MAX_HELD];
    size_t sizes[MAX_HELD], n = 0, held = 0;
    unsigned refused = 0;
    for (size_t w = 0; w < sizeof(waves) / sizeof(waves[0]); w++) {
        for (size_t i = 0; i < waves[w].n && n < MAX_HELD; i++) {
            struct psc_header h = {.version_maj = 1, .opcode = PSC_OP_PING};
            h.body_len = (uint32_t)waves[w].body;
            psc_header_encode(&h, req);
            int fd = st_connect(D.sock, GOOD_WAIT_MS);
            if (fd < 0)
                _exit(4);
            /* A refused request is closed by the daemon: this write then fails, as expected. */
            (void)st_write_all(fd, req, PSC_WIRE_HEADER_SIZE + waves[w].body - 1);
            /* Read or refused before the next one: each wave fills what the last left. */
            uint64_t end = e2e_now_ms() + GOOD_WAIT_MS;
            for (;;) {
                int queued = 0;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 0) > 0 || ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0 ||
                    e2e_now_ms() > end)
                    break;
                usleep(1000);
            }
            fds[n] = fd;
            sizes[n++] = waves[w].body;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            refused++;
        else
            held += sizes[i];
    }
    dprintf(report, "%zu %u\n", held, refused);
    pause();
}

/* A user holding all the request memory it can get leaves room for another user's request. */
static void memory_slow_loris(void **state)
{
    (void)state;
    if (skip_unless_root())
        skip();
    start_shared(MEM_CONFIG);
    int rep;
    fork_hostile(hostile_memory, &rep);
    char line[128];
    assert_int_equal(read_report(rep, line, sizeof(line)), 0);
    close(rep);
    size_t held = 0;
    unsigned refused = 0;
    assert_int_equal(sscanf(line, "%zu %u", &held, &refused), 2);
    printf("memory: the hostile user holds %zu bytes of requests; %u of its requests refused\n",
           held, refused);
    /* It really took all it was allowed. */
    assert_true(refused > 0);
    assert_true(held >= (size_t)16 << 20);

    uint8_t input[GOOD_INPUT];
    memset(input, 'g', sizeof(input));
    PsaHashCompute__Operation op = PSA_HASH_COMPUTE__OPERATION__INIT;
    op.alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    op.input.data = input;
    op.input.len = sizeof(input);
    size_t len;
    uint8_t *req = st_frame(ST_PROVIDER, PSC_OP_PSA_HASH_COMPUTE, &op.base, NULL, &len);
    assert_non_null(req);
    int rc = good_request(req, len);
    free(req);
    printf("memory: the well-behaved 4 KiB request got status %d\n", rc);
    assert_int_equal(rc, 0);

    kill_kids();
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* ---- descriptors ------------------------------------------------------------------------- */

/* Connections each hostile process tries to hold: HOSTILE_CONNS, or what its descriptor limit
 * allows. */
static int per_child;

/* Holds up to per_child trickling connections for ever, reporting once how many it got. */
static void hostile_descriptors(int report)
{
    static int fds[HOSTILE_CONNS];
    static uint32_t pos[HOSTILE_CONNS];
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = {.version_maj = 1, .opcode = PSC_OP_PING, .body_len = TRICKLE_BODY};
    psc_header_encode(&h, hdr);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct sockaddr_un sa = sock_addr();
    for (int i = 0; i < HOSTILE_CONNS; i++)
        fds[i] = -1;
    for (int round = 0;; round++) {
        int budget = round == 0 ? per_child : RECONNECTS_PER_ROUND, open = 0;
        for (int i = 0; i < per_child; i++) {
            if (fds[i] < 0 && budget > 0) {
                budget--;
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                    close(fd);
                    fd = -1;
                    budget = 0; /* the listening queue is full: try again next round */
                }
                fds[i] = fd;
                pos[i] = 0;
            }
            if (fds[i] < 0)
                continue;
            uint8_t b = pos[i] < sizeof(hdr) ? hdr[pos[i]] : 0;
            ssize_t r = send(fds[i], &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r == 1) {
                pos[i]++;
            } else if (r < 0 && errno != EAGAIN) {
                close(fds[i]); /* answered and closed by the daemon: come back */
                fds[i] = -1;
                continue;
            }
            open++;
        }
        if (round == 0)
            dprintf(report, "%d\n", open);
        usleep(TRICKLE_MS * 1000);
    }
}

/* Users trickling into as many connections as they can leave another user's Pings served. */
static void descriptor_exhaustion(void **state)
{
    (void)state;
    if (skip_unless_root())
        skip();
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    start_shared(FD_CONFIG);
    int base = st_fd_stable(D.pid);
    int total = 0;
    /* What the hostile user can hold in the daemon: its share of the descriptors (as the
     * daemon's limit is this process's hard limit), or all it opens. */
    long fd_max = rl.rlim_max > 1 << 20 ? 1 << 20 : (long)rl.rlim_max;
    per_child = fd_max - 64 < HOSTILE_CONNS ? (int)fd_max - 64 : HOSTILE_CONNS;
    long can_hold = (fd_max - 64) / 2 < (long)HOSTILE_PROCS * per_child
                        ? (fd_max - 64) / 2
                        : (long)HOSTILE_PROCS * per_child;
    int pressure = (int)(can_hold * 9 / 10);
    for (int i = 0; i < HOSTILE_PROCS; i++) {
        int rep;
        char line[64];
        fork_hostile(hostile_descriptors, &rep);
        assert_int_equal(read_report(rep, line, sizeof(line)), 0);
        close(rep);
        total += atoi(line);
    }
    /* The pressure is on: the daemon holds nearly all the hostile user can hold. */
    int held = st_fd_count(D.pid);
    for (uint64_t end = e2e_now_ms() + SETUP_WAIT_MS; held < base + pressure && e2e_now_ms() < end;
         held = st_fd_count(D.pid))
        usleep(10000);
    printf("descriptors: hostile connections opened %d; the daemon holds %d descriptors "
           "(base %d, hard limit %llu)\n",
           total, held, base, (unsigned long long)rl.rlim_max);
    assert_true(held >= base + pressure / 2);

    size_t len;
    uint8_t *ping = st_frame(0, PSC_OP_PING, NULL, NULL, &len);
    assert_non_null(ping);
    int ok = 0;
    for (int i = 0; i < GOOD_PINGS; i++) {
        int rc = good_request(ping, len);
        if (rc != 0) {
            printf("descriptors: Ping %d got %d\n", i, rc);
            break;
        }
        ok++;
        usleep(GOOD_PING_GAP_MS * 1000);
    }
    free(ping);
    printf("descriptors: %d of %d Pings answered 0 while the hostile user trickled\n", ok,
           GOOD_PINGS);
    assert_int_equal(ok, GOOD_PINGS);

    kill_kids();
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* ---- the configured share ---------------------------------------------------------------- */

/* Half of max_connections per user; log level info for the line that ends a reload. */
#define SHARE_MAX_CONNS 100
#define SHARE_HELD (SHARE_MAX_CONNS / 2)
static const char SHARE_CONFIG[] = ST_CONFIG(
    "thread_pool_size = 2\nlog_level = \"info\"\nmax_connections = 100\npeer_share_percent = 50\n",
    "60000", ST_KIM_SQLITE);
#define SHARE_HELD_RELOADED 10
static const char SHARE_CONFIG_RELOADED[] = ST_CONFIG(
    "thread_pool_size = 2\nlog_level = \"info\"\nmax_connections = 20\npeer_share_percent = 50\n",
    "60000", ST_KIM_SQLITE);

static void hostile_ping(int report)
{
    dprintf(report, "%d\n", st_ping(D.sock));
}

/* Holds n silent connections (base: the daemon's descriptors without them), then opens one
 * more and returns the status it is answered, or -1; the n are left open in fds. */
static int one_more(int n, int *fds, int base)
{
    for (int i = 0; i < n; i++) {
        fds[i] = st_connect(D.sock, GOOD_WAIT_MS);
        assert_true(fds[i] >= 0);
    }
    /* Two workers accept in turn: one may count a later connection before an earlier one it
     * accepted first. Only once the daemon holds all n is the next one the one over the share. */
    assert_int_equal(st_fd_settle(D.pid, base + n, GOOD_WAIT_MS), base + n);
    int fd = st_connect(D.sock, GOOD_WAIT_MS);
    assert_true(fd >= 0);
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t bl;
    int rc = st_read_reply(fd, hdr, &body, &bl) == 0 && st_is_generic(hdr, st_reply_status(hdr))
                 ? st_reply_status(hdr)
                 : -1;
    free(body);
    close(fd);
    return rc;
}

/* A user holding its share of max_connections is refused 1141 at once for one more, and
 * another user is still served; a reload applies a new limit. */
static void connection_share_configured(void **state)
{
    (void)state;
    if (skip_unless_root())
        skip();
    start_shared(SHARE_CONFIG);
    int base = st_fd_stable(D.pid);
    int fds[SHARE_HELD];
    int rc = one_more(SHARE_HELD, fds, base);
    printf("share: connection %d of one user got status %d\n", SHARE_HELD + 1, rc);
    assert_int_equal(rc, PSC_PSA_INSUFFICIENT_MEMORY);

    int rep;
    char line[32];
    fork_hostile(hostile_ping, &rep);
    assert_int_equal(read_report(rep, line, sizeof(line)), 0);
    close(rep);
    printf("share: another user's Ping got %d\n", atoi(line));
    assert_int_equal(atoi(line), 0);
    for (int i = 0; i < SHARE_HELD; i++)
        close(fds[i]);
    /* The daemon counts a connection until it has seen it closed: wait for that, or the
     * connections below would be counted beside the closed ones and refused early. */
    assert_int_equal(st_fd_settle(D.pid, base, GOOD_WAIT_MS), base);

    daemon_write_config(&D, SHARE_CONFIG_RELOADED);
    assert_int_equal(kill(D.pid, SIGHUP), 0);
    assert_true(daemon_wait_log(&D, "Parsec configuration reloaded.", GOOD_WAIT_MS));
    base = st_fd_stable(D.pid);
    rc = one_more(SHARE_HELD_RELOADED, fds, base);
    printf("share: after a reload, connection %d of one user got status %d\n",
           SHARE_HELD_RELOADED + 1, rc);
    assert_int_equal(rc, PSC_PSA_INSUFFICIENT_MEMORY);
    for (int i = 0; i < SHARE_HELD_RELOADED; i++)
        close(fds[i]);
    kill_kids();
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(memory_slow_loris, teardown),
        cmocka_unit_test_teardown(descriptor_exhaustion, teardown),
        cmocka_unit_test_teardown(connection_share_configured, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
