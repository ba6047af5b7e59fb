#define _GNU_SOURCE
#include "service/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void sdn_notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen;
    if (!path || (path[0] != '/' && path[0] != '@') ||
        (plen = strlen(path)) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, plen);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = 0; /* abstract namespace */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(msg))
        n = (int)sizeof(msg) - 1; /* a long STATUS= is cut, the state change still goes */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)!sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen));
    close(fd);
}

static int parse_uint(const char *s, unsigned long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end ? -1 : 0;
}

int sdn_listen_fds(void)
{
    unsigned long pid, n;
    int rc = 0;
    const char *e = getenv("LISTEN_PID");
    if (!e)
        goto out;
    if (parse_uint(e, &pid) != 0 || parse_uint(getenv("LISTEN_FDS"), &n) != 0 ||
        n > INT_MAX - SDN_LISTEN_FDS_START) {
        rc = -1;
        goto out;
    }
    if (pid != (unsigned long)getpid())
        goto out; /* meant for another process */
    for (int fd = SDN_LISTEN_FDS_START; fd < SDN_LISTEN_FDS_START + (int)n; fd++)
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
            rc = -1;
            goto out;
        }
    rc = (int)n;
out:
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return rc;
}

int sdn_is_listening_unix_stream(int fd)
{
    int type = 0, listening = 0;
    socklen_t l = sizeof(type);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0 || type != SOCK_STREAM)
        return 0;
    l = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) != 0 || !listening)
        return 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || ss.ss_family != AF_UNIX)
        return 0;
    return 1;
}
