/* The bincode 1.3 encoding of psa-crypto 0.13 key attributes and of the KeyInfo record, as the
 * original service writes them into its key mappings (key-info-manager.md §2-§3).
 *
 * Only the PSA values that the psa-crypto type tree can express are encodable; decoding accepts
 * exactly the byte strings that tree's serde derivation would accept (unknown variant indices,
 * bools other than 0/1 and truncated input are refused) and, like bincode, ignores bytes after
 * the value. */
#ifndef PARSEC_KIM_BINCODE_H
#define PARSEC_KIM_BINCODE_H

#include <stddef.h>
#include <stdint.h>

#include "psa/attrs.h"
#include "service/kim/kim.h"

/* Longest encoded Attributes: Custom lifetime (8) + ECC/DH type (8) + bits (8) + usage (10) +
 * the deepest algorithm, a truncated HMAC (24) = 58. */
#define BINCODE_ATTRS_MAX 64
/* Largest provider key id a KeyInfo may carry. The biggest real one, a TPM PasswordContext or
 * a legacy TPM saved context, stays under 4 KiB; anything near this is corruption. */
#define BINCODE_KEY_ID_MAX 65536
/* Longest KeyInfo record: id length prefix + id + attributes. */
#define BINCODE_KEY_INFO_MAX (8 + BINCODE_KEY_ID_MAX + BINCODE_ATTRS_MAX)

/* Encodes attributes (lifetime always Persistent) into out[0..cap). Returns 0,
 * PSC_PSA_NOT_SUPPORTED if a type, usage bit or algorithm has no psa-crypto form (e.g. an
 * at-least-this-length MAC, RSA-PSS with any salt, a vendor algorithm), or
 * PSC_PSA_BUFFER_TOO_SMALL. */
int bincode_attrs_encode(const struct psc_attrs *a, uint8_t *out, size_t cap, size_t *len);

/* Decodes attributes from in[0..len). *used (may be NULL) receives the bytes consumed; what
 * follows is ignored. The lifetime is checked and dropped. Returns 0 or PSC_INVALID_ENCODING,
 * also for values no PSA encoding can carry (bits above 32 bits, a MAC or tag length above
 * 63). */
int bincode_attrs_decode(const uint8_t *in, size_t len, struct psc_attrs *a, size_t *used);

/* Encodes a KeyInfo record (u64 id length, id, attributes) into a malloc'd buffer. */
int bincode_key_info_encode(const struct kim_info *info, uint8_t **out, size_t *len);

/* Decodes a KeyInfo record; info->id is malloc'd (release with kim_info_clear). Trailing bytes
 * are ignored, as bincode does. Returns 0, PSC_INVALID_ENCODING or
 * PSC_PSA_INSUFFICIENT_MEMORY. */
int bincode_key_info_decode(const uint8_t *in, size_t len, struct kim_info *info, size_t *used);

#endif
