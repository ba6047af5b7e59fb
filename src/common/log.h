/* Logging to stderr in the original service's format: "[LEVEL module] message", the level
 * left-aligned to five characters, with an optional RFC 3339 millisecond timestamp first. */
#ifndef PARSEC_LOG_H
#define PARSEC_LOG_H

#include <stddef.h>

enum log_level { LOG_OFF = 0, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_timestamp(int on);
/* Parses "off", "error", "warn", "info", "debug", "trace" (any case); -1 if unknown. */
int log_level_parse(const char *s);
/* Initial level from PARSEC_LOG, else RUST_LOG, read as env_logger directives: "info",
 * "parsec=debug", "warn,parsec=trace" (a directive for the whole crate outranks the global
 * level; directives for a part of it are ignored); otherwise "warn" (env_logger would say
 * "error": warnings are shown by default). */
void log_init_from_env(void);
/* Sets the global level, as the configuration's log_level does: a RUST_LOG directive for the
 * whole crate stays in force, as with env_logger. */
void log_set_global_level(enum log_level level);

/* Longest input, in bytes, of a client-supplied string shown in a log line (log_str); the rest
 * is cut and "..." marks the cut. */
#define LOG_STR_MAX 128
/* Buffer for log_str: each byte may become four characters ("\xNN"), plus the "...". */
#define LOG_STR_BUF (4 * LOG_STR_MAX + 4)
/* Longest message of one log line; a longer one is cut and ends with "...". */
#define LOG_LINE_MAX 2048

/* Escaping of text that came from outside (key and application names, file names): control
 * characters (C0, DEL and the C1 controls U+0080..U+009F) become \xNN, so that no string can
 * end a log line, forge another one, or drive a terminal. LOG_ESC_QUOTES also escapes '\' and
 * '"', so that a quoted name cannot look like the end of its quotes. */
#define LOG_ESC_QUOTES 1u
/* Writes s escaped into buf (cap > 4 bytes, always NUL-terminated); what does not fit is cut
 * at a character boundary and replaced by "...". NULL reads as "". Returns buf. */
const char *log_escape(char *buf, size_t cap, const char *s, unsigned flags);
/* A client string for a log line: log_escape(buf, LOG_STR_BUF, s, LOG_ESC_QUOTES) of at most
 * LOG_STR_MAX bytes of s. buf must hold LOG_STR_BUF bytes. */
const char *log_str(char buf[LOG_STR_BUF], const char *s);

/* Every message is escaped as log_escape does (no line a string could end) and cut at
 * LOG_LINE_MAX bytes. */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

#endif
