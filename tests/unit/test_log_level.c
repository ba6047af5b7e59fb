/* The service's log level from RUST_LOG / PARSEC_LOG and the configuration's log_level, as
 * env_logger would set it, except the default (warn instead of error). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/log.h"

static enum log_level level_for(const char *rust_log)
{
    unsetenv("PARSEC_LOG");
    if (rust_log)
        setenv("RUST_LOG", rust_log, 1);
    else
        unsetenv("RUST_LOG");
    log_init_from_env();
    return log_get_level();
}

static void default_shows_warnings(void **state)
{
    (void)state;
    assert_int_equal(level_for(NULL), LOG_WARN);
    assert_int_equal(level_for(""), LOG_WARN);
}

static void bare_levels(void **state)
{
    (void)state;
    assert_int_equal(level_for("error"), LOG_ERROR);
    assert_int_equal(level_for("INFO"), LOG_INFO);
    assert_int_equal(level_for("off"), LOG_OFF);
    assert_int_equal(level_for("trace"), LOG_TRACE);
    /* The last bare level wins, as in env_logger. */
    assert_int_equal(level_for("debug,error"), LOG_ERROR);
}

static void crate_directives(void **state)
{
    (void)state;
    assert_int_equal(level_for("parsec=info"), LOG_INFO);
    assert_int_equal(level_for("warn,parsec=debug"), LOG_DEBUG);
    assert_int_equal(level_for("parsec=error, info"), LOG_ERROR);
    /* A bare target means all of its logging; a prefix of the crate name covers it too. */
    assert_int_equal(level_for("parsec"), LOG_TRACE);
    assert_int_equal(level_for("pars=debug"), LOG_DEBUG);
    /* Other crates, parts of this one, filters and nonsense leave the level alone. */
    assert_int_equal(level_for("tokio=trace"), LOG_WARN);
    assert_int_equal(level_for("parsec::front=trace,error"), LOG_ERROR);
    assert_int_equal(level_for("parsec=info/ping"), LOG_INFO);
    assert_int_equal(level_for("parsec=loud"), LOG_WARN);
    assert_int_equal(level_for(",,="), LOG_WARN);
    /* PARSEC_LOG comes first. */
    setenv("PARSEC_LOG", "debug", 1);
    setenv("RUST_LOG", "error", 1);
    log_init_from_env();
    assert_int_equal(log_get_level(), LOG_DEBUG);
    unsetenv("PARSEC_LOG");
}

/* The configuration's log_level replaces the global level only. */
static void config_level(void **state)
{
    (void)state;
    level_for("error");
    log_set_global_level(LOG_INFO);
    assert_int_equal(log_get_level(), LOG_INFO);
    level_for(NULL);
    log_set_global_level(LOG_ERROR);
    assert_int_equal(log_get_level(), LOG_ERROR);
    level_for("parsec=debug");
    log_set_global_level(LOG_ERROR);
    assert_int_equal(log_get_level(), LOG_DEBUG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_shows_warnings),
        cmocka_unit_test(bare_levels),
        cmocka_unit_test(crate_directives),
        cmocka_unit_test(config_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
