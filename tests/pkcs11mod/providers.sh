#!/bin/sh
# Real programs through the module on the slot of one provider (the daemon runs the PKCS#11 or
# the TPM provider): pkcs11-tool lists the slot and creates an EC and an RSA key pair (Parsec
# keys on that provider), signs with both, OpenSSL checks the signatures with the public keys
# pkcs11-tool read, and ssh-keygen -D prints both public keys.
# "selftest" adds pkcs11-tool --test, which signs with every mechanism the slot lists whatever
# the key's policy: it fits a provider whose keys are made for any hash, not a TPM, whose keys
# sign with SHA-256 only (CKR_KEY_FUNCTION_NOT_PERMITTED for the others).
#   providers.sh TOKEN_LABEL [selftest]    with MODULE, PARSEC_SERVICE_ENDPOINT,
#                                          PARSEC_PKCS11_APP_NAME and WORK set.
set -eux
label=$1
selftest=${2:-}
cd "$WORK"
p11() { pkcs11-tool --module "$MODULE" --token-label "$label" "$@"; }

pkcs11-tool --module "$MODULE" --list-slots > slots.txt
grep -E "token label +: $label\$" slots.txt
p11 --list-mechanisms
p11 --keypairgen --key-type EC:prime256v1 --label ec-key
p11 --keypairgen --key-type rsa:2048 --label rsa-key
p11 --list-objects > objects.txt
if [ "$selftest" = selftest ]; then
    p11 --login --pin any --test
fi
grep -c "label: *ec-key\$" objects.txt | grep -x 2
grep -c "label: *rsa-key\$" objects.txt | grep -x 2
echo "data to sign" > data.txt
for key in ec-key:ECDSA-SHA256 rsa-key:SHA256-RSA-PKCS; do
    name=${key%%:*}
    id=$(printf %s "$name" | sha1sum | cut -d' ' -f1)
    p11 --sign --mechanism "${key#*:}" --id "$id" --signature-format openssl \
        -i data.txt -o "$name.sig"
    p11 --read-object --type pubkey --id "$id" -o "$name.pub.der"
    openssl dgst -sha256 -verify "$name.pub.der" -keyform DER -signature "$name.sig" data.txt
    # ... and not for other data ("! cmd" would not stop a set -e script).
    echo "other data" > other.txt
    if openssl dgst -sha256 -verify "$name.pub.der" -keyform DER -signature "$name.sig" \
        other.txt; then exit 1; fi
done
ssh-keygen -D "$MODULE" > ssh-keys.txt
grep '^ecdsa-sha2-nistp256 .* ec-key$' ssh-keys.txt
grep '^ssh-rsa .* rsa-key$' ssh-keys.txt
for name in ec-key rsa-key; do
    p11 --delete-object --type privkey --id "$(printf %s "$name" | sha1sum | cut -d' ' -f1)"
done
p11 --list-objects > objects.txt
p11 --login --pin any --test
if grep "label:" objects.txt; then exit 1; fi
