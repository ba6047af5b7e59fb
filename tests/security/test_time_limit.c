/* A request, then its reply, has request_time_limit in all (docs/threat-model.md,
 * "Resources"): progress does not renew it. A client sending one byte well within each timeout,
 * or reading its reply a little at a time, loses its connection at the limit instead of
 * holding it, its buffer and its descriptor for ever.
 *
 * Waits are bounded by WAIT_MS, far beyond the limit: only a daemon that lets the client go on
 * trips them. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "psa_generate_random.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define WAIT_MS 60000
/* The client's pace: a byte every TRICKLE_MS (timeout 1 s); READ_CHUNK bytes every READ_MS,
 * fast enough that the daemon can write again well within each timeout (it waits for a whole
 * socket buffer segment, some 100 KB, to be read), slow enough that the reply takes several
 * times the limit. */
#define TRICKLE_MS 200
#define READ_CHUNK 16384
#define READ_MS 50
/* A reply far larger than the socket buffers, and longer to read at that pace than the limit. */
#define RANDOM_SIZE 4000000

static const char CONFIG[] =
    ST_CONFIG("thread_pool_size = 2\nrequest_time_limit = 2000\nbuffer_size_limit = 4194304\n",
              "1000", ST_KIM_SQLITE);

static struct daemon D;

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    daemon_start(&D, CONFIG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = D.pid > 0 ? daemon_stop(&D, SIGTERM) : 0;
    daemon_cleanup(&D);
    return rc == 0 ? 0 : -1;
}

/* One byte of a large request every TRICKLE_MS: answered ConnectionError at the limit. */
static void trickled_request_cut(void **state)
{
    (void)state;
    int fd = st_connect(D.sock, WAIT_MS);
    assert_true(fd >= 0);
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = {.version_maj = 1, .opcode = PSC_OP_PING, .body_len = 100000};
    psc_header_encode(&h, hdr);
    uint64_t end = e2e_now_ms() + WAIT_MS;
    size_t sent = 0;
    while (e2e_now_ms() < end) {
        uint8_t b = sent < sizeof(hdr) ? hdr[sent] : 0;
        if (send(fd, &b, 1, MSG_NOSIGNAL) != 1)
            break; /* closed by the daemon */
        sent++;
        usleep(TRICKLE_MS * 1000);
    }
    uint8_t rsp[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t bl;
    int got = st_read_reply(fd, rsp, &body, &bl);
    free(body);
    close(fd);
    printf("time limit: the trickler sent %zu bytes before the daemon closed it\n", sent);
    assert_true(e2e_now_ms() < end);
    assert_int_equal(got, 0);
    assert_true(st_is_generic(rsp, PSC_CONNECTION_ERROR));
}

/* A large reply read READ_CHUNK bytes every READ_MS: the connection is closed at the limit,
 * before the whole reply is delivered. */
static void slowly_read_reply_cut(void **state)
{
    (void)state;
    PsaGenerateRandom__Operation op = PSA_GENERATE_RANDOM__OPERATION__INIT;
    op.size = RANDOM_SIZE;
    size_t len;
    uint8_t *req = st_frame(ST_PROVIDER, PSC_OP_PSA_GENERATE_RANDOM, &op.base, NULL, &len);
    assert_non_null(req);
    int fd = st_connect(D.sock, WAIT_MS);
    assert_true(fd >= 0);
    assert_int_equal(st_write_all(fd, req, len), 0);
    free(req);
    uint8_t *buf = malloc(READ_CHUNK);
    assert_non_null(buf);
    size_t got = 0;
    uint64_t end = e2e_now_ms() + WAIT_MS;
    while (e2e_now_ms() < end) {
        ssize_t n = recv(fd, buf, READ_CHUNK, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        usleep(READ_MS * 1000);
    }
    free(buf);
    close(fd);
    printf("time limit: the slow reader got %zu bytes of a reply of more than %d before the "
           "daemon closed it\n",
           got, PSC_WIRE_HEADER_SIZE + RANDOM_SIZE);
    assert_true(e2e_now_ms() < end);
    assert_true(got >= PSC_WIRE_HEADER_SIZE);
    assert_true(got < PSC_WIRE_HEADER_SIZE + RANDOM_SIZE);
    /* The daemon serves on. */
    assert_int_equal(st_ping(D.sock), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trickled_request_cut),
        cmocka_unit_test(slowly_read_reply_cut),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
