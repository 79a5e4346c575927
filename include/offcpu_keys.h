/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/offcpu.bpf.c and the off-CPU collector: fixed-width types only. */
#ifndef BPFPROF_INCLUDE_OFFCPU_KEYS_H
#define BPFPROF_INCLUDE_OFFCPU_KEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "prof_limits.h"
/* struct new_pid_event and enum pid_event_kind: the same notices as the CPU program. */
#include "cpu_keys.h"

/* Threads that can be off CPU at once with their switch-out remembered. */
#define OFFCPU_START_ENTRIES 32768

/*
 * Return addresses recovered between the user leaf and the first frame the
 * frame-pointer walk finds (libc functions built without frame pointers hide
 * their callers); see capture_stacks() in bpf/offcpu.bpf.c.
 */
#define OFFCPU_GAP_FRAMES 4
/* Bytes of user stack above the stack pointer searched for them. */
#define OFFCPU_GAP_SCAN_BYTES 512

/* What a switch-out must be to be counted. */
enum offcpu_mode {
	OFFCPU_MODE_BLOCK = 0, /* voluntary sleeps (state != TASK_RUNNING): I/O, sleeps, locks */
	OFFCPU_MODE_WALL = 1,  /* every switch-out, preemption and runqueue waits included */
	OFFCPU_MODE_FUTEX = 2, /* voluntary sleeps inside a futex wait system call */
};

/* Remembered at switch-out, per thread, until it runs again. */
struct offcpu_start {
	__u64 ts; /* bpf_ktime_get_ns() at switch-out */
	__s32 user_stack_id;
	__s32 kern_stack_id;
	__u64 gap[OFFCPU_GAP_FRAMES]; /* leaf first, 0-terminated */
	__u64 user_stack_hash;	      /* .eh_frame walk: the stack waits in sleep_ustacks; 0 none */
	__u32 unwind_reason;	      /* that stack's enum unwind_reason */
	__u32 pad;
};

/* One aggregation bucket: blocked time is summed in the kernel per key. */
struct offcpu_key {
	__u32 tgid;
	__u32 tid;
	__s32 user_stack_id; /* < 0: none (kernel thread or error) */
	__s32 kern_stack_id; /* < 0: none (--no-kernel or error) */
	char comm[TASK_COMM_LEN];
	__u64 gap[OFFCPU_GAP_FRAMES]; /* user frames between the leaf and the walk, 0-terminated */
	__u64 user_stack_hash; /* .eh_frame walk: key in ustacks_a/b, 0 none (then user_stack_id) */
	__u32 unwind_reason;   /* that stack's enum unwind_reason */
	__u32 pad;
};

struct offcpu_val {
	__u64 count;	/* times the thread went off CPU here */
	__u64 total_ns; /* summed time off CPU */
};

/* Per-CPU counters in the stats map, indexed by enum offcpu_stat. */
enum offcpu_stat {
	OFFCPU_STAT_SWITCHES = 0,  /* counted off-CPU periods (passed filter and minimum) */
	OFFCPU_STAT_DROP_START,	   /* start map full: a switch-out was not remembered */
	OFFCPU_STAT_DROP_COUNTS,   /* counts map full: an off-CPU period lost */
	OFFCPU_STAT_USTACK_ERR,	   /* user stack not taken (fault, no mm or registers) */
	OFFCPU_STAT_KSTACK_ERR,	   /* bpf_get_stackid(kernel) failed */
	OFFCPU_STAT_STACK_COLLIDE, /* stack map bucket held another stack, or a stack map full */
	OFFCPU_STAT_NEW_PID_DROP,  /* ring buffer full: new-PID notice lost */
	OFFCPU_STAT_SHORT,	   /* off-CPU periods under the minimum, not counted */
	OFFCPU_STAT_MAX,
};

#endif
