// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * profile.proto writer (github.com/google/pprof/proto/profile.proto). The
 * profile's interned string table is written as-is as string_table, so every
 * string field is just that string's index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile/profile.h"
#include "writer/pprof.h"
#include "writer/protobuf.h"
#include "writer/pprof_fields.h"

/*
 * Mapping flags derived from the locations, indexed by mapping id - 1. Each
 * is true only when it holds for every location of the mapping: pprof takes
 * has_functions as "symbolized" and then never asks again for the rest, so a
 * partly resolved mapping must say false (pprof then symbolizes its
 * unresolved addresses locally or through /debug/pprof/symbol).
 */
#define MAP_HAS_FUNCTIONS    0x1
#define MAP_HAS_LINE_NUMBERS 0x2
#define MAP_HAS_FILENAMES    0x4
#define MAP_SEEN	     0x8 /* has a location */
#define MAP_ALL		     (MAP_HAS_FUNCTIONS | MAP_HAS_LINE_NUMBERS | MAP_HAS_FILENAMES)

static int64_t str_idx(const struct profile *p, const char *s)
{
	int64_t i = s ? profile__string_index(p, s) : 0;

	/* every string reaching here came from the profile, so -1 cannot happen */
	return i > 0 ? i : 0;
}

static void encode_value_type(struct pb_buf *b, const struct profile *p, uint32_t tag,
			      const struct profile_value_type *vt)
{
	size_t start = pb__start(b);

	pb__int64_opt(b, 1, str_idx(p, vt->type));
	pb__int64_opt(b, 2, str_idx(p, vt->unit));
	pb__end(b, tag, start);
}

static void encode_label(struct pb_buf *b, const struct profile *p, const struct profile_label *l)
{
	size_t start = pb__start(b);

	pb__int64_opt(b, 1, str_idx(p, l->key));
	if (l->str) {
		pb__int64_opt(b, 2, str_idx(p, l->str));
	} else {
		pb__int64_opt(b, 3, l->num);
		pb__int64_opt(b, 4, str_idx(p, l->num_unit));
	}
	pb__end(b, 3, start);
}

static void encode_sample(struct pb_buf *b, const struct profile *p, const struct profile_sample *s)
{
	size_t i, start = pb__start(b);

	pb__packed_uint32(b, 1, s->location_ids, s->n_locations);
	pb__packed_int64(b, 2, s->values, profile__n_types(p));
	for (i = 0; i < s->n_labels; i++)
		encode_label(b, p, &s->labels[i]);
	pb__end(b, PROFILE_SAMPLE, start);
}

static void encode_mapping(struct pb_buf *b, const struct profile *p,
			   const struct profile_mapping *m, unsigned int flags)
{
	size_t start = pb__start(b);

	pb__uint64(b, 1, m->id);
	pb__uint64_opt(b, 2, m->start);
	pb__uint64_opt(b, 3, m->limit);
	pb__uint64_opt(b, 4, m->offset);
	pb__int64_opt(b, 5, str_idx(p, m->file));
	pb__int64_opt(b, 6, str_idx(p, m->build_id));
	/* tells pprof not to symbolize these addresses again */
	pb__bool_opt(b, 7, flags & MAP_HAS_FUNCTIONS);
	pb__bool_opt(b, 8, flags & MAP_HAS_FILENAMES);
	pb__bool_opt(b, 9, flags & MAP_HAS_LINE_NUMBERS);
	pb__end(b, PROFILE_MAPPING, start);
}

static void encode_location(struct pb_buf *b, const struct profile_location *l)
{
	size_t line, start = pb__start(b);

	pb__uint64(b, 1, l->id);
	pb__uint64_opt(b, 2, l->mapping_id);
	pb__uint64_opt(b, 3, l->address);
	if (l->function_id) {
		line = pb__start(b);
		pb__uint64(b, 1, l->function_id);
		pb__int64_opt(b, 2, l->line);
		pb__end(b, 4, line);
	}
	pb__end(b, PROFILE_LOCATION, start);
}

static void encode_function(struct pb_buf *b, const struct profile *p,
			    const struct profile_function *f)
{
	size_t start = pb__start(b);

	pb__uint64(b, 1, f->id);
	pb__int64_opt(b, 2, str_idx(p, f->name));
	pb__int64_opt(b, 3, str_idx(p, f->system_name));
	pb__int64_opt(b, 4, str_idx(p, f->file));
	pb__int64_opt(b, 5, f->start_line);
	pb__end(b, PROFILE_FUNCTION, start);
}

/*
 * What this location resolved. A function's file falls back to the binary's
 * path when there is no debug info: that is not a source file name.
 */
static unsigned char location_flags(const struct profile *p, const struct profile_location *l)
{
	const struct profile_function *f = profile__function_by_id(p, l->function_id);
	const struct profile_mapping *m = profile__mapping_by_id(p, l->mapping_id);
	unsigned char fl = 0;

	if (!f)
		return 0;
	fl |= MAP_HAS_FUNCTIONS;
	if (l->line)
		fl |= MAP_HAS_LINE_NUMBERS;
	if (f->file && *f->file && (!m || !m->file || strcmp(f->file, m->file)))
		fl |= MAP_HAS_FILENAMES;
	return fl;
}

static unsigned char *mapping_flags(const struct profile *p)
{
	size_t i, n = profile__n_mappings(p);
	unsigned char *flags = calloc(n + 1, 1);

	if (!flags)
		return NULL;
	for (i = 0; i < profile__n_locations(p); i++) {
		const struct profile_location *l = profile__location_at(p, i);
		unsigned char *fl;

		if (!l->mapping_id)
			continue;
		fl = &flags[l->mapping_id - 1];
		if (!(*fl & MAP_SEEN))
			*fl = MAP_SEEN | MAP_ALL;
		*fl &= location_flags(p, l) | MAP_SEEN;
	}
	return flags;
}

static void encode_tables(struct pb_buf *b, const struct profile *p, const unsigned char *flags)
{
	size_t i;

	for (i = 0; i < profile__n_types(p); i++)
		encode_value_type(b, p, PROFILE_SAMPLE_TYPE, profile__type(p, i));
	for (i = 0; i < profile__n_samples(p); i++)
		encode_sample(b, p, profile__sample_at(p, i));
	for (i = 0; i < profile__n_mappings(p); i++)
		encode_mapping(b, p, profile__mapping_at(p, i), flags[i]);
	for (i = 0; i < profile__n_locations(p); i++)
		encode_location(b, profile__location_at(p, i));
	for (i = 0; i < profile__n_functions(p); i++)
		encode_function(b, p, profile__function_at(p, i));
	for (i = 0; i < profile__n_strings(p); i++)
		pb__string(b, PROFILE_STRING_TABLE, profile__string(p, i));
}

static void encode_header(struct pb_buf *b, const struct profile *p)
{
	struct profile_value_type period_type;
	int64_t time_nanos, duration_nanos, period;
	size_t i;

	profile__time(p, &time_nanos, &duration_nanos);
	profile__period(p, &period_type, &period);
	pb__int64_opt(b, PROFILE_TIME_NANOS, time_nanos);
	pb__int64_opt(b, PROFILE_DURATION_NANOS, duration_nanos);
	if (period_type.type)
		encode_value_type(b, p, PROFILE_PERIOD_TYPE, &period_type);
	pb__int64_opt(b, PROFILE_PERIOD, period);
	for (i = 0; i < profile__n_comments(p); i++)
		pb__int64(b, PROFILE_COMMENT, str_idx(p, profile__comment(p, i)));
	pb__int64_opt(b, PROFILE_DEFAULT_SAMPLE_TYPE,
		      str_idx(p, profile__type(p, profile__default_type(p))->type));
}

int pprof__encode(const struct profile *p, uint8_t **out, size_t *len)
{
	unsigned char *flags = NULL;
	struct pb_buf b;
	int err;

	if (!p || !out || !len)
		return -EINVAL;
	pb__init(&b);
	flags = mapping_flags(p);
	if (!flags) {
		err = -ENOMEM;
		goto out;
	}
	encode_tables(&b, p, flags);
	encode_header(&b, p);
	err = pb__err(&b);
	if (!err)
		*out = pb__take(&b, len);
out:
	pb__free(&b);
	free(flags);
	return err;
}

static int gzip__compress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	z_stream zs = {0};
	uint8_t *buf = NULL;
	size_t bound;
	int err = -ENOMEM;

	/* windowBits 15 + 16: gzip wrapper instead of raw zlib */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	if (in_len > UINT32_MAX) {
		err = -EFBIG;
		goto out;
	}
	bound = deflateBound(&zs, in_len);
	buf = malloc(bound);
	if (!buf)
		goto out;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		err = -EIO;
		goto out;
	}
	*out = buf;
	*out_len = zs.total_out;
	buf = NULL;
	err = 0;
out:
	deflateEnd(&zs);
	free(buf);
	return err;
}

int pprof__encode_gz(const struct profile *p, uint8_t **out, size_t *len)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int err;

	if (!p || !out || !len)
		return -EINVAL;
	err = pprof__encode(p, &raw, &raw_len);
	if (!err)
		err = gzip__compress(raw, raw_len, out, len);
	free(raw);
	return err;
}

int pprof__write(const struct profile *p, FILE *f)
{
	uint8_t *gz = NULL;
	size_t len = 0;
	int err;

	if (!p || !f)
		return -EINVAL;
	err = pprof__encode_gz(p, &gz, &len);
	if (err)
		goto out;
	errno = 0;
	if (fwrite(gz, 1, len, f) != len || fflush(f))
		err = errno ? -errno : -EIO;
out:
	free(gz);
	return err;
}
