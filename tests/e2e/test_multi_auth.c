/* Several authenticators at once ([[extra_authenticator]]): the header's auth type picks one
 * of those configured, ListAuthenticators lists them in configuration order, an application
 * of one authenticator is never the same tenant as an equally named one of another, and each
 * authenticator has its own administrators. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "e2e_psa.h"
#include "list_authenticators.pb-c.h"

static struct daemon D;

static int teardown(void **state)
{
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return e2e_arena_free(state);
}

#define HEAD                                                                                       \
    "[core_settings]\nallow_root = true\nthread_pool_size = 2\nlog_level = \"info\"\n"             \
    "[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 500\n"                                \
    "socket_path = \"@DIR@/parsec.sock\"\n"
#define SQLITE_TAIL                                                                                \
    "[[key_manager]]\nname = \"m\"\nmanager_type = \"SQLite\"\n"                                   \
    "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n"                                            \
    "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"m\"\n"                     \
    "key_store_path = \"@DIR@/keys\"\n"

static Attrs *ecdsa_attrs(void)
{
    return attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH | U_EXPORT,
                 alg_sig(SIG_ECDSA, HASH(SHA_256)));
}

static struct buf public_of(const struct caller *c, const char *name)
{
    struct buf pub;
    assert_int_equal(op_export_public(c, name, &pub), 0);
    return pub;
}

static size_t n_keys(const struct caller *c)
{
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(c, &r), 0);
    return r->n_keys;
}

/* The ids ListAuthenticators reports, in its order, as a string of digits. */
static const char *auth_ids(void)
{
    ProtobufCMessage *res;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_AUTHENTICATORS, NULL, NULL,
                              &list_authenticators__result__descriptor, &res),
                     0);
    ListAuthenticators__Result *la = (ListAuthenticators__Result *)res;
    char *s = e2e_alloc(16);
    for (size_t i = 0; i < la->n_authenticators && i < 8; i++)
        s[i] = (char)('0' + la->authenticators[i]->id);
    protobuf_c_message_free_unpacked(res, NULL);
    return s;
}

/* Direct first, Unix peer credentials beside it: the name "<uid>" of Direct and the uid of
 * this process are two tenants; admins are per authenticator. */
static void direct_and_peer(void **state)
{
    (void)state;
    char uid[16], config[2048];
    uint32_t u = (uint32_t)geteuid();
    snprintf(uid, sizeof(uid), "%u", u);
    snprintf(config, sizeof(config),
             HEAD "[authenticator]\nauth_type = \"Direct\"\nadmins = [ { name = \"admin\" } ]\n"
                  "[[extra_authenticator]]\nauth_type = \"UnixPeerCredentials\"\n"
                  "admins = [ { name = \"%s\" } ]\n" SQLITE_TAIL,
             uid);
    daemon_start(&D, config);
    assert_string_equal(auth_ids(), "13");

    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    struct caller peer = {.sock = D.sock,
                          .app = uid,
                          .auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS,
                          .auth = le,
                          .auth_len = 4};
    struct caller direct = {.sock = D.sock, .app = uid}, admin = {.sock = D.sock, .app = "admin"};
    struct caller jwt = {
        .sock = D.sock, .auth_type = PSC_AUTH_JWT_SVID, .auth = "x", .auth_len = 1};

    /* Not configured: 13, as with one authenticator. */
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&jwt, &lk), PSC_AUTHENTICATOR_NOT_REGISTERED);

    /* The same key name under both: two keys, neither sees the other's. */
    assert_int_equal(op_generate(&peer, "k", ecdsa_attrs()), 0);
    assert_int_equal(n_keys(&direct), 0);
    struct buf none;
    assert_int_equal(op_export_public(&direct, "k", &none), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&direct, "k"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_generate(&direct, "k", ecdsa_attrs()), 0);
    assert_false(buf_eq(public_of(&peer, "k"), public_of(&direct, "k")));
    assert_int_equal(n_keys(&peer), 1);
    assert_int_equal(n_keys(&direct), 1);

    /* Admins per authenticator: the uid is admin by peer credentials, not as a Direct name. */
    ListClients__Result *lc;
    assert_int_equal(op_list_clients(&direct, &lc), PSC_ADMIN_OPERATION);
    assert_int_equal(op_list_clients(&peer, &lc), 0);
    assert_int_equal(op_list_clients(&admin, &lc), 0);

    /* DeleteClient removes the application of the caller's authenticator only. */
    assert_int_equal(op_delete_client(&admin, uid), 0);
    assert_int_equal(n_keys(&direct), 0);
    assert_int_equal(n_keys(&peer), 1);
    assert_int_equal(op_delete_client(&peer, uid), 0);
    assert_int_equal(n_keys(&peer), 0);

    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* The order of ListAuthenticators is the configuration's, [authenticator] first. */
static void order_follows_configuration(void **state)
{
    (void)state;
    daemon_start(&D, HEAD "[authenticator]\nauth_type = \"UnixPeerCredentials\"\n"
                          "[[extra_authenticator]]\nauth_type = \"Direct\"\n" SQLITE_TAIL);
    assert_string_equal(auth_ids(), "31");
    struct caller direct = {.sock = D.sock, .app = "alice"};
    assert_int_equal(n_keys(&direct), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* Start-up refuses what would mix tenants or be ambiguous. */
static void refused_configurations(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* the same type twice */
        HEAD "[authenticator]\nauth_type = \"Direct\"\n"
             "[[extra_authenticator]]\nauth_type = \"Direct\"\n" SQLITE_TAIL,
        HEAD "[authenticator]\nauth_type = \"Direct\"\n"
             "[[extra_authenticator]]\nauth_type = \"UnixPeerCredentials\"\n"
             "[[extra_authenticator]]\nauth_type = \"UnixPeerCredentials\"\n" SQLITE_TAIL,
        /* the on-disk store cannot tell two authenticators' applications apart */
        HEAD "[authenticator]\nauth_type = \"Direct\"\n"
             "[[extra_authenticator]]\nauth_type = \"UnixPeerCredentials\"\n"
             "[[key_manager]]\nname = \"m\"\nmanager_type = \"OnDisk\"\n"
             "store_path = \"@DIR@/mappings\"\n"
             "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"m\"\n"
             "key_store_path = \"@DIR@/keys\"\n",
        /* an entry without its type */
        HEAD "[authenticator]\nauth_type = \"Direct\"\n"
             "[[extra_authenticator]]\nadmins = [ { name = \"a\" } ]\n" SQLITE_TAIL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        daemon_prepare(&D, bad[i]);
        assert_int_equal(daemon_launch(&D, NULL), -1);
        daemon_cleanup(&D);
        memset(&D, 0, sizeof(D));
    }
    /* One [authenticator] and an OnDisk store: unchanged. */
    daemon_start(&D, HEAD "[authenticator]\nauth_type = \"Direct\"\n"
                          "[[key_manager]]\nname = \"m\"\nmanager_type = \"OnDisk\"\n"
                          "store_path = \"@DIR@/mappings\"\n"
                          "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = "
                          "\"m\"\nkey_store_path = \"@DIR@/keys\"\n");
    assert_string_equal(auth_ids(), "1");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(direct_and_peer, teardown),
        cmocka_unit_test_teardown(order_follows_configuration, teardown),
        cmocka_unit_test_teardown(refused_configurations, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
