#include "tool/spki.h"

#include <string.h>

#include "tool/names.h"
#include "wire/status.h"
#include "tool/tlog.h"
#include "tool/tool.h"

#define OID_RSA_ENCRYPTION "1.2.840.113549.1.1.1"
#define OID_RSASSA_PSS "1.2.840.113549.1.1.10"
#define OID_MGF1 "1.2.840.113549.1.1.8"
#define OID_EC_PUBLIC_KEY "1.2.840.10045.2.1"

const char *spki_curve_oid(psa_ecc_family_t family, size_t bits)
{
    static const struct {
        psa_ecc_family_t family;
        size_t bits;
        const char *oid;
    } curves[] = {
        {PSA_ECC_FAMILY_SECP_R1, 192, "1.2.840.10045.3.1.1"},
        {PSA_ECC_FAMILY_SECP_R1, 224, "1.3.132.0.33"},
        {PSA_ECC_FAMILY_SECP_R1, 256, "1.2.840.10045.3.1.7"},
        {PSA_ECC_FAMILY_SECP_R1, 384, "1.3.132.0.34"},
        {PSA_ECC_FAMILY_SECP_R1, 521, "1.3.132.0.35"},
        {PSA_ECC_FAMILY_SECP_K1, 192, "1.3.132.0.31"},
        {PSA_ECC_FAMILY_SECP_K1, 224, "1.3.132.0.32"},
        {PSA_ECC_FAMILY_SECP_K1, 256, "1.3.132.0.10"},
        {PSA_ECC_FAMILY_SECT_K1, 233, "1.3.132.0.26"},
        {PSA_ECC_FAMILY_SECT_K1, 283, "1.3.132.0.16"},
        {PSA_ECC_FAMILY_SECT_K1, 409, "1.3.132.0.36"},
        {PSA_ECC_FAMILY_SECT_K1, 571, "1.3.132.0.38"},
        {PSA_ECC_FAMILY_SECT_R1, 233, "1.3.132.0.27"},
        {PSA_ECC_FAMILY_SECT_R1, 283, "1.3.132.0.17"},
        {PSA_ECC_FAMILY_SECT_R1, 409, "1.3.132.0.37"},
        {PSA_ECC_FAMILY_SECT_R1, 571, "1.3.132.0.39"},
    };
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (curves[i].family == family && curves[i].bits == bits)
            return curves[i].oid;
    return NULL;
}

const char *spki_hash_oid(psa_algorithm_t hash)
{
    switch (hash) {
    case PSA_ALG_SHA_224:
        return "2.16.840.1.101.3.4.2.4";
    case PSA_ALG_SHA_256:
        return "2.16.840.1.101.3.4.2.1";
    case PSA_ALG_SHA_384:
        return "2.16.840.1.101.3.4.2.2";
    case PSA_ALG_SHA_512:
        return "2.16.840.1.101.3.4.2.3";
    default:
        return NULL;
    }
}

int spki_rsa_public_key_valid(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n, *seq, *c;
    size_t len, clen;
    if (der_get(&p, end, DER_SEQUENCE, &seq, &len) != 0 || p != end)
        return 0;
    const uint8_t *q = seq, *qend = seq + len;
    for (int i = 0; i < 2; i++) {
        /* A modulus and an exponent: positive, minimally encoded integers. */
        if (der_get(&q, qend, DER_INTEGER, &c, &clen) != 0 || clen == 0 || (c[0] & 0x80) ||
            (clen > 1 && c[0] == 0 && !(c[1] & 0x80)))
            return 0;
    }
    return q == qend;
}

void spki_put_pss_params(struct der *d, psa_algorithm_t hash)
{
    const char *oid = spki_hash_oid(hash);
    if (!oid) {
        der_set_error(d, PSC_PSA_INVALID_ARGUMENT);
        return;
    }
    der_begin(d, DER_SEQUENCE);
    der_begin(d, DER_CONTEXT_CONS(0));
    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, oid);
    der_end(d);
    der_end(d);
    der_begin(d, DER_CONTEXT_CONS(1));
    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, OID_MGF1);
    der_begin(d, DER_SEQUENCE);
    der_put_oid(d, oid);
    der_put_null(d);
    der_end(d);
    der_end(d);
    der_end(d);
    der_begin(d, DER_CONTEXT_CONS(2));
    der_put_small_uint(d, PSA_HASH_LENGTH(hash));
    der_end(d);
    der_end(d);
}

int spki_put(struct der *d, const char *target, psa_key_type_t type, size_t bits,
             const uint8_t *pub, size_t n, psa_algorithm_t pss_hash)
{
    if (PSA_KEY_TYPE_IS_RSA(type)) {
        if (!spki_rsa_public_key_valid(pub, n)) {
            tlog(TLOG_ERROR, target, "Could not deserialise RSA key");
            return tool_fail(TOOL_INCORRECT_DATA);
        }
        der_begin(d, DER_SEQUENCE);
        der_begin(d, DER_SEQUENCE);
        if (pss_hash) {
            der_put_oid(d, OID_RSASSA_PSS);
            spki_put_pss_params(d, pss_hash);
        } else {
            der_put_oid(d, OID_RSA_ENCRYPTION);
            der_put_null(d);
        }
        der_end(d);
        der_put_bits(d, pub, n);
        der_end(d);
        return 0;
    }
    if (PSA_KEY_TYPE_IS_ECC(type)) {
        psa_ecc_family_t family = PSA_KEY_TYPE_ECC_GET_FAMILY(type);
        const char *oid = spki_curve_oid(family, bits);
        if (!oid) {
            int known = family == PSA_ECC_FAMILY_SECP_R1 || family == PSA_ECC_FAMILY_SECP_K1 ||
                        family == PSA_ECC_FAMILY_SECT_K1 || family == PSA_ECC_FAMILY_SECT_R1;
            if (known)
                tlog(TLOG_ERROR, target, "Unsupported number of bits %zu for Ecc family \"%s\"",
                     bits, names_ecc_family_display(family));
            else
                tlog(TLOG_ERROR, target, "Unsupported Ecc family \"%s\"",
                     names_ecc_family_display(family));
            return tool_fail(TOOL_NOT_SUPPORTED);
        }
        der_begin(d, DER_SEQUENCE);
        der_begin(d, DER_SEQUENCE);
        der_put_oid(d, OID_EC_PUBLIC_KEY);
        der_put_oid(d, oid);
        der_end(d);
        der_put_bits(d, pub, n);
        der_end(d);
        return 0;
    }
    tlog(TLOG_ERROR, target, "Unsupported type of key");
    return tool_fail(TOOL_NOT_SUPPORTED);
}
