#define _POSIX_C_SOURCE 200809L
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Warnings by default, where env_logger shows errors only: a service's warnings (running as
 * root, a stale socket replaced) are meant to be seen. */
#define LOG_DEFAULT LOG_WARN
static enum log_level current = LOG_DEFAULT;
static int with_timestamp;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
    current = level;
}

enum log_level log_get_level(void)
{
    return current;
}

void log_set_timestamp(int on)
{
    with_timestamp = on;
}

int log_level_parse(const char *s)
{
    static const char *const names[] = {"off", "error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 6; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Every module name here starts with this: an env_logger directive for it, or for a prefix of
 * it, covers all of the service's logging. */
#define LOG_CRATE "parsec"
/* Longest RUST_LOG value read; env_logger directives are short. */
#define LOG_ENV_MAX 1024

/* The level a RUST_LOG directive gives the whole crate, -1 if none: as env_logger's longer
 * match, it outranks the global level and the configuration's log_level. */
static int crate_level = -1;

/* One env_logger directive: "level", "target", or "target=level" (a "/filter" suffix ignored).
 * Directives for a part of the crate (parsec::front=debug) cannot be told apart here and are
 * skipped. */
static void apply_directive(char *d, int *global)
{
    char *slash = strchr(d, '/');
    if (slash)
        *slash = 0;
    d += strspn(d, " \t");
    size_t n = strlen(d);
    while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == '\t'))
        d[--n] = 0;
    if (n == 0)
        return;
    char *eq = strchr(d, '=');
    int l;
    if (!eq) {
        if ((l = log_level_parse(d)) >= 0) {
            *global = l;
            return;
        }
        l = LOG_TRACE; /* a bare target: all of its logging */
    } else {
        *eq = 0;
        if ((l = log_level_parse(eq + 1)) < 0)
            return;
    }
    if (*d && strncmp(LOG_CRATE, d, strlen(d)) == 0)
        crate_level = l;
}

void log_init_from_env(void)
{
    const char *v = getenv("PARSEC_LOG");
    if (!v)
        v = getenv("RUST_LOG");
    char buf[LOG_ENV_MAX];
    current = LOG_DEFAULT;
    crate_level = -1;
    if (!v || strlen(v) >= sizeof(buf))
        return;
    memcpy(buf, v, strlen(v) + 1);
    int global = -1;
    char *save = NULL;
    for (char *d = strtok_r(buf, ",", &save); d; d = strtok_r(NULL, ",", &save))
        apply_directive(d, &global);
    if (crate_level >= 0)
        current = (enum log_level)crate_level;
    else if (global >= 0)
        current = (enum log_level)global;
}

void log_set_global_level(enum log_level level)
{
    if (crate_level < 0)
        current = level;
}

/* Bytes s[0..n) take in buf as escaped text; *used is how many input bytes that is (1, or 2
 * for a C1 control, which UTF-8 encodes as C2 80..C2 9F). */
static size_t escape_one(const unsigned char *s, size_t n, unsigned flags, char out[9],
                         size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    size_t k = 0;
    *used = 1;
    if (c == 0xc2 && n > 1 && s[1] >= 0x80 && s[1] <= 0x9f) {
        out[k++] = '\\';
        out[k++] = 'x';
        out[k++] = 'c';
        out[k++] = '2';
        c = s[1];
        *used = 2;
    } else if (c >= 0x20 && c != 0x7f) {
        if ((flags & LOG_ESC_QUOTES) && (c == '\\' || c == '"'))
            out[k++] = '\\';
        out[k++] = (char)c;
        return k;
    }
    out[k++] = '\\';
    out[k++] = 'x';
    out[k++] = hex[c >> 4];
    out[k++] = hex[c & 15];
    return k;
}

/* Escapes s[0..n) into buf; cut_input says s was already cut short, so the mark is due even
 * if all of s[0..n) fits. */
static const char *escape_n(char *buf, size_t cap, const char *s, size_t n, unsigned flags,
                            int cut_input)
{
    static const char cut[] = "...";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t i = 0, k = 0;
    char one[9];
    while (i < n) {
        size_t used, m = escape_one(p + i, n - i, flags, one, &used);
        /* Room is kept for the cut mark and the NUL unless this is the last character. */
        size_t need = m + (i + used < n || cut_input ? sizeof(cut) : 1);
        if (k + need > cap)
            break;
        memcpy(buf + k, one, m);
        k += m;
        i += used;
    }
    if (i < n || cut_input) {
        /* Cut inside a UTF-8 sequence: drop its first bytes too. */
        size_t lead = k;
        while (lead > 0 && ((unsigned char)buf[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > 0 && (unsigned char)buf[lead - 1] >= 0xc0) {
            unsigned char b = (unsigned char)buf[--lead];
            if (k - lead < (size_t)(b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2))
                k = lead;
        }
        memcpy(buf + k, cut, sizeof(cut) - 1);
        k += sizeof(cut) - 1;
    }
    buf[k] = '\0';
    return buf;
}

const char *log_escape(char *buf, size_t cap, const char *s, unsigned flags)
{
    return escape_n(buf, cap, s, s ? strlen(s) : 0, flags, 0);
}

const char *log_str(char buf[LOG_STR_BUF], const char *s)
{
    size_t n = s ? strnlen(s, LOG_STR_MAX + 1) : 0;
    return escape_n(buf, LOG_STR_BUF, s, n > LOG_STR_MAX ? LOG_STR_MAX : n, LOG_ESC_QUOTES,
                    n > LOG_STR_MAX);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    static const char *const tags[] = {"", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    if (level == LOG_OFF || level > current)
        return;
    char ts[40] = "";
    if (with_timestamp) {
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof(ts) - n, ".%03ldZ ", now.tv_nsec / 1000000);
    }
    char raw[LOG_LINE_MAX + 1], line[LOG_LINE_MAX + 4];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n > LOG_LINE_MAX ? LOG_LINE_MAX : (size_t)n;
    escape_n(line, sizeof(line), raw, len, 0, n > LOG_LINE_MAX);
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "[%s%-5s %s] %s\n", ts, tags[level], module, line);
    pthread_mutex_unlock(&out_lock);
}
