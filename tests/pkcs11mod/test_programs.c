/* Real programs through the module against the real daemon: the commands of
 * docs/pkcs11-module.md (pkcs11-tool, OpenSSL with libengine-pkcs11-openssl and a TLS
 * handshake, ssh-keygen -D and a local sshd accepting ssh -I, p11tool), run by run_doc.sh. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "p11t.h"

/* A TCP port on 127.0.0.1 that is free now. */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_doc_commands(void **state)
{
    struct p11t t;
    char work[300], port[16], cmd[1200];
    int status, made, tls_port, ssh_port;
    (void)state;
#ifdef PARSEC_SANITIZE_BUILD
    /* The module is built with AddressSanitizer here: the programs are not, and the
     * sanitizer's runtime cannot be loaded into them with the module. The release build runs
     * this test. */
    print_message("skipped in the sanitizer build (PARSEC_SANITIZE): the programs cannot load "
                  "an AddressSanitizer module; the release build runs them\n");
    skip();
#endif
    tls_port = free_port();
    do
        ssh_port = free_port();
    while (ssh_port == tls_port);
    snprintf(port, sizeof(port), "%d", tls_port);
    setenv("TLS_PORT", port, 1);
    snprintf(port, sizeof(port), "%d", ssh_port);
    setenv("SSH_PORT", port, 1);
    setenv("MODULE", P11_MODULE, 1);
    p11t_start(&t);
    snprintf(work, sizeof(work), "%s/work", t.d.dir);
    made = mkdir(work, 0700);
    setenv("WORK", work, 1);
    snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", RUN_DOC, DOC_PAGE);
    status = made == 0 ? system(cmd) : -1;
    /* Stopped before any assertion, so that a failure leaves no daemon behind. */
    p11t_stop(&t);
    assert_int_equal(made, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
