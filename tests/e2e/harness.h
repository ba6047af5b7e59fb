/* Test harness: runs the real parsec daemon in a temporary folder and talks to it over its
 * Unix socket with hand-built requests, independently of the service's own code paths. */
#ifndef PARSEC_E2E_HARNESS_H
#define PARSEC_E2E_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "wire/header.h"

struct daemon {
    pid_t pid;
    char dir[256];  /* temporary folder holding everything */
    char sock[300]; /* socket path */
    char cfg[300];  /* config.toml path */
    char log[300];  /* daemon's stderr */
};

/* A configuration for tests; "@DIR@" in it is replaced by the daemon's folder. */
extern const char E2E_CONFIG_DIRECT[];
extern const char E2E_CONFIG_UNIX[];

/* Creates the folder and writes the configuration (with @DIR@ replaced). */
void daemon_prepare(struct daemon *d, const char *config);
/* Rewrites config.toml (for reload tests). */
void daemon_write_config(struct daemon *d, const char *config);
/* Starts the daemon on the prepared folder and waits until its socket answers a Ping.
 * Returns 0, or -1 if it exited (its log tells why). extra_env may be NULL. */
int daemon_launch(struct daemon *d, char *const extra_env[]);
/* prepare + launch, failing the test if it does not start. */
void daemon_start(struct daemon *d, const char *config);
/* Sends a signal and waits for the exit; returns the exit status (or 128+signal). */
int daemon_stop(struct daemon *d, int sig);
/* Removes the folder. */
void daemon_cleanup(struct daemon *d);
/* Whether the daemon's log contains s. */
int daemon_log_contains(const struct daemon *d, const char *s);
/* Whether s appears in the daemon's log within timeout_ms (it polls). For lines the daemon
 * writes after the effect a test can observe, such as the end of a reload. */
int daemon_wait_log(const struct daemon *d, const char *s, int timeout_ms);
/* The Mbed TLS key files (*.psa_its) in the daemon's key store, <dir>/keys. */
int daemon_count_key_files(const struct daemon *d);

/* Opens a connection to the socket; -1 on failure. */
int e2e_connect(const char *sock);
/* Writes raw bytes, then reads one reply: a 36-byte header and its body (malloc'd). Returns 0,
 * or -1 if the connection ended before a whole header. */
int e2e_raw(const char *sock, const uint8_t *req, size_t len, struct psc_header *rsp,
            uint8_t **body);
/* Reads one reply from an open connection (blocking, with a 120 s timeout). */
int e2e_read_reply(int fd, struct psc_header *rsp, uint8_t **body);

/* A request header with the usual fields set. */
struct psc_header e2e_header(uint8_t provider, uint32_t opcode, uint8_t auth_type);
/* Builds header || body || auth into a malloc'd buffer (body and auth lengths are set). */
uint8_t *e2e_build(struct psc_header h, const ProtobufCMessage *op, const void *auth,
                   size_t auth_len, size_t *len);

/* One whole call: sends op (may be NULL for an empty body) and returns the reply status;
 * *result (if not NULL) receives the unpacked result message, to be freed by the caller with
 * protobuf_c_message_free_unpacked. app NULL sends auth type 0, otherwise Direct auth. */
int e2e_call(const char *sock, uint8_t provider, uint32_t opcode, const char *app,
             const ProtobufCMessage *op, const ProtobufCMessageDescriptor *result_desc,
             ProtobufCMessage **result);

/* Monotonic milliseconds. */
uint64_t e2e_now_ms(void);

#endif
