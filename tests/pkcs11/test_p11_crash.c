/* Crash safety of the PKCS#11 provider: the daemon is killed with SIGKILL at random moments
 * while client threads create and destroy keys on a SoftHSM2 token, and restarted on the same
 * token and mapping store. Then every promise holds:
 *   - a key it said it created (and did not destroy) signs;
 *   - a key it said it destroyed is gone (1140);
 *   - a key whose creation or destruction was in flight at the kill either signs, or is absent
 *     and its name can be created again (no name blocked, no half key usable);
 *   - every key ListKeys shows signs: no mapping points at nothing.
 * PARSEC_P11_CRASH_KILLS (default 4) scales it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>

#define E2E_PROVIDER PSC_PROVIDER_PKCS11
#include "e2e_psa.h"
#include "p11_env.h"

#define THREADS 3
#define NAMES 6 /* per thread */
#define APP "crash"

enum kstate { K_ABSENT, K_PRESENT, K_UNKNOWN };

static struct p11_token T;
static struct daemon D;
static enum kstate keys[THREADS][NAMES];
static atomic_int stop;

/* ---- thread-safe calls (the arena of e2e_psa.h is not) -------------------------------------- */

static int raw_call(uint32_t opcode, const ProtobufCMessage *op)
{
    size_t len;
    uint8_t *req = e2e_build(e2e_header(PSC_PROVIDER_PKCS11, opcode, PSC_AUTH_DIRECT), op, APP,
                             strlen(APP), &len);
    struct psc_header rsp;
    uint8_t *body = NULL;
    int rc = e2e_raw(D.sock, req, len, &rsp, &body);
    free(req);
    free(body);
    return rc != 0 ? -1 : (int)rsp.status;
}

static int t_generate(const char *name)
{
    PsaKeyAttributes__KeyType__EccKeyPair ekp = PSA_KEY_ATTRIBUTES__KEY_TYPE__ECC_KEY_PAIR__INIT;
    ekp.curve_family = ECC(SECP_R1);
    KeyType kt = PSA_KEY_ATTRIBUTES__KEY_TYPE__INIT;
    kt.variant_case = PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR;
    kt.ecc_key_pair = &ekp;
    PsaKeyAttributes__UsageFlags uf = PSA_KEY_ATTRIBUTES__USAGE_FLAGS__INIT;
    uf.sign_hash = 1;
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash sh =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__INIT;
    sh.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
    sh.specific = HASH(SHA_256);
    PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa ec =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__ECDSA__INIT;
    ec.hash_alg = &sh;
    SigAlg sa = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    sa.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
    sa.ecdsa = &ec;
    Alg alg = PSA_ALGORITHM__ALGORITHM__INIT;
    alg.variant_case = PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE;
    alg.asymmetric_signature = &sa;
    PsaKeyAttributes__KeyPolicy pol = PSA_KEY_ATTRIBUTES__KEY_POLICY__INIT;
    pol.key_usage_flags = &uf;
    pol.key_algorithm = &alg;
    Attrs at = PSA_KEY_ATTRIBUTES__KEY_ATTRIBUTES__INIT;
    at.key_type = &kt;
    at.key_bits = 256;
    at.key_policy = &pol;
    PsaGenerateKey__Operation g = PSA_GENERATE_KEY__OPERATION__INIT;
    g.key_name = (char *)name;
    g.attributes = &at;
    return raw_call(PSC_OP_PSA_GENERATE_KEY, &g.base);
}

static int t_destroy(const char *name)
{
    PsaDestroyKey__Operation d = PSA_DESTROY_KEY__OPERATION__INIT;
    d.key_name = (char *)name;
    return raw_call(PSC_OP_PSA_DESTROY_KEY, &d.base);
}

static int t_sign(const char *name)
{
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    PsaAlgorithm__Algorithm__AsymmetricSignature__SignHash sh =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__INIT;
    sh.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__SIGN_HASH__VARIANT_SPECIFIC;
    sh.specific = HASH(SHA_256);
    PsaAlgorithm__Algorithm__AsymmetricSignature__Ecdsa ec =
        PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__ECDSA__INIT;
    ec.hash_alg = &sh;
    SigAlg alg = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__INIT;
    alg.variant_case = PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA;
    alg.ecdsa = &ec;
    uint8_t hash[32] = {9};
    op.key_name = (char *)name;
    op.alg = &alg;
    op.hash.data = hash;
    op.hash.len = sizeof(hash);
    return raw_call(PSC_OP_PSA_SIGN_HASH, &op.base);
}

static void name_of(int t, int i, char *buf, size_t n)
{
    snprintf(buf, n, "k-%d-%d", t, i);
}

/* Flips keys between present and absent. A call cut by the kill leaves its key unknown; a call
 * answered is a promise, and an answer contradicting a known state is counted. */
static atomic_int broken;

static void *client(void *arg)
{
    int t = (int)(intptr_t)arg;
    unsigned seed = (unsigned)t * 7919u + 17u;
    while (!atomic_load(&stop)) {
        int i = (int)(rand_r(&seed) % NAMES);
        char name[32];
        name_of(t, i, name, sizeof(name));
        enum kstate was = keys[t][i];
        int create = was == K_ABSENT || (was == K_UNKNOWN && rand_r(&seed) % 2);
        keys[t][i] = K_UNKNOWN;
        int rc = create ? t_generate(name) : t_destroy(name);
        if (rc < 0 || rc == PSC_CONNECTION_ERROR) {
            /* The daemon died under the call: the outcome is unknown. */
            if (atomic_load(&stop))
                break;
            continue;
        }
        if (create) {
            if (rc == 0)
                keys[t][i] = K_PRESENT;
            else if (rc == PSC_PSA_ALREADY_EXISTS && was != K_ABSENT)
                keys[t][i] = K_PRESENT;
            else
                atomic_fetch_add(&broken, 1);
        } else {
            if (rc == 0 || (rc == PSC_PSA_DOES_NOT_EXIST && was != K_PRESENT))
                keys[t][i] = K_ABSENT;
            else
                atomic_fetch_add(&broken, 1);
        }
    }
    return NULL;
}

static void check_promises(void)
{
    int unknown = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < NAMES; i++)
            unknown += keys[t][i] == K_UNKNOWN;
    fprintf(stderr, "after the kill: %d key(s) in flight\n", unknown);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < NAMES; i++) {
            char name[32];
            name_of(t, i, name, sizeof(name));
            int rc = t_sign(name);
            switch (keys[t][i]) {
            case K_PRESENT:
                if (rc != 0)
                    fail_msg("%s was created but does not sign (%d)", name, rc);
                break;
            case K_ABSENT:
                assert_int_equal(rc, PSC_PSA_DOES_NOT_EXIST);
                break;
            case K_UNKNOWN:
                if (rc == 0) {
                    keys[t][i] = K_PRESENT;
                } else {
                    assert_int_equal(rc, PSC_PSA_DOES_NOT_EXIST);
                    /* Absent: the name is free again. */
                    assert_int_equal(t_generate(name), 0);
                    assert_int_equal(t_sign(name), 0);
                    keys[t][i] = K_PRESENT;
                }
                break;
            }
        }
    struct caller c = {.sock = D.sock, .app = APP};
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&c, &r), 0);
    for (size_t k = 0; k < r->n_keys; k++)
        assert_int_equal(t_sign(r->keys[k]->name), 0);
    e2e_arena_free(NULL);
}

static void test_crash(void **state_)
{
    (void)state_;
    const char *env = getenv("PARSEC_P11_CRASH_KILLS");
    int kills = env ? atoi(env) : 4;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);
    daemon_start(&D, p11_config(NULL, NULL));
    unsigned seed = 4242;
    for (int k = 0; k < kills; k++) {
        pthread_t th[THREADS];
        atomic_store(&stop, 0);
        for (int t = 0; t < THREADS; t++)
            assert_int_equal(pthread_create(&th[t], NULL, client, (void *)(intptr_t)t), 0);
        /* Let some creations and destructions through, then kill in the middle of others. */
        usleep(100000 + rand_r(&seed) % 400000);
        assert_int_equal(kill(D.pid, SIGKILL), 0);
        atomic_store(&stop, 1);
        for (int t = 0; t < THREADS; t++)
            pthread_join(th[t], NULL);
        int st;
        waitpid(D.pid, &st, 0);
        D.pid = 0;
        assert_int_equal(daemon_launch(&D, NULL), 0);
        check_promises();
    }
    assert_int_equal(atomic_load(&broken), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

static int test_end(void **st)
{
    daemon_cleanup(&D);
    p11_token_cleanup(&T);
    return e2e_arena_free(st);
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_crash, test_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
