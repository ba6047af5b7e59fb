#define _GNU_SOURCE
#include "service/server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "common/log.h"
#include "service/frontend.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

static const char *const MOD = "parsec::server";

/* Bytes read into a connection before its header is known: a whole small request (a Ping, a
 * signature over a hash) arrives in one read. A reply that fits is kept here too, so that a
 * reply with no body (the answer to a key creation or removal) never waits on the budget. */
#define CONN_INLINE 512
/* Growth step of a request buffer: memory follows the bytes that really arrived, never a
 * length the client merely claimed. */
#define CONN_GROW_MIN 65536
/* Heap held by request and reply buffers across all connections, unless [core_settings]
 * request_memory_limit says otherwise: at most this, or four requests of the configured
 * body_len_limit if that is more. Each buffer holds only bytes that arrived, but thousands of
 * clients each sending a large body would otherwise take the machine's memory; a request or a
 * reply that would go beyond is answered PsaErrorInsufficientMemory, as a failed allocation
 * is. */
#define REQUEST_MEMORY_MIN ((size_t)64 << 20)
#define REQUEST_MEMORY_BODIES 4
/* The most one request occupies: header, the largest body, the largest authentication field.
 * Whatever the configured shares, one such request of each user must fit. */
#define REQUEST_MAX(body_limit) ((body_limit) + PSC_WIRE_HEADER_SIZE + UINT16_MAX)
/* Events handled per epoll_wait, and connections accepted per wake-up of one worker. */
#define EVENTS_MAX 64
#define ACCEPT_BURST 32
/* How long a worker out of descriptors waits before it tries accepting again. */
#define ACCEPT_RETRY_MS 1000
/* File descriptors kept back from connections (logs, key stores, back-ends). */
#define FD_RESERVE 64
/* Buckets of the table of users holding connections. */
#define PEER_BUCKETS 64

/* ST_WAIT: the whole request is read, and waits for its turn on a provider that serialises its
 * back-end (frontend_admit); the connection is then watched only for the client leaving. */
enum conn_state { ST_READ, ST_SKIP, ST_WAIT, ST_WRITE };

/* Each connection waits in two queues: Q_IDLE until its next byte is due ([listener] timeout,
 * renewed by progress), Q_LIMIT until its whole request, then its whole reply, is due
 * (request_time_limit, never renewed by progress: a client sending a byte now and then must
 * not hold its connection for ever). Each queue is kept in deadline order by appending, since
 * each of its deadlines is "now + a fixed delay". */
enum { Q_IDLE, Q_LIMIT, Q_COUNT };

struct conn_link {
    struct conn *prev, *next;
};

/* A user (uid) holding connections, with what it holds. */
struct peer {
    uid_t uid;
    size_t conns;
    size_t mem;
    struct peer *next;
};

struct conn {
    int fd;
    enum conn_state state;
    uint8_t *buf; /* inline or heap */
    size_t cap, got;
    size_t expected;  /* total request bytes once the header is known, else 0 */
    size_t skip_left; /* ST_SKIP: header bytes still to discard */
    struct psc_header h;
    struct peer_cred cred; /* of the peer at connect time */
    struct peer *peer;
    uint8_t *out; /* reply being written: small_out, inline_buf or heap */
    size_t out_len, out_off;
    uint64_t due[Q_COUNT]; /* ms, CLOCK_MONOTONIC */
    struct conn_link link[Q_COUNT];
    struct conn_link wait_link; /* in its worker's waiting list, in ST_WAIT */
    uint8_t inline_buf[CONN_INLINE];
    uint8_t small_out[PSC_WIRE_HEADER_SIZE];
};

struct conn_queue {
    struct conn *head, *tail;
};

struct worker {
    struct server *srv;
    pthread_t thread;
    int ep;
    size_t n_conns;
    _Atomic int accepting;
    uint64_t resume_at; /* paused for want of descriptors: when to try accepting again */
    struct conn_queue q[Q_COUNT];
    struct conn_queue waiting; /* ST_WAIT connections, oldest first */
};

struct server {
    pthread_rwlock_t lock; /* read: a request in flight; write: reload */
    /* Serialises changes to the listening socket's place in the workers' epoll sets: a worker
     * pausing or resuming accepts against a reload replacing the socket. */
    pthread_mutex_t listen_lock;
    struct psc_service *svc;
    _Atomic int listen_fd;
    int stop_fd; /* eventfd, written once at stop, never read: wakes every worker */
    /* eventfd, written when a request leaves a serialising provider while requests wait for
     * it, never read: edge-triggered in every worker's set, each write wakes every worker. */
    int admit_fd;
    _Atomic size_t waiting; /* connections in ST_WAIT, in all workers */
    unsigned serial_max;    /* requests a serialising provider may hold: all workers but one */
    atomic_bool stopping;
    _Atomic size_t body_len_limit;
    _Atomic uint64_t timeout_ms;
    _Atomic uint64_t limit_ms; /* request_time_limit, at least the timeout */
    _Atomic uint64_t stop_grace_ms;
    /* Who holds what: connections and buffer bytes, in all and per user. Every change goes
     * through peers_lock. */
    pthread_mutex_t peers_lock;
    struct peer *peers[PEER_BUCKETS];
    size_t conns, mem;
    size_t conns_fd_max; /* what RLIMIT_NOFILE allows */
    size_t conns_max, conns_share, mem_max, mem_share;
    size_t n_workers;
    struct worker *workers;
};

/* epoll data for the two non-connection sources. */
static int tag_listen, tag_stop, tag_admit;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void q_unlink(struct worker *w, int q, struct conn *c)
{
    struct conn_link *l = &c->link[q];
    if (!l->prev && w->q[q].head != c)
        return; /* not linked */
    if (l->prev)
        l->prev->link[q].next = l->next;
    else
        w->q[q].head = l->next;
    if (l->next)
        l->next->link[q].prev = l->prev;
    else
        w->q[q].tail = l->prev;
    l->prev = l->next = NULL;
}

/* A deadline change at reload only makes some connections expire a little late. */
static void q_append(struct worker *w, int q, struct conn *c, uint64_t due)
{
    q_unlink(w, q, c);
    c->due[q] = due;
    c->link[q].prev = w->q[q].tail;
    if (w->q[q].tail)
        w->q[q].tail->link[q].next = c;
    else
        w->q[q].head = c;
    w->q[q].tail = c;
}

static void touch(struct worker *w, struct conn *c)
{
    q_append(w, Q_IDLE, c, now_ms() + atomic_load(&w->srv->timeout_ms));
}

static void wait_unlink(struct worker *w, struct conn *c)
{
    if (c->state != ST_WAIT)
        return;
    struct conn_link *l = &c->wait_link;
    if (l->prev)
        l->prev->wait_link.next = l->next;
    else
        w->waiting.head = l->next;
    if (l->next)
        l->next->wait_link.prev = l->prev;
    else
        w->waiting.tail = l->prev;
    l->prev = l->next = NULL;
    c->state = ST_READ;
    atomic_fetch_sub(&w->srv->waiting, 1);
}

/* Starts the time the request, or the reply, has in all. */
static void limit_start(struct worker *w, struct conn *c)
{
    q_append(w, Q_LIMIT, c, now_ms() + atomic_load(&w->srv->limit_ms));
}

/* ---- what each user holds ---------------------------------------------------------------- */

static struct peer **peer_slot(struct server *srv, uid_t uid)
{
    struct peer **pp = &srv->peers[uid % PEER_BUCKETS];
    while (*pp && (*pp)->uid != uid)
        pp = &(*pp)->next;
    return pp;
}

/* Counts a new connection of uid; NULL if the user already holds its share of connections, or
 * all connections are taken. The share keeps room for the other users whatever one does. */
static struct peer *peer_join(struct server *srv, uid_t uid)
{
    struct peer *p = NULL;
    pthread_mutex_lock(&srv->peers_lock);
    if (srv->conns >= srv->conns_max)
        goto out;
    struct peer **pp = peer_slot(srv, uid);
    p = *pp;
    if (p && p->conns >= srv->conns_share) {
        p = NULL;
        goto out;
    }
    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p)
            goto out;
        p->uid = uid;
        *pp = p;
    }
    p->conns++;
    srv->conns++;
out:
    pthread_mutex_unlock(&srv->peers_lock);
    return p;
}

static void peer_leave(struct server *srv, struct peer *p)
{
    pthread_mutex_lock(&srv->peers_lock);
    p->conns--;
    srv->conns--;
    if (p->conns == 0) {
        struct peer **pp = peer_slot(srv, p->uid);
        *pp = p->next;
        free(p);
    }
    pthread_mutex_unlock(&srv->peers_lock);
}

/* Takes n bytes of the buffer budget for p; -1 if that would exceed the budget or the user's
 * share of it. */
static int mem_take(struct server *srv, struct peer *p, size_t n)
{
    int rc = -1;
    pthread_mutex_lock(&srv->peers_lock);
    /* A reload may have lowered the limits below what is held. */
    if (srv->mem <= srv->mem_max && n <= srv->mem_max - srv->mem && p->mem <= srv->mem_share &&
        n <= srv->mem_share - p->mem) {
        srv->mem += n;
        p->mem += n;
        rc = 0;
    }
    pthread_mutex_unlock(&srv->peers_lock);
    return rc;
}

static void mem_give(struct server *srv, struct peer *p, size_t n)
{
    pthread_mutex_lock(&srv->peers_lock);
    srv->mem -= n;
    p->mem -= n;
    pthread_mutex_unlock(&srv->peers_lock);
}

/* The limits of a configuration; a reload changes them for new allocations only. */
static void limits_apply(struct server *srv, const struct cfg_core *core, uint64_t timeout)
{
    size_t body = core->body_len_limit;
    size_t mem = core->request_memory_limit;
    if (mem == 0) {
        mem = body > SIZE_MAX / REQUEST_MEMORY_BODIES ? SIZE_MAX : REQUEST_MEMORY_BODIES * body;
        if (mem < REQUEST_MEMORY_MIN)
            mem = REQUEST_MEMORY_MIN;
    }
    size_t share = mem / 100 * core->peer_share_percent;
    size_t one = body > SIZE_MAX - PSC_WIRE_HEADER_SIZE - UINT16_MAX ? SIZE_MAX : REQUEST_MAX(body);
    if (share < one)
        share = one;
    if (mem < share)
        mem = share;
    size_t conns = srv->conns_fd_max;
    if (core->max_connections && core->max_connections < conns)
        conns = core->max_connections;
    size_t conns_share =
        conns / 100 * core->peer_share_percent + conns % 100 * core->peer_share_percent / 100;
    pthread_mutex_lock(&srv->peers_lock);
    srv->mem_max = mem;
    srv->mem_share = share;
    srv->conns_max = conns;
    srv->conns_share = conns_share ? conns_share : 1;
    pthread_mutex_unlock(&srv->peers_lock);
    atomic_store(&srv->body_len_limit, body);
    atomic_store(&srv->timeout_ms, timeout);
    atomic_store(&srv->limit_ms,
                 core->request_time_limit > timeout ? core->request_time_limit : timeout);
    atomic_store(&srv->stop_grace_ms, core->stop_grace_period);
}

/* Returns -1 if the listening socket could not be added to the worker's epoll set. */
static int set_accepting(struct worker *w, int on)
{
    int rc = 0;
    if (w->accepting == on || (on && atomic_load(&w->srv->stopping)))
        return 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &tag_listen};
    pthread_mutex_lock(&w->srv->listen_lock);
    int fd = atomic_load(&w->srv->listen_fd);
    /* A failed ADD leaves the worker not accepting, so that the next call tries again; a DEL
     * can only fail for a socket that is not registered. */
    if (on && epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        log_warn(MOD, "cannot watch the listening socket: %s", strerror(errno));
        rc = -1;
    } else {
        if (!on)
            epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
        w->accepting = on;
    }
    pthread_mutex_unlock(&w->srv->listen_lock);
    return rc;
}

static void conn_close(struct worker *w, struct conn *c)
{
    struct server *srv = w->srv;
    for (int q = 0; q < Q_COUNT; q++)
        q_unlink(w, q, c);
    wait_unlink(w, c);
    close(c->fd); /* also removes it from the epoll set */
    if (c->buf != c->inline_buf) {
        mbedtls_platform_zeroize(c->buf, c->got);
        free(c->buf);
        mem_give(srv, c->peer, c->cap);
    }
    if (c->out && c->out != c->small_out && c->out != c->inline_buf) {
        mbedtls_platform_zeroize(c->out, c->out_len);
        free(c->out);
        mem_give(srv, c->peer, c->out_len);
    }
    mbedtls_platform_zeroize(c->inline_buf, sizeof(c->inline_buf));
    peer_leave(srv, c->peer);
    free(c);
    w->n_conns--;
    set_accepting(w, 1); /* if out of descriptors earlier */
}

/* Writes as much of the reply as the socket takes; closes the connection when done or broken.
 * Returns 1 if the connection is still open. */
static int conn_write(struct worker *w, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            /* A connection served straight from accept is not in the epoll set yet. */
            if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0 &&
                (errno != ENOENT || epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0))
                break;
            touch(w, c);
            return 1;
        }
        log_debug(MOD, "could not write the reply: %s", strerror(errno));
        break;
    }
    conn_close(w, c);
    return 0;
}

/* Starts writing the reply in c->out: the client now has the timeout for each step and the
 * time limit in all to take it. */
static int conn_reply(struct worker *w, struct conn *c)
{
    c->out_off = 0;
    c->state = ST_WRITE;
    limit_start(w, c);
    return conn_write(w, c);
}

/* Replies with the generic header and closes: errors found before the header was trusted. */
static int conn_fail(struct worker *w, struct conn *c, int status)
{
    frontend_generic_reply(status, c->small_out);
    c->out = c->small_out;
    c->out_len = PSC_WIRE_HEADER_SIZE;
    return conn_reply(w, c);
}

/* A connection that cannot be served: the generic reply if the socket takes it at once, then
 * closed. */
static void refuse(int fd, int status)
{
    uint8_t out[PSC_WIRE_HEADER_SIZE];
    frontend_generic_reply(status, out);
    if (send(fd, out, sizeof(out), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(out))
        log_debug(MOD, "could not write the refusal: %s", strerror(errno));
    close(fd);
}

/* The request buffer is no longer needed once the reply exists. */
static void conn_drop_request(struct server *srv, struct conn *c)
{
    if (c->buf != c->inline_buf) {
        mbedtls_platform_zeroize(c->buf, c->got);
        free(c->buf);
        mem_give(srv, c->peer, c->cap);
    }
    mbedtls_platform_zeroize(c->inline_buf, sizeof(c->inline_buf));
    c->buf = c->inline_buf;
    c->cap = sizeof(c->inline_buf);
    c->got = 0;
}

/* Puts a whole request aside until the provider it is for has room (frontend_admit). It keeps
 * no timer: the service, not the client, is late. A client that hangs up is let go. */
static void conn_wait(struct worker *w, struct conn *c)
{
    for (int q = 0; q < Q_COUNT; q++)
        q_unlink(w, q, c);
    c->state = ST_WAIT;
    c->wait_link.prev = w->waiting.tail;
    c->wait_link.next = NULL;
    if (w->waiting.tail)
        w->waiting.tail->wait_link.next = c;
    else
        w->waiting.head = c;
    w->waiting.tail = c;
    atomic_fetch_add(&w->srv->waiting, 1);
    log_debug(MOD, "a request for provider %u waits for its turn", (unsigned)c->h.provider);
    /* No event asked for: hang-ups and errors are reported anyway, and bytes the client may
     * send after its request, or a half-close, must not wake the worker. */
    struct epoll_event ev = {.events = 0, .data.ptr = c};
    /* A connection served straight from accept is not in the epoll set yet. */
    if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0 &&
        (errno != ENOENT || epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0))
        log_debug(MOD, "cannot watch a waiting connection: %s", strerror(errno));
}

/* Whether the request may be handled now; otherwise it waits (ST_WAIT). The wait is announced
 * before a second try, so that a release between the two sees it and wakes the workers. Caller
 * holds srv->lock for reading. */
static int conn_admit(struct worker *w, struct conn *c)
{
    struct server *srv = w->srv;
    if (frontend_admit(srv->svc, &c->h, srv->serial_max)) {
        wait_unlink(w, c);
        return 1;
    }
    if (c->state != ST_WAIT)
        conn_wait(w, c);
    if (!frontend_admit(srv->svc, &c->h, srv->serial_max))
        return 0;
    wait_unlink(w, c);
    return 1;
}

/* Handles a whole request, or puts it aside until its provider has room. Returns 0 when it
 * waits, else the connection was answered (and may be closed). */
static int conn_process(struct worker *w, struct conn *c)
{
    struct server *srv = w->srv;
    struct fe_request rq = {
        .h = c->h,
        .body = c->buf + PSC_WIRE_HEADER_SIZE,
        .auth = c->buf + PSC_WIRE_HEADER_SIZE + c->h.body_len,
        .peer = &c->cred,
    };
    uint8_t *out = NULL;
    size_t out_len = 0;
    pthread_rwlock_rdlock(&srv->lock);
    if (!conn_admit(w, c)) {
        pthread_rwlock_unlock(&srv->lock);
        return 0;
    }
    int rc = frontend_handle(srv->svc, &rq, &out, &out_len);
    int released = frontend_release(srv->svc, &rq.h);
    pthread_rwlock_unlock(&srv->lock);
    uint64_t one = 1;
    if (released && atomic_load(&srv->waiting) > 0 &&
        write(srv->admit_fd, &one, sizeof(one)) != sizeof(one))
        log_error(MOD, "cannot wake the workers: %s", strerror(errno));
    conn_drop_request(srv, c);
    if (rc < 0)
        return conn_fail(w, c, PSC_PSA_INSUFFICIENT_MEMORY), 1;
    if (out_len <= sizeof(c->inline_buf)) {
        memcpy(c->inline_buf, out, out_len);
        c->out = c->inline_buf;
    } else if (mem_take(srv, c->peer, out_len) == 0) {
        c->out = out;
        out = NULL;
    } else {
        /* Only replies with a body get here: reads, never the answer to a change of state. */
        log_debug(MOD, "no memory left in the budget of uid %u for a reply of %zu bytes",
                  (unsigned)c->cred.uid, out_len);
        mbedtls_platform_zeroize(out, out_len);
        free(out);
        return conn_fail(w, c, PSC_PSA_INSUFFICIENT_MEMORY), 1;
    }
    if (out) {
        mbedtls_platform_zeroize(out, out_len);
        free(out);
    }
    c->out_len = out_len;
    return conn_reply(w, c), 1;
}

/* Moves the state machine forward with the bytes read so far. Returns -1 when the connection
 * was answered (and possibly closed), 0 to keep reading. */
static int conn_advance(struct worker *w, struct conn *c)
{
    if (c->expected == 0) {
        if (c->got >= 4) {
            uint16_t rest;
            uint8_t pre[PSC_WIRE_PREAMBLE_SIZE] = {0};
            memcpy(pre, c->buf, c->got < sizeof(pre) ? c->got : sizeof(pre));
            if (psc_header_check_preamble(pre, &rest) != 0)
                return conn_fail(w, c, PSC_INVALID_HEADER), -1;
            if (c->got >= PSC_WIRE_PREAMBLE_SIZE && rest != PSC_WIRE_HEADER_REST) {
                /* The original reads a header of the announced size before refusing it. */
                size_t have = c->got - PSC_WIRE_PREAMBLE_SIZE;
                if (have >= rest)
                    return conn_fail(w, c, PSC_INVALID_HEADER), -1;
                c->skip_left = rest - have;
                c->state = ST_SKIP;
                return 0;
            }
        }
        if (c->got < PSC_WIRE_HEADER_SIZE)
            return 0;
        int rc = psc_header_decode(c->buf + PSC_WIRE_PREAMBLE_SIZE, PSC_WIRE_HEADER_REST, &c->h);
        if (rc != 0)
            return conn_fail(w, c, rc), -1;
        if (c->h.body_len > atomic_load(&w->srv->body_len_limit))
            return conn_fail(w, c, PSC_BODY_SIZE_EXCEEDS_LIMIT), -1;
        c->expected = PSC_WIRE_HEADER_SIZE + (size_t)c->h.body_len + c->h.auth_len;
    }
    if (c->got >= c->expected)
        return conn_process(w, c), -1;
    return 0;
}

/* Gives the worker's waiting requests their turn, oldest first, while their providers admit
 * them. */
static void resume_waiting(struct worker *w)
{
    struct conn *c;
    while ((c = w->waiting.head) != NULL && conn_process(w, c) != 0)
        ;
}

static int conn_grow(struct server *srv, struct conn *c)
{
    size_t cap = c->cap * 2 < CONN_GROW_MIN ? CONN_GROW_MIN : c->cap * 2;
    if (cap > c->expected)
        cap = c->expected;
    size_t held = c->buf != c->inline_buf ? c->cap : 0;
    if (mem_take(srv, c->peer, cap - held) != 0) {
        log_debug(MOD, "no memory left in the budget of uid %u for a request of %zu bytes",
                  (unsigned)c->cred.uid, c->expected);
        return -1;
    }
    uint8_t *b = malloc(cap);
    if (!b) {
        mem_give(srv, c->peer, cap - held);
        return -1;
    }
    memcpy(b, c->buf, c->got);
    if (held) {
        mbedtls_platform_zeroize(c->buf, c->got);
        free(c->buf);
    }
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* Reads what the client has sent and moves the request forward. Returns READ_DONE when the
 * connection was answered (it may be closed), READ_IDLE when nothing new had arrived and
 * READ_PROGRESS when bytes were read and more are awaited. Only progress renews the timeout:
 * a worker busy for a while must not count its own delay against a client. */
enum { READ_DONE = -1, READ_IDLE = 0, READ_PROGRESS = 1 };

static int conn_readable(struct worker *w, struct conn *c)
{
    uint8_t scratch[512];
    int progress = 0;
    for (;;) {
        uint8_t *dst;
        size_t room;
        if (c->state == ST_SKIP) {
            dst = scratch;
            room = c->skip_left < sizeof(scratch) ? c->skip_left : sizeof(scratch);
        } else {
            if (c->expected && c->got == c->cap && conn_grow(w->srv, c) != 0) {
                conn_fail(w, c, PSC_PSA_INSUFFICIENT_MEMORY);
                return READ_DONE;
            }
            dst = c->buf + c->got;
            room = (c->expected ? c->expected : c->cap) - c->got;
            if (c->expected && room > c->cap - c->got)
                room = c->cap - c->got;
        }
        ssize_t n = recv(c->fd, dst, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!progress)
                return READ_IDLE;
            touch(w, c);
            return READ_PROGRESS;
        }
        if (n <= 0) {
            /* Closed or broken before a whole request: answered as a read failure. */
            conn_fail(w, c, PSC_CONNECTION_ERROR);
            return READ_DONE;
        }
        progress = 1;
        if (c->state == ST_SKIP) {
            c->skip_left -= (size_t)n;
            if (c->skip_left == 0) {
                conn_fail(w, c, PSC_INVALID_HEADER);
                return READ_DONE;
            }
            continue;
        }
        c->got += (size_t)n;
        if (conn_advance(w, c) != 0)
            return READ_DONE;
    }
}

static void accept_some(struct worker *w)
{
    struct server *srv = w->srv;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(atomic_load(&srv->listen_fd), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors beyond the reserve: stop accepting until a connection
                 * closes, or for a while if this worker holds none, rather than spinning on a
                 * listening socket that stays readable. */
                log_warn(MOD, "cannot accept: %s", strerror(errno));
                set_accepting(w, 0);
                w->resume_at = now_ms() + ACCEPT_RETRY_MS;
            }
            return;
        }
        /* Who connected decides the share of connections and memory the connection may
         * use. A connection beyond its user's share is accepted and refused at once: left in
         * the listening queue it would fill it, and other users could no longer connect. */
        struct ucred uc;
        socklen_t ul = sizeof(uc);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) != 0 || ul != sizeof(uc)) {
            log_debug(MOD, "no peer credentials: %s", strerror(errno));
            refuse(fd, PSC_CONNECTION_ERROR);
            continue;
        }
        struct peer *p = peer_join(srv, uc.uid);
        if (!p) {
            log_debug(MOD, "connection of uid %u refused: its share of connections is taken",
                      (unsigned)uc.uid);
            refuse(fd, PSC_PSA_INSUFFICIENT_MEMORY);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            peer_leave(srv, p);
            refuse(fd, PSC_PSA_INSUFFICIENT_MEMORY);
            continue;
        }
        c->fd = fd;
        c->buf = c->inline_buf;
        c->cap = sizeof(c->inline_buf);
        c->peer = p;
        c->cred = (struct peer_cred){.uid = uc.uid, .gid = uc.gid, .pid = uc.pid};
        w->n_conns++;
        touch(w, c);
        limit_start(w, c);
        /* The request is often there already: serve it without a trip through epoll, and
         * register the connection only if it has to wait. */
        if (conn_readable(w, c) == READ_DONE)
            continue;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_close(w, c);
    }
}

/* The connection due first in either queue, if it is due. */
static struct conn *due_conn(struct worker *w, uint64_t now, int *q)
{
    struct conn *c = NULL;
    for (int i = 0; i < Q_COUNT; i++) {
        struct conn *h = w->q[i].head;
        if (h && h->due[i] <= now && (!c || h->due[i] < c->due[*q])) {
            c = h;
            *q = i;
        }
    }
    return c;
}

static void expire(struct worker *w)
{
    uint64_t now = now_ms();
    struct conn *c;
    int q = Q_IDLE;
    while ((c = due_conn(w, now, &q)) != NULL) {
        if (c->state == ST_WRITE) {
            log_debug(MOD, "client did not read its reply in time");
            conn_close(w, c);
            continue;
        }
        /* Bytes that arrived while this worker was busy count as in time: a request they
         * complete is served. Otherwise a client that sent nothing new within the timeout, or
         * not its whole request within the time limit, is answered ConnectionError; the
         * reply is tried once more within a new timeout, then the client loses it. */
        int r = conn_readable(w, c);
        if (r == READ_DONE || (q == Q_IDLE && r == READ_PROGRESS))
            continue;
        log_debug(MOD, q == Q_IDLE ? "request not received in time"
                                   : "request not complete within the time limit");
        conn_fail(w, c, PSC_CONNECTION_ERROR);
    }
}

/* At the end of the grace period of a stop: every connection still waiting for its request
 * is read one last time (a request completed while this worker was busy is served), then
 * answered ConnectionError and closed. Replies being written keep their own time limit. */
static void stop_cut(struct worker *w)
{
    struct conn *c = w->q[Q_LIMIT].head;
    while (c) {
        struct conn *next = c->link[Q_LIMIT].next;
        if (c->state != ST_WRITE && conn_readable(w, c) != READ_DONE) {
            log_debug(MOD, "stopping: partial request dropped");
            frontend_generic_reply(PSC_CONNECTION_ERROR, c->small_out);
            if (send(c->fd, c->small_out, PSC_WIRE_HEADER_SIZE, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                log_debug(MOD, "could not write the reply: %s", strerror(errno));
            conn_close(w, c);
        }
        c = next;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    struct epoll_event evs[EVENTS_MAX];
    int stopping = 0, cut = 0;
    uint64_t stop_at = 0;
    for (;;) {
        if (stopping && w->n_conns == 0)
            break;
        uint64_t now = now_ms();
        if (stopping && !cut && now >= stop_at) {
            stop_cut(w);
            cut = 1;
            continue;
        }
        if (!stopping && !w->accepting && now >= w->resume_at && set_accepting(w, 1) != 0)
            w->resume_at = now + ACCEPT_RETRY_MS;
        uint64_t next = stopping && !cut ? stop_at : UINT64_MAX;
        if (!stopping && !w->accepting && w->resume_at < next)
            next = w->resume_at;
        for (int q = 0; q < Q_COUNT; q++)
            if (w->q[q].head && w->q[q].head->due[q] < next)
                next = w->q[q].head->due[q];
        int wait = next == UINT64_MAX       ? -1
                   : next <= now            ? 0
                   : next - now > INT32_MAX ? INT32_MAX
                                            : (int)(next - now);
        int n = epoll_wait(w->ep, evs, EVENTS_MAX, wait);
        if (n < 0 && errno != EINTR) {
            log_error(MOD, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &tag_stop) {
                if (!stopping) {
                    stopping = 1;
                    stop_at = now_ms() + atomic_load(&srv->stop_grace_ms);
                    set_accepting(w, 0);
                    struct epoll_event none = {0};
                    epoll_ctl(w->ep, EPOLL_CTL_DEL, srv->stop_fd, &none);
                }
            } else if (p == &tag_listen) {
                if (!stopping)
                    accept_some(w);
            } else if (p == &tag_admit) {
                resume_waiting(w);
            } else {
                struct conn *c = p;
                if (c->state == ST_WRITE) {
                    conn_write(w, c);
                } else if (c->state == ST_WAIT) {
                    log_debug(MOD, "client left before its turn");
                    conn_close(w, c);
                } else {
                    conn_readable(w, c);
                }
            }
        }
        expire(w);
    }
    return NULL;
}

/* Connections RLIMIT_NOFILE allows, its soft limit raised to the hard one first, less the
 * descriptors kept back. */
static size_t conn_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn(MOD, "cannot raise the descriptor limit: %s", strerror(errno));
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return FD_RESERVE;
    size_t total = rl.rlim_cur > 2 * FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE : FD_RESERVE;
    if (total > 1 << 20)
        total = 1 << 20;
    return total;
}
/* Stops and joins the started workers, then frees everything but the service and the listening
 * socket. */
static void server_release(struct server *srv)
{
    atomic_store(&srv->stopping, 1);
    uint64_t one = 1;
    if (srv->n_workers > 0 && write(srv->stop_fd, &one, sizeof(one)) != sizeof(one))
        log_error(MOD, "cannot signal the workers: %s", strerror(errno));
    for (size_t i = 0; i < srv->n_workers; i++) {
        pthread_join(srv->workers[i].thread, NULL);
        close(srv->workers[i].ep);
    }
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    if (srv->admit_fd >= 0)
        close(srv->admit_fd);
    pthread_rwlock_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->listen_lock);
    pthread_mutex_destroy(&srv->peers_lock);
    free(srv->workers);
    free(srv);
}

int server_start(int listen_fd, size_t n_workers, struct psc_service *s, struct server **out,
                 char *err, size_t err_len)
{
    struct server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A reload must not wait behind an endless stream of requests. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&srv->lock, &ra);
    pthread_mutex_init(&srv->listen_lock, NULL);
    pthread_mutex_init(&srv->peers_lock, NULL);
    pthread_rwlockattr_destroy(&ra);
    srv->svc = s;
    atomic_store(&srv->listen_fd, listen_fd);
    srv->conns_fd_max = conn_fd_limit();
    limits_apply(srv, &s->cfg.core, s->cfg.listener.timeout);
    log_info(MOD, "limits: %zu connections (%zu per user), %zu bytes of buffers (%zu per user)",
             srv->conns_max, srv->conns_share, srv->mem_max, srv->mem_share);
    srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    srv->admit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    srv->serial_max = n_workers > 1 ? (unsigned)(n_workers - 1) : 1;
    srv->workers = calloc(n_workers, sizeof(*srv->workers));
    if (srv->stop_fd < 0 || srv->admit_fd < 0 || !srv->workers) {
        snprintf(err, err_len, "cannot create the workers: %s", strerror(errno));
        goto fail;
    }
    /* srv->n_workers counts the running threads, so that a failure stops just those. */
    for (size_t i = 0; i < n_workers; i++) {
        struct worker *w = &srv->workers[i];
        w->srv = srv;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_stop};
        struct epoll_event admit = {.events = EPOLLIN | EPOLLET, .data.ptr = &tag_admit};
        if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, srv->stop_fd, &ev) != 0 ||
            epoll_ctl(w->ep, EPOLL_CTL_ADD, srv->admit_fd, &admit) != 0) {
            snprintf(err, err_len, "epoll: %s", strerror(errno));
        } else if (set_accepting(w, 1) != 0) {
            snprintf(err, err_len, "epoll: cannot watch the listening socket");
        } else if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, err_len, "cannot start worker thread");
        } else {
            srv->n_workers++;
            continue;
        }
        if (w->ep >= 0)
            close(w->ep);
        goto fail;
    }
    *out = srv;
    return 0;
fail:
    server_release(srv);
    return -1;
}

void server_exclusive(struct server *srv, void (*f)(struct psc_service **svc, void *arg), void *arg)
{
    pthread_rwlock_wrlock(&srv->lock);
    f(&srv->svc, arg);
    limits_apply(srv, &srv->svc->cfg.core, srv->svc->cfg.listener.timeout);
    pthread_rwlock_unlock(&srv->lock);
    /* Requests waiting for a provider of the old service try the new one. */
    uint64_t one = 1;
    if (atomic_load(&srv->waiting) > 0 && write(srv->admit_fd, &one, sizeof(one)) != sizeof(one))
        log_error(MOD, "cannot wake the workers: %s", strerror(errno));
}

int server_replace_listener(struct server *srv, int new_fd)
{
    pthread_mutex_lock(&srv->listen_lock);
    int old = atomic_exchange(&srv->listen_fd, new_fd);
    for (size_t i = 0; i < srv->n_workers; i++) {
        struct worker *w = &srv->workers[i];
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &tag_listen};
        /* Workers that are full add it back themselves when a connection closes. */
        epoll_ctl(w->ep, EPOLL_CTL_DEL, old, NULL);
        if (w->accepting && epoll_ctl(w->ep, EPOLL_CTL_ADD, new_fd, &ev) != 0) {
            log_warn(MOD, "cannot watch the new listening socket: %s", strerror(errno));
            w->accepting = 0; /* tried again when one of its connections closes */
        }
    }
    pthread_mutex_unlock(&srv->listen_lock);
    return old;
}

int server_stop(struct server *srv)
{
    int fd = atomic_load(&srv->listen_fd);
    struct psc_service *svc = srv->svc;
    server_release(srv);
    service_free(svc);
    return fd;
}
