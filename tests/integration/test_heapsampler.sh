#!/usr/bin/env bash
# libbpfprof-heap.so without an agent: its build (exports, hooks the uprobe
# can emulate, -z nodelete) and the test programs in tests/heapsampler run
# with LD_PRELOAD. The library's counters (bpfprof_heap_state) stand in for
# the hooks. Needs `make` (builds build/libbpfprof-heap.so and the programs).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

LIB=$ROOT/build/libbpfprof-heap.so
HS=$ROOT/build/tests/heapsampler
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

if [ ! -f "$LIB" ] || [ ! -x "$HS/hs_basic" ]; then
	echo "not ok - prerequisites: $LIB or $HS not built (make)"
	exit 1
fi

# hs PREFIX ENV... -- CMD...: runs CMD with the library preloaded; output in PREFIX.out.
hs() {
	local prefix=$1
	shift
	HS_RC=0
	env "$@" >"$prefix.out" 2>&1 || HS_RC=$?
	if [ "$HS_RC" != 0 ]; then
		fail "exit $HS_RC: $(tr '\n' '|' <"$prefix.out" | cut -c1-300)"
		return 1
	fi
}

case_exports() {
	local syms want
	syms=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
	want="_ZdaPv _ZdaPvRKSt9nothrow_t _ZdaPvSt11align_val_t _ZdaPvSt11align_val_tRKSt9nothrow_t _ZdaPvm _ZdaPvmSt11align_val_t _ZdlPv _ZdlPvRKSt9nothrow_t _ZdlPvSt11align_val_t _ZdlPvSt11align_val_tRKSt9nothrow_t _ZdlPvm _ZdlPvmSt11align_val_t _Znam _ZnamRKSt9nothrow_t _ZnamSt11align_val_t _ZnamSt11align_val_tRKSt9nothrow_t _Znwm _ZnwmRKSt9nothrow_t _ZnwmSt11align_val_t _ZnwmSt11align_val_tRKSt9nothrow_t aligned_alloc bpfprof_heap_alloc bpfprof_heap_free bpfprof_heap_state calloc dallocx free free_aligned_sized free_sized malloc malloc_usable_size mallocx memalign posix_memalign pvalloc rallocx realloc reallocarray sdallocx valloc "
	[ "$syms" = "$want" ] || fail "exports differ: $(diff <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$syms") | grep '^[<>]' | tr '\n' ' ')"
	readelf -d "$LIB" | grep -q 'NODELETE' || fail "not linked -z nodelete"
	readelf -d "$LIB" | grep -q 'BIND_NOW\|FLAGS.*NOW' || fail "not linked -z now"
}

# The uprobe on a hook must be emulated: a one-byte nop first (no endbr64).
case_hooks() {
	local h first
	for h in bpfprof_heap_alloc bpfprof_heap_free; do
		first=$(objdump -d --no-show-raw-insn "$LIB" |
			awk -v s="<$h>:" '$2 == s { getline; print $2; exit }')
		[ "$first" = nop ] || fail "$h starts with '$first', not nop"
	done
	# The unwinder needs CFI for them.
	readelf --debug-dump=frames-interp "$LIB" 2>/dev/null | grep -q . || fail "no .eh_frame"
}

case_api() { hs "$T/api" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_basic" api; }
case_before() { hs "$T/before" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_basic" before; }
case_stats() { hs "$T/stats" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_basic" stats; }
case_fork() { hs "$T/fork" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_basic" fork; }
case_threads() { hs "$T/threads" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_basic" threads; }
case_noagent() { hs "$T/noagent" LD_PRELOAD="$LIB" "$HS/hs_basic" noagent; }
case_dlclose() { hs "$T/dlclose" HS_LIB="$LIB" "$HS/hs_basic" dlclose; }

# The real allocator behind the library is async-signal-safe here, so only
# the library's own code could deadlock; timeout turns a hang into a failure.
case_signal() {
	hs "$T/signal" LD_PRELOAD="$LIB:$HS/libhs_bumpalloc.so" HS_BUMPALLOC=1 BPFPROF_HEAP_RATE=1 \
		timeout -k 5 120 "$HS/hs_basic" signal
}

case_cxx() { hs "$T/cxx" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_cxx"; }

case_jemalloc() {
	[ -f "$JEMALLOC" ] || {
		fail "$JEMALLOC missing (apt-get install libjemalloc2)"
		return 1
	}
	hs "$T/jemalloc" LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=1 "$HS/hs_jemalloc"
}

# Ordinary programs are unaffected: same output with and without the library.
case_programs() {
	seq 1 200000 | shuf --random-source=<(yes) >"$T/nums"
	sort -n "$T/nums" | md5sum >"$T/want"
	LD_PRELOAD="$LIB" sort -n "$T/nums" | md5sum >"$T/got" || fail "sort failed"
	cmp -s "$T/want" "$T/got" || fail "sort output differs under the library"
	LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=4096 python3 -c 'import json; d=[{"k": i} for i in range(100000)]; print(len(json.dumps(d)))' >"$T/py" ||
		fail "python3 failed under the library"
	grep -qx '[0-9]*' "$T/py" || fail "python3 printed $(head -c 100 "$T/py")"
	LD_PRELOAD="$LIB" bash -c 'x=$(ls /usr/bin | wc -l); [ "$x" -gt 10 ]' || fail "bash+ls failed"
}

# A bad rate must not take the program down: a clear line, then no sampling.
case_bad_env() {
	LD_PRELOAD="$LIB" BPFPROF_HEAP_RATE=abc "$HS/hs_basic" noagent >"$T/bad.out" 2>"$T/bad.err" ||
		fail "hs_basic noagent failed with BPFPROF_HEAP_RATE=abc: $(tr '\n' '|' <"$T/bad.err" | cut -c1-200)"
	grep -q 'BPFPROF_HEAP_RATE must be a positive number of bytes: ignored' "$T/bad.err" ||
		fail "no clear message: $(head -c 200 "$T/bad.err")"
}

run_case "heapsampler: exports only the allocator, hooks and state; nodelete, now" case_exports
run_case "heapsampler: hooks start with an emulated nop" case_hooks
run_case "heapsampler: every C allocator function, exact at R=1" case_api
run_case "heapsampler: blocks the library never saw are freed and reallocated normally" case_before
run_case "heapsampler: sampled count at R=4096 within 5 sigma" case_stats
run_case "heapsampler: fork: the child starts anew" case_fork
run_case "heapsampler: threads and cross-thread frees, exact at R=1" case_threads
run_case "heapsampler: signal handler that allocates does not deadlock" case_signal
run_case "heapsampler: C++ new/delete family counted once each" case_cxx
run_case "heapsampler: jemalloc program with mallocx/rallocx/dallocx/sdallocx" case_jemalloc
run_case "heapsampler: no agent and no rate: nothing sampled until attached" case_noagent
run_case "heapsampler: dlclose leaves it mapped" case_dlclose
run_case "heapsampler: sort, python3, bash unaffected" case_programs
run_case "heapsampler: bad BPFPROF_HEAP_RATE: a clear message, sampling off" case_bad_env
finish
