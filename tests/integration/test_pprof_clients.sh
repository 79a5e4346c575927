#!/usr/bin/env bash
# go tool pprof against the daemon as a user points it: a whole-host URL while
# code no symbolizer can name runs (a stripped binary, a JIT region in a memfd
# without a perf map), so pprof must ask /debug/pprof/symbol; and with an API
# key, given as the URL's user info (HTTP Basic auth).
#
# Knobs: RUNS (whole-host pprof runs, default 4), and those of lib.sh.
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl python3; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done
[ -x "$WL/unsym_work" ] || { echo "not ok - prerequisites: $WL/unsym_work not built (make workloads)"; exit 1; }

RUNS=${RUNS:-4}
# pprof's own timeout for ?seconds=N is 1.5 N: on a loaded machine (or an ASan
# build symbolizing the whole host for the first time) that is a wall-clock
# assertion, not what these cases check.
PPROF_T=(-timeout 120)
JIT_MAP=/memfd:bpfprof-jit

# metric URL NAME_AND_LABELS [CURL_ARGS...]: the value of one /metrics line (0 if absent).
metric() {
	local url=$1 sel=$2
	shift 2
	curl -sS --max-time 30 "$@" "$url/metrics" |
		awk -v s="$sel" 'index($0, s " ") == 1 { v = $2 } END { print v + 0 }'
}
SYM_OK='bpfprof_http_requests_total{route="/debug/pprof/symbol",code="200"}'

# sym_calls URL [CURL_ARGS...]: symbol POSTs answered so far, and no other status.
sym_calls() {
	local url=$1 other
	shift
	other=$(curl -sS --max-time 30 "$@" "$url/metrics" |
		grep -E '^bpfprof_http_requests_total\{route="/debug/pprof/symbol",code="[^2]' | grep -v ' 0$')
	[ -z "$other" ] || { fail "/debug/pprof/symbol answered non-200: $other"; return 1; }
	metric "$url" "$SYM_OK" "$@"
}

# mapping_id RAWFILE PATH: the id pprof -raw gives the mapping of PATH.
mapping_id() {
	awk -v p="$2" '/^Mappings/ { m = 1; next } m && index($0, " " p " ") { sub(/:.*/, ""); print; exit }' "$1"
}

# start_unsym: the workload, and a wait until its JIT region is mapped.
start_unsym() {
	local i
	start_bg "$WL/unsym_work" 120
	U=$BG_PID
	for i in $(seq 50); do
		grep -q "$JIT_MAP" /proc/"$U"/maps 2>/dev/null && return 0
		sleep 0.1
	done
	fail "unsym_work mapped no $JIT_MAP"
	return 1
}

# unsym_stop: ends the workload of the case and removes its perf map.
unsym_stop() {
	[ -n "${U:-}" ] || return 0
	kill "$U" 2>/dev/null
	wait "$U" 2>/dev/null
	rm -f /tmp/perf-"$U".map
	U=
}

# --- cases -------------------------------------------------------------------

# The headline command, several times: each run must succeed, see both
# unsymbolizable mappings and have asked /debug/pprof/symbol.
case_whole_host() {
	local url i before after raw err jid sid
	serve_start whole --rate-limit 0 || return 1
	url=$SV_URL
	start_unsym || return 1
	sleep 1
	for i in $(seq "$RUNS"); do
		raw=$T/whole.$i.raw
		err=$T/whole.$i.err
		before=$(sym_calls "$url") || return 1
		if ! go tool pprof "${PPROF_T[@]}" -raw "$url/debug/pprof/profile?seconds=2" >"$raw" 2>"$err"; then
			fail "run $i: go tool pprof -raw failed: $(grep -v '^$' "$err" | tail -3 | tr '\n' '|' | cut -c1-300)"
			return 1
		fi
		after=$(sym_calls "$url") || return 1
		jid=$(mapping_id "$raw" "$JIT_MAP")
		sid=$(mapping_id "$raw" "$WL/unsym_work")
		[ -n "$jid" ] && [ -n "$sid" ] ||
			{ fail "run $i: profile lacks the JIT ($jid) or stripped ($sid) mapping"; return 1; }
		grep -q "pid:\[$U\]" "$raw" || { fail "run $i: no samples of unsym_work (pid $U)"; return 1; }
		[ "$after" -gt "$before" ] ||
			{ fail "run $i: pprof did not call /debug/pprof/symbol ($before -> $after)"; return 1; }
	done
	if ! go tool pprof "${PPROF_T[@]}" -top "$url/debug/pprof/profile?seconds=2" >"$T/whole.top" 2>"$T/whole.top.err"; then
		fail "go tool pprof -top failed: $(grep -v '^$' "$T/whole.top.err" | tail -3 | tr '\n' '|' | cut -c1-300)"
		return 1
	fi
	grep -qE '^ *flat +flat%' "$T/whole.top" || { fail "pprof -top printed no table"; return 1; }
	[ "$(metric "$url" bpfprof_pprof_symbol_requests_total)" -gt 0 ] ||
		{ fail "bpfprof_pprof_symbol_requests_total stayed 0"; return 1; }
	unsym_stop
	serve_stop "$SV_PID" && sanitizer_check "$SV_ERR"
}

# A JIT that publishes its perf map after the profile was taken: the symbol
# route names its addresses through the profiled process, as pprof asks.
case_late_perf_map() {
	local url f addrs n want got
	serve_start late --rate-limit 0 || return 1
	url=$SV_URL
	start_unsym || return 1
	sleep 1
	f=$T/late.pb.gz
	CODE=$(curl -sS -o "$f" -w '%{http_code}' --max-time 60 "$url/debug/pprof/profile?seconds=2")
	[ "$CODE" = 200 ] || { fail "profile: HTTP $CODE"; return 1; }
	pp -raw "$f" >"$f.raw" 2>"$f.err" || { fail "pprof -raw of the saved profile failed"; return 1; }
	n=$(mapping_id "$f.raw" "$JIT_MAP")
	[ -n "$n" ] || { fail "no $JIT_MAP mapping in the profile"; return 1; }
	grep -E "^Mappings" -A999 "$f.raw" | grep -F " $JIT_MAP " | grep -q '\[FN\]' &&
		{ fail "JIT mapping says has_functions before any perf map"; return 1; }
	addrs=$(awk -v m="M=$n" '/^Locations/ { l = 1; next } /^Mappings/ { l = 0 } l && $3 == m { print $2 }' "$f.raw" | sort -u)
	[ -n "$addrs" ] || { fail "no locations in the JIT mapping"; return 1; }
	kill -USR1 "$U"
	for _ in $(seq 50); do [ -s /tmp/perf-"$U".map ] && break; sleep 0.1; done
	[ -s /tmp/perf-"$U".map ] || { fail "unsym_work wrote no perf map"; return 1; }
	req "$url/debug/pprof/symbol" --data-binary "$(paste -sd+ <<<"$addrs")"
	[ "$CODE" = 200 ] || { fail "symbol POST: HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	[ "$(head -1 "$BODY")" = "num_symbols: 1" ] || { fail "symbol POST: first line '$(head -1 "$BODY")'"; return 1; }
	want=$(sort -u <<<"$addrs" | sed 's/$/ bpfprof_jit_loop/')
	got=$(tail -n +2 "$BODY" | sort -u)
	[ "$got" = "$want" ] ||
		{ fail "symbol POST answered '$(tr '\n' '|' <<<"$got" | cut -c1-200)', want '$(tr '\n' '|' <<<"$want" | cut -c1-200)'"; return 1; }
	rm -f /tmp/perf-"$U".map
	unsym_stop
	serve_stop "$SV_PID" && sanitizer_check "$SV_ERR"
}

# The route's own contract: GET, empty, malformed and oversized bodies.
case_symbol_route() {
	local url big bad=
	serve_start route --rate-limit 0 || return 1
	url=$SV_URL
	req "$url/debug/pprof/symbol"
	[ "$CODE" = 200 ] && [ "$(cat "$BODY")" = "num_symbols: 1" ] || bad="$bad GET: $CODE '$(head -c 40 "$BODY")';"
	req "$url/debug/pprof/symbol" -X POST
	[ "$CODE" = 200 ] && [ "$(cat "$BODY")" = "num_symbols: 1" ] || bad="$bad empty POST: $CODE;"
	req "$url/debug/pprof/symbol" --data-binary '0x1+0x2'
	[ "$CODE" = 200 ] && [ "$(cat "$BODY")" = "num_symbols: 1" ] || bad="$bad unknown addresses: $CODE '$(head -c 60 "$BODY")';"
	for b in '0xzz' '0x1+' '+0x1' '0x1++0x2' 'hello world' '0x10000000000000000'; do
		req "$url/debug/pprof/symbol" --data-binary "$b"
		[ "$CODE" = 400 ] && is_json_error "$BODY" || bad="$bad '$b': $CODE;"
	done
	big=$T/many
	python3 -c 'import sys; sys.stdout.write("+".join("0x%x" % (0x1000 + i) for i in range(65537)))' >"$big"
	req "$url/debug/pprof/symbol" --data-binary @"$big"
	[ "$CODE" = 413 ] && is_json_error "$BODY" || bad="$bad 65537 addresses: $CODE;"
	python3 -c 'import sys; sys.stdout.write("1" * (1024 * 1024 + 1))' >"$big"
	req "$url/debug/pprof/symbol" -H 'Expect:' --data-binary @"$big"
	[ "$CODE" = 413 ] && is_json_error "$BODY" || bad="$bad 1 MiB + 1 body: $CODE;"
	req "$url/debug/pprof/symbol" -X DELETE
	[ "$CODE" = 405 ] || bad="$bad DELETE: $CODE;"
	[ -z "$bad" ] || { fail "${bad# }"; return 1; }
	unsym_stop
	serve_stop "$SV_PID" && sanitizer_check "$SV_ERR"
}

# With an API key, go tool pprof authenticates by the URL's user info only.
case_basic_auth() {
	local key=k3y-$RANDOM-$RANDOM-secret kf=$T/api.key hostport before after
	printf '%s\n' "$key" >"$kf"
	chmod 600 "$kf"
	serve_start basic --api-key-file "$kf" --rate-limit 0 || return 1
	hostport=${SV_URL#http://}
	start_unsym || return 1
	sleep 1
	before=$(sym_calls "$SV_URL" -u "bpfprof:$key") || return 1
	if ! go tool pprof "${PPROF_T[@]}" -raw "http://bpfprof:$key@$hostport/debug/pprof/profile?seconds=2" \
		>"$T/basic.raw" 2>"$T/basic.err"; then
		fail "go tool pprof with user info failed: $(grep -v '^$' "$T/basic.err" | tail -3 | tr '\n' '|' | cut -c1-300)"
		return 1
	fi
	grep -q "pid:\[$U\]" "$T/basic.raw" || { fail "no samples of unsym_work"; return 1; }
	after=$(sym_calls "$SV_URL" -u "bpfprof:$key") || return 1
	# pprof carries the user info on to /debug/pprof/symbol, which the key guards too
	[ "$after" -gt "$before" ] || { fail "pprof's symbol POST did not get through ($before -> $after)"; return 1; }
	if go tool pprof "${PPROF_T[@]}" -raw "http://bpfprof:${key}x@$hostport/debug/pprof/profile?seconds=1" \
		>"$T/basic.bad.raw" 2>"$T/basic.bad.err"; then
		fail "go tool pprof with a wrong key succeeded"
		return 1
	fi
	grep -q '401' "$T/basic.bad.err" || { fail "wrong key: no 401 in '$(tr '\n' '|' <"$T/basic.bad.err" | cut -c1-200)'"; return 1; }
	req "$SV_URL/debug/pprof/profile?seconds=1&format=folded" -u "anyone:wrong"
	[ "$CODE" = 401 ] && is_json_error "$BODY" || { fail "curl -u wrong key: HTTP $CODE"; return 1; }
	req "$SV_URL/debug/pprof/symbol" --data-binary '0x1'
	[ "$CODE" = 401 ] || { fail "symbol route without a key: HTTP $CODE"; return 1; }
	unsym_stop
	serve_stop "$SV_PID" && sanitizer_check "$SV_ERR"
}

scase "whole-host go tool pprof with unsymbolizable code, $RUNS runs" case_whole_host
scase "symbol route names a JIT region through its process" case_late_perf_map
scase "symbol route: GET, bad and oversized bodies" case_symbol_route
scase "go tool pprof with the API key as Basic auth user info" case_basic_auth
finish
