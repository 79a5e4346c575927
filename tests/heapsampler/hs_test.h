/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the heap sampler's test programs, run with
 * LD_PRELOAD=build/libbpfprof-heap.so and no agent: the library's counters
 * in its exported state stand in for the hooks (each hook call is counted
 * next to it), read through dlsym so the programs link without the library.
 * Between two snapshots a test must not use stdio (it allocates).
 */
#ifndef HS_TEST_H
#define HS_TEST_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "heapsampler/heapsampler.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long a_ = (a), b_ = (b);                                             \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__,      \
				__LINE__, #a, a_, #b, b_);                                         \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

struct hs_snap {
	unsigned long long sampled, bytes, freed, live, drops, unattached;
};

static inline struct bpfprof_heap_state *hs_state(void)
{
	static struct bpfprof_heap_state *st;

	if (st)
		return st;
	st = (struct bpfprof_heap_state *)dlsym(RTLD_DEFAULT, BPFPROF_HEAP_STATE_SYM);
	if (!st || st->magic != BPFPROF_HEAP_MAGIC) {
		fprintf(stderr, "no initialized %s: run with LD_PRELOAD=build/libbpfprof-heap.so\n",
			BPFPROF_HEAP_STATE_SYM);
		exit(2);
	}
	return st;
}

static inline struct hs_snap hs_snap(void)
{
	struct bpfprof_heap_state *st = hs_state();
	struct hs_snap s;

	s.sampled = __atomic_load_n(&st->sampled, __ATOMIC_SEQ_CST);
	s.bytes = __atomic_load_n(&st->sampled_bytes, __ATOMIC_SEQ_CST);
	s.freed = __atomic_load_n(&st->freed, __ATOMIC_SEQ_CST);
	s.live = __atomic_load_n(&st->live, __ATOMIC_SEQ_CST);
	s.drops = __atomic_load_n(&st->set_drops, __ATOMIC_SEQ_CST);
	s.unattached = __atomic_load_n(&st->unattached, __ATOMIC_SEQ_CST);
	return s;
}

#endif
