/* SPIFFE Workload API client: one unary gRPC call per connection, HTTP/2 by nghttp2, a poll
 * loop of our own so that the whole call, connect included, ends by one deadline.
 *
 * nghttp2 rather than the gRPC C core: it is one small library (about 200 KiB, no further
 * dependencies) that starts no threads, where libgrpc brings abseil, re2, c-ares, OpenSSL and
 * its own thread pools into the service and into every client process. gRPC over HTTP/2 for
 * two unary calls is a 5-byte message prefix and four headers; HTTP/2 itself stays nghttp2's. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "common/spiffe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "workload.pb-c.h"

#define GRPC_PREFIX 5
/* The longest grpc-message kept for the error text. */
#define GRPC_MESSAGE_MAX 120
/* All bytes read from the connection, frames of every kind and padding included: control
 * frames (PING, SETTINGS, WINDOW_UPDATE, other streams) do not count against
 * SPIFFE_MAX_REPLY, and a server sending them without end must not keep the call going. */
#define MAX_RECEIVED (4u * SPIFFE_MAX_REPLY)

struct call {
    int fd;
    uint8_t *req; /* gRPC-framed request; may hold a token: wiped */
    size_t req_len, req_off;
    uint8_t *resp;
    size_t resp_len, header_bytes, received;
    uint64_t deadline; /* CLOCK_MONOTONIC ms */
    int32_t stream_id;
    int http_status, grpc_status; /* -1 until seen */
    char grpc_message[GRPC_MESSAGE_MAX + 1];
    int closed, too_big;
    uint32_t close_error;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The socket path of an endpoint, or NULL. */
static const char *endpoint_path(const char *endpoint)
{
    const char *p = endpoint;
    if (!p)
        return NULL;
    if (strncmp(p, "unix://", 7) == 0)
        p += 7;
    else if (strncmp(p, "unix:", 5) == 0)
        p += 5;
    if (p[0] != '/' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return NULL;
    return p;
}

int spiffe_endpoint_ok(const char *endpoint)
{
    return endpoint_path(endpoint) != NULL;
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *u)
{
    (void)s;
    (void)flags;
    struct call *c = u;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? NGHTTP2_ERR_WOULDBLOCK
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    return n;
}

static ssize_t recv_cb(nghttp2_session *s, uint8_t *buf, size_t len, int flags, void *u)
{
    (void)s;
    (void)flags;
    struct call *c = u;
    /* nghttp2 reads until the socket is empty: a fast sender is cut off here. */
    if (now_ms() >= c->deadline)
        return NGHTTP2_ERR_WOULDBLOCK;
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? NGHTTP2_ERR_WOULDBLOCK
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    if (n == 0)
        return NGHTTP2_ERR_EOF;
    c->received += (size_t)n;
    if (c->received > MAX_RECEIVED) {
        c->too_big = 1;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return n;
}

static int name_is(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* A small non-negative decimal, -2 when it is not one. */
static int small_int(const uint8_t *v, size_t len)
{
    int n = 0;
    if (len == 0 || len > 4)
        return -2;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -2;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *u)
{
    (void)s;
    (void)flags;
    struct call *c = u;
    if (frame->hd.stream_id != c->stream_id)
        return 0;
    /* 32: the per-field overhead RFC 7541 §4.1 counts. */
    c->header_bytes += namelen + valuelen + 32;
    if (c->header_bytes + c->resp_len > SPIFFE_MAX_REPLY) {
        c->too_big = 1;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (name_is(name, namelen, ":status")) {
        c->http_status = small_int(value, valuelen);
    } else if (name_is(name, namelen, "grpc-status")) {
        c->grpc_status = small_int(value, valuelen);
    } else if (name_is(name, namelen, "grpc-message")) {
        size_t n = valuelen < GRPC_MESSAGE_MAX ? valuelen : GRPC_MESSAGE_MAX;
        /* It goes into a log line: printable ASCII only. */
        for (size_t i = 0; i < n; i++)
            c->grpc_message[i] = value[i] >= 0x20 && value[i] < 0x7f ? (char)value[i] : '?';
        c->grpc_message[n] = '\0';
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *u)
{
    (void)s;
    (void)flags;
    struct call *c = u;
    if (stream_id != c->stream_id || len == 0)
        return 0;
    if (c->resp_len + c->header_bytes > SPIFFE_MAX_REPLY ||
        len > SPIFFE_MAX_REPLY - c->resp_len - c->header_bytes) {
        c->too_big = 1;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    uint8_t *p = realloc(c->resp, c->resp_len + len);
    if (!p)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    memcpy(p + c->resp_len, data, len);
    c->resp = p;
    c->resp_len += len;
    return 0;
}

static int on_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *u)
{
    (void)s;
    struct call *c = u;
    if (stream_id == c->stream_id) {
        c->closed = 1;
        c->close_error = error_code;
    }
    return 0;
}

static ssize_t read_req(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                        uint32_t *data_flags, nghttp2_data_source *src, void *u)
{
    (void)s;
    (void)stream_id;
    (void)src;
    struct call *c = u;
    size_t n = c->req_len - c->req_off;
    if (n > length)
        n = length;
    memcpy(buf, c->req + c->req_off, n);
    c->req_off += n;
    if (c->req_off == c->req_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int connect_unix(const char *path, char *err, size_t err_len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    /* A Unix connect completes at once or fails (EAGAIN: the server's backlog is full). */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, err_len, "cannot connect to the Workload API at %s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

/* Drives the HTTP/2 session until the stream closes or the deadline passes. */
static int run(nghttp2_session *s, struct call *c, int timeout_ms, char *err, size_t err_len)
{
    uint64_t deadline = c->deadline;
    while (!c->closed) {
        int rv = nghttp2_session_send(s);
        if (rv != 0) {
            snprintf(err, err_len, "Workload API connection: %s", nghttp2_strerror(rv));
            return -1;
        }
        if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s))
            break;
        uint64_t now = now_ms();
        if (now >= deadline) {
            snprintf(err, err_len, "Workload API did not answer within %d ms", timeout_ms);
            return -1;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (nghttp2_session_want_write(s))
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, (int)(deadline - now));
        if (n < 0 && errno != EINTR) {
            snprintf(err, err_len, "poll: %s", strerror(errno));
            return -1;
        }
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            rv = nghttp2_session_recv(s);
            if (rv != 0) {
                if (c->too_big)
                    snprintf(err, err_len, "Workload API reply larger than %u bytes",
                             c->received > MAX_RECEIVED ? MAX_RECEIVED : SPIFFE_MAX_REPLY);
                else if (rv == NGHTTP2_ERR_EOF)
                    snprintf(err, err_len, "Workload API closed the connection");
                else
                    snprintf(err, err_len, "Workload API connection: %s", nghttp2_strerror(rv));
                return -1;
            }
        }
    }
    if (!c->closed) {
        snprintf(err, err_len, "Workload API closed the connection");
        return -1;
    }
    return 0;
}

/* Checks the reply's status and framing; on success msg and len locate the protobuf message. */
static int reply_message(const struct call *c, const uint8_t **msg, size_t *len, char *err,
                         size_t err_len)
{
    if (c->close_error != NGHTTP2_NO_ERROR) {
        snprintf(err, err_len, "Workload API reset the call (%s)",
                 nghttp2_http2_strerror(c->close_error));
        return -1;
    }
    if (c->http_status != 200) {
        snprintf(err, err_len, "Workload API answered HTTP status %d", c->http_status);
        return -1;
    }
    if (c->grpc_status != 0) {
        if (c->grpc_status < 0)
            snprintf(err, err_len, "Workload API reply without a gRPC status");
        else
            snprintf(err, err_len, "Workload API: gRPC status %d%s%s", c->grpc_status,
                     c->grpc_message[0] ? ": " : "", c->grpc_message);
        return -1;
    }
    if (c->resp_len < GRPC_PREFIX || c->resp[0] != 0) {
        snprintf(err, err_len, "Workload API reply is not one uncompressed gRPC message");
        return -1;
    }
    size_t n = (size_t)c->resp[1] << 24 | (size_t)c->resp[2] << 16 | (size_t)c->resp[3] << 8 |
               (size_t)c->resp[4];
    if (n != c->resp_len - GRPC_PREFIX) {
        snprintf(err, err_len, "Workload API reply is not one whole gRPC message");
        return -1;
    }
    *msg = c->resp + GRPC_PREFIX;
    *len = n;
    return 0;
}

/* One unary call: request message in, reply message unpacked with desc out. */
static int unary(const char *endpoint, const char *method, const ProtobufCMessage *in,
                 const ProtobufCMessageDescriptor *desc, int timeout_ms, ProtobufCMessage **out,
                 char *err, size_t err_len)
{
    struct call c = {.fd = -1, .http_status = -1, .grpc_status = -1};
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_session *s = NULL;
    int rc = -1;
    *out = NULL;
    c.deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1);
    const char *path = endpoint_path(endpoint);
    if (!path) {
        snprintf(err, err_len, "Workload API endpoint \"%.200s\" is not a unix: socket path",
                 endpoint ? endpoint : "");
        return -1;
    }
    size_t n = protobuf_c_message_get_packed_size(in);
    if (n > SPIFFE_MAX_REPLY || !(c.req = malloc(GRPC_PREFIX + n))) {
        snprintf(err, err_len, "request too large");
        return -1;
    }
    c.req[0] = 0;
    c.req[1] = (uint8_t)(n >> 24);
    c.req[2] = (uint8_t)(n >> 16);
    c.req[3] = (uint8_t)(n >> 8);
    c.req[4] = (uint8_t)n;
    protobuf_c_message_pack(in, c.req + GRPC_PREFIX);
    c.req_len = GRPC_PREFIX + n;
    if ((c.fd = connect_unix(path, err, err_len)) < 0)
        goto out;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        goto oom;
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_recv_callback(cb, recv_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    if (nghttp2_session_client_new(&s, cb, &c) != 0)
        goto oom;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, SPIFFE_MAX_REPLY}};
    if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        goto oom;
    nghttp2_nv hdrs[] = {
        NV(":method", "POST"),
        NV(":scheme", "http"),
        NV(":path", method),
        NV(":authority", "localhost"),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
        /* The Workload API refuses calls without it (SPIFFE Workload Endpoint §5). */
        NV("workload.spiffe.io", "true"),
    };
    nghttp2_data_provider dp = {.read_callback = read_req};
    c.stream_id = nghttp2_submit_request(s, NULL, hdrs, sizeof(hdrs) / sizeof(hdrs[0]), &dp, &c);
    if (c.stream_id < 0)
        goto oom;
    const uint8_t *msg;
    size_t len;
    if (run(s, &c, timeout_ms, err, err_len) != 0 ||
        reply_message(&c, &msg, &len, err, err_len) != 0)
        goto out;
    if (!(*out = protobuf_c_message_unpack(desc, NULL, len, msg))) {
        snprintf(err, err_len, "Workload API reply is not a valid %s", desc->name);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, err_len, "out of memory");
out:
    if (s)
        nghttp2_session_del(s);
    if (cb)
        nghttp2_session_callbacks_del(cb);
    if (c.fd >= 0)
        close(c.fd);
    explicit_bzero(c.req, c.req_len);
    free(c.req);
    if (c.resp) {
        explicit_bzero(c.resp, c.resp_len);
        free(c.resp);
    }
    return rc;
}

int spiffe_validate_jwt(const char *endpoint, const char *token, const char *audience,
                        int timeout_ms, char **spiffe_id, char *err, size_t err_len)
{
    ValidateJWTSVIDRequest rq = VALIDATE_JWTSVIDREQUEST__INIT;
    ProtobufCMessage *m;
    *spiffe_id = NULL;
    rq.audience = (char *)audience;
    rq.svid = (char *)token;
    if (unary(endpoint, "/SpiffeWorkloadAPI/ValidateJWTSVID", &rq.base,
              &validate_jwtsvidresponse__descriptor, timeout_ms, &m, err, err_len) != 0)
        return -1;
    const char *id = ((ValidateJWTSVIDResponse *)m)->spiffe_id;
    int rc = -1;
    /* protobuf-c has checked it is UTF-8; a NUL would have ended it early. */
    if (!id || strncmp(id, "spiffe://", 9) != 0 || strlen(id) <= 9)
        snprintf(err, err_len, "Workload API validated the token without a SPIFFE ID");
    else if (!(*spiffe_id = strdup(id)))
        snprintf(err, err_len, "out of memory");
    else
        rc = 0;
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

int spiffe_fetch_jwt(const char *endpoint, const char *audience, int timeout_ms, char **token,
                     char *err, size_t err_len)
{
    JWTSVIDRequest rq = JWTSVIDREQUEST__INIT;
    char *aud[1] = {(char *)audience};
    ProtobufCMessage *m;
    *token = NULL;
    rq.n_audience = 1;
    rq.audience = aud;
    if (unary(endpoint, "/SpiffeWorkloadAPI/FetchJWTSVID", &rq.base, &jwtsvidresponse__descriptor,
              timeout_ms, &m, err, err_len) != 0)
        return -1;
    JWTSVIDResponse *r = (JWTSVIDResponse *)m;
    int rc = -1;
    if (r->n_svids == 0 || !r->svids[0]->svid || !r->svids[0]->svid[0])
        snprintf(err, err_len, "Workload API gave no JWT-SVID");
    else if (!(*token = strdup(r->svids[0]->svid)))
        snprintf(err, err_len, "out of memory");
    else
        rc = 0;
    for (size_t i = 0; i < r->n_svids; i++)
        if (r->svids[i]->svid)
            explicit_bzero(r->svids[i]->svid, strlen(r->svids[i]->svid));
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

void spiffe_token_free(char *token)
{
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
}
