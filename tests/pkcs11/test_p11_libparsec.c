/* libparsec, the C client library, against the PKCS#11 provider on SoftHSM2: it finds the
 * provider as the implicit one from ListProviders, and its key, signature and encryption calls
 * work end to end; results are checked by OpenSSL. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The provider has neither PsaSignMessage nor PsaHashCompute: the easy path hashes the
 * message itself and signs the hash. */
static void test_sign_message_ecdsa(void **state)
{
    (void)state;
    static const uint8_t msg[] = "a message for a provider without SignMessage";
    assert_int_equal(parsec_ecc_key_create(P, "ecc-msg"), PARSEC_SUCCESS);
    uint8_t pub[PARSEC_ECC_P256_PUBLIC_KEY_SIZE], sig[PARSEC_ECDSA_P256_SIG_SIZE];
    size_t pub_len = 0, sig_len = 0;
    assert_int_equal(parsec_export_public_key(P, "ecc-msg", pub, sizeof(pub), &pub_len),
                     PARSEC_SUCCESS);
    uint8_t h[PSA_HASH_MAX_SIZE];
    size_t h_len = 0;
    assert_int_equal(
        parsec_hash_compute(P, PSA_ALG_SHA_256, msg, sizeof(msg), h, sizeof(h), &h_len),
        PARSEC_ERROR_PSA_NOT_SUPPORTED);
    assert_int_equal(
        parsec_sign_message_ecdsa(P, "ecc-msg", msg, sizeof(msg), sig, sizeof(sig), &sig_len),
        PARSEC_SUCCESS);
    assert_int_equal(sig_len, PARSEC_ECDSA_P256_SIG_SIZE);
    assert_true(ossl_verify(pkey_ec_public("P-256", buf_copy(pub, pub_len)), NULL, PAD_NONE,
                            digest(HASH(SHA_256), buf_copy(msg, sizeof(msg))),
                            buf_copy(sig, sig_len)));
    assert_int_equal(parsec_verify_message_ecdsa(P, "ecc-msg", msg, sizeof(msg), sig, sig_len),
                     PARSEC_SUCCESS);
    sig[3] ^= 1;
    assert_int_equal(parsec_verify_message_ecdsa(P, "ecc-msg", msg, sizeof(msg), sig, sig_len),
                     PARSEC_ERROR_PSA_INVALID_SIGNATURE);
    assert_int_equal(parsec_destroy_key(P, "ecc-msg"), PARSEC_SUCCESS);
}

/* The hash behind those fallbacks, computed in the process, against OpenSSL's. */
static void test_hash_local(void **state)
{
    (void)state;
    static const struct {
        psa_algorithm_t alg;
        int hash;
    } algs[] = {
        {PSA_ALG_SHA_1, HASH(SHA_1)},     {PSA_ALG_SHA_224, HASH(SHA_224)},
        {PSA_ALG_SHA_256, HASH(SHA_256)}, {PSA_ALG_SHA_384, HASH(SHA_384)},
        {PSA_ALG_SHA_512, HASH(SHA_512)},
    };
    static const uint8_t msg[] = "hashed in the client";
    uint8_t h[PSA_HASH_MAX_SIZE];
    size_t h_len = 0;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        assert_int_equal(parsec_hash_local(algs[i].alg, msg, sizeof(msg), h, sizeof(h), &h_len),
                         PARSEC_SUCCESS);
        assert_true(buf_eq(buf_copy(h, h_len), digest(algs[i].hash, buf_copy(msg, sizeof(msg)))));
        assert_int_equal(parsec_hash_local(algs[i].alg, NULL, 0, h, sizeof(h), &h_len),
                         PARSEC_SUCCESS);
        assert_true(buf_eq(buf_copy(h, h_len), digest(algs[i].hash, buf_none())));
    }
    assert_int_equal(parsec_hash_local(PSA_ALG_SHA_256, msg, sizeof(msg), h, 31, &h_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(h_len, 32);
    static const psa_algorithm_t others[] = {PSA_ALG_MD5, PSA_ALG_SHA3_256, PSA_ALG_SHA_512_256,
                                             PSA_ALG_ANY_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256)};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(parsec_hash_local(others[i], msg, sizeof(msg), h, sizeof(h), &h_len),
                         PARSEC_ERROR_PSA_NOT_SUPPORTED);
    assert_int_equal(parsec_hash_local(PSA_ALG_SHA_256, NULL, 1, h, sizeof(h), &h_len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_hash_local(PSA_ALG_SHA_256, msg, 1, h, sizeof(h), NULL),
                     PARSEC_ERROR_INVALID_ARGUMENT);
}

/* The programs written against <psa/crypto.h> only (libparsec-psa): psa_sign_message and
 * psa_verify_message on this provider, the signatures checked here by OpenSSL. */
static void test_psa_sign_message(void **state)
{
    (void)state;
    char dir[] = "/tmp/parsec-p11-psa-XXXXXX", ep[400], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(ep, sizeof(ep), "unix:%s", D.sock);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv(PARSEC_ENDPOINT_ENV, ep, 1);
        setenv("PARSEC_PSA_APP_NAME", "libparsec-psa-app", 1);
        execl(P11_PSA_SIGN_BIN, P11_PSA_SIGN_BIN, dir, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    static const struct {
        const char *name;
        int hash, pad;
    } cases[] = {
        {"ecdsa-sha256", HASH(SHA_256), PAD_NONE},  {"ecdsa-sha384", HASH(SHA_384), PAD_NONE},
        {"pkcs1-sha1", HASH(SHA_1), PAD_PKCS1},     {"pkcs1-sha224", HASH(SHA_224), PAD_PKCS1},
        {"pkcs1-sha512", HASH(SHA_512), PAD_PKCS1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf f[3]; /* public key, message, signature */
        static const char *const ext[] = {"pub", "msg", "sig"};
        for (size_t j = 0; j < 3; j++) {
            snprintf(path, sizeof(path), "%s/%s.%s", dir, cases[i].name, ext[j]);
            FILE *fp = fopen(path, "rb");
            assert_non_null(fp);
            uint8_t b[1024];
            size_t n = fread(b, 1, sizeof(b), fp);
            assert_true(n > 0 && n < sizeof(b));
            fclose(fp);
            assert_int_equal(unlink(path), 0);
            f[j] = buf_copy(b, n);
        }
        EVP_PKEY *k =
            cases[i].pad == PAD_NONE ? pkey_ec_public("P-256", f[0]) : pkey_rsa_public(f[0]);
        const EVP_MD *md = cases[i].pad == PAD_NONE ? NULL : md_of(cases[i].hash);
        if (!ossl_verify(k, md, cases[i].pad, digest(cases[i].hash, f[1]), f[2]))
            fail_msg("%s: OpenSSL refuses the signature", cases[i].name);
    }
    assert_int_equal(rmdir(dir), 0);
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
        cmocka_unit_test_teardown(test_sign_message_ecdsa, e2e_arena_free),
        cmocka_unit_test_teardown(test_hash_local, e2e_arena_free),
        cmocka_unit_test_teardown(test_psa_sign_message, e2e_arena_free),
        cmocka_unit_test_teardown(test_rsa_oaep_sha1, e2e_arena_free),
        cmocka_unit_test_teardown(test_random, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
