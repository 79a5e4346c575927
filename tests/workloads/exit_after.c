// exit_after: burns CPU in exit_after_burn for MS milliseconds (default 1000)
// of wall time, then exits. Used for "a PID exits during recording".
// Usage: exit_after [MS] [usr1]
// With "usr1" it first waits for SIGUSR1 (sent once the profiler samples),
// so the MS ms it then burns are all under the profiler however long that
// took to start.
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint64_t sink;

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void exiting_burn(uint64_t ns)
{
	uint64_t end = wall_ns() + ns;
	uint64_t x = sink + 5;
	do {
		for (int i = 0; i < 20000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x));
		}
		sink = x;
	} while (wall_ns() < end);
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 1000;

	if (argc > 2 && !strcmp(argv[2], "usr1")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigwait(&set, &sig);
	}
	exiting_burn((uint64_t)ms * 1000000ull);
	return 0;
}
