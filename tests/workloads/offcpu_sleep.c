// offcpu_sleep: one thread (main, so nothing else in the process blocks)
// alternates sleep_here (nanosleep of SLEEP_MS) and compute_here (COMPUTE_MS
// of thread CPU time), and measures the wall time each really took.
// Usage: offcpu_sleep SECONDS [SLEEP_MS [COMPUTE_MS]]   (defaults 20 and 10)
// On exit (end of SECONDS or SIGTERM/SIGINT) prints
//   "sleep_ns=N compute_ns=N" with the measured wall time of each function.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;
static volatile sig_atomic_t stop;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void sleep_here(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	__asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

__attribute__((noinline)) void compute_here(unsigned int ms)
{
	uint64_t end = clock_ns(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000ull;
	uint64_t x = sink + 1;

	do {
		for (int i = 0; i < 20000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x));
		}
		sink = x;
	} while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	unsigned int sleep_ms = argc > 2 ? atoi(argv[2]) : 20;
	unsigned int compute_ms = argc > 3 ? atoi(argv[3]) : 10;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(secs * 1e9);
	uint64_t slept = 0, computed = 0, t;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop && clock_ns(CLOCK_MONOTONIC) < end) {
		t = clock_ns(CLOCK_MONOTONIC);
		sleep_here(sleep_ms);
		slept += clock_ns(CLOCK_MONOTONIC) - t;
		t = clock_ns(CLOCK_MONOTONIC);
		compute_here(compute_ms);
		computed += clock_ns(CLOCK_MONOTONIC) - t;
	}
	printf("sleep_ns=%llu compute_ns=%llu\n", (unsigned long long)slept,
	       (unsigned long long)computed);
	return 0;
}
