/* The key id <-> Parsec name mapping of libparsec-psa (parsec/psa.h), volatile key cleanup and
 * keys created by another client. Linked with libparsec-psa only. Exit 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsec/psa.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int has_key(struct parsec_client *c, const char *name)
{
    struct parsec_key_info *k = NULL;
    size_t n = 0, found = 0;
    if (parsec_list_keys(c, &k, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        found += strcmp(k[i].name, name) == 0;
    parsec_key_info_free(k, n);
    return (int)found;
}

int main(void)
{
    psa_key_id_t id = 0;
    char name[PARSEC_PSA_NAME_MAX + 64];

    /* Pure mapping: no request needed. */
    CHECK(parsec_psa_key_id("psa-key-42", &id) == PSA_SUCCESS && id == 42);
    CHECK(parsec_psa_key_id("psa-key-1073741823", &id) == PSA_SUCCESS && id == 0x3FFFFFFF);
    CHECK(parsec_psa_key_id("psa-volatile-1610612737", &id) == PSA_SUCCESS && id == 0x60000001);
    CHECK(parsec_psa_key_id("psa-key-042", &id) == PSA_SUCCESS && id >= PARSEC_PSA_NAMED_ID_MIN &&
          id <= PARSEC_PSA_NAMED_ID_MAX);
    CHECK(parsec_psa_key_id("psa-key-1073741824", &id) == PSA_SUCCESS &&
          id >= PARSEC_PSA_NAMED_ID_MIN && id <= PARSEC_PSA_NAMED_ID_MAX);
    psa_key_id_t a = 0, b = 0;
    CHECK(parsec_psa_key_id("tool-key", &a) == PSA_SUCCESS);
    CHECK(parsec_psa_key_id("tool-key", &b) == PSA_SUCCESS && a == b);
    CHECK(parsec_psa_key_id("", &id) == PSA_ERROR_INVALID_ARGUMENT);
    CHECK(parsec_psa_key_name(42, name, sizeof(name)) == PSA_SUCCESS &&
          strcmp(name, "psa-key-42") == 0);
    CHECK(parsec_psa_key_name(0x60000001, name, sizeof(name)) == PSA_SUCCESS &&
          strcmp(name, "psa-volatile-1610612737") == 0);
    CHECK(parsec_psa_key_name(0, name, sizeof(name)) == PSA_ERROR_INVALID_HANDLE);
    CHECK(parsec_psa_key_name(0x80000000u, name, sizeof(name)) == PSA_ERROR_INVALID_HANDLE);
    CHECK(parsec_psa_key_name(42, name, 4) == PSA_ERROR_BUFFER_TOO_SMALL);
    /* The named range needs the service. */
    CHECK(parsec_psa_key_name(a, name, sizeof(name)) == PSA_ERROR_BAD_STATE);

    CHECK(parsec_psa_init(NULL) == PSA_SUCCESS);
    struct parsec_client *c = parsec_psa_client();
    CHECK(c != NULL);
    if (!c)
        return 1;

    /* A key created by another client under an arbitrary name is reachable by its id. */
    CHECK(parsec_ecc_key_create(c, "tool-key") == 0);
    CHECK(parsec_psa_key_name(a, name, sizeof(name)) == PSA_SUCCESS &&
          strcmp(name, "tool-key") == 0);
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    CHECK(psa_get_key_attributes(a, &attr) == PSA_SUCCESS);
    CHECK(psa_get_key_bits(&attr) == 256);
    CHECK(psa_get_key_lifetime(&attr) == PSA_KEY_LIFETIME_PERSISTENT);
    uint8_t hash[32] = {1, 2, 3}, sig[64];
    size_t sig_len = 0;
    CHECK(psa_sign_hash(a, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, sizeof(sig), &sig_len) ==
          PSA_SUCCESS);
    CHECK(parsec_verify_hash(c, "tool-key", PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig,
                             sig_len) == 0);
    CHECK(psa_destroy_key(a) == PSA_SUCCESS);
    CHECK(has_key(c, "tool-key") == 0);
    CHECK(psa_get_key_attributes(a, &attr) == PSA_ERROR_INVALID_HANDLE);

    /* A persistent key made through PSA is an ordinary Parsec key. */
    psa_reset_key_attributes(&attr);
    psa_set_key_id(&attr, 7);
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK(psa_generate_key(&attr, &id) == PSA_SUCCESS && id == 7);
    CHECK(has_key(c, "psa-key-7") == 1);

    /* Volatile keys: named psa-volatile-<id>, destroyed by mbedtls_psa_crypto_free. */
    psa_key_attributes_t v = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t vid = 0;
    psa_set_key_type(&v, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&v, 128);
    psa_set_key_usage_flags(&v, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&v, PSA_ALG_GCM);
    CHECK(psa_generate_key(&v, &vid) == PSA_SUCCESS);
    CHECK(vid >= PARSEC_PSA_VOLATILE_ID_MIN && vid <= PARSEC_PSA_VOLATILE_ID_MAX);
    char vname[PARSEC_PSA_NAME_MAX];
    snprintf(vname, sizeof(vname), "psa-volatile-%u", (unsigned)vid);
    CHECK(has_key(c, vname) == 1);
    /* Unsupported lifetimes and options. */
    psa_set_key_lifetime(
        &v, PSA_KEY_LIFETIME_FROM_PERSISTENCE_AND_LOCATION(PSA_KEY_PERSISTENCE_VOLATILE, 1));
    CHECK(psa_generate_key(&v, &id) == PSA_ERROR_NOT_SUPPORTED);
    mbedtls_svc_key_id_t copy = 0;
    CHECK(psa_copy_key(7, &attr, &copy) == PSA_ERROR_NOT_SUPPORTED);
    /* Status mapping. */
    CHECK(parsec_psa_status(0) == PSA_SUCCESS);
    CHECK(parsec_psa_status(PARSEC_ERROR_PSA_DOES_NOT_EXIST) == PSA_ERROR_DOES_NOT_EXIST);
    CHECK(parsec_psa_status(PARSEC_ERROR_PSA_INSUFFICIENT_DATA) == PSA_ERROR_INSUFFICIENT_DATA);
    CHECK(parsec_psa_status(PARSEC_ERROR_PSA_DATA_INVALID) == PSA_ERROR_DATA_INVALID);
    CHECK(parsec_psa_status(PARSEC_ERROR_BUFFER_TOO_SMALL) == PSA_ERROR_BUFFER_TOO_SMALL);
    CHECK(parsec_psa_status(PARSEC_ERROR_IO) == PSA_ERROR_COMMUNICATION_FAILURE);
    CHECK(parsec_psa_status(PARSEC_ERROR_TIMEOUT) == PSA_ERROR_COMMUNICATION_FAILURE);
    CHECK(parsec_psa_status(PARSEC_ERROR_NOT_AUTHENTICATED) == PSA_ERROR_NOT_PERMITTED);
    CHECK(parsec_psa_status(PARSEC_ERROR_SPIFFE_SOCKET) == PSA_ERROR_NOT_PERMITTED);
    CHECK(parsec_psa_status(PARSEC_ERROR_SPIFFE) == PSA_ERROR_COMMUNICATION_FAILURE);
    CHECK(parsec_psa_status(PARSEC_ERROR_DEPRECATED_PRIMITIVE) == PSA_ERROR_NOT_SUPPORTED);
    CHECK(parsec_psa_status(PARSEC_ERROR_KEY_INFO_MANAGER_ERROR) == PSA_ERROR_GENERIC_ERROR);

    mbedtls_psa_crypto_free();
    CHECK(parsec_psa_client() == NULL);
    uint8_t r[4];
    CHECK(psa_generate_random(r, sizeof(r)) == PSA_ERROR_BAD_STATE);

    /* A fresh client sees the persistent key but not the volatile one. */
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    c = parsec_psa_client();
    CHECK(has_key(c, vname) == 0);
    CHECK(has_key(c, "psa-key-7") == 1);
    CHECK(psa_destroy_key(7) == PSA_SUCCESS);
    CHECK(psa_destroy_key(0) == PSA_SUCCESS);

    /* A volatile key left at exit is destroyed by the atexit handler: the runner checks that
     * no psa-volatile key survives this process. */
    CHECK(psa_generate_key(&(psa_key_attributes_t){0}, &vid) != PSA_SUCCESS);
    psa_set_key_lifetime(&v, PSA_KEY_LIFETIME_VOLATILE);
    CHECK(psa_generate_key(&v, &vid) == PSA_SUCCESS);

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("psa mapping: all checks passed\n");
    return failures ? 1 : 0;
}
