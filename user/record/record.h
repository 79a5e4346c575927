/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `bpfprof record`: profile for a while, write one file, print a summary. */
#ifndef BPFPROF_RECORD_H
#define BPFPROF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof_limits.h"
#include "cli/exit.h"

enum record_format { FORMAT_PPROF, FORMAT_FOLDED };

/* What is recorded (-t). */
enum record_type {
	RECORD_CPU,    /* on-CPU samples */
	RECORD_OFFCPU, /* voluntary off-CPU time (I/O, sleeps, locks) */
	RECORD_WALL,   /* on-CPU and off-CPU time of the chosen threads */
	RECORD_MUTEX,  /* off-CPU time in futex waits */
	RECORD_HEAP,   /* sampled allocations of -p processes (allocator uprobes) */
};

/* --min-block-us default: off-CPU periods shorter than this are not counted. */
#define RECORD_MIN_BLOCK_US 1

struct record_opts {
	uint32_t pids[MAX_FILTER_PIDS];
	size_t n_pids;
	double duration_s; /* 0: until the command exits (only with a command) */
	bool duration_set;
	unsigned int freq_hz;
	const char *output;
	enum record_format format;
	bool no_kernel;
	enum record_type type;
	uint64_t min_block_us;
	bool min_block_set;
	bool fp_unwind;		/* --unwind fp: frame-pointer user stacks */
	size_t unwind_table_mb; /* --unwind-table-mb; 0: UNWIND_DEFAULT_TABLE_MB */
	uint64_t heap_rate;	/* -R/--heap-rate: mean bytes between heap samples; 0: 512 KiB */
	int heap_mode;		/* --heap-mode: enum heap_mode; a command's is settled at its start */
	bool heap_mode_set;
	char **command; /* argv after "--", NULL-terminated; NULL if none */
};

/* Parses argv (after the "record" word). Returns EXIT_OK or EXIT_USAGE with a message. */
int record__parse(int argc, char **argv, struct record_opts *opts);
int record__main(int argc, char **argv);
void record__usage(FILE *f);

#endif
