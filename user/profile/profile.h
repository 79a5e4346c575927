/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The profile model: independent of any output format. It mirrors what
 * pprof needs (mappings, functions, locations, samples with labels) so the
 * writers are thin. Strings are copied and interned; ids start at 1.
 * Identical (location list, labels) samples are merged by summing values.
 */
#ifndef BPFPROF_PROFILE_H
#define BPFPROF_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILE_MAX_TYPES 8

struct profile;

struct profile_value_type {
	const char *type; /* "samples", "cpu", "alloc_space", ... */
	const char *unit; /* "count", "nanoseconds", "bytes" */
};

struct profile_label {
	const char *key;
	const char *str; /* string value, or NULL when num is used */
	int64_t num;
	const char *num_unit; /* optional, NULL if none */
};

struct profile_mapping {
	uint32_t id;
	uint64_t start, limit, offset;
	const char *file;     /* path as the process saw it, "[kernel.kallsyms]", "[vdso]" */
	const char *build_id; /* lower-case hex, "" when unknown */
	bool has_functions;
};

struct profile_function {
	uint32_t id;
	const char *name;	 /* demangled */
	const char *system_name; /* mangled, or same as name */
	const char *file;	 /* source file if known, else the binary path */
	int64_t start_line;
};

struct profile_location {
	uint32_t id;
	uint32_t mapping_id;  /* 0: none */
	uint64_t address;     /* runtime address; call sites already adjusted (ret - 1) */
	uint32_t function_id; /* 0: unsymbolized */
	int64_t line;
};

struct profile_sample {
	uint32_t *location_ids; /* leaf first */
	size_t n_locations;
	int64_t values[PROFILE_MAX_TYPES];
	struct profile_label *labels;
	size_t n_labels;
};

/*
 * Sample values come from files and clients too, so sums saturate at
 * INT64_MIN/INT64_MAX instead of overflowing (undefined behaviour), and
 * negating INT64_MIN gives INT64_MAX.
 */
static inline int64_t profile__sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (!__builtin_add_overflow(a, b, &r))
		return r;
	return b < 0 ? INT64_MIN : INT64_MAX;
}

static inline int64_t profile__sat_neg(int64_t v)
{
	return v == INT64_MIN ? INT64_MAX : -v;
}

/* n_types <= PROFILE_MAX_TYPES; default_type indexes types (pprof default_sample_type). */
struct profile *profile__new(const struct profile_value_type *types, size_t n_types,
			     size_t default_type);
void profile__free(struct profile *p); /* NULL-safe */

int profile__set_period(struct profile *p, const char *type, const char *unit, int64_t period);
void profile__set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos);
/* Free-form comments, written to pprof's comment field. */
int profile__add_comment(struct profile *p, const char *comment);

/* Each returns the id (>= 1) of an existing equal entry or a new one; 0 on ENOMEM. */
uint32_t profile__mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
			  const char *file, const char *build_id);
uint32_t profile__function(struct profile *p, const char *name, const char *system_name,
			   const char *file);
/* Deduplicated on (mapping_id, address, function_id, line). */
uint32_t profile__location(struct profile *p, uint32_t mapping_id, uint64_t address,
			   uint32_t function_id, int64_t line);

/*
 * Adds values[n_types] to the sample with this exact location list and label
 * set, creating it if new (the sums saturate). Label order does not matter.
 * 0 or -ENOMEM/-EINVAL.
 */
int profile__add_sample(struct profile *p, const uint32_t *location_ids, size_t n_locations,
			const int64_t *values, const struct profile_label *labels, size_t n_labels);

/* Read access for writers and tests. Pointers stay valid until the next add or free. */
size_t profile__n_types(const struct profile *p);
const struct profile_value_type *profile__type(const struct profile *p, size_t i);
size_t profile__default_type(const struct profile *p);
void profile__period(const struct profile *p, struct profile_value_type *type, int64_t *period);
void profile__time(const struct profile *p, int64_t *time_nanos, int64_t *duration_nanos);
size_t profile__n_comments(const struct profile *p);
const char *profile__comment(const struct profile *p, size_t i);
size_t profile__n_mappings(const struct profile *p);
const struct profile_mapping *profile__mapping_at(const struct profile *p, size_t i);
size_t profile__n_functions(const struct profile *p);
const struct profile_function *profile__function_at(const struct profile *p, size_t i);
size_t profile__n_locations(const struct profile *p);
const struct profile_location *profile__location_at(const struct profile *p, size_t i);
/* Lookup by id (1-based); NULL when out of range. */
const struct profile_location *profile__location_by_id(const struct profile *p, uint32_t id);
const struct profile_function *profile__function_by_id(const struct profile *p, uint32_t id);
const struct profile_mapping *profile__mapping_by_id(const struct profile *p, uint32_t id);
size_t profile__n_samples(const struct profile *p);
const struct profile_sample *profile__sample_at(const struct profile *p, size_t i);
/* Label value by key; NULL if the sample has no such string label. */
const char *profile__sample_label(const struct profile_sample *s, const char *key);

/*
 * The interned string table: every string the profile holds, index 0 is "".
 * Writers use it directly as pprof's string_table. profile__string_index is
 * -1 for a string the profile does not hold.
 */
size_t profile__n_strings(const struct profile *p);
const char *profile__string(const struct profile *p, size_t i);
int64_t profile__string_index(const struct profile *p, const char *s);

/* Sum of values[type] over all samples (saturating). */
int64_t profile__total(const struct profile *p, size_t type);

/*
 * Top functions by flat (self) value of `type`: fills up to max entries,
 * sorted descending, returns how many were filled. cum is the inclusive value
 * (each function counted once per sample even under recursion); both saturate.
 */
struct profile_top {
	const char *name;
	int64_t flat;
	int64_t cum;
};
size_t profile__top(const struct profile *p, size_t type, struct profile_top *out, size_t max);

#endif
