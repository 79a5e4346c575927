#!/usr/bin/env bash
# Rebuilds the ELF seeds (corpus/elfsym, corpus/cfi) and the CFI reproducers
# (regress/cfi) from the sources beside this script. Small on purpose: no
# libc, page alignment of 16 bytes.
set -eu
cd "$(dirname "$0")"
L="-nostdlib -static -Wl,--build-id -Wl,--eh-frame-hdr -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code"
F="-O2 -fasynchronous-unwind-tables $L"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
gcc $F -g -o "$T/tiny.debug" tiny.c
gcc $F -o "$T/tiny" tiny.c
strip -s "$T/tiny" -o "$T/tiny.stripped"
objcopy --add-gnu-debuglink="$T/tiny.debug" "$T/tiny.stripped" "$T/tiny.link"
gcc -O2 -shared -fPIC -nostdlib -fasynchronous-unwind-tables -Wl,--build-id \
	-Wl,-z,max-page-size=16 -Wl,-z,noseparate-code -o "$T/tiny.so" tiny.c
cp "$T/tiny.debug" "$T/tiny.link" "$T/tiny.so" ../corpus/elfsym/
cp "$T/tiny" "$T/tiny.so" ../corpus/cfi/
# One CFI rule for a register number in the hundreds of millions (issue 16).
gcc $L -o ../regress/cfi/cfi-undefined-reg-200000000 bigreg.s
gcc $L -o ../regress/cfi/cfi-undefined-reg-200000000-8-rows bigreg8.s
gcc $L -o ../regress/cfi/cfa-expression-reg-211812270 bigexpr.s
# The heap sampler's state object in a tiny library; the harness's first
# byte 0 selects the agent's state lookup, 1 the sampled-address set.
mkdir -p ../corpus/heapstate
gcc -O2 -shared -fPIC -nostdlib -I../../../user -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code \
	-o "$T/heapstate.so" heapstate.c
strip -s "$T/heapstate.so"
{ printf '\0'; cat "$T/heapstate.so"; } >../corpus/heapstate/state.so
printf '\001\001\020\000\001\020\001\000\020\000\001\040\000' >../corpus/heapstate/set-ops
