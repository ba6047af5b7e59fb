/* The transport and the reply checks (parsec-tool-and-clients.md §5.5): every malformed or
 * missing reply maps to its documented error. The replies come from the scripted peer because
 * the real service never sends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "peer.h"
#include "ping.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "util.h"

static struct parsec_client *naked_client(struct peer *p)
{
    struct parsec_client *c = NULL;
    struct parsec_client_config cfg = {.endpoint = p->endpoint,
                                       .flags = PARSEC_CLIENT_NAKED | PARSEC_CLIENT_SET_PROVIDER,
                                       .provider = 1};
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    return c;
}

/* A good Ping reply header and body (1.0), then a byte changed at offset `at`. */
static void ping_reply_patched(struct peer *p, size_t at, uint8_t value)
{
    uint8_t buf[38];
    peer_header(buf, PARSEC_OP_PING, 0, 2);
    buf[36] = 0x08;
    buf[37] = 0x01;
    if (at < sizeof(buf))
        buf[at] = value;
    peer_raw(p, buf, sizeof(buf));
}

static void test_header_checks(void **state)
{
    (void)state;
    struct peer p;
    uint8_t maj = 0, min = 0;
    peer_init(&p);
    ping_reply_patched(&p, 99, 0);   /* unchanged: valid */
    ping_reply_patched(&p, 0, 0x11); /* magic */
    ping_reply_patched(&p, 4, 31);   /* header size */
    ping_reply_patched(&p, 6, 2);    /* version major */
    ping_reply_patched(&p, 7, 1);    /* version minor */
    ping_reply_patched(&p, 34, 1);   /* reserved 1 */
    ping_reply_patched(&p, 35, 1);   /* reserved 2 */
    ping_reply_patched(&p, 32, 44);  /* unknown status */
    ping_reply_patched(&p, 19, 1);   /* content type */
    ping_reply_patched(&p, 28, 8);   /* another opcode */
    peer_run(&p);
    struct parsec_client *c = naked_client(&p);
    assert_int_equal(parsec_ping(c, &maj, &min), 0);
    assert_int_equal(maj, 1);
    assert_int_equal(min, 0);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_HEADER);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_HEADER);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_VERSION);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_VERSION);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_HEADER);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_RESPONSE_HEADER);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_ENCODING);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_ENCODING);
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE);
    peer_stop(&p);
    /* Every request was a well-formed Ping: header fields of §5.5. */
    assert_int_equal(p.nreq, 10);
    for (size_t i = 0; i < p.nreq; i++) {
        assert_int_equal(p.req[i].hdr.opcode, PARSEC_OP_PING);
        assert_int_equal(p.req[i].hdr.version_maj, 1);
        assert_int_equal(p.req[i].hdr.flags, 0);
        assert_int_equal(p.req[i].hdr.body_len, 0);
        assert_int_equal(p.req[i].hdr.status, 0);
    }
    parsec_client_free(c);
}

static void test_status_before_opcode(void **state)
{
    (void)state;
    struct peer p;
    uint8_t r[4];
    peer_init(&p);
    /* The generic early-error reply carries opcode Ping: the status wins. */
    peer_reply(&p, PARSEC_OP_PING, PARSEC_ERROR_PSA_DOES_NOT_EXIST, NULL);
    peer_reply(&p, PARSEC_OP_PING, 0, NULL); /* success with another opcode */
    peer_run(&p);
    struct parsec_client *c = naked_client(&p);
    assert_int_equal(parsec_generate_random(c, r, sizeof(r)), PARSEC_ERROR_PSA_DOES_NOT_EXIST);
    assert_int_equal(parsec_generate_random(c, r, sizeof(r)),
                     PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE);
    peer_stop(&p);
    parsec_client_free(c);
}

static void test_bodies(void **state)
{
    (void)state;
    struct peer p;
    uint8_t buf[64], out[8];
    size_t len = 0;
    peer_init(&p);
    /* Garbage body. */
    peer_header(buf, PARSEC_OP_PSA_HASH_COMPUTE, 0, 3);
    memcpy(buf + 36, "\xff\xff\xff", 3);
    peer_raw(&p, buf, 39);
    /* Truncated body, then connection closed. */
    peer_header(buf, PARSEC_OP_PSA_HASH_COMPUTE, 0, 20);
    memcpy(buf + 36, "\x0a\x12", 2);
    peer_raw(&p, buf, 38);
    /* Partial header. */
    peer_raw(&p, buf, 10);
    /* No reply at all. */
    peer_close(&p);
    /* A body longer than the client accepts: refused before it is read. */
    peer_header(buf, PARSEC_OP_PSA_HASH_COMPUTE, 0, 40);
    peer_raw(&p, buf, 36);
    /* A well-formed reply longer than the caller's buffer. */
    PsaHashCompute__Result hr = PSA_HASH_COMPUTE__RESULT__INIT;
    hr.hash.data = buf;
    hr.hash.len = 32;
    memset(buf, 0x5A, 32);
    peer_reply(&p, PARSEC_OP_PSA_HASH_COMPUTE, 0, &hr.base);
    peer_run(&p);
    struct parsec_client *c = naked_client(&p);
    const uint8_t in[] = "x";
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_RESPONSE_BODY);
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_IO);
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_IO);
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_IO);
    assert_int_equal(parsec_client_set_max_body_size(c, 39), 0);
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_RESPONSE_TOO_LONG);
    assert_int_equal(parsec_client_set_max_body_size(c, 0), 0);
    len = 0;
    assert_int_equal(parsec_hash_compute(c, PSA_ALG_SHA_256, in, 1, out, sizeof(out), &len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 32);
    peer_stop(&p);
    parsec_client_free(c);
}

static void test_timeout(void **state)
{
    (void)state;
    struct peer p;
    peer_init(&p);
    peer_hang(&p, 1500);
    peer_run(&p);
    struct parsec_client *c = naked_client(&p);
    assert_int_equal(parsec_client_set_timeout(c, 100), 0);
    int rc = parsec_ping(c, NULL, NULL);
    assert_int_equal(rc, PARSEC_ERROR_TIMEOUT);
    assert_int_equal(parsec_error_wire_status(rc), PARSEC_ERROR_CONNECTION_ERROR);
    peer_stop(&p);
    parsec_client_free(c);
}

/* The easy path against a provider without SignMessage (as the original Mbed Crypto, PKCS#11
 * and TPM ones): PsaSignMessage answered NotSupported, then the message is hashed in the
 * client (those providers have no PsaHashCompute either) and sent as PsaSignHash. */
static void test_sign_message_fallback(void **state)
{
    (void)state;
    struct peer p;
    uint8_t sigbuf[64], sig[64];
    size_t sig_len = 0;
    const uint8_t msg[] = "fallback";
    memset(sigbuf, 0x33, sizeof(sigbuf));
    PsaSignHash__Result sr = PSA_SIGN_HASH__RESULT__INIT;
    sr.signature.data = sigbuf;
    sr.signature.len = 64;
    peer_init(&p);
    peer_reply(&p, PARSEC_OP_PSA_SIGN_MESSAGE, PARSEC_ERROR_PSA_NOT_SUPPORTED, NULL);
    peer_reply(&p, PARSEC_OP_PSA_SIGN_HASH, 0, &sr.base);
    peer_reply(&p, PARSEC_OP_PSA_VERIFY_MESSAGE, PARSEC_ERROR_PSA_NOT_SUPPORTED, NULL);
    peer_reply(&p, PARSEC_OP_PSA_VERIFY_HASH, PARSEC_ERROR_PSA_INVALID_SIGNATURE, NULL);
    peer_run(&p);
    struct parsec_client *c = naked_client(&p);
    assert_int_equal(
        parsec_sign_message_ecdsa(c, "k", msg, sizeof(msg), sig, sizeof(sig), &sig_len), 0);
    assert_int_equal(sig_len, 64);
    assert_memory_equal(sig, sigbuf, 64);
    assert_int_equal(parsec_verify_message_ecdsa(c, "k", msg, sizeof(msg), sig, sig_len),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    peer_stop(&p);
    assert_int_equal(p.nreq, 4);
    assert_int_equal(p.req[1].hdr.opcode, PARSEC_OP_PSA_SIGN_HASH);
    assert_int_equal(p.req[3].hdr.opcode, PARSEC_OP_PSA_VERIFY_HASH);
    parsec_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_checks),
        cmocka_unit_test(test_status_before_opcode),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_sign_message_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
