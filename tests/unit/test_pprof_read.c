// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reader is checked against the writer (round trips with every field),
 * against hand-built messages using what the writer never emits (arbitrary
 * ids, unpacked repeated fields, inlined lines, strings last), and against
 * hostile input: a table of malformed messages, every truncation and random
 * byte flips of a valid one (run under ASan: no crash, no leak), and a gzip
 * bomb.
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
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "writer/pprof.h"
#include "writer/pprof_read.h"
#include "writer/protobuf.h"

static const struct profile_value_type types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

/* A profile using every field the model has. */
static struct profile *rich_profile(void)
{
	struct profile *p = profile__new(types, 2, 1);
	struct profile_label l1[] = {
	    {.key = "pid", .str = "42"},
	    {.key = "comm", .str = "app"},
	    {.key = "bytes", .num = 4096, .num_unit = "bytes"},
	    {.key = "count", .num = -3},
	};
	struct profile_label l2[] = {{.key = "pid", .str = "7"}};
	int64_t v1[2] = {5, 50000000}, v2[2] = {-1, INT64_MAX}, v3[2] = {0, 0};
	uint32_t m1, m2, f1, f2, f3, locs[4];

	assert_non_null(p);
	profile__set_time(p, 1700000000123456789LL, 10000000000LL);
	assert_int_equal(profile__set_period(p, "cpu", "nanoseconds", 10101010), 0);
	assert_int_equal(profile__add_comment(p, "bpfprof test"), 0);
	assert_int_equal(profile__add_comment(p, "second comment"), 0);
	m1 = profile__mapping(p, 0x400000, 0x401000, 0x1000, "/usr/bin/app", "0123abcd");
	m2 = profile__mapping(p, 0xffffffff81000000ULL, UINT64_MAX, 0, "[kernel.kallsyms]", "");
	f1 = profile__function(p, "ns::work()", "_ZN2ns4workEv", "/src/work.cc");
	f2 = profile__function(p, "main", NULL, "/src/main.c");
	f3 = profile__function(p, "schedule", NULL, "[kernel.kallsyms]");
	locs[0] = profile__location(p, m2, 0xffffffff81234567ULL, f3, 0);
	locs[1] = profile__location(p, m1, 0x400123, f1, 77);
	locs[2] = profile__location(p, m1, 0x400456, f2, -1);
	locs[3] = profile__location(p, m1, 0x400789, 0, 0); /* unsymbolized */
	assert_true(m1 && m2 && f1 && f2 && f3 && locs[0] && locs[1] && locs[2] && locs[3]);
	assert_true(profile__location(p, 0, 0x1234, 0, 0)); /* no mapping, unused */
	assert_int_equal(profile__add_sample(p, locs, 4, v1, l1, 4), 0);
	assert_int_equal(profile__add_sample(p, locs + 1, 2, v2, l2, 1), 0);
	assert_int_equal(profile__add_sample(p, NULL, 0, v3, NULL, 0), 0);
	return p;
}

static void assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_header_equal(const struct profile *a, const struct profile *b)
{
	struct profile_value_type pa, pb;
	int64_t ta, tb, da, db, pera, perb;
	size_t i;

	assert_int_equal(profile__n_types(a), profile__n_types(b));
	for (i = 0; i < profile__n_types(a); i++) {
		assert_string_equal(profile__type(a, i)->type, profile__type(b, i)->type);
		assert_string_equal(profile__type(a, i)->unit, profile__type(b, i)->unit);
	}
	assert_int_equal(profile__default_type(a), profile__default_type(b));
	profile__period(a, &pa, &pera);
	profile__period(b, &pb, &perb);
	assert_str_eq_null(pa.type, pb.type);
	assert_str_eq_null(pa.unit, pb.unit);
	assert_int_equal(pera, perb);
	profile__time(a, &ta, &da);
	profile__time(b, &tb, &db);
	assert_int_equal(ta, tb);
	assert_int_equal(da, db);
	assert_int_equal(profile__n_comments(a), profile__n_comments(b));
	for (i = 0; i < profile__n_comments(a); i++)
		assert_string_equal(profile__comment(a, i), profile__comment(b, i));
}

static void assert_tables_equal(const struct profile *a, const struct profile *b)
{
	size_t i;

	assert_int_equal(profile__n_mappings(a), profile__n_mappings(b));
	for (i = 0; i < profile__n_mappings(a); i++) {
		const struct profile_mapping *x = profile__mapping_at(a, i);
		const struct profile_mapping *y = profile__mapping_at(b, i);

		assert_int_equal(x->id, y->id);
		assert_int_equal(x->start, y->start);
		assert_int_equal(x->limit, y->limit);
		assert_int_equal(x->offset, y->offset);
		assert_string_equal(x->file, y->file);
		assert_string_equal(x->build_id, y->build_id);
		assert_int_equal(x->has_functions, y->has_functions);
	}
	assert_int_equal(profile__n_functions(a), profile__n_functions(b));
	for (i = 0; i < profile__n_functions(a); i++) {
		const struct profile_function *x = profile__function_at(a, i);
		const struct profile_function *y = profile__function_at(b, i);

		assert_int_equal(x->id, y->id);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->system_name, y->system_name);
		assert_string_equal(x->file, y->file);
	}
	assert_int_equal(profile__n_locations(a), profile__n_locations(b));
	for (i = 0; i < profile__n_locations(a); i++) {
		const struct profile_location *x = profile__location_at(a, i);
		const struct profile_location *y = profile__location_at(b, i);

		assert_memory_equal(x, y, sizeof(*x));
	}
}

static void assert_samples_equal(const struct profile *a, const struct profile *b)
{
	size_t i, j;

	assert_int_equal(profile__n_samples(a), profile__n_samples(b));
	for (i = 0; i < profile__n_samples(a); i++) {
		const struct profile_sample *x = profile__sample_at(a, i);
		const struct profile_sample *y = profile__sample_at(b, i);

		assert_int_equal(x->n_locations, y->n_locations);
		if (x->n_locations)
			assert_memory_equal(x->location_ids, y->location_ids,
					    x->n_locations * sizeof(uint32_t));
		assert_memory_equal(x->values, y->values, profile__n_types(a) * sizeof(int64_t));
		assert_int_equal(x->n_labels, y->n_labels);
		for (j = 0; j < x->n_labels; j++) {
			assert_string_equal(x->labels[j].key, y->labels[j].key);
			assert_str_eq_null(x->labels[j].str, y->labels[j].str);
			assert_int_equal(x->labels[j].num, y->labels[j].num);
			assert_str_eq_null(x->labels[j].num_unit, y->labels[j].num_unit);
		}
	}
}

static void assert_profiles_equal(const struct profile *a, const struct profile *b)
{
	assert_header_equal(a, b);
	assert_tables_equal(a, b);
	assert_samples_equal(a, b);
}

static void encode(const struct profile *p, uint8_t **buf, size_t *len)
{
	assert_int_equal(pprof__encode(p, buf, len), 0);
}

static void test_round_trip(void **state)
{
	struct profile *p = rich_profile(), *q = NULL, *r = NULL;
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len, len2;

	(void)state;
	encode(p, &buf, &len);
	assert_int_equal(pprof__decode(buf, len, &q), 0);
	assert_profiles_equal(p, q);
	/* decode(encode(decode(x))) is stable too */
	encode(q, &buf2, &len2);
	assert_int_equal(pprof__decode(buf2, len2, &r), 0);
	assert_profiles_equal(p, r);
	free(buf);
	free(buf2);
	profile__free(p);
	profile__free(q);
	profile__free(r);
}

static void test_round_trip_gz_and_file(void **state)
{
	char path[] = "/tmp/bpfprof-test-pprof-XXXXXX";
	struct profile *p = rich_profile(), *q = NULL, *r = NULL, *raw = NULL;
	uint8_t *gz = NULL, *plain = NULL;
	size_t len, plain_len;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(pprof__encode_gz(p, &gz, &len), 0);
	assert_int_equal(pprof__decode_gz(gz, len, &q), 0);
	assert_profiles_equal(p, q);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(pprof__write(p, f), 0);
	fclose(f);
	assert_int_equal(pprof__read_file(path, &r), 0);
	assert_profiles_equal(p, r);

	/* an uncompressed file is read too, as go tool pprof does */
	encode(p, &plain, &plain_len);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(plain, 1, plain_len, f), plain_len);
	fclose(f);
	assert_int_equal(pprof__read_file(path, &raw), 0);
	assert_profiles_equal(p, raw);

	unlink(path);
	assert_int_equal(pprof__read_file(path, &raw), -ENOENT);
	assert_int_equal(pprof__read_file("/tmp", &raw), -EINVAL);
	free(gz);
	free(plain);
	profile__free(p);
	profile__free(q);
	profile__free(r);
	profile__free(raw);
}

/* ---- hand-built messages ---- */

static void pb_value_type(struct pb_buf *b, uint32_t tag, int64_t type, int64_t unit)
{
	size_t s = pb__start(b);

	pb__int64_opt(b, 1, type);
	pb__int64_opt(b, 2, unit);
	pb__end(b, tag, s);
}

/* Strings: 0 "", 1 samples, 2 count, 3 cpu, 4 nanoseconds, 5 /bin/x, 6 inner, 7 outer, 8 pid, 9 7
 */
static void pb_strings(struct pb_buf *b)
{
	static const char *const strs[] = {"",	     "samples", "count", "cpu", "nanoseconds",
					   "/bin/x", "inner",	"outer", "pid", "7"};
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		pb__string(b, 6, strs[i]);
}

/*
 * What other writers do: sparse ids, unpacked repeated fields, one location
 * with an inlined call (two lines), tables after samples, strings last, no
 * default_sample_type (the last type is meant).
 */
static uint8_t *foreign_message(size_t *len)
{
	struct pb_buf b;
	size_t s, l;

	pb__init(&b);
	pb_value_type(&b, 1, 1, 2);
	pb_value_type(&b, 1, 3, 4);
	s = pb__start(&b); /* sample: location 900 then 5, values unpacked */
	pb__uint64(&b, 1, 900);
	pb__uint64(&b, 1, 5);
	pb__int64(&b, 2, 3);
	pb__int64(&b, 2, 300);
	l = pb__start(&b);
	pb__int64(&b, 1, 8);
	pb__int64(&b, 2, 9);
	pb__end(&b, 3, l);
	pb__end(&b, 2, s);
	s = pb__start(&b); /* location 900: inner inlined into outer */
	pb__uint64(&b, 3, 0x1234);
	l = pb__start(&b);
	pb__uint64(&b, 1, 70);
	pb__int64(&b, 2, 11);
	pb__end(&b, 4, l);
	l = pb__start(&b);
	pb__uint64(&b, 1, 71);
	pb__int64(&b, 2, 22);
	pb__end(&b, 4, l);
	pb__uint64(&b, 2, 1000); /* mapping id after the lines */
	pb__uint64(&b, 1, 900);
	pb__end(&b, 4, s);
	s = pb__start(&b); /* location 5: no mapping, no function */
	pb__uint64(&b, 1, 5);
	pb__uint64(&b, 3, 0x99);
	pb__end(&b, 4, s);
	s = pb__start(&b);
	pb__uint64(&b, 1, 1000);
	pb__uint64(&b, 2, 0x1000);
	pb__uint64(&b, 3, 0x2000);
	pb__int64(&b, 5, 5);
	pb__end(&b, 3, s);
	s = pb__start(&b);
	pb__uint64(&b, 1, 71);
	pb__int64(&b, 2, 7);
	pb__end(&b, 5, s);
	s = pb__start(&b);
	pb__uint64(&b, 1, 70);
	pb__int64(&b, 2, 6);
	pb__int64(&b, 5, 100); /* start_line: ignored */
	pb__end(&b, 5, s);
	pb__int64(&b, 99, 12345); /* unknown field: skipped */
	pb_strings(&b);
	assert_int_equal(pb__err(&b), 0);
	return pb__take(&b, len);
}

static void test_foreign_layout(void **state)
{
	const struct profile_location *l0, *l1, *l2;
	const struct profile_sample *s;
	struct profile *p = NULL;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = foreign_message(&len);
	assert_int_equal(pprof__decode(buf, len, &p), 0);
	assert_int_equal(profile__n_types(p), 2);
	assert_int_equal(profile__default_type(p), 1);
	assert_int_equal(profile__n_samples(p), 1);
	s = profile__sample_at(p, 0);
	/* location 900 expands into inner, outer (leaf first), then location 5 */
	assert_int_equal(s->n_locations, 3);
	l0 = profile__location_by_id(p, s->location_ids[0]);
	l1 = profile__location_by_id(p, s->location_ids[1]);
	l2 = profile__location_by_id(p, s->location_ids[2]);
	assert_string_equal(profile__function_by_id(p, l0->function_id)->name, "inner");
	assert_int_equal(l0->line, 11);
	assert_string_equal(profile__function_by_id(p, l1->function_id)->name, "outer");
	assert_int_equal(l1->line, 22);
	assert_int_equal(l0->address, 0x1234);
	assert_int_equal(l1->address, 0x1234);
	assert_string_equal(profile__mapping_by_id(p, l0->mapping_id)->file, "/bin/x");
	assert_int_equal(l2->mapping_id, 0);
	assert_int_equal(l2->function_id, 0);
	assert_int_equal(l2->address, 0x99);
	assert_int_equal(s->values[0], 3);
	assert_int_equal(s->values[1], 300);
	assert_string_equal(profile__sample_label(s, "pid"), "7");
	free(buf);
	profile__free(p);
}

/* ---- malformed input ---- */

struct bad_case {
	const char *name;
	void (*build)(struct pb_buf *b);
};

static void hdr(struct pb_buf *b)
{
	pb_value_type(b, 1, 1, 2);
	pb_strings(b);
}

static void bad_empty(struct pb_buf *b)
{
	(void)b;
}

/* Appends raw bytes: the cases below need what a correct encoder never writes. */
static void put(struct pb_buf *b, const char *bytes, size_t n)
{
	uint8_t *tmp = realloc(b->data, b->len + n);

	assert_non_null(tmp);
	b->data = tmp;
	b->cap = b->len + n;
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
}

static void bad_trunc_key(struct pb_buf *b)
{
	put(b, "\x80", 1);
}

static void bad_len_past_end(struct pb_buf *b)
{
	hdr(b);
	put(b,
	    "\x32\x05"
	    "ab",
	    4);
}

static void bad_varint_11_bytes(struct pb_buf *b)
{
	hdr(b);
	/* time_nanos with 10 continuation bytes */
	put(b, "\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
}

static void bad_group_wire(struct pb_buf *b)
{
	hdr(b);
	put(b, "\x13", 1); /* tag 2, wire 3 (start group) */
}

static void bad_wire_7(struct pb_buf *b)
{
	hdr(b);
	put(b, "\x4f\x01", 2);
}

static void bad_tag_zero(struct pb_buf *b)
{
	hdr(b);
	pb__uint64(b, 0, 1);
}

static void bad_fixed64_short(struct pb_buf *b)
{
	hdr(b);
	put(b, "\x79\x01\x02\x03", 4); /* tag 15 wire 1 with 3 bytes */
}

static void bad_no_strings(struct pb_buf *b)
{
	pb_value_type(b, 1, 0, 0);
}

static void bad_first_string(struct pb_buf *b)
{
	pb__string(b, 6, "x");
	pb_value_type(b, 1, 0, 0);
}

static void bad_type_index(struct pb_buf *b)
{
	pb_value_type(b, 1, 1, 200);
	pb_strings(b);
}

static void bad_too_many_types(struct pb_buf *b)
{
	int i;

	for (i = 0; i <= PROFILE_MAX_TYPES; i++)
		pb_value_type(b, 1, 1, 2);
	pb_strings(b);
}

static void bad_no_types(struct pb_buf *b)
{
	pb_strings(b);
}

static void bad_value_count(struct pb_buf *b)
{
	int64_t v[2] = {1, 2};
	size_t s;

	hdr(b);
	s = pb__start(b);
	pb__packed_int64(b, 2, v, 2);
	pb__end(b, 2, s);
}

static void bad_unknown_location(struct pb_buf *b)
{
	uint32_t loc = 3;
	int64_t v = 1;
	size_t s;

	hdr(b);
	s = pb__start(b);
	pb__packed_uint32(b, 1, &loc, 1);
	pb__packed_int64(b, 2, &v, 1);
	pb__end(b, 2, s);
}

static void bad_unknown_mapping(struct pb_buf *b)
{
	size_t s;

	hdr(b);
	s = pb__start(b);
	pb__uint64(b, 1, 1);
	pb__uint64(b, 2, 4);
	pb__end(b, 4, s);
}

static void bad_unknown_function(struct pb_buf *b)
{
	size_t s, l;

	hdr(b);
	s = pb__start(b);
	pb__uint64(b, 1, 1);
	l = pb__start(b);
	pb__uint64(b, 1, 9);
	pb__end(b, 4, l);
	pb__end(b, 4, s);
}

static void bad_dup_mapping(struct pb_buf *b)
{
	size_t s;
	int i;

	hdr(b);
	for (i = 0; i < 2; i++) {
		s = pb__start(b);
		pb__uint64(b, 1, 1);
		pb__uint64(b, 2, (uint64_t)i);
		pb__end(b, 3, s);
	}
}

static void bad_zero_function_id(struct pb_buf *b)
{
	size_t s;

	hdr(b);
	s = pb__start(b);
	pb__int64(b, 2, 6);
	pb__end(b, 5, s);
}

static void bad_label_key(struct pb_buf *b)
{
	int64_t v = 1;
	size_t s, l;

	hdr(b);
	s = pb__start(b);
	pb__packed_int64(b, 2, &v, 1);
	l = pb__start(b);
	pb__int64(b, 1, 1000);
	pb__end(b, 3, l);
	pb__end(b, 2, s);
}

static void bad_sample_wire(struct pb_buf *b)
{
	hdr(b);
	pb__uint64(b, 2, 5);
}

static void bad_mapping_id_wire(struct pb_buf *b)
{
	size_t s;

	hdr(b);
	s = pb__start(b);
	pb__string(b, 1, "x");
	pb__end(b, 3, s);
}

static void bad_packed_truncated(struct pb_buf *b)
{
	hdr(b);
	/* sample { location_id packed, 2 bytes: 0x81 0x81 (unterminated) } */
	put(b, "\x12\x04\x0a\x02\x81\x81", 6);
}

static void bad_comment_index(struct pb_buf *b)
{
	hdr(b);
	pb__int64(b, 13, 77);
}

static void bad_string_wire(struct pb_buf *b)
{
	hdr(b);
	pb__uint64(b, 6, 1);
}

static void bad_default_type_index(struct pb_buf *b)
{
	hdr(b);
	pb__int64(b, 14, -1);
}

static void bad_nested_len(struct pb_buf *b)
{
	hdr(b);
	/* mapping { field 5 len 9 } inside a 2-byte message */
	put(b, "\x1a\x02\x2a\x09", 4);
}

static void bad_ids_fixed32(struct pb_buf *b)
{
	hdr(b);
	put(b, "\x12\x05\x0d\x01\x00\x00\x00", 7); /* location_id as fixed32 */
}

/* One location with many inlined lines, referenced by samples again and again. */
static void inline_bomb(struct pb_buf *b, int n_lines, int n_samples, int refs)
{
	int64_t v = 1;
	size_t s, l;
	int i, j;

	hdr(b);
	s = pb__start(b);
	pb__uint64(b, 1, 1);
	pb__end(b, 5, s);
	s = pb__start(b);
	pb__uint64(b, 1, 1);
	for (i = 0; i < n_lines; i++) {
		l = pb__start(b);
		pb__uint64(b, 1, 1);
		pb__end(b, 4, l);
	}
	pb__end(b, 4, s);
	for (i = 0; i < n_samples; i++) {
		s = pb__start(b);
		for (j = 0; j < refs; j++)
			pb__uint64(b, 1, 1);
		pb__int64(b, 2, v);
		pb__end(b, 2, s);
	}
}

static void bad_frames_per_sample(struct pb_buf *b)
{
	inline_bomb(b, 1000, 1, 70);
}

static void bad_frame_budget(struct pb_buf *b)
{
	inline_bomb(b, 60000, 40, 1);
}

static const struct bad_case bad_cases[] = {
    {"location ids as fixed32", bad_ids_fixed32},
    {"empty", bad_empty},
    {"truncated key varint", bad_trunc_key},
    {"length past the end", bad_len_past_end},
    {"varint of 11 bytes", bad_varint_11_bytes},
    {"group wire type", bad_group_wire},
    {"wire type 7", bad_wire_7},
    {"tag 0", bad_tag_zero},
    {"fixed64 cut short", bad_fixed64_short},
    {"no string table", bad_no_strings},
    {"string_table[0] not empty", bad_first_string},
    {"type string index out of range", bad_type_index},
    {"more sample types than the model holds", bad_too_many_types},
    {"no sample types", bad_no_types},
    {"value count != type count", bad_value_count},
    {"sample names unknown location", bad_unknown_location},
    {"location names unknown mapping", bad_unknown_mapping},
    {"line names unknown function", bad_unknown_function},
    {"duplicate mapping id", bad_dup_mapping},
    {"function id 0", bad_zero_function_id},
    {"label key out of range", bad_label_key},
    {"sample as varint", bad_sample_wire},
    {"mapping id as bytes", bad_mapping_id_wire},
    {"packed ids truncated", bad_packed_truncated},
    {"comment index out of range", bad_comment_index},
    {"string table entry as varint", bad_string_wire},
    {"negative default type index", bad_default_type_index},
    {"nested length past its parent", bad_nested_len},
};

/* The built message is refused with -EFBIG and a reason starting with want. */
static void expect_limit(void (*build)(struct pb_buf *b), size_t max_mem, const char *want)
{
	struct pprof_limits lim = {.max_mem_bytes = max_mem};
	struct profile *p = NULL;
	char why[256] = "stale";
	struct pb_buf b;
	uint8_t *buf;
	size_t len;
	int err;

	pb__init(&b);
	build(&b);
	assert_int_equal(pb__err(&b), 0);
	buf = pb__take(&b, &len);
	err = pprof__decode_ex(buf, len, &lim, &p, why, sizeof(why));
	if (err != -EFBIG || strncmp(why, want, strlen(want)))
		fail_msg("want -EFBIG '%s...', got %d '%s'", want, err, why);
	assert_null(p);
	/* the same message decodes without the caller's cap (when it set one) */
	if (max_mem) {
		assert_int_equal(pprof__decode_ex(buf, len, NULL, &p, why, sizeof(why)), 0);
		assert_string_equal(why, "");
		profile__free(p);
	}
	free(buf);
}

/* Decodes from an exact-size heap copy, so ASan sees any read past the end. */
static int decode_exact(const uint8_t *buf, size_t len, struct profile **out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	err = pprof__decode(len ? copy : NULL, len, out);
	free(copy);
	return err;
}

static void test_malformed_table(void **state)
{
	struct profile *p = NULL;
	struct pb_buf b;
	uint8_t *buf;
	size_t i, len;

	(void)state;
	/* the base the cases build on is valid: each case fails for its own reason */
	pb__init(&b);
	hdr(&b);
	buf = pb__take(&b, &len);
	assert_int_equal(decode_exact(buf, len, &p), 0);
	assert_int_equal(profile__n_types(p), 1);
	profile__free(p);
	free(buf);
	/* just under both caps the same shapes are fine */
	pb__init(&b);
	inline_bomb(&b, 1000, 1, 65);
	buf = pb__take(&b, &len);
	assert_int_equal(decode_exact(buf, len, &p), 0);
	assert_int_equal(profile__sample_at(p, 0)->n_locations, 65000);
	profile__free(p);
	free(buf);
	pb__init(&b);
	inline_bomb(&b, 60000, 10, 1);
	buf = pb__take(&b, &len);
	assert_int_equal(decode_exact(buf, len, &p), 0);
	profile__free(p);
	free(buf);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		pb__init(&b);
		bad_cases[i].build(&b);
		assert_int_equal(pb__err(&b), 0);
		buf = pb__take(&b, &len);
		p = NULL;
		if (decode_exact(buf, len, &p) != -EINVAL)
			fail_msg("case '%s' was not rejected with -EINVAL", bad_cases[i].name);
		assert_null(p);
		free(buf);
	}
	/* caps are -EFBIG, and the reason names them */
	expect_limit(bad_frames_per_sample, 0, "sample: over 65536 frames");
	expect_limit(bad_frame_budget, 0, "samples: inline expansion over 8 frames per message byte");
	assert_int_equal(pprof__decode(NULL, 0, NULL), -EINVAL);
	assert_int_equal(pprof__decode(NULL, 5, &p), -EINVAL);
}

/* Valid message small enough to truncate and flip exhaustively. */
static uint8_t *small_message(size_t *len)
{
	struct profile *p = rich_profile();
	uint8_t *buf = NULL;

	encode(p, &buf, len);
	profile__free(p);
	return buf;
}

static void test_every_truncation(void **state)
{
	struct profile *p;
	uint8_t *buf;
	size_t len, i;
	int err;

	(void)state;
	buf = small_message(&len);
	for (i = 0; i < len; i++) {
		p = NULL;
		err = decode_exact(buf, i, &p);
		/* a cut on a field boundary can still be a valid (smaller) profile */
		if (err != -EINVAL && err != 0)
			fail_msg("truncation at %zu: %d", i, err);
		if (err)
			assert_null(p);
		profile__free(p);
	}
	free(buf);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64: deterministic, so a failure reproduces */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_random_flips(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct profile *p;
	uint8_t *buf, *mut;
	size_t len, i, k, flips;
	int err, ok = 0;

	(void)state;
	buf = small_message(&len);
	mut = malloc(len);
	assert_non_null(mut);
	for (i = 0; i < 20000; i++) {
		memcpy(mut, buf, len);
		flips = 1 + rng_next(&seed) % 4;
		for (k = 0; k < flips; k++)
			mut[rng_next(&seed) % len] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
		p = NULL;
		err = decode_exact(mut, len, &p);
		if (err != -EINVAL && err != 0)
			fail_msg("flip round %zu: %d", i, err);
		ok += !err;
		profile__free(p);
	}
	print_message("random flips: %d of 20000 still decoded\n", ok);
	free(mut);
	free(buf);
}

/* ---- caps proportional to the input ---- */

#define N_TABLE 3000

static void many_mappings(struct pb_buf *b)
{
	size_t s;
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++) {
		s = pb__start(b);
		pb__uint64(b, 1, i);
		pb__uint64(b, 2, 0x1000 * i);
		pb__end(b, 3, s);
	}
}

static void many_functions(struct pb_buf *b)
{
	size_t s;
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++) {
		s = pb__start(b);
		pb__uint64(b, 1, i);
		pb__int64(b, 2, 1 + i % 9);
		pb__end(b, 5, s);
	}
}

static void many_locations(struct pb_buf *b)
{
	size_t s;
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++) {
		s = pb__start(b);
		pb__uint64(b, 1, i);
		pb__uint64(b, 3, i);
		pb__end(b, 4, s);
	}
}

/* Distinct samples through a label each: the model holds every one. */
static void many_samples(struct pb_buf *b)
{
	size_t s, l;
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++) {
		s = pb__start(b);
		pb__int64(b, 2, 1);
		l = pb__start(b);
		pb__int64(b, 1, 8);
		pb__int64(b, 3, i);
		pb__end(b, 3, l);
		pb__end(b, 2, s);
	}
}

static void many_labels(struct pb_buf *b)
{
	size_t s, l;
	int i;

	hdr(b);
	s = pb__start(b);
	pb__int64(b, 2, 1);
	for (i = 1; i <= N_TABLE; i++) {
		l = pb__start(b);
		pb__int64(b, 1, 8);
		pb__int64(b, 3, i);
		pb__end(b, 3, l);
	}
	pb__end(b, 2, s);
}

static void many_comments(struct pb_buf *b)
{
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++)
		pb__int64(b, 13, 1 + i % 9);
}

static void many_strings(struct pb_buf *b)
{
	int i;

	hdr(b);
	for (i = 1; i <= N_TABLE; i++)
		pb__string(b, 6, "");
}

/* Every table is charged to the memory budget, and the one that overruns it is named. */
static void test_table_caps(void **state)
{
	(void)state;
	expect_limit(many_mappings, 64 << 10, "mappings: decoding would take over 65536 bytes");
	expect_limit(many_functions, 64 << 10, "functions: ");
	expect_limit(many_locations, 64 << 10, "locations: ");
	expect_limit(many_samples, 64 << 10, "samples: ");
	expect_limit(many_labels, 64 << 10, "sample labels: ");
	expect_limit(many_comments, 16 << 10, "comments: ");
	expect_limit(many_strings, 4 << 10, "string table: ");
}

/*
 * The 52-byte profile of the issue: two identical samples whose values sum
 * past INT64_MAX. UBSan aborts this test if the sum overflows.
 */
static void test_identical_samples_saturate(void **state)
{
	int64_t v[2] = {INT64_MAX, INT64_MIN};
	struct profile *p = NULL;
	struct pb_buf b;
	uint8_t *buf;
	size_t len, s;
	int i;

	(void)state;
	pb__init(&b);
	pb_value_type(&b, 1, 1, 2);
	pb_value_type(&b, 1, 3, 4);
	for (i = 0; i < 2; i++) {
		s = pb__start(&b);
		pb__packed_int64(&b, 2, v, 2);
		pb__end(&b, 2, s);
	}
	for (i = 0; i < 5; i++)
		pb__string(&b, 6, (const char *[]){"", "s", "c", "n", "b"}[i]);
	buf = pb__take(&b, &len);
	print_message("identical-samples profile: %zu bytes\n", len);
	assert_int_equal(decode_exact(buf, len, &p), 0);
	assert_int_equal(profile__n_samples(p), 1);
	assert_true(profile__sample_at(p, 0)->values[0] == INT64_MAX);
	assert_true(profile__sample_at(p, 0)->values[1] == INT64_MIN);
	profile__free(p);
	free(buf);
}

/* ---- gzip ---- */

/* gzip of n zero bytes, streamed so the input never exists in memory. */
static uint8_t *gzip_zeros(size_t n, size_t *len)
{
	static uint8_t zeros[1 << 20];
	size_t cap = (n >> 10) + 4096;
	uint8_t *out = malloc(cap);
	z_stream zs = {0};
	size_t chunk;
	int flush;

	assert_non_null(out);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	do {
		chunk = n > sizeof(zeros) ? sizeof(zeros) : n;
		n -= chunk;
		flush = n ? Z_NO_FLUSH : Z_FINISH;
		zs.next_in = zeros;
		zs.avail_in = (uInt)chunk;
		assert_int_not_equal(deflate(&zs, flush), Z_STREAM_ERROR);
		assert_int_equal(zs.avail_in, 0);
		assert_true(zs.avail_out > 0);
	} while (flush != Z_FINISH);
	*len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void test_gunzip_bounds(void **state)
{
	uint8_t *gz, *out = NULL;
	size_t len, out_len = 0;

	(void)state;
	gz = gzip_zeros((size_t)8 << 20, &len);
	assert_int_equal(pprof__gunzip(gz, len, (size_t)1 << 20, &out, &out_len), -EFBIG);
	assert_null(out);
	assert_int_equal(pprof__gunzip(gz, len, ((size_t)8 << 20) - 1, &out, &out_len), -EFBIG);
	assert_int_equal(pprof__gunzip(gz, len, (size_t)8 << 20, &out, &out_len), 0);
	assert_int_equal(out_len, (size_t)8 << 20);
	free(out);
	out = NULL;
	/* truncated and corrupted streams */
	assert_int_equal(pprof__gunzip(gz, len / 2, SIZE_MAX, &out, &out_len), -EINVAL);
	gz[len / 2] ^= 0xff;
	gz[len / 2 + 1] ^= 0xff;
	assert_int_not_equal(pprof__gunzip(gz, len, SIZE_MAX, &out, &out_len), 0);
	assert_int_equal(pprof__gunzip((const uint8_t *)"not gzip", 8, SIZE_MAX, &out, &out_len),
			 -EINVAL);
	assert_null(out);
	free(gz);
}

/* The default bound: 513 MiB of zeros (about 500 KiB compressed) is refused. */
static void test_gzip_bomb(void **state)
{
	struct profile *p = NULL;
	uint8_t *gz;
	size_t len;

	(void)state;
	gz = gzip_zeros(PPROF_MAX_RAW_BYTES + ((size_t)1 << 20), &len);
	assert_true(len < (size_t)4 << 20);
	assert_int_equal(pprof__decode_gz(gz, len, &p), -EFBIG);
	assert_null(p);
	free(gz);
}

/* The bomb through the _ex API: the reason names the limit. */
static void test_gzip_bomb_reason(void **state)
{
	struct pprof_limits lim = {.max_raw_bytes = (size_t)1 << 20};
	struct profile *p = NULL;
	char why[256];
	uint8_t *gz;
	size_t len;

	(void)state;
	gz = gzip_zeros((size_t)2 << 20, &len);
	assert_int_equal(pprof__decode_gz_ex(gz, len, &lim, &p, why, sizeof(why)), -EFBIG);
	assert_string_equal(why, "decompresses to over the 1048576-byte limit");
	assert_null(p);
	free(gz);
}

/*
 * The 62 KB file: a valid header, then 32 M empty strings (64 MB
 * once inflated), gzip'd here with zlib from a repeated chunk.
 */
#define N_EMPTY_STRINGS 32000000u

static uint8_t *gzip_empty_strings(size_t *len, size_t *raw_len)
{
	static uint8_t chunk[1 << 20];
	size_t cap = 256 << 10, i, left = (size_t)N_EMPTY_STRINGS * 2;
	uint8_t *out = malloc(cap), *head;
	z_stream zs = {0};
	struct pb_buf b;
	size_t head_len;

	assert_non_null(out);
	for (i = 0; i < sizeof(chunk); i += 2) {
		chunk[i] = 0x32; /* field 6 (string_table), wire type 2 */
		chunk[i + 1] = 0; /* length 0 */
	}
	pb__init(&b);
	hdr(&b);
	head = pb__take(&b, &head_len);
	*raw_len = head_len + left;
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zs.next_in = head;
	zs.avail_in = (uInt)head_len;
	assert_int_equal(deflate(&zs, Z_NO_FLUSH), Z_OK);
	while (left) {
		size_t n = left > sizeof(chunk) ? sizeof(chunk) : left;

		left -= n;
		zs.next_in = chunk;
		zs.avail_in = (uInt)n;
		assert_int_not_equal(deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH), Z_STREAM_ERROR);
		assert_int_equal(zs.avail_in, 0);
		assert_true(zs.avail_out > 0);
	}
	*len = zs.total_out;
	deflateEnd(&zs);
	free(head);
	return out;
}

/* field: "VmHWM" (peak RSS) or "VmRSS". */
static long vm_kib(const char *field)
{
	char line[256], fmt[32];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	snprintf(fmt, sizeof(fmt), "%s: %%ld kB", field);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* In a child, so the peak RSS measured is this decode's alone. */
static void decode_in_child(const uint8_t *gz, size_t len, long max_kib)
{
	struct profile *p = NULL;
	int status, fd, err;
	long kib, base;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		/* 5 resets the peak to the current RSS */
		fd = open("/proc/self/clear_refs", O_WRONLY);
		if (fd < 0 || write(fd, "5", 1) != 1)
			_exit(3);
		close(fd);
		base = vm_kib("VmRSS");
		err = pprof__decode_gz(gz, len, &p);
		kib = vm_kib("VmHWM") - base;
		fprintf(stderr, "decode: %d, %zu strings kept, peak RSS +%ld KiB (limit %ld)\n", err,
			profile__n_strings(p), kib, max_kib);
		_exit(err ? 2 : profile__n_strings(p) > 3 || kib > max_kib ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_empty_strings_bomb(void **state)
{
	struct pprof_limits lim = {.max_mem_bytes = (size_t)64 << 20};
	struct profile *p = NULL;
	size_t len, raw_len;
	char why[256];
	uint8_t *gz;

	(void)state;
	gz = gzip_empty_strings(&len, &raw_len);
	print_message("%u empty strings: %zu bytes gzip'd, %zu inflated\n", N_EMPTY_STRINGS, len,
		      raw_len);
	assert_true(len < (size_t)100 << 10);
	/* a cap like the store's memory cap refuses it before the table is built */
	assert_int_equal(pprof__decode_gz_ex(gz, len, &lim, &p, why, sizeof(why)), -EFBIG);
	assert_null(p);
	if (strncmp(why, "string table: decoding would take over 67108864 bytes", 50))
		fail_msg("reason: %s", why);
	/*
	 * With the default caps it decodes, in about 5 bytes per string on top
	 * of the 64 MB message (one malloc per string took 1.3 GB): 512 MiB
	 * leaves room for ASan's shadow and quarantine.
	 */
	decode_in_child(gz, len, 512 << 10);
	free(gz);
}

static void test_decode_gz_garbage(void **state)
{
	struct profile *p = NULL, *src = rich_profile();
	uint8_t *gz = NULL;
	size_t len, i;
	int err;

	(void)state;
	assert_int_equal(pprof__encode_gz(src, &gz, &len), 0);
	for (i = 0; i < len; i += 7) {
		err = pprof__decode_gz(gz, i, &p);
		assert_true(err == -EINVAL);
		assert_null(p);
	}
	free(gz);
	profile__free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	      cmocka_unit_test(test_round_trip_gz_and_file),
	    cmocka_unit_test(test_foreign_layout),    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_every_truncation),  cmocka_unit_test(test_random_flips),
	    cmocka_unit_test(test_gunzip_bounds),     cmocka_unit_test(test_gzip_bomb),
	    cmocka_unit_test(test_decode_gz_garbage),
	    cmocka_unit_test(test_table_caps),	      cmocka_unit_test(test_identical_samples_saturate),
	    cmocka_unit_test(test_gzip_bomb_reason),  cmocka_unit_test(test_empty_strings_bomb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
