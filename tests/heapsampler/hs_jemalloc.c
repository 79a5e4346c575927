// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A program linked with jemalloc, through the heap sampler at R=1 (run with
 * LD_PRELOAD=build/libbpfprof-heap.so BPFPROF_HEAP_RATE=1): malloc/free reach
 * jemalloc (its per-thread byte counter moves), and mallocx, rallocx, dallocx
 * and sdallocx are sampled and their frees seen.
 */
#include <stdint.h>
#include <string.h>

#include "hs_test.h"

/* jemalloc's API (no jemalloc headers in Debian's runtime package). */
void *mallocx(size_t size, int flags);
void *rallocx(void *ptr, size_t size, int flags);
void dallocx(void *ptr, int flags);
void sdallocx(void *ptr, size_t size, int flags);
size_t sallocx(const void *ptr, int flags);
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

#define MALLOCX_LG_ALIGN(la) ((int)(la))
#define MALLOCX_ZERO	     ((int)0x40)

static uint64_t thread_allocated(void)
{
	uint64_t v = 0;
	size_t len = sizeof(v);

	CHECK(mallctl("thread.allocated", &v, &len, NULL, 0) == 0);
	return v;
}

int main(void)
{
	struct hs_snap a, b;
	uint64_t before, after;
	char *p, *q, *r;

	before = thread_allocated();
	a = hs_snap();
	p = malloc(1000);
	q = mallocx(2000, MALLOCX_ZERO);
	r = mallocx(512, MALLOCX_LG_ALIGN(6));
	memset(p, 'p', 1000);
	p = rallocx(p, 30000, 0); /* free + alloc */
	b = hs_snap();
	after = thread_allocated();
	CHECK(p && q && r);
	CHECK(p[0] == 'p' && p[999] == 'p' && q[1999] == 0);
	CHECK((uintptr_t)r % 64 == 0);
	CHECK(after - before >= 1000 + 2000 + 512 + 30000); /* jemalloc served them */
	CHECK(sallocx(p, 0) >= 30000);
	CHECK_EQ(b.sampled - a.sampled, 4);
	CHECK_EQ(b.bytes - a.bytes, 1000 + 2000 + 512 + 30000);
	CHECK_EQ(b.freed - a.freed, 1);

	a = hs_snap();
	dallocx(p, 0);
	sdallocx(q, 2000, 0);
	free(r);
	b = hs_snap();
	CHECK_EQ(b.freed - a.freed, 3);
	CHECK_EQ(b.live, a.live - 3);
	puts("jemalloc: ok");
	return 0;
}
