// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A steady working set: 256 buffers of 16 KiB (4 MiB) replaced in FIFO order
 * every 10 ms, so each lives about 2.5 s and RSS stays flat. The negative
 * control of tests/integration/test_health.sh: no leak, no sustained growth.
 *
 *   mem_steady [-t SECONDS]   (default 300)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 256
#define SIZE (16 * 1024)

static void *slots[SLOTS];

/* noclone keeps gcc from calling a renamed clone (name.constprop.0); clang has no such clones. */
#ifdef __clang__
#define KEEP_NAME __attribute__((noinline))
#else
#define KEEP_NAME __attribute__((noinline, noclone))
#endif

KEEP_NAME void *steady_alloc(void);
void *steady_alloc(void)
{
	void *p = malloc(SIZE);

	if (p)
		memset(p, 0x5a, SIZE);
	return p;
}

int main(int argc, char **argv)
{
	double secs = argc > 2 && !strcmp(argv[1], "-t") ? atof(argv[2]) : 300;
	struct timespec ts;
	time_t end;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + (time_t)secs;
	for (i = 0; i < SLOTS; i++)
		slots[i] = steady_alloc();
	for (i = 0;; i = (i + 1) % SLOTS) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec >= end)
			break;
		free(slots[i]);
		slots[i] = steady_alloc();
		usleep(10000);
	}
	for (i = 0; i < SLOTS; i++)
		free(slots[i]);
	return 0;
}
