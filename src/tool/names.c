#include "tool/names.h"

#include <stdio.h>
#include <string.h>

#include "wire/opcode.h"
#include "wire/status.h"

const char *names_provider(unsigned id)
{
    static const char *const names[] = {
        "Core provider", "Mbed Crypto provider",     "PKCS #11 provider",
        "TPM provider",  "Trusted Service provider", "CryptoAuthentication Library provider",
    };
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

const char *names_auth(unsigned id)
{
    static const char *const names[] = {
        "No authentication",
        "Direct authentication",
        "JSON Web Tokens authentication",
        "Unix Peer Credentials authentication",
        "JWT SPIFFE Verifiable Identity Document authentication",
    };
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

const char *names_opcode(unsigned opcode)
{
    return psc_opcode_name(opcode);
}

const char *names_status(int status)
{
    return psc_status_name(status);
}

const char *names_status_text(int status)
{
    static const struct {
        int status;
        const char *text;
    } texts[] = {
        {PSC_SUCCESS, "successful operation"},
        {PSC_WRONG_PROVIDER_ID, "requested provider ID does not match that of the backend"},
        {PSC_CONTENT_TYPE_NOT_SUPPORTED, "requested content type is not supported by the backend"},
        {PSC_ACCEPT_TYPE_NOT_SUPPORTED, "requested accept type is not supported by the backend"},
        {PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED,
         "requested version is not supported by the backend"},
        {PSC_PROVIDER_NOT_REGISTERED, "no provider registered for the requested provider ID"},
        {PSC_PROVIDER_DOES_NOT_EXIST, "no provider defined for requested provider ID"},
        {PSC_DESERIALIZING_BODY_FAILED, "failed to deserialize the body of the message"},
        {PSC_SERIALIZING_BODY_FAILED, "failed to serialize the body of the message"},
        {PSC_OPCODE_DOES_NOT_EXIST, "requested operation is not defined"},
        {PSC_RESPONSE_TOO_LARGE, "response size exceeds allowed limits"},
        {PSC_AUTHENTICATION_ERROR, "authentication failed"},
        {PSC_AUTHENTICATOR_DOES_NOT_EXIST, "authenticator not supported"},
        {PSC_AUTHENTICATOR_NOT_REGISTERED, "authenticator not supported"},
        {PSC_KEY_INFO_MANAGER_ERROR, "internal error in the Key Info Manager"},
        {PSC_CONNECTION_ERROR, "generic input/output error"},
        {PSC_INVALID_ENCODING, "invalid value for this data type"},
        {PSC_INVALID_HEADER, "constant fields in header are invalid"},
        {PSC_WRONG_PROVIDER_UUID, "the UUID vector needs to only contain 16 bytes"},
        {PSC_NOT_AUTHENTICATED, "request did not provide a required authentication"},
        {PSC_BODY_SIZE_EXCEEDS_LIMIT, "request length specified in the header is above defined "
                                      "limit"},
        {PSC_ADMIN_OPERATION, "the operation requires admin privilege"},
        {PSC_DEPRECATED_PRIMITIVE, "the key template contains a deprecated type or algorithm"},
        {PSC_PSA_GENERIC_ERROR, "an error occurred that does not correspond to any defined "
                                "failure cause"},
        {PSC_PSA_NOT_PERMITTED, "the requested action is denied by a policy"},
        {PSC_PSA_NOT_SUPPORTED, "the requested operation or a parameter is not supported by "
                                "this implementation"},
        {PSC_PSA_INVALID_ARGUMENT, "the parameters passed to the function are invalid"},
        {PSC_PSA_INVALID_HANDLE, "the key handle is not valid"},
        {PSC_PSA_BAD_STATE, "the requested action cannot be performed in the current state"},
        {PSC_PSA_BUFFER_TOO_SMALL, "an output buffer is too small"},
        {PSC_PSA_ALREADY_EXISTS, "asking for an item that already exists"},
        {PSC_PSA_DOES_NOT_EXIST, "asking for an item that doesn't exist"},
        {PSC_PSA_INSUFFICIENT_MEMORY, "there is not enough runtime memory"},
        {PSC_PSA_INSUFFICIENT_STORAGE, "there is not enough persistent storage"},
        {PSC_PSA_INSUFFICIENT_DATA, "insufficient data when attempting to read from a resource"},
        {PSC_PSA_COMMUNICATION_FAILURE, "there was a communication failure inside the "
                                        "implementation"},
        {PSC_PSA_STORAGE_FAILURE, "there was a storage failure that may have led to data loss"},
        {PSC_PSA_HARDWARE_FAILURE, "a hardware failure was detected"},
        {PSC_PSA_INSUFFICIENT_ENTROPY, "there is not enough entropy to generate random data "
                                       "needed for the requested action"},
        {PSC_PSA_INVALID_SIGNATURE, "the signature, MAC or hash is incorrect"},
        {PSC_PSA_INVALID_PADDING, "the decrypted padding is incorrect"},
        {PSC_PSA_CORRUPTION_DETECTED, "a tampering attempt was detected"},
        {PSC_PSA_DATA_CORRUPT, "stored data has been corrupted"},
        {PSC_PSA_DATA_INVALID, "data read from storage is not valid for the implementation"},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (texts[i].status == status)
            return texts[i].text;
    return NULL;
}

const char *names_hash(psa_algorithm_t alg)
{
    switch (alg) {
    case PSA_ALG_MD2:
        return "Md2";
    case PSA_ALG_MD4:
        return "Md4";
    case PSA_ALG_MD5:
        return "Md5";
    case PSA_ALG_RIPEMD160:
        return "Ripemd160";
    case PSA_ALG_SHA_1:
        return "Sha1";
    case PSA_ALG_SHA_224:
        return "Sha224";
    case PSA_ALG_SHA_256:
        return "Sha256";
    case PSA_ALG_SHA_384:
        return "Sha384";
    case PSA_ALG_SHA_512:
        return "Sha512";
    case PSA_ALG_SHA_512_224:
        return "Sha512_224";
    case PSA_ALG_SHA_512_256:
        return "Sha512_256";
    case PSA_ALG_SHA3_224:
        return "Sha3_224";
    case PSA_ALG_SHA3_256:
        return "Sha3_256";
    case PSA_ALG_SHA3_384:
        return "Sha3_384";
    case PSA_ALG_SHA3_512:
        return "Sha3_512";
    default:
        return NULL;
    }
}

const char *names_ecc_family(psa_ecc_family_t family)
{
    switch (family) {
    case PSA_ECC_FAMILY_SECP_K1:
        return "SecpK1";
    case PSA_ECC_FAMILY_SECP_R1:
        return "SecpR1";
    case PSA_ECC_FAMILY_SECP_R2:
        return "SecpR2";
    case PSA_ECC_FAMILY_SECT_K1:
        return "SectK1";
    case PSA_ECC_FAMILY_SECT_R1:
        return "SectR1";
    case PSA_ECC_FAMILY_SECT_R2:
        return "SectR2";
    case PSA_ECC_FAMILY_BRAINPOOL_P_R1:
        return "BrainpoolPR1";
    case 0x33:
        return "Frp"; /* PSA_ECC_FAMILY_FRP, newer than Mbed TLS 2.28 */
    case PSA_ECC_FAMILY_MONTGOMERY:
        return "Montgomery";
    default:
        return NULL;
    }
}

const char *names_ecc_family_display(psa_ecc_family_t family)
{
    switch (family) {
    case PSA_ECC_FAMILY_SECP_K1:
        return "SEC Koblitz curves over prime fields";
    case PSA_ECC_FAMILY_SECP_R1:
        return "SEC random curves over prime fields";
    case PSA_ECC_FAMILY_SECP_R2:
        return "SEC additional random curves over prime fields";
    case PSA_ECC_FAMILY_SECT_K1:
        return "SEC Koblitz curves over binary fields";
    case PSA_ECC_FAMILY_SECT_R1:
        return "SEC random curves over binary fields";
    case PSA_ECC_FAMILY_SECT_R2:
        return "SEC additional random curves over binary fields";
    case PSA_ECC_FAMILY_BRAINPOOL_P_R1:
        return "Brainpool P random curves";
    case 0x33:
        return "FRP curve";
    case PSA_ECC_FAMILY_MONTGOMERY:
        return "Montgomery curve";
    default:
        return "unknown curve family";
    }
}

void names_key_type(psa_key_type_t type, char *buf, size_t cap)
{
    const char *simple = NULL;
    switch (type) {
    case PSA_KEY_TYPE_RSA_KEY_PAIR:
        simple = "RsaKeyPair";
        break;
    case PSA_KEY_TYPE_RSA_PUBLIC_KEY:
        simple = "RsaPublicKey";
        break;
    case PSA_KEY_TYPE_RAW_DATA:
        simple = "RawData";
        break;
    case PSA_KEY_TYPE_HMAC:
        simple = "Hmac";
        break;
    case PSA_KEY_TYPE_DERIVE:
        simple = "Derive";
        break;
    case PSA_KEY_TYPE_AES:
        simple = "Aes";
        break;
    case PSA_KEY_TYPE_DES:
        simple = "Des";
        break;
    case PSA_KEY_TYPE_CAMELLIA:
        simple = "Camellia";
        break;
    case PSA_KEY_TYPE_ARC4:
        simple = "Arc4";
        break;
    case PSA_KEY_TYPE_CHACHA20:
        simple = "Chacha20";
        break;
    default:
        break;
    }
    if (simple) {
        snprintf(buf, cap, "%s", simple);
    } else if (PSA_KEY_TYPE_IS_ECC(type)) {
        const char *fam = names_ecc_family(PSA_KEY_TYPE_ECC_GET_FAMILY(type));
        const char *kind = PSA_KEY_TYPE_IS_KEY_PAIR(type) ? "EccKeyPair" : "EccPublicKey";
        if (fam)
            snprintf(buf, cap, "%s { curve_family: %s }", kind, fam);
        else
            snprintf(buf, cap, "%s { curve_family: 0x%02x }", kind,
                     (unsigned)PSA_KEY_TYPE_ECC_GET_FAMILY(type));
    } else if (PSA_KEY_TYPE_IS_DH(type)) {
        const char *kind = PSA_KEY_TYPE_IS_KEY_PAIR(type) ? "DhKeyPair" : "DhPublicKey";
        if (PSA_KEY_TYPE_DH_GET_FAMILY(type) == PSA_DH_FAMILY_RFC7919)
            snprintf(buf, cap, "%s { group_family: Rfc7919 }", kind);
        else
            snprintf(buf, cap, "%s { group_family: 0x%02x }", kind,
                     (unsigned)PSA_KEY_TYPE_DH_GET_FAMILY(type));
    } else {
        snprintf(buf, cap, "Unknown(0x%04x)", (unsigned)type);
    }
}

/* "Sha256", or the raw value for a hash without a Parsec name. */
static const char *hash_or_raw(psa_algorithm_t h, char *tmp, size_t cap)
{
    const char *n = names_hash(h);
    if (n)
        return n;
    snprintf(tmp, cap, "0x%08x", (unsigned)h);
    return tmp;
}

/* "Specific(Sha256)" or "Any" as SignHash prints. */
static void sign_hash(psa_algorithm_t h, char *buf, size_t cap)
{
    char tmp[16];
    if (h == PSA_ALG_ANY_HASH)
        snprintf(buf, cap, "Any");
    else
        snprintf(buf, cap, "Specific(%s)", hash_or_raw(h, tmp, sizeof(tmp)));
}

static void mac_full(psa_algorithm_t full, char *buf, size_t cap)
{
    char tmp[16];
    if (PSA_ALG_IS_HMAC(full))
        snprintf(buf, cap, "Hmac { hash_alg: %s }",
                 hash_or_raw(PSA_ALG_HMAC_GET_HASH(full), tmp, sizeof(tmp)));
    else if (full == PSA_ALG_CBC_MAC)
        snprintf(buf, cap, "CbcMac");
    else if (full == PSA_ALG_CMAC)
        snprintf(buf, cap, "Cmac");
    else
        snprintf(buf, cap, "0x%08x", (unsigned)full);
}

static const char *cipher_name(psa_algorithm_t alg)
{
    switch (alg) {
    case PSA_ALG_STREAM_CIPHER:
        return "StreamCipher";
    case PSA_ALG_CTR:
        return "Ctr";
    case PSA_ALG_CFB:
        return "Cfb";
    case PSA_ALG_OFB:
        return "Ofb";
    case PSA_ALG_XTS:
        return "Xts";
    case PSA_ALG_ECB_NO_PADDING:
        return "EcbNoPadding";
    case PSA_ALG_CBC_NO_PADDING:
        return "CbcNoPadding";
    case PSA_ALG_CBC_PKCS7:
        return "CbcPkcs7";
    default:
        return NULL;
    }
}

static const char *aead_name(psa_algorithm_t base)
{
    switch (base) {
    case PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(PSA_ALG_CCM):
        return "Ccm";
    case PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(PSA_ALG_GCM):
        return "Gcm";
    case PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(PSA_ALG_CHACHA20_POLY1305):
        return "Chacha20Poly1305";
    default:
        return NULL;
    }
}

static void kdf_name(psa_algorithm_t kdf, char *buf, size_t cap)
{
    char tmp[16];
    psa_algorithm_t h = kdf & PSA_ALG_HASH_MASK;
    h = h ? (PSA_ALG_CATEGORY_HASH | h) : 0;
    if (PSA_ALG_IS_HKDF(kdf))
        snprintf(buf, cap, "Hkdf { hash_alg: %s }", hash_or_raw(h, tmp, sizeof(tmp)));
    else if (PSA_ALG_IS_TLS12_PRF(kdf))
        snprintf(buf, cap, "Tls12Prf { hash_alg: %s }", hash_or_raw(h, tmp, sizeof(tmp)));
    else if (PSA_ALG_IS_TLS12_PSK_TO_MS(kdf))
        snprintf(buf, cap, "Tls12PskToMs { hash_alg: %s }", hash_or_raw(h, tmp, sizeof(tmp)));
    else
        snprintf(buf, cap, "0x%08x", (unsigned)kdf);
}

/* Fills buf with the inner Debug value and returns the category name, or NULL for None or an
 * algorithm the Parsec interface cannot express (buf then holds its raw value). */
static const char *split(psa_algorithm_t alg, char *buf, size_t cap)
{
    char a[NAMES_MAX], b[NAMES_MAX];
    const char *n;
    if (alg == PSA_ALG_NONE) {
        snprintf(buf, cap, "None");
        return NULL;
    }
    if (PSA_ALG_IS_HASH(alg) && (n = names_hash(alg)) != NULL) {
        snprintf(buf, cap, "%s", n);
        return "Hash";
    }
    if (PSA_ALG_IS_MAC(alg)) {
        psa_algorithm_t full = PSA_ALG_FULL_LENGTH_MAC(alg);
        mac_full(full, a, sizeof(a));
        if (full == alg)
            snprintf(buf, cap, "FullLength(%s)", a);
        else
            snprintf(buf, cap, "Truncated { mac_alg: %s, mac_length: %u }", a,
                     (unsigned)PSA_MAC_TRUNCATED_LENGTH(alg));
        return "Mac";
    }
    if (PSA_ALG_IS_CIPHER(alg) && (n = cipher_name(alg)) != NULL) {
        snprintf(buf, cap, "%s", n);
        return "Cipher";
    }
    if (PSA_ALG_IS_AEAD(alg)) {
        psa_algorithm_t base = PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(alg);
        n = aead_name(base);
        if (n && base == alg) {
            snprintf(buf, cap, "AeadWithDefaultLengthTag(%s)", n);
            return "Aead";
        }
        if (n) {
            snprintf(buf, cap, "AeadWithShortenedTag { aead_alg: %s, tag_length: %u }", n,
                     (unsigned)PSA_ALG_AEAD_GET_TAG_LENGTH(alg));
            return "Aead";
        }
    }
    if (PSA_ALG_IS_SIGN(alg)) {
        psa_algorithm_t h = alg & PSA_ALG_HASH_MASK;
        h = h ? (PSA_ALG_CATEGORY_HASH | h) : 0;
        sign_hash(h, a, sizeof(a));
        if (alg == PSA_ALG_RSA_PKCS1V15_SIGN_RAW)
            snprintf(buf, cap, "RsaPkcs1v15SignRaw");
        else if (PSA_ALG_IS_RSA_PKCS1V15_SIGN(alg))
            snprintf(buf, cap, "RsaPkcs1v15Sign { hash_alg: %s }", a);
        else if (PSA_ALG_IS_RSA_PSS(alg))
            snprintf(buf, cap, "RsaPss { hash_alg: %s }", a);
        else if (alg == PSA_ALG_ECDSA_ANY)
            snprintf(buf, cap, "EcdsaAny");
        else if (PSA_ALG_IS_DETERMINISTIC_ECDSA(alg))
            snprintf(buf, cap, "DeterministicEcdsa { hash_alg: %s }", a);
        else if (PSA_ALG_IS_ECDSA(alg))
            snprintf(buf, cap, "Ecdsa { hash_alg: %s }", a);
        else
            goto unknown;
        return "AsymmetricSignature";
    }
    if (PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg)) {
        if (alg == PSA_ALG_RSA_PKCS1V15_CRYPT) {
            snprintf(buf, cap, "RsaPkcs1v15Crypt");
        } else if (PSA_ALG_IS_RSA_OAEP(alg)) {
            char tmp[16];
            snprintf(buf, cap, "RsaOaep { hash_alg: %s }",
                     hash_or_raw(PSA_ALG_RSA_OAEP_GET_HASH(alg), tmp, sizeof(tmp)));
        } else {
            goto unknown;
        }
        return "AsymmetricEncryption";
    }
    if (PSA_ALG_IS_KEY_AGREEMENT(alg)) {
        psa_algorithm_t ka = PSA_ALG_KEY_AGREEMENT_GET_BASE(alg);
        psa_algorithm_t kdf = PSA_ALG_KEY_AGREEMENT_GET_KDF(alg);
        const char *kan = ka == PSA_ALG_ECDH ? "Ecdh" : ka == PSA_ALG_FFDH ? "Ffdh" : NULL;
        if (!kan)
            goto unknown;
        if (PSA_ALG_IS_RAW_KEY_AGREEMENT(alg)) {
            snprintf(buf, cap, "Raw(%s)", kan);
        } else {
            kdf_name(kdf, b, sizeof(b));
            snprintf(buf, cap, "WithKeyDerivation { ka_alg: %s, kdf_alg: %s }", kan, b);
        }
        return "KeyAgreement";
    }
    if (PSA_ALG_IS_KEY_DERIVATION(alg)) {
        kdf_name(alg, buf, cap);
        return "KeyDerivation";
    }
unknown:
    snprintf(buf, cap, "0x%08x", (unsigned)alg);
    return NULL;
}

void names_alg(psa_algorithm_t alg, char *buf, size_t cap)
{
    char inner[NAMES_MAX];
    const char *cat = split(alg, inner, sizeof(inner));
    if (cat)
        snprintf(buf, cap, "%s(%s)", cat, inner);
    else
        snprintf(buf, cap, "%s", inner);
}

void names_alg_inner(psa_algorithm_t alg, char *buf, size_t cap)
{
    (void)split(alg, buf, cap);
}
