#!/bin/sh
# The service's exit status tells systemd whether a restart can help: 78 (EX_CONFIG, named by
# the unit's RestartPreventExitStatus=) for a configuration that is missing, invalid or
# refused, 2 for a wrong command line; and the message names the file.
# Usage: exit_status.sh PARSEC
set -u
parsec=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
errors=0
expect() { # status description command...
    want=$1 what=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit status $got, expected $want" >&2
        cat "$tmp/out" >&2
        errors=$((errors + 1))
    fi
}
mentions() { # description text
    grep -qF -- "$2" "$tmp/out" || {
        echo "FAIL: $1: the message does not name '$2'" >&2
        cat "$tmp/out" >&2
        errors=$((errors + 1))
    }
}

expect 78 "missing configuration" "$parsec" -c "$tmp/absent.toml"
mentions "missing configuration" "$tmp/absent.toml"
mentions "missing configuration" "create it"

printf '[core_settings]\n[listener]\nlistener_type = "DomainSocket"\n' >"$tmp/invalid.toml"
expect 78 "invalid configuration" "$parsec" -c "$tmp/invalid.toml"
mentions "invalid configuration" "$tmp/invalid.toml:2"

mkdir "$tmp/dir.toml"
expect 78 "configuration that is a folder" "$parsec" -c "$tmp/dir.toml"
mentions "configuration that is a folder" "$tmp/dir.toml"

if [ "$(id -u)" -eq 0 ]; then
    cat >"$tmp/valid.toml" <<EOC
[core_settings]
[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "$tmp/parsec.sock"
[authenticator]
auth_type = "UnixPeerCredentials"
[[key_manager]]
name = "k"
manager_type = "SQLite"
sqlite_db_path = "$tmp/state/db.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "k"
key_store_path = "$tmp/state/keys"
EOC
    expect 78 "root without allow_root" "$parsec" -c "$tmp/valid.toml"
    mentions "root without allow_root" "allow_root"
fi

# A file the service's user cannot read (the test needs root to become another user).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod 0755 "$tmp"
    printf '[core_settings]\n' >"$tmp/secret.toml"
    chmod 0600 "$tmp/secret.toml"
    expect 78 "unreadable configuration" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$parsec" -c "$tmp/secret.toml"
    mentions "unreadable configuration" "$tmp/secret.toml"
    mentions "unreadable configuration" "chmod 0640"
fi

# A socket path the service cannot use (its folder is another user's, or a file stands where
# the folder should be) is a configuration error: restarting cannot cure it.
printf 'x' >"$tmp/notadir"
cat >"$tmp/badsock.toml" <<EOC
[core_settings]
allow_root = true
[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "$tmp/notadir/parsec.sock"
[authenticator]
auth_type = "Direct"
[[key_manager]]
name = "k"
manager_type = "SQLite"
sqlite_db_path = "$tmp/state2/db.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "k"
key_store_path = "$tmp/state2/keys"
EOC
expect 78 "unusable socket folder" "$parsec" -c "$tmp/badsock.toml"
mentions "unusable socket folder" "$tmp/notadir"
mentions "unusable socket folder" "socket_path"

expect 2 "unknown option" "$parsec" --no-such-option
expect 0 "help" "$parsec" --help
mentions "help" "78"

if [ "$errors" -ne 0 ]; then
    echo "$errors exit status checks failed" >&2
    exit 1
fi
echo "exit statuses as documented"
