/* Secrets in memory: no byte of a client's secret stays in the daemon's memory once its request
 * is answered. Each request below carries a distinctive pattern in a bytes field (a plaintext,
 * an imported key, data to hash), on a success path, on the provider's error paths, and on the
 * paths where the body fails to decode after protobuf-c has copied the field. A key holding a
 * pattern is exported (the reply carries the secret) and then destroyed. After each request the
 * daemon's writable memory is read through /proc/<pid>/mem: the pattern must be gone, freed
 * blocks included (a sanitized daemon keeps freed blocks in quarantine, intact, which makes a
 * leak certain to be seen). The scan polls, within a bound, because the daemon finishes
 * freeing a connection's buffers after its reply has left. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "../stress/ops.h"
#include "psa/convert.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define APP "secret-keeper"
/* Size of each secret: below any allocator's threshold for a mapping of its own, so that a
 * freed copy stays in the heap where the scan sees it. */
#define SECRET_LEN 3000
/* A run of this many pattern bytes found in the daemon counts as a copy of the secret. */
#define NEEDLE_LEN 64
/* Writable mappings larger than this are sanitizer shadow memory, not heap. */
#define REGION_MAX (128u << 20)
/* How long the daemon may take to free a connection after its reply. */
#define GONE_WAIT_MS 10000

static const char CONFIG[] = ST_CONFIG("log_level = \"info\"\n", "2000", ST_KIM_SQLITE);

static struct daemon D;

/* A secret of SECRET_LEN bytes: a 16-byte pattern, different for each tag, repeated. */
static void secret_fill(uint8_t *p, size_t len, uint8_t tag)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i % 16 == 0 ? tag : 0xA5 ^ (uint8_t)(i % 16) ^ (uint8_t)(tag << 4));
}

/* Whether NEEDLE_LEN bytes of the pattern of tag appear in the daemon's writable memory. */
static int daemon_holds(pid_t pid, uint8_t tag)
{
    uint8_t needle[NEEDLE_LEN];
    secret_fill(needle, sizeof(needle), tag);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    assert_non_null(maps);
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(mem >= 0);
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap + NEEDLE_LEN);
    assert_non_null(buf);
    int found = 0;
    char line[512];
    while (!found && fgets(line, sizeof(line), maps)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || hi - lo > REGION_MAX)
            continue;
        size_t carry = 0;
        for (unsigned long at = lo; !found && at < hi;) {
            size_t want = hi - at < cap ? hi - at : cap;
            ssize_t n = pread(mem, buf + carry, want, (off_t)at);
            if (n <= 0)
                break;
            found = memmem(buf, carry + (size_t)n, needle, sizeof(needle)) != NULL;
            /* Keep the tail: a copy may straddle two reads. */
            size_t keep = carry + (size_t)n < NEEDLE_LEN ? carry + (size_t)n : NEEDLE_LEN - 1;
            memmove(buf, buf + carry + (size_t)n - keep, keep);
            carry = keep;
            at += (unsigned long)n;
        }
    }
    free(buf);
    close(mem);
    fclose(maps);
    return found;
}

static void assert_gone(uint8_t tag, const char *what)
{
    uint64_t end = e2e_now_ms() + GONE_WAIT_MS;
    while (daemon_holds(D.pid, tag)) {
        if (e2e_now_ms() > end)
            fail_msg("the daemon still holds the secret of: %s", what);
        usleep(20000);
    }
}

/* Sends a raw frame with this body and returns the reply's status. */
static int raw_call(uint32_t opcode, const uint8_t *body, size_t body_len)
{
    struct psc_header h = e2e_header(ST_PROVIDER, opcode, PSC_AUTH_DIRECT);
    h.body_len = (uint32_t)body_len;
    h.auth_len = (uint16_t)strlen(APP);
    size_t len = PSC_WIRE_HEADER_SIZE + body_len + strlen(APP);
    uint8_t *req = malloc(len);
    assert_non_null(req);
    psc_header_encode(&h, req);
    memcpy(req + PSC_WIRE_HEADER_SIZE, body, body_len);
    memcpy(req + PSC_WIRE_HEADER_SIZE + body_len, APP, strlen(APP));
    struct psc_header rsp;
    uint8_t *rbody = NULL;
    assert_int_equal(e2e_raw(D.sock, req, len, &rsp, &rbody), 0);
    free(rbody);
    free(req);
    return rsp.status;
}

/* Appends a length-delimited field (key, varint length, bytes) to b at *n. */
static void put_field(uint8_t *b, size_t *n, uint8_t key, const void *p, size_t len)
{
    b[(*n)++] = key;
    size_t v = len;
    for (; v >= 0x80; v >>= 7)
        b[(*n)++] = (uint8_t)(v | 0x80);
    b[(*n)++] = (uint8_t)v;
    memcpy(b + *n, p, len);
    *n += len;
}

static int setup(void **state)
{
    (void)state;
#ifdef STRESS_SANITIZED
    /* The daemon binds every symbol at start (-z now), but the sanitizer's runtime does not:
     * its first calls would spill registers holding a secret on the stack, which is the
     * runtime's doing, not the service's. */
    static char bind_now[] = "LD_BIND_NOW=1";
    char *env[] = {bind_now, NULL};
#else
    char **env = NULL;
#endif
    daemon_prepare(&D, CONFIG);
    if (daemon_launch(&D, env) != 0)
        fail_msg("the daemon did not start");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    daemon_stop(&D, 15);
    daemon_cleanup(&D);
    return 0;
}

/* The daemon starts with none of the patterns in memory: the scan itself is sound. */
static void test_scan_baseline(void **state)
{
    (void)state;
    for (uint8_t tag = 1; tag <= 6; tag++)
        assert_false(daemon_holds(D.pid, tag));
}

static void test_hash_input(void **state)
{
    (void)state;
    uint8_t secret[SECRET_LEN];
    secret_fill(secret, sizeof(secret), 1);
    PsaHashCompute__Operation op = PSA_HASH_COMPUTE__OPERATION__INIT;
    op.alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    op.input.data = secret;
    op.input.len = sizeof(secret);
    ProtobufCMessage *r = NULL;
    assert_int_equal(st_call(D.sock, ST_PROVIDER, PSC_OP_PSA_HASH_COMPUTE, APP, &op.base,
                             &psa_hash_compute__result__descriptor, &r),
                     0);
    protobuf_c_message_free_unpacked(r, NULL);
    assert_gone(1, "a hashed input (success)");
}

static void test_plaintext_of_missing_key(void **state)
{
    (void)state;
    uint8_t secret[SECRET_LEN];
    secret_fill(secret, sizeof(secret), 2);
    PsaCipherEncrypt__Operation op = PSA_CIPHER_ENCRYPT__OPERATION__INIT;
    op.key_name = "no-such-key";
    op.alg = PSA_ALGORITHM__ALGORITHM__CIPHER__CBC_NO_PADDING;
    op.plaintext.data = secret;
    op.plaintext.len = sizeof(secret);
    assert_int_equal(
        st_call(D.sock, ST_PROVIDER, PSC_OP_PSA_CIPHER_ENCRYPT, APP, &op.base, NULL, NULL),
        PSC_PSA_DOES_NOT_EXIST);
    assert_gone(2, "a plaintext for a key that does not exist (provider error)");
}

static void test_refused_key_material(void **state)
{
    (void)state;
    uint8_t secret[SECRET_LEN];
    secret_fill(secret, sizeof(secret), 3);
    struct psc_attrs a = {.type = PSA_KEY_TYPE_AES,
                          .bits = 256,
                          .usage = PSA_KEY_USAGE_ENCRYPT,
                          .alg = PSA_ALG_CBC_NO_PADDING};
    int rc = st_import(D.sock, APP, "too-long-aes", &a, secret, sizeof(secret));
    assert_true(rc > 0);
    assert_gone(3, "key material the back-end refused");
}

/* The key material is copied by protobuf-c, then the attributes after it fail to parse: the
 * half-built message is freed inside protobuf-c. */
static void test_body_failing_after_the_secret(void **state)
{
    (void)state;
    static uint8_t body[SECRET_LEN + 64];
    uint8_t secret[SECRET_LEN];
    size_t n = 0;
    secret_fill(secret, sizeof(secret), 4);
    put_field(body, &n, 0x1a /* data */, secret, sizeof(secret));
    static const uint8_t broken_attrs[] = {0x08}; /* a varint key without its value */
    put_field(body, &n, 0x12 /* attributes */, broken_attrs, sizeof(broken_attrs));
    assert_int_equal(raw_call(PSC_OP_PSA_IMPORT_KEY, body, n), PSC_DESERIALIZING_BODY_FAILED);
    assert_gone(4, "a body that fails to parse after the key material");
}

/* protobuf-c accepts the body; the service refuses its key name (not UTF-8). */
static void test_body_with_bad_string(void **state)
{
    (void)state;
    static uint8_t body[SECRET_LEN + 64];
    uint8_t secret[SECRET_LEN];
    size_t n = 0;
    secret_fill(secret, sizeof(secret), 5);
    static const uint8_t bad_name[] = {'k', 0xff, 'y'};
    put_field(body, &n, 0x0a /* key_name */, bad_name, sizeof(bad_name));
    put_field(body, &n, 0x1a /* data */, secret, sizeof(secret));
    assert_int_equal(raw_call(PSC_OP_PSA_IMPORT_KEY, body, n), PSC_DESERIALIZING_BODY_FAILED);
    assert_gone(5, "a body whose key name is not UTF-8");
}

/* A decrypted plaintext travels back in the reply: every buffer that held it is wiped too. */
static void test_decrypted_plaintext(void **state)
{
    (void)state;
    uint8_t secret[128], pub[1024], ct[512], pt[512];
    size_t pub_len, ct_len, pt_len;
    secret_fill(secret, sizeof(secret), 6);
    struct psc_attrs a = st_attrs_rsa_crypt(2048);
    assert_int_equal(st_generate(D.sock, APP, "rsa", &a), 0);
    assert_int_equal(st_export_public(D.sock, APP, "rsa", pub, sizeof(pub), &pub_len), 0);
    assert_int_equal(
        st_ossl_rsa_encrypt(pub, pub_len, secret, sizeof(secret), ct, sizeof(ct), &ct_len), 0);
    assert_int_equal(
        st_decrypt(D.sock, APP, "rsa", ST_ALG_RSA_CRYPT, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
    assert_int_equal(pt_len, sizeof(secret));
    assert_memory_equal(pt, secret, sizeof(secret));
    assert_gone(6, "a decrypted plaintext (reply)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_baseline),
        cmocka_unit_test(test_hash_input),
        cmocka_unit_test(test_plaintext_of_missing_key),
        cmocka_unit_test(test_refused_key_material),
        cmocka_unit_test(test_body_failing_after_the_secret),
        cmocka_unit_test(test_body_with_bad_string),
        cmocka_unit_test(test_decrypted_plaintext),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
