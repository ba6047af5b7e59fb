/* The one conversion between the protobuf key attributes / algorithm trees of the Parsec
 * interface (proto/psa_key_attributes.proto, proto/psa_algorithm.proto) and PSA Crypto API
 * values (psa/attrs.h).
 *
 * protobuf -> PSA follows operations.md §2: an absent mandatory sub-message, a oneof with no
 * member set, an enum at its *_NONE value or at an undefined value, or a length that PSA cannot
 * encode returns PSC_INVALID_ENCODING. PSA -> protobuf builds exactly the tree the original
 * service sends (key_type, key_policy, key_usage_flags and key_algorithm always present) and
 * returns PSC_INVALID_ENCODING for a PSA value that has no protobuf form (Twisted Edwards
 * curves, PSS-any-salt, "at least this length" wildcards, unknown usage bits, ...).
 *
 * Canonical forms, because PSA has one encoding where protobuf has two:
 *  - an AEAD with a shortened tag whose length equals the default tag length (16 for CCM, GCM
 *    and ChaCha20-Poly1305) is the default-length algorithm: AeadWithShortenedTag{GCM, 16}
 *    converts to PSA_ALG_GCM and back to AeadWithDefaultLengthTag GCM;
 *  - lengths are 6-bit fields in PSA: a truncated MAC length of 0 or above 63 and a shortened
 *    AEAD tag length above 63 have no PSA form and are rejected (the original service would
 *    carry such a value along and fail later in its back-end). A shortened AEAD tag of length
 *    0 is a PSA value distinct from the default-length AEAD: it converts both ways, so that a
 *    key may carry it as its policy (operations with it fail in the back-end).
 *
 * PSA -> protobuf results are trees of individually malloc'd messages: free them with
 * protobuf_c_message_free_unpacked(&m->base, NULL). On failure *out is NULL. */
#ifndef PARSEC_PSA_CONVERT_H
#define PARSEC_PSA_CONVERT_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "psa/attrs.h"
#include "psa_algorithm.pb-c.h"
#include "psa_key_attributes.pb-c.h"

/* Mbed TLS 2.28 implements PSA Crypto 1.0.0, which has no "cache" usage; PSA Crypto 1.0.1
 * added it with this bit. The Parsec interface carries it (UsageFlags.cache), so it is part of
 * struct psc_attrs.usage. Mbed TLS 2.28 rejects unknown usage bits at key creation: a back-end
 * built on it must clear this bit first. */
#ifndef PSA_KEY_USAGE_CACHE
#define PSA_KEY_USAGE_CACHE ((psa_key_usage_t)0x00000004)
#endif

/* Every usage bit that has a protobuf form. */
#define CONV_USAGE_ALL                                                                             \
    (PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_COPY | PSA_KEY_USAGE_CACHE | PSA_KEY_USAGE_ENCRYPT |     \
     PSA_KEY_USAGE_DECRYPT | PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE |           \
     PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_DERIVE)

/* Largest truncated MAC length / shortened AEAD tag length PSA can encode (6-bit field). */
#define CONV_ALG_LENGTH_MAX 63

/* ---- protobuf -> PSA ---------------------------------------------------------------------- */

/* Whole key attributes; the lifetime is not on the wire and is not part of struct psc_attrs. */
int conv_attrs_from_pb(const PsaKeyAttributes__KeyAttributes *pb, struct psc_attrs *out);
int conv_key_type_from_pb(const PsaKeyAttributes__KeyType *pb, psa_key_type_t *out);
int conv_usage_from_pb(const PsaKeyAttributes__UsageFlags *pb, psa_key_usage_t *out);

/* The Algorithm oneof; `none` is PSA_ALG_NONE. */
int conv_alg_from_pb(const PsaAlgorithm__Algorithm *pb, psa_algorithm_t *out);

/* The algorithm types operations use directly. */
int conv_hash_from_pb(PsaAlgorithm__Algorithm__Hash pb, psa_algorithm_t *out);
int conv_cipher_from_pb(PsaAlgorithm__Algorithm__Cipher pb, psa_algorithm_t *out);
int conv_raw_ka_from_pb(PsaAlgorithm__Algorithm__KeyAgreement__Raw pb, psa_algorithm_t *out);
int conv_mac_from_pb(const PsaAlgorithm__Algorithm__Mac *pb, psa_algorithm_t *out);
int conv_aead_from_pb(const PsaAlgorithm__Algorithm__Aead *pb, psa_algorithm_t *out);
/* SignHash.any becomes PSA_ALG_ANY_HASH inside the scheme (a policy wildcard). */
int conv_sign_from_pb(const PsaAlgorithm__Algorithm__AsymmetricSignature *pb, psa_algorithm_t *out);
int conv_asym_enc_from_pb(const PsaAlgorithm__Algorithm__AsymmetricEncryption *pb,
                          psa_algorithm_t *out);
/* Raw or PSA_ALG_KEY_AGREEMENT(ka, kdf). */
int conv_ka_from_pb(const PsaAlgorithm__Algorithm__KeyAgreement *pb, psa_algorithm_t *out);
int conv_kdf_from_pb(const PsaAlgorithm__Algorithm__KeyDerivation *pb, psa_algorithm_t *out);

/* Any of the algorithm messages above (Algorithm, Mac, Aead, AsymmetricSignature,
 * AsymmetricEncryption, KeyAgreement, KeyDerivation), chosen by m->descriptor; NULL is an
 * absent mandatory message. PSC_INVALID_ENCODING also for a message of another type. */
int conv_alg_msg_from_pb(const ProtobufCMessage *m, psa_algorithm_t *out);
/* Any of the algorithm enums (Hash, Cipher, KeyAgreement.Raw), chosen by its descriptor. */
int conv_alg_enum_from_pb(const ProtobufCEnumDescriptor *d, int value, psa_algorithm_t *out);

/* ---- PSA -> protobuf ---------------------------------------------------------------------- */

int conv_attrs_to_pb(const struct psc_attrs *a, PsaKeyAttributes__KeyAttributes **out);
int conv_key_type_to_pb(psa_key_type_t type, PsaKeyAttributes__KeyType **out);
/* Fills an initialised UsageFlags in place. */
int conv_usage_to_pb(psa_key_usage_t usage, PsaKeyAttributes__UsageFlags *out);

int conv_alg_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm **out);

int conv_hash_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Hash *out);
int conv_cipher_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Cipher *out);
int conv_raw_ka_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyAgreement__Raw *out);
int conv_mac_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Mac **out);
int conv_aead_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__Aead **out);
int conv_sign_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__AsymmetricSignature **out);
int conv_asym_enc_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__AsymmetricEncryption **out);
int conv_ka_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyAgreement **out);
int conv_kdf_to_pb(psa_algorithm_t alg, PsaAlgorithm__Algorithm__KeyDerivation **out);

/* ---- Deprecated primitives (operations.md §3.6) ------------------------------------------- */

/* Whether alg uses MD2, MD4, MD5 or SHA-1 anywhere (the hash itself, HMAC, signature scheme,
 * OAEP, key derivation, key agreement's KDF). No cipher or AEAD is deprecated. */
int conv_alg_deprecated(psa_algorithm_t alg);

/* Whether generating or importing a key with these attributes uses a deprecated primitive:
 * the algorithm (above), a DES or ARC4 key, or an ECC *public* key on SECP_R2, SECT_R2,
 * sect163k1, sect163r1 or brainpoolP160r1. As in the original service, ECC key pairs on the
 * same curves are not flagged. */
int conv_attrs_deprecated(const struct psc_attrs *a);

#endif
