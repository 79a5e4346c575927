# shellcheck shell=bash
# Shared helpers for tests/integration/test_*.sh.
#
# Each test script sources this file, defines case functions and calls
#   run_case "name" case_function
# for each, then `finish`. A case prints "ok - name" or
# "not ok - name: reason"; finish exits 1 if any case failed.
#
# Environment:
#   BPFPROF   binary under test (default build/bpfprof, relative to the repo root)
#   ONLY      extended regex: run only cases whose name matches
#   KEEP_TMP  1: keep the temp dir (printed on exit) for debugging
#
# Every bpfprof run goes through `bp`, which adds a timeout, records exit
# code, stderr and wall time, flags sanitizer reports and checks that no BPF
# program or link of ours is left loaded after the run.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

BPFPROF=${BPFPROF:-build/bpfprof}
case $BPFPROF in /*) ;; *) BPFPROF=$ROOT/$BPFPROF ;; esac
WL=$ROOT/build/workloads
ONLY=${ONLY:-}

T=$(mktemp -d /tmp/bpfprof-it.XXXXXX) || exit 1
chmod 0755 "$T"
export HOME=$T/home GOCACHE=$T/gocache
mkdir -p "$HOME" "$GOCACHE"
# Sanitizer builds: a report makes the run fail with exit 86, and bp also
# greps stderr for reports, so a sanitizer error is never mistaken for an
# expected "exit 1".
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=86}

N_OK=0
N_FAIL=0
BG_PIDS=()
BP_WRAP=()
REASON=

_cleanup() {
	local rc=$? p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- reporting -------------------------------------------------------------

# fail REASON: record why the current case failed; returns 1 so callers can
# write `check || return 1` or `fail "..."; return 1`.
fail() {
	REASON=${REASON:+$REASON; }$1
	return 1
}

# run_case NAME FUNCTION [ARGS...]
run_case() {
	local name=$1
	shift
	if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then
		return 0
	fi
	REASON=
	"$@"
	local rc=$?
	if [ $rc -eq 0 ] && [ -z "$REASON" ]; then
		echo "ok - $name"
		N_OK=$((N_OK + 1))
	else
		echo "not ok - $name: ${REASON:-case returned $rc}"
		N_FAIL=$((N_FAIL + 1))
	fi
	stop_all_bg
}

# skip_all REASON: every case in this script is reported as failed (used when
# a prerequisite such as the binary under test is missing).
require_prereqs() {
	local missing=
	[ -x "$BPFPROF" ] || missing="$BPFPROF not built (make)"
	[ -x "$WL/cpu_split" ] || missing=${missing:+$missing, }"workloads not built (make workloads)"
	command -v go >/dev/null || missing=${missing:+$missing, }"go not installed"
	# bp's check for BPF objects left behind reads bpftool's JSON with jq.
	command -v jq >/dev/null || missing=${missing:+$missing, }"jq not installed"
	command -v bpftool >/dev/null || missing=${missing:+$missing, }"bpftool not installed"
	if [ -n "$missing" ]; then
		echo "not ok - prerequisites: $missing (sudo make test-deps)"
		N_FAIL=$((N_FAIL + 1))
		finish
	fi
}

finish() {
	[ "$N_FAIL" -eq 0 ] && exit 0
	exit 1
}

# --- background processes ------------------------------------------------

# start_bg CMD ARGS...: starts CMD in the background; its PID is in BG_PID.
start_bg() {
	"$@" >/dev/null 2>&1 &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# start_reaped CMD ARGS...: starts CMD under a background subshell that waits
# for it, so it is reaped the moment it exits and its /proc entry goes away
# (as for any process whose parent waits); its PID is in BG_PID.
start_reaped() {
	local f=$T/reaped.$RANDOM
	( "$@" >/dev/null 2>&1 & echo $! >"$f"; wait ) &
	BG_PIDS+=($!)
	while [ ! -s "$f" ]; do sleep 0.02; done
	BG_PID=$(cat "$f")
	rm -f "$f"
	BG_PIDS+=("$BG_PID")
}

stop_all_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	BG_PIDS=()
}

# wait_exe PID: waits (up to 3 s) until PID has exec'd into something other
# than the shell that forked it.
wait_exe() {
	local i
	for i in $(seq 30); do
		[ -r "/proc/$1/exe" ] && [ "$(readlink "/proc/$1/exe")" != "$BASH" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- BPF leak check ------------------------------------------------------

# Names of our BPF programs, from the sources (bpftool truncates to 15 chars).
OUR_PROGS=$(sed -n '/^SEC("[^.]/{n;p}' "$ROOT"/bpf/*.bpf.c 2>/dev/null |
	sed -E 's/^(int|__u32|long)?[[:space:]]*BPF_PROG\(([A-Za-z0-9_]+).*/\2/;
		s/^[a-z_0-9 ]*[[:space:]]\**([A-Za-z0-9_]+)\(.*/\1/' |
	cut -c1-15 | sort -u | paste -sd' ')
[ -n "$OUR_PROGS" ] || OUR_PROGS="do_sample on_fork on_exec"

# bpf_snapshot: prints "PROGS LINKS": loaded programs named like ours, and
# links to them, that no live process holds an fd of. After bpfprof exits,
# anything of ours still loaded is such an orphan (pinned or leaked); programs
# of other bpfprof runs going on at the same time are held by them and are
# not counted. (Debian's bpftool cannot list owner PIDs, so /proc/*/fdinfo is
# read directly.)
bpf_snapshot() {
	local progs links owned
	progs=$(bpftool -j prog show 2>/dev/null)
	links=$(bpftool -j link show 2>/dev/null)
	owned=$(find /proc/[0-9]*/fd -lname 'anon_inode:bpf*' 2>/dev/null |
		sed 's#/fd/#/fdinfo/#' | xargs -r grep -hE '^(prog_id|link_id):' 2>/dev/null |
		awk -F':[[:space:]]*' '{ print $1, $2 }' | sort -u |
		jq -Rn '[inputs | split(" ") | {k: .[0], v: (.[1] | tonumber)}]')
	jq -rn --argjson p "${progs:-[]}" --argjson l "${links:-[]}" \
		--argjson o "${owned:-[]}" --arg names "$OUR_PROGS" '
		($names | split(" ")) as $n
		| [$o[] | select(.k == "prog_id") | .v] as $oprog
		| [$o[] | select(.k == "link_id") | .v] as $olink
		| [$p[] | select(.name as $x | $n | index($x))] as $ours
		| [$ours[].id] as $ids
		| [$ours[] | select(.id as $i | $oprog | index($i) | not)] as $orph
		| [$l[] | select(.prog_id as $i | $ids | index($i))
			| select(.id as $i | $olink | index($i) | not)] as $orphl
		| "\($orph | length) \($orphl | length)"'
}

# --- running bpfprof -------------------------------------------------------

# bp PREFIX ARGS...: runs "$BPFPROF" ARGS under a timeout (BP_TIMEOUT, 90 s).
# Sets BP_RC, BP_ERR (stderr file), BP_OUT (stdout file), BP_SECS (wall time)
# and BP_PROBLEMS (sanitizer reports, BPF objects left behind). The PID of the
# running command (a `timeout` that relays signals to bpfprof) is written to
# PREFIX.pid so a case can signal it.
bp() {
	local prefix=$1
	shift
	BP_OUT=$prefix.out
	BP_ERR=$prefix.err
	BP_PROBLEMS=
	local before after t0 t1 i pid
	before=$(bpf_snapshot)
	t0=$EPOCHREALTIME
	timeout -k 5 "${BP_TIMEOUT:-90}" "${BP_WRAP[@]}" "$BPFPROF" "$@" >"$BP_OUT" 2>"$BP_ERR" &
	pid=$!
	echo "$pid" >"$prefix.pid"
	wait "$pid"
	BP_RC=$?
	t1=$EPOCHREALTIME
	BP_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ "$BP_RC" = 124 ] || [ "$BP_RC" = 137 ]; then
		BP_PROBLEMS="bpfprof $* timed out after ${BP_TIMEOUT:-90} s"
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$BP_ERR"; then
		BP_PROBLEMS=${BP_PROBLEMS:+$BP_PROBLEMS; }"sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' "$BP_ERR" | cut -c1-200)"
		cp "$BP_ERR" "/tmp/bpfprof-sanitizer.$$.$RANDOM.log" 2>/dev/null
	fi
	# BPF objects are freed asynchronously after the last fd closes.
	for i in $(seq 30); do
		after=$(bpf_snapshot)
		[ "${after%% *}" -le "${before%% *}" ] && [ "${after##* }" -le "${before##* }" ] && break
		sleep 0.1
	done
	if [ "${after%% *}" -gt "${before%% *}" ] || [ "${after##* }" -gt "${before##* }" ]; then
		BP_PROBLEMS=${BP_PROBLEMS:+$BP_PROBLEMS; }"BPF progs/links of ours left behind (before: $before, after: $after)"
	fi
	return 0
}

# on_attach PREFIX CMD...: runs CMD in the background once the bpfprof of the
# next `bp PREFIX ...` holds a BPF link (its probes are attached), so a case
# can start something "mid-run" without guessing how long start-up takes.
on_attach() {
	local prefix=$1
	shift
	rm -f "$prefix.pid"
	(
		local tp p _
		for _ in $(seq 600); do
			tp=$(cat "$prefix.pid" 2>/dev/null)
			p=
			[ -n "$tp" ] && p=$(pgrep -P "$tp" | head -1)
			if [ -n "$p" ] && find "/proc/$p/fd" -lname 'anon_inode:bpf_link' 2>/dev/null | grep -q .; then
				"$@"
				exit
			fi
			sleep 0.05
		done
	) &
	BG_PIDS+=($!)
}

# expect_rc WANT: checks BP_RC and BP_PROBLEMS, adding the first line of
# stderr to the failure reason.
expect_rc() {
	local ok=0
	if [ "$BP_RC" != "$1" ]; then
		fail "exit $BP_RC, want $1 (stderr: $(grep -v '^$' "$BP_ERR" | head -3 | tr '\n' '|' | cut -c1-300))"
		ok=1
	fi
	if [ -n "$BP_PROBLEMS" ]; then
		fail "$BP_PROBLEMS"
		ok=1
	fi
	return $ok
}

# expect_error WANT_RC: a failing run must exit WANT_RC and print a
# "bpfprof: " line on stderr.
expect_error() {
	expect_rc "$1" || return 1
	if ! grep -q '^bpfprof: ' "$BP_ERR"; then
		fail "no 'bpfprof: ' message on stderr (got: $(head -c 200 "$BP_ERR" | tr '\n' '|'))"
		return 1
	fi
	if grep -qiE 'sanitizer|segmentation|core dumped' "$BP_ERR"; then
		fail "crash output on stderr"
		return 1
	fi
}

# --- reading profiles ------------------------------------------------------

# pp ARGS...: go tool pprof without local re-symbolization, so names come
# from bpfprof only.
pp() {
	go tool pprof -symbolize=none "$@"
}

# --- heap profiles (test_heap.sh, test_heapsampler.sh) -------------------

# pp_sum MODE FILE REGEX INDEX: sum of sample value INDEX (heap: 0
# alloc_objects, 1 alloc_space, 2 inuse_objects, 3 inuse_space) over the
# samples that match REGEX: MODE frame, any one frame's function name; MODE
# stack, the stack as function names leaf first joined by ";"
# ("keep_live;main;...").
pp_sum() {
	pp -raw "$2" 2>/dev/null | python3 -c '
import re, sys
mode, rx, idx = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3])
sec = None; samples = []; locs = {}
for l in sys.stdin.read().split("\n"):
    if l in ("Samples:", "Locations", "Mappings"):
        sec = l; continue
    if sec == "Samples:":
        m = re.match(r"\s*([-\d ]+):([\d ]*)$", l)
        if m:
            samples.append(([int(x) for x in m.group(1).split()], m.group(2).split()))
    elif sec == "Locations":
        m = re.match(r"\s*(\d+): 0x[0-9a-f]+ M=\d+ (.*?)(?: \S+:\d+)? s=\d+(?:\(.*\))?$", l)
        if m:
            locs[m.group(1)] = m.group(2)
def hit(ls):
    if mode == "frame":
        return any(rx.search(locs.get(x, "")) for x in ls)
    return rx.search(";".join(locs.get(x, "?") for x in ls) + ";")
print(sum(v[idx] for v, ls in samples if hit(ls)))
' "$1" "$3" "$4"
}

# sumv FILE FUNC_REGEX INDEX / stackv FILE STACK_REGEX INDEX: pp_sum by frame / by stack.
sumv() { pp_sum frame "$@"; }
stackv() { pp_sum stack "$@"; }

# within VALUE WANT PERCENT NAME
within() {
	awk -v v="$1" -v w="$2" -v p="$3" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(d <= w * p / 100) }' ||
		fail "$4 = $1, want $2 ± $3 %"
}

# record_heap NAME ARGS... (bpfprof record -t heap ARGS -o $T/NAME.pb.gz)
record_heap() {
	local name=$1
	shift
	bp "$T/$name" record -t heap -o "$T/$name.pb.gz" "$@"
	expect_rc 0 && check_pprof "$T/$name.pb.gz"
}

# check_pprof FILE: the real client must read FILE (-raw and -top exit 0).
check_pprof() {
	local f=$1
	if [ ! -s "$f" ]; then
		fail "output $f missing or empty"
		return 1
	fi
	if ! pp -raw "$f" >"$f.raw" 2>"$f.raw.err"; then
		fail "go tool pprof -raw failed: $(head -c 300 "$f.raw.err" | tr '\n' '|')"
		return 1
	fi
	if ! pp -top "$f" >"$f.top" 2>"$f.top.err"; then
		fail "go tool pprof -top failed: $(head -c 300 "$f.top.err" | tr '\n' '|')"
		return 1
	fi
}

# top_table FILE [PPROF_ARGS...]: prints "flat%<TAB>cum%<TAB>name" for every
# node, sorted by flat as pprof does; " (inline)" suffixes dropped.
top_table() {
	local f=$1
	shift
	pp -top -nodefraction=0 -edgefraction=0 -nodecount=1000000 "$@" "$f" 2>/dev/null |
		awk '
		/^ *flat +flat%/ { body = 1; next }
		body && NF >= 6 {
			fp = $2; cp = $5; sub(/%$/, "", fp); sub(/%$/, "", cp)
			name = $0
			sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", name)
			sub(/ \(inline\)$/, "", name)
			printf "%s\t%s\t%s\n", fp, cp, name
		}'
}

# col TABLE_FILE NAME_REGEX flat|cum: sum of the column over names matching
# the (awk) regex; 0 when absent.
col() {
	awk -F'\t' -v re="$2" -v c="$3" '
		$3 ~ re { s += (c == "cum" ? $2 : $1) }
		END { printf "%.2f\n", s + 0 }' "$1"
}

# has_kernel_frames RAWFILE: a [kernel.kallsyms] mapping, or a symbolized
# location at a kernel-half address, in the output of `go tool pprof -raw`.
# (Unsymbolized kernel-half addresses are not counted: frame-pointer walks of
# code built without frame pointers yield garbage like 0xfffffffffffffffe.)
has_kernel_frames() {
	grep -qE '\[kernel\.kallsyms\]|vmlinux' "$1" && return 0
	grep -qE '^ +[0-9]+: 0xffff[89a-f][0-9a-f]{11} (M=[0-9]+ )?[A-Za-z_]' "$1"
}

# ratio_check TABLE: burn_a and burn_b are the top two and burn_a/(a+b) is
# within 65-85 %.
ratio_check() {
	local tab=$1 first two a b share
	two=$(head -2 "$tab" | cut -f3 | sort | paste -sd' ')
	if [ "$two" != "burn_a burn_b" ]; then
		fail "top two functions are '$(head -2 "$tab" | cut -f3 | paste -sd,)', want burn_a,burn_b (top: $(head -5 "$tab" | awk -F'\t' '{printf "%s %s%%, ", $3, $1}'))"
		return 1
	fi
	first=$(head -1 "$tab" | cut -f3)
	a=$(col "$tab" '^burn_a$' flat)
	b=$(col "$tab" '^burn_b$' flat)
	share=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + b > 0) printf "%.1f", 100 * a / (a + b); else print 0 }')
	if ! awk -v s="$share" 'BEGIN { exit !(s >= 65 && s <= 85) }'; then
		fail "burn_a share of burn_a+burn_b is $share%, want 65-85% (burn_a $a%, burn_b $b%)"
		return 1
	fi
	[ "$first" = burn_a ] || { fail "burn_b ranks above burn_a"; return 1; }

}

# reaches_main FILE [PPROF_ARGS...]: at least 90 % of burn_a's samples have
# main on their stack.
reaches_main() {
	local f=$1 tab=$1.focus a m
	shift
	top_table "$f" "$@" -focus='^burn_a$' >"$tab"
	a=$(col "$tab" '^burn_a$' cum)
	m=$(col "$tab" '^main$' cum)
	if ! awk -v a="$a" -v m="$m" 'BEGIN { exit !(a > 0 && m >= 0.9 * a) }'; then
		fail "only $m% of samples with burn_a ($a%) have main on the stack"
		return 1
	fi
}
