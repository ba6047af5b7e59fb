/* The TPM provider's ESAPI context: TCTI, HMAC session, root key, loaded keys.
 *
 * Everything here runs with the provider's lock held (or before the provider is shared).
 *
 * Session: HMAC, SHA-256, AES-256-CFB parameter encryption (AES-128-CFB where the TPM lacks
 * 256), as the original, but salted with the root key once that exists; each command sets the
 * decrypt/encrypt attributes its parameters allow, so that every secret that crosses the bus (auth
 * values, private blobs, plaintexts, random bytes) is encrypted.
 *
 * Loaded keys: a TPM without a resource manager holds very few transient objects (swtpm: 3).
 * The root key stays loaded; other keys are kept in a small cache, least recently used first
 * out, sized from what the TPM reports. A TPM that was reset or had its objects flushed behind
 * the service's back answers with "not loaded"/"not initialised" codes: the context is then
 * rebuilt from scratch (the root key is deterministic, the keys are in their blobs). */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "common/log.h"
#include "service/providers/tpm_int.h"
#include "wire/status.h"

static const char *const MOD = "parsec::providers::tpm";

void tpm_session_use(struct tpm_provider *t, int decrypt, int encrypt)
{
    TPMA_SESSION a = TPMA_SESSION_CONTINUESESSION;
    if (decrypt)
        a |= TPMA_SESSION_DECRYPT;
    if (encrypt)
        a |= TPMA_SESSION_ENCRYPT;
    (void)Esys_TRSess_SetAttributes(t->esys, t->session, a, 0xff);
}

int tpm_ctx_lost(TSS2_RC rc)
{
    TSS2_RC c = tpm_code(rc);
    if (c == TPM2_RC_INITIALIZE || c == TPM2_RC_HANDLE)
        return 1;
    if (c >= TPM2_RC_REFERENCE_H0 && c <= TPM2_RC_REFERENCE_S0 + 6)
        return 1;
    /* The connection failed, or failed earlier and left ESAPI mid-command (it then refuses
     * every call as out of sequence): only a new context helps. */
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER || rc == TSS2_ESYS_RC_BAD_SEQUENCE ||
           rc == TSS2_ESYS_RC_MALFORMED_RESPONSE;
}

/* ---- cache of loaded keys ----------------------------------------------------------------- */

static void slot_drop(struct tpm_provider *t, struct tpm_slot *s, int flush)
{
    if (!s->blob)
        return;
    if (flush)
        (void)Esys_FlushContext(t->esys, s->handle);
    explicit_bzero(s->blob, s->blob_len);
    free(s->blob);
    memset(s, 0, sizeof(*s));
}

static void cache_clear(struct tpm_provider *t, int flush)
{
    for (size_t i = 0; i < TPM_CACHE_MAX; i++)
        slot_drop(t, &t->cache[i], flush);
}

/* A free slot, made by flushing the least recently used key if the cache is full. */
static struct tpm_slot *cache_room(struct tpm_provider *t)
{
    struct tpm_slot *lru = NULL;
    size_t used = 0;
    for (size_t i = 0; i < TPM_CACHE_MAX; i++) {
        struct tpm_slot *s = &t->cache[i];
        if (!s->blob)
            continue;
        used++;
        if (!lru || s->used < lru->used)
            lru = s;
    }
    if (used >= t->cache_cap && lru)
        slot_drop(t, lru, 1);
    for (size_t i = 0; i < TPM_CACHE_MAX; i++)
        if (!t->cache[i].blob)
            return &t->cache[i];
    return NULL; /* not reached: cache_cap <= TPM_CACHE_MAX */
}

int tpm_cache_evict(struct tpm_provider *t)
{
    struct tpm_slot *lru = NULL;
    for (size_t i = 0; i < TPM_CACHE_MAX; i++)
        if (t->cache[i].blob && (!lru || t->cache[i].used < lru->used))
            lru = &t->cache[i];
    if (!lru)
        return 0;
    slot_drop(t, lru, 1);
    return 1;
}

static int slot_is(const struct tpm_slot *s, const uint8_t *blob, size_t blob_len,
                   const struct psc_attrs *a)
{
    return s->blob && s->blob_len == blob_len && memcmp(s->blob, blob, blob_len) == 0 &&
           s->attrs.type == a->type && s->attrs.bits == a->bits && s->attrs.alg == a->alg;
}

void tpm_cache_forget(struct tpm_provider *t, const uint8_t *blob, size_t blob_len,
                      const struct psc_attrs *a)
{
    for (size_t i = 0; i < TPM_CACHE_MAX; i++)
        if (slot_is(&t->cache[i], blob, blob_len, a))
            slot_drop(t, &t->cache[i], 1);
}

static TSS2_RC key_load(struct tpm_provider *t, const TPM2B_PUBLIC *pub, const struct tpm_key *k,
                        ESYS_TR *h)
{
    if (k->priv.size == 0)
        return Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, pub,
                                 ESYS_TR_RH_NULL, h);
    tpm_session_use(t, 1, 0);
    TSS2_RC rc =
        Esys_Load(t->esys, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &k->priv, pub, h);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_TR_SetAuth(t->esys, *h, &k->auth);
    return rc;
}

TSS2_RC tpm_key_handle(struct tpm_provider *t, const uint8_t *blob, size_t blob_len,
                       const struct psc_attrs *a, const struct tpm_key *k, ESYS_TR *h)
{
    for (size_t i = 0; i < TPM_CACHE_MAX; i++) {
        struct tpm_slot *s = &t->cache[i];
        if (slot_is(s, blob, blob_len, a)) {
            s->used = ++t->tick;
            *h = s->handle;
            return TSS2_RC_SUCCESS;
        }
    }
    TPM2B_PUBLIC pub;
    if (tpm_public_template(a, k, TPM_KEY_EXTERNAL(k), &pub) != 0)
        return TSS2_ESYS_RC_BAD_VALUE;
    struct tpm_slot *s = cache_room(t);
    uint8_t *copy = malloc(blob_len ? blob_len : 1);
    if (!s || !copy) {
        free(copy);
        return TSS2_ESYS_RC_MEMORY;
    }
    TSS2_RC rc = key_load(t, &pub, k, h);
    if (rc != TSS2_RC_SUCCESS) {
        free(copy);
        return rc;
    }
    memcpy(copy, blob, blob_len);
    s->blob = copy;
    s->blob_len = blob_len;
    s->attrs = *a;
    s->handle = *h;
    s->used = ++t->tick;
    return TSS2_RC_SUCCESS;
}

/* ---- opening -------------------------------------------------------------------------------- */

/* The TCTI names of the original's configuration (tss-esapi's TctiNameConf): name[:conf]. */
static int tcti_conf_valid(const char *conf)
{
    static const char *const names[] = {"device", "mssim", "swtpm", "tabrmd"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncmp(conf, names[i], n) == 0 && (conf[n] == '\0' || conf[n] == ':'))
            return 1;
    }
    return 0;
}

static int fail(char *err, size_t err_len, const char *what, TSS2_RC rc)
{
    snprintf(err, err_len, "%s: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned)rc);
    return -1;
}

/* How many keys the TPM can hold at once besides the root key. */
static int probe_capacity(struct tpm_provider *t, char *err, size_t err_len)
{
    TPMI_YES_NO more;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TSS2_RC rc =
        Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_TPM_PROPERTIES, TPM2_PT_HR_TRANSIENT_MIN, 1, &more, &cap);
    if (tpm_code(rc) == TPM2_RC_INITIALIZE) {
        /* A TPM nobody started (a simulator, or a platform without firmware support). */
        log_info(MOD, "the TPM was not started: sending TPM2_Startup(CLEAR)");
        rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS)
            return fail(err, err_len, "TPM2_Startup failed", rc);
        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                TPM2_CAP_TPM_PROPERTIES, TPM2_PT_HR_TRANSIENT_MIN, 1, &more, &cap);
    }
    if (tpm_code(rc) == TPM2_RC_FAILURE)
        return fail(err, err_len, "the TPM is in failure mode", rc);
    if (rc != TSS2_RC_SUCCESS)
        return fail(err, err_len, "cannot read the TPM's capabilities", rc);
    uint32_t n = 3; /* the platform minimum, if the TPM does not say */
    TPML_TAGGED_TPM_PROPERTY *pl = &cap->data.tpmProperties;
    if (cap->capability == TPM2_CAP_TPM_PROPERTIES && pl->count >= 1 &&
        pl->tpmProperty[0].property == TPM2_PT_HR_TRANSIENT_MIN)
        n = pl->tpmProperty[0].value;
    Esys_Free(cap);
    t->cache_cap = n > 1 ? n - 1 : 1;
    if (t->cache_cap > TPM_CACHE_MAX)
        t->cache_cap = TPM_CACHE_MAX;
    return 0;
}

/* Transient objects and sessions already loaded when the service opens the TPM: a TPM without
 * resource manager keeps what a process that ended without flushing (a crash, a kill) had
 * loaded, and swtpm has room for 3 objects only. Behind a resource manager a connection sees
 * its own handles only, so nothing of another user is touched there. */
static void flush_leftovers(struct tpm_provider *t)
{
    static const TPM2_HANDLE first[] = {TPM2_TRANSIENT_FIRST, TPM2_LOADED_SESSION_FIRST};
    for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++) {
        TPMI_YES_NO more;
        TPMS_CAPABILITY_DATA *cap = NULL;
        if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                               first[k], TPM2_MAX_CAP_HANDLES, &more, &cap) != TSS2_RC_SUCCESS)
            continue;
        TPML_HANDLE *hl = &cap->data.handles;
        size_t flushed = 0;
        for (UINT32 i = 0; i < hl->count; i++) {
            /* The list runs on past the type asked for. */
            if ((hl->handle[i] & TPM2_HR_RANGE_MASK) != (first[k] & TPM2_HR_RANGE_MASK))
                break;
            ESYS_TR tr;
            if (Esys_TR_FromTPMPublic(t->esys, hl->handle[i], ESYS_TR_NONE, ESYS_TR_NONE,
                                      ESYS_TR_NONE, &tr) == TSS2_RC_SUCCESS &&
                Esys_FlushContext(t->esys, tr) == TSS2_RC_SUCCESS)
                flushed++;
        }
        if (flushed)
            log_warn(MOD,
                     "flushed %zu %s left in the TPM by a process that ended without "
                     "flushing them",
                     flushed, k == 0 ? "objects" : "sessions");
        Esys_Free(cap);
    }
}

static int probe_cipher(struct tpm_provider *t, char *err, size_t err_len)
{
    static const uint16_t bits[] = {256, 128};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        TPMT_PUBLIC_PARMS parms = {.type = TPM2_ALG_SYMCIPHER};
        parms.parameters.symDetail.sym.algorithm = TPM2_ALG_AES;
        parms.parameters.symDetail.sym.keyBits.aes = bits[i];
        parms.parameters.symDetail.sym.mode.aes = TPM2_ALG_CFB;
        if (Esys_TestParms(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &parms) ==
            TSS2_RC_SUCCESS) {
            t->cipher = parms.parameters.symDetail.sym;
            return 0;
        }
    }
    snprintf(err, err_len,
             "desired ciphers not supported: the TPM has neither AES-256-CFB nor AES-128-CFB "
             "for its session");
    return -1;
}

/* An HMAC session; salted with tpm_key (ESYS_TR_NONE: unsalted). */
static int start_session(struct tpm_provider *t, ESYS_TR tpm_key, char *err, size_t err_len)
{
    TPMT_SYM_DEF sym = {.algorithm = t->cipher.algorithm};
    sym.keyBits.aes = t->cipher.keyBits.aes;
    sym.mode.aes = t->cipher.mode.aes;
    TSS2_RC rc =
        Esys_StartAuthSession(t->esys, tpm_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &t->session);
    if (rc != TSS2_RC_SUCCESS)
        return fail(err, err_len, "the TPM refused the HMAC session", rc);
    return 0;
}

/* The session the root key was made in is unsalted, as the original's only session: its keys
 * come from nonces that cross the bus in clear, so its parameter encryption hides nothing from
 * someone who reads the bus. Once the root key exists, the session is replaced by one salted
 * with it: its secret crosses the bus encrypted to the root key, and so does, from then on,
 * every auth value, private blob, plaintext and random byte. */
static int salt_session(struct tpm_provider *t, char *err, size_t err_len)
{
    ESYS_TR unsalted = t->session;
    t->session = ESYS_TR_NONE;
    int rc = start_session(t, t->root, err, err_len);
    (void)Esys_FlushContext(t->esys, unsalted);
    return rc;
}

/* TPM2_CreatePrimary in the provider's session, the auth value going encrypted; the creation
 * data is not kept. *pub (if not NULL) gets the public area, to Esys_Free. */
static TSS2_RC create_primary(struct tpm_provider *t, ESYS_TR hierarchy,
                              const TPM2B_SENSITIVE_CREATE *sens, const TPM2B_PUBLIC *tmpl,
                              ESYS_TR *h, TPM2B_PUBLIC **pub)
{
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcr = {0};
    TPM2B_PUBLIC *out_pub = NULL;
    TPM2B_CREATION_DATA *cd = NULL;
    TPM2B_DIGEST *ch = NULL;
    TPMT_TK_CREATION *ct = NULL;
    *h = ESYS_TR_NONE;
    tpm_session_use(t, 1, 0);
    TSS2_RC rc = Esys_CreatePrimary(t->esys, hierarchy, t->session, ESYS_TR_NONE, ESYS_TR_NONE,
                                    sens, tmpl, &outside, &pcr, h, &out_pub, &cd, &ch, &ct);
    if (rc == TSS2_RC_SUCCESS && pub)
        *pub = out_pub;
    else
        Esys_Free(out_pub);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(ct);
    return rc;
}

static int create_root(struct tpm_provider *t, char *err, size_t err_len)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC pub;
    TPM2B_NAME *name = NULL;
    int ret = -1;
    sens.sensitive.userAuth.size = TPM_KEY_AUTH_LEN;
    if (getrandom(sens.sensitive.userAuth.buffer, TPM_KEY_AUTH_LEN, 0) != TPM_KEY_AUTH_LEN) {
        snprintf(err, err_len, "cannot draw the root key's auth value");
        goto out;
    }
    tpm_root_template(&t->cipher, &pub);
    TSS2_RC rc = create_primary(t, ESYS_TR_RH_OWNER, &sens, &pub, &t->root, NULL);
    TSS2_RC c = tpm_code(rc);
    if (c == TPM2_RC_AUTH_FAIL || c == TPM2_RC_BAD_AUTH) {
        fail(err, err_len, "wrong owner hierarchy password (owner_hierarchy_auth)", rc);
        goto out;
    }
    if (c == TPM2_RC_LOCKOUT) {
        fail(err, err_len, "the TPM is in dictionary-attack lockout", rc);
        goto out;
    }
    if (rc != TSS2_RC_SUCCESS) {
        fail(err, err_len, "cannot create the root key", rc);
        goto out;
    }
    rc = Esys_TR_SetAuth(t->esys, t->root, &sens.sensitive.userAuth);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_TR_GetName(t->esys, t->root, &name);
    if (rc != TSS2_RC_SUCCESS) {
        fail(err, err_len, "cannot use the root key", rc);
        goto out;
    }
    ret = 0;
    if (t->root_name.size == 0) {
        t->root_name = *name;
    } else if (t->root_name.size != name->size ||
               memcmp(t->root_name.name, name->name, name->size) != 0) {
        snprintf(err, err_len,
                 "Obtained Root Key name does not coincide with the stored one (owner "
                 "hierarchy cleared, or another TPM)");
        ret = -1;
    }
out:
    explicit_bzero(&sens, sizeof(sens));
    Esys_Free(name);
    return ret;
}

TSS2_RC tpm_ek_load(struct tpm_provider *t, ESYS_TR *ek, TPM2B_PUBLIC **pub)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl;
    tpm_ek_template(&tmpl);
    return create_primary(t, ESYS_TR_RH_ENDORSEMENT, &sens, &tmpl, ek, pub);
}

TSS2_RC tpm_ek_name(struct tpm_provider *t, TPM2B_NAME *out)
{
    ESYS_TR ek;
    TPM2B_NAME *name = NULL;
    TSS2_RC rc = tpm_ek_load(t, &ek, NULL);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_TR_GetName(t->esys, ek, &name);
    if (rc == TSS2_RC_SUCCESS)
        *out = *name;
    if (ek != ESYS_TR_NONE)
        (void)Esys_FlushContext(t->esys, ek);
    Esys_Free(name);
    return rc;
}

int tpm_ctx_open(struct tpm_provider *t, int *no_tpm, char *err, size_t err_len)
{
    *no_tpm = 0;
    t->session = t->root = ESYS_TR_NONE;
    if (!tcti_conf_valid(t->tcti_conf)) {
        snprintf(err, err_len,
                 "Invalid TCTI configuration string (expected device, mssim, swtpm or tabrmd, "
                 "optionally followed by ':' and its options)");
        return -1;
    }
    TSS2_RC rc = Tss2_TctiLdr_Initialize(t->tcti_conf, &t->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        *no_tpm = 1;
        char what[300];
        snprintf(what, sizeof(what), "cannot open the TPM through TCTI \"%s\"", t->tcti_conf);
        return fail(err, err_len, what, rc);
    }
    rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        *no_tpm = 1;
        return fail(err, err_len, "cannot initialise the TSS Enhanced System API", rc);
    }
    if (probe_capacity(t, err, err_len) != 0 || probe_cipher(t, err, err_len) != 0)
        return -1;
    flush_leftovers(t);
    if (start_session(t, ESYS_TR_NONE, err, err_len) != 0)
        return -1;
    rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &t->owner_auth);
    if (rc == TSS2_RC_SUCCESS && t->has_endorsement_auth)
        rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_ENDORSEMENT, &t->endorsement_auth);
    if (rc != TSS2_RC_SUCCESS)
        return fail(err, err_len, "cannot set the hierarchy passwords", rc);
    if (create_root(t, err, err_len) != 0)
        return -1;
    return salt_session(t, err, err_len);
}

void tpm_ctx_drop(struct tpm_provider *t)
{
    cache_clear(t, 0);
    if (t->esys)
        Esys_Finalize(&t->esys);
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    t->esys = NULL;
    t->tcti = NULL;
    t->root = t->session = ESYS_TR_NONE;
}

void tpm_ctx_close(struct tpm_provider *t)
{
    if (t->esys) {
        cache_clear(t, 1);
        if (t->root != ESYS_TR_NONE)
            (void)Esys_FlushContext(t->esys, t->root);
        if (t->session != ESYS_TR_NONE)
            (void)Esys_FlushContext(t->esys, t->session);
        Esys_Finalize(&t->esys);
    } else {
        cache_clear(t, 0);
    }
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    t->esys = NULL;
    t->tcti = NULL;
    t->root = t->session = ESYS_TR_NONE;
}

int tpm_ctx_reopen(struct tpm_provider *t)
{
    log_warn(MOD, "the TPM lost the service's objects (reset, or flushed by another user): "
                  "reopening the context and reloading the root key");
    /* The objects may still be there (a lost connection): flushing them frees their slots;
     * on a reset TPM it fails harmlessly. */
    tpm_ctx_close(t);
    char err[512] = "";
    int no_tpm;
    if (tpm_ctx_open(t, &no_tpm, err, sizeof(err)) != 0) {
        log_error(MOD, "cannot reopen the TPM: %s", err);
        tpm_ctx_close(t);
        return PSC_PSA_COMMUNICATION_FAILURE;
    }
    log_info(MOD, "TPM context reopened; keys are reloaded from their blobs as they are used");
    return 0;
}
