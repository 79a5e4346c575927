/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/heap.bpf.c and user/heap/: fixed-width types only. */
#ifndef BPFPROF_INCLUDE_HEAP_KEYS_H
#define BPFPROF_INCLUDE_HEAP_KEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "prof_limits.h"

/* Entries of the table mapping a uniform random number to an exponential gap. */
#define HEAP_EXP_TABLE_BITS 12
#define HEAP_EXP_TABLE_SIZE (1 << HEAP_EXP_TABLE_BITS)

/* Default bounds (user space may size the maps differently before load). */
#define HEAP_DEFAULT_MAX_LIVE 262144
#define HEAP_DEFAULT_MAX_PIDS 64
#define HEAP_THREAD_ENTRIES   65536
#define HEAP_RINGBUF_BYTES    (2 << 20)
/* Stacks unwound in BPF and not yet read by user space (all targets). */
#define HEAP_STACK_ENTRIES 16384

/* Which allocator entry point a probe is on: selects how arguments are read. */
enum heap_fn {
	HEAP_FN_MALLOC = 0,	    /* malloc(size), valloc, pvalloc, operator new */
	HEAP_FN_CALLOC = 1,	    /* calloc(n, size) */
	HEAP_FN_REALLOC = 2,	    /* realloc(ptr, size) */
	HEAP_FN_REALLOCARRAY = 3,   /* reallocarray(ptr, n, size) */
	HEAP_FN_MEMALIGN = 4,	    /* memalign(align, size), aligned_alloc */
	HEAP_FN_POSIX_MEMALIGN = 5, /* posix_memalign(&ptr, align, size): ptr read at return */
	HEAP_FN_FREE = 6,	    /* free(ptr) */
	/* libbpfprof-heap.so's hooks: the library sampled already; one trap per sample. */
	HEAP_FN_HOOK_ALLOC = 7, /* bpfprof_heap_alloc(ptr, size), [sp] = the allocating call's return */
	HEAP_FN_HOOK_FREE = 8,	/* bpfprof_heap_free(ptr): a sampled block is being freed */
	HEAP_FN_MAX,
};

/* A live sampled allocation, keyed by {tgid, addr}. */
struct heap_live_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct heap_live_val {
	__u64 size;
};

/* Per-thread sampling state. */
struct heap_thread {
	__s64 bytes_until_sample; /* next sample when an allocation reaches this */
	__u64 pending_size;	  /* size of the sampled call in flight (0: none) */
	__u64 pending_ptrp;	  /* posix_memalign: where the pointer is written */
	__u32 pending_fn;
	__u32 initialized;
};

/* Per-target counters (per-CPU hash keyed by tgid). */
struct heap_target {
	__u64 traps;	     /* probe hits: entries and returns */
	__u64 calls;	     /* allocator entries (allocs and frees) */
	__u64 frees;	     /* of which frees (free, delete, sdallocx...) */
	__u64 frees_tracked; /* frees of a sampled block: these send a record */
	__u64 sampled;	     /* allocations sampled: paid a return trap, a walk, a record */
	__u64 live_full;     /* sampled but not tracked: live map full */
	__u64 ring_drops;    /* events lost: ring buffer full */
	__u64 thread_drops;  /* no per-thread state: thread map full */
	__u64 stack_errs;    /* user stack could not be read or stored */
};

enum heap_event_kind {
	HEAP_EV_ALLOC = 1,
	HEAP_EV_FREE = 2,
	HEAP_EV_EXIT = 3, /* the target's main thread exited */
	HEAP_EV_EXEC = 4, /* the target exec'd: its allocator is gone */
};

enum heap_event_flags {
	HEAP_EVF_UNTRACKED = 1, /* allocation counted, not tracked live (live map full) */
};

/*
 * An ALLOC record. Unwound from .eh_frame (--unwind dwarf) it ends before
 * frames: the stack is in the ustacks map under stack_hash. Walked by frame
 * pointer it carries n_frames frames and stack_hash is 0.
 */
struct heap_event {
	__u32 kind;
	__u32 tgid;
	__u32 tid;
	__u32 flags;
	__u64 addr;
	__u64 size;
	__u64 ts;
	__u64 stack_hash;
	__u32 n_frames;
	__u32 pad;
	__u64 frames[MAX_STACK_DEPTH];
};

/* Size of an ALLOC record whose stack is in the ustacks map. */
#define HEAP_EVENT_HASHED_SIZE (sizeof(struct heap_event) - MAX_STACK_DEPTH * sizeof(__u64))

#endif
