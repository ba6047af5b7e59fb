/* Every row of the request processing order (wire-protocol.md §6), over the real socket, plus
 * the core provider's answers and the authenticators. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "delete_client.pb-c.h"
#include "harness.h"
#include "list_authenticators.pb-c.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "wire/opcode.h"
#include "wire/status.h"

static struct daemon D;

static int setup(void **state)
{
    (void)state;
    daemon_start(&D, E2E_CONFIG_DIRECT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    return 0;
}

/* Sends a request built from a header (body and auth given raw) and returns the reply. */
static struct psc_header raw_call(struct psc_header h, const void *body, size_t body_len,
                                  const void *auth, size_t auth_len)
{
    size_t len = PSC_WIRE_HEADER_SIZE + body_len + auth_len;
    uint8_t *req = malloc(len);
    assert_non_null(req);
    h.body_len = (uint32_t)body_len;
    h.auth_len = (uint16_t)auth_len;
    psc_header_encode(&h, req);
    if (body_len)
        memcpy(req + PSC_WIRE_HEADER_SIZE, body, body_len);
    if (auth_len)
        memcpy(req + PSC_WIRE_HEADER_SIZE + body_len, auth, auth_len);
    struct psc_header rsp;
    uint8_t *rbody = NULL;
    assert_int_equal(e2e_raw(D.sock, req, len, &rsp, &rbody), 0);
    free(req);
    free(rbody);
    return rsp;
}

static void assert_generic(struct psc_header r, int status)
{
    assert_int_equal(r.status, status);
    assert_int_equal(r.opcode, PSC_OP_PING);
    assert_int_equal(r.provider, 0);
    assert_int_equal(r.body_len, 0);
    assert_true(r.session == 0);
}

static void assert_echo(struct psc_header r, const struct psc_header *req, int status)
{
    assert_int_equal(r.status, status);
    assert_int_equal(r.opcode, req->opcode);
    assert_int_equal(r.provider, req->provider);
    assert_true(r.session == req->session);
    assert_int_equal(r.body_len, 0);
}

/* Row 1: magic. */
static void bad_magic(void **state)
{
    (void)state;
    uint8_t b[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0), r;
    psc_header_encode(&h, b);
    b[3] = 0x5f;
    uint8_t *body;
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_INVALID_HEADER);
    /* Four bytes are enough to refuse: the service does not wait for the rest. */
    assert_int_equal(e2e_raw(D.sock, b, 4, &r, &body), 0);
    assert_generic(r, PSC_INVALID_HEADER);
}

/* Rows 1, 2, 7, 8: a request that stops short is answered with 15 after the timeout. */
static void short_reads(void **state)
{
    (void)state;
    uint8_t b[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = e2e_header(1, PSC_OP_PSA_GENERATE_RANDOM, 0), r;
    uint8_t *body;
    psc_header_encode(&h, b);
    assert_int_equal(e2e_raw(D.sock, b, 2, &r, &body), 0);
    assert_generic(r, PSC_CONNECTION_ERROR);
    assert_int_equal(e2e_raw(D.sock, b, 20, &r, &body), 0);
    assert_generic(r, PSC_CONNECTION_ERROR);
    h.body_len = 0xFFFF;
    psc_header_encode(&h, b);
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_CONNECTION_ERROR);
    h.body_len = 0;
    h.auth_len = 0xFFFF;
    psc_header_encode(&h, b);
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_CONNECTION_ERROR);
}

/* Row 2: the header size is read, then refused; a huge one makes the service wait (15). */
static void header_size(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0), r;
    uint8_t *body;
    psc_header_encode(&h, b);
    b[4] = 29;
    assert_int_equal(e2e_raw(D.sock, b, 6 + 29, &r, &body), 0);
    assert_generic(r, PSC_INVALID_HEADER);
    b[4] = 31;
    assert_int_equal(e2e_raw(D.sock, b, 6 + 31, &r, &body), 0);
    assert_generic(r, PSC_INVALID_HEADER);
    b[4] = 0xFF;
    b[5] = 0xFF;
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_CONNECTION_ERROR);
}

/* Rows 3 and 5. */
static void version_and_reserved(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    uint8_t b[PSC_WIRE_HEADER_SIZE];
    struct psc_header r;
    uint8_t *body;
    psc_header_encode(&h, b);
    b[6] = 2;
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED);
    psc_header_encode(&h, b);
    b[7] = 1;
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED);
    h.reserved1 = 1;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_INVALID_HEADER);
    h.reserved1 = 0;
    h.reserved2 = 0x80;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_INVALID_HEADER);
}

/* Row 6: the body limit (1 MiB by default); the body is not read. */
static void body_limit(void **state)
{
    (void)state;
    uint8_t b[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = e2e_header(1, PSC_OP_PSA_HASH_COMPUTE, 0), r;
    uint8_t *body;
    h.body_len = (1u << 20) + 1;
    psc_header_encode(&h, b);
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_BODY_SIZE_EXCEEDS_LIMIT);
    h.body_len = 0xFFFFFFFFu;
    psc_header_encode(&h, b);
    assert_int_equal(e2e_raw(D.sock, b, sizeof(b), &r, &body), 0);
    assert_generic(r, PSC_BODY_SIZE_EXCEEDS_LIMIT);
}

/* Rows 9-13: values checked on the header alone, generic reply. */
static void header_values(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    h.session = 0x1122334455667788ULL;
    h.content_type = 0xFF;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_CONTENT_TYPE_NOT_SUPPORTED);
    h.content_type = 0;
    h.accept_type = 0xFF;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_ACCEPT_TYPE_NOT_SUPPORTED);
    h.accept_type = 0;
    h.auth_type = 0xFF;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_AUTHENTICATOR_DOES_NOT_EXIST);
    h.auth_type = 5;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_AUTHENTICATOR_DOES_NOT_EXIST);
    h.auth_type = 0;
    static const uint32_t bad_ops[] = {0, 0x16, 0x17, 0x1D, 0x21, 0xFFFF, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
        h.opcode = bad_ops[i];
        assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_OPCODE_DOES_NOT_EXIST);
    }
    h.opcode = PSC_OP_PING;
    h.provider = 6;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_PROVIDER_DOES_NOT_EXIST);
    h.provider = 0xFF;
    assert_generic(raw_call(h, NULL, 0, NULL, 0), PSC_PROVIDER_DOES_NOT_EXIST);
}

/* Rows 14-15: the configured authenticator, echo reply. */
static void authentication(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_LIST_PROVIDERS, PSC_AUTH_JWT);
    h.session = 77;
    assert_echo(raw_call(h, NULL, 0, "x", 1), &h, PSC_AUTHENTICATOR_NOT_REGISTERED);
    h.auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS;
    assert_echo(raw_call(h, NULL, 0, "\0\0\0\0", 4), &h, PSC_AUTHENTICATOR_NOT_REGISTERED);
    h.auth_type = PSC_AUTH_JWT_SVID;
    assert_echo(raw_call(h, NULL, 0, "x", 1), &h, PSC_AUTHENTICATOR_NOT_REGISTERED);
    /* Direct: even core operations are authenticated when an auth type is given. */
    h.auth_type = PSC_AUTH_DIRECT;
    assert_echo(raw_call(h, NULL, 0, NULL, 0), &h, PSC_AUTHENTICATION_ERROR);
    assert_echo(raw_call(h, NULL, 0, "\xff\xfe", 2), &h, PSC_AUTHENTICATION_ERROR);
    assert_echo(raw_call(h, NULL, 0, "\xc0\x80", 2), &h, PSC_AUTHENTICATION_ERROR);
    struct psc_header r = raw_call(h, NULL, 0, "app", 3);
    assert_int_equal(r.status, 0);
    /* NoAuth: the auth bytes are read and ignored. */
    h.auth_type = 0;
    r = raw_call(h, NULL, 0, "ignored", 7);
    assert_int_equal(r.status, 0);
}

/* Rows 16-17. */
static void routing(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(PSC_PROVIDER_PKCS11, PSC_OP_PSA_GENERATE_RANDOM, 0);
    assert_echo(raw_call(h, NULL, 0, NULL, 0), &h, PSC_PROVIDER_NOT_REGISTERED);
    h.provider = PSC_PROVIDER_TPM;
    assert_echo(raw_call(h, NULL, 0, NULL, 0), &h, PSC_PROVIDER_NOT_REGISTERED);
    h = e2e_header(1, PSC_OP_LIST_KEYS, PSC_AUTH_DIRECT);
    assert_echo(raw_call(h, NULL, 0, "app", 3), &h, PSC_PSA_NOT_SUPPORTED);
    h = e2e_header(1, PSC_OP_LIST_CLIENTS, PSC_AUTH_DIRECT);
    assert_echo(raw_call(h, NULL, 0, "admin", 5), &h, PSC_PSA_NOT_SUPPORTED);
    h = e2e_header(1, PSC_OP_PING, 0);
    assert_echo(raw_call(h, NULL, 0, NULL, 0), &h, PSC_PSA_NOT_SUPPORTED);
    h = e2e_header(0, PSC_OP_PSA_GENERATE_RANDOM, 0);
    assert_echo(raw_call(h, NULL, 0, NULL, 0), &h, PSC_PSA_NOT_SUPPORTED);
}

/* Rows 19 and 21: admin operations and operations that need an application. */
static void admin_and_identity(void **state)
{
    (void)state;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_CLIENTS, NULL, NULL, NULL, NULL),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_CLIENTS, "someone", NULL, NULL, NULL),
                     PSC_ADMIN_OPERATION);
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_DELETE_CLIENT, "someone", NULL, NULL, NULL),
                     PSC_ADMIN_OPERATION);
    ProtobufCMessage *res;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_CLIENTS, "admin", NULL,
                              &list_clients__result__descriptor, &res),
                     0);
    protobuf_c_message_free_unpacked(res, NULL);
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_KEYS, NULL, NULL, NULL, NULL),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(e2e_call(D.sock, 1, PSC_OP_PSA_DESTROY_KEY, NULL, NULL, NULL, NULL),
                     PSC_NOT_AUTHENTICATED);
    assert_int_equal(e2e_call(D.sock, 1, PSC_OP_PSA_EXPORT_PUBLIC_KEY, NULL, NULL, NULL, NULL),
                     PSC_NOT_AUTHENTICATED);
    /* No application needed: hash, random. */
    PsaGenerateRandom__Operation gr = PSA_GENERATE_RANDOM__OPERATION__INIT;
    gr.size = 16;
    assert_int_equal(e2e_call(D.sock, 1, PSC_OP_PSA_GENERATE_RANDOM, NULL, &gr.base,
                              &psa_generate_random__result__descriptor, &res),
                     0);
    assert_int_equal(((PsaGenerateRandom__Result *)res)->random_bytes.len, 16);
    protobuf_c_message_free_unpacked(res, NULL);
}

/* Row 20: body decoding. */
static void body_decoding(void **state)
{
    (void)state;
    /* A field header announcing more bytes than the body has. */
    static const uint8_t truncated[] = {0x0a, 0x05, 'a'};
    struct psc_header h = e2e_header(0, PSC_OP_LIST_PROVIDERS, 0);
    assert_echo(raw_call(h, truncated, sizeof(truncated), NULL, 0), &h,
                PSC_DESERIALIZING_BODY_FAILED);
    h.opcode = PSC_OP_LIST_OPCODES;
    static const uint8_t bad_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff};
    assert_echo(raw_call(h, bad_varint, sizeof(bad_varint), NULL, 0), &h,
                PSC_DESERIALIZING_BODY_FAILED);
    static const uint8_t pid9[] = {0x08, 0x09};
    assert_echo(raw_call(h, pid9, sizeof(pid9), NULL, 0), &h, PSC_PROVIDER_DOES_NOT_EXIST);
    static const uint8_t pid2[] = {0x08, 0x02};
    assert_echo(raw_call(h, pid2, sizeof(pid2), NULL, 0), &h, PSC_PROVIDER_NOT_REGISTERED);
    /* Unknown fields are skipped. */
    h.opcode = PSC_OP_PING;
    static const uint8_t unknown[] = {0x78, 0x01};
    assert_int_equal(raw_call(h, unknown, sizeof(unknown), NULL, 0).status, 0);
    /* A semantically invalid body: hash algorithm HASH_NONE. */
    h = e2e_header(1, PSC_OP_PSA_HASH_COMPUTE, 0);
    static const uint8_t hash_none[] = {0x12, 0x01, 'a'};
    assert_echo(raw_call(h, hash_none, sizeof(hash_none), NULL, 0), &h, PSC_INVALID_ENCODING);
    static const uint8_t hash_99[] = {0x08, 99, 0x12, 0x01, 'a'};
    assert_echo(raw_call(h, hash_99, sizeof(hash_99), NULL, 0), &h, PSC_INVALID_ENCODING);
}

/* Row 22 and the core provider's answers. */
static void core_answers(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0), r;
    h.session = 0xDEADBEEFCAFEULL;
    size_t len;
    uint8_t *req = e2e_build(h, NULL, NULL, 0, &len);
    uint8_t *body;
    assert_int_equal(e2e_raw(D.sock, req, len, &r, &body), 0);
    free(req);
    assert_int_equal(r.status, 0);
    assert_true(r.session == h.session);
    assert_int_equal(r.body_len, 2);
    static const uint8_t ping_body[] = {0x08, 0x01};
    assert_memory_equal(body, ping_body, 2);
    free(body);

    ProtobufCMessage *res;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_PROVIDERS, NULL, NULL,
                              &list_providers__result__descriptor, &res),
                     0);
    ListProviders__Result *lp = (ListProviders__Result *)res;
    assert_int_equal(lp->n_providers, 2);
    assert_string_equal(lp->providers[0]->uuid, "1c1139dc-ad7c-47dc-ad6b-db6fdb466552");
    assert_string_equal(lp->providers[0]->description,
                        "User space software provider, based on Mbed Crypto - the reference "
                        "implementation of the PSA crypto API");
    assert_string_equal(lp->providers[0]->vendor, "Arm");
    assert_int_equal(lp->providers[0]->id, 1);
    assert_int_equal(lp->providers[0]->version_maj, 0);
    assert_int_equal(lp->providers[0]->version_min, 1);
    assert_string_equal(lp->providers[1]->uuid, "47049873-2a43-4845-9d72-831eab668784");
    assert_string_equal(lp->providers[1]->description,
                        "Software provider that implements only administrative (i.e. no "
                        "cryptographic) operations");
    assert_string_equal(lp->providers[1]->vendor, "");
    assert_int_equal(lp->providers[1]->id, 0);
    assert_int_equal(lp->providers[1]->version_maj, 1);
    assert_int_equal(lp->providers[1]->version_min, 5);
    protobuf_c_message_free_unpacked(res, NULL);

    ListOpcodes__Operation lo = LIST_OPCODES__OPERATION__INIT;
    lo.provider_id = 0;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_OPCODES, NULL, &lo.base,
                              &list_opcodes__result__descriptor, &res),
                     0);
    ListOpcodes__Result *ops = (ListOpcodes__Result *)res;
    assert_int_equal(ops->n_opcodes, 5);
    uint32_t seen = 0;
    for (size_t i = 0; i < ops->n_opcodes; i++)
        seen |= 1u << ops->opcodes[i];
    assert_int_equal(seen, (1u << 1) | (1u << 8) | (1u << 9) | (1u << 14) | (1u << 26));
    protobuf_c_message_free_unpacked(res, NULL);
    lo.provider_id = 1;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_OPCODES, NULL, &lo.base,
                              &list_opcodes__result__descriptor, &res),
                     0);
    ops = (ListOpcodes__Result *)res;
    assert_true(ops->n_opcodes >= 16);
    for (size_t i = 0; i < ops->n_opcodes; i++) {
        assert_true(psc_opcode_is_valid(ops->opcodes[i]));
        assert_false(psc_opcode_is_core(ops->opcodes[i]));
    }
    protobuf_c_message_free_unpacked(res, NULL);

    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_AUTHENTICATORS, NULL, NULL,
                              &list_authenticators__result__descriptor, &res),
                     0);
    ListAuthenticators__Result *la = (ListAuthenticators__Result *)res;
    assert_int_equal(la->n_authenticators, 1);
    assert_int_equal(la->authenticators[0]->id, PSC_AUTH_DIRECT);
    assert_int_equal(la->authenticators[0]->version_min, 1);
    assert_string_equal(la->authenticators[0]->description,
                        "Directly parses the authentication field as a UTF-8 string and uses "
                        "that as the application identity. Should be used for testing only.");
    protobuf_c_message_free_unpacked(res, NULL);

    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_KEYS, "nobody-has-keys", NULL,
                              &list_keys__result__descriptor, &res),
                     0);
    assert_int_equal(((ListKeys__Result *)res)->n_keys, 0);
    protobuf_c_message_free_unpacked(res, NULL);

    DeleteClient__Operation dc = DELETE_CLIENT__OPERATION__INIT;
    dc.client = "unknown-client";
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_DELETE_CLIENT, "admin", &dc.base, NULL, NULL), 0);
}

/* Flags and the status field of a request are ignored (e2e flags_ignored, status_ignored). */
static void ignored_fields(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    h.flags = 56;
    assert_int_equal(raw_call(h, NULL, 0, NULL, 0).status, 0);
    h.flags = 0;
    h.status = 0xFFFF;
    assert_int_equal(raw_call(h, NULL, 0, NULL, 0).status, 0);
}

/* One request per connection: a second request on the same connection is never answered. */
static void one_request_per_connection(void **state)
{
    (void)state;
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    uint8_t two[2 * PSC_WIRE_HEADER_SIZE];
    psc_header_encode(&h, two);
    psc_header_encode(&h, two + PSC_WIRE_HEADER_SIZE);
    int fd = e2e_connect(D.sock);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, two, sizeof(two), MSG_NOSIGNAL), (ssize_t)sizeof(two));
    struct psc_header r;
    uint8_t *body;
    assert_int_equal(e2e_read_reply(fd, &r, &body), 0);
    free(body);
    assert_int_equal(r.status, 0);
    uint8_t extra;
    assert_true(read(fd, &extra, 1) <= 0);
    close(fd);
}

/* The body limit is inclusive: exactly body_len_limit bytes are accepted. */
static void body_limit_exact(void **state)
{
    (void)state;
    struct daemon d2;
    static const char limits[] = "body_len_limit = 1024\nbuffer_size_limit = 1024\n";
    char cfg[4096];
    const char *at = strstr(E2E_CONFIG_DIRECT, "log_level");
    assert_non_null(at);
    snprintf(cfg, sizeof(cfg), "%.*s%s%s", (int)(at - E2E_CONFIG_DIRECT), E2E_CONFIG_DIRECT, limits,
             at);
    daemon_start(&d2, cfg);
    /* SHA-256 (field 1 = 7) and 1019 input bytes: a body of exactly 1024 bytes. */
    uint8_t body[1025];
    memset(body, 'x', sizeof(body));
    body[0] = 0x08;
    body[1] = 7;
    body[2] = 0x12;
    body[3] = 0xfb; /* 1019 = 0x3fb as a varint: fb 07 */
    body[4] = 0x07;
    struct psc_header h = e2e_header(1, PSC_OP_PSA_HASH_COMPUTE, 0);
    size_t len = PSC_WIRE_HEADER_SIZE + 1024;
    uint8_t *req = malloc(PSC_WIRE_HEADER_SIZE + 1025);
    h.body_len = 1024;
    psc_header_encode(&h, req);
    memcpy(req + PSC_WIRE_HEADER_SIZE, body, 1024);
    struct psc_header r;
    uint8_t *rb;
    assert_int_equal(e2e_raw(d2.sock, req, len, &r, &rb), 0);
    free(rb);
    assert_int_equal(r.status, 0);
    /* 1020 input bytes: 1025 body bytes. */
    body[3] = 0xfc;
    h.body_len = 1025;
    psc_header_encode(&h, req);
    memcpy(req + PSC_WIRE_HEADER_SIZE, body, 1025);
    assert_int_equal(e2e_raw(d2.sock, req, len + 1, &r, &rb), 0);
    assert_generic(r, PSC_BODY_SIZE_EXCEEDS_LIMIT);
    free(req);
    PsaGenerateRandom__Operation gr = PSA_GENERATE_RANDOM__OPERATION__INIT;
    gr.size = 1024;
    assert_int_equal(e2e_call(d2.sock, 1, PSC_OP_PSA_GENERATE_RANDOM, NULL, &gr.base, NULL, NULL),
                     0);
    gr.size = 1025;
    assert_int_equal(e2e_call(d2.sock, 1, PSC_OP_PSA_GENERATE_RANDOM, NULL, &gr.base, NULL, NULL),
                     PSC_RESPONSE_TOO_LARGE);
    assert_int_equal(daemon_stop(&d2, SIGINT), 0);
    daemon_cleanup(&d2);
}

/* Unix peer credentials: the 4-byte uid must be the peer's effective uid. */
static void unix_peer_credentials(void **state)
{
    (void)state;
    struct daemon d2;
    daemon_start(&d2, E2E_CONFIG_UNIX);
    uint32_t uid = (uint32_t)geteuid();
    uint8_t le[4] = {(uint8_t)uid, (uint8_t)(uid >> 8), (uint8_t)(uid >> 16), (uint8_t)(uid >> 24)};
    struct psc_header h = e2e_header(0, PSC_OP_LIST_KEYS, PSC_AUTH_UNIX_PEER_CREDENTIALS), r;
    size_t len;
    uint8_t *body;
    uint8_t *req = e2e_build(h, NULL, le, 4, &len);
    assert_int_equal(e2e_raw(d2.sock, req, len, &r, &body), 0);
    free(req);
    free(body);
    assert_int_equal(r.status, 0);
    uint8_t other[4] = {(uint8_t)(le[0] + 1), le[1], le[2], le[3]};
    req = e2e_build(h, NULL, other, 4, &len);
    assert_int_equal(e2e_raw(d2.sock, req, len, &r, &body), 0);
    free(req);
    assert_int_equal(r.status, PSC_AUTHENTICATION_ERROR);
    req = e2e_build(h, NULL, le, 3, &len);
    assert_int_equal(e2e_raw(d2.sock, req, len, &r, &body), 0);
    free(req);
    assert_int_equal(r.status, PSC_AUTHENTICATION_ERROR);
    h.auth_type = PSC_AUTH_DIRECT;
    req = e2e_build(h, NULL, "app", 3, &len);
    assert_int_equal(e2e_raw(d2.sock, req, len, &r, &body), 0);
    free(req);
    assert_int_equal(r.status, PSC_AUTHENTICATOR_NOT_REGISTERED);
    ProtobufCMessage *res;
    assert_int_equal(e2e_call(d2.sock, 0, PSC_OP_LIST_AUTHENTICATORS, NULL, NULL,
                              &list_authenticators__result__descriptor, &res),
                     0);
    assert_int_equal(((ListAuthenticators__Result *)res)->authenticators[0]->id,
                     PSC_AUTH_UNIX_PEER_CREDENTIALS);
    protobuf_c_message_free_unpacked(res, NULL);
    assert_int_equal(daemon_stop(&d2, SIGTERM), 0);
    daemon_cleanup(&d2);
}

static void socket_file(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(D.sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0666);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_magic),
        cmocka_unit_test(short_reads),
        cmocka_unit_test(header_size),
        cmocka_unit_test(version_and_reserved),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(header_values),
        cmocka_unit_test(authentication),
        cmocka_unit_test(routing),
        cmocka_unit_test(admin_and_identity),
        cmocka_unit_test(body_decoding),
        cmocka_unit_test(core_answers),
        cmocka_unit_test(ignored_fields),
        cmocka_unit_test(one_request_per_connection),
        cmocka_unit_test(body_limit_exact),
        cmocka_unit_test(unix_peer_credentials),
        cmocka_unit_test(socket_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
