/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The off-CPU collector: owns the offcpu.bpf.c skeleton (scheduler
 * tracepoints) and hands on, per (pid, tid, stacks), how often and how long
 * threads were off CPU.
 */
#ifndef BPFPROF_COLLECTOR_OFFCPU_H
#define BPFPROF_COLLECTOR_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collector/sample.h"
#include "unwind/unwind.h"

struct offcpu_collector;

/* Set to 1 to skip tp_btf and load the raw_tp fallback (tests cover it this way). */
#define OFFCPU_FORCE_RAW_TP_ENV "BPFPROF_TEST_FORCE_RAW_TP"

struct offcpu_collector_opts {
	uint32_t mode;	      /* enum offcpu_mode (include/offcpu_keys.h) */
	const uint32_t *pids; /* NULL/0: whole system */
	size_t n_pids;
	bool follow_forks; /* also profile children forked by the PIDs */
	bool no_kernel;
	uint64_t min_block_ns;	/* shorter off-CPU periods are not counted */
	uint32_t count_entries; /* 0: DEFAULT_COUNT_ENTRIES */
	uint32_t stack_entries; /* 0: DEFAULT_STACK_ENTRIES */
	bool fp_unwind;		/* walk user stacks by frame pointer instead of .eh_frame */
	size_t unwind_table_mb; /* budget of the unwind rows; 0: UNWIND_DEFAULT_TABLE_MB */
	/*
	 * Optional: another collector's unwinder (cpu_collector__unwinder()) to
	 * use instead of a new one: one set of tables, fed and its notices
	 * served by both; its owner must outlive this collector.
	 */
	struct unwinder *unwinder;
	pid_event_fn on_pid; /* called from offcpu_collector__poll for new and exec'd processes */
	/*
	 * Optional: whether addr is code of pid (in an executable mapping). The
	 * kernel side recovers return addresses the frame-pointer walk skips
	 * (callers of libc functions without frame pointers) by searching the
	 * stack; each is kept only if this says yes. NULL: none are kept.
	 * Used with fp_unwind only: the .eh_frame walk needs no search.
	 */
	bool (*is_code)(uint32_t pid, uint64_t addr, void *ctx);
	void *ctx;
};

struct offcpu_stats {
	uint64_t periods;	 /* off-CPU periods counted */
	uint64_t short_periods;	 /* shorter than the minimum: not counted */
	uint64_t drop_start;	 /* start map full: switch-out forgotten */
	uint64_t drop_counts;	 /* counts map full: period lost */
	uint64_t ustack_err;	 /* user stack could not be read */
	uint64_t kstack_err;	 /* kernel stack could not be read */
	uint64_t stack_collide;	 /* stack map collision or full: stack lost */
	uint64_t pid_event_drop; /* new-process notices lost */
	uint64_t stack_missing;	 /* stack id no longer in the map at drain */
	bool raw_tp;		 /* attached through the raw_tp fallback */
	bool dwarf;		 /* .eh_frame unwinding on: unwind holds its figures */
	/* A shared unwinder's figures include the CPU collector's stacks. */
	struct unwinder_stats unwind;
};

/*
 * One aggregate: s->count is how many times the thread went off CPU with
 * these stacks, total_ns how long it stayed off in all.
 */
typedef int (*offcpu_sample_fn)(const struct raw_sample *s, uint64_t total_ns, void *ctx);

/* Opens, sizes, loads (tp_btf, else raw_tp) and attaches. NULL with errno and a message. */
struct offcpu_collector *offcpu_collector__start(const struct offcpu_collector_opts *opts);
/* Detaches everything; NULL-safe. */
void offcpu_collector__free(struct offcpu_collector *c);

/* Serves new-process notices for up to timeout_ms. Negative errno on failure. */
int offcpu_collector__poll(struct offcpu_collector *c, int timeout_ms);
/* Moves everything counted so far to fn. Returns the number of aggregates, or negative errno. */
int offcpu_collector__drain(struct offcpu_collector *c, offcpu_sample_fn fn, void *ctx);
void offcpu_collector__stats(struct offcpu_collector *c, struct offcpu_stats *out);
/* True while any filtered PID is alive (always true for whole system). */
bool offcpu_collector__targets_alive(struct offcpu_collector *c);

#endif
