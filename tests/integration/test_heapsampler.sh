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

# --- the agent with the library: bpfprof record -t heap --heap-mode ... -----

MIB=1048576
WORK=$HS/hs_work




# Exact at R=1, and the stacks start at the allocating function, as in the uprobe mode.
case_preload_r1() {
	record_heap pr1 --heap-mode preload -R 1 -- "$WORK" 256 64 1 1 || return 1
	grep -q 'heap PID [0-9]*: libbpfprof-heap .*(hooks, sampled in-process)' "$BP_ERR" ||
		fail "summary does not say the hooks were used: $(grep 'heap PID' "$BP_ERR" | head -1)"
	grep -q 'probes on its hooks (sampled in-process)' "$T/pr1.pb.gz.raw" ||
		fail "profile comment does not say the hooks were used"
	local live churn
	live=$(stackv "$T/pr1.pb.gz" '^keep_live;main;' 3)
	churn=$(stackv "$T/pr1.pb.gz" '^churn_once;main;' 1)
	[ "$live" = $((64 * MIB)) ] || fail "R=1 keep_live;main inuse_space = $live, want exactly $((64 * MIB))"
	[ "$churn" = $((256 * MIB)) ] || fail "R=1 churn_once;main alloc_space = $churn, want exactly $((256 * MIB))"
	[ "$(stackv "$T/pr1.pb.gz" '^churn_once;' 3)" = 0 ] || fail "churned blocks still in use"
}

# 2 MiB live blocks: at the default R each is sampled with probability
# 1 - e^-4, so the live estimate's sigma is ~2.4 % and +-10 % is 4 sigma (with
# 1 MiB blocks it is ~4.9 %: +-10 % would fail one run in twenty). The churn's
# 16384 blocks of 64 KiB give ~2 %.
case_preload_default() {
	record_heap pdef -- env HS_LIVE_BLOCK_MIB=2 "$WORK" 1024 64 1 1 || return 1
	grep -q 'heap PID [0-9]*: libbpfprof-heap' "$BP_ERR" || fail "auto did not preload the library"
	within "$(stackv "$T/pdef.pb.gz" '^keep_live;' 3)" $((64 * MIB)) 10 "live inuse_space"
	within "$(stackv "$T/pdef.pb.gz" '^churn_once;' 1)" $((1024 * MIB)) 10 "churn alloc_space"
}

# -p PID of a process that loaded the library itself (no BPFPROF_HEAP_RATE): the
# agent writes R and the attached flag into it.
case_pid_with_library() {
	start_bg env LD_PRELOAD="$LIB" "$WORK" 1024 64 3 3
	local pid=$BG_PID
	record_heap ppid -p "$pid" -d 7 || return 1
	grep -q "heap PID $pid: libbpfprof-heap" "$BP_ERR" || fail "the library's hooks were not used for -p"
	within "$(stackv "$T/ppid.pb.gz" '^keep_live;' 3)" $((64 * MIB)) 15 "live inuse_space"
	within "$(stackv "$T/ppid.pb.gz" '^churn_once;' 1)" $((1024 * MIB)) 15 "churn alloc_space"
}

case_uprobe_mode() {
	record_heap up --heap-mode uprobe -R 1 -- "$WORK" 64 16 1 1 || return 1
	grep -q 'heap PID [0-9]*: glibc' "$BP_ERR" || fail "--heap-mode uprobe did not probe glibc"
	[ "$(stackv "$T/up.pb.gz" '^keep_live;main;' 3)" = $((16 * MIB)) ] || fail "uprobe mode live wrong"
}

case_static_command() {
	local st=$HS/hs_work_static
	[ -x "$st" ] || { fail "$st not built"; return 1; }
	bp "$T/stp" record -t heap --heap-mode preload -o "$T/stp.pb.gz" -- "$st" 8 4 1 1
	expect_error 2
	grep -q 'bpfprof: --heap-mode preload: .*hs_work_static is statically linked' "$BP_ERR" ||
		fail "no clear message: $(head -c 200 "$BP_ERR")"
	record_heap sta -R 1 -- "$st" 8 4 1 1 || return 1
	grep -q 'bpfprof: heap: .*hs_work_static is statically linked: using allocator uprobes' "$BP_ERR" ||
		fail "auto: no one-line notice: $(head -c 200 "$BP_ERR")"
	grep -q 'heap PID [0-9]*: static' "$BP_ERR" || fail "auto: static allocator not probed"
}

# An executable with its own malloc bypasses the library: auto probes the executable.
case_own_malloc() {
	record_heap own -R 1 -- "$HS/hs_ownmalloc" 100 || return 1
	grep -q 'bpfprof: heap: .*hs_ownmalloc defines its own malloc: using allocator uprobes' "$BP_ERR" ||
		fail "no one-line notice: $(head -c 200 "$BP_ERR")"
	grep -q 'heap PID [0-9]*: static' "$BP_ERR" || fail "the executable's malloc was not probed"
	[ "$(stackv "$T/own.pb.gz" '^keep_own;main;' 3)" = $((100 * MIB)) ] || fail "keep_own live wrong"
	# -p of such a process that has the library loaded anyway: not its silent hooks either.
	start_bg env LD_PRELOAD="$LIB" "$HS/hs_ownmalloc" 100
	record_heap ownp -p "$BG_PID" -d 3 -R 1 || return 1
	grep -q 'heap PID [0-9]*: static' "$BP_ERR" || fail "-p: the executable's malloc was not probed"
}

# serve_up NAME ARGS...: starts `bpfprof serve ARGS` on a free port; its URL in SV_URL.
serve_up() {
	local name=$1 port= i
	shift
	SV_URL=
	"$BPFPROF" serve --listen 127.0.0.1:0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
	BG_PIDS+=("$!")
	for i in $(seq 200); do
		port=$(sed -nE 's#.*serving on https?://.*:([0-9]+)/debug/pprof/ .*#\1#p' "$T/$name.err")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { fail "serve did not start: $(head -3 "$T/$name.err" | tr '\n' '|')"; return 1; }
	SV_URL=http://127.0.0.1:$port
}

# The daemon: a --heap-pid that has the library loaded is profiled through its hooks.
case_serve() {
	start_bg env LD_PRELOAD="$LIB" "$WORK" 64 16 3 30
	local w=$BG_PID i code live=0 u
	serve_up sv --heap-pid "$w" || return 1
	u=$SV_URL
	for i in $(seq 60); do
		code=$(curl -s -o "$T/svheap.pb.gz" -w '%{http_code}' "$u/debug/pprof/heap?pid=$w")
		[ "$code" = 200 ] && live=$(stackv "$T/svheap.pb.gz" '^keep_live;' 3)
		[ "${live:-0}" -gt $((12 * MIB)) ] && break
		sleep 0.25
	done
	within "$live" $((16 * MIB)) 30 "serve live"
	curl -s "$u/api/v1/heap?pid=$w" >"$T/svapi.json"
	grep -q '"libbpfprof-heap"' "$T/svapi.json" || fail "/api/v1/heap does not say libbpfprof-heap: $(head -c 300 "$T/svapi.json")"
}

# post URL: POST, the body in $T/post.json, the status echoed.
post() { curl -s -X POST -o "$T/post.json" -w '%{http_code}' "$1"; }

# mode= of POST /api/v1/heap, chosen per target; GET and /metrics say which each uses.
case_serve_mode() {
	start_bg env LD_PRELOAD="$LIB" "$WORK" 64 16 3 60
	local lib=$BG_PID plain u code
	start_bg "$WORK" 64 16 3 60
	plain=$BG_PID
	serve_up svm --heap-auto-enroll=false || return 1 # the POSTs choose the mode
	u=$SV_URL
	code=$(post "$u/api/v1/heap?pid=$plain&mode=preload")
	[ "$code" = 409 ] || fail "preload of a PID without the library: HTTP $code, want 409"
	jq -e '.error | test("libbpfprof-heap.so is not loaded in PID [0-9]+")' "$T/post.json" >/dev/null ||
		fail "409 body: $(head -c 300 "$T/post.json")"
	code=$(post "$u/api/v1/heap?pid=$plain&mode=ebpf")
	[ "$code" = 400 ] || fail "mode=ebpf: HTTP $code, want 400"
	jq -e '.error | test("invalid parameter .mode.")' "$T/post.json" >/dev/null ||
		fail "400 body: $(head -c 300 "$T/post.json")"
	code=$(post "$u/api/v1/heap?pid=$lib&mode=uprobe")
	[ "$code" = 201 ] || fail "mode=uprobe: HTTP $code: $(head -c 300 "$T/post.json")"
	jq -e '.mode == "uprobe" and .allocator == "glibc"' "$T/post.json" >/dev/null ||
		fail "mode=uprobe on a library target: $(head -c 300 "$T/post.json")"
	curl -s -X DELETE "$u/api/v1/heap?pid=$lib" >/dev/null
	code=$(post "$u/api/v1/heap?pid=$lib&mode=auto")
	[ "$code" = 201 ] || fail "mode=auto: HTTP $code: $(head -c 300 "$T/post.json")"
	code=$(post "$u/api/v1/heap?pid=$plain")
	[ "$code" = 201 ] || fail "default mode: HTTP $code: $(head -c 300 "$T/post.json")"
	curl -s "$u/api/v1/heap" >"$T/list.json"
	jq -e --argjson a "$lib" --argjson b "$plain" \
		'(.pids[] | select(.pid == $a) | .mode) == "preload" and
		 (.pids[] | select(.pid == $b) | .mode) == "uprobe"' "$T/list.json" >/dev/null ||
		fail "GET /api/v1/heap modes: $(head -c 400 "$T/list.json")"
	curl -s "$u/metrics" >"$T/m.txt"
	grep -q "^bpfprof_heap_target_info{pid=\"$lib\",mode=\"preload\",allocator=\"libbpfprof-heap\"} 1$" "$T/m.txt" ||
		fail "no preload target_info for $lib: $(grep target_info "$T/m.txt" | tr '\n' '|')"
	grep -q "^bpfprof_heap_target_info{pid=\"$plain\",mode=\"uprobe\",allocator=\"glibc\"} 1$" "$T/m.txt" ||
		fail "no uprobe target_info for $plain"
	promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 ||
		fail "promtool: $(head -5 "$T/promtool.out" | tr '\n' '|')"
}

# heap_mode = preload in the config: a --heap-pid without the library is a clear startup error.
case_serve_config_mode() {
	start_bg "$WORK" 64 16 3 30
	bp "$T/scm" serve --listen 127.0.0.1:0 --heap-mode preload --heap-pid "$BG_PID"
	expect_error 2
	grep -q "heap_pid $BG_PID: libbpfprof-heap.so is not loaded in it (heap_mode = preload)" "$BP_ERR" ||
		fail "no clear message: $(head -c 300 "$BP_ERR")"
}

# A process that allocates for as long as it runs (64 KiB blocks through malloc).
ALLOC_LOOP='import time
keep = []
while True:
    keep.append(bytearray(65536)); keep = keep[-256:]; time.sleep(0.001)'

# heap_auto_enroll (default): a process started after the daemon with the
# library loaded becomes a heap target in preload mode, with samples.
case_auto_enroll() {
	local u w i code n=0
	serve_up sva || return 1
	u=$SV_URL
	start_bg env LD_PRELOAD="$LIB" python3 -c "$ALLOC_LOOP"
	w=$BG_PID
	for i in $(seq 100); do
		curl -s "$u/api/v1/heap" >"$T/ae.json"
		jq -e --argjson p "$w" '.pids[] | select(.pid == $p and .mode == "preload")' \
			"$T/ae.json" >/dev/null && break
		sleep 0.2
	done
	jq -e --argjson p "$w" '.pids[] | select(.pid == $p and .mode == "preload")' "$T/ae.json" >/dev/null ||
		{ fail "PID $w not enrolled: $(head -c 300 "$T/ae.json")"; return 1; }
	grep -q "bpfprof: heap: enrolled PID $w (libbpfprof-heap.so loaded)" "$T/sva.err" ||
		fail "no enrollment line on stderr"
	for i in $(seq 60); do
		code=$(curl -s -o "$T/ae.pb.gz" -w '%{http_code}' "$u/debug/pprof/heap?pid=$w")
		[ "$code" = 200 ] && n=$(stackv "$T/ae.pb.gz" '.' 1)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.25
	done
	[ "${n:-0}" -gt 0 ] || fail "heap profile of enrolled PID $w has no samples (HTTP $code)"
	curl -s "$u/api/v1/leaks?pid=$w" >"$T/ael.json"
	jq -e '.heap_profiling == true' "$T/ael.json" >/dev/null ||
		fail "/api/v1/leaks does not see the enrolled PID as heap-profiled: $(head -c 300 "$T/ael.json")"
	curl -s "$u/metrics" >"$T/aem.txt"
	grep -qE '^bpfprof_heap_auto_enrolled_total [1-9]' "$T/aem.txt" || fail "enrolled counter not counted"
	grep -q '^bpfprof_heap_auto_enroll_dropped_total{reason="limit"} ' "$T/aem.txt" ||
		fail "no dropped counter"
	promtool check metrics <"$T/aem.txt" >"$T/promtool.out" 2>&1 ||
		fail "promtool: $(head -5 "$T/promtool.out" | tr '\n' '|')"
}

# heap_auto_enroll = false: the same process is left alone (it can still be POSTed).
case_auto_enroll_off() {
	local u w i
	serve_up svo --heap-auto-enroll=false || return 1
	u=$SV_URL
	start_bg env LD_PRELOAD="$LIB" python3 -c "$ALLOC_LOOP"
	w=$BG_PID
	# Long enough for the daemon to notice it: its CPU samples name it.
	for i in $(seq 20); do
		curl -s "$u/debug/pprof/profile?seconds=1&format=folded&comm=python3" >"$T/aof.folded"
		[ -s "$T/aof.folded" ] && break
	done
	[ -s "$T/aof.folded" ] || fail "the daemon never sampled the process"
	sleep 2 # as long again as an enrollment takes after the first sample
	curl -s "$u/api/v1/heap" >"$T/aof.json"
	jq -e --argjson p "$w" '[.pids[] | select(.pid == $p)] | length == 0' "$T/aof.json" >/dev/null ||
		fail "PID $w enrolled with heap_auto_enroll = false"
	! grep -q '^bpfprof_heap_auto_enrolled_total' <(curl -s "$u/metrics") ||
		fail "auto-enroll metrics while it is off"
}

case_bad_mode() {
	bp "$T/bm" record -t heap --heap-mode x -- true
	expect_error 2
	grep -q "unknown heap mode 'x': expected auto, preload or uprobe" "$BP_ERR" || fail "no clear message"
	bp "$T/bm2" record -t cpu --heap-mode preload -d 1 -o "$T/bm2.pb.gz"
	expect_error 2
	grep -q -- '--heap-mode applies to -t heap' "$BP_ERR" || fail "no clear message for -t cpu"
}

# The agent killed mid-run: the target goes on (the hooks are nops without probes).
case_agent_killed() {
	start_bg env LD_PRELOAD="$LIB" "$WORK" 2048 16 2 1
	local pid=$BG_PID bpid rc=0
	"$BPFPROF" record -t heap -p "$pid" -d 60 -o "$T/killed.pb.gz" >"$T/killed.out" 2>&1 &
	bpid=$!
	sleep 3
	kill -KILL "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "target exited $rc after the agent was killed"
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
if [ -x "$BPFPROF" ] && [ -x "$WORK" ]; then
	run_case "heapsampler: record --heap-mode preload -R 1 -- CMD exact, stacks from the caller" case_preload_r1
	run_case "heapsampler: record -- CMD (auto) preloads; default R within 10 %" case_preload_default
	run_case "heapsampler: record -p PID with the library loaded uses its hooks" case_pid_with_library
	run_case "heapsampler: record --heap-mode uprobe -- CMD probes the allocator" case_uprobe_mode
	run_case "heapsampler: static command: preload fails clearly, auto falls back to uprobes" case_static_command
	run_case "heapsampler: executable with its own malloc: probed, not the library" case_own_malloc
	run_case "heapsampler: serve --heap-pid of a process with the library" case_serve
	run_case "heapsampler: serve: POST mode= per target, GET and /metrics say it" case_serve_mode
	run_case "heapsampler: serve heap_mode = preload: a target without the library is refused" case_serve_config_mode
	run_case "heapsampler: serve auto-enrolls a process started with the library" case_auto_enroll
	run_case "heapsampler: serve heap_auto_enroll = false leaves it alone" case_auto_enroll_off
	run_case "heapsampler: bad --heap-mode" case_bad_mode
	run_case "heapsampler: agent killed mid-run, target unaffected" case_agent_killed
fi
finish
