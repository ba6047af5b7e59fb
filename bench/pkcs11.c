/* Signing rate through the PKCS#11 module against libparsec directly: one thread signs a
 * SHA-256 hash with an ECDSA P-256 key for `seconds`, either with parsec_sign_hash or with
 * C_SignInit + C_Sign (CKM_ECDSA) of libparsec-pkcs11.so, and prints signatures per second.
 *   bench_pkcs11 direct|module MODULE_PATH SECONDS
 * The service is the one PARSEC_SERVICE_ENDPOINT names; the key "bench-p11" is created if
 * missing. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit-1/p11-kit/pkcs11.h>

#include "parsec/client.h"

#define KEY_NAME "bench-p11"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_direct(struct parsec_client *c, double seconds, unsigned long *n)
{
    uint8_t hash[32] = {1}, sig[64];
    size_t len;
    double end = now_s() + seconds;
    while (now_s() < end) {
        if (parsec_sign_hash(c, KEY_NAME, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, sizeof(hash), sig,
                             sizeof(sig), &len) != PARSEC_SUCCESS)
            return -1;
        (*n)++;
    }
    return 0;
}

static int run_module(const char *path, double seconds, unsigned long *n)
{
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slot;
    CK_ULONG count = 1;
    CK_SESSION_HANDLE s;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, KEY_NAME, strlen(KEY_NAME)}};
    CK_OBJECT_HANDLE key;
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t hash[32] = {1}, sig[64];
    double end;
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return -1;
    }
    *(void **)&get = dlsym(dl, "C_GetFunctionList");
    if (get == NULL || get(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK ||
        f->C_GetSlotList(CK_TRUE, &slot, &count) != CKR_OK || count < 1 ||
        f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
        f->C_FindObjectsInit(s, tmpl, 2) != CKR_OK ||
        f->C_FindObjects(s, &key, 1, &count) != CKR_OK || count != 1 ||
        f->C_FindObjectsFinal(s) != CKR_OK)
        return -1;
    end = now_s() + seconds;
    while (now_s() < end) {
        CK_ULONG len = sizeof(sig);
        if (f->C_SignInit(s, &m, key) != CKR_OK ||
            f->C_Sign(s, hash, sizeof(hash), sig, &len) != CKR_OK)
            return -1;
        (*n)++;
    }
    f->C_Finalize(NULL);
    return 0;
}

int main(int argc, char **argv)
{
    struct parsec_client *c = NULL;
    unsigned long n = 0;
    double seconds, t0;
    int rc;
    if (argc != 4 || (strcmp(argv[1], "direct") != 0 && strcmp(argv[1], "module") != 0)) {
        fprintf(stderr, "usage: bench_pkcs11 direct|module MODULE_PATH SECONDS\n");
        return 2;
    }
    seconds = atof(argv[3]);
    if (parsec_client_new(&c, NULL) != PARSEC_SUCCESS) {
        fprintf(stderr, "bench_pkcs11: no service\n");
        return 1;
    }
    rc = parsec_ecc_key_create(c, KEY_NAME);
    if (rc != PARSEC_SUCCESS && rc != PARSEC_ERROR_PSA_ALREADY_EXISTS) {
        fprintf(stderr, "bench_pkcs11: key: %s\n", parsec_strerror(rc));
        return 1;
    }
    t0 = now_s();
    rc = strcmp(argv[1], "direct") == 0 ? run_direct(c, seconds, &n)
                                        : run_module(argv[2], seconds, &n);
    parsec_client_free(c);
    if (rc != 0) {
        fprintf(stderr, "bench_pkcs11: signing failed\n");
        return 1;
    }
    printf("%.0f\n", (double)n / (now_s() - t0));
    return 0;
}
