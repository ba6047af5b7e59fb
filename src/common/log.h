/* Logging to stderr in the original service's format: "[LEVEL module] message", the level
 * left-aligned to five characters, with an optional RFC 3339 millisecond timestamp first. */
#ifndef PARSEC_LOG_H
#define PARSEC_LOG_H

enum log_level { LOG_OFF = 0, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_timestamp(int on);
/* Parses "off", "error", "warn", "info", "debug", "trace" (any case); -1 if unknown. */
int log_level_parse(const char *s);
/* Initial level from RUST_LOG / PARSEC_LOG (a bare level word; module directives are
 * ignored), otherwise "warn" (env_logger would say "error": warnings are shown by default). */
void log_init_from_env(void);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

#endif
