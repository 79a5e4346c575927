// mutex_contend: THREADS threads loop { locked_work() ; pause }. In
// "contended" mode they share one pthread mutex and hold it across a 1 ms
// sleep, so the others wait in futex; in "uncontended" mode each has its own
// mutex and nobody waits. Holding by sleeping keeps the CPU free.
// Usage: mutex_contend SECONDS contended|uncontended [THREADS]   (default 4)
// The main thread only sleeps (nanosleep, not a futex) until the end.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t own[MAX_THREADS];
static volatile int stop;

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* The contended lock's caller: what the mutex profile should put on top. */
__attribute__((noinline)) void locked_work(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	sleep_us(1000);
	pthread_mutex_unlock(m);
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	pthread_mutex_t *m = arg;

	while (!stop) {
		locked_work(m);
		sleep_us(100);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	int contended = argc <= 2 || !strcmp(argv[2], "contended");
	int n = argc > 3 ? atoi(argv[3]) : 4;
	pthread_t t[MAX_THREADS];

	if (n < 1 || n > MAX_THREADS)
		return 2;
	for (int i = 0; i < n; i++) {
		pthread_mutex_init(&own[i], NULL);
		pthread_create(&t[i], NULL, worker, contended ? &shared : &own[i]);
	}
	sleep_us((long)(secs * 1e6));
	stop = 1;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
