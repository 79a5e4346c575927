// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Merging and filtering through the public profile API only, so the model's
 * internals stay private to profile.c. A merge translates src ids to dst ids
 * lazily and caches each translation in an array indexed by the src id, so
 * every mapping, function and location of src is interned into dst at most
 * once and the merge is linear in the size of src.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/merge.h"
#include "profile/profile.h"

/* Per-merge translation tables: src id -> dst id, 0 when not yet translated. */
struct merge_ctx {
	struct profile *dst;
	const struct profile *src;
	uint32_t *mappings, *functions, *locations;
	uint32_t *buf; /* translated location list of the current sample */
	size_t buf_cap;
	bool negate;   /* a diff's baseline: src's values enter dst negated */
};

/* "pid" is a string label from the pipeline; numeric labels are accepted too. */
static bool sample__pid(const struct profile_sample *s, uint32_t *pid)
{
	size_t i;

	for (i = 0; i < s->n_labels; i++) {
		const struct profile_label *l = &s->labels[i];
		unsigned long v;
		char *end;

		if (strcmp(l->key, "pid"))
			continue;
		if (!l->str) {
			*pid = (uint32_t)l->num;
			return l->num >= 0 && l->num <= UINT32_MAX;
		}
		errno = 0;
		v = strtoul(l->str, &end, 10);
		if (errno || end == l->str || *end || v > UINT32_MAX)
			return false;
		*pid = (uint32_t)v;
		return true;
	}
	return false;
}

static bool filter__match_pid(const struct profile_filter *f, const struct profile_sample *s)
{
	uint32_t pid;
	size_t i;

	if (!sample__pid(s, &pid))
		return false;
	for (i = 0; i < f->n_pids; i++) {
		if (f->pids[i] == pid)
			return true;
	}
	return false;
}

static bool filter__match_comm(const struct profile_filter *f, const struct profile_sample *s)
{
	const char *comm = profile__sample_label(s, "comm");
	const char *exe = profile__sample_label(s, "exe");

	return (comm && !strcmp(comm, f->comm)) || (exe && !strcmp(exe, f->comm));
}

bool profile_filter__match(const struct profile_filter *f, const struct profile *p, size_t sample)
{
	const struct profile_sample *s = profile__sample_at(p, sample);

	if (!s)
		return false;
	if (!f)
		return true;
	if (f->n_pids && f->pids && !filter__match_pid(f, s))
		return false;
	if (f->comm && f->comm[0] && !filter__match_comm(f, s))
		return false;
	return true;
}

static bool types__equal(const struct profile *a, const struct profile *b)
{
	size_t i, n = profile__n_types(a);

	if (n != profile__n_types(b))
		return false;
	for (i = 0; i < n; i++) {
		const struct profile_value_type *x = profile__type(a, i), *y = profile__type(b, i);

		if (strcmp(x->type, y->type) || strcmp(x->unit, y->unit))
			return false;
	}
	return true;
}

static uint32_t merge__mapping(struct merge_ctx *c, uint32_t id)
{
	const struct profile_mapping *m;

	if (!id || c->mappings[id])
		return c->mappings[id];
	m = profile__mapping_by_id(c->src, id);
	c->mappings[id] =
	    profile__mapping(c->dst, m->start, m->limit, m->offset, m->file, m->build_id);
	return c->mappings[id];
}

static uint32_t merge__function(struct merge_ctx *c, uint32_t id)
{
	const struct profile_function *f;

	if (!id || c->functions[id])
		return c->functions[id];
	f = profile__function_by_id(c->src, id);
	c->functions[id] = profile__function(c->dst, f->name, f->system_name, f->file);
	return c->functions[id];
}

/* 0 on ENOMEM (a valid src location always has a valid translation). */
static uint32_t merge__location(struct merge_ctx *c, uint32_t id)
{
	const struct profile_location *l;
	uint32_t mid, fid;

	if (c->locations[id])
		return c->locations[id];
	l = profile__location_by_id(c->src, id);
	if (!l)
		return 0;
	mid = merge__mapping(c, l->mapping_id);
	fid = merge__function(c, l->function_id);
	if ((l->mapping_id && !mid) || (l->function_id && !fid))
		return 0;
	c->locations[id] = profile__location(c->dst, mid, l->address, fid, l->line);
	return c->locations[id];
}

static int merge__reserve(struct merge_ctx *c, size_t n)
{
	uint32_t *tmp;

	if (n <= c->buf_cap)
		return 0;
	tmp = realloc(c->buf, n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	c->buf = tmp;
	c->buf_cap = n;
	return 0;
}

static int merge__sample(struct merge_ctx *c, const struct profile_sample *s)
{
	int64_t neg[PROFILE_MAX_TYPES];
	size_t i;
	int err;

	err = merge__reserve(c, s->n_locations);
	if (err)
		return err;
	for (i = 0; i < s->n_locations; i++) {
		c->buf[i] = merge__location(c, s->location_ids[i]);
		if (!c->buf[i])
			return -ENOMEM;
	}
	for (i = 0; c->negate && i < profile__n_types(c->src); i++)
		neg[i] = profile__sat_neg(s->values[i]);
	return profile__add_sample(c->dst, c->buf, s->n_locations, c->negate ? neg : s->values,
				   s->labels, s->n_labels);
}

static int merge__init(struct merge_ctx *c, struct profile *dst, const struct profile *src)
{
	memset(c, 0, sizeof(*c));
	c->dst = dst;
	c->src = src;
	/* + 1: indexed by 1-based id, slot 0 stays 0 for "none" */
	c->mappings = calloc(profile__n_mappings(src) + 1, sizeof(uint32_t));
	c->functions = calloc(profile__n_functions(src) + 1, sizeof(uint32_t));
	c->locations = calloc(profile__n_locations(src) + 1, sizeof(uint32_t));
	return c->mappings && c->functions && c->locations ? 0 : -ENOMEM;
}

static void merge__fini(struct merge_ctx *c)
{
	free(c->mappings);
	free(c->functions);
	free(c->locations);
	free(c->buf);
}

static int merge__run(struct profile *dst, const struct profile *src,
		      const struct profile_filter *f, bool negate)
{
	struct merge_ctx c;
	size_t i, n;
	int err;

	/* merging into itself would grow the arrays being read */
	if (!dst || !src || dst == src || !types__equal(dst, src))
		return -EINVAL;
	err = merge__init(&c, dst, src);
	c.negate = negate;
	if (err)
		goto out;
	n = profile__n_samples(src);
	for (i = 0; i < n && !err; i++) {
		if (profile_filter__match(f, src, i))
			err = merge__sample(&c, profile__sample_at(src, i));
	}
out:
	merge__fini(&c);
	return err;
}

int profile__merge(struct profile *dst, const struct profile *src, const struct profile_filter *f)
{
	return merge__run(dst, src, f, false);
}

int profile__merge_negated(struct profile *dst, const struct profile *src,
			   const struct profile_filter *f)
{
	return merge__run(dst, src, f, true);
}

struct profile *profile__new_like(const struct profile *src)
{
	struct profile_value_type types[PROFILE_MAX_TYPES], period_type;
	struct profile *p;
	int64_t period;
	size_t i, n = profile__n_types(src);

	if (!src || n > PROFILE_MAX_TYPES) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n; i++)
		types[i] = *profile__type(src, i);
	p = profile__new(types, n, profile__default_type(src));
	if (!p)
		return NULL;
	profile__period(src, &period_type, &period);
	if (period_type.type &&
	    profile__set_period(p, period_type.type, period_type.unit, period)) {
		profile__free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/*
 * malloc bookkeeping plus typical slack: arrays grow by doubling (~1.5x on
 * average) and each hash index holds 8-byte slots at a load under 0.7, so
 * about 2 slots per entry on average.
 */
#define MALLOC_OVERHEAD 16
#define INDEX_BYTES	(2 * 8)
#define SLACK(x)	((x) + (x) / 2)

static size_t bytes__strings(const struct profile *p)
{
	size_t i, n = profile__n_strings(p), sum = 0;

	for (i = 0; i < n; i++)
		sum += strlen(profile__string(p, i)) + 1 + MALLOC_OVERHEAD;
	return sum + n * (SLACK(sizeof(char *)) + INDEX_BYTES);
}

static size_t bytes__samples(const struct profile *p)
{
	size_t i, n = profile__n_samples(p), sum = 0;

	for (i = 0; i < n; i++) {
		const struct profile_sample *s = profile__sample_at(p, i);

		if (s->n_locations)
			sum += s->n_locations * sizeof(uint32_t) + MALLOC_OVERHEAD;
		if (s->n_labels)
			sum += s->n_labels * sizeof(struct profile_label) + MALLOC_OVERHEAD;
	}
	return sum + n * (SLACK(sizeof(struct profile_sample)) + INDEX_BYTES);
}

size_t profile__bytes(const struct profile *p)
{
	size_t sum;

	if (!p)
		return 0;
	/* the struct itself: types, counters and the array/index heads */
	sum = 512;
	sum += bytes__strings(p);
	sum += profile__n_comments(p) * SLACK(sizeof(char *));
	sum += profile__n_mappings(p) * (SLACK(sizeof(struct profile_mapping)) + INDEX_BYTES);
	sum += profile__n_functions(p) * (SLACK(sizeof(struct profile_function)) + INDEX_BYTES);
	sum += profile__n_locations(p) * (SLACK(sizeof(struct profile_location)) + INDEX_BYTES);
	sum += bytes__samples(p);
	return sum;
}
