// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-stack series of outstanding sampled bytes and their severity (see leaks.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/leaks.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

static const char *const names[] = {"none", "low", "medium", "high", "critical"};

const char *leak_severity__name(enum leak_severity s)
{
	return (unsigned int)s <= LEAK_CRITICAL ? names[s] : "none";
}

int leak_severity__parse(const char *s, enum leak_severity *out)
{
	for (unsigned int i = 0; i <= LEAK_CRITICAL; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

enum leak_severity leaks__severity(const struct trend_fit *f)
{
	double g = f->slope * 3600;

	if (f->n < LEAKS_MIN_POINTS || g <= 0 || f->r2 < 0.5)
		return LEAK_NONE;
	if (g >= GIB && f->r2 >= 0.8)
		return LEAK_CRITICAL;
	if (g >= 64 * MIB && f->r2 >= 0.8)
		return LEAK_HIGH;
	if (g >= MIB)
		return LEAK_MEDIUM;
	return LEAK_LOW;
}

void leaks__init(struct leaks *l)
{
	memset(l, 0, sizeof(*l));
}

void leaks__fini(struct leaks *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		trend__fini(&l->stacks[i].series);
	free(l->stacks);
	memset(l, 0, sizeof(*l));
}

static struct leak_stack *find(struct leaks *l, uint32_t key)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->stacks[i].stack_key == key)
			return &l->stacks[i];
	return NULL;
}

static void remove_at(struct leaks *l, size_t i)
{
	trend__fini(&l->stacks[i].series);
	l->stacks[i] = l->stacks[--l->n];
}

/* Room for one more: evict the longest-absent stack when full; false if none is absent. */
static bool make_room(struct leaks *l)
{
	size_t i, victim = l->n;

	if (l->n < LEAKS_MAX_STACKS)
		return true;
	for (i = 0; i < l->n; i++)
		if (l->stacks[i].missed &&
		    (victim == l->n || l->stacks[i].missed > l->stacks[victim].missed))
			victim = i;
	if (victim == l->n)
		return false;
	remove_at(l, victim);
	l->evicted++;
	return true;
}

static int add_stack(struct leaks *l, const struct heap_live_stack *h, int64_t now_ns,
		     struct leak_stack **out)
{
	struct leak_stack *s;

	*out = NULL;
	if (!make_room(l)) {
		l->dropped++;
		return 0;
	}
	if (!l->stacks) {
		l->stacks = calloc(LEAKS_MAX_STACKS, sizeof(*l->stacks));
		if (!l->stacks)
			return -ENOMEM;
	}
	s = &l->stacks[l->n];
	memset(s, 0, sizeof(*s));
	if (trend__init(&s->series, LEAKS_SERIES_POINTS))
		return -ENOMEM;
	s->stack_key = h->stack_key;
	/* The tracker's name may lack its NUL when it fills the field. */
	memcpy(s->function, h->leaf_function,
	       strnlen(h->leaf_function, sizeof(h->leaf_function) < sizeof(s->function)
					     ? sizeof(h->leaf_function)
					     : sizeof(s->function) - 1));
	s->first_seen_ns = now_ns;
	l->n++;
	*out = s;
	return 0;
}

static void record(struct leak_stack *s, const struct heap_live_stack *h, int64_t now_ns)
{
	trend__add(&s->series, now_ns, (double)h->bytes_est);
	s->bytes = h->bytes_est;
	s->objects = h->objects_est;
	s->oldest_ns = h->oldest_ns;
	s->last_seen_ns = now_ns;
	s->missed = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Stacks not in this observation have nothing old outstanding: they get a
 * zero point, and are forgotten after LEAKS_FORGET_AFTER misses. keys: the
 * observation's stack keys, sorted.
 */
static void age_absent(struct leaks *l, int64_t now_ns, const uint32_t *keys, size_t n)
{
	size_t i = 0;

	while (i < l->n) {
		struct leak_stack *s = &l->stacks[i];

		if (bsearch(&s->stack_key, keys, n, sizeof(*keys), cmp_u32)) {
			i++;
			continue;
		}
		if (++s->missed >= LEAKS_FORGET_AFTER) {
			remove_at(l, i);
			continue;
		}
		trend__add(&s->series, now_ns, 0);
		s->bytes = s->objects = 0;
		i++;
	}
}

int leaks__observe(struct leaks *l, int64_t now_ns, const struct heap_live_stack *st, size_t n)
{
	uint32_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	struct leak_stack *s;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	l->observations++;
	for (size_t i = 0; i < n; i++)
		keys[i] = st[i].stack_key;
	qsort(keys, n, sizeof(*keys), cmp_u32);
	/* Absent stacks age first, so a full table can evict them for newcomers. */
	age_absent(l, now_ns, keys, n);
	for (size_t i = 0; !err && i < n; i++) {
		s = find(l, st[i].stack_key);
		if (!s)
			err = add_stack(l, &st[i], now_ns, &s);
		if (s)
			record(s, &st[i], now_ns);
	}
	free(keys);
	return err;
}

static int cmp_report(const void *a, const void *b)
{
	const struct leak_report *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (x->growth_bytes_per_hour != y->growth_bytes_per_hour)
		return x->growth_bytes_per_hour > y->growth_bytes_per_hour ? -1 : 1;
	return x->stack_key < y->stack_key ? -1 : x->stack_key > y->stack_key;
}

static bool report_one(const struct leak_stack *s, struct leak_report *r)
{
	struct trend_fit f;

	memset(r, 0, sizeof(*r));
	if (!s->bytes || trend__fit(&s->series, INT64_MIN, &f))
		return false;
	r->severity = leaks__severity(&f);
	if (r->severity == LEAK_NONE)
		return false;
	r->stack_key = s->stack_key;
	memcpy(r->function, s->function, sizeof(r->function));
	r->bytes = s->bytes;
	r->objects = s->objects;
	r->growth_bytes_per_hour = f.slope * 3600;
	r->r2 = f.r2;
	r->points = f.n;
	r->first_seen_ns = s->first_seen_ns;
	r->last_seen_ns = s->last_seen_ns;
	r->oldest_ns = s->oldest_ns;
	return true;
}

size_t leaks__report(const struct leaks *l, struct leak_report *out, size_t max)
{
	struct leak_report *all = l->n ? calloc(l->n, sizeof(*all)) : NULL;
	size_t n = 0;

	if (!all)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (report_one(&l->stacks[i], &all[n]))
			n++;
	qsort(all, n, sizeof(all[0]), cmp_report);
	if (out && max)
		memcpy(out, all, (n < max ? n : max) * sizeof(*out));
	free(all);
	return n;
}
