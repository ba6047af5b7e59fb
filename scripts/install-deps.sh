#!/bin/sh
# Installs every Debian 12 package needed to build parsec and run its tests.
# Needs root: run as a user it asks sudo for root rights; run as root (a container, CI, a
# machine without sudo) it needs nothing more.
set -eu
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo "$0" "$@"
    fi
    echo "install-deps.sh: installing packages needs root, and sudo is not installed: run it as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential cmake pkg-config ca-certificates \
    protobuf-c-compiler libprotobuf-c-dev \
    libmbedtls-dev libsqlite3-dev \
    libcmocka-dev libssl-dev openssl \
    clang llvm libclang-rt-14-dev valgrind procps \
    librust-parsec-interface-dev \
    libp11-kit-dev softhsm2 opensc libengine-pkcs11-openssl openssh-client openssh-server gnutls-bin \
    debhelper dpkg-dev fakeroot devscripts lintian adduser systemd systemd-container man-db util-linux \
    libtss2-dev swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 dbus-daemon
# JWT-SVID (PARSEC_JWT_SVID): nghttp2 carries the SPIFFE Workload API client's gRPC; the tests'
# Workload API is Python gRPC signing its tokens with PyJWT.
apt-get install -y -q --no-install-recommends \
    libnghttp2-dev \
    python3-grpcio \
    python3-jwt \
    python3-cryptography
