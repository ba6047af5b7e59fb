/* The PKCS#11 module through its function list, against the real daemon: library and session
 * management, objects, every mechanism (checked with OpenSSL), error paths, threads, fork. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rsa.h>

#include "p11t.h"
#include "parsec/client.h"

static struct p11t g_t;
#define F (g_t.f)

static int group_setup(void **state)
{
    (void)state;
    p11t_start(&g_t);
    p11t_init(&g_t);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    p11t_stop(&g_t);
    return 0;
}

static const uint8_t MSG[] = "a message signed through the PKCS#11 module";

/* ---- library ------------------------------------------------------------------------------ */

static CK_RV dummy_create(CK_VOID_PTR_PTR m)
{
    *m = NULL;
    return CKR_OK;
}

static CK_RV dummy_other(CK_VOID_PTR m)
{
    (void)m;
    return CKR_OK;
}

static void test_initialize_args(void **state)
{
    CK_C_INITIALIZE_ARGS a;
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CK_INFO info;
    (void)state;
    assert_int_equal(F->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    assert_int_equal(F->C_Finalize((void *)1), CKR_ARGUMENTS_BAD);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    assert_int_equal(F->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_GetSlotList(CK_TRUE, &slot, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);

    memset(&a, 0, sizeof(a));
    a.pReserved = &a;
    assert_int_equal(F->C_Initialize(&a), CKR_ARGUMENTS_BAD);
    memset(&a, 0, sizeof(a));
    a.CreateMutex = dummy_create; /* some functions but not all */
    assert_int_equal(F->C_Initialize(&a), CKR_ARGUMENTS_BAD);
    a.DestroyMutex = dummy_other;
    a.LockMutex = dummy_other;
    a.UnlockMutex = dummy_other;
    assert_int_equal(F->C_Initialize(&a), CKR_CANT_LOCK);
    a.flags = CKF_OS_LOCKING_OK;
    assert_int_equal(F->C_Initialize(&a), CKR_OK);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    memset(&a, 0, sizeof(a));
    a.flags = CKF_OS_LOCKING_OK;
    assert_int_equal(F->C_Initialize(&a), CKR_OK);

    assert_int_equal(F->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(F->C_GetInfo(&info), CKR_OK);
    assert_int_equal(info.cryptokiVersion.major, 2);
    assert_int_equal(info.cryptokiVersion.minor, 40);
    assert_memory_equal(info.manufacturerID, "Parsec ", 7);
    assert_int_equal(F->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    assert_int_equal(slot, g_t.slot);
}

static void test_slot_token(void **state)
{
    CK_SLOT_ID slots[2];
    CK_ULONG n = 0;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    (void)state;
    assert_int_equal(F->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(F->C_GetSlotList(CK_FALSE, slots, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 1);
    assert_int_equal(F->C_GetSlotList(CK_FALSE, slots, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(g_t.slot, PARSEC_PROVIDER_MBED_CRYPTO);
    assert_int_equal(F->C_GetSlotInfo(g_t.slot, &si), CKR_OK);
    assert_true(si.flags & CKF_TOKEN_PRESENT);
    assert_int_equal(F->C_GetSlotInfo(77, &si), CKR_SLOT_ID_INVALID);
    assert_int_equal(F->C_GetTokenInfo(77, &ti), CKR_SLOT_ID_INVALID);
    assert_int_equal(F->C_GetTokenInfo(g_t.slot, &ti), CKR_OK);
    /* Derived from the provider's identity: the Mbed Crypto provider's UUID. */
    assert_memory_equal(ti.label, "Parsec Mbed Crypto              ", 32);
    assert_memory_equal(ti.serialNumber, "1c1139dcad7c47dc", 16);
    assert_memory_equal(ti.model, "Mbed Crypto     ", 16);
    assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
    assert_true(ti.flags & CKF_RNG);
    assert_false(ti.flags & CKF_LOGIN_REQUIRED);
}

static void test_mechanisms(void **state)
{
    CK_MECHANISM_TYPE list[64];
    CK_ULONG n = 0, i;
    CK_MECHANISM_INFO mi;
    int ecdsa = 0, pss = 0, oaep = 0, gen = 0;
    (void)state;
    assert_int_equal(F->C_GetMechanismList(g_t.slot, NULL, &n), CKR_OK);
    assert_true(n > 10 && n <= 64);
    i = 1;
    assert_int_equal(F->C_GetMechanismList(g_t.slot, list, &i), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(i, n);
    assert_int_equal(F->C_GetMechanismList(g_t.slot, list, &n), CKR_OK);
    for (i = 0; i < n; i++) {
        ecdsa |= list[i] == CKM_ECDSA_SHA256;
        pss |= list[i] == CKM_SHA256_RSA_PKCS_PSS;
        oaep |= list[i] == CKM_RSA_PKCS_OAEP;
        gen |= list[i] == CKM_EC_KEY_PAIR_GEN;
    }
    assert_true(ecdsa && pss && oaep && gen);
    assert_int_equal(F->C_GetMechanismInfo(g_t.slot, CKM_ECDSA, &mi), CKR_OK);
    assert_true(mi.flags & CKF_SIGN);
    assert_int_equal(mi.ulMinKeySize, 256);
    assert_int_equal(F->C_GetMechanismInfo(g_t.slot, CKM_RSA_PKCS, &mi), CKR_OK);
    assert_true((mi.flags & CKF_DECRYPT) && (mi.flags & CKF_SIGN));
    assert_int_equal(F->C_GetMechanismInfo(g_t.slot, CKM_SHA256, &mi), CKR_OK);
    assert_true(mi.flags & CKF_DIGEST);
    assert_int_equal(F->C_GetMechanismInfo(g_t.slot, CKM_MD5, &mi), CKR_MECHANISM_INVALID);
}

/* ---- sessions ----------------------------------------------------------------------------- */

static void test_sessions(void **state)
{
    CK_SESSION_HANDLE s, s2;
    CK_SESSION_INFO info;
    CK_TOKEN_INFO ti;
    (void)state;
    assert_int_equal(F->C_OpenSession(g_t.slot, 0, NULL, NULL, &s),
                     CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    assert_int_equal(F->C_OpenSession(99, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_SLOT_ID_INVALID);
    assert_int_equal(F->C_OpenSession(g_t.slot, CKF_SERIAL_SESSION, NULL, NULL, NULL),
                     CKR_ARGUMENTS_BAD);
    s = p11t_session(&g_t, 0);
    s2 = p11t_session(&g_t, 1);
    assert_int_equal(F->C_GetTokenInfo(g_t.slot, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 2);
    assert_int_equal(ti.ulRwSessionCount, 1);
    assert_int_equal(F->C_GetSessionInfo(s, &info), CKR_OK);
    assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
    assert_int_equal(info.slotID, g_t.slot);
    /* Any PIN is accepted (and ignored); the login holds for every session of the token. */
    assert_int_equal(F->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "anything", 8), CKR_OK);
    assert_int_equal(F->C_Login(s2, CKU_USER, NULL, 0), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(F->C_Login(s2, CKU_SO, NULL, 0), CKR_USER_TYPE_INVALID);
    assert_int_equal(F->C_GetSessionInfo(s2, &info), CKR_OK);
    assert_int_equal(info.state, CKS_RW_USER_FUNCTIONS);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(F->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(F->C_CloseSession(s), CKR_OK);
    assert_int_equal(F->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(F->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(F->C_CloseAllSessions(g_t.slot), CKR_OK);
    assert_int_equal(F->C_GetSessionInfo(s2, &info), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(F->C_GetTokenInfo(g_t.slot, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 0);
}

/* The documented limit of open sessions. */
static void test_session_limit(void **state)
{
    static CK_SESSION_HANDLE s[1024];
    CK_SESSION_HANDLE extra;
    (void)state;
    for (size_t i = 0; i < 1024; i++)
        s[i] = p11t_session(&g_t, 0);
    assert_int_equal(F->C_OpenSession(g_t.slot, CKF_SERIAL_SESSION, NULL, NULL, &extra),
                     CKR_SESSION_COUNT);
    assert_int_equal(F->C_CloseSession(s[7]), CKR_OK);
    s[7] = p11t_session(&g_t, 0);
    assert_int_equal(F->C_CloseAllSessions(g_t.slot), CKR_OK);
}

static void test_unsupported(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_ULONG n = 0;
    CK_OBJECT_HANDLE o;
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    (void)state;
    assert_int_equal(F->C_InitPIN(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(F->C_SetPIN(s, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(F->C_GetOperationState(s, NULL, &n), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(F->C_CreateObject(s, NULL, 0, &o), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(F->C_SeedRandom(s, (CK_BYTE_PTR) "x", 1), CKR_RANDOM_SEED_NOT_SUPPORTED);
    assert_int_equal(F->C_GenerateKey(s, &m, NULL, 0, &o), CKR_MECHANISM_INVALID);
    assert_int_equal(F->C_GetFunctionStatus(s), CKR_FUNCTION_NOT_PARALLEL);
    assert_int_equal(F->C_InitPIN(12345, NULL, 0), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_NO_EVENT);
    assert_int_equal(F->C_CloseSession(s), CKR_OK);
}

/* ---- objects ------------------------------------------------------------------------------ */

static void test_objects(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv, h, found[8];
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_ULONG n;
    uint8_t *id, *v, buf[4];
    size_t id_len, len;
    CK_BBOOL b;
    CK_ATTRIBUTE a[2];
    (void)state;
    p11t_gen_ec(&g_t, s, "obj-ec", P11T_P256, sizeof(P11T_P256), &pub, &priv);
    assert_int_not_equal(pub, priv);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "obj-ec", &h), 1);
    assert_int_equal(h, priv);
    assert_int_equal(p11t_find(&g_t, s, CKO_PUBLIC_KEY, "obj-ec", &h), 1);
    assert_int_equal(h, pub);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "no-such-key", &h), 0);

    /* CKA_ID: stable, the same on both objects, and finds them. */
    id = p11t_attr(&g_t, s, priv, CKA_ID, &id_len);
    assert_int_equal(id_len, 20);
    v = p11t_attr(&g_t, s, pub, CKA_ID, &len);
    assert_memory_equal(v, id, id_len);
    free(v);
    a[0] = (CK_ATTRIBUTE){CKA_ID, id, id_len};
    a[1] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    assert_int_equal(F->C_FindObjectsInit(s, a, 2), CKR_OK);
    assert_int_equal(F->C_FindObjectsInit(s, a, 2), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_FindObjects(s, found, 8, &n), CKR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(F->C_FindObjects(s, found, 8, &n), CKR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OK);
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_FindObjects(s, found, 8, &n), CKR_OPERATION_NOT_INITIALIZED);
    free(id);
    kt = CKK_RSA;
    a[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    a[1] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    assert_int_equal(F->C_FindObjectsInit(s, a, 2), CKR_OK);
    assert_int_equal(F->C_FindObjects(s, found, 8, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++)
        assert_int_not_equal(found[i], pub);
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OK);

    /* Attributes: usage from the policy, private values sensitive, sizes on request. */
    v = p11t_attr(&g_t, s, priv, CKA_SIGN, &len);
    assert_int_equal(v[0], CK_TRUE);
    free(v);
    v = p11t_attr(&g_t, s, priv, CKA_DECRYPT, &len);
    assert_int_equal(v[0], CK_FALSE);
    free(v);
    v = p11t_attr(&g_t, s, priv, CKA_LABEL, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(v, "obj-ec", 6);
    free(v);
    v = p11t_attr(&g_t, s, pub, CKA_EC_PARAMS, &len);
    assert_int_equal(len, sizeof(P11T_P256));
    assert_memory_equal(v, P11T_P256, len);
    free(v);
    v = p11t_attr(&g_t, s, pub, CKA_EC_POINT, &len);
    assert_int_equal(len, 67);
    assert_int_equal(v[0], 0x04);
    assert_int_equal(v[1], 65);
    assert_int_equal(v[2], 0x04);
    free(v);
    a[0] = (CK_ATTRIBUTE){CKA_VALUE, NULL, 0};
    assert_int_equal(F->C_GetAttributeValue(s, priv, a, 1), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a[0] = (CK_ATTRIBUTE){CKA_MODULUS, NULL, 0};
    assert_int_equal(F->C_GetAttributeValue(s, pub, a, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    a[0] = (CK_ATTRIBUTE){CKA_EC_POINT, buf, sizeof(buf)};
    a[1] = (CK_ATTRIBUTE){CKA_TOKEN, &b, sizeof(b)};
    assert_int_equal(F->C_GetAttributeValue(s, pub, a, 2), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(a[1].ulValueLen, sizeof(b));
    assert_int_equal(b, CK_TRUE);
    assert_int_equal(F->C_SetAttributeValue(s, pub, a, 1), CKR_ACTION_PROHIBITED);
    assert_int_equal(F->C_GetAttributeValue(s, 999999, a, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(F->C_GetAttributeValue(s, CK_INVALID_HANDLE, a, 1), CKR_OBJECT_HANDLE_INVALID);

    /* The same handles in another session. */
    {
        CK_SESSION_HANDLE s2 = p11t_session(&g_t, 0);
        v = p11t_attr(&g_t, s2, priv, CKA_LABEL, &len);
        assert_memory_equal(v, "obj-ec", 6);
        free(v);
        /* Destroying needs a read-write session, and removes both objects. */
        assert_int_equal(F->C_DestroyObject(s2, priv), CKR_SESSION_READ_ONLY);
        assert_int_equal(F->C_CloseSession(s2), CKR_OK);
    }
    assert_int_equal(F->C_DestroyObject(s, pub), CKR_OK);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "obj-ec", &h), 0);
    assert_int_equal(p11t_find(&g_t, s, CKO_PUBLIC_KEY, "obj-ec", &h), 0);
    assert_int_equal(F->C_GetAttributeValue(s, priv, a, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(F->C_CloseSession(s), CKR_OK);
}

static void test_keygen_errors(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1), ro = p11t_session(&g_t, 0);
    CK_MECHANISM ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0}, rsa = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_MECHANISM bad = {CKM_DSA_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE pub, priv;
    uint8_t oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70}; /* Ed25519: not offered */
    CK_ULONG bits = 100;
    uint8_t e3[] = {3};
    CK_ATTRIBUTE t_oid[] = {{CKA_EC_PARAMS, oid, sizeof(oid)}};
    CK_ATTRIBUTE t_p256[] = {{CKA_EC_PARAMS, (void *)P11T_P256, sizeof(P11T_P256)},
                             {CKA_LABEL, "dup", 3}};
    CK_ATTRIBUTE t_bits[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}};
    CK_ATTRIBUTE t_e3[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_PUBLIC_EXPONENT, e3, 1}};
    (void)state;
    assert_int_equal(F->C_GenerateKeyPair(ro, &ec, t_p256, 2, NULL, 0, &pub, &priv),
                     CKR_SESSION_READ_ONLY);
    assert_int_equal(F->C_GenerateKeyPair(s, &bad, NULL, 0, NULL, 0, &pub, &priv),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(F->C_GenerateKeyPair(s, &ec, NULL, 0, NULL, 0, &pub, &priv),
                     CKR_TEMPLATE_INCOMPLETE);
    assert_int_equal(F->C_GenerateKeyPair(s, &ec, t_oid, 1, NULL, 0, &pub, &priv),
                     CKR_CURVE_NOT_SUPPORTED);
    assert_int_equal(F->C_GenerateKeyPair(s, &rsa, t_bits, 1, NULL, 0, &pub, &priv),
                     CKR_KEY_SIZE_RANGE);
    bits = 2048;
    assert_int_equal(F->C_GenerateKeyPair(s, &rsa, t_e3, 2, NULL, 0, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    {
        CK_BBOOL no = CK_FALSE;
        CK_ATTRIBUTE session_obj[] = {{CKA_TOKEN, &no, sizeof(no)}};
        assert_int_equal(F->C_GenerateKeyPair(s, &ec, t_p256, 2, session_obj, 1, &pub, &priv),
                         CKR_ATTRIBUTE_VALUE_INVALID);
    }
    assert_int_equal(F->C_GenerateKeyPair(s, &ec, t_p256, 2, NULL, 0, &pub, &priv), CKR_OK);
    /* The name is the label: a second key of that name is refused. */
    assert_int_equal(F->C_GenerateKeyPair(s, &ec, t_p256, 2, NULL, 0, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    /* Without a label the key gets a fresh name. */
    assert_int_equal(F->C_GenerateKeyPair(s, &ec, t_p256, 1, NULL, 0, &pub, &priv), CKR_OK);
    {
        size_t len;
        uint8_t *l = p11t_attr(&g_t, s, priv, CKA_LABEL, &len);
        assert_true(len > 7 && memcmp(l, "pkcs11-", 7) == 0);
        free(l);
    }
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
    F->C_CloseSession(ro);
}

/* ---- signatures --------------------------------------------------------------------------- */

/* Whether CKA_ALLOWED_MECHANISMS of object o lists m. */
static int allowed(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_MECHANISM_TYPE m)
{
    size_t len;
    CK_MECHANISM_TYPE *v =
        (CK_MECHANISM_TYPE *)(void *)p11t_attr(&g_t, s, o, CKA_ALLOWED_MECHANISMS, &len);
    int found = 0;
    for (size_t i = 0; i < len / sizeof(*v); i++)
        found |= v[i] == m;
    free(v);
    return found;
}

static void sign_check(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
                       CK_MECHANISM *m, const EVP_MD *md, int pad, const uint8_t *in, size_t in_len)
{
    uint8_t sig[600];
    CK_ULONG len = sizeof(sig);
    EVP_PKEY *pk = p11t_pubkey(&g_t, s, pub);
    assert_int_equal(p11t_sign(&g_t, s, m, priv, in, in_len, sig, &len), CKR_OK);
    assert_true(p11t_verify(pk, md, pad, in, in_len, sig, len));
    /* The module's own verification agrees, and refuses a changed signature. */
    assert_int_equal(F->C_VerifyInit(s, m, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)in, in_len, sig, len), CKR_OK);
    sig[len / 2] ^= 1;
    assert_int_equal(F->C_VerifyInit(s, m, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)in, in_len, sig, len), CKR_SIGNATURE_INVALID);
    EVP_PKEY_free(pk);
}

static void test_ecdsa(void **state)
{
    static const struct {
        const uint8_t *oid;
        size_t oid_len;
        const char *label;
    } curves[] = {{P11T_P256, sizeof(P11T_P256), "ec256"},
                  {P11T_P384, sizeof(P11T_P384), "ec384"},
                  {P11T_P521, sizeof(P11T_P521), "ec521"}};
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    (void)state;
    for (size_t c = 0; c < 3; c++) {
        CK_OBJECT_HANDLE pub, priv;
        CK_MECHANISM m;
        uint8_t hash[64];
        unsigned int hl;
        CK_RV rv;
        CK_MECHANISM_INFO mi;
        /* Only the curves the provider can make (C_GetMechanismInfo says). */
        assert_int_equal(F->C_GetMechanismInfo(g_t.slot, CKM_EC_KEY_PAIR_GEN, &mi), CKR_OK);
        {
            CK_MECHANISM g = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
            CK_BBOOL yes = CK_TRUE;
            CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)curves[c].oid, curves[c].oid_len},
                                 {CKA_LABEL, (void *)curves[c].label, 5}};
            CK_ATTRIBUTE vt[] = {{CKA_SIGN, &yes, sizeof(yes)}};
            rv = F->C_GenerateKeyPair(s, &g, pt, 2, vt, 1, &pub, &priv);
            if (rv == CKR_MECHANISM_INVALID || rv == CKR_CURVE_NOT_SUPPORTED) {
                print_message("curve %s not offered by the provider\n", curves[c].label);
                continue;
            }
            assert_int_equal(rv, CKR_OK);
        }
        m = (CK_MECHANISM){CKM_ECDSA_SHA256, NULL, 0};
        sign_check(s, pub, priv, &m, EVP_sha256(), 0, MSG, sizeof(MSG));
        assert_true(allowed(s, priv, CKM_ECDSA) && allowed(s, priv, CKM_ECDSA_SHA384));
        assert_false(allowed(s, priv, CKM_RSA_PKCS));
        m.mechanism = CKM_ECDSA_SHA384;
        sign_check(s, pub, priv, &m, EVP_sha384(), 0, MSG, sizeof(MSG));
        m.mechanism = CKM_ECDSA_SHA512;
        sign_check(s, pub, priv, &m, EVP_sha512(), 0, MSG, sizeof(MSG));
        m.mechanism = CKM_ECDSA_SHA1;
        sign_check(s, pub, priv, &m, EVP_sha1(), 0, MSG, sizeof(MSG));
        /* CKM_ECDSA signs the hash it is given. */
        EVP_Digest(MSG, sizeof(MSG), hash, &hl, EVP_sha256(), NULL);
        m.mechanism = CKM_ECDSA;
        sign_check(s, pub, priv, &m, NULL, 0, hash, hl);
        EVP_Digest(MSG, sizeof(MSG), hash, &hl, EVP_sha384(), NULL);
        sign_check(s, pub, priv, &m, NULL, 0, hash, hl);
        assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    }
    F->C_CloseSession(s);
}

static void test_rsa_pkcs1(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    uint8_t di[19 + 32], sig[256];
    unsigned int hl;
    CK_ULONG len;
    static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    (void)state;
    p11t_gen_rsa(&g_t, s, "rsa-sign", 2048, 0, &pub, &priv);
    {
        size_t l;
        uint8_t *v = p11t_attr(&g_t, s, pub, CKA_MODULUS, &l);
        assert_int_equal(l, 256);
        free(v);
        v = p11t_attr(&g_t, s, pub, CKA_MODULUS_BITS, &l);
        assert_int_equal(*(CK_ULONG *)(void *)v, 2048);
        free(v);
    }
    sign_check(s, pub, priv, &m, EVP_sha256(), RSA_PKCS1_PADDING, MSG, sizeof(MSG));
    assert_true(allowed(s, priv, CKM_RSA_PKCS) && allowed(s, priv, CKM_SHA1_RSA_PKCS));
    assert_false(allowed(s, priv, CKM_RSA_PKCS_PSS) || allowed(s, priv, CKM_ECDSA));
    m.mechanism = CKM_SHA384_RSA_PKCS;
    sign_check(s, pub, priv, &m, EVP_sha384(), RSA_PKCS1_PADDING, MSG, sizeof(MSG));
    m.mechanism = CKM_SHA512_RSA_PKCS;
    sign_check(s, pub, priv, &m, EVP_sha512(), RSA_PKCS1_PADDING, MSG, sizeof(MSG));
    m.mechanism = CKM_SHA1_RSA_PKCS;
    sign_check(s, pub, priv, &m, EVP_sha1(), RSA_PKCS1_PADDING, MSG, sizeof(MSG));
    /* CKM_RSA_PKCS with a DigestInfo: the hash is read from it. */
    memcpy(di, prefix, sizeof(prefix));
    EVP_Digest(MSG, sizeof(MSG), di + 19, &hl, EVP_sha256(), NULL);
    m.mechanism = CKM_RSA_PKCS;
    sign_check(s, pub, priv, &m, NULL, RSA_PKCS1_PADDING, di, sizeof(di));
    /* Input that is no DigestInfo cannot be mapped to the key's PKCS#1 v1.5 policy. */
    len = sizeof(sig);
    assert_int_equal(p11t_sign(&g_t, s, &m, priv, MSG, 20, sig, &len), CKR_DATA_INVALID);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)MSG, 20, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
    /* The key's policy is PKCS#1 v1.5: PSS and decryption are not permitted. */
    {
        CK_RSA_PKCS_PSS_PARAMS pp = {CKM_SHA256, CKG_MGF1_SHA256, 32};
        CK_MECHANISM pss = {CKM_SHA256_RSA_PKCS_PSS, &pp, sizeof(pp)};
        CK_MECHANISM dec = {CKM_RSA_PKCS, NULL, 0};
        assert_int_equal(F->C_SignInit(s, &pss, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
        assert_int_equal(F->C_DecryptInit(s, &dec, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    }
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

/* A key made through libparsec directly, with a policy C_GenerateKeyPair does not choose. */
static void make_key(const char *name, psa_algorithm_t alg, psa_key_usage_t usage)
{
    struct parsec_client *c = NULL;
    struct parsec_key_attributes a = {
        .type = PSA_KEY_TYPE_RSA_KEY_PAIR, .bits = 2048, .usage = usage, .alg = alg};
    struct parsec_client_config cfg = {.endpoint = g_t.endpoint};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_SUCCESS);
    assert_int_equal(parsec_generate_key(c, name, &a), PARSEC_SUCCESS);
    parsec_client_free(c);
}

/* A key name of the longest length the service stores (189 bytes) is its whole CKA_LABEL; one
 * byte more is refused by the service, so no longer label can appear. */
static void test_long_name(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    struct parsec_client *c = NULL;
    struct parsec_client_config cfg = {.endpoint = g_t.endpoint};
    static char name[189 + 1], over[189 + 2];
    CK_OBJECT_HANDLE priv;
    uint8_t *v;
    size_t len;
    (void)state;
    memset(name, 'n', sizeof(name) - 1);
    memset(over, 'o', sizeof(over) - 1);
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_SUCCESS);
    assert_int_not_equal(parsec_ecc_key_create(c, over), PARSEC_SUCCESS);
    assert_int_equal(parsec_ecc_key_create(c, name), PARSEC_SUCCESS);
    parsec_client_free(c);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, name, &priv), 1);
    v = p11t_attr(&g_t, s, priv, CKA_LABEL, &len);
    assert_int_equal(len, sizeof(name) - 1);
    assert_memory_equal(v, name, len);
    free(v);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

static void test_rsa_pss(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    CK_RSA_PKCS_PSS_PARAMS pp = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, &pp, sizeof(pp)};
    uint8_t hash[64], sig[256];
    unsigned int hl;
    CK_ULONG len = sizeof(sig);
    (void)state;
    make_key("rsa-pss", PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH),
             PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "rsa-pss", &priv), 1);
    assert_int_equal(p11t_find(&g_t, s, CKO_PUBLIC_KEY, "rsa-pss", &pub), 1);
    sign_check(s, pub, priv, &m, EVP_sha256(), RSA_PKCS1_PSS_PADDING, MSG, sizeof(MSG));
    assert_true(allowed(s, priv, CKM_RSA_PKCS_PSS) && allowed(s, pub, CKM_SHA512_RSA_PKCS_PSS));
    assert_false(allowed(s, priv, CKM_SHA256_RSA_PKCS) || allowed(s, priv, CKM_RSA_PKCS));
    pp = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA384, CKG_MGF1_SHA384, 48};
    m.mechanism = CKM_SHA384_RSA_PKCS_PSS;
    sign_check(s, pub, priv, &m, EVP_sha384(), RSA_PKCS1_PSS_PADDING, MSG, sizeof(MSG));
    /* CKM_RSA_PKCS_PSS: the hash given, named by the parameters. */
    pp = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA256, CKG_MGF1_SHA256, 32};
    m.mechanism = CKM_RSA_PKCS_PSS;
    EVP_Digest(MSG, sizeof(MSG), hash, &hl, EVP_sha256(), NULL);
    {
        EVP_PKEY *pk = p11t_pubkey(&g_t, s, pub);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
        assert_int_equal(p11t_sign(&g_t, s, &m, priv, hash, hl, sig, &len), CKR_OK);
        assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST);
        assert_int_equal(EVP_PKEY_verify(ctx, sig, len, hash, hl), 1);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pk);
    }
    len = sizeof(sig);
    assert_int_equal(p11t_sign(&g_t, s, &m, priv, hash, 20, sig, &len), CKR_DATA_LEN_RANGE);
    /* Parameters PSA cannot honour. */
    pp.sLen = 20;
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    pp = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA256, CKG_MGF1_SHA1, 32};
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    m.pParameter = NULL;
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

static void decrypt_check(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
                          CK_MECHANISM *m, int pad, const EVP_MD *oaep_md)
{
    EVP_PKEY *pk = p11t_pubkey(&g_t, s, pub);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct);
    CK_ULONG len = 0;
    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    EVP_PKEY_CTX_set_rsa_padding(ctx, pad);
    if (oaep_md != NULL) {
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, oaep_md);
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, oaep_md);
    }
    assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ct_len, MSG, sizeof(MSG)), 1);
    assert_int_equal(F->C_DecryptInit(s, m, priv), CKR_OK);
    /* Length query, then a buffer too small for this plaintext: the operation stays. */
    assert_int_equal(F->C_Decrypt(s, ct, ct_len, NULL, &len), CKR_OK);
    assert_int_equal(len, 256);
    len = 4;
    assert_int_equal(F->C_Decrypt(s, ct, ct_len, pt, &len), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(len, sizeof(MSG));
    len = sizeof(pt);
    assert_int_equal(F->C_Decrypt(s, ct, ct_len, pt, &len), CKR_OK);
    assert_int_equal(len, sizeof(MSG));
    assert_memory_equal(pt, MSG, sizeof(MSG));
    /* Encryption through the module, decryption through it again. */
    assert_int_equal(F->C_EncryptInit(s, m, pub), CKR_OK);
    len = sizeof(ct);
    assert_int_equal(F->C_Encrypt(s, (CK_BYTE_PTR)MSG, sizeof(MSG), ct, &len), CKR_OK);
    assert_int_equal(F->C_DecryptInit(s, m, priv), CKR_OK);
    ct_len = len;
    len = sizeof(pt);
    assert_int_equal(F->C_Decrypt(s, ct, ct_len, pt, &len), CKR_OK);
    assert_memory_equal(pt, MSG, sizeof(MSG));
    /* A damaged ciphertext. */
    ct[10] ^= 0x55;
    assert_int_equal(F->C_DecryptInit(s, m, priv), CKR_OK);
    len = sizeof(pt);
    assert_int_equal(F->C_Decrypt(s, ct, ct_len, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
    assert_int_equal(F->C_DecryptInit(s, m, priv), CKR_OK);
    assert_int_equal(F->C_Decrypt(s, ct, 10, pt, &len), CKR_ENCRYPTED_DATA_LEN_RANGE);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
}

static void test_rsa_decrypt(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    (void)state;
    p11t_gen_rsa(&g_t, s, "rsa-dec", 2048, 1, &pub, &priv);
    decrypt_check(s, pub, priv, &m, RSA_PKCS1_PADDING, NULL);
    assert_true(allowed(s, priv, CKM_RSA_PKCS));
    assert_false(allowed(s, priv, CKM_SHA256_RSA_PKCS) || allowed(s, priv, CKM_RSA_PKCS_OAEP));
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);

    make_key("rsa-oaep", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256),
             PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "rsa-oaep", &priv), 1);
    assert_int_equal(p11t_find(&g_t, s, CKO_PUBLIC_KEY, "rsa-oaep", &pub), 1);
    assert_true(allowed(s, priv, CKM_RSA_PKCS_OAEP));
    assert_false(allowed(s, priv, CKM_RSA_PKCS) || allowed(s, priv, CKM_SHA256_RSA_PKCS_PSS));
    m = (CK_MECHANISM){CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
    decrypt_check(s, pub, priv, &m, RSA_PKCS1_OAEP_PADDING, EVP_sha256());
    op.hashAlg = CKM_SHA_1;
    op.mgf = CKG_MGF1_SHA1;
    assert_int_equal(F->C_DecryptInit(s, &m, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    op.mgf = CKG_MGF1_SHA256;
    assert_int_equal(F->C_DecryptInit(s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

static void test_multipart_and_lengths(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = 0;
    EVP_PKEY *pk;
    (void)state;
    p11t_gen_ec(&g_t, s, "multi", P11T_P256, sizeof(P11T_P256), &pub, &priv);
    pk = p11t_pubkey(&g_t, s, pub);
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_OK);
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)MSG, 10), CKR_OK);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)MSG + 10, sizeof(MSG) - 10), CKR_OK);
    /* Length query and a short buffer leave the operation active. */
    assert_int_equal(F->C_SignFinal(s, NULL, &len), CKR_OK);
    assert_int_equal(len, 64);
    len = 10;
    assert_int_equal(F->C_SignFinal(s, sig, &len), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 64);
    assert_int_equal(F->C_SignFinal(s, sig, &len), CKR_OK);
    assert_true(p11t_verify(pk, EVP_sha256(), 0, MSG, sizeof(MSG), sig, len));
    assert_int_equal(F->C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
    /* Multi-part verification. */
    assert_int_equal(F->C_VerifyInit(s, &m, pub), CKR_OK);
    assert_int_equal(F->C_VerifyUpdate(s, (CK_BYTE_PTR)MSG, 5), CKR_OK);
    assert_int_equal(F->C_VerifyUpdate(s, (CK_BYTE_PTR)MSG + 5, sizeof(MSG) - 5), CKR_OK);
    assert_int_equal(F->C_VerifyFinal(s, sig, 63), CKR_SIGNATURE_LEN_RANGE);
    assert_int_equal(F->C_VerifyFinal(s, sig, len), CKR_OPERATION_NOT_INITIALIZED);
    /* C_Sign cannot finish a multi-part operation. */
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_OK);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)MSG, 5), CKR_OK);
    len = sizeof(sig);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)MSG, 5, sig, &len), CKR_OPERATION_ACTIVE);
    /* Raw CKM_ECDSA input is bounded. */
    {
        static uint8_t big[2000];
        CK_MECHANISM raw = {CKM_ECDSA, NULL, 0};
        CK_ULONG l2 = sizeof(sig);
        assert_int_equal(p11t_sign(&g_t, s, &raw, priv, big, sizeof(big), sig, &l2),
                         CKR_DATA_LEN_RANGE);
        assert_int_equal(F->C_SignInit(s, &raw, priv), CKR_OK);
        assert_int_equal(F->C_SignUpdate(s, big, sizeof(big)), CKR_DATA_LEN_RANGE);
        assert_int_equal(F->C_SignFinal(s, sig, &l2), CKR_OPERATION_NOT_INITIALIZED);
    }
    /* Wrong key class or type, unknown handles and mechanisms. */
    {
        CK_MECHANISM rsa = {CKM_SHA256_RSA_PKCS, NULL, 0}, bad = {CKM_MD5_RSA_PKCS, NULL, 0};
        assert_int_equal(F->C_SignInit(s, &m, pub), CKR_KEY_TYPE_INCONSISTENT);
        assert_int_equal(F->C_VerifyInit(s, &m, priv), CKR_KEY_TYPE_INCONSISTENT);
        assert_int_equal(F->C_SignInit(s, &rsa, priv), CKR_KEY_TYPE_INCONSISTENT);
        assert_int_equal(F->C_SignInit(s, &bad, priv), CKR_MECHANISM_INVALID);
        assert_int_equal(F->C_SignInit(s, &m, 424242), CKR_KEY_HANDLE_INVALID);
        assert_int_equal(F->C_SignInit(s, NULL, priv), CKR_ARGUMENTS_BAD);
        assert_int_equal(F->C_EncryptInit(s, &m, pub), CKR_MECHANISM_INVALID);
    }
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    /* A key destroyed behind an initialised operation. */
    EVP_PKEY_free(pk);
    F->C_CloseSession(s);
}

static void test_digest_random(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 0);
    CK_MECHANISM m = {CKM_SHA384, NULL, 0};
    uint8_t out[64], ref[64], r1[100], r2[100];
    unsigned int rl;
    CK_ULONG len = 0;
    (void)state;
    EVP_Digest(MSG, sizeof(MSG), ref, &rl, EVP_sha384(), NULL);
    assert_int_equal(F->C_DigestInit(s, &m), CKR_OK);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)MSG, sizeof(MSG), NULL, &len), CKR_OK);
    assert_int_equal(len, 48);
    len = 47;
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)MSG, sizeof(MSG), out, &len),
                     CKR_BUFFER_TOO_SMALL);
    len = sizeof(out);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)MSG, sizeof(MSG), out, &len), CKR_OK);
    assert_int_equal(len, 48);
    assert_memory_equal(out, ref, 48);
    m.mechanism = CKM_SHA_1;
    EVP_Digest(MSG, sizeof(MSG), ref, &rl, EVP_sha1(), NULL);
    assert_int_equal(F->C_DigestInit(s, &m), CKR_OK);
    assert_int_equal(F->C_DigestUpdate(s, (CK_BYTE_PTR)MSG, 3), CKR_OK);
    assert_int_equal(F->C_DigestUpdate(s, (CK_BYTE_PTR)MSG + 3, sizeof(MSG) - 3), CKR_OK);
    len = sizeof(out);
    assert_int_equal(F->C_DigestFinal(s, out, &len), CKR_OK);
    assert_int_equal(len, 20);
    assert_memory_equal(out, ref, 20);
    m.mechanism = CKM_MD5;
    assert_int_equal(F->C_DigestInit(s, &m), CKR_MECHANISM_INVALID);
    assert_int_equal(F->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_DigestKey(s, 1), CKR_KEY_INDIGESTIBLE);

    assert_int_equal(F->C_GenerateRandom(s, r1, sizeof(r1)), CKR_OK);
    assert_int_equal(F->C_GenerateRandom(s, r2, sizeof(r2)), CKR_OK);
    assert_memory_not_equal(r1, r2, sizeof(r1));
    assert_int_equal(F->C_GenerateRandom(s, NULL, 5), CKR_ARGUMENTS_BAD);
    assert_int_equal(F->C_GenerateRandom(s, NULL, 0), CKR_OK);
    F->C_CloseSession(s);
}

/* ---- threads and fork --------------------------------------------------------------------- */

#define N_THREADS 8
#define N_ROUNDS 10

struct thr {
    CK_OBJECT_HANDLE pub, priv;
    CK_SESSION_HANDLE shared;
    int ok;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    CK_SESSION_HANDLE s;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    t->ok = 0;
    if (F->C_OpenSession(g_t.slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return NULL;
    for (int i = 0; i < N_ROUNDS; i++) {
        uint8_t sig[64];
        CK_ULONG len = sizeof(sig);
        CK_SESSION_INFO info;
        if (F->C_SignInit(s, &m, t->priv) != CKR_OK ||
            F->C_Sign(s, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, &len) != CKR_OK ||
            F->C_VerifyInit(s, &m, t->pub) != CKR_OK ||
            F->C_Verify(s, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, len) != CKR_OK)
            return NULL;
        /* Other threads' sessions come and go meanwhile; the shared one is read. */
        if (F->C_GetSessionInfo(t->shared, &info) != CKR_OK)
            return NULL;
    }
    t->ok = F->C_CloseSession(s) == CKR_OK;
    return NULL;
}

static void test_threads(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    pthread_t th[N_THREADS];
    struct thr t[N_THREADS];
    CK_OBJECT_HANDLE pub, priv;
    (void)state;
    p11t_gen_ec(&g_t, s, "threads", P11T_P256, sizeof(P11T_P256), &pub, &priv);
    for (int i = 0; i < N_THREADS; i++) {
        t[i] = (struct thr){.pub = pub, .priv = priv, .shared = s};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_true(t[i].ok);
    }
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

/* Several threads on one session at once (which PKCS#11 leaves to the application), and the
 * session closed under them: every call answers a PKCS#11 code, nothing is used after free. */
struct shared {
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE priv;
    int bad; /* an unexpected return code */
};

static int rv_in(CK_RV rv, const CK_RV *ok, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rv == ok[i])
            return 1;
    return 0;
}

static void *shared_main(void *arg)
{
    struct shared *sh = arg;
    static const CK_RV ok[] = {CKR_OK, CKR_OPERATION_ACTIVE, CKR_OPERATION_NOT_INITIALIZED,
                               CKR_SESSION_HANDLE_INVALID};
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    for (int i = 0; i < N_ROUNDS; i++) {
        CK_OBJECT_HANDLE found[4];
        CK_ULONG n, len = 64;
        uint8_t sig[64], label[16];
        CK_ATTRIBUTE a = {CKA_LABEL, label, sizeof(label)};
        CK_RV r[] = {F->C_FindObjectsInit(sh->s, &t, 1),
                     F->C_FindObjects(sh->s, found, 4, &n),
                     F->C_FindObjectsFinal(sh->s),
                     F->C_GetAttributeValue(sh->s, sh->priv, &a, 1),
                     F->C_SignInit(sh->s, &m, sh->priv),
                     F->C_Sign(sh->s, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, &len)};
        for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++)
            if (!rv_in(r[k], ok, sizeof(ok) / sizeof(ok[0])))
                sh->bad = (int)r[k] + 1;
    }
    return NULL;
}

static void test_shared_session(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    pthread_t th[N_THREADS];
    struct shared sh = {.s = s};
    CK_OBJECT_HANDLE pub;
    (void)state;
    p11t_gen_ec(&g_t, s, "shared", P11T_P256, sizeof(P11T_P256), &pub, &sh.priv);
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            sh.s = p11t_session(&g_t, 0);
        for (int i = 0; i < N_THREADS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, shared_main, &sh), 0);
        /* Second round: the session goes away while the threads use it. */
        if (round == 1)
            assert_int_equal(F->C_CloseSession(sh.s), CKR_OK);
        for (int i = 0; i < N_THREADS; i++)
            pthread_join(th[i], NULL);
        assert_int_equal(sh.bad, 0);
    }
    assert_int_equal(F->C_DestroyObject(s, sh.priv), CKR_OK);
    F->C_CloseSession(s);
}

/* The service stopped and started again under an initialised module, and absent when the
 * module starts. */
static void test_service_outage(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig), n = 4;
    CK_SLOT_ID slots[4];
    char bad[400];
    (void)state;
    p11t_gen_ec(&g_t, s, "outage", P11T_P256, sizeof(P11T_P256), &pub, &priv);
    daemon_stop(&g_t.d, SIGTERM);
    assert_int_equal(p11t_sign(&g_t, s, &m, priv, MSG, sizeof(MSG), sig, &len), CKR_DEVICE_ERROR);
    assert_int_equal(F->C_GenerateRandom(s, sig, 8), CKR_DEVICE_ERROR);
    assert_int_equal(daemon_launch(&g_t.d, NULL), 0);
    len = sizeof(sig);
    assert_int_equal(p11t_sign(&g_t, s, &m, priv, MSG, sizeof(MSG), sig, &len), CKR_OK);
    F->C_CloseSession(s);

    /* No service at C_Initialize: no slot, not an error; the slots appear once it answers. */
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    snprintf(bad, sizeof(bad), "unix:%s.absent", g_t.d.sock);
    setenv("PARSEC_SERVICE_ENDPOINT", bad, 1);
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
    assert_int_equal(F->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    assert_int_equal(n, 0);
    setenv("PARSEC_SERVICE_ENDPOINT", g_t.endpoint, 1);
    n = 4;
    assert_int_equal(F->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    assert_int_equal(n, 1);
    s = p11t_session(&g_t, 1);
    assert_int_equal(p11t_find(&g_t, s, CKO_PRIVATE_KEY, "outage", &priv), 1);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

static void test_fork(void **state)
{
    CK_SESSION_HANDLE s = p11t_session(&g_t, 1);
    CK_OBJECT_HANDLE pub, priv;
    pid_t pid;
    int status;
    (void)state;
    p11t_gen_ec(&g_t, s, "forked", P11T_P256, sizeof(P11T_P256), &pub, &priv);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child must initialise the library again; then it works on its own. */
        CK_SLOT_ID slot;
        CK_ULONG n = 1;
        CK_SESSION_HANDLE cs;
        CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
        uint8_t sig[64];
        CK_ULONG len = sizeof(sig);
        CK_SESSION_INFO info;
        int code = 0;
        if (F->C_GetSessionInfo(s, &info) != CKR_CRYPTOKI_NOT_INITIALIZED)
            code = 10;
        else if (F->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_CRYPTOKI_NOT_INITIALIZED)
            code = 11;
        else if (F->C_Initialize(NULL) != CKR_OK)
            code = 12;
        else if (F->C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK || n != 1)
            code = 13;
        else if (F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &cs) != CKR_OK)
            code = 14;
        /* Handles are those of the child's own C_Initialize: the key is found again. */
        else if (p11t_find(&g_t, cs, CKO_PRIVATE_KEY, "forked", &priv) != 1)
            code = 17;
        else if (F->C_SignInit(cs, &m, priv) != CKR_OK ||
                 F->C_Sign(cs, (CK_BYTE_PTR)MSG, sizeof(MSG), sig, &len) != CKR_OK)
            code = 15;
        else if (F->C_Finalize(NULL) != CKR_OK)
            code = 16;
        _exit(code);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent's session is untouched. */
    {
        CK_SESSION_INFO info;
        assert_int_equal(F->C_GetSessionInfo(s, &info), CKR_OK);
    }
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OK);
    F->C_CloseSession(s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initialize_args), cmocka_unit_test(test_slot_token),
        cmocka_unit_test(test_mechanisms),      cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_session_limit),   cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_objects),         cmocka_unit_test(test_keygen_errors),
        cmocka_unit_test(test_ecdsa),           cmocka_unit_test(test_rsa_pkcs1),
        cmocka_unit_test(test_long_name),       cmocka_unit_test(test_rsa_pss),
        cmocka_unit_test(test_rsa_decrypt),     cmocka_unit_test(test_multipart_and_lengths),
        cmocka_unit_test(test_digest_random),   cmocka_unit_test(test_threads),
        cmocka_unit_test(test_shared_session),  cmocka_unit_test(test_fork),
        cmocka_unit_test(test_service_outage),
    };
    (void)argc;
    p11t_wrap_self(argv);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
