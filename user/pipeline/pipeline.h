/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Turns raw collector samples into profile samples: captures each new
 * process early, symbolizes user and kernel frames and attaches the
 * pid/tid/comm/exe labels. Shared by `record` and the daemon.
 */
#ifndef BPFPROF_PIPELINE_H
#define BPFPROF_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include "collector/sample.h"

struct profile;
struct symbolizer;
struct pipeline;

/* Processes whose exe name and sample count are remembered. */
#define PIPELINE_MAX_PROCS 16384

struct pipeline_stats {
	uint64_t processes;	/* distinct PIDs with samples */
	uint64_t procs_dropped; /* PIDs beyond PIPELINE_MAX_PROCS: labelled by comm only */
	uint64_t frames, frames_unsymbolized;
};

struct pipeline *pipeline__new(struct symbolizer *sym); /* NULL + errno */
void pipeline__free(struct pipeline *pl);		/* NULL-safe */

/* A collector's new-process or exec notice: read the maps while the process lives. */
void pipeline__on_pid(struct pipeline *pl, uint32_t pid, uint32_t kind);

/* Symbolizes s and adds it to p with values (one per sample type). 0 or negative errno. */
int pipeline__add(struct pipeline *pl, struct profile *p, const struct raw_sample *s,
		  const int64_t *values);

void pipeline__stats(const struct pipeline *pl, struct pipeline_stats *out);

#endif
