#!/usr/bin/env bash
# ns per malloc+free pair (64 bytes, tight loop, best of 5 rounds of 5 M
# pairs) alone, with libbpfprof-heap.so preloaded and no agent (countdown
# only), and with BPFPROF_HEAP_RATE set (sampling at the default 512 KiB into
# the set, hooks called, no uprobe on them), and under the agent (`bpfprof
# record -t heap -- BENCH`: preloaded, uprobes on the hooks, default R).
# Interleaved over ROUNDS rounds; medians. Usage (root):
# tests/bench/heapsampler_bench.sh  (after make). Knobs: ROUNDS (5), SIZE (64).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
ROUNDS=${ROUNDS:-5}
SIZE=${SIZE:-64}
LIB=$ROOT/build/libbpfprof-heap.so
BENCH=$ROOT/build/tests/bench/heapsampler_bench
[ -x "$BENCH" ] && [ -f "$LIB" ] || {
	echo "heapsampler_bench: build first (make)" >&2
	exit 1
}
OUT=$(mktemp -d /tmp/heapsampler-bench.XXXXXX) || exit 1
trap 'rm -rf "$OUT"' EXIT
declare -A R
for ((r = 0; r < ROUNDS; r++)); do
	R[alone]+="$("$BENCH" "$SIZE") "
	R[lib]+="$(LD_PRELOAD=$LIB "$BENCH" "$SIZE") "
	R[lib_rate]+="$(LD_PRELOAD=$LIB BPFPROF_HEAP_RATE=524288 "$BENCH" "$SIZE") "
	R[agent]+="$("$ROOT/build/bpfprof" record -t heap -o "$OUT/h.pb.gz" -- "$BENCH" "$SIZE" 2>"$OUT/err") "
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(median <<<"${R[alone]}")
printf '| %-46s | %8s | %8s |\n' "malloc($SIZE)+free, median of $ROUNDS" "ns/pair" "added"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "----------" "----------"
for k in alone lib lib_rate agent; do
	case $k in
	alone) name="alone" ;;
	lib) name="libbpfprof-heap.so, no agent (countdown only)" ;;
	lib_rate) name="libbpfprof-heap.so, BPFPROF_HEAP_RATE=512K" ;;
	agent) name="record -t heap -- (library + agent)" ;;
	esac
	m=$(median <<<"${R[$k]}")
	printf '| %-46s | %8s | %8s |\n' "$name" "$m" "$(awk -v m="$m" -v a="$a" 'BEGIN {printf "%+.1f", m - a}')"
done
