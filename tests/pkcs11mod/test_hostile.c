/* The module against a scripted service that sends what the real one never does: malformed
 * public keys, keys of types the module does not show. Every answer is a PKCS#11 error, never a
 * crash or a value read out of bounds. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "list_authenticators.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_providers.pb-c.h"
#include "p11t.h"
#include "parsec/client.h"
#include "peer.h"
#include "psa/convert.h"
#include "psa_export_public_key.pb-c.h"

static void reply_providers(struct peer *p)
{
    ListProviders__ProviderInfo info[2], *ptrs[2] = {&info[0], &info[1]};
    ListProviders__Result r = LIST_PROVIDERS__RESULT__INIT;
    for (int i = 0; i < 2; i++) {
        list_providers__provider_info__init(&info[i]);
        info[i].id = i == 0 ? PARSEC_PROVIDER_MBED_CRYPTO : PARSEC_PROVIDER_CORE;
        info[i].uuid = (char *)(i == 0 ? "1c1139dc-ad7c-47dc-ad6b-db6fdb466552"
                                       : "47049873-2a43-4845-9d72-831eab668784");
        info[i].description = (char *)"d";
        info[i].vendor = (char *)"";
    }
    r.n_providers = 2;
    r.providers = ptrs;
    peer_reply(p, PARSEC_OP_LIST_PROVIDERS, 0, &r.base);
}

static void reply_auths(struct peer *p)
{
    ListAuthenticators__AuthenticatorInfo info, *ptr = &info;
    ListAuthenticators__Result r = LIST_AUTHENTICATORS__RESULT__INIT;
    list_authenticators__authenticator_info__init(&info);
    info.id = PARSEC_AUTH_UNIX_PEER_CREDENTIALS;
    info.description = (char *)"a";
    r.n_authenticators = 1;
    r.authenticators = &ptr;
    peer_reply(p, PARSEC_OP_LIST_AUTHENTICATORS, 0, &r.base);
}

static void reply_keys(struct peer *p)
{
    static const struct {
        const char *name;
        struct psc_attrs a;
    } keys[] = {
        {"rsa",
         {PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, PSA_KEY_USAGE_SIGN_HASH,
          PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)}},
        {"ec",
         {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, PSA_KEY_USAGE_SIGN_HASH,
          PSA_ALG_ECDSA(PSA_ALG_SHA_256)}},
        {"aes", {PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_GCM}},
        {"ec-odd",
         {PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 192, PSA_KEY_USAGE_SIGN_HASH,
          PSA_ALG_ECDSA(PSA_ALG_SHA_256)}},
    };
    ListKeys__KeyInfo info[4], *ptrs[4];
    ListKeys__Result r = LIST_KEYS__RESULT__INIT;
    for (size_t i = 0; i < 4; i++) {
        list_keys__key_info__init(&info[i]);
        info[i].provider_id = PARSEC_PROVIDER_MBED_CRYPTO;
        info[i].name = (char *)keys[i].name;
        assert_int_equal(conv_attrs_to_pb(&keys[i].a, &info[i].attributes), 0);
        ptrs[i] = &info[i];
    }
    r.n_keys = 4;
    r.keys = ptrs;
    peer_reply(p, PARSEC_OP_LIST_KEYS, 0, &r.base);
    for (size_t i = 0; i < 4; i++)
        protobuf_c_message_free_unpacked(&info[i].attributes->base, NULL);
}

static void reply_public(struct peer *p, const uint8_t *data, size_t len)
{
    PsaExportPublicKey__Result r = PSA_EXPORT_PUBLIC_KEY__RESULT__INIT;
    r.data.data = (uint8_t *)data;
    r.data.len = len;
    peer_reply(p, PARSEC_OP_PSA_EXPORT_PUBLIC_KEY, 0, &r.base);
}

static void test_malformed_replies(void **state)
{
    /* An RSAPublicKey whose modulus claims more bytes than there are. */
    static const uint8_t bad_rsa[] = {0x30, 0x08, 0x02, 0x82, 0x01, 0x01, 0x00, 0x01, 0x02, 0x03};
    uint8_t bad_point[65];
    struct peer p;
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE found[8], rsa_pub = 0, ec_pub = 0;
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    uint8_t buf[600];
    void *dl;
    (void)state;
    memset(bad_point, 0x07, sizeof(bad_point)); /* not an uncompressed point */
    peer_init(&p);
    reply_providers(&p);
    reply_auths(&p);
    reply_keys(&p);
    reply_public(&p, bad_rsa, sizeof(bad_rsa));
    reply_public(&p, bad_point, sizeof(bad_point));
    peer_run(&p);

    setenv("PARSEC_SERVICE_ENDPOINT", p.endpoint, 1);
    dl = dlopen(P11_MODULE, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    *(void **)&get = dlsym(dl, "C_GetFunctionList");
    assert_int_equal(get(&f), CKR_OK);
    assert_int_equal(f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    /* The AES key and the key on a curve the module does not know are not shown. */
    assert_int_equal(f->C_FindObjectsInit(s, &t, 1), CKR_OK);
    assert_int_equal(f->C_FindObjects(s, found, 8, &n), CKR_OK);
    assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
    assert_int_equal(n, 2);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_KEY_TYPE kt;
        CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
        assert_int_equal(f->C_GetAttributeValue(s, found[i], &a, 1), CKR_OK);
        *(kt == CKK_RSA ? &rsa_pub : &ec_pub) = found[i];
    }
    assert_true(rsa_pub != 0 && ec_pub != 0);
    {
        CK_ATTRIBUTE a = {CKA_MODULUS, buf, sizeof(buf)};
        assert_int_equal(f->C_GetAttributeValue(s, rsa_pub, &a, 1), CKR_DEVICE_ERROR);
        assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    }
    {
        CK_ATTRIBUTE a = {CKA_EC_POINT, buf, sizeof(buf)};
        assert_int_equal(f->C_GetAttributeValue(s, ec_pub, &a, 1), CKR_DEVICE_ERROR);
        assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    }
    assert_int_equal(f->C_Finalize(NULL), CKR_OK);
    dlclose(dl);
    peer_stop(&p);
    assert_int_equal(p.nreq, 5);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_replies),
    };
    (void)argc;
    p11t_wrap_self(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
