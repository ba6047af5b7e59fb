/* The listening Unix socket: created at [listener] socket_path or adopted from systemd. */
#ifndef PARSEC_LISTENER_H
#define PARSEC_LISTENER_H

#include <stddef.h>

/* Creates a listening socket at path: the folder is created if missing (0755, so that clients
 * can reach the socket) and must be trusted (fs_trust.h), a stale socket is removed, anything
 * else at the path is an error; the socket is created 0666. Returns the non-blocking fd, or -1
 * with a message in err. */
int listener_create(const char *path, char *err, size_t err_len);

/* Socket activation: returns the fd passed by systemd (LISTEN_FDS=1), -2 if none was passed,
 * or -1 with a message in err (more than one fd). The fd is made non-blocking. */
int listener_from_systemd(char *err, size_t err_len);

#endif
