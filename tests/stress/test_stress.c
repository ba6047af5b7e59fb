/* Stress: many client threads, each its own application, running the original project's
 * stress mix (stability-and-testing.md §4.2) against one daemon with every result checked:
 * signatures are verified with OpenSSL, ciphertexts decrypted, exported keys compared, and
 * the operations that must fail (destroy of a random name, verification of a bad signature,
 * decryption of garbage) must fail with their documented status. A checker thread meanwhile
 * creates, uses and destroys its own key.
 *
 * PARSEC_STRESS_THREADS (default 4) and PARSEC_STRESS_REQUESTS per thread (default 100) scale
 * it up, e.g. PARSEC_STRESS_THREADS=32 PARSEC_STRESS_REQUESTS=10000. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "wire/status.h"

#define RSA_BITS 1024
#define PUB_MAX 600
#define SIG_MAX 512
/* Interval of the checker's rounds. */
#define CHECK_INTERVAL_MS 200

static const char CONFIG[] = ST_CONFIG("thread_pool_size = 4\n", "3000", ST_KIM_SQLITE);

enum op {
    OP_CREATE_DESTROY,
    OP_SIGN,
    OP_VERIFY,
    OP_DESTROY_RANDOM,
    OP_IMPORT_DESTROY,
    OP_EXPORT_PUBLIC,
    OP_ENCRYPT,
    OP_DECRYPT,
    OP_SIGN_ECC,
    OP_VERIFY_ECC,
    OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "CreateDestroyKey", "Sign",    "Verify",  "DestroyRandom", "ImportDestroyKey",
    "ExportPublicKey",  "Encrypt", "Decrypt", "SignEcc",       "VerifyEcc"};

static struct daemon D;
static uint8_t *import_der; /* an RSA public key made by OpenSSL, imported by every thread */
static size_t import_der_len;
static _Atomic int workers_done;

struct worker {
    pthread_t th;
    int id;
    unsigned seed;
    unsigned long requests;
    char app[48];
    uint8_t rsa_pub[PUB_MAX], ecc_pub[PUB_MAX], crypt_pub[PUB_MAX];
    size_t rsa_pub_len, ecc_pub_len, crypt_pub_len;
    uint8_t hash[32], rsa_sig[SIG_MAX], ecc_sig[SIG_MAX];
    size_t rsa_sig_len, ecc_sig_len;
    unsigned long done[OP_COUNT];
};

/* A check made in a worker thread: a failure is recorded with the worker's application. */
#define EXPECT(w, cond, fmt, ...)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            st_error("%s: " fmt, (w)->app, __VA_ARGS__);                                           \
    } while (0)

static const char *sock(void)
{
    return D.sock;
}

/* The worker's keys, their public halves and one reference signature each. */
static int worker_setup(struct worker *w)
{
    struct psc_attrs rs = st_attrs_rsa_sign(RSA_BITS), ec = st_attrs_ecdsa_p256(),
                     rc_ = st_attrs_rsa_crypt(RSA_BITS);
    int rc;
    if ((rc = st_generate(sock(), w->app, "rsa-sign", &rs)) != 0 ||
        (rc = st_generate(sock(), w->app, "ecc-sign", &ec)) != 0 ||
        (rc = st_generate(sock(), w->app, "rsa-crypt", &rc_)) != 0) {
        st_error("%s: key creation failed: %d", w->app, rc);
        return -1;
    }
    if ((rc = st_export_public(sock(), w->app, "rsa-sign", w->rsa_pub, PUB_MAX, &w->rsa_pub_len)) !=
            0 ||
        (rc = st_export_public(sock(), w->app, "ecc-sign", w->ecc_pub, PUB_MAX, &w->ecc_pub_len)) !=
            0 ||
        (rc = st_export_public(sock(), w->app, "rsa-crypt", w->crypt_pub, PUB_MAX,
                               &w->crypt_pub_len)) != 0) {
        st_error("%s: public key export failed: %d", w->app, rc);
        return -1;
    }
    st_random(w->hash, sizeof(w->hash));
    if ((rc = st_sign(sock(), w->app, "rsa-sign", ST_ALG_RSA_SIGN, w->hash, 32, w->rsa_sig, SIG_MAX,
                      &w->rsa_sig_len)) != 0 ||
        (rc = st_sign(sock(), w->app, "ecc-sign", ST_ALG_ECDSA, w->hash, 32, w->ecc_sig, SIG_MAX,
                      &w->ecc_sig_len)) != 0) {
        st_error("%s: reference signature failed: %d", w->app, rc);
        return -1;
    }
    return 0;
}

static void sign_and_check(struct worker *w, const char *key, psa_algorithm_t alg,
                           psa_key_type_t type, const uint8_t *pub, size_t pub_len)
{
    uint8_t hash[32], sig[SIG_MAX];
    size_t sl;
    st_random(hash, sizeof(hash));
    int rc = st_sign(sock(), w->app, key, alg, hash, sizeof(hash), sig, sizeof(sig), &sl);
    EXPECT(w, rc == 0, "sign with %s: status %d", key, rc);
    if (rc == 0)
        EXPECT(w, st_ossl_verify(type, pub, pub_len, hash, 32, sig, sl) == 1,
               "signature by %s does not verify with OpenSSL", key);
}

static void verify_good_and_bad(struct worker *w, const char *key, psa_algorithm_t alg,
                                const uint8_t *sig, size_t sl)
{
    uint8_t bad[SIG_MAX];
    memcpy(bad, sig, sl);
    /* A flipped bit in the last byte keeps an RSA signature below the modulus and an ECDSA
     * s in range, so the service must see a well-formed but wrong signature. */
    bad[sl - 1] ^= 0x01;
    int rc = st_verify(sock(), w->app, key, alg, w->hash, 32, sig, sl);
    EXPECT(w, rc == 0, "verify of a good signature by %s: status %d", key, rc);
    rc = st_verify(sock(), w->app, key, alg, w->hash, 32, bad, sl);
    EXPECT(w, rc == PSC_PSA_INVALID_SIGNATURE, "verify of a bad signature by %s: status %d", key,
           rc);
}

static void run_op(struct worker *w, enum op op, unsigned long n)
{
    char name[64];
    uint8_t buf[PUB_MAX], pt[64], ct[SIG_MAX];
    size_t len, ctl;
    int rc;
    switch (op) {
    case OP_CREATE_DESTROY: {
        struct psc_attrs a = st_attrs_ecdsa_p256();
        snprintf(name, sizeof(name), "cd-%lu", n);
        rc = st_generate(sock(), w->app, name, &a);
        EXPECT(w, rc == 0, "create %s: status %d", name, rc);
        rc = st_generate(sock(), w->app, name, &a);
        EXPECT(w, rc == PSC_PSA_ALREADY_EXISTS, "second create %s: status %d", name, rc);
        rc = st_destroy(sock(), w->app, name);
        EXPECT(w, rc == 0, "destroy %s: status %d", name, rc);
        rc = st_destroy(sock(), w->app, name);
        EXPECT(w, rc == PSC_PSA_DOES_NOT_EXIST, "second destroy %s: status %d", name, rc);
        break;
    }
    case OP_SIGN:
        sign_and_check(w, "rsa-sign", ST_ALG_RSA_SIGN, PSA_KEY_TYPE_RSA_KEY_PAIR, w->rsa_pub,
                       w->rsa_pub_len);
        break;
    case OP_VERIFY:
        verify_good_and_bad(w, "rsa-sign", ST_ALG_RSA_SIGN, w->rsa_sig, w->rsa_sig_len);
        break;
    case OP_DESTROY_RANDOM: {
        uint8_t r[8];
        st_random(r, sizeof(r));
        snprintf(name, sizeof(name), "random-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
                 r[3], r[4], r[5], r[6], r[7]);
        rc = st_destroy(sock(), w->app, name);
        EXPECT(w, rc == PSC_PSA_DOES_NOT_EXIST, "destroy of random name %s: status %d", name, rc);
        break;
    }
    case OP_IMPORT_DESTROY: {
        struct psc_attrs a = st_attrs_rsa_public_verify(RSA_BITS);
        snprintf(name, sizeof(name), "imp-%lu", n);
        rc = st_import(sock(), w->app, name, &a, import_der, import_der_len);
        EXPECT(w, rc == 0, "import %s: status %d", name, rc);
        rc = st_export_public(sock(), w->app, name, buf, sizeof(buf), &len);
        EXPECT(w, rc == 0 && len == import_der_len && memcmp(buf, import_der, len) == 0,
               "export of imported %s: status %d or different bytes", name, rc);
        rc = st_destroy(sock(), w->app, name);
        EXPECT(w, rc == 0, "destroy of imported %s: status %d", name, rc);
        break;
    }
    case OP_EXPORT_PUBLIC:
        rc = st_export_public(sock(), w->app, "rsa-sign", buf, sizeof(buf), &len);
        EXPECT(w, rc == 0 && len == w->rsa_pub_len && memcmp(buf, w->rsa_pub, len) == 0,
               "export public: status %d or different bytes", rc);
        break;
    case OP_ENCRYPT:
        st_random(pt, 32);
        rc =
            st_encrypt(sock(), w->app, "rsa-crypt", ST_ALG_RSA_CRYPT, pt, 32, ct, sizeof(ct), &ctl);
        EXPECT(w, rc == 0 && ctl == RSA_BITS / 8, "encrypt: status %d", rc);
        if (rc == 0) {
            rc = st_decrypt(sock(), w->app, "rsa-crypt", ST_ALG_RSA_CRYPT, ct, ctl, buf,
                            sizeof(buf), &len);
            EXPECT(w, rc == 0 && len == 32 && memcmp(buf, pt, 32) == 0,
                   "decrypt of the service's ciphertext: status %d or wrong plaintext", rc);
        }
        break;
    case OP_DECRYPT:
        /* Garbage below the modulus (top byte 0) fails the padding check. */
        st_random(ct, RSA_BITS / 8);
        ct[0] = 0;
        rc = st_decrypt(sock(), w->app, "rsa-crypt", ST_ALG_RSA_CRYPT, ct, RSA_BITS / 8, buf,
                        sizeof(buf), &len);
        EXPECT(w, rc == PSC_PSA_INVALID_PADDING || rc == PSC_PSA_INVALID_ARGUMENT,
               "decrypt of garbage: status %d", rc);
        st_random(pt, 32);
        if (st_ossl_rsa_encrypt(w->crypt_pub, w->crypt_pub_len, pt, 32, ct, sizeof(ct), &ctl) !=
            0) {
            st_error("%s: OpenSSL cannot encrypt to the exported key", w->app);
            break;
        }
        rc = st_decrypt(sock(), w->app, "rsa-crypt", ST_ALG_RSA_CRYPT, ct, ctl, buf, sizeof(buf),
                        &len);
        EXPECT(w, rc == 0 && len == 32 && memcmp(buf, pt, 32) == 0,
               "decrypt of an OpenSSL ciphertext: status %d or wrong plaintext", rc);
        break;
    case OP_SIGN_ECC:
        sign_and_check(w, "ecc-sign", ST_ALG_ECDSA,
                       PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), w->ecc_pub,
                       w->ecc_pub_len);
        break;
    case OP_VERIFY_ECC:
        verify_good_and_bad(w, "ecc-sign", ST_ALG_ECDSA, w->ecc_sig, w->ecc_sig_len);
        break;
    case OP_COUNT:
        break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (worker_setup(w) != 0)
        return NULL;
    for (unsigned long i = 0; i < w->requests; i++) {
        enum op op = (enum op)(rand_r(&w->seed) % OP_COUNT);
        run_op(w, op, i);
        w->done[op]++;
    }
    const char *keys[] = {"rsa-sign", "ecc-sign", "rsa-crypt"};
    for (size_t i = 0; i < 3; i++) {
        int rc = st_destroy(sock(), w->app, keys[i]);
        EXPECT(w, rc == 0, "final destroy of %s: status %d", keys[i], rc);
    }
    /* Nothing of this application may be left behind. */
    char **names;
    size_t n;
    int rc = st_list_keys(sock(), w->app, &names, &n);
    EXPECT(w, rc == 0 && n == 0, "ListKeys at the end: status %d, %zu keys left", rc, n);
    st_names_free(names, n);
    return NULL;
}

/* The original's health check: a key of its own, created, used and destroyed, again and
 * again while the workers run. */
static void *checker_main(void *arg)
{
    unsigned long *rounds = arg;
    const char *app = "stress-checker";
    struct psc_attrs a = st_attrs_ecdsa_p256();
    while (!atomic_load(&workers_done)) {
        int rc = st_ping(sock());
        if (rc != 0)
            st_error("checker: Ping status %d", rc);
        rc = st_generate(sock(), app, "sign_checking_key", &a);
        if (rc != 0) {
            st_error("checker: create status %d", rc);
        } else {
            uint8_t pub[PUB_MAX], hash[32], sig[SIG_MAX];
            size_t pl, sl;
            st_random(hash, sizeof(hash));
            rc = st_export_public(sock(), app, "sign_checking_key", pub, sizeof(pub), &pl);
            if (rc == 0)
                rc = st_sign(sock(), app, "sign_checking_key", ST_ALG_ECDSA, hash, 32, sig,
                             sizeof(sig), &sl);
            if (rc != 0 || st_ossl_verify(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), pub,
                                          pl, hash, 32, sig, sl) != 1)
                st_error("checker: sign and verify failed (status %d)", rc);
            rc = st_destroy(sock(), app, "sign_checking_key");
            if (rc != 0)
                st_error("checker: destroy status %d", rc);
        }
        (*rounds)++;
        usleep(CHECK_INTERVAL_MS * 1000);
    }
    return NULL;
}

static void stress_mix(void **state)
{
    (void)state;
    unsigned long threads = st_env_ulong("PARSEC_STRESS_THREADS", 4);
    unsigned long requests = st_env_ulong("PARSEC_STRESS_REQUESTS", 100);
    assert_true(threads >= 1 && threads <= 4096);
    assert_int_equal(st_ossl_rsa_public(RSA_BITS, &import_der, &import_der_len), 0);

    daemon_start(&D, CONFIG);
    int fd_start = st_fd_stable(D.pid);
    struct worker *w = calloc(threads, sizeof(*w));
    assert_non_null(w);
    uint8_t r[4];
    st_random(r, sizeof(r));
    for (unsigned long i = 0; i < threads; i++) {
        w[i].id = (int)i;
        w[i].requests = requests;
        w[i].seed = (unsigned)(r[0] | r[1] << 8 | r[2] << 16) ^ (unsigned)i * 2654435761u;
        snprintf(w[i].app, sizeof(w[i].app), "stress-%lu-%02x%02x%02x%02x", i, r[0], r[1], r[2],
                 r[3]);
        assert_int_equal(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
    }
    unsigned long rounds = 0;
    pthread_t checker;
    assert_int_equal(pthread_create(&checker, NULL, checker_main, &rounds), 0);
    uint64_t t0 = e2e_now_ms();
    for (unsigned long i = 0; i < threads; i++)
        pthread_join(w[i].th, NULL);
    atomic_store(&workers_done, 1);
    pthread_join(checker, NULL);
    uint64_t t1 = e2e_now_ms();

    unsigned long total[OP_COUNT] = {0}, all = 0;
    for (unsigned long i = 0; i < threads; i++)
        for (int k = 0; k < OP_COUNT; k++) {
            total[k] += w[i].done[k];
            all += w[i].done[k];
        }
    printf("stress: %lu threads x %lu operations in %.1f s, %lu checker rounds, %lu errors\n",
           threads, requests, (double)(t1 - t0) / 1000, rounds, st_errors());
    for (int k = 0; k < OP_COUNT; k++)
        printf("  %-18s %lu\n", op_names[k], total[k]);
    assert_int_equal(all, threads * requests);
    assert_int_equal(st_errors(), 0);
    /* Every connection has been answered and closed. */
    assert_int_equal(st_fd_settle(D.pid, fd_start, 5000), fd_start);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    free(w);
    free(import_der);
}

/* Also after a failed check: no daemon is left running. */
static int teardown(void **state)
{
    (void)state;
    daemon_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(stress_mix, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
