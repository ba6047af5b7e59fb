/* The JwtSvid authenticator end to end: the daemon validates tokens through a SPIFFE Workload
 * API (workload_api.py, on a Unix socket in the daemon's folder) that signs its own tokens and
 * checks them as an agent does, or misbehaves when told to. Covers the original's multitenancy
 * scenario under JwtSvid, under UnixPeerCredentials (root and nobody), and under Direct,
 * UnixPeerCredentials and JwtSvid configured at once, libparsec and parsec-tool with JWT-SVID,
 * refused tokens, and a Workload API that is down, slow or hostile: every such request gets 11
 * and the service keeps serving. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_psa.h"
#include "list_authenticators.pb-c.h"
#include "parsec/client.h"

static struct daemon D;
static pid_t WAPI = -1;

static void wapi_stop(void)
{
    if (WAPI > 0) {
        kill(WAPI, SIGKILL);
        while (waitpid(WAPI, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    WAPI = -1;
}

static int teardown(void **state)
{
    wapi_stop();
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return e2e_arena_free(state);
}

static const char *wapi_sock(void)
{
    char *s = e2e_alloc(400);
    snprintf(s, 400, "%s/wapi.sock", D.dir);
    return s;
}

/* Starts the Workload API in the daemon's folder and waits until it accepts connections. */
static void wapi_start(void)
{
    char key[400];
    snprintf(key, sizeof(key), "%s/wapi.key", D.dir);
    const char *sock = wapi_sock();
    WAPI = fork();
    assert_true(WAPI >= 0);
    if (WAPI == 0) {
        execl(PYTHON3, PYTHON3, WORKLOAD_API, "serve", sock, key, (char *)NULL);
        _exit(127);
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    /* Python and gRPC take a while to start, more so under valgrind: poll, bounded. */
    for (int i = 0; i < 1200; i++) {
        if (waitpid(WAPI, NULL, WNOHANG) != 0) {
            WAPI = -1;
            fail_msg("the test Workload API exited (its error is above): are python3-grpcio, "
                     "python3-jwt and python3-cryptography installed (scripts/install-deps.sh)?");
        }
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return;
        usleep(50 * 1000);
    }
    fail_msg("the test Workload API did not start");
}

static void wapi_mode(const char *mode)
{
    char path[400];
    snprintf(path, sizeof(path), "%s.mode", wapi_sock());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(mode, f);
    assert_int_equal(fclose(f), 0);
}

/* A token from the test key (the Workload API must have created it). */
static const char *mint(const char *id, const char *aud, int lifetime_s)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' mint '%s/wapi.key' '%s' '%s' %d", PYTHON3, WORKLOAD_API,
             D.dir, id, aud, lifetime_s);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *tok = e2e_alloc(4096);
    assert_non_null(fgets(tok, 4096, p));
    assert_int_equal(pclose(p), 0);
    tok[strcspn(tok, "\n")] = '\0';
    assert_true(strlen(tok) > 20);
    return tok;
}

static struct caller jwt_caller(const char *token)
{
    return (struct caller){
        .sock = D.sock, .auth_type = PSC_AUTH_JWT_SVID, .auth = token, .auth_len = strlen(token)};
}

static struct caller spiffe(const char *who)
{
    char id[200];
    snprintf(id, sizeof(id), "spiffe://example.org/%s", who);
    return jwt_caller(mint(id, "parsec", 600));
}

#define HEAD                                                                                       \
    "[core_settings]\nallow_root = true\nthread_pool_size = 2\nlog_level = \"info\"\n"             \
    "[listener]\nlistener_type = \"DomainSocket\"\ntimeout = 500\n"                                \
    "socket_path = \"@DIR@/parsec.sock\"\n"
#define JWT_TABLE_T(ms)                                                                            \
    "auth_type = \"JwtSvid\"\nworkload_endpoint = \"unix://@DIR@/wapi.sock\"\n"                    \
    "workload_timeout = " ms "\nadmins = [ { name = \"spiffe://example.org/admin\" } ]\n"
#define JWT_TABLE JWT_TABLE_T("500")
#define TAIL                                                                                       \
    "[[key_manager]]\nname = \"m\"\nmanager_type = \"SQLite\"\n"                                   \
    "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n"                                            \
    "[[provider]]\nprovider_type = \"MbedCrypto\"\nkey_info_manager = \"m\"\n"                     \
    "key_store_path = \"@DIR@/keys\"\n"

static const char CONFIG_JWT[] = HEAD "[authenticator]\n" JWT_TABLE TAIL;

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

static int listed_client(const struct caller *admin, const char *name)
{
    ListClients__Result *r;
    assert_int_equal(op_list_clients(admin, &r), 0);
    for (size_t i = 0; i < r->n_clients; i++)
        if (strcmp(r->clients[i], name) == 0)
            return 1;
    return 0;
}

/* The original's multitenancy scenario: a and b use the same key names independently, b can
 * neither see nor touch a's keys (1140), neither is an administrator (21), the administrator
 * lists both and deletes a, which leaves b's keys. */
static void tenancy(const struct caller *a, const char *a_name, const struct caller *b,
                    const char *b_name, const struct caller *admin)
{
    assert_int_equal(op_generate(a, "shared", ecdsa_attrs()), 0);
    assert_int_equal(op_generate(b, "shared", ecdsa_attrs()), 0);
    assert_false(buf_eq(public_of(a, "shared"), public_of(b, "shared")));
    assert_int_equal(op_generate(a, "a-only", ecdsa_attrs()), 0);
    struct buf out;
    assert_int_equal(op_export_public(b, "a-only", &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(b, "a-only"), PSC_PSA_DOES_NOT_EXIST);
    struct buf h = digest(HASH(SHA_256), buf_str("probe"));
    assert_int_equal(op_sign_hash(b, "a-only", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &out),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(n_keys(a), 2);
    assert_int_equal(n_keys(b), 1);

    ListClients__Result *lc;
    assert_int_equal(op_list_clients(a, &lc), PSC_ADMIN_OPERATION);
    assert_int_equal(op_delete_client(b, a_name), PSC_ADMIN_OPERATION);
    assert_true(listed_client(admin, a_name));
    assert_true(listed_client(admin, b_name));

    assert_int_equal(op_delete_client(admin, a_name), 0);
    assert_int_equal(n_keys(a), 0);
    assert_int_equal(n_keys(b), 1);
    assert_int_equal(op_export_public(a, "shared", &out), PSC_PSA_DOES_NOT_EXIST);
    (void)public_of(b, "shared");
    assert_int_equal(op_destroy(b, "shared"), 0);
}

static void multitenancy(void **state)
{
    (void)state;
    daemon_prepare(&D, CONFIG_JWT);
    wapi_start();
    assert_int_equal(daemon_launch(&D, NULL), 0);
    struct caller alice = spiffe("alice"), bob = spiffe("bob"), admin = spiffe("admin");
    tenancy(&alice, "spiffe://example.org/alice", &bob, "spiffe://example.org/bob", &admin);
    /* Direct is not configured. */
    struct caller direct = {.sock = D.sock, .app = "spiffe://example.org/alice"};
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&direct, &lk), PSC_AUTHENTICATOR_NOT_REGISTERED);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* Tokens the Workload API refuses, and one that is not UTF-8. */
static void refused_tokens(void **state)
{
    (void)state;
    daemon_prepare(&D, CONFIG_JWT);
    wapi_start();
    assert_int_equal(daemon_launch(&D, NULL), 0);
    ListKeys__Result *lk;
    struct caller c = jwt_caller(mint("spiffe://example.org/alice", "parsec", -120));
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR); /* expired */
    c = jwt_caller(mint("spiffe://example.org/alice", "not-parsec", 600));
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR); /* audience */
    c = jwt_caller("garbage.garbage.garbage");
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR);
    /* a token signed by another key: its last character changed */
    char *forged = e2e_alloc(4096);
    strcpy(forged, mint("spiffe://example.org/alice", "parsec", 600));
    size_t n = strlen(forged);
    forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
    c = jwt_caller(forged);
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR);
    static const uint8_t not_utf8[] = {'e', 'y', 0xff, 0xfe, '.', 'x'};
    c = (struct caller){.sock = D.sock,
                        .auth_type = PSC_AUTH_JWT_SVID,
                        .auth = not_utf8,
                        .auth_len = sizeof(not_utf8)};
    assert_int_equal(op_list_keys(&c, &lk), PSC_INVALID_ENCODING);
    c.auth = "ey\0x";
    c.auth_len = 4;
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR);
    assert_true(daemon_log_contains(&D, "JWT-SVID not validated"));
    /* The valid token still works. */
    c = spiffe("alice");
    assert_int_equal(n_keys(&c), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* A Workload API that is down at start, comes up, goes down, or misbehaves: 11 for JwtSvid
 * requests, everything else unaffected, and the service never stops answering. */
static void workload_api_failures(void **state)
{
    (void)state;
    daemon_prepare(&D, HEAD "[authenticator]\n" JWT_TABLE
                            "[[extra_authenticator]]\nauth_type = \"Direct\"\n" TAIL);
    assert_int_equal(daemon_launch(&D, NULL), 0); /* starts without its Workload API */
    struct caller direct = {.sock = D.sock, .app = "bob"};
    const char *early = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    struct caller c = jwt_caller(early);
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&c, &lk), PSC_AUTHENTICATION_ERROR);
    assert_true(daemon_log_contains(&D, "cannot connect to the Workload API"));
    assert_int_equal(n_keys(&direct), 0);

    wapi_start();
    struct caller alice = spiffe("alice");
    assert_int_equal(op_generate(&alice, "k", ecdsa_attrs()), 0);

    static const char *const modes[] = {"garbage", "huge", "noid", "slow"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        wapi_mode(modes[i]);
        assert_int_equal(op_list_keys(&alice, &lk), PSC_AUTHENTICATION_ERROR);
        assert_int_equal(n_keys(&direct), 0);
    }
    assert_true(daemon_log_contains(&D, "larger than"));
    assert_true(daemon_log_contains(&D, "did not answer within 500 ms"));
    wapi_mode("normal");
    assert_int_equal(n_keys(&alice), 1);

    wapi_stop(); /* down during service */
    assert_int_equal(op_list_keys(&alice, &lk), PSC_AUTHENTICATION_ERROR);
    assert_int_equal(n_keys(&direct), 0);
    wapi_start();
    assert_int_equal(n_keys(&alice), 1);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* The ValidateJWTSVID calls the Workload API has received. */
static int wapi_calls(void)
{
    char path[400], line[64];
    snprintf(path, sizeof(path), "%s.calls", wapi_sock());
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof(line), f))
        n++;
    if (f)
        fclose(f);
    return n;
}

static int send_jwt(const struct caller *c)
{
    size_t len;
    uint8_t *req = e2e_build(e2e_header(0, PSC_OP_LIST_KEYS, PSC_AUTH_JWT_SVID), NULL, c->auth,
                             c->auth_len, &len);
    int fd = e2e_connect(D.sock);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, req, len), (ssize_t)len);
    free(req);
    return fd;
}

/* A slow Workload API holds at most half the workers (one of two here): a second JwtSvid
 * request is refused at once instead of waiting, and a Direct request is served while the
 * first still waits. Ordering, not timing: the first request's deadline is far away. */
static void slow_api_leaves_workers(void **state)
{
    (void)state;
    /* 9 s: long enough for the steps below under valgrind, shorter than the slow mode. */
    daemon_prepare(&D, HEAD "[authenticator]\n" JWT_TABLE_T(
                           "9000") "[[extra_authenticator]]\nauth_type = \"Direct\"\n" TAIL);
    wapi_start();
    assert_int_equal(daemon_launch(&D, NULL), 0);
    struct caller alice = spiffe("alice");
    wapi_mode("slow");
    int first = send_jwt(&alice);
    for (int i = 0; i < 2400 && wapi_calls() < 1; i++)
        usleep(50 * 1000);
    assert_int_equal(wapi_calls(), 1);
    int second = send_jwt(&alice);
    struct psc_header rsp;
    uint8_t *body = NULL;
    assert_int_equal(e2e_read_reply(second, &rsp, &body), 0);
    assert_int_equal(rsp.status, PSC_AUTHENTICATION_ERROR);
    free(body);
    close(second);
    assert_int_equal(wapi_calls(), 1);
    assert_true(daemon_log_contains(&D, "are all waiting"));
    struct caller direct = {.sock = D.sock, .app = "bob"};
    assert_int_equal(n_keys(&direct), 0);
    assert_int_equal(e2e_read_reply(first, &rsp, &body), 0);
    assert_int_equal(rsp.status, PSC_AUTHENTICATION_ERROR);
    free(body);
    close(first);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* Direct, UnixPeerCredentials and JwtSvid at once: ListAuthenticators in file order, and the
 * scenario under Direct and under JwtSvid with the same application names, which stay
 * different tenants, and beside them the uid of this process. */
static void three_authenticators(void **state)
{
    (void)state;
    char config[4096], uid[16];
    uint32_t u = (uint32_t)geteuid();
    snprintf(uid, sizeof(uid), "%u", u);
    snprintf(config, sizeof(config),
             HEAD "[authenticator]\nauth_type = \"UnixPeerCredentials\"\n"
                  "admins = [ { name = \"%s\" } ]\n"
                  "[[extra_authenticator]]\nauth_type = \"Direct\"\n"
                  "admins = [ { name = \"spiffe://example.org/admin\" } ]\n"
                  "[[extra_authenticator]]\n" JWT_TABLE TAIL,
             uid);
    daemon_prepare(&D, config);
    wapi_start();
    assert_int_equal(daemon_launch(&D, NULL), 0);

    ProtobufCMessage *res;
    assert_int_equal(e2e_call(D.sock, 0, PSC_OP_LIST_AUTHENTICATORS, NULL, NULL,
                              &list_authenticators__result__descriptor, &res),
                     0);
    ListAuthenticators__Result *la = (ListAuthenticators__Result *)res;
    assert_int_equal(la->n_authenticators, 3);
    assert_int_equal(la->authenticators[0]->id, PSC_AUTH_UNIX_PEER_CREDENTIALS);
    assert_int_equal(la->authenticators[1]->id, PSC_AUTH_DIRECT);
    assert_int_equal(la->authenticators[2]->id, PSC_AUTH_JWT_SVID);
    protobuf_c_message_free_unpacked(res, NULL);

    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    struct caller me = {
        .sock = D.sock, .auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS, .auth = le, .auth_len = 4};
    assert_int_equal(op_generate(&me, "shared", ecdsa_attrs()), 0);

    const char *A = "spiffe://example.org/alice", *B = "spiffe://example.org/bob";
    struct caller d_alice = {.sock = D.sock, .app = A}, d_bob = {.sock = D.sock, .app = B},
                  d_admin = {.sock = D.sock, .app = "spiffe://example.org/admin"};
    struct caller j_alice = spiffe("alice"), j_bob = spiffe("bob"), j_admin = spiffe("admin");
    /* JwtSvid's alice owns a key of the name Direct's alice is about to use. */
    assert_int_equal(op_generate(&j_alice, "a-only", ecdsa_attrs()), 0);
    tenancy(&d_alice, A, &d_bob, B, &d_admin);
    assert_int_equal(n_keys(&j_alice), 1);
    assert_int_equal(op_destroy(&j_alice, "a-only"), 0);
    tenancy(&j_alice, A, &j_bob, B, &j_admin);
    assert_int_equal(n_keys(&me), 1);
    /* The uid is admin by peer credentials only. */
    ListClients__Result *lc;
    assert_int_equal(op_list_clients(&me, &lc), 0);
    struct caller d_uid = {.sock = D.sock, .app = uid};
    assert_int_equal(op_list_clients(&d_uid, &lc), PSC_ADMIN_OPERATION);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

/* ---- UnixPeerCredentials with two users: root and nobody ------------------------------- */

#define NOBODY 65534u

enum nobody_op { NB_GENERATE, NB_EXPORT, NB_DESTROY, NB_LIST_CLIENTS, NB_DELETE_CLIENT, NB_KEYS };

/* Runs one operation as uid/gid 65534 in a child process, authenticated by peer credentials;
 * returns its status (for NB_KEYS: the number of keys, or -1). */
static int as_nobody(enum nobody_op op, const char *name)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        int rc = -1;
        if (setgid(NOBODY) == 0 && setuid(NOBODY) == 0) {
            uint8_t le[4] = {(uint8_t)NOBODY, (uint8_t)(NOBODY >> 8), 0, 0};
            struct caller c = {.sock = D.sock,
                               .auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS,
                               .auth = le,
                               .auth_len = 4};
            struct buf out;
            ListClients__Result *lc;
            ListKeys__Result *lk;
            switch (op) {
            case NB_GENERATE:
                rc = op_generate(&c, name, ecdsa_attrs());
                break;
            case NB_EXPORT:
                rc = op_export_public(&c, name, &out);
                break;
            case NB_DESTROY:
                rc = op_destroy(&c, name);
                break;
            case NB_LIST_CLIENTS:
                rc = op_list_clients(&c, &lc);
                break;
            case NB_DELETE_CLIENT:
                rc = op_delete_client(&c, name);
                break;
            case NB_KEYS:
                rc = op_list_keys(&c, &lk) == 0 ? (int)lk->n_keys : -1;
                break;
            }
        }
        (void)!write(p[1], &rc, sizeof(rc));
        _exit(0);
    }
    close(p[1]);
    int rc = -2;
    assert_int_equal(read(p[0], &rc, sizeof(rc)), (ssize_t)sizeof(rc));
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return rc;
}

/* The multitenancy scenario under UnixPeerCredentials: root (the administrator) and nobody. */
static void unix_peer_two_users(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    daemon_prepare(&D, HEAD "[authenticator]\nauth_type = \"UnixPeerCredentials\"\n"
                            "admins = [ { name = \"0\" } ]\n" TAIL);
    assert_int_equal(chmod(D.dir, 0711), 0); /* nobody reaches the socket, nothing else */
    assert_int_equal(daemon_launch(&D, NULL), 0);
    uint8_t le0[4] = {0, 0, 0, 0};
    struct caller root = {
        .sock = D.sock, .auth_type = PSC_AUTH_UNIX_PEER_CREDENTIALS, .auth = le0, .auth_len = 4};

    assert_int_equal(op_generate(&root, "shared", ecdsa_attrs()), 0);
    assert_int_equal(op_generate(&root, "a-only", ecdsa_attrs()), 0);
    assert_int_equal(as_nobody(NB_GENERATE, "shared"), 0);
    assert_int_equal(as_nobody(NB_EXPORT, "a-only"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(as_nobody(NB_DESTROY, "a-only"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(as_nobody(NB_KEYS, NULL), 1);
    assert_int_equal(n_keys(&root), 2);
    assert_int_equal(as_nobody(NB_LIST_CLIENTS, NULL), PSC_ADMIN_OPERATION);
    assert_int_equal(as_nobody(NB_DELETE_CLIENT, "0"), PSC_ADMIN_OPERATION);
    assert_true(listed_client(&root, "0"));
    assert_true(listed_client(&root, "65534"));
    assert_int_equal(op_delete_client(&root, "65534"), 0);
    assert_int_equal(as_nobody(NB_KEYS, NULL), 0);
    assert_int_equal(n_keys(&root), 2);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

#ifdef PARSEC_TOOL
/* Runs parsec-tool list-keys; its exit status. With want, the output must contain it. */
static int tool_run(const char *want)
{
    FILE *p = popen("'" PARSEC_TOOL "' list-keys 2>&1", "r");
    assert_non_null(p);
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof(line), p))
        found |= want && strstr(line, want) != NULL;
    int st = pclose(p);
    if (want)
        assert_true(found);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}
#endif

/* libparsec: the bootstrap chooses JWT-SVID when the service lists it first and the process
 * has a Workload API socket, fetches a token for every request, and its errors tell a missing
 * socket, an unreachable Workload API and a refused token apart. */
static void client_library(void **state)
{
    (void)state;
    daemon_prepare(&D, HEAD "[authenticator]\n" JWT_TABLE
                            "[[extra_authenticator]]\nauth_type = \"Direct\"\n" TAIL);
    wapi_start();
    assert_int_equal(daemon_launch(&D, NULL), 0);
    char endpoint[400], spiffe_sock[400];
    snprintf(endpoint, sizeof(endpoint), "unix://%s", D.sock);
    snprintf(spiffe_sock, sizeof(spiffe_sock), "unix://%s", wapi_sock());
    struct parsec_client_config cfg = {.endpoint = endpoint, .app_name = "bob"};
    struct parsec_client *c = NULL;

    /* No socket: JWT-SVID is passed over, Direct is next. */
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_DIRECT);
    parsec_client_free(c);

    setenv(PARSEC_SPIFFE_ENDPOINT_ENV, spiffe_sock, 1);
    assert_int_equal(parsec_client_new(&c, &cfg), 0);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_JWT_SVID);
    uint8_t rnd[8];
    assert_int_equal(parsec_generate_random(c, rnd, sizeof(rnd)), 0);
    struct parsec_key_info *keys = NULL;
    size_t n = 99;
    assert_int_equal(parsec_list_keys(c, &keys, &n), 0);
    assert_int_equal(n, 0);
    parsec_key_info_free(keys, n);
    /* The application is the SPIFFE ID of the token: the test Workload API's default. */
    struct caller me = spiffe("default");
    assert_int_equal(op_generate(&me, "k", ecdsa_attrs()), 0);
    assert_int_equal(parsec_list_keys(c, &keys, &n), 0);
    assert_int_equal(n, 1);
    parsec_key_info_free(keys, n);

#ifdef PARSEC_TOOL
    /* parsec-tool takes the same way. */
    setenv(PARSEC_ENDPOINT_ENV, endpoint, 1);
    assert_int_equal(tool_run(NULL), 0);
#endif
    wapi_mode("garbage"); /* the service cannot validate: the token is refused */
    assert_int_equal(parsec_list_keys(c, &keys, &n), PARSEC_ERROR_AUTHENTICATION_ERROR);
    wapi_mode("normal");
    wapi_stop(); /* no token can be fetched */
    assert_int_equal(parsec_list_keys(c, &keys, &n), PARSEC_ERROR_SPIFFE);
    parsec_client_free(c);
#ifdef PARSEC_TOOL
    char expect[500];
    snprintf(expect, sizeof(expect), "SPIFFE_ENDPOINT_SOCKET=%s", spiffe_sock);
    assert_int_not_equal(tool_run(expect), 0);
    unsetenv(PARSEC_ENDPOINT_ENV);
#endif
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(multitenancy, teardown),
        cmocka_unit_test_teardown(refused_tokens, teardown),
        cmocka_unit_test_teardown(workload_api_failures, teardown),
        cmocka_unit_test_teardown(slow_api_leaves_workers, teardown),
        cmocka_unit_test_teardown(three_authenticators, teardown),
        cmocka_unit_test_teardown(client_library, teardown),
        cmocka_unit_test_teardown(unix_peer_two_users, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
