/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to user/record/: the state of one `bpfprof record` run, shared by
 * record.c (options, command, session, output) and summary.c (what is
 * printed once the file is written).
 */
#ifndef BPFPROF_RECORD_INT_H
#define BPFPROF_RECORD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "record/record.h"

struct session;

struct record {
	struct record_opts *o;
	struct session *sess;
	size_t value_type; /* sample type for folded output and the top list */
	pid_t child;
	int go_fd; /* write end: closing it lets the child exec */
	bool child_done;
	bool command_added; /* heap: the command's PID is watched */
	int child_status;
	char *tmp_path;
	int out_fd;
	struct timespec start;
};

/* The summary's first two lines: what was counted, and what was lost. */
void record__print_counts(struct record *r, double secs);
/* Headline of the top-functions list, e.g. "own CPU time". */
const char *record__top_title(const struct record *r);

#endif
