#!/usr/bin/env bash
# parsec-tool against the PKCS#11 provider on a private SoftHSM2 token: the tool's key, sign,
# encrypt, decrypt and certificate commands, every result checked by OpenSSL.
# Usage: tool.sh TOOL DAEMON SOFTHSM2_LIB SOFTHSM2_UTIL. Exit 77 when SoftHSM2 is absent.
set -u
TOOL="$1"
DAEMON="$2"
LIB="$3"
UTIL="$4"
if [ ! -r "$LIB" ] || [ ! -x "$UTIL" ]; then
    echo "SoftHSM2 is not installed: skipped" >&2
    exit 77
fi
WORK=$(mktemp -d /tmp/parsec-p11-tool-XXXXXX)
DAEMON_PID=""
FAILS=0
cleanup() {
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    rm -rf -- "$WORK"
}
trap cleanup EXIT
unset RUST_LOG
export PARSEC_SERVICE_ENDPOINT="unix:$WORK/parsec.sock"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
mkdir "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/tokens" >"$SOFTHSM2_CONF"
"$UTIL" --init-token --free --label tool-token --pin 2468 --so-pin 13579 >/dev/null || exit 1
printf '2468\n' >"$WORK/pin"
chmod 600 "$WORK/pin"
cat >"$WORK/config.toml" <<EOF
[core_settings]
allow_root = true
log_level = "warn"
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
token_label = "tool-token"
user_pin_file = "$WORK/pin"
EOF
(cd "$WORK" && exec "$DAEMON" -c "$WORK/config.toml" 2>"$WORK/daemon.log") &
DAEMON_PID=$!
for _ in $(seq 1 1000); do
    if [ -S "$WORK/parsec.sock" ] && RUST_LOG=off "$TOOL" ping >/dev/null 2>&1; then break; fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        cat "$WORK/daemon.log" >&2
        exit 1
    fi
    sleep 0.02
done

check() { # description, command...
    local what="$1"
    shift
    if ! "$@" >"$WORK/out" 2>&1; then
        echo "FAIL: $what" >&2
        cat "$WORK/out" >&2
        FAILS=$((FAILS + 1))
    fi
}
t() { RUST_LOG=off "$TOOL" "$@"; }

check "the PKCS#11 provider is listed first" bash -c "'$TOOL' list-providers 2>/dev/null | head -1 | grep -q 'ID: 0x02 (PKCS #11 provider)'"

# ECC: sign, verify with OpenSSL; a CSR and a self-signed certificate.
check "create-ecc-key" t create-ecc-key -k ecc
t export-public-key -k ecc >"$WORK/ecc.pem" 2>/dev/null
check "exported ECC key parses" openssl pkey -pubin -in "$WORK/ecc.pem" -noout
t sign -k ecc "signed on the token" >"$WORK/sig.b64" 2>/dev/null
openssl base64 -d -A -in "$WORK/sig.b64" -out "$WORK/sig.der"
check "ECDSA signature verifies" bash -c "printf 'signed on the token' | openssl dgst -sha256 -verify '$WORK/ecc.pem' -signature '$WORK/sig.der'"
t create-csr -k ecc --cn token-csr >"$WORK/csr.pem" 2>/dev/null
check "CSR verifies" openssl req -in "$WORK/csr.pem" -verify -noout
t create-self-signed-cert -k ecc --cn token-cert >"$WORK/cert.pem" 2>/dev/null
check "certificate verifies" openssl verify -CAfile "$WORK/cert.pem" "$WORK/cert.pem"

# RSA signing (PKCS#1 v1.5).
check "create-rsa-key -s" t create-rsa-key -k rsa-sign -s
t export-public-key -k rsa-sign >"$WORK/rsa-sign.pem" 2>/dev/null
t sign -k rsa-sign "rsa text" >"$WORK/rsig.b64" 2>/dev/null
openssl base64 -d -A -in "$WORK/rsig.b64" -out "$WORK/rsig.bin"
check "RSA signature verifies" bash -c "printf 'rsa text' | openssl dgst -sha256 -verify '$WORK/rsa-sign.pem' -signature '$WORK/rsig.bin'"

# RSA encryption (PKCS#1 v1.5): OpenSSL encrypts, the token decrypts; and the tool both ways.
check "create-rsa-key" t create-rsa-key -k rsa-enc
t export-public-key -k rsa-enc >"$WORK/rsa-enc.pem" 2>/dev/null
printf 'secret words' | openssl pkeyutl -encrypt -pubin -inkey "$WORK/rsa-enc.pem" \
    -pkeyopt rsa_padding_mode:pkcs1 | openssl base64 -A >"$WORK/ct.b64"
check "decrypt of an OpenSSL ciphertext" bash -c "[ \"\$(RUST_LOG=off '$TOOL' decrypt -k rsa-enc \"\$(cat '$WORK/ct.b64')\")\" = 'secret words' ]"
CT=$(t encrypt -k rsa-enc "round trip" 2>/dev/null)
check "encrypt then decrypt" bash -c "[ \"\$(RUST_LOG=off '$TOOL' decrypt -k rsa-enc '$CT')\" = 'round trip' ]"

check "generate-random" bash -c "RUST_LOG=off '$TOOL' generate-random --nbytes 8 | grep -Eq '^([0-9A-F]{2} ){8}'"
check "list-keys shows the keys" bash -c "RUST_LOG=off '$TOOL' list-keys | grep -c 'PKCS #11 provider' | grep -qx 3"
check "delete-key" t delete-key -k ecc
check "deleted key is gone" bash -c "! RUST_LOG=off '$TOOL' sign -k ecc x"

if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
