#!/usr/bin/env bash
# Issue 16, CFI part: a local user's binary with hostile .eh_frame cannot
# hang or blow up the root agent. The workload spins in functions whose FDEs
# name registers 200000000 (`.cfi_undefined`) and 211812270
# (DW_CFA_expression) after 32 rows (libdw: 1.5 GB and 4 s per row; `record
# -p` took 20.5 s and 3.1 GB), in an ordinary C function, and in a dlopen'd
# library whose one FDE has 4.3 M rows (over the compiler's 4 Mi-row budget;
# the libdw walk was quadratic in them). The real agent (`record -p` and
# `serve`) must end on time, keep its peak RSS under RSS_BUDGET_MB, keep
# sampling the ordinary function, and report the refused FDEs and the
# over-budget binary (summary line, /metrics).
source "$(dirname "$0")/lib.sh"
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl gcc python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done

# The agent's own baseline is ~100 MB (BPF skeletons, symbol cache); the
# big library maps 17 MB and its capped rows take 48 MB. The old compiler
# peaked at 3.1 GB on the register case alone.
RSS_BUDGET_MB=${RSS_BUDGET_MB:-400}
HC=$WL/hostile_cfi
BIG=$T/libbigcfi.so

# build_big: a library whose big_spin FDE has 2 x 2150000 rows (advance 1,
# CFA rsp+16; advance 1, CFA rsp+8), written as raw .eh_frame bytes: gas
# with .cfi directives would take 2 GB to assemble it.
build_big() {
	cat >"$T/big.S" <<'ASM'
	.text
	.globl big_spin
	.type big_spin,@function
big_spin:
.Lstart:
	mov $3000000, %ecx
1:	dec %ecx
	jnz 1b
	ret
	.fill 4300000, 1, 0x90
.Lend:
	.size big_spin, .-big_spin
	.section .eh_frame,"a",@progbits
.Lcie:
	.long .Lcie_end - .Lcie_start
.Lcie_start:
	.long 0			/* CIE id */
	.byte 1			/* version */
	.asciz "zR"
	.uleb128 1		/* code alignment */
	.sleb128 -8		/* data alignment */
	.byte 16		/* return address column */
	.uleb128 1
	.byte 0x1b		/* FDE pointers: pcrel sdata4 */
	.byte 0x0c, 7, 8	/* def_cfa rsp+8 */
	.byte 0x90, 1		/* offset r16 at cfa-8 */
	.balign 4, 0
.Lcie_end:
	.long .Lfde_end - .Lfde_start
.Lfde_start:
	.long .Lfde_start - .Lcie
	.long .Lstart - .
	.long .Lend - .Lstart
	.uleb128 0
	.byte 0x4c		/* advance 12: past the loop */
	.rept 2150000
	.byte 0x41, 0x0e, 0x10, 0x41, 0x0e, 0x08
	.endr
	.balign 4, 0
.Lfde_end:
	.section .note.GNU-stack,"",@progbits
ASM
	gcc -shared -nostdlib -o "$BIG" "$T/big.S"
}

# rss_check KB WHAT: fails when KB is over RSS_BUDGET_MB.
rss_check() {
	local kb=$1 what=$2
	[ -n "$kb" ] || { fail "$what: no peak RSS measured"; return 1; }
	if [ "$kb" -gt $((RSS_BUDGET_MB * 1024)) ]; then
		fail "$what: peak RSS $((kb / 1024)) MB, budget $RSS_BUDGET_MB MB"
		return 1
	fi
}

case_record() {
	local w line rss
	start_bg "$HC" 60 "$BIG"
	w=$BG_PID
	wait_exe "$w" || { fail "workload did not start"; return 1; }
	sleep 0.5
	kill -0 "$w" 2>/dev/null || { fail "workload exited: cannot load $BIG?"; return 1; }
	BP_WRAP=(/usr/bin/time -f 'bpfprof-peak-rss-kb %M')
	BP_TIMEOUT=60 bp "$T/rec" record -p "$w" -d 4 --no-kernel --format folded -o "$T/rec.folded"
	BP_WRAP=()
	expect_rc 0 || return 1
	rss=$(sed -n 's/^bpfprof-peak-rss-kb //p' "$BP_ERR")
	rss_check "$rss" "record -p" || return 1
	grep -q 'normal_spin' "$T/rec.folded" ||
		{ fail "no normal_spin stacks: the agent stopped sampling ($(head -3 "$T/rec.folded" | tr '\n' '|'))"; return 1; }
	line=$(grep '^bpfprof: unwind tables:' "$BP_ERR")
	[ -n "$line" ] || { fail "no unwind tables summary line"; return 1; }
	[[ $line =~ ([0-9]+)\ over\ budget ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] ||
		{ fail "summary does not report the over-budget library: $line"; return 1; }
	[[ $line =~ ([0-9]+)\ FDEs\ refused ]] && [ "${BASH_REMATCH[1]}" -ge 2 ] ||
		{ fail "summary does not report the 2 refused FDEs: $line"; return 1; }
	echo "# record -p: ${BP_SECS} s, peak RSS $((rss / 1024)) MB; $line"
}

# metric NAME: its value in the last /metrics body ("" if absent).
metric() {
	awk -v n="$1" '$1 == n { print $2 }' "$BODY"
}

case_serve() {
	local w i over= refused= hwm fcode
	start_bg "$HC" 60 "$BIG"
	w=$BG_PID
	wait_exe "$w" || { fail "workload did not start"; return 1; }
	serve_start hc --window 2 --rate-limit 0 || return 1
	# The daemon tables the workload when it first samples it.
	for i in $(seq 60); do
		req "$SV_URL/metrics"
		over=$(metric bpfprof_unwind_binaries_over_budget_total)
		refused=$(metric bpfprof_unwind_fdes_rejected_total)
		[ "${over:-0}" -ge 1 ] 2>/dev/null && [ "${refused:-0}" -ge 2 ] 2>/dev/null && break
		sleep 0.5
	done
	[ "${over:-0}" -ge 1 ] 2>/dev/null ||
		{ fail "/metrics: bpfprof_unwind_binaries_over_budget_total '${over}' after 30 s, want >= 1"; return 1; }
	[ "${refused:-0}" -ge 2 ] 2>/dev/null ||
		{ fail "/metrics: bpfprof_unwind_fdes_rejected_total '${refused}', want >= 2"; return 1; }
	# Windows closed since then (2 s each) hold the workload's ordinary code.
	for i in $(seq 20); do
		req "$SV_URL/debug/pprof/profile?last=1m&pid=$w&format=folded"
		fcode=$CODE
		[ "$fcode" = 200 ] && grep -q 'normal_spin' "$BODY" && break
		sleep 0.5
	done
	[ "$fcode" = 200 ] || { fail "profile: HTTP $fcode: $(head -c 200 "$BODY")"; return 1; }
	grep -q 'normal_spin' "$BODY" ||
		{ fail "serve: no normal_spin stacks after the hostile binaries ($(head -2 "$BODY" | tr '\n' '|'))"; return 1; }
	hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$SV_PID"/status)
	rss_check "$hwm" "serve" || return 1
	echo "# serve: over budget $over, FDEs refused $refused, peak RSS $((hwm / 1024)) MB"
	serve_stop "$SV_PID" || return 1
	[ "$SV_RC" = 0 ] || { fail "serve: exit $SV_RC after SIGTERM"; return 1; }
	sanitizer_check "$SV_ERR"
}

if ! build_big; then
	echo "not ok - building $BIG failed"
	exit 1
fi
run_case "record -p of hostile CFI ends on time, RSS bounded, keeps sampling, reports refused FDEs and the over-budget binary" case_record
run_case "serve with hostile CFI running: /metrics reports them, normal code still profiled, RSS bounded" case_serve
serve_end
finish
