/* Objects: the caller's Parsec keys seen as PKCS#11 private-key and public-key objects, their
 * attributes, C_FindObjects, key-pair generation and destruction. */
#include "p11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Curves of the secp_r1 family the module presents, with their DER OIDs (CKA_EC_PARAMS). */
struct p11_curve {
    size_t bits;
    size_t oid_len;
    uint8_t oid[12];
};
static const struct p11_curve g_curves[] = {
    {256, 10, {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}},
    {384, 7, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}},
    {521, 7, {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}},
};
#define N_CURVES (sizeof(g_curves) / sizeof(g_curves[0]))

static const struct p11_curve *curve_by_bits(size_t bits)
{
    for (size_t i = 0; i < N_CURVES; i++)
        if (g_curves[i].bits == bits)
            return &g_curves[i];
    return NULL;
}

static const struct p11_curve *curve_by_oid(const uint8_t *oid, size_t len)
{
    for (size_t i = 0; i < N_CURVES; i++)
        if (g_curves[i].oid_len == len && memcmp(g_curves[i].oid, oid, len) == 0)
            return &g_curves[i];
    return NULL;
}

int p11_key_is_rsa(const struct p11_key *k)
{
    return k->attr.type == PSA_KEY_TYPE_RSA_KEY_PAIR || k->attr.type == PSA_KEY_TYPE_RSA_PUBLIC_KEY;
}

int p11_key_is_ec(const struct p11_key *k)
{
    return k->attr.type == PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1) ||
           k->attr.type == PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1);
}

size_t p11_key_bytes(const struct p11_key *k)
{
    return (k->attr.bits + 7) / 8;
}

void p11_key_id(const char *name, uint8_t id[20])
{
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (const unsigned char *)name,
               strlen(name), id);
}

/* Whether the module presents this key: RSA and the NIST curves it knows. */
static int key_presentable(const struct parsec_key_attributes *a)
{
    if (a->type == PSA_KEY_TYPE_RSA_KEY_PAIR || a->type == PSA_KEY_TYPE_RSA_PUBLIC_KEY)
        return a->bits >= 512 && a->bits <= P11_SIG_MAX * 8;
    if (a->type == PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1) ||
        a->type == PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1))
        return curve_by_bits(a->bits) != NULL;
    return 0;
}

static void key_free(struct p11_key *k)
{
    if (k == NULL)
        return;
    free(k->name);
    free(k);
}

void p11_keys_free(struct p11_session *s)
{
    for (size_t i = 0; i < s->n_keys; i++)
        key_free(s->keys[i]);
    free(s->keys);
    s->keys = NULL;
    s->n_keys = 0;
    s->keys_loaded = 0;
}

static struct p11_key *key_take(struct p11_session *s, const char *name,
                                const struct parsec_key_attributes *a)
{
    for (size_t i = 0; i < s->n_keys; i++) {
        struct p11_key *k = s->keys[i];
        /* Field by field: the struct has padding. */
        if (k != NULL && strcmp(k->name, name) == 0 && k->attr.type == a->type &&
            k->attr.bits == a->bits && k->attr.usage == a->usage && k->attr.alg == a->alg) {
            s->keys[i] = NULL;
            return k;
        }
    }
    return NULL;
}

CK_RV p11_keys_refresh(struct p11_session *s)
{
    struct parsec_key_info *list = NULL;
    struct p11_key **keys = NULL;
    size_t n = 0, m = 0;
    CK_RV rv;
    int rc = parsec_list_keys(s->slot->client, &list, &n);
    if (rc != PARSEC_SUCCESS) {
        rv = p11_rv(rc);
        goto out;
    }
    if ((keys = calloc(n ? n : 1, sizeof(*keys))) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct p11_key *k;
        if (list[i].provider_id != s->slot->id || !key_presentable(&list[i].attributes))
            continue;
        /* A key whose name and attributes did not change keeps its fetched public value. */
        k = key_take(s, list[i].name, &list[i].attributes);
        if (k == NULL) {
            if ((k = calloc(1, sizeof(*k))) == NULL || (k->name = strdup(list[i].name)) == NULL) {
                free(k);
                rv = CKR_HOST_MEMORY;
                goto out;
            }
            k->attr = list[i].attributes;
            k->has_private = !PSA_KEY_TYPE_IS_PUBLIC_KEY(k->attr.type);
            if ((rv = p11_registry_index(s->slot->id, k->name, &k->index)) != CKR_OK) {
                key_free(k);
                goto out;
            }
        }
        keys[m++] = k;
    }
    p11_keys_free(s);
    s->keys = keys;
    s->n_keys = m;
    s->keys_loaded = 1;
    keys = NULL;
    rv = CKR_OK;
out:
    if (keys != NULL) {
        /* Some keys may have been moved out of the session's list: it is dropped too, and
         * read again next time. */
        for (size_t i = 0; i < m; i++)
            key_free(keys[i]);
        free(keys);
        p11_keys_free(s);
    }
    parsec_key_info_free(list, n);
    return rv;
}

static struct p11_key *key_by_index(struct p11_session *s, uint32_t index)
{
    for (size_t i = 0; i < s->n_keys; i++)
        if (s->keys[i]->index == index)
            return s->keys[i];
    return NULL;
}

CK_RV p11_object_find(struct p11_session *s, CK_OBJECT_HANDLE h, struct p11_key **key,
                      CK_OBJECT_CLASS *cls)
{
    struct p11_key *k;
    CK_RV rv;
    uint64_t index;
    if (h == CK_INVALID_HANDLE || (h - 1) / 2 >= P11_MAX_OBJECT_NAMES)
        return CKR_OBJECT_HANDLE_INVALID;
    index = (h - 1) / 2;
    if (!s->keys_loaded && (rv = p11_keys_refresh(s)) != CKR_OK)
        return rv;
    k = key_by_index(s, (uint32_t)index);
    if (k == NULL) {
        /* Perhaps made by another session or process since the list was read. */
        if ((rv = p11_keys_refresh(s)) != CKR_OK)
            return rv;
        k = key_by_index(s, (uint32_t)index);
    }
    if (k == NULL || (h % 2 == 1 && !k->has_private))
        return CKR_OBJECT_HANDLE_INVALID;
    *key = k;
    *cls = h % 2 == 1 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    return CKR_OK;
}

CK_RV p11_key_public(struct p11_session *s, struct p11_key *k)
{
    int rc;
    if (k->pub_state == 1)
        return CKR_OK;
    if (k->pub_state == -1)
        return CKR_FUNCTION_FAILED;
    rc = parsec_export_public_key(s->slot->client, k->name, k->pub, sizeof(k->pub), &k->pub_len);
    if (rc != PARSEC_SUCCESS) {
        /* A key that vanished is looked up again next time; other refusals are final. */
        if (rc != PARSEC_ERROR_PSA_DOES_NOT_EXIST && p11_rv(rc) != CKR_DEVICE_ERROR)
            k->pub_state = -1;
        return p11_rv(rc);
    }
    k->pub_state = 1;
    return CKR_OK;
}

/* ---- DER ------------------------------------------------------------------------------------ */

/* Reads one DER TLV of the expected tag from [*p, end): its contents in [*v, *v + *len). */
static int der_read(const uint8_t **p, const uint8_t *end, uint8_t tag, const uint8_t **v,
                    size_t *len)
{
    size_t l;
    if (end - *p < 2 || (*p)[0] != tag)
        return -1;
    l = (*p)[1];
    *p += 2;
    if (l & 0x80) {
        size_t nb = l & 0x7f;
        if (nb == 0 || nb > 3 || (size_t)(end - *p) < nb)
            return -1;
        l = 0;
        for (size_t i = 0; i < nb; i++)
            l = (l << 8) | *(*p)++;
    }
    if ((size_t)(end - *p) < l)
        return -1;
    *v = *p;
    *len = l;
    *p += l;
    return 0;
}

/* Modulus and public exponent of a DER RSAPublicKey, without leading zero bytes. */
static int rsa_pub_parts(const struct p11_key *k, const uint8_t **n, size_t *n_len,
                         const uint8_t **e, size_t *e_len)
{
    const uint8_t *p = k->pub, *seq;
    size_t seq_len;
    if (der_read(&p, k->pub + k->pub_len, 0x30, &seq, &seq_len) != 0)
        return -1;
    p = seq;
    if (der_read(&p, seq + seq_len, 0x02, n, n_len) != 0 ||
        der_read(&p, seq + seq_len, 0x02, e, e_len) != 0)
        return -1;
    while (*n_len > 1 && **n == 0)
        (*n)++, (*n_len)--;
    while (*e_len > 1 && **e == 0)
        (*e)++, (*e_len)--;
    return 0;
}

/* ---- attributes ----------------------------------------------------------------------------- */

/* Large enough for any attribute value: a key name, or a public value with its DER header. */
#define ATTR_BUF_SIZE (PARSEC_KEY_NAME_MAX + 8)
_Static_assert(P11_PUBKEY_MAX + 8 <= ATTR_BUF_SIZE &&
                   P11_MAX_MECHS * sizeof(CK_MECHANISM_TYPE) <= ATTR_BUF_SIZE,
               "ATTR_BUF_SIZE too small");

enum { ATTR_OK = 0, ATTR_INVALID = 1, ATTR_SENSITIVE = 2, ATTR_FAILED = 3 };

static size_t put_bool(uint8_t *buf, int v)
{
    buf[0] = v ? CK_TRUE : CK_FALSE;
    return sizeof(CK_BBOOL);
}

static size_t put_ulong(uint8_t *buf, CK_ULONG v)
{
    memcpy(buf, &v, sizeof(v));
    return sizeof(v);
}

static int usage_sign(const struct p11_key *k)
{
    return (k->attr.usage & (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_SIGN_MESSAGE)) &&
           PSA_ALG_IS_SIGN(k->attr.alg);
}

static int usage_verify(const struct p11_key *k)
{
    return (k->attr.usage & (PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_VERIFY_MESSAGE)) &&
           PSA_ALG_IS_SIGN(k->attr.alg);
}

static int usage_decrypt(const struct p11_key *k)
{
    return (k->attr.usage & PSA_KEY_USAGE_DECRYPT) && PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(k->attr.alg);
}

static int usage_encrypt(const struct p11_key *k)
{
    return (k->attr.usage & PSA_KEY_USAGE_ENCRYPT) && PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(k->attr.alg);
}

/* Value of one attribute of (k, cls) into buf (ATTR_BUF_SIZE bytes). */
static int attr_value(struct p11_session *s, struct p11_key *k, CK_OBJECT_CLASS cls,
                      CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t *len)
{
    int priv = cls == CKO_PRIVATE_KEY, rsa = p11_key_is_rsa(k);
    const uint8_t *n, *e;
    size_t n_len, e_len;

    switch (type) {
    case CKA_CLASS:
        *len = put_ulong(buf, cls);
        return ATTR_OK;
    case CKA_TOKEN:
        *len = put_bool(buf, 1);
        return ATTR_OK;
    case CKA_PRIVATE: /* visible without login: the service authenticates the process */
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_DERIVE:
    case CKA_WRAP:
    case CKA_UNWRAP:
    case CKA_SIGN_RECOVER:
    case CKA_VERIFY_RECOVER:
    case CKA_TRUSTED:
    case CKA_ALWAYS_AUTHENTICATE:
    case CKA_WRAP_WITH_TRUSTED:
    case CKA_LOCAL:
        *len = put_bool(buf, 0);
        return ATTR_OK;
    case CKA_DESTROYABLE:
        *len = put_bool(buf, 1);
        return ATTR_OK;
    case CKA_LABEL:
        *len = strlen(k->name);
        if (*len > ATTR_BUF_SIZE)
            return ATTR_FAILED;
        memcpy(buf, k->name, *len);
        return ATTR_OK;
    case CKA_ID:
        p11_key_id(k->name, buf);
        *len = 20;
        return ATTR_OK;
    case CKA_KEY_TYPE:
        *len = put_ulong(buf, rsa ? CKK_RSA : CKK_EC);
        return ATTR_OK;
    case CKA_SUBJECT:
    case CKA_START_DATE:
    case CKA_END_DATE:
        *len = 0;
        return ATTR_OK;
    case CKA_ALLOWED_MECHANISMS: {
        CK_MECHANISM_TYPE mechs[P11_MAX_MECHS];
        *len = p11_allowed_mechs(k, mechs) * sizeof(mechs[0]);
        memcpy(buf, mechs, *len);
        return ATTR_OK;
    }
    case CKA_KEY_GEN_MECHANISM:
        *len = put_ulong(buf, CK_UNAVAILABLE_INFORMATION);
        return ATTR_OK;
    case CKA_SIGN:
        if (!priv)
            return ATTR_INVALID;
        *len = put_bool(buf, usage_sign(k));
        return ATTR_OK;
    case CKA_DECRYPT:
        if (!priv)
            return ATTR_INVALID;
        *len = put_bool(buf, usage_decrypt(k));
        return ATTR_OK;
    case CKA_VERIFY:
        if (priv)
            return ATTR_INVALID;
        *len = put_bool(buf, usage_verify(k));
        return ATTR_OK;
    case CKA_ENCRYPT:
        if (priv)
            return ATTR_INVALID;
        *len = put_bool(buf, usage_encrypt(k));
        return ATTR_OK;
    case CKA_SENSITIVE:
    case CKA_ALWAYS_SENSITIVE:
        if (!priv)
            return ATTR_INVALID;
        *len = put_bool(buf, !(k->attr.usage & PSA_KEY_USAGE_EXPORT));
        return ATTR_OK;
    case CKA_EXTRACTABLE:
    case CKA_NEVER_EXTRACTABLE:
        if (!priv)
            return ATTR_INVALID;
        *len = put_bool(buf, (type == CKA_EXTRACTABLE) == !!(k->attr.usage & PSA_KEY_USAGE_EXPORT));
        return ATTR_OK;
    case CKA_MODULUS_BITS:
        if (!rsa || priv)
            return ATTR_INVALID;
        *len = put_ulong(buf, k->attr.bits);
        return ATTR_OK;
    case CKA_MODULUS:
    case CKA_PUBLIC_EXPONENT:
        if (!rsa)
            return ATTR_INVALID;
        if (p11_key_public(s, k) != CKR_OK || rsa_pub_parts(k, &n, &n_len, &e, &e_len) != 0)
            return ATTR_FAILED;
        *len = type == CKA_MODULUS ? n_len : e_len;
        memcpy(buf, type == CKA_MODULUS ? n : e, *len);
        return ATTR_OK;
    case CKA_EC_PARAMS: {
        const struct p11_curve *c = curve_by_bits(k->attr.bits);
        if (rsa || c == NULL)
            return ATTR_INVALID;
        memcpy(buf, c->oid, c->oid_len);
        *len = c->oid_len;
        return ATTR_OK;
    }
    case CKA_EC_POINT: {
        size_t h = 0;
        if (rsa)
            return ATTR_INVALID;
        /* An uncompressed point: 04 || x || y. */
        if (p11_key_public(s, k) != CKR_OK || k->pub_len != 1 + 2 * p11_key_bytes(k) ||
            k->pub[0] != 0x04)
            return ATTR_FAILED;
        /* A DER OCTET STRING holding the point. */
        buf[h++] = 0x04;
        if (k->pub_len > 127)
            buf[h++] = 0x81;
        buf[h++] = (uint8_t)k->pub_len;
        memcpy(buf + h, k->pub, k->pub_len);
        *len = h + k->pub_len;
        return ATTR_OK;
    }
    case CKA_VALUE:
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
        return priv ? ATTR_SENSITIVE : ATTR_INVALID;
    default:
        return ATTR_INVALID;
    }
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
                          CK_ULONG n)
{
    struct p11_session *s;
    struct p11_key *k;
    CK_OBJECT_CLASS cls;
    uint8_t buf[ATTR_BUF_SIZE];
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (tmpl == NULL && n != 0) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if ((rv = p11_object_find(s, obj, &k, &cls)) != CKR_OK)
        goto out;
    for (CK_ULONG i = 0; i < n; i++) {
        size_t len = 0;
        int r = attr_value(s, k, cls, tmpl[i].type, buf, &len);
        if (r != ATTR_OK) {
            tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (r == ATTR_SENSITIVE)
                rv = CKR_ATTRIBUTE_SENSITIVE;
            else if (rv != CKR_ATTRIBUTE_SENSITIVE)
                rv = r == ATTR_FAILED ? CKR_DEVICE_ERROR : CKR_ATTRIBUTE_TYPE_INVALID;
            continue;
        }
        if (tmpl[i].pValue == NULL) {
            tmpl[i].ulValueLen = len;
        } else if (tmpl[i].ulValueLen < len) {
            tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (rv == CKR_OK)
                rv = CKR_BUFFER_TOO_SMALL;
        } else {
            memcpy(tmpl[i].pValue, buf, len);
            tmpl[i].ulValueLen = len;
        }
    }
out:
    p11_session_put(s);
    return rv;
}

/* ---- finding -------------------------------------------------------------------------------- */

static int matches(struct p11_session *s, struct p11_key *k, CK_OBJECT_CLASS cls,
                   const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    uint8_t buf[ATTR_BUF_SIZE];
    for (CK_ULONG i = 0; i < n; i++) {
        size_t len;
        if (attr_value(s, k, cls, tmpl[i].type, buf, &len) != ATTR_OK ||
            len != tmpl[i].ulValueLen || (len != 0 && tmpl[i].pValue == NULL) ||
            (len != 0 && memcmp(buf, tmpl[i].pValue, len) != 0))
            return 0;
    }
    return 1;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (tmpl == NULL && n != 0) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if (s->finding) {
        rv = CKR_OPERATION_ACTIVE;
        goto out;
    }
    if ((rv = p11_keys_refresh(s)) != CKR_OK)
        goto out;
    free(s->found);
    s->n_found = s->found_pos = 0;
    if ((s->found = calloc(2 * s->n_keys + 1, sizeof(*s->found))) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < s->n_keys; i++) {
        struct p11_key *k = s->keys[i];
        if (k->has_private && matches(s, k, CKO_PRIVATE_KEY, tmpl, n))
            s->found[s->n_found++] = P11_HANDLE_PRIVATE(k->index);
        if (matches(s, k, CKO_PUBLIC_KEY, tmpl, n))
            s->found[s->n_found++] = P11_HANDLE_PUBLIC(k->index);
    }
    s->finding = 1;
out:
    p11_session_put(s);
    return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((out == NULL && max != 0) || count == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto done;
    }
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
        goto done;
    }
    *count = 0;
    while (*count < max && s->found_pos < s->n_found)
        out[(*count)++] = s->found[s->found_pos++];
done:
    p11_session_put(s);
    return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        s->finding = 0;
        free(s->found);
        s->found = NULL;
        s->n_found = s->found_pos = 0;
    }
    p11_session_put(s);
    return rv;
}

/* ---- creating and destroying keys ----------------------------------------------------------- */

static const CK_ATTRIBUTE *attr_get(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == type)
            return &t[i];
    return NULL;
}

/* CK_TRUE / CK_FALSE of a boolean attribute, dflt when absent, -1 when malformed. */
static int attr_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, int dflt)
{
    const CK_ATTRIBUTE *a = attr_get(t, n, type);
    if (a == NULL)
        return dflt;
    if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
        return -1;
    return *(const CK_BBOOL *)a->pValue != CK_FALSE;
}

/* The key name: CKA_LABEL of the private or public template, else a random one. */
static CK_RV keygen_name(struct p11_session *s, const CK_ATTRIBUTE *pub, CK_ULONG n_pub,
                         const CK_ATTRIBUTE *priv, CK_ULONG n_priv, char *name, size_t size)
{
    const CK_ATTRIBUTE *l = attr_get(priv, n_priv, CKA_LABEL);
    uint8_t rnd[8];
    int rc;
    if (l == NULL)
        l = attr_get(pub, n_pub, CKA_LABEL);
    if (l != NULL) {
        if (l->pValue == NULL || l->ulValueLen == 0 || l->ulValueLen >= size ||
            memchr(l->pValue, '\0', l->ulValueLen) != NULL)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        memcpy(name, l->pValue, l->ulValueLen);
        name[l->ulValueLen] = '\0';
        return CKR_OK;
    }
    if ((rc = parsec_generate_random(s->slot->client, rnd, sizeof(rnd))) != PARSEC_SUCCESS)
        return p11_rv(rc);
    snprintf(name, size, "pkcs11-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7]);
    return CKR_OK;
}

/* A key pair's policy has one algorithm: a key that may sign is made for PKCS#1 v1.5 or ECDSA
 * with any hash (what TLS 1.2, SSH and most signers use), or with SHA-256 where the provider
 * does not make keys for any hash; an RSA key made to decrypt only is made for PKCS#1 v1.5
 * encryption. */
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub,
                        CK_ULONG n_pub, CK_ATTRIBUTE_PTR priv, CK_ULONG n_priv,
                        CK_OBJECT_HANDLE_PTR pub_key, CK_OBJECT_HANDLE_PTR priv_key)
{
    struct p11_session *s;
    struct parsec_key_attributes a = {0};
    char name[PARSEC_KEY_NAME_MAX + 1];
    uint32_t index;
    int sign, decrypt, rc;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (mech == NULL || pub_key == NULL || priv_key == NULL || (pub == NULL && n_pub != 0) ||
        (priv == NULL && n_priv != 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if (!(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
        goto out;
    }
    sign = attr_bool(priv, n_priv, CKA_SIGN, 1);
    decrypt = attr_bool(priv, n_priv, CKA_DECRYPT, 0);
    /* Every Parsec key persists: a session object (CKA_TOKEN false) cannot be made. */
    if (sign < 0 || decrypt < 0 || attr_bool(priv, n_priv, CKA_TOKEN, 1) != 1 ||
        attr_bool(pub, n_pub, CKA_TOKEN, 1) != 1) {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
        goto out;
    }
    if (mech->mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN) {
        const CK_ATTRIBUTE *bits = attr_get(pub, n_pub, CKA_MODULUS_BITS);
        const CK_ATTRIBUTE *exp = attr_get(pub, n_pub, CKA_PUBLIC_EXPONENT);
        static const uint8_t f4[] = {0x01, 0x00, 0x01};
        if (bits == NULL) {
            rv = CKR_TEMPLATE_INCOMPLETE;
            goto out;
        }
        if (bits->pValue == NULL || bits->ulValueLen != sizeof(CK_ULONG)) {
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
            goto out;
        }
        /* The service always uses 65537. */
        if (exp != NULL) {
            const uint8_t *ev = exp->pValue;
            size_t el = exp->ulValueLen;
            while (ev != NULL && el > 0 && *ev == 0)
                ev++, el--;
            if (ev == NULL || el != sizeof(f4) || memcmp(ev, f4, sizeof(f4)) != 0) {
                rv = CKR_ATTRIBUTE_VALUE_INVALID;
                goto out;
            }
        }
        a.type = PSA_KEY_TYPE_RSA_KEY_PAIR;
        a.bits = *(const CK_ULONG *)bits->pValue;
        if (a.bits < 1024 || a.bits > P11_SIG_MAX * 8) {
            rv = CKR_KEY_SIZE_RANGE;
            goto out;
        }
        if (sign) {
            a.alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH);
            a.usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH |
                      PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE;
        } else if (decrypt) {
            a.alg = PSA_ALG_RSA_PKCS1V15_CRYPT;
            a.usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT;
        } else {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
    } else if (mech->mechanism == CKM_EC_KEY_PAIR_GEN) {
        const CK_ATTRIBUTE *p = attr_get(pub, n_pub, CKA_EC_PARAMS);
        const struct p11_curve *c;
        if (p == NULL) {
            rv = CKR_TEMPLATE_INCOMPLETE;
            goto out;
        }
        if (p->pValue == NULL || (c = curve_by_oid(p->pValue, p->ulValueLen)) == NULL) {
            rv = CKR_CURVE_NOT_SUPPORTED;
            goto out;
        }
        if (!sign || decrypt) {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
        a.type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
        a.bits = c->bits;
        a.alg = PSA_ALG_ECDSA(PSA_ALG_ANY_HASH);
        a.usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_SIGN_MESSAGE |
                  PSA_KEY_USAGE_VERIFY_MESSAGE;
    } else {
        rv = CKR_MECHANISM_INVALID;
        goto out;
    }
    if ((rv = keygen_name(s, pub, n_pub, priv, n_priv, name, sizeof(name))) != CKR_OK)
        goto out;
    rc = parsec_generate_key(s->slot->client, name, &a);
    /* A provider that fixes a key's hash when it makes it (a TPM) refuses "any hash". */
    if (rc == PARSEC_ERROR_PSA_NOT_SUPPORTED && sign) {
        a.alg = a.type == PSA_KEY_TYPE_RSA_KEY_PAIR ? PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)
                                                    : PSA_ALG_ECDSA(PSA_ALG_SHA_256);
        rc = parsec_generate_key(s->slot->client, name, &a);
    }
    if (rc != PARSEC_SUCCESS) {
        rv = p11_rv(rc);
        if (rv == CKR_DATA_INVALID)
            rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    if ((rv = p11_registry_index(s->slot->id, name, &index)) != CKR_OK ||
        (rv = p11_keys_refresh(s)) != CKR_OK)
        goto out;
    *priv_key = P11_HANDLE_PRIVATE(index);
    *pub_key = P11_HANDLE_PUBLIC(index);
out:
    p11_session_put(s);
    return rv;
}

/* Destroying either object of a key pair destroys the Parsec key, and so both objects. */
CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
    struct p11_session *s;
    struct p11_key *k;
    CK_OBJECT_CLASS cls;
    int rc;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_object_find(s, obj, &k, &cls)) != CKR_OK)
        goto out;
    if (!(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
        goto out;
    }
    rc = parsec_destroy_key(s->slot->client, k->name);
    if (rc != PARSEC_SUCCESS && rc != PARSEC_ERROR_PSA_DOES_NOT_EXIST) {
        rv = p11_rv(rc);
        goto out;
    }
    rv = p11_keys_refresh(s);
out:
    p11_session_put(s);
    return rv;
}
