#!/usr/bin/env bash
# Overhead benchmark: a fixed amount of CPU-bound work (build/workloads/bench_work,
# one thread per core) timed alone and under whole-system profilers at the same
# frequency, interleaved over ROUNDS rounds; medians are reported.
#
#   tests/bench/run.sh            (or: make bench)
#
# Environment: ROUNDS (3), WORK (million iterations per thread, 4000 ≈ 5-6 s
# here), HZ (99), BPFPROF (build/bpfprof), TOOLS ("alone bpfprof perf bpftrace").
# Needs root. Prints a markdown table on stdout; progress goes to stderr.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

ROUNDS=${ROUNDS:-3}
WORK=${WORK:-4000}
HZ=${HZ:-99}
BPFPROF=${BPFPROF:-build/bpfprof}
TOOLS=${TOOLS:-alone bpfprof perf bpftrace}
WORKLOAD=$ROOT/build/workloads/bench_work
NCPU=$(nproc)
TCK=$(getconf CLK_TCK)

T=$(mktemp -d /tmp/bpfprof-bench.XXXXXX) || exit 1
AGENT=
TIMEPID=
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "$TIMEPID" ] && kill -KILL "$TIMEPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$WORKLOAD" ] || die "$WORKLOAD not built (make workloads)"
for t in $TOOLS; do
	case $t in
	alone) ;;
	bpfprof) [ -x "$BPFPROF" ] || die "$BPFPROF not built" ;;
	perf | bpftrace) command -v "$t" >/dev/null || die "$t not installed" ;;
	*) die "unknown tool $t" ;;
	esac
done

# cpu_ticks PID: utime+stime of all threads of PID.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

hwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# start_agent TOOL: starts the profiler under /usr/bin/time and waits until it
# samples. Sets AGENT (the profiler's PID) and TIMEPID.
start_agent() {
	local tool=$1
	local tf=$T/$tool.time log=$T/$tool.log
	case $tool in
	bpfprof)
		/usr/bin/time -f '%e %U %S %M' -o "$tf" \
			"$BPFPROF" record -F "$HZ" -d 3600 -o "$T/bpfprof.pb.gz" >"$log" 2>&1 &
		;;
	perf)
		/usr/bin/time -f '%e %U %S %M' -o "$tf" \
			perf record -a -g -F "$HZ" -o "$T/perf.data" >"$log" 2>&1 &
		;;
	bpftrace)
		/usr/bin/time -f '%e %U %S %M' -o "$tf" \
			bpftrace -e "profile:hz:$HZ { @[ustack, kstack] = count(); }" >"$log" 2>&1 &
		;;
	esac
	TIMEPID=$!
	for _ in $(seq 50); do
		AGENT=$(pgrep -P "$TIMEPID" | head -1)
		[ -n "$AGENT" ] && break
		sleep 0.1
	done
	[ -n "$AGENT" ] || die "$tool did not start: $(cat "$log")"
	# Wait until attached: bpftrace says so; others get a fixed settle time.
	case $tool in
	bpftrace)
		for _ in $(seq 300); do
			grep -q '^Attaching' "$log" && break
			sleep 0.1
		done
		sleep 1
		;;
	*) sleep 3 ;;
	esac
	kill -0 "$AGENT" 2>/dev/null || die "$tool exited early: $(tail -3 "$log")"
}

# stop_agent TOOL: SIGINT, wait for the output to be written.
stop_agent() {
	local tool=$1
	kill -INT "$AGENT" 2>/dev/null
	for _ in $(seq 1200); do
		kill -0 "$TIMEPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TIMEPID" 2>/dev/null; then
		echo "bench: $tool did not stop on SIGINT, killing" >&2
		kill -KILL "$AGENT" 2>/dev/null
	fi
	wait "$TIMEPID" 2>/dev/null
	AGENT=
	TIMEPID=
}

# One measurement: prints "wall agent_cpu_pct_during agent_cpu_total_s peak_rss_kib".
measure() {
	local tool=$1 t0 t1 c0=0 c1=0 hwm=0 wall pct tot rss
	[ "$tool" != alone ] && start_agent "$tool"
	[ -n "$AGENT" ] && c0=$(cpu_ticks "$AGENT")
	t0=$EPOCHREALTIME
	"$WORKLOAD" "$WORK" "$NCPU" >/dev/null
	t1=$EPOCHREALTIME
	if [ -n "$AGENT" ]; then
		c1=$(cpu_ticks "$AGENT")
		hwm=$(hwm_kib "$AGENT")
	fi
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	pct=$(awk -v c=$((c1 - c0)) -v w="$wall" -v k="$TCK" 'BEGIN { printf "%.2f", 100 * c / k / w }')
	tot=0
	rss=$hwm
	if [ "$tool" != alone ]; then
		stop_agent "$tool"
		# Lifetime totals (start-up and writing the output included).
		read -r _ u s m < <(tail -1 "$T/$tool.time" 2>/dev/null) || { u=0; s=0; m=0; }
		tot=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		[ "${m:-0}" -gt "$rss" ] && rss=$m
	fi
	echo "$wall $pct $tot $rss"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "bench: $ROUNDS rounds, WORK=$WORK x $NCPU threads, $HZ Hz, tools: $TOOLS" >&2
# Warm-up run (page cache, CPU frequency).
"$WORKLOAD" "$((WORK / 4))" "$NCPU" >/dev/null
read -ra TOOL_ARR <<<"$TOOLS"
set -- "${TOOL_ARR[@]}"
for r in $(seq "$ROUNDS"); do
	# Rotate the order each round so no tool always runs first.
	order=("$@")
	k=$(((r - 1) % $#))
	order=("${order[@]:k}" "${order[@]:0:k}")
	for tool in "${order[@]}"; do
		measure "$tool" >"$T/cur"
		res=$(cat "$T/cur")
		echo "$res" >>"$T/res.$tool"
		echo "bench: round $r $tool: wall ${res%% *} s" >&2
	done
done

base=$(cut -d' ' -f1 "$T/res.alone" 2>/dev/null | median)
kernel=$(uname -r)
echo
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Workload: bench_work $WORK M iterations x $NCPU threads; $HZ Hz; $ROUNDS interleaved rounds, medians; Linux $kernel, $NCPU CPUs; load average at the end: $load."
if [ -f "$T/res.alone" ]; then
	spread=$(cut -d' ' -f1 "$T/res.alone" | sort -g | awk '{ v[NR] = $1 } END { if (v[1] > 0) printf "%.1f", 100 * (v[NR] / v[1] - 1) }')
	echo "Alone runs vary by $spread % (max/min); differences smaller than that are noise."
fi
echo
echo "| tool | wall (s) | slowdown vs alone | min wall (s) | agent CPU during run (% of one core) | agent CPU total (s) | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|"
for tool in "${TOOL_ARR[@]}"; do
	[ -f "$T/res.$tool" ] || continue
	w=$(cut -d' ' -f1 "$T/res.$tool" | median)
	p=$(cut -d' ' -f2 "$T/res.$tool" | median)
	c=$(cut -d' ' -f3 "$T/res.$tool" | median)
	m=$(cut -d' ' -f4 "$T/res.$tool" | median)
	lo=$(cut -d' ' -f1 "$T/res.$tool" | sort -g | head -1)
	ratio=$(awk -v w="$w" -v b="${base:-0}" 'BEGIN { if (b > 0) printf "%.4f (%+.2f %%)", w / b, 100 * (w / b - 1); else print "n/a" }')
	if [ "$tool" = alone ]; then
		echo "| alone | $w | 1.0000 | $lo | – | – | – |"
	else
		echo "| $tool | $w | $ratio | $lo | $p | $c | $(awk -v k="$m" 'BEGIN { printf "%.1f", k / 1024 }') |"
	fi
done
