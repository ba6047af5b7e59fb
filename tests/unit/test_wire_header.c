/* The wire header codec against the byte vectors of wire-protocol.md §3.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

static const uint8_t ping_request[36] = {
    0x10, 0xa7, 0xc0, 0x5e, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t ping_response_header[36] = {
    0x10, 0xa7, 0xc0, 0x5e, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void decode_ping_request(void **state)
{
    (void)state;
    struct psc_header h;
    uint16_t rest;
    assert_int_equal(psc_header_check_preamble(ping_request, &rest), 0);
    assert_int_equal(rest, 30);
    assert_int_equal(psc_header_decode(ping_request + 6, 30, &h), 0);
    assert_int_equal(h.opcode, PSC_OP_PING);
    assert_int_equal(h.provider, 0);
    assert_int_equal(h.body_len, 0);
    assert_int_equal(h.auth_len, 0);
    assert_int_equal(h.auth_type, 0);
    uint8_t out[36];
    psc_header_encode(&h, out);
    assert_memory_equal(out, ping_request, 36);
}

static void encode_ping_response(void **state)
{
    (void)state;
    struct psc_header req, rsp;
    assert_int_equal(psc_header_decode_full(ping_request, &req), 0);
    psc_header_echo_reply(&req, &rsp, 0, 2);
    uint8_t out[36];
    psc_header_encode(&rsp, out);
    assert_memory_equal(out, ping_response_header, 36);
}

static void delete_client_admin_reply(void **state)
{
    (void)state;
    struct psc_header req = {.version_maj = 1, .opcode = PSC_OP_DELETE_CLIENT}, rsp;
    psc_header_echo_reply(&req, &rsp, PSC_ADMIN_OPERATION, 0);
    uint8_t out[36];
    psc_header_encode(&rsp, out);
    static const uint8_t opcode[4] = {0x1c, 0, 0, 0}, status[2] = {0x15, 0};
    assert_memory_equal(out + 28, opcode, 4);
    assert_memory_equal(out + 32, status, 2);
    assert_int_equal(out[22] | out[23] | out[24] | out[25], 0);
}

/* The crate's unit-test request: Direct auth, session 0x1122334455667788. */
static void all_fields_little_endian(void **state)
{
    (void)state;
    struct psc_header h = {
        .version_maj = 1, .flags = 0xA1B2, .provider = 1, .session = 0x1122334455667788ULL,
        .content_type = 0, .accept_type = 0, .auth_type = 1, .body_len = 3, .auth_len = 3,
        .opcode = PSC_OP_PSA_GENERATE_KEY, .status = 0xFFFF,
    };
    uint8_t out[36];
    psc_header_encode(&h, out);
    static const uint8_t expect[36] = {
        0x10, 0xa7, 0xc0, 0x5e, 0x1e, 0x00, 0x01, 0x00, 0xb2, 0xa1, 0x01, 0x88,
        0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x01, 0x03, 0x00,
        0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00,
    };
    assert_memory_equal(out, expect, 36);
    struct psc_header back;
    assert_int_equal(psc_header_decode_full(out, &back), 0);
    assert_memory_equal(&back.session, &h.session, sizeof(h.session));
    assert_int_equal(back.flags, 0xA1B2);
    assert_int_equal(back.status, 0xFFFF);
}

static void rejections(void **state)
{
    (void)state;
    uint8_t b[36];
    struct psc_header h;
    uint16_t rest;

    memcpy(b, ping_request, 36);
    b[0] = 0x11;
    assert_int_equal(psc_header_check_preamble(b, &rest), PSC_INVALID_HEADER);
    /* A big-endian magic is not the magic. */
    static const uint8_t be[6] = {0x5e, 0xc0, 0xa7, 0x10, 0x00, 0x1e};
    assert_int_equal(psc_header_check_preamble(be, &rest), PSC_INVALID_HEADER);

    memcpy(b, ping_request, 36);
    b[4] = 29;
    assert_int_equal(psc_header_check_preamble(b, &rest), 0);
    assert_int_equal(rest, 29);
    assert_int_equal(psc_header_decode(b + 6, rest, &h), PSC_INVALID_HEADER);
    assert_int_equal(psc_header_decode_full(b, &h), PSC_INVALID_HEADER);

    memcpy(b, ping_request, 36);
    b[6] = 2;
    assert_int_equal(psc_header_decode(b + 6, 30, &h), PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED);
    memcpy(b, ping_request, 36);
    b[7] = 1;
    assert_int_equal(psc_header_decode(b + 6, 30, &h), PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED);

    memcpy(b, ping_request, 36);
    b[34] = 1;
    assert_int_equal(psc_header_decode(b + 6, 30, &h), PSC_INVALID_HEADER);
    memcpy(b, ping_request, 36);
    b[35] = 1;
    assert_int_equal(psc_header_decode(b + 6, 30, &h), PSC_INVALID_HEADER);

    /* Flags and status are ignored in requests. */
    memcpy(b, ping_request, 36);
    b[8] = 56;
    b[32] = b[33] = 0xFF;
    assert_int_equal(psc_header_decode(b + 6, 30, &h), 0);
}

static void generic_reply(void **state)
{
    (void)state;
    struct psc_header h;
    psc_header_generic_reply(&h, PSC_INVALID_HEADER);
    uint8_t out[36];
    psc_header_encode(&h, out);
    struct psc_header back;
    assert_int_equal(psc_header_decode_full(out, &back), 0);
    assert_int_equal(back.opcode, PSC_OP_PING);
    assert_int_equal(back.provider, 0);
    assert_int_equal(back.status, PSC_INVALID_HEADER);
    assert_int_equal(back.body_len, 0);
}

static void opcodes_and_statuses(void **state)
{
    (void)state;
    assert_false(psc_opcode_is_valid(0));
    assert_false(psc_opcode_is_valid(0x16));
    assert_false(psc_opcode_is_valid(0x17));
    assert_false(psc_opcode_is_valid(0x1D));
    assert_false(psc_opcode_is_valid(0x21));
    assert_false(psc_opcode_is_valid(0xFFFF));
    assert_true(psc_opcode_is_valid(0x20));
    assert_true(psc_opcode_is_core(PSC_OP_LIST_KEYS));
    assert_false(psc_opcode_is_core(PSC_OP_PSA_GENERATE_RANDOM));
    assert_false(psc_opcode_needs_auth(PSC_OP_PSA_HASH_COMPUTE));
    assert_true(psc_opcode_needs_auth(PSC_OP_LIST_KEYS));
    assert_true(psc_opcode_is_admin(PSC_OP_DELETE_CLIENT));
    assert_false(psc_opcode_is_admin(PSC_OP_LIST_KEYS));
    assert_string_equal(psc_status_name(1143), "PsaErrorInsufficientData");
    assert_null(psc_status_name(1144));
    assert_int_equal(psc_status_from_psa(-140), 1140);
    assert_int_equal(psc_status_from_psa(-144), PSC_PSA_GENERIC_ERROR);
    assert_int_equal(psc_status_from_psa(-1), PSC_PSA_GENERIC_ERROR);
    assert_int_equal(psc_status_from_psa(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_ping_request),  cmocka_unit_test(encode_ping_response),
        cmocka_unit_test(delete_client_admin_reply), cmocka_unit_test(all_fields_little_endian),
        cmocka_unit_test(rejections),           cmocka_unit_test(generic_reply),
        cmocka_unit_test(opcodes_and_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
