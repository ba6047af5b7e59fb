#!/bin/sh
# Interoperability test: builds the parsec-interface client (offline, from Debian's
# librust-parsec-interface-dev), starts the service in a temporary folder, runs the client
# against it and stops the service with SIGTERM.
#
# usage: run.sh [BUILD_DIR [PARSEC_BINARY [CORE_VERSION]]]
#   BUILD_DIR     where the Rust sources are staged and built (default: tests/interop/target)
#   PARSEC_BINARY service to test (default: build/src/parsec)
#   CORE_VERSION  version the core provider must report in ListProviders (optional)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$here/target}
service=${2:-$root/build/src/parsec}
core_version=${3:-}
registry=/usr/share/cargo/registry
# How long the service may take to create its socket, in tenths of a second.
start_tenths=200
# How long the service may take to exit after SIGTERM, in tenths of a second.
stop_tenths=100

fail() {
    echo "interop: FAIL: $*" >&2
    exit 1
}

# CI installs the toolchain and the crate: their absence is an error, not a reason to skip.
cargo=$(command -v cargo 2>/dev/null || true)
if [ -z "$cargo" ]; then
    for c in "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" /usr/bin/cargo; do
        if [ -x "$c" ]; then
            cargo=$c
            break
        fi
    done
fi
[ -n "$cargo" ] || fail "cargo not found (install a Rust toolchain, e.g. apt-get install cargo)"
ls -d "$registry"/parsec-interface-0.27.* >/dev/null 2>&1 ||
    fail "parsec-interface crate not found in $registry (apt-get install librust-parsec-interface-dev, see scripts/install-deps.sh)"
[ -x "$service" ] || fail "service binary not found: $service"
# Both are used after changing directory.
service=$(cd "$(dirname "$service")" && pwd)/$(basename "$service")
mkdir -p "$build" && build=$(cd "$build" && pwd) || fail "cannot create $build"

# Stage the sources in the build folder: Cargo.lock is written next to Cargo.toml, and it must
# be resolved afresh against the installed crate versions rather than kept in the source tree.
stage=$build/interop-src
mkdir -p "$stage/src" "$stage/.cargo" || fail "cannot create $stage"
cp -p "$here/Cargo.toml" "$stage/" &&
    cp -p "$here/.cargo/config.toml" "$stage/.cargo/" &&
    cp -p "$here"/src/*.rs "$stage/src/" || fail "cannot stage the sources in $stage"
rm -f "$stage/Cargo.lock"
echo "interop: building the client with $cargo"
(cd "$stage" && "$cargo" build --offline --release --quiet --target-dir "$build/cargo-target") ||
    fail "cargo build failed"
client=$build/cargo-target/release/parsec-interop

tmp=$(mktemp -d /tmp/parsec-interop-XXXXXX) || fail "mktemp failed"
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$tmp/keys" "$tmp/kim"
cat >"$tmp/config.toml" <<CONF
[core_settings]
allow_root = true
thread_pool_size = 2
log_level = "info"

[listener]
listener_type = "DomainSocket"
timeout = 3000
socket_path = "$tmp/parsec.sock"

[authenticator]
auth_type = "Direct"
admins = [ { name = "interop-admin" } ]

[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$tmp/kim/mappings.sqlite3"

[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
key_store_path = "$tmp/keys"
CONF

show_log() {
    echo "--- service log ---" >&2
    cat "$tmp/parsec.log" >&2
    echo "--- end of service log ---" >&2
}

(cd "$tmp" && exec "$service" -c "$tmp/config.toml") 2>"$tmp/parsec.log" &
pid=$!
i=0
while [ ! -S "$tmp/parsec.sock" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rc=$?
        pid=
        show_log
        fail "service exited with status $rc before creating its socket"
    fi
    i=$((i + 1))
    if [ "$i" -gt "$start_tenths" ]; then
        show_log
        fail "service did not create $tmp/parsec.sock"
    fi
    sleep 0.1
done

PARSEC_SERVICE_ENDPOINT="unix:$tmp/parsec.sock" PARSEC_INTEROP_CORE_VERSION="$core_version" \
    "$client"
status=$?

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; do
    i=$((i + 1))
    if [ "$i" -gt "$stop_tenths" ]; then
        show_log
        fail "service still running 10 s after SIGTERM"
    fi
    sleep 0.1
done
wait "$pid"
rc=$?
pid=
if [ "$rc" -ne 0 ]; then
    show_log
    fail "service exited with status $rc after SIGTERM"
fi
if [ "$status" -ne 0 ]; then
    show_log
    echo "interop: FAIL: the client reported failures" >&2
fi
exit "$status"
