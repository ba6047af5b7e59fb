/* A machine that ran the original service switches to this one with every stored key intact.
 *
 * The original's state is rebuilt here from the spec's worked examples (key-info-manager.md
 * §3, §6.2, §7.1), independently of the service's code:
 *   - Mbed TLS key files 0000000000000002.psa_its (RSA-2048, PKCS#1 v1.5 encryption) and
 *     0000000000000003.psa_its (P-256, ECDSA-SHA256), written by Mbed TLS itself in a child
 *     process whose working directory is the key store, as the original's Mbed TLS wrote them;
 *   - an on-disk mapping folder as the original writes it, byte by byte: keys `rsa` (id 2) and
 *     `ecc` (id 3) of the Direct-authenticated application `parsec-tool`, the dangling `toto`
 *     (id 4, no key file) of the original's e2e fake mappings, and a TPM mapping that a
 *     service without a TPM provider must leave alone;
 *   - a SQLite database made with the original's DDL through the sqlite3 API: `rsa-mbed`,
 *     `ecc-mbed`, the dangling `toto-mbed`, and a TPM row.
 * Then the original's key_mappings::use_and_check is replayed against our daemon, and the
 * mappings our daemon writes for new keys are decoded by hand and compared with the original's
 * format byte for byte. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <psa/crypto.h>
#include <sqlite3.h>

#include "e2e_keys.h"
#include "e2e_psa.h"

/* The daemon of the running test; stopped by the teardown if the test fails half-way. */
static struct daemon D;

static int test_teardown(void **state)
{
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return e2e_arena_free(state);
}

/* The keys the original's parsec-tool created: PEM_RSA2048 and PEM_P256 (e2e_keys.h). */

#define MBED_UUID "1c1139dc-ad7c-47dc-ad6b-db6fdb466552"
#define TPM_UUID "1e4954a4-ff21-46d3-ab0c-661eeb667e1d"

static const char CONFIG_ONDISK[] = "[core_settings]\n"
                                    "allow_root = true\n"
                                    "thread_pool_size = 2\n"
                                    "[listener]\n"
                                    "listener_type = \"DomainSocket\"\n"
                                    "timeout = 500\n"
                                    "socket_path = \"@DIR@/parsec.sock\"\n"
                                    "[authenticator]\n"
                                    "auth_type = \"Direct\"\n"
                                    "[[key_manager]]\n"
                                    "name = \"on-disk-manager\"\n"
                                    "manager_type = \"OnDisk\"\n"
                                    "store_path = \"@DIR@/mappings\"\n"
                                    "[[provider]]\n"
                                    "provider_type = \"MbedCrypto\"\n"
                                    "key_info_manager = \"on-disk-manager\"\n"
                                    "key_store_path = \"@DIR@/keys\"\n";

/* ---- the original's bytes (key-info-manager.md §3, §6.2) -------------------------------- */

/* bincode(Attributes) of `parsec-tool create-rsa-key` (34 bytes; the spec's "38 bytes" counts
 * wrong, its listing has 34). */
static const uint8_t ATTRS_RSA[] = {
    0x01, 0x00, 0x00, 0x00,                         /* lifetime Persistent */
    0x09, 0x00, 0x00, 0x00,                         /* type RsaKeyPair */
    0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* bits 2048 (u64) */
    0x00, 0x00, 0x00,                               /* export copy cache */
    0x01, 0x01,                                     /* encrypt decrypt */
    0x00, 0x00, 0x00, 0x00, 0x00, /* sign/verify message, sign/verify hash, derive */
    0x06, 0x00, 0x00, 0x00,       /* Algorithm::AsymmetricEncryption */
    0x00, 0x00, 0x00, 0x00,       /* RsaPkcs1v15Crypt */
};

/* bincode(Attributes) of `parsec-tool create-ecc-key` (46 bytes). */
static const uint8_t ATTRS_ECC[] = {
    0x01, 0x00, 0x00, 0x00,                         /* lifetime Persistent */
    0x0a, 0x00, 0x00, 0x00,                         /* type EccKeyPair */
    0x01, 0x00, 0x00, 0x00,                         /*   curve_family SecpR1 */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* bits 256 */
    0x00, 0x00, 0x00, 0x00, 0x00,                   /* export copy cache encrypt decrypt */
    0x01, 0x01, 0x01, 0x01,                         /* sign/verify message, sign/verify hash */
    0x00,                                           /* derive */
    0x05, 0x00, 0x00, 0x00,                         /* Algorithm::AsymmetricSignature */
    0x03, 0x00, 0x00, 0x00,                         /* Ecdsa */
    0x00, 0x00, 0x00, 0x00,                         /* SignHash::Specific */
    0x06, 0x00, 0x00, 0x00,                         /* Hash::Sha256 */
};

/* The TPM mapping's PasswordContext (key-info-manager.md §4.1) of a key that is not ours to
 * touch: an all-zero legacy context, a 2-byte auth value, an RSA public part of 4 bytes and a
 * 3-byte private blob. Its content does not matter; that it stays byte for byte does. */
static const uint8_t TPM_ID[] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0,    0,
    0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0,    0,    /* context */
    2, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB,             /* auth_value */
    0, 0, 0, 0,                                     /* PublicKey::Rsa */
    4, 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xEE, 0x01, /* modulus */
    3, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03,       /* private */
};

/* An on-disk mapping file: u64 LE len(id) || id || attributes. */
static struct buf mapping_file(const uint8_t *id, size_t id_len, const uint8_t *at, size_t at_len)
{
    struct buf b = {e2e_alloc(8 + id_len + at_len), 8 + id_len + at_len};
    for (int i = 0; i < 8; i++)
        b.p[i] = (uint8_t)((uint64_t)id_len >> (8 * i));
    memcpy(b.p + 8, id, id_len);
    memcpy(b.p + 8 + id_len, at, at_len);
    return b;
}

static struct buf psa_id_mapping(uint32_t id, const uint8_t *at, size_t at_len)
{
    uint8_t le[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
    return mapping_file(le, 4, at, at_len);
}

/* ---- files ------------------------------------------------------------------------------ */

static void mkdir_p(const char *path, mode_t mode)
{
    char buf[600];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        assert_true(mkdir(buf, mode) == 0 || errno == EEXIST);
        *s = '/';
    }
    assert_true(mkdir(buf, mode) == 0 || errno == EEXIST);
}

static void write_file(const char *path, struct buf b, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.p, b.n), (ssize_t)b.n);
    assert_int_equal(close(fd), 0);
}

/* The whole file, or n = 0 and p = NULL when it does not exist. */
static struct buf read_file(const char *path)
{
    struct buf b = buf_none();
    FILE *f = fopen(path, "rb");
    if (!f)
        return b;
    b.p = e2e_alloc(4096);
    b.n = fread(b.p, 1, 4096, f);
    assert_true(b.n < 4096);
    fclose(f);
    return b;
}

static const char *path_in(const struct daemon *d, const char *rel)
{
    char *p = e2e_alloc(600);
    snprintf(p, 600, "%s/%s", d->dir, rel);
    return p;
}

static int mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

/* Entries of a folder other than . and .. */
static int entries(const char *path)
{
    DIR *dir = opendir(path);
    assert_non_null(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

/* ---- Mbed TLS, as the original used it -------------------------------------------------- */

struct mbed_key {
    uint32_t id;
    psa_key_type_t type;
    size_t bits;
    psa_key_usage_t usage;
    psa_algorithm_t alg;
};

static const psa_key_usage_t USAGE_ECC = PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH |
                                         PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE;

/* Runs fn in a child process whose working directory is the key store, with Mbed TLS started
 * there (Mbed TLS keeps its key files in the working directory). fn returns 0 on success and
 * may write up to 4 KiB of output to the pipe given; the parent gets it back. */
typedef int (*mbed_fn)(const void *arg, int out_fd);
static struct buf in_mbedtls(const char *keys_dir, mbed_fn fn, const void *arg)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        int rc = chdir(keys_dir) != 0 || psa_crypto_init() != PSA_SUCCESS ? 100 : fn(arg, fds[1]);
        mbedtls_psa_crypto_free();
        _exit(rc);
    }
    close(fds[1]);
    struct buf out = {e2e_alloc(4096), 0};
    ssize_t r;
    while ((r = read(fds[0], out.p + out.n, 4096 - out.n)) > 0)
        out.n += (size_t)r;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    return out;
}

struct import_arg {
    const struct mbed_key *key;
    struct buf data;
};

static int mbed_import(const void *arg, int out_fd)
{
    (void)out_fd;
    const struct import_arg *a = arg;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&at, a->key->id); /* persistent */
    psa_set_key_type(&at, a->key->type);
    psa_set_key_bits(&at, a->key->bits);
    psa_set_key_usage_flags(&at, a->key->usage);
    psa_set_key_algorithm(&at, a->key->alg);
    psa_key_id_t got = 0;
    psa_status_t st = psa_import_key(&at, a->data.p, a->data.n, &got);
    return st == PSA_SUCCESS && got == a->key->id ? 0 : 101;
}

/* Reads a key back with Mbed TLS: its attributes must be `key`'s; writes its public part. */
static int mbed_probe(const void *arg, int out_fd)
{
    const struct mbed_key *k = arg;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (psa_get_key_attributes(k->id, &at) != PSA_SUCCESS)
        return 102;
    if (psa_get_key_type(&at) != k->type || psa_get_key_bits(&at) != k->bits ||
        psa_get_key_usage_flags(&at) != k->usage || psa_get_key_algorithm(&at) != k->alg ||
        psa_get_key_lifetime(&at) != PSA_KEY_LIFETIME_PERSISTENT)
        return 103;
    uint8_t pub[PSA_EXPORT_PUBLIC_KEY_MAX_SIZE];
    size_t n = 0;
    if (psa_export_public_key(k->id, pub, sizeof(pub), &n) != PSA_SUCCESS)
        return 104;
    return write(out_fd, pub, n) == (ssize_t)n ? 0 : 105;
}

static const struct mbed_key KEY_RSA = {2, PSA_KEY_TYPE_RSA_KEY_PAIR, 2048,
                                        PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT,
                                        PSA_ALG_RSA_PKCS1V15_CRYPT};
static const struct mbed_key KEY_ECC = {3, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                                        USAGE_ECC, PSA_ALG_ECDSA(PSA_ALG_SHA_256)};

/* The two key files of the original's key store, written by Mbed TLS. */
static void make_key_store(const struct daemon *d)
{
    const char *keys = path_in(d, "keys");
    mkdir_p(keys, 0700);
    struct import_arg rsa = {&KEY_RSA, der_rsa_private(pem_key(PEM_RSA2048))};
    struct import_arg ecc = {&KEY_ECC, ec_private_scalar(pem_key(PEM_P256), 32)};
    in_mbedtls(keys, mbed_import, &rsa);
    in_mbedtls(keys, mbed_import, &ecc);
    assert_int_equal(access(path_in(d, "keys/0000000000000002.psa_its"), F_OK), 0);
    assert_int_equal(access(path_in(d, "keys/0000000000000003.psa_its"), F_OK), 0);
    assert_int_equal(entries(keys), 2);
}

/* ---- the original's key_mappings::use_and_check, as application parsec-tool ------------ */

static void use_and_check(const struct caller *c, const char *rsa_name, const char *ecc_name,
                          const char *dangling)
{
    EVP_PKEY *rsa = pem_key(PEM_RSA2048), *ecc = pem_key(PEM_P256);
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(c, &lk), 0);
    assert_int_equal(lk->n_keys, 2);
    assert_null(list_find(lk, dangling));
    for (size_t i = 0; i < lk->n_keys; i++) {
        const ListKeys__KeyInfo *k = lk->keys[i];
        const Attrs *at = k->attributes;
        const PsaKeyAttributes__UsageFlags *u = at->key_policy->key_usage_flags;
        const Alg *alg = at->key_policy->key_algorithm;
        struct buf out;
        assert_int_equal(k->provider_id, 1);
        if (strstr(k->name, "rsa")) {
            assert_string_equal(k->name, rsa_name);
            assert_int_equal(at->key_type->variant_case,
                             PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_RSA_KEY_PAIR);
            assert_int_equal(at->key_bits, 2048);
            assert_true(u->encrypt && u->decrypt && !u->export && !u->sign_hash);
            assert_int_equal(alg->variant_case,
                             PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_ENCRYPTION);
            assert_int_equal(
                alg->asymmetric_encryption->variant_case,
                PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_ENCRYPTION__VARIANT_RSA_PKCS1V15_CRYPT);
            /* The round trip of the original test, then both directions with OpenSSL and the
             * key the original imported: the stored key is that key. */
            struct buf pt = buf_str("original key mapping"), ct, back;
            EncAlg *v15 = enc_alg(0);
            assert_int_equal(op_asym_encrypt(c, k->name, v15, pt, buf_none(), &ct), 0);
            assert_int_equal(op_asym_decrypt(c, k->name, v15, ct, buf_none(), &back), 0);
            assert_true(buf_eq(back, pt));
            assert_int_equal(ossl_decrypt(rsa, PAD_PKCS1, NULL, buf_none(), ct, &back), 0);
            assert_true(buf_eq(back, pt));
            ct = ossl_encrypt(rsa, PAD_PKCS1, NULL, buf_none(), pt);
            assert_int_equal(op_asym_decrypt(c, k->name, v15, ct, buf_none(), &back), 0);
            assert_true(buf_eq(back, pt));
            assert_int_equal(op_export_public(c, k->name, &out), 0);
            assert_true(buf_eq(out, der_rsa_public(rsa)));
        } else if (strstr(k->name, "ecc")) {
            assert_string_equal(k->name, ecc_name);
            assert_int_equal(at->key_type->variant_case,
                             PSA_KEY_ATTRIBUTES__KEY_TYPE__VARIANT_ECC_KEY_PAIR);
            assert_int_equal(at->key_type->ecc_key_pair->curve_family, ECC(SECP_R1));
            assert_int_equal(at->key_bits, 256);
            assert_true(u->sign_hash && u->verify_hash && u->sign_message && u->verify_message);
            assert_false(u->export || u->encrypt || u->derive);
            assert_int_equal(alg->variant_case,
                             PSA_ALGORITHM__ALGORITHM__VARIANT_ASYMMETRIC_SIGNATURE);
            assert_int_equal(alg->asymmetric_signature->variant_case,
                             PSA_ALGORITHM__ALGORITHM__ASYMMETRIC_SIGNATURE__VARIANT_ECDSA);
            assert_int_equal(alg->asymmetric_signature->ecdsa->hash_alg->specific, HASH(SHA_256));
            struct buf msg = buf_str("original key mapping"), h = digest(HASH(SHA_256), msg), sig;
            SigAlg *s = sig_alg(SIG_ECDSA, HASH(SHA_256));
            assert_int_equal(op_sign_hash(c, k->name, s, h, &sig), 0);
            assert_int_equal(op_verify_hash(c, k->name, s, h, sig), 0);
            assert_true(ossl_verify(ecc, EVP_sha256(), PAD_NONE, h, sig));
            assert_int_equal(op_sign_message(c, k->name, s, msg, &sig), 0);
            assert_true(ossl_verify(ecc, EVP_sha256(), PAD_NONE, h, sig));
            assert_int_equal(op_export_public(c, k->name, &out), 0);
            assert_true(buf_eq(out, public_octets(ecc)));
        } else {
            fail_msg("unexpected key \"%s\"", k->name);
        }
        /* Keys made by parsec-tool have no export flag. */
        assert_int_equal(op_export(c, k->name, &out), PSC_PSA_NOT_PERMITTED);
    }
    struct buf out;
    assert_int_equal(op_export_public(c, dangling, &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(c, dangling), PSC_PSA_DOES_NOT_EXIST);
}

/* Checks a key the daemon created: Mbed TLS (as the original would) reads its key file with
 * the attributes asked for, and its public part is the one the service exports. Run with the
 * daemon stopped. */
static void mbedtls_reads(const struct daemon *d, const struct mbed_key *k, struct buf pub)
{
    struct buf got = in_mbedtls(path_in(d, "keys"), mbed_probe, k);
    assert_true(buf_eq(got, pub));
}

/* ---- on-disk store ---------------------------------------------------------------------- */

#define APP_DIR "mappings/cGFyc2VjLXRvb2w=" /* B64("parsec-tool") */

static void ondisk_store(void **state)
{
    (void)state;
    daemon_prepare(&D, CONFIG_ONDISK);
    make_key_store(&D);
    mkdir_p(path_in(&D, APP_DIR "/1"), 0700);
    mkdir_p(path_in(&D, APP_DIR "/3"), 0700);
    struct buf rsa_map = psa_id_mapping(2, ATTRS_RSA, sizeof(ATTRS_RSA));
    struct buf ecc_map = psa_id_mapping(3, ATTRS_ECC, sizeof(ATTRS_ECC));
    struct buf toto_map = psa_id_mapping(4, ATTRS_RSA, sizeof(ATTRS_RSA));
    struct buf tpm_map = mapping_file(TPM_ID, sizeof(TPM_ID), ATTRS_RSA, sizeof(ATTRS_RSA));
    /* The committed fake mapping of the original's e2e tests, 46 bytes (§6.2). */
    assert_int_equal(toto_map.n, 46);
    write_file(path_in(&D, APP_DIR "/1/cnNh"), rsa_map, 0600);      /* rsa */
    write_file(path_in(&D, APP_DIR "/1/ZWNj"), ecc_map, 0600);      /* ecc */
    write_file(path_in(&D, APP_DIR "/1/dG90bw=="), toto_map, 0600); /* toto */
    write_file(path_in(&D, APP_DIR "/3/cnNh"), tpm_map, 0600);      /* rsa on the TPM */
    assert_int_equal(daemon_launch(&D, NULL), 0);

    struct caller tool = {.sock = D.sock, .app = "parsec-tool"};
    use_and_check(&tool, "rsa", "ecc", "toto");
    /* The dangling mapping was removed at start-up; nothing else changed. */
    assert_int_equal(access(path_in(&D, APP_DIR "/1/dG90bw=="), F_OK), -1);
    assert_true(buf_eq(read_file(path_in(&D, APP_DIR "/1/cnNh")), rsa_map));
    assert_true(buf_eq(read_file(path_in(&D, APP_DIR "/1/ZWNj")), ecc_map));
    assert_true(buf_eq(read_file(path_in(&D, APP_DIR "/3/cnNh")), tpm_map));
    /* Another application sees nothing of parsec-tool's. */
    struct caller other = {.sock = D.sock, .app = "someone-else"};
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&other, &lk), 0);
    assert_int_equal(lk->n_keys, 0);

    /* The reverse direction: keys created now are stored as the original stores them. The
     * next id is the highest id in a live mapping plus one: 4, then 5. */
    Attrs *ecc_at = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256,
                          U_SIGN_HASH | U_VERIFY_HASH | U_SIGN_MESSAGE | U_VERIFY_MESSAGE,
                          alg_sig(SIG_ECDSA, HASH(SHA_256)));
    Attrs *rsa_at = attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT, alg_enc(0));
    assert_int_equal(op_generate(&tool, "new-ecc", ecc_at), 0);
    assert_int_equal(op_import(&tool, "new-rsa", rsa_at, der_rsa_private(pem_key(PEM_RSA2048))), 0);
    struct buf ecc_pub, rsa_pub;
    assert_int_equal(op_export_public(&tool, "new-ecc", &ecc_pub), 0);
    assert_int_equal(op_export_public(&tool, "new-rsa", &rsa_pub), 0);
    const char *new_ecc = path_in(&D, APP_DIR "/1/bmV3LWVjYw=="); /* B64("new-ecc") */
    const char *new_rsa = path_in(&D, APP_DIR "/1/bmV3LXJzYQ=="); /* B64("new-rsa") */
    assert_true(buf_eq(read_file(new_ecc), psa_id_mapping(4, ATTRS_ECC, sizeof(ATTRS_ECC))));
    assert_true(buf_eq(read_file(new_rsa), psa_id_mapping(5, ATTRS_RSA, sizeof(ATTRS_RSA))));
    assert_int_equal(mode_of(new_ecc), 0600);
    assert_int_equal(mode_of(path_in(&D, APP_DIR "/1")), 0700);
    assert_int_equal(mode_of(path_in(&D, APP_DIR)), 0700);
    assert_int_equal(mode_of(path_in(&D, "mappings")), 0700);
    /* Nothing but the mappings in the folder (no temporary file left). */
    assert_int_equal(entries(path_in(&D, APP_DIR "/1")), 4);
    assert_int_equal(entries(path_in(&D, "keys")), 4);

    /* Stopped, then read by Mbed TLS the way the original would read them. */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    struct mbed_key k4 = KEY_ECC, k5 = KEY_RSA;
    k4.id = 4;
    k5.id = 5;
    mbedtls_reads(&D, &k4, ecc_pub);
    mbedtls_reads(&D, &k5, rsa_pub);
    mbedtls_reads(&D, &KEY_RSA, der_rsa_public(pem_key(PEM_RSA2048)));

    /* A restart reads the same state back; the dangling mapping stays gone. */
    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_int_equal(op_list_keys(&tool, &lk), 0);
    assert_int_equal(lk->n_keys, 4);
    assert_int_equal(op_destroy(&tool, "new-ecc"), 0);
    assert_int_equal(op_destroy(&tool, "new-rsa"), 0);
    assert_int_equal(access(new_ecc, F_OK), -1);
    use_and_check(&tool, "rsa", "ecc", "toto");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

/* ---- SQLite store ----------------------------------------------------------------------- */

/* The original's schema (key-info-manager.md §7.1), written here from the spec. */
static const char ORIGINAL_DDL[] =
    "CREATE TABLE IF NOT EXISTS kim_metadata (id TEXT NOT NULL, int_value INTEGER NOT NULL, "
    "PRIMARY KEY (id));"
    "INSERT INTO kim_metadata (id, int_value) VALUES ('schema_version', 1);"
    "CREATE TABLE IF NOT EXISTS key_mapping (authenticator_id INTEGER NOT NULL, "
    "application_name TEXT NOT NULL, key_name TEXT NOT NULL, provider_uuid TEXT NOT NULL, "
    "provider_name TEXT NOT NULL, key_id BLOB NOT NULL, key_id_version INTEGER NOT NULL, "
    "key_attributes BLOB NOT NULL, key_attributes_version INTEGER NOT NULL, PRIMARY KEY "
    "(authenticator_id, application_name, key_name));";

static sqlite3 *db_open(const struct daemon *d, int flags)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path_in(d, "kim/mappings.sqlite3"), &db, flags, NULL),
                     SQLITE_OK);
    return db;
}

static void db_row(sqlite3 *db, int auth, const char *app, const char *key, const char *uuid,
                   const char *provider, struct buf id, const uint8_t *at, size_t at_len)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "REPLACE INTO key_mapping (authenticator_id, "
                                        "application_name, key_name, provider_uuid, "
                                        "provider_name, key_id, key_id_version, key_attributes, "
                                        "key_attributes_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                        "1, ?7, 1)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(q, 1, auth);
    sqlite3_bind_text(q, 2, app, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, provider, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, id.p, (int)id.n, SQLITE_STATIC);
    sqlite3_bind_blob(q, 7, at, (int)at_len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
}

/* One row, every column rendered as text (blobs in hex, with their storage class), or NULL. */
static const char *db_get(const struct daemon *d, const char *key)
{
    sqlite3 *db = db_open(d, SQLITE_OPEN_READONLY);
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT typeof(authenticator_id) || ':' || authenticator_id || '|' || "
                           "typeof(application_name) || ':' || application_name || '|' || "
                           "provider_uuid || '|' || provider_name || '|' || typeof(key_id) || ':' "
                           "|| hex(key_id) || '|' || typeof(key_id_version) || ':' || "
                           "key_id_version || '|' || typeof(key_attributes) || ':' || "
                           "hex(key_attributes) || '|' || key_attributes_version FROM key_mapping "
                           "WHERE key_name = ?1",
                           -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    const char *row = NULL;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        char *copy = e2e_alloc(strlen(t) + 1);
        memcpy(copy, t, strlen(t));
        row = copy;
        assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return row;
}

static const char *hexs(const uint8_t *p, size_t n)
{
    char *s = e2e_alloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02X", p[i]);
    return s;
}

/* The row the original writes for a Mbed Crypto key of parsec-tool. */
static const char *expected_row(uint32_t id, const uint8_t *at, size_t at_len)
{
    uint8_t le[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
    char *s = e2e_alloc(512);
    snprintf(s, 512,
             "integer:1|text:parsec-tool|" MBED_UUID "|mbed-crypto-provider|blob:%s|integer:1|"
             "blob:%s|1",
             hexs(le, 4), hexs(at, at_len));
    return s;
}

static const char *schema(const struct daemon *d)
{
    sqlite3 *db = db_open(d, SQLITE_OPEN_READONLY);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(type || ' ' || name || ' ' || "
                                        "ifnull(sql, ''), ';') FROM (SELECT * FROM sqlite_master "
                                        "ORDER BY name)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(q, 0);
    char *copy = e2e_alloc(strlen(t) + 1);
    memcpy(copy, t, strlen(t));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return copy;
}

static void sqlite_store(void **state)
{
    (void)state;
    daemon_prepare(&D, E2E_CONFIG_DIRECT);
    make_key_store(&D);
    mkdir_p(path_in(&D, "kim"), 0700);
    sqlite3 *db = db_open(&D, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    assert_int_equal(sqlite3_exec(db, ORIGINAL_DDL, NULL, NULL, NULL), SQLITE_OK);
    static const uint8_t id2[] = {2, 0, 0, 0}, id3[] = {3, 0, 0, 0}, id4[] = {4, 0, 0, 0};
    db_row(db, 1, "parsec-tool", "rsa-mbed", MBED_UUID, "mbed-crypto-provider", buf_copy(id2, 4),
           ATTRS_RSA, sizeof(ATTRS_RSA));
    db_row(db, 1, "parsec-tool", "ecc-mbed", MBED_UUID, "mbed-crypto-provider", buf_copy(id3, 4),
           ATTRS_ECC, sizeof(ATTRS_ECC));
    db_row(db, 1, "parsec-tool", "toto-mbed", MBED_UUID, "mbed-crypto-provider", buf_copy(id4, 4),
           ATTRS_RSA, sizeof(ATTRS_RSA));
    db_row(db, 1, "parsec-tool", "rsa-tpm", TPM_UUID, "tpm-provider",
           buf_copy(TPM_ID, sizeof(TPM_ID)), ATTRS_RSA, sizeof(ATTRS_RSA));
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    const char *schema_before = schema(&D), *tpm_before = db_get(&D, "rsa-tpm");
    assert_non_null(tpm_before);
    assert_string_equal(db_get(&D, "rsa-mbed"), expected_row(2, ATTRS_RSA, sizeof(ATTRS_RSA)));
    assert_int_equal(daemon_launch(&D, NULL), 0);

    struct caller tool = {.sock = D.sock, .app = "parsec-tool"};
    use_and_check(&tool, "rsa-mbed", "ecc-mbed", "toto-mbed");
    /* The dangling row was deleted at start-up; the others are as they were. */
    assert_null(db_get(&D, "toto-mbed"));
    assert_string_equal(db_get(&D, "rsa-mbed"), expected_row(2, ATTRS_RSA, sizeof(ATTRS_RSA)));
    assert_string_equal(db_get(&D, "ecc-mbed"), expected_row(3, ATTRS_ECC, sizeof(ATTRS_ECC)));
    assert_string_equal(db_get(&D, "rsa-tpm"), tpm_before);
    /* The TPM row still reserves its name for parsec-tool (key-info-manager.md §7.3). */
    Attrs *rsa_at = attrs(key_type(KT_RSA_PAIR, 0), 2048, U_ENCRYPT | U_DECRYPT, alg_enc(0));
    struct buf rsa_der = der_rsa_private(pem_key(PEM_RSA2048));
    assert_int_equal(op_import(&tool, "rsa-tpm", rsa_at, rsa_der), PSC_PSA_ALREADY_EXISTS);

    /* The reverse direction: rows for new keys are the original's rows. */
    Attrs *ecc_at = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256,
                          U_SIGN_HASH | U_VERIFY_HASH | U_SIGN_MESSAGE | U_VERIFY_MESSAGE,
                          alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_generate(&tool, "new-ecc-mbed", ecc_at), 0);
    assert_int_equal(op_import(&tool, "new-rsa-mbed", rsa_at, rsa_der), 0);
    struct buf ecc_pub, rsa_pub;
    assert_int_equal(op_export_public(&tool, "new-ecc-mbed", &ecc_pub), 0);
    assert_int_equal(op_export_public(&tool, "new-rsa-mbed", &rsa_pub), 0);
    assert_string_equal(db_get(&D, "new-ecc-mbed"), expected_row(4, ATTRS_ECC, sizeof(ATTRS_ECC)));
    assert_string_equal(db_get(&D, "new-rsa-mbed"), expected_row(5, ATTRS_RSA, sizeof(ATTRS_RSA)));
    /* The schema is the original's, untouched. */
    assert_string_equal(schema(&D), schema_before);
    assert_int_equal(mode_of(path_in(&D, "kim/mappings.sqlite3")) & 077, 0);

    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    struct mbed_key k4 = KEY_ECC, k5 = KEY_RSA;
    k4.id = 4;
    k5.id = 5;
    mbedtls_reads(&D, &k4, ecc_pub);
    mbedtls_reads(&D, &k5, rsa_pub);

    /* A restart reads the same state back. */
    assert_int_equal(daemon_launch(&D, NULL), 0);
    ListKeys__Result *lk;
    assert_int_equal(op_list_keys(&tool, &lk), 0);
    assert_int_equal(lk->n_keys, 4);
    assert_non_null(list_find(lk, "new-ecc-mbed"));
    assert_null(list_find(lk, "rsa-tpm"));
    assert_int_equal(op_destroy(&tool, "new-ecc-mbed"), 0);
    assert_int_equal(op_destroy(&tool, "new-rsa-mbed"), 0);
    assert_null(db_get(&D, "new-ecc-mbed"));
    use_and_check(&tool, "rsa-mbed", "ecc-mbed", "toto-mbed");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    daemon_cleanup(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(ondisk_store, test_teardown),
        cmocka_unit_test_teardown(sqlite_store, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
