// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "http/metrics.h"

#define CODE_MIN 100
#define CODE_N	 500 /* 100..599 */

static const double le_s[] = {0.005, 0.025, 0.1, 0.5, 2.5, 10, 60};
#define N_LE (sizeof(le_s) / sizeof(le_s[0]))

struct row {
	uint64_t codes[CODE_N];
	uint64_t le[N_LE + 1]; /* non-cumulative; the last is +Inf only */
	uint64_t sum_ns, count;
};

struct http_metrics {
	const char *const *labels;
	size_t n;
	uint64_t rate_limited;
	struct row rows[];
};

struct http_metrics *http_metrics__new(const char *const *labels, size_t n)
{
	struct http_metrics *m = calloc(1, sizeof(*m) + n * sizeof(m->rows[0]));

	if (!m)
		return NULL;
	m->labels = labels;
	m->n = n;
	return m;
}

void http_metrics__free(struct http_metrics *m)
{
	free(m);
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void http_metrics__observe(struct http_metrics *m, size_t row, int status, uint64_t dur_ns)
{
	struct row *r;
	size_t i;

	if (!m || row >= m->n)
		return;
	r = &m->rows[row];
	if (status < CODE_MIN || status >= CODE_MIN + CODE_N)
		status = 500;
	add(&r->codes[status - CODE_MIN], 1);
	for (i = 0; i < N_LE && (double)dur_ns / 1e9 > le_s[i]; i++)
		;
	add(&r->le[i], 1);
	add(&r->sum_ns, dur_ns);
	add(&r->count, 1);
}

void http_metrics__rate_limited(struct http_metrics *m)
{
	if (m)
		add(&m->rate_limited, 1);
}

/* Label value escaping per the exposition format: backslash, quote, newline. */
static void write_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void write_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_requests(struct http_metrics *m, FILE *f)
{
	size_t i, c;
	uint64_t v;

	write_header(f, "bpfprof_http_requests_total", "counter",
		     "HTTP requests answered by the API, by route and status code.");
	for (i = 0; i < m->n; i++) {
		for (c = 0; c < CODE_N; c++) {
			v = get(&m->rows[i].codes[c]);
			if (!v)
				continue;
			fputs("bpfprof_http_requests_total{route=\"", f);
			write_label(f, m->labels[i]);
			fprintf(f, "\",code=\"%zu\"} %" PRIu64 "\n", c + CODE_MIN, v);
		}
	}
}

static void write_histogram_row(struct http_metrics *m, size_t i, FILE *f)
{
	const char *name = "bpfprof_http_request_duration_seconds";
	const struct row *r = &m->rows[i];
	uint64_t cum = 0;
	size_t b;

	for (b = 0; b <= N_LE; b++) {
		cum += get(&r->le[b]);
		fprintf(f, "%s_bucket{route=\"", name);
		write_label(f, m->labels[i]);
		if (b < N_LE)
			fprintf(f, "\",le=\"%g\"} %" PRIu64 "\n", le_s[b], cum);
		else
			fprintf(f, "\",le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_sum{route=\"", name);
	write_label(f, m->labels[i]);
	fprintf(f, "\"} %.9f\n", (double)get(&r->sum_ns) / 1e9);
	fprintf(f, "%s_count{route=\"", name);
	write_label(f, m->labels[i]);
	/* Count from the buckets so +Inf and _count agree under concurrent updates. */
	fprintf(f, "\"} %" PRIu64 "\n", cum);
}

void http_metrics__write(struct http_metrics *m, const struct http_metrics_gauges *g, FILE *f)
{
	size_t i;

	if (!m || !f)
		return;
	write_requests(m, f);
	write_header(f, "bpfprof_http_request_duration_seconds", "histogram",
		     "Time from request headers to response, by route.");
	for (i = 0; i < m->n; i++)
		write_histogram_row(m, i, f);
	write_header(f, "bpfprof_http_rate_limited_total", "counter",
		     "Requests refused with 429 by the per-client rate limit.");
	fprintf(f, "bpfprof_http_rate_limited_total %" PRIu64 "\n", get(&m->rate_limited));
	write_header(f, "bpfprof_http_rate_limit_evictions_total", "counter",
		     "Client buckets evicted from the bounded rate-limit table.");
	fprintf(f, "bpfprof_http_rate_limit_evictions_total %" PRIu64 "\n", g->rate_evictions);
	write_header(f, "bpfprof_http_in_flight", "gauge", "Requests being handled now.");
	fprintf(f, "bpfprof_http_in_flight %" PRIu64 "\n", g->in_flight);
	write_header(f, "bpfprof_http_long_in_flight", "gauge",
		     "Long requests (profiles that wait) being handled now.");
	fprintf(f, "bpfprof_http_long_in_flight %" PRIu64 "\n", g->long_in_flight);
}
