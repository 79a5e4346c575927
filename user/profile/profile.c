// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The profile model. Every entity lives in a growable array and is found
 * again through an open-addressing index (linear probing) that stores only
 * (id, hash) pairs, so the index can be rehashed without calling back into
 * the entity and lookups compare full keys only on a hash match.
 *
 * All strings are interned: equal strings share one pointer, which lets the
 * entity keys compare and hash string pointers instead of contents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/array.h"

struct idx_slot {
	uint32_t id; /* 1-based entity id; 0 marks an empty slot */
	uint32_t hash;
};

struct idx_hash {
	struct idx_slot *slots;
	size_t cap; /* power of two, or 0 before the first insert */
	size_t n;
};

typedef bool (*idx_eq_fn)(const void *ctx, uint32_t id, const void *key);

struct strtab {
	char **strs;
	size_t n, cap;
	struct idx_hash index;
};

struct profile {
	struct profile_value_type types[PROFILE_MAX_TYPES];
	size_t n_types, default_type;
	struct profile_value_type period_type;
	int64_t period, time_nanos, duration_nanos;

	struct strtab strings;

	const char **comments;
	size_t n_comments, cap_comments;

	struct profile_mapping *mappings;
	size_t n_mappings, cap_mappings;
	struct idx_hash mapping_index;

	struct profile_function *functions;
	size_t n_functions, cap_functions;
	struct idx_hash function_index;

	struct profile_location *locations;
	size_t n_locations, cap_locations;
	struct idx_hash location_index;

	struct profile_sample *samples;
	size_t n_samples, cap_samples;
	struct idx_hash sample_index;
};

/* Ids are uint32_t and 0 is reserved, so no table may outgrow this. */
#define PROFILE_MAX_ENTRIES ((size_t)UINT32_MAX - 1)

static uint64_t hash__mix(uint64_t h, uint64_t v)
{
	/* splitmix64 finalizer: cheap and good enough for linear probing */
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint32_t hash__str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)hash__mix(h, 0);
}

static uint32_t idx__find(const struct idx_hash *h, uint32_t hash, idx_eq_fn eq, const void *ctx,
			  const void *key)
{
	size_t mask, i;

	if (!h->cap)
		return 0;
	mask = h->cap - 1;
	for (i = hash & mask; h->slots[i].id; i = (i + 1) & mask) {
		if (h->slots[i].hash == hash && eq(ctx, h->slots[i].id, key))
			return h->slots[i].id;
	}
	return 0;
}

static void idx__place(struct idx_slot *slots, size_t cap, struct idx_slot s)
{
	size_t i, mask = cap - 1;

	for (i = s.hash & mask; slots[i].id; i = (i + 1) & mask)
		;
	slots[i] = s;
}

static int idx__grow(struct idx_hash *h)
{
	size_t i, new_cap = h->cap ? h->cap * 2 : 64;
	struct idx_slot *slots;

	slots = calloc(new_cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < h->cap; i++) {
		if (h->slots[i].id)
			idx__place(slots, new_cap, h->slots[i]);
	}
	free(h->slots);
	h->slots = slots;
	h->cap = new_cap;
	return 0;
}

static int idx__insert(struct idx_hash *h, uint32_t hash, uint32_t id)
{
	int err;

	/* keep the load under 0.7 so probe chains stay short */
	if ((h->n + 1) * 10 > h->cap * 7) {
		err = idx__grow(h);
		if (err)
			return err;
	}
	idx__place(h->slots, h->cap, (struct idx_slot){.id = id, .hash = hash});
	h->n++;
	return 0;
}

static void idx__free(struct idx_hash *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->n = 0;
}

static bool strtab__eq(const void *ctx, uint32_t id, const void *key)
{
	const struct strtab *t = ctx;

	return strcmp(t->strs[id - 1], key) == 0;
}

static int64_t strtab__find(const struct strtab *t, const char *s)
{
	uint32_t id = idx__find(&t->index, hash__str(s), strtab__eq, t, s);

	return id ? (int64_t)id - 1 : -1;
}

/* Returns the interned copy of s (NULL is taken as ""), or NULL on ENOMEM. */
static const char *strtab__intern(struct strtab *t, const char *s)
{
	uint32_t hash, id;
	char *copy = NULL;

	if (!s)
		s = "";
	hash = hash__str(s);
	id = idx__find(&t->index, hash, strtab__eq, t, s);
	if (id)
		return t->strs[id - 1];
	if (t->n >= PROFILE_MAX_ENTRIES ||
	    array__reserve((void **)&t->strs, &t->cap, t->n + 1, sizeof(*t->strs)))
		goto err;
	copy = strdup(s);
	if (!copy || idx__insert(&t->index, hash, (uint32_t)t->n + 1))
		goto err;
	t->strs[t->n++] = copy;
	return copy;
err:
	free(copy);
	return NULL;
}

static void strtab__free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	idx__free(&t->index);
}

static int profile__intern_type(struct profile *p, struct profile_value_type *dst, const char *type,
				const char *unit)
{
	dst->type = strtab__intern(&p->strings, type);
	dst->unit = strtab__intern(&p->strings, unit);
	return dst->type && dst->unit ? 0 : -ENOMEM;
}

struct profile *profile__new(const struct profile_value_type *types, size_t n_types,
			     size_t default_type)
{
	struct profile *p = NULL;
	size_t i;

	if (!types || !n_types || n_types > PROFILE_MAX_TYPES || default_type >= n_types) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto err;
	/* pprof requires string_table[0] == "", so intern it first */
	if (!strtab__intern(&p->strings, ""))
		goto err;
	for (i = 0; i < n_types; i++) {
		if (profile__intern_type(p, &p->types[i], types[i].type, types[i].unit))
			goto err;
	}
	p->n_types = n_types;
	p->default_type = default_type;
	return p;
err:
	profile__free(p);
	errno = ENOMEM;
	return NULL;
}

void profile__free(struct profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_samples; i++) {
		free(p->samples[i].location_ids);
		free(p->samples[i].labels);
	}
	free(p->samples);
	idx__free(&p->sample_index);
	free(p->locations);
	idx__free(&p->location_index);
	free(p->functions);
	idx__free(&p->function_index);
	free(p->mappings);
	idx__free(&p->mapping_index);
	free(p->comments);
	strtab__free(&p->strings);
	free(p);
}

int profile__set_period(struct profile *p, const char *type, const char *unit, int64_t period)
{
	if (!p || !type)
		return -EINVAL;
	if (profile__intern_type(p, &p->period_type, type, unit))
		return -ENOMEM;
	p->period = period;
	return 0;
}

void profile__set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos)
{
	if (!p)
		return;
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

int profile__add_comment(struct profile *p, const char *comment)
{
	const char *s;

	if (!p || !comment)
		return -EINVAL;
	s = strtab__intern(&p->strings, comment);
	if (!s || array__reserve((void **)&p->comments, &p->cap_comments, p->n_comments + 1,
				 sizeof(*p->comments)))
		return -ENOMEM;
	p->comments[p->n_comments++] = s;
	return 0;
}

static uint32_t mapping__hash(const struct profile_mapping *m)
{
	uint64_t h = hash__mix(m->start, m->limit);

	h = hash__mix(h, m->offset);
	h = hash__mix(h, (uintptr_t)m->file);
	return (uint32_t)hash__mix(h, (uintptr_t)m->build_id);
}

static bool mapping__eq(const void *ctx, uint32_t id, const void *key)
{
	const struct profile_mapping *a = &((const struct profile *)ctx)->mappings[id - 1];
	const struct profile_mapping *b = key;

	return a->start == b->start && a->limit == b->limit && a->offset == b->offset &&
	       a->file == b->file && a->build_id == b->build_id;
}

uint32_t profile__mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
			  const char *file, const char *build_id)
{
	struct profile_mapping m = {.start = start, .limit = limit, .offset = offset};
	uint32_t hash, id;

	if (!p)
		return 0;
	m.file = strtab__intern(&p->strings, file);
	m.build_id = strtab__intern(&p->strings, build_id);
	if (!m.file || !m.build_id)
		return 0;
	hash = mapping__hash(&m);
	id = idx__find(&p->mapping_index, hash, mapping__eq, p, &m);
	if (id)
		return id;
	if (p->n_mappings >= PROFILE_MAX_ENTRIES ||
	    array__reserve((void **)&p->mappings, &p->cap_mappings, p->n_mappings + 1,
			   sizeof(*p->mappings)))
		return 0;
	m.id = (uint32_t)p->n_mappings + 1;
	if (idx__insert(&p->mapping_index, hash, m.id))
		return 0;
	p->mappings[p->n_mappings++] = m;
	return m.id;
}

static uint32_t function__hash(const struct profile_function *f)
{
	uint64_t h = hash__mix((uintptr_t)f->name, (uintptr_t)f->system_name);

	return (uint32_t)hash__mix(h, (uintptr_t)f->file);
}

static bool function__eq(const void *ctx, uint32_t id, const void *key)
{
	const struct profile_function *a = &((const struct profile *)ctx)->functions[id - 1];
	const struct profile_function *b = key;

	return a->name == b->name && a->system_name == b->system_name && a->file == b->file;
}

uint32_t profile__function(struct profile *p, const char *name, const char *system_name,
			   const char *file)
{
	struct profile_function f = {0};
	uint32_t hash, id;

	if (!p)
		return 0;
	f.name = strtab__intern(&p->strings, name);
	/* pprof shows system_name in some views; never leave it empty */
	f.system_name = strtab__intern(&p->strings, system_name ? system_name : name);
	f.file = strtab__intern(&p->strings, file);
	if (!f.name || !f.system_name || !f.file)
		return 0;
	hash = function__hash(&f);
	id = idx__find(&p->function_index, hash, function__eq, p, &f);
	if (id)
		return id;
	if (p->n_functions >= PROFILE_MAX_ENTRIES ||
	    array__reserve((void **)&p->functions, &p->cap_functions, p->n_functions + 1,
			   sizeof(*p->functions)))
		return 0;
	f.id = (uint32_t)p->n_functions + 1;
	if (idx__insert(&p->function_index, hash, f.id))
		return 0;
	p->functions[p->n_functions++] = f;
	return f.id;
}

static uint32_t location__hash(const struct profile_location *l)
{
	uint64_t h = hash__mix(l->mapping_id, l->address);

	h = hash__mix(h, l->function_id);
	return (uint32_t)hash__mix(h, (uint64_t)l->line);
}

static bool location__eq(const void *ctx, uint32_t id, const void *key)
{
	const struct profile_location *a = &((const struct profile *)ctx)->locations[id - 1];
	const struct profile_location *b = key;

	return a->mapping_id == b->mapping_id && a->address == b->address &&
	       a->function_id == b->function_id && a->line == b->line;
}

/* Also returns 0 when mapping_id or function_id names no existing entry. */
uint32_t profile__location(struct profile *p, uint32_t mapping_id, uint64_t address,
			   uint32_t function_id, int64_t line)
{
	struct profile_location l = {0};
	uint32_t hash, id;

	if (!p || mapping_id > p->n_mappings || function_id > p->n_functions)
		return 0;
	l.mapping_id = mapping_id;
	l.address = address;
	l.function_id = function_id;
	l.line = line;
	hash = location__hash(&l);
	id = idx__find(&p->location_index, hash, location__eq, p, &l);
	if (id)
		return id;
	if (p->n_locations >= PROFILE_MAX_ENTRIES ||
	    array__reserve((void **)&p->locations, &p->cap_locations, p->n_locations + 1,
			   sizeof(*p->locations)))
		return 0;
	l.id = (uint32_t)p->n_locations + 1;
	if (idx__insert(&p->location_index, hash, l.id))
		return 0;
	p->locations[p->n_locations++] = l;
	if (mapping_id && function_id)
		p->mappings[mapping_id - 1].has_functions = true;
	return l.id;
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* Orders by content, not by pointer, so the stored order is deterministic. */
static int label__cmp(const void *pa, const void *pb)
{
	const struct profile_label *a = pa, *b = pb;
	int c;

	c = strcmp(a->key, b->key);
	if (!c)
		c = strcmp_null(a->str, b->str);
	if (!c)
		c = (a->num > b->num) - (a->num < b->num);
	if (!c)
		c = strcmp_null(a->num_unit, b->num_unit);
	return c;
}

/* Copies labels with interned strings, sorted so that order does not matter. */
static int labels__normalize(struct profile *p, const struct profile_label *in, size_t n,
			     struct profile_label **out)
{
	struct profile_label *l;
	size_t i;

	*out = NULL;
	if (!n)
		return 0;
	l = calloc(n, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l[i].num = in[i].num;
		l[i].key = strtab__intern(&p->strings, in[i].key);
		l[i].str = in[i].str ? strtab__intern(&p->strings, in[i].str) : NULL;
		l[i].num_unit = in[i].num_unit ? strtab__intern(&p->strings, in[i].num_unit) : NULL;
		if (!l[i].key || (in[i].str && !l[i].str) || (in[i].num_unit && !l[i].num_unit)) {
			free(l);
			return -ENOMEM;
		}
	}
	qsort(l, n, sizeof(*l), label__cmp);
	*out = l;
	return 0;
}

static uint32_t sample__hash(const struct profile_sample *s)
{
	uint64_t h = hash__mix(s->n_locations, s->n_labels);
	size_t i;

	for (i = 0; i < s->n_locations; i++)
		h = hash__mix(h, s->location_ids[i]);
	for (i = 0; i < s->n_labels; i++) {
		h = hash__mix(h, (uintptr_t)s->labels[i].key);
		h = hash__mix(h, (uintptr_t)s->labels[i].str);
		h = hash__mix(h, (uint64_t)s->labels[i].num);
		h = hash__mix(h, (uintptr_t)s->labels[i].num_unit);
	}
	return (uint32_t)h;
}

static bool sample__eq(const void *ctx, uint32_t id, const void *key)
{
	const struct profile_sample *a = &((const struct profile *)ctx)->samples[id - 1];
	const struct profile_sample *b = key;
	size_t i;

	if (a->n_locations != b->n_locations || a->n_labels != b->n_labels)
		return false;
	if (a->n_locations &&
	    memcmp(a->location_ids, b->location_ids, a->n_locations * sizeof(*a->location_ids)))
		return false;
	for (i = 0; i < a->n_labels; i++) {
		const struct profile_label *x = &a->labels[i], *y = &b->labels[i];

		/* interned strings: pointer equality is string equality */
		if (x->key != y->key || x->str != y->str || x->num != y->num ||
		    x->num_unit != y->num_unit)
			return false;
	}
	return true;
}

static int sample__validate(const struct profile *p, const uint32_t *location_ids,
			    size_t n_locations, const int64_t *values,
			    const struct profile_label *labels, size_t n_labels)
{
	size_t i;

	if (!values || (n_locations && !location_ids) || (n_labels && !labels))
		return -EINVAL;
	for (i = 0; i < n_locations; i++) {
		if (!location_ids[i] || location_ids[i] > p->n_locations)
			return -EINVAL;
	}
	for (i = 0; i < n_labels; i++) {
		if (!labels[i].key)
			return -EINVAL;
	}
	return 0;
}

/* Takes ownership of s->labels; copies the location list. */
static int profile__append_sample(struct profile *p, struct profile_sample *s, uint32_t hash)
{
	size_t bytes = s->n_locations * sizeof(*s->location_ids);
	uint32_t *locs = NULL;
	int err = -ENOMEM;

	if (p->n_samples >= PROFILE_MAX_ENTRIES ||
	    array__reserve((void **)&p->samples, &p->cap_samples, p->n_samples + 1,
			   sizeof(*p->samples)))
		goto out;
	if (bytes) {
		locs = malloc(bytes);
		if (!locs)
			goto out;
		memcpy(locs, s->location_ids, bytes);
	}
	if (idx__insert(&p->sample_index, hash, (uint32_t)p->n_samples + 1))
		goto out;
	s->location_ids = locs;
	p->samples[p->n_samples++] = *s;
	locs = NULL;
	s->labels = NULL;
	err = 0;
out:
	free(locs);
	return err;
}

int profile__add_sample(struct profile *p, const uint32_t *location_ids, size_t n_locations,
			const int64_t *values, const struct profile_label *labels, size_t n_labels)
{
	struct profile_sample key = {.location_ids = (uint32_t *)location_ids,
				     .n_locations = n_locations,
				     .n_labels = n_labels};
	struct profile_sample *s;
	uint32_t hash, id;
	size_t i;
	int err;

	if (!p)
		return -EINVAL;
	err = sample__validate(p, location_ids, n_locations, values, labels, n_labels);
	if (err)
		return err;
	err = labels__normalize(p, labels, n_labels, &key.labels);
	if (err)
		return err;
	hash = sample__hash(&key);
	id = idx__find(&p->sample_index, hash, sample__eq, p, &key);
	if (!id) {
		memcpy(key.values, values, p->n_types * sizeof(*values));
		err = profile__append_sample(p, &key, hash);
		goto out;
	}
	s = &p->samples[id - 1];
	for (i = 0; i < p->n_types; i++)
		s->values[i] = profile__sat_add(s->values[i], values[i]);
out:
	free(key.labels);
	return err;
}

size_t profile__n_types(const struct profile *p)
{
	return p ? p->n_types : 0;
}

const struct profile_value_type *profile__type(const struct profile *p, size_t i)
{
	return p && i < p->n_types ? &p->types[i] : NULL;
}

size_t profile__default_type(const struct profile *p)
{
	return p ? p->default_type : 0;
}

/* type->type is NULL when no period was set. */
void profile__period(const struct profile *p, struct profile_value_type *type, int64_t *period)
{
	if (type)
		*type = p ? p->period_type : (struct profile_value_type){0};
	if (period)
		*period = p ? p->period : 0;
}

void profile__time(const struct profile *p, int64_t *time_nanos, int64_t *duration_nanos)
{
	if (time_nanos)
		*time_nanos = p ? p->time_nanos : 0;
	if (duration_nanos)
		*duration_nanos = p ? p->duration_nanos : 0;
}

size_t profile__n_comments(const struct profile *p)
{
	return p ? p->n_comments : 0;
}

const char *profile__comment(const struct profile *p, size_t i)
{
	return p && i < p->n_comments ? p->comments[i] : NULL;
}

size_t profile__n_mappings(const struct profile *p)
{
	return p ? p->n_mappings : 0;
}

const struct profile_mapping *profile__mapping_at(const struct profile *p, size_t i)
{
	return p && i < p->n_mappings ? &p->mappings[i] : NULL;
}

size_t profile__n_functions(const struct profile *p)
{
	return p ? p->n_functions : 0;
}

const struct profile_function *profile__function_at(const struct profile *p, size_t i)
{
	return p && i < p->n_functions ? &p->functions[i] : NULL;
}

size_t profile__n_locations(const struct profile *p)
{
	return p ? p->n_locations : 0;
}

const struct profile_location *profile__location_at(const struct profile *p, size_t i)
{
	return p && i < p->n_locations ? &p->locations[i] : NULL;
}

const struct profile_location *profile__location_by_id(const struct profile *p, uint32_t id)
{
	return id ? profile__location_at(p, id - 1) : NULL;
}

const struct profile_function *profile__function_by_id(const struct profile *p, uint32_t id)
{
	return id ? profile__function_at(p, id - 1) : NULL;
}

const struct profile_mapping *profile__mapping_by_id(const struct profile *p, uint32_t id)
{
	return id ? profile__mapping_at(p, id - 1) : NULL;
}

size_t profile__n_samples(const struct profile *p)
{
	return p ? p->n_samples : 0;
}

const struct profile_sample *profile__sample_at(const struct profile *p, size_t i)
{
	return p && i < p->n_samples ? &p->samples[i] : NULL;
}

const char *profile__sample_label(const struct profile_sample *s, const char *key)
{
	size_t i;

	if (!s || !key)
		return NULL;
	for (i = 0; i < s->n_labels; i++) {
		if (s->labels[i].str && !strcmp(s->labels[i].key, key))
			return s->labels[i].str;
	}
	return NULL;
}

size_t profile__n_strings(const struct profile *p)
{
	return p ? p->strings.n : 0;
}

const char *profile__string(const struct profile *p, size_t i)
{
	return p && i < p->strings.n ? p->strings.strs[i] : NULL;
}

int64_t profile__string_index(const struct profile *p, const char *s)
{
	if (!p)
		return -1;
	return strtab__find(&p->strings, s ? s : "");
}

int64_t profile__total(const struct profile *p, size_t type)
{
	int64_t sum = 0;
	size_t i;

	if (!p || type >= p->n_types)
		return 0;
	for (i = 0; i < p->n_samples; i++)
		sum = profile__sat_add(sum, p->samples[i].values[type]);
	return sum;
}

/* Per-name accumulators, indexed by the name's string index. */
struct top_acc {
	int64_t flat, cum;
	size_t stamp; /* 1 + index of the last sample that added to cum */
};

static int top__cmp(const void *pa, const void *pb)
{
	const struct profile_top *a = pa, *b = pb;

	if (a->flat != b->flat)
		return a->flat < b->flat ? 1 : -1;
	if (a->cum != b->cum)
		return a->cum < b->cum ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* Maps each function id to its name's string index; functions that share a name merge. */
static int64_t *top__name_index(const struct profile *p)
{
	int64_t *idx = calloc(p->n_functions + 1, sizeof(*idx));
	size_t i;

	if (!idx)
		return NULL;
	for (i = 0; i < p->n_functions; i++)
		idx[i + 1] = strtab__find(&p->strings, p->functions[i].name);
	return idx;
}

static void top__accumulate(const struct profile *p, size_t type, const int64_t *name_idx,
			    struct top_acc *acc)
{
	size_t i, j;

	for (i = 0; i < p->n_samples; i++) {
		const struct profile_sample *s = &p->samples[i];
		int64_t v = s->values[type];

		for (j = 0; j < s->n_locations; j++) {
			uint32_t fid = p->locations[s->location_ids[j] - 1].function_id;
			struct top_acc *a;

			if (!fid)
				continue;
			a = &acc[name_idx[fid]];
			if (j == 0)
				a->flat = profile__sat_add(a->flat, v);
			/* recursion must not count a sample twice in cum */
			if (a->stamp != i + 1) {
				a->stamp = i + 1;
				a->cum = profile__sat_add(a->cum, v);
			}
		}
	}
}

static size_t top__collect(const struct profile *p, const struct top_acc *acc,
			   struct profile_top *all)
{
	size_t i, n = 0;

	for (i = 0; i < p->strings.n; i++) {
		if (!acc[i].flat && !acc[i].cum)
			continue;
		all[n].name = p->strings.strs[i];
		all[n].flat = acc[i].flat;
		all[n].cum = acc[i].cum;
		n++;
	}
	return n;
}

/* Returns 0 also on ENOMEM, as if nothing could be ranked. */
size_t profile__top(const struct profile *p, size_t type, struct profile_top *out, size_t max)
{
	struct profile_top *all = NULL;
	struct top_acc *acc = NULL;
	int64_t *name_idx = NULL;
	size_t n = 0;

	if (!p || !out || !max || type >= p->n_types)
		return 0;
	name_idx = top__name_index(p);
	acc = calloc(p->strings.n, sizeof(*acc));
	all = calloc(p->strings.n, sizeof(*all));
	if (!name_idx || !acc || !all)
		goto out;
	top__accumulate(p, type, name_idx, acc);
	n = top__collect(p, acc, all);
	qsort(all, n, sizeof(*all), top__cmp);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*out));
out:
	free(all);
	free(acc);
	free(name_idx);
	return n;
}
