// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /debug/pprof/symbol: the request body parser, and the index that names
 * addresses pprof posts through the processes of the profiles it served
 * (this test process stands in for a profiled one).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "serve/symbol.h"

static const struct profile_value_type types[] = {{"samples", "count"}};

static int parse(const char *body, uint64_t *a, size_t max, size_t *n)
{
	char err[160] = "";
	int rc = symbol__parse(body, strlen(body), a, max, n, err, sizeof(err));

	if (rc)
		assert_true(err[0]);
	return rc;
}

static void test_parse_ok(void **state)
{
	uint64_t a[8];
	size_t n;

	(void)state;
	assert_int_equal(parse("0x4a5b3c+0xffffffff81000000+4096", a, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_true(a[0] == 0x4a5b3c && a[1] == 0xffffffff81000000ULL && a[2] == 4096);
	assert_int_equal(parse("0XABCdef\r\n", a, 8, &n), 0);
	assert_true(n == 1 && a[0] == 0xabcdef);
	assert_int_equal(parse("0xffffffffffffffff", a, 8, &n), 0);
	assert_true(n == 1 && a[0] == UINT64_MAX);
	assert_int_equal(parse("", a, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(parse(" \n", a, 8, &n), 0);
	assert_int_equal(n, 0);
}

static void test_parse_bad(void **state)
{
	static const char *bad[] = {
	    "0x", "0xg1", "0x1+", "+0x1", "0x1++0x2", "0x1 0x2", "0x1,0x2", "-1", "abc",
	    "0x10000000000000000", "18446744073709551616", "0x1+ 0x2", "0x-1", "1e5",
	};
	char err[160];
	uint64_t a[8];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], a, 8, &n) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* a NUL inside the body is a bad byte, not the end */
	assert_int_equal(symbol__parse("0x1\0+0x2", 8, a, 8, &n, err, sizeof(err)), -EINVAL);
	/* control bytes never reach the JSON error message raw */
	assert_int_equal(symbol__parse("0x\x01\x1b", 4, a, 8, &n, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\x1b'));
	assert_int_equal(parse("1+2+3", a, 2, &n), -E2BIG);
	assert_int_equal(parse("1+2", a, 2, &n), 0);
}

/* The /proc/self/maps line holding addr: start, end, offset and path. */
static void self_map(uint64_t addr, uint64_t *start, uint64_t *end, uint64_t *off, char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		path[0] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %255s", start, end,
			   off, path) >= 3 &&
		    addr >= *start && addr < *end) {
			fclose(f);
			return;
		}
	}
	fclose(f);
	fail_msg("no mapping holds %#" PRIx64, addr);
}

__attribute__((noinline)) int symbol_test_target(int x)
{
	return x * 3 + 1;
}

/* A profile with one unresolved location at addr in this process's mapping. */
static struct profile *profile_at(uint64_t start, uint64_t end, uint64_t off, const char *path,
				  uint64_t addr, const char *pid)
{
	struct profile *p = profile__new(types, 1, 0);
	struct profile_label l = {.key = "pid", .str = pid};
	uint32_t m, loc;
	int64_t v = 1;

	assert_non_null(p);
	m = profile__mapping(p, start, end, off, path, "");
	loc = profile__location(p, m, addr, 0, 0);
	assert_true(m && loc);
	assert_int_equal(profile__add_sample(p, &loc, 1, &v, &l, 1), 0);
	return p;
}

static char *resolve(struct symbol_index *x, const uint64_t *a, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(symbol_index__resolve(x, a, n, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_index_names_through_pid(void **state)
{
	uint64_t addr = (uint64_t)(uintptr_t)symbol_test_target + 2, start, end, off, a[3];
	struct symbol_index *x = symbol_index__new();
	char path[256], pid[16], want[128], *out;
	struct symbol_stats st;
	struct profile *p;

	(void)state;
	assert_non_null(x);
	self_map(addr, &start, &end, &off, path);
	snprintf(pid, sizeof(pid), "%d", getpid());
	/* nothing remembered: nothing named, and no error */
	a[0] = addr;
	out = resolve(x, a, 1);
	assert_string_equal(out, "");
	free(out);

	p = profile_at(start, end, off, path, addr, pid);
	assert_int_equal(symbol_index__remember(x, p), 0);
	profile__free(p);
	a[1] = 0;
	a[2] = end + 0x100000; /* in no remembered mapping */
	out = resolve(x, a, 3);
	snprintf(want, sizeof(want), "%#" PRIx64 " symbol_test_target\n", addr);
	assert_string_equal(out, want);
	free(out);
	symbol_index__stats(x, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.addresses, 4);
	assert_int_equal(st.resolved, 1);
	symbol_index__free(x);
}

/* pprof posts a later mapping's addresses shifted to the first mapping of the same file. */
static void test_index_shift_to_first_mapping(void **state)
{
	uint64_t addr = (uint64_t)(uintptr_t)symbol_test_target + 2, start, end, off, a[1];
	uint64_t fake = 0x10000000000ULL; /* where the "first" mapping of the file sits */
	struct symbol_index *x = symbol_index__new();
	struct profile *p = profile__new(types, 1, 0);
	struct profile_label l = {.key = "pid"};
	char path[256], pid[16], want[128], *out;
	uint32_t f, m1, m2, loc1, loc2;
	int64_t v = 1;

	(void)state;
	assert_true(x && p);
	self_map(addr, &start, &end, &off, path);
	snprintf(pid, sizeof(pid), "%d", getpid());
	l.str = pid;
	/* the first mapping of the file: resolved, in another process (PID 1 here) */
	f = profile__function(p, "elsewhere", "elsewhere", path);
	m1 = profile__mapping(p, fake, fake + (end - start), off, path, "");
	loc1 = profile__location(p, m1, fake + 0x10, f, 0);
	m2 = profile__mapping(p, start, end, off, path, "");
	loc2 = profile__location(p, m2, addr, 0, 0);
	assert_int_equal(profile__add_sample(p, &loc2, 1, &v, &l, 1), 0);
	l.str = "1";
	assert_int_equal(profile__add_sample(p, &loc1, 1, &v, &l, 1), 0);
	assert_int_equal(symbol_index__remember(x, p), 0);
	profile__free(p);

	a[0] = addr - start + fake;
	out = resolve(x, a, 1);
	snprintf(want, sizeof(want), "%#" PRIx64 " symbol_test_target\n", a[0]);
	assert_string_equal(out, want);
	free(out);
	symbol_index__free(x);
}

/* Mappings pprof never asks about are not remembered; a PID must still map the file. */
static void test_index_skips(void **state)
{
	uint64_t addr = (uint64_t)(uintptr_t)symbol_test_target + 2, start, end, off, a[1];
	struct symbol_index *x = symbol_index__new();
	char path[256], pid[16], *out;
	struct profile *p;

	(void)state;
	assert_non_null(x);
	self_map(addr, &start, &end, &off, path);
	snprintf(pid, sizeof(pid), "%d", getpid());
	a[0] = addr;
	/* "[anon]"-style names: pprof skips them */
	p = profile_at(start, end, off, "[anon]", addr, pid);
	assert_int_equal(symbol_index__remember(x, p), 0);
	profile__free(p);
	/* the PID does not map this file there: not named from the wrong binary */
	p = profile_at(start, end, off, "/usr/bin/not-this-one", addr, pid);
	assert_int_equal(symbol_index__remember(x, p), 0);
	profile__free(p);
	/* no pid label: no process to ask */
	p = profile_at(start, end, off, path, addr, "");
	assert_int_equal(symbol_index__remember(x, p), 0);
	profile__free(p);
	out = resolve(x, a, 1);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(symbol_index__remember(NULL, NULL), 0);
	symbol_index__free(x);
	symbol_index__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_index_names_through_pid),
	    cmocka_unit_test(test_index_shift_to_first_mapping),
	    cmocka_unit_test(test_index_skips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
