/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to user/collector/: the plumbing the CPU and off-CPU collectors
 * share around their own skeletons: the PID filter and its copy, the
 * new-process and unwinder notices, the double-buffered map flip, the
 * per-CPU stats sum, stack read buffers and "is a target alive".
 * Threads: one collector, one thread (as the collectors themselves).
 */
#ifndef BPFPROF_COLLECTOR_CORE_H
#define BPFPROF_COLLECTOR_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/sample.h"

struct bpf_map;
struct ring_buffer;
struct unwinder;
struct unwind_stack;

struct collector_core_opts {
	const uint32_t *pids; /* NULL/0: whole system */
	size_t n_pids;
	uint32_t count_entries, stack_entries; /* 0: the defaults */
	size_t key_size, val_size;	       /* of the counts maps */
	pid_event_fn on_pid;
	void *ctx;
};

struct collector_core {
	int n_cpus;	/* possible CPUs: per-CPU map value count */
	uint32_t *pids; /* the filter, copied */
	size_t n_pids;
	pid_event_fn on_pid;
	void *ctx;
	struct unwinder *unwinder; /* NULL: frame-pointer user stacks; set by the owner */
	struct ring_buffer *rb;
	uint64_t stack_missing; /* stack ids or hashes gone from their map at drain */
	uint32_t count_entries, stack_entries;
	uint64_t *ustack, *kstack; /* MAX_STACK_DEPTH each */
	struct unwind_stack *ustack_buf;
	void *keys, *vals; /* count_entries of the counts maps' keys and values */
	size_t key_size, val_size;
};

/* Copies the filter and sizes the buffers from the map bounds. 0 or -errno. */
int collector_core__init(struct collector_core *k, const struct collector_core_opts *o);
/* Frees the ring buffer and the buffers; NULL-safe members. */
void collector_core__fini(struct collector_core *k);

/* Puts every filtered PID in the kernel's filter map. 0 or -errno. */
int collector_core__fill_filter(struct collector_core *k, struct bpf_map *pids);
/* Builds the unwinder's tables of every filtered PID before its first sample. */
void collector_core__table_targets(struct collector_core *k);
/*
 * The ring buffer of new-process notices (events), plus the unwinder's
 * notices when serve_unwinder (one consumer per ring: a shared unwinder's
 * owner serves them). 0 or -errno.
 */
int collector_core__open_events(struct collector_core *k, struct bpf_map *events,
				bool serve_unwinder);
/* Serves notices for up to timeout_ms. Negative errno on failure; EINTR is 0. */
int collector_core__poll(struct collector_core *k, int timeout_ms);

/*
 * Flips the BPF side's active map set (*active, its .bss) and waits until
 * no program still writes to the old one. Returns the old set, 0 or 1.
 */
uint32_t collector_core__flip(uint32_t *active);
/* Pulls and deletes every entry of a counts map into keys/vals; how many, or -errno. */
int collector_core__take_counts(struct collector_core *k, int counts_fd);
/* A raw sample of tgid/tid/comm with the user-stack buffer, everything else zero. */
void collector_core__sample(struct collector_core *k, struct raw_sample *s, uint32_t tgid,
			    uint32_t tid, const char *comm);
/* The .eh_frame user stack of hash into k->ustack: its depth (0 when gone). */
size_t collector_core__read_ustack(struct collector_core *k, int ustacks_fd, uint64_t hash,
				   uint32_t *reason);
/* After a drain: deletes the drained set's user stacks, lets the unwinder sweep. */
void collector_core__end_drain(struct collector_core *k, int ustacks_fd);

/* Sums n per-CPU counters of stats (an array map) into sums (n zeroed entries). */
void collector_core__sum_stats(const struct collector_core *k, struct bpf_map *stats,
			       uint64_t *sums, uint32_t n);
/* True while any filtered PID is alive (always true for whole system). */
bool collector_core__targets_alive(const struct collector_core *k);

#endif
