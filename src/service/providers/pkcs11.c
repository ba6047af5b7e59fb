/* The PKCS#11 provider on any PKCS#11 v2.40 module (providers.md §5).
 *
 * What SoftHSM2 2.6.1 (Debian 12) does through it, checked end to end by tests/pkcs11:
 *
 *   key type              create            operations
 *   --------------------- ----------------- -------------------------------------------------
 *   RSA key pair          generate          sign/verify hash: PKCS#1 v1.5 (SHA-1/224/256/384/
 *                                           512, raw), PSS (same hashes); encrypt/decrypt:
 *                                           PKCS#1 v1.5, OAEP with SHA-1 only
 *   RSA public key        import (DER)      verify, encrypt
 *   ECC SECP_R1 key pair  generate 192 224  ECDSA sign/verify hash (any hash length);
 *                         256 384 521       deterministic ECDSA refused (1134)
 *   ECC SECP_R1 public    import 04||X||Y   verify
 *   export public key     DER RSAPublicKey, 04||X||Y; private keys are never exported
 *
 * Locking: a session serves one request at a time (the pool hands it out); a request that
 * creates or destroys token objects holds the object lock exclusively, every other request
 * that uses objects holds it shared. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np, explicit_bzero */
#include "service/providers/pkcs11.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <p11-kit/pkcs11.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/p11_hash.h"
#include "psa/convert.h"
#include "psa/policy.h"
#include "service/kim/kim.h"
#include "service/providers/keys_common.h"
#include "wire/status.h"

static const char *const MOD = "parsec::providers::pkcs11";

/* A key id in a mapping: u32, little-endian; in CKA_ID: the same u32, big-endian. */
#define P11_KEY_ID_LEN KEYS_ID_U32_LEN
/* Sessions kept open per provider: the most requests that run on the token at once. A module
 * that cannot lock for itself gets one. */
#define P11_SESSIONS_MAX 8
/* Object handles remembered (two per key); the cache is emptied when it is three quarters
 * full, so it never grows with the number of keys. */
#define P11_CACHE_SLOTS 4096
/* Longest PIN accepted, in bytes (a PIN file longer than that is refused). */
#define P11_PIN_MAX 256
/* Tokens named in a "token not found" message. */
#define P11_TOKENS_LISTED_MAX 16
/* Random key ids drawn before giving up (each is checked against the token). */
#define P11_ID_TRIES 32
/* Objects with one CKA_ID that a destroy removes: the two halves of a key, and copies left by
 * interrupted attempts. */
#define P11_HALVES_MAX 8
/* Concurrent retries of an operation whose session or cached handle was lost. */
#define P11_RETRIES 2
/* Largest RSA key generated: a bigger one would hold the token's object lock, and with it
 * every other request, for minutes. */
#define P11_RSA_BITS_MAX 4096
/* Longest RSA public exponent imported, in bytes (OpenSSL's bound too: 64 bits). */
#define P11_RSA_EXPONENT_MAX 8
/* Largest attribute read from the token (an RSA-8192 modulus is 1 KiB). */
#define P11_ATTR_MAX 4096

/* Modules initialised by this process, shared by the providers that load the same one. */
#define P11_MODULES_MAX 8
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    CK_FUNCTION_LIST_PTR f;
    unsigned users;
    int thread_safe;
} modules[P11_MODULES_MAX];

struct cache_entry {
    uint32_t id;
    int used;
    CK_OBJECT_HANDLE priv, pub; /* CK_INVALID_HANDLE: not known */
};

struct p11 {
    struct psc_provider base;
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    int initialized; /* counted in modules[] */
    CK_SLOT_ID slot;
    CK_FLAGS token_flags; /* as found at start */
    char label[33];
    uint8_t *pin;
    size_t pin_len;
    int has_pin;
    int software_public;
    int allow_export;

    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cv;
    size_t n_sess;
    CK_SESSION_HANDLE sess[P11_SESSIONS_MAX];
    int busy[P11_SESSIONS_MAX];

    pthread_rwlock_t obj_lock;

    pthread_mutex_t cache_lock;
    struct cache_entry *cache;
    size_t n_cache;

    /* Key ids that mappings or token objects hold: never handed out again. Sorted, guarded by
     * obj_lock held exclusively (read at start-up before any request). */
    uint32_t *ids;
    size_t n_ids, cap_ids;

    CK_MECHANISM_TYPE *mechs; /* read at start: CanDoCrypto asks the module nothing */
    CK_MECHANISM_INFO *mech_info;
    CK_ULONG n_mechs;
    unsigned oaep_hashes; /* bit i: OAEP with p11_hashes[i] accepted by the module */
};

#define P11(p) ((struct p11 *)(p))

/* ---- hashes and mechanisms ---------------------------------------------------------------- */

static int hash_index(psa_algorithm_t hash)
{
    for (size_t i = 0; i < P11_N_HASHES; i++)
        if (p11_hashes[i].psa == hash)
            return (int)i;
    return -1;
}

/* SECP_R1 curves: size, DER namedCurve OID, Mbed TLS group. */
static const struct curve {
    size_t bits;
    uint8_t oid_len;
    uint8_t oid[10];
    mbedtls_ecp_group_id grp;
} curves[] = {
    {192,
     10,
     {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01},
     MBEDTLS_ECP_DP_SECP192R1},
    {224, 7, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21}, MBEDTLS_ECP_DP_SECP224R1},
    {256,
     10,
     {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07},
     MBEDTLS_ECP_DP_SECP256R1},
    {384, 7, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, MBEDTLS_ECP_DP_SECP384R1},
    {521, 7, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, MBEDTLS_ECP_DP_SECP521R1},
};

static const struct curve *curve_of(psa_key_type_t type, size_t bits)
{
    if (!PSA_KEY_TYPE_IS_ECC(type) || PSA_KEY_TYPE_ECC_GET_FAMILY(type) != PSA_ECC_FAMILY_SECP_R1)
        return NULL;
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (curves[i].bits == bits)
            return &curves[i];
    return NULL;
}

static size_t bytes_of_bits(size_t bits)
{
    return (bits + 7) / 8;
}

/* The mechanism a key's policy algorithm is used through (CKA_ALLOWED_MECHANISMS), or 0. */
static CK_MECHANISM_TYPE mech_of_alg(psa_algorithm_t alg)
{
    if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg) || alg == PSA_ALG_RSA_PKCS1V15_CRYPT)
        return CKM_RSA_PKCS;
    if (PSA_ALG_IS_RSA_PSS(alg))
        return CKM_RSA_PKCS_PSS;
    if (PSA_ALG_IS_RSA_OAEP(alg))
        return CKM_RSA_PKCS_OAEP;
    if (PSA_ALG_IS_ECDSA(alg) && !PSA_ALG_IS_DETERMINISTIC_ECDSA(alg))
        return CKM_ECDSA;
    return 0;
}

/* A mechanism with its parameters, filled for one operation. */
struct mech {
    CK_MECHANISM m;
    CK_RSA_PKCS_PSS_PARAMS pss;
    CK_RSA_PKCS_OAEP_PARAMS oaep;
    int hash; /* index in p11_hashes[], -1 for none */
};

/* The mechanism of a signature algorithm; PSC_PSA_NOT_SUPPORTED for one no mechanism takes. */
static int mech_of_sign(psa_algorithm_t alg, struct mech *m)
{
    memset(m, 0, sizeof(*m));
    m->hash = -1;
    psa_algorithm_t h = PSA_ALG_SIGN_GET_HASH(alg);
    if (alg == PSA_ALG_RSA_PKCS1V15_SIGN_RAW) {
        m->m.mechanism = CKM_RSA_PKCS;
        return 0;
    }
    if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg)) {
        if ((m->hash = hash_index(h)) < 0)
            return PSC_PSA_NOT_SUPPORTED;
        m->m.mechanism = CKM_RSA_PKCS;
        return 0;
    }
    if (PSA_ALG_IS_RSA_PSS(alg)) {
        if ((m->hash = hash_index(h)) < 0)
            return PSC_PSA_NOT_SUPPORTED;
        m->pss.hashAlg = p11_hashes[m->hash].ckm;
        m->pss.mgf = p11_hashes[m->hash].mgf;
        m->pss.sLen = p11_hashes[m->hash].len;
        m->m.mechanism = CKM_RSA_PKCS_PSS;
        m->m.pParameter = &m->pss;
        m->m.ulParameterLen = sizeof(m->pss);
        m->hash = -1; /* the token takes the hash itself, not a DigestInfo */
        return 0;
    }
    if (PSA_ALG_IS_ECDSA(alg) && !PSA_ALG_IS_DETERMINISTIC_ECDSA(alg)) {
        m->m.mechanism = CKM_ECDSA;
        return 0;
    }
    return PSC_PSA_NOT_SUPPORTED;
}

/* The mechanism of an encryption algorithm; the label is the request's salt. */
static int mech_of_crypt(const struct p11 *p, psa_algorithm_t alg, const struct psc_bytes *label,
                         struct mech *m)
{
    memset(m, 0, sizeof(*m));
    m->hash = -1;
    if (alg == PSA_ALG_RSA_PKCS1V15_CRYPT) {
        m->m.mechanism = CKM_RSA_PKCS;
        return 0;
    }
    if (!PSA_ALG_IS_RSA_OAEP(alg))
        return PSC_PSA_NOT_SUPPORTED;
    int h = hash_index(PSA_ALG_RSA_OAEP_GET_HASH(alg));
    /* Only the hashes the module was seen to accept: others would fail at use, on SoftHSM2
     * as a bad argument, which says nothing to the client. */
    if (h < 0 || !(p->oaep_hashes & (1u << h)))
        return PSC_PSA_NOT_SUPPORTED;
    m->oaep.hashAlg = p11_hashes[h].ckm;
    m->oaep.mgf = p11_hashes[h].mgf;
    m->oaep.source = CKZ_DATA_SPECIFIED;
    m->oaep.pSourceData = label && label->len ? (void *)label->p : NULL;
    m->oaep.ulSourceDataLen = label ? label->len : 0;
    m->m.mechanism = CKM_RSA_PKCS_OAEP;
    m->m.pParameter = &m->oaep;
    m->m.ulParameterLen = sizeof(m->oaep);
    m->hash = h;
    return 0;
}

static const CK_MECHANISM_INFO *mech_info(const struct p11 *p, CK_MECHANISM_TYPE m)
{
    for (CK_ULONG i = 0; i < p->n_mechs; i++)
        if (p->mechs[i] == m)
            return &p->mech_info[i];
    return NULL;
}

static int has_mech(const struct p11 *p, CK_MECHANISM_TYPE m)
{
    return mech_info(p, m) != NULL;
}

/* Whether the module offers the mechanism for keys of this size. */
static int mech_fits(const struct p11 *p, CK_MECHANISM_TYPE m, size_t bits)
{
    const CK_MECHANISM_INFO *mi = mech_info(p, m);
    if (!mi)
        return 0;
    /* Sizes of EC mechanisms are in bits too (v2.40); a module that leaves them 0 sets none. */
    if (bits && mi->ulMaxKeySize && (bits < mi->ulMinKeySize || bits > mi->ulMaxKeySize))
        return 0;
    return 1;
}

/* ---- errors ------------------------------------------------------------------------------- */

/* providers.md §5 error mapping, plus the codes that name a client's mistake. */
static int ckr_status(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return 0;
    case CKR_HOST_MEMORY:
        return PSC_PSA_INSUFFICIENT_MEMORY;
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_STATE_UNSAVEABLE:
        return PSC_PSA_HARDWARE_FAILURE;
    case CKR_DEVICE_MEMORY:
        return PSC_PSA_INSUFFICIENT_STORAGE;
    case CKR_SIGNATURE_INVALID:
    case CKR_SIGNATURE_LEN_RANGE:
        return PSC_PSA_INVALID_SIGNATURE;
    case CKR_RANDOM_NO_RNG:
        return PSC_PSA_INSUFFICIENT_ENTROPY;
    case CKR_CURVE_NOT_SUPPORTED:
    case CKR_DOMAIN_PARAMS_INVALID:
    case CKR_FUNCTION_NOT_SUPPORTED:
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_SIZE_RANGE:
        return PSC_PSA_NOT_SUPPORTED;
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
        return PSC_PSA_DOES_NOT_EXIST;
    case CKR_DATA_LEN_RANGE:
        return PSC_PSA_INVALID_ARGUMENT;
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
        return PSC_PSA_INVALID_PADDING;
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_TYPE_INCONSISTENT:
        return PSC_PSA_NOT_PERMITTED;
    default:
        return PSC_PSA_COMMUNICATION_FAILURE;
    }
}

/* Codes after which the session is of no more use: it is closed and another one opened, and
 * no cached handle is trusted any more. */
static int session_lost(CK_RV rv)
{
    return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
           rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

/* ---- key ids ------------------------------------------------------------------------------ */

static void id_to_be(uint32_t id, uint8_t b[P11_KEY_ID_LEN])
{
    for (int i = 0; i < P11_KEY_ID_LEN; i++)
        b[i] = (uint8_t)(id >> (8 * (P11_KEY_ID_LEN - 1 - i)));
}

static size_t ids_pos(const struct p11 *p, uint32_t id)
{
    size_t lo = 0, hi = p->n_ids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int ids_has(const struct p11 *p, uint32_t id)
{
    size_t i = ids_pos(p, id);
    return i < p->n_ids && p->ids[i] == id;
}

static int ids_add(struct p11 *p, uint32_t id)
{
    size_t i = ids_pos(p, id);
    if (i < p->n_ids && p->ids[i] == id)
        return 0;
    if (p->n_ids == p->cap_ids) {
        size_t cap = p->cap_ids ? 2 * p->cap_ids : 64;
        uint32_t *g = realloc(p->ids, cap * sizeof(*g));
        if (!g)
            return PSC_PSA_INSUFFICIENT_MEMORY;
        p->ids = g;
        p->cap_ids = cap;
    }
    memmove(p->ids + i + 1, p->ids + i, (p->n_ids - i) * sizeof(*p->ids));
    p->ids[i] = id;
    p->n_ids++;
    return 0;
}

static void ids_del(struct p11 *p, uint32_t id)
{
    size_t i = ids_pos(p, id);
    if (i < p->n_ids && p->ids[i] == id) {
        memmove(p->ids + i, p->ids + i + 1, (p->n_ids - i - 1) * sizeof(*p->ids));
        p->n_ids--;
    }
}

/* ---- handle cache ------------------------------------------------------------------------- */

static struct cache_entry *cache_slot(struct p11 *p, uint32_t id, int create)
{
    size_t mask = P11_CACHE_SLOTS - 1;
    size_t i = (size_t)(id * 2654435761u) & mask;
    for (size_t n = 0; n < P11_CACHE_SLOTS; n++, i = (i + 1) & mask) {
        struct cache_entry *e = &p->cache[i];
        if (e->used && e->id == id)
            return e;
        if (!e->used) {
            if (!create)
                return NULL;
            if (p->n_cache >= P11_CACHE_SLOTS / 4 * 3) {
                memset(p->cache, 0, P11_CACHE_SLOTS * sizeof(*p->cache));
                p->n_cache = 0;
                return cache_slot(p, id, create);
            }
            e->used = 1;
            e->id = id;
            e->priv = e->pub = CK_INVALID_HANDLE;
            p->n_cache++;
            return e;
        }
    }
    return NULL;
}

static CK_OBJECT_HANDLE cache_get(struct p11 *p, uint32_t id, CK_OBJECT_CLASS cls)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    pthread_mutex_lock(&p->cache_lock);
    struct cache_entry *e = cache_slot(p, id, 0);
    if (e)
        h = cls == CKO_PRIVATE_KEY ? e->priv : e->pub;
    pthread_mutex_unlock(&p->cache_lock);
    return h;
}

static void cache_put(struct p11 *p, uint32_t id, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE h)
{
    pthread_mutex_lock(&p->cache_lock);
    struct cache_entry *e = cache_slot(p, id, 1);
    if (e) {
        if (cls == CKO_PRIVATE_KEY)
            e->priv = h;
        else
            e->pub = h;
    }
    pthread_mutex_unlock(&p->cache_lock);
}

static void cache_forget(struct p11 *p, uint32_t id)
{
    pthread_mutex_lock(&p->cache_lock);
    struct cache_entry *e = cache_slot(p, id, 0);
    if (e)
        e->priv = e->pub = CK_INVALID_HANDLE;
    pthread_mutex_unlock(&p->cache_lock);
}

static void cache_clear(struct p11 *p)
{
    pthread_mutex_lock(&p->cache_lock);
    memset(p->cache, 0, P11_CACHE_SLOTS * sizeof(*p->cache));
    p->n_cache = 0;
    pthread_mutex_unlock(&p->cache_lock);
}

/* ---- sessions ----------------------------------------------------------------------------- */

/* Logs the session's application in, unless it already is (a login is shared by every session
 * of the process). */
static CK_RV login(struct p11 *p, CK_SESSION_HANDLE s)
{
    if (!p->has_pin)
        return CKR_OK;
    CK_SESSION_INFO si;
    if (p->f->C_GetSessionInfo(s, &si) == CKR_OK &&
        (si.state == CKS_RW_USER_FUNCTIONS || si.state == CKS_RO_USER_FUNCTIONS))
        return CKR_OK;
    static CK_UTF8CHAR empty[1];
    CK_RV rv = p->f->C_Login(s, CKU_USER, p->pin_len ? p->pin : empty, p->pin_len);
    return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

static CK_RV session_open(struct p11 *p, CK_SESSION_HANDLE *s)
{
    CK_RV rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
    if (rv != CKR_OK)
        return rv;
    rv = login(p, *s);
    if (rv != CKR_OK) {
        (void)p->f->C_CloseSession(*s);
        *s = CK_INVALID_HANDLE;
    }
    return rv;
}

/* Takes a session from the pool, opening it if it was never opened or was lost. */
static CK_RV pool_get(struct p11 *p, size_t *idx)
{
    pthread_mutex_lock(&p->pool_lock);
    for (;;) {
        for (size_t i = 0; i < p->n_sess; i++)
            if (!p->busy[i]) {
                p->busy[i] = 1;
                *idx = i;
                goto got;
            }
        pthread_cond_wait(&p->pool_cv, &p->pool_lock);
    }
got:
    pthread_mutex_unlock(&p->pool_lock);
    if (p->sess[*idx] != CK_INVALID_HANDLE)
        return CKR_OK;
    CK_RV rv = session_open(p, &p->sess[*idx]);
    if (rv != CKR_OK) {
        pthread_mutex_lock(&p->pool_lock);
        p->busy[*idx] = 0;
        pthread_cond_signal(&p->pool_cv);
        pthread_mutex_unlock(&p->pool_lock);
    }
    return rv;
}

static void pool_put(struct p11 *p, size_t idx, int lost)
{
    if (lost && p->sess[idx] != CK_INVALID_HANDLE) {
        (void)p->f->C_CloseSession(p->sess[idx]);
        p->sess[idx] = CK_INVALID_HANDLE;
    }
    pthread_mutex_lock(&p->pool_lock);
    p->busy[idx] = 0;
    pthread_cond_signal(&p->pool_cv);
    pthread_mutex_unlock(&p->pool_lock);
}

/* One operation on the token. fn runs on a pooled session with the object lock held (shared,
 * or exclusive for a creation or destruction) and returns the module's code; a lost session is
 * replaced and a stale cached handle looked up again, then fn runs once more. */
struct call {
    int used_cache; /* set by fn when it used a cached handle */
    uint32_t id;    /* the key it used */
    int status;     /* a status of fn's own, when it returns CKR_OK without a result */
    int drop;       /* the session is left in a state it cannot be used in again */
};
typedef CK_RV (*call_fn)(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c);

static int run(struct p11 *p, int exclusive, call_fn fn, void *ctx)
{
    CK_RV rv = CKR_OK;
    struct call c;
    for (int attempt = 0; attempt <= P11_RETRIES; attempt++) {
        memset(&c, 0, sizeof(c));
        size_t idx;
        rv = pool_get(p, &idx);
        if (rv != CKR_OK) {
            if (!session_lost(rv))
                break;
            cache_clear(p);
            continue;
        }
        if (exclusive)
            pthread_rwlock_wrlock(&p->obj_lock);
        else
            pthread_rwlock_rdlock(&p->obj_lock);
        rv = fn(p, p->sess[idx], ctx, &c);
        pthread_rwlock_unlock(&p->obj_lock);
        pool_put(p, idx, session_lost(rv) || c.drop);
        if (session_lost(rv)) {
            /* Handles may be reused for other objects once the module was reset: none is
             * trusted after a loss. */
            log_warn(MOD, "token session lost (0x%lx): opening another one", (unsigned long)rv);
            cache_clear(p);
            continue;
        }
        if (c.used_cache && (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)) {
            cache_forget(p, c.id);
            continue;
        }
        break;
    }
    if (rv != CKR_OK) {
        log_debug(MOD, "the module answered 0x%lx", (unsigned long)rv);
        return ckr_status(rv);
    }
    return c.status;
}

/* ---- objects ------------------------------------------------------------------------------ */

/* Up to max handles of objects with the key id (and the class, unless cls is (CK_ULONG)-1). */
static CK_RV find_objects(struct p11 *p, CK_SESSION_HANDLE s, uint32_t id, CK_OBJECT_CLASS cls,
                          CK_OBJECT_HANDLE *h, CK_ULONG max, CK_ULONG *n)
{
    uint8_t idb[P11_KEY_ID_LEN];
    id_to_be(id, idb);
    CK_ATTRIBUTE t[2] = {
        {CKA_ID, idb, sizeof(idb)},
        {CKA_CLASS, &cls, sizeof(cls)},
    };
    *n = 0;
    CK_RV rv = p->f->C_FindObjectsInit(s, t, cls == (CK_ULONG)-1 ? 1 : 2);
    if (rv != CKR_OK)
        return rv;
    rv = p->f->C_FindObjects(s, h, max, n);
    CK_RV rv2 = p->f->C_FindObjectsFinal(s);
    return rv != CKR_OK ? rv : rv2;
}

/* The handle of one half of a key, from the cache or the token. c->status is
 * PSC_PSA_DOES_NOT_EXIST when the token has no such object. */
static CK_RV key_handle(struct p11 *p, CK_SESSION_HANDLE s, uint32_t id, CK_OBJECT_CLASS cls,
                        CK_OBJECT_HANDLE *h, struct call *c)
{
    c->id = id;
    *h = cache_get(p, id, cls);
    if (*h != CK_INVALID_HANDLE) {
        c->used_cache = 1;
        return CKR_OK;
    }
    CK_ULONG n = 0;
    CK_RV rv = find_objects(p, s, id, cls, h, 1, &n);
    if (rv != CKR_OK)
        return rv;
    if (n == 0) {
        /* Private objects are invisible once the login is lost (another application of the
         * process logged out, the token was reset): that is a lost session, not a lost key. */
        CK_SESSION_INFO si;
        if (p->has_pin && p->f->C_GetSessionInfo(s, &si) == CKR_OK &&
            si.state != CKS_RW_USER_FUNCTIONS && si.state != CKS_RO_USER_FUNCTIONS)
            return CKR_USER_NOT_LOGGED_IN;
        *h = CK_INVALID_HANDLE;
        c->status = PSC_PSA_DOES_NOT_EXIST;
        return CKR_OK;
    }
    cache_put(p, id, cls, *h);
    return CKR_OK;
}

/* One attribute's value, malloc'd (*len bytes). */
static CK_RV attr_get(struct p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                      CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    *val = NULL;
    *len = 0;
    CK_RV rv = p->f->C_GetAttributeValue(s, h, &a, 1);
    if (rv != CKR_OK)
        return rv;
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > P11_ATTR_MAX)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    a.pValue = calloc(1, a.ulValueLen ? a.ulValueLen : 1);
    if (!a.pValue)
        return CKR_HOST_MEMORY;
    rv = p->f->C_GetAttributeValue(s, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return rv;
    }
    *val = a.pValue;
    *len = a.ulValueLen;
    return CKR_OK;
}

/* ---- DER ---------------------------------------------------------------------------------- */

static const uint8_t *skip_zeros(const uint8_t *p, size_t *len)
{
    while (*len > 1 && *p == 0) {
        p++;
        (*len)--;
    }
    return p;
}

/* DER RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }. Returns the
 * big-endian magnitudes inside data (no leading zero bytes). */
static int rsa_pub_parse(const uint8_t *data, size_t len, const uint8_t **n, size_t *n_len,
                         const uint8_t **e, size_t *e_len)
{
    unsigned char *p = (unsigned char *)data, *end = p + len;
    size_t l;
    if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + l != end)
        return PSC_PSA_INVALID_ARGUMENT;
    if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_INTEGER) != 0 || l == 0 || (*p & 0x80))
        return PSC_PSA_INVALID_ARGUMENT;
    *n_len = l;
    *n = skip_zeros(p, n_len);
    p += l;
    if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_INTEGER) != 0 || l == 0 || (*p & 0x80) ||
        p + l != end)
        return PSC_PSA_INVALID_ARGUMENT;
    *e_len = l;
    *e = skip_zeros(p, e_len);
    if (**n == 0 || **e == 0)
        return PSC_PSA_INVALID_ARGUMENT;
    return 0;
}

static size_t bit_length(const uint8_t *n, size_t len)
{
    size_t bits = 8 * len;
    for (uint8_t top = n[0]; bits > 0 && !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

/* Writes DER RSAPublicKey from big-endian magnitudes into a malloc'd buffer. */
static int rsa_pub_write(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                         struct psc_out *out)
{
    n = skip_zeros(n, &n_len);
    e = skip_zeros(e, &e_len);
    size_t cap = n_len + e_len + 32;
    int rc = keys_out_alloc(out, cap);
    if (rc != 0)
        return rc;
    unsigned char *start = out->p, *p = out->p + cap;
    size_t len = 0;
    int r;
#define W(call)                                                                                    \
    do {                                                                                           \
        if ((r = (call)) < 0)                                                                      \
            goto fail;                                                                             \
        len += (size_t)r;                                                                          \
    } while (0)
    size_t before = len;
    W(mbedtls_asn1_write_raw_buffer(&p, start, e, e_len));
    if (e[0] & 0x80)
        W(mbedtls_asn1_write_raw_buffer(&p, start, (const unsigned char *)"", 1));
    W(mbedtls_asn1_write_len(&p, start, len - before));
    W(mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_INTEGER));
    before = len;
    W(mbedtls_asn1_write_raw_buffer(&p, start, n, n_len));
    if (n[0] & 0x80)
        W(mbedtls_asn1_write_raw_buffer(&p, start, (const unsigned char *)"", 1));
    W(mbedtls_asn1_write_len(&p, start, len - before));
    W(mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_INTEGER));
    W(mbedtls_asn1_write_len(&p, start, len));
    W(mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef W
    memmove(out->p, p, len);
    out->len = len;
    return keys_out_finish(out, cap, 0);
fail:
    return keys_out_finish(out, cap, PSC_PSA_GENERIC_ERROR);
}

/* CKA_EC_POINT is a DER OCTET STRING around 04||X||Y; a module that gives the bare point is
 * accepted too. Returns the point inside v. */
static const uint8_t *ec_point_unwrap(const uint8_t *v, size_t len, size_t point_len, size_t *out)
{
    unsigned char *p = (unsigned char *)v, *end = p + len;
    size_t l;
    if (len != point_len && mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_OCTET_STRING) == 0 &&
        p + l == end && l == point_len) {
        *out = l;
        return p;
    }
    *out = len;
    return v;
}

/* ---- software public-key operations (software_public_operations) --------------------------- */

static int os_random(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MBEDTLS_ERR_RSA_RNG_FAILED;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The public key material of a key, read from its public object. */
struct pubkey {
    uint8_t *a; /* RSA modulus, or the EC point attribute */
    size_t a_len;
    uint8_t *e; /* RSA public exponent */
    size_t e_len;
};

static void pubkey_free(struct pubkey *k)
{
    free(k->a);
    free(k->e);
    memset(k, 0, sizeof(*k));
}

static CK_RV pubkey_read(struct p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                         const struct psc_attrs *k, struct pubkey *out)
{
    memset(out, 0, sizeof(*out));
    if (PSA_KEY_TYPE_IS_RSA(k->type)) {
        CK_RV rv = attr_get(p, s, h, CKA_MODULUS, &out->a, &out->a_len);
        if (rv == CKR_OK)
            rv = attr_get(p, s, h, CKA_PUBLIC_EXPONENT, &out->e, &out->e_len);
        if (rv == CKR_OK && (out->a_len == 0 || out->e_len == 0))
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
        if (rv != CKR_OK)
            pubkey_free(out);
        return rv;
    }
    return attr_get(p, s, h, CKA_EC_POINT, &out->a, &out->a_len);
}

static int mbed_rsa_load(mbedtls_rsa_context *rsa, const struct pubkey *pk)
{
    mbedtls_rsa_init(rsa, MBEDTLS_RSA_PKCS_V15, 0);
    if (mbedtls_rsa_import_raw(rsa, pk->a, pk->a_len, NULL, 0, NULL, 0, NULL, 0, pk->e,
                               pk->e_len) != 0 ||
        mbedtls_rsa_complete(rsa) != 0 || mbedtls_rsa_check_pubkey(rsa) != 0)
        return PSC_PSA_COMMUNICATION_FAILURE;
    return 0;
}

static int soft_verify(const struct psc_attrs *k, const struct pubkey *pk, psa_algorithm_t alg,
                       const struct psc_bytes *hash, const struct psc_bytes *sig)
{
    int rc = PSC_PSA_INVALID_SIGNATURE;
    if (PSA_KEY_TYPE_IS_RSA(k->type)) {
        mbedtls_rsa_context rsa;
        rc = mbed_rsa_load(&rsa, pk);
        int h = hash_index(PSA_ALG_SIGN_GET_HASH(alg));
        mbedtls_md_type_t md = h >= 0 ? p11_hashes[h].md : MBEDTLS_MD_NONE;
        if (rc == 0 && sig->len != mbedtls_rsa_get_len(&rsa))
            rc = PSC_PSA_INVALID_SIGNATURE;
        else if (rc == 0 && PSA_ALG_IS_RSA_PSS(alg)) {
            mbedtls_rsa_set_padding(&rsa, MBEDTLS_RSA_PKCS_V21, md);
            rc = mbedtls_rsa_rsassa_pss_verify_ext(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                                   (unsigned)hash->len, hash->p, md,
                                                   MBEDTLS_RSA_SALT_LEN_ANY, sig->p) == 0
                     ? 0
                     : PSC_PSA_INVALID_SIGNATURE;
        } else if (rc == 0) {
            rc = mbedtls_rsa_rsassa_pkcs1_v15_verify(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                                     (unsigned)hash->len, hash->p, sig->p) == 0
                     ? 0
                     : PSC_PSA_INVALID_SIGNATURE;
        }
        mbedtls_rsa_free(&rsa);
        return rc;
    }
    const struct curve *cv = curve_of(k->type, k->bits);
    size_t clen = bytes_of_bits(k->bits), plen;
    if (!cv)
        return PSC_PSA_NOT_SUPPORTED;
    if (sig->len != 2 * clen)
        return PSC_PSA_INVALID_SIGNATURE;
    const uint8_t *pt = ec_point_unwrap(pk->a, pk->a_len, 2 * clen + 1, &plen);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecp_group_load(&grp, cv->grp) != 0 ||
        mbedtls_ecp_point_read_binary(&grp, &q, pt, plen) != 0 ||
        mbedtls_mpi_read_binary(&r, sig->p, clen) != 0 ||
        mbedtls_mpi_read_binary(&s, sig->p + clen, clen) != 0)
        rc = PSC_PSA_COMMUNICATION_FAILURE;
    else
        rc = mbedtls_ecdsa_verify(&grp, hash->p, hash->len, &q, &r, &s) == 0
                 ? 0
                 : PSC_PSA_INVALID_SIGNATURE;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

static int soft_encrypt(const struct psc_attrs *k, const struct pubkey *pk, psa_algorithm_t alg,
                        const struct psc_bytes *in, const struct psc_bytes *label,
                        struct psc_out *out)
{
    if (!PSA_KEY_TYPE_IS_RSA(k->type))
        return PSC_PSA_NOT_SUPPORTED;
    mbedtls_rsa_context rsa;
    int rc = mbed_rsa_load(&rsa, pk);
    size_t cap = mbedtls_rsa_get_len(&rsa);
    if (rc == 0)
        rc = keys_out_alloc(out, cap);
    if (rc == 0) {
        int r;
        if (PSA_ALG_IS_RSA_OAEP(alg)) {
            int h = hash_index(PSA_ALG_RSA_OAEP_GET_HASH(alg));
            mbedtls_rsa_set_padding(&rsa, MBEDTLS_RSA_PKCS_V21, p11_hashes[h].md);
            r = mbedtls_rsa_rsaes_oaep_encrypt(&rsa, os_random, NULL, MBEDTLS_RSA_PUBLIC,
                                               label->len ? label->p : NULL, label->len, in->len,
                                               in->p, out->p);
        } else {
            r = mbedtls_rsa_rsaes_pkcs1_v15_encrypt(&rsa, os_random, NULL, MBEDTLS_RSA_PUBLIC,
                                                    in->len, in->p, out->p);
        }
        if (r == 0)
            out->len = cap;
        rc = r == 0                                ? 0
             : r == MBEDTLS_ERR_RSA_BAD_INPUT_DATA ? PSC_PSA_INVALID_ARGUMENT
             : r == MBEDTLS_ERR_RSA_RNG_FAILED     ? PSC_PSA_INSUFFICIENT_ENTROPY
                                                   : PSC_PSA_GENERIC_ERROR;
        rc = keys_out_finish(out, cap, rc);
    }
    mbedtls_rsa_free(&rsa);
    return rc;
}

/* ---- operations on a stored key ------------------------------------------------------------ */

struct key_op {
    const struct psc_args *a;
    struct psc_attrs k; /* as the mapping stores them */
    uint32_t id;
    struct mech mech;
    struct psc_out *out;
    struct pubkey pub; /* software_public_operations: read from the token */
};

/* The data a signature mechanism signs: the hash, or a DigestInfo around it. */
static int sign_input(const struct key_op *o, uint8_t *buf, size_t cap, size_t *len)
{
    const struct psc_bytes *h = &o->a->hash;
    size_t pre = o->mech.hash >= 0 ? p11_hashes[o->mech.hash].di_len : 0;
    if (h->len > cap - pre)
        return PSC_PSA_INVALID_ARGUMENT;
    if (pre)
        memcpy(buf, p11_hashes[o->mech.hash].di, pre);
    if (h->len)
        memcpy(buf + pre, h->p, h->len);
    *len = pre + h->len;
    return 0;
}

#define SIGN_INPUT_MAX (19 + 512) /* longest DigestInfo prefix, longest raw input accepted */

static CK_RV sign_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    struct key_op *o = ctx;
    CK_OBJECT_HANDLE h;
    CK_RV rv = key_handle(p, s, o->id, CKO_PRIVATE_KEY, &h, c);
    if (rv != CKR_OK || c->status)
        return rv;
    uint8_t data[SIGN_INPUT_MAX];
    size_t len = 0;
    if ((c->status = sign_input(o, data, sizeof(data), &len)) != 0)
        return CKR_OK;
    size_t cap =
        PSA_KEY_TYPE_IS_RSA(o->k.type) ? bytes_of_bits(o->k.bits) : 2 * bytes_of_bits(o->k.bits);
    if ((c->status = keys_out_alloc(o->out, cap)) != 0)
        return CKR_OK;
    rv = p->f->C_SignInit(s, &o->mech.m, h);
    CK_ULONG out_len = cap;
    if (rv == CKR_OK)
        rv = p->f->C_Sign(s, data, len, o->out->p, &out_len);
    explicit_bzero(data, sizeof(data));
    if (rv == CKR_OK)
        o->out->len = out_len;
    else {
        keys_out_finish(o->out, cap, PSC_PSA_GENERIC_ERROR);
        /* The output size is exact: a module that wants more left its operation active. */
        if (rv == CKR_BUFFER_TOO_SMALL) {
            c->drop = 1;
            rv = CKR_GENERAL_ERROR;
        }
    }
    return rv;
}

static CK_RV verify_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    struct key_op *o = ctx;
    CK_OBJECT_HANDLE h;
    CK_RV rv = key_handle(p, s, o->id, CKO_PUBLIC_KEY, &h, c);
    if (rv != CKR_OK || c->status)
        return rv;
    if (p->software_public)
        return pubkey_read(p, s, h, &o->k, &o->pub);
    uint8_t data[SIGN_INPUT_MAX];
    size_t len = 0;
    if ((c->status = sign_input(o, data, sizeof(data), &len)) != 0)
        return CKR_OK;
    const struct psc_bytes *sig = &o->a->signature;
    rv = p->f->C_VerifyInit(s, &o->mech.m, h);
    if (rv == CKR_OK)
        rv = p->f->C_Verify(s, data, len, (CK_BYTE_PTR)(sig->p ? sig->p : data), sig->len);
    return rv;
}

static CK_RV crypt_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c, int encrypt)
{
    struct key_op *o = ctx;
    CK_OBJECT_HANDLE h;
    CK_RV rv = key_handle(p, s, o->id, encrypt ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY, &h, c);
    if (rv != CKR_OK || c->status)
        return rv;
    if (encrypt && p->software_public)
        return pubkey_read(p, s, h, &o->k, &o->pub);
    const struct psc_bytes *in = encrypt ? &o->a->plaintext : &o->a->ciphertext;
    size_t cap = bytes_of_bits(o->k.bits);
    if ((c->status = keys_out_alloc(o->out, cap)) != 0)
        return CKR_OK;
    CK_ULONG out_len = cap;
    rv = encrypt ? p->f->C_EncryptInit(s, &o->mech.m, h) : p->f->C_DecryptInit(s, &o->mech.m, h);
    /* Refused parameters (SoftHSM2: an OAEP label) are something the module does not do. */
    if (rv == CKR_ARGUMENTS_BAD)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if (rv == CKR_OK && encrypt)
        rv = p->f->C_Encrypt(s, (CK_BYTE_PTR)in->p, in->len, o->out->p, &out_len);
    else if (rv == CKR_OK) {
        rv = p->f->C_Decrypt(s, (CK_BYTE_PTR)in->p, in->len, o->out->p, &out_len);
        /* Key, mechanism and length were accepted: what fails now is the padding (SoftHSM2
         * says only "general error"). */
        if (rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED)
            rv = CKR_ENCRYPTED_DATA_INVALID;
    }
    if (rv == CKR_OK && out_len <= cap)
        o->out->len = out_len;
    else {
        keys_out_finish(o->out, cap, PSC_PSA_GENERIC_ERROR);
        c->drop = rv == CKR_BUFFER_TOO_SMALL;
        if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
            rv = CKR_GENERAL_ERROR;
    }
    return rv;
}

static CK_RV encrypt_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    return crypt_fn(p, s, ctx, c, 1);
}

static CK_RV decrypt_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    return crypt_fn(p, s, ctx, c, 0);
}

static CK_RV export_public_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    struct key_op *o = ctx;
    CK_OBJECT_HANDLE h;
    CK_RV rv = key_handle(p, s, o->id, CKO_PUBLIC_KEY, &h, c);
    if (rv != CKR_OK || c->status)
        return rv;
    return pubkey_read(p, s, h, &o->k, &o->pub);
}

/* Looks the caller's key up and fills o from its mapping. */
static int key_op_begin(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                        struct psc_out *out, struct key_op *o)
{
    memset(o, 0, sizeof(*o));
    o->a = a;
    o->out = out;
    return keys_lookup_id(p, app, a->key_name, &o->id, &o->k);
}

static int op_sign_hash(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                        struct psc_out *out)
{
    struct key_op o;
    int rc = key_op_begin(p, app, a, out, &o);
    if (rc == 0 && !PSA_ALG_IS_SIGN_HASH(a->alg))
        rc = PSC_PSA_INVALID_ARGUMENT;
    if (rc == 0)
        rc = policy_check(&o.k, POLICY_SIGN_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc == 0)
        rc = mech_of_sign(a->alg, &o.mech);
    if (rc == 0)
        rc = run(P11(p), 0, sign_fn, &o);
    keys_log_op_error(p, a, rc, MOD);
    return rc;
}

static int op_verify_hash(struct psc_provider *p, const struct psc_app *app,
                          const struct psc_args *a, struct psc_out *out)
{
    struct key_op o;
    int rc = key_op_begin(p, app, a, out, &o);
    if (rc == 0 && !PSA_ALG_IS_SIGN_HASH(a->alg))
        rc = PSC_PSA_INVALID_ARGUMENT;
    if (rc == 0)
        rc = policy_check(&o.k, POLICY_VERIFY_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc == 0)
        rc = mech_of_sign(a->alg, &o.mech);
    if (rc == 0)
        rc = run(P11(p), 0, verify_fn, &o);
    if (rc == 0 && P11(p)->software_public) {
        struct psc_bytes empty = {(const uint8_t *)"", 0};
        rc = soft_verify(&o.k, &o.pub, a->alg, a->hash.p ? &a->hash : &empty,
                         a->signature.p ? &a->signature : &empty);
    }
    pubkey_free(&o.pub);
    keys_log_op_error(p, a, rc, MOD);
    return rc;
}

static int asym_crypt(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                      struct psc_out *out, int encrypt)
{
    struct key_op o;
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    int rc = key_op_begin(p, app, a, out, &o);
    if (rc == 0 && !PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(a->alg))
        rc = PSC_PSA_INVALID_ARGUMENT;
    if (rc == 0)
        rc = policy_check(&o.k, encrypt ? POLICY_ENCRYPT : POLICY_DECRYPT, a->alg);
    if (rc == 0)
        rc = policy_check_asym_input(a->alg, in->len, a->salt.len);
    /* A ciphertext is exactly as long as the modulus (as Mbed TLS checks). */
    if (rc == 0 && !encrypt && in->len != bytes_of_bits(o.k.bits))
        rc = PSC_PSA_INVALID_ARGUMENT;
    if (rc == 0)
        rc = mech_of_crypt(P11(p), a->alg, &a->salt, &o.mech);
    /* The longest message the padding leaves room for (RFC 8017 §7.1.1, §7.2.1): modules
     * report a longer one in their own ways. */
    if (rc == 0 && encrypt) {
        size_t k = bytes_of_bits(o.k.bits);
        size_t pad = o.mech.hash >= 0 ? 2 * p11_hashes[o.mech.hash].len + 2 : 11;
        if (k < pad || in->len > k - pad)
            rc = PSC_PSA_INVALID_ARGUMENT;
    }
    if (rc == 0)
        rc = run(P11(p), 0, encrypt ? encrypt_fn : decrypt_fn, &o);
    if (rc == 0 && encrypt && P11(p)->software_public)
        rc = soft_encrypt(&o.k, &o.pub, a->alg, in, &a->salt, out);
    pubkey_free(&o.pub);
    keys_log_op_error(p, a, rc, MOD);
    return rc;
}

static int op_asym_encrypt(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    return asym_crypt(p, app, a, out, 1);
}

static int op_asym_decrypt(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    return asym_crypt(p, app, a, out, 0);
}

static int op_export_public(struct psc_provider *p, const struct psc_app *app,
                            const struct psc_args *a, struct psc_out *out)
{
    struct key_op o;
    int rc = key_op_begin(p, app, a, out, &o);
    if (rc == 0 && !PSA_KEY_TYPE_IS_RSA(o.k.type) && !PSA_KEY_TYPE_IS_ECC(o.k.type))
        rc = PSC_PSA_INVALID_ARGUMENT;
    if (rc == 0)
        rc = run(P11(p), 0, export_public_fn, &o);
    if (rc == 0 && PSA_KEY_TYPE_IS_RSA(o.k.type)) {
        rc = rsa_pub_write(o.pub.a, o.pub.a_len, o.pub.e, o.pub.e_len, out);
    } else if (rc == 0) {
        size_t len;
        const uint8_t *pt =
            ec_point_unwrap(o.pub.a, o.pub.a_len, 2 * bytes_of_bits(o.k.bits) + 1, &len);
        rc = keys_out_alloc(out, len);
        if (rc == 0) {
            memcpy(out->p, pt, len);
            out->len = len;
        }
    }
    pubkey_free(&o.pub);
    keys_log_op_error(p, a, rc, MOD);
    return rc;
}

/* ---- key creation and destruction ----------------------------------------------------------- */

struct create {
    const struct psc_attrs *k;
    const struct psc_bytes *data; /* NULL: generate */
    /* import: the public key's parts */
    const uint8_t *n, *e, *point;
    size_t n_len, e_len, point_len;
    uint32_t id; /* out */
    CK_OBJECT_HANDLE priv, pub;
};

/* A fresh key id: random, not held by any mapping, not on the token (an object left by an
 * interrupted creation keeps its id). Caller holds obj_lock exclusively. */
static CK_RV id_alloc(struct p11 *p, CK_SESSION_HANDLE s, uint32_t *out, struct call *c)
{
    for (int i = 0; i < P11_ID_TRIES; i++) {
        uint32_t id;
        if (os_random(NULL, (unsigned char *)&id, sizeof(id)) != 0) {
            c->status = PSC_PSA_INSUFFICIENT_ENTROPY;
            return CKR_OK;
        }
        if (ids_has(p, id))
            continue;
        CK_OBJECT_HANDLE h;
        CK_ULONG n = 0;
        CK_RV rv = find_objects(p, s, id, (CK_ULONG)-1, &h, 1, &n);
        if (rv != CKR_OK)
            return rv;
        if (n == 0) {
            *out = id;
            return CKR_OK;
        }
        log_warn(MOD, "key id 0x%08" PRIx32 " is on the token but in no mapping: skipped", id);
        if ((c->status = ids_add(p, id)) != 0)
            return CKR_OK;
    }
    c->status = PSC_PSA_INSUFFICIENT_MEMORY;
    return CKR_OK;
}

static CK_RV create_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    struct create *cr = ctx;
    const struct psc_attrs *k = cr->k;
    CK_RV rv = id_alloc(p, s, &cr->id, c);
    if (rv != CKR_OK || c->status)
        return rv;
    uint8_t idb[P11_KEY_ID_LEN];
    id_to_be(cr->id, idb);
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BBOOL sign = (k->usage & (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_SIGN_MESSAGE)) != 0;
    CK_BBOOL verify = (k->usage & (PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_VERIFY_MESSAGE)) != 0;
    CK_BBOOL enc = (k->usage & PSA_KEY_USAGE_ENCRYPT) != 0;
    CK_BBOOL dec = (k->usage & PSA_KEY_USAGE_DECRYPT) != 0;
    CK_BBOOL derive = (k->usage & PSA_KEY_USAGE_DERIVE) != 0;
    CK_BBOOL exp = (k->usage & PSA_KEY_USAGE_EXPORT) != 0;
    CK_BBOOL sens = !exp;
    CK_BBOOL rsa = PSA_KEY_TYPE_IS_RSA(k->type);
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = rsa ? CKK_RSA : CKK_EC;
    CK_MECHANISM_TYPE allowed = mech_of_alg(k->alg);
    CK_ULONG bits = k->bits;
    static CK_BYTE f4[] = {0x01, 0x00, 0x01};
    const struct curve *cv = rsa ? NULL : curve_of(k->type, k->bits);
    /* The EC point as a DER OCTET STRING (import). */
    uint8_t point_der[4 + 2 * 66 + 1];

    CK_ATTRIBUTE pub[16] = {
        {CKA_CLASS, &pub_cls, sizeof(pub_cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_ID, idb, sizeof(idb)},
        {CKA_VERIFY, &verify, sizeof(verify)},
    };
    CK_ULONG n_pub = 6;
    if (allowed) {
        pub[n_pub++] = (CK_ATTRIBUTE){CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)};
    }
    if (rsa)
        pub[n_pub++] = (CK_ATTRIBUTE){CKA_ENCRYPT, &enc, sizeof(enc)};
    if (cv)
        pub[n_pub++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)cv->oid, cv->oid_len};

    if (cr->data) {
        if (rsa) {
            pub[n_pub++] = (CK_ATTRIBUTE){CKA_MODULUS, (void *)cr->n, cr->n_len};
            pub[n_pub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)cr->e, cr->e_len};
        } else {
            /* DER OCTET STRING; a point of 128 bytes or more (P-521: 133) has a two-byte length. */
            size_t l = 0;
            point_der[l++] = MBEDTLS_ASN1_OCTET_STRING;
            if (cr->point_len >= 0x80)
                point_der[l++] = 0x81;
            point_der[l++] = (uint8_t)cr->point_len;
            memcpy(point_der + l, cr->point, cr->point_len);
            pub[n_pub++] = (CK_ATTRIBUTE){CKA_EC_POINT, point_der, l + cr->point_len};
        }
        rv = p->f->C_CreateObject(s, pub, n_pub, &cr->pub);
        return rv;
    }

    if (rsa) {
        pub[n_pub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        pub[n_pub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, f4, sizeof(f4)};
    }
    CK_ATTRIBUTE priv[16] = {
        {CKA_CLASS, &priv_cls, sizeof(priv_cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_ID, idb, sizeof(idb)},
        {CKA_SIGN, &sign, sizeof(sign)},
        {CKA_EXTRACTABLE, &exp, sizeof(exp)},
        {CKA_SENSITIVE, &sens, sizeof(sens)},
    };
    CK_ULONG n_priv = 8;
    if (allowed)
        priv[n_priv++] = (CK_ATTRIBUTE){CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)};
    if (rsa)
        priv[n_priv++] = (CK_ATTRIBUTE){CKA_DECRYPT, &dec, sizeof(dec)};
    else
        priv[n_priv++] = (CK_ATTRIBUTE){CKA_DERIVE, &derive, sizeof(derive)};
    CK_MECHANISM gen = {rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    return p->f->C_GenerateKeyPair(s, &gen, pub, n_pub, priv, n_priv, &cr->pub, &cr->priv);
}

/* Destroys every object with the key id. c->status is PSC_PSA_DOES_NOT_EXIST if none was. */
static CK_RV destroy_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    uint32_t id = *(uint32_t *)ctx;
    CK_OBJECT_HANDLE h[P11_HALVES_MAX];
    CK_ULONG n = 0;
    cache_forget(p, id);
    CK_RV rv = find_objects(p, s, id, (CK_ULONG)-1, h, P11_HALVES_MAX, &n);
    if (rv != CKR_OK)
        return rv;
    if (n == 0) {
        c->status = PSC_PSA_DOES_NOT_EXIST;
        return CKR_OK;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        rv = p->f->C_DestroyObject(s, h[i]);
        if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID)
            return rv;
    }
    ids_del(p, id);
    return CKR_OK;
}

static int check_create(const struct p11 *p, const struct psc_attrs *k)
{
    if ((k->usage & PSA_KEY_USAGE_EXPORT) && !p->allow_export) {
        log_error(MOD, "the key is exportable, which this provider is configured to refuse");
        return PSC_PSA_NOT_PERMITTED;
    }
    return 0;
}

/* Creates the key on the token, then its mapping; a failed mapping removes the key again. */
static int key_create(struct psc_provider *pp, const struct psc_app *app, const struct psc_args *a,
                      struct create *cr)
{
    struct p11 *p = P11(pp);
    struct kim_ident who;
    provider_ident(pp, app, a->key_name ? a->key_name : "", &who);
    int exists = 0;
    int rc = kim_exists(pp->kim, &who, &exists);
    if (rc != 0)
        return rc;
    if (exists)
        return PSC_PSA_ALREADY_EXISTS;
    rc = run(p, 1, create_fn, cr);
    if (rc != 0) {
        if (pp->env.log_error_details)
            log_error(MOD, "%s key \"%s\" status: %d", cr->data ? "import" : "generate",
                      who.key_name, rc);
        return rc;
    }
    uint8_t idb[P11_KEY_ID_LEN];
    keys_id_to_le(cr->id, idb);
    struct kim_info info = {.id = idb, .id_len = sizeof(idb), .attrs = *cr->k};
    rc = kim_insert(pp->kim, &who, &info);
    if (rc == 0) {
        pthread_rwlock_wrlock(&p->obj_lock);
        int r = ids_add(p, cr->id);
        pthread_rwlock_unlock(&p->obj_lock);
        (void)r; /* the token holds the id: a later draw finds it there */
        return 0;
    }
    int drc = run(p, 1, destroy_fn, &cr->id);
    if (drc != 0)
        log_error(MOD, "key 0x%08" PRIx32 " could not be removed after its mapping failed: %d",
                  cr->id, drc);
    return rc;
}

static int op_generate_key(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    int rc = keys_create_check(p, app, a, 0, MOD);
    if (rc != 0)
        return rc;
    const struct psc_attrs *k = &a->attrs;
    if ((rc = check_create(P11(p), k)) != 0)
        return rc;
    if (PSA_KEY_TYPE_IS_PUBLIC_KEY(k->type))
        return PSC_PSA_INVALID_ARGUMENT;
    if (k->type == PSA_KEY_TYPE_RSA_KEY_PAIR) {
        if (k->bits == 0)
            return PSC_PSA_INVALID_ARGUMENT;
        if (k->bits > P11_RSA_BITS_MAX || !mech_fits(P11(p), CKM_RSA_PKCS_KEY_PAIR_GEN, k->bits)) {
            log_error(MOD, "Requested RSA key size is not supported (%zu)", k->bits);
            return PSC_PSA_NOT_SUPPORTED;
        }
    } else if (!curve_of(k->type, k->bits)) {
        return PSC_PSA_NOT_SUPPORTED;
    }
    /* The key's mechanism is recorded on the token: a policy with none is refused. */
    if (!mech_of_alg(k->alg))
        return PSC_PSA_NOT_SUPPORTED;
    struct create cr = {.k = k};
    return key_create(p, app, a, &cr);
}

static int op_import_key(struct psc_provider *p, const struct psc_app *app,
                         const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    int rc = keys_create_check(p, app, a, 1, MOD);
    if (rc != 0)
        return rc;
    struct psc_attrs k = a->attrs;
    if ((rc = check_create(P11(p), &k)) != 0)
        return rc;
    if (k.type != PSA_KEY_TYPE_RSA_PUBLIC_KEY && !PSA_KEY_TYPE_IS_ECC_PUBLIC_KEY(k.type))
        return PSC_PSA_NOT_SUPPORTED;
    if (a->data.len == 0)
        return PSC_PSA_INVALID_ARGUMENT;
    struct create cr = {.k = &k, .data = &a->data};
    if (k.type == PSA_KEY_TYPE_RSA_PUBLIC_KEY) {
        if ((rc = rsa_pub_parse(a->data.p, a->data.len, &cr.n, &cr.n_len, &cr.e, &cr.e_len)) != 0)
            return rc;
        size_t bits = bit_length(cr.n, cr.n_len);
        if (k.bits != 0 && k.bits != bits)
            return PSC_PSA_INVALID_ARGUMENT;
        /* Every use of a key with a huge modulus or exponent would hold a session for long. */
        if (cr.e_len > P11_RSA_EXPONENT_MAX || !mech_fits(P11(p), CKM_RSA_PKCS, bits))
            return PSC_PSA_NOT_SUPPORTED;
        k.bits = bits;
    } else {
        if (PSA_KEY_TYPE_ECC_GET_FAMILY(k.type) != PSA_ECC_FAMILY_SECP_R1)
            return PSC_PSA_NOT_SUPPORTED;
        size_t len = a->data.len;
        if (len < 3 || len % 2 == 0 || a->data.p[0] != 0x04)
            return PSC_PSA_INVALID_ARGUMENT;
        size_t bits = (len - 1) / 2 == 66 ? 521 : 8 * ((len - 1) / 2);
        const struct curve *cv = curve_of(k.type, bits);
        if (!cv || (k.bits != 0 && k.bits != bits))
            return PSC_PSA_INVALID_ARGUMENT;
        /* The point must be on the curve: a module may store any bytes. */
        mbedtls_ecp_group grp;
        mbedtls_ecp_point q;
        mbedtls_ecp_group_init(&grp);
        mbedtls_ecp_point_init(&q);
        if (mbedtls_ecp_group_load(&grp, cv->grp) != 0 ||
            mbedtls_ecp_point_read_binary(&grp, &q, a->data.p, len) != 0 ||
            mbedtls_ecp_check_pubkey(&grp, &q) != 0)
            rc = PSC_PSA_INVALID_ARGUMENT;
        mbedtls_ecp_point_free(&q);
        mbedtls_ecp_group_free(&grp);
        if (rc != 0)
            return rc;
        k.bits = bits;
        cr.point = a->data.p;
        cr.point_len = len;
    }
    return key_create(p, app, a, &cr);
}

static int op_destroy_key(struct psc_provider *p, const struct psc_app *app,
                          const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    uint32_t id = 0;
    int rc = keys_lookup_id(p, app, a->key_name, &id, NULL);
    if (rc != 0)
        return rc;
    /* The key goes first, its mapping second (keys_common.h). */
    rc = run(P11(p), 1, destroy_fn, &id);
    int gone = rc == PSC_PSA_DOES_NOT_EXIST;
    if (rc != 0 && !gone) {
        log_error(MOD, "destroying key 0x%08" PRIx32 " failed (%d)", id, rc);
        return rc;
    }
    uint8_t idb[P11_KEY_ID_LEN];
    keys_id_to_le(id, idb);
    return keys_unmap_destroyed(p, app, a->key_name, idb, sizeof(idb), gone, MOD);
}

/* ---- operations without a key -------------------------------------------------------------- */

struct random_op {
    struct psc_out *out;
    size_t size;
};

static CK_RV random_fn(struct p11 *p, CK_SESSION_HANDLE s, void *ctx, struct call *c)
{
    (void)c;
    struct random_op *r = ctx;
    CK_RV rv = r->size ? p->f->C_GenerateRandom(s, r->out->p, r->size) : CKR_OK;
    if (rv == CKR_OK)
        r->out->len = r->size;
    return rv;
}

static int op_generate_random(struct psc_provider *p, const struct psc_app *app,
                              const struct psc_args *a, struct psc_out *out)
{
    (void)app;
    if (a->size > p->env.buffer_size_limit) {
        log_error(MOD, "Generate random status: ResponseTooLarge");
        return PSC_RESPONSE_TOO_LARGE;
    }
    struct random_op r = {out, (size_t)a->size};
    int rc = keys_out_alloc(out, r.size);
    if (rc == 0)
        rc = run(P11(p), 0, random_fn, &r);
    return keys_out_finish(out, r.size, rc);
}

/* ---- CanDoCrypto ---------------------------------------------------------------------------- */

static int cdc_use(const struct p11 *p, const struct psc_attrs *k)
{
    struct mech m;
    if (k->alg == PSA_ALG_NONE || !policy_alg_compatible(k->type, k->alg))
        return PSC_PSA_NOT_SUPPORTED;
    if (PSA_ALG_IS_SIGN(k->alg)) {
        if (mech_of_sign(k->alg, &m) != 0)
            return PSC_PSA_NOT_SUPPORTED;
    } else if (mech_of_crypt(p, k->alg, NULL, &m) != 0) {
        return PSC_PSA_NOT_SUPPORTED;
    }
    if (PSA_KEY_TYPE_IS_ECC(k->type) && !curve_of(k->type, k->bits))
        return PSC_PSA_NOT_SUPPORTED;
    return mech_fits(p, m.m.mechanism, k->bits) ? 0 : PSC_PSA_NOT_SUPPORTED;
}

static int op_can_do_crypto(struct psc_provider *pp, const struct psc_app *app,
                            const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    struct p11 *p = P11(pp);
    int rc = keys_app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    const struct psc_attrs *k = &a->attrs;
    int rsa = PSA_KEY_TYPE_IS_RSA(k->type);
    if (!rsa && !curve_of(k->type, k->bits))
        return PSC_PSA_NOT_SUPPORTED;
    switch (a->check_type) {
    case 1: /* Use */
        return cdc_use(p, k);
    case 2: /* Generate */
        if (PSA_KEY_TYPE_IS_PUBLIC_KEY(k->type))
            return PSC_PSA_NOT_SUPPORTED;
        if (!mech_fits(p, rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, k->bits) ||
            (rsa && k->bits > P11_RSA_BITS_MAX))
            return PSC_PSA_NOT_SUPPORTED;
        return cdc_use(p, k);
    case 3: /* Import */
        if (!PSA_KEY_TYPE_IS_PUBLIC_KEY(k->type))
            return PSC_PSA_NOT_SUPPORTED;
        return k->alg == PSA_ALG_NONE ? 0 : cdc_use(p, k);
    default:
        return PSC_PSA_NOT_SUPPORTED;
    }
}

/* ---- start-up ------------------------------------------------------------------------------- */

static void trim(const CK_UTF8CHAR *s, size_t n, char *out)
{
    size_t b = 0;
    while (b < n && s[b] == ' ')
        b++;
    while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        n--;
    memcpy(out, s + b, n - b);
    out[n - b] = '\0';
}

static const char *str_trim(const char *s, char *buf, size_t cap)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* A PIN value: "str:<text>", "hex:<hex digits>" or plain text. A "hex:" value that is not an
 * even, non-empty run of hex digits is refused: the original would log in with "hex:". */
static int pin_decode(struct p11 *p, const char *v, size_t len, const char *from, char *err,
                      size_t err_len)
{
    if (len > P11_PIN_MAX + 4) {
        snprintf(err, err_len, "the PIN from %s is longer than %d bytes", from, P11_PIN_MAX);
        return -1;
    }
    p->pin = calloc(1, len + 1);
    if (!p->pin) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->has_pin = 1;
    if (len >= 4 && memcmp(v, "hex:", 4) == 0) {
        const char *h = v + 4;
        size_t hl = len - 4;
        if (hl == 0 || hl % 2 != 0) {
            snprintf(err, err_len,
                     "the PIN from %s: 'hex:' must be followed by an even number "
                     "of hex digits",
                     from);
            return -1;
        }
        if (hex_decode(h, hl / 2, p->pin) != 0) {
            snprintf(err, err_len, "the PIN from %s: 'hex:' must be followed by hex digits only",
                     from);
            return -1;
        }
        p->pin_len = hl / 2;
    } else {
        size_t skip = len >= 4 && memcmp(v, "str:", 4) == 0 ? 4 : 0;
        memcpy(p->pin, v + skip, len - skip);
        p->pin_len = len - skip;
    }
    if (p->pin_len > P11_PIN_MAX) {
        snprintf(err, err_len, "the PIN from %s is longer than %d bytes", from, P11_PIN_MAX);
        return -1;
    }
    return 0;
}

/* The PIN from user_pin, user_pin_file (one line; a final newline is not part of it) or
 * user_pin_env. */
static int pin_load(struct p11 *p, const struct cfg_provider *cfg, char *err, size_t err_len)
{
    if (cfg->user_pin)
        return pin_decode(p, cfg->user_pin, strlen(cfg->user_pin), "user_pin", err, err_len);
    if (cfg->user_pin_env) {
        const char *v = getenv(cfg->user_pin_env);
        if (!v) {
            snprintf(err, err_len, "user_pin_env: the environment variable %s is not set",
                     cfg->user_pin_env);
            return -1;
        }
        return pin_decode(p, v, strlen(v), "user_pin_env", err, err_len);
    }
    if (!cfg->user_pin_file)
        return 0;
    FILE *f = fopen(cfg->user_pin_file, "re");
    if (!f) {
        snprintf(err, err_len, "user_pin_file: cannot read %s: %s", cfg->user_pin_file,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
        log_warn(MOD, "the PIN file %s can be read by other users (mode %03o)", cfg->user_pin_file,
                 (unsigned)(st.st_mode & 0777));
    char buf[P11_PIN_MAX + 8];
    size_t n = fread(buf, 1, sizeof(buf), f);
    int bad = ferror(f);
    fclose(f);
    int rc = -1;
    if (bad)
        snprintf(err, err_len, "user_pin_file: cannot read %s", cfg->user_pin_file);
    else if (n == sizeof(buf))
        snprintf(err, err_len, "user_pin_file: %s is longer than a PIN (%d bytes)",
                 cfg->user_pin_file, P11_PIN_MAX);
    else {
        if (n > 0 && buf[n - 1] == '\n')
            n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
        if (memchr(buf, '\n', n))
            snprintf(err, err_len, "user_pin_file: %s holds more than one line",
                     cfg->user_pin_file);
        else
            rc = pin_decode(p, buf, n, "user_pin_file", err, err_len);
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

/* Appends "slot N (label "L", serial "S")" for each initialised token to list. */
static void tokens_describe(const CK_SLOT_ID *slots, const CK_TOKEN_INFO *ti, size_t n, char *list,
                            size_t cap)
{
    size_t used = strlen(list);
    for (size_t i = 0; i < n && i < P11_TOKENS_LISTED_MAX && used < cap; i++) {
        char label[33], serial[17];
        trim(ti[i].label, sizeof(ti[i].label), label);
        trim(ti[i].serialNumber, sizeof(ti[i].serialNumber), serial);
        int w = snprintf(list + used, cap - used, "%sslot %lu (label \"%s\", serial \"%s\")",
                         i ? ", " : "", (unsigned long)slots[i], label, serial);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (n == 0)
        snprintf(list + used, cap - used, "none");
}

/* Chooses the slot: serial_number, else token_label, else slot_number, else the only
 * initialised token. */
static int slot_choose(struct p11 *p, const struct cfg_provider *cfg, char *err, size_t err_len)
{
    CK_ULONG n = 0;
    CK_RV rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
    CK_SLOT_ID *all = NULL, *slots = NULL;
    CK_TOKEN_INFO *ti = NULL;
    int rc = -1;
    if (rv == CKR_OK) {
        all = calloc(n ? n : 1, sizeof(*all));
        slots = calloc(n ? n : 1, sizeof(*slots));
        ti = calloc(n ? n : 1, sizeof(*ti));
        if (!all || !slots || !ti) {
            snprintf(err, err_len, "out of memory");
            goto out;
        }
        rv = p->f->C_GetSlotList(CK_TRUE, all, &n);
    }
    if (rv != CKR_OK) {
        snprintf(err, err_len, "cannot list the module's slots (0x%lx)", (unsigned long)rv);
        goto out;
    }
    size_t m = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (p->f->C_GetTokenInfo(all[i], &ti[m]) != CKR_OK ||
            !(ti[m].flags & CKF_TOKEN_INITIALIZED))
            continue;
        slots[m++] = all[i];
    }
    char found[1024] = "";
    tokens_describe(slots, ti, m, found, sizeof(found));
    size_t pick = m, hits = 0;
    char want[80];
    const char *by = NULL;
    for (size_t i = 0; i < m; i++) {
        char label[33], serial[17];
        trim(ti[i].label, sizeof(ti[i].label), label);
        trim(ti[i].serialNumber, sizeof(ti[i].serialNumber), serial);
        int match;
        if (cfg->serial_number)
            match = strcmp(serial, str_trim(cfg->serial_number, want, sizeof(want))) == 0;
        else if (cfg->token_label)
            match = strcmp(label, str_trim(cfg->token_label, want, sizeof(want))) == 0;
        else if (cfg->has_slot_number)
            match = slots[i] == cfg->slot_number;
        else
            match = 1;
        if (match) {
            if (pick == m)
                pick = i;
            hits++;
        }
    }
    by = cfg->serial_number ? "serial number" : cfg->token_label ? "label" : NULL;
    if (by && hits == 0) {
        snprintf(err, err_len, "No token with the provided %s \"%s\"; tokens found: %s", by, want,
                 found);
        goto out;
    }
    if (by && hits > 1) {
        snprintf(err, err_len,
                 "%zu tokens have the %s \"%s\": choose one by serial_number; "
                 "tokens found: %s",
                 hits, by, want, found);
        goto out;
    }
    if (!by && cfg->has_slot_number && hits == 0) {
        snprintf(err, err_len,
                 "No available slot with the given number %" PRIu64 "; tokens found: %s",
                 cfg->slot_number, found);
        goto out;
    }
    if (!by && !cfg->has_slot_number && m != 1) {
        snprintf(err, err_len,
                 "missing slot number or more than one initialized token; tokens "
                 "found: %s",
                 found);
        goto out;
    }
    if (cfg->serial_number && cfg->has_slot_number && slots[pick] != cfg->slot_number)
        log_warn(MOD,
                 "the serial number and the slot number name different slots: slot %lu of "
                 "the serial number is used",
                 (unsigned long)slots[pick]);
    if (!by && cfg->has_slot_number)
        log_warn(MOD, "slot numbers may change between starts: prefer serial_number or "
                      "token_label");
    p->slot = slots[pick];
    p->token_flags = ti[pick].flags;
    trim(ti[pick].label, sizeof(ti[pick].label), p->label);
    /* A module that cannot run requests in parallel gets one session; else a bounded pool
     * within what the token allows. */
    CK_ULONG max = ti[pick].ulMaxRwSessionCount;
    p->n_sess = P11_SESSIONS_MAX;
    if (max != CK_EFFECTIVELY_INFINITE && max != CK_UNAVAILABLE_INFORMATION && max > 0 &&
        max < p->n_sess)
        p->n_sess = max;
    rc = 0;
out:
    free(all);
    free(slots);
    free(ti);
    return rc;
}

static int module_load(struct p11 *p, const char *path, char *err, size_t err_len)
{
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) {
        const char *why = dlerror();
        snprintf(err, err_len, "cannot load the PKCS#11 module %s: %s", path, why ? why : "?");
        return -1;
    }
    CK_C_GetFunctionList get = NULL;
    *(void **)&get = dlsym(p->dl, "C_GetFunctionList");
    if (!get || get(&p->f) != CKR_OK || !p->f) {
        snprintf(err, err_len, "%s is not a PKCS#11 module (no C_GetFunctionList)", path);
        return -1;
    }
    pthread_mutex_lock(&modules_lock);
    int rc = -1, free_i = -1;
    for (int i = 0; i < P11_MODULES_MAX; i++) {
        if (modules[i].users && modules[i].f == p->f) {
            modules[i].users++;
            p->initialized = 1;
            rc = 0;
            goto out;
        }
        if (!modules[i].users && free_i < 0)
            free_i = i;
    }
    if (free_i < 0) {
        snprintf(err, err_len, "too many PKCS#11 modules (%d)", P11_MODULES_MAX);
        goto out;
    }
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_RV rv = p->f->C_Initialize(&args);
    int thread_safe = 1;
    if (rv == CKR_CANT_LOCK) {
        thread_safe = 0;
        rv = p->f->C_Initialize(NULL);
    }
    if (rv != CKR_OK) {
        snprintf(err, err_len, "C_Initialize of %s failed (0x%lx)", path, (unsigned long)rv);
        goto out;
    }
    modules[free_i].f = p->f;
    modules[free_i].users = 1;
    modules[free_i].thread_safe = thread_safe;
    p->initialized = 1;
    rc = 0;
out:
    pthread_mutex_unlock(&modules_lock);
    return rc;
}

static int module_thread_safe(const struct p11 *p)
{
    int ts = 0;
    pthread_mutex_lock(&modules_lock);
    for (int i = 0; i < P11_MODULES_MAX; i++)
        if (modules[i].users && modules[i].f == p->f)
            ts = modules[i].thread_safe;
    pthread_mutex_unlock(&modules_lock);
    return ts;
}

static void module_release(struct p11 *p)
{
    if (!p->initialized)
        return;
    pthread_mutex_lock(&modules_lock);
    for (int i = 0; i < P11_MODULES_MAX; i++)
        if (modules[i].users && modules[i].f == p->f && --modules[i].users == 0) {
            (void)p->f->C_Finalize(NULL);
            modules[i].f = NULL;
        }
    pthread_mutex_unlock(&modules_lock);
    p->initialized = 0;
}

/* The first session, with the login checked: a wrong or locked PIN stops the start. */
static int first_login(struct p11 *p, char *err, size_t err_len)
{
    if (p->has_pin && (p->token_flags & CKF_USER_PIN_LOCKED)) {
        snprintf(err, err_len,
                 "cannot log in to token \"%s\": the user PIN is locked (too many "
                 "wrong PINs): reset it with the SO PIN",
                 p->label);
        return -1;
    }
    /* One more wrong PIN would lock the token: said before the attempt. */
    if (p->has_pin && (p->token_flags & CKF_USER_PIN_FINAL_TRY))
        log_warn(MOD, "token \"%s\": the next wrong user PIN locks it", p->label);
    CK_RV rv = session_open(p, &p->sess[0]);
    if (rv == CKR_OK)
        return 0;
    const char *why = rv == CKR_PIN_INCORRECT ? "wrong PIN"
                      : rv == CKR_PIN_LOCKED  ? "the user PIN is locked (too many wrong "
                                                "PINs): reset it with the SO PIN"
                      : rv == CKR_USER_PIN_NOT_INITIALIZED ? "the token has no user PIN yet"
                      : rv == CKR_PIN_LEN_RANGE ? "the PIN has a length the token refuses"
                      : rv == CKR_PIN_EXPIRED   ? "the PIN has expired"
                                                : NULL;
    if (why)
        snprintf(err, err_len, "cannot log in to token \"%s\": %s", p->label, why);
    else
        snprintf(err, err_len, "cannot open a session on token \"%s\" (0x%lx)", p->label,
                 (unsigned long)rv);
    return -1;
}

/* The OAEP hashes the module accepts, tried on a session key: SoftHSM2 takes SHA-1 only and
 * refuses others only when an operation starts. Each try gets its own session, whose end also
 * ends the operation it started. */
static void oaep_probe(struct p11 *p)
{
    /* Any 1024-bit odd modulus serves: no operation is finished. */
    uint8_t mod[128];
    memset(mod, 0xc5, sizeof(mod));
    mod[0] = 0xd3;
    mod[127] = 0x01;
    static CK_BYTE f4[] = {0x01, 0x00, 0x01};
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},  {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &no, sizeof(no)},    {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_MODULUS, mod, sizeof(mod)}, {CKA_PUBLIC_EXPONENT, f4, sizeof(f4)},
    };
    p->oaep_hashes = 0;
    if (!has_mech(p, CKM_RSA_PKCS_OAEP))
        return;
    for (size_t i = 0; i < P11_N_HASHES; i++) {
        CK_SESSION_HANDLE s;
        CK_OBJECT_HANDLE h;
        if (p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
            return;
        if (p->f->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h) == CKR_OK) {
            CK_RSA_PKCS_OAEP_PARAMS prm = {p11_hashes[i].ckm, p11_hashes[i].mgf, CKZ_DATA_SPECIFIED,
                                           NULL, 0};
            CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &prm, sizeof(prm)};
            if (p->f->C_EncryptInit(s, &m, h) == CKR_OK)
                p->oaep_hashes |= 1u << i;
        }
        (void)p->f->C_CloseSession(s);
    }
}

static int mechs_load(struct p11 *p, char *err, size_t err_len)
{
    CK_ULONG n = 0;
    CK_RV rv = p->f->C_GetMechanismList(p->slot, NULL, &n);
    if (rv == CKR_OK) {
        p->mechs = calloc(n ? n : 1, sizeof(*p->mechs));
        if (!p->mechs) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        rv = p->f->C_GetMechanismList(p->slot, p->mechs, &n);
    }
    if (rv != CKR_OK) {
        snprintf(err, err_len, "cannot list the token's mechanisms (0x%lx)", (unsigned long)rv);
        return -1;
    }
    p->mech_info = calloc(n ? n : 1, sizeof(*p->mech_info));
    if (!p->mech_info) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* A mechanism whose sizes cannot be read keeps none (0, 0): no size limit is assumed. */
    for (CK_ULONG i = 0; i < n; i++)
        if (p->f->C_GetMechanismInfo(p->slot, p->mechs[i], &p->mech_info[i]) != CKR_OK)
            memset(&p->mech_info[i], 0, sizeof(p->mech_info[i]));
    p->n_mechs = n;
    return 0;
}

/* Coherency: a mapping whose id does not decode, or whose key is not whole on the token, is
 * removed. A key pair needs both halves: a destroy killed between its two C_DestroyObject
 * leaves one, which would keep the name mapped to a key that cannot be used (its other half is
 * then an orphan object, reported and never reused). */
static enum keys_probe probe_key(void *ctx, const struct kim_entry *e, char *err, size_t err_len)
{
    struct p11 *p = ctx;
    uint32_t id;
    if (keys_id_from_info(&e->info, &id) != 0)
        return KEYS_NO_ID;
    /* Without a login the private halves are invisible: then any object of the id will do,
     * rather than dropping every key pair's mapping. */
    int pair = PSA_KEY_TYPE_IS_KEY_PAIR(e->info.attrs.type) && p->has_pin;
    const CK_OBJECT_CLASS need[2] = {pair ? CKO_PRIVATE_KEY : (CK_OBJECT_CLASS)-1,
                                     pair ? CKO_PUBLIC_KEY : (CK_OBJECT_CLASS)-1};
    for (int i = 0; i < (pair ? 2 : 1); i++) {
        CK_OBJECT_HANDLE h;
        CK_ULONG n = 0;
        CK_RV rv = find_objects(p, p->sess[0], id, need[i], &h, 1, &n);
        if (rv != CKR_OK) {
            snprintf(err, err_len, "cannot search the token for key 0x%08" PRIx32 " (0x%lx)", id,
                     (unsigned long)rv);
            return KEYS_FAILED;
        }
        if (n == 0)
            return KEYS_ABSENT;
    }
    if (ids_add(p, id) != 0) {
        snprintf(err, err_len, "out of memory");
        return KEYS_FAILED;
    }
    return KEYS_PRESENT;
}

/* Objects with a 4-byte CKA_ID that no mapping names: left by a creation interrupted before
 * its mapping, or by another application. Reported and kept, and their ids never handed out. */
static void orphans_report(struct p11 *p)
{
    CK_SESSION_HANDLE s = p->sess[0];
    if (p->f->C_FindObjectsInit(s, NULL, 0) != CKR_OK)
        return;
    CK_OBJECT_HANDLE h[64];
    CK_ULONG n = 0;
    size_t total = 0;
    CK_OBJECT_HANDLE *all = NULL;
    while (p->f->C_FindObjects(s, h, 64, &n) == CKR_OK && n > 0) {
        CK_OBJECT_HANDLE *g = realloc(all, (total + n) * sizeof(*g));
        if (!g)
            break;
        all = g;
        memcpy(all + total, h, n * sizeof(*h));
        total += n;
    }
    (void)p->f->C_FindObjectsFinal(s);
    for (size_t i = 0; i < total; i++) {
        uint8_t idb[P11_KEY_ID_LEN + 1];
        CK_ATTRIBUTE a = {CKA_ID, idb, sizeof(idb)};
        if (p->f->C_GetAttributeValue(s, all[i], &a, 1) != CKR_OK || a.ulValueLen != P11_KEY_ID_LEN)
            continue;
        uint32_t id =
            (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
        if (ids_has(p, id))
            continue;
        log_warn(MOD,
                 "token object with key id 0x%08" PRIx32 " is in no mapping (left by an "
                 "interrupted creation?): it is kept and its id is not reused",
                 id);
        (void)ids_add(p, id);
    }
    free(all);
}

static void p11_destroy(struct psc_provider *pp)
{
    struct p11 *p = P11(pp);
    if (!p)
        return;
    if (p->f && p->initialized) {
        for (size_t i = 0; i < P11_SESSIONS_MAX; i++)
            if (p->sess[i] != CK_INVALID_HANDLE)
                (void)p->f->C_CloseSession(p->sess[i]);
        module_release(p);
    }
    if (p->dl)
        dlclose(p->dl);
    if (p->pin) {
        explicit_bzero(p->pin, p->pin_len);
        free(p->pin);
    }
    free(p->cache);
    free(p->ids);
    free(p->mechs);
    free(p->mech_info);
    pthread_mutex_destroy(&p->pool_lock);
    pthread_cond_destroy(&p->pool_cv);
    pthread_rwlock_destroy(&p->obj_lock);
    pthread_mutex_destroy(&p->cache_lock);
    free(pp->name);
    free(p);
}

static int p11_create(const struct cfg_provider *cfg, struct psc_kim *kim,
                      const struct psc_provider_env *env, struct psc_provider **out, char *err,
                      size_t err_len)
{
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    struct p11 *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_mutex_init(&p->pool_lock, NULL);
    pthread_cond_init(&p->pool_cv, NULL);
    pthread_mutex_init(&p->cache_lock, NULL);
    /* Writers first: a creation must not wait behind a stream of signatures. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&p->obj_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    for (size_t i = 0; i < P11_SESSIONS_MAX; i++)
        p->sess[i] = CK_INVALID_HANDLE;
    struct psc_provider *pp = &p->base;
    pp->type = &psc_pkcs11_provider;
    pp->kim = kim;
    pp->env = *env;
    p->software_public = cfg->software_public_operations;
    p->allow_export = cfg->allow_export;
    pp->name = strdup(cfg->name ? cfg->name : psc_pkcs11_provider.default_name);
    p->cache = calloc(P11_CACHE_SLOTS, sizeof(*p->cache));
    if (!pp->name || !p->cache) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (!cfg->library_path) {
        snprintf(err, err_len, "library_path is required");
        goto fail;
    }
    if (pin_load(p, cfg, err, err_len) != 0 ||
        module_load(p, cfg->library_path, err, err_len) != 0 ||
        slot_choose(p, cfg, err, err_len) != 0)
        goto fail;
    if (!module_thread_safe(p))
        p->n_sess = 1;
    if (first_login(p, err, err_len) != 0 || mechs_load(p, err, err_len) != 0)
        goto fail;
    oaep_probe(p);
    if (keys_coherency_pass(pp, probe_key, p, MOD, err, err_len) != 0)
        goto fail;
    orphans_report(p);
    log_info(MOD, "token \"%s\" in slot %lu, %zu session(s)%s", p->label, (unsigned long)p->slot,
             p->n_sess, p->has_pin ? ", logged in" : "");
    *out = pp;
    return 0;
fail:
    p11_destroy(pp);
    return -1;
}

const struct psc_provider_type psc_pkcs11_provider = {
    .id = PSC_PROVIDER_PKCS11,
    .uuid = "30e39502-eba6-4d60-a4af-c518b7f5e38f",
    .description = "PKCS #11 provider, interfacing with a PKCS #11 library.",
    .vendor = "OASIS Standard.",
    .version_maj = 0,
    .version_min = 1,
    .version_rev = 0,
    .config_type = "Pkcs11",
    .default_name = "pkcs11-provider",
    .ops =
        {
            [PSC_OP_PSA_GENERATE_KEY] = op_generate_key,
            [PSC_OP_PSA_DESTROY_KEY] = op_destroy_key,
            [PSC_OP_PSA_SIGN_HASH] = op_sign_hash,
            [PSC_OP_PSA_VERIFY_HASH] = op_verify_hash,
            [PSC_OP_PSA_IMPORT_KEY] = op_import_key,
            [PSC_OP_PSA_EXPORT_PUBLIC_KEY] = op_export_public,
            [PSC_OP_PSA_ASYMMETRIC_DECRYPT] = op_asym_decrypt,
            [PSC_OP_PSA_ASYMMETRIC_ENCRYPT] = op_asym_encrypt,
            [PSC_OP_CAN_DO_CRYPTO] = op_can_do_crypto,
            [PSC_OP_PSA_GENERATE_RANDOM] = op_generate_random,
        },
    .create = p11_create,
    .destroy = p11_destroy,
};
