/* Parsec response status codes (wire-protocol.md §10).
 *
 * These values are the one flat error namespace of the whole service: every internal function
 * that can fail returns one of them (0 on success), so a failure deep in a provider or a key
 * store reaches the client unchanged. Never invent a value that is not listed here: clients
 * reject unknown status codes. */
#ifndef PARSEC_WIRE_STATUS_H
#define PARSEC_WIRE_STATUS_H

enum psc_status {
    PSC_SUCCESS = 0,
    PSC_WRONG_PROVIDER_ID = 1,
    PSC_CONTENT_TYPE_NOT_SUPPORTED = 2,
    PSC_ACCEPT_TYPE_NOT_SUPPORTED = 3,
    PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED = 4,
    PSC_PROVIDER_NOT_REGISTERED = 5,
    PSC_PROVIDER_DOES_NOT_EXIST = 6,
    PSC_DESERIALIZING_BODY_FAILED = 7,
    PSC_SERIALIZING_BODY_FAILED = 8,
    PSC_OPCODE_DOES_NOT_EXIST = 9,
    PSC_RESPONSE_TOO_LARGE = 10,
    PSC_AUTHENTICATION_ERROR = 11,
    PSC_AUTHENTICATOR_DOES_NOT_EXIST = 12,
    PSC_AUTHENTICATOR_NOT_REGISTERED = 13,
    PSC_KEY_INFO_MANAGER_ERROR = 14,
    PSC_CONNECTION_ERROR = 15,
    PSC_INVALID_ENCODING = 16,
    PSC_INVALID_HEADER = 17,
    PSC_WRONG_PROVIDER_UUID = 18,
    PSC_NOT_AUTHENTICATED = 19,
    PSC_BODY_SIZE_EXCEEDS_LIMIT = 20,
    PSC_ADMIN_OPERATION = 21,
    PSC_DEPRECATED_PRIMITIVE = 22,
    PSC_PSA_GENERIC_ERROR = 1132,
    PSC_PSA_NOT_PERMITTED = 1133,
    PSC_PSA_NOT_SUPPORTED = 1134,
    PSC_PSA_INVALID_ARGUMENT = 1135,
    PSC_PSA_INVALID_HANDLE = 1136,
    PSC_PSA_BAD_STATE = 1137,
    PSC_PSA_BUFFER_TOO_SMALL = 1138,
    PSC_PSA_ALREADY_EXISTS = 1139,
    PSC_PSA_DOES_NOT_EXIST = 1140,
    PSC_PSA_INSUFFICIENT_MEMORY = 1141,
    PSC_PSA_INSUFFICIENT_STORAGE = 1142,
    PSC_PSA_INSUFFICIENT_DATA = 1143,
    PSC_PSA_COMMUNICATION_FAILURE = 1145,
    PSC_PSA_STORAGE_FAILURE = 1146,
    PSC_PSA_HARDWARE_FAILURE = 1147,
    PSC_PSA_INSUFFICIENT_ENTROPY = 1148,
    PSC_PSA_INVALID_SIGNATURE = 1149,
    PSC_PSA_INVALID_PADDING = 1150,
    PSC_PSA_CORRUPTION_DETECTED = 1151,
    PSC_PSA_DATA_CORRUPT = 1152,
    PSC_PSA_DATA_INVALID = 1153,
};

/* Name of a status as the Parsec project spells it (e.g. "PsaErrorDoesNotExist"), or NULL for a
 * value that is not a defined status. */
const char *psc_status_name(int status);

/* Whether a 16-bit value is a defined status code. */
int psc_status_is_valid(int status);

/* Maps a PSA Crypto API psa_status_t (negative, e.g. -140) to the Parsec status (1140).
 * Unknown PSA errors become PSC_PSA_GENERIC_ERROR. */
int psc_status_from_psa(int psa_status);

#endif
