/* Client creation: the bootstrap requests and choices of the Rust BasicClient
 * (parsec-tool-and-clients.md §5.2-5.4), checked against the real daemon and, for lists the
 * daemon never returns, against the scripted peer (whose record shows what was sent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "list_authenticators.pb-c.h"
#include "list_providers.pb-c.h"
#include "peer.h"
#include "util.h"

static struct daemon g_d;

static int teardown(void **state)
{
    (void)state;
    daemon_cleanup(&g_d);
    memset(&g_d, 0, sizeof(g_d));
    return 0;
}

static void test_unix_peer_service(void **state)
{
    (void)state;
    struct parsec_client *c = NULL;
    daemon_start(&g_d, E2E_CONFIG_UNIX);
    /* No app name needed: Unix peer credentials are chosen. */
    assert_int_equal(tu_client_cfg(g_d.sock, NULL, 0, 0, 0, &c), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(parsec_client_provider(c), PARSEC_PROVIDER_MBED_CRYPTO);
    assert_int_equal(parsec_ecc_key_create(c, "uid-key"), 0);
    /* The key belongs to the uid: listed for this client. */
    struct parsec_key_attributes a;
    assert_int_equal(parsec_key_attributes(c, "uid-key", &a, NULL), 0);
    /* Forcing Direct against a Unix-peer service fails in the service. */
    assert_int_equal(parsec_client_set_auth_direct(c, "someone"), 0);
    assert_int_equal(parsec_ecc_key_create(c, "k2"), PARSEC_ERROR_AUTHENTICATOR_NOT_REGISTERED);
    assert_int_equal(parsec_client_set_auth_unix_peer(c), 0);
    assert_int_equal(parsec_destroy_key(c, "uid-key"), 0);
    parsec_client_free(c);
    teardown(NULL);
}

static void test_direct_service(void **state)
{
    (void)state;
    struct parsec_client *c = NULL;
    daemon_start(&g_d, E2E_CONFIG_DIRECT);
    /* Direct listed first and no app name: an error at once, as in the original. */
    assert_int_equal(tu_client_cfg(g_d.sock, NULL, 0, 0, 0, &c), PARSEC_ERROR_MISSING_PARAM);
    assert_null(c);
    assert_int_equal(tu_client_cfg(g_d.sock, "app-a", 0, 0, 0, &c), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_DIRECT);
    assert_int_equal(parsec_ecc_key_create(c, "a-key"), 0);
    parsec_client_free(c);

    /* Explicit settings: no bootstrap request is needed for them. */
    assert_int_equal(tu_client_cfg(g_d.sock, "app-a",
                                   PARSEC_CLIENT_SET_AUTH | PARSEC_CLIENT_SET_PROVIDER, 1,
                                   PARSEC_AUTH_DIRECT, &c),
                     0);
    struct parsec_key_attributes a;
    assert_int_equal(parsec_key_attributes(c, "a-key", &a, NULL), 0);
    parsec_client_free(c);
    /* Naked: Core, no authentication. */
    assert_int_equal(tu_client_cfg(g_d.sock, "app-a", PARSEC_CLIENT_NAKED, 0, 0, &c), 0);
    assert_int_equal(parsec_client_provider(c), PARSEC_PROVIDER_CORE);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_NONE);
    assert_int_equal(parsec_ping(c, NULL, NULL), 0);
    uint8_t r[4];
    assert_int_equal(parsec_generate_random(c, r, sizeof(r)), PARSEC_ERROR_INVALID_PROVIDER);
    /* The application picks a provider and an identity afterwards. */
    assert_int_equal(parsec_client_set_provider(c, 1), 0);
    assert_int_equal(parsec_client_set_auth_direct(c, "app-a"), 0);
    assert_int_equal(parsec_destroy_key(c, "a-key"), 0);
    parsec_client_free(c);
    teardown(NULL);
}

/* A ListProviders reply with the given provider ids. */
static void reply_providers(struct peer *p, const uint32_t *ids, size_t n, const char *uuid)
{
    ListProviders__ProviderInfo info[4], *ptrs[4];
    ListProviders__Result r = LIST_PROVIDERS__RESULT__INIT;
    for (size_t i = 0; i < n; i++) {
        list_providers__provider_info__init(&info[i]);
        info[i].id = ids[i];
        info[i].uuid = (char *)uuid;
        info[i].description = (char *)"d";
        info[i].vendor = (char *)"";
        ptrs[i] = &info[i];
    }
    r.n_providers = n;
    r.providers = ptrs;
    peer_reply(p, PARSEC_OP_LIST_PROVIDERS, 0, &r.base);
}

static void reply_auths(struct peer *p, const uint32_t *ids, size_t n)
{
    ListAuthenticators__AuthenticatorInfo info[4], *ptrs[4];
    ListAuthenticators__Result r = LIST_AUTHENTICATORS__RESULT__INIT;
    for (size_t i = 0; i < n; i++) {
        list_authenticators__authenticator_info__init(&info[i]);
        info[i].id = ids[i];
        info[i].description = (char *)"a";
        ptrs[i] = &info[i];
    }
    r.n_authenticators = n;
    r.authenticators = ptrs;
    peer_reply(p, PARSEC_OP_LIST_AUTHENTICATORS, 0, &r.base);
}

static const char UUID_MBED[] = "1c1139dc-ad7c-47dc-ad6b-db6fdb466552";

static int new_for(struct peer *p, const char *app, struct parsec_client **c)
{
    struct parsec_client_config cfg = {.endpoint = p->endpoint, .app_name = app};
    return parsec_client_new(c, &cfg);
}

static void test_choices(void **state)
{
    (void)state;
    struct peer p;
    struct parsec_client *c = NULL;

    /* Order of requests, their provider and auth, and the first supported authenticator:
     * JWT (2) and JWT-SVID (4) are skipped, Unix peer (3) taken before Direct (1). */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){3, 1, 0}, 3, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){2, 4, 3, 1}, 4);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), 0);
    peer_stop(&p);
    assert_int_equal(p.nreq, 2);
    assert_int_equal(p.req[0].hdr.opcode, PARSEC_OP_LIST_PROVIDERS);
    assert_int_equal(p.req[1].hdr.opcode, PARSEC_OP_LIST_AUTHENTICATORS);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(p.req[i].hdr.provider, 0);
        assert_int_equal(p.req[i].hdr.auth_type, 0);
        assert_int_equal(p.req[i].auth_len, 0);
        assert_int_equal(p.req[i].hdr.content_type, 0);
        assert_int_equal(p.req[i].hdr.accept_type, 0);
        assert_int_equal(p.req[i].hdr.session, 0);
    }
    assert_int_equal(parsec_client_provider(c), 3);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_UNIX_PEER_CREDENTIALS);

    /* The next request carries the uid, little-endian, to the implicit provider. */
    peer_init(&p);
    peer_reply(&p, PARSEC_OP_PSA_DESTROY_KEY, 0, NULL);
    peer_run(&p);
    char ep[200];
    snprintf(ep, sizeof(ep), "%s", p.endpoint);
    parsec_client_free(c);
    struct parsec_client_config cfg = {.endpoint = ep,
                                       .flags = PARSEC_CLIENT_SET_PROVIDER | PARSEC_CLIENT_SET_AUTH,
                                       .provider = 3,
                                       .auth_type = PARSEC_AUTH_UNIX_PEER_CREDENTIALS};
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    assert_int_equal(parsec_destroy_key(c, "k"), 0);
    peer_stop(&p);
    assert_int_equal(p.nreq, 1); /* nothing sent at creation */
    assert_int_equal(p.req[0].hdr.provider, 3);
    assert_int_equal(p.req[0].hdr.auth_type, PARSEC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(p.req[0].auth_len, 4);
    uint32_t uid = (uint32_t)getuid();
    const uint8_t le[4] = {(uint8_t)uid, (uint8_t)(uid >> 8), (uint8_t)(uid >> 16),
                           (uint8_t)(uid >> 24)};
    assert_memory_equal(p.req[0].auth, le, 4);
    parsec_client_free(c);

    /* Direct first: the app name is the auth field. Ping goes without authentication. */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){1, 0}, 2, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){1, 3}, 2);
    peer_reply(&p, PARSEC_OP_PSA_DESTROY_KEY, 0, NULL);
    peer_reply(&p, PARSEC_OP_PING, 0, NULL);
    peer_run(&p);
    assert_int_equal(new_for(&p, "my-app", &c), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_DIRECT);
    assert_int_equal(parsec_destroy_key(c, "k"), 0);
    uint8_t maj = 7, min = 7;
    assert_int_equal(parsec_ping(c, &maj, &min), 0);
    assert_int_equal(maj, 0); /* an empty Ping result decodes as 0.0 */
    peer_stop(&p);
    assert_int_equal(p.nreq, 4);
    assert_int_equal(p.req[2].hdr.auth_type, PARSEC_AUTH_DIRECT);
    assert_int_equal(p.req[2].auth_len, 6);
    assert_memory_equal(p.req[2].auth, "my-app", 6);
    assert_int_equal(p.req[2].hdr.provider, 1);
    assert_int_equal(p.req[3].hdr.auth_type, 0);
    assert_int_equal(p.req[3].hdr.provider, 0);
    parsec_client_free(c);

    /* Only Core: it becomes the implicit provider and crypto is refused locally. */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){0}, 1, "47049873-2a43-4845-9d72-831eab668784");
    reply_auths(&p, (const uint32_t[]){3}, 1);
    peer_run(&p);
    assert_int_equal(new_for(&p, NULL, &c), 0);
    peer_stop(&p);
    assert_int_equal(parsec_client_provider(c), 0);
    assert_int_equal(
        parsec_generate_key(c, "k",
                            &(struct parsec_key_attributes){.type = PSA_KEY_TYPE_AES, .bits = 128}),
        PARSEC_ERROR_INVALID_PROVIDER);
    parsec_client_free(c);
}

static void test_failures(void **state)
{
    (void)state;
    struct peer p;
    struct parsec_client *c = NULL;

    /* No provider. */
    peer_init(&p);
    reply_providers(&p, NULL, 0, UUID_MBED);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_NO_PROVIDER);
    peer_stop(&p);
    assert_int_equal(p.nreq, 1);

    /* No supported authenticator, and an empty list. */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){1}, 1, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){2, 0}, 2);
    reply_providers(&p, (const uint32_t[]){1}, 1, UUID_MBED);
    reply_auths(&p, NULL, 0);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_NO_AUTHENTICATOR);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_NO_AUTHENTICATOR);
    peer_stop(&p);

#ifdef PARSEC_JWT_SVID
    /* JWT-SVID alone without a Workload API socket: the error names the socket. With one,
     * JWT-SVID is chosen even before Unix peer credentials. */
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){1}, 1, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){2, 4, 0}, 3);
    reply_providers(&p, (const uint32_t[]){1}, 1, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){4, 3}, 2);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_SPIFFE_SOCKET);
    setenv(PARSEC_SPIFFE_ENDPOINT_ENV, "unix:///nonexistent/agent.sock", 1);
    assert_int_equal(new_for(&p, "x", &c), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_JWT_SVID);
    /* The token comes from the Workload API for each request: here there is none. */
    uint8_t rnd[4];
    assert_int_equal(parsec_generate_random(c, rnd, sizeof(rnd)), PARSEC_ERROR_SPIFFE);
    parsec_client_free(c);
    c = NULL;
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    peer_stop(&p);
#endif

    /* Direct before Unix peer and no app name: MissingParam, Unix peer is not tried. */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){1}, 1, UUID_MBED);
    reply_auths(&p, (const uint32_t[]){1, 3}, 2);
    peer_run(&p);
    assert_int_equal(new_for(&p, NULL, &c), PARSEC_ERROR_MISSING_PARAM);
    peer_stop(&p);

    /* Malformed lists: provider id above 5, bad UUID, unknown authenticator id. */
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){6}, 1, UUID_MBED);
    reply_providers(&p, (const uint32_t[]){1}, 1, "1c1139dc-ad7c-47dc-ad6b-db6fdb46655");
    reply_providers(&p, (const uint32_t[]){1}, 1, "1C1139DCAD7C47DCAD6BDB6FDB466552");
    reply_auths(&p, (const uint32_t[]){5}, 1);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_RESPONSE_PROVIDER);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_RESPONSE_UUID);
    /* The simple UUID form is accepted (the third reply); the authenticator id 5 is not. */
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_ENCODING);
    peer_stop(&p);

    /* A service error to a bootstrap request is returned as is. */
    peer_init(&p);
    peer_reply(&p, PARSEC_OP_PING, PARSEC_ERROR_INVALID_HEADER, NULL);
    peer_run(&p);
    assert_int_equal(new_for(&p, "x", &c), PARSEC_ERROR_INVALID_HEADER);
    peer_stop(&p);
    assert_null(c);
}

static void test_uuid_forms(void **state)
{
    (void)state;
    struct peer p;
    struct parsec_client *c = NULL;
    struct parsec_provider_info *info = NULL;
    size_t n = 0;
    peer_init(&p);
    reply_providers(&p, (const uint32_t[]){1}, 1, "{1C1139DC-AD7C-47DC-AD6B-DB6FDB466552}");
    reply_providers(&p, (const uint32_t[]){1}, 1, "urn:uuid:1c1139dcad7c47dcad6bdb6fdb466552");
    peer_run(&p);
    struct parsec_client_config cfg = {.endpoint = p.endpoint, .flags = PARSEC_CLIENT_NAKED};
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(parsec_list_providers(c, &info, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(info[0].uuid, UUID_MBED);
        parsec_provider_info_free(info, n);
    }
    peer_stop(&p);
    parsec_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_unix_peer_service, teardown),
        cmocka_unit_test_teardown(test_direct_service, teardown),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_uuid_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
