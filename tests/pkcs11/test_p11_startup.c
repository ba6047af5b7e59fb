/* Start-up of the PKCS#11 provider on SoftHSM2: every way of choosing the token and of giving
 * the PIN, the clear errors for a missing module, a token not found (naming those found), a
 * wrong or malformed PIN; the coherency pass (mappings whose objects are gone are dropped,
 * objects no mapping names are reported and kept); a reload that keeps the keys working. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#define E2E_PROVIDER PSC_PROVIDER_PKCS11
#include "e2e_psa.h"
#include "p11_env.h"

static struct p11_token T;
static struct daemon D;

static int setup(void **state)
{
    (void)state;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);
    return 0;
}

static int test_end(void **state)
{
    daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    p11_token_cleanup(&T);
    return e2e_arena_free(state);
}

/* Starts a daemon that must fail, and checks its log names the reason. */
static void start_fails(const char *provider_lines, const char *why, char *const env[])
{
    daemon_prepare(&D, p11_config(NULL, provider_lines));
    assert_int_equal(daemon_launch(&D, env), -1);
    if (!daemon_log_contains(&D, why)) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", D.log);
        (void)!system(cmd);
        fail_msg("the log does not say: %s", why);
    }
}

static void start_ok(const char *provider_lines, char *const env[])
{
    daemon_prepare(&D, p11_config(NULL, provider_lines));
    if (daemon_launch(&D, env) != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", D.log);
        (void)!system(cmd);
        fail_msg("the daemon did not start");
    }
}

static Attrs *ecc_attrs(void)
{
    return attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                 alg_sig(SIG_ECDSA, HASH(SHA_256)));
}

static void signs(const struct caller *c, const char *name)
{
    struct buf sig;
    assert_int_equal(op_sign_hash(c, name, sig_alg(SIG_ECDSA, HASH(SHA_256)),
                                  digest(HASH(SHA_256), buf_str("m")), &sig),
                     0);
}

static void test_missing_module(void **state)
{
    (void)state;
    daemon_prepare(&D, "");
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), "%s", p11_config(NULL, NULL));
    char *lib = strstr(cfg, SOFTHSM2_LIB);
    assert_non_null(lib);
    char fixed[4096];
    snprintf(fixed, sizeof(fixed), "%.*s/nonexistent/libnothing.so%s", (int)(lib - cfg), cfg,
             lib + strlen(SOFTHSM2_LIB));
    daemon_write_config(&D, fixed);
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(
        daemon_log_contains(&D, "cannot load the PKCS#11 module /nonexistent/libnothing.so"));
}

static void test_token_not_found_lists_tokens(void **state)
{
    (void)state;
    start_fails("token_label = \"absent\"\nuser_pin = \"" P11_PIN "\"\n",
                "No token with the provided label \"absent\"; tokens found: slot", NULL);
    assert_true(daemon_log_contains(&D, "label \"" P11_LABEL "\""));
    daemon_cleanup(&D);
    start_fails("serial_number = \"0000000000000000\"\nuser_pin = \"" P11_PIN "\"\n",
                "No token with the provided serial number \"0000000000000000\"", NULL);
    daemon_cleanup(&D);
    start_fails("slot_number = 4242\nuser_pin = \"" P11_PIN "\"\n",
                "No available slot with the given number 4242", NULL);
}

static void test_wrong_pin(void **state)
{
    (void)state;
    start_fails("token_label = \"" P11_LABEL "\"\nuser_pin = \"00000\"\n",
                "cannot log in to token \"" P11_LABEL "\": wrong PIN", NULL);
}

static void test_malformed_pin_refused(void **state)
{
    (void)state;
    start_fails("token_label = \"" P11_LABEL "\"\nuser_pin = \"hex:37z3\"\n",
                "'hex:' must be followed by hex digits only", NULL);
    daemon_cleanup(&D);
    start_fails("token_label = \"" P11_LABEL "\"\nuser_pin = \"hex:373\"\n",
                "'hex:' must be followed by an even number of hex digits", NULL);
    daemon_cleanup(&D);
    /* Two sources of PIN are one too many. */
    daemon_prepare(&D, p11_config(NULL, "token_label = \"" P11_LABEL "\"\nuser_pin = \"" P11_PIN
                                        "\"\nuser_pin_env = \"X\"\n"));
    assert_int_equal(daemon_launch(&D, NULL), -1);
    assert_true(daemon_log_contains(&D, "only one of 'user_pin', 'user_pin_file' and"));
}

static void test_pin_forms(void **state)
{
    (void)state;
    struct caller c = {.app = "pins"};
    /* Each daemon has its own mapping store: each proves its login by creating a private
     * token object and signing with it. */
    /* "71364" in hex. */
    start_ok("token_label = \"" P11_LABEL "\"\nuser_pin = \"hex:3731333634\"\n", NULL);
    c.sock = D.sock;
    assert_int_equal(op_generate(&c, "k", ecc_attrs()), 0);
    signs(&c, "k");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);

    start_ok("token_label = \"" P11_LABEL "\"\nuser_pin = \"str:" P11_PIN "\"\n", NULL);
    c.sock = D.sock;
    assert_int_equal(op_generate(&c, "k", ecc_attrs()), 0);
    signs(&c, "k");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);

    /* From a file, final newline not part of it. */
    char pin_file[300];
    snprintf(pin_file, sizeof(pin_file), "%s/user.pin", T.dir);
    FILE *f = fopen(pin_file, "w");
    assert_non_null(f);
    fputs(P11_PIN "\n", f);
    fclose(f);
    assert_int_equal(chmod(pin_file, 0600), 0);
    char lines[600];
    snprintf(lines, sizeof(lines), "token_label = \"" P11_LABEL "\"\nuser_pin_file = \"%s\"\n",
             pin_file);
    start_ok(lines, NULL);
    c.sock = D.sock;
    assert_int_equal(op_generate(&c, "k", ecc_attrs()), 0);
    signs(&c, "k");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);

    /* From the environment; and not set. */
    static char env_pin[] = "PARSEC_TEST_P11_PIN=" P11_PIN;
    char *env[] = {env_pin, NULL};
    start_ok("token_label = \"" P11_LABEL "\"\nuser_pin_env = \"PARSEC_TEST_P11_PIN\"\n", env);
    c.sock = D.sock;
    assert_int_equal(op_generate(&c, "k", ecc_attrs()), 0);
    signs(&c, "k");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    start_fails("token_label = \"" P11_LABEL "\"\nuser_pin_env = \"PARSEC_TEST_P11_NOT_SET\"\n",
                "the environment variable PARSEC_TEST_P11_NOT_SET is not set", NULL);
}

static void test_token_choice(void **state)
{
    (void)state;
    /* One initialised token: chosen without being named. */
    start_ok("user_pin = \"" P11_PIN "\"\n", NULL);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    p11_token_init("another", "5555");
    start_fails("user_pin = \"" P11_PIN "\"\n",
                "missing slot number or more than one initialized token", NULL);
    daemon_cleanup(&D);
    /* By serial number, with spaces around it. */
    struct p11_direct d;
    p11_direct_open(&d, "another", "5555");
    CK_SESSION_INFO si;
    CK_TOKEN_INFO ti;
    assert_int_equal(d.f->C_GetSessionInfo(d.s, &si), CKR_OK);
    assert_int_equal(d.f->C_GetTokenInfo(si.slotID, &ti), CKR_OK);
    p11_direct_close(&d);
    char serial[17];
    memcpy(serial, ti.serialNumber, 16);
    serial[16] = '\0';
    for (int i = 15; i >= 0 && serial[i] == ' '; i--)
        serial[i] = '\0';
    char lines[300];
    snprintf(lines, sizeof(lines), "serial_number = \"  %s \"\nuser_pin = \"5555\"\n", serial);
    start_ok(lines, NULL);
    assert_true(daemon_log_contains(&D, "token \"another\""));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    /* Serial number and slot number disagreeing: the serial number wins, said aloud. */
    snprintf(lines, sizeof(lines), "serial_number = \"%s\"\nslot_number = 1\nuser_pin = \"5555\"\n",
             serial);
    start_ok(lines, NULL);
    assert_true(daemon_log_contains(&D, "the serial number and the slot number name different"));
    assert_true(daemon_log_contains(&D, "token \"another\""));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    /* By slot number. */
    snprintf(lines, sizeof(lines), "slot_number = %lu\nuser_pin = \"5555\"\n",
             (unsigned long)si.slotID);
    start_ok(lines, NULL);
    assert_true(daemon_log_contains(&D, "token \"another\""));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* A mapping whose objects left the token is dropped at start; objects that no mapping names
 * are reported and kept. */
static void test_coherency(void **state)
{
    (void)state;
    start_ok(NULL, NULL);
    struct caller c = {.sock = D.sock, .app = "coherency"};
    assert_int_equal(op_generate(&c, "gone", ecc_attrs()), 0);
    assert_int_equal(op_generate(&c, "kept", ecc_attrs()), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);

    /* The token's own view: remove "gone" (the key whose public half differs from "kept"'s is
     * not known here, so both keys' ids are read and the first one's objects destroyed). */
    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE h[8];
    CK_ULONG n = 0;
    assert_int_equal(d.f->C_FindObjectsInit(d.s, &t, 1), CKR_OK);
    assert_int_equal(d.f->C_FindObjects(d.s, h, 8, &n), CKR_OK);
    assert_int_equal(d.f->C_FindObjectsFinal(d.s), CKR_OK);
    assert_true(n >= 2);
    uint8_t id[4];
    CK_ATTRIBUTE a = {CKA_ID, id, 4};
    assert_int_equal(d.f->C_GetAttributeValue(d.s, h[0], &a, 1), CKR_OK);
    CK_OBJECT_HANDLE both[4];
    CK_ULONG nb = p11_direct_find(&d, id, both, 4);
    assert_int_equal(nb, 2);
    for (CK_ULONG i = 0; i < nb; i++)
        assert_int_equal(d.f->C_DestroyObject(d.s, both[i]), CKR_OK);
    /* An object with a key id no mapping names. */
    static uint8_t orphan_id[4] = {0x11, 0x22, 0x33, 0x44};
    static CK_BYTE data[16] = "left behind";
    CK_OBJECT_CLASS dc = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE ot[] = {{CKA_CLASS, &dc, sizeof(dc)},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_TOKEN, &yes, 1},
                         {CKA_ID, orphan_id, 4},
                         {CKA_VALUE, data, sizeof(data)}};
    CK_OBJECT_HANDLE oh;
    assert_int_equal(d.f->C_CreateObject(d.s, ot, 5, &oh), CKR_OK);
    p11_direct_close(&d);

    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_true(daemon_log_contains(&D, "its mapping is removed"));
    assert_true(daemon_log_contains(&D, "key id 0x11223344 is in no mapping"));
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&c, &r), 0);
    assert_int_equal(r->n_keys, 1);
    const char *left = r->keys[0]->name;
    signs(&c, left);
    /* The orphan is still there. */
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    assert_int_equal(p11_direct_find(&d, orphan_id, NULL, 0), 1);
    p11_direct_close(&d);

    /* A reload runs the pass again and keeps the key working. */
    kill(D.pid, SIGHUP);
    assert_true(daemon_wait_log(&D, "Parsec configuration reloaded.", 60000));
    signs(&c, left);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* Client names in the provider's log lines are escaped as every provider escapes them: quotes
 * cannot close the quotes around a name, on a failed operation (log_error_details) and on the
 * start-up pass removing a mapping whose objects are gone. */
static void test_names_escaped_in_log(void **state)
{
    (void)state;
    static const char name[] = "say \"hi\"";
    static const char escaped[] = "\"say \\\"hi\\\"\"";
    daemon_prepare(&D, p11_config("log_error_details = true\n", NULL));
    assert_int_equal(daemon_launch(&D, NULL), 0);
    struct caller c = {.sock = D.sock, .app = "quoting"};
    assert_int_equal(op_generate(&c, name, ecc_attrs()), 0);
    /* SHA-384 is not the hash its policy names: refused, and logged. */
    struct buf sig;
    assert_int_equal(op_sign_hash(&c, name, sig_alg(SIG_ECDSA, HASH(SHA_384)),
                                  digest(HASH(SHA_384), buf_str("m")), &sig),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    char want[200];
    snprintf(want, sizeof(want), "PsaSignHash on key %s", escaped);
    assert_true(daemon_log_contains(&D, want));

    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = 0;
    assert_int_equal(d.f->C_FindObjectsInit(d.s, NULL, 0), CKR_OK);
    assert_int_equal(d.f->C_FindObjects(d.s, h, 4, &n), CKR_OK);
    assert_int_equal(d.f->C_FindObjectsFinal(d.s), CKR_OK);
    assert_int_equal(n, 2); /* the key's private and public objects */
    for (CK_ULONG i = 0; i < n; i++)
        assert_int_equal(d.f->C_DestroyObject(d.s, h[i]), CKR_OK);
    p11_direct_close(&d);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    snprintf(want, sizeof(want), "key %s of \"quoting\" is not in the back-end", escaped);
    assert_true(daemon_log_contains(&D, want));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    /* Each test gets a fresh token folder. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_module, setup, test_end),
        cmocka_unit_test_setup_teardown(test_token_not_found_lists_tokens, setup, test_end),
        cmocka_unit_test_setup_teardown(test_wrong_pin, setup, test_end),
        cmocka_unit_test_setup_teardown(test_malformed_pin_refused, setup, test_end),
        cmocka_unit_test_setup_teardown(test_pin_forms, setup, test_end),
        cmocka_unit_test_setup_teardown(test_token_choice, setup, test_end),
        cmocka_unit_test_setup_teardown(test_coherency, setup, test_end),
        cmocka_unit_test_setup_teardown(test_names_escaped_in_log, setup, test_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
