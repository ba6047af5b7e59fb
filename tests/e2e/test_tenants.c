/* Key namespaces of applications (operations.md §4-§5, key-info-manager.md §1.2): two
 * applications use the same key names independently, never see or touch each other's keys,
 * and an administrator lists and deletes applications, which removes their mappings and their
 * Mbed TLS key files. Run on both key info managers (SQLite, on-disk), with Direct
 * authentication and with Unix peer credentials (where the application is the uid string).
 *
 * The mapping stores are read here directly (sqlite3 API, file system), not through the
 * service's code. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "e2e_psa.h"

/* The daemon of the running test; stopped by the teardown if the test fails half-way. */
static struct daemon D;

static int test_teardown(void **state)
{
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return e2e_arena_free(state);
}

static const char CONFIG_ONDISK[] = "[core_settings]\n"
                                    "allow_root = true\n"
                                    "thread_pool_size = 2\n"
                                    "[listener]\n"
                                    "listener_type = \"DomainSocket\"\n"
                                    "timeout = 500\n"
                                    "socket_path = \"@DIR@/parsec.sock\"\n"
                                    "[authenticator]\n"
                                    "auth_type = \"Direct\"\n"
                                    "admins = [ { name = \"admin\" } ]\n"
                                    "[[key_manager]]\n"
                                    "name = \"on-disk-manager\"\n"
                                    "manager_type = \"OnDisk\"\n"
                                    "store_path = \"@DIR@/mappings\"\n"
                                    "[[provider]]\n"
                                    "provider_type = \"MbedCrypto\"\n"
                                    "key_info_manager = \"on-disk-manager\"\n"
                                    "key_store_path = \"@DIR@/keys\"\n";

/* How a run stores its mappings. */
struct store {
    const char *config; /* NULL: built at run time (Unix peer credentials) */
    int ondisk;
};
static const struct store SQLITE = {E2E_CONFIG_DIRECT, 0};
static const struct store ONDISK = {CONFIG_ONDISK, 1};

/* ---- storage, read directly ------------------------------------------------------------- */

/* RFC 4648 §5 base64 with padding: the on-disk store's file and folder names. */
static char *b64url(const char *s)
{
    size_t n = strlen(s);
    char *out = e2e_alloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

/* Whether the Mbed TLS file of a PSA key id exists (owner 0, then the id, in hex). */
static int key_file_exists(const struct daemon *d, uint32_t id)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/keys/00000000%08x.psa_its", d->dir, id);
    return access(path, F_OK) == 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The PSA key ids an application's mappings hold, read from the store itself. Returns the
 * number of mappings; ids[] receives up to max of them. */
static size_t stored_ids(const struct daemon *d, const struct store *st, const char *app,
                         uint8_t auth, uint32_t *ids, size_t max)
{
    size_t n = 0;
    char path[600];
    if (st->ondisk) {
        snprintf(path, sizeof(path), "%s/mappings/%s/1", d->dir, b64url(app));
        DIR *dir = opendir(path);
        if (!dir)
            return 0;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char file[900];
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            uint8_t b[12];
            FILE *f = fopen(file, "rb");
            assert_non_null(f);
            assert_int_equal(fread(b, 1, sizeof(b), f), sizeof(b));
            fclose(f);
            /* u64 length 4, then the id */
            assert_int_equal(le32(b), 4);
            assert_int_equal(le32(b + 4), 0);
            if (n < max)
                ids[n] = le32(b + 8);
            n++;
        }
        closedir(dir);
        return n;
    }
    snprintf(path, sizeof(path), "%s/kim/mappings.sqlite3", d->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT key_id FROM key_mapping WHERE application_name = "
                                        "?1 AND authenticator_id = ?2",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, app, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, auth);
    while (sqlite3_step(q) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_bytes(q, 0), 4);
        if (n < max)
            ids[n] = le32(sqlite3_column_blob(q, 0));
        n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* ---- keys and listings ------------------------------------------------------------------ */

static Attrs *ecdsa_attrs(void)
{
    return attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH | U_VERIFY_HASH | U_EXPORT,
                 alg_sig(SIG_ECDSA, HASH(SHA_256)));
}

/* Signs with the caller's key and checks with OpenSSL against the public key given. */
static int signs_for(const struct caller *c, const char *name, EVP_PKEY *pub)
{
    struct buf h = digest(HASH(SHA_256), buf_str(c->app ? c->app : "uid")), sig;
    assert_int_equal(op_sign_hash(c, name, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    return ossl_verify(pub, EVP_sha256(), PAD_NONE, h, sig);
}

static EVP_PKEY *public_of(const struct caller *c, const char *name)
{
    struct buf pub;
    assert_int_equal(op_export_public(c, name, &pub), 0);
    EVP_PKEY *k = pkey_ec_public("prime256v1", pub);
    assert_non_null(k);
    return k;
}

/* The names of ListKeys, sorted and joined with commas. */
static const char *listed(const struct caller *c)
{
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(c, &r), 0);
    const char *names[16];
    assert_true(r->n_keys <= 16);
    for (size_t i = 0; i < r->n_keys; i++) {
        assert_int_equal(r->keys[i]->provider_id, 1);
        names[i] = r->keys[i]->name;
    }
    /* insertion sort: at most a few names */
    for (size_t i = 1; i < r->n_keys; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    char *s = e2e_alloc(1024);
    for (size_t i = 0; i < r->n_keys; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, names[i]);
    }
    return s;
}

static const char *clients(const struct caller *c)
{
    ListClients__Result *r;
    assert_int_equal(op_list_clients(c, &r), 0);
    char *s = e2e_alloc(1024);
    for (size_t i = 0; i < r->n_clients; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, r->clients[i]);
    }
    return s;
}

/* Every operation bob may try on a key of alice's answers 1140, as for a key nobody has. */
static void invisible(const struct caller *c, const char *name)
{
    struct buf out, h = digest(HASH(SHA_256), buf_str("probe")),
                    k16 = buf_copy("0123456789abcdef", 16);
    SigAlg *s = sig_alg(SIG_ECDSA, HASH(SHA_256));
    assert_int_equal(op_sign_hash(c, name, s, h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_verify_hash(c, name, s, h, h), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_sign_message(c, name, s, h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_verify_message(c, name, s, h, h), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export_public(c, name, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export(c, name, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_asym_encrypt(c, name, enc_alg(0), h, buf_none(), &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_asym_decrypt(c, name, enc_alg(0), h, buf_none(), &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_aead_encrypt(c, name, aead_alg(AEAD(GCM), 0), k16, buf_none(), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_aead_decrypt(c, name, aead_alg(AEAD(GCM), 0), k16, buf_none(), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_cipher_encrypt(c, name, CIPHER(CTR), h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_cipher_decrypt(c, name, CIPHER(CTR), h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_raw_key_agreement(c, name, KA_ECDH, h, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(c, name), PSC_PSA_DOES_NOT_EXIST);
}

/* ---- Direct authentication: alice, bob and an administrator ----------------------------- */

static void two_applications(void **state)
{
    const struct store *st = *state;
    daemon_start(&D, st->config);
    struct caller alice = {.sock = D.sock, .app = "alice"}, bob = {.sock = D.sock, .app = "bob"},
                  admin = {.sock = D.sock, .app = "admin"},
                  carol = {.sock = D.sock, .app = "carol"};

    /* bob first, so that listing order is not creation order. */
    assert_int_equal(op_generate(&bob, "shared", ecdsa_attrs()), 0);
    assert_int_equal(
        op_generate(&bob, "bob-only",
                    attrs(key_type(KT_AES, 0), 128, U_ENCRYPT | U_DECRYPT, alg_aead(AEAD(GCM), 0))),
        0);
    assert_int_equal(op_generate(&alice, "shared", ecdsa_attrs()), 0);
    assert_int_equal(op_generate(&alice, "alice-only", ecdsa_attrs()), 0);
    assert_int_equal(daemon_count_key_files(&D), 4);

    /* The same name, two keys: each signs with its own. */
    EVP_PKEY *alice_shared = public_of(&alice, "shared"), *bob_shared = public_of(&bob, "shared");
    EVP_PKEY *alice_only = public_of(&alice, "alice-only");
    assert_int_equal(EVP_PKEY_eq(alice_shared, bob_shared), 0);
    assert_true(signs_for(&alice, "shared", alice_shared));
    assert_false(signs_for(&alice, "shared", bob_shared));
    assert_true(signs_for(&bob, "shared", bob_shared));
    assert_false(signs_for(&bob, "shared", alice_shared));
    /* Destroying one leaves the other. */
    assert_int_equal(op_destroy(&bob, "shared"), 0);
    assert_true(signs_for(&alice, "shared", alice_shared));
    assert_int_equal(op_generate(&bob, "shared", ecdsa_attrs()), 0);
    bob_shared = public_of(&bob, "shared");
    assert_int_equal(op_generate(&bob, "shared", ecdsa_attrs()), PSC_PSA_ALREADY_EXISTS);

    /* bob cannot reach alice's key in any way, nor learn that it exists. */
    invisible(&bob, "alice-only");
    invisible(&carol, "alice-only");
    invisible(&carol, "shared");
    assert_true(signs_for(&alice, "alice-only", alice_only));
    /* ...and may have his own key of that name, which is not alice's. */
    assert_int_equal(op_generate(&bob, "alice-only", ecdsa_attrs()), 0);
    assert_int_equal(EVP_PKEY_eq(public_of(&bob, "alice-only"), alice_only), 0);
    assert_int_equal(op_destroy(&bob, "alice-only"), 0);
    assert_true(signs_for(&alice, "alice-only", alice_only));

    /* ListKeys: each application its own keys, with their attributes. */
    assert_string_equal(listed(&alice), "alice-only,shared");
    assert_string_equal(listed(&bob), "bob-only,shared");
    assert_string_equal(listed(&carol), "");
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&bob, &lk), 0);
    const ListKeys__KeyInfo *ki = list_find(lk, "bob-only");
    assert_non_null(ki);
    assert_int_equal(ki->attributes->key_type->variant_case,
                     PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_AES);
    assert_int_equal(ki->attributes->key_bits, 128);
    assert_int_equal(ki->attributes->key_policy->key_algorithm->variant_case,
                     PSA_ALGORITHM__ALGORITHM__VARIANT_AEAD);
    assert_true(ki->attributes->key_policy->key_usage_flags->decrypt);
    assert_false(ki->attributes->key_policy->key_usage_flags->export);

    /* ListClients: admin only; both applications, sorted, once each. */
    assert_string_equal(clients(&admin), "alice,bob");
    ListClients__Result *lc;
    assert_int_equal(op_list_clients(&alice, &lc), PSC_ADMIN_OPERATION);
    assert_int_equal(op_delete_client(&bob, "alice"), PSC_ADMIN_OPERATION);
    assert_string_equal(listed(&alice), "alice-only,shared");

    /* DeleteClient(alice): her mappings and her key files go, bob's stay. */
    uint32_t a_ids[4], b_ids[4];
    assert_int_equal(stored_ids(&D, st, "alice", PSC_AUTH_DIRECT, a_ids, 4), 2);
    assert_int_equal(stored_ids(&D, st, "bob", PSC_AUTH_DIRECT, b_ids, 4), 2);
    for (int i = 0; i < 2; i++) {
        assert_true(key_file_exists(&D, a_ids[i]));
        assert_true(key_file_exists(&D, b_ids[i]));
    }
    assert_int_equal(daemon_count_key_files(&D), 4);
    assert_int_equal(op_delete_client(&admin, "alice"), 0);
    assert_int_equal(daemon_count_key_files(&D), 2);
    assert_int_equal(stored_ids(&D, st, "alice", PSC_AUTH_DIRECT, a_ids + 2, 2), 0);
    for (int i = 0; i < 2; i++) {
        assert_false(key_file_exists(&D, a_ids[i]));
        assert_true(key_file_exists(&D, b_ids[i]));
    }
    assert_string_equal(listed(&alice), "");
    invisible(&alice, "shared");
    assert_string_equal(clients(&admin), "bob");
    assert_string_equal(listed(&bob), "bob-only,shared");
    assert_true(signs_for(&bob, "shared", bob_shared));
    struct buf ct, pt = buf_str("still here"), nonce = buf_copy("twelve bytes", 12);
    assert_int_equal(
        op_aead_encrypt(&bob, "bob-only", aead_alg(AEAD(GCM), 0), nonce, buf_none(), pt, &ct), 0);
    assert_int_equal(
        op_aead_decrypt(&bob, "bob-only", aead_alg(AEAD(GCM), 0), nonce, buf_none(), ct, &pt), 0);
    /* Deleting a client that owns nothing is a success that changes nothing. */
    assert_int_equal(op_delete_client(&admin, "alice"), 0);
    assert_int_equal(op_delete_client(&admin, "nobody"), 0);
    assert_int_equal(daemon_count_key_files(&D), 2);

    /* alice starts afresh; the name is hers again. */
    assert_int_equal(op_generate(&alice, "shared", ecdsa_attrs()), 0);
    assert_int_equal(EVP_PKEY_eq(public_of(&alice, "shared"), alice_shared), 0);

    /* After a restart the same state is read back. */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_string_equal(listed(&alice), "shared");
    assert_string_equal(listed(&bob), "bob-only,shared");
    assert_string_equal(clients(&admin), "alice,bob");
    assert_true(signs_for(&bob, "shared", bob_shared));
    assert_int_equal(daemon_count_key_files(&D), 3);

    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* ---- Unix peer credentials: the application is the uid as a decimal string ------------- */

static void unix_peer_credentials(void **state)
{
    const struct store *st = *state;
    char uid[16], config[2048];
    uint32_t u = (uint32_t)geteuid();
    snprintf(uid, sizeof(uid), "%u", u);
    const char *base = st->ondisk ? CONFIG_ONDISK : E2E_CONFIG_DIRECT;
    const char *auth = strstr(base, "auth_type");
    const char *kim = strstr(base, "[[key_manager]]");
    assert_true(auth && kim);
    snprintf(config, sizeof(config),
             "%.*sauth_type = \"UnixPeerCredentials\"\nadmins = [ { name = \"%s\" } ]\n%s",
             (int)(auth - base), base, uid, kim);
    daemon_start(&D, config);
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    struct caller me = {
        .sock = D.sock, .auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS, .auth = le, .auth_len = 4};
    /* The uid string is the application name for signing purposes too. */
    me.app = uid;

    assert_int_equal(op_generate(&me, "mine", ecdsa_attrs()), 0);
    assert_int_equal(op_generate(&me, "mine-too", ecdsa_attrs()), 0);
    assert_true(signs_for(&me, "mine", public_of(&me, "mine")));
    assert_string_equal(listed(&me), "mine,mine-too");
    uint32_t ids[4];
    assert_int_equal(stored_ids(&D, st, uid, PSC_AUTH_UNIX_PEER_CREDENTIALS, ids, 4), 2);
    if (!st->ondisk) /* nothing is stored under the Direct authenticator's id */
        assert_int_equal(stored_ids(&D, st, uid, PSC_AUTH_DIRECT, ids + 2, 2), 0);
    assert_true(key_file_exists(&D, ids[0]));
    assert_true(key_file_exists(&D, ids[1]));
    /* A Direct-authenticated client of the same name is refused, not let in. */
    struct caller direct = {.sock = D.sock, .app = uid};
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&direct, &lk), PSC_AUTHENTICATOR_NOT_REGISTERED);
    /* Another uid is not this one. */
    uint8_t other[4] = {(uint8_t)(le[0] ^ 1), le[1], le[2], le[3]};
    struct caller liar = me;
    liar.auth = other;
    assert_int_equal(op_list_keys(&liar, &lk), PSC_AUTHENTICATION_ERROR);

    /* This uid is the administrator: it lists and deletes itself. */
    assert_string_equal(clients(&me), uid);
    assert_int_equal(op_delete_client(&me, uid), 0);
    assert_string_equal(listed(&me), "");
    assert_int_equal(daemon_count_key_files(&D), 0);
    assert_false(key_file_exists(&D, ids[0]));
    assert_int_equal(stored_ids(&D, st, uid, PSC_AUTH_UNIX_PEER_CREDENTIALS, ids, 4), 0);
    assert_string_equal(clients(&me), "");

    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

int main(void)
{
#define T(f, st)                                                                                   \
    {                                                                                              \
#f "/" #st, f, NULL, test_teardown, (void *)&st                                            \
    }
    const struct CMUnitTest tests[] = {
        T(two_applications, SQLITE),
        T(two_applications, ONDISK),
        T(unix_peer_credentials, SQLITE),
        T(unix_peer_credentials, ONDISK),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
