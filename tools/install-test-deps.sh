#!/bin/sh
# tools/install-test-deps.sh: what `make test` and `make bench` add to
# tools/install-deps.sh (which it runs with these): the real clients the tests
# check against (go tool pprof, promtool, curl, jq, python3), the tools they
# compare with (perf, bpftrace, heaptrack, wrk, redis) and the libraries the
# test programs link or preload. Only missing packages are installed.
# Keep README.md's "What the two commands install" in sync with this list.
set -eu
TEST_PKGS="libcmocka-dev libclang-rt-14-dev golang-go prometheus jq curl
python3 binutils openssl procps util-linux mount time bc
linux-perf bpftrace heaptrack wrk redis-server redis-tools libjemalloc2
libc6-dbg"
# shellcheck disable=SC2086
exec "$(dirname "$0")/install-deps.sh" $TEST_PKGS
