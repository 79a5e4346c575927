#!/usr/bin/env bash
# Heap profiling overhead: the cost per malloc+free pair and the slowdown of
# an allocation-heavy workload (build/workloads/heap_bench_work) and of a real
# program (Debian's redis-server under redis-benchmark), each alone, under
# `bpfprof record -t heap` (default R = 512 KiB, and R = 1), under heaptrack
# and under a bpftrace script doing what bcc memleak does (every allocation:
# size and user stack kept per live address, deleted on free), in one run,
# interleaved over ROUNDS rounds with the order rotated; medians.
#
# Usage (root): tests/bench/heap_bench.sh
# Knobs: ROUNDS (3), SECS (3: seconds of the tight allocation loop), THREADS
# (1), PACED (5000 pairs) and PACED_RATE (5000 pairs/s) for the paced phase,
# REQS (20000 requests per redis-benchmark test), TESTS (set,get,lpush,lpop),
# SETTLE (3 s given to bpfprof to attach), TOOLS ("alone bpfprof bpfprof-r1
# heaptrack bpftrace"), BPFPROF (build/bpfprof), KEEP=DIR (keep the logs and
# raw results there), RENDER=DIR (no measurement: the tables from a KEEP
# directory), APPEND=1 replaces the
# "## Heap" section of tests/bench/README.md with the command, the columns
# and the results (the reading under them is written by hand).
#
# heaptrack attaches to a running PID by injecting itself with gdb; that
# fails on this VM (gdb 13: "Couldn't write extended state status: Bad
# address" on any inferior call), so heaptrack starts the target itself
# (`heaptrack PROG ...`, LD_PRELOAD) and the target waits for the go signal
# (the workload blocks on SIGUSR1; redis-benchmark starts after the same
# settle time). HEAPTRACK_ATTACH=1 tries `heaptrack -p PID` instead.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-3}
THREADS=${THREADS:-1}
PACED=${PACED:-5000}
PACED_RATE=${PACED_RATE:-5000}
REQS=${REQS:-100000}
TESTS=${TESTS:-set,get}
SETTLE=${SETTLE:-3}
BPFPROF=${BPFPROF:-build/bpfprof}
HEAPTRACK_ATTACH=${HEAPTRACK_ATTACH:-0}
WORKLOAD=$ROOT/build/workloads/heap_bench_work
read -ra TOOLS <<<"${TOOLS:-alone bpfprof bpfprof-r1 heaptrack bpftrace}"
NCPU=$(nproc)

die() {
	echo "heap_bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$BPFPROF" ] && [ -x "$WORKLOAD" ] || die "build first (make)"
for c in heaptrack bpftrace redis-server redis-benchmark redis-cli ss; do
	command -v "$c" >/dev/null || die "$c not installed (tools/install-deps.sh)"
done

T=$(mktemp -d /tmp/bpfprof-heapbench.XXXXXX) || exit 1
AGENT=   # profiler (bpfprof, bpftrace or the heaptrack script)
TARGET=  # workload or redis-server
cleanup() {
	[ -n "$TARGET" ] && kill -KILL "$TARGET" 2>/dev/null
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && cp -r "$T" "$KEEP"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bcc memleak work in bpftrace: size at entry (per thread), address ->
# size and address -> user stack at return, both deleted on free/realloc.
# LIB is the allocator the target really uses (jemalloc for Debian's redis).
cat >"$T/memleak.bt.in" <<'EOF'
uprobe:LIB:malloc { @sizes[tid] = arg0; }
uretprobe:LIB:malloc /@sizes[tid]/
{
	if (retval != 0) { @allocs[retval] = @sizes[tid]; @stacks[retval] = ustack; }
	delete(@sizes[tid]);
}
uprobe:LIB:calloc { @sizes[tid] = arg0 * arg1; }
uretprobe:LIB:calloc /@sizes[tid]/
{
	if (retval != 0) { @allocs[retval] = @sizes[tid]; @stacks[retval] = ustack; }
	delete(@sizes[tid]);
}
uprobe:LIB:realloc { delete(@allocs[arg0]); delete(@stacks[arg0]); @sizes[tid] = arg1; }
uretprobe:LIB:realloc /@sizes[tid]/
{
	if (retval != 0) { @allocs[retval] = @sizes[tid]; @stacks[retval] = ustack; }
	delete(@sizes[tid]);
}
uprobe:LIB:free { delete(@allocs[arg0]); delete(@stacks[arg0]); }
END { clear(@sizes); clear(@allocs); clear(@stacks); }
EOF

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# wait_gone PID SECS: waits until PID is gone (not necessarily our child).
wait_gone() {
	local i
	for i in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# child_named PARENT COMM: waits for PARENT's child COMM and prints its PID.
child_named() {
	local i p
	for i in $(seq 200); do
		p=$(pgrep -P "$1" -x "$2" | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}

# free_port: a port below the ephemeral range (so no client socket holds it)
# that no socket uses.
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] || lo=32768
	while :; do
		p=$(shuf -i 10000-$((lo - 1)) -n 1)
		[ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return; }
	done
}

# start_target KIND TOOL: starts the workload (waiting for SIGUSR1) or
# redis-server, under heaptrack when TOOL is heaptrack (and not attaching).
# Sets TARGET, and AGENT for heaptrack.
start_target() {
	local kind=$1 tool=$2 cmd i
	if [ "$kind" = alloc ]; then
		cmd=("$WORKLOAD" "$SECS" "$THREADS" "$T/result" "$PACED" "$PACED_RATE")
		rm -f "$T/result"
	else
		PORT=$(free_port)
		rm -f "$T/redis.log"
		cmd=(redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
			--dir "$T" --daemonize no --logfile "$T/redis.log")
	fi
	if [ "$tool" = heaptrack ] && [ "$HEAPTRACK_ATTACH" != 1 ]; then
		heaptrack -o "$T/heaptrack.$kind" "${cmd[@]}" >"$T/agent.log" 2>&1 &
		AGENT=$!
		TARGET=$(child_named "$AGENT" "$(basename "${cmd[0]}" | cut -c1-15)") ||
			die "heaptrack did not start ${cmd[0]}: $(tail -3 "$T/agent.log")"
	else
		"${cmd[@]}" >/dev/null 2>&1 &
		TARGET=$!
	fi
	if [ "$kind" = redis ]; then
		for i in $(seq 200); do
			[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
			kill -0 "$TARGET" 2>/dev/null || break
			sleep 0.05
		done
		[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] ||
			die "redis-server on port $PORT did not start: $(tail -3 "$T/redis.log" 2>/dev/null | tr '\n' ' ')"
	fi
	# The allocator the target uses, for the bpftrace script.
	LIB=$(awk '$NF ~ /\/libjemalloc\.so/ { print $NF; exit }' "/proc/$TARGET/maps")
	[ -n "$LIB" ] || LIB=$(awk '$NF ~ /\/libc\.so\.6$/ { print $NF; exit }' "/proc/$TARGET/maps")
}

# attach TOOL KIND: starts the profiler on TARGET and waits until it is attached.
attach() {
	local tool=$1 kind=$2 i t0=$EPOCHREALTIME
	case $tool in
	bpfprof | bpfprof-r1)
		local rate=()
		[ "$tool" = bpfprof-r1 ] && rate=(-R 1)
		"$BPFPROF" record -t heap -p "$TARGET" "${rate[@]}" -d 3600 \
			-o "$T/heap.$kind.pb.gz" >"$T/agent.log" 2>&1 &
		AGENT=$!
		sleep "$SETTLE"
		;;
	bpftrace)
		sed "s#LIB#$LIB#g" "$T/memleak.bt.in" >"$T/memleak.bt"
		BPFTRACE_MAP_KEYS_MAX=65536 bpftrace -p "$TARGET" "$T/memleak.bt" >"$T/agent.log" 2>&1 &
		AGENT=$!
		for i in $(seq 300); do
			grep -q '^Attaching' "$T/agent.log" && break
			sleep 0.1
		done
		sleep 1
		;;
	heaptrack)
		if [ "$HEAPTRACK_ATTACH" = 1 ]; then
			heaptrack -o "$T/heaptrack.$kind" -p "$TARGET" >"$T/agent.log" 2>&1 &
			AGENT=$!
			for i in $(seq 300); do
				grep -q 'injection finished' "$T/agent.log" && break
				sleep 0.1
			done
			grep -q 'No symbol "heaptrack_inject"' "$T/agent.log" &&
				die "heaptrack -p could not inject: $(grep -v '^$' "$T/agent.log" | tail -3 | tr '\n' ' ')"
		else
			sleep 1 # started with the target; let it settle like the others
		fi
		;;
	esac
	kill -0 "$AGENT" 2>/dev/null || die "$tool exited early: $(tail -3 "$T/agent.log")"
	echo "heap_bench:   $tool attached to $kind in $(elapsed "$t0") s" >&2
}

# stop_agent TOOL: stops the profiler (SIGINT; heaptrack stops with its
# target) and waits for its output. The target must be gone for heaptrack.
stop_agent() {
	local tool=$1
	[ -n "$AGENT" ] || return 0
	[ "$tool" != heaptrack ] && kill -INT "$AGENT" 2>/dev/null
	wait_gone "$AGENT" 120 || {
		echo "heap_bench: $tool did not stop, killing it" >&2
		kill -KILL "$AGENT" 2>/dev/null
	}
	wait "$AGENT" 2>/dev/null
	AGENT=
}

stop_target() {
	[ -n "$TARGET" ] || return 0
	kill -TERM "$TARGET" 2>/dev/null
	wait_gone "$TARGET" 30 || kill -KILL "$TARGET" 2>/dev/null
	wait "$TARGET" 2>/dev/null
	TARGET=
}

# governor TOOL KIND: bpfprof's record summary, condensed: "sessions|uretprobes
# calls sampled degraded-duty%|- projected% trap-ns-emulated trap-ns-stepped
# call-ns-unsampled call-ns-sampled".
governor() {
	local f=$T/agent.log
	case $1 in bpfprof*) ;; *) return ;; esac
	awk '
		/trap cost/ { for (i = 1; i <= NF; i++) if ($i == "cost") { tc = $(i + 1); ts = $(i + 4) } }
		/cost per call/ { for (i = 1; i <= NF; i++) if ($i == "call") { cu = $(i + 1); cs = $(i + 4) } }
		/heap PID .*probes/ {
			ses = /uprobe sessions/ ? "sessions" : "uretprobes"
			for (i = 1; i <= NF; i++) {
				if ($i == "calls,") calls = $(i - 1)
				if ($i == "sampled,") samp = $(i - 1)
			}
		}
		/governor:/ { for (i = 1; i <= NF; i++) if ($i == "projected") proj = $(i + 1) }
		/governor degraded heap profiling to/ {
			for (i = 1; i <= NF; i++) if ($i == "to") duty = $(i + 1)
		}
		END {
			printf "%s %s %s %s %s %s %s %s %s\n", ses, calls + 0, samp + 0, duty ? duty : "-",
				proj + 0, tc + 0, ts + 0, cu + 0, cs + 0
		}
	' "$f" >>"$T/gov.$2.$1"
	cat "$f" >>"$T/log.$2.$1"
}

# One allocation-workload measurement: appends "ns_per_pair paced_cpu_ns_per_pair".
measure_alloc() {
	local tool=$1 w n c p
	start_target alloc "$tool"
	[ "$tool" != alone ] && attach "$tool" alloc
	kill -USR1 "$TARGET"
	wait_gone "$TARGET" $((SECS * 5 + 120)) || die "workload did not finish"
	wait "$TARGET" 2>/dev/null
	TARGET=
	[ "$tool" != alone ] && stop_agent "$tool"
	[ -s "$T/result" ] || die "workload under $tool wrote no result"
	read -r w n c p <"$T/result"
	awk -v w="$w" -v n="$n" -v c="$c" -v p="$p" \
		'BEGIN { printf "%.2f %.1f\n", w / n, p ? c / p : 0 }' >>"$T/alloc.$tool"
	governor "$tool" alloc
}

# One redis measurement: appends the requests/s of each test on one line.
measure_redis() {
	local tool=$1
	start_target redis "$tool"
	[ "$tool" != alone ] && attach "$tool" redis
	redis-benchmark -p "$PORT" -q -n "$REQS" -t "$TESTS" -P 1 --csv 2>/dev/null |
		awk -F'"' 'NR > 1 && $4 != "" { printf "%s%s", sep, $4; sep = " "; names = names sep2 $2; sep2 = " " }
			END { print ""; print names > "'"$T/tests"'" }' >>"$T/redis.$tool"
	if [ "$tool" = heaptrack ] && [ "$HEAPTRACK_ATTACH" != 1 ]; then
		stop_target
		stop_agent "$tool"
	else
		[ "$tool" != alone ] && stop_agent "$tool"
		stop_target
	fi
	governor "$tool" redis
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

label() {
	case $1 in
	alone) echo "alone" ;;
	bpfprof) echo "bpfprof -t heap (R = 512 KiB)" ;;
	bpfprof-r1) echo "bpfprof -t heap -R 1" ;;
	heaptrack) [ "$HEAPTRACK_ATTACH" = 1 ] && echo "heaptrack -p" || echo "heaptrack (started by it)" ;;
	bpftrace) echo "bpftrace memleak-like" ;;
	esac
}

# gov_summary KIND TOOL: "DEGRADED 3/3, duty 5–7 %; 0.06 % of 1234567 calls
# sampled; sessions" (calls: median per run) or "not degraded; ...".
gov_summary() {
	local f=$T/gov.$1.$2 calls frac
	[ -f "$f" ] || { echo "–"; return; }
	calls=$(awk '{ print $2 + 0 }' "$f" | median)
	frac=$(awk '{ print ($2 > 0 ? 100 * $3 / $2 : 0) }' "$f" | median)
	awk -v calls="$calls" -v frac="$frac" '{ n++; s = $1; if ($4 != "-") { d++; v = $4 + 0; if (!lo || v < lo) lo = v; if (v > hi) hi = v } }
		END {
			if (d) printf "DEGRADED %d/%d, duty %s %%", d, n, lo == hi ? lo : lo "–" hi
			else printf "not degraded"
			printf "; %.3g %% of %.0f calls sampled; %s", frac, calls, s
		}' "$f"
}

# spread FILE FIELD: max/min - 1 of a column, in %.
spread() {
	cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { if (v[1] > 0) printf "%.0f", 100 * (v[NR] / v[1] - 1) }'
}

START=$EPOCHREALTIME
if [ -n "${RENDER:-}" ]; then
	cp -r "$RENDER"/. "$T"/ || die "cannot read $RENDER"
else
	echo "heap_bench: $ROUNDS rounds; tools: ${TOOLS[*]}; tight loop $SECS s x $THREADS threads, paced $PACED pairs at $PACED_RATE/s; redis $REQS requests per test ($TESTS)" >&2
	# Warm-up (page cache, CPU frequency).
	"$WORKLOAD" 0.5 1 "" 0 & w=$!
	sleep 0.1
	kill -USR1 "$w"
	wait "$w"

	for r in $(seq "$ROUNDS"); do
		for k in $(seq 0 $((${#TOOLS[@]} - 1))); do
			tool=${TOOLS[$(((k + r) % ${#TOOLS[@]}))]}
			measure_alloc "$tool"
			measure_redis "$tool"
			echo "heap_bench: round $r $tool: $(tail -1 "$T/alloc.$tool" | cut -d' ' -f1) ns/pair," \
				"paced $(tail -1 "$T/alloc.$tool" | cut -d' ' -f2) CPU ns/pair;" \
				"redis req/s $(tail -1 "$T/redis.$tool") ($(elapsed "$START") s)" >&2
		done
	done
	echo "Run: \`tests/bench/heap_bench.sh\` (ROUNDS=$ROUNDS SECS=$SECS THREADS=$THREADS PACED=$PACED PACED_RATE=$PACED_RATE REQS=$REQS), $(date -u '+%Y-%m-%d %H:%M UTC'), Linux $(uname -r), $NCPU CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); medians of $ROUNDS interleaved rounds; $(elapsed "$START") s in all." >"$T/header"
fi

alloc_table() {
	local tool a ap v vp
	a=$(cut -d' ' -f1 "$T/alloc.alone" | median)
	ap=$(cut -d' ' -f2 "$T/alloc.alone" | median)
	echo "| tool | ns per pair, tight loop | added ns per pair | slowdown | CPU ns per pair, paced | added CPU ns per pair, paced | bpfprof governor (whole run) |"
	echo "|---|---|---|---|---|---|---|"
	for tool in "${TOOLS[@]}"; do
		[ -f "$T/alloc.$tool" ] || continue
		v=$(cut -d' ' -f1 "$T/alloc.$tool" | median)
		vp=$(cut -d' ' -f2 "$T/alloc.$tool" | median)
		awk -v l="$(label "$tool")" -v v="$v" -v a="$a" -v vp="$vp" -v ap="$ap" -v g="$(gov_summary alloc "$tool")" \
			'BEGIN { printf "| %s | %.1f | %s | %.2fx | %.0f | %s | %s |\n", l, v,
				l == "alone" ? "–" : sprintf("%.0f", v - a), v / a, vp,
				l == "alone" ? "–" : sprintf("%.0f", vp - ap), g }'
	done
}

redis_table() {
	local tool names i n
	read -ra names <"$T/tests"
	n=${#names[@]}
	printf '| tool |'
	for i in "${names[@]}"; do printf ' %s req/s |' "$i"; done
	printf ' ratio vs alone (geometric mean) | bpfprof governor |\n|---|'
	for i in "${names[@]}"; do printf -- '---|'; done
	printf -- '---|---|\n'
	for i in $(seq "$n"); do cut -d' ' -f"$i" "$T/redis.alone" | median; done >"$T/redis.alone.med"
	for tool in "${TOOLS[@]}"; do
		[ -f "$T/redis.$tool" ] || continue
		for i in $(seq "$n"); do cut -d' ' -f"$i" "$T/redis.$tool" | median; done >"$T/med"
		paste "$T/med" "$T/redis.alone.med" | awk -v l="$(label "$tool")" -v g="$(gov_summary redis "$tool")" '
			{ r[NR] = $1; s += log($1 / $2) }
			END {
				printf "| %s |", l
				for (i = 1; i <= NR; i++) printf " %.0f |", r[i]
				printf " %.3f | %s |\n", exp(s / NR), g
			}'
	done
}

# trapcost [FIELD]: median calibrated cost (6: emulated trap, 7: single-stepped
# trap, 8: unsampled call, 9: sampled call).
trapcost() {
	cat "$T"/gov.*.bpfprof* 2>/dev/null | awk -v f="${1:-6}" '{ print $f }' | median | awk 'NF && $1 > 0 { printf "%.0f", $1 }'
}

OUT=$T/table.md
{
	echo "$(cat "$T/header")$(tc=$(trapcost); [ -n "$tc" ] && echo " bpfprof's calibrated trap cost: $tc ns emulated, $(trapcost 7) ns single-stepped; per call $(trapcost 8) ns unsampled, $(trapcost 9) ns sampled (medians).")"
	echo
	echo "Alone runs varied by $(spread "$T/alloc.alone" 1) % (tight ns per pair), $(spread "$T/alloc.alone" 2) % (paced CPU ns per pair) and $(spread "$T/redis.alone" 1) % (redis $(cut -d' ' -f1 "$T/tests") req/s) between rounds (max/min); differences smaller than that are noise."
	echo
	echo "Allocation-heavy workload (\`heap_bench_work\`, glibc malloc):"
	echo
	alloc_table
	echo
	echo "\`redis-server\` $(redis-server --version | awk '{ print $3 }' | sed 's/v=//') (Debian, jemalloc) under \`redis-benchmark -q -n $REQS -t $TESTS -P 1\`:"
	echo
	redis_table
} >"$OUT"
cat "$OUT"

# The README section: command, columns, the results. The reading of the
# numbers under it is written by hand; a new APPEND=1 run replaces the whole
# section, so write it again for the new numbers.
section() {
	cat <<'EOF'
## Heap

```
tests/bench/heap_bench.sh      # root; knobs: ROUNDS=3 SECS=3 THREADS=1 PACED=5000 PACED_RATE=5000 REQS=100000 TESTS=set,get APPEND=1
```

Two targets, each alone and under four heap profilers, in one run,
interleaved over `ROUNDS` rounds with the order rotated; medians:

| tool | command |
|---|---|
| bpfprof | `bpfprof record -t heap -p PID -d 3600` (R = 512 KiB), stopped with SIGINT after the load (or when the target exits) |
| bpfprof -R 1 | the same with `-R 1`: every allocation sampled |
| heaptrack | `heaptrack PROG ARGS` (LD_PRELOAD): `heaptrack -p PID` cannot attach here, see below |
| bpftrace memleak-like | `bpftrace -p PID` with uprobes on the target's allocator (`malloc`, `calloc`, `realloc`, `free` at function entry, uretprobes on the first three): size per thread at entry, `@allocs[retval] = size` and `@stacks[retval] = ustack` at return, both deleted on `free`/`realloc` — what bcc `memleak -p PID` does: every allocation, nothing sampled |

Targets:

- `build/workloads/heap_bench_work` (glibc malloc) blocks until SIGUSR1, so
  the profiler attaches first, then runs (1) a **paced** phase: `PACED`
  malloc+free pairs at `PACED_RATE` pairs/s in bursts of 50, measuring the
  thread CPU time inside the bursts (`CLOCK_THREAD_CPUTIME_ID`: uprobe traps
  and BPF programs are charged to the trapping thread) — slow enough to stay
  under bpfprof's governor budget, so this is the cost per call of a fully
  attached profiler; (2) a **tight** loop of malloc+free pairs of mixed sizes
  (16 B–4000 B, up to 64 live blocks per thread) for `SECS` seconds,
  counting the pairs. A fixed time rather than a fixed count because the
  tools differ by up to 1000x per call, and so that bpfprof's governor (1 s
  period) has time to act.
- Debian's `redis-server` (jemalloc; `--save '' --appendonly no`, 127.0.0.1,
  a free port, a fresh server per measurement) under `redis-benchmark -q -n
  REQS -t set,get,lpush,lpop -P 1 --csv`. bpfprof and bpftrace attach to the
  running server and probe `libjemalloc.so.2`, the allocator redis calls;
  heaptrack starts it.

Columns:

- **ns per pair, tight loop**: wall time of the tight loop / pairs done.
  **added ns per pair**: minus the same alone. **slowdown**: ns per pair /
  ns per pair alone (= throughput alone / throughput under the tool).
- **CPU ns per pair, paced** and **added**: the paced phase's thread CPU time
  per pair, and minus the same alone. heaptrack's separate
  `heaptrack_interpret` process is not in it (it is in the tight loop's wall
  time only when it competes for the CPUs).
- **bpfprof governor**: from `record`'s summary: in how many rounds it was
  `DEGRADED` (duty-cycled because traps/s x calibrated trap cost exceeded
  2 % of a CPU) and the range of the lowest duty cycles; the share of the
  allocator calls seen (median calls per run) that were sampled; uprobe
  sessions (no return trap on unsampled calls) or uretprobes.
- **redis req/s**: `redis-benchmark` requests per second of each test;
  **ratio vs alone**: geometric mean over the tests of req/s under the tool /
  req/s alone (lower is slower).

heaptrack cannot attach to a running process on this VM: `heaptrack -p PID`
injects itself with gdb, and gdb 13.1 fails every call into the inferior
here (`Couldn't write extended state status: Bad address.`, also for a plain
`call (int)getpid()`), so the injection never runs and nothing is recorded.
The script therefore starts the target under `heaptrack` (`HEAPTRACK_ATTACH=1`
tries `-p` and stops with gdb's message).

The machine is shared (2 vCPUs, other engineers' builds and tests): the
spread of the alone runs below says how much is noise.

EOF
	cat "$OUT"
}

if [ "${APPEND:-0}" = 1 ]; then
	# Replace the "## Heap" section (up to the next "## " heading or the end).
	grep -q '^## Heap *$' tests/bench/README.md || die 'no "## Heap" section in tests/bench/README.md'
	section >"$T/section.md"
	awk -v sec="$T/section.md" '
		/^## Heap *$/ { skip = 1; while ((getline l < sec) > 0) print l; next }
		skip && /^## / { skip = 0; print "" }
		!skip' tests/bench/README.md >"$T/README.md" || die "README.md not updated"
	cat "$T/README.md" >tests/bench/README.md
	echo "heap_bench: tests/bench/README.md updated" >&2
fi
