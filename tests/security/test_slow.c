/* A slow operation does not stall everyone. An RSA-4096 key generation takes seconds; while one
 * is being computed for one client, another client's ECDSA signature must be answered. The
 * check asserts an order, not a time: the generation is confirmed in flight (the daemon has
 * spent CPU on it and has not answered it), the signature is made and answered, and then the
 * daemon is seen to go on computing the generation (STILL_BUSY_CPU_MS more CPU time before the
 * generation's reply). A daemon that serialises the generation with the signature can only
 * answer the signature once the generation is computed, so the last step never holds for it. An
 * attempt where the generation happens to end just after the signature is not counted, and
 * the test tries again, up to ATTEMPTS times.
 *
 * Keys generated outside the back-end's lock are then imported into it: the key files must
 * hold the same attributes (type, size, policy, persistent lifetime) as generated keys, and be
 * readable by Mbed TLS itself. */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <psa/crypto.h>

#include "../stress/ops.h"
#include "harness.h"
#include "psa/convert.h"
#include "psa_generate_key.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

#define ATTEMPTS 8
/* CPU time the daemon must spend on the generation: before the signature, to know it is in
 * flight, and after the signature, to know it still was. What follows the computation of a
 * key (its import, key file and mapping) costs a few milliseconds. */
#define IN_FLIGHT_CPU_MS 100
#define STILL_BUSY_CPU_MS 50
/* Bound on any wait: a sanitized daemon generates RSA-4096 keys many times slower. */
#define WAIT_MS 300000

static const char CONFIG[] = ST_CONFIG("thread_pool_size = 2\n", "2000", ST_KIM_SQLITE);

static struct daemon D;

static long cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which ends at the last ')': utime and stime are the 12th
     * and 13th of them. */
    char *p = strrchr(buf, ')');
    assert_non_null(p);
    unsigned long ut = 0, st = 0;
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st),
                     2);
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 10) > 0;
}

/* Waits until the daemon has spent ms more CPU time (1) or fd has a reply (0). */
static int cpu_before_reply(int fd, long ms)
{
    long start = cpu_ms(D.pid);
    uint64_t end = e2e_now_ms() + WAIT_MS;
    while (e2e_now_ms() < end) {
        if (readable(fd))
            return 0;
        if (cpu_ms(D.pid) >= start + ms)
            return 1;
    }
    fail_msg("the daemon neither worked nor answered");
    return 0;
}

static int reply_status(int fd)
{
    uint8_t hdr[PSC_WIRE_HEADER_SIZE], *body = NULL;
    uint32_t len = 0;
    assert_int_equal(st_read_reply(fd, hdr, &body, &len), 0);
    free(body);
    return st_reply_status(hdr);
}

/* Sends a generation of an RSA-4096 key and returns the connection awaiting its reply. */
static int start_generation(const char *name)
{
    struct psc_attrs a = st_attrs_rsa_sign(4096);
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    assert_int_equal(conv_attrs_to_pb(&a, &op.attributes), 0);
    size_t len;
    uint8_t *req = st_frame(ST_PROVIDER, PSC_OP_PSA_GENERATE_KEY, &op.base, "slow", &len);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
    assert_non_null(req);
    int fd = st_connect(D.sock, WAIT_MS);
    assert_true(fd >= 0);
    assert_int_equal(st_write_all(fd, req, len), 0);
    free(req);
    return fd;
}

static void test_signature_during_generation(void **state)
{
    (void)state;
    struct psc_attrs ec = st_attrs_ecdsa_p256();
    uint8_t hash[32], sig[128];
    size_t sig_len;
    st_random(hash, sizeof(hash));
    daemon_start(&D, CONFIG);
    assert_int_equal(st_generate(D.sock, "quick", "sig", &ec), 0);

    int done = 0;
    for (int i = 0; i < ATTEMPTS && !done; i++) {
        char name[32];
        snprintf(name, sizeof(name), "big-%d", i);
        int fd = start_generation(name);
        if (cpu_before_reply(fd, IN_FLIGHT_CPU_MS)) {
            assert_int_equal(st_sign(D.sock, "quick", "sig", ST_ALG_ECDSA, hash, sizeof(hash), sig,
                                     sizeof(sig), &sig_len),
                             0);
            done = cpu_before_reply(fd, STILL_BUSY_CPU_MS);
            if (!done)
                fprintf(stderr, "attempt %d: the generation ended with the signature\n", i);
        } else {
            fprintf(stderr, "attempt %d: the generation ended before it was seen\n", i);
        }
        assert_int_equal(reply_status(fd), 0);
        close(fd);
    }
    assert_true(done);
    daemon_stop(&D, 15);
    daemon_cleanup(&D);
}

/* ---- key files of generated keys ----------------------------------------------------------- */

static const struct {
    psa_key_type_t type;
    size_t bits;
    psa_key_usage_t usage;
    psa_algorithm_t alg;
} generated[] = {
    {PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_EXPORT,
     PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)},
    {PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, PSA_KEY_USAGE_DECRYPT, PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256)},
    {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 521,
     PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_EXPORT, PSA_ALG_ECDSA(PSA_ALG_SHA_512)},
    {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_K1), 256, PSA_KEY_USAGE_SIGN_HASH,
     PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256)},
    {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_BRAINPOOL_P_R1), 384, PSA_KEY_USAGE_DERIVE,
     PSA_ALG_ECDH},
    {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255,
     PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT, PSA_ALG_ECDH},
};
#define N_GENERATED (sizeof(generated) / sizeof(generated[0]))

static void test_key_files_of_generated_keys(void **state)
{
    (void)state;
    daemon_start(&D, CONFIG);
    for (size_t i = 0; i < N_GENERATED; i++) {
        struct psc_attrs a = {generated[i].type, generated[i].bits, generated[i].usage,
                              generated[i].alg};
        char name[16];
        snprintf(name, sizeof(name), "k%zu", i);
        assert_int_equal(st_generate(D.sock, "files", name, &a), 0);
    }
    assert_int_equal(daemon_stop(&D, 15), 0);

    /* Mbed TLS itself reads the key store. */
    char keys[400], cwd[4096];
    snprintf(keys, sizeof(keys), "%s/keys", D.dir);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(keys), 0);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    DIR *d = opendir(".");
    assert_non_null(d);
    struct dirent *e;
    int seen[N_GENERATED] = {0};
    while ((e = readdir(d)) != NULL) {
        unsigned long long uid;
        if (sscanf(e->d_name, "%16llx.psa_its", &uid) != 1 || strlen(e->d_name) != 24)
            continue;
        psa_key_attributes_t pa = PSA_KEY_ATTRIBUTES_INIT;
        assert_int_equal(psa_get_key_attributes((psa_key_id_t)uid, &pa), PSA_SUCCESS);
        size_t i = 0;
        while (i < N_GENERATED && (generated[i].type != psa_get_key_type(&pa) ||
                                   generated[i].bits != psa_get_key_bits(&pa)))
            i++;
        if (i == N_GENERATED)
            fail_msg("a key file holds a key of type %#x, %zu bits", psa_get_key_type(&pa),
                     psa_get_key_bits(&pa));
        seen[i]++;
        assert_int_equal(psa_get_key_lifetime(&pa), PSA_KEY_LIFETIME_PERSISTENT);
        /* Mbed TLS extends a hash usage to the message usage, for any key it stores. */
        psa_key_usage_t usage = generated[i].usage;
        if (usage & PSA_KEY_USAGE_SIGN_HASH)
            usage |= PSA_KEY_USAGE_SIGN_MESSAGE;
        assert_int_equal(psa_get_key_usage_flags(&pa), usage);
        assert_int_equal(psa_get_key_algorithm(&pa), generated[i].alg);
        if (generated[i].usage & PSA_KEY_USAGE_EXPORT) {
            /* The private key reads back in the size of its type. */
            uint8_t out[PSA_KEY_EXPORT_RSA_KEY_PAIR_MAX_SIZE(1024) + 64];
            size_t len;
            assert_int_equal(psa_export_key((psa_key_id_t)uid, out, sizeof(out), &len),
                             PSA_SUCCESS);
            if (PSA_KEY_TYPE_IS_ECC(generated[i].type))
                assert_int_equal(len, PSA_BITS_TO_BYTES(generated[i].bits));
            else
                assert_true(len > 600 && out[0] == 0x30);
        }
        psa_reset_key_attributes(&pa);
    }
    closedir(d);
    mbedtls_psa_crypto_free();
    assert_int_equal(chdir(cwd), 0);
    for (size_t i = 0; i < N_GENERATED; i++)
        assert_int_equal(seen[i], 1);
    daemon_cleanup(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_files_of_generated_keys),
        cmocka_unit_test(test_signature_during_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
