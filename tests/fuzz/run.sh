#!/usr/bin/env bash
# libFuzzer harnesses of tests/fuzz/ (built by `make fuzz-build` into build/fuzz/).
#
#   tests/fuzz/run.sh [check [SECONDS]]   (default; what `make test` runs)
#       per harness: replays corpus/<h>/ and regress/<h>/ (each reproducer
#       alone), then fuzzes SECONDS (15) from the corpus in a scratch dir;
#       prints "ok - fuzz/<h>: ..." / "not ok - fuzz/<h>: ..." lines.
#   tests/fuzz/run.sh fuzz SECONDS [RUNS]  (`make fuzz FUZZ_SECONDS=N`)
#       per harness: fuzzes SECONDS (or RUNS executions, whichever comes
#       first; RUNS 0: no cap), growing build/fuzz/corpus/<h>/; one result line
#       each with executions, exec/s and the artifact of any finding.
#   tests/fuzz/run.sh long RUNS [MAX_SECONDS]   (the long run of README.md)
#       per harness, one after the other: fuzzes in libFuzzer's fork mode,
#       going on past crashes, OOMs and timeouts (each saved and counted),
#       until about RUNS executions (or MAX_SECONDS, default 3600); a table
#       row: harness, executions, seconds, exec/s, crash/oom/timeout counts.
#       FUZZ_BIN_<h>=path runs another build of harness h.
#
# HARNESSES="pprof cfi" limits the set. Every run uses the same limits, so an
# OOM or a hang is a finding like a crash: -rss_limit_mb=2048, a single malloc
# over 1 GiB (-malloc_limit_mb=1024), 10 s per input (-timeout=10).
# Findings land in build/fuzz/artifacts/<h>/ (crash-*, oom-*, timeout-*).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

MODE=${1:-${FUZZ_MODE:-check}}
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)
ALL=$(cd tests/fuzz && for f in fuzz_*.c; do f=${f#fuzz_}; echo "${f%.c}"; done)
HARNESSES=${HARNESSES:-$ALL}
STATUS=0

case $MODE in
check) SECONDS_EACH=${2:-${FUZZ_CHECK_SECONDS:-15}} RUNS=0 ;;
fuzz)
	SECONDS_EACH=${2:-60}
	RUNS=${3:-0}
	;;
long)
	RUNS=${2:-10000000}
	SECONDS_EACH=${3:-3600}
	;;
*)
	echo "usage: tests/fuzz/run.sh [check [SECONDS] | fuzz SECONDS [RUNS] | long RUNS [MAX_SECONDS]]" >&2
	exit 2
	;;
esac

if ! make --no-print-directory -s fuzz-build >build/fuzz-build.log 2>&1; then
	echo "not ok - fuzz/build: make fuzz-build failed (clang and libclang-rt-14-dev needed): $(grep -m1 -E 'error|Error' build/fuzz-build.log | cut -c1-200)"
	exit 1
fi

# The first sanitizer or libFuzzer verdict of a log, on one line.
verdict() {
	grep -m1 -E 'runtime error:|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|SUMMARY: libFuzzer' "$1" |
		sed -E 's/^==[0-9]+== ?//' | cut -c1-200
}

# replay H: every corpus input in one run, then each reproducer alone.
replay() {
	local h=$1 bin=build/fuzz/fuzz_$1 log=build/fuzz/logs/$1.replay f bad=() n=0
	local inputs=(tests/fuzz/corpus/"$h"/* tests/fuzz/regress/"$h"/*)

	for f in tests/fuzz/corpus/"$h"/*; do [ -f "$f" ] && n=$((n + 1)); done
	if [ "$n" -gt 0 ] && ! "$bin" "${LIMITS[@]}" tests/fuzz/corpus/"$h"/* >"$log" 2>&1; then
		bad+=("corpus: $(verdict "$log")")
	fi
	for f in tests/fuzz/regress/"$h"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		if ! "$bin" "${LIMITS[@]}" "$f" >"$log" 2>&1; then
			bad+=("${f#tests/fuzz/}: $(verdict "$log")")
		fi
	done
	if [ ${#bad[@]} -eq 0 ]; then
		echo "ok - fuzz/$h: replay of ${#inputs[@]} corpus and regression inputs"
		return
	fi
	STATUS=1
	for f in "${bad[@]}"; do echo "not ok - fuzz/$h: replay $f"; done
}

# fuzz H SECONDS RUNS DIR: fuzzes from DIR (seeded with the repo corpus).
fuzz() {
	local h=$1 secs=$2 runs=$3 dir=$4 bin=build/fuzz/fuzz_$1 log=build/fuzz/logs/$1.fuzz
	local art=build/fuzz/artifacts/$1/ execs rate what rc

	mkdir -p "$dir" "$art"
	nice "$bin" "${LIMITS[@]}" -max_total_time="$secs" -runs="$([ "$runs" -gt 0 ] && echo "$runs" || echo -1)" -print_final_stats=1 \
		-artifact_prefix="$art" "$dir" tests/fuzz/corpus/"$h" >"$log" 2>&1
	rc=$?
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
	rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
	what="${execs:-?} execs, ${rate:-?} exec/s, $(ls "$dir" | wc -l) corpus files"
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz/$h: fuzzed ${secs} s: $what"
		return
	fi
	STATUS=1
	echo "not ok - fuzz/$h: fuzzing found: $(verdict "$log") ($what; input: $(sed -nE 's/.*Test unit written to (.*)/\1/p' "$log" | tail -1); log: $log)"
}

# long H RUNS MAX_SECONDS: fork mode until RUNS executions or MAX_SECONDS.
long() {
	local h=$1 runs=$2 max=$3 log=build/fuzz/logs/$1.long dir=build/fuzz/corpus/$1
	local art=build/fuzz/artifacts/$1/ var=FUZZ_BIN_$1 bin t0 t n last

	bin=${!var:-build/fuzz/fuzz_$h}
	mkdir -p "$dir" "$art"
	t0=$(date +%s)
	nice "$bin" "${LIMITS[@]}" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
		-runs="$runs" -max_total_time="$max" -artifact_prefix="$art" "$dir" \
		tests/fuzz/corpus/"$h" >"$log" 2>&1
	last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
	n=$(sed -nE 's/^#([0-9]+): cov.*/\1/p' <<<"$last")
	t=$(($(date +%s) - t0))
	printf '| %s | %s | %s | %s | %s |\n' "$h" "${n:-0}" "$t" "$((${n:-0} / (t > 0 ? t : 1)))" \
		"$(sed -nE 's/.*oom\/timeout\/crash: ([0-9]+\/[0-9]+\/[0-9]+).*/\1/p' <<<"$last")"
}

mkdir -p build/fuzz/logs
if [ "$MODE" = long ]; then
	echo "| harness | executions | seconds | exec/s | oom/timeout/crash |"
	echo "| --- | --- | --- | --- | --- |"
	for h in $HARNESSES; do long "$h" "$RUNS" "$SECONDS_EACH"; done
	exit 0
fi
for h in $HARNESSES; do
	if [ ! -x "build/fuzz/fuzz_$h" ]; then
		echo "not ok - fuzz/$h: build/fuzz/fuzz_$h not built"
		STATUS=1
		continue
	fi
	if [ "$MODE" = check ]; then
		replay "$h"
		rm -rf "build/fuzz/scratch/$h"
		fuzz "$h" "$SECONDS_EACH" 0 "build/fuzz/scratch/$h"
	else
		fuzz "$h" "$SECONDS_EACH" "$RUNS" "build/fuzz/corpus/$h"
	fi
done
exit $STATUS
