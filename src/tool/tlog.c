#define _POSIX_C_SOURCE 200809L
#include "tool/tlog.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct directive {
    char name[TLOG_MAX_TARGET]; /* empty: applies to every target */
    enum tlog_level level;
};

static struct directive dirs[TLOG_MAX_DIRECTIVES];
static size_t ndirs;
static regex_t msg_filter;
static int have_filter;
static int colour;

static int level_parse(const char *s, size_t n, enum tlog_level *out)
{
    static const char *const names[] = {"off", "error", "warn", "info", "debug", "trace"};
    for (int i = 0; i <= TLOG_TRACE; i++) {
        if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0) {
            *out = (enum tlog_level)i;
            return 0;
        }
    }
    return -1;
}

/* A directive for the same target replaces the earlier one, as in env_logger. */
static void insert(const char *name, size_t n, enum tlog_level level)
{
    if (n >= TLOG_MAX_TARGET) {
        fprintf(stderr, "warning: logging target too long, ignoring it\n");
        return;
    }
    for (size_t i = 0; i < ndirs; i++) {
        if (strlen(dirs[i].name) == n && strncmp(dirs[i].name, name, n) == 0) {
            dirs[i].level = level;
            return;
        }
    }
    if (ndirs == TLOG_MAX_DIRECTIVES) {
        fprintf(stderr, "warning: too many logging directives, ignoring the rest\n");
        return;
    }
    memcpy(dirs[ndirs].name, name, n);
    dirs[ndirs].name[n] = '\0';
    dirs[ndirs++].level = level;
}

static int trimmed(const char **s, size_t n)
{
    while (n && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
        (*s)++;
        n--;
    }
    while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\n' ||
                 (*s)[n - 1] == '\r'))
        n--;
    return (int)n;
}

static void parse_one(const char *m, size_t n)
{
    const char *eq = memchr(m, '=', n);
    enum tlog_level level;
    if (!eq) {
        if (level_parse(m, n, &level) == 0)
            insert("", 0, level);
        else
            insert(m, n, TLOG_TRACE);
        return;
    }
    const char *val = eq + 1;
    size_t vlen = n - (size_t)(val - m);
    if (memchr(val, '=', vlen)) {
        fprintf(stderr, "warning: invalid logging spec '%.*s', ignoring it\n", (int)n, m);
        return;
    }
    if (vlen == 0) {
        insert(m, (size_t)(eq - m), TLOG_TRACE);
        return;
    }
    if (level_parse(val, vlen, &level) != 0) {
        fprintf(stderr, "warning: invalid logging spec '%.*s', ignoring it\n", (int)vlen, val);
        return;
    }
    insert(m, (size_t)(eq - m), level);
}

static void parse_spec(const char *spec)
{
    const char *slash = strchr(spec, '/');
    size_t mods_len = slash ? (size_t)(slash - spec) : strlen(spec);
    if (slash && strchr(slash + 1, '/')) {
        fprintf(stderr, "warning: invalid logging spec '%s', ignoring it (too many '/'s)\n", spec);
        return;
    }
    for (size_t i = 0; i < mods_len;) {
        const char *comma = memchr(spec + i, ',', mods_len - i);
        size_t end = comma ? (size_t)(comma - spec) : mods_len;
        const char *m = spec + i;
        int n = trimmed(&m, end - i);
        if (n > 0)
            parse_one(m, (size_t)n);
        i = end + 1;
    }
    if (slash) {
        if (regcomp(&msg_filter, slash + 1, REG_EXTENDED | REG_NOSUB) == 0)
            have_filter = 1;
        else
            fprintf(stderr, "warning: invalid regex filter - %s\n", slash + 1);
    }
}

static int want_colour(void)
{
    const char *style = getenv("RUST_LOG_STYLE");
    if (style && strcmp(style, "always") == 0)
        return 1;
    if (style && strcmp(style, "never") == 0)
        return 0;
    const char *term = getenv("TERM");
    if (!term || strcmp(term, "dumb") == 0 || getenv("NO_COLOR"))
        return 0;
    return isatty(STDERR_FILENO);
}

void tlog_init(void)
{
    ndirs = 0;
    insert("", 0, TLOG_INFO);
    const char *spec = getenv("RUST_LOG");
    if (spec)
        parse_spec(spec);
    colour = want_colour();
}

int tlog_enabled(enum tlog_level level, const char *target)
{
    size_t best_len = 0;
    const struct directive *best = NULL;
    for (size_t i = 0; i < ndirs; i++) {
        size_t n = strlen(dirs[i].name);
        if (strncmp(target, dirs[i].name, n) == 0 && (!best || n > best_len)) {
            best = &dirs[i];
            best_len = n;
        }
    }
    return best && level != TLOG_OFF && level <= best->level;
}

enum tlog_level tlog_max_level(void)
{
    enum tlog_level max = TLOG_OFF;
    for (size_t i = 0; i < ndirs; i++)
        if (dirs[i].level > max)
            max = dirs[i].level;
    return max;
}

/* Longest message the log formats; longer ones are cut. */
#define TLOG_MAX_MSG 4096

void tlog(enum tlog_level level, const char *target, const char *fmt, ...)
{
    static const char *const tags[] = {"", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    static const char *const colours[] = {"",         "\x1b[1m\x1b[31m", "\x1b[33m",
                                          "\x1b[32m", "\x1b[34m",        "\x1b[36m"};
    char msg[TLOG_MAX_MSG];
    if (!tlog_enabled(level, target))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (have_filter && regexec(&msg_filter, msg, 0, NULL, 0) != 0)
        return;
    if (colour)
        fprintf(stderr,
                "\x1b[0m\x1b[38;5;8m[\x1b[0m\x1b[0m%s%-5s\x1b[0m %s\x1b[0m\x1b[38;5;8m]"
                "\x1b[0m %s\n",
                colours[level], tags[level], target, msg);
    else
        fprintf(stderr, "[%-5s %s] %s\n", tags[level], target, msg);
}
