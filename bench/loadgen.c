/* Load generator for the Parsec service, and for anything else that answers its wire protocol
 * on a Unix socket (bench/floor.c).
 *
 * Like every Parsec client it opens one connection per request: connect, write the request,
 * read the reply, close. N client threads do that in a loop; the latency of a request is the
 * time from socket() to close(), and the rate counts only requests started inside the measured
 * window (after a warm-up).
 *
 *   bench_loadgen run   -s SOCK -o OP [-t THREADS] [-d SECONDS | -n COUNT] [-w WARMUP] [-p PID]
 *                       [-g GENERATORS [-G BITS]]
 *
 * With -g, GENERATORS more threads (application "bench-keygen") each generate and destroy
 * RSA key pairs of BITS bits (default 4096) in a loop for the whole run, from before the
 * warm-up: the measured requests then show what a slow operation of another client costs them
 * (the line gains keygens=, the generations completed). The line always gives max_us, the
 * slowest measured request.
 *
 * With -p, the server process PID is watched during the run: its highest VmRSS, its VmHWM, and
 * the CPU time (user + system) it spent per request (from /proc/PID/stat, whose clock ticks
 * make this exact only over runs of many requests).
 *   bench_loadgen setup -s SOCK
 *   bench_loadgen spawn -b PARSEC_BIN -c CONFIG -s SOCK -l LOG
 *
 * -P PROVIDER (run and setup) sends the key operations to that provider id (default 1, Mbed
 * Crypto; 2 for PKCS#11, 3 for the TPM).
 * OP is ping, list_providers, sign_ecdsa or sign_rsa. "setup" creates the two signing keys
 * (application "bench"); "spawn" starts the daemon and measures the time from fork to the
 * first successful Ping. Results are printed as one line of key=value pairs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "psa/convert.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"

/* Provider of the key operations (-P). */
static uint8_t key_provider = PSC_PROVIDER_MBED_CRYPTO;

#define APP_NAME "bench"
#define KEY_ECDSA "bench-ecdsa"
#define KEY_RSA "bench-rsa"
/* Largest reply the generator accepts: every reply it asks for is far smaller. */
#define REPLY_MAX 65536
#define THREADS_MAX 1024
/* How long "spawn" waits for the daemon before giving up. */
#define SPAWN_TIMEOUT_NS (30ull * 1000000000ull)
/* Interval between two start-up probes: bounds the error of the start-up time. */
#define SPAWN_PROBE_NS 100000
#define RSS_SAMPLE_MS 20

struct request {
    const char *name;
    uint8_t *bytes;
    size_t len;
    uint32_t opcode;
    size_t reply_body;           /* exact body length a correct reply has */
    const uint8_t *reply_expect; /* if not NULL, the exact body */
};

struct samples {
    uint64_t *ns;
    size_t n, cap;
    uint64_t errors;
    uint64_t done; /* in count mode: requests made, measured or not */
};

struct run {
    const char *sock;
    const struct request *rq;
    _Atomic int phase; /* 0 warm-up, 1 measure, 2 stop */
    uint64_t count;    /* per thread; 0: by duration */
    pid_t pid;         /* daemon to sample, 0: none */
    _Atomic long rss_max_kb;
    _Atomic int first_error_reported;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "bench_loadgen: %s\n", msg);
    exit(2);
}

/* ---- one request over one connection --------------------------------------------------- */

static int io_full(int fd, uint8_t *p, size_t len, int writing)
{
    while (len) {
        ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int connect_to(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (errno == EINTR)
            continue;
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends rq and reads its reply into hdr/body. Returns the reply status, or -1 for a transport
 * failure or a malformed reply. */
static int exchange(const char *sock, const uint8_t *req, size_t len, struct psc_header *hdr,
                    uint8_t *body, size_t body_cap)
{
    int fd = connect_to(sock);
    if (fd < 0)
        return -1;
    int rc = -1;
    uint8_t h[PSC_WIRE_HEADER_SIZE];
    if (io_full(fd, (uint8_t *)req, len, 1) != 0 || io_full(fd, h, sizeof(h), 0) != 0)
        goto out;
    if (psc_header_decode_full(h, hdr) != 0 || hdr->body_len > body_cap)
        goto out;
    if (io_full(fd, body, hdr->body_len, 0) != 0)
        goto out;
    rc = hdr->status;
out:
    close(fd);
    return rc;
}

static int check_reply(const struct request *rq, int st, const struct psc_header *h,
                       const uint8_t *body)
{
    if (st != 0 || h->opcode != rq->opcode || h->body_len != rq->reply_body)
        return -1;
    if (rq->reply_expect && memcmp(body, rq->reply_expect, rq->reply_body) != 0)
        return -1;
    return 0;
}

static int create_key(const char *sock, const char *app, const char *name, psa_key_type_t type,
                      size_t bits, psa_algorithm_t alg);

/* ---- requests ---------------------------------------------------------------------------- */

static uint8_t *frame(uint8_t provider, uint32_t opcode, const ProtobufCMessage *op,
                      const char *app, size_t *len)
{
    struct psc_header h = {.version_maj = 1, .provider = provider, .opcode = opcode};
    size_t body = op ? protobuf_c_message_get_packed_size(op) : 0;
    size_t auth = app ? strlen(app) : 0;
    h.auth_type = app ? PSC_AUTH_DIRECT : PSC_AUTH_NONE;
    h.body_len = (uint32_t)body;
    h.auth_len = (uint16_t)auth;
    *len = PSC_WIRE_HEADER_SIZE + body + auth;
    uint8_t *b = malloc(*len);
    if (!b)
        die("out of memory");
    psc_header_encode(&h, b);
    if (op)
        protobuf_c_message_pack(op, b + PSC_WIRE_HEADER_SIZE);
    if (auth)
        memcpy(b + PSC_WIRE_HEADER_SIZE + body, app, auth);
    return b;
}

static uint8_t *sign_request(const char *key, psa_algorithm_t alg, size_t *len)
{
    static uint8_t hash[32];
    for (size_t i = 0; i < sizeof(hash); i++)
        hash[i] = (uint8_t)(0xA5 ^ i);
    PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
    op.key_name = (char *)key;
    op.hash.data = hash;
    op.hash.len = sizeof(hash);
    if (conv_sign_to_pb(alg, &op.alg) != 0)
        die("cannot encode the algorithm");
    uint8_t *b = frame(key_provider, PSC_OP_PSA_SIGN_HASH, &op.base, APP_NAME, len);
    protobuf_c_message_free_unpacked(&op.alg->base, NULL);
    return b;
}

static int request_for(const char *op, struct request *rq)
{
    /* Ping's result: wire_protocol_version_maj = 1 (field 1), minor 0 omitted. */
    static const uint8_t ping_body[] = {0x08, 0x01};
    memset(rq, 0, sizeof(*rq));
    rq->name = op;
    if (strcmp(op, "ping") == 0) {
        rq->opcode = PSC_OP_PING;
        rq->bytes = frame(0, rq->opcode, NULL, NULL, &rq->len);
        rq->reply_body = sizeof(ping_body);
        rq->reply_expect = ping_body;
    } else if (strcmp(op, "list_providers") == 0) {
        rq->opcode = PSC_OP_LIST_PROVIDERS;
        rq->bytes = frame(0, rq->opcode, NULL, NULL, &rq->len);
        /* Learnt from one reply below: the body does not change between calls. */
        rq->reply_body = 0;
    } else if (strcmp(op, "sign_ecdsa") == 0) {
        rq->opcode = PSC_OP_PSA_SIGN_HASH;
        rq->bytes = sign_request(KEY_ECDSA, PSA_ALG_ECDSA(PSA_ALG_SHA_256), &rq->len);
        rq->reply_body = 2 + 64; /* field 1, length 64, r || s */
    } else if (strcmp(op, "sign_rsa") == 0) {
        rq->opcode = PSC_OP_PSA_SIGN_HASH;
        rq->bytes = sign_request(KEY_RSA, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256), &rq->len);
        rq->reply_body = 3 + 256; /* field 1, varint length 256, signature */
    } else {
        return -1;
    }
    return 0;
}

/* ---- the run ----------------------------------------------------------------------------- */

struct thread_arg {
    struct run *run;
    struct samples s;
    pthread_t th;
};

static void sample_add(struct samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        uint64_t *p = realloc(s->ns, cap * sizeof(*p));
        if (!p)
            die("out of memory");
        s->ns = p;
        s->cap = cap;
    }
    s->ns[s->n++] = ns;
}

struct keygen_arg {
    struct run *r;
    int index;
    size_t bits;
    uint64_t done;
    pthread_t th;
};

static void *keygen_main(void *p)
{
    struct keygen_arg *ka = p;
    PsaDestroyKey__Operation op = PSA_DESTROY_KEY__OPERATION__INIT;
    char name[64];
    snprintf(name, sizeof(name), "bench-keygen-%d", ka->index);
    op.key_name = name;
    size_t len;
    uint8_t *destroy =
        frame(PSC_PROVIDER_MBED_CRYPTO, PSC_OP_PSA_DESTROY_KEY, &op.base, "bench-keygen", &len);
    uint8_t body[64];
    struct psc_header h;
    while (atomic_load(&ka->r->phase) != 2) {
        if (create_key(ka->r->sock, "bench-keygen", name, PSA_KEY_TYPE_RSA_KEY_PAIR, ka->bits,
                       PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)) != 0 ||
            exchange(ka->r->sock, destroy, len, &h, body, sizeof(body)) != 0)
            die("a key generation failed");
        ka->done++;
    }
    free(destroy);
    return NULL;
}

static void *client_main(void *p)
{
    struct thread_arg *ta = p;
    struct run *r = ta->run;
    uint8_t *body = malloc(REPLY_MAX);
    if (!body)
        die("out of memory");
    for (;;) {
        int phase = atomic_load(&r->phase);
        if (phase == 2 || (r->count && ta->s.done == r->count))
            break;
        struct psc_header h;
        uint64_t t0 = now_ns();
        int st = exchange(r->sock, r->rq->bytes, r->rq->len, &h, body, REPLY_MAX);
        uint64_t t1 = now_ns();
        ta->s.done++;
        if (check_reply(r->rq, st, &h, body) != 0) {
            ta->s.errors++;
            if (!atomic_exchange(&r->first_error_reported, 1))
                fprintf(stderr, "bench_loadgen: %s: bad reply (status %d, opcode %u, body %u)\n",
                        r->rq->name, st, st >= 0 ? h.opcode : 0, st >= 0 ? h.body_len : 0);
            continue;
        }
        if (phase == 1)
            sample_add(&ta->s, t1 - t0);
    }
    free(body);
    return NULL;
}

static long read_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* CPU time (user + system) the process has used so far, in microseconds; -1 if unknown. */
static double cpu_us(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold spaces. */
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static void *sampler_main(void *p)
{
    struct run *r = p;
    while (atomic_load(&r->phase) != 2) {
        long kb = read_status_kb(r->pid, "VmRSS");
        if (kb > atomic_load(&r->rss_max_kb))
            atomic_store(&r->rss_max_kb, kb);
        struct timespec ts = {0, RSS_SAMPLE_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmd_run(const char *sock, const char *op, int threads, double secs, double warmup,
                   uint64_t count, pid_t pid, int gens, size_t gen_bits)
{
    struct request rq;
    if (request_for(op, &rq) != 0)
        die("unknown operation (ping, list_providers, sign_ecdsa, sign_rsa)");
    if (threads < 1 || threads > THREADS_MAX)
        die("thread count out of range");
    uint8_t *body = malloc(REPLY_MAX);
    struct psc_header h;
    if (!body)
        die("out of memory");
    /* One reply checked in full before the run; list_providers learns its body from it. */
    int st = exchange(sock, rq.bytes, rq.len, &h, body, REPLY_MAX);
    if (st != 0) {
        fprintf(stderr, "bench_loadgen: %s: first request failed (status %d)\n", op, st);
        return 1;
    }
    if (rq.opcode == PSC_OP_LIST_PROVIDERS) {
        rq.reply_body = h.body_len;
        rq.reply_expect = body;
    }
    if (check_reply(&rq, st, &h, body) != 0) {
        fprintf(stderr, "bench_loadgen: %s: unexpected first reply\n", op);
        return 1;
    }

    struct run r = {.sock = sock, .rq = &rq, .count = count, .pid = pid};
    atomic_store(&r.phase, count ? 1 : 0);
    struct thread_arg *ta = calloc((size_t)threads, sizeof(*ta));
    if (!ta)
        die("out of memory");
    pthread_t sampler;
    struct keygen_arg *ka = calloc(gens > 0 ? (size_t)gens : 1, sizeof(*ka));
    if (!ka || gens < 0 || gens > THREADS_MAX)
        die("generator count out of range");
    for (int i = 0; i < gens; i++) {
        ka[i] = (struct keygen_arg){.r = &r, .index = i, .bits = gen_bits};
        if (pthread_create(&ka[i].th, NULL, keygen_main, &ka[i]) != 0)
            die("cannot start a generator thread");
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < threads; i++) {
        ta[i].run = &r;
        if (pthread_create(&ta[i].th, NULL, client_main, &ta[i]) != 0)
            die("cannot start a client thread");
    }
    double cpu0 = pid > 0 ? cpu_us(pid) : -1;
    if (!count) {
        sleep_s(warmup);
        cpu0 = pid > 0 ? cpu_us(pid) : -1;
        t0 = now_ns();
        atomic_store(&r.phase, 1);
    }
    if (pid > 0 && pthread_create(&sampler, NULL, sampler_main, &r) != 0)
        die("cannot start the sampler");
    uint64_t t1 = 0;
    double cpu1 = -1;
    if (!count) {
        sleep_s(secs);
        t1 = now_ns();
        cpu1 = pid > 0 ? cpu_us(pid) : -1;
        atomic_store(&r.phase, 2);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(ta[i].th, NULL);
    if (count) {
        t1 = now_ns();
        cpu1 = pid > 0 ? cpu_us(pid) : -1;
        atomic_store(&r.phase, 2);
    }
    if (pid > 0)
        pthread_join(sampler, NULL);
    uint64_t keygens = 0;
    for (int i = 0; i < gens; i++) {
        pthread_join(ka[i].th, NULL);
        keygens += ka[i].done;
    }
    free(ka);

    size_t n = 0;
    uint64_t errors = 0;
    for (int i = 0; i < threads; i++) {
        n += ta[i].s.n;
        errors += ta[i].s.errors;
    }
    uint64_t *all = malloc((n ? n : 1) * sizeof(*all));
    if (!all)
        die("out of memory");
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + k, ta[i].s.ns, ta[i].s.n * sizeof(*all));
        k += ta[i].s.n;
        free(ta[i].s.ns);
    }
    qsort(all, n, sizeof(*all), cmp_u64);
    double elapsed = (double)(t1 - t0) / 1e9;
    double p50 = n ? (double)all[(n - 1) / 2] / 1e3 : 0;
    double p99 = n ? (double)all[(size_t)((double)(n - 1) * 0.99)] / 1e3 : 0;
    double max = n ? (double)all[n - 1] / 1e3 : 0;
    printf("op=%s threads=%d requests=%zu errors=%llu seconds=%.3f rate=%.1f p50_us=%.1f "
           "p99_us=%.1f max_us=%.1f",
           op, threads, n, (unsigned long long)errors, elapsed, (double)n / elapsed, p50, p99, max);
    if (gens > 0)
        printf(" keygens=%llu", (unsigned long long)keygens);
    if (pid > 0) {
        printf(" rss_max_kb=%ld hwm_kb=%ld", atomic_load(&r.rss_max_kb),
               read_status_kb(pid, "VmHWM"));
        /* Requests started in the window: those in flight at its ends roughly cancel out. */
        if (cpu0 >= 0 && cpu1 >= 0 && n)
            printf(" cpu_us_per_req=%.2f", (cpu1 - cpu0) / (double)n);
    }
    printf("\n");
    free(all);
    free(ta);
    free(body);
    free(rq.bytes);
    return errors ? 1 : 0;
}

/* ---- setup and spawn --------------------------------------------------------------------- */

static int create_key(const char *sock, const char *app, const char *name, psa_key_type_t type,
                      size_t bits, psa_algorithm_t alg)
{
    struct psc_attrs a = {.type = type,
                          .bits = bits,
                          .usage = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
                          .alg = alg};
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    if (conv_attrs_to_pb(&a, &op.attributes) != 0)
        die("cannot encode the key attributes");
    size_t len;
    uint8_t *req = frame(key_provider, PSC_OP_PSA_GENERATE_KEY, &op.base, app, &len);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
    struct psc_header h;
    uint8_t body[64];
    int st = exchange(sock, req, len, &h, body, sizeof(body));
    free(req);
    /* 1139: made by an earlier run on the same store. */
    if (st != 0 && st != 1139) {
        fprintf(stderr, "bench_loadgen: cannot create key %s (status %d)\n", name, st);
        return 1;
    }
    return 0;
}

static int cmd_setup(const char *sock)
{
    if (create_key(sock, APP_NAME, KEY_ECDSA, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                   256, PSA_ALG_ECDSA(PSA_ALG_SHA_256)) != 0)
        return 1;
    return create_key(sock, APP_NAME, KEY_RSA, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                      PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256));
}

static int cmd_spawn(const char *bin, const char *cfg, const char *sock, const char *log)
{
    struct request rq;
    request_for("ping", &rq);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", cfg);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0 || (slash && chdir(dir) != 0))
            _exit(126);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execl(bin, "parsec", "-c", cfg, (char *)NULL);
        _exit(127);
    }
    uint8_t body[16];
    for (;;) {
        struct psc_header h;
        if (exchange(sock, rq.bytes, rq.len, &h, body, sizeof(body)) == 0 &&
            check_reply(&rq, 0, &h, body) == 0)
            break;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "bench_loadgen: the daemon exited during start-up (see %s)\n", log);
            return 1;
        }
        if (now_ns() - t0 > SPAWN_TIMEOUT_NS) {
            kill(pid, SIGKILL);
            die("the daemon did not answer a Ping in time");
        }
        struct timespec ts = {0, SPAWN_PROBE_NS};
        nanosleep(&ts, NULL);
    }
    uint64_t t1 = now_ns();
    printf("startup_us=%.0f pid=%d\n", (double)(t1 - t0) / 1e3, (int)pid);
    free(rq.bytes);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: bench_loadgen run|setup|spawn [options] (see the source)");
    const char *cmd = argv[1];
    const char *sock = NULL, *op = "ping", *bin = NULL, *cfg = NULL, *log = "/dev/null";
    int threads = 1;
    double secs = 3, warmup = 0.5;
    uint64_t count = 0;
    pid_t pid = 0;
    int gens = 0;
    size_t gen_bits = 4096;
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "s:o:t:d:w:n:p:b:c:l:g:G:P:")) != -1) {
        switch (c) {
        case 's':
            sock = optarg;
            break;
        case 'o':
            op = optarg;
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 'd':
            secs = atof(optarg);
            break;
        case 'w':
            warmup = atof(optarg);
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'p':
            pid = (pid_t)atoi(optarg);
            break;
        case 'b':
            bin = optarg;
            break;
        case 'c':
            cfg = optarg;
            break;
        case 'l':
            log = optarg;
            break;
        case 'g':
            gens = atoi(optarg);
            break;
        case 'G':
            gen_bits = (size_t)atoi(optarg);
            break;
        case 'P':
            key_provider = (uint8_t)atoi(optarg);
            break;
        default:
            die("unknown option");
        }
    }
    if (!sock)
        die("-s SOCKET is required");
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(sock, op, threads, secs, warmup, count, pid, gens, gen_bits);
    if (strcmp(cmd, "setup") == 0)
        return cmd_setup(sock);
    if (strcmp(cmd, "spawn") == 0 && bin && cfg)
        return cmd_spawn(bin, cfg, sock, log);
    die("unknown command or missing option");
    return 2;
}
