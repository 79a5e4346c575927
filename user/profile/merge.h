/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Merging profiles (windows into ranges, a range minus a baseline) and
 * filtering samples by label. Not thread-safe: callers lock both profiles.
 */
#ifndef BPFPROF_PROFILE_MERGE_H
#define BPFPROF_PROFILE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

/* Which samples a merge keeps: all when both lists are empty. */
struct profile_filter {
	const uint32_t *pids; /* keep samples whose "pid" label is one of these */
	size_t n_pids;
	const char *comm; /* keep samples whose "comm" (or "exe") label equals this */
};

bool profile_filter__match(const struct profile_filter *f, const struct profile *p, size_t sample);

/*
 * Adds every sample of src that passes f (NULL: all) to dst, re-interning
 * mappings, functions and locations. dst and src must have the same sample
 * types (same count and names): -EINVAL otherwise. 0 or negative errno.
 */
int profile__merge(struct profile *dst, const struct profile *src, const struct profile_filter *f);

/*
 * The same with every value of src negated: merging a range and then its
 * baseline this way gives their diff. Sums saturate and -INT64_MIN is
 * INT64_MAX, so a crafted baseline cannot overflow. 0 or negative errno.
 */
int profile__merge_negated(struct profile *dst, const struct profile *src,
			   const struct profile_filter *f);

/* A new empty profile with src's sample types, default type and period. */
struct profile *profile__new_like(const struct profile *src);

/* Rough bytes held by p, for memory caps. */
size_t profile__bytes(const struct profile *p);

#endif
