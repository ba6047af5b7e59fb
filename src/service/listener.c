#define _GNU_SOURCE
#include "service/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "service/fs_trust.h"
#include "service/sdnotify.h"

static const char *const MOD = "parsec::listener";

/* Folders the service creates for its socket: the clients of other users must traverse them. */
#define SOCKET_DIR_MODE 0755

int listener_create(const char *path, char *err, size_t err_len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[sizeof(sa.sun_path)], *canon = NULL;
    int dfd = -1, fd = -1;
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path)) {
        snprintf(err, err_len, "socket path too long (%zu bytes, at most %zu): %s", len,
                 sizeof(sa.sun_path) - 1, path);
        return -1;
    }
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    const char *name = slash ? path + (slash - dir) + 1 : path;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        snprintf(err, err_len, "socket path %s does not name a file", path);
        return -1;
    }
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    /* Whoever can write the folder can replace the socket and receive the clients' requests,
     * keys included. Once the folder is trusted, names in it are stable. */
    dfd = fst_dir("socket folder", dir, SOCKET_DIR_MODE, &canon, err, err_len);
    if (dfd < 0)
        goto fail;
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s",
                         strcmp(canon, "/") == 0 ? "" : canon, name) >= sizeof(sa.sun_path)) {
        snprintf(err, err_len, "socket path too long once its links are followed: %s/%s", canon,
                 name);
        goto fail;
    }
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, err_len, "%s exists and is not a socket: not removing it", path);
            goto fail;
        }
        log_warn(MOD, "removing the existing socket %s", path);
        if (unlinkat(dfd, name, 0) != 0) {
            snprintf(err, err_len, "cannot remove %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        goto fail;
    }
    /* Every user may connect (authentication tells them apart): the file is created 0666, so
     * no chmod by name follows that a link swapped in could redirect. The umask is the
     * process's, but no other thread creates files while a listener is made: at start-up
     * there is none, at a reload every request has drained. */
    mode_t mask = umask(0111);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    int e = errno;
    umask(mask);
    if (rc != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(rc != 0 ? e : errno));
        goto fail;
    }
    close(dfd);
    free(canon);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    free(canon);
    return -1;
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
        snprintf(err, err_len, "socket activation: fd %d is not a listening Unix stream socket",
                 fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, err_len, "socket activation: %s", strerror(errno));
        return -1;
    }
    return fd;
}
