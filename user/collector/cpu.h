/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The CPU collector: owns the cpu.bpf.c skeleton and its perf events. */
#ifndef BPFPROF_COLLECTOR_CPU_H
#define BPFPROF_COLLECTOR_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collector/sample.h"
#include "unwind/unwind.h"

struct cpu_collector;

struct cpu_collector_opts {
	unsigned int freq_hz;
	const uint32_t *pids; /* NULL/0: whole system */
	size_t n_pids;
	bool follow_forks; /* also profile children forked by the PIDs */
	bool no_kernel;
	uint32_t count_entries; /* 0: DEFAULT_COUNT_ENTRIES */
	uint32_t stack_entries; /* 0: DEFAULT_STACK_ENTRIES */
	bool fp_unwind;		/* walk user stacks by frame pointer instead of .eh_frame */
	size_t unwind_table_mb; /* budget of the unwind rows; 0: UNWIND_DEFAULT_TABLE_MB */
	pid_event_fn on_pid;	/* called from collector__poll for new and exec'd processes */
	void *ctx;
};

struct cpu_stats {
	uint64_t samples;	/* samples that passed the PID filter */
	uint64_t drop_counts;	/* lost: counts map full */
	uint64_t ustack_err;	/* user stack could not be read */
	uint64_t kstack_err;	/* kernel stack could not be read */
	uint64_t stack_collide; /* stack map hash collision: stack lost */
	uint64_t pid_event_drop; /* new-process notices lost */
	uint64_t stack_missing; /* stack id no longer in the map at drain */
	bool dwarf;		/* .eh_frame unwinding on: unwind holds its figures */
	struct unwinder_stats unwind;
};

/* Opens, sizes, loads and attaches. NULL with errno and a message on stderr. */
struct cpu_collector *cpu_collector__start(const struct cpu_collector_opts *opts);
/* Detaches everything; NULL-safe. */
void cpu_collector__free(struct cpu_collector *c);

/* Serves new-process notices for up to timeout_ms. Negative errno on failure. */
int cpu_collector__poll(struct cpu_collector *c, int timeout_ms);
/*
 * Moves everything counted so far to fn, one call per (pid, tid, stacks).
 * Returns the number of samples handed on, or negative errno.
 */
int cpu_collector__drain(struct cpu_collector *c, raw_sample_fn fn, void *ctx);
void cpu_collector__stats(struct cpu_collector *c, struct cpu_stats *out);
/* True while any filtered PID is alive (always true for whole system). */
bool cpu_collector__targets_alive(struct cpu_collector *c);
/*
 * The .eh_frame unwinder (NULL with --unwind fp): another collector calls
 * unwinder__share() with it before loading, to use the same tables.
 */
struct unwinder *cpu_collector__unwinder(struct cpu_collector *c);

#endif
