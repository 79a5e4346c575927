// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "serve/query.h"

#define NS	    1000000000LL
#define MAX_RANGE_S (31LL * 24 * 3600)
#define MAX_UNIX_S  4102444800LL /* 2100-01-01: keeps every time * NS in range */

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return 400;
}

int64_t query__parse_duration(const char *s)
{
	char *end;
	long long v;
	int64_t mult = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -1;
	if (*end && end[1])
		return -1;
	switch (*end) {
	case 0:
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return -1;
	}
	if (v > MAX_RANGE_S / mult)
		return -1;
	return v * mult;
}

/* Digits with an optional fraction: no signs, exponents, hex or trailing dot. */
static bool parse_unix(const char *s, int64_t *ns)
{
	const char *p = s;
	char *end;
	double v;

	while (isdigit((unsigned char)*p))
		p++;
	if (p == s || p - s > 10)
		return false;
	if (*p == '.') {
		const char *frac = ++p;

		while (isdigit((unsigned char)*p))
			p++;
		if (p == frac)
			return false;
	}
	if (*p)
		return false;
	v = strtod(s, &end);
	if (*end || v > MAX_UNIX_S)
		return false;
	*ns = (int64_t)(v * NS);
	return true;
}

static bool two_digits(const char *p, int max, int *out)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return false;
	*out = (p[0] - '0') * 10 + (p[1] - '0');
	return *out <= max;
}

/* "Z", or "+hh:mm" / "-hh:mm" with exactly two digits each: the zone's offset in seconds. */
static bool parse_zone(const char *p, int64_t *off)
{
	int oh, om;

	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		*off = 0;
		return true;
	}
	if ((*p != '+' && *p != '-') || !two_digits(p + 1, 23, &oh) || p[3] != ':' ||
	    !two_digits(p + 4, 59, &om) || p[6])
		return false;
	*off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
	return true;
}

/* RFC 3339: 2026-11-21T23:00:00[.frac](Z|+hh:mm|-hh:mm), years 1970 to 2100. */
static bool parse_rfc3339(const char *s, int64_t *ns)
{
	struct tm tm = {0}, norm;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = NS, off;
	time_t t;

	if (!p || strlen(s) < 19 || s[4] != '-' || tm.tm_year < 70 || tm.tm_year > 200)
		return false;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return false;
		for (p++; isdigit((unsigned char)*p); p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	}
	if (!parse_zone(p, &off))
		return false;
	norm = tm;
	t = timegm(&norm);
	/* timegm normalizes Feb 30 into March: a changed day means no such date. */
	if (t == (time_t)-1 || norm.tm_mday != tm.tm_mday || t - off < 0 || t - off > MAX_UNIX_S)
		return false;
	*ns = ((int64_t)t - off) * NS + frac;
	return true;
}

bool query__parse_time(const char *s, int64_t *ns)
{
	if (!s || !*s)
		return false;
	return strchr(s, 'T') ? parse_rfc3339(s, ns) : parse_unix(s, ns);
}

static int add_pids(struct query *q, const char *v, char *err, size_t errlen)
{
	const char *p = v;
	char *end;
	long pid;

	if (!*v)
		return bad(err, errlen, "pid: empty value");
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return bad(err, errlen, "pid: invalid PID '%s'", v);
		errno = 0;
		pid = strtol(p, &end, 10);
		if (errno || pid <= 0 || pid > INT_MAX || (*end && *end != ','))
			return bad(err, errlen, "pid: invalid PID '%s'", v);
		if (q->n_pids >= QUERY_MAX_PIDS)
			return bad(err, errlen, "pid: at most %d PIDs", QUERY_MAX_PIDS);
		q->pids[q->n_pids++] = pid;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return bad(err, errlen, "pid: invalid PID '%s'", v);
	}
	return 0;
}

static int parse_seconds(const char *v, const struct query_rules *r, struct query *q, char *err,
			 size_t errlen)
{
	char *end;
	long long s;

	if (!r->allow_wait)
		return bad(err, errlen, "seconds: not supported here; use last= or from=/to=");
	errno = 0;
	s = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)*v) || errno || *end || s <= 0)
		return bad(err, errlen, "seconds: expected a whole number > 0, got '%s'", v);
	if (s > r->max_seconds)
		return bad(err, errlen, "seconds: %s is over the limit of %u", v, r->max_seconds);
	q->mode = QUERY_WAIT;
	q->seconds = s;
	return 0;
}

static int parse_range(const struct http_req *req, const struct query_rules *r, struct query *q,
		       char *err, size_t errlen)
{
	const char *last = http_req__arg(req, "last"), *from = http_req__arg(req, "from");
	const char *to = http_req__arg(req, "to");
	int64_t d;

	q->mode = QUERY_RANGE;
	if (last && (from || to))
		return bad(err, errlen, "last: cannot be combined with from/to");
	if (last) {
		d = query__parse_duration(last);
		if (d < 0)
			return bad(err, errlen,
				   "last: expected a duration like 30s, 5m or 1h, got '%s'", last);
		q->to_ns = r->now_ns;
		q->from_ns = r->now_ns - d * NS;
		return 0;
	}
	if (!from)
		return bad(err, errlen, "to: needs from");
	if (!query__parse_time(from, &q->from_ns))
		return bad(err, errlen, "from: expected Unix seconds or RFC 3339, got '%s'", from);
	q->to_ns = r->now_ns;
	if (to && !query__parse_time(to, &q->to_ns))
		return bad(err, errlen, "to: expected Unix seconds or RFC 3339, got '%s'", to);
	if (q->from_ns >= q->to_ns)
		return bad(err, errlen, "from: must be before to");
	if (q->to_ns - q->from_ns > MAX_RANGE_S * NS)
		return bad(err, errlen, "from: range longer than 31 days");
	return 0;
}

static int parse_filters(const struct http_req *req, struct query *q, char *err, size_t errlen)
{
	const char *vals[HTTP_MAX_QUERY_ARGS];
	size_t n = http_req__args(req, "pid", vals, HTTP_MAX_QUERY_ARGS);
	const char *comm = http_req__arg(req, "comm"), *fmt = http_req__arg(req, "format");
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = add_pids(q, vals[i], err, errlen);
		if (rc)
			return rc;
	}
	if (comm) {
		if (!*comm || strlen(comm) >= sizeof(q->comm))
			return bad(err, errlen, "comm: expected 1 to %d characters",
				   QUERY_MAX_COMM - 1);
		snprintf(q->comm, sizeof(q->comm), "%s", comm);
	}
	if (fmt && strcmp(fmt, "pprof") && strcmp(fmt, "folded") && strcmp(fmt, "proto"))
		return bad(err, errlen, "format: expected pprof or folded, got '%s'", fmt);
	q->folded = fmt && !strcmp(fmt, "folded");
	return 0;
}

int query__parse(const struct http_req *req, const struct query_rules *r, struct query *q,
		 char *err, size_t errlen)
{
	const char *secs = http_req__arg(req, "seconds");
	bool ranged =
	    http_req__arg(req, "last") || http_req__arg(req, "from") || http_req__arg(req, "to");
	int rc;

	memset(q, 0, sizeof(*q));
	if (secs && ranged)
		return bad(err, errlen, "seconds: cannot be combined with last/from/to");
	if (secs) {
		rc = parse_seconds(secs, r, q, err, errlen);
	} else if (ranged) {
		rc = parse_range(req, r, q, err, errlen);
	} else if (r->allow_wait && r->default_wait) {
		q->mode = QUERY_WAIT;
		q->seconds = r->default_seconds;
		rc = 0;
	} else {
		q->mode = QUERY_RANGE;
		q->to_ns = r->now_ns;
		q->from_ns = r->now_ns - (int64_t)r->default_seconds * NS;
		rc = 0;
	}
	return rc ? rc : parse_filters(req, q, err, errlen);
}
