/* Service discovery: PARSEC_SERVICE_ENDPOINT URI -> socket path, with the rules of the
 * original client, which parses the value as a WHATWG/RFC 3986 URL and uses its path
 * (parsec-tool-and-clients.md §5.1). Only what decides the path is implemented: scheme check,
 * authority skipped (with its port checked), path percent-encoding and dot-segment removal,
 * query and fragment dropped. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"

/* Longest endpoint URI accepted: far above any socket path, low enough to bound the work. */
#define EP_URI_MAX 4096

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sb_putc(struct sbuf *b, char ch)
{
    if (b->len + 1 >= b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        char *np = realloc(b->p, ncap);
        if (!np)
            return PARSEC_ERROR_NO_MEMORY;
        b->p = np;
        b->cap = ncap;
    }
    b->p[b->len++] = ch;
    b->p[b->len] = '\0';
    return 0;
}

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sb_putc(b, s[i]) != 0)
            return PARSEC_ERROR_NO_MEMORY;
    return 0;
}

static int is_alpha(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

/* The URL standard's path percent-encode set (C0 controls, space, ", #, <, >, ?, `, {, }, and
 * everything above ~); opaque paths only encode the C0 control set. */
static int needs_escape(unsigned char ch, int opaque)
{
    if (ch < 0x20 || ch > 0x7E)
        return 1;
    if (opaque)
        return 0;
    return strchr(" \"#<>?`{}", ch) != NULL;
}

static int put_escaped(struct sbuf *b, const char *s, size_t n, int opaque)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int rc;
        if (needs_escape(ch, opaque)) {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rc = sb_put(b, e, 3);
        } else {
            rc = sb_putc(b, (char)ch);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int seg_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

static int single_dot(const char *s, size_t n)
{
    return seg_is(s, n, ".") || seg_is(s, n, "%2e");
}

static int double_dot(const char *s, size_t n)
{
    return seg_is(s, n, "..") || seg_is(s, n, ".%2e") || seg_is(s, n, "%2e.") ||
           seg_is(s, n, "%2e%2e");
}

/* Removes the last segment of an output path "/a/b" -> "/a" (never the leading '/'). */
static void pop_segment(struct sbuf *b)
{
    while (b->len > 1 && b->p[b->len - 1] != '/')
        b->len--;
    if (b->len > 1)
        b->len--; /* the '/' before the removed segment */
    else if (b->len == 1)
        b->len = 0;
    if (b->p)
        b->p[b->len] = '\0';
}

/* A path that starts with '/': segments are escaped, "." and ".." resolved. */
static int hier_path(struct sbuf *b, const char *s, size_t n)
{
    size_t i = 1; /* past the leading '/' */
    int rc = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        int last = j >= n;
        const char *seg = s + i;
        size_t len = j - i;
        if (double_dot(seg, len)) {
            pop_segment(b);
            if (last)
                rc = sb_putc(b, '/');
        } else if (single_dot(seg, len)) {
            if (last)
                rc = sb_putc(b, '/');
        } else {
            rc = sb_putc(b, '/');
            if (rc == 0)
                rc = put_escaped(b, seg, len, 0);
        }
        if (rc != 0 || last)
            break;
        i = j + 1;
    }
    if (rc == 0 && b->len == 0)
        rc = sb_putc(b, '/');
    return rc;
}

/* Characters that may not appear in a host (the URL standard's forbidden host code points). */
static int bad_host_char(unsigned char ch)
{
    return ch == 0 || strchr("\t\n\r #/:<>?@[\\]^|", ch) != NULL;
}

/* "//userinfo@host:port": only checked, never used. */
static int check_authority(const char *a, size_t n)
{
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (at) {
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    size_t h = 0;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return PARSEC_ERROR_INVALID_SOCKET_URL;
        h = (size_t)(close - a) + 1;
        for (size_t i = 1; i + 1 < h; i++)
            if (!(is_digit((unsigned char)a[i]) || strchr("abcdefABCDEF:.", a[i])))
                return PARSEC_ERROR_INVALID_SOCKET_URL;
    } else {
        while (h < n && a[h] != ':') {
            if (bad_host_char((unsigned char)a[h]))
                return PARSEC_ERROR_INVALID_SOCKET_URL;
            h++;
        }
    }
    if (h < n) {
        if (a[h] != ':')
            return PARSEC_ERROR_INVALID_SOCKET_URL;
        unsigned long port = 0;
        for (size_t i = h + 1; i < n; i++) {
            if (!is_digit((unsigned char)a[i]))
                return PARSEC_ERROR_INVALID_SOCKET_URL;
            port = port * 10 + (unsigned long)(a[i] - '0');
            if (port > 65535)
                return PARSEC_ERROR_INVALID_SOCKET_URL;
        }
    }
    return 0;
}

static int parse(const char *uri, struct sbuf *out)
{
    size_t n = strnlen(uri, EP_URI_MAX + 1);
    if (n > EP_URI_MAX)
        return PARSEC_ERROR_INVALID_SOCKET_URL;
    /* Leading and trailing C0 controls and spaces are dropped; tabs and newlines anywhere. */
    char buf[EP_URI_MAX + 1];
    size_t len = 0;
    size_t start = 0, end = n;
    while (start < end && (unsigned char)uri[start] <= 0x20)
        start++;
    while (end > start && (unsigned char)uri[end - 1] <= 0x20)
        end--;
    for (size_t i = start; i < end; i++)
        if (uri[i] != '\t' && uri[i] != '\n' && uri[i] != '\r')
            buf[len++] = uri[i];
    buf[len] = '\0';

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ; without one the value is a
     * relative reference, which has no meaning without a base. */
    size_t i = 0;
    if (len == 0 || !is_alpha((unsigned char)buf[0]))
        return PARSEC_ERROR_INVALID_SOCKET_URL;
    while (i < len && (is_alpha((unsigned char)buf[i]) || is_digit((unsigned char)buf[i]) ||
                       buf[i] == '+' || buf[i] == '-' || buf[i] == '.'))
        i++;
    if (i >= len || buf[i] != ':')
        return PARSEC_ERROR_INVALID_SOCKET_URL;
    if (i != 4 || strncasecmp(buf, "unix", 4) != 0)
        return PARSEC_ERROR_INVALID_SOCKET_URL;
    const char *rest = buf + 5;
    size_t rlen = strcspn(rest, "?#");

    if (rlen >= 2 && rest[0] == '/' && rest[1] == '/') {
        size_t alen = 2;
        while (alen < rlen && rest[alen] != '/')
            alen++;
        int rc = check_authority(rest + 2, alen - 2);
        if (rc != 0)
            return rc;
        if (alen == rlen)
            return 0; /* "unix://host": empty path */
        return hier_path(out, rest + alen, rlen - alen);
    }
    if (rlen >= 1 && rest[0] == '/')
        return hier_path(out, rest, rlen);
    /* "unix:relative/p.sock": an opaque path, used as it is. */
    return put_escaped(out, rest, rlen, 1);
}

int cl_endpoint_path(const char *uri, char **path)
{
    struct sbuf b = {0};
    *path = NULL;
    if (!uri)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    int rc = parse(uri, &b);
    if (rc == 0 && !b.p) {
        /* An empty path: it names no socket, which the existence check reports. */
        b.p = calloc(1, 1);
        if (!b.p)
            rc = PARSEC_ERROR_NO_MEMORY;
    }
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    b.p[b.len] = '\0';
    *path = b.p;
    return 0;
}

int parsec_endpoint_parse(const char *uri, char *path, size_t path_size, size_t *path_len)
{
    char *p = NULL;
    int rc = cl_endpoint_path(uri, &p);
    if (rc != 0)
        goto out;
    size_t need = strlen(p) + 1;
    if (path_len)
        *path_len = need;
    if (!path || path_size < need) {
        rc = PARSEC_ERROR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(path, p, need);
out:
    free(p);
    return rc;
}
