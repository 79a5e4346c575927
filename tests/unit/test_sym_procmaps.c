// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer/procmaps.h"

/* Lines as Linux 6.x prints them, including the padding before the path. */
static const char maps_fixture[] =
    "55d0c4a8d000-55d0c4a8f000 r--p 00000000 fd:01 1835042                    /usr/bin/cat\n"
    "55d0c4a8f000-55d0c4a94000 r-xp 00002000 fd:01 1835042                    /usr/bin/cat\n"
    "55d0c4a94000-55d0c4a96000 r--p 00007000 fd:01 1835042                    /usr/bin/cat\n"
    "55d0c4a97000-55d0c4a98000 rw-p 00009000 fd:01 1835042                    /usr/bin/cat\n"
    "55d0c5d7e000-55d0c5d9f000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f1c2a400000-7f1c2a426000 r--p 00000000 fd:01 1840123                    "
    "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1c2a426000-7f1c2a57b000 r-xp 00026000 fd:01 1840123                    "
    "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1c2a600000-7f1c2a610000 rwxp 00000000 00:00 0 \n"
    "7f1c2a610000-7f1c2a611000 r-xp 00001000 08:10 42                         "
    "/opt/my app/lib with spaces.so\n"
    "7f1c2a611000-7f1c2a612000 r-xp 00000000 08:10 43                         "
    "/tmp/old binary (deleted)\n"
    "7f1c2a612000-7f1c2a613000 r-xp 00000000 00:00 0                          [anon:jit]\n"
    "7ffd1b9f0000-7ffd1ba11000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffd1bb8c000-7ffd1bb90000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffd1bb90000-7ffd1bb92000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
    "garbage line\n";

static char fixture_path[PATH_MAX];

static int setup(void **state)
{
	int fd;
	FILE *f;

	(void)state;
	snprintf(fixture_path, sizeof(fixture_path), "/tmp/test_sym_maps.XXXXXX");
	fd = mkstemp(fixture_path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f)
		return -1;
	fputs(maps_fixture, f);
	return fclose(f) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(fixture_path);
	return 0;
}

static void test_parse_line_fields(void **state)
{
	char line[] = "7f1c2a426000-7f1c2a57b000 r-xp 00026000 fd:01 1840123            "
		      "/usr/lib/x86_64-linux-gnu/libc.so.6\n";
	struct procmaps_entry e;

	(void)state;
	assert_int_equal(procmaps__parse_line(line, &e), 0);
	assert_int_equal(e.start, 0x7f1c2a426000ULL);
	assert_int_equal(e.end, 0x7f1c2a57b000ULL);
	assert_int_equal(e.offset, 0x26000);
	assert_int_equal(e.dev_major, 0xfd);
	assert_int_equal(e.dev_minor, 0x01);
	assert_int_equal(e.inode, 1840123);
	assert_int_equal(e.perms, PROCMAPS_R | PROCMAPS_X | PROCMAPS_P);
	assert_false(e.deleted);
	assert_string_equal(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_true(procmaps_entry__is_file(&e));
	assert_false(procmaps_entry__is_anon(&e));
}

static void test_parse_line_special(void **state)
{
	char deleted[] = "1000-2000 r-xp 00000000 08:10 43     /tmp/old binary (deleted)\n";
	char anon[] = "1000-2000 rwxs 00000000 00:00 0 \n";
	char bare[] = "1000-2000 r-xp 00000000 00:00 0";
	char bad[] = "1000-2000 r-xp zz";
	char backwards[] = "2000-1000 r-xp 00000000 00:00 0";
	struct procmaps_entry e;

	(void)state;
	assert_int_equal(procmaps__parse_line(deleted, &e), 0);
	assert_true(e.deleted);
	assert_string_equal(e.path, "/tmp/old binary");

	assert_int_equal(procmaps__parse_line(anon, &e), 0);
	assert_string_equal(e.path, "");
	assert_int_equal(e.perms, PROCMAPS_R | PROCMAPS_W | PROCMAPS_X);
	assert_true(procmaps_entry__is_anon(&e));
	assert_false(procmaps_entry__is_file(&e));

	assert_int_equal(procmaps__parse_line(bare, &e), 0);
	assert_string_equal(e.path, "");

	assert_int_equal(procmaps__parse_line(bad, &e), -EINVAL);
	assert_int_equal(procmaps__parse_line(backwards, &e), -EINVAL);
}

static void test_read_all(void **state)
{
	struct procmaps *m = procmaps__read(fixture_path, false);
	const struct procmaps_entry *e;

	(void)state;
	assert_non_null(m);
	assert_int_equal(m->nr, 15);
	e = procmaps__find(m, 0x55d0c5d7e000ULL + 5);
	assert_non_null(e);
	assert_string_equal(e->path, "[heap]");
	assert_null(procmaps__find(m, 0x55d0c4a96000ULL)); /* hole */
	assert_null(procmaps__find(m, 0x1000));
	assert_true(procmaps__bytes(m) > 15 * sizeof(*e));
	procmaps__free(m);
}

static void test_read_exec_only(void **state)
{
	struct procmaps *m = procmaps__read(fixture_path, true);
	const struct procmaps_entry *e;

	(void)state;
	assert_non_null(m);
	/* cat, libc, anon rwx, spaces, deleted, anon:jit, vdso, vsyscall */
	assert_int_equal(m->nr, 8);
	for (size_t i = 1; i < m->nr; i++)
		assert_true(m->ents[i - 1].start < m->ents[i].start);

	e = procmaps__find(m, 0x55d0c4a8f000ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "/usr/bin/cat");
	assert_int_equal(e->offset, 0x2000);
	/* end is exclusive; the r--p mapping before is not kept */
	assert_null(procmaps__find(m, 0x55d0c4a94000ULL));
	assert_null(procmaps__find(m, 0x55d0c4a8f000ULL - 1));

	e = procmaps__find(m, 0x7f1c2a57afffULL);
	assert_non_null(e);
	assert_string_equal(e->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");

	e = procmaps__find(m, 0x7f1c2a600123ULL);
	assert_non_null(e);
	assert_true(procmaps_entry__is_anon(e));

	e = procmaps__find(m, 0x7f1c2a610800ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "/opt/my app/lib with spaces.so");
	assert_int_equal(e->dev_major, 8);
	assert_int_equal(e->dev_minor, 0x10);

	e = procmaps__find(m, 0x7f1c2a611000ULL);
	assert_non_null(e);
	assert_true(e->deleted);
	assert_string_equal(e->path, "/tmp/old binary");

	e = procmaps__find(m, 0x7f1c2a612010ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "[anon:jit]");
	assert_true(procmaps_entry__is_anon(e));

	e = procmaps__find(m, 0x7ffd1bb91000ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "[vdso]");
	assert_false(procmaps_entry__is_anon(e));

	e = procmaps__find(m, 0xffffffffff600000ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "[vsyscall]");
	procmaps__free(m);
}

static void test_self_maps(void **state)
{
	char exe[PATH_MAX];
	struct procmaps *m;
	const struct procmaps_entry *e;
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	m = procmaps__read("/proc/self/maps", true);
	assert_non_null(m);
	e = procmaps__find(m, (uint64_t)(uintptr_t)test_self_maps);
	assert_non_null(e);
	assert_string_equal(e->path, exe);
	assert_true(e->perms & PROCMAPS_X);
	assert_true(e->inode != 0);
	/* libc code (not intercepted by ASan) is in another mapping */
	e = procmaps__find(m, (uint64_t)(uintptr_t)getpid);
	assert_non_null(e);
	assert_non_null(strstr(e->path, "libc"));
	/* data is not executable */
	assert_null(procmaps__find(m, (uint64_t)(uintptr_t)fixture_path));
	procmaps__free(m);
}

static void test_missing_and_null(void **state)
{
	(void)state;
	errno = 0;
	assert_null(procmaps__read("/nonexistent/maps", true));
	assert_int_equal(errno, ENOENT);
	assert_null(procmaps__find(NULL, 1));
	procmaps__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_line_fields), cmocka_unit_test(test_parse_line_special),
	    cmocka_unit_test(test_read_all),	      cmocka_unit_test(test_read_exec_only),
	    cmocka_unit_test(test_self_maps),	      cmocka_unit_test(test_missing_and_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
