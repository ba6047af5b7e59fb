/* The Mbed Crypto provider on Debian's Mbed TLS 2.28 PSA Crypto API.
 *
 * What Debian's Mbed TLS 2.28 really does (probed on the build machine; a request for anything
 * else reaches the client as Mbed TLS's status, usually PsaErrorNotSupported 1134):
 *
 *   key type            generate / import                 algorithms that work
 *   ------------------- --------------------------------- ---------------------------------------
 *   RSA key pair        512..4096 bits, 8192 refused;      PKCS#1 v1.5 sign (hashed and raw), PSS,
 *                       Parsec lets a client name only     PKCS#1 v1.5 and OAEP encryption
 *                       1024/2048/4096 (any when deduced)
 *   RSA public key      import only                        verify, encrypt
 *   ECC SECP_R1         192 224 256 384 521                ECDSA, deterministic ECDSA, ECDSA-any,
 *   ECC SECP_K1         192 256 (not 224)                  ECDH
 *   ECC BRAINPOOL_P_R1  256 384 512 (not 160..224, 320)
 *   ECC MONTGOMERY      255 (X25519); X448 is refused      ECDH only
 *   ECC SECP_R2, SECT_*, FRP                               none: refused (1134)
 *   ECC public keys     import only                        verify, ECDH peer format
 *   DH (RFC 7919)       refused (1134)                     FFDH refused
 *   AES                 128 192 256                        CTR CFB OFB ECB CBC CBC-PKCS7, CCM GCM
 *                                                          (default and shortened tags); no XTS
 *   Camellia            128 192 256                        as AES but no OFB
 *   DES                 64 128 192                         ECB CBC CBC-PKCS7
 *   ARC4                8..2048                            stream cipher
 *   ChaCha20            256                                stream cipher, ChaCha20-Poly1305
 *   HMAC, Derive, Raw   any whole number of bytes          (no operation of this service)
 *   hashes: MD2 MD4 MD5 RIPEMD-160 SHA-1 SHA-224 SHA-256 SHA-384 SHA-512;
 *           SHA-512/224, SHA-512/256 and SHA-3 are refused (1134).
 *
 * Keys are PSA persistent keys: Mbed TLS writes one unencrypted file per key into the process's
 * working directory, so the provider moves into its key store folder at start. Mbed TLS keeps
 * every open key in one of 32 slots and reuses the slot of a persistent key nobody is using, so
 * the slot table is itself a bounded cache of recently used keys and is never exhausted by keys
 * used in turn. */
#define _POSIX_C_SOURCE 200809L
#include "service/providers/mbed_crypto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <psa/crypto.h>

#include "common/log.h"
#include "psa/convert.h"
#include "psa/policy.h"
#include "service/fs_trust.h"
#include "service/kim/kim.h"
#include "service/providers/keys_common.h"
#include "service/providers/mbed_keygen.h"
#include "wire/status.h"

static const char *const MOD = "parsec::providers::mbed_crypto";

/* Largest cipher IV plus one block of padding: bounds the growth of a cipher output. */
#define MBED_CIPHER_OVERHEAD_MAX 64
/* RSA sizes the original service lets a client name (any size is accepted when deduced). */
static const size_t rsa_sizes[] = {1024, 2048, 4096};

/* Mbed TLS 2.28 keeps its PSA state per process and is not thread-safe: one lock serialises
 * every call into it, and the state below describes the one back-end all instances share. */
static pthread_mutex_t psa_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned psa_users;          /* live provider instances */
static char *psa_store_path;        /* their key store folder, absolute */
static psa_key_id_t psa_id_counter; /* highest key id in a mapping or handed out */

/* ---- small helpers ---------------------------------------------------------------------- */

static int mbed_status(psa_status_t st)
{
    /* Mbed TLS reports a persistent key missing from storage as an invalid handle. */
    if (st == PSA_ERROR_INVALID_HANDLE)
        return PSC_PSA_DOES_NOT_EXIST;
    return psc_status_from_psa(st);
}

static const uint8_t *bytes_of(const struct psc_bytes *b)
{
    static const uint8_t empty[1];
    return b->p ? b->p : empty;
}

static int id_is_user(psa_key_id_t id)
{
    return id >= PSA_KEY_ID_USER_MIN && id <= PSA_KEY_ID_USER_MAX;
}

static void psa_attrs_fill(const struct psc_attrs *k, psa_key_id_t id, psa_key_attributes_t *pa)
{
    *pa = psa_key_attributes_init();
    psa_set_key_id(pa, id); /* also makes the key persistent */
    psa_set_key_type(pa, k->type);
    psa_set_key_bits(pa, k->bits);
    /* PSA 1.0 (Mbed TLS 2.28) has no "cache" usage and refuses unknown usage bits; the mapping
     * keeps the flag as the client gave it. */
    psa_set_key_usage_flags(pa, k->usage & ~PSA_KEY_USAGE_CACHE);
    psa_set_key_algorithm(pa, k->alg);
}

/* A key's attributes as Mbed TLS stores them. Caller holds psa_lock. */
static int key_attrs_locked(psa_key_id_t id, struct psc_attrs *k)
{
    psa_key_attributes_t pa = PSA_KEY_ATTRIBUTES_INIT;
    psa_status_t st = psa_get_key_attributes(id, &pa);
    if (st == PSA_SUCCESS) {
        k->type = psa_get_key_type(&pa);
        k->bits = psa_get_key_bits(&pa);
        k->usage = psa_get_key_usage_flags(&pa);
        k->alg = psa_get_key_algorithm(&pa);
    }
    psa_reset_key_attributes(&pa);
    return mbed_status(st);
}

/* Whether the key with this id is in storage: PSA_SUCCESS, PSA_ERROR_INVALID_HANDLE or
 * PSA_ERROR_DOES_NOT_EXIST when it is not, another status when storage cannot tell. Caller
 * holds psa_lock. */
static psa_status_t key_probe_locked(psa_key_id_t id)
{
    psa_key_attributes_t pa = PSA_KEY_ATTRIBUTES_INIT;
    psa_status_t st = psa_get_key_attributes(id, &pa);
    psa_reset_key_attributes(&pa);
    return st;
}

static int rsa_size_allowed(const struct psc_attrs *k, int is_import)
{
    if (!PSA_KEY_TYPE_IS_RSA(k->type) || (is_import && k->bits == 0))
        return 1;
    for (size_t i = 0; i < sizeof(rsa_sizes) / sizeof(rsa_sizes[0]); i++)
        if (k->bits == rsa_sizes[i])
            return 1;
    return 0;
}

/* ---- key id allocation ------------------------------------------------------------------ */

/* Hands out the next key id. An id whose key is already in storage belongs to no mapping of
 * ours (a crash between key creation and mapping insert, or a foreign file): it is skipped, so
 * such leftovers never block key creation. Caller holds psa_lock. */
static int key_id_alloc_locked(psa_key_id_t *out)
{
    for (;;) {
        if (psa_id_counter >= PSA_KEY_ID_USER_MAX) {
            log_error(MOD, "PSA max key ID limit of %" PRIu32 " reached",
                      (uint32_t)PSA_KEY_ID_USER_MAX);
            return PSC_PSA_INSUFFICIENT_MEMORY;
        }
        psa_key_id_t id = ++psa_id_counter;
        psa_status_t st = key_probe_locked(id);
        if (st == PSA_ERROR_INVALID_HANDLE || st == PSA_ERROR_DOES_NOT_EXIST) {
            *out = id;
            return 0;
        }
        log_warn(MOD, "key id %" PRIu32 " is already in the key store but in no mapping: skipped",
                 (uint32_t)id);
    }
}

/* ---- key management --------------------------------------------------------------------- */

/* Mbed TLS writes a key file with stdio and renames it into place without fsync. The file and
 * its folder entry are made durable before the mapping that names them is written, so that a
 * power cut never leaves a durable mapping to a key that was lost. Caller holds psa_lock (the
 * working directory is the key store). */
static int fsync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

static int key_file_sync_locked(psa_key_id_t id)
{
    char name[32];
    /* Named after the 64-bit storage uid in hex: owner (always 0 here), then key id. */
    snprintf(name, sizeof(name), "%08x%08" PRIx32 ".psa_its", 0u, (uint32_t)id);
    if (fsync_path(name, O_NOFOLLOW) == 0 && fsync_path(".", O_DIRECTORY) == 0)
        return 0;
    log_error(MOD, "cannot make key file %s durable: %s", name, strerror(errno));
    return PSC_PSA_STORAGE_FAILURE;
}

/* Creates the key (generated, or imported from data) and its mapping. */
static int key_create(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                      const struct psc_bytes *data)
{
    struct psc_attrs k = a->attrs;
    struct kim_ident who;
    provider_ident(p, app, a->key_name ? a->key_name : "", &who);
    int exists = 0;
    int rc = kim_exists(p->kim, &who, &exists);
    if (rc != 0)
        return rc;
    if (exists)
        return PSC_PSA_ALREADY_EXISTS;
    /* Checked before an id is spent; Mbed TLS would refuse the same way. */
    if (!data && PSA_KEY_TYPE_IS_PUBLIC_KEY(k.type))
        return PSC_PSA_INVALID_ARGUMENT;

    /* The slow part of a generation runs before the lock is taken; the key pair is then
     * imported under it. */
    uint8_t *made = NULL;
    size_t made_len = 0;
    if (!data && mbed_keygen_handles(&k) && (rc = mbed_keygen(&k, &made, &made_len)) != 0)
        goto out;
    psa_key_id_t id = 0;
    psa_key_attributes_t pa;
    pthread_mutex_lock(&psa_lock);
    rc = key_id_alloc_locked(&id);
    if (rc == 0) {
        psa_attrs_fill(&k, id, &pa);
        psa_key_id_t got = 0;
        psa_status_t st = data   ? psa_import_key(&pa, bytes_of(data), data->len, &got)
                          : made ? psa_import_key(&pa, made, made_len, &got)
                                 : psa_generate_key(&pa, &got);
        psa_reset_key_attributes(&pa);
        rc = psc_status_from_psa(st);
        /* The mapping records the size Mbed TLS found when the client let it deduce it. */
        if (rc == 0 && data && k.bits == 0) {
            struct psc_attrs real = {0};
            rc = key_attrs_locked(id, &real);
            k.bits = real.bits;
        }
        if (rc == 0)
            rc = key_file_sync_locked(id);
        if (rc != 0 && st == PSA_SUCCESS)
            (void)psa_destroy_key(id);
    }
    pthread_mutex_unlock(&psa_lock);
out:
    mbed_keygen_free(made, made_len);
    if (rc != 0) {
        char kb[LOG_STR_BUF];
        if (p->env.log_error_details)
            log_error(MOD, "%s key \"%s\" status: %d", data ? "import" : "generate",
                      log_str(kb, who.key_name), rc);
        return rc;
    }

    uint8_t idb[KEYS_ID_U32_LEN];
    keys_id_to_le(id, idb);
    struct kim_info info = {.id = idb, .id_len = sizeof(idb), .attrs = k};
    rc = kim_insert(p->kim, &who, &info);
    if (rc != 0) {
        pthread_mutex_lock(&psa_lock);
        psa_status_t st = psa_destroy_key(id);
        pthread_mutex_unlock(&psa_lock);
        if (st != PSA_SUCCESS)
            log_error(MOD, "key %" PRIu32 " could not be removed after its mapping failed: %d",
                      (uint32_t)id, (int)st);
    }
    return rc;
}

static int op_generate_key(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    int rc = keys_create_check(p, app, a, 0, MOD);
    if (rc != 0)
        return rc;
    if (!rsa_size_allowed(&a->attrs, 0)) {
        log_error(MOD, "Requested RSA key size is not supported (%zu)", a->attrs.bits);
        return PSC_PSA_INVALID_ARGUMENT;
    }
    return key_create(p, app, a, NULL);
}

static int op_import_key(struct psc_provider *p, const struct psc_app *app,
                         const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    int rc = keys_create_check(p, app, a, 1, MOD);
    if (rc != 0)
        return rc;
    if (!rsa_size_allowed(&a->attrs, 1)) {
        log_error(MOD, "Requested RSA key size is not supported (%zu)", a->attrs.bits);
        return PSC_PSA_INVALID_ARGUMENT;
    }
    return key_create(p, app, a, &a->data);
}

static int op_destroy_key(struct psc_provider *p, const struct psc_app *app,
                          const struct psc_args *a, struct psc_out *out)
{
    (void)out;
    psa_key_id_t id;
    int rc = keys_lookup_id(p, app, a->key_name, &id, NULL);
    if (rc != 0)
        return rc;
    /* The key goes first, its mapping second: a crash between them leaves a mapping to nothing,
     * which the next start removes (coherency_pass), and never the private key of a destroyed
     * key on disk with nothing to reach it. */
    pthread_mutex_lock(&psa_lock);
    psa_status_t st = psa_destroy_key(id);
    /* Mbed TLS unlinks the file without syncing the folder: a power cut could bring back
     * the file of a key the client was told is gone. */
    if (st == PSA_SUCCESS && fsync_path(".", O_DIRECTORY) != 0)
        log_warn(MOD, "key %" PRIu32 " destroyed, but its removal is not yet durable: %s",
                 (uint32_t)id, strerror(errno));
    pthread_mutex_unlock(&psa_lock);
    int gone = st == PSA_ERROR_DOES_NOT_EXIST || st == PSA_ERROR_INVALID_HANDLE;
    if (st != PSA_SUCCESS && !gone) {
        /* The key is still there and still mapped: the client may try again. */
        log_error(MOD, "destroying key %" PRIu32 " failed (%d)", (uint32_t)id, (int)st);
        return mbed_status(st);
    }
    uint8_t idb[KEYS_ID_U32_LEN];
    keys_id_to_le(id, idb);
    return keys_unmap_destroyed(p, app, a->key_name, idb, sizeof(idb), gone, MOD);
}

/* ---- operations on a stored key --------------------------------------------------------- */

/* Whether the operation's algorithm is of the family its opcode takes. The protobuf decoding
 * already guarantees it; a mismatch reaching here is a malformed request, refused before the
 * key is touched. */
static int alg_fits_opcode(uint32_t opcode, psa_algorithm_t alg)
{
    switch (opcode) {
    case PSC_OP_PSA_SIGN_HASH:
    case PSC_OP_PSA_VERIFY_HASH:
    case PSC_OP_PSA_SIGN_MESSAGE:
    case PSC_OP_PSA_VERIFY_MESSAGE:
        return PSA_ALG_IS_SIGN(alg);
    case PSC_OP_PSA_ASYMMETRIC_ENCRYPT:
    case PSC_OP_PSA_ASYMMETRIC_DECRYPT:
        return PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg);
    case PSC_OP_PSA_AEAD_ENCRYPT:
    case PSC_OP_PSA_AEAD_DECRYPT:
        return PSA_ALG_IS_AEAD(alg);
    case PSC_OP_PSA_CIPHER_ENCRYPT:
    case PSC_OP_PSA_CIPHER_DECRYPT:
        return PSA_ALG_IS_CIPHER(alg);
    case PSC_OP_PSA_RAW_KEY_AGREEMENT:
        return PSA_ALG_IS_RAW_KEY_AGREEMENT(alg);
    default:
        return 1;
    }
}

/* One operation on a key, run with psa_lock held: k is the key's attributes as stored. */
typedef int (*key_fn)(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                      struct psc_out *out);

static int key_op(struct psc_provider *p, const struct psc_app *app, const struct psc_args *a,
                  struct psc_out *out, key_fn fn)
{
    if (!alg_fits_opcode(a->opcode, a->alg))
        return PSC_PSA_INVALID_ARGUMENT;
    psa_key_id_t id;
    int rc = keys_lookup_id(p, app, a->key_name, &id, NULL);
    if (rc != 0)
        return rc;
    struct psc_attrs k = {0};
    pthread_mutex_lock(&psa_lock);
    rc = key_attrs_locked(id, &k);
    if (rc == 0)
        rc = fn(a, id, &k, out);
    pthread_mutex_unlock(&psa_lock);
    keys_log_op_error(p, a, rc, MOD);
    return rc;
}

static int export_public_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                            struct psc_out *out)
{
    (void)a;
    if (!PSA_KEY_TYPE_IS_ASYMMETRIC(k->type))
        return PSC_PSA_INVALID_ARGUMENT;
    size_t cap = PSA_EXPORT_PUBLIC_KEY_OUTPUT_SIZE(k->type, k->bits);
    int rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(psa_export_public_key(id, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int export_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                     struct psc_out *out)
{
    (void)a;
    int rc = policy_check(k, POLICY_EXPORT, PSA_ALG_NONE);
    if (rc != 0)
        return rc;
    size_t cap = PSA_EXPORT_KEY_OUTPUT_SIZE(k->type, k->bits);
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(psa_export_key(id, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int sign_hash_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                        struct psc_out *out)
{
    int rc = policy_check(k, POLICY_SIGN_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc != 0)
        return rc;
    size_t cap = PSA_SIGN_OUTPUT_SIZE(k->type, k->bits, a->alg);
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(
            psa_sign_hash(id, a->alg, bytes_of(&a->hash), a->hash.len, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int verify_hash_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                          struct psc_out *out)
{
    (void)out;
    int rc = policy_check(k, POLICY_VERIFY_HASH, a->alg);
    if (rc == 0)
        rc = policy_check_hash_input(a->alg, a->hash.len);
    if (rc != 0)
        return rc;
    return psc_status_from_psa(psa_verify_hash(id, a->alg, bytes_of(&a->hash), a->hash.len,
                                               bytes_of(&a->signature), a->signature.len));
}

static int sign_message_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                           struct psc_out *out)
{
    int rc = policy_check(k, POLICY_SIGN_MESSAGE, a->alg);
    if (rc != 0)
        return rc;
    size_t cap = PSA_SIGN_OUTPUT_SIZE(k->type, k->bits, a->alg);
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(psa_sign_message(id, a->alg, bytes_of(&a->message), a->message.len,
                                                  out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int verify_message_fn(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                             struct psc_out *out)
{
    (void)out;
    int rc = policy_check(k, POLICY_VERIFY_MESSAGE, a->alg);
    if (rc != 0)
        return rc;
    return psc_status_from_psa(psa_verify_message(id, a->alg, bytes_of(&a->message), a->message.len,
                                                  bytes_of(&a->signature), a->signature.len));
}

/* Encryption and decryption of each family below share their checks and call shape: the
 * direction picks the usage, the input field, the output bound and the Mbed TLS call. */

static int asym_crypt(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                      struct psc_out *out, int encrypt)
{
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    int rc = policy_check(k, encrypt ? POLICY_ENCRYPT : POLICY_DECRYPT, a->alg);
    if (rc == 0)
        rc = policy_check_asym_input(a->alg, in->len, a->salt.len);
    if (rc != 0)
        return rc;
    size_t cap = encrypt ? PSA_ASYMMETRIC_ENCRYPT_OUTPUT_SIZE(k->type, k->bits, a->alg)
                         : PSA_ASYMMETRIC_DECRYPT_OUTPUT_SIZE(k->type, k->bits, a->alg);
    psa_status_t (*crypt)(mbedtls_svc_key_id_t, psa_algorithm_t, const uint8_t *, size_t,
                          const uint8_t *, size_t, uint8_t *, size_t, size_t *) =
        encrypt ? psa_asymmetric_encrypt : psa_asymmetric_decrypt;
    rc = keys_out_alloc(out, cap);
    /* An empty salt is no salt (proto3 cannot tell them apart). */
    if (rc == 0)
        rc = psc_status_from_psa(crypt(id, a->alg, bytes_of(in), in->len,
                                       a->salt.len ? a->salt.p : NULL, a->salt.len, out->p, cap,
                                       &out->len));
    return keys_out_finish(out, cap, rc);
}

static int aead_crypt(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                      struct psc_out *out, int encrypt)
{
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    int rc = policy_check(k, encrypt ? POLICY_ENCRYPT : POLICY_DECRYPT, a->alg);
    if (rc == 0)
        rc = policy_check_aead_input(in->len, a->nonce.len);
    if (rc != 0)
        return rc;
    if (encrypt && in->len > SIZE_MAX - PSA_AEAD_TAG_MAX_SIZE)
        return PSC_PSA_INVALID_ARGUMENT;
    size_t cap = encrypt ? PSA_AEAD_ENCRYPT_OUTPUT_SIZE(k->type, a->alg, in->len)
                         : PSA_AEAD_DECRYPT_OUTPUT_SIZE(k->type, a->alg, in->len);
    psa_status_t (*crypt)(mbedtls_svc_key_id_t, psa_algorithm_t, const uint8_t *, size_t,
                          const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *, size_t,
                          size_t *) = encrypt ? psa_aead_encrypt : psa_aead_decrypt;
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(crypt(id, a->alg, bytes_of(&a->nonce), a->nonce.len,
                                       bytes_of(&a->additional_data), a->additional_data.len,
                                       bytes_of(in), in->len, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int cipher_crypt(const struct psc_args *a, psa_key_id_t id, const struct psc_attrs *k,
                        struct psc_out *out, int encrypt)
{
    const struct psc_bytes *in = encrypt ? &a->plaintext : &a->ciphertext;
    int rc = policy_check(k, encrypt ? POLICY_ENCRYPT : POLICY_DECRYPT, a->alg);
    if (rc != 0)
        return rc;
    if (in->len == 0 || (encrypt && in->len > SIZE_MAX - MBED_CIPHER_OVERHEAD_MAX))
        return PSC_PSA_INVALID_ARGUMENT;
    /* Encryption draws a random IV and writes it before the ciphertext; decryption reads it
     * from there. */
    size_t cap = encrypt ? PSA_CIPHER_ENCRYPT_OUTPUT_SIZE(k->type, a->alg, in->len)
                         : PSA_CIPHER_DECRYPT_OUTPUT_SIZE(k->type, a->alg, in->len);
    psa_status_t (*crypt)(mbedtls_svc_key_id_t, psa_algorithm_t, const uint8_t *, size_t, uint8_t *,
                          size_t, size_t *) = encrypt ? psa_cipher_encrypt : psa_cipher_decrypt;
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(crypt(id, a->alg, bytes_of(in), in->len, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

#define CRYPT_FNS(family)                                                                          \
    static int family##_encrypt_fn(const struct psc_args *a, psa_key_id_t id,                      \
                                   const struct psc_attrs *k, struct psc_out *out)                 \
    {                                                                                              \
        return family##_crypt(a, id, k, out, 1);                                                   \
    }                                                                                              \
    static int family##_decrypt_fn(const struct psc_args *a, psa_key_id_t id,                      \
                                   const struct psc_attrs *k, struct psc_out *out)                 \
    {                                                                                              \
        return family##_crypt(a, id, k, out, 0);                                                   \
    }

CRYPT_FNS(asym)
CRYPT_FNS(aead)
CRYPT_FNS(cipher)

static int raw_key_agreement_fn(const struct psc_args *a, psa_key_id_t id,
                                const struct psc_attrs *k, struct psc_out *out)
{
    int rc = policy_check(k, POLICY_DERIVE, a->alg);
    if (rc != 0)
        return rc;
    size_t cap = PSA_RAW_KEY_AGREEMENT_OUTPUT_SIZE(k->type, k->bits);
    rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(psa_raw_key_agreement(a->alg, id, bytes_of(&a->peer_key),
                                                       a->peer_key.len, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

#define KEY_OP(name)                                                                               \
    static int op_##name(struct psc_provider *p, const struct psc_app *app,                        \
                         const struct psc_args *a, struct psc_out *out)                            \
    {                                                                                              \
        return key_op(p, app, a, out, name##_fn);                                                  \
    }

KEY_OP(export_public)
KEY_OP(export)
KEY_OP(sign_hash)
KEY_OP(verify_hash)
KEY_OP(sign_message)
KEY_OP(verify_message)
KEY_OP(asym_encrypt)
KEY_OP(asym_decrypt)
KEY_OP(aead_encrypt)
KEY_OP(aead_decrypt)
KEY_OP(cipher_encrypt)
KEY_OP(cipher_decrypt)
KEY_OP(raw_key_agreement)

/* ---- operations without a key ----------------------------------------------------------- */

/* Hashing touches no PSA global state (no key slot, no random generator) in Mbed TLS 2.28, so
 * it runs without psa_lock and hashes of several clients proceed in parallel. */
static int op_hash_compute(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    (void)p;
    (void)app;
    if (!PSA_ALG_IS_HASH(a->alg))
        return PSC_PSA_INVALID_ARGUMENT;
    size_t cap = PSA_HASH_MAX_SIZE;
    int rc = keys_out_alloc(out, cap);
    if (rc == 0)
        rc = psc_status_from_psa(
            psa_hash_compute(a->alg, bytes_of(&a->input), a->input.len, out->p, cap, &out->len));
    return keys_out_finish(out, cap, rc);
}

static int op_hash_compare(struct psc_provider *p, const struct psc_app *app,
                           const struct psc_args *a, struct psc_out *out)
{
    (void)p;
    (void)app;
    (void)out;
    if (!PSA_ALG_IS_HASH(a->alg))
        return PSC_PSA_INVALID_ARGUMENT;
    /* A hash of the wrong length goes to Mbed TLS too: it is a mismatch (1149), as in the
     * original service and the PSA Crypto API. */
    return psc_status_from_psa(psa_hash_compare(a->alg, bytes_of(&a->input), a->input.len,
                                                bytes_of(&a->hash), a->hash.len));
}

static int op_generate_random(struct psc_provider *p, const struct psc_app *app,
                              const struct psc_args *a, struct psc_out *out)
{
    (void)app;
    if (a->size > p->env.buffer_size_limit) {
        log_error(MOD, "Generate random status: ResponseTooLarge");
        return PSC_RESPONSE_TOO_LARGE;
    }
    size_t cap = (size_t)a->size;
    int rc = keys_out_alloc(out, cap);
    if (rc == 0) {
        pthread_mutex_lock(&psa_lock);
        rc = psc_status_from_psa(psa_generate_random(out->p, cap));
        pthread_mutex_unlock(&psa_lock);
        if (rc == 0)
            out->len = cap;
    }
    return keys_out_finish(out, cap, rc);
}

/* ---- CanDoCrypto ------------------------------------------------------------------------ */

/* The answers are those of the original service (operations.md §7, providers.md §3): the
 * attributes must have a PSA form, RSA sizes follow the naming rule, and the type must be one
 * the provider generates or imports. They describe the interface, not every curve and mode
 * Debian's Mbed TLS implements (the table at the top of this file does). */

static int size_in(size_t bits, const size_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bits == set[i])
            return 1;
    return 0;
}

/* Whether an ECC family/size pair has a PSA form (0 bits: deduced, always has one). */
static int cdc_ecc_size_known(psa_ecc_family_t family, size_t bits)
{
    static const size_t secp_r1[] = {192, 224, 256, 384, 521};
    static const size_t secp_k1[] = {192, 224, 256};
    static const size_t sect_k1[] = {233, 239, 283, 409, 571};
    static const size_t sect_r1[] = {233, 283, 409, 571};
    static const size_t brainpool[] = {192, 224, 256, 320, 384, 512};
    static const size_t montgomery[] = {255, 448};
#define IN(set) size_in(bits, set, sizeof(set) / sizeof(set[0]))
    if (family == PSA_ECC_FAMILY_FRP)
        return 0;
    if (bits == 0)
        return 1;
    switch (family) {
    case PSA_ECC_FAMILY_SECP_R1:
        return IN(secp_r1);
    case PSA_ECC_FAMILY_SECP_K1:
        return IN(secp_k1);
    case PSA_ECC_FAMILY_SECT_K1:
        return IN(sect_k1);
    case PSA_ECC_FAMILY_SECT_R1:
        return IN(sect_r1);
    case PSA_ECC_FAMILY_BRAINPOOL_P_R1:
        return IN(brainpool);
    case PSA_ECC_FAMILY_MONTGOMERY:
        return IN(montgomery);
    default:
        return 1;
    }
#undef IN
}

static int cdc_use(const struct psc_attrs *k, int is_import)
{
    const psa_key_usage_t use = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT |
                                PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_SIGN_MESSAGE |
                                PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_VERIFY_MESSAGE;
    if (k->alg == PSA_ALG_NONE || (k->usage & use) == 0)
        return PSC_PSA_NOT_SUPPORTED;
    if (!policy_alg_compatible(k->type, k->alg))
        return PSC_PSA_NOT_SUPPORTED;
    /* A size left for import to deduce stays acceptable here. */
    if (!rsa_size_allowed(k, is_import))
        return PSC_PSA_NOT_SUPPORTED;
    return 0;
}

static int cdc_type_creatable(psa_key_type_t type, int is_import)
{
    if (is_import && PSA_KEY_TYPE_IS_PUBLIC_KEY(type) &&
        (PSA_KEY_TYPE_IS_RSA(type) || PSA_KEY_TYPE_IS_ECC(type) || PSA_KEY_TYPE_IS_DH(type)))
        return 1;
    if (PSA_KEY_TYPE_IS_KEY_PAIR(type))
        return PSA_KEY_TYPE_IS_RSA(type) || PSA_KEY_TYPE_IS_ECC(type) || PSA_KEY_TYPE_IS_DH(type);
    return type == PSA_KEY_TYPE_RAW_DATA || type == PSA_KEY_TYPE_AES ||
           type == PSA_KEY_TYPE_CAMELLIA || type == PSA_KEY_TYPE_CHACHA20;
}

static int cdc_create(const struct psc_attrs *k, int is_import)
{
    if (!rsa_size_allowed(k, is_import) || !cdc_type_creatable(k->type, is_import))
        return PSC_PSA_NOT_SUPPORTED;
    if (k->alg == PSA_ALG_NONE)
        return 0;
    return cdc_use(k, is_import);
}

static int op_can_do_crypto(struct psc_provider *p, const struct psc_app *app,
                            const struct psc_args *a, struct psc_out *out)
{
    (void)p;
    (void)out;
    int rc = keys_app_check(app);
    if (rc != 0)
        return rc;
    if (!a->has_attrs)
        return PSC_PSA_INVALID_ARGUMENT;
    const struct psc_attrs *k = &a->attrs;
    if (PSA_KEY_TYPE_IS_ECC(k->type) &&
        !cdc_ecc_size_known(PSA_KEY_TYPE_ECC_GET_FAMILY(k->type), k->bits))
        return PSC_PSA_NOT_SUPPORTED;
    switch (a->check_type) {
    case 1: /* Use */
        return cdc_use(k, 0);
    case 2: /* Generate */
        return cdc_create(k, 0);
    case 3: /* Import */
        return cdc_create(k, 1);
    default: /* Derive: never supported */
        return PSC_PSA_NOT_SUPPORTED;
    }
}

/* ---- start-up ------------------------------------------------------------------------- */

/* The key store as an absolute path: a relative one, or none, is taken from the directory the
 * process started in (remembered at the first start), so that restarting the provider after it
 * moved into its store never lands in a store inside the store. Returns a malloc'd path. */
static char *store_resolve(const char *store, char *err, size_t err_len)
{
    static char *origin; /* kept for the life of the process */
    if (!origin) {
        origin = getcwd(NULL, 0);
        if (!origin) {
            snprintf(err, err_len, "cannot read the working directory: %s", strerror(errno));
            return NULL;
        }
    }
    if (store && !*store) {
        snprintf(err, err_len, "the key store path is empty");
        return NULL;
    }
    if (store && store[0] == '/')
        return strdup(store);
    size_t n = strlen(origin) + (store ? strlen(store) + 2 : 1);
    char *abs = malloc(n);
    if (abs)
        snprintf(abs, n, "%s%s%s", origin, store ? "/" : "", store ? store : "");
    return abs;
}

/* Joins the process-wide back-end: the first instance moves into the key store and starts
 * Mbed TLS; later ones must name the same store. */
static int backend_acquire(const char *store, char *err, size_t err_len)
{
    int rc = -1;
    pthread_mutex_lock(&psa_lock);
    char *abs = store_resolve(store, err, err_len);
    if (!abs) {
        if (err_len && !err[0])
            snprintf(err, err_len, "out of memory");
        goto out;
    }
    if (psa_users > 0) {
        if (strcmp(abs, psa_store_path) != 0) {
            snprintf(err, err_len,
                     "all Mbed Crypto providers of a process share one key store (%s), not %s",
                     psa_store_path, abs);
            goto out;
        }
        psa_users++;
        rc = 0;
        goto out;
    }
    /* Mbed TLS writes its key files, unencrypted, into the working directory: the store must
     * be the service's alone. A configured one is created private if missing; one that
     * existed (the working directory by default) keeps its mode or is refused. */
    int dfd = fst_dir("key store", abs, store ? 0700 : 0, NULL, err, err_len);
    if (dfd < 0)
        goto out;
    int entered = fchdir(dfd) == 0 ? 0 : errno;
    close(dfd);
    if (entered != 0) {
        snprintf(err, err_len, "cannot enter key store %s: %s", abs, strerror(entered));
        goto out;
    }
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        snprintf(err, err_len, "Error when initialising Mbed Crypto (%d)", (int)st);
        goto out;
    }
    psa_store_path = abs;
    abs = NULL;
    psa_id_counter = PSA_KEY_ID_USER_MIN;
    psa_users = 1;
    rc = 0;
out:
    pthread_mutex_unlock(&psa_lock);
    free(abs);
    return rc;
}

static void backend_release(void)
{
    pthread_mutex_lock(&psa_lock);
    if (psa_users > 0 && --psa_users == 0) {
        /* Wipes every key slot, so a later instance (possibly on other storage) starts clean. */
        mbedtls_psa_crypto_free();
        free(psa_store_path);
        psa_store_path = NULL;
        psa_id_counter = 0;
    }
    pthread_mutex_unlock(&psa_lock);
}

static int cmp_id(const void *a, const void *b)
{
    psa_key_id_t x = *(const psa_key_id_t *)a, y = *(const psa_key_id_t *)b;
    return (x > y) - (x < y);
}

/* Key files in storage that no mapping refers to: left by a crash between key creation and
 * mapping insert, or put there by something else. They are reported, never deleted: a key is
 * data, and a mapping store pointed at by mistake must not cost every key. */
static void report_orphans(const psa_key_id_t *ids, size_t n)
{
    DIR *d = opendir(".");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        /* Mbed TLS names a key file after its 64-bit storage uid in hex: owner, then key id. */
        if (strlen(name) != 24 || strspn(name, "0123456789abcdef") != 16 ||
            strcmp(name + 16, ".psa_its") != 0 || strncmp(name, "00000000", 8) != 0)
            continue;
        unsigned long lo = strtoul(name + 8, NULL, 16); /* stops at the '.' */
        if (lo > UINT32_MAX || !id_is_user((psa_key_id_t)lo))
            continue;
        psa_key_id_t id = (psa_key_id_t)lo;
        if (n == 0 || !bsearch(&id, ids, n, sizeof(*ids), cmp_id))
            log_warn(MOD,
                     "key file %s holds key %u that no mapping refers to (left by an "
                     "interrupted creation); it is kept",
                     name, (unsigned)id);
    }
    closedir(d);
}

/* The ids the coherency pass found in storage, and the highest of them. */
struct mapped_ids {
    psa_key_id_t *ids;
    size_t n, cap;
    psa_key_id_t highest;
};

/* The start-up coherency pass (key-info-manager.md §5.1): a mapping whose id does not decode or
 * whose key is gone from storage is removed; any other storage error stops the start. */
static enum keys_probe probe_key(void *ctx, const struct kim_entry *e, char *err, size_t err_len)
{
    struct mapped_ids *m = ctx;
    psa_key_id_t id;
    if (keys_id_from_info(&e->info, &id) != 0 || !id_is_user(id))
        return KEYS_NO_ID;
    pthread_mutex_lock(&psa_lock);
    psa_status_t st = key_probe_locked(id);
    pthread_mutex_unlock(&psa_lock);
    if (st == PSA_ERROR_INVALID_HANDLE || st == PSA_ERROR_DOES_NOT_EXIST)
        return KEYS_ABSENT;
    if (st != PSA_SUCCESS) {
        snprintf(err, err_len, "Failed to open persistent Mbed Crypto key %" PRIu32 " (%d)",
                 (uint32_t)id, (int)st);
        return KEYS_FAILED;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        psa_key_id_t *ids =
            cap <= SIZE_MAX / sizeof(*ids) ? realloc(m->ids, cap * sizeof(*ids)) : NULL;
        if (!ids) {
            snprintf(err, err_len, "out of memory");
            return KEYS_FAILED;
        }
        m->ids = ids;
        m->cap = cap;
    }
    m->ids[m->n++] = id;
    if (id > m->highest)
        m->highest = id;
    return KEYS_PRESENT;
}

static int coherency_pass(struct psc_provider *p, char *err, size_t err_len)
{
    struct mapped_ids m = {0};
    int rc = keys_coherency_pass(p, probe_key, &m, MOD, err, err_len);
    if (rc == 0) {
        pthread_mutex_lock(&psa_lock);
        if (m.highest > psa_id_counter)
            psa_id_counter = m.highest;
        pthread_mutex_unlock(&psa_lock);
        if (m.n > 0)
            qsort(m.ids, m.n, sizeof(*m.ids), cmp_id);
        report_orphans(m.ids, m.n);
    }
    free(m.ids);
    return rc;
}

static void mbed_destroy(struct psc_provider *p)
{
    if (!p)
        return;
    free(p->name);
    free(p);
    backend_release();
}

static int mbed_create(const struct cfg_provider *cfg, struct psc_kim *kim,
                       const struct psc_provider_env *env, struct psc_provider **out, char *err,
                       size_t err_len)
{
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    struct psc_provider *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->type = &psc_mbed_crypto_provider;
    p->kim = kim;
    p->env = *env;
    p->name = strdup(cfg->name ? cfg->name : psc_mbed_crypto_provider.default_name);
    if (!p->name) {
        snprintf(err, err_len, "out of memory");
        free(p);
        return -1;
    }
    if (backend_acquire(cfg->key_store_path, err, err_len) != 0) {
        free(p->name);
        free(p);
        return -1;
    }
    if (coherency_pass(p, err, err_len) != 0) {
        mbed_destroy(p);
        return -1;
    }
    *out = p;
    return 0;
}

const struct psc_provider_type psc_mbed_crypto_provider = {
    .id = PSC_PROVIDER_MBED_CRYPTO,
    .uuid = "1c1139dc-ad7c-47dc-ad6b-db6fdb466552",
    .description = "User space software provider, based on Mbed Crypto - the reference "
                   "implementation of the PSA crypto API",
    .vendor = "Arm",
    .version_maj = 0,
    .version_min = 1,
    .version_rev = 0,
    .config_type = "MbedCrypto",
    .default_name = "mbed-crypto-provider",
    .ops =
        {
            [PSC_OP_PSA_GENERATE_KEY] = op_generate_key,
            [PSC_OP_PSA_DESTROY_KEY] = op_destroy_key,
            [PSC_OP_PSA_SIGN_HASH] = op_sign_hash,
            [PSC_OP_PSA_VERIFY_HASH] = op_verify_hash,
            [PSC_OP_PSA_IMPORT_KEY] = op_import_key,
            [PSC_OP_PSA_EXPORT_PUBLIC_KEY] = op_export_public,
            [PSC_OP_PSA_ASYMMETRIC_ENCRYPT] = op_asym_encrypt,
            [PSC_OP_PSA_ASYMMETRIC_DECRYPT] = op_asym_decrypt,
            [PSC_OP_PSA_EXPORT_KEY] = op_export,
            [PSC_OP_PSA_GENERATE_RANDOM] = op_generate_random,
            [PSC_OP_PSA_HASH_COMPUTE] = op_hash_compute,
            [PSC_OP_PSA_HASH_COMPARE] = op_hash_compare,
            [PSC_OP_PSA_AEAD_ENCRYPT] = op_aead_encrypt,
            [PSC_OP_PSA_AEAD_DECRYPT] = op_aead_decrypt,
            [PSC_OP_PSA_RAW_KEY_AGREEMENT] = op_raw_key_agreement,
            [PSC_OP_PSA_CIPHER_ENCRYPT] = op_cipher_encrypt,
            [PSC_OP_PSA_CIPHER_DECRYPT] = op_cipher_decrypt,
            [PSC_OP_PSA_SIGN_MESSAGE] = op_sign_message,
            [PSC_OP_PSA_VERIFY_MESSAGE] = op_verify_message,
            [PSC_OP_CAN_DO_CRYPTO] = op_can_do_crypto,
        },
    .create = mbed_create,
    .destroy = mbed_destroy,
};
