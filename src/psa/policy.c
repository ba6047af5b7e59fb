#include "psa/policy.h"

#include "wire/opcode.h"
#include "wire/status.h"

/* The hash byte of a signature algorithm that names no hash (RSA PKCS#1 v1.5 raw, ECDSA-any). */
#define POLICY_NO_HASH 0u
/* The hash byte of the "any hash" policy wildcard. */
#define POLICY_ANY_HASH (PSA_ALG_ANY_HASH & PSA_ALG_HASH_MASK)

int policy_usage_of_opcode(uint32_t opcode)
{
    switch (opcode) {
    case PSC_OP_PSA_SIGN_HASH:
        return POLICY_SIGN_HASH;
    case PSC_OP_PSA_VERIFY_HASH:
        return POLICY_VERIFY_HASH;
    case PSC_OP_PSA_SIGN_MESSAGE:
        return POLICY_SIGN_MESSAGE;
    case PSC_OP_PSA_VERIFY_MESSAGE:
        return POLICY_VERIFY_MESSAGE;
    case PSC_OP_PSA_ASYMMETRIC_ENCRYPT:
    case PSC_OP_PSA_AEAD_ENCRYPT:
    case PSC_OP_PSA_CIPHER_ENCRYPT:
        return POLICY_ENCRYPT;
    case PSC_OP_PSA_ASYMMETRIC_DECRYPT:
    case PSC_OP_PSA_AEAD_DECRYPT:
    case PSC_OP_PSA_CIPHER_DECRYPT:
        return POLICY_DECRYPT;
    case PSC_OP_PSA_RAW_KEY_AGREEMENT:
        return POLICY_DERIVE;
    case PSC_OP_PSA_EXPORT_KEY:
        return POLICY_EXPORT;
    default:
        return -1;
    }
}

int policy_usage_allowed(psa_key_usage_t usage, enum policy_usage need)
{
    switch (need) {
    case POLICY_SIGN_HASH:
        return (usage & PSA_KEY_USAGE_SIGN_HASH) != 0;
    case POLICY_VERIFY_HASH:
        return (usage & PSA_KEY_USAGE_VERIFY_HASH) != 0;
    case POLICY_SIGN_MESSAGE:
        /* A key that may sign hashes may sign messages: the message is hashed first. */
        return (usage & (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_SIGN_MESSAGE)) != 0;
    case POLICY_VERIFY_MESSAGE:
        return (usage & (PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_VERIFY_MESSAGE)) != 0;
    case POLICY_ENCRYPT:
        return (usage & PSA_KEY_USAGE_ENCRYPT) != 0;
    case POLICY_DECRYPT:
        return (usage & PSA_KEY_USAGE_DECRYPT) != 0;
    case POLICY_DERIVE:
        return (usage & PSA_KEY_USAGE_DERIVE) != 0;
    case POLICY_EXPORT:
        return (usage & PSA_KEY_USAGE_EXPORT) != 0;
    }
    return 0;
}

/* The hash byte of a hash-and-sign scheme: POLICY_NO_HASH, a specific hash, or the wildcard. */
static psa_algorithm_t sign_hash_byte(psa_algorithm_t alg)
{
    return alg & PSA_ALG_HASH_MASK;
}

int policy_alg_permitted(psa_algorithm_t policy, psa_algorithm_t alg)
{
    if (policy == PSA_ALG_NONE)
        return 0;
    if (!PSA_ALG_IS_SIGN(policy))
        return alg == policy;
    if (!PSA_ALG_IS_SIGN(alg))
        return 0;
    /* "Any hash" is a policy wildcard; a request must name the hash it signs with. */
    if (PSA_ALG_IS_SIGN_HASH(alg) && sign_hash_byte(alg) == POLICY_ANY_HASH)
        return 0;
    if (PSA_ALG_IS_SIGN_HASH(policy) && sign_hash_byte(policy) == POLICY_ANY_HASH)
        return (alg & ~PSA_ALG_HASH_MASK) == (policy & ~PSA_ALG_HASH_MASK) &&
               sign_hash_byte(alg) != POLICY_NO_HASH;
    return alg == policy;
}

static int is_block_cipher_mode(psa_algorithm_t alg)
{
    switch (alg) {
    case PSA_ALG_CTR:
    case PSA_ALG_CFB:
    case PSA_ALG_OFB:
    case PSA_ALG_XTS:
    case PSA_ALG_ECB_NO_PADDING:
    case PSA_ALG_CBC_NO_PADDING:
    case PSA_ALG_CBC_PKCS7:
        return 1;
    default:
        return 0;
    }
}

/* The AEAD behind alg whatever its tag length, 0 if alg is not an AEAD. */
static psa_algorithm_t aead_base(psa_algorithm_t alg)
{
    if (!PSA_ALG_IS_AEAD(alg))
        return 0;
    return PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(alg);
}

static int is_key_agreement_on(psa_algorithm_t alg, psa_algorithm_t base)
{
    return PSA_ALG_IS_KEY_AGREEMENT(alg) && PSA_ALG_KEY_AGREEMENT_GET_BASE(alg) == base;
}

int policy_alg_compatible(psa_key_type_t type, psa_algorithm_t alg)
{
    if (PSA_KEY_TYPE_IS_RSA(type))
        return PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg) || PSA_ALG_IS_RSA_PSS(alg) ||
               PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg);
    if (PSA_KEY_TYPE_IS_ECC(type))
        return PSA_ALG_IS_ECDSA(alg) || is_key_agreement_on(alg, PSA_ALG_ECDH);
    if (PSA_KEY_TYPE_IS_DH(type))
        return is_key_agreement_on(alg, PSA_ALG_FFDH);
    switch (type) {
    case PSA_KEY_TYPE_HMAC:
        return PSA_ALG_IS_HMAC(alg);
    case PSA_KEY_TYPE_DERIVE:
        return PSA_ALG_IS_KEY_DERIVATION(alg);
    case PSA_KEY_TYPE_AES:
    case PSA_KEY_TYPE_CAMELLIA:
        return PSA_ALG_IS_BLOCK_CIPHER_MAC(alg) || is_block_cipher_mode(alg) ||
               aead_base(alg) == PSA_ALG_CCM || aead_base(alg) == PSA_ALG_GCM;
    case PSA_KEY_TYPE_DES:
        return PSA_ALG_IS_BLOCK_CIPHER_MAC(alg) || is_block_cipher_mode(alg);
    case PSA_KEY_TYPE_ARC4:
        return alg == PSA_ALG_STREAM_CIPHER;
    case PSA_KEY_TYPE_CHACHA20:
        return alg == PSA_ALG_STREAM_CIPHER || aead_base(alg) == PSA_ALG_CHACHA20_POLY1305;
    default:
        /* Raw data serves no algorithm. */
        return 0;
    }
}

int policy_check(const struct psc_attrs *key, enum policy_usage need, psa_algorithm_t alg)
{
    /* Nothing secret in a public key: the PSA Crypto API and Mbed TLS export it whatever its
     * flags say, and so does the original service. */
    if (need == POLICY_EXPORT)
        return policy_usage_allowed(key->usage, need) || PSA_KEY_TYPE_IS_PUBLIC_KEY(key->type)
                   ? 0
                   : PSC_PSA_NOT_PERMITTED;
    if (!policy_usage_allowed(key->usage, need))
        return PSC_PSA_NOT_PERMITTED;
    if (!policy_alg_permitted(key->alg, alg))
        return PSC_PSA_NOT_PERMITTED;
    if (!policy_alg_compatible(key->type, alg))
        return PSC_PSA_NOT_PERMITTED;
    return 0;
}

size_t policy_hash_length(psa_algorithm_t hash)
{
    switch (hash) {
    case PSA_ALG_MD2:
    case PSA_ALG_MD4:
    case PSA_ALG_MD5:
        return 16;
    case PSA_ALG_RIPEMD160:
    case PSA_ALG_SHA_1:
        return 20;
    case PSA_ALG_SHA_224:
    case PSA_ALG_SHA_512_224:
    case PSA_ALG_SHA3_224:
        return 28;
    case PSA_ALG_SHA_256:
    case PSA_ALG_SHA_512_256:
    case PSA_ALG_SHA3_256:
        return 32;
    case PSA_ALG_SHA_384:
    case PSA_ALG_SHA3_384:
        return 48;
    case PSA_ALG_SHA_512:
    case PSA_ALG_SHA3_512:
        return 64;
    default:
        return 0;
    }
}

int policy_check_hash_input(psa_algorithm_t alg, size_t hash_len)
{
    if (!PSA_ALG_IS_SIGN_HASH(alg) || sign_hash_byte(alg) == POLICY_NO_HASH)
        return 0;
    size_t want = policy_hash_length(sign_hash_byte(alg) | PSA_ALG_CATEGORY_HASH);
    /* The wildcard has no length: nothing matches it. */
    if (want == 0 || hash_len != want)
        return PSC_PSA_INVALID_ARGUMENT;
    return 0;
}

int policy_check_asym_input(psa_algorithm_t alg, size_t input_len, size_t salt_len)
{
    if (input_len == 0)
        return PSC_PSA_INVALID_ARGUMENT;
    if (alg == PSA_ALG_RSA_PKCS1V15_CRYPT && salt_len != 0)
        return PSC_PSA_INVALID_ARGUMENT;
    return 0;
}

int policy_check_aead_input(size_t input_len, size_t nonce_len)
{
    if (input_len == 0 || nonce_len == 0)
        return PSC_PSA_INVALID_ARGUMENT;
    return 0;
}
