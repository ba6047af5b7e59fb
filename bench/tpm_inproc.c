/* The TPM provider's signatures made in process, as the reference for bench/tpm.sh: the same
 * ESAPI calls the service makes, on the same TPM, with the same HMAC session (SHA-256,
 * AES-CFB, the same attributes per command) and the same templates (the service's own code).
 *
 *   bench_tpm_inproc TCTI SECONDS
 *
 * For an ECDSA P-256 and an RSA-2048 PKCS#1 v1.5 key (both SHA-256) it measures Load + Sign +
 * Flush per signature (what the original service does) and Sign on a loaded key, and prints
 * one line of key=value rates (signatures per second). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "service/providers/tpm_int.h"

static void check(TSS2_RC rc, const char *what)
{
    if (rc != TSS2_RC_SUCCESS) {
        fprintf(stderr, "bench_tpm_inproc: %s failed: 0x%x\n", what, (unsigned)rc);
        exit(1);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sign(struct tpm_provider *t, ESYS_TR key, TPM2_ALG_ID scheme)
{
    TPM2B_DIGEST d = {.size = 32};
    for (int i = 0; i < 32; i++)
        d.buffer[i] = (uint8_t)(0xA5 ^ i);
    TPMT_SIG_SCHEME sc = {.scheme = scheme};
    sc.details.any.hashAlg = TPM2_ALG_SHA256;
    TPMT_TK_HASHCHECK v = {.tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL};
    TPMT_SIGNATURE *sig = NULL;
    tpm_session_use(t, 0, 0);
    check(Esys_Sign(t->esys, key, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &d, &sc, &v, &sig),
          "Sign");
    Esys_Free(sig);
}

static ESYS_TR load(struct tpm_provider *t, const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub,
                    const TPM2B_AUTH *auth)
{
    ESYS_TR h;
    tpm_session_use(t, 1, 0);
    check(Esys_Load(t->esys, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &h),
          "Load");
    check(Esys_TR_SetAuth(t->esys, h, auth), "SetAuth");
    return h;
}

static void bench_key(struct tpm_provider *t, const char *label, const struct psc_attrs *a,
                      TPM2_ALG_ID scheme, double seconds)
{
    TPM2B_PUBLIC tmpl, *out_pub = NULL;
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcr = {0};
    TPM2B_CREATION_DATA *cd = NULL;
    TPM2B_DIGEST *ch = NULL;
    TPMT_TK_CREATION *ct = NULL;
    sens.sensitive.userAuth.size = TPM_KEY_AUTH_LEN;
    memset(sens.sensitive.userAuth.buffer, 0x5a, TPM_KEY_AUTH_LEN);
    if (tpm_public_template(a, NULL, 0, &tmpl) != 0)
        exit(1);
    tpm_session_use(t, 1, 0);
    check(Esys_Create(t->esys, t->root, t->session, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                      &outside, &pcr, &priv, &out_pub, &cd, &ch, &ct),
          "Create");

    /* Load + Sign + Flush per signature. */
    size_t n = 0;
    double t0 = now(), t1;
    do {
        ESYS_TR h = load(t, priv, out_pub, &sens.sensitive.userAuth);
        sign(t, h, scheme);
        check(Esys_FlushContext(t->esys, h), "FlushContext");
        n++;
    } while ((t1 = now()) - t0 < seconds);
    printf("%s_load_sign_flush=%.1f ", label, (double)n / (t1 - t0));

    /* Sign on a loaded key. */
    ESYS_TR h = load(t, priv, out_pub, &sens.sensitive.userAuth);
    n = 0;
    t0 = now();
    do {
        sign(t, h, scheme);
        n++;
    } while ((t1 = now()) - t0 < seconds);
    printf("%s_sign_loaded=%.1f ", label, (double)n / (t1 - t0));
    check(Esys_FlushContext(t->esys, h), "FlushContext");
    Esys_Free(out_pub);
    Esys_Free(priv);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(ct);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_tpm_inproc TCTI SECONDS\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    struct tpm_provider t = {0};
    check(Tss2_TctiLdr_Initialize(argv[1], &t.tcti), "TCTI");
    check(Esys_Initialize(&t.esys, t.tcti, NULL), "Esys_Initialize");
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES};
    sym.keyBits.aes = 256;
    sym.mode.aes = TPM2_ALG_CFB;
    check(Esys_StartAuthSession(t.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256,
                                &t.session),
          "StartAuthSession");
    t.cipher.algorithm = TPM2_ALG_AES;
    t.cipher.keyBits.aes = 256;
    t.cipher.mode.aes = TPM2_ALG_CFB;

    TPM2B_PUBLIC root_tmpl, *out_pub = NULL;
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcr = {0};
    TPM2B_CREATION_DATA *cd = NULL;
    TPM2B_DIGEST *ch = NULL;
    TPMT_TK_CREATION *ct = NULL;
    tpm_root_template(&t.cipher, &root_tmpl);
    tpm_session_use(&t, 1, 0);
    check(Esys_CreatePrimary(t.esys, ESYS_TR_RH_OWNER, t.session, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                             &root_tmpl, &outside, &pcr, &t.root, &out_pub, &cd, &ch, &ct),
          "CreatePrimary");
    Esys_Free(out_pub);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(ct);
    /* The service's session from then on: salted with the root key. */
    ESYS_TR unsalted = t.session;
    check(Esys_StartAuthSession(t.esys, t.root, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256,
                                &t.session),
          "StartAuthSession (salted)");
    Esys_FlushContext(t.esys, unsalted);

    struct psc_attrs ecc = {.type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                            .bits = 256,
                            .usage = PSA_KEY_USAGE_SIGN_HASH,
                            .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256)};
    struct psc_attrs rsa = {.type = PSA_KEY_TYPE_RSA_KEY_PAIR,
                            .bits = 2048,
                            .usage = PSA_KEY_USAGE_SIGN_HASH,
                            .alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256)};
    bench_key(&t, "ecdsa", &ecc, TPM2_ALG_ECDSA, seconds);
    bench_key(&t, "rsa", &rsa, TPM2_ALG_RSASSA, seconds);
    printf("\n");
    Esys_FlushContext(t.esys, t.root);
    Esys_FlushContext(t.esys, t.session);
    Esys_Finalize(&t.esys);
    Tss2_TctiLdr_Finalize(&t.tcti);
    return 0;
}
