// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* symcache (LRU, byte budget, two indexes) and perfmap parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer/perfmap.h"
#include "symbolizer/symcache.h"

static int freed;

static void val__free(void *v)
{
	freed++;
	free(v);
}

static int *val(int x)
{
	int *v = malloc(sizeof(*v));

	assert_non_null(v);
	*v = x;
	return v;
}

static const uint8_t bid_a[20] = {0xaa, 1, 2, 3};
static const uint8_t bid_b[20] = {0xbb, 1, 2, 3};

static void test_lookup_by_bid_and_file(void **state)
{
	struct symcache *c = symcache__new(1 << 20, val__free);
	struct symcache_key ka = {bid_a, 20, 8, 100, "/usr/lib/liba.so"};
	struct symcache_key kb = {NULL, 0, 8, 200, "/usr/bin/b"};
	struct symcache_key other_path = {bid_a, 20, 9, 555, "/proc/1/root/usr/lib/liba.so"};
	struct symcache_stats st;
	int *v;

	(void)state;
	assert_non_null(c);
	freed = 0;
	assert_null(symcache__lookup(c, &ka));
	assert_int_equal(symcache__insert(c, &ka, val(1), 100), 0);
	assert_int_equal(symcache__insert(c, &kb, val(2), 100), 0);
	v = symcache__lookup(c, &ka);
	assert_non_null(v);
	assert_int_equal(*v, 1);
	/* the same build-id under another path and inode is the same binary */
	v = symcache__lookup(c, &other_path);
	assert_non_null(v);
	assert_int_equal(*v, 1);
	/* file identity finds entries with and without build-id */
	v = symcache__find_file(c, 8, 100, "/usr/lib/liba.so");
	assert_non_null(v);
	assert_int_equal(*v, 1);
	v = symcache__lookup(c, &kb);
	assert_non_null(v);
	assert_int_equal(*v, 2);
	assert_null(symcache__find_file(c, 8, 201, "/usr/bin/b"));
	assert_null(symcache__find_file(c, 8, 200, "/usr/bin/c"));
	symcache__stats(c, &st);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries, 2);
	assert_true(st.bytes >= 200);
	/* replacing a key frees the old value */
	assert_int_equal(symcache__insert(c, &kb, val(3), 100), 0);
	assert_int_equal(freed, 1);
	assert_int_equal(*(int *)symcache__lookup(c, &kb), 3);
	symcache__free(c);
	assert_int_equal(freed, 3);
}

static void test_lru_eviction(void **state)
{
	struct symcache *c = symcache__new(2500, val__free);
	struct symcache_key k[4] = {
	    {NULL, 0, 1, 1, "/a"},
	    {NULL, 0, 1, 2, "/b"},
	    {NULL, 0, 1, 3, "/c"},
	    {bid_b, 20, 1, 4, "/d"},
	};
	struct symcache_stats st;

	(void)state;
	freed = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(symcache__insert(c, &k[i], val(i), 700), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.evictions, 0);
	/* a becomes most recent, so b is the least recently used */
	assert_non_null(symcache__lookup(c, &k[0]));
	assert_int_equal(symcache__insert(c, &k[3], val(3), 700), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(freed, 1);
	assert_true(st.bytes <= 2500);
	assert_null(symcache__lookup(c, &k[1]));
	assert_non_null(symcache__lookup(c, &k[0]));
	assert_non_null(symcache__lookup(c, &k[2]));
	assert_non_null(symcache__lookup(c, &k[3]));
	/* one value larger than the budget stays, alone */
	assert_int_equal(symcache__insert(c, &k[1], val(9), 10000), 0);
	symcache__stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.evictions, 4);
	assert_int_equal(*(int *)symcache__lookup(c, &k[1]), 9);
	symcache__free(c);
	symcache__free(NULL);
}

static void test_many_entries(void **state)
{
	struct symcache *c = symcache__new(SIZE_MAX, val__free);
	char path[32];
	struct symcache_key k = {.path = path};

	(void)state;
	/* past the initial bucket count, so the tables grow */
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/bin/%d", i);
		k.ino = i;
		assert_int_equal(symcache__insert(c, &k, val(i), 1), 0);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/bin/%d", i);
		k.ino = i;
		assert_int_equal(*(int *)symcache__lookup(c, &k), i);
	}
	symcache__free(c);
}

static void test_perfmap(void **state)
{
	char path[] = "/tmp/test_sym_perfmap.XXXXXX";
	struct perfmap *m;
	uint64_t start;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("7f0000001000 40 Interpreter\n"
	      "0x7f0000002000 0x100 LazyCompile:*fib /app/fib.js:1\n"
	      "7f0000003000 20 old_stub\n"
	      "bogus\n"
	      "7f0000009000 0 empty\n"
	      "7f0000003000 20 new_stub\n",
	      f);
	assert_int_equal(fclose(f), 0);
	m = perfmap__load(path);
	unlink(path);
	assert_non_null(m);
	assert_int_equal(perfmap__nr(m), 4);
	assert_true(perfmap__file_size(m) > 0);
	assert_string_equal(perfmap__find(m, 0x7f0000001000ULL, &start), "Interpreter");
	assert_string_equal(perfmap__find(m, 0x7f000000103fULL, NULL), "Interpreter");
	assert_null(perfmap__find(m, 0x7f0000001040ULL, NULL));
	assert_string_equal(perfmap__find(m, 0x7f0000002080ULL, &start),
			    "LazyCompile:*fib /app/fib.js:1");
	assert_int_equal(start, 0x7f0000002000ULL);
	/* code space reused: the later line wins */
	assert_string_equal(perfmap__find(m, 0x7f0000003004ULL, NULL), "new_stub");
	assert_null(perfmap__find(m, 0x7f0000000fffULL, NULL));
	perfmap__free(m);
	perfmap__free(NULL);
	assert_null(perfmap__load("/nonexistent.map"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_by_bid_and_file),
	    cmocka_unit_test(test_lru_eviction),
	    cmocka_unit_test(test_many_entries),
	    cmocka_unit_test(test_perfmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
