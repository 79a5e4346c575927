/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libbpfprof-heap.so: the contract between the in-process heap sampler and
 * the agent.
 *
 * The library interposes the allocator (malloc family, C++ operator
 * new/delete, jemalloc's *allocx) and samples by bytes per thread: a
 * countdown of exponential gaps of mean `rate`, Go's rule (an allocation of
 * size >= the bytes left is sampled, then a new gap is drawn), so the agent
 * scales a sampled block of size s by 1 / (1 - exp(-s / rate)) exactly as in
 * the uprobe mode. Only a sampled allocation calls bpfprof_heap_alloc(); only
 * a free of a sampled block calls bpfprof_heap_free(), before the block goes
 * back to the allocator (so an address is never reported allocated again
 * before its free). The agent puts uprobes on those two symbols: their first
 * instruction is a one-byte nop, which the kernel's x86 uprobe emulates.
 * Each has .eh_frame CFI (CFA = rsp + 8) so the BPF unwinder walks out.
 *
 * Shared state: the exported object `bpfprof_heap_state` (find it in the
 * library's .dynsym; write it through /proc/PID/mem). The agent writes
 * `rate` first, then `attached` (nonzero: its pid). Sampling runs while
 * `attached` is nonzero or the environment variable BPFPROF_HEAP_RATE (bytes,
 * positive integer) was set at start; otherwise only the countdown runs and
 * reaching it counts `unattached`. A rate change applies from each thread's
 * next gap. The counters are the library's, relaxed atomics, reset in a
 * forked child (which also starts detached with the environment's rate).
 *
 * Thread use: every interposed function is thread-safe and async-signal-safe
 * on the library's side (no locks, no allocation of its own).
 */
#ifndef BPFPROF_HEAPSAMPLER_H
#define BPFPROF_HEAPSAMPLER_H

#include <stddef.h>
#include <stdint.h>

#define BPFPROF_HEAP_MAGIC	  0x3150414548465042ULL /* "BPFHEAP1", little-endian */
#define BPFPROF_HEAP_VERSION	  1
#define BPFPROF_HEAP_DEFAULT_RATE (512 * 1024)
#define BPFPROF_HEAP_ENV_RATE	  "BPFPROF_HEAP_RATE"
#define BPFPROF_HEAP_STATE_SYM	  "bpfprof_heap_state"
#define BPFPROF_HEAP_ALLOC_SYM	  "bpfprof_heap_alloc"
#define BPFPROF_HEAP_FREE_SYM	  "bpfprof_heap_free"

/* flags: set by the library. */
#define BPFPROF_HEAP_F_ENV 1u /* BPFPROF_HEAP_RATE was set: sampling without an agent */

struct bpfprof_heap_state {
	uint64_t magic;	  /* BPFPROF_HEAP_MAGIC once the library is initialized */
	uint32_t version; /* BPFPROF_HEAP_VERSION */
	uint32_t size;	  /* sizeof(struct bpfprof_heap_state) */
	/* Written by the agent. */
	uint64_t rate;	   /* mean bytes between samples; 1: every allocation; 0: default */
	uint32_t attached; /* nonzero (the agent's pid): sampled events are wanted */
	uint32_t flags;	   /* BPFPROF_HEAP_F_* */
	/* Written by the library; read by the agent and tests. */
	uint64_t set_capacity;	/* sampled blocks the library can track at once */
	uint64_t sampled;	/* bpfprof_heap_alloc() calls */
	uint64_t sampled_bytes; /* their requested bytes */
	uint64_t freed;		/* bpfprof_heap_free() calls */
	uint64_t set_drops;	/* samples dropped: the set of sampled blocks was full */
	uint64_t unattached;	/* samples not taken: no agent and no BPFPROF_HEAP_RATE */
	uint64_t boot_allocs;	/* allocations served from the bootstrap arena (dlsym's) */
	uint64_t boot_leaks;	/* frees ignored while the real allocator was being looked up */
	uint64_t live;		/* sampled blocks not yet freed */
};

/*
 * The hooks: exported, never inlined, `nop; mov %rdi, %rax; ret` (they
 * return ptr). bpfprof_heap_alloc is tail-called from the wrappers that can
 * (malloc, calloc, realloc, aligned_alloc, memalign, valloc, pvalloc,
 * mallocx, rallocx): at its entry, the word at the stack pointer is then the
 * return address into the allocating caller, as at a uretprobe on malloc.
 * Elsewhere (posix_memalign, operator new) it is inside the wrapper.
 */
void *bpfprof_heap_alloc(void *ptr, size_t size);
void *bpfprof_heap_free(void *ptr);

extern struct bpfprof_heap_state bpfprof_heap_state;

#endif
