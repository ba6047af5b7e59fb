/* The wire header codec (src/wire/header.h) on arbitrary bytes.
 *
 * Input: a would-be header, read the way the listener reads it (preamble, then the rest).
 * Invariants: the preamble check agrees with the magic; a header the decoder accepts encodes
 * back to the same 36 bytes; a rejected one is rejected for the reason its bytes show, with
 * every field still decoded; reply headers built from any request decode back to the fields
 * the protocol says they carry. */
#include <string.h>

#include "fuzz_check.h"
#include "service/frontend.h"
#include "wire/header.h"
#include "wire/status.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int header_equal(const struct psc_header *a, const struct psc_header *b)
{
    return a->version_maj == b->version_maj && a->version_min == b->version_min &&
           a->flags == b->flags && a->provider == b->provider && a->session == b->session &&
           a->content_type == b->content_type && a->accept_type == b->accept_type &&
           a->auth_type == b->auth_type && a->body_len == b->body_len &&
           a->auth_len == b->auth_len && a->opcode == b->opcode && a->status == b->status &&
           a->reserved1 == b->reserved1 && a->reserved2 == b->reserved2;
}

/* The decoder on exactly 30 bytes after the preamble, and what its answer implies. */
static void check_rest(const uint8_t *rest)
{
    struct psc_header h, again;
    uint8_t enc[PSC_WIRE_HEADER_SIZE];
    int rc = psc_header_decode(rest, PSC_WIRE_HEADER_REST, &h);

    int version_ok = rest[0] == PSC_WIRE_VERSION_MAJ && rest[1] == PSC_WIRE_VERSION_MIN;
    int reserved_ok = rest[28] == 0 && rest[29] == 0;
    if (!version_ok)
        FUZZ_CHECK(rc == PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED);
    else if (!reserved_ok)
        FUZZ_CHECK(rc == PSC_INVALID_HEADER);
    else
        FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(h.version_maj == rest[0] && h.version_min == rest[1]);

    /* Every field was decoded whatever the verdict: the encoder writes them back verbatim,
     * except the version, which it always writes as 1.0. */
    psc_header_encode(&h, enc);
    FUZZ_CHECK(le32(enc) == PSC_WIRE_MAGIC);
    FUZZ_CHECK(enc[4] == PSC_WIRE_HEADER_REST && enc[5] == 0);
    FUZZ_CHECK(enc[6] == PSC_WIRE_VERSION_MAJ && enc[7] == PSC_WIRE_VERSION_MIN);
    FUZZ_CHECK(memcmp(enc + 8, rest + 2, PSC_WIRE_HEADER_REST - 2) == 0);

    /* What was encoded decodes back, through the client's full-header decoder too. */
    int rc2 = psc_header_decode_full(enc, &again);
    FUZZ_CHECK(rc2 == (reserved_ok ? 0 : PSC_INVALID_HEADER));
    h.version_maj = PSC_WIRE_VERSION_MAJ;
    h.version_min = PSC_WIRE_VERSION_MIN;
    FUZZ_CHECK(header_equal(&h, &again));
}

/* Reply headers for a request h, with the status taken from the request's own field. */
static void check_replies(const struct psc_header *req)
{
    struct psc_header out, back;
    uint8_t enc[PSC_WIRE_HEADER_SIZE], fe[PSC_WIRE_HEADER_SIZE];
    int status = req->status;

    psc_header_echo_reply(req, &out, status, req->body_len);
    psc_header_encode(&out, enc);
    FUZZ_CHECK(psc_header_decode_full(enc, &back) == 0);
    FUZZ_CHECK(back.provider == req->provider && back.session == req->session);
    FUZZ_CHECK(back.opcode == req->opcode && back.status == req->status);
    FUZZ_CHECK(back.content_type == req->accept_type && back.accept_type == 0);
    FUZZ_CHECK(back.body_len == req->body_len && back.auth_len == 0 && back.auth_type == 0);
    FUZZ_CHECK(back.flags == 0 && back.reserved1 == 0 && back.reserved2 == 0);

    psc_header_generic_reply(&out, status);
    psc_header_encode(&out, enc);
    FUZZ_CHECK(psc_header_decode_full(enc, &back) == 0);
    FUZZ_CHECK(back.provider == 0 && back.session == 0 && back.opcode == 1);
    FUZZ_CHECK(back.status == req->status && back.body_len == 0 && back.auth_len == 0);
    frontend_generic_reply(status, fe);
    FUZZ_CHECK(memcmp(enc, fe, sizeof(fe)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct psc_header h;
    uint16_t rest_len = 0;

    if (size < PSC_WIRE_PREAMBLE_SIZE)
        return 0;
    int rc = psc_header_check_preamble(data, &rest_len);
    FUZZ_CHECK(rc == (le32(data) == PSC_WIRE_MAGIC ? 0 : PSC_INVALID_HEADER));
    FUZZ_CHECK(rest_len == (uint16_t)(data[4] | data[5] << 8));

    /* The decoder given whatever follows the preamble: only exactly 30 bytes may pass. */
    size_t avail = size - PSC_WIRE_PREAMBLE_SIZE;
    int rc_any = psc_header_decode(data + PSC_WIRE_PREAMBLE_SIZE, avail, &h);
    if (avail != PSC_WIRE_HEADER_REST)
        FUZZ_CHECK(rc_any == PSC_INVALID_HEADER);

    if (avail >= PSC_WIRE_HEADER_REST) {
        check_rest(data + PSC_WIRE_PREAMBLE_SIZE);
        int full = psc_header_decode_full(data, &h);
        if (rc != 0 || rest_len != PSC_WIRE_HEADER_REST)
            FUZZ_CHECK(full == PSC_INVALID_HEADER);
        else
            FUZZ_CHECK(full ==
                       psc_header_decode(data + PSC_WIRE_PREAMBLE_SIZE, PSC_WIRE_HEADER_REST, &h));
        if (psc_header_decode(data + PSC_WIRE_PREAMBLE_SIZE, PSC_WIRE_HEADER_REST, &h) == 0)
            check_replies(&h);
    }
    return 0;
}
