// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "writer/folded.h"

static const struct profile_value_type types[] = {
    {"alloc_objects", "count"},
    {"alloc_space", "bytes"},
};

/* Runs folded__write into memory; the caller frees the text. */
static char *folded(const struct profile *p, size_t type)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(folded__write(p, type, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void add(struct profile *p, const uint32_t *locs, size_t n, int64_t v0, int64_t v1,
		const char *comm)
{
	struct profile_label l[] = {
	    {.key = "comm", .str = comm},
	    {.key = "pid", .num = 7},
	};
	int64_t v[] = {v0, v1};

	assert_int_equal(profile__add_sample(p, locs, n, v, comm ? l : &l[1], comm ? 2 : 1), 0);
}

static struct profile *build(void)
{
	struct profile *p = profile__new(types, 2, 1);
	uint32_t m, mk, fmain, fwork, fodd, lmain, lwork, lodd, lraw, lnomap;

	assert_non_null(p);
	m = profile__mapping(p, 0x400000, 0x500000, 0x1000, "/usr/lib/libfoo.so", "");
	mk = profile__mapping(p, 0x10000, 0x20000, 0, "", "");
	fmain = profile__function(p, "main", NULL, "m.c");
	fwork = profile__function(p, "std::map<int; int>::at", NULL, "m.c");
	fodd = profile__function(p, "odd\nname", NULL, "m.c");
	lmain = profile__location(p, m, 0x401000, fmain, 0);
	lwork = profile__location(p, m, 0x402000, fwork, 0);
	lodd = profile__location(p, m, 0x403000, fodd, 0);
	lraw = profile__location(p, m, 0x400abc, 0, 0);
	lnomap = profile__location(p, 0, 0xdead, 0, 0);
	{
		uint32_t s1[] = {lwork, lmain};
		uint32_t s2[] = {lraw, lmain};
		uint32_t s3[] = {lnomap, lodd, lmain};
		uint32_t s4[] = {lmain};
		uint32_t s5[] = {profile__location(p, mk, 0x10010, 0, 0)};

		add(p, s1, 2, 3, 300, "app");
		add(p, s2, 2, 1, 100, "app");
		add(p, s3, 3, 2, 0, "app");
		/* same stack and comm, another pid: one folded line */
		add(p, s4, 1, 1, 10, "b;d");
		add(p, s4, 1, 1, 5, "b;d");
		add(p, s1, 2, 1, 1, NULL);
		add(p, s5, 1, 1, 1, "k");
	}
	return p;
}

static void test_exact_text(void **state)
{
	struct profile *p = build();
	char *out;

	(void)state;
	out = folded(p, 1);
	assert_string_equal(out, "app;main;libfoo.so+0x1abc 100\n"
				 "app;main;std::map<int: int>::at 300\n"
				 "b:d;main 15\n"
				 "k;[unknown]+0x10 1\n"
				 "main;std::map<int: int>::at 1\n");
	free(out);
	/* type 0 also has the sample whose alloc_space is 0 */
	out = folded(p, 0);
	assert_string_equal(out, "app;main;libfoo.so+0x1abc 1\n"
				 "app;main;odd name;[unknown] 2\n"
				 "app;main;std::map<int: int>::at 3\n"
				 "b:d;main 2\n"
				 "k;[unknown]+0x10 1\n"
				 "main;std::map<int: int>::at 1\n");
	free(out);
	profile__free(p);
}

static void test_aggregates_across_labels(void **state)
{
	struct profile *p = profile__new(types, 2, 0);
	uint32_t f = profile__function(p, "f", NULL, "");
	uint32_t l = profile__location(p, 0, 1, f, 0);
	struct profile_label a[] = {{.key = "comm", .str = "x"}, {.key = "tid", .num = 1}};
	struct profile_label b[] = {{.key = "comm", .str = "x"}, {.key = "tid", .num = 2}};
	int64_t v[] = {2, 0};
	char *out;

	(void)state;
	assert_int_equal(profile__add_sample(p, &l, 1, v, a, 2), 0);
	assert_int_equal(profile__add_sample(p, &l, 1, v, b, 2), 0);
	assert_int_equal(profile__n_samples(p), 2);
	out = folded(p, 0);
	assert_string_equal(out, "x;f 4\n");
	free(out);
	/* every value of type 1 is zero: nothing to draw */
	out = folded(p, 1);
	assert_string_equal(out, "");
	free(out);
	profile__free(p);
}

/* Samples folded into one line (other tids) sum without overflowing. */
static void test_sum_saturates(void **state)
{
	struct profile *p = profile__new(types, 2, 0);
	uint32_t f = profile__function(p, "f", NULL, "");
	uint32_t l = profile__location(p, 0, 1, f, 0);
	struct profile_label a[] = {{.key = "comm", .str = "x"}, {.key = "tid", .num = 1}};
	struct profile_label b[] = {{.key = "comm", .str = "x"}, {.key = "tid", .num = 2}};
	int64_t v[] = {INT64_MAX, 1};
	char *out;

	(void)state;
	assert_int_equal(profile__add_sample(p, &l, 1, v, a, 2), 0);
	assert_int_equal(profile__add_sample(p, &l, 1, v, b, 2), 0);
	out = folded(p, 0);
	assert_string_equal(out, "x;f 9223372036854775807\n");
	free(out);
	profile__free(p);
}

static void test_errors(void **state)
{
	struct profile *p = profile__new(types, 2, 0);

	(void)state;
	assert_int_equal(folded__write(NULL, 0, stdout), -EINVAL);
	assert_int_equal(folded__write(p, 0, NULL), -EINVAL);
	assert_int_equal(folded__write(p, 2, stdout), -EINVAL);
	profile__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_text),
	    cmocka_unit_test(test_aggregates_across_labels),
	    cmocka_unit_test(test_sum_saturates),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
