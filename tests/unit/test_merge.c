// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "profile/merge.h"
#include "profile/profile.h"

static const struct profile_value_type cpu_types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

static struct profile *cpu_new(void)
{
	struct profile *p = profile__new(cpu_types, 2, 1);

	assert_non_null(p);
	assert_int_equal(profile__set_period(p, "cpu", "nanoseconds", 10101010), 0);
	return p;
}

/* One sample main -> fn (leaf first) in /bin/<bin>, labelled pid/comm. */
static void add_stack(struct profile *p, const char *bin, const char *fn, uint64_t addr,
		      const char *pid, const char *comm, int64_t n)
{
	struct profile_label labels[] = {
	    {.key = "pid", .str = pid},
	    {.key = "comm", .str = comm},
	};
	int64_t values[2] = {n, n * 10000000};
	uint32_t m, f_leaf, f_main, locs[2];
	char path[64];

	snprintf(path, sizeof(path), "/bin/%s", bin);
	m = profile__mapping(p, 0x400000, 0x500000, 0, path, "beef");
	f_leaf = profile__function(p, fn, NULL, path);
	f_main = profile__function(p, "main", NULL, path);
	locs[0] = profile__location(p, m, addr, f_leaf, 7);
	locs[1] = profile__location(p, m, 0x401000, f_main, 3);
	assert_true(m && f_leaf && f_main && locs[0] && locs[1]);
	assert_int_equal(profile__add_sample(p, locs, 2, values, labels, 2), 0);
}

static const struct profile_sample *find_sample(const struct profile *p, const char *leaf,
						const char *pid)
{
	size_t i;

	for (i = 0; i < profile__n_samples(p); i++) {
		const struct profile_sample *s = profile__sample_at(p, i);
		const struct profile_location *l = profile__location_by_id(p, s->location_ids[0]);
		const struct profile_function *f = profile__function_by_id(p, l->function_id);
		const char *spid = profile__sample_label(s, "pid");

		if (!strcmp(f->name, leaf) && spid && !strcmp(spid, pid))
			return s;
	}
	return NULL;
}

static void test_dedup_across_profiles(void **state)
{
	struct profile *a = cpu_new(), *b = cpu_new(), *dst;
	const struct profile_sample *s;

	(void)state;
	add_stack(a, "app", "work", 0x402000, "10", "app", 3);
	add_stack(a, "app", "idle", 0x403000, "10", "app", 1);
	/* b interns in another order, so its ids differ from a's */
	add_stack(b, "db", "query", 0x402000, "20", "db", 5);
	add_stack(b, "app", "work", 0x402000, "10", "app", 2);

	dst = profile__new_like(a);
	assert_non_null(dst);
	assert_int_equal(profile__merge(dst, a, NULL), 0);
	assert_int_equal(profile__merge(dst, b, NULL), 0);

	assert_int_equal(profile__n_mappings(dst), 2);
	assert_int_equal(profile__n_functions(dst), 5); /* work idle main(app) query main(db) */
	assert_int_equal(profile__n_locations(dst), 5);
	assert_int_equal(profile__n_samples(dst), 3);
	assert_int_equal(profile__total(dst, 0), 11);
	assert_int_equal(profile__total(dst, 1), 110000000);

	s = find_sample(dst, "work", "10");
	assert_non_null(s);
	assert_int_equal(s->values[0], 5);
	assert_string_equal(profile__sample_label(s, "comm"), "app");
	assert_string_equal(profile__function_by_id(
				dst, profile__location_by_id(dst, s->location_ids[1])->function_id)
				->name,
			    "main");
	s = find_sample(dst, "query", "20");
	assert_non_null(s);
	assert_string_equal(profile__mapping_by_id(
				dst, profile__location_by_id(dst, s->location_ids[0])->mapping_id)
				->file,
			    "/bin/db");

	/* merging the same source again only adds values */
	assert_int_equal(profile__merge(dst, b, NULL), 0);
	assert_int_equal(profile__n_locations(dst), 5);
	assert_int_equal(profile__n_samples(dst), 3);
	assert_int_equal(profile__total(dst, 0), 18);

	profile__free(dst);
	profile__free(a);
	profile__free(b);
}

/* A sample of value v (both types) on main <- fn in /bin/app, pid 10. */
static void add_value(struct profile *p, const char *fn, int64_t v)
{
	struct profile_label l[] = {{.key = "pid", .str = "10"}};
	int64_t values[2] = {v, v};
	uint32_t m, f, loc;

	m = profile__mapping(p, 0x400000, 0x500000, 0, "/bin/app", "beef");
	f = profile__function(p, fn, NULL, "/bin/app");
	loc = profile__location(p, m, 0x401000, f, 1);
	assert_true(m && f && loc);
	assert_int_equal(profile__add_sample(p, &loc, 1, values, l, 1), 0);
}

static int64_t value_of(const struct profile *p, const char *fn)
{
	const struct profile_sample *s = find_sample(p, fn, "10");

	assert_non_null(s);
	assert_true(s->values[0] == s->values[1]);
	return s->values[0];
}

/* Windows read back from files can hold anything: merged sums clamp. */
static void test_merge_saturates(void **state)
{
	struct profile *a = cpu_new(), *dst;

	(void)state;
	add_value(a, "hot", INT64_MAX);
	add_value(a, "cold", INT64_MIN);
	dst = profile__new_like(a);
	assert_non_null(dst);
	assert_int_equal(profile__merge(dst, a, NULL), 0);
	assert_int_equal(profile__merge(dst, a, NULL), 0);
	assert_true(value_of(dst, "hot") == INT64_MAX);
	assert_true(value_of(dst, "cold") == INT64_MIN);
	profile__free(dst);
	profile__free(a);
}

/* A diff: the range plus the baseline negated; -INT64_MIN must not overflow. */
static void test_merge_negated_diff(void **state)
{
	struct profile *cur = cpu_new(), *base = cpu_new(), *diff;

	(void)state;
	add_value(cur, "grew", 10);
	add_value(cur, "same", 4);
	add_value(base, "grew", 3);
	add_value(base, "same", 4);
	add_value(base, "gone", 6);
	add_value(base, "crafted", INT64_MIN);
	add_value(cur, "crafted_too", INT64_MIN);
	add_value(base, "crafted_too", INT64_MAX);
	diff = profile__new_like(cur);
	assert_non_null(diff);
	assert_int_equal(profile__merge(diff, cur, NULL), 0);
	assert_int_equal(profile__merge_negated(diff, base, NULL), 0);
	assert_int_equal(value_of(diff, "grew"), 7);
	assert_int_equal(value_of(diff, "same"), 0);
	assert_int_equal(value_of(diff, "gone"), -6);
	assert_true(value_of(diff, "crafted") == INT64_MAX);
	assert_true(value_of(diff, "crafted_too") == INT64_MIN);
	assert_int_equal(profile__merge_negated(diff, diff, NULL), -EINVAL);
	profile__free(diff);
	profile__free(cur);
	profile__free(base);
}

static struct profile *three_procs(void)
{
	struct profile *p = cpu_new();

	add_stack(p, "app", "work", 0x402000, "10", "app", 1);
	add_stack(p, "app", "work", 0x402000, "11", "app", 2);
	add_stack(p, "db", "query", 0x402000, "20", "db", 4);
	return p;
}

static int64_t merged_total(const struct profile *src, const struct profile_filter *f)
{
	struct profile *dst = profile__new_like(src);
	int64_t total;

	assert_non_null(dst);
	assert_int_equal(profile__merge(dst, src, f), 0);
	total = profile__total(dst, 0);
	profile__free(dst);
	return total;
}

static void test_filter_pid_and_comm(void **state)
{
	struct profile *p = three_procs();
	uint32_t pids_a[] = {10, 20}, pids_b[] = {11}, pids_none[] = {99};

	(void)state;
	assert_int_equal(merged_total(p, NULL), 7);
	assert_int_equal(merged_total(p, &(struct profile_filter){0}), 7);
	assert_int_equal(merged_total(p, &(struct profile_filter){.pids = pids_a, .n_pids = 2}), 5);
	assert_int_equal(merged_total(p, &(struct profile_filter){.pids = pids_b, .n_pids = 1}), 2);
	assert_int_equal(merged_total(p, &(struct profile_filter){.pids = pids_none, .n_pids = 1}),
			 0);
	assert_int_equal(merged_total(p, &(struct profile_filter){.comm = "app"}), 3);
	assert_int_equal(merged_total(p, &(struct profile_filter){.comm = "db"}), 4);
	assert_int_equal(merged_total(p, &(struct profile_filter){.comm = "nope"}), 0);
	/* both lists: a sample must pass both */
	assert_int_equal(
	    merged_total(p, &(struct profile_filter){.pids = pids_a, .n_pids = 2, .comm = "app"}),
	    1);
	assert_false(profile_filter__match(NULL, p, 3));
	profile__free(p);
}

static void test_filter_exe_and_numeric_pid(void **state)
{
	struct profile *p = cpu_new();
	struct profile_label labels[] = {
	    {.key = "pid", .num = 42},
	    {.key = "exe", .str = "/usr/bin/python3"},
	};
	struct profile_label bad_pid[] = {{.key = "pid", .str = "12abc"}};
	int64_t values[2] = {1, 1};
	uint32_t pid = 42, pid12 = 12;

	(void)state;
	assert_int_equal(profile__add_sample(p, NULL, 0, values, labels, 2), 0);
	assert_int_equal(profile__add_sample(p, NULL, 0, values, bad_pid, 1), 0);
	assert_true(
	    profile_filter__match(&(struct profile_filter){.pids = &pid, .n_pids = 1}, p, 0));
	assert_true(
	    profile_filter__match(&(struct profile_filter){.comm = "/usr/bin/python3"}, p, 0));
	assert_false(profile_filter__match(&(struct profile_filter){.comm = "python3"}, p, 0));
	/* a malformed pid label never matches */
	assert_false(
	    profile_filter__match(&(struct profile_filter){.pids = &pid12, .n_pids = 1}, p, 1));
	profile__free(p);
}

static void test_type_mismatch(void **state)
{
	static const struct profile_value_type heap[] = {
	    {"alloc_objects", "count"},
	    {"alloc_space", "bytes"},
	};
	static const struct profile_value_type one[] = {{"samples", "count"}};
	static const struct profile_value_type other_unit[] = {
	    {"samples", "count"},
	    {"cpu", "microseconds"},
	};
	struct profile *cpu = three_procs();
	struct profile *h = profile__new(heap, 2, 1);
	struct profile *o = profile__new(one, 1, 0);
	struct profile *u = profile__new(other_unit, 2, 1);

	(void)state;
	assert_true(h && o && u);
	assert_int_equal(profile__merge(h, cpu, NULL), -EINVAL);
	assert_int_equal(profile__merge(o, cpu, NULL), -EINVAL);
	assert_int_equal(profile__merge(u, cpu, NULL), -EINVAL);
	assert_int_equal(profile__merge(cpu, cpu, NULL), -EINVAL);
	assert_int_equal(profile__merge(NULL, cpu, NULL), -EINVAL);
	assert_int_equal(profile__merge(cpu, NULL, NULL), -EINVAL);
	assert_int_equal(profile__n_samples(h), 0);
	profile__free(h);
	profile__free(o);
	profile__free(u);
	profile__free(cpu);
}

static void test_new_like(void **state)
{
	struct profile *src = three_procs(), *p;
	struct profile_value_type pt;
	int64_t period;

	(void)state;
	p = profile__new_like(src);
	assert_non_null(p);
	assert_int_equal(profile__n_types(p), 2);
	assert_string_equal(profile__type(p, 1)->type, "cpu");
	assert_int_equal(profile__default_type(p), 1);
	profile__period(p, &pt, &period);
	assert_string_equal(pt.type, "cpu");
	assert_string_equal(pt.unit, "nanoseconds");
	assert_int_equal(period, 10101010);
	assert_int_equal(profile__n_samples(p), 0);
	assert_null(profile__new_like(NULL));
	profile__free(p);
	profile__free(src);
}

static void test_bytes(void **state)
{
	struct profile *p = cpu_new();
	size_t empty = profile__bytes(p), before;
	char fn[32];
	int i;

	(void)state;
	assert_int_equal(profile__bytes(NULL), 0);
	assert_true(empty > 0);
	before = empty;
	for (i = 0; i < 1000; i++) {
		snprintf(fn, sizeof(fn), "fn_%d", i);
		add_stack(p, "app", fn, 0x402000 + (uint64_t)i, "1", "app", 1);
	}
	/* 1000 samples, ~1000 functions, strings and indexes: tens of KiB at least */
	assert_true(profile__bytes(p) > before + 1000 * 100);
	assert_true(profile__bytes(p) < before + 1000 * 2000);
	profile__free(p);
}

static struct profile *wide_profile(size_t n)
{
	struct profile *p = cpu_new();
	struct profile_label labels[] = {{.key = "pid", .str = "1"}};
	int64_t values[2] = {1, 1};
	uint32_t m, f, locs[3];
	char name[32];
	size_t i;

	m = profile__mapping(p, 0, 1ULL << 40, 0, "/bin/big", "");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%zu", i % 5000);
		f = profile__function(p, name, NULL, "/bin/big");
		locs[0] = profile__location(p, m, 0x1000 + i, f, 0);
		locs[1] = profile__location(p, m, 0x10 + i % 100, f, 0);
		locs[2] = profile__location(p, m, 0x1, 0, 0);
		assert_int_equal(profile__add_sample(p, locs, 3, values, labels, 1), 0);
	}
	return p;
}

static double merge_seconds(const struct profile *src)
{
	struct profile *dst = profile__new_like(src);
	struct timespec a, b;

	assert_non_null(dst);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(profile__merge(dst, src, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(profile__n_samples(dst), profile__n_samples(src));
	assert_int_equal(profile__n_locations(dst), profile__n_locations(src));
	assert_int_equal(profile__n_functions(dst), profile__n_functions(src));
	assert_int_equal(profile__total(dst, 0), (int64_t)profile__n_samples(src));
	profile__free(dst);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/*
 * 100k samples with 100k distinct locations. A quadratic merge would take
 * minutes here; the ratio is printed, not asserted (no timed assertions).
 */
static void test_linear_100k(void **state)
{
	struct profile *small = wide_profile(50000), *big = wide_profile(100000);
	double ts, tb;

	(void)state;
	ts = merge_seconds(small);
	tb = merge_seconds(big);
	print_message("merge 50k: %.3fs, 100k: %.3fs (ratio %.2f)\n", ts, tb, tb / ts);
	profile__free(small);
	profile__free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup_across_profiles),
	    cmocka_unit_test(test_merge_saturates),
	    cmocka_unit_test(test_merge_negated_diff),
	    cmocka_unit_test(test_filter_pid_and_comm),
	    cmocka_unit_test(test_filter_exe_and_numeric_pid),
	    cmocka_unit_test(test_type_mismatch),
	    cmocka_unit_test(test_new_like),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_linear_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
