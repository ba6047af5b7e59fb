#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire/opcode.h"

const char E2E_CONFIG_DIRECT[] = "[core_settings]\n"
                                 "allow_root = true\n"
                                 "thread_pool_size = 2\n"
                                 "log_level = \"info\"\n"
                                 "[listener]\n"
                                 "listener_type = \"DomainSocket\"\n"
                                 "timeout = 500\n"
                                 "socket_path = \"@DIR@/parsec.sock\"\n"
                                 "[authenticator]\n"
                                 "auth_type = \"Direct\"\n"
                                 "admins = [ { name = \"admin\" } ]\n"
                                 "[[key_manager]]\n"
                                 "name = \"sqlite-manager\"\n"
                                 "manager_type = \"SQLite\"\n"
                                 "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n"
                                 "[[provider]]\n"
                                 "provider_type = \"MbedCrypto\"\n"
                                 "key_info_manager = \"sqlite-manager\"\n"
                                 "key_store_path = \"@DIR@/keys\"\n";

const char E2E_CONFIG_UNIX[] = "[core_settings]\n"
                               "allow_root = true\n"
                               "thread_pool_size = 2\n"
                               "log_level = \"info\"\n"
                               "[listener]\n"
                               "listener_type = \"DomainSocket\"\n"
                               "timeout = 500\n"
                               "socket_path = \"@DIR@/parsec.sock\"\n"
                               "[authenticator]\n"
                               "auth_type = \"UnixPeerCredentials\"\n"
                               "[[key_manager]]\n"
                               "name = \"sqlite-manager\"\n"
                               "manager_type = \"SQLite\"\n"
                               "sqlite_db_path = \"@DIR@/kim/mappings.sqlite3\"\n"
                               "[[provider]]\n"
                               "provider_type = \"MbedCrypto\"\n"
                               "key_info_manager = \"sqlite-manager\"\n"
                               "key_store_path = \"@DIR@/keys\"\n";

uint64_t e2e_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void daemon_write_config(struct daemon *d, const char *config)
{
    FILE *f = fopen(d->cfg, "w");
    assert_non_null(f);
    for (const char *p = config; *p;) {
        const char *at = strstr(p, "@DIR@");
        if (!at) {
            fputs(p, f);
            break;
        }
        fwrite(p, 1, (size_t)(at - p), f);
        fputs(d->dir, f);
        p = at + 5;
    }
    assert_int_equal(fclose(f), 0);
}

void daemon_prepare(struct daemon *d, const char *config)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/parsec-e2e-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->sock, sizeof(d->sock), "%s/parsec.sock", d->dir);
    snprintf(d->cfg, sizeof(d->cfg), "%s/config.toml", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/parsec.log", d->dir);
    daemon_write_config(d, config);
}

static int ping_ok(const char *sock)
{
    uint8_t req[PSC_WIRE_HEADER_SIZE];
    struct psc_header h = e2e_header(0, PSC_OP_PING, 0);
    psc_header_encode(&h, req);
    struct psc_header rsp;
    uint8_t *body = NULL;
    int rc = e2e_raw(sock, req, sizeof(req), &rsp, &body);
    free(body);
    return rc == 0 && rsp.status == 0;
}

int daemon_launch(struct daemon *d, char *const extra_env[])
{
    /* PARSEC_E2E_WRAPPER (e.g. "valgrind --tool=memcheck ...", see scripts/valgrind.sh)
     * prefixes the daemon's command line. */
    const char *wrapper = getenv("PARSEC_E2E_WRAPPER");
    int wrapped = wrapper && *wrapper;
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        /* Standard output goes to the log too, so that a daemon a failed test left running
         * does not hold ctest's pipe open. */
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(d->dir) != 0)
            _exit(126);
        for (size_t i = 0; extra_env && extra_env[i]; i++)
            putenv(extra_env[i]);
        /* The shell splits the wrapper into words; exec keeps this process id. */
        if (wrapped)
            execl("/bin/sh", "sh", "-c", "exec $PARSEC_E2E_WRAPPER \"$0\" -c \"$1\"",
                  PARSEC_BIN, d->cfg, (char *)NULL);
        else
            execl(PARSEC_BIN, "parsec", "-c", d->cfg, (char *)NULL);
        _exit(127);
    }
    /* A wrapped daemon (memory checker) starts many times slower: wait up to 120 s, not 10. */
    int tries = wrapped ? 12000 : 1000;
    for (int i = 0; i < tries; i++) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            return -1;
        }
        if (access(d->sock, F_OK) == 0 && ping_ok(d->sock))
            return 0;
        usleep(10000);
    }
    return -1;
}

void daemon_start(struct daemon *d, const char *config)
{
    daemon_prepare(d, config);
    if (daemon_launch(d, NULL) != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
        (void)!system(cmd);
        fail_msg("the daemon did not start");
    }
}

int daemon_stop(struct daemon *d, int sig)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int st = 0;
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

void daemon_cleanup(struct daemon *d)
{
    if (d->pid > 0)
        daemon_stop(d, SIGKILL);
    if (d->dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
        (void)!system(cmd);
    }
}

int daemon_log_contains(const struct daemon *d, const char *s)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, s) != NULL;
    fclose(f);
    return found;
}

int daemon_wait_log(const struct daemon *d, const char *s, int timeout_ms)
{
    for (int waited = 0; !daemon_log_contains(d, s); waited += 10) {
        if (waited >= timeout_ms)
            return 0;
        usleep(10000);
    }
    return 1;
}

int daemon_count_key_files(const struct daemon *d)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/keys", d->dir);
    DIR *dir = opendir(path);
    assert_non_null(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t l = strlen(e->d_name);
        n += l > 8 && strcmp(e->d_name + l - 8, ".psa_its") == 0;
    }
    closedir(dir);
    return n;
}

int e2e_connect(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 120}; /* generous: the daemon may run under valgrind */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int e2e_read_reply(int fd, struct psc_header *rsp, uint8_t **body)
{
    uint8_t hdr[PSC_WIRE_HEADER_SIZE];
    *body = NULL;
    if (read_all(fd, hdr, sizeof(hdr)) != 0)
        return -1;
    if (psc_header_decode_full(hdr, rsp) != 0)
        return -1;
    if (rsp->body_len) {
        *body = malloc(rsp->body_len);
        if (!*body || read_all(fd, *body, rsp->body_len) != 0) {
            free(*body);
            *body = NULL;
            return -1;
        }
    }
    return 0;
}

int e2e_raw(const char *sock, const uint8_t *req, size_t len, struct psc_header *rsp,
            uint8_t **body)
{
    int fd = e2e_connect(sock);
    if (fd < 0)
        return -1;
    /* A reply may come before the whole request was taken (body too large): not an error. */
    (void)!send(fd, req, len, MSG_NOSIGNAL);
    int rc = e2e_read_reply(fd, rsp, body);
    close(fd);
    return rc;
}

struct psc_header e2e_header(uint8_t provider, uint32_t opcode, uint8_t auth_type)
{
    struct psc_header h = {
        .version_maj = 1,
        .version_min = 0,
        .provider = provider,
        .opcode = opcode,
        .auth_type = auth_type,
    };
    return h;
}

uint8_t *e2e_build(struct psc_header h, const ProtobufCMessage *op, const void *auth,
                   size_t auth_len, size_t *len)
{
    size_t body_len = op ? protobuf_c_message_get_packed_size(op) : 0;
    h.body_len = (uint32_t)body_len;
    h.auth_len = (uint16_t)auth_len;
    *len = PSC_WIRE_HEADER_SIZE + body_len + auth_len;
    uint8_t *b = malloc(*len);
    assert_non_null(b);
    psc_header_encode(&h, b);
    if (op)
        protobuf_c_message_pack(op, b + PSC_WIRE_HEADER_SIZE);
    if (auth_len)
        memcpy(b + PSC_WIRE_HEADER_SIZE + body_len, auth, auth_len);
    return b;
}

int e2e_call(const char *sock, uint8_t provider, uint32_t opcode, const char *app,
             const ProtobufCMessage *op, const ProtobufCMessageDescriptor *result_desc,
             ProtobufCMessage **result)
{
    size_t len;
    uint8_t *req = e2e_build(e2e_header(provider, opcode, app ? PSC_AUTH_DIRECT : 0), op, app,
                             app ? strlen(app) : 0, &len);
    struct psc_header rsp;
    uint8_t *body = NULL;
    int rc = e2e_raw(sock, req, len, &rsp, &body);
    free(req);
    assert_int_equal(rc, 0);
    if (result)
        *result = NULL;
    if (rsp.status == 0) {
        assert_int_equal(rsp.opcode, opcode);
        assert_int_equal(rsp.provider, provider);
        if (result && result_desc) {
            *result = protobuf_c_message_unpack(result_desc, NULL, rsp.body_len, body);
            assert_non_null(*result);
        }
    } else {
        assert_int_equal(rsp.body_len, 0);
    }
    free(body);
    return rsp.status;
}
