// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer/symcache.h"

#define SYMCACHE_MIN_BUCKETS 64

struct symcache_entry {
	struct symcache_entry *bid_next, *file_next; /* hash chains */
	struct symcache_entry *prev, *next;	     /* LRU list, most recent first */
	void *val;
	size_t bytes;
	uint64_t hbid, hfile;
	uint64_t dev, ino;
	uint8_t bid[SYMCACHE_BID_MAX];
	uint8_t bid_len;
	char path[];
};

struct symcache {
	struct symcache_entry **by_bid, **by_file;
	size_t nr_buckets; /* power of two */
	struct symcache_entry *head, *tail;
	size_t budget;
	void (*free_fn)(void *val);
	struct symcache_stats st;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash__bid(const uint8_t *bid, size_t len)
{
	return fnv1a(0xcbf29ce484222325ULL, bid, len);
}

static uint64_t hash__file(uint64_t dev, uint64_t ino, const char *path)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, &dev, sizeof(dev));

	h = fnv1a(h, &ino, sizeof(ino));
	return fnv1a(h, path, strlen(path));
}

struct symcache *symcache__new(size_t budget, void (*free_fn)(void *val))
{
	struct symcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nr_buckets = SYMCACHE_MIN_BUCKETS;
	c->by_bid = calloc(c->nr_buckets, sizeof(*c->by_bid));
	c->by_file = calloc(c->nr_buckets, sizeof(*c->by_file));
	if (!c->by_bid || !c->by_file) {
		symcache__free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->budget = budget;
	c->free_fn = free_fn;
	return c;
}

static void lru__unlink(struct symcache *c, struct symcache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru__push_front(struct symcache *c, struct symcache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void lru__touch(struct symcache *c, struct symcache_entry *e)
{
	if (c->head == e)
		return;
	lru__unlink(c, e);
	lru__push_front(c, e);
}

static void chains__link(struct symcache *c, struct symcache_entry *e)
{
	size_t mask = c->nr_buckets - 1;

	if (e->bid_len) {
		e->bid_next = c->by_bid[e->hbid & mask];
		c->by_bid[e->hbid & mask] = e;
	}
	e->file_next = c->by_file[e->hfile & mask];
	c->by_file[e->hfile & mask] = e;
}

static void chains__unlink(struct symcache *c, struct symcache_entry *e)
{
	size_t mask = c->nr_buckets - 1;
	struct symcache_entry **pp;

	for (pp = &c->by_bid[e->hbid & mask]; e->bid_len && *pp; pp = &(*pp)->bid_next) {
		if (*pp == e) {
			*pp = e->bid_next;
			break;
		}
	}
	for (pp = &c->by_file[e->hfile & mask]; *pp; pp = &(*pp)->file_next) {
		if (*pp == e) {
			*pp = e->file_next;
			break;
		}
	}
}

static void entry__drop(struct symcache *c, struct symcache_entry *e)
{
	chains__unlink(c, e);
	lru__unlink(c, e);
	c->st.entries--;
	c->st.bytes -= e->bytes;
	if (c->free_fn)
		c->free_fn(e->val);
	free(e);
}

void symcache__free(struct symcache *c)
{
	if (!c)
		return;
	while (c->head)
		entry__drop(c, c->head);
	free(c->by_bid);
	free(c->by_file);
	free(c);
}

static struct symcache_entry *find__bid(const struct symcache *c, const uint8_t *bid, size_t len)
{
	uint64_t h = hash__bid(bid, len);
	struct symcache_entry *e;

	for (e = c->by_bid[h & (c->nr_buckets - 1)]; e; e = e->bid_next) {
		if (e->hbid == h && e->bid_len == len && !memcmp(e->bid, bid, len))
			return e;
	}
	return NULL;
}

static struct symcache_entry *find__file(const struct symcache *c, uint64_t dev, uint64_t ino,
					 const char *path)
{
	uint64_t h = hash__file(dev, ino, path);
	struct symcache_entry *e;

	for (e = c->by_file[h & (c->nr_buckets - 1)]; e; e = e->file_next) {
		if (e->hfile == h && e->dev == dev && e->ino == ino && !strcmp(e->path, path))
			return e;
	}
	return NULL;
}

static struct symcache_entry *find__key(const struct symcache *c, const struct symcache_key *k)
{
	if (k->bid_len)
		return k->bid_len <= SYMCACHE_BID_MAX ? find__bid(c, k->bid, k->bid_len) : NULL;
	return find__file(c, k->dev, k->ino, k->path ? k->path : "");
}

void *symcache__lookup(struct symcache *c, const struct symcache_key *k)
{
	struct symcache_entry *e = c ? find__key(c, k) : NULL;

	if (!c)
		return NULL;
	if (!e) {
		c->st.misses++;
		return NULL;
	}
	c->st.hits++;
	lru__touch(c, e);
	return e->val;
}

void *symcache__find_file(struct symcache *c, uint64_t dev, uint64_t ino, const char *path)
{
	struct symcache_entry *e = c ? find__file(c, dev, ino, path ? path : "") : NULL;

	if (!e)
		return NULL;
	c->st.hits++;
	lru__touch(c, e);
	return e->val;
}

/* Keeps chains short: doubles the buckets once entries outnumber them. */
static int symcache__grow(struct symcache *c)
{
	size_t n = c->nr_buckets * 2;
	struct symcache_entry **bb, **bf, *e;

	bb = calloc(n, sizeof(*bb));
	bf = calloc(n, sizeof(*bf));
	if (!bb || !bf) {
		free(bb);
		free(bf);
		return -ENOMEM;
	}
	free(c->by_bid);
	free(c->by_file);
	c->by_bid = bb;
	c->by_file = bf;
	c->nr_buckets = n;
	for (e = c->head; e; e = e->next)
		chains__link(c, e);
	return 0;
}

static void symcache__evict(struct symcache *c, const struct symcache_entry *keep)
{
	while (c->st.bytes > c->budget && c->tail && c->tail != keep) {
		entry__drop(c, c->tail);
		c->st.evictions++;
	}
}

static struct symcache_entry *entry__new(const struct symcache_key *k, void *val, size_t bytes)
{
	const char *path = k->path ? k->path : "";
	size_t plen = strlen(path) + 1;
	struct symcache_entry *e = calloc(1, sizeof(*e) + plen);

	if (!e)
		return NULL;
	e->val = val;
	e->bytes = bytes + sizeof(*e) + plen;
	e->dev = k->dev;
	e->ino = k->ino;
	memcpy(e->path, path, plen);
	e->hfile = hash__file(k->dev, k->ino, path);
	if (k->bid_len && k->bid_len <= SYMCACHE_BID_MAX) {
		e->bid_len = k->bid_len;
		memcpy(e->bid, k->bid, k->bid_len);
		e->hbid = hash__bid(k->bid, k->bid_len);
	}
	return e;
}

int symcache__insert(struct symcache *c, const struct symcache_key *k, void *val, size_t bytes)
{
	struct symcache_entry *e, *old;

	e = c ? entry__new(k, val, bytes) : NULL;
	if (!e) {
		if (c && c->free_fn)
			c->free_fn(val);
		return -ENOMEM;
	}
	old = find__key(c, k);
	if (old)
		entry__drop(c, old);
	/* Growth failing only lengthens chains. */
	if (c->st.entries >= c->nr_buckets)
		symcache__grow(c);
	chains__link(c, e);
	lru__push_front(c, e);
	c->st.entries++;
	c->st.bytes += e->bytes;
	symcache__evict(c, e);
	return 0;
}

void symcache__stats(const struct symcache *c, struct symcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c)
		*out = c->st;
}
