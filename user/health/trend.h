/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Trends: a bounded ring of (time, value) samples and a least-squares line
 * through them, with r² and a "sustained growth" verdict. Used for the RSS of
 * watched processes and for the outstanding bytes of allocation stacks.
 * Not thread-safe: the owner locks.
 */
#ifndef BPFPROF_HEALTH_TREND_H
#define BPFPROF_HEALTH_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trend_point {
	int64_t t_ns;
	double v;
};

struct trend {
	struct trend_point *pts;
	size_t cap, head, n;  /* head: index of the oldest point */
	uint64_t overwritten; /* points dropped to make room (the ring is bounded) */
};

struct trend_fit {
	size_t n;	  /* points used */
	double slope;	  /* value units per second */
	double intercept; /* value at the first point's time */
	double r2;	  /* coefficient of determination, 0 when the values are flat */
	double span_s;	  /* first to last point */
	double mean;
};

/* The verdict rule: all must hold for "sustained growth". */
struct trend_rule {
	size_t min_points;
	double min_r2;
	double min_slope;	 /* value units per second */
	double min_rise;	 /* slope * span at least this (absolute) ... */
	double min_rise_of_mean; /* ... and at least this fraction of the mean */
};

int trend__init(struct trend *t, size_t cap); /* 0 or -ENOMEM/-EINVAL */
void trend__fini(struct trend *t);	      /* NULL-safe */
/* Appends; the oldest point goes when full. Times must not go backwards. */
void trend__add(struct trend *t, int64_t t_ns, double v);
/* The i-th point, oldest first. */
const struct trend_point *trend__at(const struct trend *t, size_t i);
const struct trend_point *trend__last(const struct trend *t); /* NULL when empty */

/* Least squares over points at or after since_ns; -ENODATA with < 2 points or no time spread. */
int trend__fit(const struct trend *t, int64_t since_ns, struct trend_fit *out);
int trend__fit_points(const struct trend_point *p, size_t n, struct trend_fit *out);
bool trend__sustained(const struct trend_fit *f, const struct trend_rule *r);

#endif
