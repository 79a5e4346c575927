/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to user/record/: the state of one `bpfprof record` run, shared by
 * record.c (options, command, output, summary) and collect.c (which
 * collectors run for each profile type, and how samples become values).
 */
#ifndef BPFPROF_RECORD_INT_H
#define BPFPROF_RECORD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "record/record.h"

struct cpu_collector;
struct heap_tracker;
struct offcpu_collector;
struct pipeline;
struct profile;
struct symbolizer;

struct record {
	struct record_opts *o;
	struct symbolizer *sym;
	struct pipeline *pl;
	struct profile *prof;
	struct cpu_collector *col;    /* cpu, wall */
	struct offcpu_collector *off; /* offcpu, wall, mutex */
	struct heap_tracker *heap;	 /* heap */
	size_t value_type;	      /* sample type for folded output and the top list */
	pid_t child;
	int go_fd; /* write end: closing it lets the child exec */
	bool child_done;
	int child_status;
	char *tmp_path;
	int out_fd;
	int64_t period_ns;
	struct timespec start;
	int64_t last_drain_ms;
	uint64_t drained;     /* CPU samples, or off-CPU periods */
	uint64_t cpu_samples; /* wall: the CPU part of drained */
	int64_t offcpu_ns;    /* off-CPU time counted */
};

/* Builds the profile, the symbolizer and pipeline, and starts the collectors. EXIT_*. */
int record__setup(struct record *r);
/* Moves everything collected so far into the profile. EXIT_*. */
int record__drain(struct record *r);
/* Serves new-process notices for up to timeout_ms. Negative errno on failure. */
int record__poll(struct record *r, int timeout_ms);
/* True while a -p target lives (always for whole system). */
bool record__targets_alive(struct record *r);
/* The summary's first two lines: what was counted, and what was lost. */
void record__print_counts(struct record *r, double secs, uint64_t processes);
/* Headline of the top-functions list, e.g. "own CPU time". */
const char *record__top_title(const struct record *r);
/* Stops and frees the collectors; NULL-safe members. */
void record__stop_collectors(struct record *r);

#endif
