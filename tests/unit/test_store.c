// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Store tests drive time by hand (t_ns is an argument), so window closing,
 * retention and rotation are deterministic. Data dirs live under a fresh
 * mkdtemp directory that each test removes.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "profile/merge.h"
#include "profile/profile.h"
#include "store/store.h"
#include "writer/pprof.h"
#include "writer/protobuf.h"

#define SEC	 ((int64_t)1000000000)
#define T0	 ((int64_t)1700000000 * SEC) /* a multiple of 10 s */
#define AT(s)	 (T0 + (int64_t)((s)*SEC))
#define MS(t_ns) ((int64_t)((t_ns) / 1000000))

static const struct profile_value_type cpu_types[] = {
    {"samples", "count"},
    {"cpu", "nanoseconds"},
};

/* A slice: n samples of fn <- main in /bin/<comm>, labelled with pid and comm. */
static struct profile *slice_new(uint32_t pid, const char *comm, const char *fn, int64_t n)
{
	struct profile *p = profile__new(cpu_types, 2, 1);
	char spid[16], path[64];
	struct profile_label labels[] = {
	    {.key = "pid", .str = spid},
	    {.key = "comm", .str = comm},
	};
	int64_t values[2] = {n, n * 1000};
	uint32_t m, locs[2];

	assert_non_null(p);
	snprintf(spid, sizeof(spid), "%" PRIu32, pid);
	snprintf(path, sizeof(path), "/bin/%s", comm);
	m = profile__mapping(p, 0x400000, 0x500000, 0, path, "");
	locs[0] = profile__location(p, m, 0x401000, profile__function(p, fn, NULL, path), 1);
	locs[1] = profile__location(p, m, 0x402000, profile__function(p, "main", NULL, path), 2);
	assert_true(m && locs[0] && locs[1]);
	assert_int_equal(profile__add_sample(p, locs, 2, values, labels, 2), 0);
	return p;
}

static void add(struct store *s, int64_t t_ns, uint32_t pid, const char *comm, int64_t n)
{
	struct profile *p = slice_new(pid, comm, "work", n);

	assert_int_equal(store__add(s, p, t_ns), 0);
	profile__free(p);
}

/* Total samples in [from, to), or -1 for -ENOENT. */
static int64_t total(struct store *s, int64_t from, int64_t to, const struct profile_filter *f)
{
	struct profile *p = NULL;
	int64_t t, time, duration;
	int err;

	err = store__query(s, from, to, f, &p);
	if (err == -ENOENT)
		return -1;
	assert_int_equal(err, 0);
	/* The result spans the windows merged, which overlap the range asked for. */
	profile__time(p, &time, &duration);
	assert_true(duration > 0);
	assert_true(time < to);
	assert_true(time + duration > from);
	t = profile__total(p, 0);
	assert_int_equal(profile__total(p, 1), t * 1000);
	profile__free(p);
	return t;
}

static struct store_stats stats(struct store *s)
{
	struct store_stats st;

	store__stats(s, &st);
	return st;
}

static void test_windows_close_at_boundaries(void **state)
{
	struct store_opts o = {.window_s = 10};
	struct store *s = store__new(&o);
	int64_t from, to;

	(void)state;
	assert_non_null(s);
	store__span(s, &from, &to);
	assert_true(from == 0 && to == 0);
	assert_int_equal(total(s, AT(0), AT(10), NULL), -1);

	add(s, AT(1), 1, "a", 1);
	add(s, AT(9.999), 1, "a", 2);
	assert_int_equal(stats(s).windows, 0); /* still open */
	assert_int_equal(total(s, AT(0), AT(10), NULL), 3);
	add(s, AT(10), 1, "a", 4); /* exactly the boundary: next window */
	assert_int_equal(stats(s).windows, 1);
	assert_int_equal(total(s, AT(0), AT(10), NULL), 3);
	assert_int_equal(total(s, AT(10), AT(20), NULL), 4);
	/* windows overlapping the range count whole */
	assert_int_equal(total(s, AT(5), AT(6), NULL), 3);
	assert_int_equal(total(s, AT(9), AT(11), NULL), 7);
	store__span(s, &from, &to);
	assert_int_equal(from, AT(0));
	assert_int_equal(to, AT(20));

	/* a gap leaves no window behind */
	add(s, AT(35), 1, "a", 8);
	assert_int_equal(total(s, AT(20), AT(30), NULL), -1);
	assert_int_equal(total(s, AT(30), AT(40), NULL), 8);
	/* late data (clock stepped back) lands in the open window */
	add(s, AT(2), 1, "a", 16);
	assert_int_equal(total(s, AT(30), AT(40), NULL), 24);
	assert_int_equal(total(s, AT(0), AT(10), NULL), 3);

	/* an empty slice still opens a window: an idle period answers empty */
	{
		struct profile *empty = profile__new(cpu_types, 2, 1);

		assert_int_equal(store__add(s, empty, AT(45)), 0);
		profile__free(empty);
	}
	assert_int_equal(total(s, AT(40), AT(50), NULL), 0);
	assert_int_equal(store__flush(s), 0);
	assert_int_equal(stats(s).windows, 4);
	assert_int_equal(store__flush(s), 0); /* nothing open: no-op */
	assert_int_equal(total(s, AT(0), AT(100), NULL), 31);
	assert_int_equal(store__query(s, AT(10), AT(10), NULL, &(struct profile *){0}), -EINVAL);
	store__free(s);
	store__free(NULL);
}

static void test_sample_type_mismatch(void **state)
{
	static const struct profile_value_type heap[] = {{"alloc_space", "bytes"}};
	struct store *s = store__new(NULL);
	struct profile *h = profile__new(heap, 1, 0);

	(void)state;
	assert_true(s && h);
	add(s, AT(1), 1, "a", 1);
	assert_int_equal(store__add(s, h, AT(2)), -EINVAL);
	assert_int_equal(store__add(s, NULL, AT(2)), -EINVAL);
	assert_int_equal(total(s, AT(0), AT(10), NULL), 1);
	profile__free(h);
	store__free(s);
}

static void test_retention(void **state)
{
	struct store_opts o = {.window_s = 10, .retention_s = 30};
	struct store *s = store__new(&o);
	struct store_stats st;
	int i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i <= 10; i++)
		add(s, AT(10 * i + 1), 1, "a", 1);
	/* newest (open) window ends at 110: closed windows must end after 80 */
	st = stats(s);
	assert_int_equal(st.windows, 2);
	assert_int_equal(st.evicted, 8);
	assert_int_equal(total(s, AT(0), AT(80), NULL), -1);
	assert_int_equal(total(s, AT(0), AT(200), NULL), 3);
	store__free(s);
}

/* One window's worth: n distinct stacks, one sample each. */
static struct profile *wide_slice(int n)
{
	struct profile *p = profile__new(cpu_types, 2, 1), *q;
	char fn[32];
	int i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		snprintf(fn, sizeof(fn), "f%d", i);
		q = slice_new(1, "a", fn, 1);
		assert_int_equal(profile__merge(p, q, NULL), 0);
		profile__free(q);
	}
	return p;
}

static void test_memory_cap(void **state)
{
	struct profile *p = wide_slice(200);
	struct store_opts o = {.window_s = 10};
	struct store_stats st;
	struct store *s;
	size_t one = profile__bytes(p);
	int i;

	(void)state;
	o.max_bytes = one * 3 + one / 2;
	s = store__new(&o);
	assert_non_null(s);
	for (i = 0; i < 10; i++)
		assert_int_equal(store__add(s, p, AT(10 * i)), 0);
	st = stats(s);
	assert_int_equal(st.windows, 3);
	assert_int_equal(st.evicted, 6);
	/* stats.bytes also counts the open window, which the cap leaves out */
	assert_true(st.bytes <= o.max_bytes + one);
	assert_int_equal(total(s, AT(0), AT(60), NULL), -1);
	assert_int_equal(total(s, AT(60), AT(100), NULL), 4 * 200);
	store__free(s);
	profile__free(p);
}

static void test_query_filters(void **state)
{
	struct store *s = store__new(NULL);
	uint32_t pid2 = 2, pids[] = {1, 3};

	(void)state;
	assert_non_null(s);
	add(s, AT(1), 1, "app", 1);
	add(s, AT(2), 2, "db", 10);
	add(s, AT(11), 3, "app", 100);
	add(s, AT(12), 2, "db", 1000);
	assert_int_equal(total(s, AT(0), AT(20), NULL), 1111);
	assert_int_equal(
	    total(s, AT(0), AT(20), &(struct profile_filter){.pids = &pid2, .n_pids = 1}), 1010);
	assert_int_equal(
	    total(s, AT(0), AT(20), &(struct profile_filter){.pids = pids, .n_pids = 2}), 101);
	assert_int_equal(total(s, AT(0), AT(20), &(struct profile_filter){.comm = "app"}), 101);
	assert_int_equal(total(s, AT(10), AT(20), &(struct profile_filter){.comm = "db"}), 1000);
	/* no match still answers (an empty profile), unlike no window */
	assert_int_equal(total(s, AT(0), AT(20), &(struct profile_filter){.comm = "none"}), 0);
	store__free(s);
}

/* ---- data dir ---- */

/* vsnprintf: test paths are short, and this keeps -Wformat-truncation quiet at -O2 */
static void __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

static char tmp_root[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/bpfprof-store-XXXXXX");
	return mkdtemp(tmp_root) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	fmt(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *sub(const char *name)
{
	static char path[256];

	fmt(path, sizeof(path), "%s/%s", tmp_root, name);
	return path;
}

static size_t count_window_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "window-", 7) && strstr(de->d_name, ".pb.gz");
	closedir(d);
	return n;
}

static bool window_file_exists(const char *dir, int64_t from, int64_t to)
{
	char path[256];

	fmt(path, sizeof(path), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", dir, MS(from), MS(to));
	return access(path, F_OK) == 0;
}

static void test_persistence(void **state)
{
	char dir[256];
	struct store_opts o = {.window_s = 10};
	struct store *s;
	struct store_stats st;
	struct stat sb;
	uint32_t pid2 = 2;

	(void)state;
	/* two levels that do not exist yet */
	fmt(dir, sizeof(dir), "%s/data", sub("nested"));
	o.data_dir = dir;
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	add(s, AT(1), 1, "app", 1);
	add(s, AT(11), 2, "db", 10);
	add(s, AT(21), 1, "app", 100);
	assert_int_equal(store__flush(s), 0);
	st = stats(s);
	assert_int_equal(st.files, 3);
	assert_true(st.file_bytes > 0);
	assert_int_equal(st.write_errors, 0);
	assert_true(window_file_exists(dir, AT(10), AT(20)));
	assert_int_equal(total(s, AT(0), AT(30), NULL), 111);
	store__free(s);

	s = store__new(&o);
	assert_non_null(s);
	st = stats(s);
	assert_int_equal(st.loaded, 3);
	assert_int_equal(st.windows, 3);
	assert_int_equal(st.files, 3);
	assert_int_equal(total(s, AT(0), AT(30), NULL), 111);
	assert_int_equal(
	    total(s, AT(0), AT(30), &(struct profile_filter){.pids = &pid2, .n_pids = 1}), 10);
	assert_int_equal(total(s, AT(10), AT(20), NULL), 10);

	/* a restart inside the last flushed window continues it, file included */
	add(s, AT(25), 1, "app", 1000);
	assert_int_equal(total(s, AT(20), AT(30), NULL), 1100);
	assert_int_equal(store__flush(s), 0);
	assert_int_equal(stats(s).files, 3);
	store__free(s);
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(total(s, AT(0), AT(30), NULL), 1111);
	store__free(s);
}

static void test_load_respects_retention_and_cap(void **state)
{
	struct store_opts o = {.window_s = 10, .data_dir = sub("ret")};
	struct store *s;
	int i;

	(void)state;
	s = store__new(&o);
	assert_non_null(s);
	for (i = 0; i < 6; i++)
		add(s, AT(10 * i), 1, "app", 1);
	assert_int_equal(store__flush(s), 0);
	store__free(s);

	o.retention_s = 25; /* windows ending after 60 - 25 = 35 */
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stats(s).loaded, 3);
	assert_int_equal(stats(s).files, 6);
	assert_int_equal(total(s, AT(0), AT(30), NULL), -1);
	store__free(s);

	o.retention_s = 0;
	o.max_bytes = 1024; /* nothing fits: files stay, nothing loads */
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stats(s).loaded, 0);
	assert_int_equal(stats(s).files, 6);
	assert_int_equal(stats(s).files_rejected, 6);
	store__free(s);
	o.max_bytes = 1; /* smaller than the files: never readable, out of rotation */
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stats(s).files, 0);
	assert_int_equal(stats(s).files_rejected, 6);
	store__free(s);
	assert_int_equal(count_window_files(o.data_dir), 6);
}

static void test_rotation_by_count(void **state)
{
	struct store_opts o = {.window_s = 10, .max_files = 2, .data_dir = sub("count")};
	struct store *s = store__new(&o);
	struct store_stats st;
	int i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < 5; i++)
		add(s, AT(10 * i), 1, "app", 1);
	assert_int_equal(store__flush(s), 0);
	st = stats(s);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.files_rotated, 3);
	assert_int_equal(count_window_files(o.data_dir), 2);
	assert_true(window_file_exists(o.data_dir, AT(30), AT(40)));
	assert_true(window_file_exists(o.data_dir, AT(40), AT(50)));
	assert_false(window_file_exists(o.data_dir, AT(20), AT(30)));
	/* memory keeps what rotation deleted */
	assert_int_equal(total(s, AT(0), AT(50), NULL), 5);
	store__free(s);

	/* a lower limit at start-up rotates right away */
	o.max_files = 1;
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stats(s).files, 1);
	assert_int_equal(stats(s).loaded, 1);
	assert_int_equal(count_window_files(o.data_dir), 1);
	store__free(s);
}

static void test_rotation_by_bytes(void **state)
{
	struct store_opts o = {.window_s = 10, .data_dir = sub("bytes")};
	struct store *s = store__new(&o);
	struct store_stats st;
	uint64_t one;
	int i;

	(void)state;
	assert_non_null(s);
	add(s, AT(0), 1, "app", 1);
	assert_int_equal(store__flush(s), 0);
	one = stats(s).file_bytes;
	assert_true(one > 0);
	store__free(s);

	/* same-sized windows: room for two and a half */
	o.max_dir_bytes = one * 2 + one / 2;
	s = store__new(&o);
	assert_non_null(s);
	for (i = 1; i < 6; i++)
		add(s, AT(10 * i), 1, "app", 1);
	assert_int_equal(store__flush(s), 0);
	st = stats(s);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.files_rotated, 4);
	assert_true(st.file_bytes <= o.max_dir_bytes);
	assert_int_equal(count_window_files(o.data_dir), 2);
	store__free(s);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_garbage_files_skipped(void **state)
{
	struct store_opts o = {.window_s = 10, .data_dir = sub("garbage")};
	char name[128], good[256], path[256];
	struct store *s = store__new(&o);
	struct store_stats st;
	FILE *in;
	uint8_t buf[64];
	size_t n;

	(void)state;
	assert_non_null(s);
	add(s, AT(0), 1, "app", 1);
	add(s, AT(10), 1, "app", 2);
	assert_int_equal(store__flush(s), 0);
	store__free(s);

	/* our name, not a profile */
	fmt(name, sizeof(name), "window-%" PRId64 "-%" PRId64 ".pb.gz", MS(AT(20)), MS(AT(30)));
	write_file(o.data_dir, name, "garbage", 7);
	/* our name, a real file cut short */
	fmt(good, sizeof(good), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir, MS(AT(10)),
	    MS(AT(20)));
	in = fopen(good, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fmt(name, sizeof(name), "window-%" PRId64 "-%" PRId64 ".pb.gz", MS(AT(30)), MS(AT(40)));
	write_file(o.data_dir, name, buf, n / 2);
	/* not ours */
	write_file(o.data_dir, "notes.txt", "hi", 2);
	write_file(o.data_dir, "window-x-y.pb.gz", "hi", 2);
	write_file(o.data_dir, "window-010-020.pb.gz", "hi", 2);
	write_file(o.data_dir, "window-1-2.pb.gz.tmp", "hi", 2);
	fmt(path, sizeof(path), "%s/window-5-6.pb.gz", o.data_dir);
	assert_int_equal(mkdir(path, 0700), 0);

	s = store__new(&o);
	assert_non_null(s);
	st = stats(s);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.files, 2);
	assert_int_equal(total(s, AT(0), AT(20), NULL), 3);
	assert_int_equal(total(s, AT(20), AT(40), NULL), -1);
	store__free(s);
	/* nothing was deleted */
	assert_true(window_file_exists(o.data_dir, AT(20), AT(30)));
	assert_true(window_file_exists(o.data_dir, AT(30), AT(40)));
	fmt(path, sizeof(path), "%s/notes.txt", o.data_dir);
	assert_int_equal(access(path, F_OK), 0);
}

/* gzip of n copies of the pattern (after head), streamed: the input never exists whole. */
static uint8_t *gzip_repeat(const void *head, size_t head_len, const char *pat, size_t pat_len,
			    size_t n, size_t *len)
{
	static uint8_t chunk[1 << 16];
	size_t per = sizeof(chunk) / pat_len, cap = (n * pat_len >> 9) + 65536, i;
	uint8_t *out = malloc(cap);
	z_stream zs = {0};

	assert_non_null(out);
	for (i = 0; i < per; i++)
		memcpy(chunk + i * pat_len, pat, pat_len);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zs.next_in = (Bytef *)head;
	zs.avail_in = (uInt)head_len;
	assert_int_equal(deflate(&zs, Z_NO_FLUSH), Z_OK);
	do {
		size_t k = n > per ? per : n;

		n -= k;
		zs.next_in = chunk;
		zs.avail_in = (uInt)(k * pat_len);
		assert_int_not_equal(deflate(&zs, n ? Z_NO_FLUSH : Z_FINISH), Z_STREAM_ERROR);
		assert_true(zs.avail_out > 0);
	} while (n);
	*len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* A profile.proto header: one sample type, strings "", "samples", "count". */
static uint8_t *pb_header(size_t *len)
{
	struct pb_buf b;
	size_t s;

	pb__init(&b);
	s = pb__start(&b);
	pb__int64(&b, 1, 1);
	pb__int64(&b, 2, 2);
	pb__end(&b, 1, s);
	pb__string(&b, 6, "");
	pb__string(&b, 6, "samples");
	pb__string(&b, 6, "count");
	assert_int_equal(pb__err(&b), 0);
	return pb__take(&b, len);
}

static void write_window(const char *dir, int64_t from_ns, int64_t to_ns, const void *data,
			 size_t len)
{
	char name[128];

	fmt(name, sizeof(name), "window-%" PRId64 "-%" PRId64 ".pb.gz", MS(from_ns), MS(to_ns));
	write_file(dir, name, data, len);
}

static void write_profile(const char *dir, int64_t from_ns, int64_t to_ns, const struct profile *p)
{
	uint8_t *gz = NULL;
	size_t len;

	assert_int_equal(pprof__encode_gz(p, &gz, &len), 0);
	write_window(dir, from_ns, to_ns, gz, len);
	free(gz);
}

/*
 * Crafted files in the data dir: each is refused and counted (and logged),
 * the good ones load, and the store keeps working. The ring cap (4 MiB)
 * is what the reader is held to.
 */
static void test_hostile_files(void **state)
{
	struct store_opts o = {.window_s = 10, .max_bytes = 4 << 20, .data_dir = sub("hostile")};
	int64_t big[2] = {INT64_MAX, INT64_MAX};
	struct profile *p = slice_new(1, "app", "work", 1), *q, *q2 = NULL;
	char path[256], target[256];
	struct store_stats st;
	uint8_t *head, *gz;
	size_t head_len, len;
	struct store *s;
	uint32_t loc;

	(void)state;
	assert_int_equal(mkdir(o.data_dir, 0700), 0);
	write_profile(o.data_dir, AT(0), AT(10), p);
	/* two identical samples of INT64_MAX: loads, and the sum clamps */
	q = profile__new(cpu_types, 2, 1);
	assert_non_null(q);
	loc = profile__location(q, 0, 0x1234, 0, 0);
	assert_int_equal(profile__add_sample(q, &loc, 1, big, NULL, 0), 0);
	write_profile(o.data_dir, AT(10), AT(20), q);
	/* a gzip bomb: 8 MiB of zeros from ~8 KiB */
	gz = gzip_repeat("", 0, "\0", 1, 8 << 20, &len);
	write_window(o.data_dir, AT(20), AT(30), gz, len);
	free(gz);
	/* 1.5 M empty strings: 3 MB inflated, under the cap, but 7.5 MB as a string table */
	head = pb_header(&head_len);
	gz = gzip_repeat(head, head_len, "\x32\x00", 2, 1500000, &len);
	write_window(o.data_dir, AT(30), AT(40), gz, len);
	free(gz);
	free(head);
	/* 1 TiB, sparse: counted by size, it would make rotation delete everything */
	fmt(path, sizeof(path), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir, MS(AT(60)),
	    MS(AT(70)));
	write_file(o.data_dir, path + strlen(o.data_dir) + 1, "", 0);
	assert_int_equal(truncate(path, (off_t)1 << 40), 0);
	/* a FIFO would block a read; a symlink could point anywhere */
	fmt(path, sizeof(path), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir, MS(AT(40)),
	    MS(AT(50)));
	assert_int_equal(mkfifo(path, 0600), 0);
	fmt(target, sizeof(target), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir,
	    MS(AT(0)), MS(AT(10)));
	fmt(path, sizeof(path), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir, MS(AT(50)),
	    MS(AT(60)));
	assert_int_equal(symlink(target, path), 0);

	s = store__new(&o);
	assert_non_null(s);
	st = stats(s);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.files_rejected, 5); /* bomb, strings, FIFO, symlink, sparse */
	assert_int_equal(st.load_errors, 0);
	assert_int_equal(st.files_rotated, 0);
	assert_int_equal(total(s, AT(0), AT(10), NULL), 1);
	/* merging the INT64_MAX window with the other one clamps */
	assert_int_equal(store__query(s, AT(0), AT(20), NULL, &q2), 0);
	assert_true(profile__total(q2, 0) == INT64_MAX);
	assert_true(profile__total(q2, 1) == INT64_MAX);
	profile__free(q2);
	/* and it keeps storing */
	add(s, AT(71), 1, "app", 5);
	assert_int_equal(store__flush(s), 0);
	assert_int_equal(total(s, AT(70), AT(80), NULL), 5);
	store__free(s);
	profile__free(p);
	profile__free(q);
}

/* Start-up decodes at most 4x the ring's cap in all, however many bombs there are. */
static void test_load_work_bounded(void **state)
{
	struct store_opts o = {.window_s = 10, .max_bytes = 1 << 20, .data_dir = sub("work")};
	struct store_stats st;
	struct store *s;
	uint8_t *gz;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(mkdir(o.data_dir, 0700), 0);
	gz = gzip_repeat("", 0, "\0", 1, 2 << 20, &len);
	for (i = 0; i < 50; i++)
		write_window(o.data_dir, AT(10 * i), AT(10 * i + 10), gz, len);
	free(gz);
	s = store__new(&o);
	assert_non_null(s);
	st = stats(s);
	/* each bomb is inflated up to the 1 MiB cap: four of them spend the budget */
	assert_int_equal(st.files_rejected, 4);
	assert_int_equal(st.loaded, 0);
	assert_int_equal(st.files, 50);
	add(s, AT(501), 1, "app", 2);
	assert_int_equal(total(s, AT(500), AT(510), NULL), 2);
	store__free(s);
}

/* Thousands of window names: scanning rotates as it goes, the log is capped, all counted. */
static void test_many_names(void **state)
{
	struct store_opts o = {.window_s = 10, .max_files = 10, .data_dir = sub("many")};
	char path[256];
	struct store_stats st;
	struct store *s;
	int i;

	(void)state;
	assert_int_equal(mkdir(o.data_dir, 0700), 0);
	for (i = 0; i < 500; i++)
		write_window(o.data_dir, AT(10 * i), AT(10 * i + 10), "junk", 4);
	for (i = 0; i < 100; i++) {
		fmt(path, sizeof(path), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz", o.data_dir,
		    MS(AT(10 * i + 5000)), MS(AT(10 * i + 5010)));
		assert_int_equal(mkfifo(path, 0600), 0);
	}
	s = store__new(&o);
	assert_non_null(s);
	st = stats(s);
	assert_int_equal(st.files_rotated, 490);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.load_errors, 10);
	assert_int_equal(st.files_rejected, 100);
	assert_int_equal(count_window_files(o.data_dir), 110);
	store__free(s);
}

/* A window from the future would make every new window look too old to keep. */
static void test_future_window_skipped(void **state)
{
	struct store_opts o = {.window_s = 10, .retention_s = 60, .data_dir = sub("future")};
	struct profile *p = slice_new(1, "app", "work", 3);
	int64_t now = (int64_t)time(NULL) / 10 * 10 * SEC;
	struct store *s;

	(void)state;
	assert_int_equal(mkdir(o.data_dir, 0700), 0);
	write_profile(o.data_dir, now - 20 * SEC, now - 10 * SEC, p);
	write_profile(o.data_dir, now + 86400 * SEC, now + 86410 * SEC, p);
	s = store__new(&o);
	assert_non_null(s);
	assert_int_equal(stats(s).loaded, 1);
	assert_int_equal(stats(s).files_rejected, 1);
	add(s, now, 1, "app", 4);
	add(s, now + 10 * SEC, 1, "app", 4); /* closes the window at now */
	assert_int_equal(total(s, now - 20 * SEC, now + 10 * SEC, NULL), 7);
	store__free(s);
	profile__free(p);
}

static void test_unwritable_dir_counts_errors(void **state)
{
	struct store_opts o = {.window_s = 10, .data_dir = sub("ro")};
	struct store *s = store__new(&o);
	char blocker[256];

	(void)state;
	assert_non_null(s);
	/* a directory where the temp file should go makes every write fail, even as root */
	fmt(blocker, sizeof(blocker), "%s/window-%" PRId64 "-%" PRId64 ".pb.gz.tmp", o.data_dir,
	    MS(AT(0)), MS(AT(10)));
	assert_int_equal(mkdir(blocker, 0700), 0);
	add(s, AT(1), 1, "app", 1);
	add(s, AT(11), 1, "app", 1);
	assert_int_equal(stats(s).write_errors, 1);
	assert_int_equal(stats(s).files, 0);
	assert_int_equal(total(s, AT(0), AT(10), NULL), 1);
	store__free(s);

	/* a data dir that is a file is refused at start-up */
	write_file(tmp_root, "plainfile", "x", 1);
	o.data_dir = sub("plainfile");
	errno = 0;
	assert_null(store__new(&o));
	assert_int_equal(errno, ENOTDIR);
}

/* ---- concurrency ---- */

#define ADDERS		2
#define QUERIERS	2
#define ADDS_PER_THREAD 400

struct race {
	struct store *s;
	int id;
};

static void *race_adder(void *arg)
{
	struct race *r = arg;
	struct profile *p = slice_new((uint32_t)r->id, r->id ? "b" : "a", "work", 1);
	int i;

	for (i = 0; i < ADDS_PER_THREAD; i++) {
		/* 4 adds per 1 s step: many windows close while queries run */
		if (store__add(r->s, p, AT(i / 4)))
			break;
	}
	profile__free(p);
	return (void *)(intptr_t)i;
}

static void *race_querier(void *arg)
{
	struct race *r = arg;
	struct store_stats st;
	struct profile *p;
	int64_t from, to;
	int i, bad = 0;

	for (i = 0; i < 300; i++) {
		store__span(r->s, &from, &to);
		store__stats(r->s, &st);
		p = NULL;
		if (from < to) {
			int err = store__query(r->s, from, to, NULL, &p);

			bad += err != 0 && err != -ENOENT;
			if (!err)
				bad += profile__total(p, 0) > ADDERS * ADDS_PER_THREAD;
		}
		profile__free(p);
	}
	return (void *)(intptr_t)bad;
}

static void test_concurrent_add_query(void **state)
{
	struct store_opts o = {.window_s = 10, .data_dir = sub("race"), .max_files = 5};
	struct race r[ADDERS + QUERIERS];
	pthread_t th[ADDERS + QUERIERS];
	void *ret;
	int i;

	(void)state;
	r[0].s = store__new(&o);
	assert_non_null(r[0].s);
	for (i = 0; i < ADDERS + QUERIERS; i++) {
		r[i].s = r[0].s;
		r[i].id = i;
		assert_int_equal(
		    pthread_create(&th[i], NULL, i < ADDERS ? race_adder : race_querier, &r[i]), 0);
	}
	for (i = 0; i < ADDERS + QUERIERS; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		if (i < ADDERS)
			assert_int_equal((intptr_t)ret, ADDS_PER_THREAD);
		else
			assert_int_equal((intptr_t)ret, 0);
	}
	assert_int_equal(store__flush(r[0].s), 0);
	assert_int_equal(total(r[0].s, AT(0), AT(1000), NULL), ADDERS * ADDS_PER_THREAD);
	assert_int_equal(stats(r[0].s).write_errors, 0);
	assert_int_equal(stats(r[0].s).files, 5);
	store__free(r[0].s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_windows_close_at_boundaries),
	    cmocka_unit_test(test_sample_type_mismatch),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_memory_cap),
	    cmocka_unit_test(test_query_filters),
	    cmocka_unit_test_setup_teardown(test_persistence, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_load_respects_retention_and_cap, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_by_count, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_by_bytes, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_files_skipped, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_files, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_future_window_skipped, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_load_work_bounded, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_many_names, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable_dir_counts_errors, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_add_query, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
