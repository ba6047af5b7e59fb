/* A decoded request as providers see it: PSA-typed arguments, never protobuf.
 *
 * The generic decode step (service/codec.c) fills a struct psc_args from any crypto
 * operation's protobuf body: each protobuf field lands in the member of the same name, key
 * attributes and algorithm trees are converted to PSA values once. A provider handler reads the
 * members its operation has and writes its single byte-string result, if any, to a
 * struct psc_out. Byte members point into the decoded request and live as long as it does. */
#ifndef PARSEC_SERVICE_OP_H
#define PARSEC_SERVICE_OP_H

#include <stddef.h>
#include <stdint.h>

#include "psa/attrs.h"

struct psc_bytes {
    const uint8_t *p;
    size_t len;
};

struct psc_args {
    uint32_t opcode;
    const char *key_name; /* key_name, private_key_name, attested_key_name; "" if absent */
    const char *attesting_key_name; /* key attestation; "" if absent (the default key) */
    struct psc_attrs attrs;
    int has_attrs;
    psa_algorithm_t alg; /* the operation's alg field, as a PSA algorithm */
    struct psc_bytes data, hash, message, plaintext, ciphertext, input, peer_key, signature, salt,
        nonce, additional_data, credential_blob, secret;
    uint64_t size;       /* PsaGenerateRandom */
    uint32_t check_type; /* CanDoCrypto: 1 use, 2 generate, 3 import, 4 derive */
};

/* Bound on the byte strings of one result (PrepareKeyAttestation has three). */
#define PSC_OUT_PARTS_MAX 4

/* The byte-string result of an operation (signature, ciphertext, data, ...). The handler
 * allocates p with malloc; the service zeroes and frees it after encoding the reply. A result
 * of several byte strings (key attestation) is their concatenation in p, with n_parts > 0 and
 * the length of each in part[], in the order of the Result message's bytes fields. */
struct psc_out {
    uint8_t *p;
    size_t len;
    size_t part[PSC_OUT_PARTS_MAX];
    unsigned n_parts;
};

/* The application a request comes from. name is NULL when the request was not
 * authenticated (auth type 0). */
struct psc_app {
    const char *name;
    uint8_t auth; /* enum psc_auth_type, or PSC_AUTH_INTERNAL */
    int is_admin;
};

#endif
