/* The 36-byte Parsec wire header, version 1.0 (wire-protocol.md §3). Pure functions: no I/O,
 * no allocation, no protobuf. */
#ifndef PARSEC_WIRE_HEADER_H
#define PARSEC_WIRE_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define PSC_WIRE_MAGIC 0x5EC0A710u
#define PSC_WIRE_HEADER_SIZE 36
/* Value of the header-size field: bytes that follow it in the header. */
#define PSC_WIRE_HEADER_REST 30
/* The part of the header read first: magic and header size. */
#define PSC_WIRE_PREAMBLE_SIZE 6
#define PSC_WIRE_VERSION_MAJ 1
#define PSC_WIRE_VERSION_MIN 0

struct psc_header {
    uint8_t version_maj;
    uint8_t version_min;
    uint16_t flags;
    uint8_t provider;
    uint64_t session;
    uint8_t content_type;
    uint8_t accept_type;
    uint8_t auth_type;
    uint32_t body_len;
    uint16_t auth_len;
    uint32_t opcode;
    uint16_t status;
    uint8_t reserved1;
    uint8_t reserved2;
};

/* Checks the 6-byte preamble. Returns 0 and stores the header-size field in *rest, or
 * PSC_INVALID_HEADER for a bad magic. The caller must then read *rest bytes and pass them to
 * psc_header_decode (a size other than 30 is rejected there, after reading, as the original
 * service does). */
int psc_header_check_preamble(const uint8_t pre[PSC_WIRE_PREAMBLE_SIZE], uint16_t *rest);

/* Decodes the bytes after the preamble (rest_len of them) into *h, applying steps 2-5 of the
 * processing order: size, version, reserved bytes. Returns 0 or the status to reply with.
 * *h is filled as far as it could be decoded even on failure. */
int psc_header_decode(const uint8_t *rest, size_t rest_len, struct psc_header *h);

/* Encodes a full 36-byte header (magic, size 30 and version 1.0 are always written). */
void psc_header_encode(const struct psc_header *h, uint8_t out[PSC_WIRE_HEADER_SIZE]);

/* Decodes a whole 36-byte header without the request checks (for clients reading replies).
 * Returns 0, or PSC_INVALID_HEADER for a bad magic or size. */
int psc_header_decode_full(const uint8_t in[PSC_WIRE_HEADER_SIZE], struct psc_header *h);

/* Reply header for errors found before the request could be trusted (wire-protocol.md §6,
 * "generic"): provider 0, session 0, opcode Ping, empty body. */
void psc_header_generic_reply(struct psc_header *out, int status);

/* Reply header echoing a request: provider, session, opcode copied, content type = the
 * request's accept type, the given status and body length. */
void psc_header_echo_reply(const struct psc_header *req, struct psc_header *out, int status,
                           uint32_t body_len);

#endif
