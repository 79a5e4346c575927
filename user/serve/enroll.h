/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Heap auto-enrollment: every process the CPU sampler notices (new or
 * exec'd) that has libbpfprof-heap.so mapped becomes a heap target in
 * preload mode. Loading the library is the owner's opt-in. Notices queue
 * (bounded) and are checked a little later on the enroller's own thread,
 * since the loader maps LD_PRELOAD libraries after the exec is announced.
 * Threads: enroll__notice and enroll__write_metrics from any thread.
 */
#ifndef BPFPROF_SERVE_ENROLL_H
#define BPFPROF_SERVE_ENROLL_H

#include <stdint.h>
#include <stdio.h>

struct enroll;
struct heap_tracker;

/* The tracker must outlive the enroller. NULL + errno. */
struct enroll *enroll__start(struct heap_tracker *t);
/* Stops the thread; NULL-safe. */
void enroll__stop(struct enroll *e);
/* A process was noticed (enum pid_event_kind); a pid_event_fn. */
void enroll__notice(uint32_t pid, uint32_t kind, void *ctx);
/* bpfprof_heap_auto_enrolled_total and bpfprof_heap_auto_enroll_dropped_total{reason}. */
void enroll__write_metrics(struct enroll *e, FILE *f);

#endif
