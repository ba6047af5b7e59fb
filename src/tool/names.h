/* The names the original tool prints: provider and authenticator display names, opcode and
 * status names, status texts, and the Rust Debug spellings of PSA key types and algorithms
 * ("EccKeyPair { curve_family: SecpR1 }", "AsymmetricSignature(Ecdsa { hash_alg:
 * Specific(Sha256) })") that appear in list-keys lines and in log messages. */
#ifndef PARSEC_TOOL_NAMES_H
#define PARSEC_TOOL_NAMES_H

#include <stddef.h>

#include <psa/crypto.h>

/* Room always enough for one formatted key type or algorithm. */
#define NAMES_MAX 160

/* "Mbed Crypto provider", ... NULL for an id above 5. */
const char *names_provider(unsigned id);
/* "Direct authentication", ... NULL for an unknown id. */
const char *names_auth(unsigned id);
/* "PsaGenerateRandom", ... NULL for an undefined opcode. */
const char *names_opcode(unsigned opcode);
/* "PsaErrorDoesNotExist" and "asking for an item that doesn't exist"; NULL if undefined. */
const char *names_status(int status);
const char *names_status_text(int status);

/* "Sha256", ... NULL if alg is not a hash the Parsec interface names. */
const char *names_hash(psa_algorithm_t alg);
/* "SecpR1", ... NULL for a family the Parsec interface does not name. */
const char *names_ecc_family(psa_ecc_family_t family);

/* The family's description as the original prints it in errors: "SEC random curves over prime
 * fields", ... */
const char *names_ecc_family_display(psa_ecc_family_t family);

void names_key_type(psa_key_type_t type, char *buf, size_t cap);
/* The whole algorithm: "AsymmetricEncryption(RsaOaep { hash_alg: Sha256 })". */
void names_alg(psa_algorithm_t alg, char *buf, size_t cap);
/* Only the value inside the category: "RsaOaep { hash_alg: Sha256 }". */
void names_alg_inner(psa_algorithm_t alg, char *buf, size_t cap);

#endif
