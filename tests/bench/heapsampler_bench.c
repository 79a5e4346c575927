// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns per malloc+free pair in a tight loop: run alone, then with
 * LD_PRELOAD=build/libbpfprof-heap.so (tests/bench/heapsampler_bench.sh).
 * Prints the best of ROUNDS rounds (the least disturbed by other load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAIRS  5000000
#define ROUNDS 5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < PAIRS; i++) {
			void *volatile p = malloc(size);

			free(p);
		}
		t = (now_ns() - t0) / PAIRS;
		if (t < best)
			best = t;
	}
	printf("%.1f\n", best);
	return 0;
}
