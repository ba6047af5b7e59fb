/* Take-over: keys the original service made on this TPM load and work here.
 *
 * The original is not run here: tpm2-tools, an independent TSS implementation, plays its part.
 * It creates the storage primary key from the original's template (providers.md §4) and keys
 * under it with the original's per-key templates; the test writes their blobs and the root
 * key's name into an on-disk mapping store, byte for byte in the original's format
 * (key-info-manager.md §4.1, §6), with its own encoder. The service must accept the root key
 * (same name) and sign with the keys. The original's first versions stored a key as a context
 * saved from the TPM (key-info-manager.md §4.2): tpm2_load saves one in the same form, and the
 * service must migrate it. */
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
    tpm_tool(&S, "%s", cmd);
    /* No resource manager: what a tool leaves loaded would fill the TPM. */
    tpm_tool(&S, "tpm2_flushcontext -t");
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
    struct buf pub = tpm_file(&S, pub_file), priv = tpm_file(&S, priv_file);
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

/* ECDSA-SHA256 EccKeyPair SecpR1 256 and RsaPkcs1v15Sign(Sha256) RsaKeyPair 2048, both with
 * sign_hash + verify_hash, as parsec-tool makes them. */
#define ECC_ATTRS                                                                                  \
    "01000000"                                                                                     \
    "0a000000"                                                                                     \
    "01000000"                                                                                     \
    "0001000000000000"                                                                             \
    "00000000000000010100"                                                                         \
    "05000000"                                                                                     \
    "03000000"                                                                                     \
    "00000000"                                                                                     \
    "06000000"
/* EccPublicKey SecpR1 256, verify_hash, Ecdsa(Sha256). */
#define ECC_PUB_ATTRS                                                                              \
    "01000000"                                                                                     \
    "0b000000"                                                                                     \
    "01000000"                                                                                     \
    "0001000000000000"                                                                             \
    "00000000000000000100"                                                                         \
    "05000000"                                                                                     \
    "03000000"                                                                                     \
    "00000000"                                                                                     \
    "06000000"
#define RSA_ATTRS                                                                                  \
    "01000000"                                                                                     \
    "09000000"                                                                                     \
    "0008000000000000"                                                                             \
    "00000000000000010100"                                                                         \
    "05000000"                                                                                     \
    "00000000"                                                                                     \
    "00000000"                                                                                     \
    "06000000"

/* What the original leaves behind: its root key made in the TPM, an ECC and an RSA signing key
 * made under it (key files ecc.pub/priv, rsa.pub/priv in S.dir), and an on-disk mapping store
 * holding the root key's name, with a configuration that uses it. */
static void original_store(void)
{
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
    struct buf name = tpm_file(&S, "root.name");
    assert_int_equal(name.n, 34);
    struct out id = {.n = 0};
    put_vec(&id, name.p, name.n);
    write_mapping("parsec/dHBtUm9vdEtleVRQTQ==", &id,
                  "01000000"
                  "08000000"
                  "0008000000000000"
                  "00000000000000000000"
                  "00000000");
}

static void launch(void)
{
    int launched = daemon_launch(&D, NULL);
    if (launched != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", D.log);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(launched, 0);
}

static void keys_of_the_original(void **state)
{
    (void)state;
    original_store();
    struct out id = {.n = 0};
    /* parsec-tool's "old-ecc" and "old-rsa". */
    password_context("ecc.pub", "ecc.priv", &id);
    write_mapping("cGFyc2VjLXRvb2w=/3/b2xkLWVjYw==", &id, ECC_ATTRS);
    password_context("rsa.pub", "rsa.priv", &id);
    write_mapping("cGFyc2VjLXRvb2w=/3/b2xkLXJzYQ==", &id, RSA_ATTRS);

    launch();
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

/* ---- keys of the original's first versions: saved contexts -------------------------------- */

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* LegacyPasswordContext { TpmsContext { sequence, saved_handle, hierarchy, context_blob },
 * auth_value } (key-info-manager.md §4.2) from a context file tpm2_load saved. tpm2-tools 5
 * writes, all big-endian: magic 0xBADCC0DE, version 1, hierarchy (u32), saved handle (u32),
 * sequence (u64), then the context blob of Esys_ContextSave as a TPM2B (u16 size), which is
 * what tss-esapi's TpmsContext holds too. blob_len: how much of the context blob to keep (its
 * length in the Vec says so), SIZE_MAX for all of it; flip: offset of a byte in the blob to
 * damage, or SIZE_MAX; auth_hex: the auth value. */
static void legacy_context(const char *ctx_file, size_t blob_len, size_t flip, const char *auth_hex,
                           struct out *o)
{
    struct buf f = tpm_file(&S, ctx_file);
    assert_true(f.n >= 26);
    assert_int_equal(get_be(f.p, 4), 0xBADCC0DE);
    assert_int_equal(get_be(f.p + 4, 4), 1);
    size_t n = (size_t)get_be(f.p + 24, 2);
    assert_int_equal(f.n, 26 + n);
    /* ESAPI's form: a reserved u32, then the TPM's blob as a TPM2B_CONTEXT_DATA. */
    assert_int_equal(get_be(f.p + 26, 4), 0);
    uint8_t *blob = f.p + 26;
    if (flip != SIZE_MAX)
        blob[flip] ^= 0x5a;
    o->n = 0;
    put_le(o, get_be(f.p + 16, 8), 8); /* sequence */
    put_le(o, get_be(f.p + 12, 4), 4); /* saved_handle */
    put_le(o, get_be(f.p + 8, 4), 4);  /* hierarchy */
    put_vec(o, blob, blob_len < n ? blob_len : n);
    struct out auth = {.n = 0};
    put_hex(&auth, auth_hex);
    put_vec(o, auth.p, auth.n);
}

#define TOOL_DIR "cGFyc2VjLXRvb2w=/3/"

static struct buf mapping_file(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/mappings/" TOOL_DIR "%s", D.dir, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct buf b = {e2e_alloc(8192), 0};
    b.n = fread(b.p, 1, 8192, f);
    fclose(f);
    return b;
}

static int same(struct buf a, struct buf b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* A mapping file holds a current PasswordContext of the key tpm2_create wrote to pub_file, the
 * auth value auth_hex, a private part if has_private, and the attributes attrs_hex. */
static void expect_current(const char *rel, const char *pub_file, const char *auth_hex,
                           int has_private, const char *attrs_hex)
{
    struct buf m = mapping_file(rel), pub = tpm_file(&S, pub_file);
    TPM2B_PUBLIC tp = {0};
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.p, pub.n, NULL, &tp), 0);
    struct out want = {.n = 0};
    memset(want.p, 0, 24);
    want.n = 24;
    struct out auth = {.n = 0};
    put_hex(&auth, auth_hex);
    put_vec(&want, auth.p, auth.n);
    if (tp.publicArea.type == TPM2_ALG_ECC) {
        put_le(&want, 1, 4);
        put_vec(&want, tp.publicArea.unique.ecc.x.buffer, tp.publicArea.unique.ecc.x.size);
        put_vec(&want, tp.publicArea.unique.ecc.y.buffer, tp.publicArea.unique.ecc.y.size);
    } else {
        put_le(&want, 0, 4);
        put_vec(&want, tp.publicArea.unique.rsa.buffer, tp.publicArea.unique.rsa.size);
    }
    assert_true(m.n > 8);
    size_t id_len = (size_t)get_le(m.p, 8);
    assert_true(id_len <= m.n - 8 && id_len >= want.n + 8);
    assert_memory_equal(m.p + 8, want.p, want.n);
    /* A private part of its own (the TPM made it), none for a public key, then nothing but the
     * attributes. */
    size_t priv_len = (size_t)get_le(m.p + 8 + want.n, 8);
    assert_int_equal(priv_len > 0, has_private);
    assert_int_equal(id_len, want.n + 8 + priv_len);
    struct out attrs = {.n = 0};
    put_hex(&attrs, attrs_hex);
    assert_int_equal(m.n, 8 + id_len + attrs.n);
    assert_memory_equal(m.p + 8 + id_len, attrs.p, attrs.n);
}

/* The exported public key is the one tpm2_create made. */
static void expect_public(const struct caller *c, const char *name, const char *pub_file)
{
    struct buf pub = tpm_file(&S, pub_file), got;
    TPM2B_PUBLIC tp = {0};
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.p, pub.n, NULL, &tp), 0);
    assert_int_equal(op_export_public(c, name, &got), 0);
    const TPMS_ECC_POINT *q = &tp.publicArea.unique.ecc;
    assert_int_equal(got.n, 1 + q->x.size + q->y.size);
    assert_memory_equal(got.p + 1, q->x.buffer, q->x.size);
    assert_memory_equal(got.p + 1 + q->x.size, q->y.buffer, q->y.size);
}

/* A signature of signer verifies with the public key verifier. */
static void verify_with(const struct caller *c, const char *verifier, const char *signer)
{
    struct buf sig, h = digest(HASH(SHA_256), buf_str(verifier));
    assert_int_equal(op_sign_hash(c, signer, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig), 0);
    assert_int_equal(op_verify_hash(c, verifier, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig), 0);
    sig.p[sig.n - 1] ^= 1;
    assert_int_equal(op_verify_hash(c, verifier, sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
}

/* Keys the original's first versions stored as saved contexts are migrated on first use: they
 * sign, their mappings then hold the current format, and they go on signing after a restart and
 * a TPM reset. A saved context the TPM refuses (damaged, or from before a TPM reset) answers 1145
 * and leaves its mapping alone; a key its attributes do not describe, and bytes that are no blob
 * of either format (a cut context), answer 14. The service goes on serving in every case: no
 * failure leaves the TPM context unusable. */
static void legacy_keys_of_the_original(void **state)
{
    (void)state;
    original_store();
    tool("tpm2_load -C %s/root.ctx -P hex:" ROOT_AUTH " -u %s/ecc.pub -r %s/ecc.priv -c %s/ecc.ctx",
         S.dir, S.dir, S.dir, S.dir);
    tool("tpm2_load -C %s/root.ctx -P hex:" ROOT_AUTH " -u %s/rsa.pub -r %s/rsa.priv -c %s/rsa.ctx",
         S.dir, S.dir, S.dir, S.dir);
    tool("tpm2_loadexternal -C o -u %s/ecc.pub -c %s/pub.ctx", S.dir, S.dir);
    struct out id = {.n = 0};
    legacy_context("ecc.ctx", SIZE_MAX, SIZE_MAX, KEY_AUTH, &id);
    write_mapping(TOOL_DIR "bGVnYWN5LWVjYw==", &id, ECC_ATTRS); /* legacy-ecc */
    write_mapping(TOOL_DIR "YWZ0ZXItcmVzZXQ=", &id, ECC_ATTRS); /* after-reset */
    legacy_context("rsa.ctx", SIZE_MAX, SIZE_MAX, KEY_AUTH, &id);
    write_mapping(TOOL_DIR "bGVnYWN5LXJzYQ==", &id, RSA_ATTRS); /* legacy-rsa */
    write_mapping(TOOL_DIR "bGF0ZS1yc2E=", &id, RSA_ATTRS);     /* late-rsa */
    /* wrong-hash: the ECC key under attributes that say ECDSA-SHA384: the public area they
     * rebuild is not the key's, a migrated blob would never load. */
    legacy_context("ecc.ctx", SIZE_MAX, SIZE_MAX, KEY_AUTH, &id);
    write_mapping(TOOL_DIR "d3JvbmctaGFzaA==", &id,
                  "01000000"
                  "0a000000"
                  "01000000"
                  "0001000000000000"
                  "00000000000000010100"
                  "05000000"
                  "03000000"
                  "00000000"
                  "07000000");
    /* legacy-pub: the ECC key's public part, imported (loaded alone, no auth value). */
    legacy_context("pub.ctx", SIZE_MAX, SIZE_MAX, "", &id);
    write_mapping(TOOL_DIR "bGVnYWN5LXB1Yg==", &id, ECC_PUB_ATTRS);
    /* damaged: a byte of the TPM's encrypted context (after ESAPI's reserved word, the TPM2B's
     * size, and the integrity digest) changed. */
    legacy_context("ecc.ctx", SIZE_MAX, 4 + 2 + 2 + 32 + 16, KEY_AUTH, &id);
    write_mapping(TOOL_DIR "ZGFtYWdlZA==", &id, ECC_ATTRS);
    /* truncated: a context blob cut in the middle, with a length to match: not ESAPI's form
     * of a saved context, so not a legacy blob. */
    legacy_context("ecc.ctx", 200, SIZE_MAX, KEY_AUTH, &id);
    write_mapping(TOOL_DIR "dHJ1bmNhdGVk", &id, ECC_ATTRS);
    /* cut-short: the bytes end inside the context blob: not a blob of either format. */
    legacy_context("ecc.ctx", SIZE_MAX, SIZE_MAX, KEY_AUTH, &id);
    id.n = 100;
    write_mapping(TOOL_DIR "Y3V0LXNob3J0", &id, ECC_ATTRS);
    struct buf damaged = mapping_file("ZGFtYWdlZA=="), truncated = mapping_file("dHJ1bmNhdGVk"),
               cut = mapping_file("Y3V0LXNob3J0"), late = mapping_file("YWZ0ZXItcmVzZXQ="),
               wrong = mapping_file("d3JvbmctaGFzaA==");

    launch();
    struct caller c = tpm_caller(&D, "parsec-tool");
    expect_public(&c, "legacy-ecc", "ecc.pub");
    sign_checked(&c, "legacy-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    sign_checked(&c, "legacy-rsa", SIG_PKCS1, HASH(SHA_256), NULL);
    expect_public(&c, "legacy-pub", "ecc.pub");
    verify_with(&c, "legacy-pub", "legacy-ecc");
    expect_current("bGVnYWN5LWVjYw==", "ecc.pub", KEY_AUTH, 1, ECC_ATTRS);
    expect_current("bGVnYWN5LXJzYQ==", "rsa.pub", KEY_AUTH, 1, RSA_ATTRS);
    expect_current("bGVnYWN5LXB1Yg==", "ecc.pub", "", 0, ECC_PUB_ATTRS);
    assert_true(daemon_log_contains(&D, "key \"legacy-ecc\" of \"parsec-tool\" migrated"));

    struct buf sig, h = digest(HASH(SHA_256), buf_str("x"));
    assert_int_equal(op_sign_hash(&c, "damaged", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_COMMUNICATION_FAILURE);
    assert_int_equal(op_sign_hash(&c, "truncated", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(op_export_public(&c, "truncated", &sig), PSC_KEY_INFO_MANAGER_ERROR);
    assert_int_equal(op_sign_hash(&c, "cut-short", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_KEY_INFO_MANAGER_ERROR);
    assert_true(daemon_log_contains(&D, "key \"damaged\" of \"parsec-tool\" cannot be migrated"));
    assert_true(daemon_log_contains(&D, "key \"truncated\" does not hold a TPM key blob"));
    assert_true(same(mapping_file("ZGFtYWdlZA=="), damaged));
    assert_true(same(mapping_file("dHJ1bmNhdGVk"), truncated));
    assert_true(same(mapping_file("Y3V0LXNob3J0"), cut));
    struct buf h384 = digest(HASH(SHA_384), buf_str("x"));
    assert_int_equal(op_sign_hash(&c, "wrong-hash", sig_alg(SIG_ECDSA, HASH(SHA_384)), h384, &sig),
                     PSC_KEY_INFO_MANAGER_ERROR);
    assert_true(daemon_log_contains(&D, "is not the one its attributes give"));
    assert_true(same(mapping_file("d3JvbmctaGFzaA=="), wrong));
    /* The service goes on, and a key it cannot use can still be destroyed. */
    sign_checked(&c, "legacy-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    assert_int_equal(op_destroy(&c, "damaged"), 0);
    assert_int_equal(op_sign_hash(&c, "damaged", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);

    /* No failure left the TPM context unusable. */
    assert_false(daemon_log_contains(&D, "lost the service's objects"));

    /* The migrated keys load from their new blobs. */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    launch();
    sign_checked(&c, "legacy-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    sign_checked(&c, "legacy-rsa", SIG_PKCS1, HASH(SHA_256), NULL);
    verify_with(&c, "legacy-pub", "legacy-ecc");

    /* The service's objects and session flushed behind its back: the migration meets the loss
     * mid-way (its context loads, the root key is gone), reopens the context and runs again. */
    tool("tpm2_flushcontext -l");
    sign_checked(&c, "late-rsa", SIG_PKCS1, HASH(SHA_256), NULL);
    assert_true(daemon_log_contains(&D, "lost the service's objects"));
    assert_true(daemon_log_contains(&D, "key \"late-rsa\" of \"parsec-tool\" migrated"));
    expect_current("bGF0ZS1yc2E=", "rsa.pub", KEY_AUTH, 1, RSA_ATTRS);

    /* A TPM reset: the migrated keys do not depend on a saved context, a key still stored as
     * one is lost (the TPM refuses every context saved before the reset). */
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);
    swtpm_restart(&S);
    launch();
    sign_checked(&c, "legacy-ecc", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    sign_checked(&c, "legacy-rsa", SIG_PKCS1, HASH(SHA_256), NULL);
    assert_int_equal(op_sign_hash(&c, "after-reset", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_COMMUNICATION_FAILURE);
    assert_true(
        daemon_log_contains(&D, "key \"after-reset\" of \"parsec-tool\" cannot be migrated"));
    assert_true(same(mapping_file("YWZ0ZXItcmVzZXQ="), late));
    assert_int_equal(daemon_stop(&D, SIGTERM), 0);

    /* An owner clear: a key still stored as a saved context is lost with the others (bytes that
     * are no blob stay, as they did, and so does the migrated public key). */
    tool("tpm2_clear -c p");
    launch();
    assert_true(daemon_log_contains(&D, "key \"after-reset\" of \"parsec-tool\" was lost"));
    assert_true(daemon_log_contains(&D, "key \"legacy-ecc\" of \"parsec-tool\" was lost"));
    assert_true(daemon_log_contains(&D, "key \"late-rsa\" of \"parsec-tool\" was lost"));
    assert_int_equal(op_sign_hash(&c, "after-reset", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    ListKeys__Result *lk = NULL;
    assert_int_equal(op_list_keys(&c, &lk), 0);
    assert_int_equal(lk->n_keys, 3);
    expect_public(&c, "legacy-pub", "ecc.pub");
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
        cmocka_unit_test_setup_teardown(legacy_keys_of_the_original, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
