/* A program written only against <psa/crypto.h>, linked with libparsec-psa, run against a
 * service whose provider has neither PsaSignMessage nor PsaHashCompute: psa_sign_message and
 * psa_verify_message must still work. For each case it writes NAME.pub (the exported public
 * key), NAME.msg and NAME.sig into the folder given as argument, for OpenSSL to check. Exit
 * status 0 when every check passes. */
#include <stdio.h>
#include <string.h>

#include <psa/crypto.h>

static int failures;

#define CHECK_STATUS(expr, want)                                                                   \
    do {                                                                                           \
        psa_status_t st_ = (expr);                                                                 \
        if (st_ != (want)) {                                                                       \
            fprintf(stderr, "%s:%d: %s = %d, expected %d\n", __FILE__, __LINE__, #expr, (int)st_,  \
                    (int)(want));                                                                  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void save(const char *dir, const char *name, const char *ext, const uint8_t *p, size_t n)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        failures++;
    }
    if (f)
        fclose(f);
}

static void sign_case(const char *dir, const char *name, psa_key_type_t type, size_t bits,
                      psa_algorithm_t alg)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    uint8_t msg[64], sig[PSA_SIGNATURE_MAX_SIZE], pub[PSA_EXPORT_PUBLIC_KEY_MAX_SIZE];
    size_t sig_len = 0, pub_len = 0;
    int n = snprintf((char *)msg, sizeof(msg), "message signed by %s", name);

    psa_set_key_type(&attr, type);
    psa_set_key_bits(&attr, bits);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, alg);
    CHECK_STATUS(psa_generate_key(&attr, &key), PSA_SUCCESS);
    CHECK_STATUS(psa_sign_message(key, alg, msg, (size_t)n, sig, sizeof(sig), &sig_len),
                 PSA_SUCCESS);
    CHECK_STATUS(psa_verify_message(key, alg, msg, (size_t)n, sig, sig_len), PSA_SUCCESS);
    CHECK_STATUS(psa_export_public_key(key, pub, sizeof(pub), &pub_len), PSA_SUCCESS);
    save(dir, name, "pub", pub, pub_len);
    save(dir, name, "msg", msg, (size_t)n);
    save(dir, name, "sig", sig, sig_len);
    msg[0] ^= 1;
    CHECK_STATUS(psa_verify_message(key, alg, msg, (size_t)n, sig, sig_len),
                 PSA_ERROR_INVALID_SIGNATURE);
    CHECK_STATUS(psa_destroy_key(key), PSA_SUCCESS);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
        return 2;
    }
    const psa_key_type_t ecc = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1);
    CHECK_STATUS(psa_crypto_init(), PSA_SUCCESS);
    sign_case(argv[1], "ecdsa-sha256", ecc, 256, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    sign_case(argv[1], "ecdsa-sha384", ecc, 256, PSA_ALG_ECDSA(PSA_ALG_SHA_384));
    sign_case(argv[1], "pkcs1-sha1", PSA_KEY_TYPE_RSA_KEY_PAIR, 1024,
              PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_1));
    sign_case(argv[1], "pkcs1-sha224", PSA_KEY_TYPE_RSA_KEY_PAIR, 1024,
              PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_224));
    sign_case(argv[1], "pkcs1-sha512", PSA_KEY_TYPE_RSA_KEY_PAIR, 1024,
              PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_512));
    mbedtls_psa_crypto_free();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
