#!/usr/bin/env bash
# `bpfprof serve --data-dir` over a data dir holding crafted window files
# (the ones of issue 16 and their kin): the real daemon must come up ready,
# load the good windows, refuse each bad one with a log line naming it and
# the limit it hit, count them in /metrics, keep its peak RSS bounded, and
# keep serving live profiles.
#
# Knobs: BPFPROF (build/asan/bpfprof works: then UBSan also checks the
# saturated sums), ONLY, KEEP_TMP (see lib.sh).
SERVE_LIB_ONLY=1 . "$(dirname "$0")/test_serve.sh"
require_prereqs
for tool in curl python3 bpftool; do
	command -v "$tool" >/dev/null || { echo "not ok - prerequisites: $tool not installed"; exit 1; }
done

# Peak RSS allowed for the daemon after loading the dir (KiB). The store cap
# is 16 MiB; the 62 KB file alone took 1.3 GB before decoding was bounded.
# ASan's shadow and quarantine roughly triple a heap.
MAX_HWM_KIB=$((160 * 1024))
case $BPFPROF in */asan/*) MAX_HWM_KIB=$((640 * 1024)) ;; esac

# make_dir DIR SET: the crafted files of SET (decode: bombs and corrupt
# files; names: a 1 TiB sparse file, a window from tomorrow and a good
# one), named as windows of
# the last few minutes. Prints "NAME KIND" per file (good, reject, error).
make_dir() {
	python3 - "$1" "$2" <<'EOF'
import os, struct, sys, time, zlib

d, which = sys.argv[1], sys.argv[2]
now_ms = int(time.time()) // 10 * 10 * 1000
slot = [0]

def name(future=False):
    slot[0] += 1
    start = now_ms + 86400 * 1000 if future else now_ms - 300 * 1000 + slot[0] * 10000
    return "window-%d-%d.pb.gz" % (start, start + 10000)

def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7f | 0x80])
        v >>= 7
    return out + bytes([v])

def key(tag, wire):
    return varint(tag << 3 | wire)

def field(tag, data):  # length-delimited
    return key(tag, 2) + varint(len(data)) + data

def num(tag, v):
    return key(tag, 0) + varint(v)

def strings(*ss):
    return b"".join(field(6, s.encode()) for s in ss)

# the daemon's CPU sample types (samples/count, cpu/nanoseconds), one
# function and location; the sample is written `times` times with `value`,
# so the reader merges the copies
def profile(fn, value, times=1):
    msg = field(1, num(1, 1) + num(2, 2)) + field(1, num(1, 3) + num(2, 4))
    msg += field(3, num(1, 1) + num(2, 0x400000) + num(3, 0x500000) + num(5, 6))
    msg += field(5, num(1, 1) + num(2, 5) + num(3, 5) + num(4, 6))
    msg += field(4, num(1, 1) + num(2, 1) + num(3, 0x401000) + field(4, num(1, 1) + num(2, 7)))
    for _ in range(times):
        msg += field(2, field(1, varint(1)) + field(2, varint(value) + varint(value)))
    return msg + strings("", "samples", "count", "cpu", "nanoseconds", fn, "/bin/hostile")

def gz_stream(parts):  # parts: (bytes, repeat count), streamed
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    for chunk, n in parts:
        big = chunk * max(1, (1 << 20) // max(1, len(chunk)))
        per = len(big) // len(chunk)
        while n > 0:
            k = min(n, per)
            out.append(z.compress(big[: k * len(chunk)]))
            n -= k
    out.append(z.flush())
    return b"".join(out)

def put(kind, data=None, how=None):
    n = name(future=(kind == "future"))
    p = os.path.join(d, n)
    if how:
        how(p)
    else:
        with open(p, "wb") as f:
            f.write(data)
    print(n, {"future": "reject"}.get(kind, kind))

hdr = field(1, num(1, 1) + num(2, 2)) + strings("", "samples", "count")
if which == "names":
    put("good", gz_stream([(profile("hostile_good_marker", 5), 1)]))
    def sparse(p):
        open(p, "wb").close()
        os.truncate(p, 1 << 40)
    put("reject", how=sparse)
    # a valid window from tomorrow
    put("future", gz_stream([(profile("hostile_future_marker", 1), 1)]))
    sys.exit(0)
put("good", gz_stream([(profile("hostile_good_marker", 5), 1)]))
# issue 16: merging two identical samples of INT64_MAX overflowed
put("good", gz_stream([(profile("hostile_saturated_marker", (1 << 63) - 1, 2), 1)]))
# issue 16: 62 KB, 32 M empty strings, 64 MB inflated (1.3 GB decoded before)
put("reject", gz_stream([(hdr, 1), (b"\x32\x00", 32000000)]))
# under the inflate cap, over the decode memory cap as a string table
put("reject", gz_stream([(hdr, 1), (b"\x32\x00", 6000000)]))
# gzip bomb: 256 MiB of zeros
put("reject", gz_stream([(b"\0", 256 << 20)]))
# a FIFO would block a read; a symlink to /dev/zero would never end
put("reject", how=lambda p: os.mkfifo(p, 0o600))
put("reject", how=lambda p: os.symlink("/dev/zero", p))
# corrupt: not gzip, truncated gzip, varint lengths past the end
put("error", b"garbage, not a profile")
put("error", gz_stream([(profile("x", 1), 1)])[:40])
put("error", gz_stream([(hdr + b"\x12\xff\xff\xff\xff\x0f", 1)]))
EOF
}

# hwm PID: peak resident KiB.
hwm() {
	awk '/^VmHWM:/ { print $2 }' /proc/"$1"/status 2>/dev/null
}

# metric NAME: its value in the last /metrics body.
metric_value() {
	awk -v n="$1" '$1 == n { print $2 }' "$BODY"
}

# check_logged LIST: each bad file of LIST has a log line naming it, good ones none.
check_logged() {
	local name kind bad=
	while read -r name kind; do
		if [ "$kind" = good ]; then
			grep -qF "skipping $name" "$SV_ERR" && bad="$bad good:$name"
		else
			grep -qF "bpfprof: data dir: skipping $name: " "$SV_ERR" || bad="$bad $kind:$name"
		fi
	done <"$1"
	[ -z "$bad" ] || { fail "log lines wrong for:$bad ($(grep -c skipping "$SV_ERR") skipping lines)"; return 1; }
}

# check_counted LIST: /metrics counts LIST's rejects and errors; nothing rotated.
check_counted() {
	local v
	req "$SV_URL/metrics"
	[ "$CODE" = 200 ] || { fail "/metrics: HTTP $CODE"; return 1; }
	if command -v promtool >/dev/null && ! promtool check metrics <"$BODY" >"$BODY.lint" 2>&1; then
		fail "promtool check metrics: $(head -3 "$BODY.lint" | tr '\n' '|')"
		return 1
	fi
	v=$(metric_value bpfprof_store_files_rejected_total)
	[ "$v" = "$(grep -c ' reject$' "$1")" ] || { fail "bpfprof_store_files_rejected_total ${v:-missing}, want $(grep -c ' reject$' "$1")"; return 1; }
	v=$(metric_value bpfprof_store_load_errors_total)
	[ "$v" = "$(grep -c ' error$' "$1")" ] || { fail "bpfprof_store_load_errors_total $v, want $(grep -c ' error$' "$1")"; return 1; }
	v=$(metric_value bpfprof_store_files_rotated_total)
	[ "$v" = 0 ] || { fail "rotation deleted $v files"; return 1; }
}

# check_history MARKER...: the last 10 minutes hold every MARKER function.
check_history() {
	local v bad=
	req "$SV_URL/debug/pprof/profile?last=10m"
	[ "$CODE" = 200 ] || { fail "history: HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	for v in "$@"; do
		gzip -dc "$BODY" | grep -qaF "$v" || bad="$bad $v"
	done
	[ -z "$bad" ] || { fail "history profile lacks:$bad"; return 1; }
}

# stop_clean: SIGTERM, exit 0, no sanitizer report.
stop_clean() {
	serve_stop "$SV_PID" || return 1
	[ "$SV_RC" = 0 ] || { fail "exit $SV_RC after SIGTERM"; return 1; }
	sanitizer_check "$SV_ERR"
}

case_hostile_datadir() {
	local d=$T/hostile list peak bad= v
	mkdir -m 0700 "$d"
	list=$T/hostile.list
	make_dir "$d" decode >"$list" || { fail "cannot build the crafted files"; return 1; }
	serve_start hostile --data-dir "$d" --store-mb 16 --rate-limit 0 || return 1
	req "$SV_URL/health/ready"
	[ "$CODE" = 200 ] || { fail "/health/ready: HTTP $CODE"; return 1; }
	peak=$(hwm "$SV_PID")
	echo "# daemon peak RSS after loading the dir: ${peak:-?} KiB (limit $MAX_HWM_KIB)"
	[ -n "$peak" ] && [ "$peak" -le "$MAX_HWM_KIB" ] ||
		{ fail "peak RSS after loading the dir: ${peak:-?} KiB, over $MAX_HWM_KIB KiB"; return 1; }
	check_logged "$list" || return 1
	# the limits are named
	for v in "decompresses to over the 16777216-byte limit" "string table: decoding would take over" \
		"not a regular file"; do
		grep -qF "$v" "$SV_ERR" || bad="$bad '$v'"
	done
	[ -z "$bad" ] || { fail "no log line says:$bad"; return 1; }
	check_counted "$list" || return 1
	# the good windows were loaded
	check_history hostile_good_marker hostile_saturated_marker || return 1
	# still sampling and serving
	req "$SV_URL/debug/pprof/profile?seconds=1"
	[ "$CODE" = 200 ] || { fail "profile?seconds=1: HTTP $CODE: $(head -c 200 "$BODY")"; return 1; }
	gzip -t "$BODY" 2>/dev/null || { fail "profile?seconds=1 is not gzip"; return 1; }
	check_pprof "$BODY" || return 1
	stop_clean || return 1
	# refused files stay on disk for a human to look at
	[ "$(find "$d" -name 'window-*' | wc -l)" -ge "$(wc -l <"$list")" ] ||
		{ fail "files were deleted from the data dir"; return 1; }
}

# Names that lie: a sparse 1 TiB file (counted by size, it made rotation
# delete every real window before anything was loaded) and a window from
# tomorrow (as the newest, it put every real window out of retention).
case_lying_names() {
	local d=$T/sparse list
	mkdir -m 0700 "$d"
	list=$T/sparse.list
	make_dir "$d" names >"$list" || { fail "cannot build the crafted files"; return 1; }
	serve_start sparse --data-dir "$d" --store-mb 16 --rate-limit 0 || return 1
	check_logged "$list" || return 1
	grep -qF "file of 1099511627776 bytes, over the 16777216-byte limit" "$SV_ERR" ||
		{ fail "no log line names the size limit"; return 1; }
	grep -qF "window ends in the future" "$SV_ERR" || { fail "no log line says 'in the future'"; return 1; }
	check_counted "$list" || return 1
	check_history hostile_good_marker || return 1
	gzip -dc "$BODY" | grep -qaF hostile_future_marker && { fail "the future window was loaded"; return 1; }
	stop_clean || return 1
	[ -e "$d/$(head -1 "$list" | cut -d' ' -f1)" ] || { fail "the good window file was deleted"; return 1; }
}

scase "hostile data dir: ready, bounded, bad files logged and counted" case_hostile_datadir
scase "lying window names (1 TiB sparse, tomorrow): refused, real windows kept and loaded" case_lying_names
finish
