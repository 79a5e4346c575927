// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A test allocator loaded after the heap sampler (LD_PRELOAD="sampler:this"),
 * so the sampler's "real" allocator is async-signal-safe and a signal
 * handler that allocates can only deadlock in the sampler's own code: a
 * lock-free bump pointer in one reserved mapping, frees ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA (1ull << 32)

static char *base;
static size_t used;

static char *arena(void)
{
	char *b = __atomic_load_n(&base, __ATOMIC_ACQUIRE), *m, *expect = NULL;

	if (b)
		return b;
	m = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(&base, &expect, m, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(m, ARENA);
		return expect;
	}
	return m;
}

static void *bump(size_t n, size_t align)
{
	char *b = arena();
	size_t off, start;

	if (align < 16)
		align = 16;
	if (!b || n > ARENA)
		goto nomem;
	off = __atomic_load_n(&used, __ATOMIC_RELAXED);
	do {
		start = (off + 16 + align - 1) & ~(align - 1);
		if (start + n > ARENA)
			goto nomem;
	} while (!__atomic_compare_exchange_n(&used, &off, start + n, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	((size_t *)(b + start))[-1] = n;
	return b + start;
nomem:
	errno = ENOMEM;
	return NULL;
}

void *malloc(size_t n)
{
	return bump(n, 16);
}

void free(void *p)
{
	(void)p;
}

void *calloc(size_t k, size_t m)
{
	size_t n;

	if (__builtin_mul_overflow(k, m, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return bump(n, 16); /* fresh anonymous memory is zero */
}

void *realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (!p)
		return bump(n, 16);
	if (!n)
		return NULL;
	old = ((size_t *)p)[-1];
	q = bump(n, 16);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

int posix_memalign(void **pp, size_t align, size_t n)
{
	*pp = bump(n, align);
	return *pp ? 0 : ENOMEM;
}

void *aligned_alloc(size_t align, size_t n)
{
	return bump(n, align);
}

void *memalign(size_t align, size_t n)
{
	return bump(n, align);
}

size_t malloc_usable_size(void *p)
{
	return p ? ((size_t *)p)[-1] : 0;
}
