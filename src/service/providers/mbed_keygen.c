/* Key pairs made outside the PSA lock (see mbed_keygen.h). */
#include "service/providers/mbed_keygen.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <psa/crypto.h>

#include "wire/status.h"

/* The RSA sizes made here; PSA generates the others, or refuses them. */
#define KEYGEN_RSA_BITS_MIN 1024
#define KEYGEN_RSA_BITS_MAX PSA_VENDOR_RSA_MAX_KEY_BITS
/* The public exponent PSA Crypto gives the RSA keys it generates. */
#define KEYGEN_RSA_EXPONENT 65537

static mbedtls_ecp_group_id ecc_group(const struct psc_attrs *k)
{
    if (!PSA_KEY_TYPE_IS_ECC_KEY_PAIR(k->type))
        return MBEDTLS_ECP_DP_NONE;
    return mbedtls_ecc_group_of_psa(PSA_KEY_TYPE_ECC_GET_FAMILY(k->type), k->bits, 0);
}

int mbed_keygen_handles(const struct psc_attrs *k)
{
    if (k->type == PSA_KEY_TYPE_RSA_KEY_PAIR)
        return k->bits >= KEYGEN_RSA_BITS_MIN && k->bits <= KEYGEN_RSA_BITS_MAX && k->bits % 8 == 0;
    return ecc_group(k) != MBEDTLS_ECP_DP_NONE;
}

/* RSAPrivateKey DER, as psa_export_key writes it. */
static int make_rsa(size_t bits, mbedtls_ctr_drbg_context *rng, uint8_t *buf, size_t cap,
                    size_t *len)
{
    mbedtls_pk_context pk;
    int rc = PSC_PSA_GENERIC_ERROR, r;
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0)
        goto out;
    r = mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), mbedtls_ctr_drbg_random, rng, (unsigned)bits,
                            KEYGEN_RSA_EXPONENT);
    if (r != 0) {
        rc = r == MBEDTLS_ERR_RSA_RNG_FAILED ? PSC_PSA_INSUFFICIENT_ENTROPY : PSC_PSA_GENERIC_ERROR;
        goto out;
    }
    /* Written at the end of buf: moved to its start. */
    r = mbedtls_pk_write_key_der(&pk, buf, cap);
    if (r <= 0)
        goto out;
    memmove(buf, buf + cap - (size_t)r, (size_t)r);
    mbedtls_platform_zeroize(buf + r, cap - (size_t)r);
    *len = (size_t)r;
    rc = 0;
out:
    mbedtls_pk_free(&pk); /* wipes the key's numbers */
    return rc;
}

/* The private value, as psa_export_key writes it (big-endian, or little-endian on Montgomery
 * curves, of the curve's byte size). */
static int make_ecc(mbedtls_ecp_group_id grp, size_t bits, mbedtls_ctr_drbg_context *rng,
                    uint8_t *buf, size_t cap, size_t *len)
{
    mbedtls_ecp_keypair kp;
    size_t n = PSA_BITS_TO_BYTES(bits);
    int rc = PSC_PSA_GENERIC_ERROR;
    mbedtls_ecp_keypair_init(&kp);
    if (n > cap || mbedtls_ecp_gen_key(grp, &kp, mbedtls_ctr_drbg_random, rng) != 0 ||
        mbedtls_ecp_write_key(&kp, buf, n) != 0)
        goto out;
    *len = n;
    rc = 0;
out:
    mbedtls_ecp_keypair_free(&kp);
    return rc;
}

int mbed_keygen(const struct psc_attrs *k, uint8_t **out, size_t *len)
{
    static const unsigned char pers[] = "parsec key generation";
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context rng;
    size_t cap = PSA_EXPORT_KEY_OUTPUT_SIZE(k->type, k->bits);
    uint8_t *buf = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    if (!mbed_keygen_handles(k))
        return PSC_PSA_NOT_SUPPORTED;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&rng);
    if (mbedtls_ctr_drbg_seed(&rng, mbedtls_entropy_func, &entropy, pers, sizeof(pers) - 1) != 0) {
        rc = PSC_PSA_INSUFFICIENT_ENTROPY;
        goto out;
    }
    if ((buf = calloc(1, cap)) == NULL) {
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    rc = k->type == PSA_KEY_TYPE_RSA_KEY_PAIR
             ? make_rsa(k->bits, &rng, buf, cap, len)
             : make_ecc(ecc_group(k), k->bits, &rng, buf, cap, len);
    if (rc == 0) {
        *out = buf;
        buf = NULL;
    }
out:
    mbed_keygen_free(buf, cap);
    mbedtls_ctr_drbg_free(&rng); /* both wipe their state */
    mbedtls_entropy_free(&entropy);
    return rc;
}

void mbed_keygen_free(uint8_t *p, size_t len)
{
    if (p) {
        mbedtls_platform_zeroize(p, len);
        free(p);
    }
}
