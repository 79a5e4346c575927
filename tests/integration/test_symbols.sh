#!/usr/bin/env bash
# Symbolization: C++ demangling, stripped binary + .gnu_debuglink, and a static
# binary that only exists inside a chroot (read through /proc/PID/root).
. "$(dirname "$0")/lib.sh"
require_prereqs

case_cpp() {
	start_bg "$WL/cpp_work" 15
	local pid=$BG_PID f=$T/cpp.pb.gz
	sleep 0.3
	bp "$T/cpp" record -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	grep -q 'ns::Worker::crunch' "$f.top" ||
		{ fail "no ns::Worker::crunch in -top (top: $(top_table "$f" | head -3 | cut -f3 | paste -sd,))"; return 1; }
	grep -q 'ns::Accumulator<double>::add' "$f.top" ||
		{ fail "no ns::Accumulator<double>::add in -top"; return 1; }
	# Function names must be demangled (the mangled form may remain as the
	# system name, which -raw prints as "s=N(_ZN...)").
	if grep -q '_ZN2ns' "$f.top"; then
		fail "mangled names in -top: $(grep -oE '_ZN2ns[A-Za-z0-9_]*' "$f.top" | sort -u | head -3 | paste -sd' ')"
		return 1
	fi
}

case_debuglink() {
	local d=$T/strip f=$T/strip.pb.gz
	mkdir -p "$d"
	cp "$WL/cpu_split" "$d/cpu_split"
	if ! { objcopy --only-keep-debug "$d/cpu_split" "$d/cpu_split.debug" &&
		strip --strip-all "$d/cpu_split" &&
		objcopy --add-gnu-debuglink="$d/cpu_split.debug" "$d/cpu_split"; }; then
		fail "could not prepare the stripped binary"
		return 1
	fi
	if nm "$d/cpu_split" 2>/dev/null | grep -q burn_a || nm -D "$d/cpu_split" 2>/dev/null | grep -q burn_a; then
		fail "test setup: stripped binary still has a burn_a symbol"
		return 1
	fi
	(cd "$d" && exec ./cpu_split 15 >/dev/null 2>&1) &
	BG_PIDS+=($!)
	local pid=$!
	sleep 0.3
	bp "$T/strip" record -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\tburn_a$' "$f.tab" ||
		{ fail "burn_a not resolved via .gnu_debuglink (top: $(head -3 "$f.tab" | cut -f3 | paste -sd,))"; return 1; }
}

case_chroot() {
	local d=$T/root f=$T/chroot.pb.gz pid
	mkdir -p "$d"
	gcc -static -O2 -g -fno-omit-frame-pointer -o "$d/cpu_split" tests/workloads/cpu_split.c 2>"$T/gcc.err" ||
		{ fail "static build failed: $(head -c 200 "$T/gcc.err")"; return 1; }
	[ ! -e /cpu_split ] || { fail "test setup: /cpu_split exists on the host"; return 1; }
	start_bg chroot "$d" /cpu_split 15
	pid=$BG_PID
	wait_exe "$pid" || { fail "chrooted workload did not start"; return 1; }
	sleep 0.2
	bp "$T/chroot" record -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	grep -qP '\tburn_a$' "$f.tab" ||
		{ fail "burn_a not resolved for a binary inside a chroot (top: $(head -3 "$f.tab" | cut -f3 | paste -sd,))"; return 1; }
	reaches_main "$f" || return 1
}

run_case "C++ names are demangled (ns::Worker::crunch)" case_cpp
run_case "stripped binary resolves burn_a through .gnu_debuglink" case_debuglink
run_case "static binary in a chroot resolves burn_a via /proc/PID/root" case_chroot
finish
