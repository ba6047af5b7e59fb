/* Crash safety of the TPM provider: the daemon is killed with SIGKILL while a client creates
 * keys, and restarted on the same TPM and mappings. A killed daemon flushes nothing: its root
 * key, session and cached keys stay in a TPM without resource manager (swtpm holds 3 objects).
 * After each restart:
 *   - every key the daemon said it created signs, and OpenSSL verifies the signature;
 *   - the key whose creation was in flight at the kill is usable or absent and creatable again;
 *   - a key never requested does not exist;
 *   - every key ListKeys shows is usable. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "tpm_test.h"

#define ROUNDS 4
#define PER_ROUND 6
#define NOT_SENT (-1)
#define NO_REPLY (-2)

static struct swtpm S;
static struct daemon D;

struct client {
    const char *sock;
    uint8_t *req[PER_ROUND];
    size_t len[PER_ROUND];
    int status[PER_ROUND];
};

static void *client_run(void *arg)
{
    struct client *c = arg;
    for (int i = 0; i < PER_ROUND; i++) {
        struct psc_header rsp;
        uint8_t *body = NULL;
        int r = e2e_raw(c->sock, c->req[i], c->len[i], &rsp, &body);
        free(body);
        c->status[i] = r == 0 ? (int)rsp.status : NO_REPLY;
        if (r != 0)
            break;
    }
    return NULL;
}

static void key_name(char *out, size_t n, int round, int i)
{
    snprintf(out, n, "crash-%d-%d", round, i);
}

static void killed_while_creating(void **state)
{
    (void)state;
    swtpm_start(&S);
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    struct caller c = tpm_caller(&D, "crash");
    static int status[ROUNDS][PER_ROUND];
    srand((unsigned)getpid());
    for (int round = 0; round < ROUNDS; round++) {
        struct client cl = {.sock = D.sock};
        for (int i = 0; i < PER_ROUND; i++) {
            char name[32];
            key_name(name, sizeof(name), round, i);
            PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
            op.key_name = name;
            op.attributes = i % 3 == 2 ? rsa_sign_attrs(1024, HASH(SHA_256))
                                       : ecc_sign_attrs(256, HASH(SHA_256));
            cl.req[i] =
                e2e_build(e2e_header(PSC_PROVIDER_TPM, PSC_OP_PSA_GENERATE_KEY, PSC_AUTH_DIRECT),
                          &op.base, c.app, strlen(c.app), &cl.len[i]);
            cl.status[i] = NOT_SENT;
        }
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, client_run, &cl), 0);
        /* Somewhere in the middle of the creations (the kill's moment needs no precision). */
        poll(NULL, 0, 20 + rand() % 150);
        daemon_stop(&D, SIGKILL);
        pthread_join(th, NULL);
        for (int i = 0; i < PER_ROUND; i++) {
            status[round][i] = cl.status[i];
            free(cl.req[i]);
        }
        assert_int_equal(daemon_launch(&D, NULL), 0);
        /* The killed daemon's root key and session were still in the TPM. */
        assert_true(daemon_log_contains(&D, "left in the TPM"));

        for (int r = 0; r <= round; r++)
            for (int i = 0; i < PER_ROUND; i++) {
                char name[32];
                key_name(name, sizeof(name), r, i);
                struct buf pub;
                int st = status[r][i];
                if (st == 0) {
                    sign_checked(&c, name, i % 3 == 2 ? SIG_PKCS1 : SIG_ECDSA, HASH(SHA_256),
                                 i % 3 == 2 ? NULL : "prime256v1");
                } else if (st == NO_REPLY) {
                    int e = op_export_public(&c, name, &pub);
                    if (e == PSC_PSA_DOES_NOT_EXIST)
                        assert_int_equal(op_generate(&c, name, ecc_sign_attrs(256, HASH(SHA_256))),
                                         0);
                    else
                        assert_int_equal(e, 0);
                    status[r][i] = 0; /* exists now, with the attributes it was asked with */
                    if (e == PSC_PSA_DOES_NOT_EXIST) /* re-created as ECDSA */
                        sign_checked(&c, name, SIG_ECDSA, HASH(SHA_256), "prime256v1");
                    else
                        sign_checked(&c, name, i % 3 == 2 ? SIG_PKCS1 : SIG_ECDSA, HASH(SHA_256),
                                     i % 3 == 2 ? NULL : "prime256v1");
                    if (e == PSC_PSA_DOES_NOT_EXIST)
                        assert_int_equal(op_destroy(&c, name), 0), status[r][i] = NOT_SENT;
                } else {
                    assert_int_equal(st, NOT_SENT);
                    assert_int_equal(op_export_public(&c, name, &pub), PSC_PSA_DOES_NOT_EXIST);
                }
            }
        /* Nothing listed that the client does not know of. */
        ListKeys__Result *lk = NULL;
        assert_int_equal(op_list_keys(&c, &lk), 0);
        for (size_t k = 0; k < lk->n_keys; k++) {
            int r, i;
            assert_int_equal(sscanf(lk->keys[k]->name, "crash-%d-%d", &r, &i), 2);
            assert_int_equal(status[r][i], 0);
        }
    }
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

static int teardown(void **state)
{
    if (D.dir[0])
        daemon_cleanup(&D);
    swtpm_cleanup(&S);
    return e2e_arena_free(state);
}

int main(void)
{
    if (!swtpm_available()) {
        fprintf(stderr, "swtpm is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(killed_while_creating, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
