/* The module's real-program run (providers.sh) on the slot of the PKCS#11 provider, with a
 * private SoftHSM2 token, and on the slot of the TPM provider, with a private swtpm.
 *   p11_test_providers pkcs11|tpm
 * Exits 77 (skipped) where SoftHSM2 or swtpm is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "p11t.h"

#include "p11_env.h"
#ifdef HAVE_TPM_HARNESS
#include "tpm_test.h"
#endif

/* Runs providers.sh for the token with this label against the daemon of t (args: more
 * arguments, "" for none); its exit status. */
static int run_programs(struct p11t *t, const char *label, const char *args)
{
    char work[300], cmd[600];
    snprintf(work, sizeof(work), "%s/work", t->d.dir);
    if (mkdir(work, 0700) != 0)
        return -1;
    setenv("WORK", work, 1);
    setenv("MODULE", P11_MODULE, 1);
    setenv("PARSEC_PKCS11_APP_NAME", "p11-programs", 1);
    snprintf(cmd, sizeof(cmd), "sh '%s' '%s' %s", PROVIDERS_SH, label, args);
    return system(cmd);
}

static int sanitizer_build(void)
{
#ifdef PARSEC_SANITIZE_BUILD
    /* As in test_programs.c: the programs cannot load an AddressSanitizer module. */
    print_message("skipped in the sanitizer build (PARSEC_SANITIZE): the programs cannot load "
                  "an AddressSanitizer module; the release build runs them\n");
    return 1;
#else
    return 0;
#endif
}

static void on_pkcs11_provider(void **state)
{
    struct p11_token tok;
    struct p11t t;
    int status;
    (void)state;
    if (sanitizer_build())
        skip();
    p11_token_dir(&tok);
    p11_token_init(P11_LABEL, P11_PIN);
    p11t_start_config(&t, p11_config(NULL, NULL));
    status = run_programs(&t, "Parsec PKCS #11", "selftest");
    /* Stopped before any assertion, so that a failure leaves no daemon behind. */
    p11t_stop(&t);
    p11_token_cleanup(&tok);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

#ifdef HAVE_TPM_HARNESS
static void on_tpm_provider(void **state)
{
    struct swtpm s;
    struct p11t t;
    int status;
    (void)state;
    if (sanitizer_build())
        skip();
    swtpm_start(&s);
    p11t_start_config(&t, tpm_config(&s, "", NULL, NULL));
    status = run_programs(&t, "Parsec TPM", "");
    p11t_stop(&t);
    swtpm_cleanup(&s);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}
#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest pkcs11[] = {cmocka_unit_test(on_pkcs11_provider)};
    if (argc == 2 && strcmp(argv[1], "pkcs11") == 0) {
        if (p11_missing()) {
            fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
            return P11_SKIP;
        }
        return cmocka_run_group_tests(pkcs11, NULL, NULL);
    }
#ifdef HAVE_TPM_HARNESS
    const struct CMUnitTest tpm[] = {cmocka_unit_test(on_tpm_provider)};
    if (argc == 2 && strcmp(argv[1], "tpm") == 0) {
        if (!swtpm_available()) {
            fprintf(stderr, "swtpm is not installed: skipped\n");
            return TPM_TEST_SKIP;
        }
        return cmocka_run_group_tests(tpm, NULL, NULL);
    }
#endif
    fprintf(stderr, "usage: %s pkcs11|tpm\n", argv[0]);
    return 2;
}
