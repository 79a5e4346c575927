// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench helper (built by unwind_bench.sh): compiles one binary's .eh_frame
 * with the agent's table compiler and prints
 *   path file_bytes fdes rows table_bytes compile_ms
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unwind/cfi.h"

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
	struct cfi_rows rows = { 0 };
	struct timespec t0;
	struct stat st;
	Elf *elf;
	int fd, err;

	if (argc != 2 || elf_version(EV_CURRENT) == EV_NONE)
		return 2;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return 1;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = cfi__compile(elf, &rows);
	printf("%s %jd %zu %zu %zu %.1f%s%s\n", argv[1], (intmax_t)st.st_size, rows.fdes, rows.n,
	       rows.n * sizeof(struct unwind_row), ms_since(&t0), err ? " error: " : "",
	       err ? strerror(-err) : "");
	cfi_rows__free(&rows);
	elf_end(elf);
	close(fd);
	return err ? 1 : 0;
}
