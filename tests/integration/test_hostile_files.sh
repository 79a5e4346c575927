#!/usr/bin/env bash
# Files a local user controls, crafted to stall or bloat the root agent: a
# stripped binary whose .gnu_debuglink target is a symlink to /dev/zero or a
# FIFO (beside it, or under /usr/lib/debug), and a JIT-like process whose
# /tmp/perf-PID.map is a 1 GiB sparse file, a FIFO or empty. The real agent
# (`record -p PID -d 3`, then `serve`) must keep sampling the process, stay
# under an RSS bound (VmHWM), end on time and report the refused file.
#
# Knobs: BPFPROF (build/asan/bpfprof works), ASAN_BPFPROF (the empty-map case,
# default build/asan/bpfprof), ONLY, KEEP_TMP (see lib.sh).
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs

# A normal `record -p` peaks near 30 MiB (ASan build: ~100 MiB); reading the
# sparse perf map whole took 1 GiB.
RSS_MAX_KIB=$((256 * 1024))
# -d 3 plus setup takes a few seconds; a debuglink to /dev/zero or a FIFO
# never ended.
export BP_TIMEOUT=40
DBG_DIRS=()
trap '_hf_rc=$?; rm -rf "${DBG_DIRS[@]}"; rmdir "/usr/lib/debug${T%/*}" 2>/dev/null
	_serve_cleanup; (exit $_hf_rc); _cleanup' EXIT

# stripped_copy DIR: a stripped cpu_split in DIR with a .gnu_debuglink to
# cpu_split.debug (CRC of the real debug file), which is then removed.
stripped_copy() {
	local d=$1
	mkdir -p "$d"
	cp "$WL/cpu_split" "$d/cpu_split" &&
		objcopy --only-keep-debug "$d/cpu_split" "$d/cpu_split.debug" &&
		strip --strip-all "$d/cpu_split" &&
		objcopy --add-gnu-debuglink="$d/cpu_split.debug" "$d/cpu_split" &&
		rm "$d/cpu_split.debug" ||
		{ fail "could not prepare the stripped binary in $d"; return 1; }
}

# The JIT-like workload: a loop copied into an anonymous executable mapping,
# so its samples are resolved through /tmp/perf-PID.map.
build_jit() {
	[ -x "$T/jit" ] && return 0
	[ "$(uname -m)" = x86_64 ] || { fail "the JIT workload is x86-64 machine code"; return 1; }
	cat >"$T/jit.c" <<-'EOF'
	#include <stdlib.h>
	#include <string.h>
	#include <sys/mman.h>
	#include <time.h>
	/* mov $0x1000000,%ecx; 1: dec %ecx; jnz 1b; ret */
	static const unsigned char loop[] = {0xb9, 0, 0, 0, 1, 0xff, 0xc9, 0x75, 0xfc, 0xc3};
	int main(int argc, char **argv)
	{
		time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 15);
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		memcpy(p, loop, sizeof(loop));
		while (time(NULL) < end)
			((void (*)(void))p)();
		return 0;
	}
	EOF
	gcc -static -O1 -fno-omit-frame-pointer -o "$T/jit" "$T/jit.c" 2>"$T/jit.err" ||
		{ fail "jit workload build failed: $(head -c 200 "$T/jit.err")"; return 1; }
}

# n_samples FILE: the sample count go tool pprof -raw reads from FILE.
n_samples() {
	pp -raw "$1" 2>/dev/null | awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
		s && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }'
}

# hwm_watch PREFIX: follows the agent that bp starts (the child of the
# `timeout` whose PID bp writes to PREFIX.pid) and keeps its VmHWM (KiB) in
# PREFIX.hwm until it exits. (Wrapping it in /usr/bin/time would leave a hung
# agent behind: timeout's SIGKILL reaches only its own child.)
hwm_watch() {
	local prefix=$1 tp= ap= v i
	for i in $(seq 200); do
		[ -s "$prefix.pid" ] && break
		sleep 0.05
	done
	tp=$(cat "$prefix.pid" 2>/dev/null)
	[ -n "$tp" ] || return 0
	while kill -0 "$tp" 2>/dev/null; do
		[ -n "$ap" ] || ap=$(pgrep -P "$tp" | head -1)
		v=$(awk '/^VmHWM:/ { print $2 }' /proc/"$ap"/status 2>/dev/null)
		[ -z "$v" ] || echo "$v" >"$prefix.hwm"
		sleep 0.1
	done
}

# record_hostile NAME PID REFUSED_REGEX: `record -p PID -d 3`; checks the
# exit, the timeout, samples of PID, the peak RSS and that stderr names the
# refusal.
record_hostile() {
	local name=$1 pid=$2 refused=$3 f=$T/$1.pb.gz rss n w
	rm -f "$T/$name.pid" "$T/$name.hwm"
	hwm_watch "$T/$name" &
	w=$!
	bp "$T/$name" record -p "$pid" -d 3 -o "$f"
	wait "$w"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	n=$(n_samples "$f")
	[ "$n" -gt 0 ] || { fail "no samples of PID $pid in the profile"; return 1; }
	rss=$(cat "$T/$name.hwm" 2>/dev/null)
	[ -n "$rss" ] && [ "$rss" -lt "$RSS_MAX_KIB" ] ||
		{ fail "agent VmHWM ${rss:-?} KiB, want < $RSS_MAX_KIB"; return 1; }
	grep -qE "refused .*$refused" "$BP_ERR" ||
		{ fail "no refusal matching '$refused' on stderr: $(grep 'refused' "$BP_ERR" | head -2 | tr '\n' '|')"; return 1; }
	grep -qE 'files refused' "$BP_ERR" && ! grep -qE '; 0 files refused' "$BP_ERR" ||
		{ fail "summary does not count the refused file"; return 1; }
}

# debuglink_case NAME MAKE_TARGET [under_root]: MAKE_TARGET is "ln -s
# /dev/zero" or "mkfifo", run as MAKE_TARGET PATH.
debuglink_case() {
	local name=$1 mk=$2 where=${3:-beside} d=$T/$1 target pid
	stripped_copy "$d" || return 1
	if [ "$where" = under_root ]; then
		# /usr/lib/debug<dir>/<debuglink>, as gdb looks it up.
		DBG_DIRS+=("/usr/lib/debug$T")
		mkdir -p "/usr/lib/debug$d"
		target=/usr/lib/debug$d/cpu_split.debug
	else
		target=$d/cpu_split.debug
	fi
	$mk "$target" || { fail "could not create $target"; return 1; }
	(cd "$d" && exec ./cpu_split 20 >/dev/null 2>&1) &
	pid=$!
	BG_PIDS+=("$pid")
	sleep 0.3
	record_hostile "$name" "$pid" "cpu_split.debug: (not a regular file|symlink not followed)"
}

case_dbg_zero() { debuglink_case dbg_zero "ln -s /dev/zero"; }
case_dbg_fifo() { debuglink_case dbg_fifo mkfifo; }
case_dbg_zero_root() { debuglink_case dbg_zero_root "ln -s /dev/zero" under_root; }
case_dbg_fifo_root() { debuglink_case dbg_fifo_root mkfifo under_root; }

# perfmap_case NAME MAKE: MAKE creates /tmp/perf-PID.map ($1 is its path).
perfmap_case() {
	local name=$1 mk=$2 pid map
	build_jit || return 1
	start_bg "$T/jit" 20
	pid=$BG_PID
	map=/tmp/perf-$pid.map
	DBG_DIRS+=("$map")
	$mk "$map" || { fail "could not create $map"; return 1; }
	sleep 0.3
	record_hostile "$name" "$pid" "perf-$pid.map: $3"
}

mk_sparse() { truncate -s 1G "$1"; }
mk_empty() { : >"$1"; }

case_perfmap_sparse() { perfmap_case perfmap_sparse mk_sparse "larger than its cap"; }
case_perfmap_fifo() { perfmap_case perfmap_fifo mkfifo "not a regular file"; }

# An empty map is a valid map: nothing refused, nothing undefined (UBSan
# flagged qsort(NULL, 0) in the ASan build). Checked with the ASan build.
case_perfmap_empty() {
	local pid map f=$T/perfmap_empty.pb.gz bin=${ASAN_BPFPROF:-$ROOT/build/asan/bpfprof} save=$BPFPROF
	[ -x "$bin" ] || { fail "$bin not built"; return 1; }
	build_jit || return 1
	start_bg "$T/jit" 20
	pid=$BG_PID
	map=/tmp/perf-$pid.map
	DBG_DIRS+=("$map")
	: >"$map"
	sleep 0.3
	BPFPROF=$bin
	bp "$T/perfmap_empty" record -p "$pid" -d 3 -o "$f"
	BPFPROF=$save
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
}

# chroot_jit NAME TMP_SETUP: the JIT workload chrooted in $T/NAME, whose
# /tmp is made by TMP_SETUP ROOT; its perf map "START 1000 NAME_fn" is
# written where /tmp leads from the host's point of view. Records it and
# sets F (the profile).
chroot_jit() {
	local name=$1 r=$T/$1 pid
	build_jit || return 1
	mkdir -p "$r"
	cp "$T/jit" "$r/jit"
	$2 "$r"
	start_bg chroot "$r" /jit 20
	pid=$BG_PID
	wait_exe "$pid" || { fail "chrooted workload did not start"; return 1; }
	local start
	start=$(awk '$2 ~ /x/ && $6 == "" { split($1, a, "-"); print a[1]; exit }' /proc/"$pid"/maps)
	[ -n "$start" ] || { fail "no anonymous executable mapping in the JIT workload"; return 1; }
	[ ! -e "/tmp/perf-$pid.map" ] || { fail "test setup: /tmp/perf-$pid.map exists on the host"; return 1; }
	echo "$start 1000 ${name}_fn" >"$(readlink -f "$r/tmp")/perf-$pid.map"
	F=$T/$name.pb.gz
	bp "$T/$name" record -p "$pid" -d 3 -o "$F"
	expect_rc 0 || return 1
	check_pprof "$F" || return 1
}

tmp_dir() { mkdir -p "$1/tmp"; }
tmp_link_out() { mkdir -p "$T/hostdir" && ln -s "$T/hostdir" "$1/tmp"; }

# The control: a perf map inside the chroot is read (through its root).
case_chroot_perfmap() {
	chroot_jit jit_inside tmp_dir || return 1
	grep -q 'jit_inside_fn' "$F.top" ||
		{ fail "jit_inside_fn not in the profile (top: $(head -12 "$F.top" | tail -4 | tr '\n' '|'))"; return 1; }
}

# /tmp in the chroot is a symlink to a host directory: the map there is
# outside the process's root and must not be read.
case_chroot_escape() {
	chroot_jit jit_escape tmp_link_out || return 1
	if grep -q 'jit_escape_fn' "$F.top" "$F.raw"; then
		fail "the perf map behind a symlink out of the process's root was read"
		return 1
	fi
	[ "$(n_samples "$F")" -gt 0 ] || { fail "no samples"; return 1; }
}

# serve: all the hostile processes at once; the daemon keeps serving, counts
# the refusals in /metrics, and stays under the RSS bound.
case_serve() {
	local d=$T/sv pid_z pid_j pid map m=$T/serve.metrics hwm n
	stripped_copy "$d" || return 1
	ln -s /dev/zero "$d/cpu_split.debug"
	(cd "$d" && exec ./cpu_split 20 >/dev/null 2>&1) &
	pid_z=$!
	BG_PIDS+=("$pid_z")
	build_jit || return 1
	start_bg "$T/jit" 20
	pid_j=$BG_PID
	map=/tmp/perf-$pid_j.map
	DBG_DIRS+=("$map")
	mkfifo "$map"
	serve_start hostile_serve --window 2 || return 1
	for pid in "$pid_z" "$pid_j"; do
		req "$SV_URL/debug/pprof/profile?seconds=3&pid=$pid"
		[ "$CODE" = 200 ] || { fail "profile of PID $pid: HTTP $CODE $(head -c 200 "$BODY")"; break; }
		n=$(n_samples "$BODY")
		[ "$n" -gt 0 ] || { fail "no samples of PID $pid in the live profile"; break; }
	done
	[ -z "$REASON" ] || { serve_stop "$SV_PID"; return 1; }
	req "$SV_URL/metrics"
	cp "$BODY" "$m"
	hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$SV_PID"/status)
	serve_stop "$SV_PID" || return 1
	[ "$CODE" = 200 ] || { fail "/metrics: $CODE"; return 1; }
	promtool check metrics <"$m" >"$T/promtool.out" 2>&1 ||
		{ fail "promtool check metrics: $(head -3 "$T/promtool.out" | tr '\n' '|')"; return 1; }
	n=$(awk '/^bpfprof_files_refused_total\{reason="(not_regular|symlink)"\}/ { n += $2 } END { print n + 0 }' "$m")
	[ "$n" -ge 2 ] ||
		{ fail "bpfprof_files_refused_total counts $n refusals, want >= 2: $(grep files_refused "$m" | tr '\n' '|')"; return 1; }
	[ -n "$hwm" ] && [ "$hwm" -lt "$RSS_MAX_KIB" ] ||
		{ fail "serve VmHWM ${hwm:-?} KiB, want < $RSS_MAX_KIB"; return 1; }
	grep -q "refused .*perf-$pid_j.map: not a regular file" "$SV_ERR" ||
		{ fail "serve log does not name the FIFO perf map"; return 1; }
}

run_case "record: debuglink beside the binary -> /dev/zero" case_dbg_zero
run_case "record: debuglink beside the binary is a FIFO" case_dbg_fifo
run_case "record: debuglink under /usr/lib/debug -> /dev/zero" case_dbg_zero_root
run_case "record: debuglink under /usr/lib/debug is a FIFO" case_dbg_fifo_root
run_case "record: 1 GiB sparse /tmp/perf-PID.map" case_perfmap_sparse
run_case "record: FIFO /tmp/perf-PID.map" case_perfmap_fifo
run_case "record (ASan): empty /tmp/perf-PID.map" case_perfmap_empty
run_case "record: perf map inside a chroot is read" case_chroot_perfmap
run_case "record: perf map behind a /tmp symlink out of a chroot is not read" case_chroot_escape
run_case "serve: debuglink -> /dev/zero and FIFO perf map, refusals in /metrics" case_serve
finish
