// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Leaks memory at a steady rate (default 1 MiB/s) from one uniquely named
 * function, touching every page so RSS grows with it, until -t seconds
 * (default 300) have passed. Used by tests/integration/test_health.sh: the
 * leak detector must name leak_bytes_here, and the RSS trend must say
 * "sustained growth".
 *
 *   mem_leak [-r KIB_PER_SECOND] [-t SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024) /* below glibc's mmap threshold: heap memory */

static void *volatile sink;

/* noclone keeps gcc from calling a renamed clone (name.constprop.0); clang has no such clones. */
#ifdef __clang__
#define KEEP_NAME __attribute__((noinline))
#else
#define KEEP_NAME __attribute__((noinline, noclone))
#endif

/* Never freed: the allocation stack ends here. */
KEEP_NAME void *leak_bytes_here(size_t n);
void *leak_bytes_here(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 0xab, n); /* touch every page: RSS grows, not just VmSize */
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double kib_s = 1024, secs = 300, t0, t;
	size_t leaked = 0;
	int c;

	while ((c = getopt(argc, argv, "r:t:")) != -1) {
		if (c == 'r')
			kib_s = atof(optarg);
		else if (c == 't')
			secs = atof(optarg);
		else
			return 2;
	}
	if (kib_s <= 0 || secs <= 0)
		return 2;
	t0 = now_s();
	/* Keep leaked/elapsed at the rate: sleep until the next chunk is due. */
	while ((t = now_s() - t0) < secs) {
		if (leaked < t * kib_s * 1024) {
			sink = leak_bytes_here(CHUNK);
			leaked += CHUNK;
			continue;
		}
		usleep(CHUNK / (kib_s * 1024) * 1e6 / 2);
	}
	return 0;
}
