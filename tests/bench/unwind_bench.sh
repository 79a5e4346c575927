#!/usr/bin/env bash
# Unwinding benchmark (root): table size and compile time per binary, agent
# memory while profiling the whole host with .eh_frame unwinding, and the
# BPF cost per sample, dwarf against frame pointers.
#   tests/bench/unwind_bench.sh            knobs: SECS=10 HZ=999 BIG=/path/to/elf
# Prints markdown for the "## Unwinding" section of tests/bench/README.md.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
SECS=${SECS:-10}
HZ=${HZ:-999}
BPFPROF=${BPFPROF:-build/bpfprof}
T=$(mktemp -d /tmp/bpfprof-ubench.XXXXXX) || exit 1
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

gcc -O2 -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser -D_GNU_SOURCE \
	-o "$T/tablestat" tests/bench/unwind_tablestat.c user/unwind/cfi.c -ldw -lelf || exit 1
gcc -O2 -g -fomit-frame-pointer -o "$T/unwind_work" tests/workloads/unwind_work.c -lpthread -ldl || exit 1

# The largest ELF file under /usr, /opt and /lib (or BIG).
largest_elf() {
	find /usr /opt /lib -xdev -type f -size +20M -printf '%s %p\n' 2>/dev/null | sort -nr |
		while read -r _ f; do
			if head -c4 "$f" 2>/dev/null | grep -q ELF && "$T/tablestat" "$f" >/dev/null 2>&1; then
				echo "$f"
				break
			fi
		done
}

echo "### Table size and compile time"
echo
echo "| binary | file MiB | FDEs | rows | table KiB | compile ms | compiler peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for f in /lib/x86_64-linux-gnu/libc.so.6 /usr/bin/python3.11 /usr/bin/gzip "${BIG:-$(largest_elf)}"; do
	[ -n "$f" ] || continue
	out=$( { /usr/bin/time -f 'rss %M' "$T/tablestat" "$f"; } 2>&1)
	rss=$(sed -n 's/^rss //p' <<<"$out")
	read -r p size fdes rows bytes ms _ <<<"$(grep -v '^rss' <<<"$out")"
	printf '| %s | %.1f | %s | %s | %.0f | %s | %.1f |\n' "$p" "$(bc -l <<<"$size/1048576")" \
		"$fdes" "$rows" "$(bc -l <<<"$bytes/1024")" "$ms" "$(bc -l <<<"$rss/1024")"
done
echo

# Background load: python3, gzip -9 and the omit-frame-pointer workload.
printf '%s\n' 'import time' 'def f(n):' '    return sum(i * i for i in range(n))' \
	't = time.time()' "while time.time() - t < 3600: f(10000)" >"$T/loop.py"
seq 1 20000000 >"$T/big.txt"
/usr/bin/python3 "$T/loop.py" & PIDS+=($!)
PY=$!
(while :; do gzip -9 -c "$T/big.txt" >/dev/null; done) & PIDS+=($!)
"$T/unwind_work" thread 3600 & PIDS+=($!)
sleep 1

echo "### Agent memory, whole host, ${SECS} s at 99 Hz"
echo
echo "| unwind | peak RSS MiB | unwind tables | stacks complete / truncated |"
echo "|---|---|---|---|"
for mode in dwarf fp; do
	/usr/bin/time -f 'rss %M' "$BPFPROF" record -d "$SECS" --unwind "$mode" -o "$T/host.pb.gz" 2>"$T/host.$mode.err"
	rss=$(sed -n 's/^rss //p' "$T/host.$mode.err")
	tables=$(sed -n 's/^bpfprof: unwind tables: //p' "$T/host.$mode.err" | cut -d';' -f1)
	stacks=$(sed -n 's/^bpfprof: unwind: \([0-9]*\) stacks complete, truncated: \(.*\); .*/\1 \/ \2/p' "$T/host.$mode.err")
	printf '| %s | %.1f | %s | %s |\n' "$mode" "$(bc -l <<<"$rss/1024")" "${tables:-n/a}" "${stacks:-n/a}"
done
echo

# run_time_ns / run_cnt of our do_sample, found through our own process's fds.
prog_cost() {
	local pid=$1 ids id
	ids=$(grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u)
	for id in $ids; do
		bpftool -j prog show id "$id" 2>/dev/null |
			jq -r 'select(.name == "do_sample") | "\(.run_time_ns) \(.run_cnt)"'
	done | head -1
}

echo "### BPF cost per sample (python3 process, -p, ${HZ} Hz, ${SECS} s)"
echo
echo "| unwind | samples | ns per sample (run_time_ns / run_cnt) |"
echo "|---|---|---|"
old=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for mode in dwarf fp; do
	"$BPFPROF" record -p "$PY" -F "$HZ" -d "$SECS" --unwind "$mode" -o "$T/py.pb.gz" 2>/dev/null &
	bpid=$!
	sleep $((SECS - 1))
	read -r ns cnt <<<"$(prog_cost "$bpid")"
	wait "$bpid"
	printf '| %s | %s | %s |\n' "$mode" "${cnt:-?}" "$( [ -n "${cnt:-}" ] && [ "$cnt" -gt 0 ] && echo $((ns / cnt)) || echo '?')"
done
sysctl -qw kernel.bpf_stats_enabled="$old"
echo
echo "Linux $(uname -r), $(nproc) CPUs, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
