#!/usr/bin/env bash
# Off-CPU profiling overhead: a context-switch-heavy workload
# (`perf bench sched pipe -l LOOPS`) and a CPU-bound one (bench_work), each
# alone, under `bpfprof record -t offcpu` (whole system) and under an
# equivalent bpftrace script (sched_switch: remember the time and stacks at
# switch-out, sum the time off CPU per stack at switch-in), in one run,
# interleaved over ROUNDS rounds with the order rotated; medians.
#
# Usage (root): tests/bench/offcpu_bench.sh
# Knobs: ROUNDS (3), LOOPS (200000), WORK (500: millions of iterations per
# thread of bench_work), BPFPROF (build/bpfprof), APPEND=1 appends the table
# to tests/bench/README.md.
#
# bpftrace 0.17 (Debian bookworm) attaches tracepoints through tracefs: it is
# mounted at /sys/kernel/tracing for the run if it is not already, and
# unmounted afterwards.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

ROUNDS=${ROUNDS:-3}
LOOPS=${LOOPS:-200000}
WORK=${WORK:-500}
BPFPROF=${BPFPROF:-build/bpfprof}
WORKLOAD=build/workloads/bench_work
NCPU=$(nproc)
TOOLS=(alone bpfprof bpftrace)

die() {
	echo "offcpu_bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$BPFPROF" ] && [ -x "$WORKLOAD" ] || die "build first (make)"
command -v perf >/dev/null || die "perf not installed (linux-perf)"
command -v bpftrace >/dev/null || die "bpftrace not installed"

T=$(mktemp -d /tmp/bpfprof-offbench.XXXXXX) || exit 1
MOUNTED=0
AGENT=
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ "$MOUNTED" = 1 ] && umount /sys/kernel/tracing 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts; then
	mount -t tracefs nodev /sys/kernel/tracing || die "cannot mount tracefs for bpftrace"
	MOUNTED=1
fi

cat >"$T/offcpu.bt" <<'EOF'
tracepoint:sched:sched_switch
{
	if (args->prev_pid != 0 && args->prev_state != 0) {
		@start[args->prev_pid] = nsecs;
		@ks[args->prev_pid] = kstack;
		@us[args->prev_pid] = ustack;
	}
	$ts = @start[args->next_pid];
	if ($ts != 0) {
		@[@ks[args->next_pid], @us[args->next_pid], args->next_comm] = sum(nsecs - $ts);
		delete(@start[args->next_pid]);
		delete(@ks[args->next_pid]);
		delete(@us[args->next_pid]);
	}
}
END { clear(@start); clear(@ks); clear(@us); }
EOF

# start_agent TOOL: starts the profiler and waits until it is attached.
start_agent() {
	local log=$T/$1.log i
	case $1 in
	bpfprof) "$BPFPROF" record -t offcpu -d 3600 -o "$T/off.pb.gz" >"$log" 2>&1 & ;;
	bpftrace) bpftrace "$T/offcpu.bt" >"$log" 2>&1 & ;;
	esac
	AGENT=$!
	if [ "$1" = bpftrace ]; then
		for i in $(seq 300); do
			grep -q '^Attaching' "$log" && break
			sleep 0.1
		done
		sleep 1
	else
		sleep 2
	fi
	kill -0 "$AGENT" 2>/dev/null || die "$1 exited early: $(tail -3 "$log")"
}

stop_agent() {
	local i
	kill -INT "$AGENT" 2>/dev/null
	for i in $(seq 600); do
		kill -0 "$AGENT" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT=
}

# timed CMD...: wall seconds of CMD.
timed() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || die "$* failed"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((${#TOOLS[@]} - 1))); do
		tool=${TOOLS[$(((k + r) % ${#TOOLS[@]}))]}
		[ "$tool" != alone ] && start_agent "$tool"
		timed perf bench sched pipe -l "$LOOPS" >>"$T/pipe.$tool"
		timed "$WORKLOAD" "$WORK" "$NCPU" >>"$T/cpu.$tool"
		[ "$tool" != alone ] && stop_agent
		echo "# round $r $tool: pipe $(tail -1 "$T/pipe.$tool") s, cpu $(tail -1 "$T/cpu.$tool") s" >&2
	done
done

table() {
	local w a b t
	echo "| workload | alone (s) | bpfprof -t offcpu (s) | slowdown | bpftrace (s) | slowdown |"
	echo "|---|---|---|---|---|---|"
	for w in pipe cpu; do
		a=$(median <"$T/$w.alone")
		b=$(median <"$T/$w.bpfprof")
		t=$(median <"$T/$w.bpftrace")
		case $w in
		pipe) printf '| `perf bench sched pipe -l %s` ' "$LOOPS" ;;
		cpu) printf '| `bench_work %s %s` (CPU-bound) ' "$WORK" "$NCPU" ;;
		esac
		awk -v a="$a" -v b="$b" -v t="$t" \
			'BEGIN { printf "| %.3f | %.3f | %.3fx | %.3f | %.3fx |\n", a, b, b / a, t, t / a }'
	done
}

OUT=$T/table.md
{
	echo
	echo "Run: \`tests/bench/offcpu_bench.sh\` (ROUNDS=$ROUNDS), $(date -u '+%Y-%m-%d %H:%M UTC'), Linux $(uname -r), $NCPU CPUs; medians of $ROUNDS interleaved rounds."
	echo
	table
} >"$OUT"
cat "$OUT"
if [ "${APPEND:-0}" = 1 ]; then
	cat "$OUT" >>tests/bench/README.md
fi
