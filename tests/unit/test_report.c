// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reports computed from a profile (user/serve/report.h): CPU by process and
 * hotspots (self, total, hottest line, impact), on hand-built profiles.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "serve/report.h"

#define T_COUNT 0
#define T_CPU	1

static const struct profile_value_type cpu_types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

struct fixture {
	struct profile *p;
	uint32_t m;
	uint32_t f_main, f_a, f_b, f_rec;
	uint32_t main5, a10, a20, b30, rec40, rec41, unsym;
};

/* Adds n samples (cpu = 100 * n ns) with pid/tid/comm/exe labels; pid NULL: no pid label. */
static void add(struct fixture *fx, const char *pid, const char *tid, const char *comm,
		const char *exe, int64_t n, size_t nloc, ...)
{
	struct profile_label labels[4];
	uint32_t locs[16];
	int64_t values[2] = {n, 100 * n};
	size_t nl = 0;
	va_list ap;

	assert_true(nloc <= 16);
	va_start(ap, nloc);
	for (size_t i = 0; i < nloc; i++)
		locs[i] = va_arg(ap, uint32_t);
	va_end(ap);
	if (pid)
		labels[nl++] = (struct profile_label){.key = "pid", .str = pid};
	if (tid)
		labels[nl++] = (struct profile_label){.key = "tid", .str = tid};
	if (comm)
		labels[nl++] = (struct profile_label){.key = "comm", .str = comm};
	if (exe)
		labels[nl++] = (struct profile_label){.key = "exe", .str = exe};
	assert_int_equal(profile__add_sample(fx->p, locs, nloc, values, labels, nl), 0);
}

static void fixture_init(struct fixture *fx)
{
	struct profile *p = profile__new(cpu_types, 2, T_CPU);

	assert_non_null(p);
	memset(fx, 0, sizeof(*fx));
	fx->p = p;
	fx->m = profile__mapping(p, 0x1000, 0x2000, 0, "/bin/app", "abcd");
	fx->f_main = profile__function(p, "main", NULL, "app.c");
	fx->f_a = profile__function(p, "burn_a", NULL, "app.c");
	fx->f_b = profile__function(p, "burn_b", NULL, "app.c");
	fx->f_rec = profile__function(p, "rec", NULL, "rec.c");
	fx->main5 = profile__location(p, fx->m, 0x1005, fx->f_main, 5);
	fx->a10 = profile__location(p, fx->m, 0x1010, fx->f_a, 10);
	fx->a20 = profile__location(p, fx->m, 0x1020, fx->f_a, 20);
	fx->b30 = profile__location(p, fx->m, 0x1030, fx->f_b, 30);
	fx->rec40 = profile__location(p, fx->m, 0x1040, fx->f_rec, 40);
	fx->rec41 = profile__location(p, fx->m, 0x1041, fx->f_rec, 41);
	fx->unsym = profile__location(p, fx->m, 0x1999, 0, 0);
	assert_true(fx->m && fx->f_main && fx->f_a && fx->f_b && fx->f_rec);
	assert_true(fx->main5 && fx->a10 && fx->a20 && fx->b30 && fx->rec40 && fx->rec41 &&
		    fx->unsym);
}

/*
 * The standard profile (cpu values; counts are 1/100 of them):
 *   pid 100 (app):   burn_a:10 <- main        300  tid 1
 *                    burn_a:20 <- main        500  tid 2
 *                    burn_a:20 <- main        200  tid 1
 *   pid 200 (other): burn_b <- main           400
 *                    rec:40 <- rec:41 <- rec:40 <- main   600 (recursion)
 *   pid 300 (third): ?? <- burn_b <- main     100 (unsymbolized leaf)
 *   no pid label:    main:5                   200
 * total 2300.
 */
static void standard(struct fixture *fx)
{
	fixture_init(fx);
	add(fx, "100", "1", "app", "/bin/app", 3, 2, fx->a10, fx->main5);
	add(fx, "100", "2", "app", "/bin/app", 5, 2, fx->a20, fx->main5);
	add(fx, "100", "1", "app", "/bin/app", 2, 2, fx->a20, fx->main5);
	add(fx, "200", "200", "other", "/usr/bin/other", 4, 2, fx->b30, fx->main5);
	add(fx, "200", "200", "other", "/usr/bin/other", 6, 4, fx->rec40, fx->rec41, fx->rec40,
	    fx->main5);
	add(fx, "300", "300", "third", "/bin/third", 1, 3, fx->unsym, fx->b30, fx->main5);
	add(fx, NULL, NULL, NULL, NULL, 2, 1, fx->main5);
	assert_int_equal(profile__total(fx->p, T_CPU), 2300);
}

static const struct hotspot *find(const struct hotspot *hs, size_t n, const char *fn)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(hs[i].function, fn))
			return &hs[i];
	return NULL;
}

/* ---- processes ---- */

static void test_processes_aggregate(void **state)
{
	struct fixture fx;
	struct proc_usage *u = NULL;
	size_t n = 99;

	(void)state;
	standard(&fx);
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_non_null(u);
	/* the sample without a pid label is left out */
	assert_int_equal(n, 3);
	/* 100 and 200 tie at 1000: lower PID first */
	assert_int_equal(u[0].pid, 100);
	assert_int_equal(u[0].value, 1000);
	assert_string_equal(u[0].comm, "app");
	assert_string_equal(u[0].exe, "/bin/app");
	assert_int_equal(u[1].pid, 200);
	assert_int_equal(u[1].value, 1000);
	assert_string_equal(u[1].comm, "other");
	assert_string_equal(u[1].exe, "/usr/bin/other");
	assert_int_equal(u[2].pid, 300);
	assert_int_equal(u[2].value, 100);
	free(u);

	/* by the count type */
	assert_int_equal(report__processes(fx.p, T_COUNT, &u, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(u[0].value, 10);
	assert_int_equal(u[1].value, 10);
	assert_int_equal(u[2].value, 1);
	free(u);
	profile__free(fx.p);
}

static void test_processes_sorted_desc(void **state)
{
	struct fixture fx;
	struct proc_usage *u = NULL;
	size_t n = 0;

	(void)state;
	fixture_init(&fx);
	add(&fx, "7", NULL, "small", NULL, 1, 1, fx.a10);
	add(&fx, "5", NULL, "big", NULL, 9, 1, fx.a10);
	add(&fx, "6", NULL, "mid", NULL, 4, 1, fx.b30);
	add(&fx, "6", NULL, "mid", NULL, 4, 1, fx.a20);
	add(&fx, "4294967295", NULL, "maxpid", NULL, 2, 1, fx.a20);
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(u[0].pid, 5);
	assert_int_equal(u[0].value, 900);
	assert_int_equal(u[1].pid, 6);
	assert_int_equal(u[1].value, 800);
	assert_int_equal(u[2].pid, 4294967295u);
	assert_int_equal(u[3].pid, 7);
	/* a process without an exe label gets "" */
	assert_string_equal(u[0].exe, "");
	free(u);
	profile__free(fx.p);
}

static void test_processes_long_names_truncated(void **state)
{
	struct fixture fx;
	struct proc_usage *u = NULL;
	size_t n = 0;
	char comm[200], exe[300];

	(void)state;
	memset(comm, 'c', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = 0;
	memset(exe, 'e', sizeof(exe) - 1);
	exe[0] = '/';
	exe[sizeof(exe) - 1] = 0;
	fixture_init(&fx);
	add(&fx, "42", NULL, comm, exe, 1, 1, fx.a10);
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(u[0].comm), sizeof(u[0].comm) - 1);
	assert_int_equal(strlen(u[0].exe), sizeof(u[0].exe) - 1);
	assert_memory_equal(u[0].comm, comm, sizeof(u[0].comm) - 1);
	assert_memory_equal(u[0].exe, exe, sizeof(u[0].exe) - 1);
	free(u);
	profile__free(fx.p);
}

static void test_processes_empty(void **state)
{
	struct fixture fx;
	struct proc_usage *u = NULL;
	size_t n = 99;

	(void)state;
	fixture_init(&fx);
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_int_equal(n, 0);
	free(u);
	/* only samples without a pid label */
	add(&fx, NULL, NULL, "x", NULL, 3, 1, fx.a10);
	n = 99;
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_int_equal(n, 0);
	free(u);
	profile__free(fx.p);
}

/* ---- hotspots ---- */

static void test_hotspots_self_total_line(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	const struct hotspot *h;
	size_t n = 0;

	(void)state;
	standard(&fx);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 4);
	/* by self, descending */
	assert_string_equal(hs[0].function, "burn_a");
	assert_string_equal(hs[1].function, "rec");
	assert_string_equal(hs[2].function, "burn_b");
	assert_string_equal(hs[3].function, "main");

	h = find(hs, n, "burn_a");
	assert_int_equal(h->self, 1000);
	assert_int_equal(h->total, 1000);
	assert_int_equal(h->line, 20); /* 700 at line 20 against 300 at line 10 */
	assert_string_equal(h->file, "app.c");

	/* recursion: counted once per sample in total, self only as the leaf */
	h = find(hs, n, "rec");
	assert_int_equal(h->self, 600);
	assert_int_equal(h->total, 600);
	assert_int_equal(h->line, 40);
	assert_string_equal(h->file, "rec.c");

	/* below an unsymbolized leaf: total, no self */
	h = find(hs, n, "burn_b");
	assert_int_equal(h->self, 400);
	assert_int_equal(h->total, 500);
	assert_int_equal(h->line, 30);

	/* main: on every stack; leaf only in the sample without labels */
	h = find(hs, n, "main");
	assert_int_equal(h->self, 200);
	assert_int_equal(h->total, 2300);
	assert_int_equal(h->line, 5);
	free(hs);
	profile__free(fx.p);
}

static void test_hotspots_impact(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	size_t n = 0;

	(void)state;
	standard(&fx);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	for (size_t i = 0; i < n; i++) {
		double want = (0.7 * hs[i].self + 0.3 * hs[i].total) / 2300.0;

		assert_true(hs[i].impact >= 0 && hs[i].impact <= 1);
		if (hs[i].impact < want - 1e-9 || hs[i].impact > want + 1e-9)
			fail_msg("%s: impact %f, want %f", hs[i].function, hs[i].impact, want);
	}
	assert_true(find(hs, n, "burn_a")->impact > 1000.0 / 2300 - 1e-9);
	assert_true(find(hs, n, "main")->impact > 830.0 / 2300 - 1e-9);
	free(hs);

	/* one function that is everything: impact exactly 1 */
	profile__free(fx.p);
	fixture_init(&fx);
	add(&fx, "1", NULL, "x", NULL, 7, 1, fx.a10);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 1);
	assert_true(hs[0].impact > 1 - 1e-12 && hs[0].impact <= 1);
	free(hs);
	profile__free(fx.p);
}

static void test_hotspots_max_and_type(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	size_t n = 0;

	(void)state;
	standard(&fx);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 2, &hs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(hs[0].function, "burn_a");
	assert_string_equal(hs[1].function, "rec");
	free(hs);

	assert_int_equal(report__hotspots(fx.p, T_CPU, 0, &hs, &n), 0);
	assert_int_equal(n, 0);
	free(hs);

	assert_int_equal(report__hotspots(fx.p, T_COUNT, 20, &hs, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(hs[0].function, "burn_a");
	assert_int_equal(hs[0].self, 10);
	assert_int_equal(find(hs, n, "main")->total, 23);
	assert_true(find(hs, n, "burn_a")->impact > 10.0 / 23 - 1e-9 &&
		    find(hs, n, "burn_a")->impact < 10.0 / 23 + 1e-9);
	free(hs);
	profile__free(fx.p);
}

/* Equal self: more total first; equal both: by name. */
static void test_hotspots_ties(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	size_t n = 0;
	uint32_t fz, fy, z, y;

	(void)state;
	fixture_init(&fx);
	fz = profile__function(fx.p, "zeta", NULL, "z.c");
	fy = profile__function(fx.p, "alpha", NULL, "y.c");
	z = profile__location(fx.p, fx.m, 0x1100, fz, 1);
	y = profile__location(fx.p, fx.m, 0x1200, fy, 2);
	add(&fx, "1", NULL, "x", NULL, 5, 1, z);
	add(&fx, "1", NULL, "x", NULL, 5, 1, y);
	/* burn_a: self 5, and total 5 + 3 (caller of burn_b) */
	add(&fx, "1", NULL, "x", NULL, 5, 1, fx.a10);
	add(&fx, "1", NULL, "x", NULL, 3, 2, fx.b30, fx.a20);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(hs[0].function, "burn_a");
	assert_string_equal(hs[1].function, "alpha");
	assert_string_equal(hs[2].function, "zeta");
	assert_string_equal(hs[3].function, "burn_b");
	/* burn_a's leaf line is 10: line 20 was never a leaf */
	assert_int_equal(hs[0].line, 10);
	free(hs);
	profile__free(fx.p);
}

/* A function never seen as a leaf has line 0; unsymbolized frames are skipped. */
static void test_hotspots_no_leaf_line(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	const struct hotspot *h;
	size_t n = 0;

	(void)state;
	fixture_init(&fx);
	add(&fx, "1", NULL, "x", NULL, 4, 2, fx.a10, fx.main5);
	add(&fx, "1", NULL, "x", NULL, 4, 2, fx.unsym, fx.main5);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 2); /* burn_b and rec never appear: left out */
	h = find(hs, n, "main");
	assert_non_null(h);
	assert_int_equal(h->self, 0);
	assert_int_equal(h->total, 800);
	assert_int_equal(h->line, 0);
	assert_null(find(hs, n, "burn_b"));
	free(hs);
	profile__free(fx.p);
}

static void test_hotspots_empty(void **state)
{
	struct fixture fx;
	struct hotspot *hs = NULL;
	size_t n = 99;

	(void)state;
	fixture_init(&fx);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 0);
	free(hs);
	profile__free(fx.p);

	/* a profile with no functions at all */
	fx.p = profile__new(cpu_types, 2, T_CPU);
	assert_non_null(fx.p);
	n = 99;
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	assert_int_equal(n, 0);
	free(hs);
	profile__free(fx.p);
}

/* Windows read back from files can hold any value: per-process and per-function sums clamp. */
static void test_sums_saturate(void **state)
{
	struct profile_label t1[] = {{.key = "pid", .str = "100"}, {.key = "tid", .str = "1"}};
	struct profile_label t2[] = {{.key = "pid", .str = "100"}, {.key = "tid", .str = "2"}};
	int64_t big[2] = {INT64_MAX, INT64_MAX};
	struct proc_usage *u = NULL;
	struct hotspot *hs = NULL;
	const struct hotspot *h;
	struct fixture fx;
	uint32_t locs[2];
	size_t n = 0;

	(void)state;
	fixture_init(&fx);
	locs[0] = fx.a10;
	locs[1] = fx.main5;
	assert_int_equal(profile__add_sample(fx.p, locs, 2, big, t1, 2), 0);
	assert_int_equal(profile__add_sample(fx.p, locs, 2, big, t2, 2), 0);
	assert_int_equal(report__processes(fx.p, T_CPU, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_true(u[0].value == INT64_MAX);
	free(u);
	assert_int_equal(report__hotspots(fx.p, T_CPU, 20, &hs, &n), 0);
	h = find(hs, n, "burn_a");
	assert_non_null(h);
	assert_true(h->self == INT64_MAX && h->total == INT64_MAX);
	free(hs);
	profile__free(fx.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_processes_aggregate),
	    cmocka_unit_test(test_sums_saturate),
	    cmocka_unit_test(test_processes_sorted_desc),
	    cmocka_unit_test(test_processes_long_names_truncated),
	    cmocka_unit_test(test_processes_empty),
	    cmocka_unit_test(test_hotspots_self_total_line),
	    cmocka_unit_test(test_hotspots_impact),
	    cmocka_unit_test(test_hotspots_max_and_type),
	    cmocka_unit_test(test_hotspots_ties),
	    cmocka_unit_test(test_hotspots_no_leaf_line),
	    cmocka_unit_test(test_hotspots_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
