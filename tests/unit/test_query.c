// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The profile query string (user/serve/query.h): seconds= (Go semantics),
 * last= and from=/to= ranges, pid= lists, comm= and format=, every rule and
 * its error message, durations, Unix and RFC 3339 times. Requests are built
 * by hand as struct http_req with args, as the HTTP front hands them over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "serve/query.h"

#define NS	   1000000000LL
#define NOW_S	   1700000000LL /* 2023-11-14T22:13:20Z */
#define NOW_NS	   (NOW_S * NS)
#define MAX_RANGE  (31LL * 24 * 3600)

/* ---- helpers ---- */

/* req_of(&req, "k1", "v1", "k2", "v2", ..., NULL) */
static void req_of(struct http_req *req, ...)
{
	va_list ap;
	const char *k;

	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->path = "/debug/pprof/profile";
	req->client = "127.0.0.1";
	va_start(ap, req);
	while ((k = va_arg(ap, const char *))) {
		assert_true(req->n_args < HTTP_MAX_QUERY_ARGS);
		req->args[req->n_args].key = k;
		req->args[req->n_args].value = va_arg(ap, const char *);
		req->n_args++;
	}
	va_end(ap);
}

static struct query_rules rules_profile(void)
{
	struct query_rules r = {
	    .default_seconds = 30,
	    .max_seconds = 300,
	    .allow_wait = true,
	    .default_wait = true,
	    .now_ns = NOW_NS,
	};
	return r;
}

static char err[256];

static int parse(const struct http_req *req, const struct query_rules *r, struct query *q)
{
	memset(err, 0, sizeof(err));
	memset(q, 0xa5, sizeof(*q)); /* query__parse must reset everything */
	return query__parse(req, r, q, err, sizeof(err));
}

/* Expects a 400 whose message starts with prefix (the parameter name). */
#define assert_bad(req, rules, prefix)                                                       \
	do {                                                                                 \
		struct query q_;                                                             \
		int rc_ = parse(req, rules, &q_);                                            \
		if (rc_ != 400 || strncmp(err, prefix, strlen(prefix)))                      \
			fail_msg("want 400 '%s...', got %d '%s'", prefix, rc_, err);         \
	} while (0)

#define assert_msg_has(needle)                                                               \
	do {                                                                                 \
		if (!strstr(err, needle))                                                    \
			fail_msg("message '%s' lacks '%s'", err, needle);                    \
	} while (0)

static int64_t t_ok(const char *s)
{
	int64_t ns = -12345;

	if (!query__parse_time(s, &ns))
		fail_msg("query__parse_time('%s') refused a valid time", s ? s : "(null)");
	return ns;
}

static void t_bad(const char *s)
{
	int64_t ns = -12345;

	if (query__parse_time(s, &ns))
		fail_msg("query__parse_time('%s') accepted a malformed time (ns %lld)",
			 s ? s : "(null)", (long long)ns);
}

/* ---- durations ---- */

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(query__parse_duration("30s"), 30);
	assert_int_equal(query__parse_duration("90"), 90);
	assert_int_equal(query__parse_duration("1"), 1);
	assert_int_equal(query__parse_duration("5m"), 300);
	assert_int_equal(query__parse_duration("2h"), 7200);
	assert_int_equal(query__parse_duration("1d"), 86400);
	assert_int_equal(query__parse_duration("007"), 7);
	/* the cap is 31 days, in any unit */
	assert_int_equal(query__parse_duration("31d"), MAX_RANGE);
	assert_int_equal(query__parse_duration("744h"), MAX_RANGE);
	assert_int_equal(query__parse_duration("44640m"), MAX_RANGE);
	assert_int_equal(query__parse_duration("2678400"), MAX_RANGE);
	assert_int_equal(query__parse_duration("2678400s"), MAX_RANGE);
}

static void test_duration_malformed(void **state)
{
	static const char *const bad[] = {
	    NULL,	"",	  "0",	   "0s",     "-5",	"-5m",	 "+5",	 " 5",	  "5 ",
	    "s",	"m",	  "5x",	   "5ms",    "5mm",	"5M",	 "5S",	 "1.5m",  "1e3",
	    "0x10",	"32d",	  "745h",  "44641m", "2678401", "abc",	 "5m5",	 "99999999999999999999",
	    "9223372036854775807", "9223372036854775807d",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (query__parse_duration(bad[i]) != -1)
			fail_msg("duration '%s' accepted as %lld", bad[i] ? bad[i] : "(null)",
				 (long long)query__parse_duration(bad[i]));
}

/* ---- times ---- */

/* Unix seconds go through a double: exact to well under a microsecond. */
#define assert_time_near(s, want)                                                            \
	do {                                                                                 \
		int64_t got_ = t_ok(s);                                                      \
		if (llabs(got_ - (int64_t)(want)) >= 1000)                                   \
			fail_msg("'%s' -> %lld ns, want %lld", s, (long long)got_,           \
				 (long long)(want));                                         \
	} while (0)

static void test_time_unix(void **state)
{
	(void)state;
	assert_time_near("1700000000", NOW_NS);
	assert_int_equal(t_ok("0"), 0);
	assert_time_near("1700000000.5", NOW_NS + NS / 2);
	assert_time_near("1700000000.25", NOW_NS + NS / 4);
	assert_time_near("1700000000.0", NOW_NS);
	assert_time_near("4102444800", 4102444800LL * NS); /* 2100-01-01, the cap */
	assert_time_near("1700000000.123456", NOW_NS + 123456000);
	assert_time_near("1.5", NS + NS / 2);
}

static void test_time_unix_malformed(void **state)
{
	(void)state;
	t_bad(NULL);
	t_bad("");
	t_bad("-1");
	t_bad("+1700000000");
	t_bad(" 1700000000");
	t_bad("1700000000 ");
	t_bad("1700000000s");
	t_bad("abc");
	t_bad("inf");
	t_bad("nan");
	t_bad("4102444801"); /* after 2100 */
	t_bad("99999999999999999999999");
	t_bad("1e999");
	t_bad(".5");
}

static void test_time_rfc3339(void **state)
{
	(void)state;
	assert_int_equal(t_ok("2023-11-14T22:13:20Z"), NOW_NS);
	assert_int_equal(t_ok("2023-11-14T22:13:20z"), NOW_NS);
	assert_int_equal(t_ok("1970-01-01T00:00:00Z"), 0);
	/* offsets: local time minus offset is UTC */
	assert_int_equal(t_ok("2023-11-14T23:13:20+01:00"), NOW_NS);
	assert_int_equal(t_ok("2023-11-15T03:43:20+05:30"), NOW_NS);
	assert_int_equal(t_ok("2023-11-14T21:13:20-01:00"), NOW_NS);
	assert_int_equal(t_ok("2023-11-14T12:13:20-10:00"), NOW_NS);
	assert_int_equal(t_ok("2023-11-14T22:13:20+00:00"), NOW_NS);
	assert_int_equal(t_ok("2023-11-14T22:13:20-00:00"), NOW_NS);
	assert_int_equal(t_ok("2023-11-15T22:12:20+23:59"), NOW_NS + (24 * 3600 - 23 * 3600 - 59 * 60 - 60) * NS);
	/* fractions, exact to the nanosecond; digits past 9 are dropped */
	assert_int_equal(t_ok("2023-11-14T22:13:20.5Z"), NOW_NS + 500000000);
	assert_int_equal(t_ok("2023-11-14T22:13:20.000000001Z"), NOW_NS + 1);
	assert_int_equal(t_ok("2023-11-14T22:13:20.123456789Z"), NOW_NS + 123456789);
	assert_int_equal(t_ok("2023-11-14T22:13:20.1234567899Z"), NOW_NS + 123456789);
	assert_int_equal(t_ok("2023-11-14T23:13:20.25+01:00"), NOW_NS + 250000000);
	/* leap year day */
	assert_int_equal(t_ok("2024-02-29T00:00:00Z"), 1709164800LL * NS);
}

static void test_time_rfc3339_malformed(void **state)
{
	(void)state;
	t_bad("2023-11-14T22:13:20");	     /* no zone */
	t_bad("2023-11-14T22:13Z");	     /* no seconds */
	t_bad("2023-11-14");		     /* date only */
	t_bad("2023-11-14 22:13:20Z");	     /* space: read as Unix seconds */
	t_bad("2023-13-01T00:00:00Z");	     /* month 13 */
	t_bad("2023-11-32T00:00:00Z");	     /* day 32 */
	t_bad("2023-11-14T25:00:00Z");	     /* hour 25 */
	t_bad("2023-11-14T22:60:00Z");	     /* minute 60 */
	t_bad("2023-11-14T22:13:20ZZ");	     /* trailing text */
	t_bad("2023-11-14T22:13:20Zjunk");
	t_bad("2023-11-14T22:13:20+01:00x");
	t_bad("2023-11-14T22:13:20+24:00");  /* offset hour */
	t_bad("2023-11-14T22:13:20+01:60");  /* offset minute */
	t_bad("2023-11-14T22:13:20+0100");   /* offset without colon */
	t_bad("2023-11-14T22:13:20+01");
	t_bad("2023-11-14T22:13:20UTC");
	t_bad("T");
	t_bad("xT");
}

/* Signs and spaces inside the offset are not RFC 3339 (time-numoffset = ("+" / "-") 2DIGIT ":" 2DIGIT). */
static void test_time_rfc3339_offset_digits(void **state)
{
	(void)state;
	t_bad("2023-11-14T22:13:20+-1:00");
	t_bad("2023-11-14T22:13:20+01:-5");
	t_bad("2023-11-14T22:13:20+ 1:00");
	t_bad("2023-11-14T22:13:20+1:00");
	t_bad("2023-11-14T22:13:20+01:5");
}

/*
 * Forms strtod and timegm would take but no client means: hex and exponent
 * Unix seconds, an empty fraction, and 30 February (normalized to 2 March).
 */
static void test_time_strict_forms(void **state)
{
	(void)state;
	t_bad("0x10");
	t_bad("1e9");
	t_bad("1700000000.");
	t_bad("2023-11-14T22:13:20.Z");
	t_bad("2023-02-30T00:00:00Z");
}

/*
 * Years RFC 3339 allows (up to 9999) but nanoseconds in int64 cannot hold
 * (after 2262-04-11) must be refused, not overflow (UBSan aborts here).
 */
static void test_time_rfc3339_far_future(void **state)
{
	(void)state;
	t_bad("9999-12-31T23:59:59Z");
	t_bad("2263-01-01T00:00:00Z");
}

/* ---- modes and defaults ---- */

static void test_default_wait(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_WAIT);
	assert_int_equal(q.seconds, 30);
	assert_int_equal(q.n_pids, 0);
	assert_string_equal(q.comm, "");
	assert_false(q.folded);
}

static void test_default_range(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	r.default_wait = false;
	r.default_seconds = 60;
	req_of(&req, NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_RANGE);
	assert_int_equal(q.to_ns, NOW_NS);
	assert_int_equal(q.from_ns, NOW_NS - 60 * NS);

	/* default_wait without allow_wait: still a range */
	r.allow_wait = false;
	r.default_wait = true;
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_RANGE);
	assert_int_equal(q.from_ns, NOW_NS - 60 * NS);
}

static void test_seconds(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "seconds", "5", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_WAIT);
	assert_int_equal(q.seconds, 5);

	req_of(&req, "seconds", "300", NULL); /* exactly the cap */
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.seconds, 300);

	req_of(&req, "seconds", "007", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.seconds, 7);

	/* the first of repeated values counts */
	req_of(&req, "seconds", "2", "seconds", "abc", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.seconds, 2);
}

static void test_seconds_malformed(void **state)
{
	static const char *const bad[] = {
	    "", "0", "-1", "+5", " 5", "5 ", "1.5", "5s", "abc", "0x10", "1e3",
	    "99999999999999999999", "9223372036854775807", "4294967296", "4294967301",
	};
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_of(&req, "seconds", bad[i], NULL);
		assert_bad(&req, &r, "seconds:");
	}
	req_of(&req, "seconds", "abc", NULL);
	assert_bad(&req, &r, "seconds: expected a whole number > 0, got 'abc'");
}

static void test_seconds_over_cap(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	req_of(&req, "seconds", "301", NULL);
	assert_bad(&req, &r, "seconds: 301 is over the limit of 300");
	r.max_seconds = 10;
	req_of(&req, "seconds", "11", NULL);
	assert_bad(&req, &r, "seconds: 11 is over the limit of 10");
}

static void test_seconds_not_allowed(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	r.allow_wait = false;
	req_of(&req, "seconds", "5", NULL);
	assert_bad(&req, &r, "seconds: not supported here");
	assert_msg_has("last=");
}

static void test_seconds_with_range(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	req_of(&req, "seconds", "5", "last", "1m", NULL);
	assert_bad(&req, &r, "seconds: cannot be combined with last/from/to");
	req_of(&req, "last", "1m", "seconds", "5", NULL);
	assert_bad(&req, &r, "seconds: cannot be combined");
	req_of(&req, "seconds", "5", "from", "1699999000", NULL);
	assert_bad(&req, &r, "seconds: cannot be combined");
	req_of(&req, "seconds", "5", "to", "1699999000", NULL);
	assert_bad(&req, &r, "seconds: cannot be combined");
	/* even a bad seconds value is reported as the combination */
	req_of(&req, "seconds", "abc", "last", "abc", NULL);
	assert_bad(&req, &r, "seconds: cannot be combined");
}

/* ---- last= ---- */

static void test_last(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "last", "5m", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_RANGE);
	assert_int_equal(q.to_ns, NOW_NS);
	assert_int_equal(q.from_ns, NOW_NS - 300 * NS);

	req_of(&req, "last", "30", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.from_ns, NOW_NS - 30 * NS);

	req_of(&req, "last", "31d", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.from_ns, NOW_NS - MAX_RANGE * NS);

	/* last= works where seconds= is refused */
	r.allow_wait = false;
	req_of(&req, "last", "1h", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.from_ns, NOW_NS - 3600 * NS);
}

static void test_last_malformed(void **state)
{
	static const char *const bad[] = {"", "0", "-5m", "abc", "5x", "1.5h", "32d", "5 m"};
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_of(&req, "last", bad[i], NULL);
		assert_bad(&req, &r, "last: expected a duration like 30s, 5m or 1h");
	}
	req_of(&req, "last", "5x", NULL);
	assert_bad(&req, &r, "last: expected a duration like 30s, 5m or 1h, got '5x'");
}

static void test_last_with_from_to(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	req_of(&req, "last", "5m", "from", "1699999000", NULL);
	assert_bad(&req, &r, "last: cannot be combined with from/to");
	req_of(&req, "to", "1699999000", "last", "5m", NULL);
	assert_bad(&req, &r, "last: cannot be combined with from/to");
}

/* ---- from= / to= ---- */

static void test_from_to(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "from", "1699999000", "to", "1699999500", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_RANGE);
	assert_int_equal(q.from_ns, 1699999000LL * NS);
	assert_int_equal(q.to_ns, 1699999500LL * NS);

	/* to defaults to now */
	req_of(&req, "from", "1699999000.5", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.from_ns, 1699999000LL * NS + NS / 2);
	assert_int_equal(q.to_ns, NOW_NS);

	/* RFC 3339 and Unix seconds mixed, offsets honoured */
	req_of(&req, "from", "2023-11-14T23:03:20+01:00", "to", "1700000000", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.from_ns, NOW_NS - 600 * NS);
	assert_int_equal(q.to_ns, NOW_NS);

	/* to in the future is fine; the range is what matters */
	req_of(&req, "from", "1700000000", "to", "1700000060", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.to_ns, NOW_NS + 60 * NS);

	/* exactly 31 days */
	req_of(&req, "from", "1697321600", "to", "1700000000", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.to_ns - q.from_ns, MAX_RANGE * NS);

	/* ranges work where seconds= is refused */
	r.allow_wait = false;
	req_of(&req, "from", "1699999000", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
}

static void test_from_to_errors(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	req_of(&req, "to", "1699999000", NULL);
	assert_bad(&req, &r, "to: needs from");
	req_of(&req, "from", "abc", NULL);
	assert_bad(&req, &r, "from: expected Unix seconds or RFC 3339, got 'abc'");
	req_of(&req, "from", "", NULL);
	assert_bad(&req, &r, "from: expected Unix seconds or RFC 3339");
	req_of(&req, "from", "1699999000", "to", "xyz", NULL);
	assert_bad(&req, &r, "to: expected Unix seconds or RFC 3339, got 'xyz'");
	req_of(&req, "from", "1699999000", "to", "", NULL);
	assert_bad(&req, &r, "to: expected Unix seconds or RFC 3339");
	req_of(&req, "from", "1699999500", "to", "1699999000", NULL);
	assert_bad(&req, &r, "from: must be before to");
	req_of(&req, "from", "1699999000", "to", "1699999000", NULL);
	assert_bad(&req, &r, "from: must be before to");
	/* from in the future with to defaulting to now */
	req_of(&req, "from", "1700000001", NULL);
	assert_bad(&req, &r, "from: must be before to");
	/* one second over 31 days */
	req_of(&req, "from", "1697321599", "to", "1700000000", NULL);
	assert_bad(&req, &r, "from: range longer than 31 days");
	req_of(&req, "from", "0", NULL);
	assert_bad(&req, &r, "from: range longer than 31 days");
	req_of(&req, "from", "2023-11-14T22:13:20", NULL);
	assert_bad(&req, &r, "from: expected Unix seconds or RFC 3339");
}

/* ---- pid= ---- */

static void test_pids(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "pid", "42", "last", "1m", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.n_pids, 1);
	assert_int_equal(q.pids[0], 42);

	req_of(&req, "pid", "1,2,3", "pid", "4", "pid", "2147483647", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.n_pids, 5);
	assert_int_equal(q.pids[0], 1);
	assert_int_equal(q.pids[2], 3);
	assert_int_equal(q.pids[3], 4);
	assert_int_equal(q.pids[4], 2147483647);
	assert_int_equal(q.mode, QUERY_WAIT); /* pid alone keeps the default mode */
}

static void test_pids_malformed(void **state)
{
	static const char *const bad[] = {
	    "abc", "0", "-1", "+1", " 1", "1 ", "1,", ",1", "1,,2", "1;2", "1.5", "0x10",
	    "2147483648", "99999999999999999999", "1,abc", "1,0",
	};
	struct query_rules r = rules_profile();
	struct http_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_of(&req, "pid", bad[i], NULL);
		assert_bad(&req, &r, "pid: invalid PID");
	}
	req_of(&req, "pid", "1,abc", NULL);
	assert_bad(&req, &r, "pid: invalid PID '1,abc'");
	req_of(&req, "pid", "", NULL);
	assert_bad(&req, &r, "pid: empty value");
	/* a bad second pid= argument counts as much as the first */
	req_of(&req, "pid", "1", "pid", "x", NULL);
	assert_bad(&req, &r, "pid: invalid PID 'x'");
}

static void test_pids_limit(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;
	char list[QUERY_MAX_PIDS + 1][16], all[1024] = "";
	size_t off = 0;

	(void)state;
	/* 64 in one comma list */
	for (int i = 1; i <= QUERY_MAX_PIDS; i++)
		off += snprintf(all + off, sizeof(all) - off, "%s%d", i > 1 ? "," : "", i);
	req_of(&req, "pid", all, NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.n_pids, QUERY_MAX_PIDS);
	assert_int_equal(q.pids[63], 64);
	/* 65 */
	snprintf(all + off, sizeof(all) - off, ",65");
	req_of(&req, "pid", all, NULL);
	assert_bad(&req, &r, "pid: at most 64 PIDs");

	/* 32 arguments of 2 PIDs each: 64, fine; one more PID: refused */
	memset(&req, 0, sizeof(req));
	for (int i = 0; i < 32; i++) {
		snprintf(list[i], sizeof(list[i]), "%d,%d", 2 * i + 1, 2 * i + 2);
		req.args[i].key = "pid";
		req.args[i].value = list[i];
	}
	req.n_args = 32;
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.n_pids, 64);
	snprintf(list[31], sizeof(list[31]), "63,64,65");
	assert_bad(&req, &r, "pid: at most 64 PIDs");
}

/* ---- comm= and format= ---- */

static void test_comm(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;
	char c63[64], c64[65];

	(void)state;
	memset(c63, 'c', 63);
	c63[63] = 0;
	memset(c64, 'c', 64);
	c64[64] = 0;
	req_of(&req, "comm", "cpu_split", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_string_equal(q.comm, "cpu_split");
	req_of(&req, "comm", c63, NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_string_equal(q.comm, c63);
	req_of(&req, "comm", c64, NULL);
	assert_bad(&req, &r, "comm: expected 1 to 63 characters");
	req_of(&req, "comm", "", NULL);
	assert_bad(&req, &r, "comm: expected 1 to 63 characters");
}

static void test_format(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "format", "folded", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_true(q.folded);
	req_of(&req, "format", "pprof", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_false(q.folded);
	req_of(&req, "format", "proto", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_false(q.folded);
	req_of(&req, "format", "json", NULL);
	assert_bad(&req, &r, "format: expected pprof or folded, got 'json'");
	req_of(&req, "format", "", NULL);
	assert_bad(&req, &r, "format: expected pprof or folded");
	req_of(&req, "format", "FOLDED", NULL);
	assert_bad(&req, &r, "format:");
}

/* Filters are checked after the mode: both kinds of error are reported. */
static void test_filters_with_ranges(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;

	(void)state;
	req_of(&req, "last", "1m", "pid", "7,8", "comm", "bash", "format", "folded", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
	assert_int_equal(q.mode, QUERY_RANGE);
	assert_int_equal(q.n_pids, 2);
	assert_string_equal(q.comm, "bash");
	assert_true(q.folded);
	req_of(&req, "last", "1m", "pid", "x", NULL);
	assert_bad(&req, &r, "pid:");
	req_of(&req, "last", "bad", "pid", "x", NULL);
	assert_bad(&req, &r, "last:");
	/* unknown arguments are ignored */
	req_of(&req, "debug", "1", "gc", "", NULL);
	assert_int_equal(parse(&req, &r, &q), 0);
}

/* A short error buffer truncates, never overflows (ASan watches). */
static void test_short_err_buffer(void **state)
{
	struct query_rules r = rules_profile();
	struct http_req req;
	struct query q;
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	req_of(&req, "seconds", "abcdefghijklmnopqrstuvwxyz", NULL);
	assert_int_equal(query__parse(&req, &r, &q, small, sizeof(small)), 400);
	assert_int_equal(small[7], '\0');
	assert_string_equal(small, "seconds");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_units),
	    cmocka_unit_test(test_duration_malformed),
	    cmocka_unit_test(test_time_unix),
	    cmocka_unit_test(test_time_unix_malformed),
	    cmocka_unit_test(test_time_rfc3339),
	    cmocka_unit_test(test_time_rfc3339_malformed),
	    cmocka_unit_test(test_time_rfc3339_offset_digits),
	    cmocka_unit_test(test_time_strict_forms),
	    cmocka_unit_test(test_default_wait),
	    cmocka_unit_test(test_default_range),
	    cmocka_unit_test(test_seconds),
	    cmocka_unit_test(test_seconds_malformed),
	    cmocka_unit_test(test_seconds_over_cap),
	    cmocka_unit_test(test_seconds_not_allowed),
	    cmocka_unit_test(test_seconds_with_range),
	    cmocka_unit_test(test_last),
	    cmocka_unit_test(test_last_malformed),
	    cmocka_unit_test(test_last_with_from_to),
	    cmocka_unit_test(test_from_to),
	    cmocka_unit_test(test_from_to_errors),
	    cmocka_unit_test(test_pids),
	    cmocka_unit_test(test_pids_malformed),
	    cmocka_unit_test(test_pids_limit),
	    cmocka_unit_test(test_comm),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_filters_with_ranges),
	    cmocka_unit_test(test_short_err_buffer),
	    /* last: UBSan aborts the whole binary on the overflow */
	    cmocka_unit_test(test_time_rfc3339_far_future),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
