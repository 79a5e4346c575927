/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Map helpers shared by the collectors, after libbpf-tools' map_helpers.c. */
#ifndef BPFPROF_COLLECTOR_BPFMAP_H
#define BPFPROF_COLLECTOR_BPFMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Deletes every key of map fd (at most max_keys of key_size bytes). Keys
 * are listed in one walk before deleting, since restarting the walk from
 * the first bucket after each delete is quadratic. Returns how many were
 * deleted, or negative errno.
 */
int bpfmap__clear(int fd, size_t key_size, size_t max_keys);

/*
 * Pulls and deletes every entry of a hash map into keys/vals (room for max
 * entries each), with batch operations where the kernel has them and one
 * key at a time where not. Returns how many, or negative errno.
 */
int bpfmap__take_all(int fd, void *keys, void *vals, size_t key_size, size_t val_size,
		     uint32_t max);

/*
 * Waits until no BPF program still runs with a map set it read before a
 * flip: programs run in RCU read-side sections (tracepoints, and the
 * cpu-clock overflow from an hrtimer interrupt), and MEMBARRIER_CMD_GLOBAL
 * waits for a grace period.
 */
void bpfmap__grace_period(void);

/*
 * Reads stack id of a BPF_MAP_TYPE_STACK_TRACE map into buf (MAX_STACK_DEPTH
 * entries). Returns its depth, 0 for id < 0 (no stack taken), or -ENOENT.
 */
int bpfmap__read_stackid(int fd, int32_t id, uint64_t *buf);

/* A stack read's depth, counting a stack that was gone in *missing. */
static inline size_t bpfmap__depth(int depth, uint64_t *missing)
{
	if (depth >= 0)
		return depth;
	(*missing)++;
	return 0;
}

#endif
