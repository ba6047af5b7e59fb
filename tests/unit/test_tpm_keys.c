/* The TPM provider's legacy key blobs (key-info-manager.md §4.2), pure code: a blob of the
 * original's first versions decodes, every hostile variant of one is refused without a read
 * out of bounds (the sanitizer build checks that), and a migrated key's public area is checked
 * against the one its attributes rebuild. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <tss2/tss2_mu.h>

#include "service/providers/tpm_int.h"
#include "wire/status.h"

static const struct psc_attrs ecc = {
    .type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
    .bits = 256,
    .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
    .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256),
};

static const struct psc_attrs rsa = {
    .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
    .bits = 2048,
    .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
    .alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256),
};

struct blob {
    uint8_t p[16384];
    size_t n;
};

static void le(struct blob *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

static void vec(struct blob *b, const uint8_t *p, size_t n)
{
    le(b, n, 8);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Overrides for one field of the ESAPI context blob. */
struct esapi_form {
    uint32_t reserved;
    uint32_t type;
    size_t tpm_len;
    size_t extra; /* bytes after the public area */
};

static const struct esapi_form GOOD = {0, 1, 200, 0};

/* ESAPI's form of a saved key context (what Esys_ContextSave writes): reserved u32, the TPM's
 * TPM2B_CONTEXT_DATA, then metadata size (0), handle, name, resource type and public area. */
static void esapi_context(const struct esapi_form *f, struct blob *b)
{
    TPM2B_CONTEXT_DATA tpm = {.size = (UINT16)f->tpm_len};
    TPM2B_NAME name = {.size = 34};
    TPM2B_PUBLIC pub;
    size_t off = 0;
    memset(tpm.buffer, 0xa5, f->tpm_len);
    memset(name.name, 0x0b, name.size);
    assert_int_equal(tpm_public_template(&ecc, NULL, 0, &pub), 0);
    assert_int_equal(Tss2_MU_UINT32_Marshal(f->reserved, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_TPM2B_CONTEXT_DATA_Marshal(&tpm, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_UINT16_Marshal(0, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_UINT32_Marshal(0x80000001, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_TPM2B_NAME_Marshal(&name, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_UINT32_Marshal(f->type, b->p, sizeof(b->p), &off), 0);
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, b->p, sizeof(b->p), &off), 0);
    memset(b->p + off, 0, f->extra);
    b->n = off + f->extra;
}

/* LegacyPasswordContext: sequence, saved handle, hierarchy, Vec context blob, Vec auth. */
static void legacy(const struct blob *ctx, size_t auth_len, struct blob *b)
{
    uint8_t auth[128];
    memset(auth, 0x3c, sizeof(auth));
    b->n = 0;
    le(b, 7, 8);
    le(b, 0x80000000, 4);
    le(b, TPM2_RH_OWNER, 4);
    vec(b, ctx->p, ctx->n);
    vec(b, auth, auth_len);
}

static int decodes(const struct blob *b)
{
    struct tpm_legacy lg;
    int rc = tpm_legacy_decode(b->p, b->n, &lg);
    tpm_legacy_wipe(&lg);
    return rc == 0;
}

static void test_legacy_decodes(void **state)
{
    (void)state;
    struct blob ctx, b;
    struct tpm_legacy lg;
    struct tpm_key k;
    esapi_context(&GOOD, &ctx);
    legacy(&ctx, 32, &b);
    assert_int_equal(tpm_legacy_decode(b.p, b.n, &lg), 0);
    assert_int_equal(lg.context.sequence, 7);
    assert_int_equal(lg.context.savedHandle, 0x80000000);
    assert_int_equal(lg.context.hierarchy, TPM2_RH_OWNER);
    assert_int_equal(lg.context.contextBlob.size, ctx.n);
    assert_memory_equal(lg.context.contextBlob.buffer, ctx.p, ctx.n);
    assert_int_equal(lg.auth.size, 32);
    assert_int_equal(lg.auth.buffer[31], 0x3c);
    tpm_legacy_wipe(&lg);
    /* It is not a blob of the current format, nor is that one a legacy blob. */
    assert_int_equal(tpm_key_decode(b.p, b.n, &k), PSC_KEY_INFO_MANAGER_ERROR);
    struct tpm_key cur = {.is_ecc = 1, .auth = {.size = 32}, .priv = {.size = 100}};
    cur.ecc.x.size = cur.ecc.y.size = 32;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    assert_int_equal(tpm_key_encode(&cur, &enc, &enc_len), 0);
    assert_int_equal(tpm_legacy_decode(enc, enc_len, &lg), PSC_KEY_INFO_MANAGER_ERROR);
    free(enc);
    /* An empty auth value (an imported public key) and the longest one; trailing bytes are
     * ignored, as bincode 1.3 does. */
    legacy(&ctx, 0, &b);
    assert_true(decodes(&b));
    legacy(&ctx, sizeof(lg.auth.buffer), &b);
    assert_true(decodes(&b));
    b.p[b.n++] = 0;
    assert_true(decodes(&b));
}

static void test_legacy_hostile(void **state)
{
    (void)state;
    struct blob ctx, b;
    esapi_context(&GOOD, &ctx);
    legacy(&ctx, 32, &b);
    /* Every cut. */
    for (size_t n = 0; n < b.n; n++) {
        struct blob cut = b;
        cut.n = n;
        assert_false(decodes(&cut));
    }
    /* Lengths past the input or the TPM's buffers. */
    struct blob big = b;
    memset(big.p + 16, 0xff, 8); /* context Vec length 2^64 - 1 */
    assert_false(decodes(&big));
    legacy(&ctx, sizeof(((TPM2B_AUTH *)0)->buffer) + 1, &b);
    assert_false(decodes(&b));
    struct blob huge = {.n = 0};
    huge.n = sizeof(((TPM2B_CONTEXT_DATA *)0)->buffer) + 1;
    memcpy(huge.p, ctx.p, ctx.n);
    legacy(&huge, 32, &b);
    assert_false(decodes(&b));
    /* An empty context is the current format's header, not a saved context. */
    struct blob none = {.n = 0};
    legacy(&none, 32, &b);
    assert_false(decodes(&b));
    /* Context blobs that are not ESAPI's form of a saved key. */
    const struct esapi_form bad[] = {
        {1, 1, 200, 0},  /* reserved word set */
        {0, 2, 200, 0},  /* an NV index's record */
        {0, 0, 200, 0},  /* an object without public area */
        {0, 1, 200, 1},  /* a byte after the public area */
        {0, 1, 5121, 0}, /* a TPM blob larger than any TPM's */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct blob c2;
        if (bad[i].tpm_len > sizeof(((TPM2B_CONTEXT_DATA *)0)->buffer)) {
            /* Marshalled by hand: the size field says more than the buffer holds. */
            esapi_context(&GOOD, &c2);
            c2.p[4] = (uint8_t)(bad[i].tpm_len >> 8);
            c2.p[5] = (uint8_t)bad[i].tpm_len;
        } else {
            esapi_context(&bad[i], &c2);
        }
        legacy(&c2, 32, &b);
        assert_false(decodes(&b));
    }
    /* Cuts of the context blob, each with a Vec length to match. */
    for (size_t n = 1; n < ctx.n; n++) {
        struct blob c2 = ctx;
        c2.n = n;
        legacy(&c2, 32, &b);
        assert_false(decodes(&b));
    }
    /* Random damage: any result, but no read out of bounds. */
    srand(1);
    legacy(&ctx, 32, &b);
    for (int i = 0; i < 20000; i++) {
        struct blob m = b;
        for (int j = 0; j < 4; j++)
            m.p[(size_t)rand() % m.n] = (uint8_t)rand();
        m.n = (size_t)rand() % (m.n + 1);
        (void)decodes(&m);
    }
}

/* The public area of a migrated key must be the one its attributes rebuild. */
static void test_public_check(void **state)
{
    (void)state;
    TPM2B_PUBLIC pub;
    struct tpm_key k = {.priv = {.size = 100}};
    assert_int_equal(tpm_public_template(&ecc, NULL, 0, &pub), 0);
    pub.publicArea.unique.ecc.x.size = pub.publicArea.unique.ecc.y.size = 32;
    memset(pub.publicArea.unique.ecc.x.buffer, 1, 32);
    memset(pub.publicArea.unique.ecc.y.buffer, 2, 32);
    assert_int_equal(tpm_key_of_public(&ecc, &pub, &k), 0);
    assert_true(k.is_ecc);
    assert_int_equal(k.ecc.x.size, 32);
    assert_int_equal(k.ecc.y.buffer[31], 2);

    /* Another attribute, scheme, hash, curve or name algorithm: not the same key blob. */
    TPM2B_PUBLIC other = pub;
    other.publicArea.objectAttributes |= TPMA_OBJECT_DECRYPT;
    assert_int_equal(tpm_key_of_public(&ecc, &other, &k), PSC_KEY_INFO_MANAGER_ERROR);
    other = pub;
    other.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA384;
    assert_int_equal(tpm_key_of_public(&ecc, &other, &k), PSC_KEY_INFO_MANAGER_ERROR);
    other = pub;
    other.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
    assert_int_equal(tpm_key_of_public(&ecc, &other, &k), PSC_KEY_INFO_MANAGER_ERROR);
    other = pub;
    other.publicArea.authPolicy.size = 32;
    assert_int_equal(tpm_key_of_public(&ecc, &other, &k), PSC_KEY_INFO_MANAGER_ERROR);
    /* An ECC key stored with RSA attributes, and a type the provider has no template for. */
    assert_int_equal(tpm_key_of_public(&rsa, &pub, &k), PSC_KEY_INFO_MANAGER_ERROR);
    other = pub;
    other.publicArea.type = TPM2_ALG_KEYEDHASH;
    assert_int_equal(tpm_key_of_public(&ecc, &other, &k), PSC_KEY_INFO_MANAGER_ERROR);
    struct psc_attrs p224 = ecc;
    p224.alg = PSA_ALG_ECDSA(PSA_ALG_SHA_224);
    assert_int_equal(tpm_key_of_public(&p224, &pub, &k), PSC_PSA_NOT_SUPPORTED);

    /* A public key is loaded alone, with the template's attributes: only those may differ. */
    struct tpm_key pk = {0};
    struct psc_attrs ecc_pub = ecc;
    ecc_pub.type = PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1);
    ecc_pub.usage = PSA_KEY_USAGE_VERIFY_HASH;
    assert_int_equal(tpm_key_of_public(&ecc_pub, &pub, &pk), 0);
    other = pub;
    other.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
    assert_int_equal(tpm_key_of_public(&ecc_pub, &other, &pk), PSC_KEY_INFO_MANAGER_ERROR);
    /* A key pair's attributes without private part, a public key's with one. */
    assert_int_equal(tpm_key_of_public(&ecc, &pub, &pk), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(tpm_key_of_public(&ecc_pub, &pub, &k), PSC_KEY_INFO_MANAGER_ERROR);

    /* RSA: the modulus is the key. */
    TPM2B_PUBLIC rpub;
    struct tpm_key rk = {.priv = {.size = 100}};
    assert_int_equal(tpm_public_template(&rsa, NULL, 0, &rpub), 0);
    rpub.publicArea.unique.rsa.size = 256;
    memset(rpub.publicArea.unique.rsa.buffer, 0xc3, 256);
    assert_int_equal(tpm_key_of_public(&rsa, &rpub, &rk), 0);
    assert_false(rk.is_ecc);
    assert_int_equal(rk.rsa_n.size, 256);
    rpub.publicArea.parameters.rsaDetail.keyBits = 3072;
    assert_int_equal(tpm_key_of_public(&rsa, &rpub, &rk), PSC_KEY_INFO_MANAGER_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_decodes),
        cmocka_unit_test(test_legacy_hostile),
        cmocka_unit_test(test_public_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
