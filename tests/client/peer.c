#include "peer.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

/* How long the peer waits for each client connection before giving up. */
#define PEER_ACCEPT_MS 20000

void peer_header(uint8_t out[36], uint32_t opcode, uint16_t status, uint32_t body_len)
{
    struct psc_header h = {
        .version_maj = 1, .opcode = opcode, .status = status, .body_len = body_len};
    psc_header_encode(&h, out);
}

void peer_init(struct peer *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/parsec-peer-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->sock, sizeof(p->sock), "%s/peer.sock", p->dir);
    snprintf(p->endpoint, sizeof(p->endpoint), "unix:%s", p->sock);
    p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->lfd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(p->sock) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, p->sock, strlen(p->sock));
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(p->lfd, 8), 0);
}

static struct peer_step *add(struct peer *p)
{
    assert_true(p->nsteps < PEER_STEPS_MAX);
    return &p->steps[p->nsteps++];
}

void peer_raw(struct peer *p, const uint8_t *bytes, size_t len)
{
    struct peer_step *s = add(p);
    s->action = PEER_SEND;
    s->bytes = malloc(len);
    assert_non_null(s->bytes);
    memcpy(s->bytes, bytes, len);
    s->len = len;
}

void peer_reply(struct peer *p, uint32_t opcode, uint16_t status, const ProtobufCMessage *msg)
{
    size_t n = msg ? protobuf_c_message_get_packed_size(msg) : 0;
    uint8_t *buf = malloc(36 + n);
    assert_non_null(buf);
    peer_header(buf, opcode, status, (uint32_t)n);
    if (msg)
        protobuf_c_message_pack(msg, buf + 36);
    peer_raw(p, buf, 36 + n);
    free(buf);
}

void peer_close(struct peer *p)
{
    add(p)->action = PEER_CLOSE;
}

void peer_hang(struct peer *p, unsigned ms)
{
    struct peer_step *s = add(p);
    s->action = PEER_HANG;
    s->hang_ms = ms;
}

static int read_n(int fd, uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one whole request and records its header and auth field. */
static void read_request(struct peer *p, int fd)
{
    uint8_t raw[36];
    struct peer_request *r = &p->req[p->nreq];
    if (read_n(fd, raw, sizeof(raw)) != 0 || psc_header_decode_full(raw, &r->hdr) != 0)
        return;
    uint8_t *body = malloc((size_t)r->hdr.body_len + 1);
    if (body && read_n(fd, body, r->hdr.body_len) == 0 && r->hdr.auth_len <= PEER_AUTH_MAX &&
        read_n(fd, r->auth, r->hdr.auth_len) == 0) {
        r->auth_len = r->hdr.auth_len;
        p->nreq++;
    }
    free(body);
}

static void *serve(void *arg)
{
    struct peer *p = arg;
    for (size_t i = 0; i < p->nsteps; i++) {
        struct pollfd pfd = {.fd = p->lfd, .events = POLLIN};
        if (poll(&pfd, 1, PEER_ACCEPT_MS) <= 0)
            break;
        int fd = accept(p->lfd, NULL, NULL);
        if (fd < 0)
            break;
        read_request(p, fd);
        struct peer_step *s = &p->steps[i];
        if (s->action == PEER_SEND) {
            size_t off = 0;
            while (off < s->len) {
                ssize_t w = send(fd, s->bytes + off, s->len - off, MSG_NOSIGNAL);
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
        } else if (s->action == PEER_HANG) {
            usleep(s->hang_ms * 1000u);
        }
        close(fd);
    }
    return NULL;
}

void peer_run(struct peer *p)
{
    assert_int_equal(pthread_create(&p->thread, NULL, serve, p), 0);
}

void peer_stop(struct peer *p)
{
    pthread_join(p->thread, NULL);
    close(p->lfd);
    for (size_t i = 0; i < p->nsteps; i++)
        free(p->steps[i].bytes);
    unlink(p->sock);
    rmdir(p->dir);
}
