/* The one protobuf decode/encode step of the service.
 *
 * A table maps every opcode of wire/opcode.h to its Operation and Result message descriptors.
 * Decoding unpacks the request body with protobuf-c and, for crypto operations, fills a
 * struct psc_args generically by walking the Operation's fields (op.h says which field lands
 * where). Encoding packs a Result: either the single byte string a crypto provider produced, or
 * a message the core provider built.
 *
 * Statuses: an unknown opcode is PSC_OPCODE_DOES_NOT_EXIST; a body protobuf-c cannot parse, or
 * a string that is not UTF-8 or holds a NUL byte, is PSC_DESERIALIZING_BODY_FAILED; a field
 * that does not convert to PSA values (operations.md §2) is PSC_INVALID_ENCODING; a result that
 * cannot be packed is PSC_SERIALIZING_BODY_FAILED. */
#ifndef PARSEC_SERVICE_CODEC_H
#define PARSEC_SERVICE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "service/op.h"

/* Bound on nested messages the decoder follows; the deepest Parsec message (an algorithm
 * tree inside key attributes) has eight levels. */
#define CODEC_DEPTH_MAX 16

/* Descriptors of an opcode's messages; NULL for an opcode that does not exist. */
const ProtobufCMessageDescriptor *codec_op_desc(uint32_t opcode);
const ProtobufCMessageDescriptor *codec_result_desc(uint32_t opcode);

/* Frees a decoded message after wiping every block protobuf-c allocated for it (NULL-safe): the
 * bytes and strings of a request may be secrets. */
void codec_msg_free(ProtobufCMessage *m);

/* Unpacks body as opcode's Operation and checks its strings; *msg is the message, to free with
 * codec_msg_free. No PSA conversion: the core provider reads the
 * few fields it needs itself. On failure *msg is NULL. */
int codec_decode_msg(uint32_t opcode, const uint8_t *body, size_t len, ProtobufCMessage **msg);

/* codec_decode_msg, then fills *args from the message: key name fields (key_name,
 * private_key_name, attested_key_name, also inside nested parameters) -> key_name ("" if
 * absent); attesting_key_name likewise; attributes -> attrs and has_attrs; alg -> alg as a PSA
 * algorithm; bytes fields -> the struct psc_bytes member of the same name; size; check_type. Every
 * message-typed field is mandatory and every oneof in a nested parameter message must be set. args
 * points into *msg, which must outlive it. On failure *msg is NULL. */
int codec_decode_args(uint32_t opcode, const uint8_t *body, size_t len, struct psc_args *args,
                      ProtobufCMessage **msg);

/* Packs opcode's Result from a provider's output. Its bytes fields, depth first and of a
 * oneof the first member, take out's byte strings in order: the whole of out for a Result with
 * one bytes field (out may be NULL for an empty string), else out->part[] (key attestation). A
 * count that does not match is PSC_SERIALIZING_BODY_FAILED. A Result with no field ignores out
 * and packs to zero bytes. *body is malloc'd, or NULL when *len is 0. */
int codec_encode_bytes(uint32_t opcode, const struct psc_out *out, uint8_t **body, size_t *len);

/* Packs any message (the core provider's structured results). Same *body convention. */
int codec_encode_msg(const ProtobufCMessage *m, uint8_t **body, size_t *len);

#endif
