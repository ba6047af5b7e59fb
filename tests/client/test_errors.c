/* Error codes: wire values, texts (parsec-tool-and-clients.md §5.6, §5.7), names, ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parsec/client.h"
#include "wire/status.h"

static void test_wire_values_match(void **state)
{
    (void)state;
    /* Every wire status has the same value and name in the public enum as in the service. */
    for (int s = 0; s < 2000; s++) {
        const char *wire = psc_status_name(s);
        const char *pub = parsec_error_name(s);
        if (!wire) {
            assert_null(pub);
            assert_string_equal(parsec_strerror(s), "unknown error");
            continue;
        }
        assert_non_null(pub);
        assert_string_equal(wire, pub);
    }
    assert_int_equal(PARSEC_ERROR_PSA_DOES_NOT_EXIST, PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(PARSEC_ERROR_DEPRECATED_PRIMITIVE, PSC_DEPRECATED_PRIMITIVE);
    assert_int_equal(PARSEC_ERROR_PSA_DATA_INVALID, 1153);
    assert_int_equal(PARSEC_SUCCESS, 0);
}

static void test_texts(void **state)
{
    (void)state;
    assert_string_equal(parsec_strerror(1),
                        "requested provider ID does not match that of the backend");
    assert_string_equal(parsec_strerror(12), "authenticator not supported");
    assert_string_equal(parsec_strerror(13), "authenticator not supported");
    assert_string_equal(parsec_strerror(15), "generic input/output error");
    assert_string_equal(parsec_strerror(20),
                        "request length specified in the header is above defined limit");
    assert_string_equal(parsec_strerror(22),
                        "the key template contains a deprecated type or algorithm");
    assert_string_equal(parsec_strerror(1140), "asking for an item that doesn't exist");
    assert_string_equal(parsec_strerror(1148), "there is not enough entropy to generate random "
                                               "data needed for the requested action");
    assert_string_equal(parsec_strerror(1153),
                        "data read from storage is not valid for the implementation");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_INVALID_SOCKET_URL),
                        "the socket URL is invalid");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_INVALID_SOCKET_ADDRESS),
                        "the socket address provided in the URL is not valid");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_INVALID_PROVIDER),
                        "operation not supported by selected provider");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_NO_PROVIDER),
                        "client is missing an implicit provider");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_NO_AUTHENTICATOR),
                        "service is not reporting any authenticators or none of the reported "
                        "ones are supported by the client");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_MISSING_PARAM),
                        "one of the `Option` parameters was required but was not provided");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_NOT_FOUND),
                        "one of the resources required in the operation was not found");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE),
                        "the opcode of the response does not match the opcode of the request");
    /* Client-side interface errors read as their wire status. */
    assert_string_equal(parsec_strerror(PARSEC_ERROR_IO), "generic input/output error");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_TIMEOUT), "generic input/output error");
    assert_string_equal(parsec_strerror(PARSEC_ERROR_RESPONSE_HEADER),
                        "constant fields in header are invalid");
    assert_string_equal(parsec_strerror(-5), "unknown error");
    assert_string_equal(parsec_strerror(0x7fffffff), "unknown error");
}

static void test_ranges(void **state)
{
    (void)state;
    assert_false(parsec_error_is_client(0));
    assert_false(parsec_error_is_client(1140));
    assert_true(parsec_error_is_client(PARSEC_ERROR_IO));
    assert_true(parsec_error_is_client(PARSEC_ERROR_BUFFER_TOO_SMALL));
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_IO), 15);
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_TIMEOUT), 15);
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_RESPONSE_VERSION), 4);
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_RESPONSE_TOO_LONG), 20);
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_ENCODING), 16);
    assert_int_equal(parsec_error_wire_status(1140), 0);
    assert_int_equal(parsec_error_wire_status(PARSEC_ERROR_NOT_FOUND), 0);
    assert_string_equal(parsec_error_name(PARSEC_ERROR_IO), "ConnectionError");
    assert_string_equal(parsec_error_name(PARSEC_ERROR_INVALID_SOCKET_URL), "InvalidSocketUrl");
    assert_string_equal(parsec_error_name(PARSEC_ERROR_CONNECT), "Ipc");
    assert_null(parsec_error_name(PARSEC_ERROR_CLIENT_BASE | 1144));
}

static void test_opcode_names(void **state)
{
    (void)state;
    assert_string_equal(parsec_opcode_name(PARSEC_OP_PSA_GENERATE_RANDOM), "PsaGenerateRandom");
    assert_string_equal(parsec_opcode_name(PARSEC_OP_PING), "Ping");
    assert_string_equal(parsec_opcode_name(PARSEC_OP_CAN_DO_CRYPTO), "CanDoCrypto");
    assert_null(parsec_opcode_name(0x16));
    assert_null(parsec_opcode_name(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_values_match),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_opcode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
