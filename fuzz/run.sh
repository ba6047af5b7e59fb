#!/bin/sh
# Builds the libFuzzer targets and runs each one for a bounded time on a scratch copy of its
# seed corpus (fuzz/corpus/<target>/ is never modified). Exits non-zero if any target crashed,
# leaked, timed out or ran out of memory; the failing input is kept in
# <build>/fuzz-artifacts/<target>/ and the log in <build>/fuzz-run/<target>.log.
#
#   fuzz/run.sh [SECONDS]                 every target, SECONDS each (default 30)
#   fuzz/run.sh --time 300 fuzz_frontend  one target for five minutes
#   fuzz/run.sh --replay                  run every seed and regression input once
#   fuzz/run.sh --coverage                line coverage of the committed corpora (llvm-cov)
#
# Options: --build-dir DIR (default build-fuzz in the repository, or $PARSEC_FUZZ_BUILD),
# --no-build (use what DIR holds), --time SECONDS, --replay, --coverage (builds DIR/cov with
# clang's source coverage, replays fuzz/corpus and any DIR/fuzz-run corpora, writes
# DIR/cov/coverage.txt). See docs/fuzzing.md.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PARSEC_FUZZ_BUILD:-$repo/build-fuzz}
seconds=30
do_build=1
replay=0
coverage=0
targets=""
all_targets="fuzz_header fuzz_base64 fuzz_bincode fuzz_auth fuzz_codec fuzz_toml fuzz_frontend fuzz_jwtsvid"

# Per-input limits: a single request taking 25 s or 2 GiB is a bug worth stopping for.
rss_limit_mb=2048
input_timeout=25

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --time) seconds=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --replay) replay=1; shift ;;
    --coverage) coverage=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    [0-9]*) seconds=$1; shift ;;
    fuzz_*) targets="$targets $1"; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$targets" ] || targets=$all_targets
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac

if [ "$coverage" = 1 ]; then
    cov="$build/cov"
    if [ ! -f "$cov/CMakeCache.txt" ]; then
        CC=${CC:-clang} cmake -S "$repo" -B "$cov" -DPARSEC_FUZZ=ON \
            -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >/dev/null
    fi
    # shellcheck disable=SC2086
    cmake --build "$cov" -j2 --target $targets >"$cov/build.log" 2>&1 ||
        { tail -n 30 "$cov/build.log" >&2; exit 1; }
    rm -rf "$cov/profiles"
    mkdir -p "$cov/profiles"
    first=""
    objects=""
    for t in $targets; do
        dirs="$repo/fuzz/corpus/$t"
        [ -d "$repo/fuzz/regressions/$t" ] && dirs="$dirs $repo/fuzz/regressions/$t"
        [ -d "$build/fuzz-run/$t.corpus" ] && dirs="$dirs $build/fuzz-run/$t.corpus"
        # shellcheck disable=SC2086
        LLVM_PROFILE_FILE="$cov/profiles/$t.profraw" "$cov/fuzz/$t" -runs=0 $dirs \
            >"$cov/profiles/$t.log" 2>&1 || { tail -n 20 "$cov/profiles/$t.log" >&2; exit 1; }
        if [ -z "$first" ]; then
            first="$cov/fuzz/$t"
        else
            objects="$objects -object=$cov/fuzz/$t"
        fi
    done
    llvm-profdata merge -sparse "$cov"/profiles/*.profraw -o "$cov/profiles/all.profdata"
    # shellcheck disable=SC2086
    llvm-cov report "$first" $objects -instr-profile="$cov/profiles/all.profdata" \
        "$repo/src" >"$cov/coverage.txt"
    cat "$cov/coverage.txt"
    echo "== line by line: llvm-cov show $first$objects" \
        "-instr-profile=$cov/profiles/all.profdata $repo/src/<file>.c"
    exit 0
fi

if [ "$do_build" = 1 ]; then
    if ! grep -q '^PARSEC_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
        CC=${CC:-clang} cmake -S "$repo" -B "$build" -DPARSEC_FUZZ=ON >/dev/null
    fi
    # shellcheck disable=SC2086
    cmake --build "$build" -j2 --target $targets
fi

# The TOML target also starts from the configuration files of the tree.
extra_seeds() {
    case "$1" in
    fuzz_toml)
        for f in "$repo/packaging/config.toml" "$repo"/tests/data/config/*.toml; do
            [ -f "$f" ] && cp "$f" "$2/tree-$(echo "${f#"$repo"/}" | tr / _)"
        done
        ;;
    esac
    return 0
}

dict_opt() {
    d="$repo/fuzz/dict/${1#fuzz_}.dict"
    [ -f "$d" ] && echo "-dict=$d"
    return 0
}

failed=""
summary=""
for t in $targets; do
    bin="$build/fuzz/$t"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is not built" >&2
        exit 2
    fi
    art="$build/fuzz-artifacts/$t"
    mkdir -p "$art" "$build/fuzz-run"
    log="$build/fuzz-run/$t.log"

    if [ "$replay" = 1 ]; then
        # Every committed input once: seeds and minimised regressions.
        files=$(find "$repo/fuzz/corpus/$t" "$repo/fuzz/regressions/$t" -type f 2>/dev/null |
                sort)
        [ -n "$files" ] || continue
        echo "== $t: replaying $(echo "$files" | wc -l) inputs"
        # shellcheck disable=SC2086
        if ! "$bin" -rss_limit_mb=$rss_limit_mb -timeout=$input_timeout \
            -artifact_prefix="$art/" $files >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            failed="$failed $t"
        fi
        continue
    fi

    # The front end target moves into its key store: every path given to it is absolute.
    corpus="$build/fuzz-run/$t.corpus"
    rm -rf "$corpus"
    mkdir -p "$corpus"
    if [ -d "$repo/fuzz/corpus/$t" ]; then
        cp "$repo/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    extra_seeds "$t" "$corpus"
    echo "== $t: ${seconds}s on $(ls "$corpus" | wc -l) seeds (log $log)"
    # shellcheck disable=SC2046
    if "$bin" -max_total_time="$seconds" -rss_limit_mb=$rss_limit_mb \
        -timeout=$input_timeout -artifact_prefix="$art/" -print_final_stats=1 \
        $(dict_opt "$t") "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        line="$t: ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l)"
        echo "   $line"
        summary="$summary
$line"
    else
        echo "   $t FAILED; last lines of $log:" >&2
        tail -n 60 "$log" >&2
        echo "   inputs kept in $art:" >&2
        ls -t "$art" | head -n 5 >&2
        failed="$failed $t"
    fi
done

if [ -n "$summary" ]; then
    echo "== summary$summary"
fi
if [ -n "$failed" ]; then
    echo "== FAILED:$failed" >&2
    exit 1
fi
exit 0
