/* Key blobs, public templates, public key formats and the error mapping of the TPM provider:
 * pure code, no TPM.
 *
 * A blob is the bincode 1.3 encoding of the original's PasswordContext (key-info-manager.md
 * §4.1): the legacy saved-context header (24 zero bytes), the auth value, the public key
 * (enum: 0 RSA modulus, 1 ECC x and y) and the TPM2B_PRIVATE contents. The public area is not
 * stored: it is rebuilt from the key's attributes, byte for byte as the original builds it, or
 * TPM2_Load refuses the private part (its integrity covers the public area's name).
 *
 * A legacy blob (§4.2) holds a context saved from the TPM instead; tpm.c migrates it. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <sys/random.h>
#include <tss2/tss2_mu.h>

#include "service/providers/tpm_int.h"
#include "wire/status.h"

/* ---- bincode ------------------------------------------------------------------------------ */

struct rd {
    const uint8_t *p;
    size_t n;
};

static int rd_u64(struct rd *r, uint64_t *v)
{
    if (r->n < 8)
        return -1;
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = (*v << 8) | r->p[i];
    r->p += 8;
    r->n -= 8;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->n < 4)
        return -1;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->n -= 4;
    return 0;
}

/* A Vec<u8> of at most cap bytes into buf. */
static int rd_vec(struct rd *r, uint8_t *buf, size_t cap, uint16_t *len)
{
    uint64_t n;
    if (rd_u64(r, &n) != 0 || n > cap || n > r->n)
        return -1;
    if (n)
        memcpy(buf, r->p, (size_t)n);
    *len = (uint16_t)n;
    r->p += n;
    r->n -= (size_t)n;
    return 0;
}

int tpm_key_decode(const uint8_t *in, size_t len, struct tpm_key *k)
{
    struct rd r = {in, len};
    uint64_t seq, blob_len;
    uint32_t handle, hierarchy, tag;
    memset(k, 0, sizeof(*k));
    /* The saved-context header of the legacy format: a blob of the current format always has
     * an empty one. */
    if (rd_u64(&r, &seq) != 0 || rd_u32(&r, &handle) != 0 || rd_u32(&r, &hierarchy) != 0 ||
        rd_u64(&r, &blob_len) != 0 || blob_len != 0 || seq > 1)
        goto bad;
    k->imported = seq == 1;
    if (rd_vec(&r, k->auth.buffer, sizeof(k->auth.buffer), &k->auth.size) != 0 ||
        rd_u32(&r, &tag) != 0)
        goto bad;
    if (tag == 0) {
        if (rd_vec(&r, k->rsa_n.buffer, sizeof(k->rsa_n.buffer), &k->rsa_n.size) != 0)
            goto bad;
    } else if (tag == 1) {
        k->is_ecc = 1;
        if (rd_vec(&r, k->ecc.x.buffer, sizeof(k->ecc.x.buffer), &k->ecc.x.size) != 0 ||
            rd_vec(&r, k->ecc.y.buffer, sizeof(k->ecc.y.buffer), &k->ecc.y.size) != 0)
            goto bad;
    } else {
        goto bad;
    }
    if (rd_vec(&r, k->priv.buffer, sizeof(k->priv.buffer), &k->priv.size) != 0)
        goto bad;
    return 0;
bad:
    tpm_key_wipe(k);
    return PSC_KEY_INFO_MANAGER_ERROR;
}

/* ESAPI's form of a saved key context, what Esys_ContextSave leaves in contextBlob: a reserved
 * u32 (0), the TPM's own blob as a TPM2B_CONTEXT_DATA, then ESAPI's record of the object (a u16
 * size, which ESAPI leaves 0, its handle, its name, its resource type, 1 for a key, and its
 * public area), all big-endian. Checked before ESAPI sees it: ESAPI refuses every later command
 * after it failed to unmarshal one, until the context is reopened. */
#define ESYS_KEY_RESOURCE 1

static int esapi_context_ok(const TPM2B_CONTEXT_DATA *b)
{
    size_t off = 0;
    UINT32 reserved = 1, type = 0;
    return Tss2_MU_UINT32_Unmarshal(b->buffer, b->size, &off, &reserved) == 0 && reserved == 0 &&
           Tss2_MU_TPM2B_CONTEXT_DATA_Unmarshal(b->buffer, b->size, &off, NULL) == 0 &&
           Tss2_MU_UINT16_Unmarshal(b->buffer, b->size, &off, NULL) == 0 &&
           Tss2_MU_UINT32_Unmarshal(b->buffer, b->size, &off, NULL) == 0 &&
           Tss2_MU_TPM2B_NAME_Unmarshal(b->buffer, b->size, &off, NULL) == 0 &&
           Tss2_MU_UINT32_Unmarshal(b->buffer, b->size, &off, &type) == 0 &&
           type == ESYS_KEY_RESOURCE &&
           Tss2_MU_TPM2B_PUBLIC_Unmarshal(b->buffer, b->size, &off, NULL) == 0 && off == b->size;
}

/* LegacyPasswordContext { TpmsContext { sequence: u64, saved_handle: u32, hierarchy: u32,
 * context_blob: Vec<u8> }, auth_value: Vec<u8> }. Trailing bytes are ignored, as bincode 1.3
 * does. An empty context is none: the current format's header. */
int tpm_legacy_decode(const uint8_t *in, size_t len, struct tpm_legacy *lg)
{
    struct rd r = {in, len};
    TPMS_CONTEXT *c = &lg->context;
    memset(lg, 0, sizeof(*lg));
    if (rd_u64(&r, &c->sequence) != 0 || rd_u32(&r, &c->savedHandle) != 0 ||
        rd_u32(&r, &c->hierarchy) != 0 ||
        rd_vec(&r, c->contextBlob.buffer, sizeof(c->contextBlob.buffer), &c->contextBlob.size) !=
            0 ||
        !esapi_context_ok(&c->contextBlob) ||
        rd_vec(&r, lg->auth.buffer, sizeof(lg->auth.buffer), &lg->auth.size) != 0) {
        tpm_legacy_wipe(lg);
        return PSC_KEY_INFO_MANAGER_ERROR;
    }
    return 0;
}

void tpm_legacy_wipe(struct tpm_legacy *lg)
{
    explicit_bzero(lg, sizeof(*lg));
}

static uint8_t *wr_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint8_t *wr_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint8_t *wr_vec(uint8_t *p, const uint8_t *b, uint16_t n)
{
    p = wr_u64(p, n);
    if (n)
        memcpy(p, b, n);
    return p + n;
}

int tpm_key_encode(const struct tpm_key *k, uint8_t **out, size_t *len)
{
    size_t n = 24 + 8 + k->auth.size + 4 + 8 + k->priv.size +
               (k->is_ecc ? 16 + (size_t)k->ecc.x.size + k->ecc.y.size : 8 + (size_t)k->rsa_n.size);
    uint8_t *b = calloc(1, n), *p;
    if (!b)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    wr_u64(b, k->imported ? 1 : 0); /* otherwise an empty legacy header */
    p = b + 24;
    p = wr_vec(p, k->auth.buffer, k->auth.size);
    p = wr_u32(p, k->is_ecc ? 1 : 0);
    if (k->is_ecc) {
        p = wr_vec(p, k->ecc.x.buffer, k->ecc.x.size);
        p = wr_vec(p, k->ecc.y.buffer, k->ecc.y.size);
    } else {
        p = wr_vec(p, k->rsa_n.buffer, k->rsa_n.size);
    }
    p = wr_vec(p, k->priv.buffer, k->priv.size);
    *out = b;
    *len = (size_t)(p - b);
    return 0;
}

void tpm_key_wipe(struct tpm_key *k)
{
    explicit_bzero(k, sizeof(*k));
}

/* ---- templates ---------------------------------------------------------------------------- */

TPM2_ALG_ID tpm_hash_alg(psa_algorithm_t hash)
{
    switch (hash) {
    case PSA_ALG_SHA_1:
        return TPM2_ALG_SHA1;
    case PSA_ALG_SHA_256:
        return TPM2_ALG_SHA256;
    case PSA_ALG_SHA_384:
        return TPM2_ALG_SHA384;
    case PSA_ALG_SHA_512:
        return TPM2_ALG_SHA512;
    case PSA_ALG_SHA3_256:
        return TPM2_ALG_SHA3_256;
    case PSA_ALG_SHA3_384:
        return TPM2_ALG_SHA3_384;
    case PSA_ALG_SHA3_512:
        return TPM2_ALG_SHA3_512;
    default:
        return TPM2_ALG_ERROR;
    }
}

static TPM2_ECC_CURVE nist_curve(size_t bits)
{
    switch (bits) {
    case 192:
        return TPM2_ECC_NIST_P192;
    case 224:
        return TPM2_ECC_NIST_P224;
    case 256:
        return TPM2_ECC_NIST_P256;
    case 384:
        return TPM2_ECC_NIST_P384;
    case 521:
        return TPM2_ECC_NIST_P521;
    default:
        return TPM2_ECC_NONE;
    }
}

/* Signature schemes: a key is made for one scheme with one specific hash. */
static int sign_scheme(psa_algorithm_t alg, TPM2_ALG_ID *scheme, TPM2_ALG_ID *hash)
{
    if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg) && alg != PSA_ALG_RSA_PKCS1V15_SIGN_RAW)
        *scheme = TPM2_ALG_RSASSA;
    else if (PSA_ALG_IS_RSA_PSS(alg))
        *scheme = TPM2_ALG_RSAPSS;
    else if (PSA_ALG_IS_ECDSA(alg) && !PSA_ALG_IS_DETERMINISTIC_ECDSA(alg))
        *scheme = TPM2_ALG_ECDSA;
    else
        return PSC_PSA_NOT_SUPPORTED;
    *hash = tpm_hash_alg(PSA_ALG_SIGN_GET_HASH(alg));
    return *hash == TPM2_ALG_ERROR ? PSC_PSA_NOT_SUPPORTED : 0;
}

static int rsa_template(const struct psc_attrs *a, TPMT_PUBLIC *p)
{
    TPMS_RSA_PARMS *r = &p->parameters.rsaDetail;
    if (a->bits != 1024 && a->bits != 2048 && a->bits != 3072 && a->bits != 4096)
        return PSC_PSA_NOT_SUPPORTED;
    p->type = TPM2_ALG_RSA;
    r->symmetric.algorithm = TPM2_ALG_NULL;
    r->keyBits = (TPMI_RSA_KEY_BITS)a->bits;
    r->exponent = 0;
    if (PSA_ALG_IS_SIGN(a->alg)) {
        TPM2_ALG_ID scheme, hash;
        int rc = sign_scheme(a->alg, &scheme, &hash);
        if (rc != 0 || scheme == TPM2_ALG_ECDSA)
            return PSC_PSA_NOT_SUPPORTED;
        r->scheme.scheme = scheme;
        r->scheme.details.anySig.hashAlg = hash;
        return 0;
    }
    /* Encryption keys carry no scheme: PKCS#1 v1.5 or OAEP is chosen per operation. */
    if (a->alg == PSA_ALG_RSA_PKCS1V15_CRYPT || PSA_ALG_IS_RSA_OAEP(a->alg)) {
        r->scheme.scheme = TPM2_ALG_NULL;
        p->objectAttributes |= TPMA_OBJECT_DECRYPT;
        return 0;
    }
    return PSC_PSA_INVALID_ARGUMENT;
}

static int ecc_template(const struct psc_attrs *a, TPMT_PUBLIC *p)
{
    TPMS_ECC_PARMS *e = &p->parameters.eccDetail;
    if (PSA_KEY_TYPE_ECC_GET_FAMILY(a->type) != PSA_ECC_FAMILY_SECP_R1 ||
        nist_curve(a->bits) == TPM2_ECC_NONE)
        return PSC_PSA_NOT_SUPPORTED;
    if (!PSA_ALG_IS_SIGN(a->alg))
        return PSC_PSA_INVALID_ARGUMENT;
    TPM2_ALG_ID scheme, hash;
    int rc = sign_scheme(a->alg, &scheme, &hash);
    if (rc != 0 || scheme != TPM2_ALG_ECDSA)
        return PSC_PSA_NOT_SUPPORTED;
    p->type = TPM2_ALG_ECC;
    e->symmetric.algorithm = TPM2_ALG_NULL;
    e->scheme.scheme = TPM2_ALG_ECDSA;
    e->scheme.details.ecdsa.hashAlg = hash;
    e->curveID = nist_curve(a->bits);
    e->kdf.scheme = TPM2_ALG_NULL;
    return 0;
}

int tpm_public_template(const struct psc_attrs *a, const struct tpm_key *unique, int external,
                        TPM2B_PUBLIC *out)
{
    memset(out, 0, sizeof(*out));
    TPMT_PUBLIC *p = &out->publicArea;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT;
    /* A public key loaded on its own has no parent, an imported key pair was duplicated to the
     * TPM: neither is fixed to it, nor has a TPM-made secret. */
    if (!external)
        p->objectAttributes |=
            TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
    int rc;
    if (PSA_KEY_TYPE_IS_RSA(a->type))
        rc = rsa_template(a, p);
    else if (PSA_KEY_TYPE_IS_ECC(a->type))
        rc = ecc_template(a, p);
    else
        rc = PSC_PSA_NOT_SUPPORTED;
    if (rc != 0)
        return rc;
    if (unique && p->type == TPM2_ALG_RSA) {
        if (unique->is_ecc)
            return PSC_KEY_INFO_MANAGER_ERROR;
        p->unique.rsa = unique->rsa_n;
    } else if (unique) {
        if (!unique->is_ecc)
            return PSC_KEY_INFO_MANAGER_ERROR;
        p->unique.ecc = unique->ecc;
    }
    return 0;
}

int tpm_key_of_public(const struct psc_attrs *a, const TPM2B_PUBLIC *pub, struct tpm_key *k)
{
    const TPMT_PUBLIC *p = &pub->publicArea;
    TPM2B_PUBLIC tmpl;
    uint8_t want[sizeof(TPMT_PUBLIC)], have[sizeof(TPMT_PUBLIC)];
    size_t want_len = 0, have_len = 0;
    if (p->type == TPM2_ALG_ECC) {
        k->is_ecc = 1;
        k->ecc = p->unique.ecc;
    } else if (p->type == TPM2_ALG_RSA) {
        k->is_ecc = 0;
        k->rsa_n = p->unique.rsa;
    } else {
        return PSC_KEY_INFO_MANAGER_ERROR;
    }
    /* A key pair's attributes for a public key, or the reverse. */
    if ((k->priv.size == 0) != PSA_KEY_TYPE_IS_PUBLIC_KEY(a->type))
        return PSC_KEY_INFO_MANAGER_ERROR;
    int rc = tpm_public_template(a, k, TPM_KEY_EXTERNAL(k), &tmpl);
    if (rc != 0)
        return rc == PSC_PSA_NOT_SUPPORTED ? rc : PSC_KEY_INFO_MANAGER_ERROR;
    if (TPM_KEY_EXTERNAL(k))
        tmpl.publicArea.objectAttributes = p->objectAttributes;
    if (Tss2_MU_TPMT_PUBLIC_Marshal(&tmpl.publicArea, want, sizeof(want), &want_len) != 0 ||
        Tss2_MU_TPMT_PUBLIC_Marshal(p, have, sizeof(have), &have_len) != 0 ||
        want_len != have_len || memcmp(want, have, want_len) != 0)
        return PSC_KEY_INFO_MANAGER_ERROR;
    return 0;
}

void tpm_root_template(const TPMT_SYM_DEF_OBJECT *cipher, TPM2B_PUBLIC *out)
{
    memset(out, 0, sizeof(*out));
    TPMT_PUBLIC *p = &out->publicArea;
    p->type = TPM2_ALG_RSA;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                          TPMA_OBJECT_DECRYPT | TPMA_OBJECT_RESTRICTED;
    p->parameters.rsaDetail.symmetric = *cipher;
    p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p->parameters.rsaDetail.keyBits = 2048;
    p->parameters.rsaDetail.exponent = 0;
}

void tpm_ek_template(TPM2B_PUBLIC *out)
{
    /* PolicySecret(TPM_RH_ENDORSEMENT), the profile's authPolicy. */
    static const uint8_t policy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8,
                                       0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
                                       0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64,
                                       0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
    memset(out, 0, sizeof(*out));
    TPMT_PUBLIC *p = &out->publicArea;
    p->type = TPM2_ALG_RSA;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    p->authPolicy.size = sizeof(policy);
    memcpy(p->authPolicy.buffer, policy, sizeof(policy));
    p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p->parameters.rsaDetail.keyBits = 2048;
    p->unique.rsa.size = 256; /* zeros */
}

/* ---- public key formats ------------------------------------------------------------------- */

/* One DER length at *p (short or long form, at most 2 length bytes: an RSA-4096 key fits). */
static int der_len(struct rd *r, size_t *len)
{
    if (r->n < 1)
        return -1;
    uint8_t b = *r->p++;
    r->n--;
    if (b < 0x80) {
        *len = b;
    } else if (b == 0x81 || b == 0x82) {
        size_t k = b & 0x7f;
        if (r->n < k)
            return -1;
        *len = 0;
        for (size_t i = 0; i < k; i++)
            *len = (*len << 8) | *r->p++;
        r->n -= k;
        if (*len < 0x80 || (k == 2 && *len < 0x100)) /* not the shortest form */
            return -1;
    } else {
        return -1;
    }
    return *len <= r->n ? 0 : -1;
}

/* A positive DER INTEGER's magnitude. */
static int der_uint(struct rd *r, const uint8_t **v, size_t *n)
{
    if (r->n < 1 || *r->p != 0x02)
        return -1;
    r->p++;
    r->n--;
    size_t len;
    if (der_len(r, &len) != 0 || len == 0 || (r->p[0] & 0x80))
        return -1;
    *v = r->p;
    *n = len;
    r->p += len;
    r->n -= len;
    if (*n > 1 && (*v)[0] == 0) {
        if (!((*v)[1] & 0x80)) /* not minimal */
            return -1;
        (*v)++;
        (*n)--;
    }
    return 0;
}

int tpm_rsa_public_parse(const uint8_t *der, size_t len, TPM2B_PUBLIC_KEY_RSA *n)
{
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    struct rd r = {der, len};
    size_t seq;
    const uint8_t *mod, *exp;
    size_t mod_len, exp_len;
    if (!der || r.n < 1 || *r.p != 0x30)
        return PSC_PSA_INVALID_ARGUMENT;
    r.p++;
    r.n--;
    if (der_len(&r, &seq) != 0 || seq != r.n || der_uint(&r, &mod, &mod_len) != 0 ||
        der_uint(&r, &exp, &exp_len) != 0 || r.n != 0)
        return PSC_PSA_INVALID_ARGUMENT;
    /* The TPM keys of the original carry the default exponent only. */
    if (exp_len != sizeof(f4) || memcmp(exp, f4, sizeof(f4)) != 0)
        return PSC_PSA_NOT_SUPPORTED;
    if (mod_len > sizeof(n->buffer) || mod[0] == 0)
        return PSC_PSA_NOT_SUPPORTED;
    memcpy(n->buffer, mod, mod_len);
    n->size = (uint16_t)mod_len;
    return 0;
}

int tpm_rsa_private_parse(const uint8_t *der, size_t len, TPM2B_PUBLIC_KEY_RSA *n,
                          TPM2B_PRIVATE_KEY_RSA *p)
{
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    struct rd r = {der, len};
    size_t seq;
    const uint8_t *v[6];
    size_t vl[6];
    if (!der || r.n < 1 || *r.p != 0x30)
        return PSC_PSA_INVALID_ARGUMENT;
    r.p++;
    r.n--;
    if (der_len(&r, &seq) != 0 || seq != r.n)
        return PSC_PSA_INVALID_ARGUMENT;
    /* version, n, e, d, p, q; then dp, dq, qinv, which a TPM recomputes. */
    for (int i = 0; i < 6; i++)
        if (der_uint(&r, &v[i], &vl[i]) != 0)
            return PSC_PSA_INVALID_ARGUMENT;
    if (vl[0] != 1 || v[0][0] != 0)
        return PSC_PSA_INVALID_ARGUMENT; /* two-prime keys only */
    if (vl[2] != sizeof(f4) || memcmp(v[2], f4, sizeof(f4)) != 0)
        return PSC_PSA_NOT_SUPPORTED;
    if (vl[1] > sizeof(n->buffer) || v[1][0] == 0 || vl[4] > sizeof(p->buffer) || v[4][0] == 0)
        return PSC_PSA_NOT_SUPPORTED;
    memcpy(n->buffer, v[1], vl[1]);
    n->size = (uint16_t)vl[1];
    memcpy(p->buffer, v[4], vl[4]);
    p->size = (uint16_t)vl[4];
    return 0;
}

static int rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return getrandom(out, len, 0) == (ssize_t)len ? 0 : -1;
}

int tpm_ecc_public_of(size_t bits, const uint8_t *d, size_t len, TPMS_ECC_POINT *q)
{
    mbedtls_ecp_group_id id = bits == 192   ? MBEDTLS_ECP_DP_SECP192R1
                              : bits == 224 ? MBEDTLS_ECP_DP_SECP224R1
                              : bits == 256 ? MBEDTLS_ECP_DP_SECP256R1
                              : bits == 384 ? MBEDTLS_ECP_DP_SECP384R1
                              : bits == 521 ? MBEDTLS_ECP_DP_SECP521R1
                                            : MBEDTLS_ECP_DP_NONE;
    size_t half = (bits + 7) / 8;
    uint8_t pt[1 + 2 * 66];
    size_t olen = 0;
    int rc = PSC_PSA_INVALID_ARGUMENT;
    if (id == MBEDTLS_ECP_DP_NONE)
        return PSC_PSA_NOT_SUPPORTED;
    if (len != half || half > sizeof(q->x.buffer))
        return PSC_PSA_INVALID_ARGUMENT;
    mbedtls_ecp_group g;
    mbedtls_ecp_point Q;
    mbedtls_mpi m;
    mbedtls_ecp_group_init(&g);
    mbedtls_ecp_point_init(&Q);
    mbedtls_mpi_init(&m);
    /* The scalar must be a valid private key (1 <= d < n); blinding draws on the system RNG. */
    if (mbedtls_ecp_group_load(&g, id) == 0 && mbedtls_mpi_read_binary(&m, d, len) == 0 &&
        mbedtls_ecp_check_privkey(&g, &m) == 0 &&
        mbedtls_ecp_mul(&g, &Q, &m, &g.G, rng, NULL) == 0 &&
        mbedtls_ecp_point_write_binary(&g, &Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pt,
                                       sizeof(pt)) == 0 &&
        olen == 1 + 2 * half) {
        memcpy(q->x.buffer, pt + 1, half);
        memcpy(q->y.buffer, pt + 1 + half, half);
        q->x.size = q->y.size = (uint16_t)half;
        rc = 0;
    }
    mbedtls_mpi_free(&m); /* zeroes the scalar */
    mbedtls_ecp_point_free(&Q);
    mbedtls_ecp_group_free(&g);
    return rc;
}

static uint8_t *put_len(uint8_t *p, size_t len)
{
    if (len < 0x80) {
        *p++ = (uint8_t)len;
    } else if (len < 0x100) {
        *p++ = 0x81;
        *p++ = (uint8_t)len;
    } else {
        *p++ = 0x82;
        *p++ = (uint8_t)(len >> 8);
        *p++ = (uint8_t)len;
    }
    return p;
}

static size_t len_size(size_t len)
{
    return len < 0x80 ? 1 : len < 0x100 ? 2 : 3;
}

int tpm_rsa_public_der(const TPM2B_PUBLIC_KEY_RSA *n, uint8_t **out, size_t *len)
{
    const uint8_t *m = n->buffer;
    size_t ml = n->size;
    while (ml > 1 && m[0] == 0) {
        m++;
        ml--;
    }
    if (ml == 0)
        return PSC_KEY_INFO_MANAGER_ERROR;
    size_t pad = (m[0] & 0x80) ? 1 : 0;
    size_t int_len = 1 + len_size(ml + pad) + ml + pad;
    size_t body = int_len + 5; /* 02 03 01 00 01 */
    size_t total = 1 + len_size(body) + body;
    uint8_t *b = malloc(total), *p = b;
    if (!b)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    *p++ = 0x30;
    p = put_len(p, body);
    *p++ = 0x02;
    p = put_len(p, ml + pad);
    if (pad)
        *p++ = 0;
    memcpy(p, m, ml);
    p += ml;
    memcpy(p, "\x02\x03\x01\x00\x01", 5);
    *out = b;
    *len = total;
    return 0;
}

int tpm_ecc_point_parse(const uint8_t *in, size_t len, size_t bits, TPMS_ECC_POINT *pt)
{
    if (!in || len < 3 || in[0] != 0x04 || (len - 1) % 2 != 0)
        return PSC_PSA_INVALID_ARGUMENT;
    size_t half = (len - 1) / 2;
    if (half != (bits + 7) / 8 || half > sizeof(pt->x.buffer))
        return PSC_PSA_INVALID_ARGUMENT;
    memcpy(pt->x.buffer, in + 1, half);
    memcpy(pt->y.buffer, in + 1 + half, half);
    pt->x.size = pt->y.size = (uint16_t)half;
    return 0;
}

/* A coordinate left-padded to the curve's size (the TPM may drop leading zero bytes). */
static int put_coord(uint8_t *dst, size_t half, const TPM2B_ECC_PARAMETER *c)
{
    const uint8_t *v = c->buffer;
    size_t n = c->size;
    while (n > half && v[0] == 0) {
        v++;
        n--;
    }
    if (n > half)
        return -1;
    memset(dst, 0, half - n);
    memcpy(dst + half - n, v, n);
    return 0;
}

int tpm_ecc_point_export(const TPMS_ECC_POINT *pt, size_t bits, uint8_t **out, size_t *len)
{
    size_t half = (bits + 7) / 8;
    uint8_t *b = malloc(1 + 2 * half);
    if (!b)
        return PSC_PSA_INSUFFICIENT_MEMORY;
    b[0] = 0x04;
    if (put_coord(b + 1, half, &pt->x) != 0 || put_coord(b + 1 + half, half, &pt->y) != 0) {
        free(b);
        return PSC_KEY_INFO_MANAGER_ERROR;
    }
    *out = b;
    *len = 1 + 2 * half;
    return 0;
}

/* ---- error mapping ------------------------------------------------------------------------ */

TSS2_RC tpm_code(TSS2_RC rc)
{
    TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
    if (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER)
        return rc;
    TSS2_RC c = rc & 0xfff;
    /* Format-one codes carry the number of the parameter, handle or session at fault. */
    return (c & TPM2_RC_FMT1) ? (c & (TPM2_RC_FMT1 | 0x3f)) : c;
}

int tpm_status(TSS2_RC rc)
{
    if (rc == TSS2_RC_SUCCESS)
        return 0;
    TSS2_RC c = tpm_code(rc);
    if (c == rc && (rc & TSS2_RC_LAYER_MASK) != 0)
        return PSC_PSA_COMMUNICATION_FAILURE; /* ESAPI, TCTI: not the TPM's answer */
    switch (c) {
    case TPM2_RC_SIGNATURE:
        return PSC_PSA_INVALID_SIGNATURE;
    case TPM2_RC_OBJECT_MEMORY:
    case TPM2_RC_SESSION_MEMORY:
    case TPM2_RC_MEMORY:
        return PSC_PSA_INSUFFICIENT_MEMORY;
    case TPM2_RC_RETRY:
        return PSC_PSA_HARDWARE_FAILURE;
    case TPM2_RC_ASYMMETRIC:
    case TPM2_RC_HASH:
    case TPM2_RC_KEY_SIZE:
    case TPM2_RC_MGF:
    case TPM2_RC_MODE:
    case TPM2_RC_KDF:
    case TPM2_RC_SCHEME:
    case TPM2_RC_SYMMETRIC:
    case TPM2_RC_CURVE:
        return PSC_PSA_NOT_SUPPORTED;
    default:
        return PSC_PSA_COMMUNICATION_FAILURE;
    }
}
