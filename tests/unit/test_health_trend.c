// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Trend fitting (user/health/trend.h) and leak severity (user/health/leaks.h):
 * least squares on known lines, flat and noisy series, nanosecond epochs,
 * the bounded ring, the sustained-growth verdict, the severity rules at
 * their boundaries, and per-stack series built from synthetic observations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "health/health.h"
#include "health/leaks.h"
#include "health/trend.h"

#define NS    1000000000LL
#define EPOCH (1700000000LL * NS)
#define MIB   (1024.0 * 1024.0)
#define GIB   (1024.0 * MIB)

static void fill_line(struct trend *t, size_t n, double v0, double slope, int64_t step_ns)
{
	for (size_t i = 0; i < n; i++)
		trend__add(t, EPOCH + (int64_t)i * step_ns, v0 + slope * (i * step_ns / 1e9));
}

static void test_fit_line(void **state)
{
	struct trend t;
	struct trend_fit f;

	(void)state;
	assert_int_equal(trend__init(&t, 16), 0);
	fill_line(&t, 10, 100, 2, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_int_equal(f.n, 10);
	assert_float_equal(f.slope, 2, 1e-9);
	assert_float_equal(f.intercept, 100, 1e-9);
	assert_float_equal(f.r2, 1, 1e-12);
	assert_float_equal(f.span_s, 9, 1e-12);
	assert_float_equal(f.mean, 109, 1e-9);
	trend__fini(&t);
}

/* Large epochs and byte values must not lose the slope to rounding. */
static void test_fit_precision(void **state)
{
	struct trend t;
	struct trend_fit f;

	(void)state;
	assert_int_equal(trend__init(&t, 64), 0);
	fill_line(&t, 60, 8 * GIB, 1024, NS / 2); /* 1 KiB/s on top of 8 GiB */
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_float_equal(f.slope, 1024, 1e-3);
	assert_true(f.r2 > 0.999999);
	trend__fini(&t);
}

static void test_fit_degenerate(void **state)
{
	struct trend t;
	struct trend_fit f;

	(void)state;
	assert_int_equal(trend__init(&t, 8), 0);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), -ENODATA);
	trend__add(&t, EPOCH, 5);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), -ENODATA);
	trend__add(&t, EPOCH, 7); /* same time: no spread */
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), -ENODATA);
	trend__fini(&t);
	/* Flat values: a fit, slope 0 and r² 0 (nothing explained). */
	assert_int_equal(trend__init(&t, 8), 0);
	fill_line(&t, 6, 42, 0, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_float_equal(f.slope, 0, 1e-12);
	assert_float_equal(f.r2, 0, 1e-12);
	trend__fini(&t);
	assert_int_equal(trend__init(&t, 0), -EINVAL);
	trend__fini(NULL);
}

static void test_ring_bounded(void **state)
{
	struct trend t;
	struct trend_fit f;

	(void)state;
	assert_int_equal(trend__init(&t, 4), 0);
	for (int i = 0; i < 10; i++)
		trend__add(&t, EPOCH + i * NS, i < 6 ? 1000 : 3 * i);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.overwritten, 6);
	assert_int_equal(trend__at(&t, 0)->t_ns, EPOCH + 6 * NS);
	assert_int_equal(trend__last(&t)->t_ns, EPOCH + 9 * NS);
	assert_null(trend__at(&t, 4));
	/* Only the kept points count: the early 1000s are gone. */
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_float_equal(f.slope, 3, 1e-9);
	/* since_ns keeps the tail. */
	assert_int_equal(trend__fit(&t, EPOCH + 8 * NS, &f), 0);
	assert_int_equal(f.n, 2);
	trend__fini(&t);
}

static void test_sustained_rule(void **state)
{
	struct trend t;
	struct trend_fit f;

	(void)state;
	/* A 1 MiB/s leak over 10 s: sustained. */
	assert_int_equal(trend__init(&t, 64), 0);
	fill_line(&t, 11, 50 * MIB, MIB, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_true(trend__sustained(&f, &health__rss_rule));
	trend__fini(&t);
	/* Four points are too few. */
	assert_int_equal(trend__init(&t, 64), 0);
	fill_line(&t, 4, 50 * MIB, MIB, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_false(trend__sustained(&f, &health__rss_rule));
	trend__fini(&t);
	/* A perfect but tiny rise (4 KiB in 10 s) is allocator noise, not growth. */
	assert_int_equal(trend__init(&t, 64), 0);
	fill_line(&t, 11, 50 * MIB, 400, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_false(trend__sustained(&f, &health__rss_rule));
	trend__fini(&t);
	/* Sawtooth around a level: r² low. */
	assert_int_equal(trend__init(&t, 64), 0);
	for (int i = 0; i < 20; i++)
		trend__add(&t, EPOCH + i * NS, 50 * MIB + (i % 2 ? 8 : -8) * MIB + i * 1024);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_true(f.r2 < 0.8);
	assert_false(trend__sustained(&f, &health__rss_rule));
	trend__fini(&t);
	/* Shrinking: never growth. */
	assert_int_equal(trend__init(&t, 64), 0);
	fill_line(&t, 11, 500 * MIB, -MIB, NS);
	assert_int_equal(trend__fit(&t, INT64_MIN, &f), 0);
	assert_false(trend__sustained(&f, &health__rss_rule));
	trend__fini(&t);
}

/* ---- leak severity ---- */

static struct trend_fit fit_of(double bytes_per_hour, double r2, size_t n)
{
	return (struct trend_fit){.n = n, .slope = bytes_per_hour / 3600, .r2 = r2, .span_s = 60};
}

static void test_severity_rules(void **state)
{
	struct trend_fit f;

	(void)state;
	f = fit_of(GIB, 0.8, 3);
	assert_int_equal(leaks__severity(&f), LEAK_CRITICAL);
	f = fit_of(GIB, 0.79, 3); /* fast but noisy: only medium */
	assert_int_equal(leaks__severity(&f), LEAK_MEDIUM);
	f = fit_of(GIB - 1, 0.9, 3);
	assert_int_equal(leaks__severity(&f), LEAK_HIGH);
	f = fit_of(64 * MIB, 0.8, 10);
	assert_int_equal(leaks__severity(&f), LEAK_HIGH);
	f = fit_of(64 * MIB - 1, 0.99, 10);
	assert_int_equal(leaks__severity(&f), LEAK_MEDIUM);
	f = fit_of(MIB, 0.5, 3);
	assert_int_equal(leaks__severity(&f), LEAK_MEDIUM);
	f = fit_of(MIB - 1, 0.99, 3);
	assert_int_equal(leaks__severity(&f), LEAK_LOW);
	f = fit_of(1, 0.5, 3);
	assert_int_equal(leaks__severity(&f), LEAK_LOW);
	f = fit_of(10 * GIB, 0.49, 30); /* noise */
	assert_int_equal(leaks__severity(&f), LEAK_NONE);
	f = fit_of(10 * GIB, 1, 2); /* too few observations */
	assert_int_equal(leaks__severity(&f), LEAK_NONE);
	f = fit_of(0, 0, 10);
	assert_int_equal(leaks__severity(&f), LEAK_NONE);
	f = fit_of(-GIB, 1, 10);
	assert_int_equal(leaks__severity(&f), LEAK_NONE);
}

static void test_severity_names(void **state)
{
	enum leak_severity s;

	(void)state;
	for (int i = LEAK_NONE; i <= LEAK_CRITICAL; i++) {
		assert_int_equal(leak_severity__parse(leak_severity__name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(leak_severity__parse("High", &s), -EINVAL);
	assert_int_equal(leak_severity__parse("", &s), -EINVAL);
	assert_string_equal(leak_severity__name(99), "none");
}

/* ---- per-stack series ---- */

static struct heap_live_stack stack(uint32_t key, const char *fn, uint64_t bytes)
{
	struct heap_live_stack s = {
	    .stack_key = key, .bytes_est = bytes, .objects_est = bytes / 4096};

	snprintf(s.leaf_function, sizeof(s.leaf_function), "%s", fn);
	s.oldest_ns = EPOCH - 100 * NS;
	return s;
}

/* Window i of 2 s: a leaker growing 1 MiB a window, a constant cache, a noisy buffer. */
static void observe_window(struct leaks *l, int i)
{
	struct heap_live_stack st[3] = {
	    stack(7, "leak_here", (uint64_t)(i + 1) * (1 << 20)),
	    stack(8, "cache_init", 10 << 20),
	    stack(9, "scratch", (i % 2 ? 3 : 1) << 20),
	};

	assert_int_equal(leaks__observe(l, EPOCH + i * 2 * NS, st, 3), 0);
}

static void test_leaks_synthetic(void **state)
{
	struct leak_report r[8];
	struct leaks l;

	(void)state;
	leaks__init(&l);
	observe_window(&l, 0);
	observe_window(&l, 1);
	assert_int_equal(leaks__report(&l, r, 8), 0); /* two observations: too early */
	for (int i = 2; i < 12; i++)
		observe_window(&l, i);
	assert_int_equal(leaks__report(&l, r, 8), 1);
	assert_string_equal(r[0].function, "leak_here");
	assert_int_equal(r[0].stack_key, 7);
	assert_int_equal(r[0].severity, LEAK_CRITICAL); /* 1 MiB / 2 s = 1.76 GiB/h */
	assert_float_equal(r[0].growth_bytes_per_hour, 1800.0 * MIB, 1);
	assert_float_equal(r[0].r2, 1, 1e-9);
	assert_int_equal(r[0].points, 12);
	assert_int_equal(r[0].bytes, 12 << 20);
	assert_int_equal(r[0].first_seen_ns, EPOCH);
	assert_int_equal(r[0].last_seen_ns, EPOCH + 22 * NS);
	assert_int_equal(l.observations, 12);
	leaks__fini(&l);
	leaks__fini(NULL);
}

static void test_leaks_absent_and_forgotten(void **state)
{
	struct heap_live_stack st = stack(1, "grow", 0);
	struct leak_report r;
	struct leaks l;
	int i;

	(void)state;
	leaks__init(&l);
	for (i = 0; i < 5; i++) {
		st.bytes_est = (uint64_t)(i + 1) << 22;
		assert_int_equal(leaks__observe(&l, EPOCH + i * NS, &st, 1), 0);
	}
	assert_int_equal(leaks__report(&l, &r, 1), 1);
	/* Freed: absent observations add zero points; it is no leak any more. */
	assert_int_equal(leaks__observe(&l, EPOCH + 5 * NS, NULL, 0), 0);
	assert_int_equal(leaks__report(&l, &r, 1), 0);
	assert_int_equal(l.n, 1);
	for (i = 6; i < 5 + LEAKS_FORGET_AFTER; i++)
		assert_int_equal(leaks__observe(&l, EPOCH + i * NS, NULL, 0), 0);
	assert_int_equal(l.n, 0);
	leaks__fini(&l);
}

static void test_leaks_bounded(void **state)
{
	struct heap_live_stack st[LEAKS_MAX_STACKS + 44];
	struct leaks l;
	size_t n = sizeof(st) / sizeof(st[0]);

	(void)state;
	leaks__init(&l);
	for (size_t i = 0; i < n; i++)
		st[i] = stack(i + 1, "many", 4096);
	assert_int_equal(leaks__observe(&l, EPOCH, st, n), 0);
	assert_int_equal(l.n, LEAKS_MAX_STACKS);
	assert_int_equal(l.dropped, 44);
	/* Only the last 44 come back: the absent ones make room for them. */
	assert_int_equal(leaks__observe(&l, EPOCH + NS, st + LEAKS_MAX_STACKS, 44), 0);
	assert_int_equal(l.n, LEAKS_MAX_STACKS);
	assert_int_equal(l.evicted, 44);
	assert_int_equal(l.dropped, 44);
	leaks__fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fit_line),
	    cmocka_unit_test(test_fit_precision),
	    cmocka_unit_test(test_fit_degenerate),
	    cmocka_unit_test(test_ring_bounded),
	    cmocka_unit_test(test_sustained_rule),
	    cmocka_unit_test(test_severity_rules),
	    cmocka_unit_test(test_severity_names),
	    cmocka_unit_test(test_leaks_synthetic),
	    cmocka_unit_test(test_leaks_absent_and_forgotten),
	    cmocka_unit_test(test_leaks_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
