/* The third party of key attestation (operations.md §8), played by tpm2-tools and OpenSSL for
 * the tests that attest keys: it reads the TPM's endorsement key before the service starts and
 * makes credentials offline (tpm2_makecredential -T none, no TPM), as a remote verifier does. */
#ifndef PARSEC_TEST_TPM_CREDENTIAL_H
#define PARSEC_TEST_TPM_CREDENTIAL_H

#include <tss2/tss2_mu.h>

#include "tpm_test.h"

/* Gives the endorsement hierarchy the password ek_auth, as on a provisioned machine, and reads
 * the TPM's endorsement key from the TPM itself into ek.der (DER RSAPublicKey), where
 * tpm_file(s, "ek.der") finds it. Run before the service starts. */
static inline void tpm_read_ek(const struct swtpm *s, const char *ek_auth)
{
    tpm_tool(s, "tpm2_changeauth -c e %s", ek_auth);
    tpm_tool(s, "tpm2_createek -P %s -c %s/ek.ctx -G rsa -u %s/ek.pem -f pem", ek_auth, s->dir,
             s->dir);
    tpm_tool(s, "tpm2_flushcontext -t");
    tpm_tool(s, "openssl rsa -pubin -in %s/ek.pem -RSAPublicKey_out -outform DER -out %s/ek.der",
             s->dir, s->dir);
}

struct tpm_credential {
    struct buf blob, secret;
};

/* tpm2_makecredential offline, as a remote verifier runs it: the attesting key as the service
 * gave it (DER RSAPublicKey, converted to PEM by OpenSSL), the key's name, the secret. */
static inline struct tpm_credential tpm_make_credential(const struct swtpm *s, struct buf ek_der,
                                                        struct buf name, struct buf secret)
{
    tpm_file_write(s, "attesting.der", ek_der);
    tpm_tool(s,
             "openssl rsa -RSAPublicKey_in -inform DER -in %s/attesting.der -pubout -out "
             "%s/attesting.pem",
             s->dir, s->dir);
    char name_hex[2 * 68 + 1] = "";
    assert_true(name.n <= 68);
    for (size_t i = 0; i < name.n; i++)
        snprintf(name_hex + 2 * i, 3, "%02x", name.p[i]);
    tpm_file_write(s, "secret.bin", secret);
    tpm_tool(s,
             "tpm2_makecredential -T none -G rsa -u %s/attesting.pem -s %s/secret.bin -n %s -o "
             "%s/cred.out",
             s->dir, s->dir, name_hex, s->dir);
    /* tpm2-tools' file: magic, version, then TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET. */
    struct buf f = tpm_file(s, "cred.out");
    TPM2B_ID_OBJECT id = {0};
    TPM2B_ENCRYPTED_SECRET es = {0};
    size_t off = 8;
    assert_true(f.n > off);
    assert_int_equal(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(f.p, f.n, &off, &id), 0);
    assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(f.p, f.n, &off, &es), 0);
    assert_int_equal(off, f.n);
    return (struct tpm_credential){buf_copy(id.credential, id.size), buf_copy(es.secret, es.size)};
}

#endif
