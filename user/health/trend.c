// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bounded sample rings and least-squares fits (see trend.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "health/trend.h"

int trend__init(struct trend *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if (!cap)
		return -EINVAL;
	t->pts = calloc(cap, sizeof(*t->pts));
	if (!t->pts)
		return -ENOMEM;
	t->cap = cap;
	return 0;
}

void trend__fini(struct trend *t)
{
	if (!t)
		return;
	free(t->pts);
	memset(t, 0, sizeof(*t));
}

void trend__add(struct trend *t, int64_t t_ns, double v)
{
	if (!t->cap)
		return;
	if (t->n == t->cap) {
		t->head = (t->head + 1) % t->cap;
		t->n--;
		t->overwritten++;
	}
	t->pts[(t->head + t->n) % t->cap] = (struct trend_point){t_ns, v};
	t->n++;
}

const struct trend_point *trend__at(const struct trend *t, size_t i)
{
	return i < t->n ? &t->pts[(t->head + i) % t->cap] : NULL;
}

const struct trend_point *trend__last(const struct trend *t)
{
	return t->n ? trend__at(t, t->n - 1) : NULL;
}

/*
 * Times are taken relative to the first point, in seconds, and centred on
 * their mean before the sums, so nanosecond epochs lose no precision.
 */
static int fit(const struct trend_point *(*at)(const void *, size_t), const void *src, size_t first,
	       size_t n, struct trend_fit *out)
{
	double mt = 0, mv = 0, sxx = 0, sxy = 0, syy = 0, x, y;
	int64_t t0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (n < 2)
		return -ENODATA;
	t0 = at(src, first)->t_ns;
	for (i = 0; i < n; i++) {
		mt += (at(src, first + i)->t_ns - t0) / 1e9;
		mv += at(src, first + i)->v;
	}
	mt /= n;
	mv /= n;
	for (i = 0; i < n; i++) {
		x = (at(src, first + i)->t_ns - t0) / 1e9 - mt;
		y = at(src, first + i)->v - mv;
		sxx += x * x;
		sxy += x * y;
		syy += y * y;
	}
	if (sxx <= 0)
		return -ENODATA;
	out->n = n;
	out->slope = sxy / sxx;
	out->intercept = mv - out->slope * mt;
	/* Flat values explain nothing and leave nothing unexplained: call it no fit. */
	out->r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
	out->span_s = (at(src, first + n - 1)->t_ns - t0) / 1e9;
	out->mean = mv;
	return 0;
}

static const struct trend_point *ring_at(const void *src, size_t i)
{
	return trend__at(src, i);
}

static const struct trend_point *array_at(const void *src, size_t i)
{
	return (const struct trend_point *)src + i;
}

int trend__fit(const struct trend *t, int64_t since_ns, struct trend_fit *out)
{
	size_t first = 0;

	while (first < t->n && trend__at(t, first)->t_ns < since_ns)
		first++;
	return fit(ring_at, t, first, t->n - first, out);
}

int trend__fit_points(const struct trend_point *p, size_t n, struct trend_fit *out)
{
	return fit(array_at, p, 0, n, out);
}

bool trend__sustained(const struct trend_fit *f, const struct trend_rule *r)
{
	double rise = f->slope * f->span_s;

	return f->n >= r->min_points && f->n >= 2 && f->r2 >= r->min_r2 && f->slope > 0 &&
	       f->slope >= r->min_slope && rise >= r->min_rise &&
	       rise >= r->min_rise_of_mean * (f->mean < 0 ? -f->mean : f->mean);
}
