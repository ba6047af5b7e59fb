/* The log cannot be forged or flooded by a client. Key names and Direct application names
 * carrying a newline followed by a line in the daemon's own format, terminal escape sequences,
 * C1 controls, and names of thousands of bytes reach every kind of log line that quotes a
 * client string: a refused key name (always logged), operations on a missing key (logged with
 * log_error_details), and the start-up pass that removes mappings whose key file is gone
 * (application and key name). The daemon's log must then hold no forged line, no raw control
 * character, and no line longer than the bound, while the escaped names are there to show each
 * path was taken. parsec-tool, which prints the names the service sends, must print them
 * escaped too (list-clients here; list-keys in tests/tool/run.sh). */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../stress/ops.h"
#include "common/log.h"
#include "harness.h"
#include "wire/status.h"

/* Every line the daemon writes fits in this: the prefix, a timestamp and LOG_LINE_MAX. */
#define LINE_BOUND (LOG_LINE_MAX + 256)

#define FORGED "[ERROR parsec] FORGED"

static const char CONFIG[] =
    ST_CONFIG("log_level = \"info\"\nlog_error_details = true\n", "2000", ST_KIM_ONDISK);

static struct daemon D;

static char *long_name(const char *head, size_t len)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    size_t h = strlen(head);
    memcpy(s, head, h);
    memset(s + h, 'A', len - h);
    s[len] = '\0';
    return s;
}

static void remove_key_files(const char *dir)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/keys", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".psa_its")) {
            char f[700];
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            assert_int_equal(unlink(f), 0);
        }
    }
    closedir(d);
}

static void test_client_strings_in_the_log(void **state)
{
    (void)state;
    static const char app[] = "app\n" FORGED "-APP\x1b[2J\xc2\x9b"
                              "31m";
    static const char key[] = "key\n" FORGED "-KEY\x1b]0;title\x07\r";
    struct psc_attrs a = st_attrs_ecdsa_p256();
    uint8_t hash[32] = {0}, sig[256];
    size_t sig_len;

    daemon_start(&D, CONFIG);
    /* A key the start-up pass will find without its key file. */
    assert_int_equal(st_generate(D.sock, app, key, &a), 0);
    /* A failed operation on it (a signature algorithm its policy does not permit). */
    assert_true(st_sign(D.sock, app, key, ST_ALG_RSA_SIGN, hash, sizeof(hash), sig, sizeof(sig),
                        &sig_len) > 0);
    /* A key named with 20 000 bytes: refused by the name cap, and logged whatever
     * log_error_details says. */
    char *huge = long_name("huge\n" FORGED "-LONG\x1b[1m", 20000);
    struct psc_attrs bad = a;
    bad.bits = 200;
    assert_true(st_generate(D.sock, app, huge, &bad) > 0);
    /* A key name the on-disk store cannot hold: refused, and logged whatever
     * log_error_details says. */
    char *unfit = long_name("unfit\n" FORGED "-FILE\x1b[1m", 300);
    assert_true(st_generate(D.sock, "plain", unfit, &a) != 0);
    assert_int_equal(daemon_stop(&D, 15), 0);

    remove_key_files(D.dir);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_int_equal(daemon_stop(&D, 15), 0);

    FILE *f = fopen(D.log, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int seen_app = 0, seen_key = 0, seen_long = 0, seen_file = 0, seen_op = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (strncmp(line, FORGED, strlen(FORGED)) == 0)
            fail_msg("forged log line: %s", line);
        if ((size_t)n > LINE_BOUND)
            fail_msg("log line of %zd bytes", n);
        for (ssize_t i = 0; i < n - 1; i++) {
            unsigned char c = (unsigned char)line[i];
            if (c < 0x20 || c == 0x7f ||
                (c == 0xc2 && (unsigned char)line[i + 1] >= 0x80 &&
                 (unsigned char)line[i + 1] <= 0x9f))
                fail_msg("raw control character 0x%02x in the log line: %s", c, line);
        }
        seen_app |= strstr(line, "FORGED-APP") != NULL;
        seen_key |= strstr(line, "FORGED-KEY") != NULL;
        seen_long |= strstr(line, "FORGED-LONG") != NULL;
        seen_file |= strstr(line, "FORGED-FILE") != NULL;
        seen_op |= strstr(line, "PsaSignHash on key") != NULL;
    }
    free(line);
    fclose(f);
    assert_true(seen_app);
    assert_true(seen_key);
    assert_true(seen_long);
    assert_true(seen_file);
    assert_true(seen_op);
    free(huge);
    free(unfit);
    daemon_cleanup(&D);
}

#ifdef PARSEC_TOOL_BIN
static void test_tool_prints_names_escaped(void **state)
{
    (void)state;
    static const char config[] =
        ST_CONFIG("", "2000", "admins = [ { name = \"parsec-tool\" } ]\n" ST_KIM_SQLITE);
    static const char app[] = "evil\n" FORGED "\x1b[2J\xc2\x9b";
    struct psc_attrs a = st_attrs_ecdsa_p256();
    daemon_start(&D, config);
    assert_int_equal(st_generate(D.sock, app, "k", &a), 0);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "PARSEC_SERVICE_ENDPOINT=unix:%s RUST_LOG=off %s list-clients",
             D.sock, PARSEC_TOOL_BIN);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "evil\\x0a" FORGED "\\x1b[2J\\xc2\\x9b\n"));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f || c == 0xc2)
            fail_msg("raw control character 0x%02x in: %s", c, out);
    }
    assert_null(strstr(out, "\n" FORGED));
    daemon_stop(&D, 15);
    daemon_cleanup(&D);
}
#endif

/* The escaping itself, on the strings a log line quotes. */
static void test_log_str(void **state)
{
    (void)state;
    char buf[LOG_STR_BUF];
    assert_string_equal(log_str(buf, "plain-name"), "plain-name");
    assert_string_equal(log_str(buf, "a\nb\x1b[c\x7f\"q\"\\"), "a\\x0ab\\x1b[c\\x7f\\\"q\\\"\\\\");
    assert_string_equal(log_str(buf, "\xc2\x9b"
                                     "1m\xc3\xa9"),
                        "\\xc2\\x9b1m\xc3\xa9");
    assert_string_equal(log_str(buf, NULL), "");
    char *big = long_name("", 5000);
    log_str(buf, big);
    assert_int_equal(strlen(buf), LOG_STR_MAX + 3);
    assert_string_equal(buf + LOG_STR_MAX, "...");
    memset(big, '\n', 5000);
    log_str(buf, big);
    assert_true(strlen(buf) < LOG_STR_BUF);
    assert_string_equal(buf + strlen(buf) - 3, "...");
    /* A cut never splits a UTF-8 character. */
    for (size_t i = 0; i + 1 < 5000; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[4999] = '\0';
    char small[16];
    log_escape(small, sizeof(small), big, 0);
    assert_string_equal(small, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_str),
        cmocka_unit_test(test_client_strings_in_the_log),
#ifdef PARSEC_TOOL_BIN
        cmocka_unit_test(test_tool_prints_names_escaped),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
