#!/bin/bash
# The TPM provider's benchmark, on a private swtpm: ECDSA P-256 and RSA-2048 PKCS#1 v1.5
# (SHA-256) signatures through the service, one client, against the same ESAPI calls made in
# process with the same session and templates (bench/tpm_inproc.c): Load + Sign + Flush per
# signature (the original service's pattern) and Sign on a loaded key. Each round measures the
# in-process reference, then the service, then the reference again; the ratio of a round is the
# service's rate over the mean of its two reference rates. Prints one table.
#
# Environment: BENCH_BUILD_DIR (default build/bench), BENCH_DURATION seconds per measurement
# (default 2), BENCH_WARMUP (0.3), BENCH_ROUNDS (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build/bench}
DUR=${BENCH_DURATION:-2}
WARM=${BENCH_WARMUP:-0.3}
ROUNDS=${BENCH_ROUNDS:-3}

command -v swtpm >/dev/null || { echo "tpm.sh: swtpm is not installed" >&2; exit 2; }
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPARSEC_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j2 --target parsec bench_loadgen bench_tpm_inproc >/dev/null
PARSEC=$BUILD/src/parsec
LOADGEN=$BUILD/bench/bench_loadgen
INPROC=$BUILD/bench/bench_tpm_inproc

TMP=$(mktemp -d /tmp/parsec-bench-tpm-XXXXXX)
SWTPM_PID=
PARSEC_PID=
cleanup() {
    [ -n "$PARSEC_PID" ] && kill "$PARSEC_PID" 2>/dev/null && wait "$PARSEC_PID" 2>/dev/null
    [ -n "$SWTPM_PID" ] && kill "$SWTPM_PID" 2>/dev/null && wait "$SWTPM_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((20000 + RANDOM % 30000))
while ! port_free "$PORT" || ! port_free $((PORT + 1)); do PORT=$((20000 + RANDOM % 30000)); done
mkdir "$TMP/state"
swtpm socket --tpm2 --tpmstate dir="$TMP/state" \
    --server type=tcp,port=$PORT,bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear >"$TMP/swtpm.log" 2>&1 &
SWTPM_PID=$!
for _ in $(seq 500); do port_free "$PORT" || break; sleep 0.02; done
TCTI="swtpm:host=127.0.0.1,port=$PORT"

cat >"$TMP/config.toml" <<CFG
[core_settings]
allow_root = true
log_level = "error"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$TMP/parsec.sock"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$TMP/kim/mappings.sqlite3"
[[provider]]
provider_type = "Tpm"
key_info_manager = "sqlite-manager"
tcti = "$TCTI"
owner_hierarchy_auth = ""
CFG

field() { sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p" <<<" $2"; }

service_run() {
    "$PARSEC" -c "$TMP/config.toml" >>"$TMP/parsec.log" 2>&1 &
    PARSEC_PID=$!
    for _ in $(seq 500); do [ -S "$TMP/parsec.sock" ] && break; sleep 0.02; done
    "$LOADGEN" setup -s "$TMP/parsec.sock" -P 3 >/dev/null
    local e r
    e=$("$LOADGEN" run -s "$TMP/parsec.sock" -o sign_ecdsa -t 1 -d "$DUR" -w "$WARM" -P 3)
    r=$("$LOADGEN" run -s "$TMP/parsec.sock" -o sign_rsa -t 1 -d "$DUR" -w "$WARM" -P 3)
    kill "$PARSEC_PID"
    wait "$PARSEC_PID" || true
    PARSEC_PID=
    rm -f "$TMP/parsec.sock"
    echo "$(field rate "$e") $(field rate "$r")"
}

printf '| round | ECDSA service/s | in-process loaded/s | in-process L+S+F/s | ratio loaded | ratio L+S+F | RSA service/s | in-process loaded/s | in-process L+S+F/s | ratio loaded | ratio L+S+F |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for round in $(seq "$ROUNDS"); do
    a=$("$INPROC" "$TCTI" "$DUR")
    read -r se sr <<<"$(service_run)"
    b=$("$INPROC" "$TCTI" "$DUR")
    row="| $round "
    for k in ecdsa rsa; do
        s=$([ $k = ecdsa ] && echo "$se" || echo "$sr")
        lo=$(awk -v x="$(field ${k}_sign_loaded "$a")" -v y="$(field ${k}_sign_loaded "$b")" 'BEGIN{printf "%.1f", (x+y)/2}')
        lsf=$(awk -v x="$(field ${k}_load_sign_flush "$a")" -v y="$(field ${k}_load_sign_flush "$b")" 'BEGIN{printf "%.1f", (x+y)/2}')
        row+=$(awk -v s="$s" -v l="$lo" -v f="$lsf" 'BEGIN{printf "| %.1f | %.1f | %.1f | %.2f | %.2f ", s, l, f, s/l, s/f}')
    done
    echo "$row|"
done
