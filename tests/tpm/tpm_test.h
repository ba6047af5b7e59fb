/* What the TPM provider's end-to-end tests share: a configuration with the TPM provider on a
 * test's swtpm, and callers on provider 3. */
#ifndef PARSEC_TEST_TPM_H
#define PARSEC_TEST_TPM_H

#include <stdarg.h>
#include <stdio.h>

#include "e2e_keys.h"
#include "e2e_psa.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "swtpm.h"

/* Exit status ctest reads as "skipped" (SKIP_RETURN_CODE). */
#define TPM_TEST_SKIP 77

/* The test configuration with one Tpm provider on s. provider_extra: more lines of its
 * [[provider]] table; tail: more tables after it (NULL for none). Returns a static buffer. */
static inline const char *tpm_config(const struct swtpm *s, const char *owner_auth,
                                     const char *provider_extra, const char *tail)
{
    static char cfg[4096];
    snprintf(cfg, sizeof(cfg),
             "[core_settings]\n"
             "allow_root = true\n"
             "thread_pool_size = 2\n"
             "log_level = \"info\"\n"
             "log_error_details = true\n"
             "[listener]\n"
             "listener_type = \"DomainSocket\"\n"
             "timeout = 500\n"
             "socket_path = \"@DIR@/parsec.sock\"\n"
             "[authenticator]\n"
             "auth_type = \"Direct\"\n"
             "admins = [ { name = \"admin\" } ]\n"
             "[[key_manager]]\n"
             "name = \"sqlite-manager\"\n"
             "manager_type = \"SQLite\"\n"
             "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n"
             "[[provider]]\n"
             "provider_type = \"Tpm\"\n"
             "key_info_manager = \"sqlite-manager\"\n"
             "tcti = \"%s\"\n"
             "owner_hierarchy_auth = \"%s\"\n"
             "%s%s",
             s ? s->tcti : "swtpm:host=127.0.0.1,port=1", owner_auth,
             provider_extra ? provider_extra : "", tail ? tail : "");
    return cfg;
}

static inline struct caller tpm_caller(const struct daemon *d, const char *app)
{
    return (struct caller){.sock = d->sock, .app = app, .provider = PSC_PROVIDER_TPM};
}

/* Key attributes the tests use most. */
static inline Attrs *ecc_sign_attrs(uint32_t bits, int hash)
{
    return attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), bits, U_SIGN_HASH | U_VERIFY_HASH,
                 alg_sig(SIG_ECDSA, hash));
}

static inline Attrs *rsa_sign_attrs(uint32_t bits, int hash)
{
    return attrs(key_type(KT_RSA_PAIR, 0), bits, U_SIGN_HASH | U_VERIFY_HASH,
                 alg_sig(SIG_PKCS1, hash));
}

static inline Attrs *rsa_crypt_attrs(uint32_t bits, int oaep_hash)
{
    return attrs(key_type(KT_RSA_PAIR, 0), bits, U_ENCRYPT | U_DECRYPT, alg_enc(oaep_hash));
}

/* Signs a hash with the key and checks the signature with OpenSSL on the exported public
 * key. */
static inline void sign_checked(const struct caller *c, const char *name, enum sig_scheme scheme,
                                int hash, const char *group)
{
    struct buf pub, sig, h = digest(hash, buf_str(name));
    assert_int_equal(op_export_public(c, name, &pub), 0);
    EVP_PKEY *pk = group ? pkey_ec_public(group, pub) : pkey_rsa_public(pub);
    assert_non_null(pk);
    assert_int_equal(op_sign_hash(c, name, sig_alg(scheme, hash), h, &sig), 0);
    assert_true(ossl_verify(pk, md_of(hash), group ? PAD_NONE : PAD_PKCS1, h, sig));
    assert_int_equal(op_verify_hash(c, name, sig_alg(scheme, hash), h, sig), 0);
}

/* Runs a tpm2-tools or openssl command line against s; fails the test if it fails. */
static inline void tpm_tool(const struct swtpm *s, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(swtpm_tool(s, cmd), 0);
}

/* The contents of file `name` in s's folder (at most 4 KiB). */
static inline struct buf tpm_file(const struct swtpm *s, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct buf b = {e2e_alloc(4096), 0};
    b.n = fread(b.p, 1, 4096, f);
    fclose(f);
    return b;
}

static inline void tpm_file_write(const struct swtpm *s, const char *name, struct buf b)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.p, 1, b.n, f), b.n);
    assert_int_equal(fclose(f), 0);
}

#endif
