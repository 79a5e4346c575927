// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap workload with known allocations, for the heap profile tests.
 *   heap_work [churn_mib] [live_mib] [seconds]
 * keep_live() holds live_mib MiB in 1 MiB blocks (default 64) for the whole
 * run; churn() pushes churn_mib MiB (default 1024) through malloc/free in
 * 64 KiB blocks, spread over the run, then both wait until killed (or until
 * `seconds` passes). Prints "ready" once the live set is in place.
 * Modes by the HEAP_MODE environment variable:
 *   storm    malloc/free of 32 bytes in a tight loop (the governor test)
 *   calloc   the live set via calloc/realloc/posix_memalign instead
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define CHURN_BLOCK (64 * 1024)

static void *volatile sink;

/* blocks comes from main, so this stack holds exactly the 1 MiB blocks. */
__attribute__((noinline)) static void **keep_live(void **blocks, size_t mib)
{
	for (size_t i = 0; blocks && i < mib; i++) {
		blocks[i] = malloc(MIB);
		if (blocks[i])
			memset(blocks[i], 1, 4096);
	}
	return blocks;
}

__attribute__((noinline)) static void **keep_live_mixed(void **blocks, size_t mib)
{
	for (size_t i = 0; blocks && i < mib; i++) {
		if (i % 3 == 0) {
			blocks[i] = calloc(1, MIB);
		} else if (i % 3 == 1) {
			blocks[i] = realloc(malloc(MIB / 2), MIB);
		} else if (posix_memalign(&blocks[i], 4096, MIB)) {
			blocks[i] = NULL;
		}
	}
	return blocks;
}

__attribute__((noinline)) static void churn_once(void)
{
	void *p = malloc(CHURN_BLOCK);

	if (p)
		((volatile char *)p)[0] = 1;
	sink = p;
	free(p);
}

__attribute__((noinline)) static void churn(size_t mib, double seconds)
{
	size_t n = mib * (MIB / CHURN_BLOCK);
	struct timespec pause = { 0, 0 };
	long per_ms = seconds > 0 ? (long)(n / (seconds * 1000)) + 1 : (long)n;

	for (size_t i = 0; i < n; i++) {
		churn_once();
		if ((long)(i % per_ms) == per_ms - 1) {
			pause.tv_nsec = 1000000;
			nanosleep(&pause, NULL);
		}
	}
}

__attribute__((noinline)) static void storm(void)
{
	for (;;) {
		void *p = malloc(32);

		sink = p;
		free(p);
	}
}

int main(int argc, char **argv)
{
	size_t churn_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t live_mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	double seconds = argc > 3 ? atof(argv[3]) : 0;
	const char *mode = getenv("HEAP_MODE");
	void **live;

	/* Wait for the profiler to attach: it sends SIGCONT, or a second passes. */
	sleep(argc > 4 ? atoi(argv[4]) : 1);
	if (mode && !strcmp(mode, "storm"))
		storm();
	live = calloc(live_mib ?: 1, sizeof(void *));
	if (!live)
		return 1;
	live = mode && !strcmp(mode, "calloc") ? keep_live_mixed(live, live_mib) :
						 keep_live(live, live_mib);
	printf("ready\n");
	fflush(stdout);
	churn(churn_mib, seconds > 1 ? seconds - 1 : 1);
	sink = live;
	/* A target that becomes another program: the profiler must let go of it. */
	if (mode && !strcmp(mode, "exec"))
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
	for (;;)
		pause();
	return 0;
}
