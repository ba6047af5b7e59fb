/* The floor: the least a server can do for one Parsec request on its own connection.
 *
 * A pre-spawned pool of threads, each blocked in accept() on the one listening socket; a thread
 * reads the 36-byte header, then the body and authentication bytes the header announces,
 * writes a fixed 38-byte Ping reply and closes. No parsing beyond the two lengths, no
 * protobuf, no logging, no timeouts: whatever the service spends beyond this is its overhead.
 *
 *   bench_floor SOCKET [THREADS]     (runs until SIGTERM or SIGINT) */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEADER_SIZE 36
#define BODY_LEN_OFFSET 22
#define AUTH_LEN_OFFSET 26
/* Same default body limit as the service: a larger announced body is not read. */
#define BODY_LIMIT (1u << 20)
#define THREADS_MAX 256

/* Header of a successful Ping reply (wire-protocol.md §3.1) and its body 08 01. */
static const uint8_t ping_reply[HEADER_SIZE + 2] = {
    0x10, 0xa7, 0xc0, 0x5e, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01};

static int listen_fd;

static int read_full(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void serve(int fd)
{
    uint8_t h[HEADER_SIZE], skip[4096];
    if (read_full(fd, h, sizeof(h)) != 0)
        return;
    uint32_t body = (uint32_t)h[BODY_LEN_OFFSET] | (uint32_t)h[BODY_LEN_OFFSET + 1] << 8 |
                    (uint32_t)h[BODY_LEN_OFFSET + 2] << 16 | (uint32_t)h[BODY_LEN_OFFSET + 3] << 24;
    uint32_t auth = (uint32_t)h[AUTH_LEN_OFFSET] | (uint32_t)h[AUTH_LEN_OFFSET + 1] << 8;
    if (body > BODY_LIMIT)
        return;
    size_t left = (size_t)body + auth;
    while (left) {
        size_t n = left < sizeof(skip) ? left : sizeof(skip);
        if (read_full(fd, skip, n) != 0)
            return;
        left -= n;
    }
    size_t off = 0;
    while (off < sizeof(ping_reply)) {
        ssize_t n = send(fd, ping_reply + off, sizeof(ping_reply) - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("bench_floor: accept");
            return NULL;
        }
        serve(fd);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_floor SOCKET [THREADS]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
    if (n < 1 || n > THREADS_MAX) {
        fprintf(stderr, "bench_floor: thread count out of range\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "bench_floor: socket path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(listen_fd, SOMAXCONN) != 0) {
        perror("bench_floor: listen");
        return 1;
    }
    /* The workers run with these signals blocked; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) {
            fprintf(stderr, "bench_floor: cannot start a worker\n");
            return 1;
        }
        pthread_detach(t);
    }
    int sig;
    sigwait(&set, &sig);
    unlink(argv[1]);
    return 0;
}
