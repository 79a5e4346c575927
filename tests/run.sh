#!/usr/bin/env bash
# Test runner: tests/run.sh [unit|integration|fuzz|all]   (default: all)
#
#   unit         every build/tests/unit/test_* (cmocka, ASan build)
#   integration  every tests/integration/test_*.sh with build/bpfprof, then a
#                smoke subset with the ASan build (build/asan/bpfprof)
#   fuzz         tests/fuzz/run.sh check: each libFuzzer harness replays its
#                corpus and reproducers, then fuzzes FUZZ_CHECK_SECONDS (15)
#
# Prints one result line per test, a summary of failures, and as its last line
# "N passed, N failed". Exits 1 if anything failed. Run as root from anywhere.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

MODE=${1:-all}
case $MODE in
unit | integration | fuzz | all) ;;
*)
	echo "usage: tests/run.sh [unit|integration|fuzz|all]" >&2
	exit 2
	;;
esac

PASSED=0
FAILED=0
FAILURES=()

# Smoke subset run again against the ASan/UBSan build.
ASAN_BIN=build/asan/bpfprof
ASAN_ONLY='^(record -p PID|record --format folded|unknown PID|PID exits mid-run|-F 0|-d abc|unknown flag|unwritable output|SIGINT)'

run_unit() {
	local bin out rc p f nf name lines crashed
	shopt -s nullglob
	local bins=(build/tests/unit/test_*)
	shopt -u nullglob
	if [ ${#bins[@]} -eq 0 ]; then
		echo "# no unit test binaries in build/tests/unit (make all)"
		return
	fi
	for bin in "${bins[@]}"; do
		if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
		case $bin in *.d | *.o) continue ;; esac
		name=${bin#build/tests/unit/}
		out=$(CMOCKA_MESSAGE_OUTPUT=stdout ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
			timeout -k 5 300 "$bin" 2>&1)
		rc=$?
		p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test\(s\)\..*/\1/p' <<<"$out" | tail -1)
		f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test\(s\).*/\1/p' <<<"$out" | tail -1)
		p=${p:-0}
		f=${f:-0}
		# Per-test lines as ok / not ok.
		lines=$(sed -nE "s/^\[       OK \] (.*)/ok - unit\/$name: \1/p; s/^\[  FAILED  \] ([^0-9].*|[0-9]+[^ ].*)/not ok - unit\/$name: \1/p" <<<"$out" | sort -u)
		# A test that started but has no result line crashed the binary.
		crashed=$(awk '/^\[ RUN      \] / { sub(/^\[ RUN      \] /, ""); run[$0] = 1 }
			/^\[       OK \] / { sub(/^\[       OK \] /, ""); delete run[$0] }
			/^\[  FAILED  \] / { sub(/^\[  FAILED  \] /, ""); delete run[$0] }
			END { for (t in run) print t }' <<<"$out")
		if [ -n "$crashed" ]; then
			lines=$(printf '%s\n' "$lines"; sed "s/^/not ok - unit\/$name: /; s/\$/ (crashed: no result line)/" <<<"$crashed")
			lines=$(sed '/^$/d' <<<"$lines")
		fi
		[ -n "$lines" ] && echo "$lines"
		nf=$(grep -c '^not ok' <<<"$lines")
		[ "$nf" -gt "$f" ] && f=$nf
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			# Crashed (sanitizer, signal) or exited non-zero without a failed test.
			f=1
			echo "not ok - unit/$name: exit $rc without a cmocka failure line: $(grep -m1 -E 'ERROR: |runtime error:|Assertion|Segmentation' <<<"$out" | cut -c1-200)"
		elif [ "$rc" -ne 0 ] && grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' <<<"$out"; then
			echo "# unit/$name: sanitizer report: $(grep -m1 -E 'runtime error:|ERROR: (Address|Leak)Sanitizer' <<<"$out" | cut -c1-200)"
		fi
		if [ "$f" -gt 0 ]; then
			FAILURES+=("unit/$name: $f failed")
			grep -E '^\[ +(ERROR|LINE) +\]|ERROR: |runtime error:' <<<"$out" | head -6 | sed 's/^/#   /'
		fi
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
	done
}

# run_script SCRIPT LABEL [ENV...]: runs one integration script, echoing its
# ok/not ok lines (prefixed with LABEL) and counting them.
run_script() {
	local script=$1 label=$2 line rc=255 p=0 f=0
	shift 2
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			echo "ok - $label${line#ok - }"
			p=$((p + 1))
			;;
		"not ok - "*)
			echo "not ok - $label${line#not ok - }"
			FAILURES+=("$label${line#not ok - }")
			f=$((f + 1))
			;;
		__rc=*) rc=${line#__rc=} ;;
		*) echo "# $line" ;;
		esac
	done < <(env "$@" bash "$script" 2>&1; echo "__rc=$?")
	if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $label${script##*/}: exited $rc without a failing case"
		FAILURES+=("$label${script##*/}: exited $rc")
		f=1
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
}

run_integration() {
	local s
	shopt -s nullglob
	local scripts=(tests/integration/test_*.sh)
	shopt -u nullglob
	for s in "${scripts[@]}"; do
		echo "# ${s}"
		run_script "$s" "" BPFPROF="${BPFPROF:-build/bpfprof}"
	done
	if [ ! -x "$ASAN_BIN" ]; then
		echo "not ok - asan: $ASAN_BIN not built"
		FAILURES+=("asan: $ASAN_BIN not built")
		FAILED=$((FAILED + 1))
		return
	fi
	for s in tests/integration/test_cpu_split.sh tests/integration/test_errors.sh tests/integration/test_system.sh; do
		echo "# ${s} (ASan)"
		run_script "$s" "asan: " BPFPROF="$ASAN_BIN" ONLY="$ASAN_ONLY" \
			ASAN_OPTIONS=detect_leaks=1:exitcode=86
	done
}

run_fuzz() {
	echo "# tests/fuzz/run.sh check"
	run_script tests/fuzz/run.sh "" FUZZ_MODE=check
}

if [ "$(id -u)" != 0 ] && [ "$MODE" != unit ] && [ "$MODE" != fuzz ]; then
	echo "# warning: integration tests need root" >&2
fi

case $MODE in
unit) run_unit ;;
integration) run_integration ;;
fuzz) run_fuzz ;;
all)
	run_unit
	run_integration
	run_fuzz
	;;
esac

if [ ${#FAILURES[@]} -gt 0 ]; then
	echo "# failures:"
	for x in "${FAILURES[@]}"; do echo "#   $x"; done
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
