// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap workload with known allocations, for the heap profile tests.
 *   heap_work [churn_mib] [live_mib] [seconds] [wait_s]
 * It first waits until a profiler's probes are in malloc and free, at most
 * wait_s seconds (default 1; tests that attach give a generous bound). Then
 * keep_live() holds live_mib MiB in 1 MiB blocks (default 64) for the whole
 * run; churn() pushes churn_mib MiB (default 1024) through malloc/free in
 * 64 KiB blocks, spread over the run, then both wait until killed (or until
 * `seconds` passes). Prints "ready" once the live set is in place.
 * Modes by the HEAP_MODE environment variable:
 *   storm    malloc/free of 32 bytes in a tight loop (the governor test)
 *   paced    times 100000 pairs alone at once, then after the wait `seconds`
 *            of 500 pairs/s in bursts of 10 (the profiler attached and under
 *            budget), prints "alone_ns A paced_ns P pairs N" (thread CPU ns
 *            per pair), then storms
 *   calloc   the live set via calloc/realloc/posix_memalign instead
 *   exit     exits after the churn (the live set never freed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probed.h"

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

static long long thread_cpu_ns(void)
{
	struct timespec ts;

	/* Uprobe traps and BPF programs are charged to the trapping thread. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU ns per malloc+free pair over n pairs. */
__attribute__((noinline)) static double pairs_cpu_ns(long n)
{
	long long t0 = thread_cpu_ns();

	for (long i = 0; i < n; i++) {
		void *p = malloc(32);

		sink = p;
		free(p);
	}
	return (double)(thread_cpu_ns() - t0) / n;
}

__attribute__((noinline)) static void paced(double alone_ns, double seconds)
{
	struct timespec gap = { 0, 20000000 };
	long bursts = (long)(seconds * 50), n = 0;
	double sum = 0;

	for (long b = 0; b < bursts; b++, n += 10) {
		sum += pairs_cpu_ns(10) * 10;
		nanosleep(&gap, NULL);
	}
	printf("alone_ns %.1f paced_ns %.1f pairs %ld\n", alone_ns, n ? sum / n : 0, n);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t churn_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t live_mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	double seconds = argc > 3 ? atof(argv[3]) : 0;
	const char *mode = getenv("HEAP_MODE");
	void **live;

	double alone_ns = mode && !strcmp(mode, "paced") ? pairs_cpu_ns(100000) : 0;

	void *fns[] = { (void *)malloc, (void *)free };

	wait_probed(fns, 2, argc > 4 ? atoi(argv[4]) : 1);
	if (mode && !strcmp(mode, "paced"))
		paced(alone_ns, seconds);
	if (mode && (!strcmp(mode, "storm") || !strcmp(mode, "paced")))
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
	/* Every allocation made: a recording of this command can end. */
	if (mode && !strcmp(mode, "exit"))
		return 0;
	/* A target that becomes another program: the profiler must let go of it. */
	if (mode && !strcmp(mode, "exec"))
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
	for (;;)
		pause();
	return 0;
}
