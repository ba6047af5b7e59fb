/* libparsec error codes.
 *
 * Every libparsec function that can fail returns an int: PARSEC_SUCCESS (0) or one value of
 * enum parsec_error. The values come in three ranges:
 *
 *   1 .. 1999          a status the service returned (the Rust client's `Service(status)`).
 *                      Same numbers as on the wire: 1-22 are Parsec statuses, 1000 + |x| are
 *                      PSA Crypto errors (PSA_ERROR_DOES_NOT_EXIST = -140 -> 1140).
 *   0x10000 | s        a problem the client itself found and that the original Rust client
 *                      reports as `Client(Interface(s))`, s being a wire status: an I/O error
 *                      or end of stream (s = 15, ConnectionError), a malformed reply header
 *                      (17), a reply body that does not decode (7), ... Texts are those of s.
 *   0x11000 ..         other client-side errors (socket URL, connection, bootstrap, buffer too
 *                      small, invalid argument, ...).
 *
 * parsec_strerror() gives the text of any value; parsec_error_name() the name the original
 * project uses for it, for programs that print both. */
#ifndef PARSEC_ERRORS_H
#define PARSEC_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PARSEC_API __attribute__((visibility("default")))
#else
#define PARSEC_API
#endif

/* Base of the client-side "interface" range: PARSEC_ERROR_CLIENT_BASE | wire status. */
#define PARSEC_ERROR_CLIENT_BASE 0x10000
/* Base of the other client-side errors. */
#define PARSEC_ERROR_LOCAL_BASE 0x11000

enum parsec_error {
    PARSEC_SUCCESS = 0,

    /* ---- statuses returned by the service (wire-protocol.md §10) ---- */
    PARSEC_ERROR_WRONG_PROVIDER_ID = 1,
    PARSEC_ERROR_CONTENT_TYPE_NOT_SUPPORTED = 2,
    PARSEC_ERROR_ACCEPT_TYPE_NOT_SUPPORTED = 3,
    PARSEC_ERROR_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED = 4,
    PARSEC_ERROR_PROVIDER_NOT_REGISTERED = 5,
    PARSEC_ERROR_PROVIDER_DOES_NOT_EXIST = 6,
    PARSEC_ERROR_DESERIALIZING_BODY_FAILED = 7,
    PARSEC_ERROR_SERIALIZING_BODY_FAILED = 8,
    PARSEC_ERROR_OPCODE_DOES_NOT_EXIST = 9,
    PARSEC_ERROR_RESPONSE_TOO_LARGE = 10,
    PARSEC_ERROR_AUTHENTICATION_ERROR = 11,
    PARSEC_ERROR_AUTHENTICATOR_DOES_NOT_EXIST = 12,
    PARSEC_ERROR_AUTHENTICATOR_NOT_REGISTERED = 13,
    PARSEC_ERROR_KEY_INFO_MANAGER_ERROR = 14,
    PARSEC_ERROR_CONNECTION_ERROR = 15,
    PARSEC_ERROR_INVALID_ENCODING = 16,
    PARSEC_ERROR_INVALID_HEADER = 17,
    PARSEC_ERROR_WRONG_PROVIDER_UUID = 18,
    PARSEC_ERROR_NOT_AUTHENTICATED = 19,
    PARSEC_ERROR_BODY_SIZE_EXCEEDS_LIMIT = 20,
    PARSEC_ERROR_ADMIN_OPERATION = 21,
    PARSEC_ERROR_DEPRECATED_PRIMITIVE = 22,
    PARSEC_ERROR_PSA_GENERIC_ERROR = 1132,
    PARSEC_ERROR_PSA_NOT_PERMITTED = 1133,
    PARSEC_ERROR_PSA_NOT_SUPPORTED = 1134,
    PARSEC_ERROR_PSA_INVALID_ARGUMENT = 1135,
    PARSEC_ERROR_PSA_INVALID_HANDLE = 1136,
    PARSEC_ERROR_PSA_BAD_STATE = 1137,
    PARSEC_ERROR_PSA_BUFFER_TOO_SMALL = 1138,
    PARSEC_ERROR_PSA_ALREADY_EXISTS = 1139,
    PARSEC_ERROR_PSA_DOES_NOT_EXIST = 1140,
    PARSEC_ERROR_PSA_INSUFFICIENT_MEMORY = 1141,
    PARSEC_ERROR_PSA_INSUFFICIENT_STORAGE = 1142,
    PARSEC_ERROR_PSA_INSUFFICIENT_DATA = 1143,
    PARSEC_ERROR_PSA_COMMUNICATION_FAILURE = 1145,
    PARSEC_ERROR_PSA_STORAGE_FAILURE = 1146,
    PARSEC_ERROR_PSA_HARDWARE_FAILURE = 1147,
    PARSEC_ERROR_PSA_INSUFFICIENT_ENTROPY = 1148,
    PARSEC_ERROR_PSA_INVALID_SIGNATURE = 1149,
    PARSEC_ERROR_PSA_INVALID_PADDING = 1150,
    PARSEC_ERROR_PSA_CORRUPTION_DETECTED = 1151,
    PARSEC_ERROR_PSA_DATA_CORRUPT = 1152,
    PARSEC_ERROR_PSA_DATA_INVALID = 1153,

    /* ---- client-side, reported by the original as Client(Interface(status)) ---- */
    /* Reading or writing the socket failed, or the service closed it before a whole reply. */
    PARSEC_ERROR_IO = PARSEC_ERROR_CLIENT_BASE | 15,
    /* Reply header: bad magic, header size other than 30, non-zero reserved bytes. */
    PARSEC_ERROR_RESPONSE_HEADER = PARSEC_ERROR_CLIENT_BASE | 17,
    /* Reply header: wire protocol version other than 1.0. */
    PARSEC_ERROR_RESPONSE_VERSION = PARSEC_ERROR_CLIENT_BASE | 4,
    /* Reply body longer than the client's maximum (parsec_client_set_max_body_size). */
    PARSEC_ERROR_RESPONSE_TOO_LONG = PARSEC_ERROR_CLIENT_BASE | 20,
    /* A value with no meaning: unknown status, opcode or enum in a reply, or a request value
     * (key attributes, algorithm) that has no Parsec wire form. */
    PARSEC_ERROR_ENCODING = PARSEC_ERROR_CLIENT_BASE | 16,
    /* The reply body is not a valid protobuf message of the expected type. */
    PARSEC_ERROR_RESPONSE_BODY = PARSEC_ERROR_CLIENT_BASE | 7,
    /* A reply names a provider id the protocol does not define (above 5). */
    PARSEC_ERROR_RESPONSE_PROVIDER = PARSEC_ERROR_CLIENT_BASE | 6,
    /* A ListProviders reply carries a UUID that is not 16 bytes in canonical form. */
    PARSEC_ERROR_RESPONSE_UUID = PARSEC_ERROR_CLIENT_BASE | 18,

    /* ---- other client-side errors ---- */
    /* The read or write timeout expired (the original reports Interface(ConnectionError)). */
    PARSEC_ERROR_TIMEOUT = PARSEC_ERROR_LOCAL_BASE + 1,
    /* connect() to the service socket failed; errno holds the system error on return. The
     * original reports Ipc(os error). */
    PARSEC_ERROR_CONNECT = PARSEC_ERROR_LOCAL_BASE + 2,
    /* The endpoint is not a valid URI, has a scheme other than "unix", or is empty. */
    PARSEC_ERROR_INVALID_SOCKET_URL = PARSEC_ERROR_LOCAL_BASE + 3,
    /* The endpoint path does not exist, is not a socket, or is too long for a socket address. */
    PARSEC_ERROR_INVALID_SOCKET_ADDRESS = PARSEC_ERROR_LOCAL_BASE + 4,
    /* A successful reply carries another opcode than the request. */
    PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE = PARSEC_ERROR_LOCAL_BASE + 5,
    /* A cryptographic operation while the implicit provider is Core (nothing is sent). */
    PARSEC_ERROR_INVALID_PROVIDER = PARSEC_ERROR_LOCAL_BASE + 6,
    /* Bootstrap: the service lists no provider. TPM key attestation: it does not list the TPM
     * provider. */
    PARSEC_ERROR_NO_PROVIDER = PARSEC_ERROR_LOCAL_BASE + 7,
    /* Bootstrap: no authenticator the client supports. */
    PARSEC_ERROR_NO_AUTHENTICATOR = PARSEC_ERROR_LOCAL_BASE + 8,
    /* Bootstrap chose Direct authentication but no application name was given. */
    PARSEC_ERROR_MISSING_PARAM = PARSEC_ERROR_LOCAL_BASE + 9,
    /* parsec_key_attributes(): no key of that name in ListKeys. */
    PARSEC_ERROR_NOT_FOUND = PARSEC_ERROR_LOCAL_BASE + 10,
    /* An output buffer is too small; the needed length is stored in the *_len argument. */
    PARSEC_ERROR_BUFFER_TOO_SMALL = PARSEC_ERROR_LOCAL_BASE + 11,
    /* A NULL pointer where one is required, an input too long for the wire format, ... */
    PARSEC_ERROR_INVALID_ARGUMENT = PARSEC_ERROR_LOCAL_BASE + 12,
    /* Memory allocation failed. */
    PARSEC_ERROR_NO_MEMORY = PARSEC_ERROR_LOCAL_BASE + 13,
    /* A client-side feature this library does not implement (e.g. JWT-SVID authentication). */
    PARSEC_ERROR_NOT_SUPPORTED = PARSEC_ERROR_LOCAL_BASE + 14,
    /* JWT-SVID authentication: SPIFFE_ENDPOINT_SOCKET is unset or not a unix: socket path. */
    PARSEC_ERROR_SPIFFE_SOCKET = PARSEC_ERROR_LOCAL_BASE + 15,
    /* JWT-SVID authentication: the SPIFFE Workload API gave no JWT-SVID (down, slow, refused). */
    PARSEC_ERROR_SPIFFE = PARSEC_ERROR_LOCAL_BASE + 16,
};

/* Text of an error code. For service statuses and the PARSEC_ERROR_CLIENT_BASE range it is the
 * status text of the original (e.g. 1140 -> "asking for an item that doesn't exist",
 * PARSEC_ERROR_IO -> "generic input/output error"); for the other client errors the text the
 * original client displays where it has one (PARSEC_ERROR_INVALID_SOCKET_URL -> "the socket URL
 * is invalid"). Never NULL: an unknown value gives "unknown error". The string is static. */
PARSEC_API const char *parsec_strerror(int err);

/* Name of an error code as the original project spells it: "PsaErrorDoesNotExist",
 * "ConnectionError", "InvalidSocketUrl", ... (PARSEC_SUCCESS -> "Success"). NULL for an unknown
 * value. For the PARSEC_ERROR_CLIENT_BASE range it is the name of the wire status. */
PARSEC_API const char *parsec_error_name(int err);

/* Whether err was found by the client (1) or returned by the service / is success (0). */
PARSEC_API int parsec_error_is_client(int err);

/* The wire status the original client would have wrapped for this client-side error:
 * s for PARSEC_ERROR_CLIENT_BASE | s, 15 (ConnectionError) for PARSEC_ERROR_TIMEOUT, 0 for any
 * other value (service statuses included). */
PARSEC_API int parsec_error_wire_status(int err);

#ifdef __cplusplus
}
#endif

#endif
