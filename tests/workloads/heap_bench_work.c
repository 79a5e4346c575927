// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Allocation-heavy workload for tests/bench/heap_bench.sh.
 *   heap_bench_work SECONDS [THREADS] [RESULT_FILE] [PACED_PAIRS] [PACED_RATE]
 * Blocks until SIGUSR1 (so a profiler can attach first), then:
 *   1. paced phase (if PACED_PAIRS > 0): PACED_PAIRS malloc+free pairs at
 *      about PACED_RATE pairs per second in bursts of 50 (one thread), and
 *      the thread CPU time spent inside the bursts (CLOCK_THREAD_CPUTIME_ID:
 *      uprobe traps and BPF programs are charged to the trapping thread);
 *      slow enough to stay under bpfprof's heap governor budget, so this is
 *      the cost of a fully attached profiler;
 *   2. tight phase: malloc+free pairs of mixed sizes in a tight loop on
 *      THREADS threads (default 1) for SECONDS seconds of wall clock (the
 *      clock is read every 256 pairs); the pairs done are counted. A fixed
 *      time rather than a fixed count, because the profilers compared cost
 *      from 1x to 1000x per call: each tool runs as long, and a governor
 *      acting once a second has time to act.
 * Each pair frees the block allocated 64 pairs earlier in the same thread
 * and allocates a new one (sizes 16 B to 4000 B), so there are up to 64 live
 * blocks per thread. Prints nothing; with RESULT_FILE, writes
 * "tight_wall_ns tight_pairs paced_cpu_ns paced_pairs" to it at the end.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 64
#define BURST 50
#define CHECK_EVERY 256

static const size_t sizes[] = { 16, 24, 32, 48, 64, 96, 128, 200, 256, 512, 1000, 2048, 4000 };
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static int64_t deadline_ns;

struct worker {
	pthread_t th;
	uint64_t pairs; /* done in the tight phase */
	uint64_t seed;
	void *slot[SLOTS];
};

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* n pairs on w's slots; noinline so stacks show one allocating function. */
__attribute__((noinline)) static void pairs(struct worker *w, uint64_t start, uint64_t n)
{
	uint64_t x = w->seed;

	for (uint64_t i = start; i < start + n; i++) {
		void **s = &w->slot[i % SLOTS];
		size_t sz;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sz = sizes[x % N_SIZES];
		free(*s);
		*s = malloc(sz);
		if (*s)
			((volatile char *)*s)[0] = (char)i; /* keep the pair from being elided */
	}
	w->seed = x;
}

static void *run(void *arg)
{
	struct worker *w = arg;

	do {
		pairs(w, w->pairs, CHECK_EVERY);
		w->pairs += CHECK_EVERY;
	} while (now_ns(CLOCK_MONOTONIC) < deadline_ns);
	return NULL;
}

static void release(struct worker *w)
{
	for (int i = 0; i < SLOTS; i++) {
		free(w->slot[i]);
		w->slot[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	const char *result = argc > 3 && argv[3][0] ? argv[3] : NULL;
	uint64_t paced = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	double rate = argc > 5 ? atof(argv[5]) : 5000;
	struct worker *w;
	struct timespec gap;
	int64_t cpu = 0, t0, t1;
	uint64_t done_pairs = 0;
	sigset_t set;
	int sig;
	FILE *f;

	if (threads < 1)
		threads = 1;
	if (rate <= 0)
		rate = 5000;
	w = calloc((size_t)threads, sizeof(*w));
	if (!w)
		return 1;
	for (int i = 0; i < threads; i++)
		w[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigwait(&set, &sig))
		return 1;

	/* Paced phase: bursts of BURST pairs, a sleep between them. */
	gap.tv_sec = 0;
	gap.tv_nsec = (long)(BURST / rate * 1e9);
	for (uint64_t done = 0; done < paced; done += BURST) {
		uint64_t n = paced - done < BURST ? paced - done : BURST;
		int64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);

		pairs(&w[0], done, n);
		cpu += now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		nanosleep(&gap, NULL);
	}
	release(&w[0]);

	/* Tight phase. */
	t0 = now_ns(CLOCK_MONOTONIC);
	deadline_ns = t0 + (int64_t)(seconds * 1e9);
	for (int i = 1; i < threads; i++)
		if (pthread_create(&w[i].th, NULL, run, &w[i]))
			return 1;
	run(&w[0]);
	for (int i = 1; i < threads; i++)
		pthread_join(w[i].th, NULL);
	t1 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < threads; i++) {
		done_pairs += w[i].pairs;
		release(&w[i]);
	}
	free(w);

	if (result) {
		f = fopen(result, "w");
		if (!f)
			return 1;
		fprintf(f, "%lld %llu %lld %llu\n", (long long)(t1 - t0),
			(unsigned long long)done_pairs, (long long)cpu, (unsigned long long)paced);
		if (fclose(f))
			return 1;
	}
	return 0;
}
