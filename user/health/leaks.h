/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Leak detection from sampled live allocations. Each observation (one per
 * store window) takes the stacks whose oldest live sample is older than
 * leak_min_age (heap_tracker__live_stacks) and appends their outstanding
 * bytes to a per-stack series; a least-squares line through the series gives
 * the growth rate per hour, and the rules below turn it into a severity.
 *
 * Severity rules (g = growth in bytes/hour, r² of the fit, >= 3 observations):
 *   critical  g >= 1 GiB/h  and r² >= 0.8
 *   high      g >= 64 MiB/h and r² >= 0.8
 *   medium    g >= 1 MiB/h  and r² >= 0.5
 *   low       g >  0        and r² >= 0.5
 *   none      anything else: flat, shrinking or noisy series are not leaks
 *             (a working set held for long does not grow) and are not listed.
 *
 * Bounded: LEAKS_MAX_STACKS stacks per process (a full table first evicts a
 * stack absent from the latest observation, else drops the new one and
 * counts it), LEAKS_SERIES_POINTS observations per stack. Not thread-safe.
 */
#ifndef BPFPROF_HEALTH_LEAKS_H
#define BPFPROF_HEALTH_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "heap/heap.h"
#include "health/trend.h"

#define LEAKS_MAX_STACKS    256
#define LEAKS_SERIES_POINTS 64
#define LEAKS_MIN_POINTS    3
/* A stack absent this many observations in a row is forgotten. */
#define LEAKS_FORGET_AFTER 8
#define LEAKS_FUNCTION_LEN 128

enum leak_severity {
	LEAK_NONE = 0,
	LEAK_LOW,
	LEAK_MEDIUM,
	LEAK_HIGH,
	LEAK_CRITICAL,
};

struct leak_stack {
	uint32_t stack_key;
	char function[LEAKS_FUNCTION_LEN];
	struct trend series; /* outstanding bytes per observation (0 when absent) */
	uint64_t bytes, objects;
	int64_t first_seen_ns, last_seen_ns, oldest_ns;
	unsigned int missed; /* observations in a row without this stack */
};

struct leaks {
	struct leak_stack *stacks;
	size_t n;
	uint64_t observations;
	uint64_t dropped; /* new stacks not tracked: table full */
	uint64_t evicted; /* absent stacks evicted to make room */
};

struct leak_report {
	uint32_t stack_key;
	char function[LEAKS_FUNCTION_LEN];
	uint64_t bytes, objects; /* outstanding at the last observation */
	double growth_bytes_per_hour;
	double r2;
	size_t points;
	int64_t first_seen_ns, last_seen_ns, oldest_ns;
	enum leak_severity severity;
};

const char *leak_severity__name(enum leak_severity s);
/* "none", "low", "medium", "high", "critical" -> 0 or -EINVAL. */
int leak_severity__parse(const char *s, enum leak_severity *out);
/* The rules above, for a fit of bytes over time (slope in bytes per second). */
enum leak_severity leaks__severity(const struct trend_fit *f);

void leaks__init(struct leaks *l);
void leaks__fini(struct leaks *l); /* NULL-safe */
/* One observation at now_ns of the stacks live and old enough. 0 or -ENOMEM. */
int leaks__observe(struct leaks *l, int64_t now_ns, const struct heap_live_stack *st, size_t n);
/*
 * Stacks with a severity above none, most severe first (then by growth).
 * Fills up to max; returns how many there are in all.
 */
size_t leaks__report(const struct leaks *l, struct leak_report *out, size_t max);

#endif
