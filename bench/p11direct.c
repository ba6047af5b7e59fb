/* The reference the PKCS#11 provider is measured against: the same signatures made directly on
 * the module, in process, with no service in between.
 *
 *   bench_p11direct LIB LABEL PIN MODE OP THREADS SECONDS
 *
 * MODE "session": each thread opens one session, logs in once, finds its key once and signs in
 * a loop (the best any user of the module can do). MODE "perop": every signature opens a
 * session, logs in, finds the key by CKA_ID, signs and closes the session, as the original
 * service does. OP is sign_ecdsa (P-256, a SHA-256 digest, CKM_ECDSA) or sign_rsa (RSA-2048
 * PKCS#1 v1.5 over a SHA-256 DigestInfo, CKM_RSA_PKCS). The key (CKA_ID "bench-ec" or
 * "bench-rsa") is made on the token on the first run. Prints "rate=<signatures per second>". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR F;
static CK_SLOT_ID SLOT;
static const char *PIN;
static int PEROP, RSA;
static double SECS;
static atomic_ulong done;
static atomic_int stop;

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "bench_p11direct: %s (0x%lx)\n", what, (unsigned long)rv);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    const char *id = RSA ? "bench-rsa" : "bench-ec";
    CK_ATTRIBUTE t[] = {{CKA_ID, (void *)id, strlen(id)}, {CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    CK_RV rv = F->C_FindObjectsInit(s, t, 2);
    if (rv == CKR_OK)
        rv = F->C_FindObjects(s, &h, 1, &n);
    F->C_FindObjectsFinal(s);
    if (rv != CKR_OK)
        die("find", rv);
    return n ? h : CK_INVALID_HANDLE;
}

static CK_SESSION_HANDLE open_login(void)
{
    CK_SESSION_HANDLE s;
    CK_RV rv = F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        die("open session", rv);
    rv = F->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        die("login", rv);
    return s;
}

static void make_key(void)
{
    CK_SESSION_HANDLE s = open_login();
    if (find_key(s, CKO_PRIVATE_KEY) != CK_INVALID_HANDLE) {
        F->C_CloseSession(s);
        return;
    }
    const char *id = RSA ? "bench-rsa" : "bench-ec";
    CK_BBOOL yes = CK_TRUE;
    CK_ULONG bits = 2048;
    CK_BYTE f4[] = {1, 0, 1};
    CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_ATTRIBUTE pub_rsa[] = {{CKA_TOKEN, &yes, 1},
                              {CKA_ID, (void *)id, strlen(id)},
                              {CKA_VERIFY, &yes, 1},
                              {CKA_MODULUS_BITS, &bits, sizeof(bits)},
                              {CKA_PUBLIC_EXPONENT, f4, 3}};
    CK_ATTRIBUTE pub_ec[] = {{CKA_TOKEN, &yes, 1},
                             {CKA_ID, (void *)id, strlen(id)},
                             {CKA_VERIFY, &yes, 1},
                             {CKA_EC_PARAMS, p256, sizeof(p256)}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1},
                           {CKA_PRIVATE, &yes, 1},
                           {CKA_SENSITIVE, &yes, 1},
                           {CKA_ID, (void *)id, strlen(id)},
                           {CKA_SIGN, &yes, 1}};
    CK_MECHANISM m = {RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hp, hk;
    CK_RV rv = F->C_GenerateKeyPair(s, &m, RSA ? pub_rsa : pub_ec, RSA ? 5 : 4, priv, 5, &hp, &hk);
    if (rv != CKR_OK)
        die("generate", rv);
    F->C_CloseSession(s);
}

static void *worker(void *arg)
{
    (void)arg;
    /* SHA-256 DigestInfo prefix, then the digest (RSA); the digest alone (ECDSA). */
    CK_BYTE data[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                        0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 1,    2};
    CK_BYTE *in = RSA ? data : data + 19;
    CK_ULONG in_len = RSA ? 51 : 32;
    CK_MECHANISM m = {RSA ? CKM_RSA_PKCS : CKM_ECDSA, NULL, 0};
    CK_BYTE sig[512];
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
    if (!PEROP) {
        s = open_login();
        k = find_key(s, CKO_PRIVATE_KEY);
    }
    while (!atomic_load(&stop)) {
        if (PEROP) {
            s = open_login();
            k = find_key(s, CKO_PRIVATE_KEY);
        }
        CK_ULONG len = sizeof(sig);
        CK_RV rv = F->C_SignInit(s, &m, k);
        if (rv == CKR_OK)
            rv = F->C_Sign(s, in, in_len, sig, &len);
        if (rv != CKR_OK)
            die("sign", rv);
        if (PEROP)
            F->C_CloseSession(s);
        atomic_fetch_add(&done, 1);
    }
    if (!PEROP)
        F->C_CloseSession(s);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_p11direct LIB LABEL PIN session|perop sign_ecdsa|sign_rsa "
                        "THREADS SECONDS\n");
        return 2;
    }
    PIN = argv[3];
    PEROP = strcmp(argv[4], "perop") == 0;
    RSA = strcmp(argv[5], "sign_rsa") == 0;
    int threads = atoi(argv[6]);
    SECS = atof(argv[7]);
    if (threads < 1 || threads > 256 || SECS <= 0)
        die("bad THREADS or SECONDS", 0);
    void *dl = dlopen(argv[1], RTLD_NOW);
    if (!dl)
        die(dlerror(), 0);
    CK_C_GetFunctionList get;
    *(void **)&get = dlsym(dl, "C_GetFunctionList");
    if (!get || get(&F) != CKR_OK)
        die("no C_GetFunctionList", 0);
    CK_C_INITIALIZE_ARGS ia = {.flags = CKF_OS_LOCKING_OK};
    CK_RV rv = F->C_Initialize(&ia);
    if (rv != CKR_OK)
        die("initialize", rv);
    CK_SLOT_ID slots[32];
    CK_ULONG n = 32;
    if ((rv = F->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
        die("slots", rv);
    size_t ll = strlen(argv[2]);
    int found = 0;
    for (CK_ULONG i = 0; i < n && !found; i++) {
        CK_TOKEN_INFO ti;
        if (F->C_GetTokenInfo(slots[i], &ti) == CKR_OK && ll <= 32 &&
            memcmp(ti.label, argv[2], ll) == 0 && (ll == 32 || ti.label[ll] == ' ')) {
            SLOT = slots[i];
            found = 1;
        }
    }
    if (!found)
        die("no token with that label", 0);
    make_key();
    pthread_t th[256];
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    struct timespec d = {(time_t)SECS, (long)((SECS - (time_t)SECS) * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double t = now() - t0;
    printf("rate=%.0f\n", (double)atomic_load(&done) / t);
    F->C_Finalize(NULL);
    return 0;
}
