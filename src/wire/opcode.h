/* Parsec opcodes, provider ids and authentication types (wire-protocol.md §7-9). */
#ifndef PARSEC_WIRE_OPCODE_H
#define PARSEC_WIRE_OPCODE_H

#include <stdint.h>

enum psc_opcode {
    PSC_OP_PING = 0x01,
    PSC_OP_PSA_GENERATE_KEY = 0x02,
    PSC_OP_PSA_DESTROY_KEY = 0x03,
    PSC_OP_PSA_SIGN_HASH = 0x04,
    PSC_OP_PSA_VERIFY_HASH = 0x05,
    PSC_OP_PSA_IMPORT_KEY = 0x06,
    PSC_OP_PSA_EXPORT_PUBLIC_KEY = 0x07,
    PSC_OP_LIST_PROVIDERS = 0x08,
    PSC_OP_LIST_OPCODES = 0x09,
    PSC_OP_PSA_ASYMMETRIC_ENCRYPT = 0x0A,
    PSC_OP_PSA_ASYMMETRIC_DECRYPT = 0x0B,
    PSC_OP_PSA_EXPORT_KEY = 0x0C,
    PSC_OP_PSA_GENERATE_RANDOM = 0x0D,
    PSC_OP_LIST_AUTHENTICATORS = 0x0E,
    PSC_OP_PSA_HASH_COMPUTE = 0x0F,
    PSC_OP_PSA_HASH_COMPARE = 0x10,
    PSC_OP_PSA_AEAD_ENCRYPT = 0x11,
    PSC_OP_PSA_AEAD_DECRYPT = 0x12,
    PSC_OP_PSA_RAW_KEY_AGREEMENT = 0x13,
    PSC_OP_PSA_CIPHER_ENCRYPT = 0x14,
    PSC_OP_PSA_CIPHER_DECRYPT = 0x15,
    PSC_OP_PSA_SIGN_MESSAGE = 0x18,
    PSC_OP_PSA_VERIFY_MESSAGE = 0x19,
    PSC_OP_LIST_KEYS = 0x1A,
    PSC_OP_LIST_CLIENTS = 0x1B,
    PSC_OP_DELETE_CLIENT = 0x1C,
    PSC_OP_ATTEST_KEY = 0x1E,
    PSC_OP_PREPARE_KEY_ATTESTATION = 0x1F,
    PSC_OP_CAN_DO_CRYPTO = 0x20,
};

/* One past the highest defined opcode: opcode tables are indexed by opcode below this. */
#define PSC_OP_LIMIT 0x21

enum psc_provider_id {
    PSC_PROVIDER_CORE = 0,
    PSC_PROVIDER_MBED_CRYPTO = 1,
    PSC_PROVIDER_PKCS11 = 2,
    PSC_PROVIDER_TPM = 3,
    PSC_PROVIDER_TRUSTED_SERVICE = 4,
    PSC_PROVIDER_CRYPTOAUTHLIB = 5,
};
#define PSC_PROVIDER_ID_MAX 5

enum psc_auth_type {
    PSC_AUTH_NONE = 0,
    PSC_AUTH_DIRECT = 1,
    PSC_AUTH_JWT = 2,
    PSC_AUTH_UNIX_PEER_CREDENTIALS = 3,
    PSC_AUTH_JWT_SVID = 4,
};
#define PSC_AUTH_TYPE_MAX 4
/* Authenticator id stored in key mappings for the service's own keys. */
#define PSC_AUTH_INTERNAL 255

/* Whether an opcode is defined by the wire protocol (0x16, 0x17, 0x1D are not). */
int psc_opcode_is_valid(uint32_t opcode);
/* Whether an opcode belongs to the core provider (must be sent to provider 0). */
int psc_opcode_is_core(uint32_t opcode);
/* Whether an opcode needs an authenticated application (wire-protocol.md §6). */
int psc_opcode_needs_auth(uint32_t opcode);
/* Whether an opcode needs an admin application (ListClients, DeleteClient). */
int psc_opcode_is_admin(uint32_t opcode);
/* Operation name as the Parsec project spells it ("PsaSignHash"), NULL if undefined. */
const char *psc_opcode_name(uint32_t opcode);

#endif
