/* The two systemd protocols the service speaks: readiness notification (sd_notify(3)) and
 * socket activation (sd_listen_fds(3)). Both are small, stable, documented interfaces; speaking
 * them directly spares the daemon libsystemd and the half-dozen libraries it pulls in, a good
 * part of its resident memory. */
#ifndef PARSEC_SDNOTIFY_H
#define PARSEC_SDNOTIFY_H

/* The first file descriptor passed by socket activation. */
#define SDN_LISTEN_FDS_START 3

/* Sends a notification ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET, if set. Errors are ignored,
 * as the original service does. */
void sdn_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Number of descriptors passed by socket activation for this process (0 if none), with
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES removed from the environment; -1 if the variables
 * are malformed. */
int sdn_listen_fds(void);

/* Whether fd is a listening Unix stream socket. */
int sdn_is_listening_unix_stream(int fd);

#endif
