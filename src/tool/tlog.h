/* The tool's log on stderr, in the format and with the filter rules of env_logger 0.10, which
 * the original tool uses: "[LEVEL TARGET] message", LEVEL padded to five characters, TARGET the
 * module that speaks ("parsec_tool::subcommands::sign"). The default level is info for every
 * target; RUST_LOG directives ("error", "parsec_tool=debug", "off", "a=warn,b") refine it, the
 * longest matching target prefix winning. RUST_LOG_STYLE (auto, always, never) chooses colour. */
#ifndef PARSEC_TOOL_TLOG_H
#define PARSEC_TOOL_TLOG_H

enum tlog_level { TLOG_OFF = 0, TLOG_ERROR, TLOG_WARN, TLOG_INFO, TLOG_DEBUG, TLOG_TRACE };

/* Most directives RUST_LOG may hold; later ones beyond this are ignored with a warning. */
#define TLOG_MAX_DIRECTIVES 32
/* Longest target name a directive may carry. */
#define TLOG_MAX_TARGET 128

/* Reads RUST_LOG and RUST_LOG_STYLE. Malformed directives are reported on stderr and skipped,
 * as env_logger does. */
void tlog_init(void);
/* Whether a message of this level for this target would be printed. */
int tlog_enabled(enum tlog_level level, const char *target);
/* The most verbose level any directive enables (for libraries that take one global level). */
enum tlog_level tlog_max_level(void);
void tlog(enum tlog_level level, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define TOOL_TARGET "parsec_tool"
#define SUB_TARGET(name) "parsec_tool::subcommands::" name
#define UTIL_TARGET "parsec_tool::util"

#endif
