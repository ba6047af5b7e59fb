#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

void tu_endpoint(const char *sock, char *buf, size_t size)
{
    snprintf(buf, size, "unix:%s", sock);
}

int tu_client_cfg(const char *sock, const char *app_name, unsigned flags, int provider,
                  int auth_type, struct parsec_client **out)
{
    char ep[400];
    tu_endpoint(sock, ep, sizeof(ep));
    struct parsec_client_config cfg = {.endpoint = ep,
                                       .app_name = app_name,
                                       .flags = flags,
                                       .provider = provider,
                                       .auth_type = auth_type};
    return parsec_client_new(out, &cfg);
}

struct parsec_client *tu_client(const struct daemon *d, const char *app_name)
{
    struct parsec_client *c = NULL;
    int rc = tu_client_cfg(d->sock, app_name, 0, 0, 0, &c);
    if (rc != 0)
        fail_msg("parsec_client_new: %s", parsec_strerror(rc));
    return c;
}

EVP_PKEY *tu_p256_pub(const uint8_t *point, size_t len)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, len);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    return pkey;
}

EVP_PKEY *tu_rsa_pub(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    return d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
}

static int verify_der(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                      size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

int tu_ecdsa_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                    size_t sig_len)
{
    if (sig_len != 64)
        return 0;
    ECDSA_SIG *s = ECDSA_SIG_new();
    ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(s, &der);
    int ok = der_len > 0 && verify_der(pub, msg, msg_len, der, (size_t)der_len);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    return ok;
}

int tu_rsa_pkcs1_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len)
{
    return verify_der(pub, msg, msg_len, sig, sig_len);
}

void tu_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}
