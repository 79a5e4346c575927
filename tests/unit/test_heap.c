// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Heap: scaling math, exponential table, allocator choice on fixture maps, probe placement. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "heap/heap_int.h"
#include "heap/heap_tab.h"

static void test_scale(void **state)
{
	(void)state;
	assert_true(heap__scale(100, 1) == 1.0);
	/* Go: a 512 KiB block at R = 512 KiB stands for 1/(1 - e^-1) blocks. */
	assert_true(fabs(heap__scale(524288, 524288) - 1.0 / (1.0 - exp(-1.0))) < 1e-9);
	assert_true(fabs(heap__scale(64, 524288) - 524288.0 / 64) < 1.0);
	assert_true(heap__scale(1 << 30, 524288) < 1.0000001);
}

static void test_exp_table_mean(void **state)
{
	uint64_t t[HEAP_EXP_TABLE_SIZE];
	double sum = 0;

	(void)state;
	heap__exp_table(524288, t, HEAP_EXP_TABLE_SIZE);
	for (size_t i = 0; i < HEAP_EXP_TABLE_SIZE; i++)
		sum += t[i];
	assert_true(fabs(sum / HEAP_EXP_TABLE_SIZE - 524288) < 524288 * 1e-3);
	assert_true(t[0] > t[HEAP_EXP_TABLE_SIZE - 1]);
}

static bool defines_fixture(const char *path, void *ctx)
{
	const char *yes = ctx;

	return strstr(yes, path) != NULL;
}

static const char maps[] = "55d0c000-55d0d000 r-xp 00001000 08:01 1 /usr/bin/app\n"
			   "7f00000000-7f00001000 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n"
			   "7f10000000-7f10001000 r-xp 00026000 08:01 3 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
			   "7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]\n";

static void test_choose(void **state)
{
	enum heap_allocator k;
	char path[256];

	(void)state;
	assert_int_equal(heap_alloc__choose(maps, "/usr/bin/app", defines_fixture,
					    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/x86_64-linux-gnu/libc.so.6",
					    &k, path, sizeof(path)), 0);
	assert_int_equal(k, HEAP_ALLOC_JEMALLOC);
	assert_int_equal(heap_alloc__choose(maps, "/usr/bin/app", defines_fixture,
					    "/usr/lib/x86_64-linux-gnu/libc.so.6", &k, path, sizeof(path)), 0);
	assert_int_equal(k, HEAP_ALLOC_GLIBC);
	assert_string_equal(path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(heap_alloc__choose(maps, "/usr/bin/app", defines_fixture, "/usr/bin/app",
					    &k, path, sizeof(path)), 0);
	assert_int_equal(k, HEAP_ALLOC_STATIC);
	assert_int_equal(heap_alloc__choose(maps, "/usr/bin/app", defines_fixture, "", &k, path,
					    sizeof(path)), -ENOENT);
}

static void test_place(void **state)
{
	/* glibc 2.36 free: test %rdi,%rdi; je; push %rbp -> the je (emulated jcc) at 3. */
	static const uint8_t free_[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0, 0, 0, 0x55 };
	/* malloc: push %r12 first: stays at 0. */
	static const uint8_t malloc_[] = { 0x41, 0x54, 0x55, 0x53 };
	/* posix_memalign: cmpb $0,x(%rip); push %r12 -> 7. */
	static const uint8_t pm[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54 };
	/* reallocarray: mov %rsi,%rax; mul %rdx (writes rdx): nothing safe -> 0, stepped. */
	static const uint8_t ra[] = { 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6 };
	/*
	 * jemalloc 5.3 free: mov %rdi,%rax; mov x(%rip),%rdx; mov %rdi,%rcx; shr;
	 * and; and; add %fs:0,%rax; add %rdx,%rax; cmp; jne at 0x30. Only rdi
	 * matters to free: rdx and rcx may change before the probe.
	 */
	static const uint8_t je_free[] = {
		0x48, 0x89, 0xf8, 0x48, 0x8b, 0x15, 0x0e, 0x53, 0x0a, 0x00, 0x48, 0x89, 0xf9,
		0x48, 0xc1, 0xe8, 0x1a, 0x48, 0x81, 0xe1, 0x00, 0x00, 0x00, 0xc0, 0x25, 0xf0,
		0x00, 0x00, 0x00, 0x64, 0x48, 0x03, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00, 0x48,
		0x01, 0xd0, 0x48, 0x3b, 0x88, 0xb0, 0x01, 0x00, 0x00, 0x0f, 0x85, 0x8a, 0x00,
		0x00, 0x00,
	};
	bool emu;

	(void)state;
	assert_int_equal(heap_probe__place(free_, sizeof(free_), 1, &emu), 3);
	assert_true(emu);
	assert_int_equal(heap_probe__place(malloc_, sizeof(malloc_), 1, &emu), 0);
	assert_true(emu);
	assert_int_equal(heap_probe__place(pm, sizeof(pm), 3, &emu), 7);
	assert_true(emu);
	assert_int_equal(heap_probe__place(ra, sizeof(ra), 3, &emu), 0);
	assert_false(emu);
	assert_int_equal(heap_probe__place(je_free, sizeof(je_free), 1, &emu), 0x30);
	assert_true(emu);
	/* With three arguments the write of rdx (the third) stops it at the entry. */
	assert_int_equal(heap_probe__place(je_free, sizeof(je_free), 3, &emu), 0);
	assert_false(emu);
}

/* A stack truncated for a reason is not the same stack as a complete one. */
static void test_stack_reason(void **state)
{
	struct stack_tab t = { .max = 16 };
	const uint64_t f[] = { 0x401000, 0x402000 };
	uint32_t a, b;

	(void)state;
	a = stack_tab__intern(&t, f, 2, 0);
	b = stack_tab__intern(&t, f, 2, 2);
	assert_true(a && b && a != b);
	assert_int_equal(stack_tab__intern(&t, f, 2, 0), a);
	assert_int_equal(stack_tab__get(&t, b)->reason, 2);
	stack_tab__free(&t);
}

/* Kernel stack hashes -> ids: found after growth, bounded by max, 0 never a key. */
static void test_khash(void **state)
{
	struct khash_tab t = { .max = 1000 };

	(void)state;
	for (uint64_t h = 1; h <= 1000; h++)
		assert_int_equal(khash_tab__put(&t, h * 0x9e3779b97f4a7c15ULL, (uint32_t)h), 0);
	assert_int_equal(khash_tab__put(&t, 7, 1), -ENOSPC);
	assert_int_equal(khash_tab__put(&t, 0, 1), -EINVAL);
	assert_int_equal(khash_tab__put(&t, 5 * 0x9e3779b97f4a7c15ULL, 9), 0); /* update at max */
	for (uint64_t h = 1; h <= 1000; h++)
		assert_int_equal(khash_tab__get(&t, h * 0x9e3779b97f4a7c15ULL), h == 5 ? 9 : h);
	assert_int_equal(khash_tab__get(&t, 7), 0);
	assert_int_equal(khash_tab__get(&t, 0), 0);
	khash_tab__free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_exp_table_mean),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_stack_reason),
		cmocka_unit_test(test_khash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
