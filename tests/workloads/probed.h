/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * wait_probed(): a heap workload waits for the profiler's uprobes before it
 * allocates, instead of sleeping a guessed time (a profiler that takes
 * longer to attach, on a loaded or fresh machine, missed the first blocks).
 */
#ifndef PROBED_H
#define PROBED_H
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* addr's page is present (bit 63) and not file-backed (bit 61): a private
 * copy of the code, which is what installing a uprobe makes. */
static int page_is_private_copy(int fd, const void *addr)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uint64_t e;

	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / page * 8)) != (ssize_t)sizeof(e))
		return 0;
	return (e >> 63 & 1) && !(e >> 61 & 1);
}

/* Until the code of every fns[i] is probed, or max_s seconds (no profiler). */
static void wait_probed(void *const *fns, int n, int max_s)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	struct timespec tick = { 0, 10000000 };

	for (long t = 0; t < max_s * 100L; t++) {
		int k = 0;

		while (fd >= 0 && k < n && page_is_private_copy(fd, fns[k]))
			k++;
		if (fd >= 0 && k == n)
			break;
		nanosleep(&tick, NULL);
	}
	if (fd >= 0)
		close(fd);
}
#endif
