// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Workload for the unwinding tests, built by the test with and without
 * frame pointers. Every mode burns CPU under a known chain of functions:
 *   unwind_work cpu SECS          main > level_a > level_b > level_c > burn_leaf,
 *                                 and libc's qsort calling back into cmp_burn
 *   unwind_work thread SECS       two threads: thread_main > level_a > ...
 *   unwind_work signal SECS       SIGPROF handler on_prof > handler_burn, interrupting
 *                                 interrupted_loop (clock_gettime: the vdso)
 *   unwind_work dlopen SECS LIB   after 1 s, dlopen(LIB) and call lib_burn through call_lib
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

volatile unsigned long sink;
static double deadline;
static int arr[256];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static int cmp_burn(const void *a, const void *b)
{
	for (int i = 0; i < 20; i++)
		sink += i;
	return *(const int *)a - *(const int *)b;
}

NOINLINE static void burn_leaf(int n)
{
	for (int i = 0; i < n; i++)
		sink += (unsigned long)i * i;
}

NOINLINE static void sort_work(void)
{
	for (int i = 0; i < 256; i++)
		arr[i] = (i * 7919) % 256;
	qsort(arr, 256, sizeof(arr[0]), cmp_burn);
	sink++;
}

NOINLINE static void level_c(int n)
{
	burn_leaf(n);
	sort_work();
	sink++;
}

NOINLINE static void level_b(int n)
{
	level_c(n);
	sink++;
}

NOINLINE static void level_a(int n)
{
	level_b(n);
	sink++;
}

static void *thread_main(void *arg)
{
	(void)arg;
	while (now() < deadline)
		level_a(200000);
	return NULL;
}

NOINLINE static void handler_burn(void)
{
	double end = now() + 0.008;

	while (now() < end)
		burn_leaf(2000);
	sink++;
}

static void on_prof(int sig)
{
	(void)sig;
	handler_burn();
	sink++;
}

NOINLINE static void interrupted_loop(void)
{
	while (now() < deadline)
		for (int i = 0; i < 1000; i++)
			sink += i;
	sink++;
}

static int run_signal(void)
{
	struct sigaction sa = { .sa_handler = on_prof };
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPROF, &sa, NULL) || setitimer(ITIMER_PROF, &it, NULL))
		return 1;
	interrupted_loop();
	return 0;
}

NOINLINE static void call_lib(void (*fn)(int))
{
	while (now() < deadline)
		fn(200000);
	sink++;
}

static int run_dlopen(const char *lib)
{
	void (*fn)(int);
	void *h;

	double seen = now() + 1;

	/* Busy first, so the process is seen and tabled before the library is mapped. */
	while (now() < seen)
		level_a(200000);
	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	fn = (void (*)(int))dlsym(h, "lib_burn");
	if (!fn)
		return 1;
	call_lib(fn);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	if (argc < 3) {
		fprintf(stderr, "usage: unwind_work cpu|thread|signal|dlopen SECS [LIB]\n");
		return 2;
	}
	deadline = now() + atof(argv[2]);
	if (!strcmp(argv[1], "cpu")) {
		while (now() < deadline)
			level_a(200000);
	} else if (!strcmp(argv[1], "thread")) {
		for (int i = 0; i < 2; i++)
			if (pthread_create(&t[i], NULL, thread_main, NULL))
				return 1;
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	} else if (!strcmp(argv[1], "signal")) {
		return run_signal();
	} else if (!strcmp(argv[1], "dlopen") && argc > 3) {
		return run_dlopen(argv[3]);
	} else {
		return 2;
	}
	return 0;
}
