/* libparsec, the C client library, against the PKCS#11 provider on SoftHSM2: it finds the
 * provider as the implicit one from ListProviders, and its key, signature and encryption calls
 * work end to end; results are checked by OpenSSL. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>

#include <parsec/client.h>

#define E2E_PROVIDER PSC_PROVIDER_PKCS11
#include "e2e_psa.h"
#include "p11_env.h"

static struct p11_token T;
static struct daemon D;
static struct parsec_client *P;

static int setup(void **state)
{
    (void)state;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);
    daemon_start(&D, p11_config("allow_deprecated = true\n", NULL));
    char uri[400];
    snprintf(uri, sizeof(uri), "unix:%s", D.sock);
    struct parsec_client_config cfg = {.endpoint = uri, .app_name = "libparsec-app"};
    assert_int_equal(parsec_client_new(&P, &cfg), PARSEC_SUCCESS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    parsec_client_free(P);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    p11_token_cleanup(&T);
    return 0;
}

static void test_implicit_provider(void **state)
{
    (void)state;
    assert_int_equal(parsec_client_provider(P), 2);
    uint32_t *ops = NULL;
    size_t n = 0;
    assert_int_equal(parsec_list_opcodes(P, 2, &ops, &n), PARSEC_SUCCESS);
    assert_int_equal(n, 10);
    parsec_opcodes_free(ops);
}

static void test_ecdsa(void **state)
{
    (void)state;
    assert_int_equal(parsec_ecc_key_create(P, "ecc"), PARSEC_SUCCESS);
    uint8_t pub[PARSEC_ECC_P256_PUBLIC_KEY_SIZE], sig[PARSEC_ECDSA_P256_SIG_SIZE];
    size_t pub_len = 0, sig_len = 0;
    assert_int_equal(parsec_export_public_key(P, "ecc", pub, sizeof(pub), &pub_len),
                     PARSEC_SUCCESS);
    struct buf h = digest(HASH(SHA_256), buf_str("from libparsec"));
    assert_int_equal(parsec_sign_hash(P, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h.p, h.n, sig,
                                      sizeof(sig), &sig_len),
                     PARSEC_SUCCESS);
    assert_true(ossl_verify(pkey_ec_public("P-256", buf_copy(pub, pub_len)), NULL, PAD_NONE, h,
                            buf_copy(sig, sig_len)));
    assert_int_equal(
        parsec_verify_hash(P, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h.p, h.n, sig, sig_len),
        PARSEC_SUCCESS);
    sig[1] ^= 1;
    assert_int_equal(
        parsec_verify_hash(P, "ecc", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h.p, h.n, sig, sig_len),
        PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    struct parsec_key_info *keys = NULL;
    size_t n = 0;
    assert_int_equal(parsec_list_keys(P, &keys, &n), PARSEC_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(keys[0].provider_id, 2);
    parsec_key_info_free(keys, n);
    assert_int_equal(parsec_destroy_key(P, "ecc"), PARSEC_SUCCESS);
    assert_int_equal(parsec_destroy_key(P, "ecc"), PARSEC_ERROR_PSA_DOES_NOT_EXIST);
}

static void test_rsa_oaep_sha1(void **state)
{
    (void)state;
    struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
        .bits = 1024,
        .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
        .alg = PSA_ALG_RSA_OAEP(PSA_ALG_SHA_1),
    };
    assert_int_equal(parsec_can_do_crypto(P, PARSEC_CHECK_GENERATE, &a), PARSEC_SUCCESS);
    assert_int_equal(parsec_generate_key(P, "oaep", &a), PARSEC_SUCCESS);
    static const uint8_t msg[] = "sealed by libparsec";
    uint8_t ct[128], pt[128];
    size_t ct_len = 0, pt_len = 0;
    assert_int_equal(parsec_asymmetric_encrypt(P, "oaep", a.alg, msg, sizeof(msg), NULL, 0, ct,
                                               sizeof(ct), &ct_len),
                     PARSEC_SUCCESS);
    assert_int_equal(
        parsec_asymmetric_decrypt(P, "oaep", a.alg, ct, ct_len, NULL, 0, pt, sizeof(pt), &pt_len),
        PARSEC_SUCCESS);
    assert_int_equal(pt_len, sizeof(msg));
    assert_memory_equal(pt, msg, sizeof(msg));
    /* The token does OAEP with SHA-1 only: said before a key is made. */
    a.alg = PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256);
    assert_int_equal(parsec_can_do_crypto(P, PARSEC_CHECK_USE, &a), PARSEC_ERROR_PSA_NOT_SUPPORTED);
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0};
    assert_int_equal(parsec_generate_random(P, a, sizeof(a)), PARSEC_SUCCESS);
    assert_int_equal(parsec_generate_random(P, b, sizeof(b)), PARSEC_SUCCESS);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_implicit_provider, e2e_arena_free),
        cmocka_unit_test_teardown(test_ecdsa, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_oaep_sha1, e2e_arena_free),
        cmocka_unit_test_teardown(test_random, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
