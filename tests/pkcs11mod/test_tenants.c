/* The module under Direct authentication: it shows only the keys of the application named by
 * PARSEC_PKCS11_APP_NAME, never another's, and no slot without a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p11t.h"
#include "parsec/client.h"

static struct p11t g_t;
#define F (g_t.f)

static void make_ec_key(const char *app, const char *name)
{
    struct parsec_client *c = NULL;
    struct parsec_client_config cfg = {.endpoint = g_t.endpoint, .app_name = app};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_SUCCESS);
    assert_int_equal(parsec_ecc_key_create(c, name), PARSEC_SUCCESS);
    parsec_client_free(c);
}

/* Labels of every object the module shows, joined with spaces. */
static void labels(CK_SESSION_HANDLE s, char *out, size_t size)
{
    CK_OBJECT_HANDLE found[32];
    CK_ULONG n = 0;
    out[0] = '\0';
    assert_int_equal(F->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    assert_int_equal(F->C_FindObjects(s, found, 32, &n), CKR_OK);
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        char l[64] = {0};
        CK_ATTRIBUTE a = {CKA_LABEL, l, sizeof(l) - 1};
        assert_int_equal(F->C_GetAttributeValue(s, found[i], &a, 1), CKR_OK);
        strncat(out, l, size - strlen(out) - 2);
        strcat(out, " ");
    }
}

static void test_each_application_its_keys(void **state)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE alice_priv;
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    char seen[512];
    (void)state;
    make_ec_key("alice", "alice-key");
    make_ec_key("bob", "bob-key");

    setenv("PARSEC_PKCS11_APP_NAME", "alice", 1);
    p11t_init(&g_t);
    s = p11t_session(&g_t, 1);
    labels(s, seen, sizeof(seen));
    assert_string_equal(seen, "alice-key alice-key ");
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "alice-key", &alice_priv), 1);
    assert_int_equal(p11t_sign(&g_t, s, &m, alice_priv, (const uint8_t *)"x", 1, sig, &len),
                     CKR_OK);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "bob-key", NULL), 0);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);

    setenv("PARSEC_PKCS11_APP_NAME", "bob", 1);
    p11t_init(&g_t);
    s = p11t_session(&g_t, 1);
    labels(s, seen, sizeof(seen));
    assert_string_equal(seen, "bob-key bob-key ");
    /* Whatever handle Bob tries, it names his key or nothing (handles are numbered anew at
     * each C_Initialize, so Alice's old one may name Bob's key). */
    for (CK_OBJECT_HANDLE h = 1; h < 40; h++) {
        char l[64] = {0};
        CK_ATTRIBUTE a = {CKA_LABEL, l, sizeof(l) - 1};
        CK_RV rv = F->C_GetAttributeValue(s, h, &a, 1);
        if (rv != CKR_OBJECT_HANDLE_INVALID) {
            assert_int_equal(rv, CKR_OK);
            assert_string_equal(l, "bob-key");
        }
    }
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);

    /* Direct authentication without a name: the service cannot be used, no slot. */
    unsetenv("PARSEC_PKCS11_APP_NAME");
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
    assert_int_equal(F->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    assert_int_equal(n, 0);
    /* A name given afterwards is used at the next look. */
    setenv("PARSEC_PKCS11_APP_NAME", "bob", 1);
    n = 1;
    assert_int_equal(F->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    assert_int_equal(n, 1);
}

/* Group set-up and tear-down, so that a failed assertion still stops the daemon. */
static int group_setup(void **state)
{
    (void)state;
    p11t_start_config(&g_t, E2E_CONFIG_DIRECT);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    p11t_stop(&g_t);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_application_its_keys),
    };
    (void)argc;
    p11t_wrap_self(argv);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
