#!/bin/sh
# Installs the Debian packages bpfprof needs to build and test, only those missing.
set -eu
PKGS="make gcc g++ clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev
libiberty-dev libmicrohttpd-dev libjson-c-dev libcmocka-dev pkg-config golang-go
linux-perf bpftrace binutils prometheus curl wrk openssl
procps iproute2 libcapstone-dev libjemalloc2 heaptrack redis-server redis-tools"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bpfprof: missing packages:$missing; run as root (sudo make ...)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
