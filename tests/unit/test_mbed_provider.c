/* The Mbed Crypto provider, called handler by handler on a real SQLite key store in a private
 * folder, with OpenSSL's libcrypto as the independent implementation every result is checked
 * against: signatures, ciphertexts, shared secrets and digests must interoperate both ways. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <psa/crypto.h>
#include <sqlite3.h>

#include "common/log.h"
#include "psa/convert.h"
#include "psa/policy.h"
#include "service/config.h"
#include "service/kim/kim.h"
#include "service/providers/mbed_crypto.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* ---- fixture: a provider on a SQLite key store in a fresh folder ---------------------------- */

struct fx {
    char dir[64];
    char keys[128];
    char db[128];
    struct cfg_kim ck;
    struct cfg_provider cp;
    struct psc_provider_env env;
    struct psc_kim *kim;
    struct psc_provider *p;
};

static const struct psc_app alice = {.name = "alice", .auth = PSC_AUTH_DIRECT};
static const struct psc_app bob = {.name = "bob", .auth = PSC_AUTH_DIRECT};

/* Opens the key store and starts the provider; returns create()'s result. */
static int fx_start(struct fx *f)
{
    char err[512] = "";
    assert_int_equal(kim_open(&f->ck, PSC_AUTH_DIRECT, &f->kim, err, sizeof(err)), 0);
    int rc = psc_mbed_crypto_provider.create(&f->cp, f->kim, &f->env, &f->p, err, sizeof(err));
    if (rc != 0) {
        print_message("create: %s\n", err);
        kim_close(f->kim);
        f->kim = NULL;
    }
    return rc;
}

static void fx_stop(struct fx *f)
{
    if (f->p)
        psc_mbed_crypto_provider.destroy(f->p);
    f->p = NULL;
    if (f->kim)
        kim_close(f->kim);
    f->kim = NULL;
}

static void fx_restart(struct fx *f)
{
    fx_stop(f);
    assert_int_equal(fx_start(f), 0);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[512];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/parsec-mbed-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->keys, sizeof(f->keys), "%s/keys/mbed", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/kim.sqlite3", f->dir);
    f->ck.name = "sqlite-manager";
    f->ck.type = CFG_KIM_SQLITE;
    f->ck.sqlite_db_path = f->db;
    f->cp.provider_type = "MbedCrypto";
    f->cp.id = PSC_PROVIDER_MBED_CRYPTO;
    f->cp.name = "mbed-crypto-provider";
    f->cp.key_info_manager = "sqlite-manager";
    f->cp.key_store_path = f->keys;
    f->env.buffer_size_limit = 1 << 20;
    f->env.allow_deprecated = 0;
    assert_int_equal(fx_start(f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_stop(f);
    assert_int_equal(chdir("/"), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* ---- calling handlers --------------------------------------------------------------------- */

static struct psc_bytes bytes_ref(const void *p, size_t len)
{
    return (struct psc_bytes){.p = p, .len = len};
}

static struct psc_attrs attrs_of(psa_key_type_t type, size_t bits, psa_key_usage_t usage,
                                 psa_algorithm_t alg)
{
    return (struct psc_attrs){.type = type, .bits = bits, .usage = usage, .alg = alg};
}

/* Runs a handler; out may be NULL for operations without a result. */
static int call(struct fx *f, const struct psc_app *app, struct psc_args *a, struct psc_out *out)
{
    psc_op_fn fn = f->p->type->ops[a->opcode];
    assert_non_null(fn);
    struct psc_out tmp = {0};
    int rc = fn(f->p, app, a, out ? out : &tmp);
    assert_null(tmp.p);
    if (rc != 0 && out)
        assert_null(out->p);
    return rc;
}

static int gen(struct fx *f, const struct psc_app *app, const char *name, struct psc_attrs at)
{
    struct psc_args a = {
        .opcode = PSC_OP_PSA_GENERATE_KEY, .key_name = name, .attrs = at, .has_attrs = 1};
    return call(f, app, &a, NULL);
}

static int imp(struct fx *f, const struct psc_app *app, const char *name, struct psc_attrs at,
               const void *data, size_t len)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_IMPORT_KEY,
                         .key_name = name,
                         .attrs = at,
                         .has_attrs = 1,
                         .data = bytes_ref(data, len)};
    return call(f, app, &a, NULL);
}

static int destroy_key(struct fx *f, const struct psc_app *app, const char *name)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_DESTROY_KEY, .key_name = name};
    return call(f, app, &a, NULL);
}

static int export_pub(struct fx *f, const struct psc_app *app, const char *name,
                      struct psc_out *out)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_EXPORT_PUBLIC_KEY, .key_name = name};
    return call(f, app, &a, out);
}

static int export_key(struct fx *f, const struct psc_app *app, const char *name,
                      struct psc_out *out)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_EXPORT_KEY, .key_name = name};
    return call(f, app, &a, out);
}

static int sign_hash(struct fx *f, const struct psc_app *app, const char *name, psa_algorithm_t alg,
                     const uint8_t *h, size_t hl, struct psc_out *out)
{
    struct psc_args a = {
        .opcode = PSC_OP_PSA_SIGN_HASH, .key_name = name, .alg = alg, .hash = bytes_ref(h, hl)};
    return call(f, app, &a, out);
}

static int verify_hash(struct fx *f, const struct psc_app *app, const char *name,
                       psa_algorithm_t alg, const uint8_t *h, size_t hl, const uint8_t *s,
                       size_t sl)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_VERIFY_HASH,
                         .key_name = name,
                         .alg = alg,
                         .hash = bytes_ref(h, hl),
                         .signature = bytes_ref(s, sl)};
    return call(f, app, &a, NULL);
}

static int sign_msg(struct fx *f, const struct psc_app *app, const char *name, psa_algorithm_t alg,
                    const uint8_t *m, size_t ml, struct psc_out *out)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_SIGN_MESSAGE,
                         .key_name = name,
                         .alg = alg,
                         .message = bytes_ref(m, ml)};
    return call(f, app, &a, out);
}

static int verify_msg(struct fx *f, const struct psc_app *app, const char *name,
                      psa_algorithm_t alg, const uint8_t *m, size_t ml, const uint8_t *s, size_t sl)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_VERIFY_MESSAGE,
                         .key_name = name,
                         .alg = alg,
                         .message = bytes_ref(m, ml),
                         .signature = bytes_ref(s, sl)};
    return call(f, app, &a, NULL);
}

static int asym(struct fx *f, uint32_t opcode, const char *name, psa_algorithm_t alg,
                const uint8_t *in, size_t inl, const char *salt, struct psc_out *out)
{
    struct psc_args a = {.opcode = opcode,
                         .key_name = name,
                         .alg = alg,
                         .salt = bytes_ref(salt, salt ? strlen(salt) : 0)};
    if (opcode == PSC_OP_PSA_ASYMMETRIC_ENCRYPT)
        a.plaintext = bytes_ref(in, inl);
    else
        a.ciphertext = bytes_ref(in, inl);
    return call(f, &alice, &a, out);
}

static int aead(struct fx *f, uint32_t opcode, const char *name, psa_algorithm_t alg,
                const uint8_t *nonce, size_t nl, const uint8_t *ad, size_t adl, const uint8_t *in,
                size_t inl, struct psc_out *out)
{
    struct psc_args a = {.opcode = opcode,
                         .key_name = name,
                         .alg = alg,
                         .nonce = bytes_ref(nonce, nl),
                         .additional_data = bytes_ref(ad, adl)};
    if (opcode == PSC_OP_PSA_AEAD_ENCRYPT)
        a.plaintext = bytes_ref(in, inl);
    else
        a.ciphertext = bytes_ref(in, inl);
    return call(f, &alice, &a, out);
}

static int cipher(struct fx *f, uint32_t opcode, const char *name, psa_algorithm_t alg,
                  const uint8_t *in, size_t inl, struct psc_out *out)
{
    struct psc_args a = {.opcode = opcode, .key_name = name, .alg = alg};
    if (opcode == PSC_OP_PSA_CIPHER_ENCRYPT)
        a.plaintext = bytes_ref(in, inl);
    else
        a.ciphertext = bytes_ref(in, inl);
    return call(f, &alice, &a, out);
}

static int agree(struct fx *f, const struct psc_app *app, const char *name, psa_algorithm_t alg,
                 const uint8_t *peer, size_t pl, struct psc_out *out)
{
    struct psc_args a = {.opcode = PSC_OP_PSA_RAW_KEY_AGREEMENT,
                         .key_name = name,
                         .alg = alg,
                         .peer_key = bytes_ref(peer, pl)};
    return call(f, app, &a, out);
}

static void out_free(struct psc_out *o)
{
    free(o->p);
    o->p = NULL;
    o->len = 0;
}

/* The stored mapping of a key. */
static int mapping(struct fx *f, const struct psc_app *app, const char *name, psa_key_id_t *id,
                   struct psc_attrs *attrs)
{
    struct kim_ident who;
    provider_ident(f->p, app, name, &who);
    struct kim_info info = {0};
    int rc = kim_get(f->kim, &who, &info);
    if (rc == 0) {
        assert_int_equal(info.id_len, 4);
        if (id)
            *id = (psa_key_id_t)info.id[0] | (psa_key_id_t)info.id[1] << 8 |
                  (psa_key_id_t)info.id[2] << 16 | (psa_key_id_t)info.id[3] << 24;
        if (attrs)
            *attrs = info.attrs;
    }
    kim_info_clear(&info);
    return rc;
}

static void key_file(struct fx *f, psa_key_id_t id, char *path, size_t len)
{
    snprintf(path, len, "%s/%08x%08x.psa_its", f->keys, 0u, (unsigned)id);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static size_t count_key_files(struct fx *f)
{
    DIR *d = opendir(f->keys);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strstr(e->d_name, ".psa_its"))
            n++;
    closedir(d);
    return n;
}

/* ---- OpenSSL side ----------------------------------------------------------------------- */

static const EVP_MD *md_of(psa_algorithm_t hash)
{
    switch (hash) {
    case PSA_ALG_MD5:
        return EVP_md5();
    case PSA_ALG_SHA_1:
        return EVP_sha1();
    case PSA_ALG_SHA_224:
        return EVP_sha224();
    case PSA_ALG_SHA_256:
        return EVP_sha256();
    case PSA_ALG_SHA_384:
        return EVP_sha384();
    case PSA_ALG_SHA_512:
        return EVP_sha512();
    case PSA_ALG_RIPEMD160:
        return EVP_ripemd160();
    default:
        fail_msg("no OpenSSL digest for %08x", (unsigned)hash);
        return NULL;
    }
}

static size_t digest(psa_algorithm_t hash, const void *m, size_t ml, uint8_t *out)
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(m, ml, out, &n, md_of(hash), NULL), 1);
    return n;
}

static EVP_PKEY *ossl_ec_pub(const char *group, const uint8_t *pub, size_t len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    assert_non_null(c);
    assert_int_equal(EVP_PKEY_fromdata_init(c), 1);
    assert_int_equal(EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(c);
    return pk;
}

static EVP_PKEY *ossl_rsa_pub(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    EVP_PKEY *pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    assert_non_null(pk);
    return pk;
}

static size_t ossl_ec_pub_bytes(EVP_PKEY *pk, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, cap, &n), 1);
    return n;
}

static void ossl_ec_priv_bytes(EVP_PKEY *pk, uint8_t *out, size_t nbytes)
{
    BIGNUM *d = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    assert_int_equal(BN_bn2binpad(d, out, (int)nbytes), (int)nbytes);
    BN_clear_free(d);
}

/* r || s (PSA) to DER (OpenSSL) and back. */
static int rs_to_der(const uint8_t *rs, size_t len, uint8_t **der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL);
    BIGNUM *ss = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
    assert_int_equal(ECDSA_SIG_set0(s, r, ss), 1);
    int n = i2d_ECDSA_SIG(s, der);
    ECDSA_SIG_free(s);
    assert_true(n > 0);
    return n;
}

static size_t der_to_rs(const uint8_t *der, size_t len, size_t nbytes, uint8_t *rs)
{
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    assert_non_null(s);
    const BIGNUM *r, *ss;
    ECDSA_SIG_get0(s, &r, &ss);
    assert_int_equal(BN_bn2binpad(r, rs, (int)nbytes), (int)nbytes);
    assert_int_equal(BN_bn2binpad(ss, rs + nbytes, (int)nbytes), (int)nbytes);
    ECDSA_SIG_free(s);
    return 2 * nbytes;
}

/* pad: 0 for ECDSA, RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING. */
static int ossl_verify(EVP_PKEY *pk, int pad, const EVP_MD *md, const uint8_t *h, size_t hl,
                       const uint8_t *sig, size_t sl)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    assert_int_equal(EVP_PKEY_verify_init(c), 1);
    if (md)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, md), 1);
    if (pad)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, pad), 1);
    if (pad == RSA_PKCS1_PSS_PADDING)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_AUTO), 1);
    int ok = EVP_PKEY_verify(c, sig, sl, h, hl);
    EVP_PKEY_CTX_free(c);
    return ok == 1;
}

static size_t ossl_sign(EVP_PKEY *pk, int pad, const EVP_MD *md, const uint8_t *h, size_t hl,
                        uint8_t *sig, size_t cap)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    assert_int_equal(EVP_PKEY_sign_init(c), 1);
    if (md)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, md), 1);
    if (pad)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, pad), 1);
    if (pad == RSA_PKCS1_PSS_PADDING)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST), 1);
    size_t n = cap;
    assert_int_equal(EVP_PKEY_sign(c, sig, &n, h, hl), 1);
    EVP_PKEY_CTX_free(c);
    return n;
}

/* ---- identity ----------------------------------------------------------------------------- */

static void identity(void **state)
{
    (void)state;
    const struct psc_provider_type *t = &psc_mbed_crypto_provider;
    assert_int_equal(t->id, 1);
    assert_string_equal(t->uuid, "1c1139dc-ad7c-47dc-ad6b-db6fdb466552");
    assert_string_equal(t->description, "User space software provider, based on Mbed Crypto - "
                                        "the reference implementation of the PSA crypto API");
    assert_string_equal(t->vendor, "Arm");
    assert_int_equal(t->version_maj, 0);
    assert_int_equal(t->version_min, 1);
    assert_int_equal(t->version_rev, 0);
    assert_string_equal(t->config_type, "MbedCrypto");
    assert_string_equal(t->default_name, "mbed-crypto-provider");
    static const uint32_t ops[] = {
        PSC_OP_PSA_GENERATE_KEY,       PSC_OP_PSA_DESTROY_KEY,        PSC_OP_PSA_SIGN_HASH,
        PSC_OP_PSA_VERIFY_HASH,        PSC_OP_PSA_IMPORT_KEY,         PSC_OP_PSA_EXPORT_PUBLIC_KEY,
        PSC_OP_PSA_ASYMMETRIC_ENCRYPT, PSC_OP_PSA_ASYMMETRIC_DECRYPT, PSC_OP_PSA_EXPORT_KEY,
        PSC_OP_PSA_GENERATE_RANDOM,    PSC_OP_PSA_HASH_COMPUTE,       PSC_OP_PSA_HASH_COMPARE,
        PSC_OP_PSA_AEAD_ENCRYPT,       PSC_OP_PSA_AEAD_DECRYPT,       PSC_OP_PSA_RAW_KEY_AGREEMENT,
        PSC_OP_PSA_CIPHER_ENCRYPT,     PSC_OP_PSA_CIPHER_DECRYPT,     PSC_OP_PSA_SIGN_MESSAGE,
        PSC_OP_PSA_VERIFY_MESSAGE,     PSC_OP_CAN_DO_CRYPTO,
    };
    size_t n = 0;
    for (uint32_t op = 0; op < PSC_OP_LIMIT; op++)
        if (t->ops[op])
            n++;
    assert_int_equal(n, sizeof(ops) / sizeof(ops[0]));
    for (size_t i = 0; i < n; i++)
        assert_non_null(t->ops[ops[i]]);
}

/* ---- ECDSA ------------------------------------------------------------------------------ */

struct curve {
    const char *group;
    psa_ecc_family_t family;
    size_t bits;
    psa_algorithm_t hash;
};

static const struct curve curves[] = {
    {"prime256v1", PSA_ECC_FAMILY_SECP_R1, 256, PSA_ALG_SHA_256},
    {"secp384r1", PSA_ECC_FAMILY_SECP_R1, 384, PSA_ALG_SHA_384},
    {"secp521r1", PSA_ECC_FAMILY_SECP_R1, 521, PSA_ALG_SHA_512},
    {"secp256k1", PSA_ECC_FAMILY_SECP_K1, 256, PSA_ALG_SHA_256},
    {"brainpoolP256r1", PSA_ECC_FAMILY_BRAINPOOL_P_R1, 256, PSA_ALG_SHA_256},
    {"brainpoolP512r1", PSA_ECC_FAMILY_BRAINPOOL_P_R1, 512, PSA_ALG_SHA_512},
};

static void ecdsa_interop(void **state)
{
    struct fx *f = *state;
    const uint8_t msg[] = "a message signed by both implementations";
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        const struct curve *c = &curves[i];
        size_t nbytes = (c->bits + 7) / 8;
        char name[32];
        snprintf(name, sizeof(name), "ec-%s", c->group);
        const psa_key_usage_t u = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH;
        assert_int_equal(gen(f, &alice, name,
                             attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(c->family), c->bits, u,
                                      PSA_ALG_ECDSA(PSA_ALG_ANY_HASH))),
                         0);
        struct psc_out pub = {0};
        assert_int_equal(export_pub(f, &alice, name, &pub), 0);
        assert_int_equal(pub.len, 1 + 2 * nbytes);
        assert_int_equal(pub.p[0], 0x04);
        EVP_PKEY *pk = ossl_ec_pub(c->group, pub.p, pub.len);

        uint8_t h[64];
        size_t hl = digest(c->hash, msg, sizeof(msg), h);
        /* Ours, checked by OpenSSL. */
        struct psc_out sig = {0};
        assert_int_equal(sign_hash(f, &alice, name, PSA_ALG_ECDSA(c->hash), h, hl, &sig), 0);
        assert_int_equal(sig.len, 2 * nbytes);
        uint8_t *der = NULL;
        int dl = rs_to_der(sig.p, sig.len, &der);
        assert_true(ossl_verify(pk, 0, NULL, h, hl, der, (size_t)dl));
        OPENSSL_free(der);
        assert_int_equal(
            verify_hash(f, &alice, name, PSA_ALG_ECDSA(c->hash), h, hl, sig.p, sig.len), 0);
        sig.p[3] ^= 1;
        assert_int_equal(
            verify_hash(f, &alice, name, PSA_ALG_ECDSA(c->hash), h, hl, sig.p, sig.len),
            PSC_PSA_INVALID_SIGNATURE);
        out_free(&sig);

        /* OpenSSL's, checked by us: import OpenSSL's key pair, verify its signature. */
        EVP_PKEY *ok = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->group);
        assert_non_null(ok);
        uint8_t priv[66], osig[160], rs[132];
        ossl_ec_priv_bytes(ok, priv, nbytes);
        snprintf(name, sizeof(name), "ossl-%s", c->group);
        assert_int_equal(imp(f, &alice, name,
                             attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(c->family), 0,
                                      PSA_KEY_USAGE_VERIFY_HASH, PSA_ALG_ECDSA(c->hash)),
                             priv, nbytes),
                         0);
        struct psc_attrs st;
        assert_int_equal(mapping(f, &alice, name, NULL, &st), 0);
        assert_int_equal(st.bits, c->bits); /* the deduced size is stored */
        size_t ol = ossl_sign(ok, 0, NULL, h, hl, osig, sizeof(osig));
        size_t rl = der_to_rs(osig, ol, nbytes, rs);
        assert_int_equal(verify_hash(f, &alice, name, PSA_ALG_ECDSA(c->hash), h, hl, rs, rl), 0);
        /* The public key we derive is OpenSSL's. */
        uint8_t opub[200];
        size_t opl = ossl_ec_pub_bytes(ok, opub, sizeof(opub));
        struct psc_out pub2 = {0};
        assert_int_equal(export_pub(f, &alice, name, &pub2), 0);
        assert_memory_equal(pub2.p, opub, opl);
        assert_int_equal(pub2.len, opl);
        out_free(&pub2);
        EVP_PKEY_free(ok);
        EVP_PKEY_free(pk);
        out_free(&pub);
    }
}

static void ecdsa_message_and_deterministic(void **state)
{
    struct fx *f = *state;
    const uint8_t msg[] = "hash-and-sign in the service";
    const psa_algorithm_t det = PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256);
    /* sign_hash alone allows signing messages, verify_hash alone verifying them. */
    assert_int_equal(gen(f, &alice, "det",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                  PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH, det)),
                     0);
    struct psc_out s1 = {0}, s2 = {0}, pub = {0};
    assert_int_equal(sign_msg(f, &alice, "det", det, msg, sizeof(msg), &s1), 0);
    assert_int_equal(sign_msg(f, &alice, "det", det, msg, sizeof(msg), &s2), 0);
    assert_int_equal(s1.len, 64);
    assert_memory_equal(s1.p, s2.p, 64); /* RFC 6979: same message, same signature */
    assert_int_equal(verify_msg(f, &alice, "det", det, msg, sizeof(msg), s1.p, s1.len), 0);
    assert_int_equal(verify_msg(f, &alice, "det", det, msg, sizeof(msg) - 1, s1.p, s1.len),
                     PSC_PSA_INVALID_SIGNATURE);
    /* OpenSSL checks the message signature against SHA-256 of the message. */
    assert_int_equal(export_pub(f, &alice, "det", &pub), 0);
    EVP_PKEY *pk = ossl_ec_pub("prime256v1", pub.p, pub.len);
    uint8_t h[32], *der = NULL;
    digest(PSA_ALG_SHA_256, msg, sizeof(msg), h);
    int dl = rs_to_der(s1.p, s1.len, &der);
    assert_true(ossl_verify(pk, 0, NULL, h, 32, der, (size_t)dl));
    /* Signing the hash gives the same deterministic signature. */
    struct psc_out s3 = {0};
    assert_int_equal(sign_hash(f, &alice, "det", det, h, 32, &s3), 0);
    assert_memory_equal(s1.p, s3.p, 64);
    OPENSSL_free(der);
    der = NULL;
    EVP_PKEY_free(pk);
    out_free(&s1);
    out_free(&s2);
    out_free(&s3);
    out_free(&pub);

    /* ECDSA-any signs a digest of any length, and OpenSSL agrees. */
    assert_int_equal(gen(f, &alice, "any",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                  PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA_ANY)),
                     0);
    uint8_t h20[20];
    digest(PSA_ALG_SHA_1, msg, sizeof(msg), h20);
    assert_int_equal(sign_hash(f, &alice, "any", PSA_ALG_ECDSA_ANY, h20, 20, &s1), 0);
    assert_int_equal(export_pub(f, &alice, "any", &pub), 0);
    pk = ossl_ec_pub("prime256v1", pub.p, pub.len);
    dl = rs_to_der(s1.p, s1.len, &der);
    assert_true(ossl_verify(pk, 0, NULL, h20, 20, der, (size_t)dl));
    OPENSSL_free(der);
    EVP_PKEY_free(pk);
    out_free(&s1);
    out_free(&pub);
}

/* ---- RSA -------------------------------------------------------------------------------- */

/* An OpenSSL RSA key as PKCS#1 RSAPrivateKey DER. */
static size_t ossl_rsa_priv_der(EVP_PKEY *pk, uint8_t **der)
{
    int n = i2d_PrivateKey(pk, der);
    assert_true(n > 0);
    return (size_t)n;
}

static void rsa_sign_interop(void **state)
{
    struct fx *f = *state;
    const uint8_t msg[] = "RSA signatures";
    uint8_t h[64];
    /* PKCS#1 v1.5 with a key we generate (1024 bits: the cheapest size the rule allows). */
    assert_int_equal(gen(f, &alice, "rsa-v15",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1024,
                                  PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH))),
                     0);
    struct psc_out pub = {0}, sig = {0};
    assert_int_equal(export_pub(f, &alice, "rsa-v15", &pub), 0);
    EVP_PKEY *pk = ossl_rsa_pub(pub.p, pub.len);
    assert_int_equal(EVP_PKEY_get_bits(pk), 1024);
    static const psa_algorithm_t hashes[] = {PSA_ALG_SHA_256, PSA_ALG_SHA_384, PSA_ALG_SHA_512,
                                             PSA_ALG_SHA_224, PSA_ALG_SHA_1};
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        size_t hl = digest(hashes[i], msg, sizeof(msg), h);
        assert_int_equal(
            sign_hash(f, &alice, "rsa-v15", PSA_ALG_RSA_PKCS1V15_SIGN(hashes[i]), h, hl, &sig), 0);
        assert_int_equal(sig.len, 128);
        assert_true(ossl_verify(pk, RSA_PKCS1_PADDING, md_of(hashes[i]), h, hl, sig.p, sig.len));
        out_free(&sig);
    }
    EVP_PKEY_free(pk);
    out_free(&pub);

    /* PKCS#1 v1.5 and PSS with OpenSSL's key (2048 bits), imported with its size deduced. */
    EVP_PKEY *ok = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(ok);
    uint8_t *der = NULL;
    size_t dl = ossl_rsa_priv_der(ok, &der);
    const psa_key_usage_t u = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH;
    assert_int_equal(
        imp(f, &alice, "rsa-pss",
            attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 0, u, PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH)), der, dl),
        0);
    assert_int_equal(imp(f, &alice, "rsa-ossl-v15",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, u,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)),
                         der, dl),
                     0);
    OPENSSL_clear_free(der, dl);
    struct psc_attrs st;
    assert_int_equal(mapping(f, &alice, "rsa-pss", NULL, &st), 0);
    assert_int_equal(st.bits, 2048);
    uint8_t osig[512];
    size_t hl = digest(PSA_ALG_SHA_256, msg, sizeof(msg), h);
    /* Ours verified by OpenSSL, OpenSSL's verified by us. */
    assert_int_equal(sign_hash(f, &alice, "rsa-pss", PSA_ALG_RSA_PSS(PSA_ALG_SHA_256), h, hl, &sig),
                     0);
    assert_true(ossl_verify(ok, RSA_PKCS1_PSS_PADDING, EVP_sha256(), h, hl, sig.p, sig.len));
    out_free(&sig);
    size_t ol = ossl_sign(ok, RSA_PKCS1_PSS_PADDING, EVP_sha256(), h, hl, osig, sizeof(osig));
    assert_int_equal(
        verify_hash(f, &alice, "rsa-pss", PSA_ALG_RSA_PSS(PSA_ALG_SHA_256), h, hl, osig, ol), 0);
    ol = ossl_sign(ok, RSA_PKCS1_PADDING, EVP_sha256(), h, hl, osig, sizeof(osig));
    assert_int_equal(verify_hash(f, &alice, "rsa-ossl-v15",
                                 PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), h, hl, osig, ol),
                     0);
    osig[10] ^= 0x80;
    assert_int_equal(verify_hash(f, &alice, "rsa-ossl-v15",
                                 PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), h, hl, osig, ol),
                     PSC_PSA_INVALID_SIGNATURE);
    /* Sign-message with PSS over SHA-384: OpenSSL checks it against the message's digest. */
    assert_int_equal(
        sign_msg(f, &alice, "rsa-pss", PSA_ALG_RSA_PSS(PSA_ALG_SHA_384), msg, sizeof(msg), &sig),
        0);
    hl = digest(PSA_ALG_SHA_384, msg, sizeof(msg), h);
    assert_true(ossl_verify(ok, RSA_PKCS1_PSS_PADDING, EVP_sha384(), h, hl, sig.p, sig.len));
    out_free(&sig);
    EVP_PKEY_free(ok);

    /* The public half alone verifies, and an RSA public key cannot sign. */
    assert_int_equal(export_pub(f, &alice, "rsa-ossl-v15", &pub), 0);
    assert_int_equal(imp(f, &alice, "rsa-pub",
                         attrs_of(PSA_KEY_TYPE_RSA_PUBLIC_KEY, 2048,
                                  PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_SIGN_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)),
                         pub.p, pub.len),
                     0);
    hl = digest(PSA_ALG_SHA_256, msg, sizeof(msg), h);
    osig[10] ^= 0x80;
    assert_int_equal(verify_hash(f, &alice, "rsa-pub", PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256),
                                 h, hl, osig, ol),
                     0);
    assert_int_not_equal(
        sign_hash(f, &alice, "rsa-pub", PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), h, hl, &sig),
        0);
    out_free(&pub);
}

static int ossl_rsa_crypt(EVP_PKEY *pk, int encrypt, int pad, const EVP_MD *md, const char *label,
                          const uint8_t *in, size_t inl, uint8_t *out, size_t *outl)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
    assert_int_equal(encrypt ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, pad), 1);
    if (pad == RSA_PKCS1_OAEP_PADDING) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(c, md), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(c, md), 1);
        if (label) {
            char *l = OPENSSL_strdup(label);
            assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(c, l, (int)strlen(label)), 1);
        }
    }
    int ok =
        encrypt ? EVP_PKEY_encrypt(c, out, outl, in, inl) : EVP_PKEY_decrypt(c, out, outl, in, inl);
    EVP_PKEY_CTX_free(c);
    return ok == 1;
}

static void rsa_encrypt_interop(void **state)
{
    struct fx *f = *state;
    const uint8_t pt[] = "session key material";
    EVP_PKEY *ok = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(ok);
    uint8_t *der = NULL;
    size_t dl = ossl_rsa_priv_der(ok, &der);
    const psa_key_usage_t u = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT;
    assert_int_equal(
        imp(f, &alice, "oaep",
            attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, u, PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256)), der,
            dl),
        0);
    assert_int_equal(imp(f, &alice, "v15",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 0, u, PSA_ALG_RSA_PKCS1V15_CRYPT), der,
                         dl),
                     0);
    OPENSSL_clear_free(der, dl);
    static const char *const labels[] = {NULL, "a label"};
    for (int i = 0; i < 2; i++) {
        struct psc_out ct = {0}, back = {0};
        uint8_t buf[256];
        size_t bl = sizeof(buf);
        /* Ours decrypted by OpenSSL. */
        assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "oaep",
                              PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), pt, sizeof(pt), labels[i], &ct),
                         0);
        assert_int_equal(ct.len, 128);
        assert_true(ossl_rsa_crypt(ok, 0, RSA_PKCS1_OAEP_PADDING, EVP_sha256(), labels[i], ct.p,
                                   ct.len, buf, &bl));
        assert_int_equal(bl, sizeof(pt));
        assert_memory_equal(buf, pt, bl);
        /* OpenSSL's decrypted by us; a different label fails. */
        bl = sizeof(buf);
        assert_true(ossl_rsa_crypt(ok, 1, RSA_PKCS1_OAEP_PADDING, EVP_sha256(), labels[i], pt,
                                   sizeof(pt), buf, &bl));
        assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_DECRYPT, "oaep",
                              PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), buf, bl, labels[i], &back),
                         0);
        assert_int_equal(back.len, sizeof(pt));
        assert_memory_equal(back.p, pt, back.len);
        out_free(&back);
        assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_DECRYPT, "oaep",
                              PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), buf, bl, labels[i] ? NULL : "x",
                              &back),
                         PSC_PSA_INVALID_PADDING);
        out_free(&ct);
    }
    /* PKCS#1 v1.5 both ways. */
    struct psc_out ct = {0}, back = {0};
    uint8_t buf[256];
    size_t bl = sizeof(buf);
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "v15", PSA_ALG_RSA_PKCS1V15_CRYPT, pt,
                          sizeof(pt), NULL, &ct),
                     0);
    assert_true(ossl_rsa_crypt(ok, 0, RSA_PKCS1_PADDING, NULL, NULL, ct.p, ct.len, buf, &bl));
    assert_memory_equal(buf, pt, sizeof(pt));
    bl = sizeof(buf);
    assert_true(ossl_rsa_crypt(ok, 1, RSA_PKCS1_PADDING, NULL, NULL, pt, sizeof(pt), buf, &bl));
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_DECRYPT, "v15", PSA_ALG_RSA_PKCS1V15_CRYPT, buf,
                          bl, NULL, &back),
                     0);
    assert_int_equal(back.len, sizeof(pt));
    assert_memory_equal(back.p, pt, sizeof(pt));
    out_free(&back);
    /* Input rules: PKCS#1 v1.5 takes no salt, nothing is encrypted or decrypted empty. */
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "v15", PSA_ALG_RSA_PKCS1V15_CRYPT, pt,
                          sizeof(pt), "salt", &back),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_DECRYPT, "v15", PSA_ALG_RSA_PKCS1V15_CRYPT, ct.p,
                          ct.len, "salt", &back),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "v15", PSA_ALG_RSA_PKCS1V15_CRYPT, NULL,
                          0, NULL, &back),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_DECRYPT, "oaep",
                          PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), NULL, 0, NULL, &back),
                     PSC_PSA_INVALID_ARGUMENT);
    /* The algorithm must be the key's. */
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "oaep", PSA_ALG_RSA_PKCS1V15_CRYPT, pt,
                          sizeof(pt), NULL, &back),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(asym(f, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, "oaep", PSA_ALG_RSA_OAEP(PSA_ALG_SHA_1),
                          pt, sizeof(pt), NULL, &back),
                     PSC_PSA_NOT_PERMITTED);
    out_free(&ct);
    EVP_PKEY_free(ok);
}

/* ---- symmetric ------------------------------------------------------------------------ */

static const uint8_t key128[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t key256[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* One AEAD with OpenSSL; ccm needs the lengths up front. Returns 1 on success. */
static int ossl_aead(const EVP_CIPHER *ciph, int enc, int ccm, const uint8_t *key,
                     const uint8_t *nonce, size_t nl, const uint8_t *ad, size_t adl,
                     const uint8_t *in, size_t inl, uint8_t *out, size_t *outl)
{
    const size_t tl = 16;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0;
    size_t body = enc ? inl : inl - tl;
    assert_int_equal(EVP_CipherInit_ex(c, ciph, NULL, NULL, NULL, enc), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)nl, NULL), 1);
    if (ccm || !enc)
        assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tl,
                                             enc ? NULL : (void *)(in + body)),
                         1);
    assert_int_equal(EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc), 1);
    if (ccm)
        assert_int_equal(EVP_CipherUpdate(c, NULL, &n, NULL, (int)body), 1);
    if (adl)
        assert_int_equal(EVP_CipherUpdate(c, NULL, &n, ad, (int)adl), 1);
    if (EVP_CipherUpdate(c, out, &n, in, (int)body) != 1)
        goto out;
    *outl = (size_t)n;
    if (!ccm) {
        if (EVP_CipherFinal_ex(c, out + n, &n) != 1)
            goto out;
        *outl += (size_t)n;
    }
    if (enc) {
        assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, (int)tl, out + *outl), 1);
        *outl += tl;
    }
    ok = 1;
out:
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static void aead_interop(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *name;
        psa_key_type_t type;
        const uint8_t *key;
        size_t bits;
        psa_algorithm_t alg;
        size_t nonce_len;
        int ccm;
    } cases[] = {
        {"gcm", PSA_KEY_TYPE_AES, key128, 128, PSA_ALG_GCM, 12, 0},
        {"ccm", PSA_KEY_TYPE_AES, key256, 256, PSA_ALG_CCM, 13, 1},
        {"chachapoly", PSA_KEY_TYPE_CHACHA20, key256, 256, PSA_ALG_CHACHA20_POLY1305, 12, 0},
    };
    const uint8_t nonce[13] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3};
    const uint8_t ad[] = "header";
    const uint8_t pt[] = "attack at dawn, or a little after";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const EVP_CIPHER *ciph = i == 0   ? EVP_aes_128_gcm()
                                 : i == 1 ? EVP_aes_256_ccm()
                                          : EVP_chacha20_poly1305();
        assert_int_equal(imp(f, &alice, cases[i].name,
                             attrs_of(cases[i].type, cases[i].bits,
                                      PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, cases[i].alg),
                             cases[i].key, cases[i].bits / 8),
                         0);
        const size_t nl = cases[i].nonce_len;
        struct psc_out ct = {0}, back = {0};
        uint8_t buf[128];
        size_t bl = 0;
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_ENCRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad), pt, sizeof(pt), &ct),
                         0);
        assert_int_equal(ct.len, sizeof(pt) + 16);
        assert_true(ossl_aead(ciph, 0, cases[i].ccm, cases[i].key, nonce, nl, ad, sizeof(ad), ct.p,
                              ct.len, buf, &bl));
        assert_int_equal(bl, sizeof(pt));
        assert_memory_equal(buf, pt, bl);
        assert_true(ossl_aead(ciph, 1, cases[i].ccm, cases[i].key, nonce, nl, ad, sizeof(ad), pt,
                              sizeof(pt), buf, &bl));
        assert_int_equal(bl, ct.len);
        assert_memory_equal(buf, ct.p, bl);
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad), buf, bl, &back),
                         0);
        assert_int_equal(back.len, sizeof(pt));
        assert_memory_equal(back.p, pt, back.len);
        out_free(&back);
        /* A changed byte or other additional data fails the tag. */
        buf[0] ^= 1;
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad), buf, bl, &back),
                         PSC_PSA_INVALID_SIGNATURE);
        buf[0] ^= 1;
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad) - 1, buf, bl, &back),
                         PSC_PSA_INVALID_SIGNATURE);
        /* Empty nonce or input. */
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_ENCRYPT, cases[i].name, cases[i].alg, nonce, 0, ad,
                              sizeof(ad), pt, sizeof(pt), &back),
                         PSC_PSA_INVALID_ARGUMENT);
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_ENCRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad), NULL, 0, &back),
                         PSC_PSA_INVALID_ARGUMENT);
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, cases[i].name, cases[i].alg, NULL, 0, ad,
                              sizeof(ad), buf, bl, &back),
                         PSC_PSA_INVALID_ARGUMENT);
        assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, cases[i].name, cases[i].alg, nonce, nl,
                              ad, sizeof(ad), NULL, 0, &back),
                         PSC_PSA_INVALID_ARGUMENT);
        out_free(&ct);
    }
    /* A shortened tag is a different algorithm, permitted only by its own policy. */
    assert_int_equal(imp(f, &alice, "gcm12",
                         attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT,
                                  PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 12)),
                         key128, 16),
                     0);
    struct psc_out ct = {0};
    assert_int_equal(aead(f, PSC_OP_PSA_AEAD_ENCRYPT, "gcm12",
                          PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 12), nonce, 12, NULL, 0, pt,
                          sizeof(pt), &ct),
                     0);
    assert_int_equal(ct.len, sizeof(pt) + 12);
    out_free(&ct);
    assert_int_equal(aead(f, PSC_OP_PSA_AEAD_ENCRYPT, "gcm12", PSA_ALG_GCM, nonce, 12, NULL, 0, pt,
                          sizeof(pt), &ct),
                     PSC_PSA_NOT_PERMITTED);
}

static int ossl_cipher(const EVP_CIPHER *ciph, int enc, const uint8_t *key, const uint8_t *iv,
                       const uint8_t *in, size_t inl, uint8_t *out, size_t *outl)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0, ok = 0;
    assert_int_equal(EVP_CipherInit_ex(c, ciph, NULL, key, iv, enc), 1);
    if (EVP_CipherUpdate(c, out, &n, in, (int)inl) == 1 && EVP_CipherFinal_ex(c, out + n, &m) == 1)
        ok = 1;
    *outl = (size_t)(n + m);
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static void cipher_interop(void **state)
{
    struct fx *f = *state;
    const uint8_t pt[] = "forty-one bytes of text to be encrypted.";
    static const struct {
        const char *name;
        psa_algorithm_t alg;
    } cases[] = {{"cbc", PSA_ALG_CBC_PKCS7}, {"ctr", PSA_ALG_CTR}};
    for (size_t i = 0; i < 2; i++) {
        const EVP_CIPHER *ciph = i == 0 ? EVP_aes_128_cbc() : EVP_aes_128_ctr();
        assert_int_equal(imp(f, &alice, cases[i].name,
                             attrs_of(PSA_KEY_TYPE_AES, 128,
                                      PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, cases[i].alg),
                             key128, 16),
                         0);
        struct psc_out c1 = {0}, c2 = {0}, back = {0};
        assert_int_equal(
            cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, cases[i].name, cases[i].alg, pt, sizeof(pt), &c1),
            0);
        assert_int_equal(
            cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, cases[i].name, cases[i].alg, pt, sizeof(pt), &c2),
            0);
        /* A fresh random IV leads every ciphertext. */
        assert_int_equal(c1.len, 16 + (i == 0 ? (sizeof(pt) / 16 + 1) * 16 : sizeof(pt)));
        assert_memory_not_equal(c1.p, c2.p, 16);
        uint8_t buf[128];
        size_t bl = 0;
        assert_true(ossl_cipher(ciph, 0, key128, c1.p, c1.p + 16, c1.len - 16, buf, &bl));
        assert_int_equal(bl, sizeof(pt));
        assert_memory_equal(buf, pt, bl);
        /* OpenSSL's IV || ciphertext decrypted by us. */
        uint8_t iv_ct[128];
        memset(iv_ct, 0x5a, 16);
        assert_true(ossl_cipher(ciph, 1, key128, iv_ct, pt, sizeof(pt), iv_ct + 16, &bl));
        assert_int_equal(cipher(f, PSC_OP_PSA_CIPHER_DECRYPT, cases[i].name, cases[i].alg, iv_ct,
                                16 + bl, &back),
                         0);
        assert_int_equal(back.len, sizeof(pt));
        assert_memory_equal(back.p, pt, back.len);
        out_free(&back);
        assert_int_equal(
            cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, cases[i].name, cases[i].alg, NULL, 0, &back),
            PSC_PSA_INVALID_ARGUMENT);
        assert_int_equal(
            cipher(f, PSC_OP_PSA_CIPHER_DECRYPT, cases[i].name, cases[i].alg, NULL, 0, &back),
            PSC_PSA_INVALID_ARGUMENT);
        out_free(&c1);
        out_free(&c2);
    }
    /* CBC with PKCS#7 padding is not CBC without padding. */
    struct psc_out o = {0};
    assert_int_equal(
        cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, "cbc", PSA_ALG_CBC_NO_PADDING, pt, 32, &o),
        PSC_PSA_NOT_PERMITTED);
}

/* ---- key agreement -------------------------------------------------------------------- */

static size_t ossl_derive(EVP_PKEY *mine, EVP_PKEY *peer, uint8_t *out, size_t cap)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
    size_t n = cap;
    assert_int_equal(EVP_PKEY_derive_init(c), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(c, peer), 1);
    assert_int_equal(EVP_PKEY_derive(c, out, &n), 1);
    EVP_PKEY_CTX_free(c);
    return n;
}

static void ecdh_interop(void **state)
{
    struct fx *f = *state;
    const psa_key_usage_t u = PSA_KEY_USAGE_DERIVE;
    /* P-256 */
    assert_int_equal(
        gen(f, &alice, "ecdh",
            attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, u, PSA_ALG_ECDH)),
        0);
    struct psc_out pub = {0}, secret = {0};
    assert_int_equal(export_pub(f, &alice, "ecdh", &pub), 0);
    EVP_PKEY *ours = ossl_ec_pub("prime256v1", pub.p, pub.len);
    EVP_PKEY *theirs = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    uint8_t tpub[100], expect[66];
    size_t tl = ossl_ec_pub_bytes(theirs, tpub, sizeof(tpub));
    assert_int_equal(agree(f, &alice, "ecdh", PSA_ALG_ECDH, tpub, tl, &secret), 0);
    size_t el = ossl_derive(theirs, ours, expect, sizeof(expect));
    assert_int_equal(secret.len, 32);
    assert_int_equal(el, 32);
    assert_memory_equal(secret.p, expect, 32);
    out_free(&secret);
    /* A point not on the curve is refused. */
    tpub[tl - 1] ^= 1;
    assert_int_equal(agree(f, &alice, "ecdh", PSA_ALG_ECDH, tpub, tl, &secret),
                     PSC_PSA_INVALID_ARGUMENT);
    EVP_PKEY_free(ours);
    EVP_PKEY_free(theirs);
    out_free(&pub);

    /* X25519: OpenSSL's private key imported, secret computed both ways. */
    EVP_PKEY *x1 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *x2 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    uint8_t priv[32], p2[32];
    size_t l = 32;
    assert_int_equal(EVP_PKEY_get_raw_private_key(x1, priv, &l), 1);
    assert_int_equal(
        imp(f, &alice, "x25519",
            attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255, u, PSA_ALG_ECDH),
            priv, 32),
        0);
    l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(x2, p2, &l), 1);
    assert_int_equal(agree(f, &alice, "x25519", PSA_ALG_ECDH, p2, 32, &secret), 0);
    el = ossl_derive(x1, x2, expect, sizeof(expect));
    assert_int_equal(secret.len, el);
    assert_memory_equal(secret.p, expect, el);
    out_free(&secret);
    /* Our public key is OpenSSL's. */
    assert_int_equal(export_pub(f, &alice, "x25519", &pub), 0);
    l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(x1, p2, &l), 1);
    assert_int_equal(pub.len, 32);
    assert_memory_equal(pub.p, p2, 32);
    out_free(&pub);
    /* A generated X25519 key agrees with OpenSSL too. */
    assert_int_equal(
        gen(f, &alice, "x25519-gen",
            attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255, u, PSA_ALG_ECDH)),
        0);
    assert_int_equal(export_pub(f, &alice, "x25519-gen", &pub), 0);
    EVP_PKEY *gp = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub.p, pub.len);
    assert_non_null(gp);
    l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(x2, p2, &l), 1);
    assert_int_equal(agree(f, &alice, "x25519-gen", PSA_ALG_ECDH, p2, 32, &secret), 0);
    el = ossl_derive(x2, gp, expect, sizeof(expect));
    assert_memory_equal(secret.p, expect, el);
    out_free(&secret);
    out_free(&pub);
    /* derive usage and the ECDH policy are both required. */
    assert_int_equal(gen(f, &alice, "no-derive",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255,
                                  PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDH)),
                     0);
    assert_int_equal(agree(f, &alice, "no-derive", PSA_ALG_ECDH, p2, 32, &secret),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(agree(f, &alice, "ecdh", PSA_ALG_FFDH, p2, 32, &secret),
                     PSC_PSA_NOT_PERMITTED);
    EVP_PKEY_free(gp);
    EVP_PKEY_free(x1);
    EVP_PKEY_free(x2);
}

/* ---- hashes and random ---------------------------------------------------------------- */

static int hash_call(struct fx *f, uint32_t opcode, psa_algorithm_t alg, const void *in, size_t inl,
                     const uint8_t *h, size_t hl, struct psc_out *out)
{
    struct psc_args a = {
        .opcode = opcode, .alg = alg, .input = bytes_ref(in, inl), .hash = bytes_ref(h, hl)};
    /* Hashing needs no authenticated application. */
    static const struct psc_app anon = {.name = NULL};
    return call(f, &anon, &a, out);
}

static void hashes(void **state)
{
    struct fx *f = *state;
    const char in[] = "The quick brown fox jumps over the lazy dog";
    static const psa_algorithm_t algs[] = {PSA_ALG_MD5,     PSA_ALG_SHA_1,   PSA_ALG_RIPEMD160,
                                           PSA_ALG_SHA_224, PSA_ALG_SHA_256, PSA_ALG_SHA_384,
                                           PSA_ALG_SHA_512};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        uint8_t expect[64];
        size_t el = digest(algs[i], in, strlen(in), expect);
        assert_int_equal(el, policy_hash_length(algs[i]));
        struct psc_out h = {0};
        assert_int_equal(
            hash_call(f, PSC_OP_PSA_HASH_COMPUTE, algs[i], in, strlen(in), NULL, 0, &h), 0);
        assert_int_equal(h.len, el);
        assert_memory_equal(h.p, expect, el);
        assert_int_equal(
            hash_call(f, PSC_OP_PSA_HASH_COMPARE, algs[i], in, strlen(in), expect, el, NULL), 0);
        expect[0] ^= 1;
        assert_int_equal(
            hash_call(f, PSC_OP_PSA_HASH_COMPARE, algs[i], in, strlen(in), expect, el, NULL),
            PSC_PSA_INVALID_SIGNATURE);
        /* A hash of the wrong length is a mismatch (the original and Mbed TLS), even the
         * right digest cut short or an empty one. */
        expect[0] ^= 1;
        assert_int_equal(
            hash_call(f, PSC_OP_PSA_HASH_COMPARE, algs[i], in, strlen(in), expect, el - 1, NULL),
            PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(
            hash_call(f, PSC_OP_PSA_HASH_COMPARE, algs[i], in, strlen(in), NULL, 0, NULL),
            PSC_PSA_INVALID_SIGNATURE);
        out_free(&h);
    }
    /* Empty input is a valid message. */
    struct psc_out h = {0};
    uint8_t e[32];
    digest(PSA_ALG_SHA_256, "", 0, e);
    assert_int_equal(hash_call(f, PSC_OP_PSA_HASH_COMPUTE, PSA_ALG_SHA_256, NULL, 0, NULL, 0, &h),
                     0);
    assert_memory_equal(h.p, e, 32);
    out_free(&h);
    /* What Debian's Mbed TLS does not implement. */
    assert_int_equal(hash_call(f, PSC_OP_PSA_HASH_COMPUTE, PSA_ALG_SHA3_256, in, 3, NULL, 0, &h),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(hash_call(f, PSC_OP_PSA_HASH_COMPUTE, PSA_ALG_SHA_512_256, in, 3, NULL, 0, &h),
                     PSC_PSA_NOT_SUPPORTED);
    uint8_t z[32] = {0};
    assert_int_equal(hash_call(f, PSC_OP_PSA_HASH_COMPARE, PSA_ALG_SHA3_256, in, 3, z, 32, NULL),
                     PSC_PSA_NOT_SUPPORTED);
}

static void random_bytes(void **state)
{
    struct fx *f = *state;
    struct psc_args a = {.opcode = PSC_OP_PSA_GENERATE_RANDOM, .size = 64};
    struct psc_out r1 = {0}, r2 = {0};
    assert_int_equal(call(f, NULL, &a, &r1), 0);
    assert_int_equal(call(f, NULL, &a, &r2), 0);
    assert_int_equal(r1.len, 64);
    assert_memory_not_equal(r1.p, r2.p, 64);
    out_free(&r1);
    out_free(&r2);
    a.size = 0;
    assert_int_equal(call(f, NULL, &a, &r1), 0);
    assert_int_equal(r1.len, 0);
    out_free(&r1);
    a.size = f->env.buffer_size_limit;
    assert_int_equal(call(f, NULL, &a, &r1), 0);
    assert_int_equal(r1.len, f->env.buffer_size_limit);
    out_free(&r1);
    a.size = (uint64_t)f->env.buffer_size_limit + 1;
    assert_int_equal(call(f, NULL, &a, &r1), PSC_RESPONSE_TOO_LARGE);
    a.size = UINT64_MAX;
    assert_int_equal(call(f, NULL, &a, &r1), PSC_RESPONSE_TOO_LARGE);
}

/* ---- key management contracts --------------------------------------------------------- */

static void generate_rules(void **state)
{
    struct fx *f = *state;
    const struct psc_attrs p256 = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                           PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    /* The first key ever is id 2, then 3. */
    assert_int_equal(gen(f, &alice, "k", p256), 0);
    psa_key_id_t id = 0;
    assert_int_equal(mapping(f, &alice, "k", &id, NULL), 0);
    assert_int_equal(id, 2);
    char path[256];
    key_file(f, id, path, sizeof(path));
    assert_true(file_exists(path));
    /* The name is taken for alice, free for bob. */
    assert_int_equal(gen(f, &alice, "k", p256), PSC_PSA_ALREADY_EXISTS);
    uint8_t d[32] = {1};
    assert_int_equal(imp(f, &alice, "k", attrs_of(PSA_KEY_TYPE_AES, 256, 0, 0), d, 32),
                     PSC_PSA_ALREADY_EXISTS);
    assert_int_equal(gen(f, &bob, "k", p256), 0);
    assert_int_equal(mapping(f, &bob, "k", &id, NULL), 0);
    assert_int_equal(id, 3);
    /* Deprecated primitives: refused unless allowed; import only warns. */
    const struct psc_attrs des = attrs_of(PSA_KEY_TYPE_DES, 192, PSA_KEY_USAGE_ENCRYPT, 0);
    assert_int_equal(gen(f, &alice, "des", des), PSC_DEPRECATED_PRIMITIVE);
    assert_int_equal(gen(f, &alice, "sha1",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                  PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_1))),
                     PSC_DEPRECATED_PRIMITIVE);
    uint8_t dk[24];
    memset(dk, 0x5c, sizeof(dk));
    assert_int_equal(imp(f, &alice, "des-imported", des, dk, sizeof(dk)), 0);
    f->p->env.allow_deprecated = 1;
    assert_int_equal(gen(f, &alice, "des", des), 0);
    f->p->env.allow_deprecated = 0;
    /* Deprecation is checked before the name. */
    assert_int_equal(gen(f, &alice, "des", des), PSC_DEPRECATED_PRIMITIVE);
    /* RSA sizes: 1024, 2048, 4096 only, checked before the name. */
    assert_int_equal(gen(f, &alice, "rsa",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 3072, PSA_KEY_USAGE_SIGN_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256))),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(gen(f, &alice, "k",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 512, PSA_KEY_USAGE_SIGN_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256))),
                     PSC_PSA_INVALID_ARGUMENT);
    /* Public keys can be imported, not generated. */
    assert_int_equal(gen(f, &alice, "pub",
                         attrs_of(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256,
                                  PSA_KEY_USAGE_VERIFY_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256))),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(gen(f, &alice, "pub", attrs_of(PSA_KEY_TYPE_RSA_PUBLIC_KEY, 2048, 0, 0)),
                     PSC_PSA_INVALID_ARGUMENT);
    /* Curves Mbed TLS 2.28 does not implement. */
    assert_int_equal(gen(f, &alice, "sect",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECT_K1), 409,
                                  PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(gen(f, &alice, "x448",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 448,
                                  PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH)),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(gen(f, &alice, "dh",
                         attrs_of(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919), 2048,
                                  PSA_KEY_USAGE_DERIVE, PSA_ALG_FFDH)),
                     PSC_PSA_NOT_SUPPORTED);
    /* Failed creations leave neither a mapping nor a key file. */
    assert_int_equal(mapping(f, &alice, "sect", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(count_key_files(f), 4);
    /* Symmetric and other key types Mbed TLS generates. */
    assert_int_equal(
        gen(f, &alice, "aes",
            attrs_of(PSA_KEY_TYPE_AES, 192, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_CBC_NO_PADDING)),
        0);
    assert_int_equal(gen(f, &alice, "cam", attrs_of(PSA_KEY_TYPE_CAMELLIA, 256, 0, 0)), 0);
    assert_int_equal(gen(f, &alice, "chacha", attrs_of(PSA_KEY_TYPE_CHACHA20, 256, 0, 0)), 0);
    assert_int_equal(
        gen(f, &alice, "raw", attrs_of(PSA_KEY_TYPE_RAW_DATA, 88, PSA_KEY_USAGE_EXPORT, 0)), 0);
    assert_int_equal(
        gen(f, &alice, "hmac", attrs_of(PSA_KEY_TYPE_HMAC, 256, 0, PSA_ALG_HMAC(PSA_ALG_SHA_256))),
        0);
    assert_int_equal(gen(f, &alice, "aes-bad", attrs_of(PSA_KEY_TYPE_AES, 100, 0, 0)),
                     PSC_PSA_INVALID_ARGUMENT);
    /* The cache flag survives in the mapping although Mbed TLS 2.28 has no such usage. */
    assert_int_equal(gen(f, &alice, "cached",
                         attrs_of(PSA_KEY_TYPE_AES, 128,
                                  PSA_KEY_USAGE_CACHE | PSA_KEY_USAGE_ENCRYPT, PSA_ALG_CTR)),
                     0);
    struct psc_attrs st;
    assert_int_equal(mapping(f, &alice, "cached", NULL, &st), 0);
    assert_int_equal(st.usage, PSA_KEY_USAGE_CACHE | PSA_KEY_USAGE_ENCRYPT);
    assert_int_equal(st.alg, PSA_ALG_CTR);
    /* Without an application there is no key namespace. */
    assert_int_equal(gen(f, NULL, "anon", p256), PSC_NOT_AUTHENTICATED);
}

static void import_rules(void **state)
{
    struct fx *f = *state;
    uint8_t k16[16] = {7};
    /* The size must match the data, or be 0 and deduced. */
    assert_int_equal(imp(f, &alice, "a", attrs_of(PSA_KEY_TYPE_AES, 256, 0, 0), k16, 16),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(imp(f, &alice, "a", attrs_of(PSA_KEY_TYPE_AES, 0, 0, 0), k16, 16), 0);
    struct psc_attrs st;
    assert_int_equal(mapping(f, &alice, "a", NULL, &st), 0);
    assert_int_equal(st.bits, 128);
    assert_int_equal(imp(f, &alice, "b", attrs_of(PSA_KEY_TYPE_AES, 0, 0, 0), k16, 0),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(imp(f, &alice, "b", attrs_of(PSA_KEY_TYPE_AES, 0, 0, 0), k16, 15),
                     PSC_PSA_INVALID_ARGUMENT);
    /* Garbage for an ECC key pair, a point off the curve for a public key. */
    uint8_t junk[65];
    memset(junk, 0xff, sizeof(junk));
    assert_int_equal(imp(f, &alice, "b",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, 0, 0),
                         junk, 32),
                     PSC_PSA_INVALID_ARGUMENT);
    junk[0] = 0x04;
    assert_int_equal(imp(f, &alice, "b",
                         attrs_of(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256, 0, 0),
                         junk, 65),
                     PSC_PSA_INVALID_ARGUMENT);
    /* A named RSA size follows the generation rule; a deduced one is free. */
    EVP_PKEY *rk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1536);
    uint8_t *der = NULL;
    size_t dl = ossl_rsa_priv_der(rk, &der);
    assert_int_equal(
        imp(f, &alice, "rsa1536", attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1536, 0, 0), der, dl),
        PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(
        imp(f, &alice, "rsa1536", attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 0, 0, 0), der, dl), 0);
    assert_int_equal(mapping(f, &alice, "rsa1536", NULL, &st), 0);
    assert_int_equal(st.bits, 1536);
    assert_int_equal(
        imp(f, &alice, "rsa2048", attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 2048, 0, 0), der, dl),
        PSC_PSA_INVALID_ARGUMENT);
    OPENSSL_clear_free(der, dl);
    EVP_PKEY_free(rk);
    /* Nothing of the failed imports was kept. */
    assert_int_equal(count_key_files(f), 2);
    assert_int_equal(mapping(f, &alice, "b", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
}

static void export_rules(void **state)
{
    struct fx *f = *state;
    /* Export needs the flag; export of the public part never does. */
    assert_int_equal(gen(f, &alice, "exp",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                  PSA_KEY_USAGE_EXPORT, PSA_ALG_ECDSA(PSA_ALG_SHA_256))),
                     0);
    assert_int_equal(gen(f, &alice, "noexp",
                         attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, 0, 0)),
                     0);
    struct psc_out priv = {0}, pub = {0};
    assert_int_equal(export_key(f, &alice, "noexp", &priv), PSC_PSA_NOT_PERMITTED);
    assert_int_equal(export_pub(f, &alice, "noexp", &pub), 0);
    /* A public key exports without the flag, with a policy for verification only or none. */
    const psa_key_usage_t pub_usage[] = {0, PSA_KEY_USAGE_VERIFY_HASH};
    for (size_t i = 0; i < 2; i++) {
        const char *name = i ? "pub-verify" : "pub-none";
        assert_int_equal(imp(f, &alice, name,
                             attrs_of(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256,
                                      pub_usage[i], PSA_ALG_ECDSA(PSA_ALG_SHA_256)),
                             pub.p, pub.len),
                         0);
        struct psc_out back = {0};
        assert_int_equal(export_key(f, &alice, name, &back), 0);
        assert_int_equal(back.len, pub.len);
        assert_memory_equal(back.p, pub.p, pub.len);
        out_free(&back);
    }
    out_free(&pub);
    assert_int_equal(export_key(f, &alice, "exp", &priv), 0);
    assert_int_equal(priv.len, 32);
    assert_int_equal(export_pub(f, &alice, "exp", &pub), 0);
    /* OpenSSL derives the same public key from the exported private value. */
    BIGNUM *d = BN_bin2bn(priv.p, (int)priv.len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.p, pub.len);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(c), 1);
    assert_int_equal(EVP_PKEY_fromdata(c, &pk, EVP_PKEY_KEYPAIR, params), 1);
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new(pk, NULL);
    assert_int_equal(EVP_PKEY_pairwise_check(chk), 1);
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    out_free(&priv);
    out_free(&pub);
    /* Symmetric keys export raw, have no public part. */
    assert_int_equal(
        imp(f, &alice, "aes", attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_EXPORT, 0), key128, 16),
        0);
    assert_int_equal(export_key(f, &alice, "aes", &priv), 0);
    assert_int_equal(priv.len, 16);
    assert_memory_equal(priv.p, key128, 16);
    out_free(&priv);
    assert_int_equal(export_pub(f, &alice, "aes", &pub), PSC_PSA_INVALID_ARGUMENT);
    /* RSA: the exported key pair is PKCS#1 DER that OpenSSL reads. */
    assert_int_equal(gen(f, &alice, "rsa",
                         attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, PSA_KEY_USAGE_EXPORT,
                                  PSA_ALG_RSA_PKCS1V15_CRYPT)),
                     0);
    assert_int_equal(export_key(f, &alice, "rsa", &priv), 0);
    const uint8_t *pp = priv.p;
    EVP_PKEY *rk = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &pp, (long)priv.len);
    assert_non_null(rk);
    assert_int_equal(EVP_PKEY_get_bits(rk), 1024);
    EVP_PKEY_free(rk);
    out_free(&priv);
    /* Another application cannot see the key at all. */
    assert_int_equal(export_key(f, &bob, "exp", &priv), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(export_pub(f, &bob, "exp", &pub), PSC_PSA_DOES_NOT_EXIST);
}

static void destroy_rules(void **state)
{
    struct fx *f = *state;
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(gen(f, &alice, "gone", at), 0);
    psa_key_id_t id = 0;
    assert_int_equal(mapping(f, &alice, "gone", &id, NULL), 0);
    char path[256];
    key_file(f, id, path, sizeof(path));
    assert_true(file_exists(path));
    /* bob cannot destroy (or use) alice's key. */
    assert_int_equal(destroy_key(f, &bob, "gone"), PSC_PSA_DOES_NOT_EXIST);
    uint8_t h[32] = {0};
    struct psc_out sig = {0};
    assert_int_equal(sign_hash(f, &bob, "gone", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, 32, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(destroy_key(f, &alice, "gone"), 0);
    assert_false(file_exists(path));
    assert_int_equal(mapping(f, &alice, "gone", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(destroy_key(f, &alice, "gone"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(sign_hash(f, &alice, "gone", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, 32, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    /* The name can be used again, with a new id. */
    assert_int_equal(gen(f, &alice, "gone", at), 0);
    psa_key_id_t id2;
    assert_int_equal(mapping(f, &alice, "gone", &id2, NULL), 0);
    assert_int_equal(id2, id + 1);
    /* A key file that vanished while the key sits in Mbed TLS's slot cache: destroying the key
     * still removes the mapping and succeeds. */
    key_file(f, id2, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(destroy_key(f, &alice, "gone"), 0);
    assert_int_equal(mapping(f, &alice, "gone", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
}

/* A destroy whose mapping cannot be removed (another process holds the store's write lock): the
 * key itself is already gone, so no private key outlives a destroy that went wrong half-way.
 * The mapping left behind answers 1140, and the next destroy removes it. */
static void destroy_removes_the_key_first(void **state)
{
    struct fx *f = *state;
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(gen(f, &alice, "held", at), 0);
    psa_key_id_t id = 0;
    assert_int_equal(mapping(f, &alice, "held", &id, NULL), 0);
    char path[256];
    key_file(f, id, path, sizeof(path));
    assert_true(file_exists(path));
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* The store waits for its busy timeout (5 s), then fails. */
    assert_int_equal(destroy_key(f, &alice, "held"), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_false(file_exists(path));
    assert_int_equal(mapping(f, &alice, "held", NULL, NULL), 0);
    uint8_t h[32] = {0};
    struct psc_out sig = {0};
    assert_int_equal(sign_hash(f, &alice, "held", PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, 32, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(destroy_key(f, &alice, "held"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(mapping(f, &alice, "held", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(gen(f, &alice, "held", at), 0);
    assert_int_equal(destroy_key(f, &alice, "held"), 0);
}

/* ---- policy enforcement ------------------------------------------------------------- */

static void policy_enforced(void **state)
{
    struct fx *f = *state;
    uint8_t h32[32] = {1}, h48[48] = {2}, m[] = "msg";
    struct psc_out s = {0};
    const psa_key_type_t p256 = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
    const psa_algorithm_t e256 = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    /* Usage flags. */
    assert_int_equal(
        gen(f, &alice, "verify-only", attrs_of(p256, 256, PSA_KEY_USAGE_VERIFY_HASH, e256)), 0);
    assert_int_equal(sign_hash(f, &alice, "verify-only", e256, h32, 32, &s), PSC_PSA_NOT_PERMITTED);
    assert_int_equal(sign_msg(f, &alice, "verify-only", e256, m, 3, &s), PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        gen(f, &alice, "msg-only",
            attrs_of(p256, 256, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE, e256)),
        0);
    assert_int_equal(sign_hash(f, &alice, "msg-only", e256, h32, 32, &s), PSC_PSA_NOT_PERMITTED);
    assert_int_equal(sign_msg(f, &alice, "msg-only", e256, m, 3, &s), 0);
    assert_int_equal(verify_msg(f, &alice, "msg-only", e256, m, 3, s.p, s.len), 0);
    assert_int_equal(verify_hash(f, &alice, "msg-only", e256, h32, 32, s.p, s.len),
                     PSC_PSA_NOT_PERMITTED);
    out_free(&s);
    /* Algorithm: exact unless the policy's hash is "any". */
    assert_int_equal(
        gen(f, &alice, "sha256",
            attrs_of(p256, 256, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH, e256)),
        0);
    assert_int_equal(sign_hash(f, &alice, "sha256", PSA_ALG_ECDSA(PSA_ALG_SHA_384), h48, 48, &s),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        sign_hash(f, &alice, "sha256", PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256), h32, 32, &s),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(sign_hash(f, &alice, "sha256", PSA_ALG_ECDSA_ANY, h32, 32, &s),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        gen(f, &alice, "anyhash",
            attrs_of(p256, 256, PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH))),
        0);
    assert_int_equal(sign_hash(f, &alice, "anyhash", PSA_ALG_ECDSA(PSA_ALG_SHA_384), h48, 48, &s),
                     0);
    out_free(&s);
    assert_int_equal(sign_hash(f, &alice, "anyhash", e256, h32, 32, &s), 0);
    out_free(&s);
    /* ... but a request never names "any", and "any" is not another scheme. */
    assert_int_equal(sign_hash(f, &alice, "anyhash", PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), h32, 32, &s),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(
        sign_hash(f, &alice, "anyhash", PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256), h32, 32, &s),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(sign_hash(f, &alice, "anyhash", PSA_ALG_ECDSA_ANY, h32, 32, &s),
                     PSC_PSA_NOT_PERMITTED);
    /* Hash length follows the requested hash. */
    assert_int_equal(sign_hash(f, &alice, "sha256", e256, h32, 31, &s), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(sign_hash(f, &alice, "sha256", e256, h48, 48, &s), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(verify_hash(f, &alice, "sha256", e256, h48, 33, h48, 48),
                     PSC_PSA_INVALID_ARGUMENT);
    /* An algorithm the key type cannot serve is not permitted, even if the policy names it. */
    assert_int_equal(gen(f, &alice, "ecc-rsa-policy",
                         attrs_of(p256, 256, PSA_KEY_USAGE_SIGN_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256))),
                     0);
    assert_int_equal(sign_hash(f, &alice, "ecc-rsa-policy",
                               PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), h32, 32, &s),
                     PSC_PSA_NOT_PERMITTED);
    /* No algorithm permits nothing. */
    assert_int_equal(gen(f, &alice, "none", attrs_of(p256, 256, PSA_KEY_USAGE_SIGN_HASH, 0)), 0);
    assert_int_equal(sign_hash(f, &alice, "none", e256, h32, 32, &s), PSC_PSA_NOT_PERMITTED);
    /* Encrypt/decrypt flags on symmetric keys. */
    assert_int_equal(imp(f, &alice, "enc-only",
                         attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_GCM),
                         key128, 16),
                     0);
    struct psc_out ct = {0};
    uint8_t nonce[12] = {0};
    assert_int_equal(
        aead(f, PSC_OP_PSA_AEAD_ENCRYPT, "enc-only", PSA_ALG_GCM, nonce, 12, NULL, 0, m, 3, &ct),
        0);
    assert_int_equal(aead(f, PSC_OP_PSA_AEAD_DECRYPT, "enc-only", PSA_ALG_GCM, nonce, 12, NULL, 0,
                          ct.p, ct.len, &s),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, "enc-only", PSA_ALG_CTR, m, 3, &s),
                     PSC_PSA_NOT_PERMITTED);
    /* An algorithm of another family than the operation's is malformed. */
    assert_int_equal(cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, "enc-only", PSA_ALG_GCM, m, 3, &s),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(sign_hash(f, &alice, "sha256", PSA_ALG_GCM, h32, 32, &s),
                     PSC_PSA_INVALID_ARGUMENT);
    out_free(&ct);
    /* Policy checks come before input checks. */
    assert_int_equal(
        aead(f, PSC_OP_PSA_AEAD_DECRYPT, "enc-only", PSA_ALG_GCM, NULL, 0, NULL, 0, NULL, 0, &s),
        PSC_PSA_NOT_PERMITTED);
    assert_int_equal(sign_hash(f, &alice, "verify-only", e256, h32, 3, &s), PSC_PSA_NOT_PERMITTED);
}

/* The pure policy rules, on PSA values. */
static void policy_unit(void **state)
{
    (void)state;
    const psa_algorithm_t any_pss = PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH);
    assert_true(policy_alg_permitted(any_pss, PSA_ALG_RSA_PSS(PSA_ALG_SHA_512)));
    assert_false(policy_alg_permitted(any_pss, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_512)));
    assert_false(policy_alg_permitted(any_pss, any_pss));
    assert_false(policy_alg_permitted(PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH),
                                      PSA_ALG_RSA_PKCS1V15_SIGN_RAW));
    assert_true(policy_alg_permitted(PSA_ALG_RSA_PKCS1V15_SIGN_RAW, PSA_ALG_RSA_PKCS1V15_SIGN_RAW));
    assert_true(policy_alg_permitted(PSA_ALG_ECDSA_ANY, PSA_ALG_ECDSA_ANY));
    assert_false(policy_alg_permitted(PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), PSA_ALG_ECDSA_ANY));
    assert_false(policy_alg_permitted(PSA_ALG_NONE, PSA_ALG_NONE));
    assert_true(policy_alg_permitted(PSA_ALG_GCM, PSA_ALG_GCM));
    assert_false(policy_alg_permitted(PSA_ALG_GCM, PSA_ALG_CCM));
    assert_false(policy_alg_permitted(PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), PSA_ALG_GCM));
    /* Compatibility table. */
    assert_true(
        policy_alg_compatible(PSA_KEY_TYPE_RSA_PUBLIC_KEY, PSA_ALG_RSA_OAEP(PSA_ALG_SHA_1)));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_RSA_KEY_PAIR, PSA_ALG_RSA_PSS(PSA_ALG_SHA_256)));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_RSA_KEY_PAIR, PSA_ALG_ECDSA_ANY));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_K1),
                                      PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256)));
    assert_true(
        policy_alg_compatible(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY),
                              PSA_ALG_KEY_AGREEMENT(PSA_ALG_ECDH, PSA_ALG_HKDF(PSA_ALG_SHA_256))));
    assert_false(
        policy_alg_compatible(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), PSA_ALG_FFDH));
    assert_true(
        policy_alg_compatible(PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919), PSA_ALG_FFDH));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_RSA_KEY_PAIR, PSA_ALG_RSA_PKCS1V15_SIGN_RAW));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_AES, PSA_ALG_CBC_PKCS7));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_AES, PSA_ALG_CMAC));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_CAMELLIA,
                                      PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8)));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_AES, PSA_ALG_CHACHA20_POLY1305));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_AES, PSA_ALG_STREAM_CIPHER));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_DES, PSA_ALG_GCM));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_DES, PSA_ALG_CBC_NO_PADDING));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_ARC4, PSA_ALG_STREAM_CIPHER));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_CHACHA20, PSA_ALG_STREAM_CIPHER));
    assert_true(policy_alg_compatible(
        PSA_KEY_TYPE_CHACHA20, PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CHACHA20_POLY1305, 8)));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_CHACHA20, PSA_ALG_CTR));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_HMAC,
                                      PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 16)));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_HMAC, PSA_ALG_CMAC));
    assert_true(policy_alg_compatible(PSA_KEY_TYPE_DERIVE, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    assert_false(policy_alg_compatible(PSA_KEY_TYPE_RAW_DATA, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    /* Usage. */
    assert_true(policy_usage_allowed(PSA_KEY_USAGE_SIGN_HASH, POLICY_SIGN_MESSAGE));
    assert_true(policy_usage_allowed(PSA_KEY_USAGE_VERIFY_HASH, POLICY_VERIFY_MESSAGE));
    assert_false(policy_usage_allowed(PSA_KEY_USAGE_SIGN_MESSAGE, POLICY_SIGN_HASH));
    assert_false(policy_usage_allowed(PSA_KEY_USAGE_VERIFY_MESSAGE, POLICY_VERIFY_HASH));
    assert_false(policy_usage_allowed(PSA_KEY_USAGE_ENCRYPT, POLICY_DECRYPT));
    assert_int_equal(policy_usage_of_opcode(PSC_OP_PSA_CIPHER_DECRYPT), POLICY_DECRYPT);
    assert_int_equal(policy_usage_of_opcode(PSC_OP_PSA_RAW_KEY_AGREEMENT), POLICY_DERIVE);
    assert_int_equal(policy_usage_of_opcode(PSC_OP_PSA_HASH_COMPUTE), -1);
    /* Input rules. */
    assert_int_equal(policy_check_hash_input(PSA_ALG_RSA_PKCS1V15_SIGN_RAW, 7), 0);
    assert_int_equal(policy_check_hash_input(PSA_ALG_ECDSA_ANY, 0), 0);
    assert_int_equal(policy_check_hash_input(PSA_ALG_RSA_PSS(PSA_ALG_SHA3_512), 64), 0);
    assert_int_equal(policy_check_hash_input(PSA_ALG_RSA_PSS(PSA_ALG_SHA_512_224), 28), 0);
    assert_int_equal(policy_check_hash_input(PSA_ALG_ECDSA(PSA_ALG_MD5), 20),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(policy_check_hash_input(PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), 32),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(policy_check_asym_input(PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), 1, 5), 0);
    assert_int_equal(policy_check_asym_input(PSA_ALG_RSA_PKCS1V15_CRYPT, 1, 1),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(policy_check_aead_input(1, 0), PSC_PSA_INVALID_ARGUMENT);
    const struct psc_attrs k = attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_DECRYPT, PSA_ALG_GCM);
    assert_int_equal(policy_check(&k, POLICY_DECRYPT, PSA_ALG_GCM), 0);
    assert_int_equal(policy_check(&k, POLICY_ENCRYPT, PSA_ALG_GCM), PSC_PSA_NOT_PERMITTED);
    assert_int_equal(policy_check(&k, POLICY_EXPORT, 0), PSC_PSA_NOT_PERMITTED);
}

/* ---- CanDoCrypto ------------------------------------------------------------------------ */

static int cdc(struct fx *f, uint32_t check, struct psc_attrs at)
{
    struct psc_args a = {
        .opcode = PSC_OP_CAN_DO_CRYPTO, .check_type = check, .attrs = at, .has_attrs = 1};
    return call(f, &alice, &a, NULL);
}

enum { USE = 1, GENERATE = 2, IMPORT = 3, DERIVE = 4 };

static void can_do_crypto(void **state)
{
    struct fx *f = *state;
    const psa_algorithm_t e256 = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    const psa_key_type_t ecc = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
    struct psc_attrs rsa = attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, PSA_KEY_USAGE_ENCRYPT,
                                    PSA_ALG_RSA_PKCS1V15_CRYPT);
    assert_int_equal(cdc(f, GENERATE, rsa), 0);
    rsa.alg = PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256);
    assert_int_equal(cdc(f, GENERATE, rsa), 0);
    /* Curves as the original service answers them (interface support, not Mbed TLS's). */
    static const struct {
        psa_ecc_family_t family;
        size_t bits;
        int ok;
    } curves_[] = {
        {PSA_ECC_FAMILY_SECP_R1, 256, 1},        {PSA_ECC_FAMILY_SECP_R1, 384, 1},
        {PSA_ECC_FAMILY_SECP_R1, 512, 0},        {PSA_ECC_FAMILY_SECP_K1, 256, 1},
        {PSA_ECC_FAMILY_SECP_K1, 512, 0},        {PSA_ECC_FAMILY_SECT_K1, 409, 1},
        {PSA_ECC_FAMILY_SECT_K1, 512, 0},        {PSA_ECC_FAMILY_SECT_R1, 409, 1},
        {PSA_ECC_FAMILY_SECT_R1, 512, 0},        {PSA_ECC_FAMILY_BRAINPOOL_P_R1, 256, 1},
        {PSA_ECC_FAMILY_BRAINPOOL_P_R1, 560, 0}, {PSA_ECC_FAMILY_FRP, 256, 0},
        {PSA_ECC_FAMILY_MONTGOMERY, 448, 1},     {PSA_ECC_FAMILY_MONTGOMERY, 512, 0},
    };
    for (size_t i = 0; i < sizeof(curves_) / sizeof(curves_[0]); i++) {
        struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(curves_[i].family),
                                       curves_[i].bits, PSA_KEY_USAGE_SIGN_HASH, e256);
        assert_int_equal(cdc(f, GENERATE, at), curves_[i].ok ? 0 : PSC_PSA_NOT_SUPPORTED);
    }
    /* Derive is never supported. */
    assert_int_equal(cdc(f, DERIVE, attrs_of(ecc, 256, PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH)),
                     PSC_PSA_NOT_SUPPORTED);
    /* Use: algorithm, one of the six usages, compatibility, size. */
    struct psc_attrs at = attrs_of(ecc, 256, 0, e256);
    assert_int_equal(cdc(f, USE, at), PSC_PSA_NOT_SUPPORTED);
    static const psa_key_usage_t usages[] = {
        PSA_KEY_USAGE_SIGN_HASH,      PSA_KEY_USAGE_SIGN_MESSAGE, PSA_KEY_USAGE_VERIFY_HASH,
        PSA_KEY_USAGE_VERIFY_MESSAGE, PSA_KEY_USAGE_DECRYPT,      PSA_KEY_USAGE_ENCRYPT};
    for (size_t i = 0; i < 6; i++) {
        at.usage = usages[i];
        assert_int_equal(cdc(f, USE, at), 0);
    }
    at.usage = PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT;
    assert_int_equal(cdc(f, USE, at), PSC_PSA_NOT_SUPPORTED);
    at.usage = PSA_KEY_USAGE_SIGN_HASH;
    at.bits = 1024;
    assert_int_equal(cdc(f, USE, at), PSC_PSA_NOT_SUPPORTED);
    struct psc_attrs r = attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 256, PSA_KEY_USAGE_SIGN_HASH,
                                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256));
    assert_int_equal(cdc(f, USE, r), PSC_PSA_NOT_SUPPORTED);
    r.bits = 2048;
    assert_int_equal(cdc(f, USE, r), 0);
    r.alg = 0;
    assert_int_equal(cdc(f, USE, r), PSC_PSA_NOT_SUPPORTED);
    r.alg = e256;
    assert_int_equal(cdc(f, USE, r), PSC_PSA_NOT_SUPPORTED);
    /* Generate: no public keys; no algorithm is fine. */
    at = attrs_of(PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256, PSA_KEY_USAGE_ENCRYPT,
                  e256);
    assert_int_equal(cdc(f, GENERATE, at), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(cdc(f, IMPORT, at), 0);
    at.alg = 0;
    assert_int_equal(cdc(f, IMPORT, at), 0);
    at = attrs_of(ecc, 256, PSA_KEY_USAGE_ENCRYPT, 0);
    assert_int_equal(cdc(f, GENERATE, at), 0);
    assert_int_equal(cdc(f, IMPORT, at), 0);
    at.bits = 1024;
    assert_int_equal(cdc(f, GENERATE, at), PSC_PSA_NOT_SUPPORTED);
    /* Import of a key whose size is left to deduce. */
    r = attrs_of(PSA_KEY_TYPE_RSA_PUBLIC_KEY, 0, PSA_KEY_USAGE_VERIFY_HASH,
                 PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256));
    assert_int_equal(cdc(f, IMPORT, r), 0);
    assert_int_equal(cdc(f, GENERATE, r), PSC_PSA_NOT_SUPPORTED);
    /* Every hash in an RSA signing policy is accepted, as by the original service. */
    r = attrs_of(PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, PSA_KEY_USAGE_SIGN_HASH,
                 PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA3_512));
    assert_int_equal(cdc(f, GENERATE, r), 0);
    /* Types outside the original provider's lists. */
    assert_int_equal(cdc(f, GENERATE, attrs_of(PSA_KEY_TYPE_HMAC, 256, 0, 0)),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(
        cdc(f, GENERATE, attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_GCM)), 0);
    assert_int_equal(
        cdc(f, GENERATE,
            attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_STREAM_CIPHER)),
        PSC_PSA_NOT_SUPPORTED);
}

/* ---- storage: restart, coherency, orphans, ids ------------------------------------------- */

static void restart_keeps_keys(void **state)
{
    struct fx *f = *state;
    const psa_algorithm_t e256 = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH, e256);
    assert_int_equal(gen(f, &alice, "kept", at), 0);
    assert_int_equal(gen(f, &alice, "lost", at), 0);
    assert_int_equal(gen(f, &alice, "last", at), 0);
    struct psc_out pub = {0}, pub2 = {0}, sig = {0};
    assert_int_equal(export_pub(f, &alice, "kept", &pub), 0);
    psa_key_id_t lost = 0, last = 0;
    assert_int_equal(mapping(f, &alice, "lost", &lost, NULL), 0);
    assert_int_equal(mapping(f, &alice, "last", &last, NULL), 0);
    char path[256];
    key_file(f, lost, path, sizeof(path));

    /* Stopped, the key file of "lost" disappears. */
    fx_stop(f);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(fx_start(f), 0);
    assert_int_equal(export_pub(f, &alice, "kept", &pub2), 0);
    assert_int_equal(pub.len, pub2.len);
    assert_memory_equal(pub.p, pub2.p, pub.len);
    uint8_t h[32] = {3};
    assert_int_equal(sign_hash(f, &alice, "kept", e256, h, 32, &sig), 0);
    assert_int_equal(verify_hash(f, &alice, "kept", e256, h, 32, sig.p, sig.len), 0);
    out_free(&sig);
    out_free(&pub);
    out_free(&pub2);
    /* Its mapping was removed at start-up, so the name is free again. */
    assert_int_equal(mapping(f, &alice, "lost", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(sign_hash(f, &alice, "lost", e256, h, 32, &sig), PSC_PSA_DOES_NOT_EXIST);
    /* Ids continue after the highest one in use. */
    assert_int_equal(gen(f, &alice, "lost", at), 0);
    psa_key_id_t id = 0;
    assert_int_equal(mapping(f, &alice, "lost", &id, NULL), 0);
    assert_int_equal(id, last + 1);

    /* A mapping with an id that is not 4 bytes is dropped at start-up too. */
    struct kim_ident who;
    provider_ident(f->p, &alice, "bad-id", &who);
    uint8_t idb[8] = {9};
    struct kim_info info = {.id = idb, .id_len = 8, .attrs = at};
    assert_int_equal(kim_insert(f->kim, &who, &info), 0);
    fx_restart(f);
    assert_int_equal(mapping(f, &alice, "bad-id", NULL, NULL), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(mapping(f, &alice, "kept", NULL, NULL), 0);
}

static void orphan_key_file_skipped(void **state)
{
    struct fx *f = *state;
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(gen(f, &alice, "a", at), 0); /* id 2 */
    assert_int_equal(gen(f, &alice, "b", at), 0); /* id 3 */
    /* A crash between key creation and mapping insert: "b"'s file stays, its mapping not. */
    struct kim_ident who;
    provider_ident(f->p, &alice, "b", &who);
    assert_int_equal(kim_remove(f->kim, &who), 0);
    fx_restart(f);
    char orphan[256];
    key_file(f, 3, orphan, sizeof(orphan));
    assert_true(file_exists(orphan)); /* reported, never deleted */
    /* The next id would be 3 (highest mapped + 1): it is taken in storage, so 4 is used. */
    assert_int_equal(gen(f, &alice, "c", at), 0);
    psa_key_id_t id = 0;
    assert_int_equal(mapping(f, &alice, "c", &id, NULL), 0);
    assert_int_equal(id, 4);
    assert_true(file_exists(orphan));
    /* The orphan's key was not touched by the new key. */
    assert_int_equal(gen(f, &alice, "b", at), 0);
    assert_int_equal(mapping(f, &alice, "b", &id, NULL), 0);
    assert_int_equal(id, 5);
}

static void id_space_exhausted(void **state)
{
    struct fx *f = *state;
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_CTR);
    /* A key with the last user id, created in storage and mapped as a crash-free run would. */
    psa_key_attributes_t pa = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&pa, PSA_KEY_ID_USER_MAX);
    psa_set_key_type(&pa, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&pa, 128);
    psa_set_key_usage_flags(&pa, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&pa, PSA_ALG_CTR);
    psa_key_id_t got;
    assert_int_equal(psa_import_key(&pa, key128, 16, &got), PSA_SUCCESS);
    struct kim_ident who;
    provider_ident(f->p, &alice, "last", &who);
    uint8_t idb[4] = {0xff, 0xff, 0xff, 0x3f};
    struct kim_info info = {.id = idb, .id_len = 4, .attrs = at};
    assert_int_equal(kim_insert(f->kim, &who, &info), 0);
    fx_restart(f);
    assert_int_equal(gen(f, &alice, "one-more", at), PSC_PSA_INSUFFICIENT_MEMORY);
    assert_int_equal(imp(f, &alice, "one-more", at, key128, 16), PSC_PSA_INSUFFICIENT_MEMORY);
    /* The last key itself still works. */
    struct psc_out ct = {0};
    assert_int_equal(cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, "last", PSA_ALG_CTR, key256, 32, &ct), 0);
    out_free(&ct);
}

static void mapping_failure_rolls_back(void **state)
{
    struct fx *f = *state;
    /* Make the store refuse one insert, with a trigger in the real database. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER refuse BEFORE INSERT ON key_mapping "
                                  "WHEN NEW.key_name = 'refused' "
                                  "BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    assert_int_equal(gen(f, &alice, "ok", at), 0);
    size_t files = count_key_files(f);
    assert_int_equal(gen(f, &alice, "refused", at), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(imp(f, &alice, "refused", attrs_of(PSA_KEY_TYPE_AES, 128, 0, 0), key128, 16),
                     PSC_KEY_INFO_MANAGER_ERROR);
    /* The back-end keys made for it were destroyed. */
    assert_int_equal(count_key_files(f), files);
    assert_int_equal(gen(f, &alice, "ok2", at), 0);
    assert_int_equal(count_key_files(f), files + 1);
}

/* Mbed TLS has 32 key slots: 100 keys used in turn, twice, must never run out of them. */
static void hundred_keys(void **state)
{
    struct fx *f = *state;
    const psa_algorithm_t e256 = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH, e256);
    char name[16];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(gen(f, &alice, name, at), 0);
    }
    uint8_t h[32] = {4};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++) {
            struct psc_out s = {0};
            snprintf(name, sizeof(name), "k%d", i);
            assert_int_equal(sign_hash(f, &alice, name, e256, h, 32, &s), 0);
            out_free(&s);
        }
    }
    for (int i = 0; i < 100; i += 2) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(destroy_key(f, &alice, name), 0);
    }
    assert_int_equal(count_key_files(f), 50);
}

static void key_store_must_be_shared(void **state)
{
    struct fx *f = *state;
    /* A second instance on another folder cannot share the process's Mbed TLS. */
    struct cfg_provider other = f->cp;
    char path[160];
    snprintf(path, sizeof(path), "%s/elsewhere", f->dir);
    other.key_store_path = path;
    other.name = "second";
    struct psc_provider *p2 = NULL;
    char err[512] = "";
    assert_int_not_equal(
        psc_mbed_crypto_provider.create(&other, f->kim, &f->env, &p2, err, sizeof(err)), 0);
    assert_null(p2);
    assert_true(strlen(err) > 0);
    /* On the same folder it can; ids never collide between the two. */
    other.key_store_path = f->keys;
    assert_int_equal(
        psc_mbed_crypto_provider.create(&other, f->kim, &f->env, &p2, err, sizeof(err)), 0);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT, PSA_ALG_CTR);
    assert_int_equal(gen(f, &alice, "one", at), 0);
    struct psc_args a = {
        .opcode = PSC_OP_PSA_GENERATE_KEY, .key_name = "two", .attrs = at, .has_attrs = 1};
    assert_int_equal(p2->type->ops[PSC_OP_PSA_GENERATE_KEY](p2, &alice, &a, NULL), 0);
    psa_key_id_t id1 = 0;
    assert_int_equal(mapping(f, &alice, "one", &id1, NULL), 0);
    struct kim_ident who;
    provider_ident(p2, &alice, "two", &who);
    struct kim_info info = {0};
    assert_int_equal(kim_get(f->kim, &who, &info), 0);
    assert_int_not_equal(info.id[0], (uint8_t)id1);
    kim_info_clear(&info);
    psc_mbed_crypto_provider.destroy(p2);
    /* The first instance keeps working after the second is gone. */
    struct psc_out ct = {0};
    assert_int_equal(cipher(f, PSC_OP_PSA_CIPHER_ENCRYPT, "one", PSA_ALG_CTR, key128, 16, &ct), 0);
    out_free(&ct);
    /* The key store was created private. */
    struct stat st;
    assert_int_equal(stat(f->keys, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

/* A relative key store is taken from the directory the process started in, also when the
 * provider restarts after having moved into its store. */
static void relative_key_store(void **state)
{
    struct fx *f = *state;
    fx_stop(f);
    char rel[64], abs[160];
    snprintf(rel, sizeof(rel), "parsec-mbed-rel-%ld", (long)getpid());
    snprintf(abs, sizeof(abs), "/tmp/%s", rel); /* main() starts in /tmp */
    f->cp.key_store_path = rel;
    assert_int_equal(fx_start(f), 0);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_EXPORT, 0);
    assert_int_equal(imp(f, &alice, "rel", at, key128, 16), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/%08x%08x.psa_its", abs, 0u, 2u);
    assert_true(file_exists(path));
    fx_restart(f);
    struct psc_out o = {0};
    assert_int_equal(export_key(f, &alice, "rel", &o), 0);
    assert_memory_equal(o.p, key128, 16);
    out_free(&o);
    snprintf(path, sizeof(path), "%s/%s", abs, rel);
    assert_false(file_exists(path));
    fx_stop(f);
    rm_tree(abs);
    f->cp.key_store_path = f->keys;
}

/* Worker threads creating, using and destroying keys at once, with hashing and random draws in
 * between: Mbed TLS is only ever entered by one of them at a time. */
#define THREADS 4
#define ROUNDS 12

struct worker {
    struct fx *f;
    int n;
    int failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct fx *f = w->f;
    const psa_algorithm_t e256 = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    const struct psc_attrs at = attrs_of(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                         PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH, e256);
    for (int r = 0; r < ROUNDS; r++) {
        char name[32];
        snprintf(name, sizeof(name), "w%d-%d", w->n, r);
        struct psc_args g = {
            .opcode = PSC_OP_PSA_GENERATE_KEY, .key_name = name, .attrs = at, .has_attrs = 1};
        struct psc_out o = {0};
        w->failures += f->p->type->ops[g.opcode](f->p, &alice, &g, &o) != 0;
        uint8_t h[32];
        struct psc_args hc = {.opcode = PSC_OP_PSA_HASH_COMPUTE,
                              .alg = PSA_ALG_SHA_256,
                              .input = bytes_ref(name, strlen(name))};
        w->failures += f->p->type->ops[hc.opcode](f->p, &alice, &hc, &o) != 0 || o.len != 32;
        if (o.p)
            memcpy(h, o.p, 32);
        out_free(&o);
        struct psc_args s = {.opcode = PSC_OP_PSA_SIGN_HASH,
                             .key_name = name,
                             .alg = e256,
                             .hash = bytes_ref(h, 32)};
        w->failures += f->p->type->ops[s.opcode](f->p, &alice, &s, &o) != 0;
        struct psc_args v = {.opcode = PSC_OP_PSA_VERIFY_HASH,
                             .key_name = name,
                             .alg = e256,
                             .hash = bytes_ref(h, 32),
                             .signature = bytes_ref(o.p, o.len)};
        struct psc_out none = {0};
        w->failures += f->p->type->ops[v.opcode](f->p, &alice, &v, &none) != 0;
        out_free(&o);
        struct psc_args rnd = {.opcode = PSC_OP_PSA_GENERATE_RANDOM, .size = 48};
        w->failures += f->p->type->ops[rnd.opcode](f->p, NULL, &rnd, &o) != 0 || o.len != 48;
        out_free(&o);
        if (r % 2) {
            struct psc_args d = {.opcode = PSC_OP_PSA_DESTROY_KEY, .key_name = name};
            w->failures += f->p->type->ops[d.opcode](f->p, &alice, &d, &none) != 0;
        }
    }
    return NULL;
}

static void concurrent_requests(void **state)
{
    struct fx *f = *state;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.f = f, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    /* Every surviving key has its own id and file. */
    assert_int_equal(count_key_files(f), THREADS * ROUNDS / 2);
    fx_restart(f);
    assert_int_equal(count_key_files(f), THREADS * ROUNDS / 2);
    struct kim_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(kim_list(f->kim, 1, f->p->type->uuid, f->p->name, NULL, 0, &e, &n), 0);
    assert_int_equal(n, THREADS * ROUNDS / 2);
    kim_entries_free(e, n);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity),
        cmocka_unit_test(policy_unit),
        T(ecdsa_interop),
        T(ecdsa_message_and_deterministic),
        T(rsa_sign_interop),
        T(rsa_encrypt_interop),
        T(aead_interop),
        T(cipher_interop),
        T(ecdh_interop),
        T(hashes),
        T(random_bytes),
        T(generate_rules),
        T(import_rules),
        T(export_rules),
        T(destroy_rules),
        T(destroy_removes_the_key_first),
        T(policy_enforced),
        T(can_do_crypto),
        T(restart_keeps_keys),
        T(orphan_key_file_skipped),
        T(id_space_exhausted),
        T(mapping_failure_rolls_back),
        T(hundred_keys),
        T(key_store_must_be_shared),
        T(relative_key_store),
        T(concurrent_requests),
    };
    log_init_from_env();
    /* Relative key stores resolve against the start directory: make it a scratch one. */
    if (chdir("/tmp") != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
