/* Key management commands: create-rsa-key, create-ecc-key, delete-key, export-public-key, and
 * generate-random. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool/commands.h"
#include "tool/der.h"
#include "tool/pem.h"
#include "tool/spki.h"
#include "tool/tlog.h"

/* Most random bytes one generate-random prints: far above any use, low enough that a typo does
 * not make the tool allocate gigabytes. */
#define GENERATE_RANDOM_MAX ((size_t)256 << 20)

static const struct arg_spec key_name_opt[] = {
    {'k', "key-name", ARG_STRING, 1, "KEY_NAME", "Name of the key"},
};

static int run_generate_random(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("generate_random");
    size_t n = (size_t)args_get(spec, a, "nbytes")->num;
    tlog(TLOG_INFO, target, "Generating %zu random bytes...", n);
    if (n > GENERATE_RANDOM_MAX) {
        tlog(TLOG_ERROR, target, "At most %zu random bytes can be generated at once.",
             GENERATE_RANDOM_MAX);
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
    int rc = parsec_generate_random(t->client, buf, n);
    if (rc != 0) {
        free(buf);
        return tool_fail_client(rc);
    }
    tlog(TLOG_INFO, target, "Random bytes:");
    for (size_t i = 0; i < n; i++)
        printf("%02X ", buf[i]);
    putchar('\n');
    explicit_bzero(buf, n);
    free(buf);
    return 0;
}

static const struct arg_spec generate_random_opts[] = {
    {'n', "nbytes", ARG_USIZE, 1, "NBYTES", "Number of random bytes to generate"},
};

static const struct cmd_spec generate_random_spec = {
    .name = "generate-random",
    .about = "Print random bytes from the provider's generator",
    .long_about = "Asks the provider's random generator for NBYTES bytes and prints each as two "
                  "upper-case hex digits followed by a space, then a newline.",
    .opts = generate_random_opts,
    .nopts = 1,
    .examples = "  $ parsec-tool generate-random --nbytes 4\n"
                "  4B 9B FB 11 \n"
                "  $ parsec-tool -p 1 generate-random -n 32 2>/dev/null | tr -d ' '\n",
};

const struct subcommand cmd_generate_random = {&generate_random_spec, 0, NULL, run_generate_random};

static int run_export_public_key(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("export_public_key");
    const char *name = args_get(spec, a, "key-name")->str;
    int pkcs1 = args_get(spec, a, "pkcs1")->count > 0;
    struct parsec_key_attributes attrs;
    uint8_t *pub = NULL;
    size_t pub_len = 0;
    struct der d;
    int rc = -1;
    der_init(&d);
    if (tool_export_public_key(t, name, &pub, &pub_len) != 0 ||
        tool_key_attributes(t, name, &attrs) != 0)
        goto out;
    if (PSA_KEY_TYPE_IS_RSA(attrs.type) && pkcs1) {
        if (pem_write(stdout, "RSA PUBLIC KEY", pub, pub_len) == 0)
            rc = 0;
        goto out;
    }
    if (PSA_KEY_TYPE_IS_ECC(attrs.type) && pkcs1) {
        tlog(TLOG_ERROR, target, "PKCS1 format doesn't support ECC keys");
        tool_fail(TOOL_WRONG_KEY_ALGORITHM);
        goto out;
    }
    if (spki_put(&d, target, attrs.type, attrs.bits, pub, pub_len, 0) != 0)
        goto out;
    if (der_finish(&d) != 0) {
        tlog(TLOG_ERROR, target, "Could not serialise the public key");
        tool_fail(TOOL_INCORRECT_DATA);
        goto out;
    }
    (void)pem_write(stdout, "PUBLIC KEY", d.buf, d.len);
    rc = 0;
out:
    free(pub);
    der_free(&d);
    return rc;
}

static const struct arg_spec export_public_key_opts[] = {
    {'k', "key-name", ARG_STRING, 1, "KEY_NAME", "Name of the key whose public part is exported"},
    {0, "pkcs1", ARG_FLAG, 0, NULL,
     "For an RSA key, print the PKCS#1 RSAPublicKey (RSA PUBLIC KEY) instead of the "
     "SubjectPublicKeyInfo (PUBLIC KEY)"},
};

static const struct cmd_spec export_public_key_spec = {
    .name = "export-public-key",
    .about = "Print the public part of a key in PEM",
    .long_about =
        "Prints the public key as a PEM \"PUBLIC KEY\" block (X.509 SubjectPublicKeyInfo) "
        "that OpenSSL and other tools read directly. RSA keys can also be printed in "
        "PKCS#1 form with --pkcs1.",
    .opts = export_public_key_opts,
    .nopts = 2,
    .examples = "  $ parsec-tool export-public-key --key-name my-key > my-key.pem\n"
                "  $ openssl pkey -pubin -in my-key.pem -noout -text\n"
                "  $ parsec-tool export-public-key -k my-rsa-key --pkcs1\n",
};

const struct subcommand cmd_export_public_key = {&export_public_key_spec, 0, NULL,
                                                 run_export_public_key};

static int generate(struct tool *t, const char *target, const char *name,
                    const struct parsec_key_attributes *attrs)
{
    int rc = parsec_generate_key(t->client, name, attrs);
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, target, "Key \"%s\" created.", name);
    return 0;
}

/* Signing keys may sign and verify both hashes and messages. */
#define SIGN_USAGE                                                                                 \
    (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_SIGN_MESSAGE |            \
     PSA_KEY_USAGE_VERIFY_MESSAGE)

static int run_create_rsa_key(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("create_rsa_key");
    const struct arg_value *bits = args_get(spec, a, "bits");
    struct parsec_key_attributes attrs = {
        .type = PSA_KEY_TYPE_RSA_KEY_PAIR,
        /* Not checked here: the service and its back-end decide which sizes they support. */
        .bits = bits->count ? (size_t)bits->num : 2048,
    };
    if (args_get(spec, a, "for-signing")->count) {
        tlog(TLOG_INFO, target, "Creating RSA signing key with PKCS1 v1.5 scheme...");
        attrs.usage = SIGN_USAGE;
        attrs.alg = PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_SHA_256);
    } else if (args_get(spec, a, "for-signing-pss")->count) {
        tlog(TLOG_INFO, target, "Creating RSA signing key with PSS scheme...");
        attrs.usage = SIGN_USAGE;
        attrs.alg = PSA_ALG_RSA_PSS(PSA_ALG_SHA_256);
    } else {
        tlog(TLOG_INFO, target, "Creating RSA encryption key...");
        attrs.usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT;
        attrs.alg = args_get(spec, a, "oaep")->count ? PSA_ALG_RSA_OAEP(PSA_ALG_SHA_256)
                                                     : PSA_ALG_RSA_PKCS1V15_CRYPT;
    }
    return generate(t, target, args_get(spec, a, "key-name")->str, &attrs);
}

static const struct arg_spec create_rsa_key_opts[] = {
    {'k', "key-name", ARG_STRING, 1, "KEY_NAME", "Name of the new key"},
    {'s', "for-signing", ARG_FLAG, 0, NULL,
     "Make a signing key (RSA PKCS#1 v1.5 with SHA-256) instead of an encryption key; "
     "wins over -r"},
    {'r', "for-signing-pss", ARG_FLAG, 0, NULL, "Make a signing key for RSA-PSS with SHA-256"},
    {'b', "bits", ARG_USIZE, 0, "BITS", "Size of the key in bits [default: 2048]"},
    {'o', "oaep", ARG_FLAG, 0, NULL,
     "Make the encryption key use RSA OAEP with SHA-256 instead of PKCS#1 v1.5 (ignored "
     "with -s or -r)"},
};

static const struct cmd_spec create_rsa_key_spec = {
    .name = "create-rsa-key",
    .about = "Create an RSA key pair, for PKCS#1 v1.5 encryption unless told otherwise",
    .long_about = "The key is generated and kept by the service; its private part never leaves "
                  "it. Keys are persistent and cannot be exported, but their public part can "
                  "(export-public-key).",
    .opts = create_rsa_key_opts,
    .nopts = sizeof(create_rsa_key_opts) / sizeof(create_rsa_key_opts[0]),
    .examples = "  $ parsec-tool create-rsa-key --key-name my-enc-key\n"
                "  $ parsec-tool create-rsa-key -k my-oaep-key --oaep --bits 3072\n"
                "  $ parsec-tool create-rsa-key -k my-sign-key --for-signing\n"
                "  $ parsec-tool create-rsa-key -k my-pss-key --for-signing-pss\n",
};

const struct subcommand cmd_create_rsa_key = {&create_rsa_key_spec, 0, NULL, run_create_rsa_key};

static int run_create_ecc_key(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("create_ecc_key");
    const struct parsec_key_attributes attrs = {
        .type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
        .bits = 256,
        .usage = SIGN_USAGE,
        .alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256),
    };
    tlog(TLOG_INFO, target, "Creating ECC signing key...");
    return generate(t, target, args_get(spec, a, "key-name")->str, &attrs);
}

static const struct cmd_spec create_ecc_key_spec = {
    .name = "create-ecc-key",
    .about = "Create an ECC key pair on P-256 that signs with ECDSA and SHA-256",
    .long_about = "The key is generated and kept by the service; its private part never leaves "
                  "it. Use it with sign, create-csr and create-self-signed-cert.",
    .opts = key_name_opt,
    .nopts = 1,
    .examples = "  $ parsec-tool create-ecc-key --key-name my-ecc-key\n"
                "  $ parsec-tool sign -k my-ecc-key \"hello\"\n",
};

const struct subcommand cmd_create_ecc_key = {&create_ecc_key_spec, 0, NULL, run_create_ecc_key};

static int run_delete_key(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("delete_key");
    const char *name = args_get(spec, a, "key-name")->str;
    tlog(TLOG_INFO, target, "Deleting a key...");
    int rc = parsec_destroy_key(t->client, name);
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, target, "Key \"%s\" deleted.", name);
    return 0;
}

static const struct cmd_spec delete_key_spec = {
    .name = "delete-key",
    .about = "Destroy a key",
    .long_about = "Destroys the key in the provider it was created in: give the same -p as when "
                  "it was created.",
    .opts = key_name_opt,
    .nopts = 1,
    .examples = "  $ parsec-tool delete-key --key-name my-key\n"
                "  $ parsec-tool -p 3 delete-key -k my-tpm-key\n",
};

const struct subcommand cmd_delete_key = {&delete_key_spec, 0, NULL, run_delete_key};
