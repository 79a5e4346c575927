/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Heap profiling of chosen processes through allocator uprobes. One tracker
 * holds every watched PID; each PID has its own probes (never on every
 * process that maps libc), sampled live allocations keyed by {tgid, addr},
 * and an overhead governor. Thread-safe: the daemon's HTTP threads query
 * while a tracker thread drains.
 */
#ifndef BPFPROF_HEAP_H
#define BPFPROF_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct heap_tracker;
struct pipeline;
struct profile;
struct symbolizer;

/* Sample types of every heap profile, in this order (default inuse_space). */
enum heap_value {
	HEAP_ALLOC_OBJECTS = 0,
	HEAP_ALLOC_SPACE,
	HEAP_INUSE_OBJECTS,
	HEAP_INUSE_SPACE,
	HEAP_N_VALUES,
};

/*
 * Where the probes go: auto uses libbpfprof-heap.so's hooks where a target
 * has it loaded, allocator uprobes elsewhere; preload only the hooks
 * (add_pid gives -ENOENT without the library); uprobe never the hooks.
 */
enum heap_mode {
	HEAP_MODE_AUTO = 0,
	HEAP_MODE_PRELOAD,
	HEAP_MODE_UPROBE,
};

struct heap_opts {
	uint64_t sample_bytes;	   /* Poisson mean R in bytes; 1: every allocation; 0: 512 KiB */
	enum heap_mode mode;
	double budget_cpu_percent; /* governor budget per target, % of one CPU; 0: 2 */
	uint32_t max_live;	   /* live sampled allocations tracked (all PIDs); 0: 262144 */
	uint32_t max_pids;	   /* watched PIDs; 0: 64 */
	bool no_session;	   /* force uretprobes even where uprobe sessions exist (tests) */
	bool fp_unwind;		   /* walk allocation stacks by frame pointer, not .eh_frame */
	size_t unwind_table_mb;	   /* budget of the unwind rows; 0: UNWIND_DEFAULT_TABLE_MB */
	/*
	 * Optional, together: a session's symbolizer and pipeline to use instead
	 * of the tracker's own. They must outlive the tracker and be used by no
	 * other thread while the tracker's calls run (a session's are not).
	 */
	struct symbolizer *sym;
	struct pipeline *pl;
};

/* Which allocator a PID's probes went to. */
enum heap_allocator {
	HEAP_ALLOC_UNKNOWN = 0,
	HEAP_ALLOC_GLIBC,
	HEAP_ALLOC_JEMALLOC,
	HEAP_ALLOC_TCMALLOC,
	HEAP_ALLOC_MIMALLOC,
	HEAP_ALLOC_STATIC, /* malloc defined inside a statically linked executable */
	HEAP_ALLOC_SAMPLER, /* libbpfprof-heap.so: probes on its hooks, sampled in-process */
};

/* Projected ns per allocator call, by kind, on one target's probes. */
struct heap_costs {
	double call_ns;	   /* allocation, not sampled */
	double sampled_ns; /* allocation, sampled */
	double free_ns;	   /* free of a block not sampled */
	double free_tracked_ns;
};

struct heap_pid_stats {
	uint32_t pid;
	enum heap_allocator allocator;
	enum heap_mode mode; /* preload (the library's hooks) or uprobe (the allocator's) */
	const char *allocator_path; /* the binary the probes are on; valid until the next call */
	bool attached;		    /* false once the target exited or unmapped its allocator */
	bool sessions;		    /* uprobe sessions (no return trap on unsampled calls) in use */
	double trap_cost_ns;	    /* calibrated cost of one trap */
	struct heap_costs cost;	    /* calibrated, plus single-steps where probes need them */
	double traps_per_s;	    /* measured over the last governor period */
	double calls_per_s;	    /* allocator calls, idem */
	double sampled_per_s;	    /* of which sampled allocations */
	double projected_cpu_percent; /* calls of each kind/s x its cost, as % of one CPU */
	bool degraded;		      /* governor duty-cycling the probes */
	double duty_cycle;	      /* fraction of time attached, 1.0 when not degraded */
	uint64_t inuse_bytes_est;     /* unbiased estimate of live heap bytes */
	uint64_t inuse_objects_est;
	uint64_t alloc_bytes_est; /* total allocated since tracking began (estimate) */
	uint64_t live_dropped;	  /* sampled allocations not tracked: live map full */
	int64_t started_ns;
};

/* Outstanding sampled allocations of one allocation stack, for leak detection. */
struct heap_live_stack {
	uint32_t stack_key; /* stable id of the stack within the tracker */
	uint64_t bytes_est; /* estimated outstanding bytes (scaled like inuse_space) */
	uint64_t objects_est;
	int64_t oldest_ns; /* allocation time of the oldest still-live sample */
	int64_t newest_ns;
	char leaf_function[128]; /* symbolized innermost user frame outside the allocator */
};

struct heap_tracker *heap_tracker__new(const struct heap_opts *opts); /* NULL + errno */
void heap_tracker__free(struct heap_tracker *t); /* detaches everything; NULL-safe */

/* Starts heap profiling of pid: 0, -ESRCH, -EEXIST, -ENOSPC (max_pids), -ENOENT (no allocator). */
int heap_tracker__add_pid(struct heap_tracker *t, uint32_t pid);
/* The same in mode instead of opts.mode; -ENOENT in preload mode: the library is not loaded. */
int heap_tracker__add_pid_mode(struct heap_tracker *t, uint32_t pid, enum heap_mode mode);
/* Stops it (probes detached, data dropped). 0 or -ENOENT. */
int heap_tracker__remove_pid(struct heap_tracker *t, uint32_t pid);
bool heap_tracker__has_pid(struct heap_tracker *t, uint32_t pid);
/* Drains the kernel maps, runs the governor and notices exits; call about once a second. */
int heap_tracker__poll(struct heap_tracker *t);

/*
 * The heap profile of pid so far, symbolized, with sample types
 * alloc_objects/count, alloc_space/bytes, inuse_objects/count,
 * inuse_space/bytes and default_type as given (HEAP_INUSE_SPACE for heap,
 * HEAP_ALLOC_SPACE for allocs). A degraded governor is said in a comment.
 */
int heap_tracker__profile(struct heap_tracker *t, uint32_t pid, enum heap_value default_type,
			  struct profile **out);
int heap_tracker__pid_stats(struct heap_tracker *t, uint32_t pid, struct heap_pid_stats *out);
/* Live stacks of pid with an oldest sample older than min_age_ns; *out malloc'd. */
int heap_tracker__live_stacks(struct heap_tracker *t, uint32_t pid, int64_t min_age_ns,
			      struct heap_live_stack **out, size_t *n);
/* PIDs watched; fills up to max, returns the count. */
size_t heap_tracker__pids(struct heap_tracker *t, uint32_t *out, size_t max);

/*
 * Added for record (several PIDs in one file) and the daemon's /metrics:
 * an empty heap profile with the four sample types and period space/bytes,
 * pid's samples added to it, and Prometheus gauges of every watched PID.
 */
struct profile *heap_profile__new(enum heap_value default_type, uint64_t sample_bytes);
int heap_tracker__add_to_profile(struct heap_tracker *t, uint32_t pid, struct profile *p);
void heap_tracker__write_metrics(struct heap_tracker *t, FILE *f);
/* One line per PID for record's summary: allocator, probes, governor, drops. */
void heap_tracker__print_summary(struct heap_tracker *t, FILE *f);
/* "glibc", "jemalloc", "tcmalloc", "mimalloc", "static", "libbpfprof-heap", "unknown". */
const char *heap_allocator__name(enum heap_allocator kind);
/* The sampling rate in effect (bytes). */
uint64_t heap_tracker__rate(const struct heap_tracker *t);
/* "auto", "preload", "uprobe"; heap_mode__parse: 0 or -EINVAL. */
const char *heap_mode__name(enum heap_mode m);
int heap_mode__parse(const char *s, enum heap_mode *out);
/*
 * libbpfprof-heap.so for a command to preload: $BPFPROF_HEAP_LIB, else next
 * to our executable, or in ../lib/bpfprof/. 0 with path, or -ENOENT.
 */
int heap_preload__lib_path(char *path, size_t len);
/*
 * Can a program be started with the library preloaded? Dynamically linked
 * against glibc's loader (PT_INTERP ld-linux*): 0; static or another libc:
 * -ENOEXEC with why filled; -errno when it cannot be read.
 */
int heap_preload__check_exe(const char *path, char *why, size_t len);

#endif
