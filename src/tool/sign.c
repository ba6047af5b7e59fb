#include "tool/sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tool/der.h"
#include "tool/names.h"
#include "tool/tlog.h"

int sign_hash_data(psa_algorithm_t hash, const uint8_t *msg, size_t n, uint8_t *out,
                   size_t *out_len)
{
    const EVP_MD *md;
    switch (hash) {
    case PSA_ALG_SHA_224:
        md = EVP_sha224();
        break;
    case PSA_ALG_SHA_256:
        md = EVP_sha256();
        break;
    case PSA_ALG_SHA_384:
        md = EVP_sha384();
        break;
    case PSA_ALG_SHA_512:
        md = EVP_sha512();
        break;
    default: {
        const char *name = names_hash(hash);
        if (name)
            tlog(TLOG_ERROR, UTIL_TARGET, "Hashing algorithm (%s) not supported", name);
        else
            tlog(TLOG_ERROR, UTIL_TARGET, "Hashing algorithm (0x%08x) not supported",
                 (unsigned)hash);
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    }
    tlog(TLOG_INFO, UTIL_TARGET, "Hashing data with %s...", names_hash(hash));
    unsigned int len = 0;
    if (EVP_Digest(msg, n, out, &len, md, NULL) != 1)
        return tool_fail_text("the digest could not be computed", "OpenSslError(EVP_Digest)");
    *out_len = len;
    return 0;
}

/* Sends PsaSignHash, growing the buffer once if the library reports a larger signature. */
static int sign_hash(struct tool *t, const char *name, psa_algorithm_t alg, const uint8_t *hash,
                     size_t hash_len, uint8_t **sig, size_t *sig_len)
{
    size_t cap = SIGN_FIRST_SIZE;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        size_t need = 0;
        if (!buf)
            return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
        int rc = parsec_sign_hash(t->client, name, alg, hash, hash_len, buf, cap, &need);
        if (rc == 0) {
            *sig = buf;
            *sig_len = need;
            return 0;
        }
        free(buf);
        if (rc != PARSEC_ERROR_BUFFER_TOO_SMALL || need > SIGN_MAX || need <= cap)
            return tool_fail_client(rc);
        cap = need;
    }
    return tool_fail_client(PARSEC_ERROR_BUFFER_TOO_SMALL);
}

int sign_with_policy(struct tool *t, const char *name, psa_algorithm_t policy,
                     psa_algorithm_t default_hash, const uint8_t *msg, size_t n, uint8_t **sig,
                     size_t *sig_len)
{
    char desc[NAMES_MAX];
    uint8_t digest[SIGN_HASH_MAX];
    size_t digest_len = 0;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = -1;
    *sig = NULL;
    *sig_len = 0;
    if (!PSA_ALG_IS_SIGN(policy)) {
        names_alg(policy, desc, sizeof(desc));
        tlog(TLOG_ERROR, UTIL_TARGET, "Key's algorithm is %s which can not be used for signing.",
             desc);
        return tool_fail(TOOL_WRONG_KEY_ALGORITHM);
    }
    psa_algorithm_t hash = PSA_ALG_IS_HASH_AND_SIGN(policy) ? PSA_ALG_SIGN_GET_HASH(policy) : 0;
    psa_algorithm_t alg = policy;
    if (hash == 0) {
        /* Raw RSA PKCS#1 v1.5 and ECDSA without a hash: nothing to hash with. */
        names_alg_inner(policy, desc, sizeof(desc));
        tlog(TLOG_ERROR, UTIL_TARGET, "Asymmetric signing algorithm (%s) is not supported", desc);
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    if (hash == PSA_ALG_ANY_HASH) {
        if (default_hash == 0) {
            tlog(TLOG_ERROR, UTIL_TARGET,
                 "Signing key allows any hashing algorithm, but no default was specified.");
            return tool_fail(TOOL_NOT_SUPPORTED);
        }
        /* The policy is a wildcard: the request names the hash actually used, which the
         * policy permits (the original sent the wildcard itself, which services refuse). */
        hash = default_hash;
        alg = (policy & ~(psa_algorithm_t)PSA_ALG_HASH_MASK) | (hash & PSA_ALG_HASH_MASK);
    }
    if (sign_hash_data(hash, msg, n, digest, &digest_len) != 0)
        return -1;
    names_alg_inner(alg, desc, sizeof(desc));
    tlog(TLOG_INFO, UTIL_TARGET, "Signing data with %s...", desc);
    if (sign_hash(t, name, alg, digest, digest_len, &raw, &raw_len) != 0)
        goto out;
    if (PSA_ALG_IS_ECDSA(alg)) {
        size_t cap = DER_ECDSA_SIG_MAX(raw_len), len = 0;
        uint8_t *der = malloc(cap);
        if (!der) {
            tool_fail_client(PARSEC_ERROR_NO_MEMORY);
            goto out;
        }
        if (der_ecdsa_sig_from_raw(raw, raw_len, der, cap, &len) != 0) {
            free(der);
            tlog(TLOG_ERROR, UTIL_TARGET, "The service returned a malformed ECDSA signature.");
            tool_fail(TOOL_INCORRECT_DATA);
            goto out;
        }
        *sig = der;
        *sig_len = len;
    } else {
        *sig = raw;
        *sig_len = raw_len;
        raw = NULL;
    }
    rc = 0;
out:
    free(raw);
    return rc;
}
