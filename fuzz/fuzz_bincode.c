/* The key-mapping decoders (src/service/kim/bincode.h): what the service reads back from an
 * on-disk mapping file or a SQLite blob, which anyone with write access to the store controls.
 *
 * Input: taken as an Attributes blob and as a KeyInfo record. Invariants: the decoder consumes
 * no more than it was given; a decoded value that can be encoded re-encodes to the bytes it
 * came from (the lifetime is always written Persistent; two documented canonical forms aside)
 * and decodes back to the same PSA values; re-encoding is idempotent; the encoders respect the
 * announced bounds. */
#include <string.h>

#include "fuzz_check.h"
#include "service/kim/bincode.h"
#include "service/kim/kim.h"
#include "wire/status.h"

/* Bytes of the lifetime at the start of an Attributes blob: Custom carries a u32. */
static size_t lifetime_len(const uint8_t *p)
{
    return p[0] == 2 ? 8 : 4;
}

static int attrs_equal(const struct psc_attrs *a, const struct psc_attrs *b)
{
    return a->type == b->type && a->bits == b->bits && a->usage == b->usage && a->alg == b->alg;
}

/* Where PSA has one value for two psa-crypto trees, encoding picks one (bincode.h): a
 * truncated MAC of length 0 is the full-length MAC, a shortened AEAD tag of the default
 * length is the default-tag AEAD. Anything else must re-encode byte for byte. */
static int may_be_canonicalised(psa_algorithm_t alg)
{
    if (PSA_ALG_IS_MAC(alg))
        return PSA_MAC_TRUNCATED_LENGTH(alg) == 0;
    if (PSA_ALG_IS_AEAD(alg))
        return alg == PSA_ALG_AEAD_WITH_DEFAULT_LENGTH_TAG(alg);
    return 0;
}

/* Encodes a, checks the result decodes to a, and returns its length (0 if a has no form). */
static size_t reencode(const struct psc_attrs *a, uint8_t out[BINCODE_ATTRS_MAX])
{
    size_t len = 0, used = 0;
    struct psc_attrs back;
    int rc = bincode_attrs_encode(a, out, BINCODE_ATTRS_MAX, &len);
    FUZZ_CHECK(rc == 0 || rc == PSC_PSA_NOT_SUPPORTED);
    if (rc != 0)
        return 0;
    FUZZ_CHECK(len > 0 && len <= BINCODE_ATTRS_MAX);
    FUZZ_CHECK(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 0); /* Persistent */
    FUZZ_CHECK(bincode_attrs_decode(out, len, &back, &used) == 0);
    FUZZ_CHECK(used == len && attrs_equal(a, &back));
    /* One byte short is refused, not overrun. */
    uint8_t *tight = malloc(len - 1 ? len - 1 : 1);
    size_t tlen = 0;
    FUZZ_CHECK(tight != NULL);
    FUZZ_CHECK(bincode_attrs_encode(a, tight, len - 1, &tlen) == PSC_PSA_BUFFER_TOO_SMALL);
    free(tight);
    return len;
}

static void check_attrs(const uint8_t *data, size_t size)
{
    struct psc_attrs a;
    size_t used = 0;
    uint8_t enc[BINCODE_ATTRS_MAX], enc2[BINCODE_ATTRS_MAX];

    int rc = bincode_attrs_decode(data, size, &a, &used);
    FUZZ_CHECK(rc == 0 || rc == PSC_INVALID_ENCODING);
    if (rc != 0)
        return;
    FUZZ_CHECK(used <= size && used >= 4 + 4 + 8 + 10 + 4);
    FUZZ_CHECK(a.bits <= UINT32_MAX);
    size_t len = reencode(&a, enc);
    if (len == 0)
        return;
    size_t lt = lifetime_len(data);
    if (!may_be_canonicalised(a.alg))
        FUZZ_CHECK(len - 4 == used - lt && memcmp(enc + 4, data + lt, len - 4) == 0);
    struct psc_attrs b;
    FUZZ_CHECK(bincode_attrs_decode(enc, len, &b, NULL) == 0);
    size_t len2 = reencode(&b, enc2);
    FUZZ_CHECK(len2 == len && memcmp(enc, enc2, len) == 0);
}

static void check_key_info(const uint8_t *data, size_t size)
{
    struct kim_info info, back;
    size_t used = 0, len = 0, used2 = 0;
    uint8_t *enc = NULL;

    int rc = bincode_key_info_decode(data, size, &info, &used);
    FUZZ_CHECK(rc == 0 || rc == PSC_INVALID_ENCODING);
    if (rc != 0) {
        FUZZ_CHECK(info.id == NULL);
        return;
    }
    FUZZ_CHECK(info.id != NULL && info.id_len <= BINCODE_KEY_ID_MAX);
    FUZZ_CHECK(used <= size && used >= 8 + info.id_len);
    FUZZ_CHECK(memcmp(info.id, data + 8, info.id_len) == 0);

    rc = bincode_key_info_encode(&info, &enc, &len);
    FUZZ_CHECK(rc == 0 || rc == PSC_PSA_NOT_SUPPORTED);
    if (rc == 0) {
        FUZZ_CHECK(len <= BINCODE_KEY_INFO_MAX);
        size_t head = 8 + info.id_len;
        FUZZ_CHECK(len > head && memcmp(enc, data, head) == 0);
        size_t lt = lifetime_len(data + head);
        if (!may_be_canonicalised(info.attrs.alg))
            FUZZ_CHECK(len - head - 4 == used - head - lt &&
                       memcmp(enc + head + 4, data + head + lt, len - head - 4) == 0);
        FUZZ_CHECK(bincode_key_info_decode(enc, len, &back, &used2) == 0);
        FUZZ_CHECK(used2 == len && back.id_len == info.id_len);
        FUZZ_CHECK(memcmp(back.id, info.id, info.id_len) == 0);
        FUZZ_CHECK(attrs_equal(&back.attrs, &info.attrs));
        kim_info_clear(&back);
    } else {
        FUZZ_CHECK(enc == NULL);
    }
    free(enc);
    kim_info_clear(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_attrs(data, size);
    check_key_info(data, size);
    return 0;
}
