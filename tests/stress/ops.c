#define _GNU_SOURCE
#include "ops.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "list_keys.pb-c.h"
#include "psa/convert.h"
#include "psa_asymmetric_decrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_export_public_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_verify_hash.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"

/* Failed checks printed in full; the rest are only counted. */
#define ST_ERRORS_PRINTED 50

static _Atomic unsigned long n_errors;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

/* Largest reply body the tests accept: every reply they ask for is far smaller. */
#define ST_REPLY_MAX (1u << 20)
/* Client-side limit on one call: the service answers every request well within it (its own
 * timeout is far shorter), so reaching it means the service is stuck. */
#define ST_CALL_TIMEOUT_MS 60000

int st_connect(const char *sock, unsigned timeout_ms)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    int rc;
    while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        close(fd);
        return -1;
    }
    if (timeout_ms) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

int st_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int st_reply_status(const uint8_t hdr[36])
{
    struct psc_header h;
    if (psc_header_decode_full(hdr, &h) != 0)
        return -1;
    return h.status;
}

int st_is_generic(const uint8_t hdr[36], int status)
{
    struct psc_header h;
    return psc_header_decode_full(hdr, &h) == 0 && h.status == status && h.provider == 0 &&
           h.session == 0 && h.opcode == PSC_OP_PING && h.body_len == 0 && h.auth_len == 0;
}

int st_read_reply(int fd, uint8_t hdr[36], uint8_t **body, uint32_t *body_len)
{
    struct psc_header h;
    *body = NULL;
    *body_len = 0;
    if (read_all(fd, hdr, PSC_WIRE_HEADER_SIZE) != 0 || psc_header_decode_full(hdr, &h) != 0)
        return -1;
    if (h.body_len > ST_REPLY_MAX)
        return -1;
    if (h.body_len) {
        *body = malloc(h.body_len);
        if (!*body || read_all(fd, *body, h.body_len) != 0) {
            free(*body);
            *body = NULL;
            return -1;
        }
    }
    *body_len = h.body_len;
    return 0;
}

uint8_t *st_frame(uint8_t provider, uint32_t opcode, const ProtobufCMessage *op, const char *app,
                  size_t *len)
{
    struct psc_header h = {.version_maj = 1, .provider = provider, .opcode = opcode};
    size_t body = op ? protobuf_c_message_get_packed_size(op) : 0;
    size_t auth = app ? strlen(app) : 0;
    h.auth_type = app ? PSC_AUTH_DIRECT : PSC_AUTH_NONE;
    h.body_len = (uint32_t)body;
    h.auth_len = (uint16_t)auth;
    *len = PSC_WIRE_HEADER_SIZE + body + auth;
    uint8_t *b = malloc(*len);
    if (!b)
        return NULL;
    psc_header_encode(&h, b);
    if (op)
        protobuf_c_message_pack(op, b + PSC_WIRE_HEADER_SIZE);
    if (auth)
        memcpy(b + PSC_WIRE_HEADER_SIZE + body, app, auth);
    return b;
}

int st_call(const char *sock, uint8_t provider, uint32_t opcode, const char *app,
            const ProtobufCMessage *op, const ProtobufCMessageDescriptor *rdesc,
            ProtobufCMessage **result)
{
    if (result)
        *result = NULL;
    size_t len;
    uint8_t *req = st_frame(provider, opcode, op, app, &len);
    if (!req)
        return ST_IO;
    int fd = st_connect(sock, ST_CALL_TIMEOUT_MS);
    if (fd < 0) {
        free(req);
        return ST_NOCONN;
    }
    int rc = ST_IO;
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t body_len = 0;
    /* A failed write still leaves a reply to read (an early refusal). */
    (void)st_write_all(fd, req, len);
    if (st_read_reply(fd, hdr, &body, &body_len) != 0)
        goto out;
    struct psc_header h;
    psc_header_decode_full(hdr, &h);
    if (h.status != 0) {
        /* An error reply never has a body, and is generic or echoes the request. */
        if (body_len == 0)
            rc = h.status;
        goto out;
    }
    if (h.opcode != opcode || h.provider != provider)
        goto out;
    if (rdesc && result) {
        *result = protobuf_c_message_unpack(rdesc, NULL, body_len, body);
        if (!*result)
            goto out;
    }
    rc = 0;
out:
    close(fd);
    free(req);
    free(body);
    return rc;
}

int st_ping(const char *sock)
{
    static const uint8_t expect[] = {0x08, 0x01};
    size_t len;
    uint8_t *req = st_frame(0, PSC_OP_PING, NULL, NULL, &len);
    int fd = req ? st_connect(sock, ST_CALL_TIMEOUT_MS) : -1;
    int rc = fd < 0 ? ST_NOCONN : ST_IO;
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    uint8_t *body = NULL;
    uint32_t body_len;
    if (fd >= 0 && st_write_all(fd, req, len) == 0 &&
        st_read_reply(fd, hdr, &body, &body_len) == 0) {
        struct psc_header h;
        psc_header_decode_full(hdr, &h);
        if (h.status != 0)
            rc = h.status;
        else if (h.opcode == PSC_OP_PING && body_len == sizeof(expect) &&
                 memcmp(body, expect, sizeof(expect)) == 0)
            rc = 0;
    }
    if (fd >= 0)
        close(fd);
    free(body);
    free(req);
    return rc;
}

/* ---- key operations ---------------------------------------------------------------------- */

int st_generate(const char *sock, const char *app, const char *name, const struct psc_attrs *a)
{
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    if (conv_attrs_to_pb(a, &op.attributes) != 0)
        return ST_IO;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_GENERATE_KEY, app, &op.base, NULL, NULL);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
    return rc;
}

int st_import(const char *sock, const char *app, const char *name, const struct psc_attrs *a,
              const uint8_t *data, size_t len)
{
    PsaImportKey__Operation op = PSA_IMPORT_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    op.data.data = (uint8_t *)data;
    op.data.len = len;
    if (conv_attrs_to_pb(a, &op.attributes) != 0)
        return ST_IO;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_IMPORT_KEY, app, &op.base, NULL, NULL);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
    return rc;
}

int st_destroy(const char *sock, const char *app, const char *name)
{
    PsaDestroyKey__Operation op = PSA_DESTROY_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    return st_call(sock, ST_PROVIDER, PSC_OP_PSA_DESTROY_KEY, app, &op.base, NULL, NULL);
}

/* Copies a result's bytes to the caller's buffer. */
static int give(const ProtobufCBinaryData *d, uint8_t *out, size_t cap, size_t *len)
{
    if (d->len > cap)
        return ST_IO;
    if (d->len)
        memcpy(out, d->data, d->len);
    *len = d->len;
    return 0;
}

int st_sign(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
            const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    op.key_name = (char *)name;
    op.hash.data = (uint8_t *)hash;
    op.hash.len = hash_len;
    if (conv_sign_to_pb(alg, &op.alg) != 0)
        return ST_IO;
    ProtobufCMessage *res;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_SIGN_HASH, app, &op.base,
                     &psa_sign_hash__result__descriptor, &res);
    protobuf_c_message_free_unpacked(&op.alg->base, NULL);
    if (rc == 0) {
        rc = give(&((PsaSignHash__Result *)res)->signature, sig, cap, sig_len);
        protobuf_c_message_free_unpacked(res, NULL);
    }
    return rc;
}

int st_verify(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
              const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len)
{
    PsaVerifyHash__Operation op = PSA_VERIFY_HASH__OPERATION__INIT;
    op.key_name = (char *)name;
    op.hash.data = (uint8_t *)hash;
    op.hash.len = hash_len;
    op.signature.data = (uint8_t *)sig;
    op.signature.len = sig_len;
    if (conv_sign_to_pb(alg, &op.alg) != 0)
        return ST_IO;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_VERIFY_HASH, app, &op.base, NULL, NULL);
    protobuf_c_message_free_unpacked(&op.alg->base, NULL);
    return rc;
}

int st_export_public(const char *sock, const char *app, const char *name, uint8_t *out, size_t cap,
                     size_t *len)
{
    PsaExportPublicKey__Operation op = PSA_EXPORT_PUBLIC_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    ProtobufCMessage *res;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_EXPORT_PUBLIC_KEY, app, &op.base,
                     &psa_export_public_key__result__descriptor, &res);
    if (rc == 0) {
        rc = give(&((PsaExportPublicKey__Result *)res)->data, out, cap, len);
        protobuf_c_message_free_unpacked(res, NULL);
    }
    return rc;
}

int st_encrypt(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
               const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    PsaAsymmetricEncrypt__Operation op = PSA_ASYMMETRIC_ENCRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.plaintext.data = (uint8_t *)in;
    op.plaintext.len = in_len;
    if (conv_asym_enc_to_pb(alg, &op.alg) != 0)
        return ST_IO;
    ProtobufCMessage *res;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, app, &op.base,
                     &psa_asymmetric_encrypt__result__descriptor, &res);
    protobuf_c_message_free_unpacked(&op.alg->base, NULL);
    if (rc == 0) {
        rc = give(&((PsaAsymmetricEncrypt__Result *)res)->ciphertext, out, cap, out_len);
        protobuf_c_message_free_unpacked(res, NULL);
    }
    return rc;
}

int st_decrypt(const char *sock, const char *app, const char *name, psa_algorithm_t alg,
               const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    PsaAsymmetricDecrypt__Operation op = PSA_ASYMMETRIC_DECRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.ciphertext.data = (uint8_t *)in;
    op.ciphertext.len = in_len;
    if (conv_asym_enc_to_pb(alg, &op.alg) != 0)
        return ST_IO;
    ProtobufCMessage *res;
    int rc = st_call(sock, ST_PROVIDER, PSC_OP_PSA_ASYMMETRIC_DECRYPT, app, &op.base,
                     &psa_asymmetric_decrypt__result__descriptor, &res);
    protobuf_c_message_free_unpacked(&op.alg->base, NULL);
    if (rc == 0) {
        rc = give(&((PsaAsymmetricDecrypt__Result *)res)->plaintext, out, cap, out_len);
        protobuf_c_message_free_unpacked(res, NULL);
    }
    return rc;
}

int st_list_keys(const char *sock, const char *app, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    ListKeys__Operation op = LIST_KEYS__OPERATION__INIT;
    ProtobufCMessage *res;
    int rc =
        st_call(sock, 0, PSC_OP_LIST_KEYS, app, &op.base, &list_keys__result__descriptor, &res);
    if (rc != 0)
        return rc;
    ListKeys__Result *r = (ListKeys__Result *)res;
    char **v = calloc(r->n_keys ? r->n_keys : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; v && i < r->n_keys; i++)
        if (r->keys[i]->provider_id == ST_PROVIDER)
            v[k++] = strdup(r->keys[i]->name);
    protobuf_c_message_free_unpacked(res, NULL);
    if (!v)
        return ST_IO;
    *names = v;
    *n = k;
    return 0;
}

void st_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

struct psc_attrs st_attrs_ecdsa_p256(void)
{
    return (struct psc_attrs){.type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                              .bits = 256,
                              .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
                              .alg = ST_ALG_ECDSA};
}

struct psc_attrs st_attrs_rsa_sign(size_t bits)
{
    return (struct psc_attrs){.type = PSA_KEY_TYPE_RSA_KEY_PAIR,
                              .bits = bits,
                              .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
                              .alg = ST_ALG_RSA_SIGN};
}

struct psc_attrs st_attrs_rsa_crypt(size_t bits)
{
    return (struct psc_attrs){.type = PSA_KEY_TYPE_RSA_KEY_PAIR,
                              .bits = bits,
                              .usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
                              .alg = ST_ALG_RSA_CRYPT};
}

struct psc_attrs st_attrs_rsa_public_verify(size_t bits)
{
    return (struct psc_attrs){.type = PSA_KEY_TYPE_RSA_PUBLIC_KEY,
                              .bits = bits,
                              .usage = PSA_KEY_USAGE_VERIFY_HASH,
                              .alg = ST_ALG_RSA_SIGN};
}

/* ---- OpenSSL ------------------------------------------------------------------------------ */

static EVP_PKEY *ossl_public(psa_key_type_t type, const uint8_t *pub, size_t len)
{
    if (type == PSA_KEY_TYPE_RSA_KEY_PAIR || type == PSA_KEY_TYPE_RSA_PUBLIC_KEY) {
        const unsigned char *p = pub;
        return d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    if (!c || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(c);
    return pk;
}

int st_ossl_verify(psa_key_type_t type, const uint8_t *pub, size_t pub_len, const uint8_t *hash,
                   size_t hash_len, const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY *pk = ossl_public(type, pub, pub_len);
    if (!pk)
        return -1;
    int is_rsa = EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
    uint8_t der[128];
    const uint8_t *s = sig;
    size_t sl = sig_len;
    int ok = 0;
    if (!is_rsa) {
        /* PSA's r || s becomes the DER SEQUENCE OpenSSL reads. */
        if (sig_len != 64)
            goto out;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
        if (!es || !r || !ss || ECDSA_SIG_set0(es, r, ss) != 1) {
            BN_free(r);
            BN_free(ss);
            ECDSA_SIG_free(es);
            goto out;
        }
        unsigned char *d = der;
        int n = i2d_ECDSA_SIG(es, &d);
        ECDSA_SIG_free(es);
        if (n <= 0)
            goto out;
        s = der;
        sl = (size_t)n;
    }
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    if (c && EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
        (!is_rsa || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1))
        ok = EVP_PKEY_verify(c, s, sl, hash, hash_len) == 1;
    EVP_PKEY_CTX_free(c);
out:
    EVP_PKEY_free(pk);
    return ok;
}

int st_ossl_rsa_encrypt(const uint8_t *pub, size_t pub_len, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t cap, size_t *out_len)
{
    EVP_PKEY *pk = ossl_public(PSA_KEY_TYPE_RSA_PUBLIC_KEY, pub, pub_len);
    if (!pk)
        return -1;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    int rc = -1;
    *out_len = cap;
    if (c && EVP_PKEY_encrypt_init(c) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_encrypt(c, out, out_len, in, in_len) == 1)
        rc = 0;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rc;
}

int st_ossl_rsa_public(unsigned bits, uint8_t **der, size_t *len)
{
    EVP_PKEY *pk = EVP_RSA_gen(bits);
    *der = NULL;
    if (!pk)
        return -1;
    unsigned char *p = NULL;
    int n = i2d_PublicKey(pk, &p);
    EVP_PKEY_free(pk);
    if (n <= 0)
        return -1;
    *der = malloc((size_t)n);
    if (*der)
        memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return *der ? 0 : -1;
}

int st_ossl_rsa_private(unsigned bits, uint8_t **der, size_t *len)
{
    EVP_PKEY *pk = EVP_RSA_gen(bits);
    *der = NULL;
    if (!pk)
        return -1;
    unsigned char *p = NULL;
    int n = i2d_PrivateKey(pk, &p);
    EVP_PKEY_free(pk);
    if (n <= 0)
        return -1;
    *der = malloc((size_t)n);
    if (*der)
        memcpy(*der, p, (size_t)n);
    OPENSSL_clear_free(p, (size_t)n);
    *len = (size_t)n;
    return *der ? 0 : -1;
}

void st_random(void *p, size_t len)
{
    if (RAND_bytes(p, (int)len) != 1)
        abort();
}

void st_sha256(const void *p, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1)
        abort();
}

/* ---- /proc ------------------------------------------------------------------------------- */

int st_fd_count(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int st_fd_settle(int pid, int want, unsigned max_wait_ms)
{
    int n = st_fd_count(pid);
    for (unsigned waited = 0; n != want && waited < max_wait_ms; waited += 10) {
        usleep(10000);
        n = st_fd_count(pid);
    }
    return n;
}

int st_fd_stable(int pid)
{
    int n = st_fd_count(pid), same = 0;
    for (int i = 0; i < 200 && same < 5; i++) {
        usleep(10000);
        int m = st_fd_count(pid);
        same = m == n ? same + 1 : 0;
        n = m;
    }
    return n;
}

long st_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

unsigned long st_env_ulong(const char *name, unsigned long def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return *end ? def : n;
}

void st_error(const char *fmt, ...)
{
    unsigned long n = atomic_fetch_add(&n_errors, 1);
    if (n >= ST_ERRORS_PRINTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "ERROR: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    pthread_mutex_unlock(&print_lock);
    va_end(ap);
}

unsigned long st_errors(void)
{
    return atomic_load(&n_errors);
}
