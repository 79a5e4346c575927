// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The encoder is checked three ways: a small protobuf reader written here
 * independently of user/writer/protobuf.c decodes the output field by field,
 * zlib's inflate undoes the gzip layer, and `go tool pprof` (the reference
 * client) must accept the file and show the expected functions.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "writer/pprof.h"

#define MAXN 32

/* ---- independent protobuf reader ---- */

struct rd {
	const uint8_t *p, *end;
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 70; shift += 7) {
		assert_true(r->p < r->end);
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	fail_msg("varint longer than 10 bytes");
	return 0;
}

/* Reads one field: wire 0 sets *v, wire 2 sets *sub; other wire types are not used by pprof. */
static bool rd_field(struct rd *r, uint32_t *tag, uint64_t *v, struct rd *sub)
{
	uint64_t key, len;

	if (r->p == r->end)
		return false;
	key = rd_varint(r);
	*tag = (uint32_t)(key >> 3);
	switch (key & 7) {
	case 0:
		*v = rd_varint(r);
		sub->p = sub->end = NULL;
		break;
	case 2:
		len = rd_varint(r);
		assert_true(len <= (uint64_t)(r->end - r->p));
		sub->p = r->p;
		sub->end = r->p + len;
		r->p += len;
		break;
	default:
		fail_msg("unexpected wire type %u for field %u", (unsigned)(key & 7), *tag);
	}
	return true;
}

/* Appends a packed (or, as protobuf allows, unpacked) repeated varint. */
static void rd_repeated(const struct rd *sub, uint64_t v, uint64_t *out, size_t *n)
{
	struct rd r = *sub;

	if (!sub->p) {
		assert_true(*n < MAXN);
		out[(*n)++] = v;
		return;
	}
	while (r.p < r.end) {
		assert_true(*n < MAXN);
		out[(*n)++] = rd_varint(&r);
	}
}

struct d_label {
	int64_t key, str, num, num_unit;
};

struct d_sample {
	uint64_t locs[MAXN], values[MAXN];
	size_t n_locs, n_values, n_labels;
	struct d_label labels[4];
};

struct d_mapping {
	uint64_t f[11]; /* indexed by field number */
};

struct d_location {
	uint64_t id, mapping_id, address, function_id, n_lines;
	int64_t line;
};

struct d_function {
	uint64_t f[6];
};

struct decoded {
	char *strings[MAXN * 4];
	size_t n_strings;
	int64_t sample_types[MAXN][2];
	size_t n_sample_types;
	struct d_sample samples[MAXN];
	size_t n_samples;
	struct d_mapping mappings[MAXN];
	size_t n_mappings;
	struct d_location locations[MAXN];
	size_t n_locations;
	struct d_function functions[MAXN];
	size_t n_functions;
	int64_t time_nanos, duration_nanos, period, period_type[2], default_sample_type;
	uint64_t comments[MAXN];
	size_t n_comments;
	bool has_period_type;
};

static void dec_value_type(struct rd r, int64_t out[2])
{
	struct rd sub;
	uint32_t tag;
	uint64_t v;

	out[0] = out[1] = 0;
	while (rd_field(&r, &tag, &v, &sub)) {
		assert_true(tag == 1 || tag == 2);
		out[tag - 1] = (int64_t)v;
	}
}

static void dec_label(struct rd r, struct d_label *l)
{
	struct rd sub;
	uint32_t tag;
	uint64_t v;

	memset(l, 0, sizeof(*l));
	while (rd_field(&r, &tag, &v, &sub)) {
		assert_in_range(tag, 1, 4);
		(&l->key)[tag - 1] = (int64_t)v;
	}
}

static void dec_sample(struct rd r, struct d_sample *s)
{
	struct rd sub;
	uint32_t tag;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	while (rd_field(&r, &tag, &v, &sub)) {
		if (tag == 1) {
			rd_repeated(&sub, v, s->locs, &s->n_locs);
		} else if (tag == 2) {
			rd_repeated(&sub, v, s->values, &s->n_values);
		} else {
			assert_int_equal(tag, 3);
			assert_true(s->n_labels < 4);
			dec_label(sub, &s->labels[s->n_labels++]);
		}
	}
}

static void dec_simple(struct rd r, uint64_t *f, uint32_t max_tag)
{
	struct rd sub;
	uint32_t tag;
	uint64_t v;

	while (rd_field(&r, &tag, &v, &sub)) {
		assert_in_range(tag, 1, max_tag);
		assert_null(sub.p);
		f[tag] = v;
	}
}

static void dec_location(struct rd r, struct d_location *l)
{
	struct rd sub;
	uint32_t tag;
	uint64_t v, line[3] = {0};

	memset(l, 0, sizeof(*l));
	while (rd_field(&r, &tag, &v, &sub)) {
		if (tag == 4) {
			dec_simple(sub, line, 2);
			l->function_id = line[1];
			l->line = (int64_t)line[2];
			l->n_lines++;
			continue;
		}
		assert_in_range(tag, 1, 3);
		(&l->id)[tag - 1] = v;
	}
}

static char *dec_string(struct rd r)
{
	size_t n = (size_t)(r.end - r.p);
	char *s = malloc(n + 1);

	assert_non_null(s);
	if (n)
		memcpy(s, r.p, n);
	s[n] = '\0';
	return s;
}

static void dec_profile_field(struct decoded *d, uint32_t tag, uint64_t v, struct rd sub)
{
	switch (tag) {
	case 1:
		assert_true(d->n_sample_types < MAXN);
		dec_value_type(sub, d->sample_types[d->n_sample_types++]);
		break;
	case 2:
		assert_true(d->n_samples < MAXN);
		dec_sample(sub, &d->samples[d->n_samples++]);
		break;
	case 3:
		assert_true(d->n_mappings < MAXN);
		dec_simple(sub, d->mappings[d->n_mappings++].f, 10);
		break;
	case 4:
		assert_true(d->n_locations < MAXN);
		dec_location(sub, &d->locations[d->n_locations++]);
		break;
	case 5:
		assert_true(d->n_functions < MAXN);
		dec_simple(sub, d->functions[d->n_functions++].f, 5);
		break;
	case 6:
		assert_true(d->n_strings < MAXN * 4);
		d->strings[d->n_strings++] = dec_string(sub);
		break;
	case 9:
		d->time_nanos = (int64_t)v;
		break;
	case 10:
		d->duration_nanos = (int64_t)v;
		break;
	case 11:
		d->has_period_type = true;
		dec_value_type(sub, d->period_type);
		break;
	case 12:
		d->period = (int64_t)v;
		break;
	case 13:
		rd_repeated(&sub, v, d->comments, &d->n_comments);
		break;
	case 14:
		d->default_sample_type = (int64_t)v;
		break;
	default:
		fail_msg("unexpected Profile field %u", tag);
	}
}

static struct decoded *decode(const uint8_t *buf, size_t len)
{
	struct decoded *d = calloc(1, sizeof(*d));
	struct rd r = {buf, buf + len}, sub;
	uint32_t tag;
	uint64_t v;

	assert_non_null(d);
	while (rd_field(&r, &tag, &v, &sub))
		dec_profile_field(d, tag, v, sub);
	return d;
}

static void decoded_free(struct decoded *d)
{
	size_t i;

	for (i = 0; d && i < d->n_strings; i++)
		free(d->strings[i]);
	free(d);
}

static const char *str(const struct decoded *d, uint64_t i)
{
	assert_true(i < d->n_strings);
	return d->strings[i];
}

/* ---- the profile under test ---- */

static const struct profile_value_type types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

static struct profile *build_profile(void)
{
	struct profile *p = profile__new(types, 2, 1);
	uint32_t m1, m2, mk, fmain, fwork, fk, lmain, lwork, lwork2, lraw, lk;
	struct profile_label labels[] = {
	    {.key = "comm", .str = "worker"},
	    {.key = "pid", .num = 4242, .num_unit = "pid"},
	};

	assert_non_null(p);
	assert_int_equal(profile__set_period(p, "cpu", "nanoseconds", 10101010), 0);
	profile__set_time(p, 1700000000123456789LL, 10000000000LL);
	assert_int_equal(profile__add_comment(p, "bpfprof test"), 0);
	m1 = profile__mapping(p, 0x400000, 0x500000, 0x1000, "/usr/bin/worker", "deadbeef");
	m2 = profile__mapping(p, 0x7f0000000000, 0x7f0000100000, 0, "/lib/libraw.so", "");
	mk = profile__mapping(p, 0xffffffff81000000ULL, 0xffffffff82000000ULL, 0,
			      "[kernel.kallsyms]", "");
	fmain = profile__function(p, "main", "main", "/src/worker.c");
	fwork = profile__function(p, "do_work", "do_work", "/src/worker.c");
	fk = profile__function(p, "clear_page_erms", NULL, "[kernel.kallsyms]");
	lmain = profile__location(p, m1, 0x401000, fmain, 12);
	lwork = profile__location(p, m1, 0x402000, fwork, 40);
	lwork2 = profile__location(p, m1, 0x402010, fwork, 41);
	lraw = profile__location(p, m2, 0x7f0000000abc, 0, 0);
	lk = profile__location(p, mk, 0xffffffff81234567ULL, fk, 0);
	{
		uint32_t s1[] = {lwork, lmain};
		uint32_t s2[] = {lwork2, lmain};
		uint32_t s3[] = {lraw, lmain};
		uint32_t s4[] = {lk, lwork, lmain};
		int64_t v1[] = {60, 600000000}, v2[] = {25, 250000000};
		int64_t v3[] = {5, 50000000}, v4[] = {10, 100000000};

		assert_int_equal(profile__add_sample(p, s1, 2, v1, labels, 2), 0);
		assert_int_equal(profile__add_sample(p, s2, 2, v2, labels, 2), 0);
		assert_int_equal(profile__add_sample(p, s3, 2, v3, labels, 1), 0);
		assert_int_equal(profile__add_sample(p, s4, 3, v4, NULL, 0), 0);
	}
	return p;
}

static int setup(void **state)
{
	*state = build_profile();
	return 0;
}

static int teardown(void **state)
{
	profile__free(*state);
	return 0;
}

static struct decoded *encode_decode(const struct profile *p)
{
	struct decoded *d;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_equal(pprof__encode(p, &buf, &len), 0);
	assert_non_null(buf);
	d = decode(buf, len);
	free(buf);
	return d;
}

static void test_header_fields(void **state)
{
	struct decoded *d = encode_decode(*state);

	assert_true(d->n_strings > 1);
	assert_string_equal(str(d, 0), "");
	assert_int_equal(d->n_sample_types, 2);
	assert_string_equal(str(d, d->sample_types[0][0]), "samples");
	assert_string_equal(str(d, d->sample_types[0][1]), "count");
	assert_string_equal(str(d, d->sample_types[1][0]), "cpu");
	assert_string_equal(str(d, d->sample_types[1][1]), "nanoseconds");
	assert_true(d->has_period_type);
	assert_string_equal(str(d, d->period_type[0]), "cpu");
	assert_string_equal(str(d, d->period_type[1]), "nanoseconds");
	assert_int_equal(d->period, 10101010);
	assert_int_equal(d->time_nanos, 1700000000123456789LL);
	assert_int_equal(d->duration_nanos, 10000000000LL);
	assert_int_equal(d->n_comments, 1);
	assert_string_equal(str(d, d->comments[0]), "bpfprof test");
	assert_string_equal(str(d, (uint64_t)d->default_sample_type), "cpu");
	decoded_free(d);
}

static const struct d_function *find_function(const struct decoded *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->n_functions; i++) {
		if (d->functions[i].f[1] == id)
			return &d->functions[i];
	}
	fail_msg("function %" PRIu64 " missing", id);
	return NULL;
}

static const struct d_location *find_location(const struct decoded *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->n_locations; i++) {
		if (d->locations[i].id == id)
			return &d->locations[i];
	}
	fail_msg("location %" PRIu64 " missing", id);
	return NULL;
}

static void test_tables(void **state)
{
	struct decoded *d = encode_decode(*state);
	const struct d_location *l;
	const struct d_function *f;
	const struct d_mapping *m;

	assert_int_equal(d->n_mappings, 3);
	m = &d->mappings[0];
	assert_int_equal(m->f[1], 1);
	assert_int_equal(m->f[2], 0x400000);
	assert_int_equal(m->f[3], 0x500000);
	assert_int_equal(m->f[4], 0x1000);
	assert_string_equal(str(d, m->f[5]), "/usr/bin/worker");
	assert_string_equal(str(d, m->f[6]), "deadbeef");
	assert_int_equal(m->f[7], 1); /* has_functions */
	assert_int_equal(m->f[8], 1); /* has_filenames */
	assert_int_equal(m->f[9], 1); /* has_line_numbers */
	m = &d->mappings[1];
	assert_string_equal(str(d, m->f[5]), "/lib/libraw.so");
	assert_int_equal(m->f[6], 0);
	/* unsymbolized: pprof may still symbolize it */
	assert_int_equal(m->f[7], 0);
	assert_int_equal(m->f[8], 0);
	m = &d->mappings[2];
	assert_int_equal(m->f[2], 0xffffffff81000000ULL);
	assert_int_equal(m->f[7], 1);
	assert_int_equal(m->f[9], 0);

	assert_int_equal(d->n_functions, 3);
	f = find_function(d, 2);
	assert_string_equal(str(d, f->f[2]), "do_work");
	assert_string_equal(str(d, f->f[3]), "do_work");
	assert_string_equal(str(d, f->f[4]), "/src/worker.c");
	f = find_function(d, 3);
	assert_string_equal(str(d, f->f[3]), "clear_page_erms");

	assert_int_equal(d->n_locations, 5);
	l = find_location(d, 3);
	assert_int_equal(l->mapping_id, 1);
	assert_int_equal(l->address, 0x402010);
	assert_int_equal(l->n_lines, 1);
	assert_int_equal(l->function_id, 2);
	assert_int_equal(l->line, 41);
	l = find_location(d, 4);
	assert_int_equal(l->mapping_id, 2);
	assert_int_equal(l->n_lines, 0);
	l = find_location(d, 5);
	assert_int_equal(l->address, 0xffffffff81234567ULL);
	decoded_free(d);
}

static void test_samples(void **state)
{
	struct decoded *d = encode_decode(*state);
	const struct d_sample *s;
	const struct d_label *l;

	assert_int_equal(d->n_samples, 4);
	s = &d->samples[0];
	assert_int_equal(s->n_locs, 2);
	assert_int_equal(s->locs[0], 2); /* leaf first */
	assert_int_equal(s->locs[1], 1);
	assert_int_equal(s->n_values, 2);
	assert_int_equal(s->values[0], 60);
	assert_int_equal(s->values[1], 600000000);
	assert_int_equal(s->n_labels, 2);
	l = &s->labels[0];
	assert_string_equal(str(d, l->key), "comm");
	assert_string_equal(str(d, l->str), "worker");
	l = &s->labels[1];
	assert_string_equal(str(d, l->key), "pid");
	assert_int_equal(l->str, 0);
	assert_int_equal(l->num, 4242);
	assert_string_equal(str(d, l->num_unit), "pid");
	assert_int_equal(d->samples[2].n_labels, 1);
	s = &d->samples[3];
	assert_int_equal(s->n_locs, 3);
	assert_int_equal(s->locs[0], 5);
	assert_int_equal(s->n_labels, 0);
	decoded_free(d);
}

/* The rules of pprof's Profile.CheckValid, on the decoded output. */
static void test_check_valid(void **state)
{
	struct decoded *d = encode_decode(*state);
	size_t i, j;

	for (i = 0; i < d->n_samples; i++) {
		assert_int_equal(d->samples[i].n_values, d->n_sample_types);
		for (j = 0; j < d->samples[i].n_locs; j++)
			find_location(d, d->samples[i].locs[j]);
	}
	for (i = 0; i < d->n_locations; i++) {
		assert_int_not_equal(d->locations[i].id, 0);
		for (j = 0; j < i; j++)
			assert_int_not_equal(d->locations[i].id, d->locations[j].id);
		assert_true(d->locations[i].mapping_id <= d->n_mappings);
		if (d->locations[i].n_lines)
			find_function(d, d->locations[i].function_id);
	}
	for (i = 0; i < d->n_mappings; i++)
		assert_int_equal(d->mappings[i].f[1], i + 1);
	for (i = 0; i < d->n_functions; i++)
		assert_int_equal(d->functions[i].f[1], i + 1);
	decoded_free(d);
}

/*
 * has_functions / has_filenames / has_line_numbers hold only when every
 * location of the mapping has it: pprof never asks about the rest otherwise.
 */
static void test_mapping_flags_exact(void **state)
{
	static const struct profile_value_type t[] = {{"samples", "count"}};
	struct profile *p = profile__new(t, 1, 0);
	struct decoded *d;
	uint32_t all, part, nodwarf, f_src, f_bin, f_bin2;

	(void)state;
	assert_non_null(p);
	all = profile__mapping(p, 0x1000, 0x2000, 0, "/bin/all", "");
	part = profile__mapping(p, 0x3000, 0x4000, 0, "/bin/part", "");
	nodwarf = profile__mapping(p, 0x5000, 0x6000, 0, "/bin/nodwarf", "");
	profile__mapping(p, 0x7000, 0x8000, 0, "/bin/unused", "");
	f_src = profile__function(p, "f", "f", "/src/f.c");
	f_bin = profile__function(p, "g", "g", "/bin/nodwarf");
	f_bin2 = profile__function(p, "h", "h", "/bin/part");
	assert_true(profile__location(p, all, 0x1100, f_src, 3));
	assert_true(profile__location(p, all, 0x1200, f_src, 4));
	assert_true(profile__location(p, part, 0x3100, f_bin2, 0));
	assert_true(profile__location(p, part, 0x3200, 0, 0));
	assert_true(profile__location(p, nodwarf, 0x5100, f_bin, 0));
	assert_true(profile__location(p, nodwarf, 0x5200, f_src, 7));
	d = encode_decode(p);
	assert_int_equal(d->n_mappings, 4);
	/* f[7..9]: has_functions, has_filenames, has_line_numbers */
	assert_true(d->mappings[0].f[7] == 1 && d->mappings[0].f[8] == 1 && d->mappings[0].f[9] == 1);
	assert_true(d->mappings[1].f[7] == 0 && d->mappings[1].f[8] == 0 && d->mappings[1].f[9] == 0);
	/* named from the symbol table only: the binary's path is not a source file */
	assert_true(d->mappings[2].f[7] == 1 && d->mappings[2].f[8] == 0 && d->mappings[2].f[9] == 0);
	assert_true(d->mappings[3].f[7] == 0 && d->mappings[3].f[8] == 0 && d->mappings[3].f[9] == 0);
	assert_false(profile__mapping_by_id(p, part)->has_functions);
	assert_true(profile__mapping_by_id(p, nodwarf)->has_functions);
	assert_false(profile__mapping_by_id(p, nodwarf)->has_line_numbers);
	decoded_free(d);
	profile__free(p);
}

static void test_negative_and_empty(void **state)
{
	static const struct profile_value_type t[] = {{"inuse_space", "bytes"}};
	struct profile *p = profile__new(t, 1, 0);
	uint32_t f, l;
	int64_t v = -4096;
	struct decoded *d;

	(void)state;
	assert_non_null(p);
	d = encode_decode(p);
	assert_int_equal(d->n_samples, 0);
	assert_int_equal(d->n_sample_types, 1);
	assert_false(d->has_period_type);
	decoded_free(d);

	f = profile__function(p, "free_stuff", NULL, "");
	l = profile__location(p, 0, 0x10, f, 0);
	assert_int_equal(profile__add_sample(p, &l, 1, &v, NULL, 0), 0);
	d = encode_decode(p);
	assert_int_equal(d->n_samples, 1);
	assert_int_equal((int64_t)d->samples[0].values[0], -4096);
	assert_int_equal(d->locations[0].mapping_id, 0);
	decoded_free(d);
	profile__free(p);
}

static void gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	size_t cap = 1 << 20;
	z_stream zs = {0};
	uint8_t *buf = malloc(cap);

	assert_non_null(buf);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	*out = buf;
	inflateEnd(&zs);
}

static void test_gzip_round_trip(void **state)
{
	uint8_t *raw = NULL, *gz = NULL, *back = NULL;
	size_t raw_len, gz_len, back_len;

	assert_int_equal(pprof__encode(*state, &raw, &raw_len), 0);
	assert_int_equal(pprof__encode_gz(*state, &gz, &gz_len), 0);
	assert_true(gz_len > 18);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);
	gunzip(gz, gz_len, &back, &back_len);
	assert_int_equal(back_len, raw_len);
	assert_memory_equal(back, raw, raw_len);
	free(raw);
	free(gz);
	free(back);
}

static void test_write_file(void **state)
{
	uint8_t *gz = NULL, file[4096];
	size_t gz_len, n;
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(pprof__write(*state, f), 0);
	assert_int_equal(pprof__encode_gz(*state, &gz, &gz_len), 0);
	rewind(f);
	n = fread(file, 1, sizeof(file), f);
	assert_int_equal(n, gz_len);
	assert_memory_equal(file, gz, gz_len);
	fclose(f);
	free(gz);
	assert_int_equal(pprof__write(NULL, stdout), -EINVAL);
	assert_int_equal(pprof__encode(NULL, &gz, &n), -EINVAL);
}

/* ---- the reference client ---- */

struct go_env {
	char dir[64];
	char file[128];
};

/* Static output buffer: a failed assertion longjmps out and must not leak. */
static const char *run(const struct go_env *e, const char *args, int *status)
{
	static char out[1 << 16];
	size_t cap = sizeof(out), len = 0, n;
	char *cmd = NULL;
	FILE *f;

	assert_true(asprintf(&cmd,
			     "cd %s && HOME=%s GOCACHE=%s/cache GOPATH=%s/go GOFLAGS= "
			     "PPROF_TMPDIR=%s go tool pprof %s %s 2>&1",
			     e->dir, e->dir, e->dir, e->dir, e->dir, args, e->file) > 0);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(out + len, 1, cap - 1 - len, f)) > 0)
		len += n;
	out[len] = '\0';
	*status = pclose(f);
	free(cmd);
	return out;
}

static void test_go_tool_pprof(void **state)
{
	struct go_env e = {.dir = "/tmp/bpfprof-test-XXXXXX"};
	const char *out;
	char *cmd = NULL;
	int status;
	FILE *f;

	/* a missing client is a failure: the format would go unchecked */
	if (system("command -v go >/dev/null 2>&1") != 0)
		fail_msg("`go` not found in PATH; install golang-go");
	assert_non_null(mkdtemp(e.dir));
	snprintf(e.file, sizeof(e.file), "%s/cpu.pb.gz", e.dir);
	f = fopen(e.file, "w");
	assert_non_null(f);
	assert_int_equal(pprof__write(*state, f), 0);
	assert_int_equal(fclose(f), 0);

	out = run(&e, "-raw", &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("go tool pprof -raw failed:\n%s", out);
	assert_non_null(strstr(out, "PeriodType: cpu nanoseconds"));
	assert_non_null(strstr(out, "Period: 10101010"));
	assert_non_null(strstr(out, "samples/count cpu/nanoseconds[dflt]"));
	assert_non_null(strstr(out, "comm:[worker]"));
	assert_non_null(strstr(out, "pid:[4242 pid]"));
	assert_non_null(strstr(out, "/usr/bin/worker"));

	out = run(&e, "-top -nodecount=10", &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("go tool pprof -top failed:\n%s", out);
	assert_non_null(strstr(out, "Type: cpu"));
	/* flat 850ms of 1s for do_work; main only cumulative */
	assert_non_null(strstr(out, "850ms 85.00% 85.00%"));
	assert_non_null(strstr(out, " do_work"));
	assert_non_null(strstr(out, " main"));
	assert_non_null(strstr(out, " clear_page_erms"));

	out = run(&e, "-top -sample_index=samples", &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "85 85.00% 85.00%"));

	assert_true(asprintf(&cmd, "rm -rf %s", e.dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_header_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_valid, setup, teardown),
	    cmocka_unit_test(test_mapping_flags_exact),
	    cmocka_unit_test(test_negative_and_empty),
	    cmocka_unit_test_setup_teardown(test_gzip_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_go_tool_pprof, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
