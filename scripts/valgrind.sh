#!/bin/sh
# Runs the end-to-end tests with the daemon under Valgrind's memcheck, in a build without
# sanitizers (build/valgrind), and fails on any memcheck error: invalid reads and writes, uses
# of uninitialised values, bad frees, and definitely lost memory.
#
#   scripts/valgrind.sh [CTEST_ARGS...]     default: -R 'e2e|pkcs11'
#
# The e2e harness starts the daemon through $PARSEC_E2E_WRAPPER when it is set. Each daemon
# writes its own report to build/valgrind/memcheck/memcheck.<pid>.log; every report is checked
# after the run, so an error counts even when a test only stops the daemon with SIGKILL or does
# not look at its exit status (memcheck's --error-exitcode=99 alone would miss those).
# Environment: PARSEC_VALGRIND_BUILD (build folder), PARSEC_VALGRIND_TIMEOUT (per-test ctest
# limit in seconds, default 3600), PARSEC_VALGRIND_JOBS (build parallelism, default 2),
# VALGRIND_EXTRA (more memcheck options, e.g. --track-origins=yes).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PARSEC_VALGRIND_BUILD:-$repo/build/valgrind}
timeout=${PARSEC_VALGRIND_TIMEOUT:-3600}
jobs=${PARSEC_VALGRIND_JOBS:-2}
logs=$build/memcheck

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

# -Og -g: exact line numbers in memcheck's reports, and no _FORTIFY_SOURCE warning (which
# needs some optimisation and would be an error under -Werror at -O0).
cmake -S "$repo" -B "$build" -DPARSEC_SANITIZE=OFF -DPARSEC_FUZZ=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="-g -Og" >/dev/null
cmake --build "$build" -j"$jobs"

# The e2e tests carry their own ctest TIMEOUT, sized for a daemon at full speed; ctest offers
# no option to raise it, so the generated test file gets a later setting that overrides it.
# (Regenerated at every configure, hence redone at every run.)
for f in $(find "$build/tests" -name CTestTestfile.cmake); do
    for t in $(sed -n 's/^add_test(\[=\[\(\(e2e\|pkcs11\)\.[^]]*\)\]=\].*/\1/p' "$f"); do
        echo "set_tests_properties([=[$t]=] PROPERTIES TIMEOUT $timeout)" >>"$f"
    done
done

rm -rf "$logs"
mkdir -p "$logs"
PARSEC_E2E_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30 \
--log-file=$logs/memcheck.%p.log ${VALGRIND_EXTRA:-}"
export PARSEC_E2E_WRAPPER

[ $# -gt 0 ] || set -- -R 'e2e|pkcs11'
status=0
(cd "$build" && ctest --output-on-failure --timeout "$timeout" "$@") || status=$?

# A test that fails before stopping its daemon leaves it running: stop those this run started
# (each named by its report), so that they write their summaries and do not linger.
for f in "$logs"/memcheck.*.log; do
    [ -f "$f" ] || continue
    pid=${f##*/memcheck.}
    pid=${pid%.log}
    if grep -qs "$logs" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "valgrind.sh: stopping daemon $pid left running by a test" >&2
        kill -TERM "$pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -d "/proc/$pid" ] || break
            sleep 1
        done
    fi
done

# Every report: memcheck prints "ERROR SUMMARY: N errors" when the daemon exits (not after
# SIGKILL), and each error as it happens.
n_logs=0
bad=""
for f in "$logs"/memcheck.*.log; do
    [ -f "$f" ] || continue
    n_logs=$((n_logs + 1))
    if grep -q 'ERROR SUMMARY: [1-9]' "$f" ||
        grep -Eq '^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|[0-9,]+ bytes in [0-9,]+ blocks are definitely lost)' "$f"; then
        bad="$bad $f"
    fi
done
if [ "$n_logs" = 0 ]; then
    echo "valgrind.sh: no memcheck report was written: the daemon never ran under valgrind" >&2
    exit 1
fi
echo "valgrind.sh: $n_logs daemon runs under memcheck"
if [ -n "$bad" ]; then
    for f in $bad; do
        echo "== memcheck errors in $f" >&2
        cat "$f" >&2
    done
    exit 1
fi
if [ "$status" != 0 ]; then
    echo "valgrind.sh: ctest failed (status $status), memcheck found nothing" >&2
    exit "$status"
fi
echo "valgrind.sh: no memcheck error"
