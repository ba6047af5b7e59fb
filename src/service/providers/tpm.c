/* The TPM provider's operations (providers.md §4).
 *
 * What works on swtpm 0.7.1 (libtpms 0.9) through this provider, each row checked by the tests
 * in tests/tpm with OpenSSL:
 *
 *   key type           created by                   operations
 *   ------------------ ---------------------------- ------------------------------------------
 *   RSA key pair       generate 1024, 2048, 3072;   PKCS#1 v1.5 sign/verify (SHA-1/256/384/512;
 *                      import (PKCS#1 DER, e=65537)  SHA-1 only with allow_deprecated);
 *                                                   PKCS#1 v1.5 and OAEP encrypt/decrypt
 *   ECC SECP_R1 pair   generate, import: P-192,     ECDSA sign/verify (SHA-1/256/384/512)
 *                      P-224, P-256, P-384, P-521
 *   RSA public key     import (e = 65537)            verify, encrypt
 *   ECC public key     import (SECP_R1)             verify
 *
 * Key attestation (PrepareKeyAttestation, AttestKey with ActivateCredential and the default
 * endorsement key) works for every key pair above; a public key alone answers 1135 to AttestKey.
 *
 * Not on swtpm: RSA-4096 (the TPM refuses it: 1145), SHA-3 (1134). As in the original: RSA-PSS
 * keys are made but do not sign (1134), deterministic ECDSA and ECDSA-any are refused (1134).
 *
 * A request checks the key's policy first (psa/policy.c), then runs on the TPM under the
 * provider's lock. A key operation that finds the TPM has lost the service's objects (reset,
 * flush) reopens the context and runs once more. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "service/providers/tpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "common/log.h"
#include "psa/convert.h"
#include "psa/policy.h"
#include "service/kim/kim.h"
#include "service/providers/tpm_int.h"
#include "wire/status.h"

static const char *const MOD = "parsec::providers::tpm";

static struct tpm_provider *tpm_of(struct psc_provider *p)
{
    return (struct tpm_provider *)p;
}

static int app_check(const struct psc_app *app)
{
    return app && app->name ? 0 : PSC_NOT_AUTHENTICATED;
}

static void out_clear(struct psc_out *out)
{
    if (out->p) {
        explicit_bzero(out->p, out->len);
        free(out->p);
    }
    out->p = NULL;
    out->len = 0;
    out->n_parts = 0;
}

/* Copies n bytes into a new output. */
static int out_set(struct psc_out *out, const uint8_t *p, size_t n)
{
    out->p = malloc(n ? n : 1);
    if (!out->p)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    if (n)
        memcpy(out->p, p, n);
    out->len = n;
    return 0;
}

/* Runs one TPM step, reopening the context and running it again once if the TPM lost the
 * service's objects. Caller holds t->lock. */
typedef int (*tpm_step)(struct tpm_provider *t, void *ctx, TSS2_RC *trc);

static int run_step(struct tpm_provider *t, tpm_step step, void *ctx)
{
    int rc = 0, reopened = 0;
    for (;;) {
        if (!t->esys && (rc = tpm_ctx_reopen(t)) != 0)
            return rc;
        TSS2_RC trc = TSS2_RC_SUCCESS;
        rc = step(t, ctx, &trc);
        if (rc == 0 || trc == TSS2_RC_SUCCESS)
            return rc;
        /* A command that needs an object slot (load, create) while the cache fills the TPM:
         * room is made one key at a time, so this ends when the cache is empty. */
        if (tpm_code(trc) == TPM2_RC_OBJECT_MEMORY && tpm_cache_evict(t))
            continue;
        if (t->base.env.log_error_details)
            log_error(MOD, "TPM command failed: %s (0x%x)", Tss2_RC_Decode(trc), (unsigned)trc);
        if (!tpm_ctx_lost(trc) || reopened)
            return rc;
        reopened = 1;
        if ((rc = tpm_ctx_reopen(t)) != 0)
            return rc;
    }
}

/* ---- keys and their mappings -------------------------------------------------------------- */

struct stored {
    struct kim_info info;
    struct tpm_key key;
};

static void stored_clear(struct stored *s)
{
    kim_info_clear(&s->info);
    tpm_key_wipe(&s->key);
}

/* ---- legacy blobs ----------------------------------------------------------------------------
 *
 * The original's first versions stored a key as a context saved from the TPM (key-info-manager.md
 * §4.2). As the original, the provider migrates such a key on its first use: the context is
 * loaded, TPM2_ObjectChangeAuth (same auth value) gives a private part wrapped by the root key,
 * and the mapping is rewritten in the current format with the same attributes. The mapping is
 * rewritten last, and only if it still holds the legacy blob: a process that dies before that
 * leaves the legacy mapping, which migrates again on the next use. A saved context does not
 * survive a TPM reset or an owner clear; such a key stays unusable (1145) until destroyed. */

struct migrate_ctx {
    const struct tpm_legacy *lg;
    TPM2B_PUBLIC pub;
    TPM2B_PRIVATE priv;
    TSS2_RC refused; /* why the TPM or ESAPI refused the saved context itself */
    TSS2_RC last;    /* the last failure, for the log */
};

/* Whether a failed TPM2_ContextLoad refused the saved context itself (damaged, saved before a
 * TPM reset, of another TPM) rather than found the TPM full or lost: loading it again after
 * reopening the context cannot help. */
static int context_refused(TSS2_RC rc)
{
    TSS2_RC layer = rc & TSS2_RC_LAYER_MASK, c = tpm_code(rc);
    if (tpm_ctx_lost(rc))
        return 0;
    /* A warning (object memory, retry, ...) is about the TPM's state, not the context. */
    if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER)
        return (c & TPM2_RC_FMT1) || !(c & TPM2_RC_WARN);
    return (layer == TSS2_ESAPI_RC_LAYER && rc != TSS2_ESYS_RC_MEMORY) || layer == TSS2_MU_RC_LAYER;
}

static int migrate_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct migrate_ctx *c = v;
    ESYS_TR h = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_NAME *name = NULL, *qname = NULL;
    TPM2B_PRIVATE *priv = NULL;
    *trc = Esys_ContextLoad(t->esys, &c->lg->context, &h);
    if (*trc != TSS2_RC_SUCCESS) {
        c->last = *trc;
        if (context_refused(*trc)) {
            c->refused = *trc;
            *trc = TSS2_RC_SUCCESS; /* no second try */
            return PSC_PSA_COMMUNICATION_FAILURE;
        }
        return tpm_status(*trc);
    }
    *trc = Esys_TR_SetAuth(t->esys, h, &c->lg->auth);
    if (*trc == TSS2_RC_SUCCESS)
        *trc = Esys_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name,
                               &qname);
    if (*trc == TSS2_RC_SUCCESS) {
        c->pub = *pub;
        /* The auth value goes to the TPM: encrypted. */
        tpm_session_use(t, 1, 0);
        *trc = Esys_ObjectChangeAuth(t->esys, h, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &c->lg->auth, &priv);
        if (*trc == TSS2_RC_SUCCESS) {
            c->priv = *priv;
        } else if (tpm_code(*trc) == TPM2_RC_AUTH_UNAVAILABLE) {
            /* No sensitive part: a public key, stored without private part. */
            c->priv.size = 0;
            *trc = TSS2_RC_SUCCESS;
        }
    }
    if (*trc != TSS2_RC_SUCCESS)
        c->last = *trc;
    (void)Esys_FlushContext(t->esys, h);
    if (priv) {
        explicit_bzero(priv, sizeof(*priv));
        Esys_Free(priv);
    }
    Esys_Free(pub);
    Esys_Free(name);
    Esys_Free(qname);
    return tpm_status(*trc);
}

/* Migrates the legacy blob lg that s->info holds: on success s holds the key and its new
 * mapping. */
static int key_migrate(struct tpm_provider *t, const struct kim_ident *who,
                       const struct tpm_legacy *lg, struct stored *s)
{
    struct psc_provider *p = &t->base;
    struct migrate_ctx c = {.lg = lg};
    struct kim_info info = {.attrs = s->info.attrs};
    char kb[LOG_STR_BUF], ab[LOG_STR_BUF];
    const char *why = NULL;
    pthread_mutex_lock(&t->lock);
    int rc = run_step(t, migrate_step, &c);
    pthread_mutex_unlock(&t->lock);
    if (c.refused) {
        why = "the TPM refuses its saved context (it was reset or cleared since, or the context "
              "is damaged): the key is lost";
    } else if (rc == 0) {
        s->key.auth = lg->auth;
        s->key.priv = c.priv;
        rc = tpm_key_of_public(&s->info.attrs, &c.pub, &s->key);
        if (rc == PSC_KEY_INFO_MANAGER_ERROR)
            why = "its public area is not the one its attributes give, so that the migrated key "
                  "would not load";
        else if (rc != 0)
            why = "the provider makes no TPM key of its attributes";
        if (rc == 0)
            rc = tpm_key_encode(&s->key, &info.id, &info.id_len);
        if (rc == 0)
            rc = kim_replace_if(p->kim, who, s->info.id, s->info.id_len, &info);
    } else {
        why = "a TPM command failed";
    }
    if (rc == PSC_PSA_DOES_NOT_EXIST) {
        /* Destroyed, or migrated by another request, meanwhile: what the name holds now. */
        tpm_key_wipe(&s->key);
        kim_info_clear(&s->info);
        rc = kim_get(p->kim, who, &s->info);
        if (rc == 0 && tpm_key_decode(s->info.id, s->info.id_len, &s->key) != 0)
            rc = PSC_PSA_DOES_NOT_EXIST;
    } else if (rc == 0) {
        explicit_bzero(s->info.id, s->info.id_len);
        free(s->info.id);
        s->info.id = info.id;
        s->info.id_len = info.id_len;
        info.id = NULL;
        log_info(MOD, "key \"%s\" of \"%s\" migrated from the legacy saved-context format",
                 log_str(kb, who->key_name), log_str(ab, who->app));
    } else if (why) {
        log_error(MOD,
                  "key \"%s\" of \"%s\" cannot be migrated from the legacy saved-context format: "
                  "%s (%s); its mapping is kept",
                  log_str(kb, who->key_name), log_str(ab, who->app), why,
                  c.last ? Tss2_RC_Decode(c.last) : "no TPM error");
    }
    if (info.id) {
        explicit_bzero(info.id, info.id_len);
        free(info.id);
    }
    explicit_bzero(&c, sizeof(c));
    return rc;
}

/* A key's mapping and blob. A legacy blob is migrated when migrate is set; otherwise it is
 * taken as it is (s->key empty), for a request that only needs the mapping. */
static int key_find(struct psc_provider *p, const struct psc_app *app, const char *name,
                    struct stored *s, int migrate)
{
    memset(s, 0, sizeof(*s));
    int rc = app_check(app);
    if (rc != 0)
        return rc;
    struct kim_ident who;
    provider_ident(p, app, name ? name : "", &who);
    rc = kim_get(p->kim, &who, &s->info);
    if (rc == 0 && tpm_key_decode(s->info.id, s->info.id_len, &s->key) != 0) {
        struct tpm_legacy lg;
        char kb[LOG_STR_BUF];
        rc = tpm_legacy_decode(s->info.id, s->info.id_len, &lg);
        if (rc != 0)
            log_error(MOD, "the mapping of key \"%s\" does not hold a TPM key blob",
                      log_str(kb, who.key_name));
        else if (migrate)
            rc = key_migrate(tpm_of(p), &who, &lg, s);
        tpm_legacy_wipe(&lg);
    }
    if (rc != 0)
        stored_clear(s);
    return rc;
}

static int key_get(struct psc_provider *p, const struct psc_app *app, const char *name,
                   struct stored *s)
{
    return key_find(p, app, name, s, 1);
}

/* Stores a new key's blob under the caller's name. */
static int key_store(struct psc_provider *p, const struct kim_ident *who, const struct psc_attrs *a,
                     const struct tpm_key *k)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc = tpm_key_encode(k, &blob, &len);
    if (rc != 0)
        return rc;
    struct kim_info info = {.id = blob, .id_len = len, .attrs = *a};
    rc = kim_insert(p->kim, who, &info);
    explicit_bzero(blob, len);
    free(blob);
    return rc;
}

struct create_ctx {
    const TPM2B_SENSITIVE_CREATE *sens;
    const TPM2B_PUBLIC *pub;
    TPM2B_PRIVATE *priv;
    TPM2B_PUBLIC *out_pub;
};

static int create_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct create_ctx *c = v;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcr = {0};
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_CREATION_DATA *cd = NULL;
    TPM2B_DIGEST *ch = NULL;
    TPMT_TK_CREATION *ct = NULL;
    tpm_session_use(t, 1, 0);
    *trc = Esys_Create(t->esys, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE, c->sens, c->pub,
                       &outside, &pcr, &priv, &pub, &cd, &ch, &ct);
    if (*trc == TSS2_RC_SUCCESS) {
        *c->priv = *priv;
        *c->out_pub = *pub;
    }
    Esys_Free(priv);
    Esys_Free(pub);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(ct);
    return tpm_status(*trc);
}

static int op_generate_key(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    struct tpm_provider *t = tpm_of(p);
    int rc = app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    if (conv_attrs_deprecated(&a->attrs)) {
        log_warn(MOD, "The key requested to generate is deprecated");
        if (!p->env.allow_deprecated)
            return PSC_DEPRECATED_PRIMITIVE;
    }
    if (PSA_KEY_TYPE_IS_PUBLIC_KEY(a->attrs.type))
        return PSC_PSA_INVALID_ARGUMENT;
    TPM2B_PUBLIC tmpl;
    if ((rc = tpm_public_template(&a->attrs, NULL, 0, &tmpl)) != 0)
        return rc;
    struct kim_ident who;
    provider_ident(p, app, a->key_name ? a->key_name : "", &who);
    int exists = 0;
    if ((rc = kim_exists(p->kim, &who, &exists)) != 0)
        return rc;
    if (exists)
        return PSC_PSA_ALREADY_EXISTS;

    TPM2B_SENSITIVE_CREATE sens = {0};
    struct tpm_key k = {0};
    TPM2B_PUBLIC made = {0};
    sens.sensitive.userAuth.size = TPM_KEY_AUTH_LEN;
    if (getrandom(sens.sensitive.userAuth.buffer, TPM_KEY_AUTH_LEN, 0) != TPM_KEY_AUTH_LEN) {
        rc = PSC_PSA_INSUFFICIENT_ENTROPY;
        goto out;
    }
    struct create_ctx c = {.sens = &sens, .pub = &tmpl, .priv = &k.priv, .out_pub = &made};
    pthread_mutex_lock(&t->lock);
    rc = run_step(t, create_step, &c);
    pthread_mutex_unlock(&t->lock);
    if (rc != 0)
        goto out;
    k.auth = sens.sensitive.userAuth;
    k.is_ecc = made.publicArea.type == TPM2_ALG_ECC;
    if (k.is_ecc)
        k.ecc = made.publicArea.unique.ecc;
    else
        k.rsa_n = made.publicArea.unique.rsa;
    rc = key_store(p, &who, &a->attrs, &k);
out:
    if (rc != 0 && p->env.log_error_details) {
        char kb[LOG_STR_BUF];
        log_error(MOD, "generate key \"%s\" status: %d", log_str(kb, who.key_name), rc);
    }
    explicit_bzero(&sens, sizeof(sens));
    tpm_key_wipe(&k);
    return rc;
}

/* The size in bits of a big-endian unsigned number. */
static size_t bit_length(const uint8_t *b, size_t n)
{
    while (n && !*b) {
        b++;
        n--;
    }
    if (!n)
        return 0;
    size_t bits = 8 * n;
    for (uint8_t top = b[0]; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

struct load_ctx {
    const uint8_t *blob;
    size_t blob_len;
    const struct psc_attrs *attrs;
    const struct tpm_key *key;
};

static int load_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct load_ctx *c = v;
    ESYS_TR h;
    *trc = tpm_key_handle(t, c->blob, c->blob_len, c->attrs, c->key, &h);
    int rc = tpm_status(*trc);
    /* The TPM itself refused the key (a point off its curve, a bad modulus). */
    if (rc == PSC_PSA_COMMUNICATION_FAILURE && (*trc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER)
        rc = PSC_PSA_INVALID_ARGUMENT;
    return rc;
}

struct import_ctx {
    const TPM2B_PUBLIC *pub;
    const TPM2B_PRIVATE *dup;
    TPM2B_PRIVATE *priv;
};

/* A key pair made outside goes in as an unwrapped duplicate (no outer or inner wrapper: the
 * session's parameter encryption protects it on the way) and comes back wrapped by the root
 * key, so that it loads under it at every start, as generated keys do. */
static int import_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct import_ctx *c = v;
    TPM2B_DATA no_key = {0};
    TPM2B_ENCRYPTED_SECRET no_seed = {0};
    TPMT_SYM_DEF_OBJECT no_sym = {.algorithm = TPM2_ALG_NULL};
    TPM2B_PRIVATE *priv = NULL;
    tpm_session_use(t, 1, 0);
    *trc = Esys_Import(t->esys, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &no_key, c->pub,
                       c->dup, &no_seed, &no_sym, &priv);
    if (*trc == TSS2_RC_SUCCESS)
        *c->priv = *priv;
    Esys_Free(priv);
    int rc = tpm_status(*trc);
    /* The TPM refused the key's value (a prime that does not divide the modulus, ...). */
    if (rc == PSC_PSA_COMMUNICATION_FAILURE && (*trc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER)
        rc = PSC_PSA_INVALID_ARGUMENT;
    return rc;
}

/* The key of an import request: its public part into k, its private part (key pairs) into
 * sens. Sizes left to deduce are set in at. */
static int import_parse(const struct psc_args *a, struct psc_attrs *at, struct tpm_key *k,
                        TPMT_SENSITIVE *sens)
{
    int rc;
    if (at->type == PSA_KEY_TYPE_RSA_PUBLIC_KEY || at->type == PSA_KEY_TYPE_RSA_KEY_PAIR) {
        if (at->type == PSA_KEY_TYPE_RSA_KEY_PAIR) {
            sens->sensitiveType = TPM2_ALG_RSA;
            rc = tpm_rsa_private_parse(a->data.p, a->data.len, &k->rsa_n, &sens->sensitive.rsa);
        } else {
            rc = tpm_rsa_public_parse(a->data.p, a->data.len, &k->rsa_n);
        }
        if (rc != 0)
            return rc;
        size_t bits = bit_length(k->rsa_n.buffer, k->rsa_n.size);
        if (at->bits == 0)
            at->bits = bits;
        return at->bits == bits ? 0 : PSC_PSA_INVALID_ARGUMENT;
    }
    if (!PSA_KEY_TYPE_IS_ECC(at->type) ||
        PSA_KEY_TYPE_ECC_GET_FAMILY(at->type) != PSA_ECC_FAMILY_SECP_R1)
        return PSC_PSA_NOT_SUPPORTED;
    k->is_ecc = 1;
    if (PSA_KEY_TYPE_IS_ECC_PUBLIC_KEY(at->type)) {
        if (at->bits == 0 && a->data.len >= 3) {
            size_t half = (a->data.len - 1) / 2;
            at->bits = half == 66 ? 521 : 8 * half;
        }
        return tpm_ecc_point_parse(a->data.p, a->data.len, at->bits, &k->ecc);
    }
    /* A private scalar as long as the curve's order. */
    if (at->bits == 0)
        at->bits = a->data.len == 66 ? 521 : 8 * a->data.len;
    if (a->data.len > sizeof(sens->sensitive.ecc.buffer))
        return PSC_PSA_INVALID_ARGUMENT;
    if ((rc = tpm_ecc_public_of(at->bits, a->data.p, a->data.len, &k->ecc)) != 0)
        return rc;
    sens->sensitiveType = TPM2_ALG_ECC;
    sens->sensitive.ecc.size = (uint16_t)a->data.len;
    memcpy(sens->sensitive.ecc.buffer, a->data.p, a->data.len);
    return 0;
}

static int op_import_key(struct psc_provider *p, const struct psc_app *app,
                         const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    struct tpm_provider *t = tpm_of(p);
    int rc = app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    if (conv_attrs_deprecated(&a->attrs))
        log_warn(MOD, "The key requested to import is deprecated");
    struct psc_attrs at = a->attrs;
    struct tpm_key k = {0};
    TPMT_SENSITIVE sens = {0};
    TPM2B_PRIVATE dup = {0};
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    struct kim_ident who;
    provider_ident(p, app, a->key_name ? a->key_name : "", &who);
    if ((rc = import_parse(a, &at, &k, &sens)) != 0)
        goto out;
    int pair = sens.sensitiveType != 0;
    k.imported = pair;
    TPM2B_PUBLIC tmpl;
    if ((rc = tpm_public_template(&at, &k, 1, &tmpl)) != 0)
        goto out;
    int exists = 0;
    if ((rc = kim_exists(p->kim, &who, &exists)) != 0)
        goto out;
    if (exists) {
        rc = PSC_PSA_ALREADY_EXISTS;
        goto out;
    }
    if (pair) {
        sens.authValue.size = TPM_KEY_AUTH_LEN;
        if (getrandom(sens.authValue.buffer, TPM_KEY_AUTH_LEN, 0) != TPM_KEY_AUTH_LEN) {
            rc = PSC_PSA_INSUFFICIENT_ENTROPY;
            goto out;
        }
        TPM2B_SENSITIVE s2b = {.sensitiveArea = sens};
        size_t off = 0;
        if (Tss2_MU_TPM2B_SENSITIVE_Marshal(&s2b, dup.buffer, sizeof(dup.buffer), &off) !=
            TSS2_RC_SUCCESS) {
            explicit_bzero(&s2b, sizeof(s2b));
            rc = PSC_PSA_INVALID_ARGUMENT;
            goto out;
        }
        explicit_bzero(&s2b, sizeof(s2b));
        dup.size = (uint16_t)off;
        k.auth = sens.authValue;
        struct import_ctx c = {.pub = &tmpl, .dup = &dup, .priv = &k.priv};
        pthread_mutex_lock(&t->lock);
        rc = run_step(t, import_step, &c);
        pthread_mutex_unlock(&t->lock);
        if (rc != 0)
            goto out;
    }
    if ((rc = tpm_key_encode(&k, &blob, &blob_len)) != 0)
        goto out;
    if (!pair) {
        /* Loaded once so that the TPM checks the key (an ECC point off its curve is refused
         * now, not at its first use); it stays in the cache for that use. */
        struct load_ctx c = {.blob = blob, .blob_len = blob_len, .attrs = &at, .key = &k};
        pthread_mutex_lock(&t->lock);
        rc = run_step(t, load_step, &c);
        pthread_mutex_unlock(&t->lock);
        if (rc != 0)
            goto out;
    }
    struct kim_info info = {.id = blob, .id_len = blob_len, .attrs = at};
    rc = kim_insert(p->kim, &who, &info);
out:
    if (rc != 0 && p->env.log_error_details) {
        char kb[LOG_STR_BUF];
        log_error(MOD, "import key \"%s\" status: %d", log_str(kb, who.key_name), rc);
    }
    if (blob) {
        explicit_bzero(blob, blob_len);
        free(blob);
    }
    explicit_bzero(&sens, sizeof(sens));
    explicit_bzero(&dup, sizeof(dup));
    tpm_key_wipe(&k);
    return rc;
}

static int op_destroy_key(struct psc_provider *p, const struct psc_app *app,
                          const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    struct tpm_provider *t = tpm_of(p);
    struct stored s;
    int rc = key_find(p, app, a->key_name, &s, 0);
    if (rc != 0)
        return rc;
    /* The mapping is the key: removing it destroys the key. Only the mapping that named this
     * blob is removed, in case a concurrent destroy and create gave the name to another key. */
    struct kim_ident who;
    provider_ident(p, app, a->key_name ? a->key_name : "", &who);
    rc = kim_remove_if(p->kim, &who, s.info.id, s.info.id_len);
    if (rc == 0) {
        pthread_mutex_lock(&t->lock);
        if (t->esys)
            tpm_cache_forget(t, s.info.id, s.info.id_len, &s.info.attrs);
        pthread_mutex_unlock(&t->lock);
    }
    stored_clear(&s);
    return rc;
}

/* ---- operations on a stored key ------------------------------------------------------------ */

struct key_ctx {
    const struct psc_args *a;
    struct stored *s;
    struct psc_out *out;
    int (*fn)(struct tpm_provider *t, const struct psc_args *a, const struct stored *s, ESYS_TR h,
              struct psc_out *out, TSS2_RC *trc);
};

static int key_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct key_ctx *c = v;
    ESYS_TR h;
    out_clear(c->out);
    *trc = tpm_key_handle(t, c->s->info.id, c->s->info.id_len, &c->s->info.attrs, &c->s->key, &h);
    if (*trc != TSS2_RC_SUCCESS)
        return tpm_status(*trc);
    return c->fn(t, c->a, c->s, h, c->out, trc);
}

typedef int (*key_check)(const struct psc_args *a, const struct psc_attrs *k);

static int key_op(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                  struct psc_out *out, key_check check, struct key_ctx *c)
{
    struct tpm_provider *t = tpm_of(p);
    struct stored s;
    int rc = key_get(p, app, a->key_name, &s);
    if (rc != 0)
        return rc;
    TPM2B_PUBLIC tmpl;
    if ((rc = check(a, &s.info.attrs)) == 0 &&
        (rc = tpm_public_template(&s.info.attrs, &s.key, TPM_KEY_EXTERNAL(&s.key), &tmpl)) == 0) {
        c->a = a;
        c->s = &s;
        c->out = out;
        pthread_mutex_lock(&t->lock);
        rc = run_step(t, key_step, c);
        pthread_mutex_unlock(&t->lock);
    }
    if (rc != 0) {
        char kb[LOG_STR_BUF];
        out_clear(out);
        if (p->env.log_error_details)
            log_error(MOD, "%s on key \"%s\" status: %d",
                      psc_opcode_name(a->opcode) ? psc_opcode_name(a->opcode) : "operation",
                      log_str(kb, a->key_name ? a->key_name : ""), rc);
    }
    stored_clear(&s);
    return rc;
}

/* The TPM signature scheme of an operation's algorithm. RSA-PSS keys can be made but not used,
 * as in the original. */
static int sig_scheme(psa_algorithm_t alg, TPMT_SIG_SCHEME *sc)
{
    if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg) && alg != PSA_ALG_RSA_PKCS1V15_SIGN_RAW)
        sc->scheme = TPM2_ALG_RSASSA;
    else if (PSA_ALG_IS_ECDSA(alg) && !PSA_ALG_IS_DETERMINISTIC_ECDSA(alg))
        sc->scheme = TPM2_ALG_ECDSA;
    else
        return PSC_PSA_NOT_SUPPORTED;
    sc->details.any.hashAlg = tpm_hash_alg(PSA_ALG_SIGN_GET_HASH(alg));
    return sc->details.any.hashAlg == TPM2_ALG_ERROR ? PSC_PSA_NOT_SUPPORTED : 0;
}

static int check_sign(const struct psc_args *a, const struct psc_attrs *k)
{
    TPMT_SIG_SCHEME sc;
    int rc = policy_check(k, POLICY_SIGN_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc == 0)
        rc = sig_scheme(a->alg, &sc);
    return rc;
}

static int check_verify(const struct psc_args *a, const struct psc_attrs *k)
{
    TPMT_SIG_SCHEME sc;
    int rc = policy_check(k, POLICY_VERIFY_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc == 0)
        rc = sig_scheme(a->alg, &sc);
    return rc;
}

static void digest_of(const struct psc_args *a, TPM2B_DIGEST *d)
{
    memset(d, 0, sizeof(*d));
    d->size = (uint16_t)a->hash.len; /* policy_check_hash_input bounds it to the hash size */
    if (a->hash.len)
        memcpy(d->buffer, a->hash.p, a->hash.len);
}

static int sign_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                   ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    TPMT_SIG_SCHEME sc;
    TPM2B_DIGEST d;
    TPMT_TK_HASHCHECK v = {.tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL};
    TPMT_SIGNATURE *sig = NULL;
    int rc = sig_scheme(a->alg, &sc);
    if (rc != 0)
        return rc;
    digest_of(a, &d);
    /* Nothing secret goes either way: the session only carries the key's authorisation. */
    tpm_session_use(t, 0, 0);
    *trc = Esys_Sign(t->esys, h, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &d, &sc, &v, &sig);
    if (*trc != TSS2_RC_SUCCESS)
        return tpm_status(*trc);
    if (sig->sigAlg == TPM2_ALG_RSASSA) {
        rc = out_set(out, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size);
    } else {
        /* r || s, each as long as the curve's order. */
        TPMS_ECC_POINT rs = {.x = sig->signature.ecdsa.signatureR,
                             .y = sig->signature.ecdsa.signatureS};
        uint8_t *pt = NULL;
        size_t n = 0;
        rc = tpm_ecc_point_export(&rs, s->info.attrs.bits, &pt, &n);
        if (rc == 0) {
            rc = out_set(out, pt + 1, n - 1);
            free(pt);
        }
    }
    Esys_Free(sig);
    return rc;
}

static int verify_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                     ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    (void)out;
    TPMT_SIG_SCHEME sc;
    TPMT_SIGNATURE sig = {0};
    TPM2B_DIGEST d;
    TPMT_TK_VERIFIED *ticket = NULL;
    int rc = sig_scheme(a->alg, &sc);
    if (rc != 0)
        return rc;
    digest_of(a, &d);
    sig.sigAlg = sc.scheme;
    if (sc.scheme == TPM2_ALG_RSASSA) {
        TPMS_SIGNATURE_RSA *r = &sig.signature.rsassa;
        if (a->signature.len == 0 || a->signature.len > sizeof(r->sig.buffer))
            return PSC_PSA_INVALID_SIGNATURE;
        r->hash = sc.details.any.hashAlg;
        r->sig.size = (uint16_t)a->signature.len;
        memcpy(r->sig.buffer, a->signature.p, a->signature.len);
    } else {
        TPMS_SIGNATURE_ECC *e = &sig.signature.ecdsa;
        size_t half = (s->info.attrs.bits + 7) / 8;
        if (a->signature.len != 2 * half || half > sizeof(e->signatureR.buffer))
            return PSC_PSA_INVALID_SIGNATURE;
        e->hash = sc.details.any.hashAlg;
        e->signatureR.size = e->signatureS.size = (uint16_t)half;
        memcpy(e->signatureR.buffer, a->signature.p, half);
        memcpy(e->signatureS.buffer, a->signature.p + half, half);
    }
    (void)t;
    *trc = Esys_VerifySignature(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d, &sig,
                                &ticket);
    Esys_Free(ticket);
    return tpm_status(*trc);
}

static int rsa_scheme(psa_algorithm_t alg, TPMT_RSA_DECRYPT *sc)
{
    memset(sc, 0, sizeof(*sc));
    if (alg == PSA_ALG_RSA_PKCS1V15_CRYPT) {
        sc->scheme = TPM2_ALG_RSAES;
        return 0;
    }
    if (PSA_ALG_IS_RSA_OAEP(alg)) {
        sc->scheme = TPM2_ALG_OAEP;
        sc->details.oaep.hashAlg = tpm_hash_alg(PSA_ALG_RSA_OAEP_GET_HASH(alg));
        return sc->details.oaep.hashAlg == TPM2_ALG_ERROR ? PSC_PSA_NOT_SUPPORTED : 0;
    }
    return PSC_PSA_NOT_SUPPORTED;
}

static int check_crypt(const struct psc_args *a, const struct psc_attrs *k, int encrypt)
{
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    TPMT_RSA_DECRYPT sc;
    int rc = policy_check(k, encrypt ? POLICY_ENCRYPT : POLICY_DECRYPT, a->alg);
    if (rc == 0)
        rc = policy_check_asym_input(a->alg, in->len, a->salt.len);
    if (rc == 0)
        rc = rsa_scheme(a->alg, &sc);
    /* Bounded by the TPM's buffers: an RSA block, and a label of one digest. */
    if (rc == 0 && (in->len > TPM2_MAX_RSA_KEY_BYTES || a->salt.len > sizeof(TPMU_HA)))
        rc = PSC_PSA_INVALID_ARGUMENT;
    /* A TPM takes an OAEP label as one zero-terminated string (TPM 2.0 Part 1, B.4) and would
     * refuse any other with a bare TPM_RC_VALUE. */
    if (rc == 0 && a->salt.len &&
        (a->salt.p[a->salt.len - 1] != 0 || memchr(a->salt.p, 0, a->salt.len - 1)))
        rc = PSC_PSA_INVALID_ARGUMENT;
    return rc;
}

static int check_encrypt(const struct psc_args *a, const struct psc_attrs *k)
{
    return check_crypt(a, k, 1);
}

static int check_decrypt(const struct psc_args *a, const struct psc_attrs *k)
{
    return check_crypt(a, k, 0);
}

static int crypt_fn(struct tpm_provider *t, const struct psc_args *a, ESYS_TR h,
                    struct psc_out *out, TSS2_RC *trc, int encrypt)
{
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    TPMT_RSA_DECRYPT sc;
    TPM2B_PUBLIC_KEY_RSA msg = {0}, *res = NULL;
    TPM2B_DATA label = {0};
    int rc = rsa_scheme(a->alg, &sc);
    if (rc != 0)
        return rc;
    msg.size = (uint16_t)in->len;
    memcpy(msg.buffer, in->p, in->len);
    /* The salt is the OAEP label (an empty salt is no label). */
    label.size = (uint16_t)a->salt.len;
    if (a->salt.len)
        memcpy(label.buffer, a->salt.p, a->salt.len);
    if (encrypt) {
        /* The plaintext is the secret: it goes encrypted. */
        tpm_session_use(t, 1, 0);
        *trc = Esys_RSA_Encrypt(t->esys, h, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &msg, &sc,
                                &label, &res);
    } else {
        tpm_session_use(t, 0, 1);
        *trc = Esys_RSA_Decrypt(t->esys, h, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &msg, &sc,
                                &label, &res);
    }
    explicit_bzero(&msg, sizeof(msg));
    if (*trc != TSS2_RC_SUCCESS)
        return tpm_status(*trc);
    rc = out_set(out, res->buffer, res->size);
    explicit_bzero(res, sizeof(*res));
    Esys_Free(res);
    return rc;
}

static int encrypt_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                      ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    (void)s;
    return crypt_fn(t, a, h, out, trc, 1);
}

static int decrypt_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                      ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    (void)s;
    return crypt_fn(t, a, h, out, trc, 0);
}

#define KEY_OP(name, check_fn)                                                                     \
    static int op_##name(struct psc_provider *p, const struct psc_app *app,                        \
                         const struct psc_args *a, struct psc_out *out)                            \
    {                                                                                              \
        struct key_ctx c = {.fn = name##_fn};                                                      \
        return key_op(p, app, a, out, check_fn, &c);                                               \
    }

KEY_OP(sign, check_sign)
KEY_OP(verify, check_verify)
KEY_OP(encrypt, check_encrypt)
KEY_OP(decrypt, check_decrypt)

/* The public part is in the blob: no TPM needed. */
static int op_export_public(struct psc_provider *p, const struct psc_app *app,
                            const struct psc_args *a, struct psc_out *out)
{
    struct stored s;
    int rc = key_get(p, app, a->key_name, &s);
    if (rc != 0)
        return rc;
    if (s.key.is_ecc)
        rc = tpm_ecc_point_export(&s.key.ecc, s.info.attrs.bits, &out->p, &out->len);
    else
        rc = tpm_rsa_public_der(&s.key.rsa_n, &out->p, &out->len);
    stored_clear(&s);
    return rc;
}

/* ---- operations without a key -------------------------------------------------------------- */

struct random_ctx {
    uint8_t *buf;
    size_t len;
};

static int random_step(struct tpm_provider *t, void *v, TSS2_RC *trc)
{
    struct random_ctx *c = v;
    /* A TPM returns at most one digest's worth per call. */
    for (size_t done = 0; done < c->len;) {
        TPM2B_DIGEST *d = NULL;
        size_t want = c->len - done < sizeof(d->buffer) ? c->len - done : sizeof(d->buffer);
        tpm_session_use(t, 0, 1);
        *trc = Esys_GetRandom(t->esys, t->session, ESYS_TR_NONE, ESYS_TR_NONE, (UINT16)want, &d);
        if (*trc != TSS2_RC_SUCCESS)
            return tpm_status(*trc);
        size_t got = d->size < want ? d->size : want;
        memcpy(c->buf + done, d->buffer, got);
        explicit_bzero(d, sizeof(*d));
        Esys_Free(d);
        if (got == 0)
            return PSC_PSA_INSUFFICIENT_ENTROPY;
        done += got;
    }
    return 0;
}

static int op_generate_random(struct psc_provider *p, const struct psc_app *app,
                              const struct psc_args *a, struct psc_out *out)
{
    (void)app;
    struct tpm_provider *t = tpm_of(p);
    if (a->size > p->env.buffer_size_limit) {
        log_error(MOD, "Generate random status: ResponseTooLarge");
        return PSC_RESPONSE_TOO_LARGE;
    }
    struct random_ctx c = {.buf = malloc(a->size ? (size_t)a->size : 1), .len = (size_t)a->size};
    if (!c.buf)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    pthread_mutex_lock(&t->lock);
    int rc = run_step(t, random_step, &c);
    pthread_mutex_unlock(&t->lock);
    if (rc != 0) {
        explicit_bzero(c.buf, c.len);
        free(c.buf);
        return rc;
    }
    out->p = c.buf;
    out->len = c.len;
    return 0;
}

/* What the provider can do, from the same template rules as key creation: the type, size and
 * policy must make a key the TPM provider builds. */
static int op_can_do_crypto(struct psc_provider *p, const struct psc_app *app,
                            const struct psc_args *a, struct psc_out *out)
{
    (void)p;
    (void)out;
    int rc = app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    struct psc_attrs k = a->attrs;
    int is_public = PSA_KEY_TYPE_IS_PUBLIC_KEY(k.type);
    switch (a->check_type) {
    case 1: /* Use */
        break;
    case 2: /* Generate */
        if (is_public)
            return PSC_PSA_NOT_SUPPORTED;
        break;
    case 3:              /* Import */
        if (k.bits == 0) /* deduced at import */
            k.bits = PSA_KEY_TYPE_IS_RSA(k.type) ? 2048 : 256;
        break;
    default:
        return PSC_PSA_NOT_SUPPORTED;
    }
    if (k.alg != PSA_ALG_NONE && !policy_alg_compatible(k.type, k.alg))
        return PSC_PSA_NOT_SUPPORTED;
    TPM2B_PUBLIC tmpl;
    rc = tpm_public_template(&k, NULL, is_public || a->check_type == 3, &tmpl);
    return rc == 0 ? 0 : PSC_PSA_NOT_SUPPORTED;
}

/* ---- key attestation (operations.md §8) --------------------------------------------------- */

/* A third party proves that a key lives in this TPM with TPM2_MakeCredential: it encrypts a
 * secret of its choice to the TPM's endorsement key, bound to the key's name, and the TPM gives
 * it back (ActivateCredential) only if both keys are loaded in it. PrepareKeyAttestation hands
 * out what MakeCredential needs: the key's name, its public area (whose hash is the name) and the
 * endorsement key's public key. Only the default attesting key, the endorsement key of the TCG
 * EK Credential Profile template (RSA-2048), is offered, as in the original. */

/* The status of a failed attestation command. A wrong endorsement password is GenericError, and
 * credential data the TPM cannot use is InvalidArgument, as in the original. libtpms 0.9 (swtpm
 * in Debian 12) also answers TPM_RC_FAILURE for undecryptable data, a code a TPM otherwise gives
 * in failure mode only: a TPM that still answers afterwards refused the data, not itself. */
static int attest_status(struct tpm_provider *t, TSS2_RC rc)
{
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
        switch (tpm_code(rc)) {
        case TPM2_RC_BAD_AUTH:
        case TPM2_RC_AUTH_FAIL:
            log_error(MOD, "the endorsement hierarchy refused its password: key attestation "
                           "needs endorsement_hierarchy_auth");
            return PSC_PSA_GENERIC_ERROR;
        case TPM2_RC_VALUE:
        case TPM2_RC_SIZE:
        case TPM2_RC_INTEGRITY:
            return PSC_PSA_INVALID_ARGUMENT;
        case TPM2_RC_FAILURE: {
            TPM2B_DIGEST *d = NULL;
            TSS2_RC probe =
                Esys_GetRandom(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 1, &d);
            Esys_Free(d);
            if (probe == TSS2_RC_SUCCESS)
                return PSC_PSA_INVALID_ARGUMENT;
            break;
        }
        default:
            break;
        }
    }
    return tpm_status(rc);
}

static int check_attest(const struct psc_args *a, const struct psc_attrs *k)
{
    (void)k;
    /* The TPM's buffers bound what can be a credential. */
    if (a->credential_blob.len > sizeof(((TPM2B_ID_OBJECT *)0)->credential) ||
        a->secret.len > sizeof(((TPM2B_ENCRYPTED_SECRET *)0)->secret))
        return PSC_PSA_INVALID_ARGUMENT;
    return 0;
}

/* Output: name || public area || endorsement key (DER RSAPublicKey), in three parts. */
static int prepare_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                      ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    (void)a;
    TPM2B_NAME *name = NULL;
    TPM2B_PUBLIC pub, *ek_pub = NULL;
    ESYS_TR ek = ESYS_TR_NONE;
    uint8_t area[sizeof(TPMT_PUBLIC)], *der = NULL;
    size_t area_len = 0, der_len = 0;
    /* The name ESAPI checked against the TPM's when the key was loaded, and the public area it
     * was loaded with. */
    int rc = tpm_public_template(&s->info.attrs, &s->key, TPM_KEY_EXTERNAL(&s->key), &pub);
    if (rc != 0)
        goto out;
    if ((*trc = Esys_TR_GetName(t->esys, h, &name)) != TSS2_RC_SUCCESS ||
        (*trc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub.publicArea, area, sizeof(area), &area_len)) !=
            TSS2_RC_SUCCESS) {
        rc = PSC_PSA_COMMUNICATION_FAILURE;
        goto out;
    }
    if ((*trc = tpm_ek_load(t, &ek, &ek_pub)) != TSS2_RC_SUCCESS) {
        rc = attest_status(t, *trc);
        goto out;
    }
    if ((rc = tpm_rsa_public_der(&ek_pub->publicArea.unique.rsa, &der, &der_len)) != 0)
        goto out;
    if (!(out->p = malloc((size_t)name->size + area_len + der_len))) {
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    memcpy(out->p, name->name, name->size);
    memcpy(out->p + name->size, area, area_len);
    memcpy(out->p + name->size + area_len, der, der_len);
    out->len = (size_t)name->size + area_len + der_len;
    out->part[0] = name->size;
    out->part[1] = area_len;
    out->part[2] = der_len;
    out->n_parts = 3;
out:
    if (ek != ESYS_TR_NONE)
        (void)Esys_FlushContext(t->esys, ek);
    Esys_Free(name);
    Esys_Free(ek_pub);
    free(der);
    return rc;
}

static int activate_fn(struct tpm_provider *t, const struct psc_args *a, const struct stored *s,
                       ESYS_TR h, struct psc_out *out, TSS2_RC *trc)
{
    TPM2B_ID_OBJECT blob = {.size = (UINT16)a->credential_blob.len};
    TPM2B_ENCRYPTED_SECRET secret = {.size = (UINT16)a->secret.len};
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES};
    TPM2B_NONCE no_nonce = {0};
    TPM2B_DIGEST no_cp = {0}, *cred = NULL;
    TPM2B_TIMEOUT *timeout = NULL;
    TPMT_TK_AUTH *ticket = NULL;
    ESYS_TR policy = ESYS_TR_NONE, ek = ESYS_TR_NONE;
    int rc;
    /* A public key alone has no private part to prove. */
    if (s->key.priv.size == 0)
        return PSC_PSA_INVALID_ARGUMENT;
    if (blob.size)
        memcpy(blob.credential, a->credential_blob.p, blob.size);
    if (secret.size)
        memcpy(secret.secret, a->secret.p, secret.size);
    /* The endorsement key's policy: PolicySecret(TPM_RH_ENDORSEMENT). */
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
    *trc =
        Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &policy);
    if (*trc == TSS2_RC_SUCCESS) {
        tpm_session_use(t, 0, 0);
        *trc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, policy, t->session, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &no_nonce, &no_cp, &no_nonce, 0, &timeout, &ticket);
    }
    if (*trc == TSS2_RC_SUCCESS)
        *trc = tpm_ek_load(t, &ek, NULL);
    if (*trc == TSS2_RC_SUCCESS) {
        /* The credential is the third party's secret: it comes back encrypted. */
        tpm_session_use(t, 0, 1);
        *trc = Esys_ActivateCredential(t->esys, h, ek, t->session, policy, ESYS_TR_NONE, &blob,
                                       &secret, &cred);
    }
    if (*trc != TSS2_RC_SUCCESS) {
        rc = attest_status(t, *trc);
        goto out;
    }
    rc = out_set(out, cred->buffer, cred->size);
out:
    if (ek != ESYS_TR_NONE)
        (void)Esys_FlushContext(t->esys, ek);
    if (policy != ESYS_TR_NONE)
        (void)Esys_FlushContext(t->esys, policy);
    if (cred)
        explicit_bzero(cred, sizeof(*cred));
    Esys_Free(cred);
    Esys_Free(timeout);
    Esys_Free(ticket);
    explicit_bzero(&blob, sizeof(blob));
    explicit_bzero(&secret, sizeof(secret));
    return rc;
}

static int attest_op(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                     struct psc_out *out, struct key_ctx *c)
{
    int rc = app_check(app);
    if (rc != 0)
        return rc;
    if (a->attesting_key_name && a->attesting_key_name[0]) {
        log_error(MOD, "key attestation: only the default attesting key (the endorsement key) "
                       "is supported");
        return PSC_PSA_NOT_SUPPORTED;
    }
    return key_op(p, app, a, out, check_attest, c);
}

static int op_prepare_attestation(struct psc_provider *p, const struct psc_app *app,
                                  const struct psc_args *a, struct psc_out *out)
{
    struct key_ctx c = {.fn = prepare_fn};
    return attest_op(p, app, a, out, &c);
}

static int op_attest_key(struct psc_provider *p, const struct psc_app *app,
                         const struct psc_args *a, struct psc_out *out)
{
    struct key_ctx c = {.fn = activate_fn};
    return attest_op(p, app, a, out, &c);
}

/* ---- start-up ------------------------------------------------------------------------------ */

static void tpm_destroy(struct psc_provider *p)
{
    if (!p)
        return;
    struct tpm_provider *t = tpm_of(p);
    tpm_live_remove(t);
    tpm_ctx_close(t);
    pthread_mutex_destroy(&t->lock);
    free(t->tcti_conf);
    free(p->name);
    explicit_bzero(&t->owner_auth, sizeof(t->owner_auth));
    explicit_bzero(&t->endorsement_auth, sizeof(t->endorsement_auth));
    free(t);
}

static int tpm_create(const struct cfg_provider *cfg, struct psc_kim *kim,
                      const struct psc_provider_env *env, struct psc_provider **out, char *err,
                      size_t err_len)
{
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    struct tpm_provider *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->session = t->root = ESYS_TR_NONE;
    struct psc_provider *p = &t->base;
    p->type = &psc_tpm_provider;
    p->kim = kim;
    p->env = *env;
    p->name = strdup(cfg->name ? cfg->name : psc_tpm_provider.default_name);
    t->tcti_conf = strdup(cfg->tcti ? cfg->tcti : "");
    if (!p->name || !t->tcti_conf) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (tpm_auth_parse(cfg->owner_hierarchy_auth ? cfg->owner_hierarchy_auth : "",
                       "owner_hierarchy_auth", &t->owner_auth, err, err_len) != 0)
        goto fail;
    if (cfg->endorsement_hierarchy_auth) {
        if (tpm_auth_parse(cfg->endorsement_hierarchy_auth, "endorsement_hierarchy_auth",
                           &t->endorsement_auth, err, err_len) != 0)
            goto fail;
        t->has_endorsement_auth = 1;
    }
    /* tpm2-tss writes its own warnings to stderr for every TPM error, a bad signature sent by
     * a client included: the provider reports what matters itself (log_error_details adds the
     * TSS code). TSS2_LOG set by the administrator wins. */
    if (!getenv("TSS2_LOG"))
        setenv("TSS2_LOG", "all+none", 0);
    int no_tpm = 0;
    tpm_live_take_over(t);
    tpm_live_add(t);
    if (tpm_ctx_open(t, &no_tpm, err, err_len) != 0) {
        if (no_tpm && cfg->skip_if_no_tpm) {
            tpm_destroy(p);
            return 1;
        }
        goto fail;
    }
    if (tpm_root_check(t, err, err_len) != 0)
        goto fail;
    log_info(MOD, "TPM opened through \"%s\": AES-%u-CFB session, %zu cached keys", t->tcti_conf,
             (unsigned)t->cipher.keyBits.aes, t->cache_cap);
    *out = p;
    return 0;
fail:
    tpm_destroy(p);
    return -1;
}

const struct psc_provider_type psc_tpm_provider = {
    .id = PSC_PROVIDER_TPM,
    .uuid = "1e4954a4-ff21-46d3-ab0c-661eeb667e1d",
    .description = "TPM provider, interfacing with a library implementing the TCG TSS 2.0 "
                   "Enhanced System API specification.",
    .vendor = "Trusted Computing Group (TCG)",
    .version_maj = 0,
    .version_min = 1,
    .version_rev = 0,
    .config_type = "Tpm",
    .default_name = "tpm-provider",
    .serial = 1,
    .ops =
        {
            [PSC_OP_PSA_GENERATE_KEY] = op_generate_key,
            [PSC_OP_PSA_GENERATE_RANDOM] = op_generate_random,
            [PSC_OP_PSA_DESTROY_KEY] = op_destroy_key,
            [PSC_OP_PSA_SIGN_HASH] = op_sign,
            [PSC_OP_PSA_VERIFY_HASH] = op_verify,
            [PSC_OP_PSA_IMPORT_KEY] = op_import_key,
            [PSC_OP_PSA_EXPORT_PUBLIC_KEY] = op_export_public,
            [PSC_OP_PSA_ASYMMETRIC_DECRYPT] = op_decrypt,
            [PSC_OP_PSA_ASYMMETRIC_ENCRYPT] = op_encrypt,
            [PSC_OP_CAN_DO_CRYPTO] = op_can_do_crypto,
            [PSC_OP_ATTEST_KEY] = op_attest_key,
            [PSC_OP_PREPARE_KEY_ATTESTATION] = op_prepare_attestation,
        },
    .create = tpm_create,
    .destroy = tpm_destroy,
};
