/* create-csr (PKCS#10 request) and create-self-signed-cert (X.509 v3 certificate), both signed
 * by a key that stays in the service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "tool/commands.h"
#include "tool/der.h"
#include "tool/pem.h"
#include "tool/spki.h"
#include "tool/tlog.h"
#include "tool/x509.h"

/* Octets of a random serial number: 127 random bits, positive, well within RFC 5280's 20. */
#define CERT_RANDOM_SERIAL_LEN 16
#define CERT_DEFAULT_DAYS 365
#define SECONDS_PER_DAY 86400

/* The options both commands share, first in both tables, in this order. */
#define SUBJECT_OPTS                                                                               \
    {'k', "key-name", ARG_STRING,                                                                  \
     1,   "KEY_NAME", "Name of an existing signing key (RSA, or ECC on P-256 or P-384)"},          \
        {0, "cn", ARG_STRING, 0, "CN", "Common name (CN) of the subject"},                         \
        {0, "l", ARG_STRING, 0, "L", "Locality name (L) of the subject"},                          \
        {0, "o", ARG_STRING, 0, "O", "Organization name (O) of the subject"},                      \
        {0, "ou", ARG_STRING, 0, "OU", "Organizational unit name (OU) of the subject"},            \
        {0, "st", ARG_STRING, 0, "ST", "State or province name (ST) of the subject"},              \
        {0, "c", ARG_STRING, 0, "C", "Country name (C) of the subject"},                           \
        {0, "serialNumber",  ARG_STRING,                                                           \
         0, "SERIAL_NUMBER", "Serial number attribute (serialNumber) of the subject's name"},      \
    {                                                                                              \
        0, "san", ARG_MULTI, 0, "SAN",                                                             \
            "A subject alternative name: an IPv4/IPv6 address becomes an iPAddress, anything "     \
            "else a dNSName. Repeat the option for several names"                                  \
    }

/* Everything the two commands have in common up to the signature. */
struct cert_job {
    struct x509_subject subject;
    struct parsec_key_attributes attrs;
    struct x509_key key;
    uint8_t *pub;
    size_t pub_len;
    struct der spki;
};

static void job_free(struct cert_job *j)
{
    free(j->pub);
    der_free(&j->spki);
}

/* Public key and policy of the key, signature algorithm, SubjectPublicKeyInfo, SAN check: in
 * the order of the original create-csr (PsaExportPublicKey, then ListKeys). */
static int job_prepare(struct tool *t, const struct cmd_spec *spec, const struct args *a,
                       const char *target, struct cert_job *j)
{
    const struct arg_value *san = args_get(spec, a, "san");
    memset(j, 0, sizeof(*j));
    der_init(&j->spki);
    j->subject.cn = args_get(spec, a, "cn")->str;
    j->subject.ou = args_get(spec, a, "ou")->str;
    j->subject.o = args_get(spec, a, "o")->str;
    j->subject.l = args_get(spec, a, "l")->str;
    j->subject.st = args_get(spec, a, "st")->str;
    j->subject.c = args_get(spec, a, "c")->str;
    j->subject.serial_number = args_get(spec, a, "serialNumber")->str;
    j->subject.san = san->values;
    j->subject.nsan = san->count;
    j->key.name = args_get(spec, a, "key-name")->str;
    if (tool_export_public_key(t, j->key.name, &j->pub, &j->pub_len) != 0 ||
        tool_key_attributes(t, j->key.name, &j->attrs) != 0 ||
        x509_choose_sigalg(target, &j->attrs, &j->key.alg) != 0)
        return -1;
    psa_algorithm_t pss = j->key.alg.scheme == X509_RSA_PSS ? j->key.alg.hash : 0;
    if (spki_put(&j->spki, target, j->attrs.type, j->attrs.bits, j->pub, j->pub_len, pss) != 0)
        return -1;
    if (der_finish(&j->spki) != 0) {
        tlog(TLOG_ERROR, target, "Could not serialise the public key");
        return tool_fail(TOOL_INCORRECT_DATA);
    }
    j->key.attrs = &j->attrs;
    j->key.spki = j->spki.buf;
    j->key.spki_len = j->spki.len;
    j->key.pub = j->pub;
    j->key.pub_len = j->pub_len;
    return x509_check_sans(&j->subject);
}

static int run_create_csr(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    struct cert_job j;
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = -1;
    if (job_prepare(t, spec, a, SUB_TARGET("create_csr"), &j) != 0 ||
        x509_make_csr(t, &j.key, &j.subject, &der, &len) != 0)
        goto out;
    /* The original prints the PEM text with println!, hence one more empty line. */
    if (pem_write(stdout, "CERTIFICATE REQUEST", der, len) == 0)
        putchar('\n');
    rc = 0;
out:
    free(der);
    job_free(&j);
    return rc;
}

static const struct arg_spec create_csr_opts[] = {SUBJECT_OPTS};

static const struct cmd_spec create_csr_spec = {
    .name = "create-csr",
    .about = "Print a certificate signing request (PKCS#10) signed by a key",
    .long_about =
        "Prints a PEM PKCS#10 request for the key's public part, signed by the key in the "
        "service with the algorithm its policy names: RSA PKCS#1 v1.5 (SHA-256/384/512), "
        "RSA-PSS (SHA-256/384) or ECDSA (P-256 with SHA-256, P-384 with SHA-384). The subject "
        "is written in the fixed order CN, OU, O, L, ST, C, serialNumber; SANs go in an "
        "extensionRequest attribute.",
    .opts = create_csr_opts,
    .nopts = sizeof(create_csr_opts) / sizeof(create_csr_opts[0]),
    .examples = "  $ parsec-tool create-ecc-key -k my-key\n"
                "  $ parsec-tool create-csr -k my-key --cn example.com --o \"Example Ltd\" \\\n"
                "        --san example.com --san 192.0.2.1 > my-key.csr\n"
                "  $ openssl req -in my-key.csr -noout -text -verify\n",
};

const struct subcommand cmd_create_csr = {&create_csr_spec, 0, NULL, run_create_csr};

/* Parses a certificate serial number: decimal, or hexadecimal after "0x". Big-endian bytes
 * into p->serial. Returns 0 or -1 (malformed, zero, or longer than X509_SERIAL_MAX octets
 * once encoded). */
static int parse_serial(const char *s, struct x509_cert_params *p)
{
    uint8_t v[X509_SERIAL_MAX + 1] = {0}; /* one spare octet: room for DER's sign octet */
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned base = hex ? 16 : 10;
    const char *q = hex ? s + 2 : s;
    if (!*q)
        return -1;
    for (; *q; q++) {
        unsigned d;
        if (*q >= '0' && *q <= '9')
            d = (unsigned)(*q - '0');
        else if (hex && *q >= 'a' && *q <= 'f')
            d = (unsigned)(*q - 'a' + 10);
        else if (hex && *q >= 'A' && *q <= 'F')
            d = (unsigned)(*q - 'A' + 10);
        else
            return -1;
        for (size_t i = sizeof(v); i-- > 0;) {
            unsigned x = v[i] * base + d;
            v[i] = (uint8_t)(x & 0xff);
            d = x >> 8;
        }
        if (d)
            return -1;
    }
    size_t first = 0;
    while (first < sizeof(v) && v[first] == 0)
        first++;
    /* The encoded INTEGER holds a 0x00 before a high first bit: count it in the limit. */
    if (first == sizeof(v) || sizeof(v) - first + ((v[first] & 0x80) ? 1 : 0) > X509_SERIAL_MAX)
        return -1;
    p->serial_len = sizeof(v) - first;
    memcpy(p->serial, v + first, p->serial_len);
    return 0;
}

static int validate_cert(const struct cmd_spec *spec, const struct args *a)
{
    static const char prog[] = "parsec-tool create-self-signed-cert";
    const struct arg_value *days = args_get(spec, a, "days");
    const struct arg_value *serial = args_get(spec, a, "serial");
    struct x509_cert_params p;
    if (days->count && days->num == 0) {
        args_usage_error(spec, prog,
                         "invalid value '%s' for '--days <DAYS>': a certificate is valid for at "
                         "least one day",
                         days->str);
        return -1;
    }
    if (serial->count && parse_serial(serial->str, &p) != 0) {
        args_usage_error(spec, prog,
                         "invalid value '%s' for '--serial <SERIAL>': expected a positive "
                         "decimal or 0x-prefixed hexadecimal number of at most %d octets",
                         serial->str, X509_SERIAL_MAX);
        return -1;
    }
    return 0;
}

static int run_create_self_signed_cert(struct tool *t, const struct cmd_spec *spec,
                                       const struct args *a)
{
    static const char target[] = SUB_TARGET("create_self_signed_cert");
    const struct arg_value *days = args_get(spec, a, "days");
    const struct arg_value *serial = args_get(spec, a, "serial");
    struct x509_cert_params p;
    struct cert_job j;
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = -1;
    memset(&p, 0, sizeof(p));
    if (serial->count)
        (void)parse_serial(serial->str, &p); /* checked by validate_cert */
    if (!serial->count) {
        p.serial_len = CERT_RANDOM_SERIAL_LEN;
        if (RAND_bytes(p.serial, CERT_RANDOM_SERIAL_LEN) != 1)
            return tool_fail_text("no random serial number could be drawn",
                                  "OpenSslError(RAND_bytes)");
        p.serial[0] = (uint8_t)((p.serial[0] & 0x7f) | 0x40); /* positive, full length */
    }
    p.ca = args_get(spec, a, "ca")->count > 0;
    p.not_before = time(NULL);
    p.not_after =
        p.not_before + (time_t)(days->count ? days->num : CERT_DEFAULT_DAYS) * SECONDS_PER_DAY;
    if (job_prepare(t, spec, a, target, &j) != 0)
        goto out;
    /* A certificate's issuer name may not be empty (RFC 5280 §4.1.2.4): without any name
     * attribute, the key's name is the common name. */
    if (!j.subject.cn && !j.subject.ou && !j.subject.o && !j.subject.l && !j.subject.st &&
        !j.subject.c && !j.subject.serial_number)
        j.subject.cn = j.key.name;
    if (x509_make_cert(t, &j.key, &j.subject, &p, &der, &len) != 0)
        goto out;
    (void)pem_write(stdout, "CERTIFICATE", der, len);
    tlog(TLOG_INFO, target, "Certificate for key \"%s\" created.", j.key.name);
    rc = 0;
out:
    free(der);
    job_free(&j);
    return rc;
}

static const struct arg_spec create_self_signed_cert_opts[] = {
    SUBJECT_OPTS,
    {0, "days", ARG_U32, 0, "DAYS", "Validity period in days from now [default: 365]"},
    {0, "serial", ARG_STRING, 0, "SERIAL",
     "Certificate serial number, decimal or 0x-prefixed hex [default: 127 random bits]"},
    {0, "ca", ARG_FLAG, 0, NULL,
     "Make a CA certificate (basicConstraints cA, keyCertSign and cRLSign)"},
};

static const struct cmd_spec create_self_signed_cert_spec = {
    .name = "create-self-signed-cert",
    .about = "Print a self-signed X.509 certificate made with a key",
    .long_about =
        "Prints a PEM X.509 v3 certificate for the key's public part, issued to and by the same "
        "subject and signed by the key in the service (the private key never leaves it), with "
        "the algorithm chosen as for create-csr. Extensions: basicConstraints and keyUsage "
        "(critical), subject and authority key identifiers, and the SANs. Without any name "
        "option the common name is the key's name.",
    .opts = create_self_signed_cert_opts,
    .nopts = sizeof(create_self_signed_cert_opts) / sizeof(create_self_signed_cert_opts[0]),
    .examples = "  $ parsec-tool create-ecc-key -k web\n"
                "  $ parsec-tool create-self-signed-cert -k web --cn localhost --san localhost \\\n"
                "        --san 127.0.0.1 --days 90 > web.crt\n"
                "  $ openssl x509 -in web.crt -noout -text\n"
                "  $ parsec-tool create-rsa-key -k root --for-signing --bits 3072\n"
                "  $ parsec-tool create-self-signed-cert -k root --cn \"My Root CA\" --ca "
                "--days 3650 > root.crt\n"
                "  $ openssl verify -CAfile root.crt root.crt\n",
};

const struct subcommand cmd_create_self_signed_cert = {&create_self_signed_cert_spec, 0,
                                                       validate_cert, run_create_self_signed_cert};
