/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A profiling session: one set of collectors (cpu, offcpu/wall/mutex, heap),
 * the symbolizer and pipeline they share, and the one poll-and-drain loop
 * with a deadline and cancellation. `record`, the daemon's continuous
 * sampler and its block/mutex requests all run through it.
 *
 * Threads: a session is used by one thread at a time (it may be handed to
 * another before session__run); session__cancel alone may be called from
 * any thread or a signal handler.
 */
#ifndef BPFPROF_SESSION_H
#define BPFPROF_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector/cpu.h"
#include "collector/offcpu.h"
#include "heap/heap.h"
#include "pipeline/pipeline.h"
#include "symbolizer/symbolizer.h"

struct profile;
struct session;

/* How often the loop wakes: new-process notices, deadline, cancel, stop hooks. */
#define SESSION_POLL_MS 50
/* How often collected samples move into the profile. */
#define SESSION_DRAIN_MS 1000

enum session_type {
	SESSION_CPU,	/* on-CPU samples: samples/count, cpu/nanoseconds */
	SESSION_OFFCPU, /* voluntary off-CPU time: contentions/count, delay/nanoseconds */
	SESSION_WALL,	/* on-CPU + off-CPU time of the chosen threads: wall/nanoseconds */
	SESSION_MUTEX,	/* off-CPU time in futex waits, user stacks: as offcpu */
	SESSION_HEAP,	/* sampled allocations: alloc/inuse objects/space, rebuilt per drain */
};

/* Why session__run returned (when it returns 0). */
enum session_end {
	SESSION_END_DEADLINE, /* seconds elapsed */
	SESSION_END_CANCEL,   /* session__cancel */
	SESSION_END_STOP,     /* the stop hook said so */
	SESSION_END_TARGETS,  /* every target exited (stop_when_targets_exit) */
};

struct session_hooks {
	/* Before each poll; true ends the run (SESSION_END_STOP). Optional. */
	bool (*should_stop)(struct session *s, void *ctx);
	/* After each poll; true drains at once instead of at SESSION_DRAIN_MS. Optional. */
	bool (*drain_now)(struct session *s, void *ctx);
	/*
	 * After each drain, with the profile drained into (the slice with
	 * slices, else the whole profile so far) and the wall-clock time in ns.
	 * Optional.
	 */
	void (*on_drain)(struct session *s, struct profile *p, int64_t now_ns, void *ctx);
	/* A new or exec'd process noticed (kind: enum pid_event_kind), on the loop's thread. Optional. */
	void (*on_pid)(struct session *s, uint32_t pid, uint32_t kind, void *ctx);
	void *ctx;
};

struct session_opts {
	enum session_type type;
	const uint32_t *pids; /* NULL/0: whole system (not for wall and heap) */
	size_t n_pids;
	bool follow_forks;	     /* children forked by the PIDs too (cpu, offcpu) */
	unsigned int freq_hz;	     /* cpu, wall; 0: 99 */
	bool no_kernel;		     /* drop kernel frames (always for mutex) */
	uint64_t min_block_ns;	     /* offcpu, wall, mutex: shorter periods are not counted */
	bool fp_unwind;		     /* frame-pointer user stacks instead of .eh_frame */
	size_t unwind_table_mb;	     /* 0: UNWIND_DEFAULT_TABLE_MB */
	uint64_t heap_rate;	     /* heap: mean bytes between samples; 0: 512 KiB */
	enum heap_mode heap_mode;    /* heap: allocator uprobes or the sampler library's hooks */
	double seconds;		     /* deadline of session__run; 0: none */
	bool stop_when_targets_exit; /* end the run once no -p target lives */
	/* A fresh profile per drain, handed to on_drain and then freed (the daemon's slices). */
	bool slices;
	/* A failed drain is reported on stderr and the loop goes on (the daemon). */
	bool keep_going;
	struct session_hooks hooks;
};

struct session_stats {
	uint64_t samples;     /* CPU samples + off-CPU periods drained (counts) */
	uint64_t stacks;      /* raw samples (distinct stacks per drain) handed on */
	uint64_t cpu_samples; /* wall: the CPU part of samples */
	int64_t offcpu_ns;    /* off-CPU time counted */
	uint64_t drains;
	int64_t period_ns; /* CPU sampling period (1 s / freq_hz) */
	bool has_cpu, has_offcpu, has_heap;
	struct cpu_stats cpu;	    /* with has_cpu */
	struct offcpu_stats offcpu; /* with has_offcpu */
	size_t heap_pids;	    /* with has_heap: processes watched */
	struct pipeline_stats pipe;
	struct symbolizer_stats sym;
};

/*
 * Builds the symbolizer, pipeline and profile, then opens and attaches each
 * collector of the type (heap: to every PID given). NULL with errno and a
 * message on stderr naming what could not start.
 */
struct session *session__new(const struct session_opts *opts);
/* Detaches every collector and frees everything; NULL-safe. */
void session__free(struct session *s);

/*
 * Polls every SESSION_POLL_MS and drains every SESSION_DRAIN_MS (or when
 * drain_now says so) until the deadline, a cancel, the stop hook or the
 * targets' exit, then serves the last notices and drains a last time.
 * Returns 0 with *end set (may be NULL), or the first negative errno of a
 * poll or drain (after which the profile holds what was drained before).
 */
int session__run(struct session *s, enum session_end *end);
/* Asks session__run to stop. Any thread, async-signal-safe. */
void session__cancel(struct session *s);
/* True once session__cancel was called. */
bool session__cancelled(const struct session *s);

/* Starts profiling pid too (heap: its allocator). 0, -EEXIST, -ENOTSUP, or as heap_tracker. */
int session__add_pid(struct session *s, uint32_t pid);

/* The profile so far (not with slices); the session keeps owning it. */
struct profile *session__profile(struct session *s);
/* Hands the profile over to the caller; the session keeps an empty one. NULL + errno. */
struct profile *session__take_profile(struct session *s);
/* A new empty profile with the session's sample types and period. NULL + errno. */
struct profile *session__new_profile(const struct session *s);

void session__stats(struct session *s, struct session_stats *out);
/* Heap: one line per PID (allocator, probes, governor, drops). Nothing without heap. */
void session__print_heap_summary(struct session *s, FILE *f);

#endif
