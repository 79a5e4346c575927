/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/cpu.bpf.c and the CPU collector: fixed-width types only. */
#ifndef BPFPROF_INCLUDE_CPU_KEYS_H
#define BPFPROF_INCLUDE_CPU_KEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "prof_limits.h"

/* One aggregation bucket: counts are summed in the kernel per key. */
struct cpu_key {
	__u32 tgid;
	__u32 tid;
	__s32 user_stack_id; /* < 0: no user stack (kernel thread or error) */
	__s32 kern_stack_id; /* < 0: no kernel stack (sample taken in user mode) */
	__u64 user_stack_hash; /* --unwind dwarf: key in ustacks_a/b; 0: none */
	char comm[TASK_COMM_LEN];
};

/* Per-CPU counters in the stats map, indexed by enum cpu_stat. */
enum cpu_stat {
	CPU_STAT_SAMPLES = 0,	 /* perf events that passed the filter */
	CPU_STAT_DROP_COUNTS,	 /* counts map full: sample lost */
	CPU_STAT_USTACK_ERR,	 /* bpf_get_stackid(user) failed (fault, no mm) */
	CPU_STAT_KSTACK_ERR,	 /* bpf_get_stackid(kernel) failed */
	CPU_STAT_STACK_COLLIDE,	 /* stack map bucket held another stack (-EEXIST) */
	CPU_STAT_NEW_PID_DROP,	 /* ring buffer full: new-PID notice lost */
	CPU_STAT_MAX,
};

enum pid_event_kind {
	PID_EVENT_NEW = 1,  /* first sample of a process: read its maps while it lives */
	PID_EVENT_EXEC = 2, /* a seen process exec'd: its maps changed */
	PID_EVENT_MMAP = 3, /* the unwinder met code in no known mapping (dlopen): re-read maps */
};

/* Ring buffer record telling user space about a process early. */
struct new_pid_event {
	__u32 tgid;
	__u32 kind; /* enum pid_event_kind */
};

#endif
