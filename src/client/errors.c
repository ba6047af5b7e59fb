/* Error texts and names (parsec-tool-and-clients.md §5.6, §5.7). */
#include "parsec/errors.h"

#include <stddef.h>

struct err_text {
    int err;
    const char *name;
    const char *text;
};

/* Service statuses: the Display text of each ResponseStatus of the original. */
static const struct err_text statuses[] = {
    {0, "Success", "successful operation"},
    {1, "WrongProviderID", "requested provider ID does not match that of the backend"},
    {2, "ContentTypeNotSupported", "requested content type is not supported by the backend"},
    {3, "AcceptTypeNotSupported", "requested accept type is not supported by the backend"},
    {4, "WireProtocolVersionNotSupported", "requested version is not supported by the backend"},
    {5, "ProviderNotRegistered", "no provider registered for the requested provider ID"},
    {6, "ProviderDoesNotExist", "no provider defined for requested provider ID"},
    {7, "DeserializingBodyFailed", "failed to deserialize the body of the message"},
    {8, "SerializingBodyFailed", "failed to serialize the body of the message"},
    {9, "OpcodeDoesNotExist", "requested operation is not defined"},
    {10, "ResponseTooLarge", "response size exceeds allowed limits"},
    {11, "AuthenticationError", "authentication failed"},
    {12, "AuthenticatorDoesNotExist", "authenticator not supported"},
    {13, "AuthenticatorNotRegistered", "authenticator not supported"},
    {14, "KeyInfoManagerError", "internal error in the Key Info Manager"},
    {15, "ConnectionError", "generic input/output error"},
    {16, "InvalidEncoding", "invalid value for this data type"},
    {17, "InvalidHeader", "constant fields in header are invalid"},
    {18, "WrongProviderUuid", "the UUID vector needs to only contain 16 bytes"},
    {19, "NotAuthenticated", "request did not provide a required authentication"},
    {20, "BodySizeExceedsLimit", "request length specified in the header is above defined limit"},
    {21, "AdminOperation", "the operation requires admin privilege"},
    {22, "DeprecatedPrimitive", "the key template contains a deprecated type or algorithm"},
    {1132, "PsaErrorGenericError",
     "an error occurred that does not correspond to any defined failure cause"},
    {1133, "PsaErrorNotPermitted", "the requested action is denied by a policy"},
    {1134, "PsaErrorNotSupported",
     "the requested operation or a parameter is not supported by this implementation"},
    {1135, "PsaErrorInvalidArgument", "the parameters passed to the function are invalid"},
    {1136, "PsaErrorInvalidHandle", "the key handle is not valid"},
    {1137, "PsaErrorBadState", "the requested action cannot be performed in the current state"},
    {1138, "PsaErrorBufferTooSmall", "an output buffer is too small"},
    {1139, "PsaErrorAlreadyExists", "asking for an item that already exists"},
    {1140, "PsaErrorDoesNotExist", "asking for an item that doesn't exist"},
    {1141, "PsaErrorInsufficientMemory", "there is not enough runtime memory"},
    {1142, "PsaErrorInsufficientStorage", "there is not enough persistent storage"},
    {1143, "PsaErrorInsufficientData", "insufficient data when attempting to read from a resource"},
    {1145, "PsaErrorCommunicationFailure",
     "there was a communication failure inside the implementation"},
    {1146, "PsaErrorStorageFailure", "there was a storage failure that may have led to data loss"},
    {1147, "PsaErrorHardwareFailure", "a hardware failure was detected"},
    {1148, "PsaErrorInsufficientEntropy",
     "there is not enough entropy to generate random data needed for the requested action"},
    {1149, "PsaErrorInvalidSignature", "the signature, MAC or hash is incorrect"},
    {1150, "PsaErrorInvalidPadding", "the decrypted padding is incorrect"},
    {1151, "PsaErrorCorruptionDetected", "a tampering attempt was detected"},
    {1152, "PsaErrorDataCorrupt", "stored data has been corrupted"},
    {1153, "PsaErrorDataInvalid", "data read from storage is not valid for the implementation"},
};

/* Client errors outside the interface range. A timeout is displayed by the original as the
 * I/O error it converts it to. */
static const struct err_text locals[] = {
    {PARSEC_ERROR_TIMEOUT, "Timeout", "generic input/output error"},
    {PARSEC_ERROR_CONNECT, "Ipc", "cannot connect to the service socket"},
    {PARSEC_ERROR_INVALID_SOCKET_URL, "InvalidSocketUrl", "the socket URL is invalid"},
    {PARSEC_ERROR_INVALID_SOCKET_ADDRESS, "InvalidSocketAddress",
     "the socket address provided in the URL is not valid"},
    {PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE, "InvalidServiceResponseType",
     "the opcode of the response does not match the opcode of the request"},
    {PARSEC_ERROR_INVALID_PROVIDER, "InvalidProvider",
     "operation not supported by selected provider"},
    {PARSEC_ERROR_NO_PROVIDER, "NoProvider", "client is missing an implicit provider"},
    {PARSEC_ERROR_NO_AUTHENTICATOR, "NoAuthenticator",
     "service is not reporting any authenticators or none of the reported ones are supported "
     "by the client"},
    {PARSEC_ERROR_MISSING_PARAM, "MissingParam",
     "one of the `Option` parameters was required but was not provided"},
    {PARSEC_ERROR_NOT_FOUND, "NotFound",
     "one of the resources required in the operation was not found"},
    {PARSEC_ERROR_BUFFER_TOO_SMALL, "BufferTooSmall", "the output buffer is too small"},
    {PARSEC_ERROR_INVALID_ARGUMENT, "InvalidArgument", "invalid argument"},
    {PARSEC_ERROR_NO_MEMORY, "NoMemory", "out of memory"},
    {PARSEC_ERROR_NOT_SUPPORTED, "NotSupported", "not supported by this client library"},
    {PARSEC_ERROR_SPIFFE_SOCKET, "SpiffeSocket",
     "SPIFFE_ENDPOINT_SOCKET does not name the SPIFFE Workload API socket (unix:///path)"},
    {PARSEC_ERROR_SPIFFE, "Spiffe", "the SPIFFE Workload API gave no JWT-SVID"},
};

static const struct err_text *find(const struct err_text *t, size_t n, int err)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].err == err)
            return &t[i];
    return NULL;
}

static const struct err_text *lookup(int err)
{
    if (err >= 0 && err < PARSEC_ERROR_CLIENT_BASE)
        return find(statuses, sizeof(statuses) / sizeof(statuses[0]), err);
    if (err > PARSEC_ERROR_CLIENT_BASE && err < PARSEC_ERROR_LOCAL_BASE)
        return find(statuses, sizeof(statuses) / sizeof(statuses[0]),
                    err - PARSEC_ERROR_CLIENT_BASE);
    return find(locals, sizeof(locals) / sizeof(locals[0]), err);
}

const char *parsec_strerror(int err)
{
    const struct err_text *t = lookup(err);
    return t ? t->text : "unknown error";
}

const char *parsec_error_name(int err)
{
    const struct err_text *t = lookup(err);
    return t ? t->name : NULL;
}

int parsec_error_is_client(int err)
{
    return err >= PARSEC_ERROR_CLIENT_BASE;
}

int parsec_error_wire_status(int err)
{
    if (err == PARSEC_ERROR_TIMEOUT)
        return PARSEC_ERROR_CONNECTION_ERROR;
    if (err > PARSEC_ERROR_CLIENT_BASE && err < PARSEC_ERROR_LOCAL_BASE && lookup(err))
        return err - PARSEC_ERROR_CLIENT_BASE;
    return 0;
}
