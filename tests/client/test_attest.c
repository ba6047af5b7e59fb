/* The TPM key attestation functions on the client side: the ListProviders check, the route to
 * the TPM provider whatever the implicit provider, the buffers, the arguments and the replies.
 * The scripted peer plays a service with a TPM provider; the real daemon one without. The
 * whole flow on a TPM is in tests/tpm/test_tpm_clients.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest_key.pb-c.h"
#include "list_providers.pb-c.h"
#include "peer.h"
#include "prepare_key_attestation.pb-c.h"
#include "util.h"

#define APP "attest-app"

static const char UUID[] = "1c1139dc-ad7c-47dc-ad6b-db6fdb466552";

static void reply_providers(struct peer *p, const uint32_t *ids, size_t n)
{
    ListProviders__ProviderInfo info[4], *ptrs[4];
    ListProviders__Result r = LIST_PROVIDERS__RESULT__INIT;
    for (size_t i = 0; i < n; i++) {
        list_providers__provider_info__init(&info[i]);
        info[i].id = ids[i];
        info[i].uuid = (char *)UUID;
        info[i].description = (char *)"d";
        info[i].vendor = (char *)"";
        ptrs[i] = &info[i];
    }
    r.n_providers = n;
    r.providers = ptrs;
    peer_reply(p, PARSEC_OP_LIST_PROVIDERS, 0, &r.base);
}

static void reply_with_tpm(struct peer *p)
{
    static const uint32_t ids[] = {PARSEC_PROVIDER_MBED_CRYPTO, PARSEC_PROVIDER_TPM, 0};
    reply_providers(p, ids, 3);
}

static const uint8_t NAME[34] = {0x00, 0x0b, 1, 2, 3};
static const uint8_t PUBLIC[90] = {0x00, 0x23, 0x00, 0x0b, 7, 7, 7};
static const uint8_t EK[270] = {0x30, 0x82, 0x01, 0x0a};
static const uint8_t CREDENTIAL[32] = {0x11, 0x22, 0x33, 0x44, 0x55};

/* A PrepareKeyAttestation reply; with_output 0: no output at all. */
static void reply_prepared(struct peer *p, int with_output)
{
    PrepareKeyAttestation__PrepareKeyAttestationOutput__ActivateCredential ac =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__ACTIVATE_CREDENTIAL__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationOutput o =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__INIT;
    PrepareKeyAttestation__Result r = PREPARE_KEY_ATTESTATION__RESULT__INIT;
    ac.name = (ProtobufCBinaryData){sizeof(NAME), (uint8_t *)NAME};
    ac.public_ = (ProtobufCBinaryData){sizeof(PUBLIC), (uint8_t *)PUBLIC};
    ac.attesting_key_pub = (ProtobufCBinaryData){sizeof(EK), (uint8_t *)EK};
    o.mechanism_case =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL;
    o.activate_credential = &ac;
    if (with_output)
        r.output = &o;
    peer_reply(p, PARSEC_OP_PREPARE_KEY_ATTESTATION, 0, &r.base);
}

static void reply_activated(struct peer *p, int with_mechanism)
{
    AttestKey__AttestationOutput__ActivateCredential ac =
        ATTEST_KEY__ATTESTATION_OUTPUT__ACTIVATE_CREDENTIAL__INIT;
    AttestKey__AttestationOutput o = ATTEST_KEY__ATTESTATION_OUTPUT__INIT;
    AttestKey__Result r = ATTEST_KEY__RESULT__INIT;
    ac.credential = (ProtobufCBinaryData){sizeof(CREDENTIAL), (uint8_t *)CREDENTIAL};
    if (with_mechanism) {
        o.mechanism_case = ATTEST_KEY__ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL;
        o.activate_credential = &ac;
    }
    r.output = &o;
    peer_reply(p, PARSEC_OP_ATTEST_KEY, 0, &r.base);
}

/* A client without bootstrap requests: implicit provider `provider`, Direct authentication. */
static struct parsec_client *scripted_client(struct peer *p, int provider)
{
    struct parsec_client *c = NULL;
    struct parsec_client_config cfg = {.endpoint = p->endpoint,
                                       .app_name = APP,
                                       .flags = PARSEC_CLIENT_SET_PROVIDER | PARSEC_CLIENT_SET_AUTH,
                                       .provider = provider,
                                       .auth_type = PARSEC_AUTH_DIRECT};
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    return c;
}

struct outs {
    uint8_t name[PARSEC_TPM_NAME_MAX], pub[PARSEC_TPM_PUBLIC_MAX], ek[PARSEC_ATTESTING_KEY_PUB_MAX];
    size_t name_len, pub_len, ek_len;
};

static int prepare(struct parsec_client *c, const char *attesting, struct outs *o, size_t name_size,
                   size_t pub_size, size_t ek_size)
{
    return parsec_prepare_activate_credential(c, "key", attesting, o->name, name_size, &o->name_len,
                                              o->pub, pub_size, &o->pub_len, o->ek, ek_size,
                                              &o->ek_len);
}

static int prepare_full(struct parsec_client *c, struct outs *o)
{
    return prepare(c, NULL, o, sizeof(o->name), sizeof(o->pub), sizeof(o->ek));
}

static void assert_sent_to_tpm(const struct peer_request *lp, const struct peer_request *op,
                               uint32_t opcode)
{
    assert_int_equal(lp->hdr.opcode, PARSEC_OP_LIST_PROVIDERS);
    assert_int_equal(lp->hdr.provider, PARSEC_PROVIDER_CORE);
    assert_int_equal(op->hdr.opcode, opcode);
    assert_int_equal(op->hdr.provider, PARSEC_PROVIDER_TPM);
    assert_int_equal(op->hdr.auth_type, PARSEC_AUTH_DIRECT);
    assert_int_equal(op->auth_len, strlen(APP));
    assert_memory_equal(op->auth, APP, strlen(APP));
}

/* Each function asks ListProviders, then sends to provider 3, even when the implicit provider
 * is another one or Core. */
static void test_route(void **state)
{
    (void)state;
    struct peer p;
    struct outs o;
    uint8_t cred[PARSEC_TPM_CREDENTIAL_MAX];
    size_t cred_len = 0;
    const uint8_t blob[50] = {1}, secret[256] = {2};
    peer_init(&p);
    for (int i = 0; i < 2; i++) {
        reply_with_tpm(&p);
        reply_prepared(&p, 1);
        reply_with_tpm(&p);
        reply_activated(&p, 1);
    }
    peer_run(&p);
    static const int implicit[] = {PARSEC_PROVIDER_MBED_CRYPTO, PARSEC_PROVIDER_CORE};
    for (int i = 0; i < 2; i++) {
        struct parsec_client *c = scripted_client(&p, implicit[i]);
        memset(&o, 0, sizeof(o));
        assert_int_equal(prepare_full(c, &o), 0);
        assert_int_equal(o.name_len, sizeof(NAME));
        assert_memory_equal(o.name, NAME, sizeof(NAME));
        assert_int_equal(o.pub_len, sizeof(PUBLIC));
        assert_memory_equal(o.pub, PUBLIC, sizeof(PUBLIC));
        assert_int_equal(o.ek_len, sizeof(EK));
        assert_memory_equal(o.ek, EK, sizeof(EK));
        assert_int_equal(parsec_activate_credential(c, "key", NULL, blob, sizeof(blob), secret,
                                                    sizeof(secret), cred, sizeof(cred), &cred_len),
                         0);
        assert_int_equal(cred_len, sizeof(CREDENTIAL));
        assert_memory_equal(cred, CREDENTIAL, sizeof(CREDENTIAL));
        parsec_client_free(c);
    }
    peer_stop(&p);
    assert_int_equal(p.nreq, 8);
    for (size_t i = 0; i < 8; i += 4) {
        assert_sent_to_tpm(&p.req[i], &p.req[i + 1], PARSEC_OP_PREPARE_KEY_ATTESTATION);
        assert_sent_to_tpm(&p.req[i + 2], &p.req[i + 3], PARSEC_OP_ATTEST_KEY);
    }
}

/* A service that does not list the TPM provider: NoProvider, and nothing else is sent. */
static void test_no_tpm_listed(void **state)
{
    (void)state;
    struct peer p;
    struct outs o;
    uint8_t cred[PARSEC_TPM_CREDENTIAL_MAX];
    size_t cred_len = 1;
    static const uint32_t ids[] = {PARSEC_PROVIDER_MBED_CRYPTO, PARSEC_PROVIDER_PKCS11, 0};
    peer_init(&p);
    reply_providers(&p, ids, 3);
    reply_providers(&p, ids, 3);
    peer_run(&p);
    struct parsec_client *c = scripted_client(&p, PARSEC_PROVIDER_TPM);
    o.name_len = o.pub_len = o.ek_len = 1;
    assert_int_equal(prepare_full(c, &o), PARSEC_ERROR_NO_PROVIDER);
    assert_int_equal(o.name_len + o.pub_len + o.ek_len, 0);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, cred, 1, cred, 1, cred, sizeof(cred), &cred_len),
        PARSEC_ERROR_NO_PROVIDER);
    assert_int_equal(cred_len, 0);
    parsec_client_free(c);
    peer_stop(&p);
    assert_int_equal(p.nreq, 2);
    assert_int_equal(p.req[0].hdr.opcode, PARSEC_OP_LIST_PROVIDERS);
    assert_int_equal(p.req[1].hdr.opcode, PARSEC_OP_LIST_PROVIDERS);
}

/* Too small: nothing written, the needed lengths given. Replies without the ActivateCredential
 * output are encoding errors. */
static void test_buffers_and_replies(void **state)
{
    (void)state;
    struct peer p;
    struct outs o;
    uint8_t cred[PARSEC_TPM_CREDENTIAL_MAX];
    size_t cred_len = 0;
    peer_init(&p);
    for (int i = 0; i < 4; i++) {
        reply_with_tpm(&p);
        reply_prepared(&p, 1);
    }
    reply_with_tpm(&p);
    reply_prepared(&p, 0);
    reply_with_tpm(&p);
    reply_activated(&p, 1);
    reply_with_tpm(&p);
    reply_activated(&p, 0);
    peer_run(&p);
    struct parsec_client *c = scripted_client(&p, PARSEC_PROVIDER_TPM);
    /* One buffer too small at a time: none of the three is written. */
    const size_t sizes[3][3] = {{sizeof(NAME) - 1, sizeof(o.pub), sizeof(o.ek)},
                                {sizeof(o.name), sizeof(PUBLIC) - 1, sizeof(o.ek)},
                                {sizeof(o.name), sizeof(o.pub), sizeof(EK) - 1}};
    for (int i = 0; i < 3; i++) {
        memset(&o, 0xee, sizeof(o));
        assert_int_equal(prepare(c, NULL, &o, sizes[i][0], sizes[i][1], sizes[i][2]),
                         PARSEC_ERROR_BUFFER_TOO_SMALL);
        assert_int_equal(o.name_len, sizeof(NAME));
        assert_int_equal(o.pub_len, sizeof(PUBLIC));
        assert_int_equal(o.ek_len, sizeof(EK));
        for (size_t k = 0; k < sizeof(o.name); k++)
            assert_int_equal(o.name[k], 0xee);
        for (size_t k = 0; k < sizeof(o.pub); k++)
            assert_int_equal(o.pub[k], 0xee);
        for (size_t k = 0; k < sizeof(o.ek); k++)
            assert_int_equal(o.ek[k], 0xee);
    }
    /* NULL buffers of size 0: a query of the lengths. */
    size_t nl = 0, pl = 0, el = 0;
    assert_int_equal(parsec_prepare_activate_credential(c, "key", NULL, NULL, 0, &nl, NULL, 0, &pl,
                                                        NULL, 0, &el),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(nl, sizeof(NAME));
    assert_int_equal(pl, sizeof(PUBLIC));
    assert_int_equal(el, sizeof(EK));
    o.name_len = 1;
    assert_int_equal(prepare_full(c, &o), PARSEC_ERROR_ENCODING);
    assert_int_equal(o.name_len, 0);

    memset(cred, 0xee, sizeof(cred));
    assert_int_equal(parsec_activate_credential(c, "key", NULL, cred, 1, cred, 1, cred,
                                                sizeof(CREDENTIAL) - 1, &cred_len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(cred_len, sizeof(CREDENTIAL));
    for (size_t k = 0; k < sizeof(cred); k++)
        assert_int_equal(cred[k], 0xee);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, cred, 1, cred, 1, cred, sizeof(cred), &cred_len),
        PARSEC_ERROR_ENCODING);
    assert_int_equal(cred_len, 0);
    parsec_client_free(c);
    peer_stop(&p);
    assert_int_equal(p.nreq, 14);
}

/* The real service with the Mbed Crypto provider alone: NoProvider. Bad arguments are refused
 * before anything is sent. */
static void test_service_without_tpm(void **state)
{
    (void)state;
    struct daemon d;
    struct outs o;
    uint8_t buf[64];
    size_t len = 0;
    daemon_start(&d, E2E_CONFIG_DIRECT);
    struct parsec_client *c = tu_client(&d, APP);
    assert_int_equal(parsec_client_provider(c), PARSEC_PROVIDER_MBED_CRYPTO);
    assert_int_equal(parsec_ecc_key_create(c, "key"), 0);
    assert_int_equal(prepare_full(c, &o), PARSEC_ERROR_NO_PROVIDER);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, buf, 16, buf, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_NO_PROVIDER);
    /* The request itself would have been refused by the service. */
    assert_int_equal(parsec_client_set_provider(c, PARSEC_PROVIDER_TPM), 0);
    assert_int_equal(prepare_full(c, &o), PARSEC_ERROR_NO_PROVIDER);

    /* Arguments. */
    char *longname = malloc(PARSEC_KEY_NAME_MAX + 2);
    assert_non_null(longname);
    memset(longname, 'k', PARSEC_KEY_NAME_MAX + 1);
    longname[PARSEC_KEY_NAME_MAX + 1] = '\0';
    assert_int_equal(parsec_prepare_activate_credential(c, NULL, NULL, o.name, sizeof(o.name),
                                                        &o.name_len, o.pub, sizeof(o.pub),
                                                        &o.pub_len, o.ek, sizeof(o.ek), &o.ek_len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(prepare(c, longname, &o, sizeof(o.name), sizeof(o.pub), sizeof(o.ek)),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_prepare_activate_credential(c, "key", NULL, o.name, sizeof(o.name),
                                                        NULL, o.pub, sizeof(o.pub), &o.pub_len,
                                                        o.ek, sizeof(o.ek), &o.ek_len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_prepare_activate_credential(c, "key", NULL, o.name, sizeof(o.name),
                                                        &o.name_len, o.pub, sizeof(o.pub), NULL,
                                                        o.ek, sizeof(o.ek), &o.ek_len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(parsec_prepare_activate_credential(c, "key", NULL, o.name, sizeof(o.name),
                                                        &o.name_len, o.pub, sizeof(o.pub),
                                                        &o.pub_len, o.ek, sizeof(o.ek), NULL),
                     PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(prepare_full(NULL, &o), PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(c, NULL, NULL, buf, 16, buf, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(c, "key", longname, buf, 16, buf, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, NULL, 16, buf, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, buf, 16, NULL, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(c, "key", NULL, buf, 16, buf, 16, buf, sizeof(buf), NULL),
        PARSEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        parsec_activate_credential(NULL, "key", NULL, buf, 16, buf, 16, buf, sizeof(buf), &len),
        PARSEC_ERROR_INVALID_ARGUMENT);
    free(longname);
    assert_int_equal(parsec_client_set_provider(c, PARSEC_PROVIDER_MBED_CRYPTO), 0);
    assert_int_equal(parsec_destroy_key(c, "key"), 0);
    parsec_client_free(c);
    daemon_cleanup(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_no_tpm_listed),
        cmocka_unit_test(test_buffers_and_replies),
        cmocka_unit_test(test_service_without_tpm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
