/* Writes the seed corpora of the fuzz targets: gen_corpus OUTDIR creates OUTDIR/<target>/<seed>.
 *
 * The requests are real client requests, built with the same protobuf messages and PSA
 * conversions a client uses, for the keys of fuzz_keys.h; signatures, ciphertexts and hashes
 * are computed here with Mbed TLS on the same key material, so that verify, decrypt and compare
 * seeds succeed in the service. fuzz_frontend gets whole requests, fuzz_codec the opcode byte
 * and body, fuzz_header the headers; the other targets get small hand-made seeds. The TOML
 * seeds come from the configuration files in the tree (see fuzz/run.sh) plus the ones here. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <psa/crypto.h>

#include "attest_key.pb-c.h"
#include "can_do_crypto.pb-c.h"
#include "common/base64.h"
#include "delete_client.pb-c.h"
#include "fuzz_keys.h"
#include "fuzz_request.h"
#include "list_authenticators.pb-c.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "prepare_key_attestation.pb-c.h"
#include "psa/convert.h"
#include "psa_aead_decrypt.pb-c.h"
#include "psa_aead_encrypt.pb-c.h"
#include "psa_asymmetric_decrypt.pb-c.h"
#include "psa_asymmetric_encrypt.pb-c.h"
#include "psa_cipher_decrypt.pb-c.h"
#include "psa_cipher_encrypt.pb-c.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_export_key.pb-c.h"
#include "psa_export_public_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_generate_random.pb-c.h"
#include "psa_hash_compare.pb-c.h"
#include "psa_hash_compute.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "psa_raw_key_agreement.pb-c.h"
#include "psa_sign_hash.pb-c.h"
#include "psa_sign_message.pb-c.h"
#include "psa_verify_hash.pb-c.h"
#include "psa_verify_message.pb-c.h"
#include "service/kim/bincode.h"
#include "wire/header.h"
#include "wire/opcode.h"

#define MBED PSC_PROVIDER_MBED_CRYPTO

static const char *outdir;

static void die(const char *what)
{
    fprintf(stderr, "gen_corpus: %s\n", what);
    exit(1);
}

static void write_seed(const char *target, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die("cannot create a corpus folder");
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        die("cannot write a seed");
}

/* A request for fuzz_frontend, and its opcode + body for fuzz_codec. */
static void request(const char *name, uint8_t provider, uint32_t opcode, const char *app,
                    const void *op)
{
    uint8_t *req = NULL;
    size_t len = 0;
    if (fuzz_request_build(provider, opcode, app, op, &req, &len) != 0)
        die("cannot build a request");
    write_seed("fuzz_frontend", name, req, len);
    struct psc_header h;
    if (psc_header_decode_full(req, &h) != 0)
        die("built a bad header");
    uint8_t *c = malloc(1 + h.body_len);
    if (!c)
        die("out of memory");
    c[0] = (uint8_t)opcode;
    memcpy(c + 1, req + PSC_WIRE_HEADER_SIZE, h.body_len);
    write_seed("fuzz_codec", name, c, 1 + h.body_len);
    free(c);
    free(req);
}

static const struct fuzz_key *key(const char *name)
{
    for (size_t i = 0; i < FUZZ_N_KEYS; i++)
        if (strcmp(fuzz_keys[i].name, name) == 0)
            return &fuzz_keys[i];
    die("unknown key");
    return NULL;
}

/* The same key as a volatile key of this process. */
static psa_key_id_t local_key(const char *name)
{
    const struct fuzz_key *k = key(name);
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    psa_set_key_type(&a, k->attrs.type);
    psa_set_key_bits(&a, k->attrs.bits);
    psa_set_key_usage_flags(&a, k->attrs.usage);
    psa_set_key_algorithm(&a, k->attrs.alg);
    if (psa_import_key(&a, k->material, k->len, &id) != PSA_SUCCESS)
        die("cannot import a key locally");
    return id;
}

static PsaKeyAttributes__KeyAttributes *attrs_pb(psa_key_type_t type, size_t bits,
                                                 psa_key_usage_t usage, psa_algorithm_t alg)
{
    struct psc_attrs a = {type, bits, usage, alg};
    PsaKeyAttributes__KeyAttributes *pb = NULL;
    if (conv_attrs_to_pb(&a, &pb) != 0)
        die("attributes without a protobuf form");
    return pb;
}

static void gen_generate(const char *name, psa_key_type_t type, size_t bits, psa_key_usage_t usage,
                         psa_algorithm_t alg)
{
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    char seed[64];
    op.key_name = (char *)name;
    op.attributes = attrs_pb(type, bits, usage, alg);
    snprintf(seed, sizeof(seed), "generate-%s", name);
    request(seed, MBED, PSC_OP_PSA_GENERATE_KEY, FUZZ_APP, &op);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
}

static void gen_import(const char *name, psa_key_type_t type, size_t bits, psa_key_usage_t usage,
                       psa_algorithm_t alg, const uint8_t *data, size_t len)
{
    PsaImportKey__Operation op = PSA_IMPORT_KEY__OPERATION__INIT;
    char seed[64];
    op.key_name = (char *)name;
    op.attributes = attrs_pb(type, bits, usage, alg);
    op.data.data = (uint8_t *)data;
    op.data.len = len;
    snprintf(seed, sizeof(seed), "import-%s", name);
    request(seed, MBED, PSC_OP_PSA_IMPORT_KEY, FUZZ_APP, &op);
    protobuf_c_message_free_unpacked(&op.attributes->base, NULL);
}

static void gen_core(void)
{
    Ping__Operation ping = PING__OPERATION__INIT;
    ListProviders__Operation lp = LIST_PROVIDERS__OPERATION__INIT;
    ListOpcodes__Operation lo = LIST_OPCODES__OPERATION__INIT;
    ListAuthenticators__Operation la = LIST_AUTHENTICATORS__OPERATION__INIT;
    ListKeys__Operation lk = LIST_KEYS__OPERATION__INIT;
    ListClients__Operation lc = LIST_CLIENTS__OPERATION__INIT;
    DeleteClient__Operation dc = DELETE_CLIENT__OPERATION__INIT;

    request("ping", 0, PSC_OP_PING, NULL, &ping);
    request("list-providers", 0, PSC_OP_LIST_PROVIDERS, NULL, &lp);
    request("list-opcodes-core", 0, PSC_OP_LIST_OPCODES, NULL, &lo);
    lo.provider_id = MBED;
    request("list-opcodes-mbed", 0, PSC_OP_LIST_OPCODES, NULL, &lo);
    request("list-authenticators", 0, PSC_OP_LIST_AUTHENTICATORS, NULL, &la);
    request("list-keys", 0, PSC_OP_LIST_KEYS, FUZZ_APP, &lk);
    request("list-clients", 0, PSC_OP_LIST_CLIENTS, FUZZ_ADMIN, &lc);
    request("list-clients-not-admin", 0, PSC_OP_LIST_CLIENTS, FUZZ_APP, &lc);
    dc.client = (char *)"nobody";
    request("delete-client", 0, PSC_OP_DELETE_CLIENT, FUZZ_ADMIN, &dc);
}

static void gen_keys(void)
{
    const psa_key_usage_t sign = FUZZ_USAGE_SIGN, crypt = FUZZ_USAGE_CRYPT;
    gen_generate("gen-ecc", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, sign,
                 PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    gen_generate("gen-ecc-k1", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_K1), 256, sign,
                 PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_384));
    gen_generate("gen-x25519", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255,
                 PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH);
    gen_generate("gen-rsa", PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, sign,
                 PSA_ALG_RSA_PSS(PSA_ALG_SHA_256));
    gen_generate("gen-aes", PSA_KEY_TYPE_AES, 256, crypt, PSA_ALG_CCM);
    gen_generate("gen-aes-short-tag", PSA_KEY_TYPE_AES, 128, crypt,
                 PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, 8));
    gen_generate("gen-chacha", PSA_KEY_TYPE_CHACHA20, 256, crypt, PSA_ALG_STREAM_CIPHER);
    gen_generate("gen-hmac", PSA_KEY_TYPE_HMAC, 256, PSA_KEY_USAGE_SIGN_HASH,
                 PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_256), 16));
    gen_generate("gen-derive", PSA_KEY_TYPE_DERIVE, 128, PSA_KEY_USAGE_DERIVE,
                 PSA_ALG_HKDF(PSA_ALG_SHA_256));
    gen_generate("gen-raw", PSA_KEY_TYPE_RAW_DATA, 64, 0, PSA_ALG_NONE);
    gen_generate("gen-deprecated", PSA_KEY_TYPE_RSA_KEY_PAIR, 1024, sign,
                 PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_1));

    /* Imports: a private scalar, a symmetric key, public keys exported here. */
    psa_key_id_t ecc = local_key("fuzz-ecc"), rsa = local_key("fuzz-rsa-sign");
    uint8_t pub[600];
    size_t n = 0;
    gen_import("imp-ecc", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256, sign,
               PSA_ALG_ECDSA_ANY, fuzz_p256_ecdh, sizeof(fuzz_p256_ecdh));
    gen_import("imp-aes", PSA_KEY_TYPE_AES, 0, crypt, PSA_ALG_CTR, fuzz_aes128,
               sizeof(fuzz_aes128));
    if (psa_export_public_key(ecc, pub, sizeof(pub), &n) != PSA_SUCCESS)
        die("export");
    gen_import("imp-ecc-pub", PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1), 256,
               PSA_KEY_USAGE_VERIFY_HASH, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH), pub, n);
    if (psa_export_public_key(rsa, pub, sizeof(pub), &n) != PSA_SUCCESS)
        die("export");
    gen_import("imp-rsa-pub", PSA_KEY_TYPE_RSA_PUBLIC_KEY, 1024, PSA_KEY_USAGE_ENCRYPT,
               PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256), pub, n);
    gen_import("imp-rsa", PSA_KEY_TYPE_RSA_KEY_PAIR, 0, sign, PSA_ALG_RSA_PKCS1V15_SIGN_RAW,
               fuzz_rsa1024_der, sizeof(fuzz_rsa1024_der));
    psa_destroy_key(ecc);
    psa_destroy_key(rsa);

    PsaDestroyKey__Operation d = PSA_DESTROY_KEY__OPERATION__INIT;
    d.key_name = (char *)"no-such-key";
    request("destroy-missing", MBED, PSC_OP_PSA_DESTROY_KEY, FUZZ_APP, &d);
    d.key_name = (char *)"fuzz-aes-cbc";
    request("destroy-fixed", MBED, PSC_OP_PSA_DESTROY_KEY, FUZZ_APP, &d);

    PsaExportPublicKey__Operation ep = PSA_EXPORT_PUBLIC_KEY__OPERATION__INIT;
    ep.key_name = (char *)"fuzz-ecc";
    request("export-public-ecc", MBED, PSC_OP_PSA_EXPORT_PUBLIC_KEY, FUZZ_APP, &ep);
    ep.key_name = (char *)"fuzz-rsa-sign";
    request("export-public-rsa", MBED, PSC_OP_PSA_EXPORT_PUBLIC_KEY, FUZZ_APP, &ep);
    PsaExportKey__Operation ek = PSA_EXPORT_KEY__OPERATION__INIT;
    ek.key_name = (char *)"fuzz-aes-gcm";
    request("export-aes", MBED, PSC_OP_PSA_EXPORT_KEY, FUZZ_APP, &ek);
    ek.key_name = (char *)"fuzz-ecc";
    request("export-ecc", MBED, PSC_OP_PSA_EXPORT_KEY, "someone-else", &ek);
}

static void gen_sign(void)
{
    static const uint8_t msg[] = "The quick brown fox jumps over the lazy dog";
    uint8_t hash[32], sig[256];
    size_t hn = 0, sn = 0;
    PsaAlgorithm__Algorithm__AsymmetricSignature *alg = NULL;

    if (psa_hash_compute(PSA_ALG_SHA_256, msg, sizeof(msg) - 1, hash, sizeof(hash), &hn) !=
        PSA_SUCCESS)
        die("hash");
    const char *names[] = {"fuzz-ecc", "fuzz-rsa-sign"};
    const char *tags[] = {"ecc", "rsa"};
    for (int i = 0; i < 2; i++) {
        const struct fuzz_key *k = key(names[i]);
        psa_key_id_t id = local_key(names[i]);
        char seed[64];
        if (conv_sign_to_pb(k->attrs.alg, &alg) != 0)
            die("sign alg");

        PsaSignHash__Operation sh = PSA_SIGN_HASH__OPERATION__INIT;
        sh.key_name = (char *)k->name;
        sh.alg = alg;
        sh.hash.data = hash;
        sh.hash.len = hn;
        snprintf(seed, sizeof(seed), "sign-hash-%s", tags[i]);
        request(seed, MBED, PSC_OP_PSA_SIGN_HASH, FUZZ_APP, &sh);

        if (psa_sign_hash(id, k->attrs.alg, hash, hn, sig, sizeof(sig), &sn) != PSA_SUCCESS)
            die("sign");
        PsaVerifyHash__Operation vh = PSA_VERIFY_HASH__OPERATION__INIT;
        vh.key_name = (char *)k->name;
        vh.alg = alg;
        vh.hash.data = hash;
        vh.hash.len = hn;
        vh.signature.data = sig;
        vh.signature.len = sn;
        snprintf(seed, sizeof(seed), "verify-hash-%s", tags[i]);
        request(seed, MBED, PSC_OP_PSA_VERIFY_HASH, FUZZ_APP, &vh);

        PsaSignMessage__Operation sm = PSA_SIGN_MESSAGE__OPERATION__INIT;
        sm.key_name = (char *)k->name;
        sm.alg = alg;
        sm.message.data = (uint8_t *)msg;
        sm.message.len = sizeof(msg) - 1;
        snprintf(seed, sizeof(seed), "sign-message-%s", tags[i]);
        request(seed, MBED, PSC_OP_PSA_SIGN_MESSAGE, FUZZ_APP, &sm);

        PsaVerifyMessage__Operation vm = PSA_VERIFY_MESSAGE__OPERATION__INIT;
        vm.key_name = (char *)k->name;
        vm.alg = alg;
        vm.message.data = (uint8_t *)msg;
        vm.message.len = sizeof(msg) - 1;
        vm.signature.data = sig; /* a signature of the hash of msg is one of msg */
        vm.signature.len = sn;
        snprintf(seed, sizeof(seed), "verify-message-%s", tags[i]);
        request(seed, MBED, PSC_OP_PSA_VERIFY_MESSAGE, FUZZ_APP, &vm);

        protobuf_c_message_free_unpacked(&alg->base, NULL);
        psa_destroy_key(id);
    }
}

static void gen_encrypt(void)
{
    static const uint8_t pt[] = "attack at dawn, bring snacks";
    static const uint8_t nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t ad[] = "header";
    uint8_t ct[512];
    size_t cn = 0;

    /* Asymmetric */
    const struct fuzz_key *k = key("fuzz-rsa-enc");
    psa_key_id_t id = local_key(k->name);
    PsaAlgorithm__Algorithm__AsymmetricEncryption *ae = NULL;
    if (conv_asym_enc_to_pb(k->attrs.alg, &ae) != 0)
        die("asym alg");
    PsaAsymmetricEncrypt__Operation aenc = PSA_ASYMMETRIC_ENCRYPT__OPERATION__INIT;
    aenc.key_name = (char *)k->name;
    aenc.alg = ae;
    aenc.plaintext.data = (uint8_t *)pt;
    aenc.plaintext.len = sizeof(pt) - 1;
    request("asymmetric-encrypt", MBED, PSC_OP_PSA_ASYMMETRIC_ENCRYPT, FUZZ_APP, &aenc);
    if (psa_asymmetric_encrypt(id, k->attrs.alg, pt, sizeof(pt) - 1, NULL, 0, ct, sizeof(ct),
                               &cn) != PSA_SUCCESS)
        die("asymmetric encrypt");
    PsaAsymmetricDecrypt__Operation adec = PSA_ASYMMETRIC_DECRYPT__OPERATION__INIT;
    adec.key_name = (char *)k->name;
    adec.alg = ae;
    adec.ciphertext.data = ct;
    adec.ciphertext.len = cn;
    request("asymmetric-decrypt", MBED, PSC_OP_PSA_ASYMMETRIC_DECRYPT, FUZZ_APP, &adec);
    protobuf_c_message_free_unpacked(&ae->base, NULL);
    psa_destroy_key(id);

    /* AEAD, with both keys */
    const char *aeads[] = {"fuzz-aes-gcm", "fuzz-chacha"};
    for (int i = 0; i < 2; i++) {
        char seed[64];
        k = key(aeads[i]);
        id = local_key(k->name);
        PsaAlgorithm__Algorithm__Aead *alg = NULL;
        if (conv_aead_to_pb(k->attrs.alg, &alg) != 0)
            die("aead alg");
        PsaAeadEncrypt__Operation enc = PSA_AEAD_ENCRYPT__OPERATION__INIT;
        enc.key_name = (char *)k->name;
        enc.alg = alg;
        enc.nonce.data = (uint8_t *)nonce;
        enc.nonce.len = sizeof(nonce);
        enc.additional_data.data = (uint8_t *)ad;
        enc.additional_data.len = sizeof(ad) - 1;
        enc.plaintext.data = (uint8_t *)pt;
        enc.plaintext.len = sizeof(pt) - 1;
        snprintf(seed, sizeof(seed), "aead-encrypt-%s", k->name + 5);
        request(seed, MBED, PSC_OP_PSA_AEAD_ENCRYPT, FUZZ_APP, &enc);
        if (psa_aead_encrypt(id, k->attrs.alg, nonce, sizeof(nonce), ad, sizeof(ad) - 1, pt,
                             sizeof(pt) - 1, ct, sizeof(ct), &cn) != PSA_SUCCESS)
            die("aead encrypt");
        PsaAeadDecrypt__Operation dec = PSA_AEAD_DECRYPT__OPERATION__INIT;
        dec.key_name = (char *)k->name;
        dec.alg = alg;
        dec.nonce = enc.nonce;
        dec.additional_data = enc.additional_data;
        dec.ciphertext.data = ct;
        dec.ciphertext.len = cn;
        snprintf(seed, sizeof(seed), "aead-decrypt-%s", k->name + 5);
        request(seed, MBED, PSC_OP_PSA_AEAD_DECRYPT, FUZZ_APP, &dec);
        protobuf_c_message_free_unpacked(&alg->base, NULL);
        psa_destroy_key(id);
    }

    /* Cipher: the output is the IV followed by the ciphertext, as PSA's one-shot call. */
    k = key("fuzz-aes-cbc");
    id = local_key(k->name);
    PsaAlgorithm__Algorithm__Cipher c;
    if (conv_cipher_to_pb(k->attrs.alg, &c) != 0)
        die("cipher alg");
    PsaCipherEncrypt__Operation cenc = PSA_CIPHER_ENCRYPT__OPERATION__INIT;
    cenc.key_name = (char *)k->name;
    cenc.alg = c;
    cenc.plaintext.data = (uint8_t *)pt;
    cenc.plaintext.len = sizeof(pt) - 1;
    request("cipher-encrypt", MBED, PSC_OP_PSA_CIPHER_ENCRYPT, FUZZ_APP, &cenc);
    if (psa_cipher_encrypt(id, k->attrs.alg, pt, sizeof(pt) - 1, ct, sizeof(ct), &cn) !=
        PSA_SUCCESS)
        die("cipher encrypt");
    PsaCipherDecrypt__Operation cdec = PSA_CIPHER_DECRYPT__OPERATION__INIT;
    cdec.key_name = (char *)k->name;
    cdec.alg = c;
    cdec.ciphertext.data = ct;
    cdec.ciphertext.len = cn;
    request("cipher-decrypt", MBED, PSC_OP_PSA_CIPHER_DECRYPT, FUZZ_APP, &cdec);
    psa_destroy_key(id);
}

static void gen_misc(void)
{
    static const uint8_t input[] = "abc";
    uint8_t hash[64], pub[80];
    size_t hn = 0, pn = 0;

    PsaHashCompute__Operation hc = PSA_HASH_COMPUTE__OPERATION__INIT;
    hc.alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    hc.input.data = (uint8_t *)input;
    hc.input.len = 3;
    request("hash-compute", MBED, PSC_OP_PSA_HASH_COMPUTE, FUZZ_APP, &hc);
    if (psa_hash_compute(PSA_ALG_SHA_256, input, 3, hash, sizeof(hash), &hn) != PSA_SUCCESS)
        die("hash");
    PsaHashCompare__Operation hcmp = PSA_HASH_COMPARE__OPERATION__INIT;
    hcmp.alg = PSA_ALGORITHM__ALGORITHM__HASH__SHA_256;
    hcmp.input = hc.input;
    hcmp.hash.data = hash;
    hcmp.hash.len = hn;
    request("hash-compare", MBED, PSC_OP_PSA_HASH_COMPARE, NULL, &hcmp);

    PsaGenerateRandom__Operation gr = PSA_GENERATE_RANDOM__OPERATION__INIT;
    gr.size = 32;
    request("generate-random", MBED, PSC_OP_PSA_GENERATE_RANDOM, NULL, &gr);

    psa_key_id_t ecc = local_key("fuzz-ecc");
    if (psa_export_public_key(ecc, pub, sizeof(pub), &pn) != PSA_SUCCESS)
        die("export");
    psa_destroy_key(ecc);
    PsaRawKeyAgreement__Operation ka = PSA_RAW_KEY_AGREEMENT__OPERATION__INIT;
    ka.alg = PSA_ALGORITHM__ALGORITHM__KEY_AGREEMENT__RAW__ECDH;
    ka.private_key_name = (char *)"fuzz-ecdh";
    ka.peer_key.data = pub;
    ka.peer_key.len = pn;
    request("raw-key-agreement", MBED, PSC_OP_PSA_RAW_KEY_AGREEMENT, FUZZ_APP, &ka);

    CanDoCrypto__Operation cd = CAN_DO_CRYPTO__OPERATION__INIT;
    cd.check_type = CAN_DO_CRYPTO__CHECK_TYPE__GENERATE;
    cd.attributes = attrs_pb(PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256,
                             PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    request("can-do-crypto", MBED, PSC_OP_CAN_DO_CRYPTO, FUZZ_APP, &cd);
    protobuf_c_message_free_unpacked(&cd.attributes->base, NULL);

    AttestKey__AttestationMechanismParams__ActivateCredential ac =
        ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    AttestKey__AttestationMechanismParams ap = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__INIT;
    AttestKey__Operation at = ATTEST_KEY__OPERATION__INIT;
    ac.credential_blob.data = (uint8_t *)input;
    ac.credential_blob.len = 3;
    ap.mechanism_case = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    ap.activate_credential = &ac;
    at.attested_key_name = (char *)"fuzz-ecc";
    at.parameters = &ap;
    request("attest-key", MBED, PSC_OP_ATTEST_KEY, FUZZ_APP, &at);

    PrepareKeyAttestation__PrepareKeyAttestationParams__ActivateCredential pc =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationParams pp =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__INIT;
    PrepareKeyAttestation__Operation pk = PREPARE_KEY_ATTESTATION__OPERATION__INIT;
    pc.attested_key_name = (char *)"fuzz-ecc";
    pp.mechanism_case =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    pp.activate_credential = &pc;
    pk.parameters = &pp;
    request("prepare-key-attestation", MBED, PSC_OP_PREPARE_KEY_ATTESTATION, FUZZ_APP, &pk);
}

/* Headers the listener and front end refuse, each for one reason. */
static void gen_headers(void)
{
    Ping__Operation ping = PING__OPERATION__INIT;
    uint8_t *req = NULL;
    size_t len = 0;
    static const struct {
        const char *name;
        size_t off;
        uint8_t val;
    } bad[] = {
        {"bad-magic", 0, 0x11},     {"bad-header-size", 4, 31},  {"bad-version", 6, 2},
        {"bad-provider", 10, 9},    {"bad-content-type", 19, 1}, {"bad-accept-type", 20, 1},
        {"bad-auth-type", 21, 7},   {"bad-opcode", 28, 0x16},    {"bad-reserved", 34, 1},
        {"wrong-auth-type", 21, 3},
    };
    if (fuzz_request_build(0, PSC_OP_PING, FUZZ_APP, &ping.base, &req, &len) != 0)
        die("request");
    write_seed("fuzz_header", "ping", req, PSC_WIRE_HEADER_SIZE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t copy[64];
        memcpy(copy, req, len);
        copy[bad[i].off] = bad[i].val;
        write_seed("fuzz_header", bad[i].name, copy, PSC_WIRE_HEADER_SIZE);
        write_seed("fuzz_frontend", bad[i].name, copy, len);
    }
    write_seed("fuzz_header", "short", req, 20);
    free(req);
}

static void gen_auth(void)
{
    /* Configured type (byte 0 % 6) and admin count (byte 0 / 6 % 6), peer uid (LE), peer
     * known, auth field: see fuzz_auth.c. */
    static const uint8_t direct[] = {1, 0xe8, 3, 0, 0, 1, 'f', 'u', 'z', 'z'};
    static const uint8_t admin[] = {7, 0, 0, 0, 0, 0, 'a', 'd', 'm', 'i', 'n'};
    static const uint8_t utf8[] = {25, 0, 0, 0, 0, 0, 0xc3, 0xa9, 't', 0xc3, 0xa9};
    static const uint8_t bad_utf8[] = {1, 0, 0, 0, 0, 0, 0xed, 0xa0, 0x80};
    static const uint8_t nul[] = {1, 0, 0, 0, 0, 0, 'a', 0, 'b'};
    static const uint8_t unix_ok[] = {3, 0xe8, 3, 0, 0, 1, 0xe8, 3, 0, 0};
    static const uint8_t unix_bad[] = {3, 0xe8, 3, 0, 0, 1, 0xe9, 3, 0, 0};
    static const uint8_t unix_admin[] = {15, 0xe8, 3, 0, 0, 1, 0xe8, 3, 0, 0};
    static const uint8_t jwt[] = {4, 0, 0, 0, 0, 1, 'e', 'y', 'J', '.', 'x'};
    write_seed("fuzz_auth", "direct", direct, sizeof(direct));
    write_seed("fuzz_auth", "direct-admin", admin, sizeof(admin));
    write_seed("fuzz_auth", "direct-utf8-admin", utf8, sizeof(utf8));
    write_seed("fuzz_auth", "direct-surrogate", bad_utf8, sizeof(bad_utf8));
    write_seed("fuzz_auth", "direct-nul", nul, sizeof(nul));
    write_seed("fuzz_auth", "unix", unix_ok, sizeof(unix_ok));
    write_seed("fuzz_auth", "unix-mismatch", unix_bad, sizeof(unix_bad));
    write_seed("fuzz_auth", "unix-admin", unix_admin, sizeof(unix_admin));
    write_seed("fuzz_auth", "jwt-svid", jwt, sizeof(jwt));
}

static void gen_bincode(void)
{
    /* key-info-manager.md §6.2: parsec-tool's key "toto" on provider 1. */
    /* clang-format off */
    static const uint8_t fixture[46] = {
        0x04, 0, 0, 0, 0, 0, 0, 0,         /* id length 4 */
        0x04, 0, 0, 0,                     /* PSA key id 4 */
        0x01, 0, 0, 0,                     /* Persistent */
        0x09, 0, 0, 0,                     /* RsaKeyPair */
        0x00, 0x08, 0, 0, 0, 0, 0, 0,      /* 2048 bits */
        0, 0, 0, 1, 1, 0, 0, 0, 0, 0,      /* usage: encrypt, decrypt */
        0x06, 0, 0, 0, 0, 0, 0, 0,         /* RsaPkcs1v15Crypt */
    };
    /* clang-format on */
    write_seed("fuzz_bincode", "key-info-fixture", fixture, sizeof(fixture));
    write_seed("fuzz_bincode", "attrs-rsa-fixture", fixture + 12, sizeof(fixture) - 12);
    uint8_t custom[sizeof(fixture) + 4];
    memcpy(custom, fixture, 12);
    custom[12] = 2;
    memset(custom + 13, 0, 3);
    memcpy(custom + 16, "\x2a\0\0\0", 4);
    memcpy(custom + 20, fixture + 16, sizeof(fixture) - 16);
    write_seed("fuzz_bincode", "key-info-custom-lifetime", custom, sizeof(custom));

    for (size_t i = 0; i < FUZZ_N_KEYS; i++) {
        struct kim_info info = {(uint8_t *)"\x02\0\0\0", 4, fuzz_keys[i].attrs};
        uint8_t *enc = NULL;
        size_t n = 0;
        char seed[64];
        if (bincode_key_info_encode(&info, &enc, &n) != 0)
            die("bincode");
        snprintf(seed, sizeof(seed), "key-info-%s", fuzz_keys[i].name);
        write_seed("fuzz_bincode", seed, enc, n);
        free(enc);
    }
    static const struct psc_attrs more[] = {
        {PSA_KEY_TYPE_HMAC, 256, PSA_KEY_USAGE_SIGN_HASH,
         PSA_ALG_TRUNCATED_MAC(PSA_ALG_HMAC(PSA_ALG_SHA_384), 20)},
        {PSA_KEY_TYPE_AES, 128, PSA_KEY_USAGE_ENCRYPT,
         PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 4)},
        {PSA_KEY_TYPE_DH_KEY_PAIR(PSA_DH_FAMILY_RFC7919), 2048, PSA_KEY_USAGE_DERIVE,
         PSA_ALG_KEY_AGREEMENT(PSA_ALG_FFDH, PSA_ALG_HKDF(PSA_ALG_SHA_256))},
        {PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_BRAINPOOL_P_R1), 384, PSA_KEY_USAGE_VERIFY_HASH,
         PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_ANY_HASH)},
        {PSA_KEY_TYPE_DERIVE, 128, PSA_KEY_USAGE_DERIVE, PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256)},
        {PSA_KEY_TYPE_RSA_PUBLIC_KEY, 4096, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_CACHE,
         PSA_ALG_RSA_OAEP(PSA_ALG_SHA_512)},
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        uint8_t enc[BINCODE_ATTRS_MAX];
        size_t n = 0;
        char seed[64];
        if (bincode_attrs_encode(&more[i], enc, sizeof(enc), &n) != 0)
            die("bincode attrs");
        snprintf(seed, sizeof(seed), "attrs-%zu", i);
        write_seed("fuzz_bincode", seed, enc, n);
    }
}

static void gen_base64(void)
{
    static const char *const bytes[] = {"parsec-tool",
                                        "toto",
                                        "",
                                        "a",
                                        "ab",
                                        "abc",
                                        "\xff\xfe\xfd",
                                        "1000",
                                        "spiffe://example.org/app"};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        char text[128], seed[32];
        size_t n = 0;
        if (base64url_encode((const uint8_t *)bytes[i], strlen(bytes[i]), text, sizeof(text), &n) !=
            0)
            die("base64");
        snprintf(seed, sizeof(seed), "name-%zu", i);
        write_seed("fuzz_base64", seed, text, n);
    }
    write_seed("fuzz_base64", "not-canonical", "dG90bx==", 8);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        die("cannot create the output folder");
    if (psa_crypto_init() != PSA_SUCCESS)
        die("psa_crypto_init");
    gen_core();
    gen_keys();
    gen_sign();
    gen_encrypt();
    gen_misc();
    gen_headers();
    gen_auth();
    gen_bincode();
    gen_base64();
    mbedtls_psa_crypto_free();
    return 0;
}
