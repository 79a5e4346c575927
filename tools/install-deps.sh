#!/bin/sh
# tools/install-deps.sh [PACKAGE...]: installs, as root, the Debian packages
# that are missing from what `make run` needs to build and run bpfprof, plus
# any PACKAGEs named (tools/install-test-deps.sh passes the test tools).
# Installs nothing when everything is there, so it runs before every build.
# Keep README.md's "What the two commands install" in sync with this list.
set -eu
RUN_PKGS="make gcc g++ libc6-dev clang llvm libbpf-dev bpftool libelf-dev
libdw-dev zlib1g-dev libiberty-dev libmicrohttpd-dev libjson-c-dev
libcapstone-dev pkg-config"
missing=""
for p in $RUN_PKGS "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bpfprof: missing packages:$missing; run as root (sudo make ...)" >&2
	exit 1
fi
echo "bpfprof: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
	echo "bpfprof: apt-get update failed: check the network and /etc/apt/sources.list*" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
	echo "bpfprof: apt-get install failed for:$missing" >&2
	exit 1
fi
