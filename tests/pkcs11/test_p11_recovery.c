/* The PKCS#11 provider in process, on SoftHSM2, while the module is disturbed underneath it
 * through the same module instance: its sessions closed, its login dropped, the module itself
 * finalised and initialised again (what a token removed and put back looks like to an
 * application). Every operation after the disturbance succeeds, with no restart. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "p11_env.h"
#include "service/kim/kim.h"
#include "service/providers/pkcs11.h"
#include "wire/opcode.h"
#include "wire/status.h"

static struct p11_token T;
static struct psc_kim *K;
static struct psc_provider *P;
static struct p11_direct M; /* the same module, as the provider loaded it */
static CK_SLOT_ID SLOT;
static const struct psc_app APP = {.name = "recovery", .auth = PSC_AUTH_DIRECT};

static int call(uint32_t opcode, struct psc_args *a, struct psc_out *out)
{
    a->opcode = opcode;
    out->p = NULL;
    out->len = 0;
    return P->type->ops[opcode](P, &APP, a, out);
}

static int sign(const char *name)
{
    static const uint8_t hash[32] = {7};
    struct psc_args a = {.key_name = name, .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256)};
    a.hash.p = hash;
    a.hash.len = sizeof(hash);
    struct psc_out out;
    int rc = call(PSC_OP_PSA_SIGN_HASH, &a, &out);
    if (rc == 0)
        assert_int_equal(out.len, 64);
    free(out.p);
    return rc;
}

static int generate(const char *name)
{
    struct psc_args a = {.key_name = name, .has_attrs = 1};
    a.attrs.type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
    a.attrs.bits = 256;
    a.attrs.usage = PSA_KEY_USAGE_SIGN_HASH;
    a.attrs.alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    struct psc_out out;
    int rc = call(PSC_OP_PSA_GENERATE_KEY, &a, &out);
    free(out.p);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);
    char db[400], err[512] = "";
    snprintf(db, sizeof(db), "%s/mappings.sqlite3", T.dir);
    struct cfg_kim kc = {.name = "k", .type = CFG_KIM_SQLITE, .sqlite_db_path = db};
    assert_int_equal(kim_open(&kc, PSC_AUTH_DIRECT, &K, err, sizeof(err)), 0);
    struct cfg_provider pc = {
        .provider_type = "Pkcs11",
        .key_info_manager = "k",
        .library_path = SOFTHSM2_LIB,
        .token_label = P11_LABEL,
        .user_pin = P11_PIN,
        .allow_export = 1,
    };
    struct psc_provider_env env = {.buffer_size_limit = 1 << 20};
    if (psc_pkcs11_provider.create(&pc, K, &env, &P, err, sizeof(err)) != 0)
        fail_msg("the provider did not start: %s", err);
    /* The test's own view of the module: already initialised by the provider. */
    p11_direct_open(&M, P11_LABEL, P11_PIN);
    CK_SESSION_INFO si;
    assert_int_equal(M.f->C_GetSessionInfo(M.s, &si), CKR_OK);
    SLOT = si.slotID;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)M.f->C_CloseSession(M.s);
    dlclose(M.dl); /* the provider finalises the module it initialised */
    psc_pkcs11_provider.destroy(P);
    kim_close(K);
    p11_token_cleanup(&T);
    return 0;
}

static void test_sessions_closed_underneath(void **state)
{
    (void)state;
    assert_int_equal(generate("a"), 0);
    assert_int_equal(sign("a"), 0);
    assert_int_equal(M.f->C_CloseAllSessions(SLOT), CKR_OK);
    /* Every pooled session is gone, and with the last one the login. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(sign("a"), 0);
    assert_int_equal(generate("b"), 0);
    assert_int_equal(sign("b"), 0);
}

static void test_logged_out_underneath(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s;
    assert_int_equal(M.f->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CK_RV rv = M.f->C_Logout(s);
    assert_true(rv == CKR_OK || rv == CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(sign("a"), 0);
    assert_int_equal(M.f->C_CloseSession(s), CKR_OK);
}

static void test_module_reset_underneath(void **state)
{
    (void)state;
    assert_int_equal(M.f->C_Finalize(NULL), CKR_OK);
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    assert_int_equal(M.f->C_Initialize(&args), CKR_OK);
    /* Sessions and handles of before are void; the keys are on the token. */
    assert_int_equal(sign("a"), 0);
    assert_int_equal(sign("b"), 0);
    assert_int_equal(generate("c"), 0);
    assert_int_equal(sign("c"), 0);
    assert_int_equal(
        M.f->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &M.s), CKR_OK);
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions_closed_underneath),
        cmocka_unit_test(test_logged_out_underneath),
        cmocka_unit_test(test_module_reset_underneath),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
