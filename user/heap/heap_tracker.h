/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to user/heap/: the tracker's state, shared by heap.c and heap_profile.c. */
#ifndef BPFPROF_HEAP_TRACKER_H
#define BPFPROF_HEAP_TRACKER_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "heap_keys.h"
#include "heap/heap_int.h"
#include "heap/heap_tab.h"

struct profile;

#define GOV_PERIOD_NS	1000000000LL
#define RB_POLL_MS	10
#define MAX_STACKS	65536
#define MAX_AGG_PER_PID (1 << 20)
#define MAX_LINKS	(HEAP_FN_MAX * 4)

struct heap_proc {
	uint32_t pid;
	bool alive;    /* target running with its allocator: probes wanted */
	bool attached; /* probes in now (the governor may take them out) */
	bool sessions;
	const char *stop_reason;
	char comm[16];
	struct heap_alloc_bin bin;
	int sess_fd;
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
	double trap_cost_ns;
	/* Governor. */
	int64_t period_start, attached_ns, attach_since;
	uint64_t last_traps;
	double traps_per_s, projected, duty, min_duty;
	bool degraded, ever_degraded;
	/* Data. */
	struct live_tab live;
	struct agg_tab agg;
	struct heap_target counters;
	uint64_t untracked, agg_dropped, stack_dropped;
	int64_t started_ns;
};

struct heap_bpf;
struct ring_buffer;
struct bpf_link;
struct symbolizer;
struct pipeline;
struct unwinder;
struct unwind_stack;

struct heap_tracker {
	pthread_mutex_t mu;
	struct heap_opts opts;
	struct heap_bpf *skel;
	bool sessions;
	struct heap_calib calib;
	struct ring_buffer *rb;
	struct bpf_link *exit_link, *exec_link;
	struct heap_proc **procs;
	size_t n_procs;
	struct stack_tab stacks;
	/* .eh_frame unwinding (NULL with fp_unwind): stacks come by hash through ustacks. */
	struct unwinder *unwinder;
	struct khash_tab khash;
	struct unwind_stack *ustack_buf;
	uint64_t *sweep_keys, *unread; /* HEAP_STACK_ENTRIES each */
	size_t n_unread;	       /* ustacks keys unread at the last sweep, sorted */
	int64_t last_sweep;
	uint64_t khash_full; /* stacks read but not cached: khash at its max */
	struct symbolizer *sym;
	struct pipeline *pl;
	pthread_t thread;
	bool thread_started;
	volatile bool stop;
	int n_cpus;
	struct heap_target *pcpu; /* lookup buffer, one per CPU */
};

/* --- allocation stacks (heap_stacks.c), under the tracker's mutex --- */

/* Before load: the unwinder's map sizes and the BPF side's unwind mode. 0 or -errno. */
int heap_stacks__prepare(struct heap_tracker *t, struct heap_bpf *s);
/* After load, with t->rb made: the unwinder and its ring buffer. 0 or -errno. */
int heap_stacks__start(struct heap_tracker *t);
void heap_stacks__free(struct heap_tracker *t);
/* Builds pid's unwind tables (before its probes go in). */
void heap_stacks__add_pid(struct heap_tracker *t, uint32_t pid);
/* The interned stack of an ALLOC record of size bytes; 0 when lost. */
uint32_t heap_stacks__of_event(struct heap_tracker *t, const struct heap_event *e, size_t size);
/* At most once per SWEEP_NS: drops read and orphaned kernel stacks, and exited processes' tables.
 */
void heap_stacks__sweep(struct heap_tracker *t, int64_t now);
void heap_stacks__print_summary(struct heap_tracker *t, FILE *f);

static inline int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline struct heap_proc *find_proc(struct heap_tracker *t, uint32_t pid)
{
	for (size_t i = 0; i < t->n_procs; i++)
		if (t->procs[i]->pid == pid)
			return t->procs[i];
	return NULL;
}

#endif
