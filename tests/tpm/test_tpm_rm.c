/* The TPM provider behind a resource manager: tpm2-abrmd (TCTI "tabrmd") on a private D-Bus
 * session bus, in front of the test's swtpm. The resource manager virtualises handles and lets
 * other programs use the TPM at the same time: the provider must work with more keys than the
 * TPM holds, beside other users, and after being killed (the resource manager flushes what a
 * dead connection left). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "attest_key.pb-c.h"
#include "tpm_test.h"

static struct swtpm S;
static struct daemon D;
static pid_t bus_pid, rm_pid;
static char bus_env[400];
static char tcti_env[] = "TPM2TOOLS_TCTI=tabrmd:bus_type=session";

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

/* Runs a tpm2-tools command through the resource manager; returns its exit status. */
static int rm_tool(const char *cmd)
{
    char line[3072];
    snprintf(line, sizeof(line), "%s %s %s >>'%s/tools.log' 2>&1", bus_env, tcti_env, cmd, S.dir);
    int st = system(line);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int group_setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    char bus_path[300], bus_addr[320];
    snprintf(bus_path, sizeof(bus_path), "%s/bus", S.dir);
    snprintf(bus_addr, sizeof(bus_addr), "--address=unix:path=%s", bus_path);
    snprintf(bus_env, sizeof(bus_env), "DBUS_SESSION_BUS_ADDRESS=unix:path=%s", bus_path);
    char *bus_argv[] = {"dbus-daemon", "--session", "--nofork", bus_addr, NULL};
    bus_pid = spawn(bus_argv);
    struct stat st;
    for (int i = 0; i < 1000 && stat(bus_path, &st) != 0; i++)
        usleep(10000);
    assert_int_equal(stat(bus_path, &st), 0);

    char rm_tcti[128];
    snprintf(rm_tcti, sizeof(rm_tcti), "--tcti=%s", S.tcti);
    char *rm_argv[] = {"tpm2-abrmd", "--session", rm_tcti, "--allow-root", NULL};
    assert_int_equal(putenv(bus_env), 0);
    rm_pid = spawn(rm_argv);
    /* Ready when a command goes through it. */
    int ok = -1;
    for (int i = 0; i < 200 && (ok = rm_tool("tpm2_getrandom 8 >/dev/null")) != 0; i++)
        usleep(50000);
    assert_int_equal(ok, 0);

    daemon_prepare(&D, tpm_config(NULL, "", NULL, NULL));
    const char *c = tpm_config(NULL, "", NULL, NULL);
    const char *from = "swtpm:host=127.0.0.1,port=1";
    const char *at = strstr(c, from);
    assert_non_null(at);
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), "%.*stabrmd:bus_type=session%s", (int)(at - c), c,
             at + strlen(from));
    daemon_write_config(&D, cfg);
    char *env[] = {bus_env, NULL};
    assert_int_equal(daemon_launch(&D, env), 0);
    assert_true(daemon_log_contains(&D, "TPM opened through \"tabrmd:bus_type=session\""));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int st = D.pid > 0 ? daemon_stop(&D, SIGTERM) : 0;
    daemon_cleanup(&D);
    reap(&rm_pid);
    reap(&bus_pid);
    swtpm_cleanup(&S);
    assert_int_equal(st, 0);
    return 0;
}

static void relaunch(int sig)
{
    int st = daemon_stop(&D, sig);
    assert_int_equal(st, sig == SIGKILL ? 128 + SIGKILL : 0);
    char *env[] = {bus_env, NULL};
    assert_int_equal(daemon_launch(&D, env), 0);
}

static void use_all(const struct caller *c, int n)
{
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "ecc-%d", i);
        sign_checked(c, name, SIG_ECDSA, HASH(SHA_256), "prime256v1");
    }
    sign_checked(c, "rsa", SIG_PKCS1, HASH(SHA_256), NULL);
}

/* More keys than the TPM holds, in turn, then after a restart and after a kill. */
static void keys_through_resource_manager(void **state)
{
    (void)state;
    struct caller c = tpm_caller(&D, "rm-app");
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "ecc-%d", i);
        assert_int_equal(op_generate(&c, name, ecc_sign_attrs(256, HASH(SHA_256))), 0);
    }
    assert_int_equal(op_generate(&c, "rsa", rsa_sign_attrs(2048, HASH(SHA_256))), 0);
    use_all(&c, 6);
    struct buf r;
    assert_int_equal(op_generate_random(&c, 100, &r), 0);
    assert_int_equal(r.n, 100);
    relaunch(SIGTERM);
    use_all(&c, 6);
    /* Killed with keys loaded: the resource manager flushes them, nothing is left over. */
    relaunch(SIGKILL);
    use_all(&c, 6);
}

/* Other programs use the same TPM through the resource manager, with objects of their own
 * loaded, while the service works: neither disturbs the other. */
static void shared_with_other_programs(void **state)
{
    (void)state;
    struct caller c = tpm_caller(&D, "rm-app");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "tpm2_createprimary -C o -G ecc256 -c %s/other.ctx >/dev/null",
             S.dir);
    assert_int_equal(rm_tool(cmd), 0);
    use_all(&c, 6);
    snprintf(cmd, sizeof(cmd),
             "tpm2_createprimary -C o -G ecc256 -c %s/other2.ctx >/dev/null && "
             "TPM2TOOLS_TCTI=tabrmd:bus_type=session tpm2_create -C %s/other2.ctx -G ecc256 "
             "-u %s/o.pub -r %s/o.priv >/dev/null",
             S.dir, S.dir, S.dir, S.dir);
    assert_int_equal(rm_tool(cmd), 0);
    use_all(&c, 6);
    assert_int_equal(rm_tool("tpm2_getrandom 16 >/dev/null"), 0);
}

int main(void)
{
    if (!swtpm_available() || system("command -v tpm2-abrmd >/dev/null 2>&1") != 0 ||
        system("command -v dbus-daemon >/dev/null 2>&1") != 0 ||
        system("command -v tpm2_getrandom >/dev/null 2>&1") != 0) {
        fprintf(stderr, "swtpm, tpm2-abrmd, dbus-daemon or tpm2-tools is not installed: TPM "
                        "resource manager tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(keys_through_resource_manager, e2e_arena_free),
        cmocka_unit_test_teardown(shared_with_other_programs, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
