#!/usr/bin/env bash
# Off-CPU, wall and mutex profiles: `record -t offcpu|wall|mutex` and the
# daemon's /debug/pprof/block and /debug/pprof/mutex, on workloads with known
# behaviour (offcpu_sleep: sleep_here 20 ms / compute_here 10 ms CPU per
# round; mutex_contend: threads holding one mutex across a 1 ms sleep), with
# the tp_btf program and its raw_tp fallback, user stacks of both built
# without frame pointers (.eh_frame unwinding against the frame-pointer
# walk), and bad parameters.
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done

# The workloads again, built as distributions build: without frame pointers.
NOFP_SLEEP=$T/offcpu_sleep_nofp
NOFP_MUTEX=$T/mutex_contend_nofp
if ! gcc -O2 -g -fomit-frame-pointer -Wall -o "$NOFP_SLEEP" tests/workloads/offcpu_sleep.c ||
	! gcc -O2 -g -fomit-frame-pointer -Wall -o "$NOFP_MUTEX" tests/workloads/mutex_contend.c -lpthread; then
	echo "not ok - prerequisites: cannot build the -fomit-frame-pointer workloads"
	exit 1
fi

# share TABLE NAME_REGEX: cum% of the matching function(s) (top_table).
share() {
	col "$1" "$2" cum
}

# types_are RAWFILE WANT: the sample types line of `go tool pprof -raw`.
types_are() {
	local got
	got=$(awk '/^Samples:/ { getline; print; exit }' "$1" | xargs)
	[ "$got" = "$2" ] || { fail "sample types '$got', want '$2'"; return 1; }
}

# sleep_profile_ok FILE: >= 90 % of the delay has sleep_here on its stack,
# with the kernel frames of a nanosleep.
sleep_profile_ok() {
	local f=$1 s
	check_pprof "$f" || return 1
	types_are "$f.raw" "contentions/count delay/nanoseconds[dflt]" || return 1
	top_table "$f" >"$f.tab"
	s=$(share "$f.tab" '^sleep_here$')
	awk -v s="$s" 'BEGIN { exit !(s >= 90) }' ||
		{ fail "sleep_here has $s% of the blocked time, want >= 90% (top: $(sort -t$'\t' -k2 -gr "$f.tab" | head -8 | awk -F'\t' '{printf "%s %s%%, ", $3, $2}'))"; return 1; }
	for k in do_nanosleep hrtimer_nanosleep schedule; do
		grep -qP "\t$k\$" "$f.tab" || { fail "kernel frame $k missing"; return 1; }
	done
	# The stacks below sleep_here reach main; no BPF or tracepoint frames.
	awk -v s="$(share "$f.tab" '^main$')" 'BEGIN { exit !(s >= 90) }' ||
		{ fail "main is on only $(share "$f.tab" '^main$')% of the stacks"; return 1; }
	! grep -qE $'\t(bpf_prog_|bpf_trace_run|__bpf_trace)' "$f.tab" ||
		{ fail "BPF/tracepoint frames left on kernel stacks"; return 1; }
}

case_offcpu_pid() {
	start_bg "$WL/offcpu_sleep" 15
	local pid=$BG_PID f=$T/off.pb.gz
	sleep 0.3
	bp "$T/off" record -t offcpu -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	grep -q 'sched_switch via tp_btf' "$BP_ERR" || { fail "summary does not say tp_btf: $(grep -m1 'via' "$BP_ERR")"; return 1; }
	sleep_profile_ok "$f" || return 1
	grep -qE 'top functions by own off-CPU time' "$BP_ERR" || { fail "no off-CPU top list"; return 1; }
}

case_offcpu_raw_tp() {
	start_bg "$WL/offcpu_sleep" 15
	local pid=$BG_PID f=$T/raw.pb.gz
	sleep 0.3
	BP_WRAP=(env BPFPROF_TEST_FORCE_RAW_TP=1)
	bp "$T/raw" record -t offcpu -p "$pid" -d 3 -o "$f"
	BP_WRAP=()
	expect_rc 0 || return 1
	grep -q 'sched_switch via raw_tp' "$BP_ERR" || { fail "summary does not say raw_tp: $(grep -m1 'via' "$BP_ERR")"; return 1; }
	sleep_profile_ok "$f" || return 1
}

case_min_block() {
	start_bg "$WL/offcpu_sleep" 15
	local pid=$BG_PID f=$T/minb.pb.gz total
	sleep 0.3
	# Every sleep is 20 ms: a 50 ms minimum leaves nothing.
	bp "$T/minb" record -t offcpu -p "$pid" -d 2 --min-block-us 50000 -o "$f"
	expect_rc 0 || return 1
	grep -qE ' 0 off-CPU periods' "$BP_ERR" || { fail "periods counted above a 50 ms minimum: $(head -1 "$BP_ERR")"; return 1; }
	grep -qE '[1-9][0-9]* periods under 50000 us' "$BP_ERR" || { fail "short periods not reported: $(sed -n 2p "$BP_ERR")"; return 1; }
	check_pprof "$f" || return 1
}

case_wall() {
	local f=$T/wall.pb.gz sl co want got
	bp "$T/wall" record -t wall -o "$f" -- "$WL/offcpu_sleep" 4
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	types_are "$f.raw" "wall/nanoseconds[dflt]" || return 1
	top_table "$f" >"$f.tab"
	sl=$(share "$f.tab" '^sleep_here$')
	co=$(share "$f.tab" '^compute_here$')
	# The workload measured its own split; the profile must match it within 10 points.
	want=$(sed -nE 's/^sleep_ns=([0-9]+) compute_ns=([0-9]+)$/\1 \2/p' "$BP_OUT" |
		awk '{ printf "%.1f", 100 * $1 / ($1 + $2) }')
	[ -n "$want" ] || { fail "workload printed no measurement"; return 1; }
	got=$(awk -v a="$sl" -v b="$co" 'BEGIN { if (a + b > 0) printf "%.1f", 100 * a / (a + b); else print 0 }')
	awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 10) }' ||
		{ fail "sleep_here:compute_here is $got% sleeping (sleep_here $sl%, compute_here $co%), the workload measured $want%"; return 1; }
	awk -v a="$sl" -v b="$co" 'BEGIN { exit !(a + b >= 90) }' ||
		{ fail "sleep_here + compute_here cover only $sl% + $co% of the wall time"; return 1; }
}

MUTEX_TOTAL=
case_mutex_contended() {
	start_bg "$WL/mutex_contend" 15 contended 4
	local pid=$BG_PID f=$T/mutex.pb.gz lw top
	sleep 0.3
	bp "$T/mutex" record -t mutex -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	types_are "$f.raw" "contentions/count delay/nanoseconds[dflt]" || return 1
	top_table "$f" >"$f.tab"
	lw=$(share "$f.tab" '^locked_work$')
	awk -v s="$lw" 'BEGIN { exit !(s >= 90) }' ||
		{ fail "locked_work (the lock's caller) has $lw% of the futex wait time, want >= 90% (top: $(sort -t$'\t' -k2 -gr "$f.tab" | head -6 | awk -F'\t' '{printf "%s %s%%, ", $3, $2}'))"; return 1; }
	# The caller outranks every other function of the workload by wait time.
	top=$(sort -t$'\t' -k2 -gr "$f.tab" | cut -f3 | grep -E '^(locked_work|worker|main|sleep_us)$' | head -1)
	[ "$top" = locked_work ] || [ "$top" = worker ] ||
		{ fail "top workload function is '$top'"; return 1; }
	grep -qE $'\t(__lll_lock_wait|__GI___lll_lock_wait|pthread_mutex_lock|___pthread_mutex_lock)$' "$f.tab" ||
		{ fail "no libc lock frame under locked_work"; return 1; }
	! grep -qE $'\t(schedule|__schedule|futex_wait)$' "$f.tab" || { fail "kernel frames in a mutex profile"; return 1; }
	MUTEX_TOTAL=$(pp -raw "$f" 2>/dev/null | awk '/^Samples:/ { s = 1; getline; next } s && /^ +[0-9]+ +[0-9]+:/ { t += $2 } END { print t + 0 }')
	awk -v t="$MUTEX_TOTAL" 'BEGIN { exit !(t > 1e9) }' ||
		{ fail "contended run waited only $MUTEX_TOTAL ns in futex in 3 s"; return 1; }
}

case_mutex_uncontended() {
	start_bg "$WL/mutex_contend" 15 uncontended 4
	local pid=$BG_PID f=$T/unmutex.pb.gz total
	sleep 0.3
	bp "$T/unmutex" record -t mutex -p "$pid" -d 3 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	total=$(pp -raw "$f" 2>/dev/null | awk '/^Samples:/ { s = 1; getline; next } s && /^ +[0-9]+ +[0-9]+:/ { t += $2 } END { print t + 0 }')
	# Almost nothing: under 1 % of the contended run's wait (or 10 ms).
	awk -v t="$total" -v c="${MUTEX_TOTAL:-0}" 'BEGIN { exit !(t <= 1e7 || (c > 0 && t <= c / 100)) }' ||
		{ fail "uncontended run waited $total ns in futex (contended: ${MUTEX_TOTAL:-?} ns)"; return 1; }
}

case_folded() {
	start_bg "$WL/offcpu_sleep" 15
	local pid=$BG_PID f=$T/off.folded bad
	sleep 0.3
	bp "$T/folded" record -t offcpu -p "$pid" -d 2 --format folded -o "$f"
	expect_rc 0 || return 1
	[ -s "$f" ] || { fail "folded output missing or empty"; return 1; }
	bad=$(grep -cvE '^[^;]+(;[^;]+)* [0-9]+$' "$f")
	[ "$bad" -eq 0 ] || { fail "$bad malformed folded line(s)"; return 1; }
	grep -qE '^offcpu_sleep;(.*;)?main;(.*;)?sleep_here;(.*;)?do_nanosleep' "$f" ||
		{ fail "no 'offcpu_sleep;...main;sleep_here;...do_nanosleep' line (first: $(head -1 "$f" | cut -c1-200))"; return 1; }
	# Values are nanoseconds of delay: 2 s of ~2/3 sleeping is > 0.5 s.
	awk '{ s += $NF } END { exit !(s > 5e8) }' "$f" || { fail "folded delay sums to $(awk '{ s += $NF } END { print s }' "$f") ns"; return 1; }
}

case_system() {
	local f=$T/sysoff.pb.gz n
	bp "$T/sysoff" record -t offcpu -d 2 -o "$f"
	expect_rc 0 || return 1
	check_pprof "$f" || return 1
	n=$(grep -oE 'comm:\[[^]]*\]' "$f.raw" | sort -u | wc -l)
	[ "$n" -ge 2 ] || { fail "whole-system off-CPU profile has $n comm(s)"; return 1; }
}

# usage_err WANT_REGEX ARGS...: exit 2 with a message matching the regex, no output.
usage_err() {
	local re=$1 n=$RANDOM
	shift
	BP_TIMEOUT=20 bp "$T/usage.$n" record -o "$T/usage.$n.pb.gz" "$@"
	expect_error 2 || return 1
	grep -qE -- "$re" "$BP_ERR" || { fail "'$*': message '$(grep -m1 '^bpfprof: ' "$BP_ERR")' does not match /$re/"; return 1; }
	[ ! -e "$T/usage.$n.pb.gz" ] || { fail "'$*' wrote output"; return 1; }
}

case_bad_params() {
	usage_err "invalid minimum block time '-1'" -t offcpu --min-block-us -1 -d 1 || return 1
	usage_err "invalid minimum block time 'abc'" -t offcpu --min-block-us abc -d 1 || return 1
	# The list of types grows (heap): only the exit code and the bad type are checked.
	usage_err "type.*'nope'" -t nope || return 1
	usage_err "-t wall needs -p PID or a command" -t wall -d 1 || return 1
	usage_err "--min-block-us applies to" --min-block-us 5 -d 1 || return 1
	local pid=999999
	while [ -e "/proc/$pid" ]; do pid=$((pid + 1)); done
	BP_TIMEOUT=20 bp "$T/nopid" record -t offcpu -p "$pid" -d 1 -o "$T/nopid.pb.gz"
	expect_error 1 || return 1
}

# folded_share FOLDED REGEX: % of the folded values (delay ns) on stacks
# matching REGEX (matched against ";frame;...;frame;", comm first).
folded_share() {
	awk -v re="$2" '{ n = $NF; s = ";" substr($0, 1, length($0) - length($NF) - 1) ";"
		t += n; if (s ~ re) ok += n }
		END { printf "%.1f", t ? 100 * ok / t : 0 }' "$1"
}

# at_least NAME SHARE MIN: SHARE >= MIN, else fail naming NAME.
at_least() {
	awk -v s="$2" -v m="$3" 'BEGIN { exit !(s >= m) }' ||
		{ fail "$1: $2%, want >= $3% ($(grep -m1 'unwind:' "$BP_ERR"))"; return 1; }
}

ENTRY_RE=';(main|_start|__libc_start_call_main|__libc_start_main|start_thread);'

# Both recordings of one process, frame pointers first, then .eh_frame: NAME.fp.folded, NAME.folded.
record_both() {
	local name=$1 pid=$2
	shift 2
	bp "$T/$name.fp" record -p "$pid" -d 2 --unwind fp --format folded -o "$T/$name.fp.folded" "$@"
	expect_rc 0 || return 1
	bp "$T/$name" record -p "$pid" -d 3 --format folded -o "$T/$name.folded" "$@"
	expect_rc 0 || return 1
	grep -q 'unwind: [0-9]* stacks complete' "$BP_ERR" || { fail "no unwind summary line"; return 1; }
}

case_offcpu_omit_fp() {
	start_bg "$NOFP_SLEEP" 15
	local pid=$BG_PID dw fp sl
	sleep 0.3
	record_both nofp "$pid" -t offcpu || return 1
	fp=$(folded_share "$T/nofp.fp.folded" "$ENTRY_RE")
	dw=$(folded_share "$T/nofp.folded" "$ENTRY_RE")
	sl=$(folded_share "$T/nofp.folded" ';main;sleep_here;(__nanosleep|nanosleep|__GI___nanosleep);')
	echo "# offcpu, -O2 -fomit-frame-pointer: blocked time reaching main/entry: .eh_frame $dw%, frame pointers $fp%; main;sleep_here;nanosleep $sl%"
	at_least "blocked time with a user stack reaching main" "$dw" 90 || return 1
	at_least "blocked time under main;sleep_here;nanosleep" "$sl" 90
}

case_mutex_omit_fp() {
	start_bg "$NOFP_MUTEX" 15 contended 4
	local pid=$BG_PID re dw fp
	sleep 0.3
	record_both nofpmutex "$pid" -t mutex || return 1
	# From the futex wait in glibc (no frame pointers), through its lock, to the caller and on.
	re=';start_thread;worker;locked_work;([^;]*;)*(__GI___lll_lock_wait|__lll_lock_wait);'
	fp=$(folded_share "$T/nofpmutex.fp.folded" "$re")
	dw=$(folded_share "$T/nofpmutex.folded" "$re")
	echo "# mutex, -O2 -fomit-frame-pointer: futex wait time under start_thread;worker;locked_work;...;__lll_lock_wait: .eh_frame $dw%, frame pointers $fp%"
	at_least "futex wait time with the lock's caller found through glibc" "$dw" 90
}

case_routes() {
	local url dead pid
	serve_start block --rate-limit 0 --max-seconds 60 || return 1
	url=$SV_URL
	start_bg "$WL/offcpu_sleep" 20
	pid=$BG_PID
	dead=999999
	while [ -e "/proc/$dead" ]; do dead=$((dead + 1)); done
	local -a bad=(
		"400 block?seconds=abc" "400 block?seconds=0" "400 block?seconds=61"
		"400 block?last=5m" "400 block?from=1700000000" "400 block?seconds=2&last=1m"
		"400 block?pid=abc&seconds=1" "404 block?pid=$dead&seconds=1"
		"400 mutex?last=1m" "404 mutex?pid=$dead&seconds=1" "400 block?seconds=1&format=svg"
	)
	local row want path
	for row in "${bad[@]}"; do
		want=${row%% *}
		path=${row#* }
		req "$url/debug/pprof/$path"
		[ "$CODE" = "$want" ] || { fail "$path: HTTP $CODE, want $want ($(head -c 120 "$BODY"))"; return 1; }
		is_json_error "$BODY" || { fail "$path: no JSON error body"; return 1; }
		if [ "$path" = "block?last=5m" ] && ! grep -q 'use seconds=N' "$BODY"; then
			fail "last= answer does not say to use seconds=N: $(cat "$BODY")"
			return 1
		fi
	done
	req "$url/debug/pprof/block?seconds=2&pid=$pid"
	[ "$CODE" = 200 ] || { fail "block: HTTP $CODE ($(head -c 200 "$BODY"))"; return 1; }
	cp "$BODY" "$T/route_block.pb.gz"
	sleep_profile_ok "$T/route_block.pb.gz" || return 1
	req "$url/debug/pprof/mutex?seconds=1&pid=$pid"
	[ "$CODE" = 200 ] || { fail "mutex: HTTP $CODE ($(head -c 200 "$BODY"))"; return 1; }
	cp "$BODY" "$T/route_mutex.pb.gz"
	pp -raw "$T/route_mutex.pb.gz" >/dev/null 2>&1 || { fail "go tool pprof rejects the mutex answer"; return 1; }
	serve_stop "$SV_PID" || return 1
	[ "$SV_RC" = 0 ] || { fail "serve exit $SV_RC after SIGTERM"; return 1; }
	sanitizer_check "$SV_ERR"
}

run_case "record -t offcpu -p PID: >= 90% of blocked time in sleep_here, nanosleep kernel frames" case_offcpu_pid
run_case "record -t offcpu with the raw_tp fallback: the same result" case_offcpu_raw_tp
run_case "record -t offcpu --min-block-us: shorter periods are not counted" case_min_block
run_case "record -t wall -- COMMAND: sleep_here:compute_here as measured (+-10 points)" case_wall
run_case "record -t mutex, contended: the lock's caller on top" case_mutex_contended
run_case "record -t mutex, uncontended: almost nothing" case_mutex_uncontended
run_case "record -t offcpu --format folded: delay per stack" case_folded
run_case "record -t offcpu system-wide: valid pprof of many processes" case_system
run_case "record -t offcpu, -O2 -fomit-frame-pointer: >= 90% of blocked time reaches main (.eh_frame; fp shown)" case_offcpu_omit_fp
run_case "record -t mutex, -O2 -fomit-frame-pointer: the lock's caller through glibc (.eh_frame; fp shown)" case_mutex_omit_fp
run_case "record -t bad parameters: clear usage errors" case_bad_params
scase "serve /debug/pprof/block and /mutex: profiles and 4xx answers" case_routes
finish
