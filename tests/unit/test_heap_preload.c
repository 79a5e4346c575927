// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's side of libbpfprof-heap.so: modes, the library's path, commands it can go into. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "heap/heap.h"

static void test_modes(void **state)
{
	enum heap_mode m = HEAP_MODE_UPROBE;

	(void)state;
	assert_int_equal(heap_mode__parse("auto", &m), 0);
	assert_int_equal(m, HEAP_MODE_AUTO);
	assert_int_equal(heap_mode__parse("preload", &m), 0);
	assert_int_equal(m, HEAP_MODE_PRELOAD);
	assert_int_equal(heap_mode__parse("uprobe", &m), 0);
	assert_int_equal(m, HEAP_MODE_UPROBE);
	assert_int_equal(heap_mode__parse("x", &m), -EINVAL);
	assert_int_equal(heap_mode__parse("", &m), -EINVAL);
	assert_int_equal(heap_mode__parse(NULL, &m), -EINVAL);
	assert_string_equal(heap_mode__name(HEAP_MODE_PRELOAD), "preload");
}

static void test_check_exe(void **state)
{
	char why[PATH_MAX + 64] = "", script[] = "/tmp/bpfprof-hp-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(heap_preload__check_exe("true", why, sizeof(why)), 0); /* via $PATH */
	assert_int_equal(heap_preload__check_exe("/no/such/cmd", why, sizeof(why)), -ENOENT);
	if (!access("build/tests/heapsampler/hs_work_static", X_OK)) {
		assert_int_equal(heap_preload__check_exe("build/tests/heapsampler/hs_work_static",
							 why, sizeof(why)),
				 -ENOEXEC);
		assert_non_null(strstr(why, "statically linked"));
	}
	fd = mkstemp(script);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\ntrue\n", 15), 15);
	close(fd);
	assert_int_equal(heap_preload__check_exe(script, why, sizeof(why)), 0);
	fd = open(script, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	assert_int_equal(heap_preload__check_exe(script, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "not an ELF executable"));
	unlink(script);
}

static void test_lib_path(void **state)
{
	char path[PATH_MAX];

	(void)state;
	setenv("BPFPROF_HEAP_LIB", "/no/such/libbpfprof-heap.so", 1);
	assert_int_equal(heap_preload__lib_path(path, sizeof(path)), -ENOENT);
	if (!access("build/libbpfprof-heap.so", R_OK)) {
		setenv("BPFPROF_HEAP_LIB", "build/libbpfprof-heap.so", 1);
		assert_int_equal(heap_preload__lib_path(path, sizeof(path)), 0);
		assert_true(path[0] == '/');
		assert_non_null(strstr(path, "/build/libbpfprof-heap.so"));
	}
	unsetenv("BPFPROF_HEAP_LIB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_check_exe),
	    cmocka_unit_test(test_lib_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
