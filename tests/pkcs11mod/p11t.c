#include "p11t.h"

#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

const uint8_t P11T_P256[10] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const uint8_t P11T_P384[7] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
const uint8_t P11T_P521[7] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};

void p11t_wrap_self(char **argv)
{
    const char *w = getenv("PARSEC_E2E_WRAPPER");
    if (w == NULL || *w == '\0' || getenv("P11T_WRAPPED") != NULL)
        return;
    setenv("P11T_WRAPPED", "1", 1);
    execl("/bin/sh", "sh", "-c", "exec $PARSEC_E2E_WRAPPER \"$0\"", argv[0], (char *)NULL);
    fail_msg("exec: %s", strerror(errno));
}

void p11t_start(struct p11t *t)
{
    p11t_start_config(t, E2E_CONFIG_UNIX);
}

void p11t_start_config(struct p11t *t, const char *config)
{
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    memset(t, 0, sizeof(*t));
    /* The module first: a failure here leaves no daemon behind. */
    t->dl = dlopen(P11_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (t->dl == NULL)
        fail_msg("dlopen: %s", dlerror());
    *(void **)&get = dlsym(t->dl, "C_GetFunctionList");
    assert_non_null(get);
    assert_int_equal(get(&t->f), CKR_OK);
    daemon_start(&t->d, config);
    snprintf(t->endpoint, sizeof(t->endpoint), "unix:%s", t->d.sock);
    setenv("PARSEC_SERVICE_ENDPOINT", t->endpoint, 1);
}

void p11t_init(struct p11t *t)
{
    CK_SLOT_ID slots[4];
    CK_ULONG n = 4;
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    assert_int_equal(t->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    assert_int_equal(n, 1);
    t->slot = slots[0];
}

void p11t_stop(struct p11t *t)
{
    if (t->f != NULL)
        t->f->C_Finalize(NULL);
    if (t->dl != NULL)
        dlclose(t->dl);
    daemon_stop(&t->d, SIGTERM);
    daemon_cleanup(&t->d);
}

CK_SESSION_HANDLE p11t_session(struct p11t *t, int rw)
{
    CK_SESSION_HANDLE s;
    CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    assert_int_equal(t->f->C_OpenSession(t->slot, fl, NULL, NULL, &s), CKR_OK);
    return s;
}

void p11t_gen_ec(struct p11t *t, CK_SESSION_HANDLE s, const char *label, const uint8_t *oid,
                 size_t oid_len, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)oid, oid_len},
                         {CKA_LABEL, (void *)label, strlen(label)}};
    CK_ATTRIBUTE vt[] = {{CKA_SIGN, &yes, sizeof(yes)}};
    assert_int_equal(t->f->C_GenerateKeyPair(s, &m, pt, 2, vt, 1, pub, priv), CKR_OK);
}

void p11t_gen_rsa(struct p11t *t, CK_SESSION_HANDLE s, const char *label, CK_ULONG bits,
                  int decrypt, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    uint8_t e[] = {1, 0, 1};
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                         {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
    CK_ATTRIBUTE vt[] = {{CKA_LABEL, (void *)label, strlen(label)},
                         {CKA_SIGN, decrypt ? &no : &yes, sizeof(yes)},
                         {CKA_DECRYPT, decrypt ? &yes : &no, sizeof(yes)}};
    assert_int_equal(t->f->C_GenerateKeyPair(s, &m, pt, 2, vt, 3, pub, priv), CKR_OK);
}

size_t p11t_find(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
                 CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, label ? strlen(label) : 0}};
    CK_OBJECT_HANDLE found[16];
    CK_ULONG n = 0;
    assert_int_equal(t->f->C_FindObjectsInit(s, tmpl, label ? 2 : 1), CKR_OK);
    assert_int_equal(t->f->C_FindObjects(s, found, 16, &n), CKR_OK);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    if (n > 0 && h != NULL)
        *h = found[0];
    return n;
}

uint8_t *p11t_attr(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
                   size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    uint8_t *v;
    assert_int_equal(t->f->C_GetAttributeValue(s, o, &a, 1), CKR_OK);
    v = malloc(a.ulValueLen + 1);
    assert_non_null(v);
    a.pValue = v;
    assert_int_equal(t->f->C_GetAttributeValue(s, o, &a, 1), CKR_OK);
    *len = a.ulValueLen;
    return v;
}

EVP_PKEY *p11t_pubkey(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    CK_KEY_TYPE kt;
    size_t len;
    uint8_t *v = p11t_attr(t, s, pub, CKA_KEY_TYPE, &len);
    memcpy(&kt, v, sizeof(kt));
    free(v);
    if (kt == CKK_EC) {
        size_t plen, pt_len;
        uint8_t *par = p11t_attr(t, s, pub, CKA_EC_PARAMS, &plen);
        uint8_t *pt = p11t_attr(t, s, pub, CKA_EC_POINT, &pt_len);
        const char *group = memcmp(par, P11T_P256, sizeof(P11T_P256)) == 0   ? "prime256v1"
                            : memcmp(par, P11T_P384, sizeof(P11T_P384)) == 0 ? "secp384r1"
                                                                             : "secp521r1";
        size_t h = pt[1] == 0x81 ? 3 : 2; /* DER OCTET STRING header */
        assert_int_equal(pt[0], 0x04);
        OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt + h, pt_len - h);
        params = OSSL_PARAM_BLD_to_param(b);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        free(par);
        free(pt);
    } else {
        size_t nl, el;
        uint8_t *n = p11t_attr(t, s, pub, CKA_MODULUS, &nl);
        uint8_t *e = p11t_attr(t, s, pub, CKA_PUBLIC_EXPONENT, &el);
        BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn);
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be);
        params = OSSL_PARAM_BLD_to_param(b);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        BN_free(bn);
        BN_free(be);
        free(n);
        free(e);
    }
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    assert_non_null(pkey);
    return pkey;
}

CK_RV p11t_sign(struct p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                const uint8_t *in, size_t in_len, uint8_t *sig, CK_ULONG *sig_len)
{
    CK_RV rv = t->f->C_SignInit(s, m, key);
    if (rv != CKR_OK)
        return rv;
    return t->f->C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, sig_len);
}

int p11t_verify(EVP_PKEY *pub, const EVP_MD *md, int pad, const uint8_t *msg, size_t msg_len,
                const uint8_t *sig, size_t sig_len)
{
    uint8_t hash[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    unsigned char *der = NULL;
    int der_len = 0, ok = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
    if (md != NULL) {
        EVP_Digest(msg, msg_len, hash, &hlen, md, NULL);
        msg = hash;
        msg_len = hlen;
    }
    if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
        size_t half = sig_len / 2;
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL), BN_bin2bn(sig + half, (int)half, NULL));
        der_len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        sig = der;
        sig_len = (size_t)der_len;
    }
    if (EVP_PKEY_verify_init(ctx) != 1)
        goto out;
    if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
        if (EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1)
            goto out;
        if (md != NULL && EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
            goto out;
        if (pad == RSA_PKCS1_PSS_PADDING &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            goto out;
    }
    ok = EVP_PKEY_verify(ctx, sig, sig_len, msg, msg_len) == 1;
out:
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}
