// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Snapshots (user/health/snapshots.h): id validation against path tricks,
 * save / list / read / delete in a temp data dir, sidecars, rotation.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "health/snapshots.h"

static char dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bpfprof-snap-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool valid(const char *s)
{
	return snapshot__id_valid(s, strlen(s));
}

static void test_id_validation(void **state)
{
	static const char nul_id[] = "0123456789abcdef\0../../etc";

	(void)state;
	assert_true(valid("0123456789abcdef01234567"));
	assert_true(valid("0123456789abcdef"));			  /* 16 */
	assert_true(valid("0123456789abcdef0123456789abcdef"));	  /* 32 */
	assert_false(valid("0123456789abcde"));			  /* 15 */
	assert_false(valid("0123456789abcdef0123456789abcdef0")); /* 33 */
	assert_false(valid(""));
	assert_false(snapshot__id_valid(NULL, 0));
	assert_false(valid("0123456789ABCDEF01234567"));
	assert_false(valid("../../../../etc/passwd"));
	assert_false(valid("..%2f..%2fetc%2fpasswd0000"));
	assert_false(valid("%2e%2e%2f%2e%2e%2f0123456789"));
	assert_false(valid("0123456789abcdef/../x"));
	assert_false(valid("0123456789abcdef.pb.gz"));
	assert_false(valid(" 0123456789abcdef"));
	/* An embedded NUL inside the length fails. */
	assert_false(snapshot__id_valid(nul_id, sizeof(nul_id) - 1));
	char longid[4096];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_false(valid(longid));
}

static void save(struct snapshots *s, uint32_t pid, struct snapshot_meta *m)
{
	static const char data[] = "\x1f\x8b fake gzip";

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	snprintf(m->comm, sizeof(m->comm), "app");
	snprintf(m->type, sizeof(m->type), "heap");
	snprintf(m->reason, sizeof(m->reason), "manual");
	assert_int_equal(snapshots__save(s, m, data, sizeof(data)), 0);
	assert_true(valid(m->id));
	assert_int_equal(strlen(m->id), SNAPSHOT_ID_LEN);
}

static void test_save_read_delete(void **state)
{
	struct snapshots *s = snapshots__open(dir, 5);
	struct snapshot_meta m, g, *v;
	uint8_t *data;
	size_t len, n;

	(void)state;
	assert_non_null(s);
	save(s, 42, &m);
	assert_int_equal(snapshots__get(s, m.id, &g), 0);
	assert_int_equal(g.pid, 42);
	assert_string_equal(g.type, "heap");
	assert_string_equal(g.reason, "manual");
	assert_int_equal(g.created_ns, m.created_ns);
	assert_int_equal(snapshots__read(s, m.id, &data, &len), 0);
	assert_int_equal(len, m.bytes);
	assert_memory_equal(data, "\x1f\x8b", 2);
	free(data);
	assert_int_equal(snapshots__list(s, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, m.id);
	free(v);
	/* Bad and unknown ids. */
	assert_int_equal(snapshots__read(s, "../../etc/passwd", &data, &len), -EINVAL);
	assert_int_equal(snapshots__get(s, "0123456789abcdef0123456X", &g), -EINVAL);
	assert_int_equal(snapshots__delete(s, "ffffffffffffffff00000000"), -ENOENT);
	assert_int_equal(snapshots__delete(s, m.id), 0);
	assert_int_equal(snapshots__read(s, m.id, &data, &len), -ENOENT);
	assert_int_equal(snapshots__list(s, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	snapshots__close(s);
	snapshots__close(NULL);
}

static void test_rotation_and_junk(void **state)
{
	struct snapshots *s = snapshots__open(dir, 3);
	struct snapshot_meta m[5], *v;
	char junk[PATH_MAX + 32];
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(s);
	/* Files that are not snapshots are neither listed nor rotated away. */
	snprintf(junk, sizeof(junk), "%s/snapshots/notes.pb.gz", dir);
	f = fopen(junk, "w");
	assert_non_null(f);
	fclose(f);
	for (int i = 0; i < 5; i++) {
		save(s, 100 + i, &m[i]);
		usleep(1000); /* ids carry the time: distinct and ordered */
	}
	assert_int_equal(snapshots__rotated(s), 2);
	assert_int_equal(snapshots__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].id, m[4].id); /* newest first */
	assert_string_equal(v[2].id, m[2].id);
	assert_int_equal(v[0].pid, 104);
	free(v);
	assert_int_equal(access(junk, F_OK), 0);
	snapshots__close(s);
}

static void test_no_dir(void **state)
{
	(void)state;
	assert_null(snapshots__open(NULL, 1));
	assert_null(snapshots__open("/proc/self/nonexistent/dir", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_validation),
	    cmocka_unit_test_setup_teardown(test_save_read_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_and_junk, setup, teardown),
	    cmocka_unit_test(test_no_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
