#!/usr/bin/env bash
# `bpfprof serve` end to end: live and historical profiles read by the real
# clients (go tool pprof, promtool, curl, python3), the data dir across a
# restart, the JSON API, load, SIGHUP and SIGTERM.
#
# Also sourced by test_serve_http.sh with SERVE_LIB_ONLY=1 for the daemon
# helpers (serve_start, serve_stop, req, ...).
#
# Knobs: BPFPROF (default build/bpfprof; build/asan/bpfprof works), ONLY,
# KEEP_TMP (see lib.sh), LOAD_N (10000 requests in the load case).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- daemon helpers ----------------------------------------------------------

SV_ALL=()  # every daemon started by this script (killed on exit)
SV_CASE=() # daemons of the running case (killed when the case ends)
KEEP_PIDS=() # long-lived helpers (shared workload), killed on exit

_serve_cleanup() {
	local p
	for p in "${SV_ALL[@]}" "${KEEP_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
}
trap '_sv_rc=$?; _serve_cleanup; (exit $_sv_rc); _cleanup' EXIT

# bpf_ids PID: "prog_id:N" / "link_id:N" lines for the BPF objects PID holds.
bpf_ids() {
	grep -hE '^(prog_id|link_id):' /proc/"$1"/fdinfo/* 2>/dev/null | tr -d ' \t' | sort -u
}

# bpf_id_alive prog_id:N|link_id:N: true while the kernel still has it.
bpf_id_alive() {
	case $1 in
	prog_id:*) bpftool prog show id "${1#prog_id:}" >/dev/null 2>&1 ;;
	link_id:*) bpftool link show id "${1#link_id:}" >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

# serve_start NAME [ARGS...]: starts `bpfprof serve --listen 127.0.0.1:0 ARGS`
# (a --listen in ARGS wins) and waits for its "serving on" line. Sets SV_PID,
# SV_PORT, SV_URL (scheme://127.0.0.1:PORT) and SV_ERR (its stderr). Returns 1
# with a reason if it exits first or does not serve within 20 s. SV_LOG, when
# set, is where the serving line is looked for (--log-file).
serve_start() {
	local name=$1 line= i scheme rc
	shift
	SV_ERR=$T/$name.err
	"$BPFPROF" serve --listen 127.0.0.1:0 "$@" >"$T/$name.out" 2>"$SV_ERR" &
	SV_PID=$!
	SV_ALL+=("$SV_PID")
	SV_CASE+=("$SV_PID")
	for i in $(seq 200); do
		line=$(grep -m1 -h 'bpfprof: serving on ' "${SV_LOG:-$SV_ERR}" 2>/dev/null)
		[ -n "$line" ] && break
		if ! kill -0 "$SV_PID" 2>/dev/null || [ "$(awk '{print $3}' /proc/"$SV_PID"/stat 2>/dev/null)" = Z ]; then
			wait "$SV_PID"
			rc=$?
			fail "serve $* exited ($rc) before serving: $(grep -v '^$' "$SV_ERR" | head -3 | tr '\n' '|' | cut -c1-300)"
			return 1
		fi
		sleep 0.1
	done
	if [ -z "$line" ]; then
		fail "serve $* printed no 'serving on' line in 20 s"
		return 1
	fi
	scheme=$(sed -nE 's#.*serving on (https?)://.*#\1#p' <<<"$line")
	SV_PORT=$(sed -nE 's#.*serving on https?://.*:([0-9]+)/debug/pprof/ .*#\1#p' <<<"$line")
	if [ -z "$SV_PORT" ]; then
		fail "cannot parse the port from: $line"
		return 1
	fi
	SV_URL=$scheme://127.0.0.1:$SV_PORT
	# The line is printed once the probes are attached: ready at once.
	return 0
}

# serve_stop PID [SIGNAL]: signals the daemon (TERM) and waits up to 10 s.
# Sets SV_RC and SV_SECS (signal to exit). Fails (returns 1) on a timeout, a
# sanitizer report in its stderr, or a BPF program or link it held that is
# still loaded afterwards. The exit code is left to the caller.
serve_stop() {
	local pid=$1 sig=${2:-TERM} ids id t0 i left= st
	ids=$(bpf_ids "$pid")
	t0=$EPOCHREALTIME
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 1000); do
		st=$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.01
	done
	SV_SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	if [ -n "$st" ] && [ "$st" != Z ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		SV_RC=timeout
		fail "daemon $pid still running 10 s after SIG$sig"
		return 1
	fi
	wait "$pid" 2>/dev/null
	SV_RC=$?
	local ok=0
	# BPF objects are freed asynchronously after the last reference goes.
	for i in $(seq 30); do
		left=
		for id in $ids; do
			bpf_id_alive "$id" && left="$left $id"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		fail "BPF objects of daemon $pid still loaded after exit:$left"
		ok=1
	fi
	return $ok
}

# sanitizer_check FILE: fails if FILE holds an ASan/UBSan report.
sanitizer_check() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$1" 2>/dev/null; then
		cp "$1" "/tmp/bpfprof-sanitizer.$$.$RANDOM.log" 2>/dev/null
		fail "sanitizer report in $(basename "$1"): $(grep -m1 -E 'ERROR: |runtime error:' "$1" | cut -c1-200)"
		return 1
	fi
}

# serve_end: stops the current case's daemons that are still running.
serve_end() {
	local p
	for p in "${SV_CASE[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	SV_CASE=()
}

# scase NAME FUNCTION: run_case, then stop what the case left running.
scase() {
	run_case "$@"
	serve_end
}

# req URL [CURL_ARGS...]: GET with curl. Sets CODE, BODY (file), HDRS (file).
REQ_N=0
req() {
	local url=$1
	shift
	REQ_N=$((REQ_N + 1))
	BODY=$T/req.$REQ_N.body
	HDRS=$T/req.$REQ_N.hdrs
	: >"$BODY"
	: >"$HDRS"
	CODE=$(curl -sS -o "$BODY" -D "$HDRS" -w '%{http_code}' --max-time 60 "$@" "$url" 2>"$T/req.$REQ_N.curlerr")
	[ -n "$CODE" ] || CODE=000
}

# header NAME: value of a response header of the last req ("" if absent).
header() {
	grep -i "^$1:" "$HDRS" 2>/dev/null | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

# is_json_error FILE: a JSON object with a non-empty string "error".
is_json_error() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) and isinstance(d.get("error"), str) and d["error"] else 1)' "$1" 2>/dev/null
}

# vmrss PID: resident KiB.
vmrss() {
	awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null
}

# our_bpf_prog_ids: IDs of loaded programs named like ours (do_sample, on_exec, ...).
our_bpf_prog_ids() {
	bpftool -j prog show 2>/dev/null | jq -r --arg names "$OUR_PROGS" '
		($names | split(" ")) as $n | .[] | select(.name as $x | $n | index($x)) | .id' | sort -n
}

# held_bpf_ids: prog and link IDs some live process holds open.
held_bpf_ids() {
	cat /proc/[0-9]*/fdinfo/* 2>/dev/null | grep -E '^(prog_id|link_id):' | tr -d ' \t' | sort -u
}

if [ "${SERVE_LIB_ONLY:-0}" = 1 ]; then
	return 0
fi

require_prereqs
for tool in curl jq python3 promtool bpftool; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done

# --- the shared daemon -------------------------------------------------------
# One daemon with 2 s windows serves the live, history, API and load cases
# while cpu_split runs, and is stopped last (the SIGTERM case).

PROGS_BEFORE=$(our_bpf_prog_ids | paste -sd' ')
SNAP_BEFORE=$(bpf_snapshot)
"$WL/cpu_split" 300 >/dev/null 2>&1 &
W=$!
disown "$W" # killed by _serve_cleanup, without a job notice
KEEP_PIDS+=("$W")
REASON=
if ! serve_start shared --window 2 --rate-limit 0 --retention 10m; then
	echo "not ok - start the shared daemon: $REASON"
	exit 1
fi
A_PID=$SV_PID
A_URL=$SV_URL
A_ERR=$SV_ERR
A_T0=$(date +%s)
SV_CASE=() # not killed between cases

# a_uptime_at_least SECONDS: waits until the shared daemon has run that long.
a_uptime_at_least() {
	local now
	now=$(date +%s)
	if [ $((now - A_T0)) -lt "$1" ]; then
		sleep $(($1 - (now - A_T0)))
	fi
}

# pprof_saved ERRFILE: the path go tool pprof saved a fetched profile to.
pprof_saved() {
	sed -nE 's/^Saved profile in (.*)$/\1/p' "$1" | tail -1
}

# first_top FILE: name in the first row of a `pprof -top` listing.
first_top() {
	awk '/^ *flat +flat%/ { body = 1; next } body && NF >= 6 { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); sub(/ \(inline\)$/, ""); print; exit }' "$1"
}

# --- cases -------------------------------------------------------------------

case_live_pprof() {
	local url="$A_URL/debug/pprof/profile?seconds=3&pid=$W" r t saved pids bad
	pp -raw "$url" >"$T/live.raw" 2>"$T/live.raw.err" &
	r=$!
	pp -top "$url" >"$T/live.top" 2>"$T/live.top.err" &
	t=$!
	req "$A_URL/debug/pprof/profile?seconds=2&pid=$W&format=folded"
	local fcode=$CODE fbody=$BODY
	wait "$r" || { fail "go tool pprof -raw URL failed: $(head -c 300 "$T/live.raw.err" | tr '\n' '|')"; return 1; }
	wait "$t" || { fail "go tool pprof -top URL failed: $(head -c 300 "$T/live.top.err" | tr '\n' '|')"; return 1; }
	# -top on the URL: burn_a first
	[ "$(first_top "$T/live.top")" = burn_a ] ||
		{ fail "pprof -top URL: first row is '$(first_top "$T/live.top")', want burn_a"; return 1; }
	# -raw: samples of the asked PID only, burn_a among the functions
	grep -q 'burn_a' "$T/live.raw" || { fail "pprof -raw URL: no burn_a"; return 1; }
	pids=$(grep -oE 'pid:\[[0-9]+\]' "$T/live.raw" | sort -u | paste -sd' ')
	[ "$pids" = "pid:[$W]" ] || { fail "pprof -raw URL: pid labels '$pids', want only pid:[$W]"; return 1; }
	# the saved profile: burn_a:burn_b about 3:1, stacks reach main
	saved=$(pprof_saved "$T/live.raw.err")
	[ -s "$saved" ] || { fail "go tool pprof did not save the fetched profile"; return 1; }
	top_table "$saved" >"$T/live.tab"
	ratio_check "$T/live.tab" || return 1
	reaches_main "$saved" || return 1
	# format=folded
	[ "$fcode" = 200 ] || { fail "format=folded: HTTP $fcode: $(head -c 200 "$fbody")"; return 1; }
	grep -q ';burn_a [0-9][0-9]*$' "$fbody" || { fail "format=folded: no ';burn_a N' line (got: $(head -2 "$fbody" | tr '\n' '|'))"; return 1; }
	bad=$(grep -cvE '^[^ ;][^;]*(;[^;]+)* [0-9]+$' "$fbody")
	[ "$bad" = 0 ] || { fail "format=folded: $bad lines are not 'frame;frame;... COUNT' (e.g. '$(grep -vE '^[^ ;][^;]*(;[^;]+)* [0-9]+$' "$fbody" | head -1)')"; return 1; }
}

# Go semantics: seconds=N profiles the next N seconds, so a single-threaded
# process cannot show more CPU than the profile's duration.
case_live_duration() {
	local url="$A_URL/debug/pprof/profile?seconds=2&pid=$W" line pct
	# Start between two 1 s drains of the sampler (the previous case's
	# request ended right after one), so the first drain after the start
	# holds samples from before it.
	sleep 0.7
	pp -top "$url" >"$T/dur.top" 2>"$T/dur.err" || { fail "go tool pprof failed: $(head -c 200 "$T/dur.err")"; return 1; }
	line=$(grep -m1 '^Duration:' "$T/dur.top")
	pct=$(sed -nE 's/.*Total samples = [^ ]+ \(([0-9.]+)%\).*/\1/p' <<<"$line")
	[ -n "$pct" ] || { fail "no 'Duration: ..., Total samples = ... (N%)' line in pprof -top"; return 1; }
	awk -v p="$pct" 'BEGIN { exit !(p <= 105) }' ||
		{ fail "single-threaded cpu_split shows $pct% of one core over the profile ('$line'): samples from before the request are included"; return 1; }
}

case_metrics_promtool() {
	local m missing= name
	req "$A_URL/metrics"
	[ "$CODE" = 200 ] || { fail "/metrics: HTTP $CODE"; return 1; }
	m=$BODY
	if ! promtool check metrics <"$m" >"$T/promtool.out" 2>&1; then
		fail "promtool check metrics: $(head -5 "$T/promtool.out" | tr '\n' '|')"
		return 1
	fi
	for name in bpfprof_samples_total 'bpfprof_samples_dropped_total{' bpfprof_symbol_cache_hits_total \
		bpfprof_symbol_cache_misses_total bpfprof_symbol_cache_bytes bpfprof_store_windows bpfprof_store_bytes \
		bpfprof_agent_cpu_seconds_total bpfprof_agent_rss_bytes 'bpfprof_http_requests_total{' \
		'bpfprof_http_request_duration_seconds_bucket{'; do
		grep -q "^$name" "$m" || missing="$missing $name"
	done
	[ -z "$missing" ] || { fail "metrics missing:$missing"; return 1; }
	# values that must have moved by now
	awk '$1 == "bpfprof_samples_total" && $2 > 0 { s = 1 } $1 == "bpfprof_agent_rss_bytes" && $2 > 1048576 { r = 1 }
	     $1 == "bpfprof_store_windows" && $2 >= 1 { w = 1 } END { exit !(s && r && w) }' "$m" ||
		{ fail "samples_total, agent_rss_bytes or store_windows not > 0: $(grep -E '^bpfprof_(samples_total|agent_rss_bytes|store_windows) ' "$m" | paste -sd' ')"; return 1; }
	grep -qE '^bpfprof_http_requests_total\{[^}]*route="/debug/pprof/profile"[^}]*code="200"[^}]*\} [1-9]' "$m" ||
		grep -qE '^bpfprof_http_requests_total\{[^}]*route="/debug/pprof/profile"[^}]*\} [1-9]' "$m" ||
		{ fail "no non-zero bpfprof_http_requests_total for /debug/pprof/profile: $(grep -m3 '^bpfprof_http_requests_total' "$m" | paste -sd' ')"; return 1; }
}

case_processes() {
	a_uptime_at_least 6
	req "$A_URL/api/v1/processes?last=30s"
	[ "$CODE" = 200 ] || { fail "HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	python3 - "$BODY" "$W" >"$T/proc.check" 2>&1 <<'EOF' || { fail "$(tail -1 "$T/proc.check")"; return 1; }
import json, sys
d = json.load(open(sys.argv[1])); w = int(sys.argv[2])
ps = d["processes"]
assert isinstance(ps, list) and ps, "no processes"
for k in ("from", "to", "total_cpu_seconds", "samples"):
    assert k in d, "missing %s" % k
mine = [p for p in ps if p["pid"] == w]
assert mine, "workload PID %d not listed (%s)" % (w, [p["pid"] for p in ps][:10])
p = mine[0]
assert p["comm"] == "cpu_split", "comm %r" % p["comm"]
assert p["exe"].endswith("cpu_split"), "exe %r" % p["exe"]
assert p["cpu_seconds"] > 1, "cpu_seconds %r" % p["cpu_seconds"]
assert 0 < p["cpu_share"] <= 1, "cpu_share %r" % p["cpu_share"]
vals = [x["cpu_seconds"] for x in ps]
assert vals == sorted(vals, reverse=True), "not sorted by CPU"
assert abs(sum(x["cpu_share"] for x in ps) - 1) < 0.01, "shares do not add up to 1"
EOF
}

# A single-threaded process uses at most one core, whatever the range asked.
case_processes_short_range() {
	local e from to
	a_uptime_at_least 8
	# a half-second range inside one closed 2 s window
	e=$(($(date +%s) - 5))
	e=$((e - e % 2))
	from=$e.5
	to=$((e + 1))
	req "$A_URL/api/v1/processes?from=$from&to=$to"
	[ "$CODE" = 200 ] || { fail "HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	python3 - "$BODY" "$W" >"$T/proc2.check" 2>&1 <<'EOF' || { fail "from=$from&to=$to: $(tail -1 "$T/proc2.check")"; return 1; }
import json, sys
d = json.load(open(sys.argv[1])); w = int(sys.argv[2])
p = [p for p in d["processes"] if p["pid"] == w]
assert p, "workload not listed"
p = p[0]
rng = d["to"] - d["from"]
assert p["cpu_cores"] <= 1.2, "single-threaded cpu_split: cpu_cores %.2f, cpu_seconds %.2f over a %.2f s range (whole windows merged, range reported as asked)" % (p["cpu_cores"], p["cpu_seconds"], rng)
EOF
}

case_hotspots() {
	a_uptime_at_least 8
	req "$A_URL/api/v1/hotspots?pid=$W&last=30s"
	[ "$CODE" = 200 ] || { fail "HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	python3 - "$BODY" >"$T/hot.check" 2>&1 <<'EOF' || { fail "$(tail -1 "$T/hot.check")"; return 1; }
import json, sys
d = json.load(open(sys.argv[1]))
hs = d["hotspots"]
assert d["samples"] > 0 and d["total_cpu_seconds"] > 0, "empty profile"
assert len(hs) >= 2, "fewer than 2 hotspots"
h = hs[0]
assert h["function"] == "burn_a", "first hotspot %r, want burn_a" % h["function"]
assert hs[1]["function"] == "burn_b", "second hotspot %r, want burn_b" % hs[1]["function"]
assert h["file"].endswith("cpu_split.c"), "file %r" % h["file"]
assert isinstance(h["line"], int) and 25 <= h["line"] <= 40, "line %r not inside burn_a (cpu_split.c:27-37)" % h["line"]
assert 60 <= h["self_percent"] <= 90, "burn_a self_percent %r" % h["self_percent"]
for x in hs:
    for k in ("function", "file", "line", "self_percent", "total_percent", "impact"):
        assert k in x, "hotspot lacks %s" % k
    assert 0 <= x["impact"] <= 1, "impact %r of %s outside [0,1]" % (x["impact"], x["function"])
    assert 0 <= x["self_percent"] <= x["total_percent"] + 1e-9 <= 100 + 1e-6, "percentages of %s: %r" % (x["function"], x)
selfs = [x["self_percent"] for x in hs]
assert selfs == sorted(selfs, reverse=True), "not sorted by self"
assert abs(h["impact"] - (0.7 * h["self_percent"] + 0.3 * h["total_percent"]) / 100) < 1e-6, "impact of burn_a %r" % h["impact"]
EOF
}

# last= answers at once from the windows already stored.
case_history_last() {
	local f=$T/last.pb.gz secs
	a_uptime_at_least 12
	local t0=$EPOCHREALTIME
	req "$A_URL/debug/pprof/profile?last=10s&pid=$W"
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	[ "$CODE" = 200 ] || { fail "last=10s: HTTP $CODE: $(head -c 200 "$BODY" | tr -d '\0')"; return 1; }
	awk -v s="$secs" 'BEGIN { exit !(s < 3) }' || { fail "last=10s took $secs s: it waited instead of answering from history"; return 1; }
	cp "$BODY" "$f"
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	[ "$(head -1 "$f.tab" | cut -f3)" = burn_a ] || { fail "last=10s: top is '$(head -1 "$f.tab" | cut -f3)', want burn_a"; return 1; }
	req "$A_URL/debug/pprof/profile?last=1m&format=folded&comm=cpu_split"
	[ "$CODE" = 200 ] || { fail "last=1m&format=folded: HTTP $CODE"; return 1; }
	grep -q ';burn_a [0-9]*$' "$BODY" || { fail "last=1m&format=folded&comm=cpu_split: no burn_a line"; return 1; }
	! grep -qv '^cpu_split;' "$BODY" || { fail "comm=cpu_split: other processes in the answer: $(grep -v '^cpu_split;' "$BODY" | head -1 | cut -c1-80)"; return 1; }
}

# from_to_check NAME QUERY: the range answers 200 with burn_a on top.
from_to_check() {
	local f=$T/range.$1.pb.gz
	req "$A_URL/debug/pprof/profile?$2&pid=$W"
	[ "$CODE" = 200 ] || { fail "$2: HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	cp "$BODY" "$f"
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	[ "$(head -1 "$f.tab" | cut -f3)" = burn_a ] || { fail "$2: top is '$(head -1 "$f.tab" | cut -f3)', want burn_a"; return 1; }
}

case_history_from_to() {
	local now from to r1 r2 r3
	a_uptime_at_least 12
	now=$(date +%s)
	from=$((now - 10))
	to=$((now - 2))
	r1=$(date -u -d "@$from" +%Y-%m-%dT%H:%M:%SZ)
	r2=$(TZ=Etc/GMT-2 date -d "@$to" +%Y-%m-%dT%H:%M:%S.250)%2B02:00 # UTC+2, '+' encoded
	r3=$(TZ=Etc/GMT+5 date -d "@$from" +%Y-%m-%dT%H:%M:%S)-05:00
	from_to_check unix "from=$from&to=$to" || return 1
	from_to_check unixfrac "from=$from.5&to=$to.25" || return 1
	from_to_check rfc3339 "from=$r1&to=$r2" || return 1
	from_to_check mixed "from=$r3&to=$to" || return 1
	from_to_check open "from=$from" || return 1
	# the same range as Unix seconds and RFC 3339 gives the same samples
	local a b
	a=$(pp -raw "$T/range.unix.pb.gz" 2>/dev/null | awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }')
	req "$A_URL/debug/pprof/profile?from=$r1&to=$(date -u -d "@$to" +%Y-%m-%dT%H:%M:%SZ)&pid=$W"
	cp "$BODY" "$T/range.same.pb.gz"
	b=$(pp -raw "$T/range.same.pb.gz" 2>/dev/null | awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }')
	[ "$a" = "$b" ] && [ "$a" -gt 0 ] || { fail "from=$from&to=$to has $a samples, the same range in RFC 3339 $b"; return 1; }
}

case_data_dir() {
	local d=$T/data t0 t1 files pid2 f=$T/restart.pb.gz
	mkdir -p "$d"
	start_bg "$WL/cpu_split" 30
	local w2=$BG_PID
	t0=$(date +%s)
	serve_start dd1 --window 1 --data-dir "$d" --rate-limit 0 || return 1
	local p1=$SV_PID
	# At least 3 closed windows; a busy machine may delay drains, so poll (bounded).
	local i
	for i in $(seq 60); do
		[ "$(find "$d" -name 'window-*.pb.gz' | wc -l)" -ge 3 ] && [ "$i" -ge 15 ] && break
		sleep 0.3
	done
	t1=$(date +%s)
	serve_stop "$p1" || return 1
	[ "$SV_RC" = 0 ] || { fail "first run: exit $SV_RC after SIGTERM"; return 1; }
	sanitizer_check "$T/dd1.err" || return 1
	files=$(find "$d" -name 'window-*.pb.gz' | wc -l)
	[ "$files" -ge 3 ] || { fail "only $files window files in the data dir after 18 s of 1 s windows ($(ls "$d" | head -5 | paste -sd' '))"; return 1; }
	# every window file is a profile go tool pprof reads
	check_pprof "$(find "$d" -name 'window-*.pb.gz' | sort | tail -2 | head -1)" || return 1
	kill -KILL "$w2"
	wait "$w2" 2>/dev/null
	serve_start dd2 --window 1 --data-dir "$d" --rate-limit 0 || return 1
	pid2=$SV_PID
	req "$SV_URL/debug/pprof/profile?from=$t0&to=$t1&pid=$w2"
	[ "$CODE" = 200 ] || { fail "after restart, from=$t0&to=$t1&pid=$w2: HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	cp "$BODY" "$f"
	check_pprof "$f" || return 1
	top_table "$f" >"$f.tab"
	[ "$(head -1 "$f.tab" | cut -f3)" = burn_a ] || { fail "after restart: top is '$(head -1 "$f.tab" | cut -f3)', want burn_a of the exited PID $w2"; return 1; }
	req "$SV_URL/metrics"
	awk '$1 == "bpfprof_store_files" && $2 >= 3 { f = 1 } $1 == "bpfprof_store_load_errors_total" && $2 == 0 { e = 1 } END { exit !(f && e) }' "$BODY" ||
		{ fail "after restart: $(grep -E '^bpfprof_store_(files|load_errors_total) ' "$BODY" | paste -sd' ')"; return 1; }
	serve_stop "$pid2" || return 1
	[ "$SV_RC" = 0 ] || { fail "second run: exit $SV_RC"; return 1; }
	sanitizer_check "$T/dd2.err" || return 1
}

case_sighup() {
	local log=$T/serve.log i
	SV_LOG=$log serve_start hup --log-file "$log" || return 1
	local pid=$SV_PID
	mv "$log" "$log.1"
	kill -HUP "$pid"
	for i in $(seq 50); do
		grep -q 'log reopened' "$log" 2>/dev/null && break
		sleep 0.1
	done
	[ -f "$log" ] || { fail "no new $log after SIGHUP"; return 1; }
	grep -q 'log reopened' "$log" || { fail "new log lacks 'log reopened': $(head -c 200 "$log")"; return 1; }
	grep -q 'serving on' "$log.1" || { fail "the moved log lost the start-up line"; return 1; }
	# still serving after the reopen
	req "$SV_URL/health/ready"
	[ "$CODE" = 200 ] || { fail "after SIGHUP: /health/ready HTTP $CODE"; return 1; }
	serve_stop "$pid" || return 1
	[ "$SV_RC" = 0 ] || { fail "exit $SV_RC after SIGTERM"; return 1; }
	grep -q 'shutting down' "$log" || { fail "shutdown message not in the reopened log"; return 1; }
	sanitizer_check "$log" || return 1
}

case_load() {
	local before after n=${LOAD_N:-10000} out=$T/load.out
	a_uptime_at_least 12
	before=$(vmrss "$A_PID")
	python3 - "$SV_PORT_A" "$n" 32 >"$out" 2>&1 <<'EOF'
import http.client, sys, threading, collections
port, total, par = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
paths = ["/health/ready", "/metrics", "/debug/pprof/profile?last=1m"]
lock = threading.Lock()
state = {"next": 0}
codes = collections.Counter()
samples = {}
errors = []
def worker():
    conn = None
    while True:
        with lock:
            i = state["next"]
            if i >= total:
                break
            state["next"] = i + 1
        path = paths[i % 3]
        try:
            # a fresh connection now and then, keep-alive otherwise
            if conn is None or i % 50 == 0:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            with lock:
                key = (path.split("?")[0], r.status)
                codes[key] += 1
                if r.status != 200 and key not in samples:
                    samples[key] = body[:120].decode("utf-8", "replace")
        except Exception as e:
            with lock:
                errors.append("%s: %r" % (path, e))
            conn = None
    if conn is not None:
        conn.close()
ts = [threading.Thread(target=worker) for _ in range(par)]
for t in ts: t.start()
for t in ts: t.join()
done = sum(codes.values())
print("requests %d errors %d" % (done, len(errors)))
for (p, c), k in sorted(codes.items()):
    print("code %s %d %d" % (p, c, k))
for e in errors[:5]:
    print("error " + e)
for (p, c), b in sorted(samples.items()):
    print("body %s %d %s" % (p, c, b.replace("\n", " ")))
EOF
	after=$(vmrss "$A_PID")
	[ -n "$after" ] || { fail "the daemon died under load: $(tail -3 "$A_ERR" | tr '\n' '|')"; return 1; }
	local done errs c5 non200
	done=$(awk '/^requests/ { print $2 }' "$out")
	errs=$(awk '/^requests/ { print $4 }' "$out")
	c5=$(awk '$1 == "code" && $3 >= 500 { n += $4 } END { print n + 0 }' "$out")
	non200=$(awk '$1 == "code" && $3 != 200 { printf "%s %s x%s, ", $2, $3, $4 }' "$out")
	echo "# load: $done of $n requests answered; VmRSS $((before / 1024)) -> $((after / 1024)) MiB; non-200: ${non200:-none}"
	local rc=0
	[ "$done" = "$n" ] && [ "$errs" = 0 ] ||
		{ fail "$done of $n requests answered, $errs connection errors: $(grep -m2 '^error' "$out" | tr '\n' '|')"; rc=1; }
	if [ "$c5" != 0 ]; then
		fail "$c5 answers were 5xx ($non200 first body: $(grep -m1 '^body .* 5[0-9][0-9] ' "$out" | cut -d' ' -f4- | cut -c1-100))"
		rc=1
	elif [ -n "$non200" ]; then
		fail "non-200 answers with the rate limit off: $non200"
		rc=1
	fi
	[ $((after - before)) -le $((64 * 1024)) ] ||
		{ fail "VmRSS grew from $((before / 1024)) MiB to $((after / 1024)) MiB over $n requests"; rc=1; }
	return $rc
}

# Last: SIGTERM while a long request waits: exit 0 within 2 s, nothing of
# ours left loaded in the kernel.
case_sigterm() {
	local c t0 left= held id orphans= after_ids snap_after
	curl -s -o "$T/sigterm.body" -w '%{http_code}' --max-time 20 "$A_URL/debug/pprof/profile?seconds=30" >"$T/sigterm.code" 2>/dev/null &
	c=$!
	sleep 1
	serve_stop "$A_PID" || return 1
	[ "$SV_RC" = 0 ] || { fail "exit $SV_RC after SIGTERM, want 0 ($(tail -2 "$A_ERR" | tr '\n' '|'))"; return 1; }
	awk -v s="$SV_SECS" 'BEGIN { exit !(s <= 2.0) }' ||
		{ fail "took $SV_SECS s to exit after SIGTERM with a seconds=30 request waiting (contract: 2 s)"; return 1; }
	wait "$c"
	# the waiting client got an answer or a closed connection, not a hang
	[ "$(cat "$T/sigterm.code")" != 200 ] || { fail "the cancelled seconds=30 request got 200"; return 1; }
	grep -q 'shutting down' "$A_ERR" || { fail "no shutdown message"; return 1; }
	sanitizer_check "$A_ERR" || return 1
	# bpftool: no program named like ours that was not there before and
	# that no live process (another bpfprof) holds.
	sleep 0.5
	held=$(held_bpf_ids)
	for id in $(our_bpf_prog_ids); do
		[[ " $PROGS_BEFORE " == *" $id "* ]] && continue
		grep -qx "prog_id:$id" <<<"$held" && continue
		orphans="$orphans $id"
	done
	[ -z "$orphans" ] || { fail "BPF programs left loaded with no owner:$orphans ($(bpftool prog show 2>/dev/null | grep -E "^(${orphans// /|}):" | head -3 | tr '\n' '|'))"; return 1; }
	snap_after=$(bpf_snapshot)
	echo "# bpf (progs links) named like ours: before $SNAP_BEFORE, after $snap_after (other engineers' runs included)"
	# links of ours: a link whose program is one of our orphans would have
	# kept it loaded, so no orphan program also means no orphan link.
}

SV_PORT_A=${A_URL##*:}

scase "live: go tool pprof -raw/-top on profile?seconds=3&pid=P, burn_a hottest; format=folded" case_live_pprof
scase "live: seconds=2 of a single-threaded process fits its duration (<= 105% of one core)" case_live_duration
scase "/metrics passes promtool check metrics and has samples, drops, symbol cache, store, agent, http" case_metrics_promtool
scase "/api/v1/processes?last=30s lists the workload, sorted, shares add up" case_processes
scase "/api/v1/hotspots?pid=P&last=30s: burn_a first, file/line, percentages, impact in [0,1]" case_hotspots
scase "data dir: windows survive a restart; from/to before the restart finds the exited workload" case_data_dir
scase "history: last=10s answers at once with burn_a; last=1m&format=folded&comm=" case_history_last
scase "history: from/to as Unix seconds (with fractions), RFC 3339 (Z, +02:00, -05:00), open-ended" case_history_from_to
scase "/api/v1/processes over half a second: a single-threaded process uses <= 1 core" case_processes_short_range
scase "SIGHUP with --log-file reopens the log" case_sighup
scase "load: ${LOAD_N:-10000} requests from 32 clients, no 5xx, VmRSS grows < 64 MiB" case_load
scase "SIGTERM during a seconds=30 request: exit 0 within 2 s, no BPF program or link left" case_sigterm
finish
