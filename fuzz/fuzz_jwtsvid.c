/* The JWT-SVID token path: the JwtSvid authenticator (src/service/auth/auth.h) and the
 * Workload API client it calls (src/common/spiffe.h) against a hostile Workload API.
 *
 * Input: byte 0 picks the part. Even: the rest is a request's auth field for a JwtSvid
 * authenticator whose Workload API socket does not exist; non-UTF-8 must give 16, anything
 * else 11, never a name. Odd: the rest is what a Workload API writes back on the connection
 * (HTTP/2 frames), served by a thread on a private socket; ValidateJWTSVID must end with a
 * SPIFFE ID that starts with spiffe:// or with an error text, within its deadline. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/spiffe.h"
#include "fuzz_check.h"
#include "fuzz_utf8.h"
#include "service/auth/auth.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* Short: the server thread writes everything at once and closes. */
#define FUZZ_TIMEOUT_MS 200

static char g_dir[64], g_sock[128], g_endpoint[160];
static int g_listen = -1;

struct serve {
    const uint8_t *data;
    size_t len;
};

/* Accepts one connection, writes the reply bytes, then reads until the client is done. */
static void *serve(void *arg)
{
    struct serve *sv = arg;
    struct pollfd l = {.fd = g_listen, .events = POLLIN};
    if (poll(&l, 1, FUZZ_TIMEOUT_MS * 2) <= 0)
        return NULL;
    int fd = accept(g_listen, NULL, NULL);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < sv->len) {
        ssize_t n = send(fd, sv->data + off, sv->len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char buf[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, FUZZ_TIMEOUT_MS * 2) > 0 && read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    return NULL;
}

static void cleanup(void)
{
    unlink(g_sock);
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(g_dir, sizeof(g_dir), "/tmp/fuzz-jwtsvid-XXXXXX");
    if (!mkdtemp(g_dir))
        abort();
    snprintf(g_sock, sizeof(g_sock), "%s/agent.sock", g_dir);
    snprintf(g_endpoint, sizeof(g_endpoint), "unix://%s", g_sock);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
    g_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g_listen < 0 || bind(g_listen, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(g_listen, 4) != 0)
        abort();
    atexit(cleanup);
    return 0;
}

static void token_path(const uint8_t *auth, size_t len)
{
    char missing[200];
    snprintf(missing, sizeof(missing), "unix://%s/none.sock", g_dir);
    struct cfg_authenticator cfg = {.auth_type = (char *)"JwtSvid",
                                    .type = PSC_AUTH_JWT_SVID,
                                    .workload_endpoint = missing,
                                    .workload_timeout = FUZZ_TIMEOUT_MS};
    struct psc_auth *a = NULL;
    char err[256];
    FUZZ_CHECK(auth_new(&cfg, 2, &a, err, sizeof(err)) == 0);
    char *name = (char *)"not touched";
    int rc = auth_authenticate(a, auth, len, NULL, &name);
    FUZZ_CHECK(name == NULL);
    FUZZ_CHECK(rc ==
               (utf8_wellformed(auth, len) ? PSC_AUTHENTICATION_ERROR : PSC_INVALID_ENCODING));
    auth_free(a);
}

static void reply_path(const uint8_t *data, size_t len)
{
    struct serve sv = {data, len};
    pthread_t th;
    FUZZ_CHECK(pthread_create(&th, NULL, serve, &sv) == 0);
    char *id = NULL, err[256] = "";
    int rc = spiffe_validate_jwt(g_endpoint, "header.payload.signature", SPIFFE_PARSEC_AUDIENCE,
                                 FUZZ_TIMEOUT_MS, &id, err, sizeof(err));
    pthread_join(th, NULL);
    if (rc == 0) {
        FUZZ_CHECK(id != NULL && strncmp(id, "spiffe://", 9) == 0);
        FUZZ_CHECK(strlen(id) < SPIFFE_MAX_REPLY);
    } else {
        FUZZ_CHECK(rc == -1 && id == NULL && err[0] != '\0');
        FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
    }
    free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        reply_path(data + 1, size - 1);
    else
        token_path(data + 1, size - 1);
    return 0;
}
