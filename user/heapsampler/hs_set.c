// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The sampled-address set (hs_set.h): CAS on slots, a counting filter in front. */
#include "heapsampler/hs_set.h"

bool hs_set__insert(struct hs_set *s, uintptr_t addr)
{
	uint16_t *f = &s->filter[hs_set__filter_idx(addr)];
	uintptr_t *b = s->slot[hs_set__bucket(addr)];

	if (!addr)
		return false;
	/* Counter first: a reader that finds the slot must never see a zero counter. */
	__atomic_fetch_add(f, 1, __ATOMIC_ACQ_REL);
	for (int i = 0; i < HS_SET_WAYS; i++) {
		uintptr_t empty = 0;

		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED))
			continue;
		if (__atomic_compare_exchange_n(&b[i], &empty, addr, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
			return true;
		}
	}
	__atomic_fetch_sub(f, 1, __ATOMIC_ACQ_REL);
	return false;
}

bool hs_set__take(struct hs_set *s, uintptr_t addr)
{
	uintptr_t *b;

	if (!addr || !hs_set__maybe(s, addr))
		return false;
	b = s->slot[hs_set__bucket(addr)];
	for (int i = 0; i < HS_SET_WAYS; i++) {
		uintptr_t want = addr;

		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED) != addr)
			continue;
		if (__atomic_compare_exchange_n(&b[i], &want, 0, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			__atomic_fetch_sub(&s->filter[hs_set__filter_idx(addr)], 1,
					   __ATOMIC_ACQ_REL);
			__atomic_fetch_sub(&s->count, 1, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

/* Writes only what is set: a forked child must not copy every page of the table. */
void hs_set__clear(struct hs_set *s)
{
	for (uint32_t b = 0; b < HS_SET_BUCKETS; b++)
		for (int i = 0; i < HS_SET_WAYS; i++)
			if (s->slot[b][i])
				s->slot[b][i] = 0;
	for (uint32_t i = 0; i < (1u << HS_SET_FILTER_BITS); i++)
		if (s->filter[i])
			s->filter[i] = 0;
	s->count = 0;
}
