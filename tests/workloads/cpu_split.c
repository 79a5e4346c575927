// cpu_split: burn_a gets 3x the CPU time of burn_b.
// Usage: cpu_split [SECONDS]   (default: run until killed)
// Each round spins 3 ms of thread CPU time in burn_a and 1 ms in burn_b. The
// arithmetic loop is inside the functions; clock_gettime is called only every
// few thousand iterations, so samples land in burn_a/burn_b, not in the vdso.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void burn_a(uint64_t ns)
{
	uint64_t end = cpu_ns() + ns;
	uint64_t x = sink + 1;
	do {
		for (int i = 0; i < 20000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x));
		}
		sink = x;
	} while (cpu_ns() < end);
}

__attribute__((noinline)) void burn_b(uint64_t ns)
{
	uint64_t end = cpu_ns() + ns;
	uint64_t x = sink + 3;
	do {
		for (int i = 0; i < 20000; i++) {
			x = x * 2862933555777941757ull + 3037000493ull;
			__asm__ volatile("" : "+r"(x));
		}
		sink = x;
	} while (cpu_ns() < end);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0;
	uint64_t stop = secs > 0 ? wall_ns() + (uint64_t)(secs * 1e9) : 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	while (!stop || wall_ns() < stop) {
		burn_a(3000000);
		burn_b(1000000);
	}
	return 0;
}
