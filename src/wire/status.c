#include "wire/status.h"

#include <stddef.h>

struct status_name {
    int status;
    const char *name;
};

static const struct status_name names[] = {
    {PSC_SUCCESS, "Success"},
    {PSC_WRONG_PROVIDER_ID, "WrongProviderID"},
    {PSC_CONTENT_TYPE_NOT_SUPPORTED, "ContentTypeNotSupported"},
    {PSC_ACCEPT_TYPE_NOT_SUPPORTED, "AcceptTypeNotSupported"},
    {PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED, "WireProtocolVersionNotSupported"},
    {PSC_PROVIDER_NOT_REGISTERED, "ProviderNotRegistered"},
    {PSC_PROVIDER_DOES_NOT_EXIST, "ProviderDoesNotExist"},
    {PSC_DESERIALIZING_BODY_FAILED, "DeserializingBodyFailed"},
    {PSC_SERIALIZING_BODY_FAILED, "SerializingBodyFailed"},
    {PSC_OPCODE_DOES_NOT_EXIST, "OpcodeDoesNotExist"},
    {PSC_RESPONSE_TOO_LARGE, "ResponseTooLarge"},
    {PSC_AUTHENTICATION_ERROR, "AuthenticationError"},
    {PSC_AUTHENTICATOR_DOES_NOT_EXIST, "AuthenticatorDoesNotExist"},
    {PSC_AUTHENTICATOR_NOT_REGISTERED, "AuthenticatorNotRegistered"},
    {PSC_KEY_INFO_MANAGER_ERROR, "KeyInfoManagerError"},
    {PSC_CONNECTION_ERROR, "ConnectionError"},
    {PSC_INVALID_ENCODING, "InvalidEncoding"},
    {PSC_INVALID_HEADER, "InvalidHeader"},
    {PSC_WRONG_PROVIDER_UUID, "WrongProviderUuid"},
    {PSC_NOT_AUTHENTICATED, "NotAuthenticated"},
    {PSC_BODY_SIZE_EXCEEDS_LIMIT, "BodySizeExceedsLimit"},
    {PSC_ADMIN_OPERATION, "AdminOperation"},
    {PSC_DEPRECATED_PRIMITIVE, "DeprecatedPrimitive"},
    {PSC_PSA_GENERIC_ERROR, "PsaErrorGenericError"},
    {PSC_PSA_NOT_PERMITTED, "PsaErrorNotPermitted"},
    {PSC_PSA_NOT_SUPPORTED, "PsaErrorNotSupported"},
    {PSC_PSA_INVALID_ARGUMENT, "PsaErrorInvalidArgument"},
    {PSC_PSA_INVALID_HANDLE, "PsaErrorInvalidHandle"},
    {PSC_PSA_BAD_STATE, "PsaErrorBadState"},
    {PSC_PSA_BUFFER_TOO_SMALL, "PsaErrorBufferTooSmall"},
    {PSC_PSA_ALREADY_EXISTS, "PsaErrorAlreadyExists"},
    {PSC_PSA_DOES_NOT_EXIST, "PsaErrorDoesNotExist"},
    {PSC_PSA_INSUFFICIENT_MEMORY, "PsaErrorInsufficientMemory"},
    {PSC_PSA_INSUFFICIENT_STORAGE, "PsaErrorInsufficientStorage"},
    {PSC_PSA_INSUFFICIENT_DATA, "PsaErrorInsufficientData"},
    {PSC_PSA_COMMUNICATION_FAILURE, "PsaErrorCommunicationFailure"},
    {PSC_PSA_STORAGE_FAILURE, "PsaErrorStorageFailure"},
    {PSC_PSA_HARDWARE_FAILURE, "PsaErrorHardwareFailure"},
    {PSC_PSA_INSUFFICIENT_ENTROPY, "PsaErrorInsufficientEntropy"},
    {PSC_PSA_INVALID_SIGNATURE, "PsaErrorInvalidSignature"},
    {PSC_PSA_INVALID_PADDING, "PsaErrorInvalidPadding"},
    {PSC_PSA_CORRUPTION_DETECTED, "PsaErrorCorruptionDetected"},
    {PSC_PSA_DATA_CORRUPT, "PsaErrorDataCorrupt"},
    {PSC_PSA_DATA_INVALID, "PsaErrorDataInvalid"},
};

const char *psc_status_name(int status)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].status == status)
            return names[i].name;
    return NULL;
}

int psc_status_is_valid(int status)
{
    return psc_status_name(status) != NULL;
}

int psc_status_from_psa(int psa_status)
{
    if (psa_status == 0)
        return PSC_SUCCESS;
    /* PSA errors are -132..-153; the wire carries 1000 + |error|. */
    if (psa_status < 0 && psa_status >= -153) {
        int s = 1000 - psa_status;
        if (psc_status_is_valid(s))
            return s;
    }
    return PSC_PSA_GENERIC_ERROR;
}
