/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * .eh_frame unwinding for the BPF collectors. The unwinder owns the user
 * side of the maps bpf/unwind.bpf.h defines: per-binary row tables (keyed by
 * build-id, shared by every process mapping the binary, compiled on first
 * need and evicted LRU under a byte budget) and per-process mapping tables.
 *
 * A collector calls unwinder__prepare() between open and load,
 * unwinder__new() after load, feeds it new/exec'd PIDs and its ring buffer
 * notices, and calls unwinder__sweep() now and then. A second collector
 * shares the same maps by calling unwinder__share() before its own load.
 */
#ifndef BPFPROF_UNWIND_UNWIND_H
#define BPFPROF_UNWIND_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "unwind_keys.h"

struct bpf_object;
struct unwinder;

struct unwinder_opts {
	size_t table_mb; /* row array budget; 0: UNWIND_DEFAULT_TABLE_MB */
};

struct unwinder_stats {
	/* From the BPF side (summed over CPUs). */
	uint64_t reasons[UNWIND_REASON_MAX]; /* stacks by enum unwind_reason */
	uint64_t frames, fp_frames, notices, notice_drops, collisions, stack_drops;
	/* User side. */
	uint64_t binaries;	  /* binaries known (with or without a table) */
	uint64_t tables_loaded;	  /* binaries whose rows are in the kernel */
	uint64_t rows_used, rows_total;
	uint64_t table_bytes;	  /* rows_used * sizeof(struct unwind_row) */
	uint64_t evictions;	  /* tables evicted for room */
	uint64_t not_loaded;	  /* tables that did not fit the budget */
	uint64_t no_cfi;	  /* binaries without usable CFI */
	uint64_t over_budget;	  /* binaries whose CFI was over the compile budget: no table */
	uint64_t fdes_rejected;	  /* FDEs refused (bad register, undecodable): gaps */
	uint64_t procs;		  /* processes with a mapping table */
	uint64_t proc_drops;	  /* processes not tabled: too many */
	uint64_t mapping_drops;	  /* mappings beyond UNWIND_MAX_MAPPINGS */
	uint64_t refreshes;	  /* mapping tables rebuilt (exec, dlopen notices) */
	uint64_t compile_ns;	  /* time spent compiling tables */
};

/* Sizes unwind_rows in obj (opened, not loaded). 0 or negative errno. */
int unwinder__prepare(struct bpf_object *obj, const struct unwinder_opts *opts);
/* Binds to the maps of the loaded obj. NULL + errno. */
struct unwinder *unwinder__new(struct bpf_object *obj, const struct unwinder_opts *opts);
/* Makes obj (opened, not loaded, including unwind.bpf.h) use u's maps. */
int unwinder__share(struct unwinder *u, struct bpf_object *obj);
void unwinder__free(struct unwinder *u); /* NULL-safe; the maps go with their objects */

/* Builds (or rebuilds, after exec or dlopen) pid's mapping table. 0 or negative errno. */
int unwinder__add_pid(struct unwinder *u, uint32_t pid);
/*
 * Queues pid to be (re)tabled at the next unwinder__flush. Collectors serve
 * every process notice of a poll first and table afterwards: the
 * symbolizer's capture of /proc/PID/maps must not wait behind compiling
 * tables, or short-lived processes go unnamed. NULL-safe; a full queue
 * tables at once.
 */
void unwinder__defer_pid(struct unwinder *u, uint32_t pid);
/* Tables queued PIDs for up to ~20 ms; the rest wait for the next flush. NULL-safe. */
void unwinder__flush(struct unwinder *u);
/* PIDs queued and not yet tabled (0 for NULL): a poll should not sleep while any are. */
uint32_t unwinder__pending(const struct unwinder *u);
/*
 * Reads the BPF-unwound stack stored under hash in fd (an UNWIND_STACKS_MAP)
 * into frames (MAX_STACK_DEPTH entries), using buf as scratch. Returns the
 * depth and sets *reason, or -ENOENT when the stack is gone.
 */
int unwind_stack__read(int fd, uint64_t hash, struct unwind_stack *buf, uint64_t *frames,
		       uint32_t *reason);
/* Forgets processes that exited; cheap to call every second. */
void unwinder__sweep(struct unwinder *u);
/* The fd of the unwind_events ring buffer and its callback (ctx: the unwinder). */
int unwinder__events_fd(const struct unwinder *u);
int unwinder__handle_event(void *ctx, void *data, size_t size);
void unwinder__stats(struct unwinder *u, struct unwinder_stats *out);

/* "none", "no_table", "table_not_loaded", "bad_read", "depth_limit". */
const char *unwind_reason__name(uint32_t reason);

#endif
