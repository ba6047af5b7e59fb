#include "tool/args.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void usage_error_v(const struct cmd_spec *spec, const char *prog, const char *fmt,
                          va_list ap) __attribute__((format(printf, 3, 0)));

static void usage_error_v(const struct cmd_spec *spec, const char *prog, const char *fmt,
                          va_list ap)
{
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
    args_print_usage(spec, prog, stderr);
    fputs("\nFor more information, try '--help'.\n", stderr);
}

void args_usage_error(const struct cmd_spec *spec, const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_error_v(spec, prog, fmt, ap);
    va_end(ap);
}

int args_parse_number(const char *s, uint64_t max, uint64_t *out, const char **why)
{
    const char *p = s;
    uint64_t v = 0;
    if (*p == '\0') {
        *why = "cannot parse integer from empty string";
        return -1;
    }
    if (*p == '+')
        p++;
    if (*p == '\0') {
        *why = "invalid digit found in string";
        return -1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            *why = "invalid digit found in string";
            return -1;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10) {
            *why = "number too large to fit in target type";
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "--key-name <KEY_NAME>", "-s", "--pkcs1": how messages name an option. */
static void opt_label(const struct arg_spec *o, char *buf, size_t cap)
{
    if (o->long_name && o->type == ARG_FLAG)
        snprintf(buf, cap, "--%s", o->long_name);
    else if (o->long_name)
        snprintf(buf, cap, "--%s <%s>", o->long_name, o->value_name);
    else if (o->type == ARG_FLAG)
        snprintf(buf, cap, "-%c", o->short_name);
    else
        snprintf(buf, cap, "-%c <%s>", o->short_name, o->value_name);
}

/* Range-checked types are parsed as a signed 64-bit number first, as clap's ranged parsers
 * do, so "300" and "-1" are reported as out of range rather than as malformed. */
static int convert(const struct arg_spec *o, const char *v, uint64_t *num, char *why, size_t cap)
{
    const char *reason = NULL;
    uint64_t max = o->type == ARG_U8 ? 0xff : o->type == ARG_U32 ? 0xffffffffu : SIZE_MAX;
    if (o->type == ARG_USIZE)
        goto plain;
    if (v[0] == '-') {
        uint64_t mag;
        if (args_parse_number(v + 1, (uint64_t)INT64_MAX + 1, &mag, &reason) != 0 || v[1] == '+') {
            snprintf(why, cap, "%s", reason ? reason : "invalid digit found in string");
            return -1;
        }
        snprintf(why, cap, "%s is not in 0..=%llu", v, (unsigned long long)max);
        return -1;
    }
    if (args_parse_number(v, INT64_MAX, num, &reason) != 0) {
        snprintf(why, cap, "%s", reason);
        return -1;
    }
    if (*num > max) {
        snprintf(why, cap, "%llu is not in 0..=%llu", (unsigned long long)*num,
                 (unsigned long long)max);
        return -1;
    }
    return 0;
plain:
    if (args_parse_number(v, max, num, &reason) != 0) {
        snprintf(why, cap, "%s", reason);
        return -1;
    }
    return 0;
}

struct parser {
    const struct cmd_spec *spec;
    const char *prog;
    struct args *out;
};

static int store(struct parser *ps, size_t idx, const char *value)
{
    const struct arg_spec *o = &ps->spec->opts[idx];
    struct arg_value *v = &ps->out->v[idx];
    char label[96];
    opt_label(o, label, sizeof(label));
    if (v->count > 0 && o->type != ARG_MULTI) {
        args_usage_error(ps->spec, ps->prog, "the argument '%s' cannot be used multiple times",
                         label);
        return -1;
    }
    if (o->type == ARG_MULTI && v->count == ARGS_MAX_VALUES) {
        args_usage_error(ps->spec, ps->prog, "the argument '%s' is given more than %d times", label,
                         ARGS_MAX_VALUES);
        return -1;
    }
    if (o->type == ARG_U8 || o->type == ARG_U32 || o->type == ARG_USIZE) {
        char why[96];
        if (convert(o, value, &v->num, why, sizeof(why)) != 0) {
            args_usage_error(ps->spec, ps->prog, "invalid value '%s' for '%s': %s", value, label,
                             why);
            return -1;
        }
    }
    if (o->type == ARG_MULTI)
        v->values[v->count] = value;
    v->str = value;
    v->count++;
    return 0;
}

static int missing_value(struct parser *ps, size_t idx)
{
    char label[96];
    opt_label(&ps->spec->opts[idx], label, sizeof(label));
    args_usage_error(ps->spec, ps->prog, "a value is required for '%s' but none was supplied",
                     label);
    return -1;
}

/* A word the parser would read as an option, hence never as a value. */
static int looks_like_option(const char *w)
{
    return w[0] == '-' && w[1] != '\0';
}

static long find_long(const struct cmd_spec *spec, const char *name, size_t n)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        const char *l = spec->opts[i].long_name;
        if (l && strlen(l) == n && strncmp(l, name, n) == 0)
            return (long)i;
    }
    return -1;
}

static long find_short(const struct cmd_spec *spec, char c)
{
    for (size_t i = 0; i < spec->nopts; i++)
        if (spec->opts[i].short_name == c)
            return (long)i;
    return -1;
}

/* Returns 1 when the help was asked for, 0 to go on, -1 on error. *i is advanced past any
 * value taken from the next word. */
static int parse_long(struct parser *ps, int argc, char **argv, int *i)
{
    const char *w = argv[*i] + 2;
    const char *eq = strchr(w, '=');
    size_t n = eq ? (size_t)(eq - w) : strlen(w);
    if (n == 4 && strncmp(w, "help", 4) == 0 && !eq)
        return 1;
    long idx = find_long(ps->spec, w, n);
    if (idx < 0) {
        args_usage_error(ps->spec, ps->prog, "unexpected argument '--%.*s' found", (int)n, w);
        return -1;
    }
    const struct arg_spec *o = &ps->spec->opts[idx];
    if (o->type == ARG_FLAG) {
        if (eq) {
            args_usage_error(ps->spec, ps->prog,
                             "unexpected value '%s' for '--%s' found; no more were expected",
                             eq + 1, o->long_name);
            return -1;
        }
        return store(ps, (size_t)idx, NULL);
    }
    if (eq)
        return store(ps, (size_t)idx, eq + 1);
    if (*i + 1 >= argc || looks_like_option(argv[*i + 1]))
        return missing_value(ps, (size_t)idx);
    *i += 1;
    return store(ps, (size_t)idx, argv[*i]);
}

static int parse_short(struct parser *ps, int argc, char **argv, int *i)
{
    const char *w = argv[*i];
    for (size_t j = 1; w[j]; j++) {
        long idx = find_short(ps->spec, w[j]);
        if (idx < 0 && w[j] == 'h')
            return 1;
        if (idx < 0) {
            args_usage_error(ps->spec, ps->prog, "unexpected argument '-%c' found", w[j]);
            return -1;
        }
        if (ps->spec->opts[idx].type == ARG_FLAG) {
            if (store(ps, (size_t)idx, NULL) != 0)
                return -1;
            continue;
        }
        const char *rest = w + j + 1;
        if (*rest == '=')
            rest++;
        if (*rest)
            return store(ps, (size_t)idx, rest);
        if (*i + 1 >= argc || looks_like_option(argv[*i + 1]))
            return missing_value(ps, (size_t)idx);
        *i += 1;
        return store(ps, (size_t)idx, argv[*i]);
    }
    return 0;
}

static int check_required(struct parser *ps)
{
    const struct cmd_spec *spec = ps->spec;
    int missing = 0;
    for (size_t i = 0; i < spec->nopts; i++)
        missing |= spec->opts[i].required && ps->out->v[i].count == 0;
    missing |= spec->positional && !ps->out->positional;
    if (!missing)
        return 0;
    fputs("error: the following required arguments were not provided:\n", stderr);
    for (size_t i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].required && ps->out->v[i].count == 0) {
            char label[96];
            opt_label(&spec->opts[i], label, sizeof(label));
            fprintf(stderr, "  %s\n", label);
        }
    }
    if (spec->positional && !ps->out->positional)
        fprintf(stderr, "  <%s>\n", spec->positional);
    fputc('\n', stderr);
    args_print_usage(spec, ps->prog, stderr);
    fputs("\nFor more information, try '--help'.\n", stderr);
    return -1;
}

enum args_result args_parse(const struct cmd_spec *spec, const char *prog, int argc, char **argv,
                            struct args *out)
{
    struct parser ps = {spec, prog, out};
    int end_of_opts = 0;
    if (spec->nopts > ARGS_MAX_OPTS)
        abort(); /* a programming error: the table outgrew struct args */
    memset(out, 0, sizeof(*out));
    out->command = argc;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        int rc = 0;
        if (!end_of_opts && strcmp(w, "--") == 0) {
            end_of_opts = 1;
            continue;
        }
        if (!end_of_opts && w[0] == '-' && w[1] == '-') {
            rc = parse_long(&ps, argc, argv, &i);
        } else if (!end_of_opts && looks_like_option(w)) {
            rc = parse_short(&ps, argc, argv, &i);
        } else if (spec->has_commands) {
            out->command = i;
            return ARGS_OK;
        } else if (spec->positional && !out->positional) {
            out->positional = w;
        } else {
            args_usage_error(spec, prog, "unexpected argument '%s' found", w);
            return ARGS_ERROR;
        }
        if (rc < 0)
            return ARGS_ERROR;
        if (rc > 0) {
            args_print_help(spec, prog, stdout);
            return ARGS_HELP;
        }
    }
    return check_required(&ps) == 0 ? ARGS_OK : ARGS_ERROR;
}

const struct arg_value *args_get(const struct cmd_spec *spec, const struct args *a,
                                 const char *long_name)
{
    long idx = find_long(spec, long_name, strlen(long_name));
    if (idx < 0)
        abort(); /* a programming error: the command's table lacks the option */
    return &a->v[idx];
}

void args_print_usage(const struct cmd_spec *spec, const char *prog, FILE *f)
{
    int optional = 0;
    fprintf(f, "Usage: %s", prog);
    for (size_t i = 0; i < spec->nopts; i++)
        optional |= !spec->opts[i].required;
    if (optional)
        fputs(" [OPTIONS]", f);
    for (size_t i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].required) {
            char label[96];
            opt_label(&spec->opts[i], label, sizeof(label));
            fprintf(f, " %s", label);
        }
    }
    if (spec->positional)
        fprintf(f, " <%s>", spec->positional);
    if (spec->has_commands)
        fputs(" <COMMAND>", f);
    fputc('\n', f);
}

/* Width of the label column in the help, and of the whole help text. */
#define HELP_COLUMN 30
#define HELP_WIDTH 100

/* Writes text from column indent on, the cursor being at column col, word-wrapped at
 * HELP_WIDTH; a newline in the text starts a new line too. Ends the last line. */
static void print_wrapped(FILE *f, int col, int indent, const char *text)
{
    int line_start = 1;
    for (const char *p = text; *p;) {
        if (*p == '\n') {
            fputc('\n', f);
            col = 0;
            line_start = 1;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t w = strcspn(p, " \n");
        if (!line_start && col + 1 + (int)w > HELP_WIDTH) {
            fputc('\n', f);
            col = 0;
            line_start = 1;
        }
        if (line_start) {
            fprintf(f, "%*s", indent - col, "");
            col = indent;
        } else {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)w, p);
        col += (int)w;
        line_start = 0;
        p += w;
    }
    fputc('\n', f);
}

/* One help item: the label, then its text from HELP_COLUMN on. */
static void print_item(FILE *f, const char *label, const char *text)
{
    int col = fprintf(f, "  %s", label);
    if (col < 0)
        return;
    if (col >= HELP_COLUMN - 1) {
        fputc('\n', f);
        col = 0;
    }
    print_wrapped(f, col, HELP_COLUMN, text);
}

void args_print_help(const struct cmd_spec *spec, const char *prog, FILE *f)
{
    print_wrapped(f, 0, 0, spec->about);
    fputc('\n', f);
    if (spec->long_about) {
        print_wrapped(f, 0, 0, spec->long_about);
        fputc('\n', f);
    }
    args_print_usage(spec, prog, f);
    if (spec->ncommands) {
        fputs("\nCommands:\n", f);
        for (size_t i = 0; i < spec->ncommands; i++)
            print_item(f, spec->commands[i]->name, spec->commands[i]->about);
        print_item(f, "help", "Print this help, or the help of the given command");
    }
    if (spec->positional) {
        char label[96];
        snprintf(label, sizeof(label), "<%s>", spec->positional);
        fputs("\nArguments:\n", f);
        print_item(f, label, spec->positional_help ? spec->positional_help : "");
    }
    fputs("\nOptions:\n", f);
    for (size_t i = 0; i < spec->nopts; i++) {
        const struct arg_spec *o = &spec->opts[i];
        char label[96];
        char value[64] = "";
        if (o->type != ARG_FLAG)
            snprintf(value, sizeof(value), " <%s>", o->value_name);
        if (o->short_name && o->long_name)
            snprintf(label, sizeof(label), "-%c, --%s%s", o->short_name, o->long_name, value);
        else if (o->long_name)
            snprintf(label, sizeof(label), "    --%s%s", o->long_name, value);
        else
            snprintf(label, sizeof(label), "-%c%s", o->short_name, value);
        print_item(f, label, o->help);
    }
    print_item(f, "-h, --help", "Print help");
    if (spec->examples)
        fprintf(f, "\nExamples:\n%s", spec->examples);
}
