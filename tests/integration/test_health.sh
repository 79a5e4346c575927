#!/usr/bin/env bash
# Memory health end to end: /health/memory checked against /proc, the RSS
# trend verdict of a leaking workload (about 1 MiB/s) against a steady one,
# /api/v1/leaks (allocation stacks when the heap tracker is there), snapshots
# (manual, automatic once per cooldown, path tricks), per-process Prometheus
# gauges under promtool, and `bpfprof health -p PID`.
#
# Knobs: as test_serve.sh (BPFPROF, ONLY, KEEP_TMP).
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl jq python3 promtool bpftool; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done
for w in mem_leak mem_steady; do
	[ -x "$WL/$w" ] || { echo "not ok - prerequisites: $WL/$w not built (make workloads)"; exit 1; }
done

# jqf FILE FILTER: jq -r on a response body; empty on a parse error.
jqf() {
	jq -r "$2" "$1" 2>/dev/null
}

# near A B TOL: |A - B| <= TOL.
near() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

# status_kib PID KEY: a "KEY: N kB" line of /proc/PID/status.
status_kib() {
	awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status
}

# --- the shared daemon --------------------------------------------------------
# A leaker, a steady workload and a CPU burner; one daemon with 2 s windows, a
# 10 s trend window, a 4 s leak age and automatic snapshots at "high" (the
# leaker's sustained growth) with a cooldown longer than the test.

start_shared() {
	start_bg "$WL/mem_leak" -t 240
	LEAK=$BG_PID
	start_bg "$WL/mem_steady" -t 240
	STEADY=$BG_PID
	start_bg "$WL/cpu_split" 240
	BURN=$BG_PID
	KEEP_PIDS+=("$LEAK" "$STEADY" "$BURN")
	BG_PIDS=() # kept across cases; killed on exit
	wait_exe "$LEAK" && wait_exe "$STEADY" && wait_exe "$BURN" || return 1
	sleep 1 # the steady workload has its working set
	DATA=$T/data
	serve_start shared --window 2 --trend-window 10 --leak-min-age 4 --data-dir "$DATA" \
		--watch-pid "$LEAK,$STEADY" --heap-pid "$LEAK,$STEADY" \
		--auto-snapshot-severity high --snapshot-cooldown 3600 --snapshot-keep 10 \
		--mem-warning-mb 1 --rate-limit 0 || return 1
	SHARED=$SV_PID
	URL=$SV_URL
	SV_CASE=() # survives the cases
}

# poll_until SECONDS CMD...: runs CMD every 0.5 s until it succeeds (bounded).
poll_until() {
	local n=$(($1 * 2)) i
	shift
	for i in $(seq "$n"); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

leaker_sustained() {
	req "$URL/api/v1/leaks?pid=$LEAK"
	[ "$CODE" = 200 ] && [ "$(jqf "$BODY" .rss_trend.sustained_growth)" = true ]
}

case_memory_vs_proc() {
	local kib pss threads vm shared swap
	req "$URL/health/memory?pid=$STEADY"
	[ "$CODE" = 200 ] || { fail "GET /health/memory?pid=$STEADY: $CODE $(head -c 200 "$BODY")"; return 1; }
	kib=$(status_kib "$STEADY" VmRSS)
	vm=$(status_kib "$STEADY" VmSize)
	swap=$(status_kib "$STEADY" VmSwap)
	shared=$(($(status_kib "$STEADY" RssFile) + $(status_kib "$STEADY" RssShmem)))
	threads=$(awk '$1 == "Threads:" { print $2 }' /proc/"$STEADY"/status)
	pss=$(awk '$1 == "Pss:" { print $2 }' /proc/"$STEADY"/smaps_rollup)
	local k
	for k in timestamp rss_mb pss_mb heap_inuse_mb virtual_mb shared_mb swap_mb threads \
		growth_rate_mb_per_sec threshold_status warnings; do
		jq -e --arg k "$k" 'has($k)' "$BODY" >/dev/null || { fail "no field $k: $(head -c 300 "$BODY")"; return 1; }
	done
	near "$(jqf "$BODY" .rss_mb)" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" 0.5 ||
		fail "rss_mb $(jqf "$BODY" .rss_mb) vs VmRSS $kib kB"
	near "$(jqf "$BODY" .pss_mb)" "$(awk -v k="$pss" 'BEGIN { print k / 1024 }')" 0.5 ||
		fail "pss_mb $(jqf "$BODY" .pss_mb) vs Pss $pss kB"
	near "$(jqf "$BODY" .virtual_mb)" "$(awk -v k="$vm" 'BEGIN { print k / 1024 }')" 0.5 ||
		fail "virtual_mb $(jqf "$BODY" .virtual_mb) vs VmSize $vm kB"
	near "$(jqf "$BODY" .shared_mb)" "$(awk -v k="$shared" 'BEGIN { print k / 1024 }')" 0.5 ||
		fail "shared_mb $(jqf "$BODY" .shared_mb) vs RssFile+RssShmem $shared kB"
	near "$(jqf "$BODY" .swap_mb)" "$(awk -v k="$swap" 'BEGIN { print k / 1024 }')" 0.01 ||
		fail "swap_mb $(jqf "$BODY" .swap_mb) vs VmSwap $swap kB"
	[ "$(jqf "$BODY" .threads)" = "$threads" ] || fail "threads $(jqf "$BODY" .threads) vs $threads"
	[ "$(jqf "$BODY" .pid)" = "$STEADY" ] || fail "pid $(jqf "$BODY" .pid)"
	[ "$(jqf "$BODY" .comm)" = mem_steady ] || fail "comm $(jqf "$BODY" .comm)"
	# --mem-warning-mb 1: every process with 1 MB resident is "warning", and says why.
	[ "$(jqf "$BODY" .threshold_status)" = warning ] || fail "threshold_status $(jqf "$BODY" .threshold_status), want warning (--mem-warning-mb 1)"
	jqf "$BODY" '.warnings[]' | grep -q 'warning threshold of 1 MB' || fail "no warning naming the 1 MB threshold: $(jqf "$BODY" .warnings)"
	# heap_inuse_mb: a number with heap profiling, else null.
	jqf "$BODY" '.heap_inuse_mb | type' | grep -qE '^(number|null)$' || fail "heap_inuse_mb is $(jqf "$BODY" '.heap_inuse_mb | type')"
	[ -z "$REASON" ]
}

case_trend_verdicts() {
	if ! poll_until 40 leaker_sustained; then
		fail "leaker: no sustained growth verdict in 40 s: $(jqf "$BODY" .rss_trend)"
		return 1
	fi
	local slope
	slope=$(jqf "$BODY" .rss_trend.slope_mb_per_sec)
	awk -v s="$slope" 'BEGIN { exit !(s > 0.5 && s < 2) }' || fail "leaker slope $slope MB/s, want about 1"
	req "$URL/health/memory?pid=$LEAK"
	[ "$(jqf "$BODY" .sustained_growth)" = true ] || fail "/health/memory: sustained_growth $(jqf "$BODY" .sustained_growth)"
	jqf "$BODY" '.warnings[]' | grep -q 'sustained growth' || fail "no 'sustained growth' warning: $(jqf "$BODY" .warnings)"
	# The steady one has had as many samples: flat.
	req "$URL/api/v1/leaks?pid=$STEADY"
	[ "$CODE" = 200 ] || { fail "leaks?pid=$STEADY: $CODE"; return 1; }
	[ "$(jqf "$BODY" .rss_trend.sustained_growth)" = false ] || fail "steady workload judged growing: $(jqf "$BODY" .rss_trend)"
	[ "$(jqf "$BODY" .rss_trend.samples)" -ge 5 ] 2>/dev/null || fail "steady: only $(jqf "$BODY" .rss_trend.samples) samples"
	[ -z "$REASON" ]
}

# Allocation stacks need the heap tracker (user/heap/); without it the
# answer says heap_profiling false and this case checks only that.
case_leak_stacks() {
	req "$URL/api/v1/leaks?pid=$LEAK"
	[ "$CODE" = 200 ] || { fail "leaks: $CODE"; return 1; }
	if [ "$(jqf "$BODY" .heap_profiling)" != true ]; then
		[ "$(jqf "$BODY" '.leaks | length')" = 0 ] || fail "leaks listed without heap profiling"
		jqf "$BODY" .note | grep -q -- '--heap-pid' || fail "no note on how to enable heap profiling"
		echo "# heap tracker not available: allocation-stack checks skipped (RSS verdict checked)"
		return 0
	fi
	leak_top() {
		req "$URL/api/v1/leaks?pid=$LEAK"
		[ "$(jqf "$BODY" '.leaks[0].function')" = leak_bytes_here ]
	}
	poll_until 40 leak_top || { fail "top leak is '$(jqf "$BODY" '.leaks[0].function')', want leak_bytes_here: $(head -c 400 "$BODY")"; return 1; }
	jqf "$BODY" '.leaks[0].severity' | grep -qE '^(high|critical)$' || fail "leaker severity $(jqf "$BODY" '.leaks[0].severity')"
	for k in outstanding_bytes outstanding_objects growth_bytes_per_hour first_seen last_seen; do
		jq -e --arg k "$k" '.leaks[0] | has($k)' "$BODY" >/dev/null || fail "leak without $k"
	done
	req "$URL/api/v1/leaks?pid=$STEADY"
	[ "$(jqf "$BODY" '.leaks | length')" = 0 ] || fail "steady workload has leaks: $(jqf "$BODY" '.leaks[0]')"
	[ -z "$REASON" ]
}

case_auto_snapshot() {
	auto_count() {
		req "$URL/api/v1/snapshots"
		jqf "$BODY" "[.snapshots[] | select(.pid == $1 and (.reason | startswith(\"auto\")))] | length"
	}
	auto_one() { [ "$(auto_count "$LEAK")" = 1 ]; }
	poll_until 30 auto_one || { fail "no automatic snapshot of the leaker: $(head -c 300 "$BODY")"; return 1; }
	req "$URL/api/v1/snapshots" # auto_count ran in a subshell: read the list here
	jqf "$BODY" ".snapshots[] | select(.pid == $LEAK) | .reason" | grep -q 'severity high\|severity critical' ||
		fail "reason: $(jqf "$BODY" ".snapshots[] | select(.pid == $LEAK) | .reason")"
	ls "$DATA"/snapshots/*.pb.gz >/dev/null 2>&1 || fail "no file in $DATA/snapshots"
	# More samples at the same severity, within the cooldown: still one.
	sleep 4
	[ "$(auto_count "$LEAK")" = 1 ] || fail "$(auto_count "$LEAK") automatic snapshots of the leaker within the cooldown, want 1"
	[ "$(auto_count "$STEADY")" = 0 ] || fail "the steady workload was snapshotted"
	grep -q "reached severity" "$SV_ERR" || fail "no log line for the automatic snapshot"
	[ -z "$REASON" ]
}

case_manual_snapshot() {
	local id url
	sleep 2 # a closed window with the burner's samples
	req "$URL/api/v1/snapshots?pid=$BURN&type=cpu&seconds=30" -X POST
	[ "$CODE" = 201 ] || { fail "POST cpu snapshot: $CODE $(head -c 200 "$BODY")"; return 1; }
	id=$(jqf "$BODY" .id)
	url=$(jqf "$BODY" .url)
	[[ $id =~ ^[0-9a-f]{24}$ ]] || fail "id '$id'"
	[ "$url" = "/api/v1/snapshots/$id" ] || fail "url '$url'"
	[ -s "$DATA/snapshots/$id.pb.gz" ] && [ -s "$DATA/snapshots/$id.json" ] || fail "files of $id missing"
	req "$URL$url"
	[ "$CODE" = 200 ] || { fail "GET $url: $CODE"; return 1; }
	cp "$BODY" "$T/snap.pb.gz"
	check_pprof "$T/snap.pb.gz" || return 1
	grep -qE 'burn_a|burn_b' "$T/snap.pb.gz.top" || fail "cpu snapshot without burn_a/burn_b"
	req "$URL/api/v1/snapshots"
	[ "$(jqf "$BODY" "[.snapshots[] | select(.id == \"$id\")] | length")" = 1 ] || fail "$id not listed"
	req "$URL$url" -X DELETE
	[ "$CODE" = 200 ] || fail "DELETE: $CODE"
	req "$URL$url"
	[ "$CODE" = 404 ] || fail "GET after DELETE: $CODE"
	req "$URL$url" -X DELETE
	[ "$CODE" = 404 ] || fail "second DELETE: $CODE"
	[ ! -e "$DATA/snapshots/$id.pb.gz" ] || fail "file left after DELETE"
	# Heap: 201 with the heap tracker, else 409 saying how to turn it on.
	req "$URL/api/v1/snapshots?pid=$LEAK&type=heap" -X POST
	case $CODE in
	201) [[ $(jqf "$BODY" .id) =~ ^[0-9a-f]{24}$ ]] || fail "heap snapshot id" ;;
	409) jqf "$BODY" .error | grep -q 'heap-pid' || fail "409 without a hint: $(cat "$BODY")" ;;
	*) fail "POST heap snapshot: $CODE $(head -c 200 "$BODY")" ;;
	esac
	[ -z "$REASON" ]
}

# e WANT PATH [CURL_ARGS...]: status WANT with a JSON error body.
e() {
	local want=$1 path=$2
	shift 2
	req "$URL$path" "$@"
	if [ "$CODE" != "$want" ]; then
		fail "$path ${*:-}: $CODE, want $want ($(head -c 100 "$BODY"))"
	elif ! is_json_error "$BODY"; then
		fail "$path: $CODE without a JSON error"
	fi
}

case_bad_input() {
	local dead=4194000
	while [ -e "/proc/$dead" ]; do dead=$((dead + 1)); done
	e 400 "/health/memory"
	e 400 "/health/memory?pid=abc"
	e 400 "/health/memory?pid=0"
	e 400 "/health/memory?pid=-1"
	e 400 "/health/memory?pid=99999999999"
	e 400 "/health/memory?pid=12%20"
	e 404 "/health/memory?pid=$dead"
	e 404 "/health/memory?pid=2" # kthreadd: no user memory
	e 405 "/health/memory?pid=$STEADY" -X POST
	e 400 "/api/v1/leaks?pid=x"
	e 404 "/api/v1/leaks?pid=$dead"
	e 405 "/api/v1/leaks?pid=$STEADY" -X DELETE
	e 400 "/api/v1/snapshots?pid=$STEADY&type=core" -X POST
	e 400 "/api/v1/snapshots?pid=abc&type=cpu" -X POST
	e 404 "/api/v1/snapshots?pid=$dead&type=cpu" -X POST
	e 400 "/api/v1/snapshots?pid=$BURN&type=cpu&seconds=0" -X POST
	e 405 "/api/v1/snapshots" -X PUT
	e 400 "/api/v1/snapshots/..%2f..%2f..%2fetc%2fpasswd"
	e 400 "/api/v1/snapshots/%2e%2e%2f%2e%2e%2fetc%2fpasswd"
	e 400 "/api/v1/snapshots/0123456789abcdef%00.json"
	e 400 "/api/v1/snapshots/0123456789ABCDEF01234567"
	e 400 "/api/v1/snapshots/$(printf 'a%.0s' $(seq 200))"
	e 400 "/api/v1/snapshots/"
	e 404 "/api/v1/snapshots/0123456789abcdef01234567"
	e 405 "/api/v1/snapshots/0123456789abcdef01234567" -X POST
	# A raw ../ that curl does not normalize: never a file outside the directory.
	req "$URL/api/v1/snapshots/../../../../etc/passwd" --path-as-is
	case $CODE in 4??) ;; *) fail "raw ../ path: $CODE" ;; esac
	grep -q 'root:' "$BODY" && fail "raw ../ path served /etc/passwd"
	[ -z "$REASON" ]
}

case_metrics() {
	local m=$T/health.metrics
	req "$URL/metrics"
	[ "$CODE" = 200 ] || { fail "/metrics: $CODE"; return 1; }
	cp "$BODY" "$m"
	promtool check metrics <"$m" >"$T/promtool.out" 2>&1 || fail "promtool: $(head -5 "$T/promtool.out" | tr '\n' '|')"
	local g
	for g in rss_bytes pss_bytes virtual_bytes shared_bytes swap_bytes threads memory_status leak_severity; do
		grep -qE "^bpfprof_process_${g}\{pid=\"$LEAK\",comm=\"mem_leak\"\} " "$m" || fail "no bpfprof_process_$g for the leaker"
		grep -qE "^bpfprof_process_${g}\{pid=\"$STEADY\",comm=\"mem_steady\"\} " "$m" || fail "no bpfprof_process_$g for the steady workload"
	done
	grep -qE "^bpfprof_process_memory_growth_bytes_per_second\{pid=\"$LEAK\"" "$m" || fail "no growth gauge"
	grep -qE '^bpfprof_health_auto_snapshots_total [1-9]' "$m" || fail "auto snapshot counter not counted"
	local rss
	rss=$(awk -v p="$STEADY" '$0 ~ "^bpfprof_process_rss_bytes\\{pid=\"" p "\"" { print $2 }' "$m")
	near "$rss" "$(($(status_kib "$STEADY" VmRSS) * 1024))" $((1024 * 1024)) || fail "rss gauge $rss vs VmRSS"
	[ -z "$REASON" ]
}

case_cli() {
	BP_TIMEOUT=20 bp "$T/cli" health -p "$STEADY"
	expect_rc 0 || return 1
	jq -e '.rss_mb > 0 and .threads >= 1 and (.heap_inuse_mb == null) and (.growth_rate_mb_per_sec == null)' "$BP_OUT" >/dev/null ||
		{ fail "health -p: $(head -c 300 "$BP_OUT")"; return 1; }
	near "$(jqf "$BP_OUT" .rss_mb)" "$(awk -v k="$(status_kib "$STEADY" VmRSS)" 'BEGIN { print k / 1024 }')" 0.5 || fail "CLI rss_mb vs VmRSS"
	BP_TIMEOUT=20 bp "$T/cli2" health -p "$LEAK" -d 3
	expect_rc 0 || return 1
	awk -v s="$(jqf "$BP_OUT" .growth_rate_mb_per_sec)" 'BEGIN { exit !(s > 0.3 && s < 3) }' ||
		fail "CLI -d 3 growth rate $(jqf "$BP_OUT" .growth_rate_mb_per_sec), want about 1"
	BP_TIMEOUT=20 bp "$T/cli3" health -p 4194303
	expect_error 1 || return 1
	grep -q 'no process with PID' "$BP_ERR" || fail "unknown PID message: $(cat "$BP_ERR")"
	BP_TIMEOUT=20 bp "$T/cli4" health -p abc
	expect_error 2 || return 1
	BP_TIMEOUT=20 bp "$T/cli5" health
	expect_error 2 || return 1
	[ -z "$REASON" ]
}

# The daemon without --data-dir: snapshots are refused with 409 and a hint.
case_no_data_dir() {
	serve_start nodata --window 2 --rate-limit 0 || return 1
	local pid=$SV_PID u=$SV_URL
	req "$u/api/v1/snapshots?pid=$BURN&type=cpu" -X POST
	[ "$CODE" = 409 ] && jqf "$BODY" .error | grep -q -- '--data-dir' || fail "POST without data dir: $CODE $(head -c 200 "$BODY")"
	req "$u/api/v1/snapshots"
	[ "$CODE" = 409 ] || fail "GET list without data dir: $CODE"
	serve_stop "$pid" || return 1
	[ "$SV_RC" = 0 ] || fail "exit $SV_RC"
	sanitizer_check "$T/nodata.err"
	[ -z "$REASON" ]
}

case_stop() {
	serve_stop "$SHARED" || return 1
	[ "$SV_RC" = 0 ] || fail "exit $SV_RC after SIGTERM"
	sanitizer_check "$T/shared.err"
	[ -z "$REASON" ]
}

if ! start_shared; then
	echo "not ok - health: shared daemon: $REASON"
	exit 1
fi
run_case "/health/memory fields match /proc (rss, pss, virtual, shared, swap, threads); thresholds warn" case_memory_vs_proc
run_case "RSS trend: the 1 MiB/s leaker has sustained growth, the steady workload not" case_trend_verdicts
run_case "/api/v1/leaks: the leaking function on top, nothing for the steady workload (needs heap tracker)" case_leak_stacks
run_case "automatic snapshot once per cooldown for the leaker, none for the steady workload" case_auto_snapshot
run_case "manual cpu snapshot: 201, id, download readable by go tool pprof, list, delete; heap 201 or 409" case_manual_snapshot
run_case "bad PIDs, types, ids and methods get 4xx JSON errors; no path tricks" case_bad_input
run_case "/metrics: per-process gauges for every watched PID, promtool passes" case_metrics
run_case "bpfprof health -p PID: JSON from /proc, -d growth rate, errors" case_cli
run_case "without --data-dir snapshots answer 409 with a hint" case_no_data_dir
run_case "shared daemon stops on SIGTERM with exit 0" case_stop
finish
