/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between bpf/unwind.bpf.h and user/unwind/: the compact unwind
 * tables compiled from .eh_frame, the per-process mapping tables and the
 * stacks the BPF unwinder stores. Fixed-width types only.
 */
#ifndef BPFPROF_INCLUDE_UNWIND_KEYS_H
#define BPFPROF_INCLUDE_UNWIND_KEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "prof_limits.h"

/* Executable mappings kept per process; more are counted, not unwound. */
#define UNWIND_MAX_MAPPINGS 256
/* Processes with a mapping table in the kernel at once. */
#define UNWIND_MAX_PROCS 4096
/* Binaries (tables) known at once: ids index the unwind_tables array. */
#define UNWIND_MAX_TABLES 4096
/* Default budget of the row array (--unwind-table-mb). */
#define UNWIND_DEFAULT_TABLE_MB 64
/* Steps of the bounded binary searches: 2^24 rows per binary at most. */
#define UNWIND_ROW_SEARCH_STEPS 24
#define UNWIND_MAP_SEARCH_STEPS 9

/* How to find the CFA (the caller's rsp) at a pc. */
enum unwind_cfa_type {
	UNWIND_CFA_INVALID = 0, /* no CFI here (gap between FDEs): frame pointers */
	UNWIND_CFA_RSP = 1,	/* CFA = rsp + cfa_off */
	UNWIND_CFA_RBP = 2,	/* CFA = rbp + cfa_off */
	UNWIND_CFA_PLT = 3,	/* CFA = rsp + 8 + ((rip & 15) >= cfa_off ? 8 : 0) */
	UNWIND_CFA_SIGNAL = 4,	/* sigreturn trampoline: registers saved in the ucontext at rsp */
	UNWIND_CFA_END = 5,	/* return address undefined: the outermost frame (_start, clone3) */
};

/* Where the caller's rbp is. */
enum unwind_rbp_type {
	UNWIND_RBP_SAME = 0, /* unchanged in this frame */
	UNWIND_RBP_CFA = 1,  /* saved at CFA + rbp_off */
	UNWIND_RBP_UNDEF = 2 /* not recoverable (expression): stops the frame-pointer fallback */
};

/*
 * One row: applies from pc up to the next row's pc. pc is the ELF virtual
 * address (binaries with code above 4 GiB are not tabled). 12 bytes.
 */
struct unwind_row {
	__u32 pc;
	__s32 cfa_off;
	__s16 rbp_off;
	__u8 cfa_type; /* enum unwind_cfa_type */
	__u8 rbp_type; /* enum unwind_rbp_type */
};

/* A binary's rows in the row array; row_count 0: not loaded (evicted). */
struct unwind_table {
	__u32 row_start;
	__u32 row_count;
};

enum unwind_map_flags {
	UNWIND_MAP_NO_CFI = 1, /* JIT, anonymous or binary without .eh_frame: frame pointers */
};

/* One executable mapping of a process: vaddr = ip - bias. */
struct unwind_mapping {
	__u64 start, end;
	__u64 bias;
	__u32 table_id; /* index in unwind_tables */
	__u32 flags;	/* enum unwind_map_flags */
};

/* A process's executable mappings, sorted by start. */
struct unwind_proc {
	__u32 nr;
	__u32 pad;
	__u64 notice_ns; /* last "unknown mapping" notice: rate limit */
	struct unwind_mapping maps[UNWIND_MAX_MAPPINGS];
};

/* Why a user stack ended before the program's entry. */
enum unwind_reason {
	UNWIND_REASON_NONE = 0,	       /* complete (reached the entry or a zero return address) */
	UNWIND_REASON_NO_TABLE,	       /* code without CFI and no usable frame pointer */
	UNWIND_REASON_TABLE_NOT_LOADED, /* process or binary not (yet) in the tables */
	UNWIND_REASON_BAD_READ,	       /* reading the stack failed */
	UNWIND_REASON_DEPTH_LIMIT,     /* MAX_STACK_DEPTH frames */
	UNWIND_REASON_MAX,
};

/* A user stack unwound in BPF, stored under a 64-bit hash of its frames. */
struct unwind_stack {
	__u32 len;
	__u32 reason; /* enum unwind_reason */
	__u64 frames[MAX_STACK_DEPTH];
};

/* Per-CPU counters in unwind_stats. The first UNWIND_REASON_MAX count stacks by reason. */
enum unwind_stat {
	UNWIND_STAT_FRAMES = UNWIND_REASON_MAX, /* frames unwound */
	UNWIND_STAT_FP_FRAMES,			/* of which by frame pointer (no table) */
	UNWIND_STAT_NOTICE,			/* "unknown mapping" notices sent */
	UNWIND_STAT_NOTICE_DROP,		/* lost: ring buffer full */
	UNWIND_STAT_COLLIDE,			/* stack hash collision: stack lost */
	UNWIND_STAT_STACK_DROP,			/* stack map full */
	UNWIND_STAT_MAX,
};

/* Ring buffer record: code the unwinder could not place (dlopen, new exec). */
struct unwind_event {
	__u32 tgid;
	__u32 pad;
	__u64 ip;
};

#endif
