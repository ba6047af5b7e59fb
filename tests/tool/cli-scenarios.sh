#!/usr/bin/env bash
# End-to-end scenarios of parsec-tool against a running Parsec service, checked with OpenSSL.
# The same scenarios, options and checks as the original project's tests/parsec-cli-tests.sh,
# so that the tool can be held to the same standard:
#   - every crypto provider the service lists (or only -N) gets: random numbers, PKCS#1 v1.5
#     and OAEP encryption round trips inside Parsec, OpenSSL encrypting for Parsec to decrypt,
#     ECDSA signing verified by OpenSSL, CSRs (RSA PKCS#1 v1.5, RSA-PSS, ECC) verified by
#     OpenSSL, and RSA key sizes (default and 1024 bits);
#   - RSA PKCS#1 v1.5 and PSS signatures verified by OpenSSL (the original's helper supports
#     them; here they run too).
#
# Usage: cli-scenarios.sh [-N] [-d] [--no-oaep] [--no-v1.5] [--no-pss] [--rsa-key-size S]
#   -N                 test only provider N (digits)
#   -d                 debug: trace commands and show intermediate files
#   --no-oaep          skip the OAEP scenarios
#   --no-v1.5          skip the PKCS#1 v1.5 encryption scenarios
#   --no-pss           skip the RSA-PSS scenarios
#   --rsa-key-size S   create every RSA key with --bits S (and expect S in the size tests)
# Environment: PARSEC_TOOL (default: parsec-tool on PATH), OPENSSL (default: openssl on PATH),
# PARSEC_SERVICE_ENDPOINT (read by the tool), RUST_LOG (default info).
# Exit status: the number of failed checks (start-up problems exit 1).

set -u

usage() {
    sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'
}

PROVIDER_ONLY=""
DEBUG=""
NO_OAEP=""
NO_V15=""
NO_PSS=""
RSA_KEY_SIZE=""
while [ $# -gt 0 ]; do
    case "$1" in
    -[0-9]*) PROVIDER_ONLY="${1#-}" ;;
    -d) DEBUG=1 ;;
    --no-oaep) NO_OAEP=1 ;;
    --no-v1.5) NO_V15=1 ;;
    --no-pss) NO_PSS=1 ;;
    --rsa-key-size)
        shift
        RSA_KEY_SIZE="${1:-}"
        ;;
    *)
        usage
        exit 0
        ;;
    esac
    shift
done

PARSEC_TOOL="${PARSEC_TOOL:-$(command -v parsec-tool)}"
OPENSSL="${OPENSSL:-$(command -v openssl)}"
if [ -z "$PARSEC_TOOL" ] || [ ! -x "$PARSEC_TOOL" ]; then
    echo "parsec-tool not found: set PARSEC_TOOL" >&2
    exit 1
fi
if [ -z "$OPENSSL" ] || [ ! -x "$OPENSSL" ]; then
    echo "openssl not found: set OPENSSL" >&2
    exit 1
fi
if [ -n "$DEBUG" ]; then
    export RUST_LOG="${RUST_LOG:-trace}"
    set -x
else
    export RUST_LOG="${RUST_LOG:-info}"
fi

FAILED=0
TMP_DIR=$(mktemp -d)
trap 'rm -rf -- "$TMP_DIR"' EXIT

fail() {
    echo "FAILED: $*" >&2
    FAILED=$((FAILED + 1))
}

# Runs a command; a non-zero status counts as one failure. Never used inside a pipeline or
# $(...), so the count is never lost in a subshell.
step() {
    if ! "$@"; then
        fail "$*"
        return 1
    fi
}

show() {
    if [ -n "$DEBUG" ]; then cat "$@" >&2; fi
}

# $1 RSA|ECC, $2 key name, $3 for RSA: SIGN_PKCS1_V15, SIGN_PSS, OAEP or anything else
create_key() {
    local type="$1" key="$2" usage="${3:-}" extra=()
    if [ "$type" = RSA ]; then
        case "$usage" in
        SIGN_PKCS1_V15) extra+=(--for-signing) ;;
        SIGN_PSS) extra+=(--for-signing-pss) ;;
        OAEP) extra+=(--oaep) ;;
        esac
        if [ -n "$RSA_KEY_SIZE" ]; then extra+=(--bits "$RSA_KEY_SIZE"); fi
    fi
    echo "- Creating $type key $key ${extra[*]:-}"
    local lower
    lower=$(echo "$type" | tr '[:upper:]' '[:lower:]')
    step "${TOOL[@]}" "create-$lower-key" --key-name "$key" "${extra[@]}" || return 1
    step "${TOOL[@]}" list-keys >"$TMP_DIR/keys.txt"
    show "$TMP_DIR/keys.txt"
    if ! grep -q -- "$key" "$TMP_DIR/keys.txt"; then
        fail "$key is not listed by list-keys"
    fi
    step "${TOOL[@]}" export-public-key --key-name "$key" >"$TMP_DIR/$key.pem"
    show "$TMP_DIR/$key.pem"
}

delete_key() {
    echo "- Deleting key $1"
    step "${TOOL[@]}" delete-key --key-name "$1"
    rm -f "$TMP_DIR/$1".*
}

# Parsec encrypts with the public key, Parsec decrypts. $1: "PKCS#1 v1.5" or "OAEP"
test_encryption() {
    local key=anta-key-rsa-encrypt text
    text="$(date) Parsec public key encryption"
    create_key RSA "$key" "$1"
    if [ -s "$TMP_DIR/$key.pem" ]; then
        echo "- Encrypting with Parsec ($1), decrypting with Parsec"
        step "${TOOL[@]}" encrypt --key-name "$key" "$text" >"$TMP_DIR/$key.enc"
        step "${TOOL[@]}" decrypt "$(cat "$TMP_DIR/$key.enc")" --key-name "$key" \
            >"$TMP_DIR/$key.dec"
        if [ "$(cat "$TMP_DIR/$key.dec")" != "$text" ]; then
            fail "$1 round trip gave '$(cat "$TMP_DIR/$key.dec")'"
        fi
    fi
    delete_key "$key"
}

# OpenSSL encrypts with the exported public key, Parsec decrypts. $1: "PKCS#1 v1.5" or "OAEP"
test_decryption() {
    local key=anta-key-rsa-crypt text opts=()
    text="$(date) Parsec decryption test"
    if [ "$1" = OAEP ]; then
        opts=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256)
    fi
    create_key RSA "$key" "$1"
    if [ -s "$TMP_DIR/$key.pem" ]; then
        echo "- Encrypting with OpenSSL ($1), decrypting with Parsec"
        printf '%s' "$text" >"$TMP_DIR/$key.txt"
        step "$OPENSSL" pkeyutl -encrypt -pubin -inkey "$TMP_DIR/$key.pem" "${opts[@]}" \
            -in "$TMP_DIR/$key.txt" -out "$TMP_DIR/$key.bin"
        step "$OPENSSL" base64 -A -in "$TMP_DIR/$key.bin" -out "$TMP_DIR/$key.enc"
        step "${TOOL[@]}" decrypt "$(cat "$TMP_DIR/$key.enc")" --key-name "$key" \
            >"$TMP_DIR/$key.dec"
        if [ "$(cat "$TMP_DIR/$key.dec")" != "$text" ]; then
            fail "OpenSSL $1 ciphertext decrypted to '$(cat "$TMP_DIR/$key.dec")'"
        fi
    fi
    delete_key "$key"
}

# Parsec signs, OpenSSL verifies. $1 RSA|ECC, $2 for RSA: SIGN_PKCS1_V15 or SIGN_PSS
test_signing() {
    local key=anta-key-sign text opts=()
    text="$(date) Parsec signature test"
    if [ "${2:-}" = SIGN_PSS ]; then
        opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1)
    fi
    create_key "$1" "$key" "${2:-}"
    if [ -s "$TMP_DIR/$key.pem" ]; then
        echo "- Signing with Parsec ($1 ${2:-}), verifying with OpenSSL"
        step "${TOOL[@]}" sign "$text" --key-name "$key" >"$TMP_DIR/$key.sign"
        step "$OPENSSL" base64 -d -a -A -in "$TMP_DIR/$key.sign" -out "$TMP_DIR/$key.bin"
        printf '%s' "$text" >"$TMP_DIR/$key.txt"
        step "$OPENSSL" dgst -sha256 -verify "$TMP_DIR/$key.pem" "${opts[@]}" \
            -signature "$TMP_DIR/$key.bin" "$TMP_DIR/$key.txt"
    fi
    delete_key "$key"
}

# A CSR signed by the key must verify, with the serialNumber in its subject.
# $1 RSA|ECC, $2 for RSA: SIGN_PKCS1_V15 or SIGN_PSS
test_csr() {
    local key=anta-key-csr
    create_key "$1" "$key" "${2:-}"
    if [ -s "$TMP_DIR/$key.pem" ]; then
        echo "- Creating a CSR signed by the $1 ${2:-} key"
        step "${TOOL[@]}" create-csr --cn parallaxsecond.com --san localhost \
            --serialNumber EZ4U2CIXL --key-name "$key" >"$TMP_DIR/$key.csr"
        show "$TMP_DIR/$key.csr"
        step "$OPENSSL" req -text -noout -verify -in "$TMP_DIR/$key.csr" >"$TMP_DIR/$key.txt"
        show "$TMP_DIR/$key.txt"
        if ! grep -Eq 'Subject:.*serialNumber ?= ?EZ4U2CIXL' "$TMP_DIR/$key.txt"; then
            fail "the CSR subject lacks serialNumber = EZ4U2CIXL"
        fi
    fi
    delete_key "$key"
}

# An RSA key created with the given size (or the default) exports with that size.
test_rsa_key_bits() {
    local key=anta-key-rsa-bits want args=()
    if [ -n "$RSA_KEY_SIZE" ]; then
        want="$RSA_KEY_SIZE"
        args=(--bits "$RSA_KEY_SIZE")
    elif [ -n "${1:-}" ]; then
        want="$1"
        args=(--bits "$1")
    else
        want=2048
    fi
    echo "- Creating an RSA key of $want bits"
    step "${TOOL[@]}" create-rsa-key --key-name "$key" "${args[@]}"
    step "${TOOL[@]}" export-public-key --key-name "$key" >"$TMP_DIR/checksize-$key.pem"
    "$OPENSSL" rsa -pubin -text -noout -in "$TMP_DIR/checksize-$key.pem" >"$TMP_DIR/size.txt"
    if ! grep -q "Public-Key: ($want bit)" "$TMP_DIR/size.txt"; then
        fail "the RSA key is not $want bits: $(head -1 "$TMP_DIR/size.txt")"
    fi
    delete_key "$key"
}

test_provider() {
    TOOL=("$PARSEC_TOOL" -p "$1")
    echo "== Provider $1 ($2)"

    "${TOOL[@]}" list-opcodes 2>/dev/null >"$TMP_DIR/opcodes.txt"
    if grep -q PsaGenerateRandom "$TMP_DIR/opcodes.txt"; then
        echo "- Generating random bytes"
        step "${TOOL[@]}" generate-random --nbytes 10
    else
        echo "- The provider has no random number generator"
    fi

    if [ -z "$NO_V15" ]; then
        test_encryption "PKCS#1 v1.5"
        test_decryption "PKCS#1 v1.5"
    fi
    if [ -z "$NO_OAEP" ]; then
        test_encryption OAEP
        test_decryption OAEP
    fi
    test_signing ECC
    test_signing RSA SIGN_PKCS1_V15
    if [ -z "$NO_PSS" ]; then test_signing RSA SIGN_PSS; fi
    test_csr RSA SIGN_PKCS1_V15
    if [ -z "$NO_PSS" ]; then test_csr RSA SIGN_PSS; fi
    test_csr ECC
    test_rsa_key_bits
    test_rsa_key_bits 1024
}

echo "Checking the Parsec service..."
if ! "$PARSEC_TOOL" ping; then
    echo "The Parsec service does not answer" >&2
    exit 1
fi

"$PARSEC_TOOL" list-providers 2>/dev/null >"$TMP_DIR/providers.txt"
show "$TMP_DIR/providers.txt"
TESTED=0
mapfile -t PROVIDER_LINES < <(grep '^ID:' "$TMP_DIR/providers.txt")
for line in "${PROVIDER_LINES[@]}"; do
    read -r _ hex rest <<<"$line"
    id=$((hex))
    name=$(echo "$rest" | sed 's/^(\(.*\))$/\1/')
    if [ "$id" -eq 0 ]; then continue; fi
    if [ -n "$PROVIDER_ONLY" ] && [ "$id" -ne "$PROVIDER_ONLY" ]; then continue; fi
    test_provider "$id" "$name"
    TESTED=$((TESTED + 1))
done

if [ "$TESTED" -eq 0 ]; then
    echo "No crypto provider was tested" >&2
    exit 1
fi
echo "== $FAILED failed check(s)"
exit "$FAILED"
