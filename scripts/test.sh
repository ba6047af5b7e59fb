#!/bin/sh
# Builds parsec twice (release, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# every test in both builds. The release build links SQLite and Mbed TLS statically
# (PARSEC_STATIC_DEPS), the sanitizer build against the shared libraries, so that both ways of
# linking the service are tested. Usage: scripts/test.sh [ctest arguments...]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
for variant in release sanitize; do
    dir=build/test-$variant
    if [ "$variant" = sanitize ]; then san=ON static=OFF; else san=OFF static=ON; fi
    if [ "$variant" = release ]; then type=Release; else type=RelWithDebInfo; fi
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DPARSEC_SANITIZE=$san \
        -DPARSEC_STATIC_DEPS=$static >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "== tests ($variant)"
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$jobs" "$@")
done
