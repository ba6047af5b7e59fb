/* parsec-tool: the Parsec service from the command line, a drop-in replacement for the
 * original Rust tool (same subcommands, flags, output, log lines and exit statuses). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "tool/commands.h"
#include "tool/names.h"
#include "tool/tlog.h"

static const struct subcommand *const commands[] = {
    &cmd_ping,
    &cmd_list_providers,
    &cmd_list_authenticators,
    &cmd_list_opcodes,
    &cmd_list_keys,
    &cmd_generate_random,
    &cmd_export_public_key,
    &cmd_create_rsa_key,
    &cmd_create_ecc_key,
    &cmd_decrypt,
    &cmd_sign,
    &cmd_delete_key,
    &cmd_list_clients,
    &cmd_delete_client,
    &cmd_create_csr,
    &cmd_encrypt,
    &cmd_create_self_signed_cert,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct arg_spec global_opts[] = {
    {'p', "provider", ARG_U8, 0, "PROVIDER",
     "Provider for the cryptographic operations: 0 Core, 1 Mbed Crypto, 2 PKCS #11, 3 TPM, "
     "4 Trusted Service, 5 CryptoAuthentication Library [default: the first one the service "
     "lists]"},
    {'t', "timeout", ARG_U32, 0, "TIMEOUT",
     "Seconds each request may wait for the service, 0 for no limit [default: 60]"},
    {'V', "version", ARG_FLAG, 0, NULL, "Print version"},
};

static const struct cmd_spec *command_specs[NCOMMANDS];

static struct cmd_spec global_spec = {
    .name = "parsec-tool",
    .about = "Command-line client of the Parsec security service",
    .long_about = "Talks to the Parsec service found at PARSEC_SERVICE_ENDPOINT (default "
                  "unix:/run/parsec/parsec.sock). Results go to stdout, log lines to stderr "
                  "(RUST_LOG sets the level: error, warn, info, debug, trace or off; default "
                  "info). Exit status: 0 success, 1 failure, 2 usage error.",
    .opts = global_opts,
    .nopts = sizeof(global_opts) / sizeof(global_opts[0]),
    .commands = command_specs,
    .ncommands = NCOMMANDS,
    .has_commands = 1,
    .examples = "  $ parsec-tool ping\n"
                "  $ parsec-tool create-ecc-key -k my-key\n"
                "  $ parsec-tool sign -k my-key \"message\"\n"
                "  $ parsec-tool -p 1 list-opcodes\n"
                "  $ parsec-tool help create-csr\n",
};

static void list_commands(void)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        command_specs[i] = commands[i]->spec;
}

static const struct subcommand *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->spec->name, name) == 0)
            return commands[i];
    return NULL;
}

/* "help" and "help <subcommand>". */
static int run_help(int argc, char **argv)
{
    char prog[64];
    if (argc < 1) {
        args_print_help(&global_spec, "parsec-tool", stdout);
        return 0;
    }
    const struct subcommand *c = find_command(argv[0]);
    if (!c) {
        args_usage_error(&global_spec, "parsec-tool", "unrecognized subcommand '%s'", argv[0]);
        return ARGS_USAGE_EXIT;
    }
    snprintf(prog, sizeof(prog), "parsec-tool %s", c->spec->name);
    args_print_help(c->spec, prog, stdout);
    return 0;
}

/* The original reads its arguments as Rust strings, which must be UTF-8. */
static int arguments_utf8(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!utf8_valid((const uint8_t *)argv[i], strlen(argv[i]))) {
            fputs("error: invalid UTF-8 was detected in one or more arguments\n\n", stderr);
            args_print_usage(&global_spec, "parsec-tool", stderr);
            fputs("\nFor more information, try '--help'.\n", stderr);
            return -1;
        }
    }
    return 0;
}

/* The run after the arguments were understood: client, provider, timeout, subcommand. */
static int run(const struct subcommand *c, const struct args *global, const struct args *a)
{
    struct parsec_client_config cfg = {.app_name = TOOL_APP_NAME};
    struct tool t = {0};
    const struct arg_value *provider = args_get(&global_spec, global, "provider");
    const struct arg_value *timeout = args_get(&global_spec, global, "timeout");
    int status = TOOL_EXIT_FAILURE;
    if (c->naked)
        cfg.flags |= PARSEC_CLIENT_NAKED;
    int rc = parsec_client_new(&t.client, &cfg);
    if (rc != 0) {
        char display[TOOL_ERROR_MAX], debug[TOOL_ERROR_MAX];
        tool_client_error(rc, errno, display, sizeof(display), debug, sizeof(debug));
        tlog(TLOG_ERROR, TOOL_TARGET, "Error spinning up the BasicClient: %s", display);
        return TOOL_EXIT_FAILURE;
    }
    if (provider->count) {
        if (provider->num > PARSEC_PROVIDER_ID_MAX) {
            tlog(TLOG_ERROR, TOOL_TARGET,
                 "The provider ID entered does not map with an existing provider");
            goto out;
        }
        parsec_client_set_provider(t.client, (int)provider->num);
    }
    /* Set after the bootstrap, as the original does: its two requests keep the default. */
    if (timeout->count)
        parsec_client_set_timeout(t.client, timeout->num == 0 ? PARSEC_TIMEOUT_INFINITE
                                                              : timeout->num * 1000u);
    if (c->run(&t, c->spec, a) != 0) {
        tlog(TLOG_ERROR, TOOL_TARGET, "Subcommand failed: %s (%s)", tool_error_display(),
             tool_error_debug());
        goto out;
    }
    status = 0;
out:
    parsec_client_free(t.client);
    return status;
}

int main(int argc, char **argv)
{
    struct args global, a;
    char prog[64];
    /* A closed stdout must show as a write error, not kill the tool silently. */
    signal(SIGPIPE, SIG_IGN);
    tlog_init();
    list_commands();
    if (argc < 2) {
        args_print_help(&global_spec, "parsec-tool", stderr);
        return ARGS_USAGE_EXIT;
    }
    if (arguments_utf8(argc, argv) != 0)
        return ARGS_USAGE_EXIT;
    switch (args_parse(&global_spec, "parsec-tool", argc - 1, argv + 1, &global)) {
    case ARGS_HELP:
        return 0;
    case ARGS_ERROR:
        return ARGS_USAGE_EXIT;
    default:
        break;
    }
    if (args_get(&global_spec, &global, "version")->count) {
        printf("parsec-tool %s\n", TOOL_VERSION);
        return 0;
    }
    int first = 1 + global.command;
    if (first >= argc) {
        fputs("error: 'parsec-tool' requires a subcommand but one was not provided\n\n", stderr);
        args_print_usage(&global_spec, "parsec-tool", stderr);
        fputs("\nFor more information, try '--help'.\n", stderr);
        return ARGS_USAGE_EXIT;
    }
    if (strcmp(argv[first], "help") == 0)
        return run_help(argc - first - 1, argv + first + 1);
    const struct subcommand *c = find_command(argv[first]);
    if (!c) {
        args_usage_error(&global_spec, "parsec-tool", "unrecognized subcommand '%s'", argv[first]);
        return ARGS_USAGE_EXIT;
    }
    snprintf(prog, sizeof(prog), "parsec-tool %s", c->spec->name);
    switch (args_parse(c->spec, prog, argc - first - 1, argv + first + 1, &a)) {
    case ARGS_HELP:
        return fflush(stdout) == 0 ? 0 : TOOL_EXIT_STDOUT;
    case ARGS_ERROR:
        return ARGS_USAGE_EXIT;
    default:
        break;
    }
    if (c->validate && c->validate(c->spec, &a) != 0)
        return ARGS_USAGE_EXIT;
    int status = run(c, &global, &a);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        fprintf(stderr, "parsec-tool: failed printing to stdout: %s (os error %d)\n", strerror(e),
                e);
        return TOOL_EXIT_STDOUT;
    }
    return status;
}
