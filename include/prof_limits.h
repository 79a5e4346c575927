/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Bounds shared by BPF programs and the agent. Every map is sized from these. */
#ifndef BPFPROF_INCLUDE_LIMITS_H
#define BPFPROF_INCLUDE_LIMITS_H

#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

/* Frames kept per stack: the kernel's PERF_MAX_STACK_DEPTH is 127. */
#define MAX_STACK_DEPTH 127

/* Default entries of each (double-buffered) counts map and stack map. */
#define DEFAULT_COUNT_ENTRIES 16384
#define DEFAULT_STACK_ENTRIES 16384

/* PIDs a record can filter on; the filter is a hash map in the kernel. */
#define MAX_FILTER_PIDS 1024

/* Processes remembered as "already announced" to user space. */
#define SEEN_PID_ENTRIES 8192

#endif
