#!/usr/bin/env bash
# End-to-end tests of parsec-tool: the real daemon runs in a temporary folder (SQLite key info
# manager, Mbed Crypto provider, its socket in the folder), the built tool talks to it, and
# OpenSSL checks every result.
#
# Usage: run.sh SUITE TOOL DAEMON
#   commands      every subcommand's output and log lines (Direct authentication, admin)
#   errors        usage errors, runtime error messages and exit statuses
#   certificates  create-csr and create-self-signed-cert checked by OpenSSL
#   ecdsa         many ECDSA signatures: all minimal DER, all verified by OpenSSL
#   scenarios     the original project's end-to-end scenarios (cli-scenarios.sh)
# Exit status: 0 if every check passed.

set -u

SUITE="$1"
TOOL="$2"
DAEMON="$3"
OPENSSL="${OPENSSL:-openssl}"
HERE="$(cd "$(dirname "$0")" && pwd)"

WORK=$(mktemp -d /tmp/parsec-tool-test-XXXXXX)
DAEMON_PID=""
FAILS=0
CHECKS=0

cleanup() {
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    rm -rf -- "$WORK"
}
trap cleanup EXIT

unset RUST_LOG RUST_LOG_STYLE
export PARSEC_SERVICE_ENDPOINT="unix:$WORK/parsec.sock"

# ---- service -------------------------------------------------------------------------------

# $1: Direct or UnixPeerCredentials
start_service() {
    local auth="$1" admins=""
    if [ "$auth" = Direct ]; then
        admins='admins = [ { name = "parsec-tool" } ]'
    fi
    cat >"$WORK/config.toml" <<EOF
[core_settings]
allow_root = true
thread_pool_size = 2
log_level = "warn"
[listener]
listener_type = "DomainSocket"
timeout = 2000
socket_path = "$WORK/parsec.sock"
[authenticator]
auth_type = "$auth"
$admins
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "$WORK/kim/mappings.sqlite3"
[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
key_store_path = "$WORK/keys"
EOF
    (cd "$WORK" && exec "$DAEMON" -c "$WORK/config.toml" 2>"$WORK/daemon.log") &
    DAEMON_PID=$!
    for _ in $(seq 1 500); do
        if [ -S "$WORK/parsec.sock" ] && RUST_LOG=off "$TOOL" ping >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
        sleep 0.02
    done
    echo "the service did not start:" >&2
    cat "$WORK/daemon.log" >&2
    exit 1
}

# ---- checks --------------------------------------------------------------------------------

OUT="$WORK/out"
ERR="$WORK/err"
RC=0

# Runs the tool; stdout in $OUT, stderr in $ERR, status in $RC.
t() {
    "$TOOL" "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

pass() {
    CHECKS=$((CHECKS + 1))
}

fail() {
    CHECKS=$((CHECKS + 1))
    FAILS=$((FAILS + 1))
    echo "FAIL: $*" >&2
    echo "  stdout: $(head -c 600 "$OUT" 2>/dev/null)" >&2
    echo "  stderr: $(head -c 600 "$ERR" 2>/dev/null)" >&2
}

check() { # description, command... (its stdout is discarded)
    local what="$1"
    shift
    if "$@" >/dev/null; then pass; else fail "$what"; fi
}

expect_rc() {
    if [ "$RC" -eq "$1" ]; then pass; else fail "${2:-}: exit $RC, expected $1"; fi
}

# Exact stdout (printf-style escapes allowed in $1).
expect_out() {
    if [ "$(cat "$OUT"; echo x)" = "$(printf "$1"; echo x)" ]; then
        pass
    else
        fail "${2:-}: stdout differs from '$1'"
    fi
}

expect_out_has() {
    if grep -qF -- "$1" "$OUT"; then pass; else fail "${2:-}: stdout lacks '$1'"; fi
}

expect_err_has() {
    if grep -qF -- "$1" "$ERR"; then pass; else fail "${2:-}: stderr lacks '$1'"; fi
}

expect_err_line() { # the exact stderr line
    if grep -qxF -- "$1" "$ERR"; then pass; else fail "${2:-}: stderr lacks the line '$1'"; fi
}

expect_err_empty() {
    if [ ! -s "$ERR" ]; then pass; else fail "${1:-}: stderr is not empty"; fi
}

expect_out_empty() {
    if [ ! -s "$OUT" ]; then pass; else fail "${1:-}: stdout is not empty"; fi
}

# Every stderr line is a log line in env_logger's format.
expect_log_format() {
    if ! grep -vqE '^\[(ERROR|WARN |INFO |DEBUG|TRACE) [a-z_:]+\] ' "$ERR"; then
        pass
    else
        fail "${1:-}: stderr has a line that is not a log line"
    fi
}

# Runs the tool and requires success.
ok() {
    t "$@"
    if [ "$RC" -ne 0 ]; then fail "parsec-tool $* failed"; fi
}

b64d() { "$OPENSSL" base64 -d -A -in "$1" -out "$2"; }

# ---- suites --------------------------------------------------------------------------------

suite_commands() {
    start_service Direct

    # ping
    t ping
    expect_rc 0 ping
    expect_out '1.0\n' ping
    expect_err_line '[INFO  parsec_tool::subcommands::ping] Service wire protocol version' ping
    RUST_LOG=error t ping
    expect_out '1.0\n' "ping, RUST_LOG=error"
    expect_err_empty "ping, RUST_LOG=error"
    RUST_LOG=parsec_tool::subcommands=off t ping
    expect_err_empty "ping, RUST_LOG=parsec_tool::subcommands=off"
    t -t 0 ping
    expect_out '1.0\n' "ping with no timeout"
    t --timeout=5 ping
    expect_out '1.0\n' "ping with --timeout=5"

    # list-providers: Mbed Crypto first, Core last, exact lines
    t list-providers
    expect_rc 0 list-providers
    expect_out "ID: 0x01 (Mbed Crypto provider)\nDescription: User space software provider, based on Mbed Crypto - the reference implementation of the PSA crypto API\nVersion: 0.1.0\nVendor: Arm\nUUID: 1c1139dc-ad7c-47dc-ad6b-db6fdb466552\n\nID: 0x00 (Core provider)\nDescription: Software provider that implements only administrative (i.e. no cryptographic) operations\nVersion: 1.5.0\nVendor: Unspecified\nUUID: 47049873-2a43-4845-9d72-831eab668784\n\n" list-providers
    expect_err_line '[INFO  parsec_tool::subcommands::list_providers] Available providers:'

    # list-authenticators
    t list-authenticators
    expect_out "ID: 0x01 (Direct authentication)\nDescription: Directly parses the authentication field as a UTF-8 string and uses that as the application identity. Should be used for testing only.\nVersion: 0.1.0\n\n" list-authenticators
    expect_err_line '[INFO  parsec_tool::subcommands::list_authenticators] Available authenticators:'

    # list-opcodes: Core without -p, the provider with either -p
    t list-opcodes
    expect_rc 0 list-opcodes
    check "list-opcodes asks Core" [ "$(sort "$OUT" | tr '\n' ' ')" = "0x01 (Ping) 0x08 (ListProviders) 0x09 (ListOpcodes) 0x0e (ListAuthenticators) 0x1a (ListKeys) " ]
    expect_err_line '[INFO  parsec_tool::subcommands::list_opcodes] Available opcodes for Core provider:'
    t -p 1 list-opcodes
    expect_out_has '0x0d (PsaGenerateRandom)' "-p 1 list-opcodes"
    expect_out_has '0x04 (PsaSignHash)' "-p 1 list-opcodes"
    expect_err_line '[INFO  parsec_tool::subcommands::list_opcodes] Available opcodes for Mbed Crypto provider:'
    t list-opcodes --provider=1
    expect_out_has '0x0b (PsaAsymmetricDecrypt)' "list-opcodes --provider=1"
    t -p 1 list-opcodes -p 0
    expect_out_has '0x1a (ListKeys)' "the subcommand's -p wins"
    check "opcode lines are well formed" bash -c "! grep -vE '^0x[0-9a-f]{2} \([A-Za-z]+\)$' '$OUT'"

    # list-keys, list-clients on an empty service
    t list-keys
    expect_rc 0 "list-keys, no key"
    expect_out_empty "list-keys, no key"
    expect_err_line '[INFO  parsec_tool::subcommands::list_keys] No keys currently available.'
    t list-clients
    expect_rc 0 "list-clients, no key"
    expect_out_empty "list-clients, no key"
    expect_err_line '[INFO  parsec_tool::subcommands::list_clients] No clients in the service.'

    # generate-random
    t generate-random --nbytes 16
    expect_rc 0 generate-random
    check "16 upper-case hex bytes, each followed by a space" grep -qxE '([0-9A-F]{2} ){16}' "$OUT"
    check "one line" [ "$(wc -l <"$OUT")" -eq 1 ]
    expect_err_line '[INFO  parsec_tool::subcommands::generate_random] Generating 16 random bytes...'
    expect_err_line '[INFO  parsec_tool::subcommands::generate_random] Random bytes:'
    t generate-random -n 0
    expect_out '\n' "generate-random -n 0"
    t generate-random -n 100000
    check "100000 random bytes" [ "$(wc -c <"$OUT")" -eq 300001 ]
    t -p 0 generate-random -n 4
    expect_rc 1 "crypto on Core"
    expect_err_line '[ERROR parsec_tool] Subcommand failed: operation not supported by selected provider (ParsecClientError(Client(InvalidProvider)))'

    # create-ecc-key, create-rsa-key variants, list-keys lines
    t create-ecc-key -k ecc
    expect_rc 0 create-ecc-key
    expect_out_empty create-ecc-key
    expect_err_line '[INFO  parsec_tool::subcommands::create_ecc_key] Creating ECC signing key...'
    expect_err_line '[INFO  parsec_tool::subcommands::create_ecc_key] Key "ecc" created.'
    t create-rsa-key --key-name rsa-enc -b 1024
    expect_err_line '[INFO  parsec_tool::subcommands::create_rsa_key] Creating RSA encryption key...'
    expect_err_line '[INFO  parsec_tool::subcommands::create_rsa_key] Key "rsa-enc" created.'
    ok create-rsa-key -k rsa-oaep -o --bits=1024
    t create-rsa-key -k rsa-sign -sr -b 1024
    expect_err_line '[INFO  parsec_tool::subcommands::create_rsa_key] Creating RSA signing key with PKCS1 v1.5 scheme...' "-s wins over -r"
    t create-rsa-key -k rsa-pss --for-signing-pss --oaep -b 1024
    expect_err_line '[INFO  parsec_tool::subcommands::create_rsa_key] Creating RSA signing key with PSS scheme...' "-o ignored with -r"
    t list-keys
    expect_rc 0 list-keys
    expect_err_line '[INFO  parsec_tool::subcommands::list_keys] Available keys:'
    sort -o "$OUT" "$OUT" # the order is the key store's
    expect_out "* ecc (Mbed Crypto provider, EccKeyPair { curve_family: SecpR1 }, 256 bits, permitted algorithm: AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) }))
* rsa-enc (Mbed Crypto provider, RsaKeyPair, 1024 bits, permitted algorithm: AsymmetricEncryption(RsaPkcs1v15Crypt))
* rsa-oaep (Mbed Crypto provider, RsaKeyPair, 1024 bits, permitted algorithm: AsymmetricEncryption(RsaOaep { hash_alg: Sha256 }))
* rsa-pss (Mbed Crypto provider, RsaKeyPair, 1024 bits, permitted algorithm: AsymmetricSignature(RsaPss { hash_alg: Specific(Sha256) }))
* rsa-sign (Mbed Crypto provider, RsaKeyPair, 1024 bits, permitted algorithm: AsymmetricSignature(RsaPkcs1v15Sign { hash_alg: Specific(Sha256) }))\n" list-keys

    # export-public-key: exactly the PEM OpenSSL writes for the same key
    for k in ecc rsa-enc rsa-oaep rsa-sign rsa-pss; do
        t export-public-key -k "$k"
        expect_rc 0 "export-public-key $k"
        expect_err_empty "export-public-key $k"
        cp "$OUT" "$WORK/$k.pem"
        check "$k.pem is the SPKI PEM OpenSSL writes" \
            cmp -s "$WORK/$k.pem" <("$OPENSSL" pkey -pubin -in "$WORK/$k.pem" -outform PEM)
    done
    check "ECC key on P-256" bash -c "'$OPENSSL' pkey -pubin -in '$WORK/ecc.pem' -noout -text | grep -q 'NIST CURVE: P-256'"
    check "RSA key of 1024 bits" bash -c "'$OPENSSL' rsa -pubin -in '$WORK/rsa-enc.pem' -noout -text | grep -q 'Public-Key: (1024 bit)'"
    t export-public-key -k rsa-enc --pkcs1
    expect_rc 0 "export-public-key --pkcs1"
    check "RSA PUBLIC KEY block" grep -qx -- '-----BEGIN RSA PUBLIC KEY-----' "$OUT"
    check "PKCS#1 PEM is OpenSSL's" \
        cmp -s "$OUT" <("$OPENSSL" rsa -pubin -in "$WORK/rsa-enc.pem" -RSAPublicKey_out 2>/dev/null)
    check "PEM lines are at most 64 characters, LF only" awk '
        length($0) > 64 || /\r/ { bad = 1 } END { exit bad }' "$OUT"

    # sign: ECDSA (DER), RSA PKCS#1 v1.5 and PSS, verified by OpenSSL
    local msg="$(date) signed text"
    printf '%s' "$msg" >"$WORK/msg"
    t sign -k ecc "$msg"
    expect_rc 0 "sign ecc"
    expect_err_line '[INFO  parsec_tool::util] Hashing data with Sha256...'
    expect_err_line '[INFO  parsec_tool::util] Signing data with Ecdsa { hash_alg: Specific(Sha256) }...'
    check "one base64 line" grep -qxE '[A-Za-z0-9+/]+={0,2}' "$OUT"
    b64d "$OUT" "$WORK/ecc.sig"
    check "ECDSA signature verifies" "$OPENSSL" dgst -sha256 -verify "$WORK/ecc.pem" -signature "$WORK/ecc.sig" "$WORK/msg"
    t sign "$msg" --key-name rsa-sign
    b64d "$OUT" "$WORK/rsa.sig"
    check "RSA PKCS#1 v1.5 signature is the key size" [ "$(wc -c <"$WORK/rsa.sig")" -eq 128 ]
    check "RSA PKCS#1 v1.5 signature verifies" "$OPENSSL" dgst -sha256 -verify "$WORK/rsa-sign.pem" -signature "$WORK/rsa.sig" "$WORK/msg"
    "$OPENSSL" dgst -sha256 -binary -out "$WORK/msg.sha256" "$WORK/msg"
    check "RSA PKCS#1 v1.5 signature verifies with pkeyutl" "$OPENSSL" pkeyutl -verify -pubin \
        -inkey "$WORK/rsa-sign.pem" -pkeyopt digest:sha256 -in "$WORK/msg.sha256" -sigfile "$WORK/rsa.sig"
    check "ECDSA signature verifies with pkeyutl" "$OPENSSL" pkeyutl -verify -pubin \
        -inkey "$WORK/ecc.pem" -in "$WORK/msg.sha256" -sigfile "$WORK/ecc.sig"
    t sign -k rsa-pss "$msg"
    expect_err_line '[INFO  parsec_tool::util] Signing data with RsaPss { hash_alg: Specific(Sha256) }...'
    b64d "$OUT" "$WORK/pss.sig"
    check "RSA-PSS signature verifies (salt = hash length)" "$OPENSSL" dgst -sha256 -verify "$WORK/rsa-pss.pem" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -signature "$WORK/pss.sig" "$WORK/msg"
    t sign -k ecc -- "-starts with a dash"
    expect_rc 0 "sign data after --"
    b64d "$OUT" "$WORK/dash.sig"
    check "the data after -- is signed as given" "$OPENSSL" dgst -sha256 -verify "$WORK/ecc.pem" -signature "$WORK/dash.sig" <(printf '%s' "-starts with a dash")
    t sign -k ecc ""
    b64d "$OUT" "$WORK/empty.sig"
    check "the empty string can be signed" "$OPENSSL" dgst -sha256 -verify "$WORK/ecc.pem" -signature "$WORK/empty.sig" /dev/null

    # encrypt / decrypt: round trips, and OpenSSL ciphertexts decrypted by the tool
    local text="$(date) secret"
    t encrypt -k rsa-enc "$text"
    expect_rc 0 encrypt
    expect_err_line '[INFO  parsec_tool::subcommands::encrypt] Encrypting data with RsaPkcs1v15Crypt...'
    b64d "$OUT" "$WORK/ct.bin"
    check "ciphertext is the key size" [ "$(wc -c <"$WORK/ct.bin")" -eq 128 ]
    t decrypt -k rsa-enc "$(cat "$OUT")"
    expect_rc 0 decrypt
    expect_out "$text\n" "PKCS#1 v1.5 round trip"
    expect_err_line '[INFO  parsec_tool::subcommands::decrypt] Decrypting data with RsaPkcs1v15Crypt...'
    t encrypt -k rsa-oaep "$text"
    t decrypt "$(cat "$OUT")" -k rsa-oaep
    expect_out "$text\n" "OAEP round trip"
    expect_err_line '[INFO  parsec_tool::subcommands::decrypt] Decrypting data with RsaOaep { hash_alg: Sha256 }...'
    printf '%s' "$text" >"$WORK/pt"
    "$OPENSSL" pkeyutl -encrypt -pubin -inkey "$WORK/rsa-enc.pem" -in "$WORK/pt" -out "$WORK/v15.bin"
    t decrypt -k rsa-enc "$("$OPENSSL" base64 -A -in "$WORK/v15.bin")"
    expect_out "$text\n" "OpenSSL PKCS#1 v1.5 ciphertext"
    "$OPENSSL" pkeyutl -encrypt -pubin -inkey "$WORK/rsa-oaep.pem" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -in "$WORK/pt" -out "$WORK/oaep.bin"
    t decrypt -k rsa-oaep "$("$OPENSSL" base64 -A -in "$WORK/oaep.bin")"
    expect_out "$text\n" "OpenSSL OAEP ciphertext"
    t decrypt -k rsa-oaep "$("$OPENSSL" base64 -A -in "$WORK/oaep.bin" | tr -d =)"
    expect_out "$text\n" "base64 without padding"
    printf 'a\377\376b' >"$WORK/bad-utf8"
    "$OPENSSL" pkeyutl -encrypt -pubin -inkey "$WORK/rsa-enc.pem" -in "$WORK/bad-utf8" -out "$WORK/bad.bin"
    t decrypt -k rsa-enc "$("$OPENSSL" base64 -A -in "$WORK/bad.bin")"
    expect_out 'a\357\277\275\357\277\275b\n' "invalid UTF-8 printed as U+FFFD"

    # delete-key
    t delete-key -k rsa-enc
    expect_rc 0 delete-key
    expect_err_line '[INFO  parsec_tool::subcommands::delete_key] Deleting a key...'
    expect_err_line '[INFO  parsec_tool::subcommands::delete_key] Key "rsa-enc" deleted.'
    t list-keys
    check "the deleted key is gone" bash -c "! grep -q 'rsa-enc ' '$OUT'"

    # a key name made of control characters is listed escaped, never raw on the terminal
    t create-ecc-key --key-name $'evil\n* forged (line)\e[31m\xc2\x9b'
    expect_rc 0 "create-ecc-key with control characters in the name"
    t list-keys
    expect_out_has '* evil\x0a* forged (line)\x1b[31m\xc2\x9b (Mbed Crypto provider' \
        "list-keys escapes control characters"
    check "list-keys prints no raw control character" bash -c "! grep -qP '[\\x00-\\x09\\x0b-\\x1f\\x7f]|\\xc2[\\x80-\\x9f]' '$OUT'"
    check "list-keys prints no forged line" bash -c "! grep -q '^\\* forged' '$OUT'"
    t delete-key --key-name $'evil\n* forged (line)\e[31m\xc2\x9b'
    expect_rc 0 "delete-key with control characters in the name"

    # list-clients / delete-client (the tool's application name is an admin here)
    t list-clients
    expect_rc 0 list-clients
    expect_out 'parsec-tool\n' list-clients
    expect_err_line '[INFO  parsec_tool::subcommands::list_clients] Parsec clients:'
    t delete-client --client parsec-tool
    expect_rc 0 delete-client
    expect_err_line '[INFO  parsec_tool::subcommands::delete_client] Client "parsec-tool" deleted.'
    t list-keys
    expect_out_empty "keys gone after delete-client"
    t delete-client -c nobody
    expect_rc 0 "delete-client of an unknown client"

    # colour on demand
    RUST_LOG_STYLE=always t ping
    check "RUST_LOG_STYLE=always colours the level" grep -q $'\x1b\\[' "$ERR"
    RUST_LOG_STYLE=never t ping
    expect_log_format "RUST_LOG_STYLE=never"
}

suite_errors() {
    start_service UnixPeerCredentials
    local E='[ERROR parsec_tool] '

    # usage errors: exit 2, nothing on stdout
    t
    expect_rc 2 "no arguments"
    check "no arguments: help on stderr" grep -q 'Usage: parsec-tool' "$ERR"
    expect_out_empty "no arguments"
    t -p 1
    expect_rc 2 "no subcommand"
    check "no subcommand message" grep -q "requires a subcommand" "$ERR"
    t frobnicate
    expect_rc 2 "unknown subcommand"
    expect_err_has "unrecognized subcommand 'frobnicate'"
    t list-keys -p 1
    expect_rc 2 "global option after the subcommand"
    t ping extra
    expect_rc 2 "extra positional"
    t sign -k
    expect_rc 2 "missing value"
    t sign data
    expect_rc 2 "missing required option"
    expect_err_has '--key-name <KEY_NAME>'
    t sign -k a
    expect_rc 2 "missing positional"
    t sign -k a b c
    expect_rc 2 "two positionals"
    t sign -k a -k b data
    expect_rc 2 "repeated option"
    t sign -k a -data
    expect_rc 2 "data that looks like an option"
    t -p 256 ping
    expect_rc 2 "provider out of range"
    expect_err_has "256 is not in 0..=255"
    t -p 0x1 ping
    expect_rc 2 "hex provider"
    t -p 1 -p 1 ping
    expect_rc 2 "provider given twice"
    t generate-random -n abc
    expect_rc 2 "bad number"
    expect_err_has "invalid digit found in string"
    t create-csr -k a --serialnumber x
    expect_rc 2 "--serialnumber is not --serialNumber"
    t create-csr -k a -c US
    expect_rc 2 "-c is not country"
    t create-csr -k a --san a b
    expect_rc 2 "--san takes one value"
    t create-csr -k a --cn a --cn b
    expect_rc 2 "DN flag given twice"
    t export-public-key -k a --pkcs1=yes
    expect_rc 2 "flag with a value"
    t create-self-signed-cert -k a --days 0
    expect_rc 2 "zero days"
    t create-self-signed-cert -k a --serial 0x
    expect_rc 2 "malformed serial"
    t create-self-signed-cert -k a --serial "0x$(printf 'ff%.0s' $(seq 1 20))"
    expect_rc 2 "serial above 20 octets"
    "$TOOL" sign -k a $'\xff' >"$OUT" 2>"$ERR"
    RC=$?
    expect_rc 2 "invalid UTF-8 argument"

    # help and version: stdout, exit 0
    t --help
    expect_rc 0 --help
    expect_out_has 'create-self-signed-cert' "--help lists the commands"
    expect_out_has 'Examples:' "--help has examples"
    expect_err_empty --help
    for sub in ping list-providers list-authenticators list-opcodes list-keys generate-random \
        export-public-key create-rsa-key create-ecc-key decrypt sign delete-key list-clients \
        delete-client create-csr encrypt create-self-signed-cert; do
        t "$sub" --help
        expect_rc 0 "$sub --help"
        expect_out_has "Usage: parsec-tool $sub" "$sub --help"
        expect_out_has '$ parsec-tool' "$sub --help has an example"
        t help "$sub"
        expect_out_has "Usage: parsec-tool $sub" "help $sub"
    done
    t sign -h
    expect_rc 0 "sign -h without its required arguments"
    t -V
    expect_out 'parsec-tool 0.7.0\n' -V
    t --version
    expect_rc 0 --version
    t help nothing
    expect_rc 2 "help of an unknown subcommand"

    # runtime errors: exit 1, the original's messages
    t -p 6 ping
    expect_rc 1 "provider 6"
    expect_err_line "${E}The provider ID entered does not map with an existing provider"
    t -p 2 list-opcodes
    expect_rc 1 "provider not registered"
    expect_err_line "${E}Subcommand failed: no provider registered for the requested provider ID (ParsecClientError(Service(ProviderNotRegistered)))"
    t list-opcodes -p 9
    expect_rc 1 "list-opcodes -p 9"
    expect_err_line "${E}Subcommand failed: no provider defined for requested provider ID (ParsecInterfaceError(ProviderDoesNotExist))"
    t delete-key -k missing
    expect_rc 1 "delete a missing key"
    expect_err_line "${E}Subcommand failed: asking for an item that doesn't exist (ParsecClientError(Service(PsaErrorDoesNotExist)))"
    t list-clients
    expect_rc 1 "list-clients without admin rights"
    expect_err_line "${E}Subcommand failed: the operation requires admin privilege (ParsecClientError(Service(AdminOperation)))"

    ok create-rsa-key -k enc -b 1024
    ok create-ecc-key -k ecc
    t sign -k missing data
    expect_rc 1 "sign with a missing key"
    expect_err_line "${E}Subcommand failed: one of the resources required in the operation was not found (ParsecClientError(Client(NotFound)))"
    t create-ecc-key -k ecc
    expect_rc 1 "key exists"
    expect_err_line "${E}Subcommand failed: asking for an item that already exists (ParsecClientError(Service(PsaErrorAlreadyExists)))"
    t sign -k enc data
    expect_rc 1 "sign with an encryption key"
    expect_err_line "[ERROR parsec_tool::util] Key's algorithm is AsymmetricEncryption(RsaPkcs1v15Crypt) which can not be used for signing."
    expect_err_line "${E}Subcommand failed: They key was not created with the correct algorithm for this operation (ParsecToolError(WrongKeyAlgorithm))"
    t encrypt -k ecc data
    expect_rc 1 "encrypt with a signing key"
    expect_err_line "[ERROR parsec_tool::subcommands::encrypt] Key's algorithm is AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) }) which cannot be used for encryption."
    t decrypt -k ecc QUJD
    expect_rc 1 "decrypt with a signing key"
    expect_err_line "[ERROR parsec_tool::subcommands::decrypt] Key's algorithm is AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) }) which can not be used for decryption."
    t export-public-key -k ecc --pkcs1
    expect_rc 1 "PKCS#1 export of an ECC key"
    expect_err_line "[ERROR parsec_tool::subcommands::export_public_key] PKCS1 format doesn't support ECC keys"
    t decrypt -k enc $'AAAAAAAA\nAAA'
    expect_rc 1 "base64 with a newline"
    expect_err_line "${E}Subcommand failed: Invalid byte 10, offset 8. (Base64Decode(InvalidByte(8, 10)))"
    t decrypt -k enc abcde
    expect_err_line "${E}Subcommand failed: Encoded text cannot have a 6-bit remainder. (Base64Decode(InvalidLength))"
    t decrypt -k enc 'ab-_'
    expect_err_line "${E}Subcommand failed: Invalid byte 45, offset 2. (Base64Decode(InvalidByte(2, 45)))"
    t decrypt -k enc "$(head -c 128 /dev/zero | "$OPENSSL" base64 -A)"
    expect_rc 1 "garbage ciphertext"
    expect_err_has "Subcommand failed: "
    t create-csr -k enc --cn x
    expect_rc 1 "CSR with an encryption key"
    expect_err_line "[ERROR parsec_tool::subcommands::create_csr] Specified key is not an asymmetric signing key, which is needed for certificate requests."
    t create-csr -k ecc --san "bücher.example"
    expect_rc 1 "non-ASCII dNSName"
    expect_err_line "${E}Subcommand failed: Invalid IA5String: 'bücher.example' (RcgenError(InvalidAsn1String(Ia5String(\"bücher.example\"))))"
    expect_out_empty "no CSR printed on error"

    # log filtering of errors
    RUST_LOG=off t delete-key -k missing
    expect_rc 1 "RUST_LOG=off still fails"
    expect_err_empty "RUST_LOG=off"

    # endpoint problems
    PARSEC_SERVICE_ENDPOINT="unix:$WORK/none.sock" t list-keys
    expect_rc 1 "missing socket"
    expect_err_line "${E}Error spinning up the BasicClient: the socket address provided in the URL is not valid"
    PARSEC_SERVICE_ENDPOINT="unix:$WORK/none.sock" t ping
    expect_err_line "${E}Error spinning up the BasicClient: the socket address provided in the URL is not valid"
    PARSEC_SERVICE_ENDPOINT="$WORK/parsec.sock" t ping
    expect_rc 1 "endpoint without scheme"
    expect_err_line "${E}Error spinning up the BasicClient: the socket URL is invalid"
    PARSEC_SERVICE_ENDPOINT="tcp://localhost:1234" t ping
    expect_err_line "${E}Error spinning up the BasicClient: the socket URL is invalid"
    PARSEC_SERVICE_ENDPOINT="UNIX://host$WORK/parsec.sock?x#y" t ping
    expect_out '1.0\n' "unix:// with a host, query and fragment"
    python3 - "$WORK/dead.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
EOF
    PARSEC_SERVICE_ENDPOINT="unix:$WORK/dead.sock" t ping
    expect_rc 1 "refused connection"
    expect_err_line "${E}Subcommand failed: Connection refused (os error 111) (ParsecClientError(Client(Ipc(Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }))))"
    PARSEC_SERVICE_ENDPOINT="unix:$WORK/dead.sock" t list-keys
    expect_err_line "${E}Error spinning up the BasicClient: Connection refused (os error 111)"

    # a service that never answers: -t bounds the wait
    python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
time.sleep(30)' "$WORK/mute.sock" &
    local mute=$!
    for _ in $(seq 1 200); do [ -S "$WORK/mute.sock" ] && break; sleep 0.02; done
    PARSEC_SERVICE_ENDPOINT="unix:$WORK/mute.sock" t -t 1 ping
    expect_rc 1 "timeout"
    expect_err_line "${E}Subcommand failed: generic input/output error (ParsecClientError(Client(Interface(ConnectionError))))"
    expect_err_line "[WARN  parsec_interface::requests::response_status] The WouldBlock error might mean that the connection timed out. Try in increase the timeout length."
    kill "$mute" 2>/dev/null
    wait "$mute" 2>/dev/null

    # stdout closed: the write error is reported (the original panics with 101)
    "$TOOL" ping >&- 2>"$ERR"
    RC=$?
    expect_rc 101 "stdout closed"
}

suite_certificates() {
    start_service UnixPeerCredentials
    ok create-ecc-key -k ecc
    ok create-rsa-key -k rsa -s -b 1024
    ok create-rsa-key -k pss -r -b 1024
    ok export-public-key -k ecc
    cp "$OUT" "$WORK/ecc.pem"

    # create-csr: every signature scheme verifies; subject order, string types, SANs
    for k in ecc rsa pss; do
        t create-csr -k "$k" --serialNumber SN1 --c GB --st "Some State" --l Town --o Org \
            --ou Unit --cn "host.example" --san localhost --san 192.0.2.7 --san 2001:db8::1
        expect_rc 0 "create-csr $k"
        cp "$OUT" "$WORK/$k.csr"
        check "$k CSR ends with an empty line" [ "$(tail -c 2 "$WORK/$k.csr" | od -An -c | tr -d ' ')" = '\n\n' ]
        check "$k CSR PEM framing" [ "$(head -1 "$WORK/$k.csr")" = "-----BEGIN CERTIFICATE REQUEST-----" ]
        check "$k CSR verifies" "$OPENSSL" req -in "$WORK/$k.csr" -noout -verify
        "$OPENSSL" req -in "$WORK/$k.csr" -noout -text >"$WORK/$k.txt" 2>&1
        check "$k CSR subject in the fixed order" grep -qE 'Subject: CN ?= ?host.example, OU ?= ?Unit, O ?= ?Org, L ?= ?Town, ST ?= ?Some State, C ?= ?GB, serialNumber ?= ?SN1' "$WORK/$k.txt"
        check "$k CSR SANs" grep -q 'DNS:localhost, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1' "$WORK/$k.txt"
        check "$k CSR every name value is a UTF8String" \
            [ "$("$OPENSSL" asn1parse -in "$WORK/$k.csr" | grep -c 'UTF8STRING')" -eq 7 ]
        check "$k CSR is version 1 (0)" grep -q 'Version: 1 (0x0)' "$WORK/$k.txt"
    done
    check "ECDSA CSR signature algorithm" grep -q 'Signature Algorithm: ecdsa-with-SHA256' "$WORK/ecc.txt"
    check "RSA CSR signature algorithm" grep -q 'Signature Algorithm: sha256WithRSAEncryption' "$WORK/rsa.txt"
    check "PSS CSR signature algorithm" grep -q 'Signature Algorithm: rsassaPss' "$WORK/pss.txt"
    check "PSS CSR salt length 32" grep -q 'Salt Length: 0x20' "$WORK/pss.txt"
    check "CSR public key is the exported key" bash -c "cmp -s <('$OPENSSL' req -in '$WORK/ecc.csr' -noout -pubkey) <('$TOOL' export-public-key -k ecc 2>/dev/null)"

    t create-csr -k ecc
    expect_rc 0 "CSR with no name and no SAN"
    cp "$OUT" "$WORK/bare.csr"
    check "bare CSR verifies" "$OPENSSL" req -in "$WORK/bare.csr" -noout -verify
    check "empty attributes are A0 00" bash -c "'$OPENSSL' asn1parse -in '$WORK/bare.csr' | grep -q 'l=   0 cons: cont \[ 0 \]'"
    check "empty subject" bash -c "'$OPENSSL' asn1parse -in '$WORK/bare.csr' | sed -n 4p | grep -q 'l=   0 cons: SEQUENCE'"
    t create-csr --key-name=ecc --cn "Ünïcödé ✓" --san 10.1.2.3
    check "UTF-8 common name" bash -c "'$OPENSSL' req -noout -subject -nameopt utf8 -in '$OUT' | grep -q 'Ünïcödé ✓'"

    # create-self-signed-cert
    t create-self-signed-cert -k ecc --cn localhost --san localhost --san 127.0.0.1 --days 30 --serial 4660
    expect_rc 0 "self-signed ECC certificate"
    cp "$OUT" "$WORK/ecc.crt"
    "$OPENSSL" x509 -in "$WORK/ecc.crt" -noout -text >"$WORK/ecc-crt.txt"
    check "X.509 v3" grep -q 'Version: 3 (0x2)' "$WORK/ecc-crt.txt"
    check "serial 4660" grep -q 'Serial Number: 4660 (0x1234)' "$WORK/ecc-crt.txt"
    check "issuer = subject" [ "$("$OPENSSL" x509 -in "$WORK/ecc.crt" -noout -issuer | sed 's/^issuer=//')" = "$("$OPENSSL" x509 -in "$WORK/ecc.crt" -noout -subject | sed 's/^subject=//')" ]
    check "valid for 30 days" bash -c "
        nb=\$(date -d \"\$('$OPENSSL' x509 -in '$WORK/ecc.crt' -noout -startdate | cut -d= -f2)\" +%s)
        na=\$(date -d \"\$('$OPENSSL' x509 -in '$WORK/ecc.crt' -noout -enddate | cut -d= -f2)\" +%s)
        [ \$((na - nb)) -eq $((30 * 86400)) ]"
    check "leaf basic constraints: critical, CA:FALSE" \
        grep -A1 -q 'X509v3 Basic Constraints: critical' "$WORK/ecc-crt.txt"
    check "leaf basic constraints" grep -qx ' *CA:FALSE' "$WORK/ecc-crt.txt"
    check "leaf key usage: critical, digitalSignature only" \
        bash -c "grep -A1 'X509v3 Key Usage: critical' '$WORK/ecc-crt.txt' | grep -qx ' *Digital Signature'"
    check "SAN in the certificate" grep -q 'DNS:localhost, IP Address:127.0.0.1' "$WORK/ecc-crt.txt"
    check "subject key identifier" grep -q 'X509v3 Subject Key Identifier' "$WORK/ecc-crt.txt"
    check "ECC certificate verifies as its own trust anchor" \
        "$OPENSSL" verify -partial_chain -check_ss_sig -CAfile "$WORK/ecc.crt" "$WORK/ecc.crt"
    check "ECC certificate's signature verifies with the exported key" verify_cert_signature "$WORK/ecc.crt" "$WORK/ecc.pem" -sha256

    t create-self-signed-cert -k rsa --cn "Test Root CA" --o Org --ca --days 3650
    expect_rc 0 "self-signed RSA CA"
    cp "$OUT" "$WORK/ca.crt"
    "$OPENSSL" x509 -in "$WORK/ca.crt" -noout -text >"$WORK/ca-crt.txt"
    check "CA:TRUE" grep -q 'CA:TRUE' "$WORK/ca-crt.txt"
    check "CA key usage" grep -q 'Digital Signature, Certificate Sign, CRL Sign' "$WORK/ca-crt.txt"
    check "CA certificate verifies" "$OPENSSL" verify -check_ss_sig -CAfile "$WORK/ca.crt" "$WORK/ca.crt"
    check "random serial of 16 octets" bash -c "'$OPENSSL' x509 -in '$WORK/ca.crt' -noout -serial | grep -qE '^serial=[0-9A-F]{32}$'"

    t export-public-key -k rsa
    cp "$OUT" "$WORK/rsa.pem"
    check "RSA certificate's signature verifies with the exported key" verify_cert_signature "$WORK/ca.crt" "$WORK/rsa.pem" -sha256

    t create-self-signed-cert -k pss --ca
    expect_rc 0 "self-signed RSA-PSS certificate, default name"
    cp "$OUT" "$WORK/pss.crt"
    check "default subject is the key name" bash -c "'$OPENSSL' x509 -in '$WORK/pss.crt' -noout -subject | grep -qE 'CN ?= ?pss'"
    check "PSS certificate verifies" "$OPENSSL" verify -check_ss_sig -CAfile "$WORK/pss.crt" "$WORK/pss.crt"
    t create-self-signed-cert -k ecc --cn far --days 36500 --serial 0x7fffffffffffffffffffffffffffffffffffffff
    expect_rc 0 "a certificate past 2049, 20-octet serial"
    check "GeneralizedTime after 2049" bash -c "'$OPENSSL' asn1parse -in '$OUT' | grep -q GENERALIZEDTIME"
    check "far certificate verifies" "$OPENSSL" verify -partial_chain -check_ss_sig -CAfile "$OUT" "$OUT"
}

# Checks a certificate's signature independently of OpenSSL's chain logic: the signed part
# and the signature are cut out of the DER and verified with the public key.
# $1 cert (PEM), $2 public key (PEM), $3 digest option.
verify_cert_signature() {
    "$OPENSSL" x509 -in "$1" -outform DER -out "$WORK/cert.der" || return 1
    python3 - "$WORK/cert.der" "$WORK/tbs.der" "$WORK/cert-sig.bin" <<'PY' || return 1
import sys
d = open(sys.argv[1], "rb").read()
def tlv(b, i):
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return j, j + n  # content start, end
s, _ = tlv(d, 0)
_, tbs_end = tlv(d, s)
_, alg_end = tlv(d, tbs_end)
bs, be = tlv(d, alg_end)
assert d[alg_end] == 0x03 and d[bs] == 0
open(sys.argv[2], "wb").write(d[s:tbs_end])
open(sys.argv[3], "wb").write(d[bs + 1:be])
PY
    "$OPENSSL" dgst "$3" -verify "$2" -signature "$WORK/cert-sig.bin" "$WORK/tbs.der" >/dev/null
}

suite_ecdsa() {
    start_service UnixPeerCredentials
    local n=${ECDSA_SIGNATURES:-600} i
    ok create-ecc-key -k many
    ok export-public-key -k many
    cp "$OUT" "$WORK/many.pem"
    for i in $(seq 1 "$n"); do
        "$TOOL" sign -k many "message $i" 2>/dev/null >"$WORK/s$i.b64" || fail "sign $i"
        b64d "$WORK/s$i.b64" "$WORK/s$i.der" || fail "signature $i is not base64"
    done
    # Strict DER: SEQUENCE of two positive INTEGERs, minimal lengths and minimal integers,
    # nothing after. The shortened integers (about 1 in 128 signatures) are the cases the
    # original tool got wrong.
    python3 - "$WORK" "$n" >"$WORK/der-check.txt" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
bad, short = [], 0
def length(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    if k != 1 or b[i + 1] < 0x80:
        raise ValueError("non-minimal length")
    return b[i + 1], i + 2
for s in range(1, n + 1):
    d = open(f"{work}/s{s}.der", "rb").read()
    try:
        assert d[0] == 0x30
        total, i = length(d, 1)
        assert i + total == len(d)
        for _ in range(2):
            assert d[i] == 0x02
            L, i = length(d, i + 1)
            v = d[i:i + L]
            assert L >= 1 and v[0] < 0x80, "negative or empty"
            assert not (L > 1 and v[0] == 0 and v[1] < 0x80), "leading zero"
            short += L < 32 or (L == 32 and v[0] == 0)
            i += L
        assert i == len(d)
    except Exception as e:
        bad.append(f"{s}: {e} {d.hex()}")
print(f"short {short}")
for b in bad:
    print(f"bad {b}")
PY
    if grep -q '^bad' "$WORK/der-check.txt"; then
        fail "signatures that are not minimal DER: $(grep '^bad' "$WORK/der-check.txt" | head -5)"
    else
        pass
    fi
    for i in $(seq 1 "$n"); do
        if "$OPENSSL" dgst -sha256 -verify "$WORK/many.pem" -signature "$WORK/s$i.der" \
            <(printf 'message %d' "$i") >/dev/null; then
            pass
        else
            fail "signature $i does not verify"
        fi
    done
    echo "$n ECDSA signatures checked, $(sed -n 's/^short //p' "$WORK/der-check.txt") with a shortened integer"
}

suite_scenarios() {
    start_service UnixPeerCredentials
    PARSEC_TOOL="$TOOL" OPENSSL="$(command -v "$OPENSSL")" RUST_LOG=error \
        bash "$HERE/cli-scenarios.sh" >"$WORK/scenarios.log" 2>&1
    local rc=$?
    if [ "$rc" -eq 0 ]; then pass; else
        FAILS=$((FAILS + 1))
        echo "FAIL: cli-scenarios.sh: $rc failed check(s)" >&2
        cat "$WORK/scenarios.log" >&2
    fi
    check "every scenario ran" grep -q '== 0 failed check(s)' "$WORK/scenarios.log"
    check "the CSR scenarios ran" [ "$(grep -c 'Creating a CSR' "$WORK/scenarios.log")" -eq 3 ]
    # The scenarios with a small RSA size, as the original CI runs them a second time.
    PARSEC_TOOL="$TOOL" RUST_LOG=error bash "$HERE/cli-scenarios.sh" --rsa-key-size 1024 \
        --no-v1.5 >"$WORK/scenarios2.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then pass; else
        FAILS=$((FAILS + 1))
        echo "FAIL: cli-scenarios.sh --rsa-key-size 1024: $rc failed check(s)" >&2
        cat "$WORK/scenarios2.log" >&2
    fi
}

case "$SUITE" in
commands | errors | certificates | ecdsa | scenarios) "suite_$SUITE" ;;
*)
    echo "unknown suite $SUITE" >&2
    exit 2
    ;;
esac

echo "$SUITE: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
