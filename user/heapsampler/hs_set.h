/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The set of sampled block addresses: what free() asks on every call, so a
 * miss must be cheap, O(1), lock-free and need no trap.
 *
 * Buckets of 8 slots, one 64-byte cache line each; an address lives only in
 * the bucket its hash names, so a lookup reads one line and a delete just
 * swaps the slot back to 0 (no tombstones, no probe chains). A bucket that
 * is full refuses the insert: the caller counts the drop and does not sample.
 * In front, a counting filter (16-bit counter per 1/8 of a bucket) that is
 * nonzero while an entry may be there: a free of an unsampled block usually
 * reads one counter and stops.
 *
 * Returns: insert true when stored; take true when the address was there
 * (and is now removed). Thread use: any thread, async-signal-safe (atomics
 * only). Memory: zero-initialized static storage is an empty set.
 */
#ifndef BPFPROF_HS_SET_H
#define BPFPROF_HS_SET_H

#include <stdbool.h>
#include <stdint.h>

#define HS_SET_BUCKET_BITS 12
#define HS_SET_BUCKETS	   (1u << HS_SET_BUCKET_BITS)
#define HS_SET_WAYS	   8
#define HS_SET_FILTER_BITS (HS_SET_BUCKET_BITS + 3)
#define HS_SET_CAPACITY	   (HS_SET_BUCKETS * HS_SET_WAYS)

struct hs_set {
	_Alignas(64) uintptr_t slot[HS_SET_BUCKETS][HS_SET_WAYS];
	uint16_t filter[1u << HS_SET_FILTER_BITS];
	uint64_t count;
};

static inline uint64_t hs_set__hash(uintptr_t addr)
{
	/* Blocks are 16-byte aligned: the low bits carry nothing. */
	return (uint64_t)(addr >> 4) * 0x9e3779b97f4a7c15ull;
}

static inline uint32_t hs_set__bucket(uintptr_t addr)
{
	return (uint32_t)(hs_set__hash(addr) >> (64 - HS_SET_BUCKET_BITS));
}

/* The filter index refines the bucket: a counter never spans two buckets. */
static inline uint32_t hs_set__filter_idx(uintptr_t addr)
{
	return (uint32_t)(hs_set__hash(addr) >> (64 - HS_SET_FILTER_BITS));
}

/* False: certainly not in the set. */
static inline bool hs_set__maybe(const struct hs_set *s, uintptr_t addr)
{
	return __atomic_load_n(&s->filter[hs_set__filter_idx(addr)], __ATOMIC_RELAXED) != 0;
}

bool hs_set__insert(struct hs_set *s, uintptr_t addr);
bool hs_set__take(struct hs_set *s, uintptr_t addr);
/* Only while no other thread can use the set (a forked child). */
void hs_set__clear(struct hs_set *s);

#endif
