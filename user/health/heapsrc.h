/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The health monitor's view of the heap tracker (user/heap/heap.h). The
 * tracker may be absent at run time (no --heap-pid) and, while it is being
 * written, at link time too: these calls then answer "no heap data".
 */
#ifndef BPFPROF_HEALTH_HEAPSRC_H
#define BPFPROF_HEALTH_HEAPSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap_tracker;
struct heap_live_stack;
struct profile;

bool heapsrc__has_pid(struct heap_tracker *t, uint32_t pid);
size_t heapsrc__pids(struct heap_tracker *t, uint32_t *out, size_t max);
/* 0 and the estimate of live heap bytes, or -ENOENT. */
int heapsrc__inuse(struct heap_tracker *t, uint32_t pid, uint64_t *bytes);
int heapsrc__live_stacks(struct heap_tracker *t, uint32_t pid, int64_t min_age_ns,
			 struct heap_live_stack **out, size_t *n);
/* The inuse_space heap profile of pid; -ENOENT when not heap-profiled. */
int heapsrc__profile(struct heap_tracker *t, uint32_t pid, struct profile **out);

#endif
