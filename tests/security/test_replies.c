/* Replies are bounded (docs/threat-model.md, "Resources"): key and application names are at
 * most 189 bytes on both key stores, so that a listing of names stays small; a reply body is at
 * most buffer_size_limit plus its protobuf framing (ResponseTooLarge, 10, beyond); and replies
 * waiting for a slow reader are counted against the request-memory budget and its per-user
 * share (PsaErrorInsufficientMemory, 1141, beyond). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ops.h"
#include "list_keys.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* The documented bound (docs/compatibility.md). */
#define NAME_MAX_BYTES 189
/* Reply size: a small limit, and enough keys with long names to list beyond it. */
#define SMALL_BUFFER_LIMIT 4096
#define LISTED_KEYS 30
#define LISTED_NAME 150
/* Slow readers: each asks for this many random bytes and does not read them yet; together they
 * ask for more than one user's share (half of 64 MiB) of the budget. */
#define RANDOM_SIZE 1000000
#define SLOW_READERS 50
#define REPLY_WAIT_MS 60000

static const char CONFIG_SQLITE[] = ST_CONFIG("thread_pool_size = 2\n", "200", ST_KIM_SQLITE);
static const char CONFIG_ONDISK[] = ST_CONFIG("thread_pool_size = 2\n", "200", ST_KIM_ONDISK);
static const char CONFIG_SMALL[] =
    ST_CONFIG("thread_pool_size = 2\nbuffer_size_limit = 4096\n", "200", ST_KIM_SQLITE);
/* A long timeout: the slow readers wait while the test looks at them. */
static const char CONFIG_SLOW[] = ST_CONFIG("thread_pool_size = 2\n", "30000", ST_KIM_SQLITE);

static struct daemon D;

static int teardown(void **state)
{
    (void)state;
    if (D.pid > 0)
        daemon_stop(&D, SIGKILL);
    daemon_cleanup(&D);
    return 0;
}

static void stop_clean(void)
{
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

static char *name_of(size_t len, char c)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, c, len);
    s[len] = 0;
    return s;
}

/* The same bound on both stores: 189 bytes are kept, 190 refused KeyInfoManagerError (14), for
 * key names and application names alike. */
static void names_capped(const char *config)
{
    daemon_start(&D, config);
    struct psc_attrs a = st_attrs_ecdsa_p256();
    char *longest = name_of(NAME_MAX_BYTES, 'k');
    char *too_long = name_of(NAME_MAX_BYTES + 1, 'k');
    char *app_too_long = name_of(NAME_MAX_BYTES + 1, 'a');
    assert_int_equal(st_generate(D.sock, "names", longest, &a), 0);
    assert_int_equal(st_generate(D.sock, "names", too_long, &a), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(st_generate(D.sock, app_too_long, "k", &a), PSC_KEY_INFO_MANAGER_ERROR);
    /* Nothing was left behind by the refusals: no mapping, no key file. */
    char **names;
    size_t n;
    assert_int_equal(st_list_keys(D.sock, "names", &names, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], longest);
    st_names_free(names, n);
    assert_int_equal(daemon_count_key_files(&D), 1);
    assert_int_equal(st_destroy(D.sock, "names", longest), 0);
    free(longest);
    free(too_long);
    free(app_too_long);
    stop_clean();
}

static void names_capped_sqlite(void **state)
{
    (void)state;
    names_capped(CONFIG_SQLITE);
}

static void names_capped_ondisk(void **state)
{
    (void)state;
    names_capped(CONFIG_ONDISK);
}

/* A listing longer than buffer_size_limit is refused 10; a buffer of exactly the limit is
 * still served. */
static void reply_size_capped(void **state)
{
    (void)state;
    daemon_start(&D, CONFIG_SMALL);
    PsaGenerateRandom__Operation op = PSA_GENERATE_RANDOM__OPERATION__INIT;
    op.size = SMALL_BUFFER_LIMIT;
    assert_int_equal(
        st_call(D.sock, ST_PROVIDER, PSC_OP_PSA_GENERATE_RANDOM, NULL, &op.base, NULL, NULL), 0);
    struct psc_attrs a = st_attrs_ecdsa_p256();
    for (int i = 0; i < LISTED_KEYS; i++) {
        char *name = name_of(LISTED_NAME, 'a' + (char)(i % 26));
        snprintf(name, 8, "%05d-", i);
        name[6] = 'x';
        assert_int_equal(st_generate(D.sock, "lister", name, &a), 0);
        free(name);
    }
    char **names;
    size_t n;
    int rc = st_list_keys(D.sock, "lister", &names, &n);
    printf("replies: listing %d keys of %d-byte names with buffer_size_limit %d: status %d\n",
           LISTED_KEYS, LISTED_NAME, SMALL_BUFFER_LIMIT, rc);
    assert_int_equal(rc, PSC_RESPONSE_TOO_LARGE);
    stop_clean();
}

/* Replies nobody reads yet hold memory: beyond one user's share of the budget, a reply is
 * refused 1141 rather than kept; the others are delivered whole. */
static void reply_memory_counted(void **state)
{
    (void)state;
    daemon_start(&D, CONFIG_SLOW);
    PsaGenerateRandom__Operation op = PSA_GENERATE_RANDOM__OPERATION__INIT;
    op.size = RANDOM_SIZE;
    size_t len;
    uint8_t *req = st_frame(ST_PROVIDER, PSC_OP_PSA_GENERATE_RANDOM, &op.base, NULL, &len);
    assert_non_null(req);
    int fds[SLOW_READERS];
    for (int i = 0; i < SLOW_READERS; i++) {
        fds[i] = st_connect(D.sock, REPLY_WAIT_MS);
        assert_true(fds[i] >= 0);
        assert_int_equal(st_write_all(fds[i], req, len), 0);
        /* Its reply has begun before the next request: all of them are held at once. */
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        assert_int_equal(poll(&p, 1, REPLY_WAIT_MS), 1);
    }
    free(req);
    int ok = 0, refused = 0;
    for (int i = 0; i < SLOW_READERS; i++) {
        uint8_t hdr[PSC_WIRE_HEADER_SIZE];
        uint8_t *body = NULL;
        uint32_t bl;
        assert_int_equal(st_read_reply(fds[i], hdr, &body, &bl), 0);
        int st = st_reply_status(hdr);
        if (st == 0 && bl > RANDOM_SIZE)
            ok++;
        else if (st_is_generic(hdr, PSC_PSA_INSUFFICIENT_MEMORY))
            refused++;
        else
            fail_msg("slow reader %d: status %d, body %u bytes", i, st, bl);
        free(body);
        close(fds[i]);
    }
    printf("replies: %d slow readers of %d random bytes: %d served, %d refused with 1141\n",
           SLOW_READERS, RANDOM_SIZE, ok, refused);
    assert_true(refused > 0);
    assert_true(ok >= 25);
    /* The budget is whole again once they are gone. */
    assert_int_equal(
        st_call(D.sock, ST_PROVIDER, PSC_OP_PSA_GENERATE_RANDOM, NULL, &op.base, NULL, NULL), 0);
    stop_clean();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(names_capped_sqlite, teardown),
        cmocka_unit_test_teardown(names_capped_ondisk, teardown),
        cmocka_unit_test_teardown(reply_size_capped, teardown),
        cmocka_unit_test_teardown(reply_memory_counted, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
