/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lock-free request counters for the HTTP front: requests by (route, status),
 * a duration histogram per route, and refusals, written in the Prometheus
 * text exposition format.
 */
#ifndef BPFPROF_HTTP_METRICS_H
#define BPFPROF_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct http_metrics;

/* One row per label (route path); the strings must outlive the metrics. NULL + errno. */
struct http_metrics *http_metrics__new(const char *const *labels, size_t n);
void http_metrics__free(struct http_metrics *m);

/* Status outside 100..599 is counted as 500. */
void http_metrics__observe(struct http_metrics *m, size_t row, int status, uint64_t dur_ns);
void http_metrics__rate_limited(struct http_metrics *m);

/* Gauges owned by the server, passed in at write time. */
struct http_metrics_gauges {
	uint64_t in_flight, long_in_flight, rate_evictions;
};

void http_metrics__write(struct http_metrics *m, const struct http_metrics_gauges *g, FILE *f);

#endif
