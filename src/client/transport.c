/* One request on one new connection (parsec-tool-and-clients.md §5.5): connect, set the read
 * and write timeouts, write the whole request, read one bounded reply, close. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/client_int.h"
#include "wire/header.h"
#include "wire/status.h"

/* Largest timeout given to the kernel; longer values are as good as infinite. */
#define TR_TIMEOUT_MAX_S ((uint64_t)1 << 31)

static int set_timeouts(int fd, uint64_t ms)
{
    struct timeval tv = {0, 0}; /* zero: block forever */
    if (ms != PARSEC_TIMEOUT_INFINITE) {
        uint64_t s = ms / 1000;
        if (s > TR_TIMEOUT_MAX_S)
            s = TR_TIMEOUT_MAX_S;
        tv.tv_sec = (time_t)s;
        tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
        return PARSEC_ERROR_IO;
    return 0;
}

static int io_error(int e)
{
    return (e == EAGAIN || e == EWOULDBLOCK) ? PARSEC_ERROR_TIMEOUT : PARSEC_ERROR_IO;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        /* MSG_NOSIGNAL: a service that closed early must not kill the application. */
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno);
        }
        if (r == 0)
            return PARSEC_ERROR_IO; /* the service closed before a whole reply */
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int open_socket(const char *path, int *out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    *out = -1;
    if (n > CL_SOCKET_PATH_MAX || n == 0)
        return PARSEC_ERROR_INVALID_SOCKET_ADDRESS;
    memcpy(sa.sun_path, path, n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return PARSEC_ERROR_CONNECT;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return PARSEC_ERROR_CONNECT;
    }
    *out = fd;
    return 0;
}

/* The reply header checks of the original client, in its order: magic, header size, version,
 * reserved bytes, body length, then values that must be defined (status). */
static int check_reply_header(const uint8_t raw[PSC_WIRE_HEADER_SIZE], size_t max_body,
                              struct psc_header *h)
{
    int rc = psc_header_decode_full(raw, h);
    if (rc == PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED)
        return PARSEC_ERROR_RESPONSE_VERSION;
    if (rc != 0)
        return PARSEC_ERROR_RESPONSE_HEADER;
    if (h->body_len > max_body)
        return PARSEC_ERROR_RESPONSE_TOO_LONG;
    if (!psc_status_is_valid(h->status) || h->content_type != 0)
        return PARSEC_ERROR_ENCODING;
    return 0;
}

int cl_transport(const struct cl_settings *s, const uint8_t *req, size_t len,
                 struct psc_header *hdr, uint8_t **body)
{
    uint8_t raw[PSC_WIRE_HEADER_SIZE];
    uint8_t *b = NULL;
    int fd = -1;
    int saved_errno = 0;
    *body = NULL;

    int rc = open_socket(s->socket_path, &fd);
    if (rc != 0) {
        saved_errno = errno;
        goto out;
    }
    rc = set_timeouts(fd, s->timeout_ms);
    if (rc == 0)
        rc = write_all(fd, req, len);
    /* The service may answer before reading the whole request (a body over its limit) and
     * close: the reply it sent first is still worth reading. */
    if (rc == 0 || (rc == PARSEC_ERROR_IO && (errno == EPIPE || errno == ECONNRESET))) {
        int wrc = rc;
        rc = read_all(fd, raw, sizeof(raw));
        if (rc != 0 && wrc != 0)
            rc = wrc;
    }
    if (rc == 0)
        rc = check_reply_header(raw, s->max_body, hdr);
    if (rc == 0 && hdr->body_len > 0) {
        b = malloc(hdr->body_len);
        if (!b)
            rc = PARSEC_ERROR_NO_MEMORY;
        else
            rc = read_all(fd, b, hdr->body_len);
    }
    if (rc == 0) {
        *body = b;
        b = NULL;
    }
out:
    if (b) {
        cl_wipe(b, hdr->body_len);
        free(b);
    }
    if (fd >= 0)
        close(fd);
    if (rc == PARSEC_ERROR_CONNECT)
        errno = saved_errno;
    return rc;
}
