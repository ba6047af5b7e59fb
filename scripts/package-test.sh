#!/bin/sh
# Builds the Debian packages from this tree, checks them (lintian, systemd-analyze verify),
# installs them on this machine and runs the installed service the way parsec.service and
# parsec.socket do, without systemd as PID 1: systemd-socket-activate holds the socket, setpriv
# takes the unit's user, group and working directory. Then: a member of parsec-clients signs
# (a signature OpenSSL verifies), a user outside the group is refused, an upgrade to a rebuilt
# package keeps the key, remove keeps it, purge deletes it. Before that, the same packages are
# installed in a container booted with systemd as PID 1 (systemd-nspawn over a throw-away
# overlay of this machine's root), where the units run for real: socket activation, the
# hardening settings, reload, and exit status 78 stopping the restarts.
#
# Runs as root and changes the machine: it installs the packages and creates the users
# parsec-pkgtest-in and parsec-pkgtest-out; everything is purged or deleted at the end.
# Usage: scripts/package-test.sh   (PARSEC_PKG_KEEP=1 keeps the work folder; it refuses to
# run where parsec is installed or /var/lib/parsec exists, unless CI=true or PARSEC_PKG_FORCE=1)
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "package-test.sh: run as root" >&2
    exit 1
fi
# The test purges the packages and deletes /var/lib/parsec: never on a machine whose service
# holds real keys, unless told so.
if [ "${CI:-}" != true ] && [ -z "${PARSEC_PKG_FORCE:-}" ] &&
    { [ -e /var/lib/parsec ] ||
        [ "$(dpkg-query -W -f='${Status}' parsec 2>/dev/null)" = "install ok installed" ]; }; then
    echo "package-test.sh: parsec is installed or /var/lib/parsec exists; this test would delete" >&2
    echo "their keys. Run it on a test machine, or set PARSEC_PKG_FORCE=1." >&2
    exit 1
fi

work=$(mktemp -d /tmp/parsec-pkgtest.XXXXXX)
chmod 0755 "$work"
UIN=parsec-pkgtest-in
UOUT=parsec-pkgtest-out
PKGS="parsec parsec-tool libparsec1 libparsec-psa1 libparsec-dev"
SOCK=/run/parsec/parsec.sock
svc_pid=

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
passed=0
ok() {
    passed=$((passed + 1))
    echo "ok: $*"
}

ns_root=
ns_upper=
stop_service() {
    if [ -n "$svc_pid" ]; then
        kill -TERM "$svc_pid" 2>/dev/null || true
        wait "$svc_pid" 2>/dev/null || true
        svc_pid=
    fi
}

cleanup() {
    rc=$?
    stop_service
    if [ -n "$ns_root" ]; then umount "$ns_root" 2>/dev/null || true; fi
    if [ -n "$ns_upper" ]; then umount "$ns_upper" 2>/dev/null || true; fi
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PKGS >/dev/null 2>&1 || true
    for u in $UIN $UOUT; do
        if getent passwd $u >/dev/null; then userdel -r $u >/dev/null 2>&1 || true; fi
    done
    if [ -n "${PARSEC_PKG_KEEP:-}" ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
    if [ $rc -eq 0 ]; then
        echo "package test: all $passed checks passed"
    else
        echo "package test: FAILED after $passed checks"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The value of Key= in the [Service] section of the installed unit.
unit_value() {
    sed -n "s/^$1=//p" /lib/systemd/system/parsec.service | tail -n 1
}

# Starts the installed service like systemd would: the socket first (parsec.socket's
# ListenStream, SocketUser, SocketGroup, SocketMode), the service on the first connection.
start_service() {
    exec_start=$(unit_value ExecStart)
    user=$(unit_value User)
    group=$(unit_value Group)
    wd=$(unit_value WorkingDirectory)
    sock=$(sed -n 's/^ListenStream=//p' /lib/systemd/system/parsec.socket)
    s_user=$(sed -n 's/^SocketUser=//p' /lib/systemd/system/parsec.socket)
    s_group=$(sed -n 's/^SocketGroup=//p' /lib/systemd/system/parsec.socket)
    s_mode=$(sed -n 's/^SocketMode=//p' /lib/systemd/system/parsec.socket)
    [ "$sock" = "$SOCK" ] || fail "parsec.socket listens on $sock, clients expect $SOCK"
    # The folder comes from the package's tmpfiles.d entry, created by its postinst.
    [ -d /run/parsec ] || fail "/run/parsec was not created at installation"
    rm -f "$SOCK"
    # StateDirectory= of the unit.
    install -d -o "$user" -g "$group" -m 0700 /var/lib/parsec
    (
        umask 0077
        # shellcheck disable=SC2086 # ExecStart is a command line: split it as systemd does.
        exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin systemd-socket-activate -l "$SOCK" \
            setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
            --inh-caps=-all --bounding-set=-all \
            env -C "$wd" $exec_start
    ) >>"$work/service.log" 2>&1 &
    svc_pid=$!
    i=0
    while [ ! -S "$SOCK" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "the socket never appeared (log: $(cat "$work/service.log"))"
        sleep 0.1
    done
    chown "$s_user:$s_group" "$SOCK"
    chmod "$s_mode" "$SOCK"
}

# Runs parsec-tool as a user, with no PARSEC_SERVICE_ENDPOINT: the default must be right.
as_user() {
    u=$1
    shift
    runuser -u "$u" -- env -u PARSEC_SERVICE_ENDPOINT -C "$work" "$@"
}

# The service starts on the first connection: the first ping may wait for it.
wait_ready() {
    i=0
    until as_user $UIN parsec-tool ping >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le 50 ] || fail "the service does not answer (log: $(cat "$work/service.log"))"
        kill -0 "$svc_pid" 2>/dev/null || fail "the service exited: $(cat "$work/service.log")"
        sleep 0.2
    done
}

build_packages() {
    dir=$1
    rm -rf "$dir"
    mkdir -p "$dir/parsec"
    (cd "$src" && tar --exclude=./build --exclude=./.git --exclude='./obj-*' -cf - .) |
        tar -xf - -C "$dir/parsec"
    if [ -n "${2:-}" ]; then
        (cd "$dir/parsec" && DEBEMAIL=parsec-c@example.org DEBFULLNAME="Parsec in C developers" \
            dch --local "$2" "Rebuild for the upgrade test." >/dev/null 2>&1)
    fi
    (cd "$dir/parsec" && dpkg-buildpackage -us -uc -b -j2 >"$dir/build.log" 2>&1) ||
        { tail -40 "$dir/build.log"; fail "dpkg-buildpackage failed"; }
}

install_debs() {
    dir=$1
    shift
    debs=
    for p in "$@"; do debs="$debs $(ls "$dir"/${p}_*.deb)"; done
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        --allow-downgrades $debs >"$work/apt.log" 2>&1 ||
        { cat "$work/apt.log"; fail "installing $*"; }
}

# The units under systemd as PID 1: a container booted from an overlay of this machine's root
# (all writes go to a tmpfs and vanish), the packages installed in it, checks run by a unit.
systemd_boot_test() {
    dir=$1
    ns=$work/nspawn
    mkdir -p "$ns/upper" "$ns/root" "$ns/out" "$ns/pkgs"
    cp "$dir"/parsec_*.deb "$dir"/parsec-tool_*.deb "$ns/pkgs/"
    mount -t tmpfs tmpfs "$ns/upper"
    ns_upper=$ns/upper
    mkdir -p "$ns/upper/u/etc" "$ns/upper/w"
    : >"$ns/upper/u/etc/machine-id" # a machine id of its own, made at boot
    mount -t overlay overlay -o "lowerdir=/,upperdir=$ns/upper/u,workdir=$ns/upper/w" "$ns/root"
    ns_root=$ns/root
    cat >"$ns/inner.sh" <<'EOS'
#!/bin/sh
# Runs in the container, as a unit started at boot.
exec >/out/log 2>&1
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; journalctl -u parsec --no-pager | tail -20; systemctl poweroff; exit 1; }
DEBIAN_FRONTEND=noninteractive dpkg -i /pkgs/*.deb >/dev/null || fail "dpkg -i"
# Debian's postinst starts the units; a policy-rc.d of a container image may prevent it.
systemctl start parsec.socket || fail "parsec.socket does not start"
# Only the socket listens: the first connection must start the service.
systemctl stop parsec.service 2>/dev/null
systemctl is-active parsec.service >/dev/null && fail "the service does not stop"
[ "$(stat -c %U:%G:%a /run/parsec/parsec.sock)" = parsec:parsec-clients:660 ] ||
    fail "socket $(stat -c %U:%G:%a /run/parsec/parsec.sock)"
useradd -m -G parsec-clients pin && useradd -m pout
runuser -u pin -- parsec-tool ping >/dev/null 2>&1 || fail "ping by a member of parsec-clients"
systemctl is-active parsec.service >/dev/null || fail "not socket-activated"
ok "socket activation: the first connection started the service"
[ "$(systemctl show parsec.service -p StatusText --value)" = Serving ] ||
    fail "Type=notify: no READY/STATUS"
pid=$(systemctl show parsec.service -p MainPID --value)
[ "$(ps -o user= -p "$pid")" = parsec ] || fail "runs as $(ps -o user= -p "$pid")"
ok "Type=notify, running as parsec"
cd /tmp
runuser -u pin -- parsec-tool create-ecc-key -k boot-key >/dev/null 2>&1 ||
    fail "create-ecc-key under the hardened unit"
runuser -u pin -- parsec-tool export-public-key -k boot-key >key.pem 2>/dev/null || fail "export"
runuser -u pin -- parsec-tool sign -k boot-key "under systemd" 2>/dev/null |
    openssl base64 -d -A >sig.der
printf 'under systemd' >msg.txt
openssl dgst -sha256 -verify key.pem -signature sig.der msg.txt >/dev/null ||
    fail "signature does not verify"
ok "a key made and used under the hardened unit; OpenSSL verifies the signature"
runuser -u pout -- parsec-tool ping >out.txt 2>&1 && fail "an outsider reached the service"
grep -q "Permission denied" out.txt || fail "outsider: $(cat out.txt)"
ok "a user outside parsec-clients is refused"
systemctl reload parsec.service || fail "reload"
[ "$(systemctl show parsec.service -p MainPID --value)" = "$pid" ] || fail "reload restarted"
runuser -u pin -- parsec-tool list-keys 2>&1 | grep -q boot-key || fail "key after reload"
ok "reload (SIGHUP) keeps the process and the key"
echo 'broken = [' >>/etc/parsec/config.toml
systemctl restart parsec.service 2>/dev/null && fail "a broken configuration started"
i=0
while [ "$(systemctl show parsec.service -p ActiveState --value)" != failed ]; do
    i=$((i + 1)); [ $i -le 50 ] || fail "not failed: $(systemctl show parsec.service -p ActiveState --value)"
    sleep 0.2
done
[ "$(systemctl show parsec.service -p ExecMainStatus --value)" = 78 ] || fail "exit status"
[ "$(systemctl show parsec.service -p NRestarts --value)" = 0 ] || fail "restarted"
journalctl -u parsec --no-pager | grep -q "/etc/parsec/config.toml:[0-9]*:" ||
    fail "the journal does not name the file and line"
ok "a broken configuration: exit status 78, no restart, the journal names the line"
echo "RESULT: PASS"
systemctl poweroff
EOS
    chmod 0755 "$ns/inner.sh"
    printf '[Unit]\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/inner.sh\n' \
        >"$ns/pkgtest.service"
    timeout 300 systemd-nspawn -q -D "$ns/root" --keep-unit --register=no --link-journal=no \
        --bind="$ns/out:/out" --bind-ro="$ns/pkgs:/pkgs" --bind-ro="$ns/inner.sh:/inner.sh" \
        --bind-ro="$ns/pkgtest.service:/etc/systemd/system/pkgtest.service" \
        -b -- systemd.wants=pkgtest.service >"$ns/console.log" 2>&1 || true
    umount "$ns_root" && ns_root=
    umount "$ns_upper" && ns_upper=
    if [ ! -s "$ns/out/log" ]; then
        tail -20 "$ns/console.log"
        fail "the container did not boot or did not run the checks"
    fi
    grep -v '^RESULT' "$ns/out/log" | sed 's/^/  /'
    grep -qx "RESULT: PASS" "$ns/out/log" || fail "the units under systemd"
    ok "the units under systemd as PID 1 (systemd-nspawn)"
}

echo "== package build"
build_packages "$work/v1"
ls -l "$work"/v1/*.deb | awk '{print $5, $9}'

echo "== lintian"
lintian --fail-on error,warning "$work"/v1/*.changes || fail "lintian"
ok "lintian: no error, no warning"

# A clean start: nothing left from an earlier run.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PKGS >/dev/null 2>&1 || true
rm -rf /var/lib/parsec
echo "== the units under systemd as PID 1"
systemd_boot_test "$work/v1"

echo "== install"
install_debs "$work/v1" $PKGS
getent passwd parsec >/dev/null || fail "no parsec user"
getent group parsec >/dev/null || fail "no parsec group"
getent group parsec-clients >/dev/null || fail "no parsec-clients group"
[ "$(stat -c %U:%a /var/lib/parsec)" = parsec:700 ] || fail "/var/lib/parsec: $(stat -c %U:%a /var/lib/parsec)"
[ "$(stat -c %U:%G:%a /etc/parsec/config.toml)" = root:parsec:640 ] ||
    fail "config.toml: $(stat -c %U:%G:%a /etc/parsec/config.toml)"
dpkg-query -W -f='${Conffiles}\n' parsec | grep -q ' /etc/parsec/config.toml ' ||
    fail "config.toml is not a conffile"
ok "users, groups, state folder and conffile"
# A second configure run must change nothing and not fail.
DPKG_MAINTSCRIPT_PACKAGE=parsec DPKG_MAINTSCRIPT_NAME=postinst \
    /var/lib/dpkg/info/parsec.postinst configure 1.5.0 >/dev/null || fail "postinst is not idempotent"
ok "postinst runs twice"

echo "== systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/parsec.socket /lib/systemd/system/parsec.service ||
    fail "systemd-analyze verify"
ok "units verify"
systemd-analyze security --offline=true /lib/systemd/system/parsec.service 2>/dev/null |
    tail -n 1

echo "== service from the package"
getent passwd $UIN >/dev/null || useradd -m -G parsec-clients $UIN
getent passwd $UOUT >/dev/null || useradd -m $UOUT
start_service
wait_ready
[ "$(stat -c %G:%a $SOCK)" = parsec-clients:660 ] || fail "socket: $(stat -c %G:%a $SOCK)"
[ "$(ps -o user= -p "$svc_pid")" = parsec ] || fail "the service runs as $(ps -o user= -p "$svc_pid")"
tr '\0' '\n' <"/proc/$svc_pid/environ" | grep -qx LISTEN_FDS=1 ||
    fail "the service was not given the socket"
ok "the service runs as parsec on the socket it was given"
ok "a member of parsec-clients reaches the service at the default endpoint"
if as_user $UOUT parsec-tool ping >"$work/out.txt" 2>&1; then
    fail "a user outside parsec-clients reached the service"
fi
grep -qi "permission denied" "$work/out.txt" || fail "refusal not explained: $(cat "$work/out.txt")"
ok "a user outside parsec-clients is refused: $(head -n 1 "$work/out.txt")"

as_user $UIN parsec-tool create-ecc-key -k pkgtest-key >/dev/null 2>&1 || fail "create-ecc-key"
as_user $UIN parsec-tool export-public-key -k pkgtest-key >"$work/key.pem" || fail "export"
sign_and_verify() {
    as_user $UIN parsec-tool sign -k pkgtest-key "package test $1" >"$work/sig.b64" 2>/dev/null ||
        fail "sign ($1)"
    openssl base64 -d -A -in "$work/sig.b64" -out "$work/sig.der"
    printf 'package test %s' "$1" >"$work/msg.txt"
    openssl dgst -sha256 -verify "$work/key.pem" -signature "$work/sig.der" "$work/msg.txt" \
        >/dev/null || fail "signature ($1) does not verify"
    ok "signed with the service, verified by OpenSSL ($1)"
}
sign_and_verify install
as_user $UIN parsec-tool create-csr -k pkgtest-key --cn pkgtest.example >"$work/req.csr" 2>/dev/null ||
    fail "create-csr"
openssl req -in "$work/req.csr" -noout -verify >/dev/null 2>&1 || fail "CSR does not verify"
ok "CSR verifies"

# The client library from the packages: the example built with pkg-config.
cc -o "$work/example_sign" "$src/examples/sign.c" $(pkg-config --cflags --libs parsec) ||
    fail "building against libparsec-dev"
as_user $UIN "$work/example_sign" pkgtest-lib-key | grep -q verified || fail "example_sign"
ok "libparsec-dev and libparsec1: example built with pkg-config signs and verifies"

echo "== upgrade"
build_packages "$work/v2" +pkgtest
stop_service
echo "# edited by the operator" >>/etc/parsec/config.toml
install_debs "$work/v2" $PKGS
grep -qx "# edited by the operator" /etc/parsec/config.toml || fail "the upgrade lost an edit"
[ "$(stat -c %U:%G:%a /etc/parsec/config.toml)" = root:parsec:640 ] ||
    fail "config.toml after the upgrade: $(stat -c %U:%G:%a /etc/parsec/config.toml)"
ok "the upgrade keeps the operator's config.toml and its mode"
v=$(dpkg-query -W -f='${Version}' parsec)
case "$v" in *pkgtest*) ;; *) fail "not upgraded: $v" ;; esac
start_service
wait_ready
as_user $UIN parsec-tool list-keys 2>&1 | grep -q pkgtest-key || fail "key lost by the upgrade"
sign_and_verify upgrade

echo "== remove"
stop_service
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q parsec >/dev/null 2>&1 || fail "remove"
[ -d /var/lib/parsec ] || fail "remove deleted /var/lib/parsec"
[ -f /etc/parsec/config.toml ] || fail "remove deleted the conffile"
[ -n "$(find /var/lib/parsec -name '*.sqlite3' -user parsec)" ] || fail "remove deleted the key mappings"
ok "remove kept /var/lib/parsec and the configuration"
install_debs "$work/v2" parsec
start_service
wait_ready
as_user $UIN parsec-tool list-keys 2>&1 | grep -q pkgtest-key || fail "key lost by remove"
sign_and_verify reinstall

echo "== manuals"
for m in parsec.8 parsec-config.5 parsec-tool.1; do
    [ -f "/usr/share/man/man${m##*.}/$m.gz" ] || fail "manual $m not installed"
done
ok "manuals installed"

echo "== purge"
stop_service
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q parsec >"$work/purge.log" 2>&1 ||
    { cat "$work/purge.log"; fail "purge"; }
[ ! -e /var/lib/parsec ] || fail "purge kept /var/lib/parsec"
[ ! -e /etc/parsec/config.toml ] || fail "purge kept the configuration"
grep -q "deleting /var/lib/parsec" "$work/purge.log" || fail "purge did not say it deletes the keys"
ok "purge deleted the keys and said so"
