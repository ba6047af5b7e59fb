#!/bin/bash
# The benchmark suite: builds a Release tree, then measures in one run
#   - Ping against the bare socket floor (bench/floor.c) and the service,
#   - ListProviders, ECDSA P-256 and RSA-2048 PKCS#1 v1.5 PsaSignHash through the service,
#   - the same signatures made in process (bench/inproc.c),
#   - one signing client against the in-process call with everything on one CPU (taskset),
#   - the daemon's start-up time, memory (idle and under load) and file descriptors,
#   - one signing client's latency, alone and while other clients generate RSA-4096 keys,
# prints the tables and writes them to bench/results.md.
#
# Every comparison is measured in rounds of four runs in the order reference, service, service,
# reference (floor or in-process; "ABBA"), so that a drift of the machine's speed during a
# round falls equally on both sides; a round's ratio is the sum of its two service rates over
# the sum of its two reference rates, and the report gives the median and the range of the
# rounds' ratios. At the end, the idle memory of a second daemon, linked with
# PARSEC_STATIC_DEPS=ON, is measured, and callgrind counts the instructions of signature
# requests in the daemon and of the same signatures in process.
#
# Environment: BENCH_BUILD_DIR (default build/bench), BENCH_DURATION seconds per measurement
# (default 1), BENCH_WARMUP (0.3), BENCH_ROUNDS (5), BENCH_CLIENTS ("1 2 8 64"),
# BENCH_CALLGRIND (1; 0 skips the counts), BENCH_CALLGRIND_N (20), BENCH_KEYGEN_CLIENTS (2;
# 0 skips the key generation runs), BENCH_KEYGEN_DURATION (20 seconds per run), BENCH_OUT
# (default bench/results.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build/bench}
DUR=${BENCH_DURATION:-1}
WARM=${BENCH_WARMUP:-0.3}
ROUNDS=${BENCH_ROUNDS:-5}
CLIENTS=${BENCH_CLIENTS:-1 2 8 64}
OUT=${BENCH_OUT:-$ROOT/bench/results.md}
STARTS=5

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPARSEC_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j2 --target parsec bench_loadgen bench_floor bench_inproc >/dev/null

PARSEC=$BUILD/src/parsec
LOADGEN=$BUILD/bench/bench_loadgen
FLOOR=$BUILD/bench/bench_floor
INPROC=$BUILD/bench/bench_inproc
WORKERS=$(nproc)

WORK=$(mktemp -d /tmp/parsec-bench-XXXXXX)
SOCK=$WORK/parsec.sock
FSOCK=$WORK/floor.sock
PID=
FPID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
    [ -n "$FPID" ] && kill -KILL "$FPID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -m 700 "$WORK/keys" "$WORK/kim"
# The service's defaults otherwise: thread_pool_size = number of CPUs, log level "error".
CONFIG=$WORK/config.toml
cat >"$CONFIG" <<EOF
[core_settings]
allow_root = true
[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "$SOCK"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$WORK/kim/mappings.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
key_store_path = "$WORK/keys"
EOF

# field NAME LINE: the value of NAME=... in a key=value line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
rollup_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }
fd_count() { ls "/proc/$1/fd" | wc -l; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Parenthesised: a bare ">" in an awk print statement is an output redirection.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? 100 * a / b : 0) }'; }
ratio() { printf '%.0f%%' "$(pct "$1" "$2")"; }

# Starts the daemon: sets PID and STARTUP_US.
spawn() {
    local line
    line=$("$LOADGEN" spawn -b "$PARSEC" -c "$CONFIG" -s "$SOCK" -l "$WORK/parsec.log")
    PID=$(field pid "$line")
    STARTUP_US=$(field startup_us "$line")
}

stop_daemon() {
    kill -TERM "$PID"
    while kill -0 "$PID" 2>/dev/null; do sleep 0.01; done
    PID=
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU time of the whole machine and the part the hypervisor took for other guests ("steal").
cpu_snapshot() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }
CPU_BEFORE=$(cpu_snapshot)

# ---- start-up, idle ---------------------------------------------------------------------

spawn
"$LOADGEN" setup -s "$SOCK"
startups=()
for _ in $(seq "$STARTS"); do
    stop_daemon
    spawn
    startups+=("$STARTUP_US")
done
STARTUP_MS=$(printf '%s\n' "${startups[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
sleep 1
IDLE_RSS=$(status_kb "$PID" VmRSS)
IDLE_HWM=$(status_kb "$PID" VmHWM)
IDLE_PSS=$(rollup_kb "$PID" Pss)
IDLE_ANON=$(rollup_kb "$PID" Anonymous)
IDLE_THREADS=$(status_kb "$PID" Threads)
FD_BEFORE=$(fd_count "$PID")

"$FLOOR" "$FSOCK" "$WORKERS" &
FPID=$!
while [ ! -S "$FSOCK" ]; do sleep 0.01; done

# ---- measurements -----------------------------------------------------------------------

RSS_MAX=0
ERRORS=0
LAST_RATE=0
declare -A RATE P50 P99 CPU RATIO
RAW=()

# measure KEY CMD...: runs CMD (which prints one key=value result line) and records it.
measure() {
    local key=$1 line rss
    shift
    # A run with failed requests still reports them; one that could not start reports nothing.
    line=$("$@" || true)
    echo "  $key: $line" >&2
    RAW+=("$key: $line")
    if [ -z "$line" ]; then
        ERRORS=$((ERRORS + 1))
        LAST_RATE=0
        return
    fi
    LAST_RATE=$(field rate "$line")
    RATE[$key]+="$LAST_RATE "
    P50[$key]+="$(field p50_us "$line") "
    P99[$key]+="$(field p99_us "$line") "
    CPU[$key]+="$(field cpu_us_per_req "$line") "
    ERRORS=$((ERRORS + $(field errors "$line")))
    rss=$(field rss_max_kb "$line")
    if [[ $key == svc/* ]] && [ -n "$rss" ] && [ "$rss" -gt "$RSS_MAX" ]; then RSS_MAX=$rss; fi
}
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
# rng VALUES: "lowest-highest" of a list of percentages.
rng() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 }
    END { printf "%.0f-%.0f", lo, hi }'; }

svc() { "$LOADGEN" run -s "$SOCK" -o "$1" -t "$2" -d "$DUR" -w "$WARM" -p "$PID"; }
flr() { "$LOADGEN" run -s "$FSOCK" -o ping -t "$1" -d "$DUR" -w "$WARM" -p "$FPID"; }
inp() { "$INPROC" -o "$1" -t "$2" -d "$DUR" -w "$WARM"; }

# pair NAME REFKEY REFCMD... -- SVCKEY SVCCMD...: one round of a comparison, run in the order
# reference, service, service, reference; the round's ratio is the service's two rates over the
# reference's two.
pair() {
    local name=$1 r1 r2 s1 s2
    shift
    local -a a=() b=()
    while [ "$1" != -- ]; do a+=("$1"); shift; done
    shift
    b=("$@")
    measure "${a[@]}"
    r1=$LAST_RATE
    measure "${b[@]}"
    s1=$LAST_RATE
    measure "${b[@]}"
    s2=$LAST_RATE
    measure "${a[@]}"
    r2=$LAST_RATE
    RATIO[$name]+="$(awk -v s="$s1 $s2" -v r="$r1 $r2" 'BEGIN { split(s, a); split(r, b)
        print (b[1] + b[2] > 0 ? 100 * (a[1] + a[2]) / (b[1] + b[2]) : 0) }') "
}

echo "measuring (${DUR}s per run, $ROUNDS rounds, clients: $CLIENTS)" >&2
for c in $CLIENTS; do
    for _ in $(seq "$ROUNDS"); do
        pair "ping/$c" "floor/ping/$c" flr "$c" -- "svc/ping/$c" svc ping "$c"
    done
    for _ in $(seq "$ROUNDS"); do
        measure "svc/list_providers/$c" svc list_providers "$c"
    done
    for op in sign_ecdsa sign_rsa; do
        for _ in $(seq "$ROUNDS"); do
            pair "$op/$c" "inproc/$op/$c" inp "$op" "$c" -- "svc/$op/$c" svc "$op" "$c"
        done
    done
done

# One signing client with the client, the daemon and the in-process program all on one CPU
# (the first this script may use). A lone client and the worker serving it sleep in turn, and
# where the idle CPU of a virtual machine halts, each wake-up waits for the hypervisor; on one
# CPU the wake-up is a local switch. This isolates the service's own cost per request from
# that latency.
ONE_CPU=0
if [ "$(nproc)" -gt 1 ] && command -v taskset >/dev/null; then
    ONE_CPU=1
    allowed=$(taskset -c -p "$PID" | sed 's/.*: //')
    cpu=$(taskset -c -p $$ | sed 's/.*: //' | cut -d, -f1 | cut -d- -f1)
    taskset -a -p -c "$cpu" "$PID" >/dev/null
    for op in sign_ecdsa sign_rsa; do
        for _ in $(seq "$ROUNDS"); do
            pair "$op/1cpu" "inproc/$op/1cpu" taskset -c "$cpu" "$INPROC" -o "$op" -t 1 \
                -d "$DUR" -w "$WARM" -- "svc/$op/1cpu" taskset -c "$cpu" "$LOADGEN" run \
                -s "$SOCK" -o "$op" -t 1 -d "$DUR" -w "$WARM" -p "$PID"
        done
    done
    taskset -a -p -c "$allowed" "$PID" >/dev/null
fi

CPU_AFTER=$(cpu_snapshot)
STEAL=$(awk -v a="$CPU_BEFORE" -v b="$CPU_AFTER" 'BEGIN { split(a, x, " "); split(b, y, " ");
    print (y[2] > x[2] ? int(100 * (y[1] - x[1]) / (y[2] - x[2]) + 0.5) : 0) }')
sleep 1
LOAD_HWM=$(status_kb "$PID" VmHWM)
AFTER_RSS=$(status_kb "$PID" VmRSS)
FD_AFTER=$(fd_count "$PID")
kill -TERM "$FPID"
FPID=
stop_daemon

# ---- the same daemon linked with PARSEC_STATIC_DEPS=ON, idle --------------------------------

cmake -S "$ROOT" -B "$BUILD-static" -DCMAKE_BUILD_TYPE=Release -DPARSEC_SANITIZE=OFF \
    -DPARSEC_STATIC_DEPS=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD-static" -j2 --target parsec >/dev/null
PARSEC=$BUILD-static/src/parsec
spawn
STATIC_STARTUP_MS=$(awk -v u="$STARTUP_US" 'BEGIN { printf "%.1f", u / 1000 }')
sleep 1
STATIC_RSS=$(status_kb "$PID" VmRSS)
STATIC_PSS=$(rollup_kb "$PID" Pss)
STATIC_ANON=$(rollup_kb "$PID" Anonymous)
stop_daemon

# ---- one signature while other clients generate keys -------------------------------------
# One ECDSA signing client, alone, then beside KG_CLIENTS clients that generate and destroy
# RSA-4096 key pairs in a loop. The daemon gets two workers more than there are generating
# clients, so a worker is always free for the signature and what shows is the back-end: its
# worst case (max) is what a slow operation of another client costs a request.
KG_CLIENTS=${BENCH_KEYGEN_CLIENTS:-2}
KG_DUR=${BENCH_KEYGEN_DURATION:-20}
KG_ALONE=
KG_LOADED=
if [ "$KG_CLIENTS" -gt 0 ]; then
    PARSEC=$BUILD/src/parsec
    sed "s/^allow_root = true\$/&\nthread_pool_size = $((KG_CLIENTS + 2))/" "$CONFIG" \
        >"$WORK/config-kg.toml"
    CONFIG_MAIN=$CONFIG
    CONFIG=$WORK/config-kg.toml
    spawn
    "$LOADGEN" setup -s "$SOCK"
    measure "svc/sign_ecdsa/alone" "$LOADGEN" run -s "$SOCK" -o sign_ecdsa -t 1 -d "$KG_DUR" \
        -w "$WARM" -p "$PID"
    KG_ALONE=${RAW[-1]}
    measure "svc/sign_ecdsa/keygen" "$LOADGEN" run -s "$SOCK" -o sign_ecdsa -t 1 -d "$KG_DUR" \
        -w "$WARM" -p "$PID" -g "$KG_CLIENTS"
    KG_LOADED=${RAW[-1]}
    stop_daemon
    CONFIG=$CONFIG_MAIN
fi

# ---- instructions per signature, counted by callgrind ------------------------------------
# Unlike the rates, instruction counts do not depend on what else the machine is doing. The
# daemon runs under callgrind counting only inside frontend_handle (the whole request from its
# decoded header to its encoded reply: authentication, key lookup, protobuf, the signature); the
# in-process program counts only inside psa_sign_hash. Neither counts the kernel's socket work,
# which the CPU times of Ping above measure.
declare -A INSTR=()
CG_N=${BENCH_CALLGRIND_N:-20}
if [ "${BENCH_CALLGRIND:-1}" = 1 ] && command -v callgrind_control >/dev/null; then
    sed 's/^timeout = .*/timeout = 10000/' "$WORK/config.toml" >"$WORK/config-cg.toml"
    printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file="%s" --collect-atstart=no --toggle-collect=frontend_handle "%s" "$@"\n' \
        "$WORK/cg.daemon" "$BUILD/src/parsec" >"$WORK/parsec-cg"
    chmod +x "$WORK/parsec-cg"
    PARSEC=$WORK/parsec-cg
    CONFIG=$WORK/config-cg.toml
    spawn
    totals() { awk '/^totals:/ { print $2 }' "$@"; }
    for op in sign_ecdsa sign_rsa; do
        "$LOADGEN" run -s "$SOCK" -o "$op" -n 2 >/dev/null
        rm -f "$WORK"/cg.daemon.*
        callgrind_control -z "$PID" >/dev/null
        # "run" checks one reply before the counted ones: CG_N + 1 requests.
        "$LOADGEN" run -s "$SOCK" -o "$op" -n "$CG_N" >/dev/null
        callgrind_control -d "$PID" >/dev/null
        svc_i=$(awk -v t="$(totals "$WORK"/cg.daemon.*)" -v n="$CG_N" \
            'BEGIN { printf "%.0f", t / (n + 1) }')
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.inproc" --collect-atstart=no \
            --toggle-collect=psa_sign_hash "$INPROC" -o "$op" -n "$CG_N" >/dev/null 2>&1
        inp_i=$(awk -v t="$(totals "$WORK/cg.inproc")" -v n="$CG_N" \
            'BEGIN { printf "%.0f", t / n }')
        INSTR[$op]="$inp_i $svc_i"
    done
    stop_daemon
fi

# ---- report -----------------------------------------------------------------------------

aim() { awk -v v="$1" -v a="$2" -v less="$3" 'BEGIN {
    ok = (less ? (v < a) : (v >= a)); print (ok ? "met" : "missed") }'; }
pc() { printf '%.0f%%' "$1"; }
# lat KEY: "p50 / p99" medians.
lat() { echo "$(med "${P50[$1]}") / $(med "${P99[$1]}")"; }

{
    echo "# Benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)),"
    echo "Linux $(uname -r), load average before the run: $LOAD_BEFORE; CPU time taken by the"
    echo "hypervisor for other guests during the measurements (steal): $STEAL%."
    echo "Release build of commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) plus the working tree; $WORKERS service workers and $WORKERS floor threads;"
    echo "one connection per request; ${DUR} s per measurement after ${WARM} s of warm-up; $ROUNDS rounds."
    echo "Rates and latencies are medians over the runs. A comparison runs in rounds of four runs"
    echo "(reference, service, service, reference); a round's ratio is the service's two rates over"
    echo "the reference's two, and the report gives the median of the rounds' ratios and their range."
    echo "CPU is the server process's user + system time per request."
    echo "Requests that failed or got a wrong reply: $ERRORS."
    echo
    echo "## Ping: service against the bare socket floor"
    echo
    echo "| clients | floor req/s | service req/s | service/floor | floor CPU us/req | service CPU us/req | floor p50 / p99 us | service p50 / p99 us |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in $CLIENTS; do
        printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' "$c" \
            "$(med "${RATE[floor/ping/$c]}")" "$(med "${RATE[svc/ping/$c]}")" \
            "$(pc "$(med "${RATIO[ping/$c]}")") ($(rng "${RATIO[ping/$c]}"))" "$(med "${CPU[floor/ping/$c]}")" \
            "$(med "${CPU[svc/ping/$c]}")" "$(lat "floor/ping/$c")" "$(lat "svc/ping/$c")"
    done
    echo
    echo "## ListProviders through the service"
    echo
    echo "| clients | req/s | CPU us/req | p50 / p99 us |"
    echo "|---:|---:|---:|---:|"
    for c in $CLIENTS; do
        printf '| %s | %.0f | %s | %s |\n' "$c" "$(med "${RATE[svc/list_providers/$c]}")" \
            "$(med "${CPU[svc/list_providers/$c]}")" "$(lat "svc/list_providers/$c")"
    done
    for op in sign_ecdsa sign_rsa; do
        echo
        if [ "$op" = sign_ecdsa ]; then
            echo "## PsaSignHash, ECDSA P-256 SHA-256: service against Mbed TLS in process"
        else
            echo "## PsaSignHash, RSA-2048 PKCS#1 v1.5 SHA-256: service against Mbed TLS in process"
        fi
        echo
        echo "| clients / threads | in-process sig/s | service sig/s | service/in-process | in-process CPU us/sig | service CPU us/sig | in-process p50 / p99 us | service p50 / p99 us |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
        for c in $CLIENTS; do
            printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' "$c" \
                "$(med "${RATE[inproc/$op/$c]}")" "$(med "${RATE[svc/$op/$c]}")" \
                "$(pc "$(med "${RATIO[$op/$c]}")") ($(rng "${RATIO[$op/$c]}"))" "$(med "${CPU[inproc/$op/$c]}")" \
                "$(med "${CPU[svc/$op/$c]}")" "$(lat "inproc/$op/$c")" "$(lat "svc/$op/$c")"
        done
    done
    echo
    if [ "$ONE_CPU" = 1 ]; then
        echo "## One signing client, client and service on one CPU (CPU $cpu, taskset)"
        echo
        echo "| operation | in-process sig/s | service sig/s | service/in-process | in-process p50 / p99 us | service p50 / p99 us |"
        echo "|---|---:|---:|---:|---:|---:|"
        for op in sign_ecdsa sign_rsa; do
            printf '| %s | %.0f | %.0f | %s | %s | %s |\n' "$op" \
                "$(med "${RATE[inproc/$op/1cpu]}")" "$(med "${RATE[svc/$op/1cpu]}")" \
                "$(pc "$(med "${RATIO[$op/1cpu]}")") ($(rng "${RATIO[$op/1cpu]}"))" \
                "$(lat "inproc/$op/1cpu")" "$(lat "svc/$op/1cpu")"
        done
        echo
    fi
    if [ ${#INSTR[@]} -gt 0 ]; then
        echo "## Instructions per signature (callgrind, user space, $CG_N requests)"
        echo
        echo "| operation | in-process psa_sign_hash | service request (frontend_handle) | in-process/service | the service's own |"
        echo "|---|---:|---:|---:|---:|"
        for op in sign_ecdsa sign_rsa; do
            read -r a b <<<"${INSTR[$op]}"
            printf '| %s | %s | %s | %.1f%% | %s |\n' "$op" "$a" "$b" "$(pct "$a" "$b")" "$((b - a))"
        done
        echo
    fi
    if [ -n "$KG_LOADED" ]; then
        echo "## One ECDSA signing client while $KG_CLIENTS others generate RSA-4096 keys"
        echo
        echo "| signing client | sig/s | p50 us | p99 us | max us | keys generated |"
        echo "|---|---:|---:|---:|---:|---:|"
        for l in "alone|$KG_ALONE" "beside the generating clients|$KG_LOADED"; do
            printf '| %s | %.0f | %s | %s | %s | %s |\n' "${l%%|*}" "$(field rate "${l#*|}")" \
                "$(field p50_us "${l#*|}")" "$(field p99_us "${l#*|}")" \
                "$(field max_us "${l#*|}")" "$(field keygens "${l#*|}")"
        done
        echo
    fi
    echo "## The daemon"
    echo
    echo "| measure | value | aim |"
    echo "|---|---:|---|"
    echo "| start-up, exec to first successful Ping (median of $STARTS) | $STARTUP_MS ms | |"
    echo "| VmRSS idle | $IDLE_RSS kB | < 4096 kB: $(aim "$IDLE_RSS" 4096 1) |"
    echo "| of which anonymous (heap, stacks) | $IDLE_ANON kB | |"
    echo "| Pss idle (shared pages divided among their users) | $IDLE_PSS kB | |"
    echo "| VmHWM idle | $IDLE_HWM kB | |"
    echo "| VmRSS under load (highest sample) | $RSS_MAX kB | |"
    echo "| VmHWM after the whole run | $LOAD_HWM kB | |"
    echo "| VmRSS after the whole run | $AFTER_RSS kB | |"
    echo "| threads | $IDLE_THREADS | |"
    echo "| linked with PARSEC_STATIC_DEPS=ON: VmRSS idle | $STATIC_RSS kB | < 4096 kB: $(aim "$STATIC_RSS" 4096 1) |"
    echo "| linked with PARSEC_STATIC_DEPS=ON: anonymous, Pss idle | $STATIC_ANON kB, $STATIC_PSS kB | |"
    echo "| linked with PARSEC_STATIC_DEPS=ON: start-up (one run) | $STATIC_STARTUP_MS ms | |"
    echo "| open file descriptors before / after the run | $FD_BEFORE / $FD_AFTER | equal: $([ "$FD_BEFORE" = "$FD_AFTER" ] && echo met || echo missed) |"
    echo
    echo "## Headline ratios"
    echo
    for c in 1 8; do
        [ -n "${RATIO[ping/$c]:-}" ] || continue
        r=$(printf '%.0f' "$(med "${RATIO[ping/$c]}")")
        echo "* Ping service/floor, $c client(s): $(pc "$r"), rounds $(rng "${RATIO[ping/$c]}")% (aim >= 80%: $(aim "$r" 80 0))"
    done
    for op in sign_ecdsa sign_rsa; do
        for c in 1 8; do
            [ -n "${RATIO[$op/$c]:-}" ] || continue
            r=$(printf '%.0f' "$(med "${RATIO[$op/$c]}")")
            echo "* $op service/in-process, $c client(s): $(pc "$r"), rounds $(rng "${RATIO[$op/$c]}")% (aim >= 90%: $(aim "$r" 90 0))"
        done
        if [ -n "${RATIO[$op/1cpu]:-}" ]; then
            r=$(printf '%.0f' "$(med "${RATIO[$op/1cpu]}")")
            echo "* $op service/in-process, 1 client, both on one CPU: $(pc "$r"), rounds $(rng "${RATIO[$op/1cpu]}")% (aim >= 90%: $(aim "$r" 90 0))"
        fi
    done
    echo
    echo "## Every run"
    echo
    echo '```'
    printf '%s\n' "${RAW[@]}"
    echo '```'
} >"$WORK/results.md"

cp "$WORK/results.md" "$OUT"
cat "$OUT"
[ "$ERRORS" -eq 0 ]
