/* Service discovery: PARSEC_SERVICE_ENDPOINT parsing as the original client does it
 * (parsec-tool-and-clients.md §5.1) and the socket checks made when a client is created. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer.h"
#include "util.h"

static void expect_path(const char *uri, const char *want)
{
    char path[512];
    size_t len = 0;
    int rc = parsec_endpoint_parse(uri, path, sizeof(path), &len);
    if (rc != 0)
        fail_msg("%s: %s", uri, parsec_strerror(rc));
    assert_string_equal(path, want);
    assert_int_equal(len, strlen(want) + 1);
}

static void expect_bad(const char *uri)
{
    char path[512];
    int rc = parsec_endpoint_parse(uri, path, sizeof(path), NULL);
    if (rc != PARSEC_ERROR_INVALID_SOCKET_URL)
        fail_msg("%s: expected an invalid URL, got %d", uri, rc);
}

static void test_parse_forms(void **state)
{
    (void)state;
    expect_path("unix:/run/parsec/parsec.sock", "/run/parsec/parsec.sock");
    expect_path("unix:///run/parsec/parsec.sock", "/run/parsec/parsec.sock");
    /* "run" is the host: a trap the original falls into too. */
    expect_path("unix://run/parsec/parsec.sock", "/parsec/parsec.sock");
    expect_path("unix:relative/p.sock", "relative/p.sock");
    expect_path("unix:/tmp/a b.sock", "/tmp/a%20b.sock");
    expect_path("unix:/tmp/p.sock?x#y", "/tmp/p.sock");
    expect_path("unix:/tmp/p.sock#frag?notquery", "/tmp/p.sock");
    expect_path("UNIX:/x.sock", "/x.sock");
    expect_path("Unix:/x.sock", "/x.sock");
    expect_path("unix:/a/./b/../c", "/a/c");
    expect_path("unix:/a/%2e%2E/c", "/c");
    expect_path("unix:/a/b/..", "/a/");
    expect_path("unix:/../../x", "/x");
    expect_path("unix:/p%41", "/p%41"); /* escapes are kept, not decoded */
    expect_path("unix:/\xc3\xa9", "/%C3%A9");
    expect_path("unix:/a\"b<c>`{}", "/a%22b%3Cc%3E%60%7B%7D");
    expect_path("unix://user:pw@host:1234/p.sock", "/p.sock");
    expect_path("unix://[::1]:80/p.sock", "/p.sock");
    expect_path("  unix:/p.sock \n", "/p.sock");
    expect_path("unix:/p\t.sock", "/p.sock");
    expect_path("unix:/", "/");
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_bad("");
    expect_bad("   ");
    expect_bad("/run/parsec/parsec.sock");
    expect_bad("run/parsec.sock");
    expect_bad("tcp://localhost:1234");
    expect_bad("http:/x");
    expect_bad("file:///run/parsec/parsec.sock");
    expect_bad("unixx:/x");
    expect_bad("unix");
    expect_bad("1unix:/x");
    expect_bad(":/x");
    expect_bad("unix://host:99999/p");
    expect_bad("unix://host:12a/p");
    expect_bad("unix://ho st/p");
    expect_bad("unix://ho<st/p");
    expect_bad("unix://[::1/p");

    char small[4];
    size_t len = 0;
    assert_int_equal(parsec_endpoint_parse("unix:/abcdef", small, sizeof(small), &len),
                     PARSEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 8);
    assert_int_equal(parsec_endpoint_parse(NULL, small, sizeof(small), &len),
                     PARSEC_ERROR_INVALID_ARGUMENT);
}

static int naked(const char *endpoint, struct parsec_client **c)
{
    struct parsec_client_config cfg = {.endpoint = endpoint, .flags = PARSEC_CLIENT_NAKED};
    return parsec_client_new(c, &cfg);
}

static int from_env(const char *value, struct parsec_client **c)
{
    struct parsec_client_config cfg = {.flags = PARSEC_CLIENT_NAKED};
    if (value)
        setenv(PARSEC_ENDPOINT_ENV, value, 1);
    else
        unsetenv(PARSEC_ENDPOINT_ENV);
    int rc = parsec_client_new(c, &cfg);
    unsetenv(PARSEC_ENDPOINT_ENV);
    return rc;
}

static void test_env_forms(void **state)
{
    (void)state;
    struct peer p;
    struct parsec_client *c = NULL;
    char v[300];
    peer_init(&p);
    peer_run(&p);

    snprintf(v, sizeof(v), "unix:%s", p.sock);
    assert_int_equal(from_env(v, &c), 0);
    assert_string_equal(parsec_client_socket_path(c), p.sock);
    /* Naked: Core and no authentication, nothing sent. */
    assert_int_equal(parsec_client_provider(c), PARSEC_PROVIDER_CORE);
    assert_int_equal(parsec_client_auth_type(c), PARSEC_AUTH_NONE);
    parsec_client_free(c);

    snprintf(v, sizeof(v), "unix://%s", p.sock);
    assert_int_equal(from_env(v, &c), 0);
    assert_string_equal(parsec_client_socket_path(c), p.sock);
    parsec_client_free(c);

    snprintf(v, sizeof(v), "UNIX:%s?query#frag", p.sock);
    assert_int_equal(from_env(v, &c), 0);
    parsec_client_free(c);

    /* Set but empty, other schemes, no scheme. */
    assert_int_equal(from_env("", &c), PARSEC_ERROR_INVALID_SOCKET_URL);
    assert_null(c);
    assert_int_equal(from_env(p.sock, &c), PARSEC_ERROR_INVALID_SOCKET_URL);
    snprintf(v, sizeof(v), "tcp:%s", p.sock);
    assert_int_equal(from_env(v, &c), PARSEC_ERROR_INVALID_SOCKET_URL);

    /* The configuration overrides the environment. */
    setenv(PARSEC_ENDPOINT_ENV, "tcp://nowhere", 1);
    snprintf(v, sizeof(v), "unix:%s", p.sock);
    assert_int_equal(naked(v, &c), 0);
    parsec_client_free(c);
    unsetenv(PARSEC_ENDPOINT_ENV);

    /* A value that is not UTF-8 is ignored, as unset: the default path is then used. */
    struct stat st;
    int default_exists = stat("/run/parsec/parsec.sock", &st) == 0 && S_ISSOCK(st.st_mode);
    int want = default_exists ? 0 : PARSEC_ERROR_INVALID_SOCKET_ADDRESS;
    assert_int_equal(from_env("unix:/tmp/\xff\xfe", &c), want);
    if (c)
        assert_string_equal(parsec_client_socket_path(c), "/run/parsec/parsec.sock");
    parsec_client_free(c);
    c = NULL;
    assert_int_equal(from_env(NULL, &c), want);
    parsec_client_free(c);
    peer_stop(&p);
}

static void test_socket_checks(void **state)
{
    (void)state;
    struct parsec_client *c = NULL;
    char dir[] = "/tmp/parsec-ep-XXXXXX", file[128], ep[160], sock[128];
    assert_non_null(mkdtemp(dir));

    snprintf(ep, sizeof(ep), "unix:%s/missing.sock", dir);
    assert_int_equal(naked(ep, &c), PARSEC_ERROR_INVALID_SOCKET_ADDRESS);

    snprintf(file, sizeof(file), "%s/regular", dir);
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(ep, sizeof(ep), "unix:%s", file);
    assert_int_equal(naked(ep, &c), PARSEC_ERROR_INVALID_SOCKET_ADDRESS);
    snprintf(ep, sizeof(ep), "unix:%s", dir);
    assert_int_equal(naked(ep, &c), PARSEC_ERROR_INVALID_SOCKET_ADDRESS);

    /* A socket nobody listens on: creation succeeds, the first request fails to connect and
     * errno tells why. */
    snprintf(sock, sizeof(sock), "%s/dead.sock", dir);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(sock) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, sock, strlen(sock));
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);
    snprintf(ep, sizeof(ep), "unix:%s", sock);
    assert_int_equal(naked(ep, &c), 0);
    errno = 0;
    assert_int_equal(parsec_ping(c, NULL, NULL), PARSEC_ERROR_CONNECT);
    assert_int_equal(errno, ECONNREFUSED);
    parsec_client_free(c);
    c = NULL;

    /* Bootstrapping against it fails the same way. */
    assert_int_equal(parsec_client_new(&c, &(struct parsec_client_config){.endpoint = ep}),
                     PARSEC_ERROR_CONNECT);
    assert_null(c);

    /* A path longer than a socket address can hold. */
    char longp[300];
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "unix:/", 6);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(naked(longp, &c), PARSEC_ERROR_INVALID_SOCKET_ADDRESS);

    unlink(sock);
    unlink(file);
    rmdir(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct parsec_client *c = NULL;
    assert_int_equal(parsec_client_new(NULL, NULL), PARSEC_ERROR_INVALID_ARGUMENT);
    struct parsec_client_config cfg = {.endpoint = "unix:/x", .flags = 0x80};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_INVALID_ARGUMENT);
    cfg = (struct parsec_client_config){.flags = PARSEC_CLIENT_SET_PROVIDER, .provider = 256};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_INVALID_ARGUMENT);
    cfg = (struct parsec_client_config){.flags = PARSEC_CLIENT_SET_AUTH, .auth_type = 9};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_INVALID_ARGUMENT);
    cfg.auth_type = PARSEC_AUTH_JWT;
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_NOT_SUPPORTED);
    cfg.auth_type = PARSEC_AUTH_JWT_SVID;
#ifdef PARSEC_JWT_SVID
    /* Chosen explicitly, JWT-SVID needs its Workload API socket. */
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_SPIFFE_SOCKET);
    setenv(PARSEC_SPIFFE_ENDPOINT_ENV, "tcp://127.0.0.1:1", 1);
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_SPIFFE_SOCKET);
    unsetenv(PARSEC_SPIFFE_ENDPOINT_ENV);
#else
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_NOT_SUPPORTED);
#endif
    cfg.auth_type = PARSEC_AUTH_DIRECT;
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_MISSING_PARAM);
    cfg = (struct parsec_client_config){.app_name = ""};
    assert_int_equal(parsec_client_new(&c, &cfg), PARSEC_ERROR_INVALID_ARGUMENT);
    assert_null(c);
    parsec_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),   cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_env_forms),     cmocka_unit_test(test_socket_checks),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
