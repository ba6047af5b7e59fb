#include "tool/x509.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tool/der.h"
#include "tool/names.h"
#include "tool/sign.h"
#include "tool/spki.h"
#include "tool/tlog.h"

#define OID_EXTENSION_REQUEST "1.2.840.113549.1.9.14"
#define OID_SUBJECT_ALT_NAME "2.5.29.17"
#define OID_BASIC_CONSTRAINTS "2.5.29.19"
#define OID_KEY_USAGE "2.5.29.15"
#define OID_SUBJECT_KEY_ID "2.5.29.14"
#define OID_AUTHORITY_KEY_ID "2.5.29.35"
#define OID_RSASSA_PSS "1.2.840.113549.1.1.10"

/* Length of a key identifier: a SHA-1 digest (RFC 5280 §4.2.1.2, method 1). */
#define X509_KEY_ID_LEN 20

static int unsupported_hash(const char *target, psa_algorithm_t policy)
{
    char desc[NAMES_MAX];
    names_alg_inner(policy, desc, sizeof(desc));
    tlog(TLOG_ERROR, target,
         "Signing key requires use of hashing algorithm (%s), which is not supported for "
         "certificate requests.",
         desc);
    return tool_fail(TOOL_NOT_SUPPORTED);
}

static int choose_ecdsa(const char *target, const struct parsec_key_attributes *a,
                        psa_algorithm_t hash, struct x509_sigalg *out)
{
    if (a->type != PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1)) {
        tlog(TLOG_ERROR, target,
             "Signing key must use curve family SecpR1 for certificate "
             "requests.");
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    out->scheme = X509_ECDSA;
    if (hash == PSA_ALG_SHA_256 || hash == PSA_ALG_SHA_384) {
        size_t want = hash == PSA_ALG_SHA_256 ? 256 : 384;
        if (a->bits != want) {
            tlog(TLOG_ERROR, target,
                 "Signing key should have strength %zu, but actually has strength %zu.", want,
                 a->bits);
            return tool_fail(TOOL_NOT_SUPPORTED);
        }
        out->hash = hash;
        return 0;
    }
    if (hash == PSA_ALG_ANY_HASH) {
        if (a->bits != 256) {
            tlog(TLOG_ERROR, target,
                 "Signing keys of strength other than 256-bit not supported "
                 "without specific hash algorithm.");
            return tool_fail(TOOL_NOT_SUPPORTED);
        }
        out->hash = PSA_ALG_SHA_256;
        return 0;
    }
    return unsupported_hash(target, a->alg);
}

int x509_choose_sigalg(const char *target, const struct parsec_key_attributes *a,
                       struct x509_sigalg *out)
{
    psa_algorithm_t alg = a->alg;
    if (!PSA_ALG_IS_SIGN(alg)) {
        tlog(TLOG_ERROR, target,
             "Specified key is not an asymmetric signing key, which is "
             "needed for certificate requests.");
        return tool_fail(TOOL_WRONG_KEY_ALGORITHM);
    }
    psa_algorithm_t hash = PSA_ALG_IS_HASH_AND_SIGN(alg) ? PSA_ALG_SIGN_GET_HASH(alg) : 0;
    if (alg == PSA_ALG_RSA_PKCS1V15_SIGN_RAW) {
        tlog(TLOG_ERROR, target,
             "Signing key specifies raw signing only, which is not "
             "supported for certificate requests.");
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg) || PSA_ALG_IS_RSA_PSS(alg)) {
        int pss = PSA_ALG_IS_RSA_PSS(alg);
        out->scheme = pss ? X509_RSA_PSS : X509_RSA_PKCS1;
        if (hash == PSA_ALG_ANY_HASH)
            hash = PSA_ALG_SHA_256; /* the tool's default hash */
        if (hash == PSA_ALG_SHA_256 || hash == PSA_ALG_SHA_384 ||
            (!pss && hash == PSA_ALG_SHA_512)) {
            out->hash = hash;
            return 0;
        }
        return unsupported_hash(target, alg);
    }
    if (PSA_ALG_IS_RANDOMIZED_ECDSA(alg) && hash != 0)
        return choose_ecdsa(target, a, hash, out);
    tlog(TLOG_ERROR, target, "The specified key is not supported for certificate requests.");
    return tool_fail(TOOL_NOT_SUPPORTED);
}

/* The iPAddress octets of a SAN value that is an IP literal; 0 if it is not one. */
static size_t san_ip(const char *v, uint8_t ip[16])
{
    if (inet_pton(AF_INET, v, ip) == 1)
        return 4;
    if (inet_pton(AF_INET6, v, ip) == 1)
        return 16;
    return 0;
}

int x509_check_sans(const struct x509_subject *s)
{
    for (size_t i = 0; i < s->nsan; i++) {
        uint8_t ip[16];
        const unsigned char *v = (const unsigned char *)s->san[i];
        if (san_ip(s->san[i], ip))
            continue;
        for (size_t k = 0; v[k]; k++) {
            if (v[k] >= 0x80) {
                char display[TOOL_ERROR_MAX / 2], debug[TOOL_ERROR_MAX];
                snprintf(display, sizeof(display), "Invalid IA5String: '%s'", s->san[i]);
                snprintf(debug, sizeof(debug), "RcgenError(InvalidAsn1String(Ia5String(\"%s\")))",
                         s->san[i]);
                return tool_fail_text(display, debug);
            }
        }
    }
    return 0;
}

static void put_sigalg(struct der *d, const struct x509_sigalg *a)
{
    der_begin(d, DER_SEQUENCE);
    switch (a->scheme) {
    case X509_RSA_PKCS1:
        der_put_oid(d, a->hash == PSA_ALG_SHA_512   ? "1.2.840.113549.1.1.13"
                       : a->hash == PSA_ALG_SHA_384 ? "1.2.840.113549.1.1.12"
                                                    : "1.2.840.113549.1.1.11");
        der_put_null(d);
        break;
    case X509_RSA_PSS:
        der_put_oid(d, OID_RSASSA_PSS);
        spki_put_pss_params(d, a->hash);
        break;
    case X509_ECDSA:
        der_put_oid(d, a->hash == PSA_ALG_SHA_384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2");
        break;
    }
    der_end(d);
}

static void put_rdn(struct der *d, const char *oid, const char *value)
{
    if (!value)
        return;
    der_begin(d, DER_SET);
    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, oid);
    der_put_tlv(d, DER_UTF8_STRING, value, strlen(value));
    der_end(d);
    der_end(d);
}

static void put_name(struct der *d, const struct x509_subject *s)
{
    der_begin(d, DER_SEQUENCE);
    put_rdn(d, "2.5.4.3", s->cn);
    put_rdn(d, "2.5.4.11", s->ou);
    put_rdn(d, "2.5.4.10", s->o);
    put_rdn(d, "2.5.4.7", s->l);
    put_rdn(d, "2.5.4.8", s->st);
    put_rdn(d, "2.5.4.6", s->c);
    put_rdn(d, "2.5.4.5", s->serial_number);
    der_end(d);
}

/* The subjectAltName extension, not marked critical: that is how the original writes it in
 * requests, and certificates made here always have a subject name (RFC 5280 §4.2.1.6 wants
 * it critical only when the subject is empty). */
static void put_san_ext(struct der *d, const struct x509_subject *s)
{
    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_SUBJECT_ALT_NAME);
    der_begin(d, DER_OCTET_STRING);
    der_begin(d, DER_SEQUENCE);
    for (size_t i = 0; i < s->nsan; i++) {
        uint8_t ip[16];
        size_t n = san_ip(s->san[i], ip);
        if (n)
            der_put_tlv(d, DER_CONTEXT(7), ip, n);
        else
            der_put_tlv(d, DER_CONTEXT(2), s->san[i], strlen(s->san[i]));
    }
    der_end(d);
    der_end(d);
    der_end(d);
}

/* tbs || AlgorithmIdentifier || BIT STRING signature, wrapped in a SEQUENCE. */
static int sign_and_wrap(struct tool *t, const struct x509_key *k, const struct der *tbs,
                         uint8_t **der, size_t *len)
{
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    struct der out;
    int rc = -1;
    *der = NULL;
    if (sign_with_policy(t, k->name, k->attrs->alg, k->alg.hash, tbs->buf, tbs->len, &sig,
                         &sig_len) != 0)
        return -1;
    der_init(&out);
    der_begin(&out, DER_SEQUENCE);
    der_put_raw(&out, tbs->buf, tbs->len);
    put_sigalg(&out, &k->alg);
    der_put_bits(&out, sig, sig_len);
    der_end(&out);
    if (der_finish(&out) != 0) {
        tool_fail_client(PARSEC_ERROR_NO_MEMORY);
        goto out;
    }
    *der = out.buf;
    *len = out.len;
    out.buf = NULL;
    rc = 0;
out:
    free(sig);
    der_free(&out);
    return rc;
}

static int built(struct der *d)
{
    int rc = der_finish(d);
    if (rc == 0)
        return 0;
    tlog(TLOG_ERROR, TOOL_TARGET, "The request could not be encoded (status %d).", rc);
    return tool_fail(TOOL_INCORRECT_DATA);
}

int x509_make_csr(struct tool *t, const struct x509_key *k, const struct x509_subject *s,
                  uint8_t **der, size_t *len)
{
    struct der info;
    int rc = -1;
    der_init(&info);
    der_begin(&info, DER_SEQUENCE);
    der_put_small_uint(&info, 0); /* version v1 */
    put_name(&info, s);
    der_put_raw(&info, k->spki, k->spki_len);
    der_begin(&info, DER_CONTEXT_CONS(0));
    if (s->nsan) {
        der_begin(&info, DER_SEQUENCE);
        der_put_oid(&info, OID_EXTENSION_REQUEST);
        der_begin(&info, DER_SET);
        der_begin(&info, DER_SEQUENCE);
        put_san_ext(&info, s);
        der_end(&info);
        der_end(&info);
        der_end(&info);
    }
    der_end(&info);
    der_end(&info);
    if (built(&info) == 0)
        rc = sign_and_wrap(t, k, &info, der, len);
    der_free(&info);
    return rc;
}

/* RFC 5280 §4.1.2.5: UTCTime up to 2049, GeneralizedTime from 2050 on. */
static int put_time(struct der *d, time_t when)
{
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&when, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1950)
        return -1;
    if (tm.tm_year + 1900 < 2050) {
        snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        der_put_tlv(d, DER_UTC_TIME, buf, strlen(buf));
    } else {
        snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        der_put_tlv(d, DER_GENERALIZED_TIME, buf, strlen(buf));
    }
    return 0;
}

static void put_extensions(struct der *d, const struct x509_subject *s,
                           const struct x509_cert_params *p, const uint8_t key_id[X509_KEY_ID_LEN])
{
    /* keyUsage bits: digitalSignature (0), keyCertSign (5), cRLSign (6). A CA certificate
     * signs certificates and CRLs; an end-entity certificate only signs (TLS, code, ...). */
    static const uint8_t ku_ca[] = {0x01, 0x86};   /* 7 bits used */
    static const uint8_t ku_leaf[] = {0x07, 0x80}; /* 1 bit used */
    der_begin(d, DER_CONTEXT_CONS(3));
    der_begin(d, DER_SEQUENCE);

    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_BASIC_CONSTRAINTS);
    der_put_bool(d, 1);
    der_begin(d, DER_OCTET_STRING);
    der_begin(d, DER_SEQUENCE);
    if (p->ca)
        der_put_bool(d, 1); /* cA; FALSE is the default and is left out in DER */
    der_end(d);
    der_end(d);
    der_end(d);

    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_KEY_USAGE);
    der_put_bool(d, 1);
    der_begin(d, DER_OCTET_STRING);
    if (p->ca)
        der_put_tlv(d, DER_BIT_STRING, ku_ca, sizeof(ku_ca));
    else
        der_put_tlv(d, DER_BIT_STRING, ku_leaf, sizeof(ku_leaf));
    der_end(d);
    der_end(d);

    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_SUBJECT_KEY_ID);
    der_begin(d, DER_OCTET_STRING);
    der_put_tlv(d, DER_OCTET_STRING, key_id, X509_KEY_ID_LEN);
    der_end(d);
    der_end(d);

    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_AUTHORITY_KEY_ID);
    der_begin(d, DER_OCTET_STRING);
    der_begin(d, DER_SEQUENCE);
    der_put_tlv(d, DER_CONTEXT(0), key_id, X509_KEY_ID_LEN);
    der_end(d);
    der_end(d);
    der_end(d);

    if (s->nsan)
        put_san_ext(d, s);

    der_end(d);
    der_end(d);
}

int x509_make_cert(struct tool *t, const struct x509_key *k, const struct x509_subject *s,
                   const struct x509_cert_params *p, uint8_t **der, size_t *len)
{
    struct der tbs;
    uint8_t key_id[X509_KEY_ID_LEN];
    unsigned int id_len = 0;
    int rc = -1;
    if (EVP_Digest(k->pub, k->pub_len, key_id, &id_len, EVP_sha1(), NULL) != 1 ||
        id_len != sizeof(key_id))
        return tool_fail_text("the key identifier could not be computed",
                              "OpenSslError(EVP_Digest)");
    der_init(&tbs);
    der_begin(&tbs, DER_SEQUENCE);
    der_begin(&tbs, DER_CONTEXT_CONS(0));
    der_put_small_uint(&tbs, 2); /* v3 */
    der_end(&tbs);
    der_put_uint(&tbs, p->serial, p->serial_len);
    put_sigalg(&tbs, &k->alg);
    put_name(&tbs, s); /* issuer: the certificate signs itself */
    der_begin(&tbs, DER_SEQUENCE);
    if (put_time(&tbs, p->not_before) != 0 || put_time(&tbs, p->not_after) != 0) {
        der_free(&tbs);
        tlog(TLOG_ERROR, TOOL_TARGET, "The validity period is outside the years 1950-9999.");
        return tool_fail(TOOL_INCORRECT_DATA);
    }
    der_end(&tbs);
    put_name(&tbs, s);
    der_put_raw(&tbs, k->spki, k->spki_len);
    put_extensions(&tbs, s, p, key_id);
    der_end(&tbs);
    if (built(&tbs) == 0)
        rc = sign_and_wrap(t, k, &tbs, der, len);
    der_free(&tbs);
    return rc;
}
