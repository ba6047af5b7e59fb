/* The request server: a pre-spawned pool of worker threads, each running its own epoll loop
 * over the listening socket (shared, EPOLLEXCLUSIVE) and the connections it accepted.
 *
 * A connection costs a worker nothing while it is silent: requests are read without blocking
 * and a worker only works on a connection whose complete request has arrived, so slow or idle
 * clients never hold a worker that others need. Each connection carries one request and one
 * reply, then is closed (wire-protocol.md §1). A connection that makes no progress for
 * [listener] timeout milliseconds, or has not sent its whole request within request_time_limit,
 * is answered with ConnectionError (15) and closed.
 *
 * No user can starve the others (docs/threat-model.md): each connection is counted against its
 * peer's uid (SO_PEERCRED at accept), and one uid may hold at most peer_share_percent of the
 * connections and of the request and reply buffer budget; a connection beyond is answered
 * PsaErrorInsufficientMemory (1141) at once, a request or reply beyond is answered 1141. */
#ifndef PARSEC_SERVER_H
#define PARSEC_SERVER_H

#include <stddef.h>

#include "service/service.h"

struct server;

/* Starts n_workers threads serving listen_fd with service s (owned by the server from now on).
 * On failure no thread is left running, and s and listen_fd are still the caller's. */
int server_start(int listen_fd, size_t n_workers, struct psc_service *s, struct server **out,
                 char *err, size_t err_len);

/* Stops new requests, waits for the requests in flight, and lets f run with exclusive access
 * to the current service (f may replace it by writing *svc; the old one is then returned to
 * the caller through f's own means). Used for reloads. */
void server_exclusive(struct server *srv, void (*f)(struct psc_service **svc, void *arg),
                      void *arg);

/* Replaces the listening socket; returns the old fd for the caller to close. */
int server_replace_listener(struct server *srv, int new_fd);

/* Stops accepting, lets the requests in flight finish and their replies be written (each
 * bounded by the time limit), gives partial and idle connections stop_grace_period to complete
 * their request and then answers them ConnectionError and closes them, joins the workers and
 * frees the service. Returns the listening fd (not closed). */
int server_stop(struct server *srv);

#endif
