// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * safefile against what a hostile user leaves where the agent looks: FIFOs,
 * /dev/zero, symlinks out of a fake process root, huge sparse files, long
 * lines. alarm() turns a blocked open or an endless read into a failure.
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
#include <sys/stat.h>
#include <unistd.h>

#include "util/safefile.h"

#define WATCHDOG_S 20

static char tmp[64];

static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * tmp/outside.txt: the secret a symlink tries to reach.
 * tmp/root: a fake process root holding its own outside.txt and links.
 */
static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test_safefile.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	sh("cd %s && mkdir -p root/etc root/dir && mkfifo fifo root/fifo && "
	   "ln -s /dev/zero zero && ln -s fifo fifolink && ln -s plain.txt link && "
	   "truncate -s 1G sparse && : > empty && "
	   "ln -s %s/outside.txt root/abs && ln -s ../../../../outside.txt root/dir/rel && "
	   "ln -s /dev/zero root/zero && ln -s ../dir root/etc/updir",
	   tmp, tmp);
	put("plain.txt", "hello\n");
	put("outside.txt", "SECRET\n");
	put("root/outside.txt", "inside\n");
	put("root/dir/f.txt", "in dir\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmp);
	return 0;
}

static int dirfd_of(const char *rel)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static int try_open(int dirfd, const char *rel, unsigned int flags, uint64_t max)
{
	char path[PATH_MAX];
	int fd = -1, err;

	if (dirfd == AT_FDCWD)
		snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	else
		snprintf(path, sizeof(path), "%s", rel);
	err = safefile__open(dirfd, path, flags, max, &fd, NULL);
	if (!err) {
		assert_true(fd >= 0);
		close(fd);
	} else {
		assert_int_equal(fd, -1);
	}
	return err;
}

/* The content of rel opened in root as the process would see it, or the error. */
static int read_in_root(int rootfd, const char *rel, char *buf, size_t size)
{
	size_t len;
	char *data;
	int fd, err;

	err = safefile__open(rootfd, rel, SAFEFILE_IN_ROOT | SAFEFILE_FOLLOW, 0, &fd, NULL);
	if (err)
		return err;
	err = safefile__read_all(fd, 1024, &data, &len);
	close(fd);
	assert_int_equal(err, 0);
	snprintf(buf, size, "%s", data);
	free(data);
	return 0;
}

static void test_regular_and_size(void **state)
{
	char path[PATH_MAX];
	uint64_t size = 0;
	int fd;

	(void)state;
	alarm(WATCHDOG_S);
	snprintf(path, sizeof(path), "%s/plain.txt", tmp);
	assert_int_equal(safefile__open(AT_FDCWD, path, 0, 100, &fd, &size), 0);
	assert_int_equal(size, 6);
	/* Read-only, non-blocking, closed on exec. */
	assert_int_equal(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(try_open(AT_FDCWD, "missing", 0, 0), -ENOENT);
	alarm(0);
}

static void test_fifo_refused_without_blocking(void **state)
{
	struct safefile_stats before, after;

	(void)state;
	alarm(WATCHDOG_S); /* an open(2) of a FIFO would block here forever */
	safefile__stats(&before);
	assert_int_equal(try_open(AT_FDCWD, "fifo", 0, 0), -ENODEV);
	assert_int_equal(try_open(AT_FDCWD, "fifolink", SAFEFILE_FOLLOW, 0), -ENODEV);
	safefile__stats(&after);
	assert_int_equal(
	    after.by_reason[SAFEFILE_NOT_REGULAR] - before.by_reason[SAFEFILE_NOT_REGULAR], 2);
	assert_int_equal(after.refused - before.refused, 2);
	assert_non_null(strstr(after.last, "fifolink: not a regular file"));
	alarm(0);
}

static void test_dev_zero_refused(void **state)
{
	(void)state;
	alarm(WATCHDOG_S);
	assert_int_equal(safefile__open(AT_FDCWD, "/dev/zero", 0, 0, &(int){0}, NULL), -ENODEV);
	/* Followed or not, a symlink to /dev/zero never gives a readable fd. */
	assert_int_equal(try_open(AT_FDCWD, "zero", SAFEFILE_FOLLOW, 0), -ENODEV);
	assert_int_equal(try_open(AT_FDCWD, "zero", 0, 0), -ELOOP);
	alarm(0);
}

static void test_nofollow(void **state)
{
	struct safefile_stats before, after;

	(void)state;
	safefile__stats(&before);
	assert_int_equal(try_open(AT_FDCWD, "link", 0, 0), -ELOOP);
	assert_int_equal(try_open(AT_FDCWD, "link", SAFEFILE_FOLLOW, 0), 0);
	safefile__stats(&after);
	assert_int_equal(after.by_reason[SAFEFILE_SYMLINK] - before.by_reason[SAFEFILE_SYMLINK], 1);
}

static void test_oversize_and_empty(void **state)
{
	struct safefile_stats before, after;
	char path[PATH_MAX], *buf;
	uint64_t size = 1;
	size_t len;
	int fd;

	(void)state;
	safefile__stats(&before);
	/* 1 GiB sparse: 0 bytes on disk, refused by its size before any read. */
	assert_int_equal(try_open(AT_FDCWD, "sparse", 0, 1 << 20), -EFBIG);
	safefile__stats(&after);
	assert_int_equal(after.by_reason[SAFEFILE_TOO_BIG] - before.by_reason[SAFEFILE_TOO_BIG], 1);

	snprintf(path, sizeof(path), "%s/empty", tmp);
	assert_int_equal(safefile__open(AT_FDCWD, path, 0, 10, &fd, &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(safefile__read_all(fd, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	close(fd);

	snprintf(path, sizeof(path), "%s/plain.txt", tmp);
	assert_int_equal(safefile__open(AT_FDCWD, path, 0, 0, &fd, NULL), 0);
	assert_int_equal(safefile__read_all(fd, 5, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(safefile__read_all(fd, 6, &buf, &len), 0);
	assert_string_equal(buf, "hello\n");
	free(buf);
	close(fd);
}

/* Symlinks and ".." inside a fake root stay inside it. */
static void check_in_root(void)
{
	int root = dirfd_of("root");
	char buf[64];

	assert_int_equal(read_in_root(root, "outside.txt", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside\n");
	assert_int_equal(read_in_root(root, "/dir/f.txt", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "in dir\n");
	/* The absolute link names tmp/outside.txt on the host: not in this root. */
	assert_int_equal(read_in_root(root, "abs", buf, sizeof(buf)), -ENOENT);
	/* ".." stops at the root: the relative link lands on root/outside.txt. */
	assert_int_equal(read_in_root(root, "dir/rel", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside\n");
	assert_int_equal(read_in_root(root, "../../outside.txt", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside\n");
	/* /dev/zero inside this root does not exist; the host's is never reached. */
	assert_int_equal(read_in_root(root, "zero", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(read_in_root(root, "fifo", buf, sizeof(buf)), -ENODEV);
	close(root);
}

static void test_symlink_escape(void **state)
{
	int slash;

	(void)state;
	alarm(WATCHDOG_S);
	check_in_root();
	/* A magic link (/proc/self/root) would lead back to the agent's root: refused. */
	slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(slash >= 0);
	assert_int_equal(safefile__open(slash, "/proc/self/root/etc/hostname", SAFEFILE_IN_ROOT, 0,
					&(int){0}, NULL),
			 -ELOOP);
	close(slash);
	alarm(0);
}

/* Without openat2: no symlink, no ".." at all, plain paths still open. */
static void test_fallback_walk(void **state)
{
	int root = dirfd_of("root"), fd;
	char buf[64];

	(void)state;
	alarm(WATCHDOG_S);
	safefile__force_no_openat2(true);
	assert_int_equal(read_in_root(root, "/dir/f.txt", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "in dir\n");
	assert_int_equal(read_in_root(root, "abs", buf, sizeof(buf)), -ELOOP);
	assert_int_equal(read_in_root(root, "zero", buf, sizeof(buf)), -ELOOP);
	assert_int_equal(read_in_root(root, "etc/updir/f.txt", buf, sizeof(buf)), -ELOOP);
	assert_int_equal(read_in_root(root, "../outside.txt", buf, sizeof(buf)), -EXDEV);
	assert_int_equal(read_in_root(root, "fifo", buf, sizeof(buf)), -ENODEV);
	assert_int_equal(safefile__open(root, "dir", SAFEFILE_IN_ROOT, 0, &fd, NULL), -ENODEV);
	safefile__force_no_openat2(false);
	close(root);
	alarm(0);
}

struct lines_case {
	const char *text;
	size_t max_line;
	uint64_t max_total;
};

/* All lines of text through the reader, joined by '|', and the skip count. */
static uint64_t read_lines(const struct lines_case *c, char *out, size_t size)
{
	struct safefile_lines *lr;
	char path[PATH_MAX];
	const char *line;
	size_t len, used = 0;
	uint64_t skipped;
	int fd, r;

	put("lines.txt", c->text);
	snprintf(path, sizeof(path), "%s/lines.txt", tmp);
	assert_int_equal(safefile__open(AT_FDCWD, path, 0, 0, &fd, NULL), 0);
	lr = safefile_lines__new(fd, c->max_line, c->max_total, "lines.txt");
	assert_non_null(lr);
	out[0] = '\0';
	while ((r = safefile_lines__next(lr, &line, &len)) > 0) {
		assert_int_equal(strlen(line), len);
		used += snprintf(out + used, size - used, "%s|", line);
		assert_true(used < size);
	}
	assert_int_equal(r, 0);
	skipped = safefile_lines__skipped(lr);
	safefile_lines__free(lr);
	close(fd);
	return skipped;
}

static void test_lines(void **state)
{
	struct safefile_stats before, after;
	char out[256];

	(void)state;
	assert_int_equal(read_lines(&(struct lines_case){"a\nbb\n\nccc", 8, 1000}, out, 256), 0);
	assert_string_equal(out, "a|bb||ccc|");
	/* Exactly max_line fits, one more is skipped whole, the rest still read. */
	assert_int_equal(read_lines(&(struct lines_case){"1234\n12345\nok\n", 4, 1000}, out, 256),
			 1);
	assert_string_equal(out, "1234|ok|");
	safefile__stats(&before);
	assert_int_equal(
	    read_lines(
		&(struct lines_case){"x\n0123456789012345678901234567890\ny\nzzzzzzzzzz", 4, 1000},
		out, 256),
	    2);
	assert_string_equal(out, "x|y|");
	safefile__stats(&after);
	assert_int_equal(after.by_reason[SAFEFILE_LONG_LINE] - before.by_reason[SAFEFILE_LONG_LINE],
			 2);
	/* max_total: reading stops there whatever the file holds. */
	assert_int_equal(read_lines(&(struct lines_case){"aa\nbb\ncc\n", 8, 4}, out, 256), 0);
	assert_string_equal(out, "aa|b|");
	assert_int_equal(read_lines(&(struct lines_case){"", 8, 100}, out, 256), 0);
	assert_string_equal(out, "");
	assert_null(safefile_lines__new(0, 0, 1, "x"));
	safefile_lines__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regular_and_size),
	    cmocka_unit_test(test_fifo_refused_without_blocking),
	    cmocka_unit_test(test_dev_zero_refused),
	    cmocka_unit_test(test_nofollow),
	    cmocka_unit_test(test_oversize_and_empty),
	    cmocka_unit_test(test_symlink_escape),
	    cmocka_unit_test(test_fallback_walk),
	    cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
