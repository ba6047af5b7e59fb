/* Take-over of what the original service left: an on-disk mapping folder and a token, both
 * written here from the byte layouts of key-info-manager.md (not copied from the original):
 *   - an RSA-1024 signing key made on the token as the original makes it (both halves with
 *     CKA_ID = the id big-endian, its templates), mapped as `rsa` of `parsec-tool` with the id
 *     little-endian;
 *   - the original's dangling fixture `cGFyc2VjLXRvb2w=/2/dG90bw==` (`toto`, id 0x76ba1d77,
 *     no object on the token), which the start-up coherency pass must remove.
 * The key then signs through the service, verified by OpenSSL with the modulus read from the
 * token directly. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#define E2E_PROVIDER PSC_PROVIDER_PKCS11
#include "e2e_psa.h"
#include "p11_env.h"

static struct p11_token T;
static struct daemon D;

static int test_end(void **state)
{
    daemon_cleanup(&D);
    p11_token_cleanup(&T);
    return e2e_arena_free(state);
}

static void write_file(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
}

static void mkdir_p(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p -m 700 '%s'", path);
    assert_int_equal(system(cmd), 0);
}

/* KeyInfo = u64 len(id) || id (u32 LE) || bincode(Attributes) (key-info-manager.md §3, §6.1). */
static size_t key_info(uint32_t id, const uint8_t *attrs, size_t attrs_len, uint8_t *out)
{
    static const uint8_t len[8] = {4};
    memcpy(out, len, 8);
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t)(id >> (8 * i));
    memcpy(out + 12, attrs, attrs_len);
    return 12 + attrs_len;
}

static void test_takeover(void **state)
{
    (void)state;
    p11_token_dir(&T);
    p11_token_init(P11_LABEL, P11_PIN);

    /* The key, made as the original makes it. */
    const uint32_t id = 0x3c5a7e91;
    uint8_t be[4] = {0x3c, 0x5a, 0x7e, 0x91};
    struct p11_direct d;
    p11_direct_open(&d, P11_LABEL, P11_PIN);
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_OBJECT_CLASS pub_c = CKO_PUBLIC_KEY, priv_c = CKO_PRIVATE_KEY;
    CK_ULONG bits = 1024;
    CK_BYTE f4[] = {1, 0, 1};
    CK_MECHANISM_TYPE allowed = CKM_RSA_PKCS;
    CK_ATTRIBUTE pub[] = {
        {CKA_CLASS, &pub_c, sizeof(pub_c)},
        {CKA_TOKEN, &yes, 1},
        {CKA_PRIVATE, &no, 1},
        {CKA_VERIFY, &yes, 1},
        {CKA_ENCRYPT, &no, 1},
        {CKA_ID, be, 4},
        {CKA_MODULUS_BITS, &bits, sizeof(bits)},
        {CKA_PUBLIC_EXPONENT, f4, 3},
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_CLASS, &priv_c, sizeof(priv_c)},
        {CKA_TOKEN, &yes, 1},
        {CKA_SIGN, &yes, 1},
        {CKA_DECRYPT, &no, 1},
        {CKA_DERIVE, &no, 1},
        {CKA_EXTRACTABLE, &no, 1},
        {CKA_SENSITIVE, &yes, 1},
        {CKA_ID, be, 4},
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
    };
    CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hp, hk;
    assert_int_equal(d.f->C_GenerateKeyPair(d.s, &gen, pub, 9, priv, 9, &hp, &hk), CKR_OK);
    uint8_t modulus[128];
    CK_ATTRIBUTE ma = {CKA_MODULUS, modulus, sizeof(modulus)};
    assert_int_equal(d.f->C_GetAttributeValue(d.s, hp, &ma, 1), CKR_OK);
    assert_int_equal(ma.ulValueLen, 128);
    p11_direct_close(&d);

    /* The mapping folder. */
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), "%s", p11_config(NULL, NULL));
    char *kim = strstr(cfg, "manager_type = \"SQLite\"");
    assert_non_null(kim);
    char *end = strstr(kim, "[[provider]]");
    char fixed[4096];
    snprintf(fixed, sizeof(fixed),
             "%.*smanager_type = \"OnDisk\"\nstore_path = \"@DIR@/mappings\"\n%s", (int)(kim - cfg),
             cfg, end);
    daemon_prepare(&D, fixed);
    char app_dir[400];
    snprintf(app_dir, sizeof(app_dir), "%s/mappings/cGFyc2VjLXRvb2w=/2", D.dir);
    mkdir_p(app_dir);
    /* RsaKeyPair 1024, sign_hash + verify_hash, RsaPkcs1v15Sign(Specific(Sha256)). */
    static const uint8_t rsa_attrs[] = {
        0x01, 0,    0, 0,                   /* Persistent */
        0x09, 0,    0, 0,                   /* RsaKeyPair */
        0x00, 0x04, 0, 0, 0, 0, 0, 0,       /* 1024 bits */
        0,    0,    0, 0, 0, 0, 0, 1, 1, 0, /* usage: sign_hash, verify_hash */
        0x05, 0,    0, 0,                   /* AsymmetricSignature */
        0x00, 0,    0, 0,                   /* RsaPkcs1v15Sign */
        0x00, 0,    0, 0,                   /* SignHash::Specific */
        0x06, 0,    0, 0,                   /* Sha256 */
    };
    uint8_t file[64];
    size_t n = key_info(id, rsa_attrs, sizeof(rsa_attrs), file);
    assert_int_equal(n, 54);
    write_file(app_dir, "cnNh", file, n);
    /* The original's dangling fixture: RsaKeyPair 2048, encrypt + decrypt, PKCS#1 v1.5. */
    static const uint8_t toto[46] = {
        0x04, 0,    0,    0,    0,    0, 0, 0,       /* len(id) */
        0x77, 0x1d, 0xba, 0x76,                      /* id 0x76ba1d77 */
        0x01, 0,    0,    0,    0x09, 0, 0, 0,       /* Persistent, RsaKeyPair */
        0x00, 0x08, 0,    0,    0,    0, 0, 0,       /* 2048 bits */
        0,    0,    0,    1,    1,    0, 0, 0, 0, 0, /* usage: encrypt, decrypt */
        0x06, 0,    0,    0,    0x00, 0, 0, 0,       /* AsymmetricEncryption::RsaPkcs1v15Crypt */
    };
    write_file(app_dir, "dG90bw==", toto, sizeof(toto));

    assert_int_equal(daemon_launch(&D, NULL), 0);
    assert_true(daemon_log_contains(&D, "its mapping is removed"));
    char gone[600];
    snprintf(gone, sizeof(gone), "%s/dG90bw==", app_dir);
    assert_int_not_equal(access(gone, F_OK), 0);

    struct caller c = {.sock = D.sock, .app = "parsec-tool"};
    ListKeys__Result *r;
    assert_int_equal(op_list_keys(&c, &r), 0);
    assert_int_equal(r->n_keys, 1);
    assert_string_equal(r->keys[0]->name, "rsa");
    assert_int_equal(r->keys[0]->attributes->key_bits, 1024);

    struct buf der, sig;
    assert_int_equal(op_export_public(&c, "rsa", &der), 0);
    EVP_PKEY *k = pkey_rsa_public(der);
    assert_non_null(k);
    BIGNUM *nbn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &nbn), 1);
    uint8_t nb[128];
    assert_int_equal(BN_bn2binpad(nbn, nb, sizeof(nb)), 128);
    BN_free(nbn);
    assert_memory_equal(nb, modulus, 128);
    struct buf h = digest(HASH(SHA_256), buf_str("signed by a key of the original"));
    assert_int_equal(op_sign_hash(&c, "rsa", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, &sig), 0);
    assert_true(ossl_verify(k, EVP_sha256(), PAD_PKCS1, h, sig));
    assert_int_equal(op_verify_hash(&c, "rsa", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig), 0);
    /* The name the dangling mapping held is free. */
    assert_int_equal(op_generate(&c, "toto",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

int main(void)
{
    if (p11_missing()) {
        fprintf(stderr, "SoftHSM2 is not installed: skipped\n");
        return P11_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_takeover, test_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
