// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Open-addressing tables of the heap tracker; every one bounded by its max. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heap/heap_tab.h"

#define MIN_CAP 64

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t live_slot(const struct live_tab *t, uint64_t addr)
{
	size_t i = mix64(addr) & (t->cap - 1);

	while (t->e[i].addr && t->e[i].addr != addr)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int live_grow(struct live_tab *t)
{
	size_t cap = t->cap ? t->cap * 2 : MIN_CAP;
	struct live_tab nt = {.cap = cap, .max = t->max};

	nt.e = calloc(cap, sizeof(*nt.e));
	if (!nt.e)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].addr)
			nt.e[live_slot(&nt, t->e[i].addr)] = t->e[i];
	nt.n = t->n;
	free(t->e);
	*t = nt;
	return 0;
}

int live_tab__put(struct live_tab *t, const struct live_ent *v, struct live_ent *old)
{
	size_t i;

	old->addr = 0;
	if ((t->n + 1) * 2 > t->cap && live_grow(t))
		return -ENOMEM;
	i = live_slot(t, v->addr);
	if (t->e[i].addr) {
		*old = t->e[i];
		t->e[i] = *v;
		return 0;
	}
	if (t->n >= t->max)
		return -ENOSPC;
	t->e[i] = *v;
	t->n++;
	return 0;
}

/* Backward-shift deletion keeps probe chains whole without tombstones. */
bool live_tab__take(struct live_tab *t, uint64_t addr, struct live_ent *out)
{
	size_t i, j, k;

	if (!t->cap || !addr)
		return false;
	i = live_slot(t, addr);
	if (!t->e[i].addr)
		return false;
	*out = t->e[i];
	j = i;
	for (;;) {
		t->e[i].addr = 0;
		do {
			j = (j + 1) & (t->cap - 1);
			if (!t->e[j].addr) {
				t->n--;
				return true;
			}
			k = mix64(t->e[j].addr) & (t->cap - 1);
		} while (i <= j ? (i < k && k <= j) : (i < k || k <= j));
		t->e[i] = t->e[j];
		i = j;
	}
}

void live_tab__free(struct live_tab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static size_t agg_slot(const struct agg_tab *t, uint32_t stack, uint64_t size)
{
	size_t i = mix64(size * 31 + stack) & (t->cap - 1);

	while (t->e[i].stack && (t->e[i].stack != stack || t->e[i].size != size))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int agg_grow(struct agg_tab *t)
{
	size_t cap = t->cap ? t->cap * 2 : MIN_CAP;
	struct agg_tab nt = {.cap = cap, .max = t->max, .n = t->n};

	nt.e = calloc(cap, sizeof(*nt.e));
	if (!nt.e)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].stack)
			nt.e[agg_slot(&nt, t->e[i].stack, t->e[i].size)] = t->e[i];
	free(t->e);
	*t = nt;
	return 0;
}

struct agg_ent *agg_tab__get(struct agg_tab *t, uint32_t stack, uint64_t size, bool create)
{
	size_t i;

	if (!t->cap && (!create || agg_grow(t)))
		return NULL;
	i = agg_slot(t, stack, size);
	if (t->e[i].stack)
		return &t->e[i];
	if (!create || t->n >= t->max)
		return NULL;
	if ((t->n + 1) * 2 > t->cap) {
		if (agg_grow(t))
			return NULL;
		i = agg_slot(t, stack, size);
	}
	t->e[i].stack = stack;
	t->e[i].size = size;
	t->n++;
	return &t->e[i];
}

void agg_tab__free(struct agg_tab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static uint64_t frames_hash(const uint64_t *f, uint32_t n, uint32_t reason)
{
	uint64_t h = mix64(n + 1 + ((uint64_t)reason << 32));

	for (uint32_t i = 0; i < n; i++)
		h = mix64(h ^ f[i]);
	return h ?: 1;
}

static size_t stack_slot(const struct stack_tab *t, uint64_t h, const uint64_t *f, uint32_t n,
			 uint32_t reason)
{
	size_t i = h & (t->cap_idx - 1);

	for (; t->idx[i]; i = (i + 1) & (t->cap_idx - 1)) {
		const struct stack_ent *s = &t->e[t->idx[i] - 1];

		if (s->hash == h && s->n == n && s->reason == reason &&
		    !memcmp(s->frames, f, n * sizeof(*f)))
			break;
	}
	return i;
}

static int stack_grow(struct stack_tab *t)
{
	size_t cap = t->cap_idx ? t->cap_idx * 2 : MIN_CAP;
	uint32_t *idx = calloc(cap, sizeof(*idx));
	struct stack_ent *e = realloc(t->e, cap / 2 * sizeof(*e));

	if (!idx || !e) {
		free(idx);
		if (e)
			t->e = e;
		return -ENOMEM;
	}
	t->e = e;
	t->cap_e = cap / 2;
	free(t->idx);
	t->idx = idx;
	t->cap_idx = cap;
	for (size_t id = 1; id <= t->n; id++) {
		size_t i = t->e[id - 1].hash & (cap - 1);

		while (idx[i])
			i = (i + 1) & (cap - 1);
		idx[i] = id;
	}
	return 0;
}

uint32_t stack_tab__intern(struct stack_tab *t, const uint64_t *frames, uint32_t n, uint32_t reason)
{
	uint64_t h = frames_hash(frames, n, reason);
	struct stack_ent *s;
	size_t i;

	if (!t->cap_idx && stack_grow(t))
		return 0;
	i = stack_slot(t, h, frames, n, reason);
	if (t->idx[i])
		return t->idx[i];
	if (t->n >= t->max)
		return 0;
	if (t->n + 1 > t->cap_e) {
		if (stack_grow(t))
			return 0;
		i = stack_slot(t, h, frames, n, reason);
	}
	s = &t->e[t->n];
	s->frames = malloc((n ?: 1) * sizeof(*frames));
	if (!s->frames)
		return 0;
	memcpy(s->frames, frames, n * sizeof(*frames));
	s->n = n;
	s->reason = reason;
	s->hash = h;
	t->idx[i] = ++t->n;
	return t->n;
}

const struct stack_ent *stack_tab__get(const struct stack_tab *t, uint32_t id)
{
	return id && id <= t->n ? &t->e[id - 1] : NULL;
}

void stack_tab__free(struct stack_tab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].frames);
	free(t->e);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

static size_t khash_slot(const struct khash_tab *t, uint64_t hash)
{
	size_t i = mix64(hash) & (t->cap - 1);

	while (t->keys[i] && t->keys[i] != hash)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int khash_grow(struct khash_tab *t)
{
	struct khash_tab nt = {.cap = t->cap ? t->cap * 2 : MIN_CAP, .n = t->n, .max = t->max};

	nt.keys = calloc(nt.cap, sizeof(*nt.keys));
	nt.ids = calloc(nt.cap, sizeof(*nt.ids));
	if (!nt.keys || !nt.ids) {
		khash_tab__free(&nt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (t->keys[i]) {
			size_t j = khash_slot(&nt, t->keys[i]);

			nt.keys[j] = t->keys[i];
			nt.ids[j] = t->ids[i];
		}
	}
	khash_tab__free(t);
	*t = nt;
	return 0;
}

uint32_t khash_tab__get(const struct khash_tab *t, uint64_t hash)
{
	size_t i;

	if (!t->cap || !hash)
		return 0;
	i = khash_slot(t, hash);
	return t->keys[i] ? t->ids[i] : 0;
}

int khash_tab__put(struct khash_tab *t, uint64_t hash, uint32_t id)
{
	size_t i;

	if (!hash)
		return -EINVAL;
	if ((t->n + 1) * 2 > t->cap && khash_grow(t))
		return -ENOMEM;
	i = khash_slot(t, hash);
	if (!t->keys[i] && t->n >= t->max)
		return -ENOSPC;
	t->n += !t->keys[i];
	t->keys[i] = hash;
	t->ids[i] = id;
	return 0;
}

void khash_tab__free(struct khash_tab *t)
{
	free(t->keys);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}
