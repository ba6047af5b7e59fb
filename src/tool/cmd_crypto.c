/* The commands that use a key: sign, encrypt, decrypt. The data comes from the command line,
 * taken as the bytes given (no newline added, no conversion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool/b64.h"
#include "tool/commands.h"
#include "tool/names.h"
#include "tool/sign.h"
#include "tool/tlog.h"
#include "tool/utf8lossy.h"

/* Largest ciphertext or plaintext of an asymmetric operation the tool accepts back: an RSA
 * modulus of 16384 bits is 2048 bytes, far below. */
#define ASYM_OUT_MAX ((size_t)64 << 10)

static int print_base64(const uint8_t *p, size_t n)
{
    char *text = b64_encode(p, n);
    if (!text)
        return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
    printf("%s\n", text);
    free(text);
    return 0;
}

static int run_sign(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    const char *name = args_get(spec, a, "key-name")->str;
    struct parsec_key_attributes attrs;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    if (tool_key_attributes(t, name, &attrs) != 0)
        return -1;
    if (sign_with_policy(t, name, attrs.alg, 0, (const uint8_t *)a->positional,
                         strlen(a->positional), &sig, &sig_len) != 0)
        return -1;
    int rc = print_base64(sig, sig_len);
    free(sig);
    return rc;
}

static const struct arg_spec key_name_opt[] = {
    {'k', "key-name", ARG_STRING, 1, "KEY_NAME", "Name of the key to use"},
};

static const struct cmd_spec sign_spec = {
    .name = "sign",
    .about = "Sign text with a key's algorithm and print the signature in base64",
    .long_about = "Hashes INPUT_DATA with the hash of the key's policy (SHA-224/256/384/512), "
                  "has the service sign the digest, and prints the signature in base64 on one "
                  "line. ECDSA signatures are DER Ecdsa-Sig-Value structures, RSA signatures the "
                  "raw value: both verify with openssl dgst.",
    .opts = key_name_opt,
    .nopts = 1,
    .positional = "INPUT_DATA",
    .positional_help = "Text to sign; its bytes are used as given, without a newline",
    .examples = "  $ parsec-tool sign --key-name my-ecc-key \"hello\" > sig.b64\n"
                "  $ parsec-tool export-public-key -k my-ecc-key > pub.pem\n"
                "  $ openssl base64 -d -A -in sig.b64 -out sig.der\n"
                "  $ printf hello | openssl dgst -sha256 -verify pub.pem -signature sig.der\n"
                "  Verified OK\n",
};

const struct subcommand cmd_sign = {&sign_spec, 0, NULL, run_sign};

/* Checks that the key's policy is an asymmetric encryption; logs the original's errors. */
static int encryption_alg(psa_algorithm_t alg, const char *target, const char *what,
                          const char *cannot)
{
    char desc[NAMES_MAX];
    if (PSA_ALG_IS_ASYMMETRIC_ENCRYPTION(alg))
        return 0;
    names_alg(alg, desc, sizeof(desc));
    if (PSA_ALG_IS_CIPHER(alg) || PSA_ALG_IS_AEAD(alg)) {
        tlog(TLOG_ERROR, target, "Key's algorithm is %s which is not currently supported for %s.",
             desc, what);
        return tool_fail(TOOL_NOT_SUPPORTED);
    }
    tlog(TLOG_ERROR, target, "Key's algorithm is %s which %s be used for %s.", desc, cannot, what);
    return tool_fail(TOOL_WRONG_KEY_ALGORITHM);
}

/* One asymmetric operation into a malloc'd buffer, sized from the key and grown once if the
 * library asks for more. */
static int asymmetric(struct tool *t, int decrypt, const char *name, psa_algorithm_t alg,
                      size_t bits, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    size_t cap = bits / 8 + 1 > 512 ? bits / 8 + 1 : 512;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        size_t need = 0;
        int rc;
        if (!buf)
            return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
        if (decrypt)
            rc = parsec_asymmetric_decrypt(t->client, name, alg, in, in_len, NULL, 0, buf, cap,
                                           &need);
        else
            rc = parsec_asymmetric_encrypt(t->client, name, alg, in, in_len, NULL, 0, buf, cap,
                                           &need);
        if (rc == 0) {
            *out = buf;
            *out_len = need;
            return 0;
        }
        explicit_bzero(buf, cap);
        free(buf);
        if (rc != PARSEC_ERROR_BUFFER_TOO_SMALL || need > ASYM_OUT_MAX || need <= cap)
            return tool_fail_client(rc);
        cap = need;
    }
    return tool_fail_client(PARSEC_ERROR_BUFFER_TOO_SMALL);
}

static int run_encrypt(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("encrypt");
    const char *name = args_get(spec, a, "key-name")->str;
    struct parsec_key_attributes attrs;
    char desc[NAMES_MAX];
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    if (tool_key_attributes(t, name, &attrs) != 0 ||
        encryption_alg(attrs.alg, target, "encryption", "cannot") != 0)
        return -1;
    names_alg_inner(attrs.alg, desc, sizeof(desc));
    tlog(TLOG_INFO, target, "Encrypting data with %s...", desc);
    if (asymmetric(t, 0, name, attrs.alg, attrs.bits, (const uint8_t *)a->positional,
                   strlen(a->positional), &ct, &ct_len) != 0)
        return -1;
    int rc = print_base64(ct, ct_len);
    free(ct);
    return rc;
}

static const struct cmd_spec encrypt_spec = {
    .name = "encrypt",
    .about = "Encrypt text with a key's algorithm and print the ciphertext in base64",
    .long_about = "Encrypts INPUT_DATA with the key's algorithm (RSA PKCS#1 v1.5 or RSA OAEP), "
                  "without a label, and prints the ciphertext in base64 on one line. The "
                  "encryption is done by the service.",
    .opts = key_name_opt,
    .nopts = 1,
    .positional = "INPUT_DATA",
    .positional_help = "Text to encrypt; its bytes are used as given, without a newline",
    .examples = "  $ parsec-tool create-rsa-key -k my-enc-key\n"
                "  $ parsec-tool encrypt -k my-enc-key \"secret\" > secret.b64\n"
                "  $ parsec-tool decrypt -k my-enc-key \"$(cat secret.b64)\"\n"
                "  secret\n",
};

const struct subcommand cmd_encrypt = {&encrypt_spec, 0, NULL, run_encrypt};

static int run_decrypt(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    static const char target[] = SUB_TARGET("decrypt");
    const char *name = args_get(spec, a, "key-name")->str;
    struct parsec_key_attributes attrs;
    struct b64_status st;
    char desc[NAMES_MAX];
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    int rc = -1;
    /* The ciphertext is decoded before anything is sent, as the original does. */
    if (b64_decode(a->positional, strlen(a->positional), &ct, &ct_len, &st) != 0) {
        char display[128], debug[128], wrapped[160];
        if (st.err == B64_NO_MEMORY)
            return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
        b64_error_display(&st, display, sizeof(display));
        b64_error_debug(&st, debug, sizeof(debug));
        snprintf(wrapped, sizeof(wrapped), "Base64Decode(%s)", debug);
        return tool_fail_text(display, wrapped);
    }
    if (tool_key_attributes(t, name, &attrs) != 0 ||
        encryption_alg(attrs.alg, target, "decryption", "can not") != 0)
        goto out;
    names_alg_inner(attrs.alg, desc, sizeof(desc));
    tlog(TLOG_INFO, target, "Decrypting data with %s...", desc);
    if (asymmetric(t, 1, name, attrs.alg, attrs.bits, ct, ct_len, &pt, &pt_len) != 0)
        goto out;
    (void)utf8_lossy_write(stdout, pt, pt_len);
    putchar('\n');
    rc = 0;
out:
    if (pt) {
        explicit_bzero(pt, pt_len);
        free(pt);
    }
    free(ct);
    return rc;
}

static const struct cmd_spec decrypt_spec = {
    .name = "decrypt",
    .about = "Decrypt base64 data with a key's algorithm and print the text",
    .long_about = "Decodes INPUT_DATA from base64 (standard alphabet, padding optional), has the "
                  "service decrypt it with the key's algorithm, and prints the plaintext as "
                  "text followed by a newline (bytes that are not UTF-8 are shown as U+FFFD).",
    .opts = key_name_opt,
    .nopts = 1,
    .positional = "INPUT_DATA",
    .positional_help = "The ciphertext in base64",
    .examples = "  $ parsec-tool export-public-key -k my-enc-key > pub.pem\n"
                "  $ printf secret | openssl pkeyutl -encrypt -pubin -inkey pub.pem | "
                "openssl base64 -A > ct.b64\n"
                "  $ parsec-tool decrypt -k my-enc-key \"$(cat ct.b64)\"\n"
                "  secret\n"
                "  (for an OAEP key add -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 "
                "to pkeyutl)\n",
};

const struct subcommand cmd_decrypt = {&decrypt_spec, 0, NULL, run_decrypt};
