/* The back-end alone: the signatures the service makes, made in process with Mbed TLS PSA on
 * persistent keys, from several threads serialised by one mutex (Mbed TLS 2.28 PSA is not
 * thread-safe, so the service must serialise the same way). The latency of one signature
 * includes the wait for the lock, as it does in the service.
 *
 *   bench_inproc -o sign_ecdsa|sign_rsa [-t THREADS] [-d SECONDS | -n COUNT] [-w WARMUP]
 *
 * With -n, each thread makes exactly COUNT signatures, without warm-up (for instruction counts).
 *
 * Keys are created in a temporary folder (persistent keys are files in the working directory)
 * that is removed at the end. Prints one line of key=value pairs, like bench_loadgen. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <psa/crypto.h>

#define THREADS_MAX 1024
#define KEY_ID 1

static pthread_mutex_t psa_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int phase; /* 0 warm-up, 1 measure, 2 stop */
static psa_algorithm_t alg;
static uint8_t hash[32];
static size_t count; /* -n: signatures per thread; 0 runs for a duration */

struct thread_arg {
    pthread_t th;
    uint64_t *ns;
    size_t n, cap;
    uint64_t errors;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "bench_inproc: %s\n", msg);
    exit(2);
}

static void *client_main(void *p)
{
    struct thread_arg *ta = p;
    uint8_t sig[PSA_SIGNATURE_MAX_SIZE];
    for (;;) {
        int ph = atomic_load(&phase);
        if (ph == 2 || (count && ta->n + ta->errors == count))
            break;
        size_t len;
        uint64_t t0 = now_ns();
        pthread_mutex_lock(&psa_lock);
        psa_status_t st = psa_sign_hash(KEY_ID, alg, hash, sizeof(hash), sig, sizeof(sig), &len);
        pthread_mutex_unlock(&psa_lock);
        uint64_t t1 = now_ns();
        if (st != PSA_SUCCESS) {
            ta->errors++;
            continue;
        }
        if (ph != 1)
            continue;
        if (ta->n == ta->cap) {
            ta->cap = ta->cap ? ta->cap * 2 : 4096;
            ta->ns = realloc(ta->ns, ta->cap * sizeof(*ta->ns));
            if (!ta->ns)
                die("out of memory");
        }
        ta->ns[ta->n++] = t1 - t0;
    }
    return NULL;
}

/* CPU time (user + system) of the whole process so far, in microseconds. */
static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
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

int main(int argc, char **argv)
{
    const char *op = "sign_ecdsa";
    int threads = 1;
    double secs = 3, warmup = 0.5;
    int c;
    while ((c = getopt(argc, argv, "o:t:d:n:w:")) != -1) {
        switch (c) {
        case 'o':
            op = optarg;
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 'd':
            secs = atof(optarg);
            break;
        case 'n':
            count = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'w':
            warmup = atof(optarg);
            break;
        default:
            die("usage: bench_inproc -o sign_ecdsa|sign_rsa [-t N] [-d S | -n COUNT] [-w S]");
        }
    }
    if (threads < 1 || threads > THREADS_MAX)
        die("thread count out of range");
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    if (strcmp(op, "sign_ecdsa") == 0) {
        alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
        psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
        psa_set_key_bits(&a, 256);
    } else if (strcmp(op, "sign_rsa") == 0) {
        alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256);
        psa_set_key_type(&a, PSA_KEY_TYPE_RSA_KEY_PAIR);
        psa_set_key_bits(&a, 2048);
    } else {
        die("unknown operation");
    }
    psa_set_key_algorithm(&a, alg);
    psa_set_key_id(&a, KEY_ID);
    for (size_t i = 0; i < sizeof(hash); i++)
        hash[i] = (uint8_t)(0xA5 ^ i);

    char dir[] = "/tmp/parsec-inproc-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0)
        die("cannot make the key folder");
    psa_key_id_t id;
    if (psa_crypto_init() != PSA_SUCCESS || psa_generate_key(&a, &id) != PSA_SUCCESS)
        die("cannot create the key");

    struct thread_arg *ta = calloc((size_t)threads, sizeof(*ta));
    if (!ta)
        die("out of memory");
    if (count)
        atomic_store(&phase, 1);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&ta[i].th, NULL, client_main, &ta[i]) != 0)
            die("cannot start a thread");
    if (!count)
        sleep_s(warmup);
    double cpu0 = cpu_us();
    uint64_t t0 = now_ns();
    atomic_store(&phase, 1);
    if (!count) {
        sleep_s(secs);
        atomic_store(&phase, 2);
    }
    size_t n = 0;
    uint64_t errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ta[i].th, NULL);
        n += ta[i].n;
        errors += ta[i].errors;
    }
    uint64_t t1 = now_ns();
    double cpu1 = cpu_us();
    uint64_t *all = malloc((n ? n : 1) * sizeof(*all));
    if (!all)
        die("out of memory");
    for (size_t i = 0, k = 0; i < (size_t)threads; i++) {
        if (ta[i].n)
            memcpy(all + k, ta[i].ns, ta[i].n * sizeof(*all));
        k += ta[i].n;
        free(ta[i].ns);
    }
    qsort(all, n, sizeof(*all), cmp_u64);
    double elapsed = (double)(t1 - t0) / 1e9;
    printf("op=%s threads=%d requests=%zu errors=%llu seconds=%.3f rate=%.1f p50_us=%.1f "
           "p99_us=%.1f cpu_us_per_req=%.2f\n",
           op, threads, n, (unsigned long long)errors, elapsed, (double)n / elapsed,
           n ? (double)all[(n - 1) / 2] / 1e3 : 0,
           n ? (double)all[(size_t)((double)(n - 1) * 0.99)] / 1e3 : 0,
           n ? (cpu1 - cpu0) / (double)n : 0);

    psa_destroy_key(id);
    mbedtls_psa_crypto_free();
    unlink("tempfile.psa_its");
    if (chdir("/") == 0)
        rmdir(dir);
    free(all);
    free(ta);
    return errors ? 1 : 0;
}
