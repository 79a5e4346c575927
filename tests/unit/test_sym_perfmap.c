// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Perf maps a hostile user writes: empty, a FIFO, a huge sparse file, a
 * symlink, over-long lines. alarm() turns a blocked open into a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolizer/perfmap.h"
#include "util/safefile.h"

#define WATCHDOG_S 20

static char tmp[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test_sym_perfmap.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

static const char *at(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	return path;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_empty_map(void **state)
{
	struct perfmap *m;
	FILE *f;

	(void)state;
	f = fopen(at("empty.map"), "w");
	assert_non_null(f);
	fclose(f);
	/* Used to qsort(NULL, 0, ...): undefined, UBSan reports it. */
	m = perfmap__load(at("empty.map"));
	assert_non_null(m);
	assert_int_equal(perfmap__nr(m), 0);
	assert_int_equal(perfmap__file_size(m), 0);
	assert_null(perfmap__find(m, 0x1000, NULL));
	perfmap__free(m);
}

static void test_long_line_skipped(void **state)
{
	char *name = malloc(PERFMAP_MAX_LINE * 4);
	struct perfmap *m;
	FILE *f;

	(void)state;
	assert_non_null(name);
	memset(name, 'x', PERFMAP_MAX_LINE * 4 - 1);
	name[PERFMAP_MAX_LINE * 4 - 1] = '\0';
	f = fopen(at("long.map"), "w");
	assert_non_null(f);
	fprintf(f, "1000 10 before\n2000 10 %s\n3000 10 after\n", name);
	fclose(f);
	free(name);
	m = perfmap__load(at("long.map"));
	assert_non_null(m);
	assert_int_equal(perfmap__nr(m), 2);
	assert_int_equal(perfmap__skipped(m), 1);
	assert_string_equal(perfmap__find(m, 0x1004, NULL), "before");
	assert_null(perfmap__find(m, 0x2004, NULL));
	assert_string_equal(perfmap__find(m, 0x3004, NULL), "after");
	perfmap__free(m);
}

static void test_fifo_refused(void **state)
{
	struct safefile_stats before, after;

	(void)state;
	alarm(WATCHDOG_S); /* fopen() of a FIFO blocks until a writer comes */
	assert_int_equal(mkfifo(at("fifo.map"), 0600), 0);
	safefile__stats(&before);
	errno = 0;
	assert_null(perfmap__load(at("fifo.map")));
	assert_int_equal(errno, ENODEV);
	safefile__stats(&after);
	assert_int_equal(
	    after.by_reason[SAFEFILE_NOT_REGULAR] - before.by_reason[SAFEFILE_NOT_REGULAR], 1);
	assert_non_null(strstr(after.last, "fifo.map"));
	alarm(0);
}

static void test_sparse_huge_refused(void **state)
{
	long rss0 = maxrss_kib();
	int fd;

	(void)state;
	alarm(WATCHDOG_S);
	/* 1 GiB, 0 bytes on disk: one "line" of NULs that getline buffered whole. */
	fd = open(at("huge.map"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1ll << 30), 0);
	close(fd);
	errno = 0;
	assert_null(perfmap__load(at("huge.map")));
	assert_int_equal(errno, EFBIG);
	assert_true(maxrss_kib() - rss0 < 64 * 1024);
	alarm(0);
}

/* Under the cap, a file of one endless line costs one line buffer, not the file. */
static void test_one_endless_line_bounded(void **state)
{
	long rss0 = maxrss_kib();
	struct perfmap *m;
	int fd;

	(void)state;
	alarm(WATCHDOG_S);
	fd = open(at("line.map"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PERFMAP_MAX_BYTES), 0);
	close(fd);
	m = perfmap__load(at("line.map"));
	assert_non_null(m);
	assert_int_equal(perfmap__nr(m), 0);
	assert_int_equal(perfmap__skipped(m), 1);
	assert_true(maxrss_kib() - rss0 < 16 * 1024);
	perfmap__free(m);
	alarm(0);
}

static void test_symlink_refused(void **state)
{
	char target[PATH_MAX];
	struct perfmap *m;
	FILE *f;
	int root;

	(void)state;
	snprintf(target, sizeof(target), "%s", at("real.map"));
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("1000 10 jitted\n", f);
	fclose(f);
	assert_int_equal(symlink(target, at("link.map")), 0);
	errno = 0;
	assert_null(perfmap__load(at("link.map")));
	assert_int_equal(errno, ELOOP);
	/* Inside a process's root the same file opens by its path there. */
	root = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	m = perfmap__load_at(root, "/real.map", SAFEFILE_IN_ROOT);
	assert_non_null(m);
	assert_string_equal(perfmap__find(m, 0x1001, NULL), "jitted");
	perfmap__free(m);
	close(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_map),
	    cmocka_unit_test(test_long_line_skipped),
	    cmocka_unit_test(test_fifo_refused),
	    cmocka_unit_test(test_sparse_huge_refused),
	    cmocka_unit_test(test_one_endless_line_bounded),
	    cmocka_unit_test(test_symlink_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
