/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-binary cache shared by every process mapping a binary. Entries are
 * found by build-id, or by file identity (dev, inode, path) for binaries
 * without one and as a shortcut that avoids opening a file already seen.
 * Least recently used entries are evicted beyond a byte budget.
 */
#ifndef BPFPROF_SYMBOLIZER_SYMCACHE_H
#define BPFPROF_SYMBOLIZER_SYMCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SYMCACHE_BID_MAX 32

struct symcache;

struct symcache_key {
	const uint8_t *bid; /* build-id; bid_len 0: use the file identity */
	size_t bid_len;
	uint64_t dev, ino;
	const char *path;
};

struct symcache_stats {
	uint64_t hits, misses, evictions;
	uint64_t entries, bytes;
};

/* free_fn releases values when they are evicted or the cache is freed. NULL + errno. */
struct symcache *symcache__new(size_t budget, void (*free_fn)(void *val));
void symcache__free(struct symcache *c);

/* By build-id when k->bid_len, else by file identity; counts a hit or a miss. */
void *symcache__lookup(struct symcache *c, const struct symcache_key *k);
/* By file identity only; counts a hit but no miss (a build-id lookup follows). */
void *symcache__find_file(struct symcache *c, uint64_t dev, uint64_t ino, const char *path);
/*
 * Adds val under k (build-id and file identity both indexed), replacing an
 * entry with the same key, then evicts least recently used entries beyond
 * the budget; val itself is kept even when it alone exceeds it. Takes
 * ownership of val, also on error (freed). 0 or -ENOMEM.
 */
int symcache__insert(struct symcache *c, const struct symcache_key *k, void *val, size_t bytes);
void symcache__stats(const struct symcache *c, struct symcache_stats *out);

#endif
