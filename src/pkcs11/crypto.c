/* Mechanisms: what each slot offers, and signing, verification, encryption, decryption,
 * digests and random numbers. Hashes of the hash-and-sign mechanisms and of C_Digest* are
 * computed in the module (Mbed TLS); every use of a key is one request to the service. */
#include "p11.h"

#include "../common/p11_hash.h"

#include <stdlib.h>
#include <string.h>

/* ---- hashes --------------------------------------------------------------------------------- */

static const struct p11_hash *hash_by_ckm(CK_MECHANISM_TYPE m)
{
    for (size_t i = 0; i < P11_N_HASHES; i++)
        if (p11_hashes[i].ckm == m)
            return &p11_hashes[i];
    return NULL;
}

static const struct p11_hash *hash_by_psa(psa_algorithm_t a)
{
    for (size_t i = 0; i < P11_N_HASHES; i++)
        if (p11_hashes[i].psa == a)
            return &p11_hashes[i];
    return NULL;
}

static const struct p11_hash *hash_by_len(size_t len)
{
    for (size_t i = 0; i < P11_N_HASHES; i++)
        if (p11_hashes[i].len == len)
            return &p11_hashes[i];
    return NULL;
}

/* ---- mechanisms ----------------------------------------------------------------------------- */

enum mech_kind {
    MK_ECDSA,      /* input: a hash */
    MK_ECDSA_HASH, /* input: the message */
    MK_RSA_PKCS,   /* sign: a DigestInfo; encrypt / decrypt */
    MK_RSA_HASH,
    MK_PSS, /* input: a hash; parameters name it */
    MK_PSS_HASH,
    MK_OAEP,
    MK_DIGEST,
    MK_KEYGEN_RSA,
    MK_KEYGEN_EC,
};

struct mech_def {
    CK_MECHANISM_TYPE mech;
    enum mech_kind kind;
    CK_MECHANISM_TYPE hash; /* CKM_SHA* for the hashed kinds and digests */
};

static const struct mech_def g_mechs[] = {
    {CKM_ECDSA, MK_ECDSA, 0},
    {CKM_ECDSA_SHA1, MK_ECDSA_HASH, CKM_SHA_1},
    {CKM_ECDSA_SHA224, MK_ECDSA_HASH, CKM_SHA224},
    {CKM_ECDSA_SHA256, MK_ECDSA_HASH, CKM_SHA256},
    {CKM_ECDSA_SHA384, MK_ECDSA_HASH, CKM_SHA384},
    {CKM_ECDSA_SHA512, MK_ECDSA_HASH, CKM_SHA512},
    {CKM_RSA_PKCS, MK_RSA_PKCS, 0},
    {CKM_SHA1_RSA_PKCS, MK_RSA_HASH, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS, MK_RSA_HASH, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS, MK_RSA_HASH, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS, MK_RSA_HASH, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS, MK_RSA_HASH, CKM_SHA512},
    {CKM_RSA_PKCS_PSS, MK_PSS, 0},
    {CKM_SHA1_RSA_PKCS_PSS, MK_PSS_HASH, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS_PSS, MK_PSS_HASH, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, MK_PSS_HASH, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS_PSS, MK_PSS_HASH, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, MK_PSS_HASH, CKM_SHA512},
    {CKM_RSA_PKCS_OAEP, MK_OAEP, 0},
    {CKM_SHA_1, MK_DIGEST, CKM_SHA_1},
    {CKM_SHA224, MK_DIGEST, CKM_SHA224},
    {CKM_SHA256, MK_DIGEST, CKM_SHA256},
    {CKM_SHA384, MK_DIGEST, CKM_SHA384},
    {CKM_SHA512, MK_DIGEST, CKM_SHA512},
    {CKM_RSA_PKCS_KEY_PAIR_GEN, MK_KEYGEN_RSA, 0},
    {CKM_EC_KEY_PAIR_GEN, MK_KEYGEN_EC, 0},
};
#define N_MECHS (sizeof(g_mechs) / sizeof(g_mechs[0]))
_Static_assert(N_MECHS <= P11_MAX_MECHS, "P11_MAX_MECHS too small");

static const struct mech_def *mech_def(CK_MECHANISM_TYPE m)
{
    for (size_t i = 0; i < N_MECHS; i++)
        if (g_mechs[i].mech == m)
            return &g_mechs[i];
    return NULL;
}

/* Whether the provider supports keys of these attributes for this use (CanDoCrypto); without
 * that opcode, it is assumed to. */
static int can_do(struct p11_slot *sl, int have_cdc, int check, psa_key_type_t type, size_t bits,
                  psa_algorithm_t alg, psa_key_usage_t usage)
{
    struct parsec_key_attributes a = {.type = type, .bits = bits, .usage = usage, .alg = alg};
    return !have_cdc || parsec_can_do_crypto(sl->client, check, &a) == PARSEC_SUCCESS;
}

static void mech_add(struct p11_slot *sl, CK_MECHANISM_TYPE m, CK_ULONG min, CK_ULONG max,
                     CK_FLAGS flags)
{
    if (flags == 0 || sl->n_mechs == P11_MAX_MECHS)
        return;
    sl->mechs[sl->n_mechs] = m;
    sl->mech_info[sl->n_mechs].ulMinKeySize = min;
    sl->mech_info[sl->n_mechs].ulMaxKeySize = max;
    sl->mech_info[sl->n_mechs].flags = flags;
    sl->n_mechs++;
}

void p11_mechs_load(struct p11_slot *sl)
{
    static const size_t rsa_bits[] = {1024, 2048, 3072, 4096};
    static const size_t ec_bits[] = {256, 384, 521};
    const psa_key_type_t ec = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
    const psa_key_usage_t sig_use = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH;
    const psa_key_usage_t enc_use = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT;
    const CK_FLAGS ec_flags = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
    uint32_t *ops = NULL;
    size_t n_ops = 0;
    int sign = 0, verify = 0, enc = 0, dec = 0, gen = 0, cdc = 0, ecdsa, pkcs, pss, oaep, crypt;
    int gen_rsa, gen_ec;
    CK_ULONG rsa_min = 0, rsa_max = 0, ec_min = 0, ec_max = 0;

    if (sl->mechs_loaded)
        return;
    if (parsec_list_opcodes(sl->client, (int)sl->id, &ops, &n_ops) != PARSEC_SUCCESS)
        return; /* asked again next time */
    for (size_t i = 0; i < n_ops; i++) {
        sign |= ops[i] == PARSEC_OP_PSA_SIGN_HASH;
        verify |= ops[i] == PARSEC_OP_PSA_VERIFY_HASH;
        enc |= ops[i] == PARSEC_OP_PSA_ASYMMETRIC_ENCRYPT;
        dec |= ops[i] == PARSEC_OP_PSA_ASYMMETRIC_DECRYPT;
        gen |= ops[i] == PARSEC_OP_PSA_GENERATE_KEY;
        cdc |= ops[i] == PARSEC_OP_CAN_DO_CRYPTO;
    }
    parsec_opcodes_free(ops);

    /* C_GenerateKeyPair makes signing keys for any hash, or for SHA-256 where the provider
     * fixes a key's hash when it makes it (a TPM): a size counts if either can be made. */
    for (size_t i = 0; i < sizeof(rsa_bits) / sizeof(rsa_bits[0]); i++)
        if (can_do(sl, cdc, PARSEC_CHECK_GENERATE, PSA_KEY_TYPE_RSA_KEY_PAIR, rsa_bits[i],
                   PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH), sig_use) ||
            can_do(sl, cdc, PARSEC_CHECK_GENERATE, PSA_KEY_TYPE_RSA_KEY_PAIR, rsa_bits[i],
                   PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), sig_use)) {
            rsa_min = rsa_min ? rsa_min : rsa_bits[i];
            rsa_max = rsa_bits[i];
        }
    for (size_t i = 0; i < sizeof(ec_bits) / sizeof(ec_bits[0]); i++)
        if (can_do(sl, cdc, PARSEC_CHECK_GENERATE, ec, ec_bits[i], PSA_ALG_ECDSA(PSA_ALG_ANY_HASH),
                   sig_use) ||
            can_do(sl, cdc, PARSEC_CHECK_GENERATE, ec, ec_bits[i], PSA_ALG_ECDSA(PSA_ALG_SHA_256),
                   sig_use)) {
            ec_min = ec_min ? ec_min : ec_bits[i];
            ec_max = ec_bits[i];
        }
    gen_rsa = gen && rsa_max != 0;
    gen_ec = gen && ec_max != 0;
    if (rsa_max == 0) /* the provider cannot make RSA keys: it may still use imported ones */
        rsa_min = 1024, rsa_max = 4096;
    if (ec_max == 0)
        ec_min = 256, ec_max = 521;
    ecdsa = can_do(sl, cdc, PARSEC_CHECK_USE, ec, 256, PSA_ALG_ECDSA(PSA_ALG_SHA_256), sig_use);
    pkcs = can_do(sl, cdc, PARSEC_CHECK_USE, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                  PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), sig_use);
    pss = can_do(sl, cdc, PARSEC_CHECK_USE, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                 PSA_ALG_RSA_PSS(PSA_ALG_SHA_256), sig_use);
    crypt = can_do(sl, cdc, PARSEC_CHECK_USE, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                   PSA_ALG_RSA_PKCS1V15_CRYPT, enc_use);
    oaep = can_do(sl, cdc, PARSEC_CHECK_USE, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                  PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), enc_use);

    {
        /* CKF_HW: performed by the provider behind the service, not in the module. */
        CK_FLAGS sv = (sign ? CKF_SIGN | CKF_HW : 0) | (verify ? CKF_VERIFY | CKF_HW : 0);
        CK_FLAGS ed = (enc ? CKF_ENCRYPT | CKF_HW : 0) | (dec ? CKF_DECRYPT | CKF_HW : 0);
        for (size_t i = 0; i < N_MECHS; i++) {
            const struct mech_def *d = &g_mechs[i];
            switch (d->kind) {
            case MK_ECDSA:
            case MK_ECDSA_HASH:
                mech_add(sl, d->mech, ec_min, ec_max, ecdsa && sv ? sv | ec_flags : 0);
                break;
            case MK_RSA_PKCS:
                mech_add(sl, d->mech, rsa_min, rsa_max, (pkcs ? sv : 0) | (crypt ? ed : 0));
                break;
            case MK_RSA_HASH:
                mech_add(sl, d->mech, rsa_min, rsa_max, pkcs ? sv : 0);
                break;
            case MK_PSS:
            case MK_PSS_HASH:
                mech_add(sl, d->mech, rsa_min, rsa_max, pss ? sv : 0);
                break;
            case MK_OAEP:
                mech_add(sl, d->mech, rsa_min, rsa_max, oaep ? ed : 0);
                break;
            case MK_DIGEST:
                mech_add(sl, d->mech, 0, 0, CKF_DIGEST);
                break;
            case MK_KEYGEN_RSA:
                mech_add(sl, d->mech, rsa_min, rsa_max,
                         gen_rsa ? CKF_GENERATE_KEY_PAIR | CKF_HW : 0);
                break;
            case MK_KEYGEN_EC:
                mech_add(sl, d->mech, ec_min, ec_max,
                         gen_ec ? CKF_GENERATE_KEY_PAIR | CKF_HW | ec_flags : 0);
                break;
            }
        }
    }
    sl->mechs_loaded = 1;
}

/* ---- operations ----------------------------------------------------------------------------- */

void p11_op_reset(struct p11_op *op)
{
    if (op->md != MBEDTLS_MD_NONE)
        mbedtls_md_free(&op->ctx);
    free(op->key_name);
    free(op->label);
    memset(op, 0, sizeof(*op));
}

/* PSA_ALG_HASH_MASK replaced by the hash of h. */
static psa_algorithm_t with_hash(psa_algorithm_t family, psa_algorithm_t h)
{
    return (family & ~PSA_ALG_HASH_MASK) | (h & PSA_ALG_HASH_MASK);
}

/* Whether the key's policy (one algorithm, possibly with any hash) permits alg. */
static int policy_permits(psa_algorithm_t policy, psa_algorithm_t alg)
{
    if (policy == alg)
        return 1;
    return PSA_ALG_IS_SIGN(policy) && PSA_ALG_SIGN_GET_HASH(policy) == PSA_ALG_ANY_HASH &&
           with_hash(policy, alg) == alg;
}

/* PSS parameters: MGF1 with the same hash and a salt as long as the hash (what the PSA
 * signature algorithm produces). */
static CK_RV pss_params(const CK_MECHANISM *m, const struct p11_hash **h)
{
    const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
    if (p == NULL || m->ulParameterLen != sizeof(*p))
        return CKR_MECHANISM_PARAM_INVALID;
    *h = hash_by_ckm(p->hashAlg);
    if (*h == NULL || p->mgf != (*h)->mgf || p->sLen != (*h)->len)
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

/* The PSA algorithm mechanism d stands for on a key of policy pol, and whether the policy
 * permits it. h is the hash (of the mechanism, or of its parameters); NULL for CKM_ECDSA and
 * CKM_RSA_PKCS signatures, whose hash comes with the input and is checked then. sig: a
 * signature or verification, not encryption or decryption. */
static int mech_alg(const struct mech_def *d, psa_algorithm_t pol, const struct p11_hash *h,
                    int sig, psa_algorithm_t *alg)
{
    switch (d->kind) {
    case MK_ECDSA:
    case MK_ECDSA_HASH:
        *alg = h ? with_hash(pol, h->psa) : pol;
        return PSA_ALG_IS_ECDSA(pol) && (h == NULL || policy_permits(pol, *alg));
    case MK_RSA_PKCS:
        *alg = sig ? pol : PSA_ALG_RSA_PKCS1V15_CRYPT;
        return sig ? PSA_ALG_IS_RSA_PKCS1V15_SIGN(pol) : pol == *alg;
    case MK_RSA_HASH:
        *alg = PSA_ALG_RSA_PKCS1V15_SIGN(h->psa);
        return policy_permits(pol, *alg);
    case MK_PSS:
    case MK_PSS_HASH:
        *alg = PSA_ALG_RSA_PSS(h->psa);
        return policy_permits(pol, *alg);
    case MK_OAEP:
        *alg = PSA_ALG_RSA_OAEP(h->psa);
        return pol == *alg;
    default:
        return 0;
    }
}

size_t p11_allowed_mechs(const struct p11_key *k, CK_MECHANISM_TYPE *out)
{
    const psa_algorithm_t pol = k->attr.alg;
    size_t n = 0;
    for (size_t i = 0; i < N_MECHS; i++) {
        const struct mech_def *d = &g_mechs[i];
        const struct p11_hash *h = d->hash ? hash_by_ckm(d->hash) : NULL;
        int ec = d->kind == MK_ECDSA || d->kind == MK_ECDSA_HASH;
        psa_algorithm_t alg;
        if (d->kind == MK_DIGEST || d->kind == MK_KEYGEN_RSA || d->kind == MK_KEYGEN_EC ||
            ec != p11_key_is_ec(k))
            continue;
        /* The mechanisms whose hash is a parameter: the policy's own hash. */
        if (d->kind == MK_PSS && PSA_ALG_IS_RSA_PSS(pol))
            h = hash_by_psa(PSA_ALG_SIGN_GET_HASH(pol) == PSA_ALG_ANY_HASH
                                ? PSA_ALG_SHA_256
                                : PSA_ALG_SIGN_GET_HASH(pol));
        if (d->kind == MK_OAEP && PSA_ALG_IS_RSA_OAEP(pol))
            h = hash_by_psa(PSA_ALG_RSA_OAEP_GET_HASH(pol));
        if ((d->kind == MK_PSS || d->kind == MK_OAEP) && h == NULL)
            continue;
        if (mech_alg(d, pol, h, d->kind != MK_OAEP, &alg) ||
            (d->kind == MK_RSA_PKCS && mech_alg(d, pol, h, 0, &alg)))
            out[n++] = d->mech;
    }
    return n;
}

/* Sets up op for mechanism m on the key behind handle key (kind OP_SIGN, OP_VERIFY, OP_ENCRYPT
 * or OP_DECRYPT). */
static CK_RV op_init(struct p11_session *s, int kind, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    struct p11_op *op = &s->ops[kind];
    const struct mech_def *d;
    const struct p11_hash *h = NULL;
    struct p11_key *k;
    CK_OBJECT_CLASS cls;
    psa_algorithm_t pol, alg = 0;
    psa_key_usage_t need;
    int sig = kind == OP_SIGN || kind == OP_VERIFY;
    CK_RV rv;

    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    if (op->active)
        return CKR_OPERATION_ACTIVE;
    if ((rv = p11_object_find(s, key, &k, &cls)) != CKR_OK)
        return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    d = mech_def(m->mechanism);
    if (d == NULL || d->kind == MK_DIGEST || d->kind == MK_KEYGEN_RSA || d->kind == MK_KEYGEN_EC)
        return CKR_MECHANISM_INVALID;
    if ((kind == OP_SIGN || kind == OP_DECRYPT) != (cls == CKO_PRIVATE_KEY))
        return CKR_KEY_TYPE_INCONSISTENT;
    if ((d->kind == MK_ECDSA || d->kind == MK_ECDSA_HASH) ? !p11_key_is_ec(k) : !p11_key_is_rsa(k))
        return CKR_KEY_TYPE_INCONSISTENT;
    if (sig ? d->kind == MK_OAEP : (d->kind != MK_RSA_PKCS && d->kind != MK_OAEP))
        return CKR_MECHANISM_INVALID;
    if (d->hash != 0)
        h = hash_by_ckm(d->hash);
    if ((d->kind == MK_PSS || d->kind == MK_PSS_HASH) && (rv = pss_params(m, &h)) != CKR_OK)
        return rv;
    if (d->kind == MK_PSS_HASH && h->ckm != d->hash)
        return CKR_MECHANISM_PARAM_INVALID;

    pol = k->attr.alg;
    need = kind == OP_SIGN      ? PSA_KEY_USAGE_SIGN_HASH
           : kind == OP_VERIFY  ? PSA_KEY_USAGE_VERIFY_HASH
           : kind == OP_ENCRYPT ? PSA_KEY_USAGE_ENCRYPT
                                : PSA_KEY_USAGE_DECRYPT;
    if (!(k->attr.usage & need))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    if (d->kind == MK_OAEP) {
        const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;
        if (p == NULL || m->ulParameterLen != sizeof(*p) || (h = hash_by_ckm(p->hashAlg)) == NULL ||
            p->mgf != h->mgf || (p->source != 0 && p->source != CKZ_DATA_SPECIFIED) ||
            (p->ulSourceDataLen != 0 && p->pSourceData == NULL) ||
            p->ulSourceDataLen > P11_RAW_INPUT_MAX)
            return CKR_MECHANISM_PARAM_INVALID;
        if (p->ulSourceDataLen != 0) {
            if ((op->label = malloc(p->ulSourceDataLen)) == NULL)
                return CKR_HOST_MEMORY;
            memcpy(op->label, p->pSourceData, p->ulSourceDataLen);
            op->label_len = p->ulSourceDataLen;
        }
    }
    if (!mech_alg(d, pol, h, sig, &alg)) {
        p11_op_reset(op);
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    op->md = MBEDTLS_MD_NONE;
    if (d->kind == MK_ECDSA_HASH || d->kind == MK_RSA_HASH || d->kind == MK_PSS_HASH) {
        mbedtls_md_init(&op->ctx);
        op->md = h->md;
        if (mbedtls_md_setup(&op->ctx, mbedtls_md_info_from_type(h->md), 0) != 0 ||
            mbedtls_md_starts(&op->ctx) != 0) {
            p11_op_reset(op);
            return CKR_HOST_MEMORY;
        }
    }
    if ((op->key_name = strdup(k->name)) == NULL) {
        p11_op_reset(op);
        return CKR_HOST_MEMORY;
    }
    op->mech = d->mech;
    op->alg = alg;
    op->key_type = k->attr.type;
    op->key_bits = k->attr.bits;
    op->out_len = p11_key_is_ec(k) ? 2 * p11_key_bytes(k) : p11_key_bytes(k);
    op->active = 1;
    return CKR_OK;
}

/* Adds input of a multi-part operation. */
static CK_RV op_update(struct p11_op *op, const uint8_t *in, size_t len)
{
    op->multi = 1;
    if (op->md != MBEDTLS_MD_NONE)
        return mbedtls_md_update(&op->ctx, in, len) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    if (len > sizeof(op->raw) - op->raw_len)
        return CKR_DATA_LEN_RANGE;
    memcpy(op->raw + op->raw_len, in, len);
    op->raw_len += len;
    return CKR_OK;
}

/* The value to sign: the module's hash of the input, or the input itself. */
static CK_RV op_digest(struct p11_op *op, const uint8_t *in, size_t len, uint8_t *out,
                       size_t *out_len)
{
    if (op->md != MBEDTLS_MD_NONE) {
        const mbedtls_md_info_t *info = mbedtls_md_info_from_type(op->md);
        if ((in != NULL ? mbedtls_md(info, in, len, out) : mbedtls_md_finish(&op->ctx, out)) != 0)
            return CKR_FUNCTION_FAILED;
        *out_len = mbedtls_md_get_size(info);
        return CKR_OK;
    }
    if (in == NULL) {
        in = op->raw;
        len = op->raw_len;
    }
    if (len > P11_RAW_INPUT_MAX)
        return CKR_DATA_LEN_RANGE;
    memcpy(out, in, len);
    *out_len = len;
    return CKR_OK;
}

/* For the mechanisms that sign their input as it is: the signature algorithm and where the hash
 * starts in it. */
static CK_RV op_raw_alg(const struct p11_op *op, const uint8_t *v, size_t len, psa_algorithm_t *alg,
                        size_t *skip)
{
    const struct p11_hash *h;
    *skip = 0;
    *alg = op->alg;
    if (op->mech == CKM_ECDSA) {
        if (PSA_ALG_SIGN_GET_HASH(op->alg) != PSA_ALG_ANY_HASH)
            return CKR_OK;
        /* The input's length names the hash; any other length is signed as a SHA-256-sized
         * value would be, and the provider decides. */
        h = hash_by_len(len);
        *alg = with_hash(op->alg, h ? h->psa : PSA_ALG_SHA_256);
        return CKR_OK;
    }
    if (op->mech == CKM_RSA_PKCS) {
        for (size_t i = 0; i < P11_N_HASHES; i++) {
            h = &p11_hashes[i];
            if (len == h->di_len + h->len && memcmp(v, h->di, h->di_len) == 0) {
                *alg = PSA_ALG_RSA_PKCS1V15_SIGN(h->psa);
                *skip = h->di_len;
                return policy_permits(op->alg, *alg) ? CKR_OK : CKR_KEY_FUNCTION_NOT_PERMITTED;
            }
        }
        if (op->alg == PSA_ALG_RSA_PKCS1V15_SIGN_RAW)
            return len + 11 <= op->out_len ? CKR_OK : CKR_DATA_LEN_RANGE;
        return CKR_DATA_INVALID;
    }
    if (PSA_ALG_IS_RSA_PSS(op->alg)) {
        h = hash_by_psa(PSA_ALG_SIGN_GET_HASH(op->alg));
        return h != NULL && h->len == len ? CKR_OK : CKR_DATA_LEN_RANGE;
    }
    return CKR_OK;
}

/* Signs (or verifies) the op's input: in/len for single-part, NULL for the multi-part end. */
static CK_RV op_sign(struct p11_session *s, struct p11_op *op, const uint8_t *in, size_t len,
                     uint8_t *sig, size_t *sig_len)
{
    uint8_t v[P11_RAW_INPUT_MAX];
    size_t v_len, skip, out;
    psa_algorithm_t alg;
    CK_RV rv;
    int rc;
    if ((rv = op_digest(op, in, len, v, &v_len)) != CKR_OK)
        return rv;
    if ((rv = op_raw_alg(op, v, v_len, &alg, &skip)) != CKR_OK)
        return rv;
    rc = parsec_sign_hash(s->slot->client, op->key_name, alg, v + skip, v_len - skip, sig, *sig_len,
                          &out);
    if (rc != PARSEC_SUCCESS)
        return p11_rv(rc) == CKR_BUFFER_TOO_SMALL ? CKR_FUNCTION_FAILED : p11_rv(rc);
    *sig_len = out;
    return CKR_OK;
}

static CK_RV op_verify(struct p11_session *s, struct p11_op *op, const uint8_t *in, size_t len,
                       const uint8_t *sig, size_t sig_len)
{
    uint8_t v[P11_RAW_INPUT_MAX];
    size_t v_len, skip;
    psa_algorithm_t alg;
    CK_RV rv;
    int rc;
    if (sig_len != op->out_len)
        return CKR_SIGNATURE_LEN_RANGE;
    if ((rv = op_digest(op, in, len, v, &v_len)) != CKR_OK)
        return rv;
    if ((rv = op_raw_alg(op, v, v_len, &alg, &skip)) != CKR_OK)
        return rv == CKR_DATA_INVALID ? CKR_SIGNATURE_INVALID : rv;
    rc = parsec_verify_hash(s->slot->client, op->key_name, alg, v + skip, v_len - skip, sig,
                            sig_len);
    return p11_rv(rc);
}

/* Common head of the calls on an active operation: the session, held, and its op. */
static CK_RV op_enter(CK_SESSION_HANDLE h, int kind, struct p11_session **s, struct p11_op **op)
{
    CK_RV rv = p11_session_get(h, s);
    if (rv != CKR_OK)
        return rv;
    *op = &(*s)->ops[kind];
    if (!(*op)->active) {
        p11_session_put(*s);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    return CKR_OK;
}

/* Output length negotiation: CKR_OK with the length when out is NULL, CKR_BUFFER_TOO_SMALL
 * when *out_len is short (the operation stays active in both cases); 1 in *go to proceed. */
static CK_RV out_check(const uint8_t *out, CK_ULONG_PTR out_len, size_t need, int *go)
{
    *go = 0;
    if (out_len == NULL)
        return CKR_ARGUMENTS_BAD;
    if (out == NULL) {
        *out_len = need;
        return CKR_OK;
    }
    if (*out_len < need) {
        *out_len = need;
        return CKR_BUFFER_TOO_SMALL;
    }
    *go = 1;
    return CKR_OK;
}

static CK_RV init_call(CK_SESSION_HANDLE h, int kind, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    rv = op_init(s, kind, m, key);
    p11_session_put(s);
    return rv;
}

/* ---- signing -------------------------------------------------------------------------------- */

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return init_call(h, OP_SIGN, m, key);
}

static CK_RV sign_end(CK_SESSION_HANDLE h, const uint8_t *in, size_t len, int single,
                      CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    struct p11_session *s;
    struct p11_op *op;
    size_t out;
    int go;
    CK_RV rv = op_enter(h, OP_SIGN, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (single && (op->multi || (in == NULL && len != 0))) {
        rv = op->multi ? CKR_OPERATION_ACTIVE : CKR_ARGUMENTS_BAD;
        goto end;
    }
    rv = out_check(sig, sig_len, op->out_len, &go);
    if (!go && rv != CKR_ARGUMENTS_BAD)
        goto out;
    if (rv != CKR_OK)
        goto end;
    out = *sig_len;
    rv = op_sign(s, op, single ? (in ? in : (const uint8_t *)"") : NULL, len, sig, &out);
    if (rv == CKR_OK)
        *sig_len = out;
end:
    p11_op_reset(op);
out:
    p11_session_put(s);
    return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
             CK_ULONG_PTR sig_len)
{
    return sign_end(h, data, len, 1, sig, sig_len);
}

static CK_RV update_call(CK_SESSION_HANDLE h, int kind, const uint8_t *in, CK_ULONG len)
{
    struct p11_session *s;
    struct p11_op *op;
    CK_RV rv = op_enter(h, kind, &s, &op);
    if (rv != CKR_OK)
        return rv;
    rv = in == NULL && len != 0 ? CKR_ARGUMENTS_BAD : op_update(op, in, len);
    if (rv != CKR_OK)
        p11_op_reset(op);
    p11_session_put(s);
    return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
    return update_call(h, OP_SIGN, part, len);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    return sign_end(h, NULL, 0, 0, sig, sig_len);
}

/* ---- verification --------------------------------------------------------------------------- */

CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return init_call(h, OP_VERIFY, m, key);
}

static CK_RV verify_end(CK_SESSION_HANDLE h, const uint8_t *in, size_t len, int single,
                        const uint8_t *sig, CK_ULONG sig_len)
{
    struct p11_session *s;
    struct p11_op *op;
    CK_RV rv = op_enter(h, OP_VERIFY, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (sig == NULL || (single && in == NULL && len != 0))
        rv = CKR_ARGUMENTS_BAD;
    else if (single && op->multi)
        rv = CKR_OPERATION_ACTIVE;
    else
        rv = op_verify(s, op, single ? (in ? in : (const uint8_t *)"") : NULL, len, sig, sig_len);
    p11_op_reset(op);
    p11_session_put(s);
    return rv;
}

CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
               CK_ULONG sig_len)
{
    return verify_end(h, data, len, 1, sig, sig_len);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
    return update_call(h, OP_VERIFY, part, len);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
    return verify_end(h, NULL, 0, 0, sig, sig_len);
}

/* ---- encryption and decryption (single-part, as PKCS#11 defines the RSA mechanisms) --------- */

CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return init_call(h, OP_ENCRYPT, m, key);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    return init_call(h, OP_DECRYPT, m, key);
}

static CK_RV crypt_call(CK_SESSION_HANDLE h, int kind, const uint8_t *in, CK_ULONG in_len,
                        CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    struct p11_session *s;
    struct p11_op *op;
    size_t got = 0, size;
    int go, rc;
    CK_RV rv = op_enter(h, kind, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (in == NULL && in_len != 0) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    if (out_len == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    /* The modulus size bounds both the ciphertext and the plaintext; a shorter buffer may
     * still hold a short plaintext, which only the service can tell. */
    size = *out_len;
    rv = out_check(out, out_len, op->out_len, &go);
    if (kind == OP_DECRYPT && rv == CKR_BUFFER_TOO_SMALL)
        go = 1;
    if (!go)
        goto out;
    if (kind == OP_DECRYPT && in_len != op->out_len) {
        rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
        goto end;
    }
    rc = (kind == OP_ENCRYPT ? parsec_asymmetric_encrypt : parsec_asymmetric_decrypt)(
        s->slot->client, op->key_name, op->alg, in, in_len, op->label, op->label_len, out, size,
        &got);
    rv = p11_rv(rc);
    if (rv == CKR_BUFFER_TOO_SMALL) {
        *out_len = got;
        goto out;
    }
    if (rv == CKR_DATA_INVALID)
        rv = kind == OP_ENCRYPT ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_INVALID;
    if (rv == CKR_OK)
        *out_len = got;
end:
    p11_op_reset(op);
out:
    p11_session_put(s);
    return rv;
}

CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                CK_ULONG_PTR out_len)
{
    return crypt_call(h, OP_ENCRYPT, in, in_len, out, out_len);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                CK_ULONG_PTR out_len)
{
    return crypt_call(h, OP_DECRYPT, in, in_len, out, out_len);
}

/* The RSA mechanisms are single-part only: a multi-part call ends the operation. */
static CK_RV crypt_multi(CK_SESSION_HANDLE h, int kind)
{
    struct p11_session *s;
    struct p11_op *op;
    CK_RV rv = op_enter(h, kind, &s, &op);
    if (rv != CKR_OK)
        return rv;
    p11_op_reset(op);
    p11_session_put(s);
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                      CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return crypt_multi(h, OP_ENCRYPT);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    (void)out;
    (void)out_len;
    return crypt_multi(h, OP_ENCRYPT);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                      CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return crypt_multi(h, OP_DECRYPT);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    (void)out;
    (void)out_len;
    return crypt_multi(h, OP_DECRYPT);
}

/* ---- digests -------------------------------------------------------------------------------- */

CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m)
{
    struct p11_session *s;
    struct p11_op *op;
    const struct p11_hash *hd;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    op = &s->ops[OP_DIGEST];
    if (m == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (op->active)
        rv = CKR_OPERATION_ACTIVE;
    else if ((hd = hash_by_ckm(m->mechanism)) == NULL)
        rv = CKR_MECHANISM_INVALID;
    else {
        mbedtls_md_init(&op->ctx);
        op->md = hd->md;
        if (mbedtls_md_setup(&op->ctx, mbedtls_md_info_from_type(hd->md), 0) != 0 ||
            mbedtls_md_starts(&op->ctx) != 0) {
            p11_op_reset(op);
            rv = CKR_HOST_MEMORY;
        } else {
            op->mech = m->mechanism;
            op->out_len = hd->len;
            op->active = 1;
        }
    }
    p11_session_put(s);
    return rv;
}

static CK_RV digest_end(CK_SESSION_HANDLE h, const uint8_t *in, size_t len, int single,
                        CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    struct p11_session *s;
    struct p11_op *op;
    size_t got;
    int go;
    CK_RV rv = op_enter(h, OP_DIGEST, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (single && (op->multi || (in == NULL && len != 0))) {
        rv = op->multi ? CKR_OPERATION_ACTIVE : CKR_ARGUMENTS_BAD;
        goto end;
    }
    rv = out_check(out, out_len, op->out_len, &go);
    if (!go && rv != CKR_ARGUMENTS_BAD)
        goto done;
    if (rv == CKR_OK)
        rv = op_digest(op, single ? (in ? in : (const uint8_t *)"") : NULL, len, out, &got);
    if (rv == CKR_OK)
        *out_len = got;
end:
    p11_op_reset(op);
done:
    p11_session_put(s);
    return rv;
}

CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR out,
               CK_ULONG_PTR out_len)
{
    return digest_end(h, in, len, 1, out, out_len);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
    return update_call(h, OP_DIGEST, part, len);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return digest_end(h, NULL, 0, 0, out, out_len);
}

/* ---- random --------------------------------------------------------------------------------- */

CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG len)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (out == NULL && len != 0)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = p11_rv(parsec_generate_random(s->slot->client, out, len));
    p11_session_put(s);
    return rv;
}
