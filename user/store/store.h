/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The store: the continuous stream as fixed time windows (default 10 s) in
 * a bounded in-memory ring (by age and by bytes), optionally persisted to a
 * data dir as pprof files with rotation, and read back after a restart.
 * Thread-safe: one collector thread adds, many HTTP threads query.
 */
#ifndef BPFPROF_STORE_H
#define BPFPROF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;
struct profile_filter;
struct store;

struct store_opts {
	unsigned int window_s;	  /* window length; 0: 10 */
	unsigned int retention_s; /* windows older than this are dropped; 0: 900 */
	size_t max_bytes;	  /* memory cap for the ring; 0: 64 MiB */
	const char *data_dir;	  /* NULL: memory only */
	unsigned int max_files;	  /* rotation by count; 0: 1000 */
	size_t max_dir_bytes;	  /* rotation by total size; 0: 256 MiB */
};

struct store_stats {
	uint64_t windows;	  /* closed windows in memory */
	uint64_t bytes;		  /* estimated bytes of in-memory windows */
	uint64_t evicted;	  /* windows dropped by age or memory cap */
	uint64_t files;		  /* pprof files in the data dir */
	uint64_t file_bytes;
	uint64_t files_rotated;	  /* files deleted by rotation */
	uint64_t write_errors;
	uint64_t loaded;	  /* windows read back at start-up */
	uint64_t load_errors;	  /* window files that could not be read back (left on disk) */
	uint64_t files_rejected;  /* window files over a decode cap or from the future (logged) */
};

/*
 * NULL + errno; loads the data dir. Its files are untrusted: each is read
 * within the ring's memory cap (file, inflated message and decode memory),
 * and one that is refused is logged to stderr by name with the reason and
 * skipped (load_errors, files_rejected).
 */
struct store *store__new(const struct store_opts *opts);
void store__free(struct store *s);			 /* NULL-safe; does not flush */

/*
 * Merges a slice (a drain's worth of samples, at time t_ns) into the open
 * window; closes (and persists) the open window first when t_ns is past its end.
 */
int store__add(struct store *s, const struct profile *slice, int64_t t_ns);
/* Closes the open window now (shutdown). */
int store__flush(struct store *s);

/*
 * A new profile with every sample in [from_ns, to_ns) passing f, the open
 * window included. Windows overlapping the range count whole, so the
 * result's time and duration are the span those windows cover (the open one
 * up to its last add), not the range asked for. -ENOENT when none overlaps.
 */
int store__query(struct store *s, int64_t from_ns, int64_t to_ns, const struct profile_filter *f,
		 struct profile **out);
/* Oldest start and newest end held (0, 0 when empty). */
void store__span(struct store *s, int64_t *from_ns, int64_t *to_ns);
void store__stats(struct store *s, struct store_stats *out);

#endif
