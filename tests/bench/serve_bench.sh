#!/usr/bin/env bash
# HTTP throughput of `bpfprof serve`: requests per second and latency
# percentiles under wrk for /health/ready, /metrics and
# /debug/pprof/profile?last=1m, printed as a markdown table.
#
#   tests/bench/serve_bench.sh            (root; from anywhere)
#
# Knobs: BPFPROF (default build/bpfprof), THREADS=2, CONNS=32, DURATION=10s,
# WARMUP=12 (seconds of sampling before the first run, so last=1m has closed
# windows to merge), WINDOW=10 (--window), WORKLOAD=1 (run cpu_split meanwhile
# so profiles hold a busy process; 0: idle machine).
#
# The daemon runs with --rate-limit 0 (no 429s) and --max-long-requests
# CONNS (so history queries are not turned away by the cap on long
# requests). Any non-2xx answer or socket error is reported in the table.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

BPFPROF=${BPFPROF:-build/bpfprof}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-12}
WINDOW=${WINDOW:-10}
WORKLOAD=${WORKLOAD:-1}

for tool in wrk curl; do
	command -v "$tool" >/dev/null || { echo "serve_bench: $tool not installed (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$BPFPROF" ] || { echo "serve_bench: $BPFPROF not built (make)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "serve_bench: must run as root (BPF)" >&2; exit 1; }

T=$(mktemp -d /tmp/bpfprof-servebench.XXXXXX) || exit 1
DPID=
WPID=
cleanup() {
	[ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$WORKLOAD" = 1 ] && [ -x build/workloads/cpu_split ]; then
	build/workloads/cpu_split 3600 >/dev/null 2>&1 &
	WPID=$!
fi
"$BPFPROF" serve --listen 127.0.0.1:0 --rate-limit 0 --max-long-requests "$CONNS" \
	--window "$WINDOW" 2>"$T/serve.err" &
DPID=$!
PORT=
for _ in $(seq 200); do
	PORT=$(sed -nE 's#.*serving on http://127\.0\.0\.1:([0-9]+)/.*#\1#p' "$T/serve.err")
	[ -n "$PORT" ] && break
	kill -0 "$DPID" 2>/dev/null || { echo "serve_bench: daemon exited: $(cat "$T/serve.err")" >&2; exit 1; }
	sleep 0.1
done
[ -n "$PORT" ] || { echo "serve_bench: daemon did not start" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
sleep "$WARMUP"
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$DPID/status)

# to_ms VALUE: wrk's "1.23ms" / "456.00us" / "1.05s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000
		else if (v ~ /ms$/) n = n
		else if (v ~ /m$/) n *= 60000
		else if (v ~ /s$/) n *= 1000
		printf "%.2f", n }'
}

ROWS=()
for path in /health/ready /metrics '/debug/pprof/profile?last=1m'; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$URL$path")
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$URL$path" >"$T/wrk.out" 2>&1
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$T/wrk.out")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$T/wrk.out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$T/wrk.out")")
	total=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$T/wrk.out")
	sockerr=$(sed -nE 's/.*Socket errors: (.*)/\1/p' "$T/wrk.out")
	size=$(curl -s -o /dev/null -w '%{size_download}' "$URL$path")
	ROWS+=("| \`$path\` | $code | $size | ${rps:-?} | $p50 | $p99 | ${total:-?} | ${non2xx:-0} | ${sockerr:-none} |")
done
rss1=$(awk '/^VmRSS:/ { print $2 }' /proc/$DPID/status)

echo "Command: \`tests/bench/serve_bench.sh\` (wrk -t$THREADS -c$CONNS -d$DURATION --latency, one run per route;" \
	"daemon: --rate-limit 0 --max-long-requests $CONNS --window $WINDOW, ${WARMUP} s of sampling first," \
	"cpu_split $([ -n "$WPID" ] && echo running || echo not running)); $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%d)."
echo
echo "| route | status | body bytes | requests/s | p50 (ms) | p99 (ms) | requests | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Daemon VmRSS: $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB after the runs."
