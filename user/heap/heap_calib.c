// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What one allocator call costs its caller, by kind, timed on the real
 * programs: an unsampled call (entry trap and program), a sampled one
 * (also the return trap or uretprobe, the stack walk and the ring record),
 * a free, and a free of a sampled block (also a record). The governor
 * multiplies each by the calls of that kind the BPF side counts.
 *
 * Why calibrate rather than read the programs' run time (bpf_stats): the
 * run time leaves out the traps themselves (entry, return trampoline, a
 * single-step where the probe could not be moved), most of an unsampled
 * call's cost and much of a sampled one's; and kernel.bpf_stats_enabled
 * is a global switch that slows every BPF program on the machine.
 *
 * A forked child is the target: it calls stand-ins for malloc and free
 * under the link type the targets get (session or uprobe + uretprobe), from
 * CALIB_DEPTH frames down so the walk is of a realistic length (redis
 * allocates about 13 frames deep). A child, because the programs only act
 * for watched processes, and its tables, live entries and records go with
 * it (records of unknown PIDs are ignored; its tables are swept at exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heap.skel.h"
#include "heap/heap_tracker.h"

#define CALIB_DEPTH	    8
#define CALIB_ROUNDS	    3
#define CALIB_FAST_CALLS    4000 /* ~0.5-1 us each */
#define CALIB_SAMPLED_CALLS 300	 /* ~10 us each */
#define CALIB_TIMEOUT_MS    2000
/* Larger than any gap of the exponential table: always sampled (0: never). */
#define CALIB_BIG_SIZE (1ULL << 62)
/* Fake block addresses: BPF keys on them, nothing dereferences them. */
#define CALIB_TRACKED_BASE 0x100000000000ULL
#define CALIB_UNTRACKED	   0x200000000000ULL

/* Stand-ins starting with an emulated push, as most probed allocator entries do. */
__asm__(".text\n"
	".globl heap_calib_alloc\n.type heap_calib_alloc,@function\n"
	"heap_calib_alloc:\n\tpush %rbp\n\tmov %rsi,%rax\n\tpop %rbp\n\tret\n"
	".size heap_calib_alloc, .-heap_calib_alloc\n"
	".globl heap_calib_free\n.type heap_calib_free,@function\n"
	"heap_calib_free:\n\tpush %rbp\n\tpop %rbp\n\tret\n"
	".size heap_calib_free, .-heap_calib_free\n");
/* malloc(size) returning ret; free(ptr). */
uint64_t heap_calib_alloc(uint64_t size, uint64_t ret);
void heap_calib_free(uint64_t ptr);

enum calib_kind { K_ALLOC, K_SAMPLED, K_FREE, K_FREE_TRACKED, K_MAX };

struct calib_times {
	double ns[K_MAX];
	double plain_ns;
};

static int64_t cpu_ns(void)
{
	struct timespec ts;

	/* Traps and programs are charged to the trapping thread: CPU, not wall, time. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void one_call(enum calib_kind k, uint64_t i, uint64_t base)
{
	switch (k) {
	case K_ALLOC:
		heap_calib_alloc(0, CALIB_UNTRACKED);
		break;
	case K_SAMPLED:
		heap_calib_alloc(CALIB_BIG_SIZE, base + i * 16);
		break;
	case K_FREE:
		heap_calib_free(CALIB_UNTRACKED);
		break;
	default:
		heap_calib_free(base + i * 16); /* the blocks K_SAMPLED made */
		break;
	}
}

/* Mean ns per call of kind k over n calls. */
static double time_kind(enum calib_kind k, int n, uint64_t base)
{
	int64_t t0 = cpu_ns();

	for (int i = 0; i < n; i++)
		one_call(k, i, base);
	return (double)(cpu_ns() - t0) / n;
}

static double best(double a, double b)
{
	return a < b ? a : b;
}

/* Sampled allocations come before the frees of their blocks within a round. */
static void time_all(struct calib_times *out)
{
	for (int k = 0; k < K_MAX; k++)
		out->ns[k] = 1e18;
	for (int r = 0; r < CALIB_ROUNDS; r++) {
		uint64_t base = CALIB_TRACKED_BASE + ((uint64_t)r << 32);

		out->ns[K_ALLOC] = best(out->ns[K_ALLOC], time_kind(K_ALLOC, CALIB_FAST_CALLS, 0));
		out->ns[K_FREE] = best(out->ns[K_FREE], time_kind(K_FREE, CALIB_FAST_CALLS, 0));
		out->ns[K_SAMPLED] =
		    best(out->ns[K_SAMPLED], time_kind(K_SAMPLED, CALIB_SAMPLED_CALLS, base));
		out->ns[K_FREE_TRACKED] = best(
		    out->ns[K_FREE_TRACKED], time_kind(K_FREE_TRACKED, CALIB_SAMPLED_CALLS, base));
	}
}

/* Recursion for stack depth; the volatile use after the call keeps it from being a tail call. */
__attribute__((noinline)) static void deep(int depth, struct calib_times *out)
{
	volatile int keep = depth;

	if (depth > 0)
		deep(depth - 1, out);
	else
		time_all(out);
	(void)keep;
}

/* The child: plain cost first, then waits for the probes, times and reports. */
static void __attribute__((noreturn)) child_main(int go_fd, int res_fd)
{
	struct calib_times t = {0};
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	t.plain_ns = time_kind(K_ALLOC, CALIB_FAST_CALLS, 0);
	if (read(go_fd, &c, 1) != 1)
		_exit(1);
	deep(CALIB_DEPTH, &t);
	_exit(write(res_fd, &t, sizeof(t)) == sizeof(t) ? 0 : 1);
}

/* A stand-in process record: the two functions, probed as targets are. */
static struct heap_proc *calib_proc(pid_t pid)
{
	struct heap_proc *p = calloc(1, sizeof(*p));
	uint64_t off_a, off_f;

	if (!p)
		return NULL;
	if (heap_probe__self_offset((uintptr_t)heap_calib_alloc, p->bin.access,
				    sizeof(p->bin.access), &off_a) ||
	    heap_probe__self_offset((uintptr_t)heap_calib_free, p->bin.access,
				    sizeof(p->bin.access), &off_f)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->sess_fd = -1;
	p->bin.funcs[0] = (struct heap_func){
	    .fn = HEAP_FN_MALLOC, .file_off = off_a, .probe_off = off_a, .emulated = true};
	p->bin.funcs[1] = (struct heap_func){
	    .fn = HEAP_FN_FREE, .file_off = off_f, .probe_off = off_f, .emulated = true};
	p->bin.n_funcs = 2;
	return p;
}

static int read_result(int fd, struct calib_times *t)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, CALIB_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	n = read(fd, t, sizeof(*t));
	return n == sizeof(*t) ? 0 : -EIO;
}

/* Watches the child, probes it, lets it run and collects its timings. */
static int run_child(struct heap_tracker *t, pid_t pid, int go_fd, int res_fd,
		     struct calib_times *out)
{
	struct heap_target *zero = calloc(t->n_cpus, sizeof(*zero));
	uint32_t key = pid;
	struct heap_proc *p = calib_proc(pid);
	int err = zero && p ? 0 : -ENOMEM;

	err = err
		  ?: bpf_map__update_elem(t->skel->maps.targets, &key, sizeof(key), zero,
					  sizeof(*zero) * t->n_cpus, BPF_NOEXIST);
	if (!err) {
		heap_stacks__add_pid(t, key);
		err = heap_proc__attach(t, p);
		err = err ?: (write(go_fd, "g", 1) == 1 ? 0 : -EIO);
		err = err ?: read_result(res_fd, out);
		bpf_map__delete_elem(t->skel->maps.targets, &key, sizeof(key), 0);
		heap_proc__purge_live(t, key);
	}
	if (p)
		heap_proc__detach(p);
	free(p);
	free(zero);
	return err;
}

static double minus(double a, double b)
{
	return a > b ? a - b : 0;
}

int heap_calib__calls(struct heap_tracker *t)
{
	int go[2] = {-1, -1}, res[2] = {-1, -1}, err = 0;
	struct calib_times ct;
	int64_t t0 = clock_ns(CLOCK_MONOTONIC);
	pid_t pid = -1;

	if (pipe2(go, O_CLOEXEC) || pipe2(res, O_CLOEXEC))
		err = -errno;
	if (!err && (pid = fork()) < 0)
		err = -errno;
	if (pid == 0)
		child_main(go[0], res[1]);
	err = err ?: run_child(t, pid, go[1], res[0], &ct);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (res[i] >= 0)
			close(res[i]);
	}
	/* Its records are of a PID nobody watches: drained now, ignored. */
	ring_buffer__consume(t->rb);
	if (err)
		return err;
	t->calib.call_ns = minus(ct.ns[K_ALLOC], ct.plain_ns);
	t->calib.sampled_ns = minus(ct.ns[K_SAMPLED], ct.plain_ns);
	t->calib.free_ns = minus(ct.ns[K_FREE], ct.plain_ns);
	t->calib.free_tracked_ns = minus(ct.ns[K_FREE_TRACKED], ct.plain_ns);
	t->calib.calls_ms = (clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	return 0;
}
