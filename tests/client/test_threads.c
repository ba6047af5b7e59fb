/* One client shared by several threads signing at once (and a thread changing settings
 * meanwhile): every signature must be valid, as checked by OpenSSL. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define THREADS 6
#define ROUNDS 15

struct job {
    struct parsec_client *c;
    EVP_PKEY *pub;
    int index;
    int failures;
};

static void *signer(void *arg)
{
    struct job *j = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char msg[64];
        uint8_t sig[64];
        size_t sig_len = 0;
        int n = snprintf(msg, sizeof(msg), "thread %d round %d", j->index, i);
        int rc = parsec_sign_message_ecdsa(j->c, "shared", (const uint8_t *)msg, (size_t)n, sig,
                                           sizeof(sig), &sig_len);
        if (rc != 0 || !tu_ecdsa_verify(j->pub, (const uint8_t *)msg, (size_t)n, sig, sig_len))
            j->failures++;
        /* A key of this thread's own, created and destroyed concurrently with the others. */
        char name[32];
        snprintf(name, sizeof(name), "t%d-%d", j->index, i);
        if (i % 5 == 0 &&
            (parsec_ecc_key_create(j->c, name) != 0 || parsec_destroy_key(j->c, name) != 0))
            j->failures++;
    }
    return NULL;
}

static void *fiddler(void *arg)
{
    struct parsec_client *c = arg;
    for (int i = 0; i < 200; i++) {
        parsec_client_set_timeout(c, i % 2 ? 30000 : PARSEC_TIMEOUT_DEFAULT);
        parsec_client_set_max_body_size(c, i % 2 ? (1u << 20) : 0);
        parsec_client_set_auth_direct(c, "threads-app"); /* same identity, new copy */
        (void)parsec_client_provider(c);
    }
    return NULL;
}

static void test_concurrent_signing(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    struct parsec_client *c = tu_client(&d, "threads-app");
    uint8_t pub[65];
    size_t pub_len = 0;
    assert_int_equal(parsec_ecc_key_create(c, "shared"), 0);
    assert_int_equal(parsec_export_public_key(c, "shared", pub, sizeof(pub), &pub_len), 0);
    EVP_PKEY *pk = tu_p256_pub(pub, pub_len);
    assert_non_null(pk);

    pthread_t th[THREADS], f;
    struct job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){.c = c, .pub = pk, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, signer, &jobs[i]), 0);
    }
    assert_int_equal(pthread_create(&f, NULL, fiddler, c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_join(f, NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(jobs[i].failures, 0);

    struct parsec_key_info *keys = NULL;
    size_t n = 0;
    assert_int_equal(parsec_list_keys(c, &keys, &n), 0);
    assert_int_equal(n, 1); /* only "shared" is left */
    parsec_key_info_free(keys, n);
    assert_int_equal(parsec_destroy_key(c, "shared"), 0);
    EVP_PKEY_free(pk);
    parsec_client_free(c);
    daemon_cleanup(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_signing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
