/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to user/heap/: the tracker's bounded hash tables (open addressing). */
#ifndef BPFPROF_HEAP_TAB_H
#define BPFPROF_HEAP_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A sampled allocation still live, by address (0: empty slot). */
struct live_ent {
	uint64_t addr;
	uint64_t size;
	int64_t ts; /* CLOCK_BOOTTIME ns of the allocation */
	uint32_t stack;
	uint32_t pad;
};

struct live_tab {
	struct live_ent *e;
	size_t cap, n, max; /* cap: power of two; n <= max */
};

/* Sample counts per (stack, size). */
struct agg_ent {
	uint64_t size;
	uint64_t n_alloc;
	uint64_t n_inuse;
	uint32_t stack; /* 0: empty slot */
	uint32_t pad;
};

struct agg_tab {
	struct agg_ent *e;
	size_t cap, n, max;
};

/* Interned stacks: ids start at 1. */
struct stack_ent {
	uint64_t hash;
	uint64_t *frames;
	uint32_t n;
	uint32_t reason; /* why the walk stopped early: enum unwind_reason, 0 none */
};

struct stack_tab {
	struct stack_ent *e; /* e[id - 1] */
	size_t n, cap_e, max;
	uint32_t *idx; /* hash index: id or 0 */
	size_t cap_idx;
};

/*
 * Stack ids by the BPF unwinder's hash (the ustacks key, never 0). The hash
 * is of the frames, so an entry stays true after the kernel's copy is gone.
 */
struct khash_tab {
	uint64_t *keys; /* 0: empty slot */
	uint32_t *ids;
	size_t cap, n, max;
};

/* Inserts or replaces; -ENOSPC at max, -ENOMEM. *old gets a replaced entry (addr 0 if none). */
int live_tab__put(struct live_tab *t, const struct live_ent *v, struct live_ent *old);
/* Removes addr: true with *out filled when it was there. */
bool live_tab__take(struct live_tab *t, uint64_t addr, struct live_ent *out);
void live_tab__free(struct live_tab *t);

/* The entry for (stack, size), created if absent; NULL at max or on ENOMEM. */
struct agg_ent *agg_tab__get(struct agg_tab *t, uint32_t stack, uint64_t size, bool create);
void agg_tab__free(struct agg_tab *t);

/* The id of these frames and reason, interned if new; 0 at max or on ENOMEM. */
uint32_t stack_tab__intern(struct stack_tab *t, const uint64_t *frames, uint32_t n,
			   uint32_t reason);
const struct stack_ent *stack_tab__get(const struct stack_tab *t, uint32_t id);
void stack_tab__free(struct stack_tab *t);

/* The stack id cached for hash, or 0. */
uint32_t khash_tab__get(const struct khash_tab *t, uint64_t hash);
/* Caches hash -> id: 0, -ENOSPC at max, -ENOMEM. */
int khash_tab__put(struct khash_tab *t, uint64_t hash, uint32_t id);
void khash_tab__free(struct khash_tab *t);

#endif
