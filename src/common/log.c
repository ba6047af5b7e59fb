#define _POSIX_C_SOURCE 200809L
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

/* Warnings by default, where env_logger shows errors only: a service's warnings (running as
 * root, a stale socket replaced) are meant to be seen. */
static enum log_level current = LOG_WARN;
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

void log_init_from_env(void)
{
    const char *v = getenv("PARSEC_LOG");
    if (!v)
        v = getenv("RUST_LOG");
    if (v) {
        int l = log_level_parse(v);
        if (l >= 0)
            current = (enum log_level)l;
    }
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
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "[%s%-5s %s] ", ts, tags[level], module);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}
