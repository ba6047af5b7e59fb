/* Crash safety: the daemon is killed with SIGKILL at random moments while client threads
 * create and destroy keys, and restarted on the same files; then every promise it made must
 * hold, for both key stores (SQLite and the on-disk folder):
 *
 *   - a key it said it created (success reply) and did not destroy signs, and the signature
 *     verifies with OpenSSL against the public key it exports;
 *   - a key it said it destroyed is gone: operations on it return PsaErrorDoesNotExist (1140);
 *   - a key whose creation or destruction was in flight at a kill is either usable or absent
 *     and creatable again under the same name;
 *   - every key ListKeys shows is one of these and usable: no mapping points at nothing.
 *
 * The clients also check every answer while they run: a create refused as existing, or a
 * destroy refused as missing, for a key whose state they know is a broken promise.
 *
 * PARSEC_CRASH_KILLS (default 6) and PARSEC_CRASH_THREADS (default 4) scale it up. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "wire/status.h"

#define NAMES_PER_THREAD 12
#define PUB_MAX 600
#define SIG_MAX 512
/* Range of the time the clients run between two kills. */
#define KILL_DELAY_MIN_MS 20
#define KILL_DELAY_SPAN_MS 400
/* Pause of a client that could not connect (the daemon is down). */
#define RETRY_PAUSE_US 2000

static const char CONFIG_SQLITE[] = ST_CONFIG("thread_pool_size = 2\n", "3000", ST_KIM_SQLITE);

static const char CONFIG_ONDISK[] = ST_CONFIG("thread_pool_size = 2\n", "3000", ST_KIM_ONDISK);

enum kstate { K_ABSENT, K_PRESENT, K_UNKNOWN };

struct slot {
    char name[32];
    enum kstate st;
};

struct client {
    pthread_t th;
    char app[48];
    unsigned seed;
    struct slot slots[NAMES_PER_THREAD];
    unsigned long creates, destroys, unknown;
    unsigned long found_existing, found_absent; /* unknown keys, learnt later */
};

static struct daemon D;
static _Atomic int stop_clients;

/* One step on a random name: destroy it if it exists, create it otherwise, learn its state if
 * a kill left it unknown. */
static void client_step(struct client *c)
{
    struct slot *s = &c->slots[rand_r(&c->seed) % NAMES_PER_THREAD];
    struct psc_attrs a = st_attrs_ecdsa_p256();
    int rc = 0;
    switch (s->st) {
    case K_PRESENT:
        rc = st_destroy(D.sock, c->app, s->name);
        if (rc == 0) {
            s->st = K_ABSENT;
            c->destroys++;
        } else if (rc == ST_IO) {
            s->st = K_UNKNOWN;
            c->unknown++;
        } else if (rc != ST_NOCONN) {
            st_error("%s/%s: created, but destroy says %d", c->app, s->name, rc);
        }
        break;
    case K_ABSENT:
        rc = st_generate(D.sock, c->app, s->name, &a);
        if (rc == 0) {
            s->st = K_PRESENT;
            c->creates++;
        } else if (rc == ST_IO) {
            s->st = K_UNKNOWN;
            c->unknown++;
        } else if (rc != ST_NOCONN) {
            st_error("%s/%s: destroyed or never made, but create says %d", c->app, s->name, rc);
        }
        break;
    case K_UNKNOWN:
        rc = st_generate(D.sock, c->app, s->name, &a);
        if (rc == 0) {
            s->st = K_PRESENT;
            c->found_absent++;
        } else if (rc == PSC_PSA_ALREADY_EXISTS) {
            /* A key that exists must be usable right away. */
            uint8_t hash[32] = {1}, sig[SIG_MAX];
            size_t sl;
            rc = st_sign(D.sock, c->app, s->name, ST_ALG_ECDSA, hash, 32, sig, sizeof(sig), &sl);
            if (rc == 0) {
                s->st = K_PRESENT;
                c->found_existing++;
            } else if (rc != ST_IO && rc != ST_NOCONN) {
                st_error("%s/%s: exists (1139) but sign says %d", c->app, s->name, rc);
            }
        } else if (rc != ST_IO && rc != ST_NOCONN) {
            st_error("%s/%s: unknown, and create says %d", c->app, s->name, rc);
        }
        break;
    }
    if (rc == ST_NOCONN)
        usleep(RETRY_PAUSE_US);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    while (!atomic_load(&stop_clients))
        client_step(c);
    return NULL;
}

static void kill_and_restart(void)
{
    assert_true(D.pid > 0);
    assert_int_equal(kill(D.pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(D.pid, &st, 0), D.pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    D.pid = 0;
    if (daemon_launch(&D, NULL) != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "tail -20 %s >&2", D.log);
        (void)!system(cmd);
        fail_msg("the daemon did not restart after a kill");
    }
}

static int listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* Signs with the key and verifies with OpenSSL; returns the service's status of the sign. */
static int sign_works(const char *app, const char *name)
{
    uint8_t pub[PUB_MAX], hash[32], sig[SIG_MAX];
    size_t pl, sl;
    st_random(hash, sizeof(hash));
    int rc = st_sign(D.sock, app, name, ST_ALG_ECDSA, hash, 32, sig, sizeof(sig), &sl);
    if (rc != 0)
        return rc;
    rc = st_export_public(D.sock, app, name, pub, sizeof(pub), &pl);
    if (rc != 0) {
        st_error("%s/%s signs but export says %d", app, name, rc);
        return rc;
    }
    if (st_ossl_verify(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), pub, pl, hash, 32, sig,
                       sl) != 1)
        st_error("%s/%s: signature does not verify with OpenSSL", app, name);
    return 0;
}

static void check_client(const struct client *c, unsigned long *present, unsigned long *absent,
                         unsigned long *unknown_present, unsigned long *unknown_absent)
{
    char **names;
    size_t n;
    int rc = st_list_keys(D.sock, c->app, &names, &n);
    /* An application without keys may be reported with an error by a faulty ListKeys:
     * recorded, and the per-key checks still run. */
    if (rc != 0)
        st_error("%s: ListKeys says %d", c->app, rc);
    for (size_t i = 0; i < NAMES_PER_THREAD; i++) {
        const struct slot *s = &c->slots[i];
        int in_list = listed(names, n, s->name);
        rc = sign_works(c->app, s->name);
        switch (s->st) {
        case K_PRESENT:
            (*present)++;
            if (rc != 0 || !in_list)
                st_error("%s/%s: created, but sign says %d and ListKeys %s it", c->app, s->name, rc,
                         in_list ? "shows" : "does not show");
            break;
        case K_ABSENT:
            (*absent)++;
            if (rc != PSC_PSA_DOES_NOT_EXIST || in_list)
                st_error("%s/%s: destroyed, but sign says %d and ListKeys %s it", c->app, s->name,
                         rc, in_list ? "shows" : "does not show");
            rc = st_destroy(D.sock, c->app, s->name);
            if (rc != PSC_PSA_DOES_NOT_EXIST)
                st_error("%s/%s: destroyed, but destroy says %d", c->app, s->name, rc);
            break;
        case K_UNKNOWN:
            if (rc == 0) {
                (*unknown_present)++;
                if (!in_list)
                    st_error("%s/%s: usable but not listed", c->app, s->name);
            } else if (rc == PSC_PSA_DOES_NOT_EXIST) {
                (*unknown_absent)++;
                if (in_list)
                    st_error("%s/%s: listed but missing", c->app, s->name);
                struct psc_attrs a = st_attrs_ecdsa_p256();
                rc = st_generate(D.sock, c->app, s->name, &a);
                if (rc != 0)
                    st_error("%s/%s: absent, but cannot be created again: %d", c->app, s->name, rc);
                else if ((rc = sign_works(c->app, s->name)) != 0)
                    st_error("%s/%s: created again but sign says %d", c->app, s->name, rc);
            } else {
                st_error("%s/%s: neither usable nor absent: sign says %d", c->app, s->name, rc);
            }
            break;
        }
    }
    /* Nothing listed that the clients do not know of. */
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t k = 0; k < NAMES_PER_THREAD; k++)
            if (strcmp(names[i], c->slots[k].name) == 0 && c->slots[k].st != K_ABSENT)
                known = 1;
        if (!known)
            st_error("%s: ListKeys shows %s, which is not expected to exist", c->app, names[i]);
    }
    st_names_free(names, n);
}

static size_t count_key_files(const char *dir)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/keys", dir);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".psa_its") && strcmp(e->d_name, "tempfile.psa_its") != 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static void crash_run(const char *config, const char *label)
{
    unsigned long kills = st_env_ulong("PARSEC_CRASH_KILLS", 6);
    unsigned long threads = st_env_ulong("PARSEC_CRASH_THREADS", 4);
    assert_true(threads >= 1 && threads <= 1024);
    unsigned long errors_before = st_errors();
    daemon_start(&D, config);
    atomic_store(&stop_clients, 0);
    struct client *c = calloc(threads, sizeof(*c));
    assert_non_null(c);
    uint8_t r[4];
    st_random(r, sizeof(r));
    unsigned seed = (unsigned)(r[0] | r[1] << 8 | r[2] << 16 | (unsigned)r[3] << 24);
    for (unsigned long i = 0; i < threads; i++) {
        c[i].seed = seed ^ (unsigned)(i * 2654435761u);
        snprintf(c[i].app, sizeof(c[i].app), "crash-%lu", i);
        for (int k = 0; k < NAMES_PER_THREAD; k++)
            snprintf(c[i].slots[k].name, sizeof(c[i].slots[k].name), "key-%d", k);
        assert_int_equal(pthread_create(&c[i].th, NULL, client_main, &c[i]), 0);
    }
    for (unsigned long k = 0; k < kills; k++) {
        usleep((KILL_DELAY_MIN_MS + rand_r(&seed) % KILL_DELAY_SPAN_MS) * 1000);
        kill_and_restart();
    }
    /* Let the clients meet the last restart, then stop them between two requests. */
    usleep((KILL_DELAY_MIN_MS + rand_r(&seed) % KILL_DELAY_SPAN_MS) * 1000);
    atomic_store(&stop_clients, 1);
    for (unsigned long i = 0; i < threads; i++)
        pthread_join(c[i].th, NULL);
    /* The check runs on a daemon that has just recovered from a kill. */
    kill_and_restart();

    unsigned long creates = 0, destroys = 0, unknown = 0, found_existing = 0, found_absent = 0;
    unsigned long present = 0, absent = 0, unknown_present = 0, unknown_absent = 0;
    for (unsigned long i = 0; i < threads; i++) {
        creates += c[i].creates;
        destroys += c[i].destroys;
        unknown += c[i].unknown;
        found_existing += c[i].found_existing;
        found_absent += c[i].found_absent;
        check_client(&c[i], &present, &absent, &unknown_present, &unknown_absent);
    }
    size_t files = count_key_files(D.dir);
    size_t reachable = present + unknown_present + unknown_absent;
    printf("crash (%s): %lu kills, %lu creates and %lu destroys confirmed, %lu left unknown by a "
           "kill (later found: %lu existing and usable, %lu absent and created again); at the end "
           "%lu present, %lu absent, unknown: %lu present, %lu absent; %zu key files, %zu of "
           "them unreachable; %lu errors\n",
           label, kills + 1, creates, destroys, unknown, found_existing, found_absent, present,
           absent, unknown_present, unknown_absent, files,
           files >= reachable ? files - reachable : 0, st_errors() - errors_before);
    assert_int_equal(st_errors(), errors_before);
    /* Every usable key has its file; files beyond them are left by kills between a key's
     * creation and its mapping: the service never reaches them again (key id allocation
     * skips them). A destroy removes the key before its mapping, so it leaves none. */
    assert_true(files >= reachable);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
    free(c);
}

static void crash_sqlite(void **state)
{
    (void)state;
    crash_run(CONFIG_SQLITE, "SQLite");
}

static void crash_ondisk(void **state)
{
    (void)state;
    crash_run(CONFIG_ONDISK, "OnDisk");
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&stop_clients, 1);
    daemon_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(crash_sqlite, teardown),
        cmocka_unit_test_teardown(crash_ondisk, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
