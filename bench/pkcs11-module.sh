#!/bin/bash
# Signing rate through libparsec-pkcs11.so against libparsec directly, in one run: a Release
# build, a daemon on the Mbed Crypto provider, then rounds of four one-second measurements in
# the order direct, module, module, direct ("ABBA", as bench/run.sh), ECDSA P-256 over SHA-256
# by one thread. Prints each round's rates and the median ratio module / direct.
# Environment: BENCH_BUILD_DIR (default build/bench), BENCH_DURATION (1), BENCH_ROUNDS (5).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build/bench}
DUR=${BENCH_DURATION:-1}
ROUNDS=${BENCH_ROUNDS:-5}

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPARSEC_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j2 --target parsec parsec_pkcs11 bench_pkcs11 >/dev/null
BENCH=$BUILD/bench/bench_pkcs11
MODULE=$BUILD/src/pkcs11/libparsec-pkcs11.so

WORK=$(mktemp -d /tmp/parsec-bench-p11-XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -m 700 "$WORK/keys" "$WORK/kim"
cat >"$WORK/config.toml" <<CONF
[core_settings]
allow_root = true
[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "$WORK/parsec.sock"
[authenticator]
auth_type = "UnixPeerCredentials"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$WORK/kim/mappings.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
key_store_path = "$WORK/keys"
CONF
"$BUILD/src/parsec" -c "$WORK/config.toml" 2>"$WORK/log" &
PID=$!
for _ in $(seq 100); do [ -S "$WORK/parsec.sock" ] && break; sleep 0.05; done
export PARSEC_SERVICE_ENDPOINT=unix:$WORK/parsec.sock

ratios=()
echo "round  direct/s  module/s  module/direct"
for r in $(seq "$ROUNDS"); do
    d1=$("$BENCH" direct "$MODULE" "$DUR")
    m1=$("$BENCH" module "$MODULE" "$DUR")
    m2=$("$BENCH" module "$MODULE" "$DUR")
    d2=$("$BENCH" direct "$MODULE" "$DUR")
    ratio=$(awk -v a=$((m1 + m2)) -v b=$((d1 + d2)) 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    echo "$r  $(((d1 + d2) / 2))  $(((m1 + m2) / 2))  $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print "median module/direct:", a[int((NR + 1) / 2)] }'
