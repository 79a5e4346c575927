#!/usr/bin/env bash
# cpu_split (burn_a 3x burn_b) profiled by PID, as a command, system-wide and
# as folded stacks. Never two CPU burners at once: the split is measured.
. "$(dirname "$0")/lib.sh"
require_prereqs

case_pid() {
	start_bg "$WL/cpu_split" 15
	local pid=$BG_PID f=$T/pid.pb.gz
	sleep 0.3
	bp "$T/pid" record -p "$pid" -d 4 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	ratio_check "$f.tab" || return 1
	reaches_main "$f" || return 1
	# -p keeps only the workload's samples.
	local others
	others=$(grep -oE 'pid:\[[0-9]+\]' "$f.raw" | sort -u | grep -vx "pid:\[$pid\]" | head -3 | paste -sd' ')
	[ -z "$others" ] || { fail "samples of other PIDs than $pid: $others"; return 1; }
	# The stderr summary names the top functions with their share.
	grep -qE 'burn_a.*[0-9]+(\.[0-9]+)? ?%|[0-9]+(\.[0-9]+)? ?%.*burn_a' "$BP_ERR" ||
		{ fail "stderr summary has no 'burn_a ... NN%' line"; return 1; }
}

case_command() {
	local f=$T/cmd.pb.gz
	bp "$T/cmd" record -o "$f" -- "$WL/cpu_split" 4
	expect_rc 0 || return 1
	awk -v s="$BP_SECS" 'BEGIN { exit !(s < 9) }' ||
		{ fail "took $BP_SECS s for a 4 s command: recording did not end when the command exited"; return 1; }
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	ratio_check "$f.tab" || return 1
	reaches_main "$f" || return 1
}

SYS=$T/sys.pb.gz
case_system() {
	start_bg "$WL/cpu_split" 15
	sleep 0.3
	bp "$T/sys" record -d 4 -o "$SYS"
	expect_rc 0 || return 1
	check_pprof "$SYS" || return 1
	top_table "$SYS" -tagfocus=comm=cpu_split >"$SYS.tab"
	ratio_check "$SYS.tab" || return 1
	reaches_main "$SYS" -tagfocus=comm=cpu_split || return 1
	local ncomm
	ncomm=$(grep -oE 'comm:\[[^]]*\]' "$SYS.raw" | sort -u | wc -l)
	[ "$ncomm" -ge 2 ] || { fail "system-wide profile has samples of $ncomm comm(s) only"; return 1; }
}

case_kernel() {
	[ -s "$SYS.raw" ] || { fail "no system-wide profile (previous case failed)"; return 1; }
	has_kernel_frames "$SYS.raw" || { fail "no [kernel.kallsyms] mapping or kernel address in the system-wide profile"; return 1; }
	grep -qE '^ +[0-9]+: 0xffff[0-9a-f]+ M=[0-9]+ [A-Za-z_]' "$SYS.raw" ||
		{ fail "kernel locations are not symbolized"; return 1; }
}

case_folded() {
	start_bg "$WL/cpu_split" 15
	local pid=$BG_PID f=$T/folded.txt bad
	sleep 0.3
	bp "$T/folded" record -p "$pid" -d 3 --format folded -o "$f"
	expect_rc 0 || return 1
	[ -s "$f" ] || { fail "folded output missing or empty"; return 1; }
	bad=$(grep -cvE '^[^;]+(;[^;]+)* [0-9]+$' "$f")
	[ "$bad" -eq 0 ] || { fail "$bad malformed line(s), e.g. '$(grep -m1 -vE '^[^;]+(;[^;]+)* [0-9]+$' "$f" | cut -c1-200)'"; return 1; }
	grep -qE '^cpu_split;(.*;)?main;(.*;)?burn_a( |;)' "$f" ||
		{ fail "no 'cpu_split;...;main;...;burn_a' line (first: $(head -1 "$f" | cut -c1-200))"; return 1; }
	grep -qE '^cpu_split;(.*;)?main;(.*;)?burn_b( |;)' "$f" ||
		{ fail "no 'cpu_split;...;main;...;burn_b' line"; return 1; }
	# The same 3:1 split, from the folded counts.
	local a b
	a=$(awk '/;burn_a( |;)/ { s += $NF } END { print s + 0 }' "$f")
	b=$(awk '/;burn_b( |;)/ { s += $NF } END { print s + 0 }' "$f")
	awk -v a="$a" -v b="$b" 'BEGIN { s = a + b ? 100 * a / (a + b) : 0; exit !(s >= 65 && s <= 85) }' ||
		{ fail "folded burn_a:burn_b = $a:$b, want 3:1 within 10 points"; return 1; }
}

run_case "record -p PID: burn_a:burn_b is 3:1 and stacks reach main" case_pid
run_case "record -- COMMAND: burn_a:burn_b is 3:1, ends with the command" case_command
run_case "record system-wide: cpu_split's burn_a:burn_b is 3:1" case_system
run_case "record system-wide: kernel frames present" case_kernel
run_case "record --format folded: well-formed lines reaching main" case_folded
finish
