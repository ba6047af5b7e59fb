/* Key policy checks every crypto provider applies before it touches its back-end, with the
 * semantics of the original service (operations.md §3.3, §6): the operation's usage flag, then
 * the key's permitted algorithm, then the algorithm's compatibility with the key type (each
 * PSC_PSA_NOT_PERMITTED), then the checks on the operation's inputs (PSC_PSA_INVALID_ARGUMENT).
 *
 * Pure functions over PSA values: no back-end, no allocation. */
#ifndef PARSEC_PSA_POLICY_H
#define PARSEC_PSA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "psa/attrs.h"

/* What an operation needs the key's usage flags to allow. */
enum policy_usage {
    POLICY_SIGN_HASH,      /* sign_hash */
    POLICY_VERIFY_HASH,    /* verify_hash */
    POLICY_SIGN_MESSAGE,   /* sign_message or sign_hash */
    POLICY_VERIFY_MESSAGE, /* verify_message or verify_hash */
    POLICY_ENCRYPT,        /* encrypt */
    POLICY_DECRYPT,        /* decrypt */
    POLICY_DERIVE,         /* derive */
    POLICY_EXPORT,         /* export */
};

/* The usage an opcode (wire/opcode.h) needs; -1 for an opcode that uses no key policy. */
int policy_usage_of_opcode(uint32_t opcode);

/* Whether the key's usage flags allow the usage. */
int policy_usage_allowed(psa_key_usage_t usage, enum policy_usage need);

/* Whether a key whose permitted algorithm is policy may be used with alg. PSA_ALG_NONE permits
 * nothing; a hash-and-sign policy with PSA_ALG_ANY_HASH permits the same scheme with any specific
 * hash; an operation that itself asks for PSA_ALG_ANY_HASH is never permitted. Every other
 * policy permits exactly itself. */
int policy_alg_permitted(psa_algorithm_t policy, psa_algorithm_t alg);

/* Whether alg can be used with a key of this type at all (psa-crypto's compatibility table:
 * e.g. RSA keys with RSA signatures and any asymmetric encryption, ECC keys with ECDSA and ECDH,
 * AES and Camellia with block-cipher modes, CCM, GCM and CBC-MAC/CMAC). */
int policy_alg_compatible(psa_key_type_t type, psa_algorithm_t alg);

/* The three checks in their order: usage flag, permitted algorithm, compatibility. Returns 0 or
 * PSC_PSA_NOT_PERMITTED. POLICY_EXPORT checks the flag only, and a public key (RSA, ECC or DH
 * public key type) passes without it. */
int policy_check(const struct psc_attrs *key, enum policy_usage need, psa_algorithm_t alg);

/* Length in bytes of a hash algorithm's digest (MD2 ... SHA3-512), 0 if alg is not a hash. */
size_t policy_hash_length(psa_algorithm_t hash);

/* SignHash/VerifyHash input rule: for a hash-and-sign scheme the hash must be exactly as long as
 * the scheme's specific hash; RSA PKCS#1 v1.5 raw and ECDSA-any take any length. Returns 0 or
 * PSC_PSA_INVALID_ARGUMENT. */
int policy_check_hash_input(psa_algorithm_t alg, size_t hash_len);

/* AsymmetricEncrypt/Decrypt input rule: the input is not empty and PKCS#1 v1.5 takes no salt (an
 * empty salt is no salt). Returns 0 or PSC_PSA_INVALID_ARGUMENT. */
int policy_check_asym_input(psa_algorithm_t alg, size_t input_len, size_t salt_len);

/* AeadEncrypt/Decrypt input rule: neither the input nor the nonce is empty. Returns 0 or
 * PSC_PSA_INVALID_ARGUMENT. */
int policy_check_aead_input(size_t input_len, size_t nonce_len);

#endif
