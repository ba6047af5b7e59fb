#!/bin/sh
# The manuals and --help agree: every option and command that `parsec --help` and
# `parsec-tool [COMMAND] --help` list is in parsec(8) / parsec-tool(1), and every option the
# manuals document is one --help lists. Every key of the sample config.toml is in
# parsec-config(5).
# Usage: manuals.sh PARSEC PARSEC_TOOL DOCS_DIR SAMPLE_CONFIG
set -eu
parsec=$1 tool=$2 docs=$3 sample=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
errors=0
err() {
    echo "MISMATCH: $*" >&2
    errors=$((errors + 1))
}

# A manual as plain words: font escapes gone, \- made -.
plain() {
    sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(dq/"/g' "$1"
}

# Options of a --help text: the -x and --long words of its option lines.
help_options() {
    sed -n 's/^ \{1,\}\(-[A-Za-z0-9], \)\{0,1\}\(--[A-Za-z][A-Za-z0-9-]*\).*/\1 \2/p' "$1" |
        tr ', ' '\n\n' | grep -E '^--?[A-Za-z]' | sort -u
}

# Options a manual documents: the words of its .TP headings and .SS lines.
manual_options() {
    plain "$1" | awk '/^\.TP/ { getline; print; next } /^\.SS/ { print }' |
        grep -oE '(^|[ "[(|])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ "[(|]//' | sort -u
}

has_word() { # file word
    grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"
}

check_pair() { # name help-options-file manual-plain-file manual-options-file
    while read -r o; do
        has_word "$3" "$o" || err "$1: '$o' is in --help but not in the manual"
    done <"$2"
    while read -r o; do
        grep -qx -- "$o" "$2" || err "$1: the manual documents '$o', which --help does not list"
    done <"$4"
}

# parsec(8)
"$parsec" --help >"$tmp/parsec.help"
help_options "$tmp/parsec.help" >"$tmp/parsec.opts"
[ -s "$tmp/parsec.opts" ] || err "no option found in parsec --help"
plain "$docs/parsec.8" >"$tmp/parsec.8.txt"
manual_options "$docs/parsec.8" >"$tmp/parsec.8.opts"
check_pair parsec "$tmp/parsec.opts" "$tmp/parsec.8.txt" "$tmp/parsec.8.opts"

# parsec-tool(1): global options, then every command and its options.
"$tool" --help >"$tmp/tool.help"
help_options "$tmp/tool.help" >"$tmp/tool.opts"
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$tmp/tool.help" | grep -vx help \
    >"$tmp/tool.cmds"
[ -s "$tmp/tool.cmds" ] || err "no command found in parsec-tool --help"
plain "$docs/parsec-tool.1" >"$tmp/tool.1.txt"
while read -r c; do
    grep -qE "^\.SS $c( |\$)" "$tmp/tool.1.txt" || err "parsec-tool: command '$c' has no section"
    "$tool" "$c" --help >"$tmp/cmd.help"
    help_options "$tmp/cmd.help" >>"$tmp/tool.opts"
done <"$tmp/tool.cmds"
sort -u -o "$tmp/tool.opts" "$tmp/tool.opts"
sed -n 's/^\.SS \([a-z][a-z-]*\).*/\1/p' "$tmp/tool.1.txt" | while read -r c; do
    grep -qx "$c" "$tmp/tool.cmds" || err "parsec-tool: the manual documents command '$c', which --help does not list"
done
manual_options "$docs/parsec-tool.1" >"$tmp/tool.1.opts"
check_pair parsec-tool "$tmp/tool.opts" "$tmp/tool.1.txt" "$tmp/tool.1.opts"

# parsec-config(5): every key of the sample configuration, commented out or not.
plain "$docs/parsec-config.5" >"$tmp/config.5.txt"
sed -n 's/^#\{0,1\}\([a-z_][a-z_]*\) *=.*/\1/p' "$sample" | sort -u | while read -r k; do
    has_word "$tmp/config.5.txt" "$k" || err "parsec-config: key '$k' of $sample is not in the manual"
done
for s in core_settings listener authenticator key_manager provider; do
    grep -q "^\.SH \[*$s\]*" "$tmp/config.5.txt" || err "parsec-config: no section for [$s]"
done

if [ "$errors" -ne 0 ]; then
    echo "$errors mismatches between --help and the manuals" >&2
    exit 1
fi
echo "manuals and --help agree"
