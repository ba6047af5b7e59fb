/* Key attestation on the TPM provider (operations.md §8), checked independently of the service.
 *
 * tpm2-tools plays the third party: before the service starts, tpm2_createek reads the TPM's
 * endorsement key; then, for each key, tpm2_makecredential (offline, no TPM) encrypts a secret
 * to that endorsement key, bound to the name the service handed out, and the service must give
 * the secret back through TPM2_ActivateCredential. The name must be the hash of the public area
 * handed out with it, and that public area must hold the key's own public key. */
#define _GNU_SOURCE
#include <signal.h>

#include <openssl/evp.h>

#include "attest_key.pb-c.h"
#include "prepare_key_attestation.pb-c.h"
#include "tpm_credential.h"

#define EK_AUTH "endorsement_pass"

static struct swtpm S;
static struct daemon D;
static struct caller C;

static const char *config(int with_ek_auth)
{
    return tpm_config(&S, "", with_ek_auth ? "endorsement_hierarchy_auth = \"" EK_AUTH "\"\n" : "",
                      NULL);
}

static int group_setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    tpm_read_ek(&S, EK_AUTH);
    daemon_start(&D, config(1));
    C = tpm_caller(&D, "attest");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int st = daemon_stop(&D, SIGTERM);
    daemon_cleanup(&D);
    swtpm_cleanup(&S);
    assert_int_equal(st, 0);
    return 0;
}

/* ---- the two operations ------------------------------------------------------------------- */

struct prepared {
    struct buf name, public, ek;
};

static int prepare(const struct caller *c, const char *key, const char *attesting,
                   struct prepared *out)
{
    PrepareKeyAttestation__PrepareKeyAttestationParams__ActivateCredential ac =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationParams params =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__INIT;
    PrepareKeyAttestation__Operation op = PREPARE_KEY_ATTESTATION__OPERATION__INIT;
    ac.attested_key_name = (char *)key;
    ac.attesting_key_name = (char *)(attesting ? attesting : "");
    params.mechanism_case =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    params.activate_credential = &ac;
    op.parameters = &params;
    PrepareKeyAttestation__Result *r = NULL;
    int rc =
        psa_call_p(c, PSC_PROVIDER_TPM, PSC_OP_PREPARE_KEY_ATTESTATION, &op,
                   &prepare_key_attestation__result__descriptor, NULL, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    assert_non_null(r->output);
    assert_int_equal(
        r->output->mechanism_case,
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL);
    const PrepareKeyAttestation__PrepareKeyAttestationOutput__ActivateCredential *o =
        r->output->activate_credential;
    out->name = buf_copy(o->name.data, o->name.len);
    out->public = buf_copy(o->public_.data, o->public_.len);
    out->ek = buf_copy(o->attesting_key_pub.data, o->attesting_key_pub.len);
    return 0;
}

static int activate(const struct caller *c, const char *key, const char *attesting, struct buf blob,
                    struct buf secret, struct buf *cred)
{
    AttestKey__AttestationMechanismParams__ActivateCredential ac =
        ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    AttestKey__AttestationMechanismParams params = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__INIT;
    AttestKey__Operation op = ATTEST_KEY__OPERATION__INIT;
    ac.credential_blob = pb_bytes(blob);
    ac.secret = pb_bytes(secret);
    params.mechanism_case = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    params.activate_credential = &ac;
    op.attested_key_name = (char *)key;
    op.attesting_key_name = (char *)(attesting ? attesting : "");
    op.parameters = &params;
    AttestKey__Result *r = NULL;
    int rc = psa_call_p(c, PSC_PROVIDER_TPM, PSC_OP_ATTEST_KEY, &op,
                        &attest_key__result__descriptor, NULL, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    assert_non_null(r->output);
    assert_int_equal(r->output->mechanism_case,
                     ATTEST_KEY__ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL);
    *cred = buf_copy(r->output->activate_credential->credential.data,
                     r->output->activate_credential->credential.len);
    return 0;
}

/* ---- the third party ------------------------------------------------------------------------ */

/* What a verifier checks before it makes a credential: the name is the SHA-256 name of the
 * public area, the public area holds the key's public key (as exported), and the attesting key
 * is the TPM's endorsement key. Returns the unmarshalled public area. */
static TPMT_PUBLIC check_prepared(const char *key, const struct prepared *p)
{
    assert_int_equal(p->name.n, 34);
    assert_int_equal(p->name.p[0], 0x00);
    assert_int_equal(p->name.p[1], 0x0b); /* TPM_ALG_SHA256 */
    uint8_t md[32];
    unsigned md_len = 0;
    assert_int_equal(EVP_Digest(p->public.p, p->public.n, md, &md_len, EVP_sha256(), NULL), 1);
    assert_memory_equal(p->name.p + 2, md, 32);

    TPMT_PUBLIC area = {0};
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Unmarshal(p->public.p, p->public.n, &off, &area), 0);
    assert_int_equal(off, p->public.n);
    assert_int_equal(area.nameAlg, TPM2_ALG_SHA256);
    struct buf pub;
    assert_int_equal(op_export_public(&C, key, &pub), 0);
    if (area.type == TPM2_ALG_ECC) {
        size_t half = area.unique.ecc.x.size;
        assert_int_equal(pub.n, 1 + 2 * half);
        assert_memory_equal(pub.p + 1, area.unique.ecc.x.buffer, half);
        assert_memory_equal(pub.p + 1 + half, area.unique.ecc.y.buffer, half);
    } else {
        assert_int_equal(area.type, TPM2_ALG_RSA);
        /* The modulus sits at the end of the DER INTEGER it is in. */
        size_t n = area.unique.rsa.size;
        const uint8_t *m = memmem(pub.p, pub.n, area.unique.rsa.buffer, n);
        assert_non_null(m);
    }
    assert_true(buf_eq(p->ek, tpm_file(&S, "ek.der")));
    return area;
}

static struct buf hex_buf(const char *hex)
{
    struct buf b = {e2e_alloc(strlen(hex) / 2 + 1), strlen(hex) / 2};
    for (size_t i = 0; i < b.n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        b.p[i] = (uint8_t)v;
    }
    return b;
}

static struct tpm_credential make_credential(const struct prepared *p, const char *secret_hex)
{
    return tpm_make_credential(&S, p->ek, p->name, hex_buf(secret_hex));
}

static struct buf filled(uint8_t v, size_t n)
{
    struct buf b = {e2e_alloc(n), n};
    memset(b.p, v, n);
    return b;
}

/* ---- tests ---------------------------------------------------------------------------------- */

#define SECRET_HEX "11111111111111111111111111111111"

/* Signing and decryption keys of both types the TPM makes: each proves it is in this TPM. */
static void activate_credential(void **state)
{
    (void)state;
    static const char *const keys[] = {"rsa-sign", "ecc-sign", "rsa-decrypt"};
    assert_int_equal(op_generate(&C, "rsa-sign", rsa_sign_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(&C, "ecc-sign", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(&C, "rsa-decrypt", rsa_crypt_attrs(2048, 0)), 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct prepared p;
        assert_int_equal(prepare(&C, keys[i], NULL, &p), 0);
        TPMT_PUBLIC area = check_prepared(keys[i], &p);
        /* A key the TPM made and cannot let out. */
        assert_true(area.objectAttributes & TPMA_OBJECT_FIXEDTPM);
        assert_true(area.objectAttributes & TPMA_OBJECT_SENSITIVEDATAORIGIN);
        const char *secret = i == 0 ? SECRET_HEX : "0123456789abcdef0123456789abcdef0123";
        struct tpm_credential cr = make_credential(&p, secret);
        struct buf got;
        assert_int_equal(activate(&C, keys[i], NULL, cr.blob, cr.secret, &got), 0);
        assert_true(buf_eq(got, hex_buf(secret)));
    }
}

/* An imported key pair is in the TPM too, and can prove it; its public area shows the verifier
 * that the TPM did not make it (no fixedTPM, no sensitiveDataOrigin). */
static void imported_pair(void **state)
{
    (void)state;
    uint8_t d[32];
    for (size_t i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)(i + 1);
    assert_int_equal(
        op_import(&C, "imported", ecc_sign_attrs(256, HASH(SHA_256)), buf_copy(d, sizeof(d))), 0);
    struct prepared p;
    assert_int_equal(prepare(&C, "imported", NULL, &p), 0);
    TPMT_PUBLIC area = check_prepared("imported", &p);
    assert_false(area.objectAttributes & TPMA_OBJECT_FIXEDTPM);
    assert_false(area.objectAttributes & TPMA_OBJECT_SENSITIVEDATAORIGIN);
    struct tpm_credential cr = make_credential(&p, SECRET_HEX);
    struct buf got;
    assert_int_equal(activate(&C, "imported", NULL, cr.blob, cr.secret, &got), 0);
    assert_true(buf_eq(got, hex_buf(SECRET_HEX)));
}

/* A credential made for one key does not open with another, and data the TPM cannot use is an
 * invalid argument (the original's own test cases). */
static void bad_credentials(void **state)
{
    (void)state;
    assert_int_equal(op_generate(&C, "bad-a", rsa_sign_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(&C, "bad-b", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    struct prepared pa;
    assert_int_equal(prepare(&C, "bad-a", NULL, &pa), 0);
    struct tpm_credential cr = make_credential(&pa, SECRET_HEX);
    struct buf got;
    assert_int_equal(activate(&C, "bad-b", NULL, cr.blob, cr.secret, &got),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(activate(&C, "bad-a", NULL, filled(0xde, 52), filled(0xad, 256), &got),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(activate(&C, "bad-a", NULL, filled(0xde, 52), cr.secret, &got),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(activate(&C, "bad-a", NULL, cr.blob, filled(0xad, 256), &got),
                     PSC_PSA_INVALID_ARGUMENT);
    /* Longer than any TPM buffer: refused before the TPM. */
    assert_int_equal(activate(&C, "bad-a", NULL, filled(1, 4096), cr.secret, &got),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(activate(&C, "bad-a", NULL, cr.blob, filled(1, 4096), &got),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(activate(&C, "bad-a", NULL, buf_none(), buf_none(), &got),
                     PSC_PSA_INVALID_ARGUMENT);
    /* The TPM is still fine, and the right key still opens it. */
    assert_int_equal(activate(&C, "bad-a", NULL, cr.blob, cr.secret, &got), 0);
    assert_true(buf_eq(got, hex_buf(SECRET_HEX)));
}

/* What is refused before the TPM: another attesting key, a key of another application or none,
 * a public key alone. */
static void refusals(void **state)
{
    (void)state;
    struct prepared p;
    struct buf got;
    assert_int_equal(op_generate(&C, "mine", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    /* Another attesting key is not supported, whether or not either key exists (the original
     * checks this first). */
    assert_int_equal(prepare(&C, "mine", "mine", &p), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(prepare(&C, "none", "other", &p), PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(activate(&C, "none", "other", filled(0x33, 16), filled(0x22, 16), &got),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(prepare(&C, "none", NULL, &p), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(activate(&C, "none", NULL, filled(0x33, 16), filled(0x22, 16), &got),
                     PSC_PSA_DOES_NOT_EXIST);
    struct caller other = tpm_caller(&D, "other-app");
    assert_int_equal(prepare(&other, "mine", NULL, &p), PSC_PSA_DOES_NOT_EXIST);
    struct caller anonymous = {.sock = D.sock, .provider = PSC_PROVIDER_TPM};
    assert_int_equal(prepare(&anonymous, "mine", NULL, &p), PSC_NOT_AUTHENTICATED);

    /* A public key alone: its name can be given, but there is nothing in the TPM to prove. */
    struct buf pub;
    assert_int_equal(op_export_public(&C, "mine", &pub), 0);
    assert_int_equal(op_import(&C, "mine-public",
                               attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256))),
                               pub),
                     0);
    assert_int_equal(prepare(&C, "mine-public", NULL, &p), 0);
    struct tpm_credential cr = make_credential(&p, SECRET_HEX);
    assert_int_equal(activate(&C, "mine-public", NULL, cr.blob, cr.secret, &got),
                     PSC_PSA_INVALID_ARGUMENT);
}

/* The keys fill the TPM's few object slots: attestation makes room for the endorsement key. */
static void with_full_cache(void **state)
{
    (void)state;
    char name[32];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "full-%d", i);
        assert_int_equal(op_generate(&C, name, ecc_sign_attrs(256, HASH(SHA_256))), 0);
        sign_checked(&C, name, SIG_ECDSA, HASH(SHA_256), "prime256v1");
    }
    struct prepared p;
    assert_int_equal(prepare(&C, "full-0", NULL, &p), 0);
    struct tpm_credential cr = make_credential(&p, SECRET_HEX);
    for (int i = 1; i < 4; i++) {
        snprintf(name, sizeof(name), "full-%d", i);
        sign_checked(&C, name, SIG_ECDSA, HASH(SHA_256), "prime256v1");
    }
    struct buf got;
    assert_int_equal(activate(&C, "full-0", NULL, cr.blob, cr.secret, &got), 0);
    assert_true(buf_eq(got, hex_buf(SECRET_HEX)));
}

/* Without the endorsement password the TPM refuses the endorsement key: GenericError, as in the
 * original, and one line in the log says what to configure. Other operations still work. */
static void without_endorsement_password(void **state)
{
    (void)state;
    struct prepared p;
    assert_int_equal(prepare(&C, "rsa-sign", NULL, &p), 0);
    struct tpm_credential cr = make_credential(&p, SECRET_HEX);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_write_config(&D, config(0));
    assert_int_equal(daemon_launch(&D, NULL), 0);
    struct buf got;
    assert_int_equal(prepare(&C, "rsa-sign", NULL, &p), PSC_PSA_GENERIC_ERROR);
    assert_int_equal(activate(&C, "rsa-sign", NULL, cr.blob, cr.secret, &got),
                     PSC_PSA_GENERIC_ERROR);
    assert_true(daemon_log_contains(&D, "endorsement_hierarchy_auth"));
    assert_false(daemon_log_contains(&D, EK_AUTH));
    sign_checked(&C, "rsa-sign", SIG_PKCS1, HASH(SHA_256), NULL);
    /* Back with the password, after a TPM reset (the endorsement key is the same after one). */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    tpm_tool(&S, "tpm2_shutdown -c");
    swtpm_restart(&S);
    daemon_write_config(&D, config(1));
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_int_equal(activate(&C, "rsa-sign", NULL, cr.blob, cr.secret, &got), 0);
    assert_true(buf_eq(got, hex_buf(SECRET_HEX)));
}

int main(void)
{
    if (!swtpm_available() || system("command -v tpm2_makecredential >/dev/null 2>&1") != 0) {
        fprintf(stderr, "swtpm or tpm2-tools is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(activate_credential, e2e_arena_free),
        cmocka_unit_test_teardown(imported_pair, e2e_arena_free),
        cmocka_unit_test_teardown(bad_credentials, e2e_arena_free),
        cmocka_unit_test_teardown(refusals, e2e_arena_free),
        cmocka_unit_test_teardown(with_full_cache, e2e_arena_free),
        cmocka_unit_test_teardown(without_endorsement_password, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
