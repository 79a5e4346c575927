/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to user/heap/: the tracker's state, shared by heap.c and heap_profile.c. */
#ifndef BPFPROF_HEAP_TRACKER_H
#define BPFPROF_HEAP_TRACKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "heap_keys.h"
#include "heap/heap_int.h"
#include "heap/heap_tab.h"

struct profile;

#define GOV_PERIOD_NS 1000000000LL
/* The first decision comes early: R=1 on a busy target costs ~10 us a call. */
#define GOV_FIRST_NS	100000000LL
/* While fully attached, how often a sudden load is checked for. */
#define GOV_FAST_NS	50000000LL
#define RB_POLL_MS	10
#define MAX_STACKS	65536
#define MAX_AGG_PER_PID (1 << 20)
#define MAX_LINKS	(HEAP_MAX_FUNCS * 2) /* an entry and a return probe each */

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
	struct heap_costs cost; /* per call of each kind on this target's probes */
	/* Governor. */
	int64_t period_start, attached_ns, attach_since;
	int64_t last_fast; /* last early check (governor_over_early) */
	struct heap_target last; /* counters at the last measurement */
	double traps_per_s, calls_per_s, sampled_per_s, projected, duty, min_duty;
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
	bool own_pl; /* sym and pl are the tracker's, not a session's */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop; /* set by heap_tracker__free, read by the thread: release/acquire */
	int n_cpus;
	struct heap_target *pcpu; /* lookup buffer, one per CPU */
};

/* --- probes (heap.c) --- */

int heap_proc__attach(struct heap_tracker *t, struct heap_proc *p);
void heap_proc__detach(struct heap_proc *p);
/* Drops pid's entries from the live map. */
void heap_proc__purge_live(struct heap_tracker *t, uint32_t pid);

/* --- per-call costs (heap_calib.c) --- */

/* Times calls of each kind in a forked child under the real programs: fills t->calib. */
int heap_calib__calls(struct heap_tracker *t);

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
