/* What a machine goes through, with the TPM provider: service restarts, TPM resets (swtpm
 * restarted on its state: every loaded object and session is gone), hierarchy passwords,
 * a TPM that cannot be reached, an owner-hierarchy clear. Each test has its own swtpm. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "tpm_test.h"

static struct swtpm S;
static struct daemon D;

static int setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    return 0;
}

static int teardown(void **state)
{
    if (S.pid > 0)
        kill(S.pid, SIGCONT); /* a test may have stopped it */
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    swtpm_cleanup(&S);
    return e2e_arena_free(state);
}

/* Keys used after each event: an ECDSA key, an RSA signing key and an RSA decryption key,
 * checked against the public parts exported when they were made. */
struct kept {
    struct buf ecc_pub, rsa_pub, crypt_pub;
};

/* A key pair imported under the root key: it must outlive TPM resets like generated ones
 * (the original loaded imported keys into the Null hierarchy: lost at the next reset). */
static const char *const IMPORTED = "k-imported";

static void make_keys(const struct caller *c, struct kept *k)
{
    assert_int_equal(op_generate(c, "k-ecc", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(c, "k-rsa", rsa_sign_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(c, "k-crypt", rsa_crypt_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_export_public(c, "k-ecc", &k->ecc_pub), 0);
    assert_int_equal(op_export_public(c, "k-rsa", &k->rsa_pub), 0);
    assert_int_equal(op_export_public(c, "k-crypt", &k->crypt_pub), 0);
    assert_int_equal(op_import(c, IMPORTED, ecc_sign_attrs(256, HASH(SHA_256)),
                               ec_private_scalar(pem_key(PEM_P256), 32)),
                     0);
}

static void use_keys(const struct caller *c, const struct kept *k)
{
    struct buf h = digest(HASH(SHA_256), buf_str("after")), sig, pt;
    assert_int_equal(op_sign_hash(c, "k-ecc", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(pkey_ec_public("prime256v1", k->ecc_pub), md_of(HASH(SHA_256)),
                            PAD_NONE, h, sig));
    assert_int_equal(op_sign_hash(c, "k-rsa", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(pkey_rsa_public(k->rsa_pub), md_of(HASH(SHA_256)), PAD_PKCS1, h, sig));
    struct buf msg = buf_str("kept secret");
    struct buf ct = ossl_encrypt(pkey_rsa_public(k->crypt_pub), PAD_OAEP, md_of(HASH(SHA_256)),
                                 buf_none(), msg);
    assert_int_equal(op_asym_decrypt(c, "k-crypt", enc_alg(HASH(SHA_256)), ct, buf_none(), &pt), 0);
    assert_true(buf_eq(pt, msg));
    assert_int_equal(op_sign_hash(c, IMPORTED, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(pem_key(PEM_P256), md_of(HASH(SHA_256)), PAD_NONE, h, sig));
}

/* Keys survive a restart of the service: the root key is re-created with the same name and
 * the blobs load under it. */
static void restart_keeps_keys(void **state)
{
    (void)state;
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "app");
    struct kept k;
    make_keys(&c, &k);
    use_keys(&c, &k);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(daemon_stop(&D, SIGTERM), 0);
        assert_int_equal(daemon_launch(&D, NULL), 0);
        use_keys(&c, &k);
    }
    /* The service flushed what it had loaded: a TPM without resource manager has room. */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(swtpm_tool(&S, "tpm2_getcap handles-transient | grep -q 0x8"), 1);
}

/* A configuration reload builds a new provider while the old one still holds the TPM's few
 * object slots: the old one hands them over, and neither flushes the other's objects. */
static void reload_keeps_keys(void **state)
{
    (void)state;
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "app");
    struct kept k;
    make_keys(&c, &k);
    use_keys(&c, &k);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(truncate(D.log, 0), 0);
        kill(D.pid, SIGHUP);
        assert_true(daemon_wait_log(&D, "configuration reloaded", 60000));
        use_keys(&c, &k);
    }
    assert_false(daemon_log_contains(&D, "reopening the context"));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* A TPM reset (cold boot) while the service runs: every loaded key, the root key and the
 * session are gone; the next request reopens the context and reloads from the blobs. Once
 * after an orderly TPM2_Shutdown, once without (the original lost every key this way). */
static void tpm_reset_keeps_keys(void **state)
{
    (void)state;
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "app");
    struct kept k;
    make_keys(&c, &k);
    use_keys(&c, &k);

    swtpm_restart(&S);
    use_keys(&c, &k);
    assert_true(daemon_log_contains(&D, "reopening the context"));

    assert_int_equal(swtpm_tool(&S, "tpm2_shutdown -c"), 0);
    swtpm_restart(&S);
    struct buf r;
    assert_int_equal(op_generate_random(&c, 48, &r), 0);
    use_keys(&c, &k);

    /* A TPM that does not answer for a while: requests fail, then work again. (Shut down in
     * order: a third reset without TPM2_Shutdown would put swtpm in dictionary-attack
     * lockout, platform-notes.md.) */
    assert_int_equal(swtpm_tool(&S, "tpm2_shutdown -c"), 0);
    swtpm_stop(&S);
    struct buf h = digest(HASH(SHA_256), buf_str("down")), sig;
    assert_int_equal(op_sign_hash(&c, "k-ecc", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_COMMUNICATION_FAILURE);
    assert_int_equal(op_generate_random(&c, 8, &r), PSC_PSA_COMMUNICATION_FAILURE);
    swtpm_restart(&S);
    use_keys(&c, &k);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);

    /* And a restart of both. */
    assert_int_equal(swtpm_tool(&S, "tpm2_shutdown -c"), 0);
    swtpm_restart(&S);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    use_keys(&c, &k);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* Hierarchy passwords in the original's forms; a wrong one is a clear start-up error that
 * never shows the password. */
static void owner_hierarchy_auth(void **state)
{
    (void)state;
    assert_int_equal(swtpm_tool(&S, "tpm2_changeauth -c owner 0wnerSecret"), 0);

    daemon_prepare(&D, tpm_config(&S, "wrongSecret", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "wrong owner hierarchy password"));
    assert_false(daemon_log_contains(&D, "wrongSecret"));
    daemon_cleanup(&D);

    static const char *const good[] = {"0wnerSecret", "str:0wnerSecret",
                                       "hex:30776e6572536563726574"};
    for (size_t i = 0; i < 3; i++) {
        daemon_prepare(&D, tpm_config(&S, good[i], NULL, NULL));
        assert_int_equal(daemon_launch(&D, NULL), 0);
        struct caller c = tpm_caller(&D, "app");
        assert_int_equal(op_generate(&c, "k", ecc_sign_attrs(256, HASH(SHA_256))), 0);
        sign_checked(&c, "k", SIG_ECDSA, HASH(SHA_256), "prime256v1");
        assert_int_equal(daemon_stop(&D, SIGTERM), 0);
        assert_false(daemon_log_contains(&D, "0wnerSecret"));
        daemon_cleanup(&D);
    }

    daemon_prepare(&D, tpm_config(&S, "hex:3g", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "owner_hierarchy_auth"));
    assert_true(daemon_log_contains(&D, "hex"));
    daemon_cleanup(&D);
}

/* A TCTI that cannot be opened, a malformed TCTI string, and skip_if_no_tpm. */
static void tcti_errors(void **state)
{
    (void)state;
    struct swtpm gone = S;
    swtpm_stop(&S); /* nothing listens on its port now */

    daemon_prepare(&D, tpm_config(&gone, "", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "cannot open the TPM through TCTI"));
    daemon_cleanup(&D);

    struct swtpm bad = S;
    snprintf(bad.tcti, sizeof(bad.tcti), "nosuchtcti:x=1");
    daemon_prepare(&D, tpm_config(&bad, "", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "Invalid TCTI configuration string"));
    daemon_cleanup(&D);

    /* Skipped: the service starts with its other provider, without provider 3. */
    daemon_prepare(&D, tpm_config(&gone, "", "skip_if_no_tpm = true\n",
                                  "[[provider]]\n"
                                  "provider_type = \"MbedCrypto\"\n"
                                  "key_info_manager = \"sqlite-manager\"\n"
                                  "key_store_path = \"@DIR@/keys\"\n"));
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_true(daemon_log_contains(&D, "is skipped"));
    struct caller c = tpm_caller(&D, "app");
    ListProviders__Result *lp = NULL;
    assert_int_equal(psa_call_p(&c, PSC_PROVIDER_CORE, PSC_OP_LIST_PROVIDERS, NULL,
                                &list_providers__result__descriptor, NULL,
                                (ProtobufCMessage **)&lp),
                     0);
    assert_int_equal(lp->n_providers, 2);
    assert_int_equal(lp->providers[0]->id, 1);
    struct buf r;
    assert_int_equal(op_generate_random(&c, 8, &r), PSC_PROVIDER_NOT_REGISTERED);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* A TPM in failure mode (its NV state corrupt): the start stops with a message that says so. */
static void failure_mode(void **state)
{
    (void)state;
    assert_int_equal(swtpm_tool(&S, "tpm2_getrandom 8 >/dev/null"), 0);
    assert_int_equal(swtpm_tool(&S, "tpm2_shutdown -c"), 0);
    swtpm_restart_failed(&S);
    daemon_prepare(&D, tpm_config(&S, "", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "the TPM is in failure mode"));
}

/* One request on the wire, from a thread. */
struct raw_call {
    const char *sock;
    uint8_t *req;
    size_t len;
    _Atomic int done;
    int rc, status;
};

static void *raw_run(void *arg)
{
    struct raw_call *r = arg;
    struct psc_header rsp;
    uint8_t *body = NULL;
    r->rc = e2e_raw(r->sock, r->req, r->len, &rsp, &body);
    r->status = r->rc == 0 ? rsp.status : -1;
    free(body);
    atomic_store(&r->done, 1);
    return NULL;
}

/* Whether the call ends within timeout_ms (a bound against a hang, not a speed check). */
static int raw_wait(struct raw_call *r, int timeout_ms)
{
    for (int waited = 0; !atomic_load(&r->done); waited += 10) {
        if (waited >= timeout_ms)
            return 0;
        usleep(10000);
    }
    return 1;
}

/* Whether a connection to swtpm's TPM port holds bytes swtpm has not read (a command sent to
 * a stopped swtpm), within timeout_ms: /proc/net/tcp, local port, rx_queue. */
static int swtpm_has_unread(int port, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        FILE *f = fopen("/proc/net/tcp", "r");
        assert_non_null(f);
        char line[512];
        int found = 0;
        while (!found && fgets(line, sizeof(line), f)) {
            unsigned lport, tx, rx;
            if (sscanf(line, " %*u: %*x:%x %*x:%*x %*x %x:%x", &lport, &tx, &rx) == 3 &&
                (int)lport == port && rx > 0)
                found = 1;
        }
        fclose(f);
        if (found)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* A TPM that stops answering holds its own requests, never those of another provider: with two
 * workers, three signatures wait on a stopped swtpm while the Mbed Crypto provider still
 * answers; once the TPM answers again, all three are served. */
static void hung_tpm_holds_no_other_provider(void **state)
{
    (void)state;
    const char *mbed = "[[provider]]\n"
                       "provider_type = \"MbedCrypto\"\n"
                       "key_info_manager = \"sqlite-manager\"\n"
                       "key_store_path = \"@DIR@/keys\"\n";
    char cfg[4096];
    const char *c = tpm_config(&S, "", NULL, mbed);
    const char *from = "log_level = \"info\"";
    const char *at = strstr(c, from);
    assert_non_null(at);
    snprintf(cfg, sizeof(cfg), "%.*slog_level = \"debug\"%s", (int)(at - c), c, at + strlen(from));
    daemon_start(&D, cfg);
    struct caller tpm = tpm_caller(&D, "app");
    assert_int_equal(op_generate(&tpm, "k", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    sign_checked(&tpm, "k", SIG_ECDSA, HASH(SHA_256), "prime256v1");

    struct buf h = digest(HASH(SHA_256), buf_str("held"));
    PsaSignHash__Operation sign = PSA_SIGN_HASH__OPERATION__INIT;
    sign.key_name = "k";
    sign.alg = sig_alg(SIG_ECDSA, HASH(SHA_256));
    sign.hash = pb_bytes(h);
    PsaGenerateRandom__Operation rnd = PSA_GENERATE_RANDOM__OPERATION__INIT;
    rnd.size = 32;
    struct raw_call calls[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        calls[i] = (struct raw_call){.sock = D.sock};
        calls[i].req =
            i < 3 ? e2e_build(e2e_header(PSC_PROVIDER_TPM, PSC_OP_PSA_SIGN_HASH, PSC_AUTH_DIRECT),
                              &sign.base, "app", 3, &calls[i].len)
                  : e2e_build(e2e_header(PSC_PROVIDER_MBED_CRYPTO, PSC_OP_PSA_GENERATE_RANDOM,
                                         PSC_AUTH_DIRECT),
                              &rnd.base, "app", 3, &calls[i].len);
    }

    assert_int_equal(kill(S.pid, SIGSTOP), 0);
    /* The first signature goes into the TPM alone: its command waits in the stopped swtpm's
     * socket, and the worker that sent it waits for the answer. The others then reach the
     * other worker, which sets them aside. */
    assert_int_equal(pthread_create(&th[0], NULL, raw_run, &calls[0]), 0);
    assert_true(swtpm_has_unread(S.port, 60000));
    for (int i = 1; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, raw_run, &calls[i]), 0);
    assert_true(daemon_wait_log(&D, "a request for provider 3 waits for its turn", 60000));
    assert_int_equal(pthread_create(&th[3], NULL, raw_run, &calls[3]), 0);
    int answered = raw_wait(&calls[3], 60000);
    assert_int_equal(kill(S.pid, SIGCONT), 0);
    assert_true(answered);
    assert_int_equal(calls[3].status, 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(calls[i].rc, 0);
        assert_int_equal(calls[i].status, 0);
        free(calls[i].req);
    }
    sign_checked(&tpm, "k", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* After an owner-hierarchy clear the keys made under the old root key are gone: the service
 * starts, reports each once and drops its mapping; imported public keys stay. */
static void owner_clear(void **state)
{
    (void)state;
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "app");
    struct kept k;
    make_keys(&c, &k);
    EVP_PKEY *ec = pem_key(PEM_P256);
    assert_int_equal(op_import(&c, "k-public",
                               attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256))),
                               public_octets(ec)),
                     0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(swtpm_tool(&S, "tpm2_clear -c p"), 0);

    assert_int_equal(daemon_launch(&D, NULL), 0);
    static const char *const lost[] = {"k-ecc", "k-rsa", "k-crypt", "k-imported"};
    char line[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(line, sizeof(line), "key \"%s\" of \"app\" was lost", lost[i]);
        assert_true(daemon_log_contains(&D, line));
    }
    ListKeys__Result *lk = NULL;
    assert_int_equal(op_list_keys(&c, &lk), 0);
    assert_int_equal(lk->n_keys, 1);
    assert_string_equal(lk->keys[0]->name, "k-public");
    struct buf h = digest(HASH(SHA_256), buf_str("still")), sig;
    assert_int_equal(op_verify_hash(&c, "k-public", sig_alg(SIG_ECDSA, HASH(SHA_256)), h,
                                    ossl_sign(ec, md_of(HASH(SHA_256)), PAD_NONE, h, 32)),
                     0);
    assert_int_equal(op_sign_hash(&c, "k-ecc", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    /* New keys work, and survive the next restart, which reports nothing more. */
    assert_int_equal(op_generate(&c, "k-new", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(truncate(D.log, 0), 0);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_false(daemon_log_contains(&D, "was lost"));
    sign_checked(&c, "k-new", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* Another TPM (another endorsement key) under the same mappings: the start stops and nothing
 * is dropped. */
static void another_tpm(void **state)
{
    (void)state;
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "app");
    struct kept k;
    make_keys(&c, &k);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);

    struct swtpm other;
    swtpm_start(&other);
    daemon_write_config(&D, tpm_config(&other, "", NULL, NULL));
    int rc = daemon_launch(&D, NULL);
    swtpm_cleanup(&other);
    assert_int_equal(rc, -1);
    assert_true(daemon_log_contains(&D, "Obtained Root Key name does not coincide"));
    assert_false(daemon_log_contains(&D, "was lost"));

    daemon_write_config(&D, tpm_config(&S, "", NULL, NULL));
    assert_int_equal(daemon_launch(&D, NULL), 0);
    use_keys(&c, &k);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

int main(void)
{
    if (!swtpm_available()) {
        fprintf(stderr, "swtpm is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(restart_keeps_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(reload_keeps_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(tpm_reset_keeps_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(owner_hierarchy_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(tcti_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(hung_tpm_holds_no_other_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(owner_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(another_tpm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
