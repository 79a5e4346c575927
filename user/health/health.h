/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Memory health of watched processes: a monitor thread samples /proc for
 * every watched PID (RSS trend, cgroup limit, thresholds), observes the heap
 * tracker's old live stacks once per store window (leaks), and saves
 * snapshots, automatically when a process reaches a configured severity.
 * The HTTP routes and `bpfprof health` read it through this header.
 * Thread-safe. Works without a heap tracker (heap figures are then absent).
 */
#ifndef BPFPROF_HEALTH_H
#define BPFPROF_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "health/leaks.h"
#include "health/procmem.h"
#include "health/snapshots.h"
#include "health/trend.h"

struct health;
struct heap_tracker;
struct store;

#define HEALTH_MAX_PIDS	    64
#define HEALTH_MAX_WARNINGS 8
#define HEALTH_WARNING_LEN  192
#define HEALTH_MAX_LEAKS    50 /* stacks listed by /api/v1/leaks */

enum health_status { HEALTH_NORMAL = 0, HEALTH_WARNING, HEALTH_CRITICAL };

/* 0 turns a threshold off. MB here is MiB (2^20 bytes). */
struct health_thresholds {
	double warning_mb, critical_mb;
	double warning_percent, critical_percent; /* of the cgroup memory limit */
};

struct health_opts {
	const char *data_dir;	     /* NULL: no snapshots */
	struct store *store;	     /* for cpu snapshots; may be NULL */
	struct heap_tracker *heap;   /* may be NULL: no heap figures, no leak stacks */
	unsigned int window_s;	     /* one leak observation per window; 0: 10 */
	unsigned int trend_window_s; /* RSS slope over this; 0: 300 */
	unsigned int leak_min_age_s; /* 0: 60 */
	struct health_thresholds th;
	unsigned int snapshot_keep;	  /* 0: 20 */
	unsigned int snapshot_cooldown_s; /* per PID, between automatic snapshots */
	enum leak_severity auto_severity; /* LEAK_NONE: no automatic snapshots */
	const uint32_t *pids;		  /* watched from the start */
	size_t n_pids;
};

/* One process's figures and verdicts, as /health/memory and `bpfprof health` print them. */
struct health_report {
	uint32_t pid;
	int64_t t_ns;
	struct procmem mem;
	bool has_heap;
	uint64_t heap_inuse_bytes; /* the tracker's estimate */
	bool has_fit;
	struct trend_fit fit; /* RSS bytes over the trend window */
	bool sustained;
	uint64_t limit_bytes; /* cgroup memory.max in force, 0: none */
	bool watched;
	enum health_status status;
	char warnings[HEALTH_MAX_WARNINGS][HEALTH_WARNING_LEN];
	size_t n_warnings;
};

/* The RSS verdict rule: >= 5 points, r² >= 0.8, rising >= 1 MiB and >= 1 % of the mean. */
extern const struct trend_rule health__rss_rule;

const char *health_status__name(enum health_status s);
/* Sets status and warnings from the figures and thresholds. */
void health_report__evaluate(struct health_report *r, const struct health_thresholds *th);

/* NULL + errno; a message on stderr. */
struct health *health__start(const struct health_opts *o);
void health__stop(struct health *h); /* NULL-safe */
/*
 * Hands over the heap tracker once it exists. NULL takes it back: returns
 * once no call into the old tracker is in flight, so it may then be freed.
 */
void health__set_heap(struct health *h, struct heap_tracker *t);

/* Watches pid: 0, -ESRCH (not running), -ENOSPC (HEALTH_MAX_PIDS watched). */
int health__watch(struct health *h, uint32_t pid);
int health__unwatch(struct health *h, uint32_t pid);

/*
 * Fresh figures of pid; the trend and heap parts come from h when pid is
 * watched (an unwatched live PID is watched from now on, room permitting).
 * h NULL: /proc only (the CLI). th NULL: h's thresholds. 0, -ESRCH, -ENODATA
 * (no user memory).
 */
int health__report(struct health *h, uint32_t pid, const struct health_thresholds *th,
		   struct health_report *out);

struct health_leaks {
	bool heap_profiling; /* pid is heap-profiled: the stacks mean something */
	unsigned int min_age_s;
	uint64_t observations, dropped;
	struct leak_report stacks[HEALTH_MAX_LEAKS];
	size_t n_stacks, total_stacks;
	struct health_report rss; /* its fit and sustained verdict */
};

/* 0, -ESRCH (neither running nor watched). */
int health__leaks(struct health *h, uint32_t pid, struct health_leaks *out);

/*
 * Saves a snapshot of pid: type "heap" (needs heap profiling of pid) or
 * "cpu" (the last `seconds` of the store). 0; -ENOTDIR (no data dir), -EINVAL
 * (type), -ESRCH, -ENOPROTOOPT (pid not heap-profiled), -ENOENT (no samples).
 */
int health__snapshot(struct health *h, uint32_t pid, const char *type, unsigned int seconds,
		     const char *reason, struct snapshot_meta *out);
/* The snapshot directory, NULL without a data dir. */
struct snapshots *health__snapshots(struct health *h);

/* Per-process gauges and the monitor's own counters, Prometheus text. */
void health__write_metrics(struct health *h, FILE *f);

#endif
