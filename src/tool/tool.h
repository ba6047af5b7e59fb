/* What every subcommand shares: the client, the command table entry, and the one error that
 * ends the run, printed by main as "Subcommand failed: <Display> (<Debug>)" with the texts the
 * original tool prints for the same failure. */
#ifndef PARSEC_TOOL_TOOL_H
#define PARSEC_TOOL_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "parsec/client.h"
#include "tool/args.h"

/* The version the tool reports; the original's release whose behaviour it follows. */
#define TOOL_VERSION "0.7.0"
/* Application name sent with Direct authentication: a constant, as in the original, so every
 * user of the tool shares one key namespace on a Direct-auth service. */
#define TOOL_APP_NAME "parsec-tool"
/* Exit statuses besides 0 and ARGS_USAGE_EXIT. */
#define TOOL_EXIT_FAILURE 1
#define TOOL_EXIT_STDOUT 101 /* stdout could not be written, as the original's panic */

struct tool {
    struct parsec_client *client;
};

struct subcommand {
    const struct cmd_spec *spec;
    int naked; /* no bootstrap requests: ping and the list commands that need no identity */
    /* Checks option values the parser cannot (NULL: none), before the client is created:
     * returns 0, or -1 after printing a usage error. */
    int (*validate)(const struct cmd_spec *spec, const struct args *a);
    /* Returns 0, or -1 after recording the error (tool_fail*). */
    int (*run)(struct tool *t, const struct cmd_spec *spec, const struct args *a);
};

/* The original tool's own error kinds. */
enum tool_kind {
    TOOL_NOT_SUPPORTED,
    TOOL_WRONG_KEY_ALGORITHM,
    TOOL_INCORRECT_DATA,
};

/* Each records the failure and returns -1. */
int tool_fail(enum tool_kind kind);
int tool_fail_client(int err);
int tool_fail_text(const char *display, const char *debug);

const char *tool_error_display(void);
const char *tool_error_debug(void);

/* Longest Display or Debug text of one error. */
#define TOOL_ERROR_MAX 512

/* The Display and Debug texts the original client gives a libparsec error, e.g.
 * "Connection refused (os error 111)" / "Client(Ipc(Os { code: 111, kind: ConnectionRefused,
 * message: \"Connection refused\" }))". errno must still hold the value the failed call left
 * when err is PARSEC_ERROR_CONNECT. */
void tool_client_error(int err, int os_errno, char *display, size_t dcap, char *debug, size_t bcap);

/* The key's attributes from ListKeys (first key of that name), recording the error. */
int tool_key_attributes(struct tool *t, const char *name, struct parsec_key_attributes *attrs);

/* PsaExportPublicKey into a malloc'd buffer (free with free()), recording the error. */
int tool_export_public_key(struct tool *t, const char *name, uint8_t **out, size_t *len);

#endif
