#!/usr/bin/env bash
# Bad input and runtime errors: exit 2 for usage, 1 for runtime errors, each
# with a one-line "bpfprof: " message; a PID exiting mid-run is not an error.
. "$(dirname "$0")/lib.sh"
require_prereqs

# usage_case ARGS...: must exit 2 quickly, with a message, and write nothing.
usage_case() {
	local n=$RANDOM
	local f=$T/usage.$n.pb.gz
	BP_TIMEOUT=20 bp "$T/usage.$n" record -o "$f" "$@"
	expect_error 2 || return 1
	[ ! -e "$f" ] || { fail "wrote $f despite the usage error"; return 1; }
}

case_unknown_pid() {
	local pid=999999
	while [ -e "/proc/$pid" ]; do pid=$((pid + 1)); done
	BP_TIMEOUT=20 bp "$T/nopid" record -p "$pid" -d 2 -o "$T/nopid.pb.gz"
	expect_error 1 || return 1
	grep -q "$pid" "$BP_ERR" || { fail "message does not name PID $pid: $(grep -m1 '^bpfprof: ' "$BP_ERR")"; return 1; }
}

case_pid_exits() {
	local f=$T/exits.pb.gz pid
	start_reaped "$WL/exit_after" 1500 usr1
	pid=$BG_PID
	wait_exe "$pid"
	on_attach "$T/exits" kill -USR1 "$pid"
	bp "$T/exits" record -p "$pid" -d 4 -o "$f"
	expect_rc 0 || return 1
	[ ! -e "/proc/$pid" ] || { fail "test setup: PID $pid still alive after the record"; return 1; }
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\texiting_burn$' "$f.tab" ||
		{ fail "samples of the exited PID lost or unnamed (top: $(head -3 "$f.tab" | cut -f3 | paste -sd,))"; return 1; }
}

# Several PIDs (comma list and repeated -p), one exits 1 s after the probes
# are attached: the record runs its full -d and keeps the samples of all.
case_pid_exits_among_others() {
	local f=$T/multi.pb.gz a b c pids
	start_reaped "$WL/exit_after" 1000 usr1
	a=$BG_PID
	start_bg "$WL/cpu_split" 15
	b=$BG_PID
	start_bg sleep 30
	c=$BG_PID
	wait_exe "$a"
	on_attach "$T/multi" kill -USR1 "$a"
	bp "$T/multi" record -p "$a,$b" -p "$c" -d 3 -o "$f"
	expect_rc 0 || return 1
	awk -v s="$BP_SECS" 'BEGIN { exit !(s >= 2.8) }' ||
		{ fail "ended after $BP_SECS s of -d 3 although PID $b was still running"; return 1; }
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\texiting_burn$' "$f.tab" || { fail "samples of the exited PID $a lost"; return 1; }
	grep -qP '\tburn_a$' "$f.tab" || { fail "samples of PID $b missing"; return 1; }
	pids=$(grep -oE 'pid:\[[0-9]+\]' "$f.raw" | sort -u | grep -vxE "pid:\[($a|$b|$c)\]" | head -3 | paste -sd' ')
	[ -z "$pids" ] || { fail "samples of PIDs not asked for: $pids"; return 1; }
}

case_unwritable() {
	BP_TIMEOUT=30 bp "$T/unwritable" record -d 1 -o /nonexistent/dir/x.pb.gz
	expect_error 1 || return 1
}

case_not_root() {
	mkdir -p "$T/nobody"
	chmod 1777 "$T/nobody"
	BP_WRAP=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	BP_TIMEOUT=20 bp "$T/nobody/run" record -d 1 -o "$T/nobody/x.pb.gz"
	BP_WRAP=()
	expect_error 1 || return 1
}

run_case "unknown PID: exit 1 with a message" case_unknown_pid
run_case "PID exits mid-run: exit 0, its samples kept" case_pid_exits
run_case "PID exits mid-run among others (-p A,B -p C): full duration, all kept" case_pid_exits_among_others
run_case "-F 0: exit 2" usage_case -F 0 -d 1
run_case "-d -1: exit 2" usage_case -d -1
run_case "-d abc: exit 2" usage_case -d abc
run_case "-F abc: exit 2" usage_case -F abc -d 1
run_case "unknown flag: exit 2" usage_case --bogus-flag -d 1
run_case "--format xml: exit 2" usage_case --format xml -d 1
run_case "unwritable output path: exit 1" case_unwritable
run_case "not root: exit 1" case_not_root
finish
