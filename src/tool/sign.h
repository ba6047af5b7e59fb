/* Signing a message with a key of the service, the way the original tool does: the message is
 * hashed here with the hash the key's policy names, PsaSignHash signs the digest, and ECDSA
 * signatures (r || s from the service) are returned as DER Ecdsa-Sig-Value. */
#ifndef PARSEC_TOOL_SIGN_H
#define PARSEC_TOOL_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "tool/tool.h"

/* Largest signature the tool expects at first (a 16384-bit RSA key); a larger one reported by
 * the library is fetched again with the size it needs, up to SIGN_MAX. */
#define SIGN_FIRST_SIZE 2048
#define SIGN_MAX (64u * 1024u)
/* Largest digest of the hashes the tool computes (SHA-512). */
#define SIGN_HASH_MAX 64

/* Digest of msg with a SHA-2 hash (PSA_ALG_SHA_224/256/384/512); logs "Hashing data with ..."
 * first. Any other hash: logs the original's error and fails with NotSupported. */
int sign_hash_data(psa_algorithm_t hash, const uint8_t *msg, size_t n, uint8_t *out,
                   size_t *out_len);

/* Signs msg with the key `name` under its policy `policy` (from ListKeys). default_hash is the
 * hash used when the policy allows any hash (0: refuse, as `sign` does). *sig is malloc'd;
 * free it with free(). Returns 0 or -1 with the error recorded. */
int sign_with_policy(struct tool *t, const char *name, psa_algorithm_t policy,
                     psa_algorithm_t default_hash, const uint8_t *msg, size_t n, uint8_t **sig,
                     size_t *sig_len);

#endif
