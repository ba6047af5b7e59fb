/* Helpers of the PKCS#11 module tests: a daemon on the Mbed Crypto provider, the module loaded
 * with dlopen as applications load it, and OpenSSL checks of what it produced. */
#ifndef PARSEC_TEST_P11T_H
#define PARSEC_TEST_P11T_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

#include "harness.h"

struct p11t {
    struct daemon d;
    char endpoint[320];
    void *dl;
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slot;
};

/* Under scripts/valgrind.sh (PARSEC_E2E_WRAPPER set), runs the test program itself under the
 * wrapper too, so that memcheck sees the module's code, not only the daemon's. */
void p11t_wrap_self(char **argv);
/* Starts a daemon, points PARSEC_SERVICE_ENDPOINT at it, loads the module (not initialised). */
void p11t_start(struct p11t *t);
/* The same with another daemon configuration (harness.h). */
void p11t_start_config(struct p11t *t, const char *config);
/* C_Initialize(NULL) and the one slot. */
void p11t_init(struct p11t *t);
/* C_Finalize (if initialised), unloads the module, stops the daemon. */
void p11t_stop(struct p11t *t);

/* An open session (read-write if rw). */
CK_SESSION_HANDLE p11t_session(struct p11t *t, int rw);
/* C_GenerateKeyPair: EC on the curve of the DER OID, or RSA of bits (decrypt-only if
 * decrypt). */
void p11t_gen_ec(struct p11t *t, CK_SESSION_HANDLE s, const char *label, const uint8_t *oid,
                 size_t oid_len, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv);
void p11t_gen_rsa(struct p11t *t, CK_SESSION_HANDLE s, const char *label, CK_ULONG bits,
                  int decrypt, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv);
/* The objects of class cls with this label: count found, first in *h. */
size_t p11t_find(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
                 CK_OBJECT_HANDLE *h);
/* One attribute into a malloc'd buffer (length in *len); fails the test on error. */
uint8_t *p11t_attr(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
                   size_t *len);
/* An OpenSSL public key built from the public object's attributes. */
EVP_PKEY *p11t_pubkey(struct p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub);
/* Single-part signature with mechanism m (params may be NULL). Returns the CK_RV. */
CK_RV p11t_sign(struct p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                const uint8_t *in, size_t in_len, uint8_t *sig, CK_ULONG *sig_len);

/* Verification with OpenSSL of a signature of msg: md the hash (NULL: msg is the value signed
 * as is, for raw ECDSA / RSA), pad RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING (RSA only).
 * ECDSA signatures are r || s. 1 valid, 0 not. */
int p11t_verify(EVP_PKEY *pub, const EVP_MD *md, int pad, const uint8_t *msg, size_t msg_len,
                const uint8_t *sig, size_t sig_len);

extern const uint8_t P11T_P256[10], P11T_P384[7], P11T_P521[7];

#endif
