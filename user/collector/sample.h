/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every collector hands on: one raw, unsymbolized aggregate sample. */
#ifndef BPFPROF_COLLECTOR_SAMPLE_H
#define BPFPROF_COLLECTOR_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct raw_sample {
	uint32_t pid, tid;
	char comm[16];
	const uint64_t *kstack; /* leaf first; exact IP first, then return addresses */
	size_t n_kstack;
	const uint64_t *ustack; /* leaf first */
	size_t n_ustack;
	uint32_t unwind_reason; /* why the user stack stops early: enum unwind_reason, 0 none */
	uint64_t count;
};

typedef int (*raw_sample_fn)(const struct raw_sample *s, void *ctx);
/* kind is enum pid_event_kind (include/cpu_keys.h). */
typedef void (*pid_event_fn)(uint32_t pid, uint32_t kind, void *ctx);

#endif
