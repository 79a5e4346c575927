// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Thresholds and warnings of one process's memory health. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "health/health.h"

#define MIB (1024.0 * 1024.0)

const struct trend_rule health__rss_rule = {
    .min_points = 5,
    .min_r2 = 0.8,
    .min_slope = 0,
    /* Allocator noise moves RSS by a few hundred KiB; a leak moves it more. */
    .min_rise = MIB,
    .min_rise_of_mean = 0.01,
};

const char *health_status__name(enum health_status s)
{
	return s == HEALTH_CRITICAL ? "critical" : s == HEALTH_WARNING ? "warning" : "normal";
}

__attribute__((format(printf, 2, 3))) static void warn(struct health_report *r, const char *fmt,
						       ...)
{
	va_list ap;

	if (r->n_warnings == HEALTH_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warnings[r->n_warnings++], HEALTH_WARNING_LEN, fmt, ap);
	va_end(ap);
}

static void raise_to(struct health_report *r, enum health_status s)
{
	if (s > r->status)
		r->status = s;
}

static void absolute(struct health_report *r, const struct health_thresholds *th, double rss)
{
	if (th->critical_mb > 0 && rss >= th->critical_mb) {
		raise_to(r, HEALTH_CRITICAL);
		warn(r, "rss %.1f MB is at or over the critical threshold of %g MB", rss,
		     th->critical_mb);
	} else if (th->warning_mb > 0 && rss >= th->warning_mb) {
		raise_to(r, HEALTH_WARNING);
		warn(r, "rss %.1f MB is at or over the warning threshold of %g MB", rss,
		     th->warning_mb);
	}
}

static void relative(struct health_report *r, const struct health_thresholds *th, double rss)
{
	double limit = r->limit_bytes / MIB, pct;

	if (!r->limit_bytes)
		return;
	pct = 100.0 * rss / limit;
	if (th->critical_percent > 0 && pct >= th->critical_percent) {
		raise_to(r, HEALTH_CRITICAL);
		warn(r, "rss is %.1f%% of the cgroup memory limit of %.1f MB (critical at %g%%)",
		     pct, limit, th->critical_percent);
	} else if (th->warning_percent > 0 && pct >= th->warning_percent) {
		raise_to(r, HEALTH_WARNING);
		warn(r, "rss is %.1f%% of the cgroup memory limit of %.1f MB (warning at %g%%)",
		     pct, limit, th->warning_percent);
	}
}

/* Growth and swap do not change the status (thresholds do) but are worth saying. */
static void notes(struct health_report *r, double rss)
{
	double slope = r->fit.slope / MIB;

	if (r->sustained) {
		warn(r, "sustained growth of %.3f MB/s (r2 %.2f over %zu samples, %.0f s)", slope,
		     r->fit.r2, r->fit.n, r->fit.span_s);
		if (r->limit_bytes && slope > 0 && r->limit_bytes / MIB > rss)
			warn(r, "at this rate the cgroup memory limit is reached in about %.0f s",
			     (r->limit_bytes / MIB - rss) / slope);
	}
	if (r->mem.swap_kib)
		warn(r, "%.1f MB swapped out", r->mem.swap_kib / 1024.0);
}

void health_report__evaluate(struct health_report *r, const struct health_thresholds *th)
{
	double rss = r->mem.rss_kib / 1024.0;

	r->status = HEALTH_NORMAL;
	r->n_warnings = 0;
	r->sustained = r->has_fit && trend__sustained(&r->fit, &health__rss_rule);
	absolute(r, th, rss);
	relative(r, th, rss);
	notes(r, rss);
}
