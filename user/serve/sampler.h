/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's sampling thread: runs a whole-system CPU session (collector,
 * symbolizer and pipeline, none of them thread-safe, so only this thread
 * touches them) whose once-a-second slices go to the store and to every
 * live `seconds=N` request.
 * Threads: sampler__record and sampler__stats from any thread;
 * sampler__start and sampler__stop from one.
 */
#ifndef BPFPROF_SERVE_SAMPLER_H
#define BPFPROF_SERVE_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/cpu.h"
#include "pipeline/pipeline.h"
#include "symbolizer/symbolizer.h"

struct profile;
struct profile_filter;
struct store;
struct sampler;

struct sampler_opts {
	unsigned int freq_hz;
	bool no_kernel;
	unsigned int unwind_table_mb;
	struct store *store;
	unsigned int max_waiters; /* concurrent seconds=N requests */
	/* New and exec'd processes (enum pid_event_kind), on the sampler thread; optional. */
	void (*on_pid)(uint32_t pid, uint32_t kind, void *ctx);
	void *on_pid_ctx;
};

struct sampler_stats {
	struct cpu_stats cpu;
	struct pipeline_stats pipe;
	struct symbolizer_stats sym;
	uint64_t drains, stacks, store_errors;
	uint64_t waiters;
};

struct sampler *sampler__start(const struct sampler_opts *opts); /* NULL + errno */
/* Stops the thread, drains a last time into the store, detaches every probe. NULL-safe. */
void sampler__stop(struct sampler *s);

/*
 * Collects `seconds` of new samples passing f into a new profile. Returns
 * 0, -ECANCELED when *cancel became true, -EBUSY beyond max_waiters.
 */
int sampler__record(struct sampler *s, unsigned int seconds, const struct profile_filter *f,
		    const volatile bool *cancel, struct profile **out);
void sampler__stats(struct sampler *s, struct sampler_stats *out);
/* A new empty profile with the CPU sample types and period. */
struct profile *sampler__new_profile(const struct sampler *s);

#endif
