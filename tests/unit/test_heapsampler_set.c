// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The heap sampler's set of sampled addresses (user/heapsampler/hs_set.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heapsampler/hs_set.h"

static struct hs_set *set_new(void)
{
	struct hs_set *s = aligned_alloc(64, sizeof(*s));

	assert_non_null(s);
	memset(s, 0, sizeof(*s));
	return s;
}

/* The n-th 16-byte-aligned address, from a base no real block would have. */
static uintptr_t addr(uint64_t n)
{
	return 0x7f0000000000ull + n * 16;
}

static void test_insert_take(void **state)
{
	struct hs_set *s = set_new();

	(void)state;
	assert_false(hs_set__maybe(s, addr(1)));
	assert_true(hs_set__insert(s, addr(1)));
	assert_true(hs_set__maybe(s, addr(1)));
	assert_false(hs_set__take(s, addr(2)));
	assert_int_equal(s->count, 1);
	assert_true(hs_set__take(s, addr(1)));
	assert_false(hs_set__take(s, addr(1)));
	assert_false(hs_set__maybe(s, addr(1)));
	assert_int_equal(s->count, 0);
	assert_false(hs_set__insert(s, 0));
	free(s);
}

/* A bucket holds HS_SET_WAYS; one more is refused, and fits again after a take. */
static void test_bucket_full(void **state)
{
	struct hs_set *s = set_new();
	uintptr_t same[HS_SET_WAYS + 1];
	int n = 0;
	uint32_t b = hs_set__bucket(addr(0));

	(void)state;
	for (uint64_t i = 0; n < HS_SET_WAYS + 1; i++)
		if (hs_set__bucket(addr(i)) == b)
			same[n++] = addr(i);
	for (int i = 0; i < HS_SET_WAYS; i++)
		assert_true(hs_set__insert(s, same[i]));
	assert_false(hs_set__insert(s, same[HS_SET_WAYS]));
	assert_false(hs_set__take(s, same[HS_SET_WAYS]));
	for (int i = 0; i < HS_SET_WAYS; i++)
		assert_true(hs_set__maybe(s, same[i]));
	assert_true(hs_set__take(s, same[3]));
	assert_true(hs_set__insert(s, same[HS_SET_WAYS]));
	assert_true(hs_set__take(s, same[HS_SET_WAYS]));
	assert_int_equal(s->count, HS_SET_WAYS - 1);
	hs_set__clear(s);
	assert_int_equal(s->count, 0);
	for (int i = 0; i < HS_SET_WAYS; i++)
		assert_false(hs_set__maybe(s, same[i]));
	free(s);
}

/* Filled to capacity the set refuses, never loses: every stored address is found once. */
static void test_fill(void **state)
{
	struct hs_set *s = set_new();
	uint64_t stored = 0, refused = 0, n = 4 * HS_SET_CAPACITY;
	uint8_t *in = calloc(n, 1);

	(void)state;
	assert_non_null(in);
	for (uint64_t i = 0; i < n; i++) {
		in[i] = hs_set__insert(s, addr(i));
		stored += in[i];
		refused += !in[i];
	}
	assert_true(stored <= HS_SET_CAPACITY);
	assert_true(stored > HS_SET_CAPACITY * 9 / 10);
	assert_int_equal(stored + refused, n);
	assert_int_equal(s->count, stored);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(hs_set__take(s, addr(i)), in[i]);
	assert_int_equal(s->count, 0);
	for (uint32_t i = 0; i < (1u << HS_SET_FILTER_BITS); i++)
		assert_int_equal(s->filter[i], 0);
	free(in);
	free(s);
}

#define THREADS	   4
#define PER_THREAD 200000

struct worker {
	struct hs_set *s;
	int id;
	uint64_t lost;
};

/* Addresses of one bucket, THREADS * 3 of them: more than it holds. */
static uintptr_t contended[THREADS * 3];

/*
 * Each thread inserts and takes its own addresses, all in the same bucket:
 * a take must always find what its insert stored (the bucket may refuse
 * the insert when full), and the counters end at zero.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (uint64_t i = 0; i < PER_THREAD; i++) {
		uintptr_t a = contended[(i % 3) * THREADS + (uint64_t)w->id];

		if (!hs_set__insert(w->s, a))
			continue;
		if (!hs_set__take(w->s, a))
			w->lost++;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct hs_set *s = set_new();
	struct worker w[THREADS];
	pthread_t t[THREADS];

	(void)state;
	for (uint64_t i = 0, n = 0; n < THREADS * 3; i++)
		if (hs_set__bucket(addr(i)) == hs_set__bucket(addr(0)))
			contended[n++] = addr(i);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.s = s, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].lost, 0);
	}
	assert_int_equal(s->count, 0);
	for (uint32_t i = 0; i < (1u << HS_SET_FILTER_BITS); i++)
		assert_int_equal(s->filter[i], 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_take),
	    cmocka_unit_test(test_bucket_full),
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
