#!/bin/bash
# The PKCS#11 provider against the module it drives, on a private SoftHSM2 token: ECDSA P-256
# and RSA-2048 PKCS#1 v1.5 signatures
#   - directly on the module in process, one session logged in (bench_p11direct session),
#   - through the service (bench_loadgen -P 2, one connection per request as every client),
#   - directly in process with the original service's pattern: a session opened, logged in,
#     the key found and the session closed for every signature (bench_p11direct perop).
# The one-client ratio service / direct is measured in rounds of four runs (direct, service,
# service, direct) so that a drift of the machine falls on both sides; the median and range of
# the rounds' ratios are printed. Then several clients against as many direct threads.
#
# Environment: BENCH_BUILD_DIR (default build/bench), BENCH_DURATION seconds (2),
# BENCH_ROUNDS (3), BENCH_CLIENTS ("1 2 4"), SOFTHSM2_LIB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build/bench}
DUR=${BENCH_DURATION:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-1 2 4}
LIB=${SOFTHSM2_LIB:-/usr/lib/softhsm/libsofthsm2.so}
PIN=1234

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPARSEC_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j2 --target parsec bench_loadgen bench_p11direct >/dev/null
PARSEC=$BUILD/src/parsec
LOADGEN=$BUILD/bench/bench_loadgen
DIRECT=$BUILD/bench/bench_p11direct

WORK=$(mktemp -d /tmp/parsec-bench-p11-XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -m 700 "$WORK/tokens" "$WORK/kim"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --pin $PIN --so-pin 4321 >/dev/null
cat >"$WORK/config.toml" <<EOF
[core_settings]
allow_root = true
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$WORK/parsec.sock"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$WORK/kim/mappings.sqlite3"
[[provider]]
provider_type = "Pkcs11"
key_info_manager = "sqlite-manager"
library_path = "$LIB"
token_label = "bench"
user_pin = "$PIN"
EOF
"$PARSEC" -c "$WORK/config.toml" 2>"$WORK/daemon.log" &
PID=$!
for _ in $(seq 1 500); do
    [ -S "$WORK/parsec.sock" ] && break
    sleep 0.02
done
"$LOADGEN" setup -s "$WORK/parsec.sock" -P 2

rate_of() { sed -n 's/.*rate=\([0-9.]*\).*/\1/p' | head -1; }
direct() { "$DIRECT" "$LIB" bench "$PIN" "$1" "$2" "$3" "$DUR" | rate_of; }
service() { "$LOADGEN" run -s "$WORK/parsec.sock" -P 2 -o "$1" -t "$2" -d "$DUR" -w 0.3 | rate_of; }

echo "SoftHSM2 $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null || echo '?'), $(nproc) CPUs, ${DUR} s per run"
for op in sign_ecdsa sign_rsa; do
    direct session "$op" 1 >/dev/null # makes the key, warms the token
    ratios=()
    for _ in $(seq 1 "$ROUNDS"); do
        a=$(direct session "$op" 1)
        b=$(service "$op" 1)
        c=$(service "$op" 1)
        d=$(direct session "$op" 1)
        ratios+=("$(echo "($b + $c) / ($a + $d)" | bc -l)")
        echo "$op round: direct $a $d /s, service $b $c /s"
    done
    sorted=$(printf '%s\n' "${ratios[@]}" | sort -g)
    med=$(echo "$sorted" | sed -n "$(((ROUNDS + 1) / 2))p")
    printf '%s: 1 client / direct one session: median %.2f (range %.2f-%.2f)\n' "$op" "$med" \
        "$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)"
    perop=$(direct perop "$op" 1)
    one=$(service "$op" 1)
    printf '%s: original pattern in process %s /s; service 1 client %s /s (%.1fx)\n' "$op" \
        "$perop" "$one" "$(echo "$one / $perop" | bc -l)"
    for n in $CLIENTS; do
        s=$(service "$op" "$n")
        dd=$(direct session "$op" "$n")
        printf '%s: %s clients: service %s /s, direct %s threads %s /s (%.2f)\n' "$op" "$n" "$s" \
            "$n" "$dd" "$(echo "$s / $dd" | bc -l)"
    done
done
