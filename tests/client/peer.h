/* A scripted service for the client tests: a real Unix socket whose replies are given in
 * advance, so that the client's handling of replies the real service never sends (malformed
 * headers, wrong opcodes, silence, ...) can be checked. One connection per scripted step. */
#ifndef PARSEC_TEST_CLIENT_PEER_H
#define PARSEC_TEST_CLIENT_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "wire/header.h"

#define PEER_STEPS_MAX 16
#define PEER_AUTH_MAX 256

enum peer_action { PEER_SEND, PEER_CLOSE, PEER_HANG };

struct peer_step {
    enum peer_action action;
    uint8_t *bytes;
    size_t len;
    unsigned hang_ms;
};

struct peer_request {
    struct psc_header hdr;
    uint8_t auth[PEER_AUTH_MAX];
    size_t auth_len;
};

struct peer {
    char dir[64];
    char sock[128];
    char endpoint[140];
    int lfd;
    pthread_t thread;
    struct peer_step steps[PEER_STEPS_MAX];
    size_t nsteps;
    struct peer_request req[PEER_STEPS_MAX];
    size_t nreq; /* requests received, read after peer_stop */
};

/* Creates the socket (in a new temporary folder); steps are added before peer_run. */
void peer_init(struct peer *p);
/* A reply: the usual header with opcode/status, body = packed msg (NULL: empty). */
void peer_reply(struct peer *p, uint32_t opcode, uint16_t status, const ProtobufCMessage *msg);
/* A reply given byte by byte. */
void peer_raw(struct peer *p, const uint8_t *bytes, size_t len);
/* Close without a reply / wait then close. */
void peer_close(struct peer *p);
void peer_hang(struct peer *p, unsigned ms);
/* Serves the steps in a thread. */
void peer_run(struct peer *p);
/* Waits for the thread (which ends after the last step or when no client comes) and removes
 * the folder. */
void peer_stop(struct peer *p);
/* A 36-byte reply header. */
void peer_header(uint8_t out[36], uint32_t opcode, uint16_t status, uint32_t body_len);

#endif
