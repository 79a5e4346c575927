// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * profile.proto reader (github.com/google/pprof/proto/profile.proto).
 *
 * Fields may come in any order and every table refers to others by index or
 * id, so the message is walked once per table in dependency order: strings,
 * header, mappings, functions, locations, samples, comments. Each walk
 * re-parses only the top-level keys and lengths, which is cheap next to the
 * interning work, and saves keeping a list of submessage spans.
 *
 * Built for hostile files: the memory a decode may take (string table, id
 * tables, scratch, and the profile itself, estimated as profile__bytes
 * does) is charged as it grows against a budget proportional to the
 * message (and the caller's cap), and the first table to overrun it is
 * named in the error. The string table is one arena plus offsets, so a
 * message of millions of empty strings costs 5 bytes per 2-byte entry.
 *
 * pprof ids are arbitrary non-zero uint64s; they are translated to model ids
 * through sorted (pprof id -> model id) tables. A location with several
 * lines (inlined calls) becomes one model location per line, innermost
 * first, since the model keeps one function per location.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "profile/profile.h"
#include "writer/pprof_read.h"
#include "util/array.h"
#include "writer/pprof_fields.h"

enum {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_BYTES = 2,
	WIRE_FIXED32 = 5,
};

/*
 * Inlining expands location lists; cap the expansion so a tiny hostile file
 * (one location with many lines, referenced many times) cannot demand
 * memory far beyond its own size.
 */
#define MAX_FRAMES_PER_SAMPLE 65536
#define EXPANSION_FACTOR      8

/*
 * Decode memory per message byte. Profiles like our windows (20 k samples,
 * 1-24 frames, 1-3 labels) measured 4-8x; a sample struct per ~10-byte
 * sample message would be about 15x.
 */
#define MEM_PER_BYTE  32
#define MEM_SLACK     ((size_t)1 << 20)
#define MALLOC_OVERHEAD 16
#define INDEX_BYTES	16 /* hash index slots per entry, as profile__bytes counts */
#define SLACK(x)	((x) + (x) / 2)

struct pb_rd {
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t tag;
	int wire;
	uint64_t v;	  /* varint and fixed values */
	struct pb_rd sub; /* bytes */
};

/* pprof id -> model id, or for locations -> [off, off + n) of dec.loc_ids */
struct id_ent {
	uint64_t key;
	uint32_t val, n;
};

struct id_map {
	struct id_ent *ents;
	size_t n, cap;
};

struct line_ref {
	uint64_t function_id;
	int64_t line;
};

/* Model table sizes already charged, to charge only what an add created. */
struct model_seen {
	size_t strings, mappings, functions, locations, samples, comments;
};

struct dec {
	struct pb_rd msg;
	/* string table: string i is arena + str_off[i], NUL-terminated */
	char *arena;
	uint32_t *str_off;
	size_t n_strs, n_total_strs, arena_len;
	const char *empty; /* string 0 */
	struct profile *p;

	size_t mem, mem_cap; /* bytes charged, and the budget */
	size_t msg_len;
	struct model_seen seen;
	char *why; /* what went wrong, for the caller's log */
	size_t why_len;

	/* header, gathered before the profile can be created */
	struct profile_value_type types[PROFILE_MAX_TYPES];
	size_t n_types;
	const char *default_type;
	struct profile_value_type period_type;
	int64_t time_nanos, duration_nanos, period;

	struct id_map mappings, functions, locations;
	uint32_t *loc_ids;
	size_t n_loc_ids, cap_loc_ids;
	size_t frame_budget;

	/* scratch reused across messages */
	struct line_ref *lines;
	size_t n_lines, cap_lines;
	uint32_t *frames;
	size_t n_frames, cap_frames;
	int64_t values[PROFILE_MAX_TYPES];
	size_t n_values;
	struct profile_label *labels;
	size_t n_labels, cap_labels;
};

typedef int (*field_fn)(struct dec *d, const struct pb_field *f);

__attribute__((format(printf, 3, 4))) static int dec__fail(struct dec *d, int err,
							   const char *fmt, ...)
{
	va_list ap;

	/* the first reason wins: later ones are consequences */
	if (d->why && d->why_len && !d->why[0]) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->why_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Counts bytes about to be (or just) allocated for `what` against the budget. */
static int dec__charge(struct dec *d, size_t bytes, const char *what)
{
	if (bytes > d->mem_cap - d->mem)
		return dec__fail(d, -EFBIG,
				 "%s: decoding would take over %zu bytes, the memory limit for a "
				 "%zu-byte message",
				 what, d->mem_cap, d->msg_len);
	d->mem += bytes;
	return 0;
}

/* array__reserve for decoder tables: growth is charged to `what`. */
static int dec__reserve(struct dec *d, void **data, size_t *cap, size_t need, size_t elem,
			const char *what)
{
	size_t new_cap = *cap ? *cap : 16;
	int err;

	if (need <= *cap)
		return 0;
	/* array__reserve's doubling, charged before it allocates */
	while (new_cap < need && new_cap <= SIZE_MAX / 2)
		new_cap *= 2;
	if (new_cap < need || new_cap > SIZE_MAX / elem)
		return -ENOMEM;
	err = dec__charge(d, (new_cap - *cap) * elem, what);
	if (!err && array__reserve(data, cap, need, elem))
		err = -ENOMEM;
	return err;
}

/* ---- wire format ---- */

static int rd__varint(struct pb_rd *r, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int shift;

	for (shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -EINVAL;
		x |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL; /* more than 10 bytes */
}

static int rd__fixed(struct pb_rd *r, size_t n, uint64_t *v)
{
	size_t i;

	if ((size_t)(r->end - r->p) < n)
		return -EINVAL;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return 0;
}

static int rd__value(struct pb_rd *r, struct pb_field *f)
{
	uint64_t len;

	switch (f->wire) {
	case WIRE_VARINT:
		return rd__varint(r, &f->v);
	case WIRE_FIXED64:
		return rd__fixed(r, 8, &f->v);
	case WIRE_FIXED32:
		return rd__fixed(r, 4, &f->v);
	case WIRE_BYTES:
		if (rd__varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return -EINVAL;
		f->sub.p = r->p;
		f->sub.end = r->p + len;
		r->p += len;
		return 0;
	default:
		/* groups (3, 4) are not used by profile.proto; 6 and 7 do not exist */
		return -EINVAL;
	}
}

/* 1: a field was read into f; 0: end of message; -EINVAL: malformed. */
static int rd__field(struct pb_rd *r, struct pb_field *f)
{
	uint64_t key;

	if (r->p >= r->end)
		return 0;
	if (rd__varint(r, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -EINVAL;
	f->tag = (uint32_t)(key >> 3);
	f->wire = (int)(key & 7);
	return rd__value(r, f) ? -EINVAL : 1;
}

static int field__varint(const struct pb_field *f, uint64_t *v)
{
	if (f->wire != WIRE_VARINT)
		return -EINVAL;
	*v = f->v;
	return 0;
}

static int field__int64(const struct pb_field *f, int64_t *v)
{
	if (f->wire != WIRE_VARINT)
		return -EINVAL;
	*v = (int64_t)f->v;
	return 0;
}

/* Repeated scalars may be packed (one bytes field) or not (one field each). */
static int field__each_varint(struct dec *d, const struct pb_field *f,
			      int (*fn)(struct dec *d, uint64_t v))
{
	struct pb_rd r = f->sub;
	uint64_t v;
	int err;

	if (f->wire == WIRE_VARINT)
		return fn(d, f->v);
	if (f->wire != WIRE_BYTES)
		return -EINVAL;
	while (r.p < r.end) {
		err = rd__varint(&r, &v);
		if (!err)
			err = fn(d, v);
		if (err)
			return err;
	}
	return 0;
}

/* Runs fn on every field of r; stops at the first error. */
static int rd__each(struct dec *d, struct pb_rd r, field_fn fn)
{
	struct pb_field f;
	int ret;

	while ((ret = rd__field(&r, &f)) > 0) {
		ret = fn(d, &f);
		if (ret)
			return ret;
	}
	return ret;
}

/* ---- strings and ids ---- */

static int dec__str(const struct dec *d, uint64_t idx, const char **s)
{
	if (idx >= d->n_strs)
		return -EINVAL;
	*s = d->arena + d->str_off[idx];
	return 0;
}

/* The profile's new strings, entities and samples since the last call. */
static size_t dec__model_growth(struct dec *d)
{
	const struct profile *p = d->p;
	size_t bytes = 0, i, n;

	for (i = d->seen.strings, n = profile__n_strings(p); i < n; i++)
		bytes += strlen(profile__string(p, i)) + 1 + MALLOC_OVERHEAD +
			 SLACK(sizeof(char *)) + INDEX_BYTES;
	d->seen.strings = n;
	for (i = d->seen.samples, n = profile__n_samples(p); i < n; i++) {
		const struct profile_sample *s = profile__sample_at(p, i);

		bytes += SLACK(sizeof(*s)) + INDEX_BYTES;
		if (s->n_locations)
			bytes += s->n_locations * sizeof(*s->location_ids) + MALLOC_OVERHEAD;
		if (s->n_labels)
			bytes += s->n_labels * sizeof(*s->labels) + MALLOC_OVERHEAD;
	}
	d->seen.samples = n;
	n = profile__n_mappings(p);
	bytes += (n - d->seen.mappings) * (SLACK(sizeof(struct profile_mapping)) + INDEX_BYTES);
	d->seen.mappings = n;
	n = profile__n_functions(p);
	bytes += (n - d->seen.functions) * (SLACK(sizeof(struct profile_function)) + INDEX_BYTES);
	d->seen.functions = n;
	n = profile__n_locations(p);
	bytes += (n - d->seen.locations) * (SLACK(sizeof(struct profile_location)) + INDEX_BYTES);
	d->seen.locations = n;
	n = profile__n_comments(p);
	bytes += (n - d->seen.comments) * SLACK(sizeof(char *));
	d->seen.comments = n;
	return bytes;
}

/* Charges what the last profile__* call added to the model, after the fact. */
static int dec__charge_model(struct dec *d, const char *what)
{
	return dec__charge(d, dec__model_growth(d), what);
}

static int dec__field_str(const struct dec *d, const struct pb_field *f, const char **s)
{
	uint64_t idx;

	return field__varint(f, &idx) ?: dec__str(d, idx, s);
}

static int id_ent__cmp(const void *pa, const void *pb)
{
	const struct id_ent *a = pa, *b = pb;

	return (a->key > b->key) - (a->key < b->key);
}

static int id_map__add(struct dec *d, struct id_map *m, uint64_t key, uint32_t val, uint32_t n,
		       const char *what)
{
	int err;

	/* id 0 is reserved for "none" in profile.proto */
	if (!key)
		return -EINVAL;
	err = dec__reserve(d, (void **)&m->ents, &m->cap, m->n + 1, sizeof(*m->ents), what);
	if (err)
		return err;
	m->ents[m->n++] = (struct id_ent){.key = key, .val = val, .n = n};
	return 0;
}

/* Sorts for lookups; duplicate ids make references ambiguous. */
static int id_map__seal(struct id_map *m)
{
	size_t i;

	if (m->n)
		qsort(m->ents, m->n, sizeof(*m->ents), id_ent__cmp);
	for (i = 1; i < m->n; i++) {
		if (m->ents[i].key == m->ents[i - 1].key)
			return -EINVAL;
	}
	return 0;
}

static const struct id_ent *id_map__find(const struct id_map *m, uint64_t key)
{
	struct id_ent k = {.key = key};

	if (!m->n)
		return NULL;
	return bsearch(&k, m->ents, m->n, sizeof(*m->ents), id_ent__cmp);
}

/* pprof id -> model id; id 0 ("none") maps to 0. */
static int id_map__translate(const struct id_map *m, uint64_t key, uint32_t *val)
{
	const struct id_ent *e;

	if (!key) {
		*val = 0;
		return 0;
	}
	e = id_map__find(m, key);
	if (!e)
		return -EINVAL;
	*val = e->val;
	return 0;
}

static void id_map__free(struct id_map *m)
{
	free(m->ents);
}

/* ---- string table ---- */

/* First pass: how many strings and bytes, so the arena is sized (and charged) once. */
static int dec__string_size(struct dec *d, const struct pb_field *f)
{
	if (f->tag != PROFILE_STRING_TABLE)
		return 0;
	if (f->wire != WIRE_BYTES)
		return -EINVAL;
	d->n_strs++;
	/* + 1: each is stored NUL-terminated */
	d->arena_len += (size_t)(f->sub.end - f->sub.p) + 1;
	return 0;
}

static int dec__string(struct dec *d, const struct pb_field *f)
{
	size_t len;

	if (f->tag != PROFILE_STRING_TABLE)
		return 0;
	/* the model holds C strings: an embedded NUL truncates, harmlessly */
	len = (size_t)(f->sub.end - f->sub.p);
	memcpy(d->arena + d->str_off[d->n_strs], f->sub.p, len);
	d->arena[d->str_off[d->n_strs] + len] = '\0';
	if (d->n_strs + 1 < d->n_total_strs)
		d->str_off[d->n_strs + 1] = d->str_off[d->n_strs] + (uint32_t)len + 1;
	d->n_strs++;
	return 0;
}

static int dec__strings(struct dec *d)
{
	int err = rd__each(d, d->msg, dec__string_size);

	/* profile.proto: string_table[0] must be "" */
	if (!err && !d->n_strs)
		err = -EINVAL;
	if (!err && d->arena_len > UINT32_MAX)
		err = dec__fail(d, -EFBIG, "string table: %zu bytes, over the 4 GiB offset range",
				d->arena_len);
	if (!err)
		err = dec__charge(d, d->n_strs * sizeof(*d->str_off) + d->arena_len, "string table");
	if (err)
		return err;
	d->n_total_strs = d->n_strs;
	d->str_off = malloc(d->n_strs * sizeof(*d->str_off));
	d->arena = malloc(d->arena_len);
	if (!d->str_off || !d->arena)
		return -ENOMEM;
	d->str_off[0] = 0;
	d->n_strs = 0;
	err = rd__each(d, d->msg, dec__string);
	d->empty = d->arena;
	if (!err && d->empty[0])
		err = -EINVAL;
	return err;
}

/* ---- header ---- */

static int dec__value_type_field(struct dec *d, const struct pb_field *f,
				 struct profile_value_type *vt)
{
	switch (f->tag) {
	case 1:
		return dec__field_str(d, f, &vt->type);
	case 2:
		return dec__field_str(d, f, &vt->unit);
	default:
		return 0;
	}
}

static int dec__value_type(struct dec *d, const struct pb_field *msg, struct profile_value_type *vt)
{
	struct pb_rd r = msg->sub;
	struct pb_field f;
	int ret;

	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	vt->type = vt->unit = d->empty;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__value_type_field(d, &f, vt);
		if (ret)
			return ret;
	}
	return ret;
}

static int dec__sample_type(struct dec *d, const struct pb_field *f)
{
	if (d->n_types >= PROFILE_MAX_TYPES)
		return -EINVAL;
	return dec__value_type(d, f, &d->types[d->n_types++]);
}

static int dec__header_field(struct dec *d, const struct pb_field *f)
{
	switch (f->tag) {
	case PROFILE_SAMPLE_TYPE:
		return dec__sample_type(d, f);
	case PROFILE_TIME_NANOS:
		return field__int64(f, &d->time_nanos);
	case PROFILE_DURATION_NANOS:
		return field__int64(f, &d->duration_nanos);
	case PROFILE_PERIOD_TYPE:
		return dec__value_type(d, f, &d->period_type);
	case PROFILE_PERIOD:
		return field__int64(f, &d->period);
	case PROFILE_DEFAULT_SAMPLE_TYPE:
		return dec__field_str(d, f, &d->default_type);
	default:
		return 0;
	}
}

/* profile.proto: with no (or an unknown) default, clients use the last type. */
static size_t dec__default_type(const struct dec *d)
{
	size_t i;

	for (i = 0; d->default_type && i < d->n_types; i++) {
		if (!strcmp(d->types[i].type, d->default_type))
			return i;
	}
	return d->n_types - 1;
}

static int dec__header(struct dec *d)
{
	int err = rd__each(d, d->msg, dec__header_field);

	if (err)
		return err;
	if (!d->n_types)
		return -EINVAL;
	d->p = profile__new(d->types, d->n_types, dec__default_type(d));
	if (!d->p)
		return -ENOMEM;
	profile__set_time(d->p, d->time_nanos, d->duration_nanos);
	/* a period without a period type has nowhere else to go */
	if (d->period_type.type || d->period) {
		err = profile__set_period(d->p, d->period_type.type ? d->period_type.type : "",
					  d->period_type.unit, d->period);
	}
	return err ?: dec__charge_model(d, "header");
}

static int dec__comment_one(struct dec *d, uint64_t idx)
{
	const char *s;

	return dec__str(d, idx, &s) ?: profile__add_comment(d->p, s)
					    ?: dec__charge_model(d, "comments");
}

static int dec__comment(struct dec *d, const struct pb_field *f)
{
	if (f->tag != PROFILE_COMMENT)
		return 0;
	return field__each_varint(d, f, dec__comment_one);
}

/* ---- mappings and functions ---- */

struct mapping_msg {
	uint64_t id, start, limit, offset;
	const char *file, *build_id;
};

static int dec__mapping_field(struct dec *d, const struct pb_field *f, struct mapping_msg *m)
{
	switch (f->tag) {
	case 1:
		return field__varint(f, &m->id);
	case 2:
		return field__varint(f, &m->start);
	case 3:
		return field__varint(f, &m->limit);
	case 4:
		return field__varint(f, &m->offset);
	case 5:
		return dec__field_str(d, f, &m->file);
	case 6:
		return dec__field_str(d, f, &m->build_id);
	default:
		/* has_functions etc. follow from the locations */
		return 0;
	}
}

static int dec__mapping(struct dec *d, const struct pb_field *msg)
{
	struct mapping_msg m = {.file = d->empty, .build_id = d->empty};
	struct pb_rd r = msg->sub;
	struct pb_field f;
	uint32_t id;
	int ret;

	if (msg->tag != PROFILE_MAPPING)
		return 0;
	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__mapping_field(d, &f, &m);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	id = profile__mapping(d->p, m.start, m.limit, m.offset, m.file, m.build_id);
	if (!id)
		return -ENOMEM;
	return dec__charge_model(d, "mappings") ?: id_map__add(d, &d->mappings, m.id, id, 1, "mappings");
}

struct function_msg {
	uint64_t id;
	const char *name, *system_name, *file;
};

static int dec__function_field(struct dec *d, const struct pb_field *f, struct function_msg *fn)
{
	switch (f->tag) {
	case 1:
		return field__varint(f, &fn->id);
	case 2:
		return dec__field_str(d, f, &fn->name);
	case 3:
		return dec__field_str(d, f, &fn->system_name);
	case 4:
		return dec__field_str(d, f, &fn->file);
	default:
		/* start_line: the model has no setter for it */
		return 0;
	}
}

static int dec__function(struct dec *d, const struct pb_field *msg)
{
	struct function_msg fn = {
	    .name = d->empty, .system_name = d->empty, .file = d->empty};
	struct pb_rd r = msg->sub;
	struct pb_field f;
	uint32_t id;
	int ret;

	if (msg->tag != PROFILE_FUNCTION)
		return 0;
	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__function_field(d, &f, &fn);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	id = profile__function(d->p, fn.name, fn.system_name, fn.file);
	if (!id)
		return -ENOMEM;
	return dec__charge_model(d, "functions")
		   ?: id_map__add(d, &d->functions, fn.id, id, 1, "functions");
}

/* ---- locations ---- */

struct location_msg {
	uint64_t id, mapping_id, address;
};

static int dec__line_field(const struct pb_field *f, struct line_ref *l)
{
	switch (f->tag) {
	case 1:
		return field__varint(f, &l->function_id);
	case 2:
		return field__int64(f, &l->line);
	default:
		return 0;
	}
}

static int dec__line(struct dec *d, const struct pb_field *msg)
{
	struct line_ref l = {0};
	struct pb_rd r = msg->sub;
	struct pb_field f;
	int ret;

	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__line_field(&f, &l);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	ret = dec__reserve(d, (void **)&d->lines, &d->cap_lines, d->n_lines + 1, sizeof(*d->lines),
			   "location lines");
	if (ret)
		return ret;
	d->lines[d->n_lines++] = l;
	return 0;
}

static int dec__location_field(struct dec *d, const struct pb_field *f, struct location_msg *l)
{
	switch (f->tag) {
	case 1:
		return field__varint(f, &l->id);
	case 2:
		return field__varint(f, &l->mapping_id);
	case 3:
		return field__varint(f, &l->address);
	case 4:
		return dec__line(d, f);
	default:
		return 0;
	}
}

static int dec__push_loc_id(struct dec *d, uint32_t mapping, uint64_t address, uint32_t function,
			    int64_t line)
{
	uint32_t id = profile__location(d->p, mapping, address, function, line);
	int err;

	if (!id)
		return -ENOMEM;
	err = dec__charge_model(d, "locations")
		  ?: dec__reserve(d, (void **)&d->loc_ids, &d->cap_loc_ids, d->n_loc_ids + 1,
				  sizeof(*d->loc_ids), "locations");
	if (err)
		return err;
	d->loc_ids[d->n_loc_ids++] = id;
	return 0;
}

/* One model location per line, or one without a function when there is none. */
static int dec__location_add(struct dec *d, const struct location_msg *l)
{
	size_t i, off = d->n_loc_ids;
	uint32_t mapping, function;
	int err;

	err = id_map__translate(&d->mappings, l->mapping_id, &mapping);
	if (!err && !d->n_lines)
		err = dec__push_loc_id(d, mapping, l->address, 0, 0);
	for (i = 0; !err && i < d->n_lines; i++) {
		err = id_map__translate(&d->functions, d->lines[i].function_id, &function);
		if (!err)
			err = dec__push_loc_id(d, mapping, l->address, function, d->lines[i].line);
	}
	if (!err && d->n_loc_ids - off > UINT32_MAX)
		err = -EINVAL;
	return err
		   ?: id_map__add(d, &d->locations, l->id, (uint32_t)off,
				  (uint32_t)(d->n_loc_ids - off), "locations");
}

static int dec__location(struct dec *d, const struct pb_field *msg)
{
	struct location_msg l = {0};
	struct pb_rd r = msg->sub;
	struct pb_field f;
	int ret;

	if (msg->tag != PROFILE_LOCATION)
		return 0;
	if (msg->wire != WIRE_BYTES || d->n_loc_ids > UINT32_MAX)
		return -EINVAL;
	d->n_lines = 0;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__location_field(d, &f, &l);
		if (ret)
			return ret;
	}
	return ret ?: dec__location_add(d, &l);
}

/* ---- samples ---- */

static int dec__sample_loc(struct dec *d, uint64_t id)
{
	const struct id_ent *e = id_map__find(&d->locations, id);
	size_t need;
	int err;

	if (!e)
		return -EINVAL;
	need = d->n_frames + e->n;
	if (need > MAX_FRAMES_PER_SAMPLE)
		return dec__fail(d, -EFBIG, "sample: over %d frames after inline expansion",
				 MAX_FRAMES_PER_SAMPLE);
	/* copying frames is the decode's CPU cost: bounded by the input too */
	if (e->n > d->frame_budget)
		return dec__fail(d, -EFBIG,
				 "samples: inline expansion over %d frames per message byte",
				 EXPANSION_FACTOR);
	d->frame_budget -= e->n;
	err = dec__reserve(d, (void **)&d->frames, &d->cap_frames, need, sizeof(*d->frames),
			   "sample frames");
	if (err)
		return err;
	memcpy(d->frames + d->n_frames, d->loc_ids + e->val, e->n * sizeof(*d->frames));
	d->n_frames = need;
	return 0;
}

static int dec__sample_value(struct dec *d, uint64_t v)
{
	if (d->n_values >= d->n_types)
		return -EINVAL;
	d->values[d->n_values++] = (int64_t)v;
	return 0;
}

static int dec__label_field(struct dec *d, const struct pb_field *f, struct profile_label *l,
			    uint64_t *str)
{
	uint64_t unit;
	int err;

	switch (f->tag) {
	case 1:
		return dec__field_str(d, f, &l->key);
	case 2:
		return field__varint(f, str) ?: dec__str(d, *str, &l->str);
	case 3:
		return field__int64(f, &l->num);
	case 4:
		err = field__varint(f, &unit) ?: dec__str(d, unit, &l->num_unit);
		/* index 0 is "no unit", as the writer leaves it out */
		if (!err && !unit)
			l->num_unit = NULL;
		return err;
	default:
		return 0;
	}
}

/* A string label has a non-zero str index; the writer drops num for those. */
static int dec__label(struct dec *d, const struct pb_field *msg)
{
	struct profile_label l = {.key = d->empty};
	struct pb_rd r = msg->sub;
	struct pb_field f;
	uint64_t str = 0;
	int ret;

	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	while ((ret = rd__field(&r, &f)) > 0) {
		ret = dec__label_field(d, &f, &l, &str);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (str) {
		l.num = 0;
		l.num_unit = NULL;
	} else {
		l.str = NULL;
	}
	ret = dec__reserve(d, (void **)&d->labels, &d->cap_labels, d->n_labels + 1,
			   sizeof(*d->labels), "sample labels");
	if (ret)
		return ret;
	d->labels[d->n_labels++] = l;
	return 0;
}

static int dec__sample_field(struct dec *d, const struct pb_field *f)
{
	switch (f->tag) {
	case 1:
		return field__each_varint(d, f, dec__sample_loc);
	case 2:
		return field__each_varint(d, f, dec__sample_value);
	case 3:
		return dec__label(d, f);
	default:
		return 0;
	}
}

static int dec__sample(struct dec *d, const struct pb_field *msg)
{
	int err;

	if (msg->tag != PROFILE_SAMPLE)
		return 0;
	if (msg->wire != WIRE_BYTES)
		return -EINVAL;
	d->n_frames = d->n_values = d->n_labels = 0;
	err = rd__each(d, msg->sub, dec__sample_field);
	if (err)
		return err;
	/* profile.proto: one value per sample type */
	if (d->n_values != d->n_types)
		return -EINVAL;
	return profile__add_sample(d->p, d->frames, d->n_frames, d->values, d->labels, d->n_labels)
		   ?: dec__charge_model(d, "samples");
}

/* ---- driver ---- */

static void dec__free(struct dec *d)
{
	free(d->arena);
	free(d->str_off);
	id_map__free(&d->mappings);
	id_map__free(&d->functions);
	id_map__free(&d->locations);
	free(d->loc_ids);
	free(d->lines);
	free(d->frames);
	free(d->labels);
	profile__free(d->p);
}

static int dec__tables(struct dec *d)
{
	int err;

	err = rd__each(d, d->msg, dec__mapping) ?: id_map__seal(&d->mappings);
	if (!err)
		err = rd__each(d, d->msg, dec__function) ?: id_map__seal(&d->functions);
	if (!err)
		err = rd__each(d, d->msg, dec__location) ?: id_map__seal(&d->locations);
	if (!err)
		err = rd__each(d, d->msg, dec__sample);
	if (!err)
		err = rd__each(d, d->msg, dec__comment);
	return err;
}

static size_t limits__raw(const struct pprof_limits *lim)
{
	return lim && lim->max_raw_bytes ? lim->max_raw_bytes : PPROF_MAX_RAW_BYTES;
}

/* MEM_PER_BYTE per message byte plus slack, or the caller's cap if lower. */
static size_t limits__mem(const struct pprof_limits *lim, size_t len)
{
	size_t cap = len > (SIZE_MAX - MEM_SLACK) / MEM_PER_BYTE ? SIZE_MAX
								 : len * MEM_PER_BYTE + MEM_SLACK;

	if (lim && lim->max_mem_bytes && lim->max_mem_bytes < cap)
		cap = lim->max_mem_bytes;
	return cap;
}

static void limits__decoded(const struct pprof_limits *lim, size_t n)
{
	if (lim && lim->decoded)
		*lim->decoded = n;
}

static void why__set(char *why, size_t why_len, int err)
{
	if (!why || !why_len || why[0] || !err)
		return;
	if (err == -EINVAL)
		snprintf(why, why_len, "not a valid profile.proto message");
	else
		snprintf(why, why_len, "%s", strerror(-err));
}

int pprof__decode_ex(const uint8_t *buf, size_t len, const struct pprof_limits *lim,
		     struct profile **out, char *why, size_t why_len)
{
	struct dec d = {.why = why, .why_len = why_len};
	int err;

	if (why && why_len)
		why[0] = '\0';
	if ((!buf && len) || !out)
		return -EINVAL;
	limits__decoded(lim, len);
	if (len > limits__raw(lim)) {
		err = dec__fail(&d, -EFBIG, "message of %zu bytes, over the %zu-byte limit", len,
				limits__raw(lim));
		goto out;
	}
	d.msg.p = buf;
	d.msg.end = buf + len;
	d.msg_len = len;
	d.mem_cap = limits__mem(lim, len);
	d.frame_budget = EXPANSION_FACTOR * len + MAX_FRAMES_PER_SAMPLE;
	err = dec__strings(&d) ?: dec__header(&d);
	if (!err)
		err = dec__tables(&d);
	if (!err) {
		*out = d.p;
		d.p = NULL;
	}
	dec__free(&d);
out:
	why__set(why, why_len, err);
	return err;
}

int pprof__decode(const uint8_t *buf, size_t len, struct profile **out)
{
	return pprof__decode_ex(buf, len, NULL, out, NULL, 0);
}

/* ---- gzip ---- */

static int gunzip__grow(z_stream *zs, uint8_t **dst, size_t *cap, size_t limit, size_t hint)
{
	size_t used = *dst ? (size_t)(zs->next_out - *dst) : 0;
	size_t new_cap;
	uint8_t *tmp;

	if (*cap >= limit)
		return -EFBIG;
	new_cap = *cap ? (*cap > limit / 2 ? limit : *cap * 2) : (hint < limit ? hint : limit);
	tmp = realloc(*dst, new_cap);
	if (!tmp)
		return -ENOMEM;
	*dst = tmp;
	*cap = new_cap;
	zs->next_out = tmp + used;
	zs->avail_out = new_cap - used > UINT_MAX ? UINT_MAX : (uInt)(new_cap - used);
	return 0;
}

/* zlib counts in uInt: feed input larger than that in slices. */
static void gunzip__feed(z_stream *zs, const uint8_t **in, size_t *in_left)
{
	size_t n;

	if (zs->avail_in || !*in_left)
		return;
	n = *in_left > UINT_MAX ? UINT_MAX : *in_left;
	zs->next_in = (Bytef *)*in;
	zs->avail_in = (uInt)n;
	*in += n;
	*in_left -= n;
}

static int gunzip__run(z_stream *zs, const uint8_t *in, size_t in_left, size_t max, uint8_t **dst,
		       size_t *cap)
{
	/* one byte past max tells "exactly max" from "more than max" */
	size_t limit = max < SIZE_MAX ? max + 1 : max;
	size_t hint = in_left < SIZE_MAX / 4 ? in_left * 4 + 4096 : SIZE_MAX;
	int zr, err;

	for (;;) {
		gunzip__feed(zs, &in, &in_left);
		if (!zs->avail_out) {
			err = gunzip__grow(zs, dst, cap, limit, hint);
			if (err)
				return err;
		}
		zr = inflate(zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			return (size_t)(zs->next_out - *dst) > max ? -EFBIG : 0;
		if (zr == Z_MEM_ERROR)
			return -ENOMEM;
		/* no progress possible with room left: the input ended early */
		if (zr == Z_BUF_ERROR && zs->avail_out && !zs->avail_in && !in_left)
			return -EINVAL;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return -EINVAL;
	}
}

int pprof__gunzip(const uint8_t *buf, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
	z_stream zs = {0};
	uint8_t *dst = NULL;
	size_t cap = 0;
	int err;

	if ((!buf && len) || !out || !out_len)
		return -EINVAL;
	/* 15 + 32: accept both gzip and zlib framing */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return -ENOMEM;
	err = gunzip__run(&zs, buf, len, max, &dst, &cap);
	if (!err) {
		*out_len = (size_t)(zs.next_out - dst);
		*out = dst;
		dst = NULL;
	}
	inflateEnd(&zs);
	free(dst);
	return err;
}

int pprof__decode_gz_ex(const uint8_t *buf, size_t len, const struct pprof_limits *lim,
			struct profile **out, char *why, size_t why_len)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int err;

	if (why && why_len)
		why[0] = '\0';
	if (!out)
		return -EINVAL;
	err = pprof__gunzip(buf, len, limits__raw(lim), &raw, &raw_len);
	/* a bomb is inflated up to the cap before it is known to be one */
	limits__decoded(lim, err == -EFBIG ? limits__raw(lim) : raw_len);
	if (err == -EFBIG && why && why_len)
		snprintf(why, why_len, "decompresses to over the %zu-byte limit", limits__raw(lim));
	else if (err == -EINVAL && why && why_len)
		snprintf(why, why_len, "corrupt or truncated gzip stream");
	if (!err)
		err = pprof__decode_ex(raw, raw_len, lim, out, why, why_len);
	free(raw);
	why__set(why, why_len, err);
	return err;
}

int pprof__decode_gz(const uint8_t *buf, size_t len, struct profile **out)
{
	return pprof__decode_gz_ex(buf, len, NULL, out, NULL, 0);
}

/* ---- files ---- */

static int file__read_all(int fd, size_t max, uint8_t **out, size_t *len, char *why,
			  size_t why_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t size, got = 0;
	ssize_t n;
	int err = 0;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		if (why && why_len)
			snprintf(why, why_len, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		if (why && why_len)
			snprintf(why, why_len, "file of %lld bytes, over the %zu-byte limit",
				 (long long)st.st_size, max);
		return -EFBIG;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* shrunk under us, or an I/O error */
			err = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*out = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	return err;
}

int pprof__read_file_ex(const char *path, const struct pprof_limits *lim, struct profile **out,
			char *why, size_t why_len)
{
	/* O_NONBLOCK: a FIFO put in place of the file must not block the open */
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, err;

	if (why && why_len)
		why[0] = '\0';
	if (!path || !out)
		return -EINVAL;
	limits__decoded(lim, 0);
	if (lim && lim->no_follow)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = file__read_all(fd, limits__raw(lim), &buf, &len, why, why_len);
	close(fd);
	if (err)
		goto out;
	/* pprof accepts both: gzip magic 1f 8b means compressed */
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		err = pprof__decode_gz_ex(buf, len, lim, out, why, why_len);
	else
		err = pprof__decode_ex(buf, len, lim, out, why, why_len);
out:
	free(buf);
	why__set(why, why_len, err);
	return err;
}

int pprof__read_file(const char *path, struct profile **out)
{
	return pprof__read_file_ex(path, NULL, out, NULL, 0);
}
