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
/* Initial level from PARSEC_LOG, else RUST_LOG, read as env_logger directives: "info",
 * "parsec=debug", "warn,parsec=trace" (a directive for the whole crate outranks the global
 * level; directives for a part of it are ignored); otherwise "warn" (env_logger would say
 * "error": warnings are shown by default). */
void log_init_from_env(void);
/* Sets the global level, as the configuration's log_level does: a RUST_LOG directive for the
 * whole crate stays in force, as with env_logger. */
void log_set_global_level(enum log_level level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

#endif
