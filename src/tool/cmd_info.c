/* The commands that ask the service about itself: ping, list-providers, list-authenticators,
 * list-opcodes, list-keys, list-clients, and delete-client. */
#include <stdio.h>

#include "common/log.h"
#include "tool/commands.h"
#include "tool/names.h"
#include "tool/tlog.h"

/* Strings the service sends (key and client names, provider descriptions) are printed with
 * their control characters escaped (\xNN), as the service's log does: a name must not drive
 * the terminal or fake lines of output. At most SHOW_BUF bytes of escaped text are printed per
 * string, the cut marked by "...". */
#define SHOW_BUF 4096

static const char *shown(char buf[SHOW_BUF], const char *s)
{
    return log_escape(buf, SHOW_BUF, s, 0);
}

static int run_ping(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    uint8_t maj = 0, min = 0;
    int rc = parsec_ping(t->client, &maj, &min);
    (void)spec;
    (void)a;
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, SUB_TARGET("ping"), "Service wire protocol version");
    printf("%u.%u\n", maj, min);
    return 0;
}

static const struct cmd_spec ping_spec = {
    .name = "ping",
    .about = "Check that the service answers and print its wire protocol version",
    .long_about = "Sends a Ping request without authentication and prints the highest version of "
                  "the wire protocol the service speaks, as <major>.<minor>. Useful to check "
                  "that the service runs and that PARSEC_SERVICE_ENDPOINT points at it.",
    .examples = "  $ parsec-tool ping\n"
                "  1.0\n"
                "  $ PARSEC_SERVICE_ENDPOINT=unix:/tmp/parsec.sock parsec-tool ping\n",
};

const struct subcommand cmd_ping = {&ping_spec, 1, NULL, run_ping};

static int run_list_providers(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    struct parsec_provider_info *p = NULL;
    size_t n = 0;
    int rc = parsec_list_providers(t->client, &p, &n);
    (void)spec;
    (void)a;
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, SUB_TARGET("list_providers"), "Available providers:");
    for (size_t i = 0; i < n; i++) {
        const char *name = names_provider(p[i].id);
        printf("ID: 0x%02x (%s)\n", p[i].id, name ? name : "Unknown provider");
        char b[SHOW_BUF];
        printf("Description: %s\n", shown(b, p[i].description));
        printf("Version: %u.%u.%u\n", p[i].version_maj, p[i].version_min, p[i].version_rev);
        printf("Vendor: %s\n", p[i].vendor[0] ? shown(b, p[i].vendor) : "Unspecified");
        printf("UUID: %s\n\n", shown(b, p[i].uuid));
    }
    parsec_provider_info_free(p, n);
    return 0;
}

static const struct cmd_spec list_providers_spec = {
    .name = "list-providers",
    .about = "Show the service's providers, highest priority first",
    .long_about = "Prints, for each provider in the service's priority order (Core last), its "
                  "id, description, version, vendor and UUID, followed by an empty line. The "
                  "first provider is the one the other commands use unless -p is given.",
    .examples = "  $ parsec-tool list-providers\n"
                "  ID: 0x01 (Mbed Crypto provider)\n"
                "  Description: User space software provider, based on Mbed Crypto - the "
                "reference implementation of the PSA crypto API\n"
                "  Version: 0.1.0\n"
                "  Vendor: Arm\n"
                "  UUID: 1c1139dc-ad7c-47dc-ad6b-db6fdb466552\n"
                "  ...\n"
                "  $ parsec-tool list-providers 2>/dev/null | grep '^ID:'\n",
};

const struct subcommand cmd_list_providers = {&list_providers_spec, 1, NULL, run_list_providers};

static int run_list_authenticators(struct tool *t, const struct cmd_spec *spec,
                                   const struct args *a)
{
    struct parsec_authenticator_info *p = NULL;
    size_t n = 0;
    int rc = parsec_list_authenticators(t->client, &p, &n);
    (void)spec;
    (void)a;
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, SUB_TARGET("list_authenticators"), "Available authenticators:");
    for (size_t i = 0; i < n; i++) {
        const char *name = names_auth(p[i].id);
        printf("ID: 0x%02x (%s)\n", p[i].id, name ? name : "Unknown authenticator");
        char b[SHOW_BUF];
        printf("Description: %s\n", shown(b, p[i].description));
        printf("Version: %u.%u.%u\n\n", p[i].version_maj, p[i].version_min, p[i].version_rev);
    }
    parsec_authenticator_info_free(p, n);
    return 0;
}

static const struct cmd_spec list_authenticators_spec = {
    .name = "list-authenticators",
    .about = "Show how the service tells its clients apart",
    .long_about = "Prints the authenticator the service uses to tell its clients apart: id, "
                  "description and version, followed by an empty line.",
    .examples = "  $ parsec-tool list-authenticators\n"
                "  ID: 0x03 (Unix Peer Credentials authentication)\n"
                "  Description: Uses Unix peer credentials to authenticate the client. ...\n"
                "  Version: 0.1.0\n",
};

const struct subcommand cmd_list_authenticators = {&list_authenticators_spec, 1, NULL,
                                                   run_list_authenticators};

static const struct arg_spec list_opcodes_opts[] = {
    {'p', "provider", ARG_U8, 0, "PROVIDER",
     "Provider to ask (0-5) [default: the global -p, else Core (0)]"},
};

static int run_list_opcodes(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    const struct arg_value *p = args_get(spec, a, "provider");
    int provider = parsec_client_provider(t->client);
    uint32_t *ops = NULL;
    size_t n = 0;
    if (p->count) {
        if (p->num > PARSEC_PROVIDER_ID_MAX)
            return tool_fail_text("no provider defined for requested provider ID",
                                  "ParsecInterfaceError(ProviderDoesNotExist)");
        provider = (int)p->num;
    }
    int rc = parsec_list_opcodes(t->client, provider, &ops, &n);
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, SUB_TARGET("list_opcodes"),
         "Available opcodes for %s:", names_provider((unsigned)provider));
    for (size_t i = 0; i < n; i++) {
        const char *name = names_opcode(ops[i]);
        printf("0x%02x (%s)\n", ops[i], name ? name : "Unknown");
    }
    parsec_opcodes_free(ops);
    return 0;
}

static const struct cmd_spec list_opcodes_spec = {
    .name = "list-opcodes",
    .about = "Show the operations a provider implements",
    .long_about = "Prints one line per operation the provider implements, as 0x<opcode> (<name>). "
                  "The order is the service's (unspecified). Without any -p the Core provider "
                  "is asked, not the default crypto provider.",
    .opts = list_opcodes_opts,
    .nopts = sizeof(list_opcodes_opts) / sizeof(list_opcodes_opts[0]),
    .examples = "  $ parsec-tool list-opcodes --provider 1\n"
                "  0x0d (PsaGenerateRandom)\n"
                "  0x02 (PsaGenerateKey)\n"
                "  ...\n"
                "  $ parsec-tool -p 1 list-opcodes 2>/dev/null | grep -q PsaGenerateRandom && "
                "echo has RNG\n",
};

const struct subcommand cmd_list_opcodes = {&list_opcodes_spec, 1, NULL, run_list_opcodes};

static int run_list_keys(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    struct parsec_key_info *k = NULL;
    size_t n = 0;
    int rc = parsec_list_keys(t->client, &k, &n);
    (void)spec;
    (void)a;
    if (rc != 0)
        return tool_fail_client(rc);
    if (n == 0) {
        parsec_key_info_free(k, n);
        tlog(TLOG_INFO, SUB_TARGET("list_keys"), "No keys currently available.");
        return 0;
    }
    tlog(TLOG_INFO, SUB_TARGET("list_keys"), "Available keys:");
    for (size_t i = 0; i < n; i++) {
        char type[NAMES_MAX], alg[NAMES_MAX], b[SHOW_BUF];
        const char *prov = names_provider(k[i].provider_id);
        names_key_type(k[i].attributes.type, type, sizeof(type));
        names_alg(k[i].attributes.alg, alg, sizeof(alg));
        printf("* %s (%s, %s, %zu bits, permitted algorithm: %s)\n", shown(b, k[i].name),
               prov ? prov : "Unknown provider", type, k[i].attributes.bits, alg);
    }
    parsec_key_info_free(k, n);
    return 0;
}

static const struct cmd_spec list_keys_spec = {
    .name = "list-keys",
    .about = "Show the keys of the calling application",
    .long_about = "Prints one line per key the service keeps for the calling application, on "
                  "every provider: name, provider, key type, size and permitted algorithm. "
                  "Nothing is printed on stdout when there is no key.",
    .examples = "  $ parsec-tool list-keys\n"
                "  * my-ecc-key (Mbed Crypto provider, EccKeyPair { curve_family: SecpR1 }, 256 "
                "bits, permitted algorithm: AsymmetricSignature(Ecdsa { hash_alg: "
                "Specific(Sha256) }))\n",
};

const struct subcommand cmd_list_keys = {&list_keys_spec, 0, NULL, run_list_keys};

static int run_list_clients(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    char **c = NULL;
    size_t n = 0;
    int rc = parsec_list_clients(t->client, &c, &n);
    (void)spec;
    (void)a;
    if (rc != 0)
        return tool_fail_client(rc);
    if (n == 0) {
        parsec_string_list_free(c, n);
        tlog(TLOG_INFO, SUB_TARGET("list_clients"), "No clients in the service.");
        return 0;
    }
    tlog(TLOG_INFO, SUB_TARGET("list_clients"), "Parsec clients:");
    for (size_t i = 0; i < n; i++) {
        char b[SHOW_BUF];
        printf("%s\n", shown(b, c[i]));
    }
    parsec_string_list_free(c, n);
    return 0;
}

static const struct cmd_spec list_clients_spec = {
    .name = "list-clients",
    .about = "Show the applications that own keys (administrators only)",
    .long_about = "Prints the name of every application that owns at least one key, one per "
                  "line. Only an application listed as an admin in the service configuration "
                  "may ask.",
    .examples = "  $ parsec-tool list-clients\n"
                "  1000\n"
                "  parsec-tool\n",
};

const struct subcommand cmd_list_clients = {&list_clients_spec, 0, NULL, run_list_clients};

static const struct arg_spec delete_client_opts[] = {
    {'c', "client", ARG_STRING, 1, "CLIENT", "Name of the application whose keys are deleted"},
};

static int run_delete_client(struct tool *t, const struct cmd_spec *spec, const struct args *a)
{
    const char *name = args_get(spec, a, "client")->str;
    int rc = parsec_delete_client(t->client, name);
    if (rc != 0)
        return tool_fail_client(rc);
    tlog(TLOG_INFO, SUB_TARGET("delete_client"), "Client \"%s\" deleted.", name);
    return 0;
}

static const struct cmd_spec delete_client_spec = {
    .name = "delete-client",
    .about = "Destroy every key of an application (administrators only)",
    .long_about = "Destroys every key the named application owns. Only an application listed "
                  "as an admin in the service configuration may do it. An unknown name is not "
                  "an error.",
    .opts = delete_client_opts,
    .nopts = sizeof(delete_client_opts) / sizeof(delete_client_opts[0]),
    .examples = "  $ parsec-tool delete-client --client 1000\n",
};

const struct subcommand cmd_delete_client = {&delete_client_spec, 0, NULL, run_delete_client};
