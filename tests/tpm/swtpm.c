#define _GNU_SOURCE
#include "swtpm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* How long swtpm may take to accept connections, polled every 20 ms (it takes a few ms; the
 * bound only stops a broken swtpm from hanging the test). */
#define SWTPM_START_POLLS 1500

int swtpm_available(void)
{
    return system("command -v swtpm >/dev/null 2>&1") == 0;
}

static int bind_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int got = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        got = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return got;
}

/* A port P the kernel hands out, with P + 1 free as well. */
static int free_port_pair(void)
{
    for (int i = 0; i < 100; i++) {
        int p = bind_port(0);
        if (p > 0 && p < 65535 && bind_port(p + 1) == p + 1)
            return p;
    }
    fail_msg("no free pair of TCP ports on 127.0.0.1");
    return -1;
}

static int accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void launch_flags(struct swtpm *s, const char *flags)
{
    char state[300], server[80], ctrl[80], log[300];
    snprintf(state, sizeof(state), "dir=%s", s->dir);
    snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", s->port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", s->port + 1);
    snprintf(log, sizeof(log), "%s/swtpm.log", s->dir);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (flags)
            execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", server,
                   "--ctrl", ctrl, "--flags", flags, (char *)NULL);
        else
            execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", server,
                   "--ctrl", ctrl, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < SWTPM_START_POLLS; i++) {
        if (accepts(s->port))
            return;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            fail_msg("swtpm exited at start (see %s)", log);
        }
        poll(NULL, 0, 20);
    }
    fail_msg("swtpm does not accept connections on port %d", s->port);
}

static void launch(struct swtpm *s)
{
    launch_flags(s, "not-need-init,startup-clear");
}

void swtpm_start(struct swtpm *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/parsec-swtpm-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    s->port = free_port_pair();
    snprintf(s->tcti, sizeof(s->tcti), "swtpm:host=127.0.0.1,port=%d", s->port);
    launch(s);
}

void swtpm_stop(struct swtpm *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    int st;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
}

void swtpm_restart(struct swtpm *s)
{
    swtpm_stop(s);
    launch(s);
}

void swtpm_restart_failed(struct swtpm *s)
{
    swtpm_stop(s);
    char path[300];
    snprintf(path, sizeof(path), "%s/tpm2-00.permall", s->dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof(buf), f);
    assert_true(n > 300);
    for (size_t i = 200; i < n; i += 97)
        buf[i] ^= 0xff;
    rewind(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    /* Started without "not-need-init", it initialises the TPM on the control channel's INIT,
     * which fails on this state and leaves libtpms in failure mode. */
    launch_flags(s, NULL);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "swtpm_ioctl --tcp 127.0.0.1:%d -i >/dev/null 2>&1", s->port + 1);
    assert_int_not_equal(system(cmd), 0);
}

void swtpm_cleanup(struct swtpm *s)
{
    swtpm_stop(s);
    if (s->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", s->dir);
    }
    memset(s, 0, sizeof(*s));
}

int swtpm_tool(const struct swtpm *s, const char *cmd)
{
    char line[1024];
    snprintf(line, sizeof(line), "TPM2TOOLS_TCTI='%s' %s >>'%s/tools.log' 2>&1", s->tcti, cmd,
             s->dir);
    int st = system(line);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}
