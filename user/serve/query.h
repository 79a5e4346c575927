/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Parsing of the profile query string shared by the /debug/pprof/ and
 * /api/v1/ routes: either wait `seconds=N` for new samples (Go semantics), or
 * answer at once from history with `last=5m` or `from=`/`to=`; filters
 * `pid=` (repeatable, comma lists) and `comm=`; `format=pprof|folded`.
 */
#ifndef BPFPROF_SERVE_QUERY_H
#define BPFPROF_SERVE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX_PIDS 64
#define QUERY_MAX_COMM 64

struct http_req;

enum query_mode { QUERY_WAIT, QUERY_RANGE };

struct query {
	enum query_mode mode;
	unsigned int seconds;	/* QUERY_WAIT */
	int64_t from_ns, to_ns; /* QUERY_RANGE: [from, to) */
	uint32_t pids[QUERY_MAX_PIDS];
	size_t n_pids;
	char comm[QUERY_MAX_COMM];
	bool folded;
};

struct query_rules {
	unsigned int default_seconds; /* when neither seconds nor a range is given */
	unsigned int max_seconds;     /* cap of seconds= */
	bool allow_wait;	      /* false: seconds= is refused */
	bool default_wait;	      /* neither given: wait default_seconds, else last=that */
	int64_t now_ns;
};

/*
 * Fills q from req. Returns 0, or an HTTP status (400) with a one-line
 * reason in err naming the bad parameter.
 */
int query__parse(const struct http_req *req, const struct query_rules *rules, struct query *q,
		 char *err, size_t errlen);

/* "5m", "30s", "2h", "90" (seconds) -> seconds; -1 when malformed or <= 0. */
int64_t query__parse_duration(const char *s);
/* Unix seconds ("1700000000", "1700000000.5") or RFC 3339 -> ns; false when malformed. */
bool query__parse_time(const char *s, int64_t *ns);

#endif
