/* Request builders and OpenSSL checks shared by the end-to-end tests of the crypto operations
 * and of the key stores.
 *
 * Requests are built from the protobuf-c generated types directly, a path independent of the
 * service's own conversion code and of the client library; results are checked with OpenSSL's
 * libcrypto, an implementation independent of the Mbed TLS the service runs on. Everything here
 * is static inline so that each test takes only what it uses.
 *
 * Memory: every message, result and OpenSSL object made here lives in one arena that the test
 * releases with e2e_arena_free() (cmocka teardown), so a test body never frees by hand. */
#ifndef PARSEC_E2E_PSA_H
#define PARSEC_E2E_PSA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "can_do_crypto.pb-c.h"
#include "delete_client.pb-c.h"
#include "harness.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "psa_aead_decrypt.pb-c.h"
#include "psa_aead_encrypt.pb-c.h"
#include "psa_asymmetric_decrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_cipher_decrypt.pb-c.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_export_key.pb-c.h"
#include "psa_export_public_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compare.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "psa_raw_key_agreement.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_sign_message.pb-c.h"
#include "psa_verify_hash.pb-c.h"
#include "psa_verify_message.pb-c.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* ---- arena ------------------------------------------------------------------------------ */

struct e2e_arena_item {
    void *p;
    void (*release)(void *);
};
static struct e2e_arena_item *e2e_arena_items;
static size_t e2e_arena_n, e2e_arena_cap;

static inline void *e2e_keep(void *p, void (*release)(void *))
{
    assert_non_null(p);
    if (e2e_arena_n == e2e_arena_cap) {
        size_t cap = e2e_arena_cap ? 2 * e2e_arena_cap : 256;
        struct e2e_arena_item *g = realloc(e2e_arena_items, cap * sizeof(*g));
        assert_non_null(g);
        e2e_arena_items = g;
        e2e_arena_cap = cap;
    }
    e2e_arena_items[e2e_arena_n].p = p;
    e2e_arena_items[e2e_arena_n].release = release;
    e2e_arena_n++;
    return p;
}

static inline void *e2e_alloc(size_t n)
{
    return e2e_keep(calloc(1, n ? n : 1), free);
}

/* Releases everything, newest first; usable as a cmocka setup or teardown. */
static inline int e2e_arena_free(void **state)
{
    (void)state;
    while (e2e_arena_n > 0) {
        struct e2e_arena_item *it = &e2e_arena_items[--e2e_arena_n];
        it->release(it->p);
    }
    free(e2e_arena_items);
    e2e_arena_items = NULL;
    e2e_arena_cap = 0;
    return 0;
}

/* A byte string; p may be NULL when n is 0. */
struct buf {
    uint8_t *p;
    size_t n;
};

static inline struct buf buf_copy(const void *p, size_t n)
{
    struct buf b = {e2e_alloc(n), n};
    if (n)
        memcpy(b.p, p, n);
    return b;
}

static inline struct buf buf_str(const char *s)
{
    return buf_copy(s, strlen(s));
}

static inline struct buf buf_none(void)
{
    struct buf b = {NULL, 0};
    return b;
}

static inline int buf_eq(struct buf a, struct buf b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline ProtobufCBinaryData pb_bytes(struct buf b)
{
    ProtobufCBinaryData d = {b.n, b.p};
    return d;
}

/* ---- algorithms ------------------------------------------------------------------------- */

typedef PsaAlgorithm__Algorithm Alg;
typedef PsaAlgorithm__Algorithm__AsymmetricSignature SigAlg;
typedef PsaAlgorithm__Algorithm__AsymmetricEncryption EncAlg;
typedef PsaAlgorithm__Algorithm__Aead AeadAlg;
typedef PsaKeyAttributes__KeyAttributes Attrs;
typedef PsaKeyAttributes__KeyType KeyType;

#define HASH(x) PSA_ALGORITHM__ALGORITHM__HASH__##x
#define CIPHER(x) PSA_ALGORITHM__ALGORITHM__CIPHER__##x
#define AEAD(x) PSA_ALGORITHM__ALGORITHM__AEAD__AEAD_WITH_DEFAULT_LENGTH_TAG__##x
#define ECC(x) PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_FAMILY__##x
#define KA_ECDH PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__ECDH
/* A signature policy that permits any hash of its scheme (SignHash.any). */
#define HASH_ANY 1000

enum sig_scheme { SIG_PKCS1, SIG_PKCS1_RAW, SIG_PSS, SIG_ECDSA, SIG_ECDSA_ANY, SIG_DET_ECDSA };

/* A new message of a generated type, initialised by its descriptor. */
#define E2E_NEW(type, desc) ((type *)e2e_init_msg(sizeof(type), &(desc)))
static inline void *e2e_init_msg(size_t size, const ProtobufCMessageDescriptor *desc)
{
    assert_int_equal(desc->sizeof_message, size);
    void *m = e2e_alloc(size);
    protobuf_c_message_init(desc, m);
    return m;
}

static inline SigAlg *sig_alg(enum sig_scheme scheme, int hash)
{
    SigAlg *s = E2E_NEW(SigAlg, psa_algorithm__algorithm__asymmetric_signature__descriptor);
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash *h = NULL;
    if (scheme != SIG_PKCS1_RAW && scheme != SIG_ECDSA_ANY) {
        h = E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash,
                    psa_algorithm__algorithm__asymmetric_signature__sign_hash__descriptor);
        if (hash == HASH_ANY) {
            h->variant_case =
                PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_ANY;
            h->any =
                E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash__Any,
                        psa_algorithm__algorithm__asymmetric_signature__sign_hash__any__descriptor);
        } else {
            h->variant_case =
                PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
            h->specific = (PsaAlgorithm__Algorithm__Hash)hash;
        }
    }
    switch (scheme) {
    case SIG_PKCS1:
        s->variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN;
        s->rsa_pkcs1v15_sign =
            E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__RsaPkcs1v15Sign,
                    psa_algorithm__algorithm__asymmetric_signature__rsa_pkcs1v15_sign__descriptor);
        s->rsa_pkcs1v15_sign->hash_alg = h;
        break;
    case SIG_PKCS1_RAW:
        s->variant_case =
            PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PKCS1V15_SIGN_RAW;
        s->rsa_pkcs1v15_sign_raw = E2E_NEW(
            PsaAlgorithm__Algorithm__AsymmetricSignature__RsaPkcs1v15SignRaw,
            psa_algorithm__algorithm__asymmetric_signature__rsa_pkcs1v15_sign_raw__descriptor);
        break;
    case SIG_PSS:
        s->variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_RSA_PSS;
        s->rsa_pss = E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__RsaPss,
                             psa_algorithm__algorithm__asymmetric_signature__rsa_pss__descriptor);
        s->rsa_pss->hash_alg = h;
        break;
    case SIG_ECDSA:
        s->variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
        s->ecdsa = E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa,
                           psa_algorithm__algorithm__asymmetric_signature__ecdsa__descriptor);
        s->ecdsa->hash_alg = h;
        break;
    case SIG_ECDSA_ANY:
        s->variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA_ANY;
        s->ecdsa_any =
            E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricSignature__EcdsaAny,
                    psa_algorithm__algorithm__asymmetric_signature__ecdsa_any__descriptor);
        break;
    case SIG_DET_ECDSA:
        s->variant_case =
            PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_DETERMINISTIC_ECDSA;
        s->deterministic_ecdsa = E2E_NEW(
            PsaAlgorithm__Algorithm__AsymmetricSignature__DeterministicEcdsa,
            psa_algorithm__algorithm__asymmetric_signature__deterministic_ecdsa__descriptor);
        s->deterministic_ecdsa->hash_alg = h;
        break;
    }
    return s;
}

/* RSA PKCS#1 v1.5 encryption when oaep_hash is 0, RSA OAEP with that hash otherwise. */
static inline EncAlg *enc_alg(int oaep_hash)
{
    EncAlg *e = E2E_NEW(EncAlg, psa_algorithm__algorithm__asymmetric_encryption__descriptor);
    if (oaep_hash == 0) {
        e->variant_case =
            PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_PKCS1V15_CRYPT;
        e->rsa_pkcs1v15_crypt = E2E_NEW(
            PsaAlgorithm__Algorithm__AsymmetricEncryption__RsaPkcs1v15Crypt,
            psa_algorithm__algorithm__asymmetric_encryption__rsa_pkcs1v15_crypt__descriptor);
    } else {
        e->variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_OAEP;
        e->rsa_oaep =
            E2E_NEW(PsaAlgorithm__Algorithm__AsymmetricEncryption__RsaOaep,
                    psa_algorithm__algorithm__asymmetric_encryption__rsa_oaep__descriptor);
        e->rsa_oaep->hash_alg = (PsaAlgorithm__Algorithm__Hash)oaep_hash;
    }
    return e;
}

/* An AEAD with its default tag (tag_len 0) or a shortened tag. */
static inline AeadAlg *aead_alg(int aead, uint32_t tag_len)
{
    AeadAlg *a = E2E_NEW(AeadAlg, psa_algorithm__algorithm__aead__descriptor);
    if (tag_len == 0) {
        a->variant_case = PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_DEFAULT_LENGTH_TAG;
        a->aead_with_default_length_tag =
            (PsaAlgorithm__Algorithm__Aead__AeadWithDefaultLengthTag)aead;
    } else {
        a->variant_case = PSA_ALGORITHM__ALGORITHM__AEAD__VARIANT_AEAD_WITH_SHORTENED_TAG;
        a->aead_with_shortened_tag =
            E2E_NEW(PsaAlgorithm__Algorithm__Aead__AeadWithShortenedTag,
                    psa_algorithm__algorithm__aead__aead_with_shortened_tag__descriptor);
        a->aead_with_shortened_tag->aead_alg =
            (PsaAlgorithm__Algorithm__Aead__AeadWithDefaultLengthTag)aead;
        a->aead_with_shortened_tag->tag_length = tag_len;
    }
    return a;
}

static inline Alg *alg_new(PsaAlgorithm__Algorithm__VariantCase v)
{
    Alg *a = E2E_NEW(Alg, psa_algorithm__algorithm__descriptor);
    a->variant_case = v;
    return a;
}

static inline Alg *alg_none(void)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_NONE);
    a->none = E2E_NEW(PsaAlgorithm__Algorithm__None, psa_algorithm__algorithm__none__descriptor);
    return a;
}

static inline Alg *alg_sig(enum sig_scheme scheme, int hash)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE);
    a->asymmetric_signature = sig_alg(scheme, hash);
    return a;
}

static inline Alg *alg_enc(int oaep_hash)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_ENCRYPTION);
    a->asymmetric_encryption = enc_alg(oaep_hash);
    return a;
}

static inline Alg *alg_aead(int aead, uint32_t tag_len)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_AEAD);
    a->aead = aead_alg(aead, tag_len);
    return a;
}

static inline Alg *alg_cipher(int cipher)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_CIPHER);
    a->cipher = (PsaAlgorithm__Algorithm__Cipher)cipher;
    return a;
}

static inline Alg *alg_ka_raw(int ka)
{
    Alg *a = alg_new(PSA_ALGORITHM__ALGORITHM__VARIANT_KEY_AGREEMENT);
    a->key_agreement = E2E_NEW(PsaAlgorithm__Algorithm__KeyAgreement,
                               psa_algorithm__algorithm__key_agreement__descriptor);
    a->key_agreement->variant_case = PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__VARIANT_RAW;
    a->key_agreement->raw = (PsaAlgorithm__Algorithm__KeyAgreement__Raw)ka;
    return a;
}

/* ---- key attributes --------------------------------------------------------------------- */

enum key_kind {
    KT_RAW,
    KT_HMAC,
    KT_AES,
    KT_DES,
    KT_CHACHA20,
    KT_RSA_PUB,
    KT_RSA_PAIR,
    KT_ECC_PAIR,
    KT_ECC_PUB,
    KT_DH_PAIR
};

enum {
    U_EXPORT = 1 << 0,
    U_COPY = 1 << 1,
    U_CACHE = 1 << 2,
    U_ENCRYPT = 1 << 3,
    U_DECRYPT = 1 << 4,
    U_SIGN_MESSAGE = 1 << 5,
    U_VERIFY_MESSAGE = 1 << 6,
    U_SIGN_HASH = 1 << 7,
    U_VERIFY_HASH = 1 << 8,
    U_DERIVE = 1 << 9,
};

static inline KeyType *key_type(enum key_kind kind, int family)
{
    KeyType *t = E2E_NEW(KeyType, psa_key_attributes__key_type__descriptor);
/* DES is a deprecated member of the protobuf oneof: it is used on purpose, to see it refused. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    switch (kind) {
    case KT_RAW:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RAW_DATA;
        t->raw_data = E2E_NEW(PsaKeyAttributes__KeyType__RawData,
                              psa_key_attributes__key_type__raw_data__descriptor);
        break;
    case KT_HMAC:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_HMAC;
        t->hmac = E2E_NEW(PsaKeyAttributes__KeyType__Hmac,
                          psa_key_attributes__key_type__hmac__descriptor);
        break;
    case KT_AES:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_AES;
        t->aes =
            E2E_NEW(PsaKeyAttributes__KeyType__Aes, psa_key_attributes__key_type__aes__descriptor);
        break;
    case KT_DES:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DES;
        t->des =
            E2E_NEW(PsaKeyAttributes__KeyType__Des, psa_key_attributes__key_type__des__descriptor);
        break;
    case KT_CHACHA20:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_CHACHA20;
        t->chacha20 = E2E_NEW(PsaKeyAttributes__KeyType__Chacha20,
                              psa_key_attributes__key_type__chacha20__descriptor);
        break;
    case KT_RSA_PUB:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_PUBLIC_KEY;
        t->rsa_public_key = E2E_NEW(PsaKeyAttributes__KeyType__RsaPublicKey,
                                    psa_key_attributes__key_type__rsa_public_key__descriptor);
        break;
    case KT_RSA_PAIR:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_KEY_PAIR;
        t->rsa_key_pair = E2E_NEW(PsaKeyAttributes__KeyType__RsaKeyPair,
                                  psa_key_attributes__key_type__rsa_key_pair__descriptor);
        break;
    case KT_ECC_PAIR:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR;
        t->ecc_key_pair = E2E_NEW(PsaKeyAttributes__KeyType__EccKeyPair,
                                  psa_key_attributes__key_type__ecc_key_pair__descriptor);
        t->ecc_key_pair->curve_family = (PsaKeyAttributes__KeyType__EccFamily)family;
        break;
    case KT_ECC_PUB:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_PUBLIC_KEY;
        t->ecc_public_key = E2E_NEW(PsaKeyAttributes__KeyType__EccPublicKey,
                                    psa_key_attributes__key_type__ecc_public_key__descriptor);
        t->ecc_public_key->curve_family = (PsaKeyAttributes__KeyType__EccFamily)family;
        break;
    case KT_DH_PAIR:
        t->variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_DH_KEY_PAIR;
        t->dh_key_pair = E2E_NEW(PsaKeyAttributes__KeyType__DhKeyPair,
                                 psa_key_attributes__key_type__dh_key_pair__descriptor);
        break;
    }
#pragma GCC diagnostic pop
    return t;
}

static inline PsaKeyAttributes__UsageFlags *usage_flags(unsigned u)
{
    PsaKeyAttributes__UsageFlags *f =
        E2E_NEW(PsaKeyAttributes__UsageFlags, psa_key_attributes__usage_flags__descriptor);
    f->export = (u & U_EXPORT) != 0;
    f->copy = (u & U_COPY) != 0;
    f->cache = (u & U_CACHE) != 0;
    f->encrypt = (u & U_ENCRYPT) != 0;
    f->decrypt = (u & U_DECRYPT) != 0;
    f->sign_message = (u & U_SIGN_MESSAGE) != 0;
    f->verify_message = (u & U_VERIFY_MESSAGE) != 0;
    f->sign_hash = (u & U_SIGN_HASH) != 0;
    f->verify_hash = (u & U_VERIFY_HASH) != 0;
    f->derive = (u & U_DERIVE) != 0;
    return f;
}

static inline Attrs *attrs(KeyType *t, uint32_t bits, unsigned usage, Alg *alg)
{
    Attrs *a = E2E_NEW(Attrs, psa_key_attributes__key_attributes__descriptor);
    a->key_type = t;
    a->key_bits = bits;
    a->key_policy =
        E2E_NEW(PsaKeyAttributes__KeyPolicy, psa_key_attributes__key_policy__descriptor);
    a->key_policy->key_usage_flags = usage_flags(usage);
    a->key_policy->key_algorithm = alg;
    return a;
}

/* ---- calls ------------------------------------------------------------------------------ */

/* Who calls, and where: Direct authentication with an application name (NULL: no
 * authentication), or any other auth type with raw auth bytes. */
struct caller {
    const char *sock;
    const char *app;
    uint8_t auth_type; /* 0: Direct with app, or none when app is NULL */
    const void *auth;
    size_t auth_len;
    uint8_t provider; /* the provider of crypto operations; 0: Mbed Crypto */
};

static inline void e2e_free_unpacked(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

/* One call on provider p. If out is not NULL it receives the result's first field (every
 * result of a crypto operation carries its output there), copied into the arena. If res is not
 * NULL it receives the whole unpacked result, kept in the arena. */
static inline int psa_call_p(const struct caller *c, uint8_t provider, uint32_t opcode,
                             const void *op, const ProtobufCMessageDescriptor *rd, struct buf *out,
                             ProtobufCMessage **res)
{
    uint8_t auth_type = c->auth_type ? c->auth_type : (c->app ? PSC_AUTH_DIRECT : 0);
    const void *auth = c->auth_type ? c->auth : c->app;
    size_t auth_len = c->auth_type ? c->auth_len : (c->app ? strlen(c->app) : 0);
    size_t len;
    uint8_t *req = e2e_build(e2e_header(provider, opcode, auth_type), (const ProtobufCMessage *)op,
                             auth, auth_len, &len);
    struct psc_header rsp;
    uint8_t *body = NULL;
    int rc = e2e_raw(c->sock, req, len, &rsp, &body);
    free(req);
    assert_int_equal(rc, 0);
    if (body)
        e2e_keep(body, free);
    if (out)
        *out = buf_none();
    if (res)
        *res = NULL;
    if (rsp.status != 0) {
        assert_int_equal(rsp.body_len, 0);
        return rsp.status;
    }
    assert_int_equal(rsp.opcode, opcode);
    assert_int_equal(rsp.provider, provider);
    if (!rd)
        return 0;
    ProtobufCMessage *m = protobuf_c_message_unpack(rd, NULL, rsp.body_len, body);
    assert_non_null(m);
    e2e_keep(m, e2e_free_unpacked);
    if (out) {
        assert_true(rd->n_fields >= 1);
        assert_int_equal(rd->fields[0].type, PROTOBUF_C_TYPE_BYTES);
        const ProtobufCBinaryData *d =
            (const ProtobufCBinaryData *)((const uint8_t *)m + rd->fields[0].offset);
        *out = buf_copy(d->data, d->len);
    }
    if (res)
        *res = m;
    return 0;
}

/* The provider the op_* calls below go to; a test of another provider defines it first. */
#ifndef E2E_PROVIDER
#define E2E_PROVIDER PSC_PROVIDER_MBED_CRYPTO
#endif

static inline int psa_call(const struct caller *c, uint32_t opcode, const void *op,
                           const ProtobufCMessageDescriptor *rd, struct buf *out)
{
    return psa_call_p(c, c->provider ? c->provider : E2E_PROVIDER, opcode, op, rd, out, NULL);
}

static inline int op_generate(const struct caller *c, const char *name, Attrs *at)
{
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    op.attributes = at;
    return psa_call(c, PSC_OP_PSA_GENERATE_KEY, &op, NULL, NULL);
}

static inline int op_import(const struct caller *c, const char *name, Attrs *at, struct buf data)
{
    PsaImportKey__Operation op = PSA_IMPORT_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    op.attributes = at;
    op.data = pb_bytes(data);
    return psa_call(c, PSC_OP_PSA_IMPORT_KEY, &op, NULL, NULL);
}

static inline int op_destroy(const struct caller *c, const char *name)
{
    PsaDestroyKey__Operation op = PSA_DESTROY_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    return psa_call(c, PSC_OP_PSA_DESTROY_KEY, &op, NULL, NULL);
}

static inline int op_export_public(const struct caller *c, const char *name, struct buf *out)
{
    PsaExportPublicKey__Operation op = PSA_EXPORT_PUBLIC_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    return psa_call(c, PSC_OP_PSA_EXPORT_PUBLIC_KEY, &op,
                    &psa_export_public_key__result__descriptor, out);
}

static inline int op_export(const struct caller *c, const char *name, struct buf *out)
{
    PsaExportKey__Operation op = PSA_EXPORT_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    return psa_call(c, PSC_OP_PSA_EXPORT_KEY, &op, &psa_export_key__result__descriptor, out);
}

static inline int op_sign_hash(const struct caller *c, const char *name, SigAlg *alg,
                               struct buf hash, struct buf *sig)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.hash = pb_bytes(hash);
    return psa_call(c, PSC_OP_PSA_SIGN_HASH, &op, &psa_sign_hash__result__descriptor, sig);
}

static inline int op_verify_hash(const struct caller *c, const char *name, SigAlg *alg,
                                 struct buf hash, struct buf sig)
{
    PsaVerifyHash__Operation op = PSA_VERIFY_HASH__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.hash = pb_bytes(hash);
    op.signature = pb_bytes(sig);
    return psa_call(c, PSC_OP_PSA_VERIFY_HASH, &op, NULL, NULL);
}

static inline int op_sign_message(const struct caller *c, const char *name, SigAlg *alg,
                                  struct buf msg, struct buf *sig)
{
    PsaSignMessage__Operation op = PSA_SIGN_MESSAGE__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.message = pb_bytes(msg);
    return psa_call(c, PSC_OP_PSA_SIGN_MESSAGE, &op, &psa_sign_message__result__descriptor, sig);
}

static inline int op_verify_message(const struct caller *c, const char *name, SigAlg *alg,
                                    struct buf msg, struct buf sig)
{
    PsaVerifyMessage__Operation op = PSA_VERIFY_MESSAGE__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.message = pb_bytes(msg);
    op.signature = pb_bytes(sig);
    return psa_call(c, PSC_OP_PSA_VERIFY_MESSAGE, &op, NULL, NULL);
}

static inline int op_asym_encrypt(const struct caller *c, const char *name, EncAlg *alg,
                                  struct buf pt, struct buf salt, struct buf *out)
{
    PsaAsymmetricEncrypt__Operation op = PSA_ASYMMETRIC_ENCRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.plaintext = pb_bytes(pt);
    op.salt = pb_bytes(salt);
    return psa_call(c, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, &op,
                    &psa_asymmetric_encrypt__result__descriptor, out);
}

static inline int op_asym_decrypt(const struct caller *c, const char *name, EncAlg *alg,
                                  struct buf ct, struct buf salt, struct buf *out)
{
    PsaAsymmetricDecrypt__Operation op = PSA_ASYMMETRIC_DECRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.ciphertext = pb_bytes(ct);
    op.salt = pb_bytes(salt);
    return psa_call(c, PSC_OP_PSA_ASYMMETRIC_DECRYPT, &op,
                    &psa_asymmetric_decrypt__result__descriptor, out);
}

static inline int op_aead_encrypt(const struct caller *c, const char *name, AeadAlg *alg,
                                  struct buf nonce, struct buf ad, struct buf pt, struct buf *out)
{
    PsaAeadEncrypt__Operation op = PSA_AEAD_ENCRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.nonce = pb_bytes(nonce);
    op.additional_data = pb_bytes(ad);
    op.plaintext = pb_bytes(pt);
    return psa_call(c, PSC_OP_PSA_AEAD_ENCRYPT, &op, &psa_aead_encrypt__result__descriptor, out);
}

static inline int op_aead_decrypt(const struct caller *c, const char *name, AeadAlg *alg,
                                  struct buf nonce, struct buf ad, struct buf ct, struct buf *out)
{
    PsaAeadDecrypt__Operation op = PSA_AEAD_DECRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = alg;
    op.nonce = pb_bytes(nonce);
    op.additional_data = pb_bytes(ad);
    op.ciphertext = pb_bytes(ct);
    return psa_call(c, PSC_OP_PSA_AEAD_DECRYPT, &op, &psa_aead_decrypt__result__descriptor, out);
}

static inline int op_cipher_encrypt(const struct caller *c, const char *name, int alg,
                                    struct buf pt, struct buf *out)
{
    PsaCipherEncrypt__Operation op = PSA_CIPHER_ENCRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = (PsaAlgorithm__Algorithm__Cipher)alg;
    op.plaintext = pb_bytes(pt);
    return psa_call(c, PSC_OP_PSA_CIPHER_ENCRYPT, &op, &psa_cipher_encrypt__result__descriptor,
                    out);
}

static inline int op_cipher_decrypt(const struct caller *c, const char *name, int alg,
                                    struct buf ct, struct buf *out)
{
    PsaCipherDecrypt__Operation op = PSA_CIPHER_DECRYPT__OPERATION__INIT;
    op.key_name = (char *)name;
    op.alg = (PsaAlgorithm__Algorithm__Cipher)alg;
    op.ciphertext = pb_bytes(ct);
    return psa_call(c, PSC_OP_PSA_CIPHER_DECRYPT, &op, &psa_cipher_decrypt__result__descriptor,
                    out);
}

static inline int op_raw_key_agreement(const struct caller *c, const char *name, int alg,
                                       struct buf peer, struct buf *out)
{
    PsaRawKeyAgreement__Operation op = PSA_RAW_KEY_AGREEMENT__OPERATION__INIT;
    op.private_key_name = (char *)name;
    op.alg = (PsaAlgorithm__Algorithm__KeyAgreement__Raw)alg;
    op.peer_key = pb_bytes(peer);
    return psa_call(c, PSC_OP_PSA_RAW_KEY_AGREEMENT, &op,
                    &psa_raw_key_agreement__result__descriptor, out);
}

static inline int op_hash_compute(const struct caller *c, int alg, struct buf in, struct buf *out)
{
    PsaHashCompute__Operation op = PSA_HASH_COMPUTE__OPERATION__INIT;
    op.alg = (PsaAlgorithm__Algorithm__Hash)alg;
    op.input = pb_bytes(in);
    return psa_call(c, PSC_OP_PSA_HASH_COMPUTE, &op, &psa_hash_compute__result__descriptor, out);
}

static inline int op_hash_compare(const struct caller *c, int alg, struct buf in, struct buf hash)
{
    PsaHashCompare__Operation op = PSA_HASH_COMPARE__OPERATION__INIT;
    op.alg = (PsaAlgorithm__Algorithm__Hash)alg;
    op.input = pb_bytes(in);
    op.hash = pb_bytes(hash);
    return psa_call(c, PSC_OP_PSA_HASH_COMPARE, &op, NULL, NULL);
}

static inline int op_generate_random(const struct caller *c, uint64_t size, struct buf *out)
{
    PsaGenerateRandom__Operation op = PSA_GENERATE_RANDOM__OPERATION__INIT;
    op.size = size;
    return psa_call(c, PSC_OP_PSA_GENERATE_RANDOM, &op, &psa_generate_random__result__descriptor,
                    out);
}

static inline int op_can_do(const struct caller *c, int check, Attrs *at)
{
    CanDoCrypto__Operation op = CAN_DO_CRYPTO__OPERATION__INIT;
    op.check_type = (CanDoCrypto__CheckType)check;
    op.attributes = at;
    return psa_call(c, PSC_OP_CAN_DO_CRYPTO, &op, NULL, NULL);
}

/* ListKeys; *res stays in the arena. */
static inline int op_list_keys(const struct caller *c, ListKeys__Result **res)
{
    return psa_call_p(c, PSC_PROVIDER_CORE, PSC_OP_LIST_KEYS, NULL, &list_keys__result__descriptor,
                      NULL, (ProtobufCMessage **)res);
}

static inline int op_list_clients(const struct caller *c, ListClients__Result **res)
{
    return psa_call_p(c, PSC_PROVIDER_CORE, PSC_OP_LIST_CLIENTS, NULL,
                      &list_clients__result__descriptor, NULL, (ProtobufCMessage **)res);
}

static inline int op_delete_client(const struct caller *c, const char *client)
{
    DeleteClient__Operation op = DELETE_CLIENT__OPERATION__INIT;
    op.client = (char *)client;
    return psa_call_p(c, PSC_PROVIDER_CORE, PSC_OP_DELETE_CLIENT, &op, NULL, NULL, NULL);
}

/* The entry of ListKeys for a key name, or NULL. */
static inline const ListKeys__KeyInfo *list_find(const ListKeys__Result *r, const char *name)
{
    for (size_t i = 0; i < r->n_keys; i++)
        if (strcmp(r->keys[i]->name, name) == 0)
            return r->keys[i];
    return NULL;
}

/* ---- OpenSSL ---------------------------------------------------------------------------- */

static inline void e2e_free_pkey(void *p)
{
    EVP_PKEY_free(p);
}

static inline EVP_PKEY *keep_pkey(EVP_PKEY *k)
{
    return e2e_keep(k, e2e_free_pkey);
}

static inline EVP_PKEY *pem_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    assert_non_null(b);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return keep_pkey(k);
}

/* Makes a fresh key in OpenSSL: "EC" with a curve name, or "X25519". */
static inline EVP_PKEY *ossl_keygen(const char *type, const char *curve)
{
    EVP_PKEY *k =
        curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve) : EVP_PKEY_Q_keygen(NULL, NULL, type);
    return keep_pkey(k);
}

/* PSA import formats (operations.md §3.5) made by OpenSSL. */
static inline struct buf der_rsa_private(EVP_PKEY *k)
{
    unsigned char *d = NULL;
    int n = i2d_PrivateKey(k, &d); /* RSAPrivateKey for an RSA key */
    assert_true(n > 0);
    struct buf b = buf_copy(d, (size_t)n);
    OPENSSL_clear_free(d, (size_t)n);
    return b;
}

static inline struct buf der_rsa_public(EVP_PKEY *k)
{
    unsigned char *d = NULL;
    int n = i2d_PublicKey(k, &d); /* RSAPublicKey for an RSA key */
    assert_true(n > 0);
    struct buf b = buf_copy(d, (size_t)n);
    OPENSSL_free(d);
    return b;
}

static inline struct buf ec_private_scalar(EVP_PKEY *k, size_t len)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
    struct buf b = {e2e_alloc(len), len};
    assert_int_equal(BN_bn2binpad(bn, b.p, (int)len), (int)len);
    BN_clear_free(bn);
    return b;
}

/* 0x04 || X || Y for a Weierstrass key, the raw public value for X25519. */
static inline struct buf public_octets(EVP_PKEY *k)
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, NULL, 0, &n), 1);
    struct buf b = {e2e_alloc(n), n};
    assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, b.p, n, &n), 1);
    b.n = n;
    return b;
}

static inline struct buf raw_private(EVP_PKEY *k)
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_raw_private_key(k, NULL, &n), 1);
    struct buf b = {e2e_alloc(n), n};
    assert_int_equal(EVP_PKEY_get_raw_private_key(k, b.p, &n), 1);
    return b;
}

/* An OpenSSL public key from the service's export formats; NULL if the bytes do not parse. */
static inline EVP_PKEY *pkey_rsa_public(struct buf der)
{
    const unsigned char *p = der.p;
    EVP_PKEY *k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)der.n);
    if (!k)
        return NULL;
    if (p != der.p + der.n) { /* trailing bytes: not one RSAPublicKey */
        EVP_PKEY_free(k);
        return NULL;
    }
    return keep_pkey(k);
}

static inline EVP_PKEY *pkey_ec_public(const char *group, struct buf point)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.p, point.n),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    assert_non_null(ctx);
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(ctx);
    if (!k)
        return NULL;
    /* fromdata does not check that the point is on the curve. */
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    int ok = chk && EVP_PKEY_public_check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    if (!ok) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return keep_pkey(k);
}

static inline EVP_PKEY *pkey_x25519_public(struct buf raw)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw.p, raw.n);
    return k ? keep_pkey(k) : NULL;
}

/* ECDSA signatures travel as r || s (each half the length); OpenSSL speaks DER. */
static inline struct buf ecdsa_raw_to_der(struct buf raw)
{
    assert_true(raw.n % 2 == 0 && raw.n > 0);
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw.p, (int)(raw.n / 2), NULL);
    BIGNUM *ss = BN_bin2bn(raw.p + raw.n / 2, (int)(raw.n / 2), NULL);
    assert_true(s && r && ss);
    assert_int_equal(ECDSA_SIG_set0(s, r, ss), 1);
    unsigned char *d = NULL;
    int n = i2d_ECDSA_SIG(s, &d);
    assert_true(n > 0);
    struct buf b = buf_copy(d, (size_t)n);
    OPENSSL_free(d);
    ECDSA_SIG_free(s);
    return b;
}

static inline struct buf ecdsa_der_to_raw(struct buf der, size_t half)
{
    const unsigned char *p = der.p;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der.n);
    assert_non_null(s);
    struct buf b = {e2e_alloc(2 * half), 2 * half};
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), b.p, (int)half), (int)half);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), b.p + half, (int)half), (int)half);
    ECDSA_SIG_free(s);
    return b;
}

static inline const EVP_MD *md_of(int hash)
{
    switch (hash) {
    case HASH(SHA_1):
        return EVP_sha1();
    case HASH(SHA_224):
        return EVP_sha224();
    case HASH(SHA_256):
        return EVP_sha256();
    case HASH(SHA_384):
        return EVP_sha384();
    case HASH(SHA_512):
        return EVP_sha512();
    case HASH(MD5):
        return EVP_md5();
    default:
        fail_msg("no OpenSSL digest for hash %d", hash);
        return NULL;
    }
}

static inline struct buf digest(int hash, struct buf in)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(in.p ? in.p : (uint8_t *)"", in.n, md, &n, md_of(hash), NULL), 1);
    return buf_copy(md, n);
}

/* RSA padding for the OpenSSL calls below; 0 for an EC key. */
enum {
    PAD_NONE = 0,
    PAD_PKCS1 = RSA_PKCS1_PADDING,
    PAD_PSS = RSA_PKCS1_PSS_PADDING,
    PAD_OAEP = RSA_PKCS1_OAEP_PADDING
};

/* OpenSSL's verdict on a signature over a hash (md NULL: RSA PKCS#1 v1.5 over raw data). An
 * ECDSA signature is given as r || s. Returns 1 if valid. */
static inline int ossl_verify(EVP_PKEY *k, const EVP_MD *md, int pad, struct buf hash,
                              struct buf sig)
{
    if (pad == PAD_NONE)
        sig = ecdsa_raw_to_der(sig);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    if (pad != PAD_NONE)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (pad == PAD_PSS)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO), 1);
    if (md)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
    int rc = EVP_PKEY_verify(ctx, sig.p, sig.n, hash.p, hash.n);
    EVP_PKEY_CTX_free(ctx);
    return rc == 1;
}

/* A signature by OpenSSL over a hash; ECDSA signatures come back as r || s of 2 * half bytes.
 * PSS uses a salt as long as the hash, the usual choice. */
static inline struct buf ossl_sign(EVP_PKEY *k, const EVP_MD *md, int pad, struct buf hash,
                                   size_t half)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    if (pad != PAD_NONE)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (pad == PAD_PSS)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST), 1);
    if (md)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
    size_t n = 0;
    assert_int_equal(EVP_PKEY_sign(ctx, NULL, &n, hash.p, hash.n), 1);
    struct buf s = {e2e_alloc(n), n};
    assert_int_equal(EVP_PKEY_sign(ctx, s.p, &s.n, hash.p, hash.n), 1);
    EVP_PKEY_CTX_free(ctx);
    return pad == PAD_NONE ? ecdsa_der_to_raw(s, half) : s;
}

static inline void rsa_ctx_setup(EVP_PKEY_CTX *ctx, int pad, const EVP_MD *md, struct buf label)
{
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (pad != PAD_OAEP)
        return;
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md), 1);
    if (label.n) {
        void *l = OPENSSL_memdup(label.p, label.n); /* the context takes it */
        assert_non_null(l);
        assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, (int)label.n), 1);
    }
}

static inline struct buf ossl_encrypt(EVP_PKEY *k, int pad, const EVP_MD *md, struct buf label,
                                      struct buf pt)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    rsa_ctx_setup(ctx, pad, md, label);
    size_t n = 0;
    assert_int_equal(EVP_PKEY_encrypt(ctx, NULL, &n, pt.p, pt.n), 1);
    struct buf c = {e2e_alloc(n), n};
    assert_int_equal(EVP_PKEY_encrypt(ctx, c.p, &c.n, pt.p, pt.n), 1);
    EVP_PKEY_CTX_free(ctx);
    return c;
}

/* Returns 0 and the plaintext, or -1 if OpenSSL refuses the ciphertext. */
static inline int ossl_decrypt(EVP_PKEY *k, int pad, const EVP_MD *md, struct buf label,
                               struct buf ct, struct buf *pt)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
    rsa_ctx_setup(ctx, pad, md, label);
    size_t n = 0;
    int rc = -1;
    if (EVP_PKEY_decrypt(ctx, NULL, &n, ct.p, ct.n) == 1) {
        *pt = (struct buf){e2e_alloc(n), n};
        if (EVP_PKEY_decrypt(ctx, pt->p, &pt->n, ct.p, ct.n) == 1)
            rc = 0;
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static inline struct buf ossl_derive(EVP_PKEY *priv, EVP_PKEY *peer)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(ctx, peer), 1);
    size_t n = 0;
    assert_int_equal(EVP_PKEY_derive(ctx, NULL, &n), 1);
    struct buf s = {e2e_alloc(n), n};
    assert_int_equal(EVP_PKEY_derive(ctx, s.p, &s.n), 1);
    EVP_PKEY_CTX_free(ctx);
    return s;
}

#endif
