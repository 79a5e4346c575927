#!/usr/bin/env bash
# .eh_frame unwinding: user stacks of code built without frame pointers
# (Debian's python3 and gzip, our workload at -O2 -fomit-frame-pointer)
# reach the program's entry; the frame-pointer walk and
# `perf record --call-graph dwarf` are measured on the same run for
# comparison; dlopen'd code, threads and signal handlers unwind through.
# Assertions are on completeness and agreement with perf, never on time.
source "$(dirname "$0")/lib.sh"
require_prereqs

SECS=${UNWIND_SECS:-5}
FREQ=${UNWIND_FREQ:-499}
ENTRY='^(_start|__libc_start_main|__libc_start_main_impl|__libc_start_call_main|main|start_thread|clone3|clone)$'
UW=$T/unwind_work

build_workloads() {
	gcc -O2 -g -fomit-frame-pointer -o "$UW" tests/workloads/unwind_work.c -lpthread -ldl &&
		printf '%s\n' 'volatile unsigned long lsink;' \
			'__attribute__((noinline)) static void lib_inner(int n) { for (int i = 0; i < n; i++) lsink += (unsigned long)i * 3; }' \
			'__attribute__((noinline)) void lib_burn(int n) { lib_inner(n); lsink++; }' >"$T/lib.c" &&
		gcc -O2 -g -fomit-frame-pointer -shared -fPIC -o "$T/libuw.so" "$T/lib.c"
}

# folded_stats FILE: "entry_share" (% of stacks with an entry frame: a stripped
# binary's _start is unnamed, but libc's __libc_start_call_main shows main was
# passed) on the first line, then "name<TAB>inclusive%" for
# every function, names normalized (.constprop/.part/.isra/.cold suffixes, glibc's
# __libc_start_main_impl alias) so perf's and ours compare.
folded_stats() {
	awk -v entry="$ENTRY" '
	function norm(s) { sub(/\.(constprop|part|isra|cold|lto_priv)(\.[0-9]+)*$/, "", s)
		sub(/\.(constprop|part|isra)(\.[0-9]+)*$/, "", s)
		if (s == "__libc_start_main_impl") s = "__libc_start_main"; return s }
	NF >= 2 {
		n = $NF; s = substr($0, 1, length($0) - length($NF) - 1)
		k = split(s, f, ";"); total += n
		delete seen
		hit = 0
		for (i = 2; i <= k; i++) {
			m = norm(f[i]); if (m ~ entry) hit = 1
			if (!(m in seen)) { seen[m] = 1; inc[m] += n }
		}
		ent += hit ? n : 0
	}
	END {
		printf "%.1f\n", total ? 100 * ent / total : 0
		for (m in inc) printf "%s\t%.2f\n", m, 100 * inc[m] / total
	}' "$1"
}

# perf_folded PERFDATA: perf script callchains as folded lines, user frames only.
perf_folded() {
	perf script -i "$1" -F comm,pid,ip,sym,dso --no-inline 2>/dev/null | awk '
	function flush() { if (nf) { s = comm; for (i = nf; i >= 1; i--) s = s ";" fr[i]; print s, 1 } nf = 0 }
	/^[^ \t]/ { flush(); comm = $1; next }
	/^[ \t]*$/ { flush(); next }
	{ if ($0 ~ /\[kernel\.kallsyms\]/) next
	  sym = $2; for (i = 3; i < NF; i++) sym = sym " " $i
	  sub(/\+0x[0-9a-f]+$/, "", sym); fr[++nf] = sym }
	END { flush() }'
}

# profile_three NAME PID: our dwarf and fp walks and perf's dwarf walk of PID, at once.
profile_three() {
	local name=$1 pid=$2 pp
	perf record -q -e cpu-clock -F "$FREQ" --call-graph dwarf,32768 -p "$pid" -o "$T/$name.perf" \
		-- sleep "$SECS" >/dev/null 2>&1 &
	pp=$!
	bp "$T/$name.fp" record -p "$pid" -d "$SECS" -F "$FREQ" --unwind fp --no-kernel --format folded \
		-o "$T/$name.fp.folded" &
	bp "$T/$name" record -p "$pid" -d "$SECS" -F "$FREQ" --no-kernel --format folded -o "$T/$name.folded"
	wait
	expect_rc 0 || return 1
	wait "$pp" 2>/dev/null
	perf_folded "$T/$name.perf" >"$T/$name.perf.folded"
}

# judge NAME: >= 95 % of our stacks reach the entry; top-10 inclusive within 5 points of perf.
judge() {
	local name=$1 ours fp perfs worst
	folded_stats "$T/$name.folded" >"$T/$name.stats"
	folded_stats "$T/$name.fp.folded" >"$T/$name.fp.stats"
	folded_stats "$T/$name.perf.folded" >"$T/$name.perf.stats"
	ours=$(head -1 "$T/$name.stats")
	fp=$(head -1 "$T/$name.fp.stats")
	perfs=$(head -1 "$T/$name.perf.stats")
	echo "# $name: stacks reaching the entry: dwarf $ours%, frame pointers $fp%, perf --call-graph dwarf $perfs%" \
		"($(grep -c . "$T/$name.perf.folded") perf samples)"
	if ! awk -v s="$ours" 'BEGIN { exit !(s >= 95) }'; then
		fail "$name: only $ours% of stacks reach the entry (want >= 95%; $(grep 'unwind:' "$BP_ERR" | head -1))"
		return 1
	fi
	# Top 10 by our inclusive share among functions both tools name (perf names
	# inlined frames and glibc aliases differently), against perf's share.
	awk -F'\t' 'NR == FNR { p[$1] = 1; next } ($1 in p)' <(tail -n +2 "$T/$name.perf.stats") \
		<(tail -n +2 "$T/$name.stats") | grep -vE '^\[|\+0x|^0x' | sort -t$'\t' -k2 -nr |
		head -10 >"$T/$name.top"
	awk -F'\t' 'NR == FNR { p[$1] = $2; next }
		{ d = $2 - p[$1]; if (d < 0) d = -d; printf "%s\t%s\t%s\t%.1f\n", $1, $2, p[$1] + 0, d }' \
		<(tail -n +2 "$T/$name.perf.stats") "$T/$name.top" >"$T/$name.cmp"
	echo "#   function, inclusive % ours, perf's, difference:"
	sed 's/^/#   /' "$T/$name.cmp"
	if [ "$(grep -c . "$T/$name.cmp")" -lt 3 ]; then
		# A stripped binary (Debian's gzip): perf names only [unknown], we name only
		# offsets; completeness is still compared above.
		echo "#   (fewer than 3 functions named by both tools: top-10 not compared)"
		return 0
	fi
	# Both tools sample independently: on a loaded machine (few samples) the
	# limit widens to 3 standard errors of the difference of two shares.
	worst=$(awk -F'\t' -v n1="$(awk '{ s += $NF } END { print s + 0 }' "$T/$name.folded")" \
		-v n2="$(grep -c . "$T/$name.perf.folded")" '
		{ p = ($2 + $3) / 200; se = 100 * sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
		  lim = 3 * se > 5 ? 3 * se : 5
		  if ($4 > lim) printf "%s ours %s%% perf %s%% (limit %.1f points) ", $1, $2, $3, lim }' \
		"$T/$name.cmp")
	if [ -n "$worst" ]; then
		fail "$name: top-10 inclusive share differs from perf's: $worst"
		return 1
	fi
}

case_workload_omit_fp() {
	start_bg "$UW" cpu $((SECS + 4))
	sleep 0.5
	profile_three wl "$BG_PID" || return 1
	judge wl
}

case_python() {
	printf '%s\n' 'import time' 'def f(n):' '    return sum(i * i for i in range(n))' \
		't = time.time()' "while time.time() - t < $((SECS + 4)): f(10000)" >"$T/loop.py"
	start_bg /usr/bin/python3 "$T/loop.py"
	sleep 0.5
	profile_three python "$BG_PID" || return 1
	judge python
}

case_gzip() {
	[ -s "$T/big.txt" ] || seq 1 40000000 >"$T/big.txt"
	start_bg gzip -9 -c "$T/big.txt"
	sleep 0.5
	profile_three gzip "$BG_PID" || return 1
	judge gzip
}

# share FOLDED LEAF_RE NEED_RE: % of stacks with a LEAF_RE frame that also have NEED_RE frames.
share() {
	awk -v leaf="$2" -v need="$3" '
	{ n = $NF; s = ";" substr($0, 1, length($0) - length($NF) - 1) ";"
	  if (s !~ leaf) next; tot += n; if (s ~ need) ok += n }
	END { printf "%.1f %d\n", tot ? 100 * ok / tot : 0, tot }' "$1"
}

# expect_share NAME FOLDED LEAF NEED MIN: at least MIN % of LEAF's samples have NEED.
expect_share() {
	local got
	got=$(share "$2" "$3" "$4")
	echo "# $1: ${got% *}% of ${got#* } samples"
	if [ "${got#* }" -lt 20 ] || ! awk -v s="${got% *}" -v m="$5" 'BEGIN { exit !(s >= m) }'; then
		fail "$1: ${got% *}% of ${got#* } samples with $3 have $4 (want >= $5%)"
		return 1
	fi
}

case_dlopen() {
	bp "$T/dl" record --no-kernel --format folded -o "$T/dl.folded" -- "$UW" dlopen "$SECS" "$T/libuw.so"
	expect_rc 0 || return 1
	expect_share dlopen "$T/dl.folded" ';lib_inner;' ';_start;.*;main;call_lib;lib_burn;lib_inner;' 90
}

case_thread() {
	bp "$T/th" record --no-kernel --format folded -o "$T/th.folded" -- "$UW" thread "$SECS"
	expect_rc 0 || return 1
	expect_share thread "$T/th.folded" ';burn_leaf;' ';(clone3|clone);start_thread;thread_main;level_a' 95
}

case_signal() {
	bp "$T/sig" record --no-kernel --format folded -o "$T/sig.folded" -- "$UW" signal "$SECS"
	expect_rc 0 || return 1
	expect_share signal "$T/sig.folded" ';handler_burn;' ';_start;.*;main;interrupted_loop;.*;on_prof;handler_burn;' 90
}

case_bad_flag() {
	bp "$T/bad" record --unwind frames -d 1
	expect_error 2 || return 1
	bp "$T/bad2" record --unwind-table-mb 0 -d 1
	expect_error 2
}

if ! build_workloads; then
	echo "not ok - prerequisites: cannot build the omit-frame-pointer workload"
	exit 1
fi
command -v perf >/dev/null || echo "# perf missing: comparisons will fail"
run_case "unwind: -O2 -fomit-frame-pointer workload reaches main (dwarf >= 95%, vs fp and perf)" case_workload_omit_fp
run_case "unwind: Debian python3 reaches _start (dwarf >= 95%, vs fp and perf)" case_python
run_case "unwind: gzip -9 reaches _start (dwarf >= 95%, vs fp and perf)" case_gzip
run_case "unwind: a library dlopen'd after start-up is unwound through" case_dlopen
run_case "unwind: a thread's stack reaches start_thread/clone3" case_thread
run_case "unwind: a signal handler unwinds into the interrupted function" case_signal
run_case "unwind: bad --unwind and --unwind-table-mb values are usage errors" case_bad_flag
finish
