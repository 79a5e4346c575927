#!/usr/bin/env bash
# `bpfprof serve` HTTP rules: API-key auth, rate limit, the cap on long
# requests, remote binding, configuration errors (file, environment, flag),
# TLS, and a table of malformed requests that must each get the right 4xx.
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl jq python3 openssl bpftool; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done

# stop_ok PID NAME: SIGTERM, exit 0, nothing left loaded, no sanitizer report.
stop_ok() {
	serve_stop "$1" || return 1
	[ "$SV_RC" = 0 ] || { fail "$2: exit $SV_RC after SIGTERM"; return 1; }
	sanitizer_check "$T/$2.err"
}

# --- malformed requests ----------------------------------------------------

M_N=0
M_BAD=()

# m WANT PATH_AND_QUERY [CURL_ARGS...]: one row of the table. The answer must
# have status WANT and, unless the row sets NOJSON=1, a JSON {"error": ...}.
m() {
	local want=$1 path=$2
	shift 2
	M_N=$((M_N + 1))
	req "$MURL$path" "$@"
	if [ "$CODE" != "$want" ]; then
		M_BAD+=("${path:0:70}${*:+ [$(echo "$*" | cut -c1-40)]}: HTTP $CODE, want $want ($(head -c 100 "$BODY" | tr -d '\0\n'))")
		return
	fi
	if [ "${NOJSON:-0}" != 1 ] && ! is_json_error "$BODY"; then
		M_BAD+=("${path:0:70}: $CODE without a JSON error body ($(head -c 80 "$BODY" | tr -d '\0\n'))")
	fi
}

case_malformed() {
	local big args pids65 comm100 dead
	serve_start malformed --rate-limit 0 --max-seconds 60 || return 1
	local pid=$SV_PID
	MURL=$SV_URL
	start_bg "$WL/cpu_split" 30
	local w=$BG_PID
	sleep 1.5 # a closed window or two to query
	dead=999999
	while [ -e "/proc/$dead" ]; do dead=$((dead + 1)); done
	comm100=$(printf 'c%.0s' $(seq 100))
	pids65=$(seq -s, 1 65)
	args=$(seq -s '&' 1 40 | sed -E 's/([0-9]+)/a\1=1/g')
	P=/debug/pprof/profile

	# seconds=
	m 400 "$P?seconds=abc"
	m 400 "$P?seconds=-1"
	m 400 "$P?seconds=0"
	m 400 "$P?seconds="
	m 400 "$P?seconds=1.5"
	m 400 "$P?seconds=%2B5"
	m 400 "$P?seconds=99999999999999999999"
	m 400 "$P?seconds=61"    # over --max-seconds 60
	m 400 "$P?seconds=3601"
	m 400 "$P?seconds=5&last=1m"
	m 400 "$P?seconds=5&from=1700000000"
	m 400 "$P?seconds=5&to=1700000000"
	# last=
	m 400 "$P?last=abc"
	m 400 "$P?last=0"
	m 400 "$P?last=-5m"
	m 400 "$P?last=5x"
	m 400 "$P?last=32d"
	m 400 "$P?last="
	m 400 "$P?last=1m&from=1700000000"
	# from= / to=
	m 400 "$P?from=abc"
	m 400 "$P?from="
	m 400 "$P?from=1700000000&to=abc"
	m 400 "$P?from=1700000010&to=1700000000"
	m 400 "$P?from=1700000000&to=1700000000"
	m 400 "$P?to=1700000000"
	m 400 "$P?from=0"                                 # range over 31 days
	m 400 "$P?from=$(($(date +%s) + 3600))"          # in the future: from >= now
	m 400 "$P?from=2023-11-14T22:13:20"               # no zone
	m 400 "$P?from=2023-13-01T00:00:00Z"
	m 400 "$P?from=2023-11-14T22:13:20%2B25:00"
	m 400 "$P?from=9999999999"                        # after 2100
	m 400 "$P?from=2023-11-14T22:13:20%2B-1:00&to=2023-11-15T00:00:00Z" # signed offset hour
	m 400 "$P?from=9999-12-31T23:59:59Z"              # RFC 3339 past int64 nanoseconds
	m 404 "$P?from=1700000000&to=1700000100"          # nothing stored then
	# pid=
	m 400 "$P?last=1m&pid=abc"
	m 400 "$P?last=1m&pid=0"
	m 400 "$P?last=1m&pid=-1"
	m 400 "$P?last=1m&pid=1,"
	m 400 "$P?last=1m&pid=,1"
	m 400 "$P?last=1m&pid=1,,2"
	m 400 "$P?last=1m&pid="
	m 400 "$P?last=1m&pid=2147483648"
	m 400 "$P?last=1m&pid=$pids65"
	m 404 "$P?last=1m&pid=$dead"
	m 404 "$P?seconds=1&pid=$dead"
	m 404 "$P?seconds=1&pid=$w,$dead"
	m 404 "/api/v1/hotspots?last=1m&pid=$dead"
	# comm= / format=
	m 400 "$P?last=1m&comm=$comm100"
	m 400 "$P?last=1m&comm="
	m 400 "$P?last=1m&format=json"
	m 400 "$P?last=1m&format=FOLDED"
	# the JSON routes share the rules
	m 400 "/api/v1/processes?last=foo"
	m 400 "/api/v1/processes?seconds=0"
	m 400 "/api/v1/hotspots?pid=$w&last=1m&format=xml"
	m 400 "/api/v1/hotspots?pid=x"
	# routes
	m 404 "/nope"
	m 404 "/debug/pprof/profile/"
	m 404 "/debug/pprof"
	m 404 "/debug/pprof/nosuch"
	m 404 "/api/v1/"
	m 404 "/api/v1/processes/1"
	m 404 "/debug/pprof/../../metrics" --path-as-is
	# methods
	m 405 "$P" -X POST
	m 405 "$P?last=1m" -X POST -d 'x=1'
	m 405 "/metrics" -X DELETE
	m 405 "/health/ready" -X PUT -d '{}'
	m 405 "/health/live" -X POST
	m 405 "/api/v1/hotspots" -X PATCH
	m 405 "/debug/pprof/" -X OPTIONS
	m 405 "/api/v1/processes" -X POST -H 'Content-Length: 999999999'
	# sizes and syntax
	big=$(printf 'a%.0s' $(seq 5000))
	m 414 "/metrics?x=$big"
	m 400 "$P?$args"
	m 400 "$P?last=1m&comm=%zz"
	m 400 "$P?last=1m&comm=%4"
	m 400 "$P?last=1m&comm=a%00b"
	m 400 "/metrics%00junk" # NUL would cut the path to a real route
	m 431 "/metrics" -H "X-Big: $(printf 'h%.0s' $(seq 9000))"
	NOJSON=1 m 431 "/metrics" -H "X-Big: $(printf 'h%.0s' $(seq 40000))" # beyond MHD's pool: its own page
	NOJSON=1 m 414 "/metrics?x=$(printf 'a%.0s' $(seq 40000))"

	if ! kill -0 "$pid" 2>/dev/null; then
		fail "the daemon died during the table (${#M_BAD[@]} rows failed; first: ${M_BAD[0]:-}): $(grep -m1 -E 'ERROR: |runtime error:' "$T/malformed.err" | cut -c1-200)"
		sanitizer_check "$T/malformed.err"
		return 1
	fi
	if [ "$M_N" -lt 40 ]; then
		fail "only $M_N rows in the table"
	fi
	# still alive and well
	req "$MURL/health/ready"
	[ "$CODE" = 200 ] || M_BAD+=("after the table: /health/ready HTTP $CODE")
	req "$MURL/debug/pprof/profile?last=1m&pid=$w&format=folded"
	[ "$CODE" = 200 ] || M_BAD+=("after the table: profile?last=1m HTTP $CODE")
	# 4xx answers are counted by code in /metrics
	req "$MURL/metrics"
	grep -qE '^bpfprof_http_requests_total\{.*code="405".*\} [1-9]' "$BODY" ||
		M_BAD+=("no bpfprof_http_requests_total with code=\"405\" in /metrics")
	echo "# malformed: $M_N requests, ${#M_BAD[@]} wrong"
	if [ ${#M_BAD[@]} -gt 0 ]; then
		local b
		for b in "${M_BAD[@]}"; do echo "#   $b"; done
		fail "${#M_BAD[@]} of $M_N malformed requests answered wrong (first: ${M_BAD[0]})"
		stop_ok "$pid" malformed
		return 1
	fi
	stop_ok "$pid" malformed
}

# --- auth ------------------------------------------------------------------

case_auth() {
	local key=k3y-$RANDOM-$RANDOM-secret kf=$T/api.key u bad=
	printf '%s\n' "$key" >"$kf"
	chmod 600 "$kf"
	serve_start auth --api-key-file "$kf" --rate-limit 0 || return 1
	local pid=$SV_PID
	u=$SV_URL
	req "$u/metrics"
	[ "$CODE" = 401 ] || bad="$bad no key: $CODE;"
	is_json_error "$BODY" || bad="$bad 401 without JSON error;"
	[ -n "$(header WWW-Authenticate)" ] || bad="$bad 401 without WWW-Authenticate;"
	req "$u/metrics" -H "X-API-Key: wrong"
	[ "$CODE" = 401 ] || bad="$bad wrong X-API-Key: $CODE;"
	req "$u/metrics" -H "X-API-Key: ${key}x"
	[ "$CODE" = 401 ] || bad="$bad key plus a byte: $CODE;"
	req "$u/metrics" -H "X-API-Key: ${key%?}"
	[ "$CODE" = 401 ] || bad="$bad key minus a byte: $CODE;"
	req "$u/metrics" -H "Authorization: Bearer wrong"
	[ "$CODE" = 401 ] || bad="$bad wrong Bearer: $CODE;"
	req "$u/metrics" -H "Authorization: Basic $(printf 'u:%s' "${key}x" | base64 -w0)"
	[ "$CODE" = 401 ] || bad="$bad wrong Basic password accepted: $CODE;"
	req "$u/metrics" -H "Authorization: Basic $(printf '%s:' "$key" | base64 -w0)"
	[ "$CODE" = 401 ] || bad="$bad key as Basic user name accepted: $CODE;"
	req "$u/metrics" -H "Authorization: Basic $(printf 'u:%s' "$key" | base64 -w0)"
	[ "$CODE" = 200 ] || bad="$bad Basic auth with the key as password: $CODE;"
	req "$u/metrics" -H "X-API-Key: $key"
	[ "$CODE" = 200 ] || bad="$bad X-API-Key: $CODE;"
	req "$u/metrics" -H "Authorization: Bearer $key"
	[ "$CODE" = 200 ] || bad="$bad Bearer: $CODE;"
	req "$u/debug/pprof/profile?seconds=1&format=folded" -H "Authorization: Bearer $key"
	[ "$CODE" = 200 ] || bad="$bad Bearer on profile: $CODE;"
	req "$u/debug/pprof/profile?last=1m"
	[ "$CODE" = 401 ] || bad="$bad profile without key: $CODE;"
	req "$u/api/v1/processes"
	[ "$CODE" = 401 ] || bad="$bad processes without key: $CODE;"
	req "$u/debug/pprof/"
	[ "$CODE" = 401 ] || bad="$bad index without key: $CODE;"
	# health probes are public
	req "$u/health/live"
	[ "$CODE" = 200 ] || bad="$bad /health/live without key: $CODE;"
	req "$u/health/ready"
	[ "$CODE" = 200 ] || bad="$bad /health/ready without key: $CODE;"
	req "$u/health/ready" -H "X-API-Key: wrong"
	[ "$CODE" = 200 ] || bad="$bad /health/ready with a wrong key: $CODE;"
	# an unknown route is 404 or 401, never 200
	req "$u/nope"
	[ "$CODE" = 404 ] || [ "$CODE" = 401 ] || bad="$bad /nope: $CODE;"
	# the key never shows up in the log
	grep -q "$key" "$SV_ERR" && bad="$bad key written to the log;"
	[ -z "$bad" ] || { fail "$bad"; return 1; }
	stop_ok "$pid" auth
}

# --- rate limit -------------------------------------------------------------

case_rate_limit() {
	local u i codes= n429=0 ra h
	serve_start rate --rate-limit 1 --rate-burst 3 || return 1
	local pid=$SV_PID
	u=$SV_URL
	for i in $(seq 8); do
		req "$u/metrics"
		codes="$codes $CODE"
		if [ "$CODE" = 429 ]; then
			n429=$((n429 + 1))
			ra=$(header Retry-After)
			h=$BODY
		fi
	done
	[ "$n429" -ge 3 ] || { fail "8 quick requests at 1/s, burst 3: codes$codes, want several 429"; return 1; }
	[[ $ra =~ ^[1-9][0-9]*$ ]] || { fail "429 without a Retry-After in seconds (got '$ra')"; return 1; }
	is_json_error "$h" || { fail "429 without a JSON error body: $(head -c 100 "$h")"; return 1; }
	# health probes are not limited
	for i in $(seq 10); do
		req "$u/health/ready"
		[ "$CODE" = 200 ] || { fail "/health/ready rate-limited: $CODE"; return 1; }
	done
	# after Retry-After, allowed again
	sleep "$ra"
	req "$u/metrics"
	[ "$CODE" = 200 ] || { fail "after waiting Retry-After ($ra s): $CODE"; return 1; }
	grep -qE '^bpfprof_http_rate_limited_total [1-9]' "$BODY" ||
		{ fail "bpfprof_http_rate_limited_total not counted: $(grep '^bpfprof_http_rate_limited_total' "$BODY")"; return 1; }
	stop_ok "$pid" rate
}

# --- long requests ------------------------------------------------------------

case_max_long() {
	local u c1 c2 a b ra
	serve_start long --max-long-requests 1 --rate-limit 0 || return 1
	local pid=$SV_PID
	u=$SV_URL
	curl -s -o "$T/long1.body" -D "$T/long1.hdrs" -w '%{http_code}' --max-time 20 "$u/debug/pprof/profile?seconds=3" >"$T/long1.code" &
	c1=$!
	sleep 0.5
	curl -s -o "$T/long2.body" -D "$T/long2.hdrs" -w '%{http_code}' --max-time 20 "$u/debug/pprof/profile?seconds=3" >"$T/long2.code" &
	c2=$!
	wait "$c1" "$c2"
	a=$(cat "$T/long1.code")
	b=$(cat "$T/long2.code")
	[ "$a" = 200 ] || { fail "first seconds=3: $a"; return 1; }
	[ "$b" = 503 ] || { fail "second concurrent seconds=3 with --max-long-requests 1: $b, want 503"; return 1; }
	ra=$(grep -i '^Retry-After:' "$T/long2.hdrs" | cut -d: -f2 | tr -d ' \r')
	[[ $ra =~ ^[1-9][0-9]*$ ]] || { fail "503 without Retry-After"; return 1; }
	is_json_error "$T/long2.body" || { fail "503 without a JSON error"; return 1; }
	# short requests are not held up meanwhile, and the slot frees again
	req "$u/debug/pprof/profile?seconds=1"
	[ "$CODE" = 200 ] || { fail "seconds=1 after the first finished: $CODE"; return 1; }
	stop_ok "$pid" long
}

# --- remote binding ---------------------------------------------------------

case_remote_refused() {
	local kf=$T/remote.key pid
	BP_TIMEOUT=20 bp "$T/remote" serve --listen 0.0.0.0:0
	expect_error 2 || return 1
	grep -qiE 'api.key|insecure' "$BP_ERR" || { fail "message does not say why: $(head -1 "$BP_ERR")"; return 1; }
	BP_TIMEOUT=20 bp "$T/remote6" serve --listen '[::]:0'
	expect_error 2 || return 1
	# accepted with --insecure-allow-remote
	serve_start remote_ok --listen 0.0.0.0:0 --insecure-allow-remote || return 1
	pid=$SV_PID
	grep -q 'serving on http://0.0.0.0:' "$SV_ERR" || { fail "start-up line: $(grep serving "$SV_ERR")"; return 1; }
	req "$SV_URL/health/live"
	[ "$CODE" = 200 ] || { fail "0.0.0.0 with --insecure-allow-remote: /health/live $CODE"; return 1; }
	stop_ok "$pid" remote_ok || return 1
	# and with a key
	printf 'remote-key-123\n' >"$kf"
	chmod 600 "$kf"
	serve_start remote_key --listen 0.0.0.0:0 --api-key-file "$kf" || return 1
	pid=$SV_PID
	req "$SV_URL/metrics" -H 'X-API-Key: remote-key-123'
	[ "$CODE" = 200 ] || { fail "0.0.0.0 with a key: /metrics $CODE"; return 1; }
	stop_ok "$pid" remote_key
}

# --- configuration errors ---------------------------------------------------

# cfg_err NAME WANT_IN_MESSAGE ENV... -- ARGS...: serve must exit 2 at once
# with a "bpfprof: " message containing WANT_IN_MESSAGE.
CFG_BAD=()
CFG_N=0
cfg_err() {
	local name=$1 want=$2 envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	CFG_N=$((CFG_N + 1))
	BP_WRAP=(env "${envs[@]}")
	REASON=
	BP_TIMEOUT=20 bp "$T/cfg.$CFG_N" serve --listen 127.0.0.1:0 "$@"
	BP_WRAP=()
	if ! expect_error 2; then
		CFG_BAD+=("$name: $REASON")
	elif ! grep -qF -- "$want" "$BP_ERR"; then
		CFG_BAD+=("$name: message lacks '$want': $(grep -m1 '^bpfprof: ' "$BP_ERR")")
	fi
	REASON=
}

case_config_errors() {
	local c=$T/cfg
	mkdir -p "$c"
	printf 'window = 2\nwindw = 5\n' >"$c/unknown.conf"
	printf '# comment\nwindow = 0\n' >"$c/zero.conf"
	printf 'rate_limit = fast\n' >"$c/rate.conf"
	printf 'listen = nowhere\n' >"$c/listen.conf"
	printf 'just words\n' >"$c/syntax.conf"
	printf 'max_long_requests = -1\n' >"$c/neg.conf"
	printf 'x' >"$c/key.empty"
	: >"$c/key.empty"
	chmod 600 "$c/key.empty"
	# file
	cfg_err "file: unknown key" "windw" -- --config "$c/unknown.conf"
	cfg_err "file: unknown key, line number" "line 2" -- --config "$c/unknown.conf"
	cfg_err "file: window = 0" "window" -- --config "$c/zero.conf"
	cfg_err "file: rate_limit = fast" "rate_limit" -- --config "$c/rate.conf"
	cfg_err "file: listen = nowhere" "listen" -- --config "$c/listen.conf"
	cfg_err "file: no '='" "$c/syntax.conf" -- --config "$c/syntax.conf"
	cfg_err "file: max_long_requests = -1" "max_long_requests" -- --config "$c/neg.conf"
	cfg_err "file: missing" "$c/none.conf" -- --config "$c/none.conf"
	cfg_err "env BPFPROF_CONFIG names the file" "windw" BPFPROF_CONFIG="$c/unknown.conf" --
	# environment
	cfg_err "env: BPFPROF_WINDOW=abc" "BPFPROF_WINDOW" BPFPROF_WINDOW=abc --
	cfg_err "env: BPFPROF_WINDOW=0 names window" "window" BPFPROF_WINDOW=0 --
	cfg_err "env: BPFPROF_BOGUS=1" "BPFPROF_BOGUS" BPFPROF_BOGUS=1 --
	cfg_err "env: BPFPROF_RATE_BURST=0" "rate_burst" BPFPROF_RATE_BURST=0 --
	cfg_err "env: BPFPROF_MAX_SECONDS=1x" "max_seconds" BPFPROF_MAX_SECONDS=1x --
	# flags
	cfg_err "flag: --window 0" "window" -- --window 0
	cfg_err "flag: --window 3601" "window" -- --window 3601
	cfg_err "flag: --bogus 1" "--bogus" -- --bogus 1
	cfg_err "flag: --rate-limit -1" "rate_limit" -- --rate-limit -1
	cfg_err "flag: --rate-limit nan" "rate_limit" -- --rate-limit nan
	cfg_err "flag: --max-long-requests 0" "max_long_requests" -- --max-long-requests 0
	cfg_err "flag: --listen 1.2.3:80" "listen" -- --listen 1.2.3:80
	cfg_err "flag: --listen 127.0.0.1:70000" "listen" -- --listen 127.0.0.1:70000
	cfg_err "flag: --freq 0" "freq" -- --freq 0
	cfg_err "flag: --retention 5 < --window 10" "retention" -- --window 10 --retention 5
	cfg_err "flag: --tls-cert without --tls-key" "tls_key" -- --tls-cert /etc/hostname
	cfg_err "flag: --api-key-file missing" "api_key_file" -- --api-key-file "$c/nokey"
	cfg_err "flag: --api-key-file empty" "api_key_file" -- --api-key-file "$c/key.empty"
	cfg_err "flag: --window without value" "--window" -- --window
	cfg_err "flag: stray argument" "extra" -- extra
	# layering: a good flag does not hide a bad env value, and the flag wins over a good env
	cfg_err "env bad, flag good: env still reported" "BPFPROF_FREQ" BPFPROF_FREQ=zero -- --freq 99
	echo "# config errors: $CFG_N runs, ${#CFG_BAD[@]} wrong"
	if [ ${#CFG_BAD[@]} -gt 0 ]; then
		local b
		for b in "${CFG_BAD[@]}"; do echo "#   $b"; done
		fail "${#CFG_BAD[@]} of $CFG_N bad configurations handled wrong (first: ${CFG_BAD[0]})"
		return 1
	fi
}

# Layers: flag over env over file, and the result is what serves.
case_config_layers() {
	local c=$T/layers.conf pid
	printf 'window = 7\nfreq = 49\nretention = 1h\n' >"$c"
	BPFPROF_WINDOW=5 serve_start layers --config "$c" --window 3 || return 1
	pid=$SV_PID
	grep -qE 'serving on .*\(49 Hz, 3 s windows, 3600 s kept' "$SV_ERR" ||
		{ fail "want 49 Hz (file), 3 s windows (flag over env over file), 3600 s kept: $(grep serving "$SV_ERR")"; return 1; }
	stop_ok "$pid" layers
}

# --- TLS ----------------------------------------------------------------------

case_tls() {
	local d=$T/tls pid u
	mkdir -p "$d"
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1; then
		fail "openssl req failed: $(tail -2 "$d/openssl.log" | tr '\n' '|')"
		return 1
	fi
	chmod 600 "$d/key.pem"
	serve_start tls --tls-cert "$d/cert.pem" --tls-key "$d/key.pem" --rate-limit 0 || return 1
	pid=$SV_PID
	u=$SV_URL
	[[ $u == https://* ]] || { fail "start-up line does not say https: $(grep serving "$SV_ERR")"; return 1; }
	req "$u/health/ready" -k
	[ "$CODE" = 200 ] || { fail "curl -k https://.../health/ready: $CODE ($(cat "$T/req.$REQ_N.curlerr"))"; return 1; }
	req "$u/metrics" --cacert "$d/cert.pem"
	[ "$CODE" = 200 ] || { fail "curl --cacert: /metrics $CODE ($(cat "$T/req.$REQ_N.curlerr"))"; return 1; }
	req "$u/debug/pprof/profile?seconds=1" -k
	[ "$CODE" = 200 ] || { fail "https profile?seconds=1: $CODE"; return 1; }
	pp -raw "$BODY" >/dev/null 2>&1 || { fail "profile over TLS not readable by go tool pprof"; return 1; }
	# no certificate check: refused
	req "$u/health/ready"
	[ "$CODE" = 000 ] || { fail "a client that verifies (no CA) got $CODE"; return 1; }
	# plain HTTP to the TLS port: no answer served
	req "http://127.0.0.1:$SV_PORT/health/ready" --max-time 5
	[ "$CODE" != 200 ] || { fail "plain HTTP answered 200 on the TLS port"; return 1; }
	req "$u/health/ready" -k
	[ "$CODE" = 200 ] || { fail "after a plain HTTP attempt: $CODE"; return 1; }
	stop_ok "$pid" tls || return 1
	# a key that is not PEM: refused at start-up
	printf 'garbage\n' >"$d/bad.pem"
	BP_TIMEOUT=20 bp "$T/tlsbad" serve --listen 127.0.0.1:0 --tls-cert "$d/cert.pem" --tls-key "$d/bad.pem"
	[ "$BP_RC" != 0 ] || { fail "started with a garbage TLS key"; return 1; }
	grep -q '^bpfprof: ' "$BP_ERR" || { fail "garbage TLS key: no message"; return 1; }
	[ -z "$BP_PROBLEMS" ] || { fail "$BP_PROBLEMS"; return 1; }
}

scase "malformed requests: 70+ rows each get the right 4xx with a JSON error; still ready after" case_malformed
scase "auth: no/wrong key 401, X-API-Key, Bearer and Basic (key as password) 200, health public" case_auth
scase "rate limit: 429 with Retry-After and JSON; health exempt; allowed again after the wait" case_rate_limit
scase "--max-long-requests 1: a second concurrent seconds=3 gets 503 with Retry-After" case_max_long
scase "non-loopback listen: refused without a key (exit 2), served with --insecure-allow-remote or a key" case_remote_refused
scase "config errors in file, environment and flags: exit 2 naming the key" case_config_errors
scase "config layers: flag over env over file" case_config_layers
scase "TLS with a self-signed certificate: https works, plain http does not" case_tls
finish
