#!/bin/sh
# Runs the route of docs/quickstart.md "from the release tarball", command for command, on a
# tarball made from this tree: every command below must appear verbatim in the tarball's page (so the
# page cannot drift from what is tested), and the run must end with a request that OpenSSL
# verifies. The sudo line is checked but not run (the dependencies are installed already).
# Usage: scripts/quickstart-test.sh
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
work=$(mktemp -d /tmp/parsec-quickstart.XXXXXX)
svc=
cleanup() {
    rc=$?
    if [ -n "$svc" ]; then kill "$svc" 2>/dev/null || true; fi
    rm -rf "$work"
    if [ $rc -eq 0 ]; then echo "quickstart test: passed"; else echo "quickstart test: FAILED"; fi
    exit $rc
}
trap cleanup EXIT

version=$(sed -n 's/^project(parsec VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
name=parsec-$version

in_page() {
    grep -qxF -- "$1" "$page" || { echo "FAIL: not in $page: $1" >&2; exit 1; }
}

echo "== release tarball"
cmake -S . -B "$work/tarball-build" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$work/tarball-build" --target package_source >/dev/null
cp "$work/tarball-build/$name.tar.gz" "$work/"
ls -l "$work/$name.tar.gz" | awk '{print $5, $9}'

echo "== quickstart, from the tarball, as its own docs/quickstart.md says"
cd "$work"
tar xzf "$name.tar.gz"
page="$work/$name/docs/quickstart.md"
in_page "tar xzf $name.tar.gz && cd $name"
in_page "sudo scripts/install-deps.sh"
home="$work/home"
mkdir -p "$home"
# A newcomer's shell: their own HOME, no service settings inherited.
run() {
    in_page "$1"
    echo "\$ $1"
    env -u PARSEC_SERVICE_ENDPOINT -u PARSEC_STATE_DIR -u XDG_STATE_HOME HOME="$home" \
        sh -ec "cd '$work/$name'; ${prefix:-}$1"
}
run "cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF" >/dev/null
run "cmake --build build/release -j" >/dev/null
in_page "build/release/src/parsec &"
(cd "$name" && exec env -u PARSEC_SERVICE_ENDPOINT -u PARSEC_STATE_DIR -u XDG_STATE_HOME \
    HOME="$home" build/release/src/parsec) >"$work/service.log" 2>&1 &
svc=$!
i=0
until grep -q "export PARSEC_SERVICE_ENDPOINT" "$work/service.log"; do
    i=$((i + 1))
    [ $i -le 100 ] || { cat "$work/service.log"; echo "FAIL: the service did not start" >&2; exit 1; }
    sleep 0.1
done
cat "$work/service.log"
expected="parsec: clients: export PARSEC_SERVICE_ENDPOINT=unix:$home/.local/state/parsec/parsec.sock"
grep -qxF "$expected" "$work/service.log" || { echo "FAIL: printed endpoint" >&2; exit 1; }
step='export PARSEC_SERVICE_ENDPOINT=unix:$HOME/.local/state/parsec/parsec.sock'
in_page "$step"
for c in "build/release/src/tool/parsec-tool create-ecc-key -k my-key" \
    "build/release/src/tool/parsec-tool create-csr -k my-key --cn example.com > my-key.csr" \
    "openssl req -in my-key.csr -noout -text -verify"; do
    prefix="$step; " run "$c" >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
done
grep -q "verify OK" "$work/out.txt" || { cat "$work/out.txt"; echo "FAIL: CSR" >&2; exit 1; }
grep -q "Subject: CN = example.com" "$work/out.txt" || { echo "FAIL: CSR subject" >&2; exit 1; }
echo "ok: the tarball's quickstart ends with a request OpenSSL verifies"
in_page "kill %1"
kill "$svc"
wait "$svc" || true
svc=
[ -f "$home/.local/state/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3" ] ||
    { echo "FAIL: the key store is not where the page says" >&2; exit 1; }
