#!/usr/bin/env bash
# System-wide behaviour: short-lived processes, --no-kernel, SIGINT.
. "$(dirname "$0")/lib.sh"
require_prereqs

case_short_lived() {
	local f=$T/short.pb.gz
	# A 200 ms process started 1.5 s into a 4 s system-wide record.
	(sleep 1.5; exec "$WL/short_lived" 200) &
	BG_PIDS+=($!)
	bp "$T/short" record -d 4 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\tshort_lived_burn$' "$f.tab" && return 0
	if grep -q 'comm:\[short_lived\]' "$f.raw"; then
		fail "short_lived was sampled but short_lived_burn is not named (its frames: $(top_table "$f" -tagfocus=comm=short_lived | head -3 | cut -f3 | paste -sd,))"
	else
		fail "no samples of comm short_lived at all"
	fi
	return 1
}

case_no_kernel() {
	local f=$T/nokernel.pb.gz
	start_bg "$WL/cpu_split" 15
	sleep 0.3
	bp "$T/nokernel" record -d 3 --no-kernel -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	if has_kernel_frames "$f.raw"; then
		fail "kernel frames with --no-kernel: $(grep -m3 -E '0xffff[89a-f][0-9a-f]{11} (M=[0-9]+ )?[A-Za-z_]|kernel\.kallsyms' "$f.raw" | sed 's/^ *//' | paste -sd'|' | cut -c1-200)"
		return 1
	fi
	top_table "$f" -tagfocus=comm=cpu_split >"$f.tab"
	grep -qP '\tburn_a$' "$f.tab" || { fail "no burn_a: user frames missing too"; return 1; }
}

case_sigint() {
	local f=$T/sigint.pb.gz
	start_bg "$WL/cpu_split" 15
	( sleep 3; kill -INT "$(cat "$T/sigint.pid")" ) &
	BG_PIDS+=($!)
	bp "$T/sigint" record -d 30 -o "$f"
	expect_rc 0 || return 1
	awk -v s="$BP_SECS" 'BEGIN { exit !(s < 12) }' ||
		{ fail "SIGINT did not end the 30 s record early (took $BP_SECS s)"; return 1; }
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\tburn_a$' "$f.tab" || { fail "profile written on SIGINT lacks burn_a"; return 1; }
}

run_case "short-lived process (200 ms) in a system-wide record is named" case_short_lived
run_case "--no-kernel: no kernel frames" case_no_kernel
run_case "SIGINT ends a 30 s record early with a valid file, exit 0" case_sigint
finish
