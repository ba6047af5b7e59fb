/* Runs the stand-alone programs against a real daemon: examples/sign.c, the program written
 * only against <psa/crypto.h> (linked with libparsec-psa, shared and static) and the key id
 * mapping program; then checks what they left in the service. Also checks the symbols the
 * shared libraries export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* Runs prog with the endpoint (and PSA app name) in its environment; returns its exit
 * status. */
static struct daemon g_d;

static int teardown(void **state)
{
    (void)state;
    daemon_cleanup(&g_d);
    memset(&g_d, 0, sizeof(g_d));
    return 0;
}

static int run(const struct daemon *d, const char *prog, const char *arg, const char *app)
{
    char ep[400];
    tu_endpoint(d->sock, ep, sizeof(ep));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv(PARSEC_ENDPOINT_ENV, ep, 1);
        if (app)
            setenv("PARSEC_PSA_APP_NAME", app, 1);
        execl(prog, prog, arg, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t count_keys(struct parsec_client *c, const char *prefix)
{
    struct parsec_key_info *k = NULL;
    size_t n = 0, found = 0;
    assert_int_equal(parsec_list_keys(c, &k, &n), 0);
    for (size_t i = 0; i < n; i++)
        found += strncmp(k[i].name, prefix, strlen(prefix)) == 0;
    parsec_key_info_free(k, n);
    return found;
}

static void test_example_sign(void **state)
{
    (void)state;
    struct daemon *d = &g_d;
    daemon_start(d, E2E_CONFIG_DIRECT);
    assert_int_equal(run(d, EXAMPLE_SIGN_BIN, "example-key", NULL), 0);
    /* The example destroys its key. */
    struct parsec_client *c = tu_client(d, "example-sign");
    assert_int_equal(count_keys(c, "example-key"), 0);
    /* A service without the key name free: creation fails and the example says so. */
    assert_int_equal(parsec_ecc_key_create(c, "example-key"), 0);
    assert_int_equal(run(d, EXAMPLE_SIGN_BIN, "example-key", NULL), 1);
    parsec_client_free(c);
    teardown(NULL);
}

static void test_psa_front(void **state)
{
    (void)state;
    struct daemon *d = &g_d;
    daemon_start(d, E2E_CONFIG_DIRECT);
    assert_int_equal(run(d, PSA_FRONT_BIN, NULL, "psa-app"), 0);
    assert_int_equal(run(d, PSA_FRONT_STATIC_BIN, NULL, "psa-app-static"), 0);
    /* Volatile keys are gone once the programs have ended. */
    struct parsec_client *c = tu_client(d, "psa-app");
    assert_int_equal(count_keys(c, "psa-"), 0);
    parsec_client_free(c);
    teardown(NULL);

    /* Unix peer credentials work the same. */
    daemon_start(d, E2E_CONFIG_UNIX);
    assert_int_equal(run(d, PSA_FRONT_BIN, NULL, NULL), 0);
    teardown(NULL);
}

static void test_psa_mapping(void **state)
{
    (void)state;
    struct daemon *d = &g_d;
    daemon_start(d, E2E_CONFIG_DIRECT);
    /* The program uses the default application name. */
    assert_int_equal(run(d, PSA_MAPPING_BIN, NULL, NULL), 0);
    struct parsec_client *c = tu_client(d, "parsec-psa");
    /* It left one volatile key at exit: the atexit handler removed it. */
    assert_int_equal(count_keys(c, "psa-volatile-"), 0);
    assert_int_equal(count_keys(c, "psa-key-"), 0);
    parsec_client_free(c);
    teardown(NULL);
}

/* Every dynamic symbol a library defines starts with one of the prefixes. */
static void check_exports(const char *lib, const char *const *prefixes, size_t n)
{
    char cmd[600], line[512];
    snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", lib);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t count = 0;
    while (fgets(line, sizeof(line), f)) {
        char addr[64], type[8], sym[400];
        if (sscanf(line, "%63s %7s %399s", addr, type, sym) != 3)
            continue;
        char *at = strchr(sym, '@');
        if (at)
            *at = '\0';
        if (strncmp(sym, "LIBPARSEC", 9) == 0)
            continue; /* the version node */
        int ok = 0;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strncmp(sym, prefixes[i], strlen(prefixes[i])) == 0;
        if (!ok)
            fail_msg("%s exports %s", lib, sym);
        count++;
    }
    assert_int_equal(pclose(f), 0);
    assert_true(count > 10);
}

static void test_exports(void **state)
{
    (void)state;
    static const char *const client[] = {"parsec_"};
    static const char *const psa[] = {"psa_", "parsec_psa_", "mbedtls_psa_crypto_free"};
    check_exports(LIBPARSEC_SO, client, 1);
    check_exports(LIBPARSEC_PSA_SO, psa, 3);
    /* Functions added after the first release are in the version node that added them. */
    static const char *const added[] = {"parsec_prepare_activate_credential@@LIBPARSEC_1.1",
                                        "parsec_activate_credential@@LIBPARSEC_1.1",
                                        "parsec_list_keys@@LIBPARSEC_1"};
    for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | grep -q ' %s$'", LIBPARSEC_SO,
                 added[i]);
        if (system(cmd) != 0)
            fail_msg("%s does not export %s", LIBPARSEC_SO, added[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_example_sign, teardown),
        cmocka_unit_test_teardown(test_psa_front, teardown),
        cmocka_unit_test_teardown(test_psa_mapping, teardown),
        cmocka_unit_test(test_exports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
