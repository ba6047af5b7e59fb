#!/bin/sh
# Runs the shell blocks of docs/pkcs11-module.md in order, as one script, so that the page's
# commands are the ones tested. A block whose first line is "# needs: sshd as root" is skipped
# (with a message) where there is no sshd or no root.
#   run_doc.sh DOC    with MODULE, PARSEC_SERVICE_ENDPOINT, WORK, TLS_PORT, SSH_PORT set.
set -eu
doc=$1
skip_sshd=0
if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
    echo "run_doc.sh: sshd is not installed: skipping the OpenSSH server steps" >&2
    skip_sshd=1
elif [ "$(id -u)" -ne 0 ]; then
    echo "run_doc.sh: not root: skipping the OpenSSH server steps" >&2
    skip_sshd=1
fi
script=$WORK/doc-steps.sh
awk -v skip="$skip_sshd" '
    /^```sh$/ { inblock = 1; first = 1; skipping = 0; next }
    /^```/ && inblock { inblock = 0; next }
    inblock {
        if (first && $0 == "# needs: sshd as root" && skip == 1) skipping = 1
        first = 0
        if (!skipping) print
    }' "$doc" > "$script"
[ -s "$script" ] || { echo "run_doc.sh: no sh block in $doc" >&2; exit 1; }
# Servers (and an ssh-agent) a failed step leaves behind are stopped with the script.
exec sh -c 'trap "rc=\$?; for j in \$(jobs -p) \${SSH_AGENT_PID:-}; do kill \$j 2>/dev/null || :; done; exit \$rc" EXIT
set -eux
. "$0"' "$script"
