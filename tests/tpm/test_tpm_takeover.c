/* Take-over: keys the original service made on this TPM load and work here.
 *
 * The original is not run here: tpm2-tools, an independent TSS implementation, plays its part.
 * It creates the storage primary key from the original's template (providers.md §4) and keys
 * under it with the original's per-key templates; the test writes their blobs and the root
 * key's name into an on-disk mapping store, byte for byte in the original's format
 * (key-info-manager.md §4.1, §6), with its own encoder. The service must accept the root key
 * (same name) and sign with the keys. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>

#include "tpm_test.h"

static struct swtpm S;
static struct daemon D;

/* 32-byte auth values, as the original draws them. */
#define ROOT_AUTH "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define KEY_AUTH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char CONFIG_ONDISK_TAIL[] = "[[key_manager]]\n"
                                         "name = \"on-disk-manager\"\n"
                                         "manager_type = \"OnDisk\"\n"
                                         "store_path = \"@DIR@/mappings\"\n";

static void tool(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(swtpm_tool(&S, cmd), 0);
    /* No resource manager: what a tool leaves loaded would fill the TPM. */
    assert_int_equal(swtpm_tool(&S, "tpm2_flushcontext -t"), 0);
}

static struct buf slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", S.dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct buf b = {e2e_alloc(4096), 0};
    b.n = fread(b.p, 1, 4096, f);
    fclose(f);
    return b;
}

/* ---- the original's bincode, written independently of the service's encoder -------------- */

struct out {
    uint8_t p[4096];
    size_t n;
};

static void put_le(struct out *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        o->p[o->n++] = (uint8_t)(v >> (8 * i));
}

static void put_vec(struct out *o, const uint8_t *p, size_t n)
{
    put_le(o, n, 8);
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void put_hex(struct out *o, const char *hex)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        o->p[o->n++] = (uint8_t)v;
    }
}

/* KeyInfo file: u64 length of id, id, Attributes. */
static void write_mapping(const char *rel, const struct out *id, const char *attrs_hex)
{
    struct out f = {.n = 0};
    put_vec(&f, id->p, id->n);
    put_hex(&f, attrs_hex);
    char path[512];
    snprintf(path, sizeof(path), "%s/mappings/%s", D.dir, rel);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f.p, 1, f.n, fp), f.n);
    assert_int_equal(fclose(fp), 0);
}

/* PasswordContext { TpmsContext (24 zero bytes), auth_value, KeyMaterial { public, private } }
 * from the public and private files tpm2_create wrote. */
static void password_context(const char *pub_file, const char *priv_file, struct out *o)
{
    struct buf pub = slurp(pub_file), priv = slurp(priv_file);
    TPM2B_PUBLIC tp = {0};
    TPM2B_PRIVATE tv = {0};
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.p, pub.n, NULL, &tp), 0);
    assert_int_equal(Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv.p, priv.n, NULL, &tv), 0);
    o->n = 24;
    memset(o->p, 0, 24);
    struct out auth = {.n = 0};
    put_hex(&auth, KEY_AUTH);
    put_vec(o, auth.p, auth.n);
    if (tp.publicArea.type == TPM2_ALG_ECC) {
        put_le(o, 1, 4);
        put_vec(o, tp.publicArea.unique.ecc.x.buffer, tp.publicArea.unique.ecc.x.size);
        put_vec(o, tp.publicArea.unique.ecc.y.buffer, tp.publicArea.unique.ecc.y.size);
    } else {
        put_le(o, 0, 4);
        put_vec(o, tp.publicArea.unique.rsa.buffer, tp.publicArea.unique.rsa.size);
    }
    put_vec(o, tv.buffer, tv.size);
}

static int setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    return 0;
}

static int teardown(void **state)
{
    if (D.dir[0])
        daemon_cleanup(&D);
    memset(&D, 0, sizeof(D));
    swtpm_cleanup(&S);
    return e2e_arena_free(state);
}

static void keys_of_the_original(void **state)
{
    (void)state;
    /* The root key: RSA-2048 restricted decryption key, AES-256-CFB, owner hierarchy. */
    tool("tpm2_createprimary -C o -g sha256 -G rsa2048:null:aes256cfb -a "
         "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt|restricted' "
         "-p hex:" ROOT_AUTH " -c %s/root.ctx",
         S.dir);
    tool("tpm2_readpublic -c %s/root.ctx -n %s/root.name", S.dir, S.dir);
    tool("tpm2_create -C %s/root.ctx -P hex:" ROOT_AUTH " -g sha256 -G ecc256:ecdsa-sha256 -a "
         "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' -p hex:" KEY_AUTH
         " -u %s/ecc.pub -r %s/ecc.priv",
         S.dir, S.dir, S.dir);
    tool("tpm2_create -C %s/root.ctx -P hex:" ROOT_AUTH " -g sha256 -G rsa2048:rsassa-sha256 -a "
         "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' -p hex:" KEY_AUTH
         " -u %s/rsa.pub -r %s/rsa.priv",
         S.dir, S.dir, S.dir);

    daemon_prepare(&D, tpm_config(&S, "", NULL, CONFIG_ONDISK_TAIL));
    /* The provider uses the on-disk store. */
    {
        const char *c = tpm_config(&S, "", NULL, CONFIG_ONDISK_TAIL);
        const char *from = "key_info_manager = \"sqlite-manager\"";
        const char *at = strstr(c, from);
        assert_non_null(at);
        size_t n = strlen(c) + 16;
        char *fixed = e2e_alloc(n);
        snprintf(fixed, n, "%.*skey_info_manager = \"on-disk-manager\"%s", (int)(at - c), c,
                 at + strlen(from));
        daemon_write_config(&D, fixed);
    }
    static const char *const dirs[] = {"mappings", "mappings/parsec",
                                       "mappings/cGFyc2VjLXRvb2w=", "mappings/cGFyc2VjLXRvb2w=/3"};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", D.dir, dirs[i]);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    /* parsec/B64("tpm" ++ "RootKeyTPM"): the root key's name as a Vec<u8>; attributes
     * {Persistent, RsaPublicKey, 2048, no usage, Algorithm::None}. */
    struct buf name = slurp("root.name");
    assert_int_equal(name.n, 34);
    struct out id = {.n = 0};
    put_vec(&id, name.p, name.n);
    write_mapping("parsec/dHBtUm9vdEtleVRQTQ==", &id,
                  "01000000"
                  "08000000"
                  "0008000000000000"
                  "00000000000000000000"
                  "00000000");
    /* parsec-tool's "old-ecc": EccKeyPair SecpR1 256, sign_hash + verify_hash, Ecdsa(Sha256). */
    password_context("ecc.pub", "ecc.priv", &id);
    write_mapping("cGFyc2VjLXRvb2w=/3/b2xkLWVjYw==", &id,
                  "01000000"
                  "0a000000"
                  "01000000"
                  "0001000000000000"
                  "00000000000000010100"
                  "05000000"
                  "03000000"
                  "00000000"
                  "06000000");
    /* "old-rsa": RsaKeyPair 2048, RsaPkcs1v15Sign(Sha256). */
    password_context("rsa.pub", "rsa.priv", &id);
    write_mapping("cGFyc2VjLXRvb2w=/3/b2xkLXJzYQ==", &id,
                  "01000000"
                  "09000000"
                  "0008000000000000"
                  "00000000000000010100"
                  "05000000"
                  "00000000"
                  "00000000"
                  "06000000");

    int launched = daemon_launch(&D, NULL);
    if (launched != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", D.log);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(launched, 0);
    struct caller c = tpm_caller(&D, "parsec-tool");
    ListKeys__Result *lk = NULL;
    assert_int_equal(op_list_keys(&c, &lk), 0);
    assert_int_equal(lk->n_keys, 2);
    sign_checked(&c, "old-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    sign_checked(&c, "old-rsa", SIG_PKCS1, HASH(SHA_256), NULL);
    /* New keys live beside them, in the same format. */
    assert_int_equal(op_generate(&c, "new-ecc", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    assert_int_equal(daemon_launch(&D, NULL), 0);
    sign_checked(&c, "old-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    sign_checked(&c, "new-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
}

int main(void)
{
    if (!swtpm_available() || system("command -v tpm2_createprimary >/dev/null 2>&1") != 0) {
        fprintf(stderr, "swtpm or tpm2-tools is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keys_of_the_original, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
