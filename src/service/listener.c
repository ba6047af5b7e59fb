#define _GNU_SOURCE
#include "service/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "service/sdnotify.h"

static const char *const MOD = "parsec::listener";

/* Creates every missing folder above path (like mkdir -p on its dirname). */
static int make_parent(const char *path, char *err, size_t err_len)
{
    char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, err_len, "cannot create folder %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

int listener_create(const char *path, char *err, size_t err_len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path)) {
        snprintf(err, err_len, "socket path too long (%zu bytes, at most %zu): %s", len,
                 sizeof(sa.sun_path) - 1, path);
        return -1;
    }
    memcpy(sa.sun_path, path, len + 1);
    if (make_parent(path, err, err_len) != 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, err_len, "%s exists and is not a socket: not removing it", path);
            return -1;
        }
        log_warn(MOD, "removing the existing socket %s", path);
        if (unlink(path) != 0) {
            snprintf(err, err_len, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0666) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int listener_from_systemd(char *err, size_t err_len)
{
    int n = sdn_listen_fds();
    if (n == 0)
        return -2;
    if (n < 0) {
        snprintf(err, err_len, "socket activation: malformed LISTEN_PID or LISTEN_FDS");
        return -1;
    }
    if (n > 1) {
        snprintf(err, err_len, "too many file descriptors received (%d, expected 1)", n);
        return -1;
    }
    int fd = SDN_LISTEN_FDS_START;
    if (!sdn_is_listening_unix_stream(fd)) {
        snprintf(err, err_len, "socket activation: fd %d is not a listening Unix stream socket", fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, err_len, "socket activation: %s", strerror(errno));
        return -1;
    }
    return fd;
}
