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
 * signature over a hash) arrives in one read. */
#define CONN_INLINE 512
/* Growth step of a request buffer: memory follows the bytes that really arrived, never a
 * length the client merely claimed. */
#define CONN_GROW_MIN 65536
/* Heap held by request buffers across all connections: at most this, or four requests of the
 * configured body_len_limit if that is more. Each buffer holds only bytes that arrived, but
 * thousands of clients each sending a large body would otherwise take the machine's memory; a
 * request that would go beyond is answered PsaErrorInsufficientMemory, as a failed allocation
 * is. */
#define REQUEST_MEMORY_MIN ((size_t)64 << 20)
#define REQUEST_MEMORY_BODIES 4
/* Events handled per epoll_wait, and connections accepted per wake-up of one worker. */
#define EVENTS_MAX 64
#define ACCEPT_BURST 32
/* File descriptors kept back from connections (logs, key stores, back-ends). */
#define FD_RESERVE 64

enum conn_state { ST_READ, ST_SKIP, ST_WRITE };

struct conn {
    int fd;
    enum conn_state state;
    uint8_t *buf; /* inline or heap */
    size_t cap, got;
    size_t expected;  /* total request bytes once the header is known, else 0 */
    size_t skip_left; /* ST_SKIP: header bytes still to discard */
    struct psc_header h;
    uint8_t *out; /* reply being written */
    size_t out_len, out_off;
    uint64_t deadline; /* ms, CLOCK_MONOTONIC */
    struct conn *prev, *next;
    uint8_t inline_buf[CONN_INLINE];
    uint8_t small_out[PSC_WIRE_HEADER_SIZE];
};

struct worker {
    struct server *srv;
    pthread_t thread;
    int ep;
    size_t n_conns;
    _Atomic int accepting;
    struct conn *head, *tail; /* ordered by deadline */
};

struct server {
    pthread_rwlock_t lock; /* read: a request in flight; write: reload */
    /* Serialises changes to the listening socket's place in the workers' epoll sets: a worker
     * pausing or resuming accepts against a reload replacing the socket. */
    pthread_mutex_t listen_lock;
    struct psc_service *svc;
    _Atomic int listen_fd;
    int stop_fd; /* eventfd, written once at stop, never read: wakes every worker */
    atomic_bool stopping;
    _Atomic size_t body_len_limit;
    _Atomic size_t request_memory; /* bytes of heap request buffers, all workers */
    _Atomic uint64_t timeout_ms;
    size_t max_conns; /* per worker */
    size_t n_workers;
    struct worker *workers;
};

/* epoll data for the two non-connection sources. */
static int tag_listen, tag_stop;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void list_unlink(struct worker *w, struct conn *c)
{
    if (!c->prev && w->head != c)
        return; /* not linked */
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->tail = c->prev;
    c->prev = c->next = NULL;
}

/* Every deadline is "now + timeout", so appending keeps the list ordered (up to a timeout
 * change at reload, which only makes some connections expire a little late). */
static void touch(struct worker *w, struct conn *c)
{
    list_unlink(w, c);
    c->deadline = now_ms() + atomic_load(&w->srv->timeout_ms);
    c->prev = w->tail;
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
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
    list_unlink(w, c);
    close(c->fd); /* also removes it from the epoll set */
    if (c->buf != c->inline_buf) {
        mbedtls_platform_zeroize(c->buf, c->got);
        free(c->buf);
        atomic_fetch_sub(&w->srv->request_memory, c->cap);
    }
    if (c->out != c->small_out) {
        mbedtls_platform_zeroize(c->out, c->out_len);
        free(c->out);
    }
    mbedtls_platform_zeroize(c->inline_buf, sizeof(c->inline_buf));
    free(c);
    w->n_conns--;
    if (w->n_conns < w->srv->max_conns)
        set_accepting(w, 1);
}

/* Writes as much of the reply as the socket takes; closes the connection when done or broken.
 * Returns 1 if the connection is still open. */
static int conn_write(struct worker *w, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
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

/* Replies with the generic header and closes: errors found before the header was trusted. */
static int conn_fail(struct worker *w, struct conn *c, int status)
{
    frontend_generic_reply(status, c->small_out);
    c->out = c->small_out;
    c->out_len = PSC_WIRE_HEADER_SIZE;
    c->out_off = 0;
    c->state = ST_WRITE;
    return conn_write(w, c);
}

static int conn_process(struct worker *w, struct conn *c)
{
    struct server *srv = w->srv;
    struct peer_cred peer;
    struct fe_request rq = {
        .h = c->h,
        .body = c->buf + PSC_WIRE_HEADER_SIZE,
        .auth = c->buf + PSC_WIRE_HEADER_SIZE + c->h.body_len,
        .peer = NULL,
    };
    /* Only the Unix peer credentials authenticator needs them: asked for on its requests. */
    if (c->h.auth_type == PSC_AUTH_UNIX_PEER_CREDENTIALS) {
        struct ucred uc;
        socklen_t ul = sizeof(uc);
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0 && ul == sizeof(uc)) {
            peer = (struct peer_cred){.uid = uc.uid, .gid = uc.gid, .pid = uc.pid};
            rq.peer = &peer;
        }
    }
    pthread_rwlock_rdlock(&srv->lock);
    int rc = frontend_handle(srv->svc, &rq, &c->out, &c->out_len);
    pthread_rwlock_unlock(&srv->lock);
    if (rc < 0)
        return conn_fail(w, c, PSC_PSA_INSUFFICIENT_MEMORY);
    c->out_off = 0;
    c->state = ST_WRITE;
    return conn_write(w, c);
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

static int conn_grow(struct server *srv, struct conn *c)
{
    size_t cap = c->cap * 2 < CONN_GROW_MIN ? CONN_GROW_MIN : c->cap * 2;
    if (cap > c->expected)
        cap = c->expected;
    size_t held = c->buf != c->inline_buf ? c->cap : 0;
    size_t budget = REQUEST_MEMORY_BODIES * atomic_load(&srv->body_len_limit);
    if (budget < REQUEST_MEMORY_MIN)
        budget = REQUEST_MEMORY_MIN;
    if (atomic_fetch_add(&srv->request_memory, cap - held) + (cap - held) > budget) {
        atomic_fetch_sub(&srv->request_memory, cap - held);
        return -1;
    }
    uint8_t *b = malloc(cap);
    if (!b) {
        atomic_fetch_sub(&srv->request_memory, cap - held);
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
 * READ_PROGRESS when bytes were read and more are awaited. Only progress renews the deadline:
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
    for (int i = 0; i < ACCEPT_BURST && w->n_conns < srv->max_conns; i++) {
        int fd = accept4(atomic_load(&srv->listen_fd), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting until a connection closes, rather than
                 * spinning on a listening socket that stays readable. */
                log_warn(MOD, "cannot accept: %s", strerror(errno));
                set_accepting(w, 0);
            }
            return;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->buf = c->inline_buf;
        c->cap = sizeof(c->inline_buf);
        w->n_conns++;
        touch(w, c);
        /* The request is often there already: serve it without a trip through epoll, and
         * register the connection only if it has to wait. */
        if (conn_readable(w, c) == READ_DONE)
            continue;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_close(w, c);
    }
    if (w->n_conns >= srv->max_conns)
        set_accepting(w, 0);
}

static void expire(struct worker *w)
{
    uint64_t now = now_ms();
    while (w->head && w->head->deadline <= now) {
        struct conn *c = w->head;
        if (c->state == ST_WRITE) {
            log_debug(MOD, "client did not read its reply in time");
            conn_close(w, c);
        } else if (conn_readable(w, c) == READ_IDLE) {
            /* Bytes that arrived while this worker was busy count as in time: only a client
             * that really sent nothing new is timed out. The reply is tried once more within a
             * new timeout, then the client loses it. */
            log_debug(MOD, "request not received in time");
            conn_fail(w, c, PSC_CONNECTION_ERROR);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    struct epoll_event evs[EVENTS_MAX];
    int stopping = 0;
    for (;;) {
        if (stopping && w->n_conns == 0)
            break;
        int wait = -1;
        if (w->head) {
            uint64_t now = now_ms();
            wait = w->head->deadline <= now ? 0 : (int)(w->head->deadline - now);
        }
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
                    set_accepting(w, 0);
                    struct epoll_event none = {0};
                    epoll_ctl(w->ep, EPOLL_CTL_DEL, srv->stop_fd, &none);
                }
            } else if (p == &tag_listen) {
                if (!stopping)
                    accept_some(w);
            } else {
                struct conn *c = p;
                if (c->state == ST_WRITE)
                    conn_write(w, c);
                else
                    conn_readable(w, c);
            }
        }
        expire(w);
    }
    return NULL;
}

static size_t conn_limit(size_t n_workers)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    size_t total = rl.rlim_cur > 2 * FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE : FD_RESERVE;
    if (total > 1 << 20)
        total = 1 << 20;
    return total / n_workers ? total / n_workers : 1;
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
    pthread_rwlock_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->listen_lock);
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
    pthread_rwlockattr_destroy(&ra);
    srv->svc = s;
    atomic_store(&srv->listen_fd, listen_fd);
    atomic_store(&srv->body_len_limit, s->cfg.core.body_len_limit);
    atomic_store(&srv->timeout_ms, s->cfg.listener.timeout);
    srv->max_conns = conn_limit(n_workers);
    srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    srv->workers = calloc(n_workers, sizeof(*srv->workers));
    if (srv->stop_fd < 0 || !srv->workers) {
        snprintf(err, err_len, "cannot create the workers: %s", strerror(errno));
        goto fail;
    }
    /* srv->n_workers counts the running threads, so that a failure stops just those. */
    for (size_t i = 0; i < n_workers; i++) {
        struct worker *w = &srv->workers[i];
        w->srv = srv;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_stop};
        if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, srv->stop_fd, &ev) != 0) {
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

void server_exclusive(struct server *srv, void (*f)(struct psc_service **svc, void *arg),
                      void *arg)
{
    pthread_rwlock_wrlock(&srv->lock);
    f(&srv->svc, arg);
    atomic_store(&srv->body_len_limit, srv->svc->cfg.core.body_len_limit);
    atomic_store(&srv->timeout_ms, srv->svc->cfg.listener.timeout);
    pthread_rwlock_unlock(&srv->lock);
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
