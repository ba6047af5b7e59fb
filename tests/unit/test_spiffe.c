/* The Workload API client (src/common/spiffe.h) against servers that are not Workload APIs:
 * a raw socket writing HTTP/2 frames without end, or nothing at all. Each call must end with
 * an error, by its byte limit or by its deadline, whatever the server does. (The real gRPC
 * exchanges are tested end to end in tests/jwtsvid/.) */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef PARSEC_JWT_SVID
#include "common/spiffe.h"

struct server {
    int listen_fd;
    char path[108];
    int mode; /* 0: SETTINGS then unknown frames without end; 1: accept, never write */
    volatile int stop;
};

static void *serve(void *arg)
{
    struct server *sv = arg;
    int fd = accept(sv->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    /* SETTINGS (empty), then frames of an undefined type 0xfa that HTTP/2 says to ignore. */
    static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    uint8_t frame[9 + 1000] = {0x00, 0x03, 0xe8, 0xfa, 0, 0, 0, 0, 0};
    if (sv->mode == 0 && send(fd, settings, sizeof(settings), MSG_NOSIGNAL) == sizeof(settings))
        while (!sv->stop && send(fd, frame, sizeof(frame), MSG_NOSIGNAL) > 0)
            ;
    char buf[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!sv->stop && poll(&p, 1, 100) >= 0)
        if ((p.revents & POLLIN) && read(fd, buf, sizeof(buf)) <= 0)
            break;
    close(fd);
    return NULL;
}

static void start(struct server *sv, int mode)
{
    memset(sv, 0, sizeof(*sv));
    sv->mode = mode;
    snprintf(sv->path, sizeof(sv->path), "/tmp/spiffe-unit-%d.sock", (int)getpid());
    unlink(sv->path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sv->path);
    sv->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(sv->listen_fd >= 0);
    assert_int_equal(bind(sv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(sv->listen_fd, 1), 0);
}

static void call(struct server *sv, int timeout_ms, const char *want)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve, sv), 0);
    char ep[200], err[256] = "", *id = NULL;
    snprintf(ep, sizeof(ep), "unix://%s", sv->path);
    assert_int_equal(spiffe_validate_jwt(ep, "a.b.c", "parsec", timeout_ms, &id, err, sizeof(err)),
                     -1);
    assert_null(id);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not say \"%s\"", err, want);
    sv->stop = 1;
    pthread_join(th, NULL);
    close(sv->listen_fd);
    unlink(sv->path);
}

/* Frames the client must ignore, sent without end: the byte limit ends the call, long before
 * its deadline (an hour: without the limit the test would not end). */
static void endless_ignored_frames(void **state)
{
    (void)state;
    struct server sv;
    start(&sv, 0);
    call(&sv, 3600 * 1000, "larger than");
}

/* A server that accepts and says nothing: the deadline ends the call. */
static void silent_server(void **state)
{
    (void)state;
    struct server sv;
    start(&sv, 1);
    call(&sv, 50, "did not answer within 50 ms");
}

static void endpoints(void **state)
{
    (void)state;
    assert_true(spiffe_endpoint_ok("unix:///run/spire/agent.sock"));
    assert_true(spiffe_endpoint_ok("unix:/run/spire/agent.sock"));
    assert_true(spiffe_endpoint_ok("/run/spire/agent.sock"));
    assert_false(spiffe_endpoint_ok("tcp://127.0.0.1:8081"));
    assert_false(spiffe_endpoint_ok("unix://host/agent.sock"));
    assert_false(spiffe_endpoint_ok("unix:relative.sock"));
    assert_false(spiffe_endpoint_ok(""));
    assert_false(spiffe_endpoint_ok(NULL));
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_false(spiffe_endpoint_ok(longp));
    char err[256] = "", *id = NULL;
    assert_int_equal(spiffe_validate_jwt("unix:///nonexistent/x.sock", "a.b.c", "parsec", 100, &id,
                                         err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/x.sock"));
}
#endif

int main(void)
{
#ifdef PARSEC_JWT_SVID
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endless_ignored_frames),
        cmocka_unit_test(silent_server),
        cmocka_unit_test(endpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 0;
#endif
}
