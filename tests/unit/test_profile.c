// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "profile/profile.h"

static const struct profile_value_type cpu_types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

static int setup(void **state)
{
	*state = profile__new(cpu_types, 2, 1);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	profile__free(*state);
	return 0;
}

static void test_new_rejects_bad_types(void **state)
{
	(void)state;
	assert_null(profile__new(cpu_types, 0, 0));
	assert_null(profile__new(cpu_types, 2, 2));
	assert_null(profile__new(NULL, 1, 0));
	assert_null(profile__new(cpu_types, PROFILE_MAX_TYPES + 1, 0));
}

static void test_types_and_strings(void **state)
{
	struct profile *p = *state;

	assert_int_equal(profile__n_types(p), 2);
	assert_string_equal(profile__type(p, 1)->type, "cpu");
	assert_string_equal(profile__type(p, 1)->unit, "nanoseconds");
	assert_null(profile__type(p, 2));
	assert_int_equal(profile__default_type(p), 1);
	/* pprof's string_table[0] must be "" */
	assert_string_equal(profile__string(p, 0), "");
	assert_int_equal(profile__string_index(p, ""), 0);
	assert_true(profile__string_index(p, "cpu") > 0);
	assert_int_equal(profile__string_index(p, "not-there"), -1);
}

static void test_mapping_dedup(void **state)
{
	struct profile *p = *state;
	uint32_t a, b, c, d, e;
	char file[] = "/usr/bin/x";

	a = profile__mapping(p, 0x1000, 0x2000, 0, file, "abcd");
	/* a different buffer with the same contents must hit the same entry */
	b = profile__mapping(p, 0x1000, 0x2000, 0, "/usr/bin/x", "abcd");
	c = profile__mapping(p, 0x1000, 0x2000, 0x10, "/usr/bin/x", "abcd");
	d = profile__mapping(p, 0x1000, 0x2000, 0, "/usr/bin/x", "");
	e = profile__mapping(p, 0x1000, 0x3000, 0, "/usr/bin/x", "abcd");
	assert_int_equal(a, 1);
	assert_int_equal(b, a);
	assert_int_equal(c, 2);
	assert_int_equal(d, 3);
	assert_int_equal(e, 4);
	assert_int_equal(profile__mapping(p, 0, 0, 0, NULL, NULL), 5);
	assert_int_equal(profile__mapping(p, 0, 0, 0, "", ""), 5);
	assert_int_equal(profile__n_mappings(p), 5);
	assert_int_equal(profile__mapping_by_id(p, 3)->id, 3);
	assert_string_equal(profile__mapping_by_id(p, 3)->build_id, "");
	assert_int_equal(profile__mapping_by_id(p, 3)->offset, 0);
	assert_null(profile__mapping_by_id(p, 0));
	assert_null(profile__mapping_by_id(p, 6));
}

static void test_function_dedup(void **state)
{
	struct profile *p = *state;
	uint32_t a, b;

	a = profile__function(p, "main", "main", "/src/main.c");
	b = profile__function(p, "main", "main", "/src/main.c");
	assert_int_equal(a, 1);
	assert_int_equal(b, 1);
	assert_int_equal(profile__function(p, "main", "main", "/src/other.c"), 2);
	assert_int_equal(profile__function(p, "foo()", "_Z3foov", "/src/main.c"), 3);
	assert_int_equal(profile__function(p, "foo()", "foo()", "/src/main.c"), 4);
	/* NULL system_name stands for name */
	assert_int_equal(profile__function(p, "foo()", NULL, "/src/main.c"), 4);
	assert_int_equal(profile__n_functions(p), 4);
	assert_string_equal(profile__function_by_id(p, 3)->system_name, "_Z3foov");
	assert_string_equal(profile__function_at(p, 1)->file, "/src/other.c");
}

static void test_location_dedup(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__mapping(p, 0x1000, 0x2000, 0, "/bin/a", "");
	uint32_t f = profile__function(p, "f", "f", "a.c");
	uint32_t g = profile__function(p, "g", "g", "a.c");

	assert_int_equal(profile__location(p, m, 0x1100, f, 10), 1);
	assert_int_equal(profile__location(p, m, 0x1100, f, 10), 1);
	assert_int_equal(profile__location(p, m, 0x1100, f, 11), 2);
	assert_int_equal(profile__location(p, m, 0x1100, g, 10), 3);
	assert_int_equal(profile__location(p, m, 0x1104, f, 10), 4);
	assert_int_equal(profile__location(p, 0, 0x1100, f, 10), 5);
	assert_int_equal(profile__location(p, m, 0x1100, 0, 0), 6);
	assert_int_equal(profile__n_locations(p), 6);
	/* dangling ids are refused rather than producing an invalid profile */
	assert_int_equal(profile__location(p, 9, 0x1100, f, 10), 0);
	assert_int_equal(profile__location(p, m, 0x1100, 9, 10), 0);
	assert_true(profile__mapping_by_id(p, m)->has_functions);
	assert_int_equal(profile__location_by_id(p, 4)->address, 0x1104);
}

static void test_has_functions_only_when_symbolized(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__mapping(p, 0x1000, 0x2000, 0, "/bin/a", "");

	profile__location(p, m, 0x1100, 0, 0);
	assert_false(profile__mapping_by_id(p, m)->has_functions);
}

static void make_locs(struct profile *p, uint32_t *locs, size_t n)
{
	uint32_t m = profile__mapping(p, 0x1000, 0x9000, 0, "/bin/a", "");
	char name[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "fn%zu", i);
		locs[i] =
		    profile__location(p, m, 0x1000 + i, profile__function(p, name, name, "a.c"), 0);
		assert_int_not_equal(locs[i], 0);
	}
}

static void test_sample_merge_label_order(void **state)
{
	struct profile *p = *state;
	uint32_t locs[3];
	int64_t v1[] = {1, 10}, v2[] = {2, 20};
	struct profile_label ab[] = {
	    {.key = "comm", .str = "bash"},
	    {.key = "pid", .num = 42, .num_unit = "pid"},
	};
	struct profile_label ba[] = {
	    {.key = "pid", .num = 42, .num_unit = "pid"},
	    {.key = "comm", .str = "bash"},
	};
	struct profile_label other[] = {
	    {.key = "pid", .num = 43, .num_unit = "pid"},
	    {.key = "comm", .str = "bash"},
	};
	const struct profile_sample *s;

	make_locs(p, locs, 3);
	assert_int_equal(profile__add_sample(p, locs, 3, v1, ab, 2), 0);
	assert_int_equal(profile__add_sample(p, locs, 3, v2, ba, 2), 0);
	assert_int_equal(profile__n_samples(p), 1);
	s = profile__sample_at(p, 0);
	assert_int_equal(s->values[0], 3);
	assert_int_equal(s->values[1], 30);
	assert_int_equal(s->n_locations, 3);
	assert_memory_equal(s->location_ids, locs, sizeof(locs));
	assert_string_equal(profile__sample_label(s, "comm"), "bash");
	/* numeric labels have no string value */
	assert_null(profile__sample_label(s, "pid"));
	assert_null(profile__sample_label(s, "tid"));

	assert_int_equal(profile__add_sample(p, locs, 3, v1, other, 2), 0);
	assert_int_equal(profile__add_sample(p, locs, 2, v1, ab, 2), 0);
	assert_int_equal(profile__add_sample(p, locs, 3, v1, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, locs, 3, v1, ab, 1), 0);
	assert_int_equal(profile__n_samples(p), 5);
	assert_int_equal(profile__total(p, 0), 7);
	assert_int_equal(profile__total(p, 1), 70);
	assert_int_equal(profile__total(p, 2), 0);
}

static void test_sample_location_order_matters(void **state)
{
	struct profile *p = *state;
	uint32_t locs[2], rev[2];
	int64_t v[] = {1, 1};

	make_locs(p, locs, 2);
	rev[0] = locs[1];
	rev[1] = locs[0];
	assert_int_equal(profile__add_sample(p, locs, 2, v, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, rev, 2, v, NULL, 0), 0);
	assert_int_equal(profile__n_samples(p), 2);
}

static void test_sample_invalid(void **state)
{
	struct profile *p = *state;
	uint32_t locs[1], bad[] = {99}, zero[] = {0};
	int64_t v[] = {1, 1};
	struct profile_label nokey[] = {{.key = NULL, .str = "x"}};

	make_locs(p, locs, 1);
	assert_int_equal(profile__add_sample(p, bad, 1, v, NULL, 0), -EINVAL);
	assert_int_equal(profile__add_sample(p, zero, 1, v, NULL, 0), -EINVAL);
	assert_int_equal(profile__add_sample(p, locs, 1, NULL, NULL, 0), -EINVAL);
	assert_int_equal(profile__add_sample(p, locs, 1, v, nokey, 1), -EINVAL);
	assert_int_equal(profile__add_sample(NULL, locs, 1, v, NULL, 0), -EINVAL);
	assert_int_equal(profile__n_samples(p), 0);
}

static void test_period_time_comments(void **state)
{
	struct profile *p = *state;
	struct profile_value_type t;
	int64_t period, tn, dn;

	profile__period(p, &t, &period);
	assert_null(t.type);
	assert_int_equal(period, 0);
	assert_int_equal(profile__set_period(p, "cpu", "nanoseconds", 10101010), 0);
	profile__period(p, &t, &period);
	assert_string_equal(t.type, "cpu");
	assert_string_equal(t.unit, "nanoseconds");
	assert_int_equal(period, 10101010);
	profile__set_time(p, 1700000000000000000LL, 10000000000LL);
	profile__time(p, &tn, &dn);
	assert_int_equal(tn, 1700000000000000000LL);
	assert_int_equal(dn, 10000000000LL);
	assert_int_equal(profile__add_comment(p, "hello"), 0);
	assert_int_equal(profile__add_comment(p, "world"), 0);
	assert_int_equal(profile__n_comments(p), 2);
	assert_string_equal(profile__comment(p, 1), "world");
	assert_null(profile__comment(p, 2));
}

/* main -> a -> a -> leaf  (a is recursive), and main -> a */
static void test_top_flat_cum_recursion(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__mapping(p, 0x1000, 0x9000, 0, "/bin/a", "");
	uint32_t fm = profile__function(p, "main", NULL, "a.c");
	uint32_t fa = profile__function(p, "a", NULL, "a.c");
	uint32_t fl = profile__function(p, "leaf", NULL, "a.c");
	/* a second "a" from another file merges with the first by name */
	uint32_t fa2 = profile__function(p, "a", NULL, "b.c");
	uint32_t lm = profile__location(p, m, 0x1000, fm, 1);
	uint32_t la1 = profile__location(p, m, 0x1100, fa, 2);
	uint32_t la2 = profile__location(p, m, 0x1104, fa2, 3);
	uint32_t ll = profile__location(p, m, 0x1200, fl, 4);
	uint32_t lu = profile__location(p, m, 0x1300, 0, 0);
	uint32_t s1[] = {ll, la1, la2, lm};
	uint32_t s2[] = {la1, lm};
	uint32_t s3[] = {lu, lm};
	int64_t v1[] = {5, 500}, v2[] = {3, 300}, v3[] = {1, 100};
	struct profile_top top[8];
	size_t n;

	assert_int_equal(profile__add_sample(p, s1, 4, v1, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s2, 2, v2, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s3, 2, v3, NULL, 0), 0);
	n = profile__top(p, 1, top, 8);
	assert_int_equal(n, 3);
	assert_string_equal(top[0].name, "leaf");
	assert_int_equal(top[0].flat, 500);
	assert_int_equal(top[0].cum, 500);
	assert_string_equal(top[1].name, "a");
	assert_int_equal(top[1].flat, 300);
	assert_int_equal(top[1].cum, 800); /* not 1300: recursion counted once */
	assert_string_equal(top[2].name, "main");
	assert_int_equal(top[2].flat, 0);
	assert_int_equal(top[2].cum, 900);

	assert_int_equal(profile__top(p, 0, top, 2), 2);
	assert_string_equal(top[0].name, "leaf");
	assert_int_equal(top[0].flat, 5);
	assert_int_equal(profile__top(p, 2, top, 8), 0);
	assert_int_equal(profile__top(p, 0, top, 0), 0);
}

/*
 * Values come from data-dir files: merging two identical samples of
 * INT64_MAX must clamp, not overflow (UBSan aborts these tests on overflow).
 */
static void test_sample_sum_saturates(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__mapping(p, 0x1000, 0x9000, 0, "/bin/a", "");
	uint32_t f = profile__function(p, "hot", NULL, "a.c");
	uint32_t g = profile__function(p, "cold", NULL, "a.c");
	uint32_t lf = profile__location(p, m, 0x1000, f, 1);
	uint32_t lg = profile__location(p, m, 0x1100, g, 1);
	uint32_t s1[] = {lf}, s2[] = {lg};
	int64_t big[] = {INT64_MAX, INT64_MIN}, one[] = {1, -1};
	struct profile_top top[2];

	assert_int_equal(profile__add_sample(p, s1, 1, big, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s1, 1, big, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s1, 1, one, NULL, 0), 0);
	assert_int_equal(profile__n_samples(p), 1);
	assert_true(profile__sample_at(p, 0)->values[0] == INT64_MAX);
	assert_true(profile__sample_at(p, 0)->values[1] == INT64_MIN);
	/* a sum that comes back into range is exact again from the clamp */
	big[0] = -1;
	big[1] = 1;
	assert_int_equal(profile__add_sample(p, s1, 1, big, NULL, 0), 0);
	assert_true(profile__sample_at(p, 0)->values[0] == INT64_MAX - 1);
	assert_true(profile__sample_at(p, 0)->values[1] == INT64_MIN + 1);
	/* totals and top over two samples near the limits clamp too */
	big[0] = INT64_MAX;
	big[1] = INT64_MIN;
	assert_int_equal(profile__add_sample(p, s2, 1, big, NULL, 0), 0);
	assert_true(profile__total(p, 0) == INT64_MAX);
	assert_true(profile__total(p, 1) == INT64_MIN);
	assert_int_equal(profile__top(p, 0, top, 2), 2);
	assert_true(top[0].flat == INT64_MAX && top[0].cum == INT64_MAX);
	assert_true(profile__sat_neg(INT64_MIN) == INT64_MAX);
	assert_true(profile__sat_neg(INT64_MAX) == -INT64_MAX);
	assert_true(profile__sat_add(INT64_MIN, -1) == INT64_MIN);
}

static void test_top_ties_by_cum_then_name(void **state)
{
	struct profile *p = *state;
	uint32_t fb = profile__function(p, "b", NULL, "");
	uint32_t fa = profile__function(p, "a", NULL, "");
	uint32_t fc = profile__function(p, "c", NULL, "");
	uint32_t lb = profile__location(p, 0, 1, fb, 0);
	uint32_t la = profile__location(p, 0, 2, fa, 0);
	uint32_t lc = profile__location(p, 0, 3, fc, 0);
	uint32_t s1[] = {lb}, s2[] = {la}, s3[] = {lc, lb};
	int64_t v[] = {1, 1};
	struct profile_top top[4];

	assert_int_equal(profile__add_sample(p, s1, 1, v, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s2, 1, v, NULL, 0), 0);
	assert_int_equal(profile__add_sample(p, s3, 2, v, NULL, 0), 0);
	assert_int_equal(profile__top(p, 0, top, 4), 3);
	/* b: flat 1 cum 2; a and c: flat 1 cum 1, ordered by name */
	assert_string_equal(top[0].name, "b");
	assert_string_equal(top[1].name, "a");
	assert_string_equal(top[2].name, "c");
}

static void test_null_safety(void **state)
{
	struct profile_top top[1];
	uint32_t loc = 1;
	int64_t v = 1;

	(void)state;
	profile__free(NULL);
	profile__set_time(NULL, 1, 2);
	assert_int_equal(profile__set_period(NULL, "a", "b", 1), -EINVAL);
	assert_int_equal(profile__add_comment(NULL, "x"), -EINVAL);
	assert_int_equal(profile__mapping(NULL, 0, 0, 0, "x", ""), 0);
	assert_int_equal(profile__function(NULL, "x", "x", "x"), 0);
	assert_int_equal(profile__location(NULL, 0, 0, 0, 0), 0);
	assert_int_equal(profile__add_sample(NULL, &loc, 1, &v, NULL, 0), -EINVAL);
	assert_int_equal(profile__n_samples(NULL), 0);
	assert_int_equal(profile__n_locations(NULL), 0);
	assert_int_equal(profile__n_types(NULL), 0);
	assert_null(profile__sample_at(NULL, 0));
	assert_null(profile__location_by_id(NULL, 1));
	assert_null(profile__sample_label(NULL, "comm"));
	assert_int_equal(profile__total(NULL, 0), 0);
	assert_int_equal(profile__top(NULL, 0, top, 1), 0);
}

/* 200k adds over 100k distinct samples and ~1M distinct locations. */
static void test_scale(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__mapping(p, 0x400000, 0x10000000, 0, "/bin/big", "ff");
	uint32_t f = profile__function(p, "hot", NULL, "big.c");
	struct profile_label l[] = {{.key = "comm", .str = "big"}};
	uint32_t stack[10];
	int64_t v[] = {1, 10};
	size_t i, j;

	for (i = 0; i < 200000; i++) {
		size_t k = i % 100000;

		for (j = 0; j < 10; j++) {
			stack[j] = profile__location(p, m, 0x400000 + k * 10 + j, f, 0);
			assert_int_not_equal(stack[j], 0);
		}
		assert_int_equal(profile__add_sample(p, stack, 10, v, l, 1), 0);
	}
	assert_int_equal(profile__n_locations(p), 1000000);
	assert_int_equal(profile__n_samples(p), 100000);
	assert_int_equal(profile__total(p, 0), 200000);
	assert_int_equal(profile__total(p, 1), 2000000);
	for (i = 0; i < 100000; i += 9973)
		assert_int_equal(profile__sample_at(p, i)->values[0], 2);
	assert_int_equal(profile__location_by_id(p, 1000000)->address, 0x400000 + 999999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_rejects_bad_types),
	    cmocka_unit_test_setup_teardown(test_types_and_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapping_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_function_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_location_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_has_functions_only_when_symbolized, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sample_merge_label_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sample_location_order_matters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sample_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_period_time_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top_flat_cum_recursion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top_ties_by_cum_then_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sample_sum_saturates, setup, teardown),
	    cmocka_unit_test(test_null_safety),
	    cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
