// unsym_work: CPU in code no symbolizer can name, for /debug/pprof/symbol.
// Usage: unsym_work [SECONDS]   (default: run until killed)
// Two threads spin: one in this binary's own loop (the Makefile strips the
// binary, so it has no symbol table), one in a "JIT" region: machine code
// copied into a memfd and mapped executable ("/memfd:bpfprof-jit (deleted)"
// in /proc/PID/maps), with no perf map. On SIGUSR1 it writes
// /tmp/perf-PID.map naming the JIT region "bpfprof_jit_loop", as a JIT that
// publishes its symbols late would.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "unsym_work: the JIT loop is x86-64 machine code"
#endif

/* uint64_t loop(uint64_t n): counts to n (xor eax,eax; inc rax; cmp rax,rdi; jne; ret). */
static const unsigned char jit_code[] = {
	0x31, 0xc0,		/* xor %eax,%eax */
	0x48, 0xff, 0xc0,	/* inc %rax */
	0x48, 0x39, 0xf8,	/* cmp %rdi,%rax */
	0x75, 0xf8,		/* jne -8 (inc) */
	0xc3,			/* ret */
};

static volatile uint64_t sink;
static volatile sig_atomic_t want_map;
static void *jit;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *own_loop(void *arg)
{
	uint64_t x = sink + 1;

	(void)arg;
	for (;;) {
		for (int i = 0; i < 1000000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x));
		}
		sink = x;
	}
	return NULL;
}

static void *jit_loop(void *arg)
{
	uint64_t (*fn)(uint64_t) = (uint64_t (*)(uint64_t))jit;

	(void)arg;
	for (;;)
		sink += fn(1000000);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	want_map = 1;
}

static void write_perf_map(void)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%lx %zx bpfprof_jit_loop\n", (unsigned long)(uintptr_t)jit, sizeof(jit_code));
	fclose(f);
}

static int make_jit(void)
{
	int fd = memfd_create("bpfprof-jit", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, 4096) ||
	    pwrite(fd, jit_code, sizeof(jit_code), 0) != (ssize_t)sizeof(jit_code)) {
		perror("unsym_work: memfd");
		return -1;
	}
	jit = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	close(fd);
	if (jit == MAP_FAILED) {
		perror("unsym_work: mmap");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0, t0 = now_s();
	pthread_t a, b;
	char path[64];

	if (make_jit())
		return 1;
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&a, NULL, own_loop, NULL) || pthread_create(&b, NULL, jit_loop, NULL))
		return 1;
	while (!secs || now_s() - t0 < secs) {
		usleep(50000);
		if (want_map) {
			want_map = 0;
			write_perf_map();
		}
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	return 0;
}
