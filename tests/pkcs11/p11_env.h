/* SoftHSM2 as the real token of the PKCS#11 provider's tests: each test program gets its own
 * token folder (SOFTHSM2_CONF names a private configuration), initialises its tokens with
 * softhsm2-util, and may look at the token directly through the module, as an independent
 * observer of what the service left on it.
 *
 * A program whose machine has no SoftHSM2 exits with 77, which ctest reports as skipped. */
#ifndef PARSEC_TESTS_P11_ENV_H
#define PARSEC_TESTS_P11_ENV_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
/* p11-kit leaves this compatibility name defined; the protobuf types use the word. */
#undef hash_alg

#define P11_SKIP 77
#define P11_LABEL "parsec-test"
#define P11_PIN "71364"
#define P11_SO_PIN "908172"

struct p11_token {
    char dir[256];  /* token folder */
    char conf[300]; /* SoftHSM2 configuration naming it */
};

static inline int p11_missing(void)
{
    return access(SOFTHSM2_LIB, R_OK) != 0 || access(SOFTHSM2_UTIL, X_OK) != 0;
}

/* A fresh token folder, and SOFTHSM2_CONF pointing at it (inherited by every daemon). */
static inline void p11_token_dir(struct p11_token *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/parsec-p11-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->conf, sizeof(t->conf), "%s/softhsm2.conf", t->dir);
    FILE *f = fopen(t->conf, "w");
    assert_non_null(f);
    fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
            t->dir);
    fclose(f);
    assert_int_equal(setenv("SOFTHSM2_CONF", t->conf, 1), 0);
}

static inline void p11_token_init(const char *label, const char *pin)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "%s --init-token --free --label '%s' --pin '%s' --so-pin '%s' >/dev/null",
             SOFTHSM2_UTIL, label, pin, P11_SO_PIN);
    assert_int_equal(system(cmd), 0);
}

static inline void p11_token_cleanup(struct p11_token *t)
{
    if (!t->dir[0])
        return;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    (void)!system(cmd);
    t->dir[0] = '\0';
}

/* A daemon configuration with one Pkcs11 provider; provider_lines are added to its section
 * (NULL: the test token by label, with its PIN). @DIR@ is the daemon's folder. */
static inline const char *p11_config(const char *core_lines, const char *provider_lines)
{
    static char cfg[4096];
    snprintf(cfg, sizeof(cfg),
             "[core_settings]\n"
             "allow_root = true\n"
             "thread_pool_size = 4\n"
             "log_level = \"info\"\n"
             "%s"
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
             "provider_type = \"Pkcs11\"\n"
             "key_info_manager = \"sqlite-manager\"\n"
             "library_path = \"%s\"\n"
             "%s",
             core_lines ? core_lines : "", SOFTHSM2_LIB,
             provider_lines ? provider_lines
                            : "token_label = \"" P11_LABEL "\"\nuser_pin = \"" P11_PIN "\"\n");
    return cfg;
}

/* ---- the token seen directly ---------------------------------------------------------------- */

struct p11_direct {
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    CK_SESSION_HANDLE s;
};

/* A logged-in session on the token with this label, in the test's own process. */
static inline void p11_direct_open(struct p11_direct *d, const char *label, const char *pin)
{
    memset(d, 0, sizeof(*d));
    d->dl = dlopen(SOFTHSM2_LIB, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(d->dl);
    CK_C_GetFunctionList get;
    *(void **)&get = dlsym(d->dl, "C_GetFunctionList");
    assert_non_null(get);
    assert_int_equal(get(&d->f), CKR_OK);
    CK_RV rv = d->f->C_Initialize(NULL);
    assert_true(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    assert_int_equal(d->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        assert_int_equal(d->f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
        size_t l = strlen(label);
        if (memcmp(ti.label, label, l) != 0 || (l < 32 && ti.label[l] != ' '))
            continue;
        assert_int_equal(
            d->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &d->s),
            CKR_OK);
        /* Already logged in when the module is shared with a provider in this process. */
        rv = d->f->C_Login(d->s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
        assert_true(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN);
        return;
    }
    fail_msg("no token labelled %s", label);
}

static inline void p11_direct_close(struct p11_direct *d)
{
    if (!d->f)
        return;
    (void)d->f->C_Finalize(NULL);
    dlclose(d->dl);
    memset(d, 0, sizeof(*d));
}

/* Objects with this CKA_ID (4 bytes, as stored on the token); their handles if h is not NULL. */
static inline CK_ULONG p11_direct_find(struct p11_direct *d, const uint8_t id[4],
                                       CK_OBJECT_HANDLE *h, CK_ULONG max)
{
    CK_ATTRIBUTE t = {CKA_ID, (void *)id, 4};
    CK_OBJECT_HANDLE local[16];
    if (!h) {
        h = local;
        max = 16;
    }
    CK_ULONG n = 0;
    assert_int_equal(d->f->C_FindObjectsInit(d->s, &t, 1), CKR_OK);
    assert_int_equal(d->f->C_FindObjects(d->s, h, max, &n), CKR_OK);
    assert_int_equal(d->f->C_FindObjectsFinal(d->s), CKR_OK);
    return n;
}

static inline CK_OBJECT_CLASS p11_direct_class(struct p11_direct *d, CK_OBJECT_HANDLE h)
{
    CK_OBJECT_CLASS c = 0;
    CK_ATTRIBUTE a = {CKA_CLASS, &c, sizeof(c)};
    assert_int_equal(d->f->C_GetAttributeValue(d->s, h, &a, 1), CKR_OK);
    return c;
}

#endif
