// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The heap sampler without an agent: hs_basic MODE, run with
 * LD_PRELOAD=build/libbpfprof-heap.so (and BPFPROF_HEAP_RATE=1 except for
 * "noagent"). Exits 0 when every check holds, 1 with the failed check.
 *   api      every interposed C function, exact counts at R=1
 *   before   blocks the library never saw (__libc_malloc) freed and reallocated
 *   stats    sampled count at R=4096 within 5 sigma of its expectation
 *   fork     the child starts anew; the parent's blocks freed there are ignored
 *   threads  exact counts over threads, blocks freed by another thread
 *   signal   a signal handler that allocates, every call sampled (R=1)
 *   noagent  no BPFPROF_HEAP_RATE: nothing sampled until an "agent" attaches
 *   dlclose  (not preloaded; HS_LIB names the library) dlopen + dlclose leave
 *            it mapped, so pointers taken from it stay callable
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hs_test.h"

/* Not in glibc 2.36's headers; the library defines them. */
extern void free_sized(void *p, size_t n) __attribute__((weak));
extern void free_aligned_sized(void *p, size_t align, size_t n) __attribute__((weak));
extern void *__libc_malloc(size_t n);

static volatile size_t huge = SIZE_MAX / 2;

static int mode_api(void)
{
	struct hs_snap a, b;
	unsigned long long bytes = 0;
	void *p[12];
	char *s;
	int rc;

	CHECK(free_sized && free_aligned_sized);
	a = hs_snap();
	p[0] = malloc(100), bytes += 100;
	p[1] = calloc(10, 10), bytes += 100;
	s = realloc(NULL, 50), bytes += 50;
	memset(s, 'x', 50);
	s = realloc(s, 5000), bytes += 5000; /* a sampled block resized: free + alloc */
	CHECK(s[0] == 'x' && s[49] == 'x');
	s = realloc(s, 10), bytes += 10;
	p[2] = s;
	p[3] = reallocarray(NULL, 4, 8), bytes += 32;
	rc = posix_memalign(&p[4], 64, 100), bytes += 100;
	p[5] = aligned_alloc(64, 128), bytes += 128;
	p[6] = memalign(32, 64), bytes += 64;
	p[7] = valloc(100), bytes += 100;
	p[8] = pvalloc(100), bytes += 100;
	p[9] = malloc(0); /* nothing to sample */
	b = hs_snap();

	CHECK(rc == 0);
	for (int i = 0; i < 10; i++)
		CHECK(p[i]);
	for (int i = 0; i < 100; i++)
		CHECK(((char *)p[1])[i] == 0);
	CHECK((uintptr_t)p[4] % 64 == 0 && (uintptr_t)p[5] % 64 == 0 && (uintptr_t)p[6] % 32 == 0);
	CHECK((uintptr_t)p[7] % 4096 == 0 && (uintptr_t)p[8] % 4096 == 0);
	CHECK(malloc_usable_size(p[0]) >= 100);
	CHECK_EQ(b.sampled - a.sampled, 11);
	CHECK_EQ(b.bytes - a.bytes, bytes);
	CHECK_EQ(b.freed - a.freed, 2);
	CHECK_EQ(b.live - a.live, 9);

	a = hs_snap();
	free(p[0]);
	free_sized(p[1], 100);
	free_aligned_sized(p[5], 64, 128);
	for (int i = 2; i < 10; i++)
		if (i != 5)
			free(p[i]);
	free(NULL);
	errno = 0;
	p[10] = calloc(huge, 4);
	CHECK(!p[10] && errno == ENOMEM);
	p[11] = reallocarray(NULL, huge, 4);
	CHECK(!p[11]);
	b = hs_snap();
	CHECK_EQ(b.sampled - a.sampled, 0);
	CHECK_EQ(b.freed - a.freed, 9);
	CHECK_EQ(b.live, a.live - 9);
	return 0;
}

static int mode_before(void)
{
	struct hs_snap a, b;
	char *p, *q;

	/* __libc_malloc is glibc's own entry: the library never sees these blocks. */
	a = hs_snap();
	p = __libc_malloc(64);
	q = __libc_malloc(64);
	memset(q, 'q', 64);
	free(p);
	q = realloc(q, 100000);
	b = hs_snap();
	CHECK(q && q[0] == 'q' && q[63] == 'q');
	CHECK_EQ(b.sampled - a.sampled, 1); /* the new block of the realloc */
	CHECK_EQ(b.freed - a.freed, 0);
	free(q);
	CHECK_EQ(hs_snap().freed - b.freed, 1);
	return 0;
}

/* xorshift for sizes: not the library's generator. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define STATS_N	     400000
#define STATS_WINDOW 1024

static int mode_stats(void)
{
	static void *window[STATS_WINDOW];
	struct bpfprof_heap_state *st = hs_state();
	const double rate = 4096;
	double expect = 0, var = 0, sd, got;
	uint64_t seed = 88172645463325252ull;
	struct hs_snap a, b;
	size_t sizes[64];

	/* As an agent would: a new rate, taken from each thread's next gap. */
	__atomic_store_n(&st->rate, (uint64_t)rate, __ATOMIC_RELAXED);
	free(malloc(1)); /* at R=1 this draws the first gap of the new rate */
	for (int i = 0; i < 64; i++)
		sizes[i] = 1 + rnd(&seed) % 1024;
	a = hs_snap();
	for (int i = 0; i < STATS_N; i++) {
		free(window[i % STATS_WINDOW]);
		window[i % STATS_WINDOW] = malloc(sizes[i % 64]);
	}
	for (int i = 0; i < STATS_WINDOW; i++)
		free(window[i]);
	b = hs_snap();
	for (int i = 0; i < STATS_N; i++) {
		double q = -expm1(-(double)sizes[i % 64] / rate);

		expect += q;
		var += q * (1 - q);
	}
	sd = sqrt(var);
	got = (double)(b.sampled - a.sampled);
	printf("stats: sampled %.0f, expected %.1f (sd %.1f), drops %llu\n", got, expect, sd,
	       b.drops - a.drops);
	CHECK(b.drops == a.drops);
	CHECK(fabs(got - expect) < 5 * sd);
	CHECK_EQ(b.freed - a.freed, b.sampled - a.sampled);
	return 0;
}

static int mode_fork(void)
{
	struct bpfprof_heap_state *st = hs_state();
	void *mine[8];
	struct hs_snap a, b;
	int status;
	pid_t pid;

	for (int i = 0; i < 8; i++)
		mine[i] = malloc(64);
	st->attached = 4242; /* the agent attached to the parent only */
	a = hs_snap();
	CHECK(a.live >= 8);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct hs_snap c = hs_snap(), d;
		void *x[5];

		if (c.sampled || c.freed || c.live || st->attached || st->rate != 1)
			_exit(10);
		for (int i = 0; i < 8; i++)
			free(mine[i]); /* sampled in the parent: not the child's */
		for (int i = 0; i < 5; i++)
			x[i] = malloc(32);
		for (int i = 0; i < 5; i++)
			free(x[i]);
		d = hs_snap();
		_exit(d.sampled == 5 && d.freed == 5 && d.live == 0 ? 0 : 11);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	b = hs_snap();
	CHECK_EQ(b.sampled, a.sampled);
	CHECK_EQ(st->attached, 4242);
	for (int i = 0; i < 8; i++)
		free(mine[i]);
	CHECK_EQ(hs_snap().freed - b.freed, 8);
	return 0;
}

#define THREADS	    4
#define PER_THREAD  20000
#define HANDED_OVER 100

static pthread_barrier_t start_bar, done_bar;
static void *handed[THREADS][HANDED_OVER];

static void *thread_main(void *arg)
{
	int id = (int)(intptr_t)arg;

	pthread_barrier_wait(&start_bar);
	for (int i = 0; i < PER_THREAD; i++) {
		void *p = malloc(16 + (size_t)(i % 200));

		free(p);
	}
	for (int i = 0; i < HANDED_OVER; i++)
		handed[id][i] = malloc(24);
	pthread_barrier_wait(&done_bar);
	return NULL;
}

static int mode_threads(void)
{
	pthread_t t[THREADS];
	struct hs_snap a, b;

	CHECK(!pthread_barrier_init(&start_bar, NULL, THREADS + 1));
	CHECK(!pthread_barrier_init(&done_bar, NULL, THREADS + 1));
	for (int i = 0; i < THREADS; i++)
		CHECK(!pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i));
	a = hs_snap();
	pthread_barrier_wait(&start_bar);
	pthread_barrier_wait(&done_bar);
	b = hs_snap();
	for (int i = 0; i < THREADS; i++)
		CHECK(!pthread_join(t[i], NULL));
	CHECK_EQ(b.sampled - a.sampled, THREADS * (PER_THREAD + HANDED_OVER));
	CHECK_EQ(b.freed - a.freed, THREADS * PER_THREAD);
	CHECK_EQ(b.live - a.live, THREADS * HANDED_OVER);
	a = hs_snap();
	for (int i = 0; i < THREADS; i++)
		for (int j = 0; j < HANDED_OVER; j++)
			free(handed[i][j]);
	b = hs_snap();
	CHECK_EQ(b.freed - a.freed, THREADS * HANDED_OVER);
	CHECK_EQ(b.live, a.live - THREADS * HANDED_OVER);
	return 0;
}

static volatile sig_atomic_t handler_calls;

/* Allocates from a signal handler: async-signal-unsafe in general, fine with the bump allocator. */
static void on_alarm(int sig)
{
	void *p[3];

	(void)sig;
	for (int i = 0; i < 3; i++)
		p[i] = malloc(48);
	p[1] = realloc(p[1], 96);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	handler_calls++;
}

static int mode_signal(void)
{
	struct itimerval it = {.it_interval = {0, 50}, .it_value = {0, 50}};
	struct itimerval off = {0};
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct hs_snap a, b;
	void *keep[16] = {0};

	CHECK(getenv("HS_BUMPALLOC")); /* the real allocator must be async-signal-safe */
	a = hs_snap();
	CHECK(!sigaction(SIGALRM, &sa, NULL));
	CHECK(!setitimer(ITIMER_REAL, &it, NULL));
	for (long i = 0; i < 200000 || handler_calls < 200; i++) {
		int k = (int)(i % 16);

		free(keep[k]);
		keep[k] = malloc(8 + (size_t)(i % 100));
		if (i % 7 == 0)
			keep[k] = realloc(keep[k], 500);
	}
	CHECK(!setitimer(ITIMER_REAL, &off, NULL));
	for (int k = 0; k < 16; k++)
		free(keep[k]);
	b = hs_snap();
	printf("signal: %d handler calls, %llu sampled, %llu freed\n", (int)handler_calls,
	       b.sampled - a.sampled, b.freed - a.freed);
	CHECK(b.sampled - a.sampled >= 200000);
	CHECK_EQ(b.live, a.live);
	CHECK_EQ(b.freed - a.freed, b.sampled - a.sampled);
	return 0;
}

static int mode_noagent(void)
{
	struct bpfprof_heap_state *st = hs_state();
	struct hs_snap a, b;
	void *p;

	CHECK(!(st->flags & BPFPROF_HEAP_F_ENV) && !st->attached);
	a = hs_snap();
	for (int i = 0; i < 256 * 1024; i++)
		free(malloc(64)); /* 16 MiB: ~32 sample points at the default rate */
	b = hs_snap();
	CHECK_EQ(b.sampled, 0);
	CHECK_EQ(b.live, 0);
	CHECK(b.unattached - a.unattached >= 8);
	/* As the agent attaches: rate first, then the flag. */
	__atomic_store_n(&st->rate, 1024, __ATOMIC_RELAXED);
	__atomic_store_n(&st->attached, (uint32_t)getpid(), __ATOMIC_RELEASE);
	for (int i = 0; i < 64 * 1024; i++)
		free(malloc(64)); /* 4 MiB: the old gap (<= ~10 MiB) runs out in most runs */
	p = malloc(64 << 20);	  /* always reaches the gap: sampled */
	free(p);
	b = hs_snap();
	CHECK(b.sampled > 0);
	CHECK_EQ(b.freed, b.sampled);
	CHECK_EQ(b.live, 0);
	printf("noagent: %llu unattached sample points, then %llu sampled\n", b.unattached,
	       b.sampled);
	return 0;
}

static int mode_dlclose(void)
{
	const char *path = getenv("HS_LIB");
	void *(*their_malloc)(size_t);
	void (*their_free)(void *);
	void *h, *p;

	CHECK(path);
	CHECK(!dlsym(RTLD_DEFAULT, BPFPROF_HEAP_STATE_SYM)); /* not preloaded */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(h);
	their_malloc = (void *(*)(size_t))dlsym(h, "malloc");
	their_free = (void (*)(void *))dlsym(h, "free");
	CHECK(their_malloc && their_free);
	p = their_malloc(100);
	CHECK(p);
	CHECK(!dlclose(h));
	CHECK(dlopen(path, RTLD_NOW | RTLD_NOLOAD)); /* still mapped: -z nodelete */
	their_free(p);
	p = their_malloc(200);
	CHECK(p);
	free(p); /* the same allocator behind both */
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} modes[] = {
	    {"api", mode_api},	       {"before", mode_before},	  {"stats", mode_stats},
	    {"fork", mode_fork},       {"threads", mode_threads}, {"signal", mode_signal},
	    {"noagent", mode_noagent}, {"dlclose", mode_dlclose},
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s api|before|stats|fork|threads|signal|noagent|dlclose\n",
			argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].fn();
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
