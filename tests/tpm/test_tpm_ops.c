/* Every operation of the TPM provider (provider 3) over the real socket, on a private swtpm,
 * with results checked by OpenSSL: signatures verify both ways, ciphertexts decrypt both ways,
 * exported keys parse. Then the provider's identity and its error rows. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "tpm_test.h"

static struct swtpm S;
static struct daemon D;
static struct caller C;

static int group_setup(void **state)
{
    (void)state;
    swtpm_start(&S);
    daemon_start(&D, tpm_config(&S, "", NULL, NULL));
    C = tpm_caller(&D, "tpm-ops");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int st = daemon_stop(&D, SIGTERM);
    daemon_cleanup(&D);
    swtpm_cleanup(&S);
    assert_int_equal(st, 0);
    return 0;
}

/* ListProviders and ListOpcodes (providers.md §1, §2). */
static void identity(void **state)
{
    (void)state;
    ListProviders__Result *lp = NULL;
    assert_int_equal(psa_call_p(&C, PSC_PROVIDER_CORE, PSC_OP_LIST_PROVIDERS, NULL,
                                &list_providers__result__descriptor, NULL,
                                (ProtobufCMessage **)&lp),
                     0);
    assert_int_equal(lp->n_providers, 2);
    const ListProviders__ProviderInfo *t = lp->providers[0];
    assert_int_equal(t->id, 3);
    assert_string_equal(t->uuid, "1e4954a4-ff21-46d3-ab0c-661eeb667e1d");
    assert_string_equal(t->description, "TPM provider, interfacing with a library implementing "
                                        "the TCG TSS 2.0 Enhanced System API specification.");
    assert_string_equal(t->vendor, "Trusted Computing Group (TCG)");
    assert_int_equal(t->version_maj, 0);
    assert_int_equal(t->version_min, 1);
    assert_int_equal(t->version_rev, 0);

    ListOpcodes__Operation op = LIST_OPCODES__OPERATION__INIT;
    op.provider_id = 3;
    ListOpcodes__Result *lo = NULL;
    assert_int_equal(psa_call_p(&C, PSC_PROVIDER_CORE, PSC_OP_LIST_OPCODES, &op,
                                &list_opcodes__result__descriptor, NULL, (ProtobufCMessage **)&lo),
                     0);
    static const uint32_t want[] = {0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x0A, 0x0B, 0x0D, 0x1E, 0x1F, 0x20};
    int seen[0x21] = {0};
    assert_int_equal(lo->n_opcodes, 12);
    for (size_t i = 0; i < lo->n_opcodes; i++) {
        assert_true(lo->opcodes[i] < 0x21);
        seen[lo->opcodes[i]]++;
    }
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(seen[want[i]], 1);
}

/* ECDSA on the NIST curves swtpm implements, with each hash the provider maps. */
static void ecc_sign_verify(void **state)
{
    (void)state;
    static const struct {
        const char *name, *group;
        uint32_t bits;
        int hash;
    } k[] = {{"p256-sha256", "prime256v1", 256, HASH(SHA_256)},
             {"p384-sha384", "secp384r1", 384, HASH(SHA_384)},
             {"p256-sha512", "prime256v1", 256, HASH(SHA_512)},
             {"p521-sha512", "secp521r1", 521, HASH(SHA_512)},
             {"p224-sha256", "secp224r1", 224, HASH(SHA_256)},
             {"p192-sha256", "prime192v1", 192, HASH(SHA_256)}};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        assert_int_equal(op_generate(&C, k[i].name, ecc_sign_attrs(k[i].bits, k[i].hash)), 0);
        struct buf pub;
        assert_int_equal(op_export_public(&C, k[i].name, &pub), 0);
        assert_int_equal(pub.n, 1 + 2 * ((k[i].bits + 7) / 8));
        assert_int_equal(pub.p[0], 0x04);
        sign_checked(&C, k[i].name, SIG_ECDSA, k[i].hash, k[i].group);
        /* A signature over another hash does not verify. */
        struct buf sig, h = digest(k[i].hash, buf_str("one")), h2 = digest(k[i].hash, buf_str("2"));
        assert_int_equal(op_sign_hash(&C, k[i].name, sig_alg(SIG_ECDSA, k[i].hash), h, &sig), 0);
        assert_int_equal(sig.n, 2 * ((k[i].bits + 7) / 8));
        assert_int_equal(op_verify_hash(&C, k[i].name, sig_alg(SIG_ECDSA, k[i].hash), h2, sig),
                         PSC_PSA_INVALID_SIGNATURE);
        sig.p[3] ^= 1;
        assert_int_equal(op_verify_hash(&C, k[i].name, sig_alg(SIG_ECDSA, k[i].hash), h, sig),
                         PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(op_destroy(&C, k[i].name), 0);
    }
}

/* RSA PKCS#1 v1.5 signatures at each size swtpm generates. */
static void rsa_sign_verify(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t bits;
        int hash;
    } k[] = {{"rsa1024", 1024, HASH(SHA_256)},
             {"rsa2048", 2048, HASH(SHA_256)},
             {"rsa2048-384", 2048, HASH(SHA_384)},
             {"rsa3072", 3072, HASH(SHA_512)}};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        assert_int_equal(op_generate(&C, k[i].name, rsa_sign_attrs(k[i].bits, k[i].hash)), 0);
        sign_checked(&C, k[i].name, SIG_PKCS1, k[i].hash, NULL);
        struct buf sig, h = digest(k[i].hash, buf_str("rsa"));
        assert_int_equal(op_sign_hash(&C, k[i].name, sig_alg(SIG_PKCS1, k[i].hash), h, &sig), 0);
        assert_int_equal(sig.n, k[i].bits / 8);
        sig.p[sig.n - 1] ^= 1;
        assert_int_equal(op_verify_hash(&C, k[i].name, sig_alg(SIG_PKCS1, k[i].hash), h, sig),
                         PSC_PSA_INVALID_SIGNATURE);
        assert_int_equal(op_destroy(&C, k[i].name), 0);
    }
}

/* PKCS#1 v1.5 and OAEP, both ways: OpenSSL encrypts to the exported key and the TPM decrypts,
 * the TPM encrypts and decrypts its own. The salt is the OAEP label. */
static void rsa_encrypt_decrypt(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int oaep; /* 0: PKCS#1 v1.5 */
        const char *label;
    } k[] = {{"crypt-pkcs1", 0, NULL},
             {"crypt-oaep256", HASH(SHA_256), NULL},
             {"crypt-oaep384", HASH(SHA_384), NULL},
             {"crypt-oaep256-label", HASH(SHA_256), "label"}};
    struct buf msg = buf_str("a secret message");
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        struct buf pub, ct, pt;
        /* A TPM takes an OAEP label as a zero-terminated string (TPM 2.0 Part 1, B.4). */
        struct buf label = k[i].label ? buf_copy(k[i].label, strlen(k[i].label) + 1) : buf_none();
        const EVP_MD *md = k[i].oaep ? md_of(k[i].oaep) : NULL;
        int pad = k[i].oaep ? PAD_OAEP : PAD_PKCS1;
        assert_int_equal(op_generate(&C, k[i].name, rsa_crypt_attrs(2048, k[i].oaep)), 0);
        assert_int_equal(op_export_public(&C, k[i].name, &pub), 0);
        EVP_PKEY *pk = pkey_rsa_public(pub);
        ct = ossl_encrypt(pk, pad, md, label, msg);
        assert_int_equal(op_asym_decrypt(&C, k[i].name, enc_alg(k[i].oaep), ct, label, &pt), 0);
        assert_true(buf_eq(pt, msg));
        assert_int_equal(op_asym_encrypt(&C, k[i].name, enc_alg(k[i].oaep), msg, label, &ct), 0);
        assert_int_equal(ct.n, 256);
        assert_int_equal(op_asym_decrypt(&C, k[i].name, enc_alg(k[i].oaep), ct, label, &pt), 0);
        assert_true(buf_eq(pt, msg));
        /* A damaged ciphertext is refused (swtpm's libtpms says TPM_RC_FAILURE, not a padding
         * error: platform-notes.md). */
        ct.p[10] ^= 0x40;
        assert_int_not_equal(op_asym_decrypt(&C, k[i].name, enc_alg(k[i].oaep), ct, label, &pt), 0);
        assert_int_equal(op_destroy(&C, k[i].name), 0);
    }
}

/* Public keys imported: the TPM verifies OpenSSL's signatures and encrypts for OpenSSL. */
static void import_public(void **state)
{
    (void)state;
    EVP_PKEY *rsa = pem_key(PEM_RSA2048), *ec = pem_key(PEM_P256);
    struct buf rpub = der_rsa_public(rsa), epub = public_octets(ec), out;
    struct buf h = digest(HASH(SHA_256), buf_str("imported"));

    /* RSA, size deduced. */
    Attrs *ra = attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH | U_ENCRYPT,
                      alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-rsa", ra, rpub), 0);
    assert_int_equal(op_export_public(&C, "imp-rsa", &out), 0);
    assert_true(buf_eq(out, rpub));
    struct buf sig = ossl_sign(rsa, md_of(HASH(SHA_256)), PAD_PKCS1, h, 0);
    assert_int_equal(op_verify_hash(&C, "imp-rsa", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig), 0);
    sig.p[0] ^= 1;
    assert_int_equal(op_verify_hash(&C, "imp-rsa", sig_alg(SIG_PKCS1, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
    ListKeys__Result *lk = NULL;
    assert_int_equal(op_list_keys(&C, &lk), 0);
    const ListKeys__KeyInfo *ki = list_find(lk, "imp-rsa");
    assert_non_null(ki);
    assert_int_equal(ki->provider_id, 3);
    assert_int_equal(ki->attributes->key_bits, 2048);

    /* An RSA public key for encryption: OpenSSL decrypts what the TPM encrypted. */
    Attrs *rea = attrs(key_type(KT_RSA_PUB, 0), 2048, U_ENCRYPT, alg_enc(HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-rsa-enc", rea, rpub), 0);
    struct buf msg = buf_str("to the holder"), ct, pt;
    /* Same public key as imp-rsa, another policy: a key of its own in the TPM. */
    assert_int_equal(
        op_asym_encrypt(&C, "imp-rsa-enc", enc_alg(HASH(SHA_256)), msg, buf_none(), &ct), 0);
    assert_int_equal(ossl_decrypt(rsa, PAD_OAEP, md_of(HASH(SHA_256)), buf_none(), ct, &pt), 0);
    assert_true(buf_eq(pt, msg));
    /* With a label (a zero-terminated string for a TPM). */
    assert_int_equal(
        op_asym_encrypt(&C, "imp-rsa-enc", enc_alg(HASH(SHA_256)), msg, buf_copy("lbl", 4), &ct),
        0);
    assert_int_equal(ossl_decrypt(rsa, PAD_OAEP, md_of(HASH(SHA_256)), buf_copy("lbl", 4), ct, &pt),
                     0);
    assert_true(buf_eq(pt, msg));

    /* ECC P-256. */
    Attrs *ea = attrs(key_type(KT_ECC_PUB, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                      alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-p256", ea, epub), 0);
    assert_int_equal(op_export_public(&C, "imp-p256", &out), 0);
    assert_true(buf_eq(out, epub));
    struct buf esig = ossl_sign(ec, md_of(HASH(SHA_256)), PAD_NONE, h, 32);
    assert_int_equal(op_verify_hash(&C, "imp-p256", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, esig), 0);
    esig.p[40] ^= 1;
    assert_int_equal(op_verify_hash(&C, "imp-p256", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, esig),
                     PSC_PSA_INVALID_SIGNATURE);
    /* A public key cannot sign. */
    assert_int_equal(op_sign_hash(&C, "imp-p256", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_NOT_PERMITTED);

    /* A point off the curve is refused at import. */
    struct buf bad = buf_copy(epub.p, epub.n);
    bad.p[64] ^= 1;
    assert_int_equal(op_import(&C, "imp-bad", ea, bad), PSC_PSA_INVALID_ARGUMENT);
    /* Malformed DER, wrong sizes. */
    assert_int_equal(op_import(&C, "imp-bad", ra, buf_copy(rpub.p, rpub.n - 1)),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_import(&C, "imp-bad", ea, buf_copy(epub.p, 33)), PSC_PSA_INVALID_ARGUMENT);
    Attrs *ra_wrong =
        attrs(key_type(KT_RSA_PUB, 0), 3072, U_VERIFY_HASH, alg_sig(SIG_PKCS1, HASH(SHA_256)));
    assert_int_equal(op_import(&C, "imp-bad", ra_wrong, rpub), PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_export_public(&C, "imp-bad", &out), PSC_PSA_DOES_NOT_EXIST);

    for (const char *const *n = (const char *const[]){"imp-rsa", "imp-rsa-enc", "imp-p256", NULL};
         *n; n++)
        assert_int_equal(op_destroy(&C, *n), 0);
}

/* Key pairs made elsewhere, imported under the root key: they sign for OpenSSL's public key
 * and decrypt what OpenSSL encrypts. */
static void import_pairs(void **state)
{
    (void)state;
    static const struct {
        const char *name, *pem, *group;
        uint32_t bits; /* 0: deduced */
        int hash;
    } k[] = {{"pair-rsa2048", PEM_RSA2048, NULL, 0, HASH(SHA_256)},
             {"pair-rsa3072", PEM_RSA3072, NULL, 3072, HASH(SHA_384)},
             {"pair-p256", PEM_P256, "prime256v1", 256, HASH(SHA_256)},
             {"pair-p384", PEM_P384, "secp384r1", 0, HASH(SHA_384)}};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        EVP_PKEY *key = pem_key(k[i].pem);
        uint32_t bits = (uint32_t)EVP_PKEY_get_bits(key);
        struct buf data =
            k[i].group ? ec_private_scalar(key, (bits + 7) / 8) : der_rsa_private(key);
        struct buf want = k[i].group ? public_octets(key) : der_rsa_public(key), pub, sig;
        Attrs *at = k[i].group ? attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), k[i].bits,
                                       U_SIGN_HASH | U_VERIFY_HASH, alg_sig(SIG_ECDSA, k[i].hash))
                               : attrs(key_type(KT_RSA_PAIR, 0), k[i].bits,
                                       U_SIGN_HASH | U_VERIFY_HASH, alg_sig(SIG_PKCS1, k[i].hash));
        assert_int_equal(op_import(&C, k[i].name, at, data), 0);
        assert_int_equal(op_export_public(&C, k[i].name, &pub), 0);
        assert_true(buf_eq(pub, want));
        struct buf h = digest(k[i].hash, buf_str(k[i].name));
        assert_int_equal(op_sign_hash(&C, k[i].name,
                                      sig_alg(k[i].group ? SIG_ECDSA : SIG_PKCS1, k[i].hash), h,
                                      &sig),
                         0);
        assert_true(ossl_verify(key, md_of(k[i].hash), k[i].group ? PAD_NONE : PAD_PKCS1, h, sig));
        ListKeys__Result *lk = NULL;
        assert_int_equal(op_list_keys(&C, &lk), 0);
        assert_int_equal(list_find(lk, k[i].name)->attributes->key_bits, bits);
        assert_int_equal(op_destroy(&C, k[i].name), 0);
    }

    /* An RSA decryption key. */
    EVP_PKEY *rsa = pem_key(PEM_RSA2048);
    assert_int_equal(
        op_import(&C, "pair-crypt", rsa_crypt_attrs(2048, HASH(SHA_256)), der_rsa_private(rsa)), 0);
    struct buf msg = buf_str("for the imported key"), pt;
    struct buf ct = ossl_encrypt(rsa, PAD_OAEP, md_of(HASH(SHA_256)), buf_none(), msg);
    assert_int_equal(op_asym_decrypt(&C, "pair-crypt", enc_alg(HASH(SHA_256)), ct, buf_none(), &pt),
                     0);
    assert_true(buf_eq(pt, msg));
    assert_int_equal(op_destroy(&C, "pair-crypt"), 0);

    /* Refused: a scalar of another length, zero, a damaged RSA key, another curve family. */
    EVP_PKEY *ec = pem_key(PEM_P256);
    struct buf scalar = ec_private_scalar(ec, 32);
    assert_int_equal(
        op_import(&C, "pair-bad", ecc_sign_attrs(256, HASH(SHA_256)), buf_copy(scalar.p, 31)),
        PSC_PSA_INVALID_ARGUMENT);
    struct buf zero = {e2e_alloc(32), 32};
    memset(zero.p, 0, 32);
    assert_int_equal(op_import(&C, "pair-bad", ecc_sign_attrs(256, HASH(SHA_256)), zero),
                     PSC_PSA_INVALID_ARGUMENT);
    struct buf der = der_rsa_private(rsa);
    assert_int_equal(
        op_import(&C, "pair-bad", rsa_sign_attrs(2048, HASH(SHA_256)), buf_copy(der.p, der.n - 1)),
        PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_import(&C, "pair-bad",
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_K1)), 256, U_SIGN_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256))),
                               ec_private_scalar(ec, 32)),
                     PSC_PSA_NOT_SUPPORTED);
    struct buf out;
    assert_int_equal(op_export_public(&C, "pair-bad", &out), PSC_PSA_DOES_NOT_EXIST);
}

/* GenerateRandom: a TPM returns at most one digest per call; the provider loops. */
static void random_bytes(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {0, 1, 32, 64, 65, 1000, 4096};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct buf a, b;
        assert_int_equal(op_generate_random(&C, sizes[i], &a), 0);
        assert_int_equal(a.n, sizes[i]);
        if (sizes[i] < 32)
            continue;
        assert_int_equal(op_generate_random(&C, sizes[i], &b), 0);
        assert_false(buf_eq(a, b));
        /* Every 32-byte block is filled: none is all zero. */
        for (size_t off = 0; off + 32 <= a.n; off += 32) {
            int zero = 1;
            for (size_t j = 0; j < 32; j++)
                zero &= a.p[off + j] == 0;
            assert_false(zero);
        }
    }
    /* Larger than the service's response limit. */
    assert_int_equal(op_generate_random(&C, (uint64_t)1 << 40, &(struct buf){0}),
                     PSC_RESPONSE_TOO_LARGE);
}

/* More keys used in turn than a TPM without resource manager holds (3 objects on swtpm):
 * the cache evicts and reloads. */
static void many_keys_in_turn(void **state)
{
    (void)state;
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "turn-%d", i);
        assert_int_equal(op_generate(&C, name, ecc_sign_attrs(256, HASH(SHA_256))), 0);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 6; i++) {
            snprintf(name, sizeof(name), "turn-%d", (i * 5 + round) % 6);
            sign_checked(&C, name, SIG_ECDSA, HASH(SHA_256), "prime256v1");
        }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "turn-%d", i);
        assert_int_equal(op_destroy(&C, name), 0);
    }
}

/* Several clients at once on more keys than the TPM holds: the provider serialises them on its
 * one context and its cache evicts and reloads under them. Every reply is a signature. */
#define CONC_THREADS 4
#define CONC_REQUESTS 12

struct conc {
    const char *sock;
    uint8_t *req[3];
    size_t len[3];
    int bad;
};

static void *conc_run(void *arg)
{
    struct conc *c = arg;
    for (int i = 0; i < CONC_REQUESTS; i++) {
        struct psc_header rsp;
        uint8_t *body = NULL;
        int r = e2e_raw(c->sock, c->req[i % 3], c->len[i % 3], &rsp, &body);
        /* Result: field 1, length 64, r || s. */
        if (r != 0 || rsp.status != 0 || rsp.body_len != 66)
            c->bad++;
        free(body);
    }
    return NULL;
}

static void concurrent_clients(void **state)
{
    (void)state;
    struct conc cc[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    struct buf h = digest(HASH(SHA_256), buf_str("concurrent"));
    char name[3][16];
    for (int k = 0; k < 3; k++) {
        snprintf(name[k], sizeof(name[k]), "conc-%d", k);
        assert_int_equal(op_generate(&C, name[k], ecc_sign_attrs(256, HASH(SHA_256))), 0);
    }
    for (int t = 0; t < CONC_THREADS; t++) {
        cc[t] = (struct conc){.sock = C.sock};
        for (int k = 0; k < 3; k++) {
            PsaSignHash__Operation op = PSA_SIGN_HASH__OPERATION__INIT;
            op.key_name = name[(k + t) % 3];
            op.alg = sig_alg(SIG_ECDSA, HASH(SHA_256));
            op.hash = pb_bytes(h);
            cc[t].req[k] =
                e2e_build(e2e_header(PSC_PROVIDER_TPM, PSC_OP_PSA_SIGN_HASH, PSC_AUTH_DIRECT),
                          &op.base, C.app, strlen(C.app), &cc[t].len[k]);
        }
    }
    for (int t = 0; t < CONC_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, conc_run, &cc[t]), 0);
    int bad = 0;
    for (int t = 0; t < CONC_THREADS; t++) {
        pthread_join(th[t], NULL);
        bad += cc[t].bad;
        for (int k = 0; k < 3; k++)
            free(cc[t].req[k]);
    }
    assert_int_equal(bad, 0);
    for (int k = 0; k < 3; k++) {
        sign_checked(&C, name[k], SIG_ECDSA, HASH(SHA_256), "prime256v1");
        assert_int_equal(op_destroy(&C, name[k]), 0);
    }
}

/* Keys live in their owner's namespace. */
static void two_tenants(void **state)
{
    (void)state;
    struct caller a = tpm_caller(&D, "tenant-a"), b = tpm_caller(&D, "tenant-b");
    assert_int_equal(op_generate(&a, "shared-name", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    struct buf h = digest(HASH(SHA_256), buf_str("x")), sig, apub, bpub;
    assert_int_equal(op_sign_hash(&b, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&b, "shared-name"), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_generate(&b, "shared-name", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(op_export_public(&a, "shared-name", &apub), 0);
    assert_int_equal(op_export_public(&b, "shared-name", &bpub), 0);
    assert_false(buf_eq(apub, bpub));
    /* B's signature does not verify under A's key. */
    assert_int_equal(op_sign_hash(&b, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     0);
    assert_int_equal(op_verify_hash(&a, "shared-name", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, sig),
                     PSC_PSA_INVALID_SIGNATURE);
    assert_int_equal(op_destroy(&a, "shared-name"), 0);
    sign_checked(&b, "shared-name", SIG_ECDSA, HASH(SHA_256), "prime256v1");
    assert_int_equal(op_destroy(&b, "shared-name"), 0);
}

/* The error rows of providers.md §4 and operations.md that apply to this provider. */
static void errors(void **state)
{
    (void)state;
    struct buf h = digest(HASH(SHA_256), buf_str("e")), sig, out;
    assert_int_equal(op_generate(&C, "err-ecc", ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(op_generate(&C, "err-ecc", ecc_sign_attrs(256, HASH(SHA_256))),
                     PSC_PSA_ALREADY_EXISTS);
    /* Policy: another algorithm, another hash, a usage the key lacks. */
    assert_int_equal(op_sign_hash(&C, "err-ecc", sig_alg(SIG_ECDSA, HASH(SHA_384)),
                                  digest(HASH(SHA_384), buf_str("e")), &sig),
                     PSC_PSA_NOT_PERMITTED);
    assert_int_equal(op_asym_encrypt(&C, "err-ecc", enc_alg(0), buf_str("x"), buf_none(), &out),
                     PSC_PSA_NOT_PERMITTED);
    Attrs *vonly = attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_VERIFY_HASH,
                         alg_sig(SIG_ECDSA, HASH(SHA_256)));
    assert_int_equal(op_generate(&C, "err-vonly", vonly), 0);
    assert_int_equal(op_sign_hash(&C, "err-vonly", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_NOT_PERMITTED);
    /* A hash of the wrong length. */
    assert_int_equal(
        op_sign_hash(&C, "err-ecc", sig_alg(SIG_ECDSA, HASH(SHA_256)), buf_str("short"), &sig),
        PSC_PSA_INVALID_ARGUMENT);
    /* A client's key name is cut in the log line of a failure, as every client string is. */
    char long_name[181];
    memset(long_name, 'n', 180);
    long_name[180] = '\0';
    assert_int_equal(op_generate(&C, long_name, ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(
        op_sign_hash(&C, long_name, sig_alg(SIG_ECDSA, HASH(SHA_256)), buf_str("short"), &sig),
        PSC_PSA_INVALID_ARGUMENT);
    assert_true(daemon_log_contains(&D, "PsaSignHash on key"));
    assert_false(daemon_log_contains(&D, long_name));
    assert_int_equal(op_destroy(&C, long_name), 0);
    /* SHA-1 is deprecated (allow_deprecated is off). */
    assert_int_equal(op_generate(&C, "err-x", ecc_sign_attrs(256, HASH(SHA_1))),
                     PSC_DEPRECATED_PRIMITIVE);
    /* Missing keys. */
    assert_int_equal(op_sign_hash(&C, "none", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, &sig),
                     PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_export_public(&C, "none", &out), PSC_PSA_DOES_NOT_EXIST);
    assert_int_equal(op_destroy(&C, "none"), PSC_PSA_DOES_NOT_EXIST);
    /* What swtpm's libtpms does not make: RSA-4096 (refused by the TPM as a bad value: 1145,
     * as the original maps it), SHA-3 schemes (the TPM has no SHA-3: 1134). */
    assert_int_equal(op_generate(&C, "err-x", rsa_sign_attrs(4096, HASH(SHA_256))),
                     PSC_PSA_COMMUNICATION_FAILURE);
    assert_int_equal(op_generate(&C, "err-x", ecc_sign_attrs(256, HASH(SHA3_256))),
                     PSC_PSA_NOT_SUPPORTED);
    /* What the provider does not make (providers.md §4). */
    assert_int_equal(op_generate(&C, "err-x",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_ECDSA_ANY, 0))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "err-x",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_DET_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "err-x",
                                 attrs(key_type(KT_ECC_PAIR, ECC(SECP_K1)), 256, U_SIGN_HASH,
                                       alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "err-x", rsa_sign_attrs(2048, HASH(SHA_224))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_generate(&C, "err-x", rsa_sign_attrs(1536, HASH(SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(
        op_generate(&C, "err-x",
                    attrs(key_type(KT_ECC_PAIR, ECC(SECP_R1)), 256, U_DERIVE, alg_ka_raw(KA_ECDH))),
        PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_generate(&C, "err-x",
                                 attrs(key_type(KT_RSA_PUB, 0), 2048, U_VERIFY_HASH,
                                       alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(
        op_generate(&C, "err-x",
                    attrs(key_type(KT_AES, 0), 128, U_ENCRYPT, alg_cipher(CIPHER(CTR)))),
        PSC_PSA_NOT_SUPPORTED);
    /* RSA-PSS keys are made but cannot sign, as in the original. */
    Attrs *pss = attrs(key_type(KT_RSA_PAIR, 0), 2048, U_SIGN_HASH | U_VERIFY_HASH,
                       alg_sig(SIG_PSS, HASH(SHA_256)));
    assert_int_equal(op_generate(&C, "err-pss", pss), 0);
    assert_int_equal(op_sign_hash(&C, "err-pss", sig_alg(SIG_PSS, HASH(SHA_256)), h, &sig),
                     PSC_PSA_NOT_SUPPORTED);
    /* An operation the provider does not have. */
    assert_int_equal(op_export(&C, "err-ecc", &out), PSC_PSA_NOT_SUPPORTED);
    /* An ECDSA signature of the wrong length. */
    assert_int_equal(
        op_verify_hash(&C, "err-ecc", sig_alg(SIG_ECDSA, HASH(SHA_256)), h, buf_str("short")),
        PSC_PSA_INVALID_SIGNATURE);
    /* OAEP label longer than the TPM takes. */
    assert_int_equal(op_generate(&C, "err-oaep", rsa_crypt_attrs(1024, HASH(SHA_256))), 0);
    struct buf long_label = {e2e_alloc(100), 100};
    memset(long_label.p, 'l', 100);
    assert_int_equal(
        op_asym_encrypt(&C, "err-oaep", enc_alg(HASH(SHA_256)), buf_str("x"), long_label, &out),
        PSC_PSA_INVALID_ARGUMENT);
    /* An OAEP label that is not one zero-terminated string. */
    assert_int_equal(op_asym_encrypt(&C, "err-oaep", enc_alg(HASH(SHA_256)), buf_str("x"),
                                     buf_str("label"), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_asym_encrypt(&C, "err-oaep", enc_alg(HASH(SHA_256)), buf_str("x"),
                                     buf_copy("a\0b", 4), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    assert_int_equal(op_asym_decrypt(&C, "err-oaep", enc_alg(HASH(SHA_256)), buf_str("x"),
                                     buf_str("label"), &out),
                     PSC_PSA_INVALID_ARGUMENT);
    /* PKCS#1 v1.5 takes no salt. */
    assert_int_equal(op_generate(&C, "err-pkcs1", rsa_crypt_attrs(1024, 0)), 0);
    assert_int_equal(
        op_asym_encrypt(&C, "err-pkcs1", enc_alg(0), buf_str("x"), buf_str("salt"), &out),
        PSC_PSA_INVALID_ARGUMENT);
    for (const char *const *n = (const char *const[]){"err-ecc", "err-vonly", "err-pss", "err-oaep",
                                                      "err-pkcs1", NULL};
         *n; n++)
        assert_int_equal(op_destroy(&C, *n), 0);
}

static void can_do_crypto(void **state)
{
    (void)state;
    enum { USE = 1, GENERATE = 2, IMPORT = 3, DERIVE = 4 };
    assert_int_equal(op_can_do(&C, GENERATE, ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(op_can_do(&C, GENERATE, rsa_sign_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_can_do(&C, USE, rsa_crypt_attrs(2048, HASH(SHA_256))), 0);
    assert_int_equal(op_can_do(&C, IMPORT,
                               attrs(key_type(KT_RSA_PUB, 0), 0, U_VERIFY_HASH,
                                     alg_sig(SIG_PKCS1, HASH(SHA_256)))),
                     0);
    assert_int_equal(op_can_do(&C, IMPORT, ecc_sign_attrs(256, HASH(SHA_256))), 0);
    assert_int_equal(
        op_can_do(&C, IMPORT, attrs(key_type(KT_AES, 0), 128, U_ENCRYPT, alg_cipher(CIPHER(CTR)))),
        PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, GENERATE, rsa_sign_attrs(1536, HASH(SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, GENERATE,
                               attrs(key_type(KT_ECC_PAIR, ECC(SECP_K1)), 256, U_SIGN_HASH,
                                     alg_sig(SIG_ECDSA, HASH(SHA_256)))),
                     PSC_PSA_NOT_SUPPORTED);
    assert_int_equal(op_can_do(&C, DERIVE, ecc_sign_attrs(256, HASH(SHA_256))),
                     PSC_PSA_NOT_SUPPORTED);
}

int main(void)
{
    if (!swtpm_available()) {
        fprintf(stderr, "swtpm is not installed: TPM tests skipped\n");
        return TPM_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(identity, e2e_arena_free),
        cmocka_unit_test_teardown(ecc_sign_verify, e2e_arena_free),
        cmocka_unit_test_teardown(rsa_sign_verify, e2e_arena_free),
        cmocka_unit_test_teardown(rsa_encrypt_decrypt, e2e_arena_free),
        cmocka_unit_test_teardown(import_public, e2e_arena_free),
        cmocka_unit_test_teardown(import_pairs, e2e_arena_free),
        cmocka_unit_test_teardown(random_bytes, e2e_arena_free),
        cmocka_unit_test_teardown(many_keys_in_turn, e2e_arena_free),
        cmocka_unit_test_teardown(concurrent_clients, e2e_arena_free),
        cmocka_unit_test_teardown(two_tenants, e2e_arena_free),
        cmocka_unit_test_teardown(errors, e2e_arena_free),
        cmocka_unit_test_teardown(can_do_crypto, e2e_arena_free),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
