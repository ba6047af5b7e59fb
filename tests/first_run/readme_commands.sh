#!/bin/sh
# The README's two commands, as a new user meets them on a fresh Debian 12 machine: as root
# without sudo installed, and as a user with sudo. Their first step installs the dependencies;
# here apt-get, id and sudo are recording stand-ins, so nothing is installed and no network is
# needed. The rest of each command (cmake, the tests) is what the whole suite already runs.
set -eu
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "readme_commands: $*" >&2
    exit 1
}

# The lines of the sh blocks of the README's "Two commands" section.
awk '/^## Two commands/ { s = 1; next } /^## / { s = 0 }
     s && /^```sh/ { b = 1; next } s && /^```/ { b = 0 } s && b' "$src/README.md" >"$work/commands"
[ "$(grep -c . "$work/commands")" -eq 2 ] || fail "README.md: expected two commands"

bin=$work/bin
sudo_bin=$work/sudo-bin
mkdir "$bin" "$sudo_bin"
cat >"$bin/id" <<'EOF'
#!/bin/sh
[ "$1" = -u ] && echo "${FAKE_UID:-1000}"
EOF
cat >"$bin/apt-get" <<EOF
#!/bin/sh
[ "\${FAKE_UID:-1000}" = 0 ] || { echo "apt-get: permission denied" >&2; exit 100; }
echo "\$*" >>"$work/apt.log"
EOF
cat >"$sudo_bin/sudo" <<'EOF'
#!/bin/sh
FAKE_UID=0 exec "$@"
EOF
chmod +x "$bin/id" "$bin/apt-get" "$sudo_bin/sudo"

# Runs the first step of a README command with the given PATH and user id.
first_step() {
    (cd "$src" && PATH=$2 FAKE_UID=$3 /bin/sh -c "${1%% && *}") >"$work/out" 2>&1
}

n=0
while IFS= read -r cmd; do
    n=$((n + 1))
    case $cmd in
    *sudo*) fail "command $n calls sudo itself, which a root-only machine does not have: $cmd" ;;
    esac
    # Root, no sudo anywhere.
    rm -f "$work/apt.log"
    first_step "$cmd" "$bin" 0 || fail "command $n as root without sudo: $(cat "$work/out")"
    grep -q '^install .*libmbedtls-dev' "$work/apt.log" || fail "command $n as root: nothing installed"
    # A user with sudo: the script asks sudo for root rights itself.
    rm -f "$work/apt.log"
    first_step "$cmd" "$bin:$sudo_bin" 1000 || fail "command $n as a user: $(cat "$work/out")"
    grep -q '^install .*libmbedtls-dev' "$work/apt.log" || fail "command $n as a user: nothing installed"
    # A user without sudo: a clear refusal, not a half-done install.
    rm -f "$work/apt.log"
    if first_step "$cmd" "$bin" 1000; then
        fail "command $n as a user without sudo succeeded"
    fi
    grep -q 'root' "$work/out" || fail "command $n as a user without sudo: unclear message: $(cat "$work/out")"
    [ ! -e "$work/apt.log" ] || fail "command $n as a user without sudo ran apt-get"
done <"$work/commands"
echo "readme_commands: both README commands start as root without sudo and as a user with sudo"
