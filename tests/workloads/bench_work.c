// bench_work: a fixed amount of CPU-bound work split over N threads
// (default: one per online CPU). Prints the wall time in seconds on stdout.
// Usage: bench_work [ITERATIONS_PER_THREAD_MILLIONS] [THREADS]
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;
static uint64_t iters;

__attribute__((noinline)) static uint64_t bench_step(uint64_t x)
{
	for (int i = 0; i < 1000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		x ^= x >> 29;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

static void *worker(void *arg)
{
	uint64_t x = (uint64_t)(uintptr_t)arg + 1;
	for (uint64_t i = 0; i < iters / 1000; i++)
		x = bench_step(x);
	sink = x;
	return NULL;
}

int main(int argc, char **argv)
{
	long m = argc > 1 ? atol(argv[1]) : 2000;
	long n = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > 256)
		n = 256;
	iters = (uint64_t)m * 1000000ull;

	struct timespec a, b;
	pthread_t th[256];
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	for (long i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
