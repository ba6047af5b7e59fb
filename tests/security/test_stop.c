/* Stopping is bounded (docs/threat-model.md, "Resources"): at SIGTERM the daemon answers the
 * requests in flight, then closes partial and idle connections once stop_grace_period has
 * passed, and exits, whatever its clients do. A client trickling one byte at a time (each byte
 * well within the timeout) must not keep it alive.
 *
 * The daemon's exit is awaited for EXIT_WAIT_MS, far beyond the grace period: only a daemon
 * that waits for its clients trips it (it is then killed, and the test fails). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "psa/convert.h"
#include "psa_generate_key.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define EXIT_WAIT_MS 60000
#define TRICKLE_MS 200
/* The client waits this long for a reply it is owed. */
#define REPLY_WAIT_MS 60000
/* A key slow enough to generate that it is often still in flight at the signal. */
#define INFLIGHT_RSA_BITS 2048

/* A timeout long enough for the partial and idle connections to be still open at the signal
 * (if not, they were answered ConnectionError already, which the test accepts too). */
static const char CONFIG[] = ST_CONFIG("thread_pool_size = 2\n", "3000", ST_KIM_SQLITE);

static struct daemon D;

struct trickler {
    pthread_t th;
    int fd;
    _Atomic int stop;
    _Atomic unsigned long sent;
};

/* One byte of a large request every TRICKLE_MS, until the daemon closes the connection. */
static void *trickle_main(void *arg)
{
    struct trickler *t = arg;
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = {.version_maj = 1, .opcode = PSC_OP_PING, .body_len = 100000};
    psc_header_encode(&h, hdr);
    for (size_t i = 0; !atomic_load(&t->stop); i++) {
        uint8_t b = i < sizeof(hdr) ? hdr[i] : 0;
        if (send(t->fd, &b, 1, MSG_NOSIGNAL) != 1)
            break;
        atomic_fetch_add(&t->sent, 1);
        usleep(TRICKLE_MS * 1000);
    }
    return NULL;
}

/* The daemon's exit status within EXIT_WAIT_MS, or -1 (it is then killed). */
static int wait_exit(void)
{
    int st = 0;
    uint64_t end = e2e_now_ms() + EXIT_WAIT_MS;
    while (e2e_now_ms() < end) {
        pid_t r = waitpid(D.pid, &st, WNOHANG);
        if (r == D.pid) {
            D.pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(20000);
    }
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    if (D.pid > 0)
        daemon_stop(&D, SIGKILL);
    daemon_cleanup(&D);
    return 0;
}

/* A reply's status, or -1 if the connection ended without one. */
static int reply_status(int fd)
{
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t bl;
    int rc = st_read_reply(fd, hdr, &body, &bl) == 0 ? st_reply_status(hdr) : -1;
    free(body);
    return rc;
}

static void trickler_at_sigterm(void **state)
{
    (void)state;
    daemon_start(&D, CONFIG);

    /* In flight: a whole request sent, its reply not yet read. */
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    struct psc_attrs a = st_attrs_rsa_sign(INFLIGHT_RSA_BITS);
    op.key_name = (char *)"in-flight";
    assert_int_equal(conv_attrs_to_pb(&a, &op.attributes), 0);
    size_t len;
    uint8_t *req = st_frame(ST_PROVIDER, PSC_OP_PSA_GENERATE_KEY, &op.base, "stopper", &len);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
    assert_non_null(req);
    int inflight = st_connect(D.sock, REPLY_WAIT_MS);
    assert_true(inflight >= 0);
    assert_int_equal(st_write_all(inflight, req, len), 0);
    free(req);

    /* Partial and idle: a trickler, a header with no body, a silent connection. */
    struct trickler t = {.fd = st_connect(D.sock, REPLY_WAIT_MS)};
    assert_true(t.fd >= 0);
    assert_int_equal(pthread_create(&t.th, NULL, trickle_main, &t), 0);
    int partial = st_connect(D.sock, REPLY_WAIT_MS);
    assert_true(partial >= 0);
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = {.version_maj = 1, .opcode = PSC_OP_PING, .body_len = 50};
    psc_header_encode(&h, hdr);
    assert_int_equal(st_write_all(partial, hdr, sizeof(hdr)), 0);
    int idle = st_connect(D.sock, REPLY_WAIT_MS);
    assert_true(idle >= 0);

    /* A Ping answered after them: the listening queue is served in order, so all four were
     * accepted. The trickler has sent a few bytes. */
    assert_int_equal(st_ping(D.sock), 0);
    for (uint64_t end = e2e_now_ms() + EXIT_WAIT_MS;
         atomic_load(&t.sent) < 3 && e2e_now_ms() < end;)
        usleep(10000);
    assert_true(atomic_load(&t.sent) >= 3);
    assert_int_equal(kill(D.pid, SIGTERM), 0);
    int rc = wait_exit();
    printf("stop: the daemon exited with %d; the trickler had sent %lu bytes\n", rc,
           atomic_load(&t.sent));

    atomic_store(&t.stop, 1);
    pthread_join(t.th, NULL);
    assert_int_equal(rc, 0);
    /* The request in flight was answered. */
    int inflight_status = reply_status(inflight);
    printf("stop: the request in flight got %d\n", inflight_status);
    assert_int_equal(inflight_status, 0);
    /* The others were answered ConnectionError, or closed. */
    int s = reply_status(t.fd);
    assert_true(s == PSC_CONNECTION_ERROR || s == -1);
    s = reply_status(partial);
    assert_true(s == PSC_CONNECTION_ERROR || s == -1);
    s = reply_status(idle);
    assert_true(s == PSC_CONNECTION_ERROR || s == -1);
    close(inflight);
    close(t.fd);
    close(partial);
    close(idle);
    daemon_cleanup(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(trickler_at_sigterm, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
