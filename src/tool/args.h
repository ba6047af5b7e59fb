/* Command-line parsing with the rules the original tool's parser (clap 4) applies, so that
 * existing scripts keep working and the same mistakes are refused:
 *   --opt v, --opt=v, -o v, -ov, -o=v; boolean short flags cluster (-sr, -sk NAME);
 *   a value that starts with '-' is taken as an option, so it is refused as a value;
 *   "--" ends the options; every option may appear once except repeatable ones;
 *   -h/--help anywhere prints the help, even when required arguments are missing.
 * Usage errors are printed on stderr and give exit status ARGS_USAGE_EXIT. */
#ifndef PARSEC_TOOL_ARGS_H
#define PARSEC_TOOL_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of a usage error. The original tool's HEAD (clap 4) exits with 2; its released
 * versions (clap 2) exit with 1. This tool follows HEAD, as most command-line tools do. */
#define ARGS_USAGE_EXIT 2

/* Most options one command has, and most values a repeatable option may collect. */
#define ARGS_MAX_OPTS 16
#define ARGS_MAX_VALUES 64

enum arg_type {
    ARG_FLAG,   /* no value */
    ARG_STRING, /* one value, any text */
    ARG_MULTI,  /* a value per occurrence, may be repeated */
    ARG_U8,     /* decimal 0..=255 */
    ARG_U32,    /* decimal 0..=4294967295 */
    ARG_USIZE,  /* decimal, fits in size_t */
};

struct arg_spec {
    char short_name;       /* 0: none */
    const char *long_name; /* NULL: none */
    enum arg_type type;
    int required;
    const char *value_name; /* "KEY_NAME" */
    const char *help;
};

struct cmd_spec {
    const char *name; /* "sign"; the tool itself for the top level */
    const char *about;
    const char *long_about; /* printed under about in --help, may be NULL */
    const struct arg_spec *opts;
    size_t nopts;
    const char *positional; /* "INPUT_DATA", or NULL when the command takes none */
    const char *positional_help;
    const struct cmd_spec *const *commands; /* listed under "Commands:", top level only */
    size_t ncommands;
    const char *examples; /* printed after the options in --help */
    int has_commands;     /* parsing stops at the first word that is not an option */
};

struct arg_value {
    unsigned count;
    const char *str; /* last value */
    uint64_t num;    /* for the numeric types */
    const char *values[ARGS_MAX_VALUES];
};

struct args {
    struct arg_value v[ARGS_MAX_OPTS];
    const char *positional; /* NULL when absent */
    int command;            /* has_commands: index of the command word, or argc if none */
};

enum args_result { ARGS_OK = 0, ARGS_HELP, ARGS_ERROR };

/* Parses argv[0..argc) (the words after the command name) against spec. ARGS_HELP: the help was
 * printed on stdout. ARGS_ERROR: a message was printed on stderr. prog is the usage prefix
 * ("parsec-tool sign"). */
enum args_result args_parse(const struct cmd_spec *spec, const char *prog, int argc, char **argv,
                            struct args *out);

/* The parsed value of the option with this long name (the spec must have it). */
const struct arg_value *args_get(const struct cmd_spec *spec, const struct args *a,
                                 const char *long_name);

/* The help text of one command, on f. */
void args_print_help(const struct cmd_spec *spec, const char *prog, FILE *f);
/* "Usage: parsec-tool sign [OPTIONS] --key-name <KEY_NAME> <INPUT_DATA>" */
void args_print_usage(const struct cmd_spec *spec, const char *prog, FILE *f);

/* Parses a number the way Rust's str::parse does for unsigned integers: optional '+', then
 * decimal digits only. Returns 0, or -1 with why set to the Rust error text. */
int args_parse_number(const char *s, uint64_t max, uint64_t *out, const char **why);

/* Prints "error: <msg>", the usage line and the hint, on stderr. */
void args_usage_error(const struct cmd_spec *spec, const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
