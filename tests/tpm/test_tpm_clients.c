/* The project's clients against the TPM provider, on a service whose only crypto provider is
 * the TPM: libparsec (which picks it as its implicit provider, and attests keys with it) and
 * parsec-tool. */
#define _GNU_SOURCE
#include <openssl/pem.h>
#include <signal.h>
#include <sys/wait.h>

#include "tpm_credential.h"
#ifdef HAVE_LIBPARSEC
#include <parsec/client.h>
#endif

static struct swtpm S;
static struct daemon D;

static int setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    return 0;
}

static int teardown(void **state)
{
    int st = daemon_stop(&D, SIGTERM);
    daemon_cleanup(&D);
    swtpm_cleanup(&S);
    assert_int_equal(st, 0);
    return e2e_arena_free(state);
}

/* Runs a command with the service's endpoint; returns its exit status, its stdout in *out. */
static int sh(struct buf *out, const char *fmt, ...)
{
    char cmd[1024], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "PARSEC_SERVICE_ENDPOINT=unix:%s %s 2>/dev/null", D.sock, cmd);
    FILE *p = popen(line, "r");
    assert_non_null(p);
    struct buf b = {e2e_alloc(8192), 0};
    b.n = fread(b.p, 1, 8191, p);
    b.p[b.n] = 0;
    int st = pclose(p);
    if (out)
        *out = b;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#ifdef HAVE_LIBPARSEC
static void libparsec(void **state)
{
    (void)state;
    char ep[400];
    snprintf(ep, sizeof(ep), "unix:%s", D.sock);
    struct parsec_client_config cfg = {.endpoint = ep, .app_name = "libparsec-app"};
    struct parsec_client *cl = NULL;
    assert_int_equal(parsec_client_new(&cl, &cfg), 0);
    struct buf h = digest(HASH(SHA_256), buf_str("through libparsec"));
    uint8_t sig[PARSEC_ECDSA_P256_SIG_SIZE], pub[65], rnd[100] = {0};
    size_t sig_len = 0, pub_len = 0;
    const psa_algorithm_t alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    assert_int_equal(parsec_ecc_key_create(cl, "lib-ecc"), 0);
    assert_int_equal(parsec_sign_hash(cl, "lib-ecc", alg, h.p, h.n, sig, sizeof(sig), &sig_len), 0);
    assert_int_equal(parsec_export_public_key(cl, "lib-ecc", pub, sizeof(pub), &pub_len), 0);
    assert_true(ossl_verify(pkey_ec_public("prime256v1", buf_copy(pub, pub_len)),
                            md_of(HASH(SHA_256)), PAD_NONE, h, buf_copy(sig, sig_len)));
    assert_int_equal(parsec_verify_hash(cl, "lib-ecc", alg, h.p, h.n, sig, sig_len), 0);
    /* The TPM provider has neither PsaSignMessage nor PsaHashCompute: the easy path hashes
     * the message in the client. */
    struct buf msg = buf_str("a message for the TPM");
    assert_int_equal(
        parsec_sign_message_ecdsa(cl, "lib-ecc", msg.p, msg.n, sig, sizeof(sig), &sig_len), 0);
    assert_true(ossl_verify(pkey_ec_public("prime256v1", buf_copy(pub, pub_len)),
                            md_of(HASH(SHA_256)), PAD_NONE, digest(HASH(SHA_256), msg),
                            buf_copy(sig, sig_len)));
    assert_int_equal(parsec_verify_message_ecdsa(cl, "lib-ecc", msg.p, msg.n, sig, sig_len), 0);
    assert_int_equal(parsec_generate_random(cl, rnd, sizeof(rnd)), 0);
    assert_false(buf_eq(buf_copy(rnd, sizeof(rnd)), (struct buf){(uint8_t[100]){0}, 100}));
    assert_int_equal(parsec_destroy_key(cl, "lib-ecc"), 0);
    parsec_client_free(cl);
}

#define EK_AUTH "endorsement_pass"

/* The buffer sizes client.h promises are those of the TSS's structures. */
_Static_assert(PARSEC_TPM_NAME_MAX == sizeof(TPMU_NAME), "TPM name size");
_Static_assert(PARSEC_TPM_PUBLIC_MAX == sizeof(TPMT_PUBLIC), "TPM public area size");
_Static_assert(PARSEC_TPM_CREDENTIAL_MAX == sizeof(TPMU_HA), "TPM digest size");

/* A TPM whose endorsement hierarchy has a password, which the service is given. */
static int setup_attest(void **state)
{
    (void)state;
    /* tpm2-tools is the verifier. */
    if (system("command -v tpm2_makecredential >/dev/null 2>&1") != 0)
        skip();
    swtpm_start(&S);
    tpm_read_ek(&S, EK_AUTH);
    daemon_start(&D, tpm_config(&S, "", "endorsement_hierarchy_auth = \"" EK_AUTH "\"\n", NULL));
    return 0;
}

/* Key attestation through libparsec, the verifier being tpm2-tools: the name handed out is
 * the hash of the public area, the attesting key is the TPM's endorsement key, and the secret
 * the verifier encrypted to it comes back for each key. */
static void libparsec_attestation(void **state)
{
    (void)state;
    char ep[400];
    snprintf(ep, sizeof(ep), "unix:%s", D.sock);
    struct parsec_client_config cfg = {.endpoint = ep, .app_name = "libparsec-attest"};
    struct parsec_client *cl = NULL;
    assert_int_equal(parsec_client_new(&cl, &cfg), 0);
    assert_int_equal(parsec_client_provider(cl), PARSEC_PROVIDER_TPM);
    assert_int_equal(parsec_rsa_encrypt_key_create(cl, "att-rsa", 2048), 0);
    assert_int_equal(parsec_ecc_key_create(cl, "att-ecc"), 0);
    static const char *const keys[] = {"att-rsa", "att-ecc"};
    uint8_t name[PARSEC_TPM_NAME_MAX], pub[PARSEC_TPM_PUBLIC_MAX], ek[PARSEC_ATTESTING_KEY_PUB_MAX],
        cred[PARSEC_TPM_CREDENTIAL_MAX];
    size_t name_len = 0, pub_len = 0, ek_len = 0, cred_len = 0;
    struct tpm_credential cr = {0};
    struct buf secret = buf_str("a verifier's secret, 32 bytes..");
    for (size_t i = 0; i < 2; i++) {
        /* The second key is attested with Core as the implicit provider: the requests still go
         * to the TPM provider. */
        assert_int_equal(
            parsec_client_set_provider(cl, i ? PARSEC_PROVIDER_CORE : PARSEC_PROVIDER_TPM), 0);
        assert_int_equal(parsec_prepare_activate_credential(cl, keys[i], NULL, name, sizeof(name),
                                                            &name_len, pub, sizeof(pub), &pub_len,
                                                            ek, sizeof(ek), &ek_len),
                         0);
        assert_int_equal(name_len, 34);
        assert_int_equal(name[0], 0x00);
        assert_int_equal(name[1], 0x0b); /* TPM_ALG_SHA256 */
        struct buf md = digest(HASH(SHA_256), buf_copy(pub, pub_len));
        assert_memory_equal(name + 2, md.p, 32);
        assert_true(buf_eq(buf_copy(ek, ek_len), tpm_file(&S, "ek.der")));
        cr = tpm_make_credential(&S, buf_copy(ek, ek_len), buf_copy(name, name_len), secret);
        memset(cred, 0, sizeof(cred));
        assert_int_equal(parsec_activate_credential(cl, keys[i], NULL, cr.blob.p, cr.blob.n,
                                                    cr.secret.p, cr.secret.n, cred, sizeof(cred),
                                                    &cred_len),
                         0);
        assert_true(buf_eq(buf_copy(cred, cred_len), secret));
    }
    assert_int_equal(parsec_client_set_provider(cl, PARSEC_PROVIDER_TPM), 0);

    /* Buffers too small: the needed lengths, nothing written. */
    uint8_t small[8];
    memset(small, 0xee, sizeof(small));
    size_t nl = 0, pl = 0, el = 0;
    assert_int_equal(parsec_prepare_activate_credential(cl, "att-ecc", NULL, small, sizeof(small),
                                                        &nl, pub, sizeof(pub), &pl, ek, sizeof(ek),
                                                        &el),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(nl, name_len);
    assert_int_equal(pl, pub_len);
    assert_int_equal(el, ek_len);
    for (size_t k = 0; k < sizeof(small); k++)
        assert_int_equal(small[k], 0xee);
    assert_int_equal(parsec_activate_credential(cl, "att-ecc", NULL, cr.blob.p, cr.blob.n,
                                                cr.secret.p, cr.secret.n, small, sizeof(small),
                                                &cred_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(cred_len, secret.n);
    for (size_t k = 0; k < sizeof(small); k++)
        assert_int_equal(small[k], 0xee);

    /* The service's refusals come through. */
    assert_int_equal(parsec_activate_credential(cl, "att-rsa", NULL, cr.blob.p, cr.blob.n,
                                                cr.secret.p, cr.secret.n, cred, sizeof(cred),
                                                &cred_len),
                     PARSEC_ERROR_PSA_INVALID_ARGUMENT);
    assert_int_equal(parsec_prepare_activate_credential(cl, "att-ecc", "att-rsa", name,
                                                        sizeof(name), &name_len, pub, sizeof(pub),
                                                        &pub_len, ek, sizeof(ek), &ek_len),
                     PARSEC_ERROR_PSA_NOT_SUPPORTED);
    assert_int_equal(parsec_prepare_activate_credential(cl, "none", NULL, name, sizeof(name),
                                                        &name_len, pub, sizeof(pub), &pub_len, ek,
                                                        sizeof(ek), &ek_len),
                     PARSEC_ERROR_PSA_DOES_NOT_EXIST);
    assert_int_equal(parsec_destroy_key(cl, "att-rsa"), 0);
    assert_int_equal(parsec_destroy_key(cl, "att-ecc"), 0);
    parsec_client_free(cl);
}
#endif

#ifdef PARSEC_TOOL_BIN
static struct buf b64_decode(struct buf text)
{
    struct buf b = {e2e_alloc(text.n), 0};
    size_t n = text.n;
    while (n && (text.p[n - 1] == '\n' || text.p[n - 1] == '\r'))
        n--;
    int len = EVP_DecodeBlock(b.p, text.p, (int)n);
    assert_true(len > 0);
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    while (n && text.p[n - 1] == '=') {
        len--;
        n--;
    }
    b.n = (size_t)len;
    return b;
}

static void tool(void **state)
{
    (void)state;
    struct buf out, pem, sig;
    assert_int_equal(sh(&out, "%s list-providers", PARSEC_TOOL_BIN), 0);
    assert_non_null(strstr((char *)out.p, "TPM provider"));

    /* An ECDSA key: the signature verifies with OpenSSL on the exported PEM key. */
    assert_int_equal(sh(NULL, "%s create-ecc-key -k tool-ecc", PARSEC_TOOL_BIN), 0);
    assert_int_equal(sh(&pem, "%s export-public-key -k tool-ecc", PARSEC_TOOL_BIN), 0);
    assert_int_equal(sh(&out, "%s sign -k tool-ecc 'signed by the TPM'", PARSEC_TOOL_BIN), 0);
    sig = b64_decode(out);
    BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.n);
    EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(pk);
    keep_pkey(pk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
    const char *msg = "signed by the TPM";
    assert_int_equal(EVP_DigestVerify(md, sig.p, sig.n, (const uint8_t *)msg, strlen(msg)), 1);
    EVP_MD_CTX_free(md);

    /* An RSA key: what it encrypts it decrypts. */
    assert_int_equal(sh(NULL, "%s create-rsa-key -k tool-rsa", PARSEC_TOOL_BIN), 0);
    assert_int_equal(sh(&out, "%s encrypt -k tool-rsa 'kept in the TPM'", PARSEC_TOOL_BIN), 0);
    out.p[strcspn((char *)out.p, "\n")] = 0;
    char ct[1024];
    snprintf(ct, sizeof(ct), "%s", (char *)out.p);
    assert_int_equal(sh(&out, "%s decrypt -k tool-rsa %s", PARSEC_TOOL_BIN, ct), 0);
    assert_non_null(strstr((char *)out.p, "kept in the TPM"));

    assert_int_equal(sh(&out, "%s list-keys", PARSEC_TOOL_BIN), 0);
    assert_non_null(strstr((char *)out.p, "tool-ecc (TPM provider"));
    assert_int_equal(sh(NULL, "%s delete-key -k tool-ecc", PARSEC_TOOL_BIN), 0);
    assert_int_equal(sh(NULL, "%s delete-key -k tool-rsa", PARSEC_TOOL_BIN), 0);
    assert_int_not_equal(sh(NULL, "%s sign -k tool-ecc x", PARSEC_TOOL_BIN), 0);
}
#endif

int main(void)
{
    if (!swtpm_available()) {
        fprintf(stderr, "swtpm is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
#ifdef HAVE_LIBPARSEC
        cmocka_unit_test_setup_teardown(libparsec, setup, teardown),
        cmocka_unit_test_setup_teardown(libparsec_attestation, setup_attest, teardown),
#endif
#ifdef PARSEC_TOOL_BIN
        cmocka_unit_test_setup_teardown(tool, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
