#include "wire/header.h"

#include <string.h>

#include "wire/status.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int psc_header_check_preamble(const uint8_t pre[PSC_WIRE_PREAMBLE_SIZE], uint16_t *rest)
{
    *rest = get16(pre + 4);
    return get32(pre) == PSC_WIRE_MAGIC ? 0 : PSC_INVALID_HEADER;
}

/* Offsets below are relative to the end of the preamble (header offset 6). */
int psc_header_decode(const uint8_t *r, size_t rest_len, struct psc_header *h)
{
    memset(h, 0, sizeof(*h));
    if (rest_len != PSC_WIRE_HEADER_REST)
        return PSC_INVALID_HEADER;
    h->version_maj = r[0];
    h->version_min = r[1];
    h->flags = get16(r + 2);
    h->provider = r[4];
    h->session = get64(r + 5);
    h->content_type = r[13];
    h->accept_type = r[14];
    h->auth_type = r[15];
    h->body_len = get32(r + 16);
    h->auth_len = get16(r + 20);
    h->opcode = get32(r + 22);
    h->status = get16(r + 26);
    h->reserved1 = r[28];
    h->reserved2 = r[29];
    if (h->version_maj != PSC_WIRE_VERSION_MAJ || h->version_min != PSC_WIRE_VERSION_MIN)
        return PSC_WIRE_PROTOCOL_VERSION_NOT_SUPPORTED;
    if (h->reserved1 != 0 || h->reserved2 != 0)
        return PSC_INVALID_HEADER;
    return 0;
}

void psc_header_encode(const struct psc_header *h, uint8_t o[PSC_WIRE_HEADER_SIZE])
{
    put32(o, PSC_WIRE_MAGIC);
    put16(o + 4, PSC_WIRE_HEADER_REST);
    o[6] = PSC_WIRE_VERSION_MAJ;
    o[7] = PSC_WIRE_VERSION_MIN;
    put16(o + 8, h->flags);
    o[10] = h->provider;
    put64(o + 11, h->session);
    o[19] = h->content_type;
    o[20] = h->accept_type;
    o[21] = h->auth_type;
    put32(o + 22, h->body_len);
    put16(o + 26, h->auth_len);
    put32(o + 28, h->opcode);
    put16(o + 32, h->status);
    o[34] = h->reserved1;
    o[35] = h->reserved2;
}

int psc_header_decode_full(const uint8_t in[PSC_WIRE_HEADER_SIZE], struct psc_header *h)
{
    uint16_t rest;
    int rc = psc_header_check_preamble(in, &rest);
    if (rc == 0 && rest != PSC_WIRE_HEADER_REST)
        rc = PSC_INVALID_HEADER;
    if (rc != 0) {
        memset(h, 0, sizeof(*h));
        return rc;
    }
    return psc_header_decode(in + PSC_WIRE_PREAMBLE_SIZE, PSC_WIRE_HEADER_REST, h);
}

void psc_header_generic_reply(struct psc_header *out, int status)
{
    memset(out, 0, sizeof(*out));
    out->version_maj = PSC_WIRE_VERSION_MAJ;
    out->version_min = PSC_WIRE_VERSION_MIN;
    out->opcode = 1; /* Ping, as the original service writes on early errors */
    out->status = (uint16_t)status;
}

void psc_header_echo_reply(const struct psc_header *req, struct psc_header *out, int status,
                           uint32_t body_len)
{
    memset(out, 0, sizeof(*out));
    out->version_maj = PSC_WIRE_VERSION_MAJ;
    out->version_min = PSC_WIRE_VERSION_MIN;
    out->provider = req->provider;
    out->session = req->session;
    out->content_type = req->accept_type;
    out->opcode = req->opcode;
    out->status = (uint16_t)status;
    out->body_len = body_len;
}
