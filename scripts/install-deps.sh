#!/bin/sh
# Installs every Debian 12 package needed to build parsec and run its tests.
# Must run as root (CI runs it as root; on a workstation use sudo).
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (sudo $0)" >&2
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
    librust-parsec-interface-dev
# JWT-SVID (PARSEC_JWT_SVID): nghttp2 carries the SPIFFE Workload API client's gRPC; the tests'
# Workload API is Python gRPC signing its tokens with PyJWT.
apt-get install -y -q --no-install-recommends \
    libnghttp2-dev \
    python3-grpcio \
    python3-jwt \
    python3-cryptography
