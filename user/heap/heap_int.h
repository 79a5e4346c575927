/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to user/heap/: the sampling math, allocator detection and probe
 * placement, split out so the unit tests reach them without BPF.
 */
#ifndef BPFPROF_HEAP_INT_H
#define BPFPROF_HEAP_INT_H

#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap_keys.h"
#include "heap/heap.h"

#define HEAP_DEFAULT_RATE   (512 * 1024)
#define HEAP_DEFAULT_BUDGET 2.0
/* The governor never goes below this fraction of attached time. */
#define HEAP_MIN_DUTY 0.05

/* --- sampling math (heap_math.c) --- */

/* 1 / (1 - exp(-size/rate)), Go's scaleHeapSample; 1 for rate <= 1. */
double heap__scale(uint64_t size, uint64_t rate);
/*
 * Fills table[n] with exponential gaps of mean rate: entry i is the mean of
 * -ln(u)*rate over u in the i-th of n equal slices of (0, 1], so the table's
 * mean is rate exactly.
 */
void heap__exp_table(uint64_t rate, uint64_t *table, size_t n);

/* --- allocator detection (heap_alloc.c) --- */

/* One allocator entry point found in a binary. */
struct heap_func {
	enum heap_fn fn;
	const char *name;
	uint64_t file_off;  /* of the function's first instruction */
	uint64_t probe_off; /* where the probe goes (see heap_probe__place) */
	bool emulated;	    /* the probed instruction is emulated, not single-stepped */
};

/* Entry points probed at most: one per name in heap_alloc.c's list. */
#define HEAP_MAX_FUNCS 40

struct heap_alloc_bin {
	enum heap_allocator kind;
	char path[PATH_MAX];	    /* as the process sees it */
	char access[PATH_MAX + 32]; /* as we open it: through /proc/PID/root */
	struct heap_func funcs[HEAP_MAX_FUNCS];
	size_t n_funcs;
};

/*
 * Opens path as process pid sees it, resolved inside its root: a user's
 * symlink cannot lead us out of it, and only a regular file under the cap
 * opens (a FIFO or device would block or feed us forever). fd or -errno.
 */
int heap_bin__open(uint32_t pid, const char *path);
/*
 * In the sampler library's ELF: bpfprof_heap_state's virtual address (a
 * defined object at least as large as the struct) and the first PT_LOAD's.
 * 0, -ENOENT (no such symbol) or -ENOEXEC (no PT_LOAD at offset 0).
 */
int heap_preload__state_vaddr(Elf *elf, uint64_t *sym, uint64_t *load0);

/* Allocator kind suggested by a binary's file name (jemalloc, tcmalloc, ...). */
enum heap_allocator heap_alloc__kind_of_path(const char *path, bool is_exe);
/*
 * Chooses from a /proc/PID/maps text which mapped binary serves malloc, in
 * symbol lookup order: the executable if defines(exe) (static or
 * interposing), then a preloaded or linked jemalloc/tcmalloc/mimalloc that
 * defines malloc, then libc. defines() is asked about candidates only.
 * 0 with *kind and path filled, or -ENOENT.
 */
int heap_alloc__choose(const char *maps, const char *exe,
		       bool (*defines)(const char *path, void *ctx), void *ctx,
		       enum heap_allocator *kind, char *path, size_t path_len);
/*
 * Detects pid's allocator and resolves its functions and probe offsets:
 * libbpfprof-heap.so's hooks first unless mode is uprobe (only them in
 * preload mode). 0 or -errno.
 */
int heap_alloc__detect(uint32_t pid, enum heap_mode mode, struct heap_alloc_bin *out);
const char *heap_alloc__name(enum heap_allocator kind);

/* --- probe placement (heap_probe.c) --- */

/*
 * Given the first bytes of a function taking n_args arguments, the offset
 * of the first instruction the kernel emulates on a uprobe hit (push, nop,
 * jmp, jcc, call) reached before anything writes one of those argument
 * registers or the stack pointer: there the arguments are intact and the
 * hit costs no single-step. 0 when the entry itself is best (also when
 * nothing better is found); *emulated says whether the chosen instruction
 * is emulated.
 */
size_t heap_probe__place(const uint8_t *code, size_t len, int n_args, bool *emulated);
/* Argument registers the BPF program reads at the entry of a function of kind fn. */
int heap_fn__n_args(enum heap_fn fn);

/*
 * Calibrated costs in ns: one trap with an empty program on an emulated and
 * on a single-stepped instruction; then, with the real programs on an
 * emulated probe, an allocator call by kind (heap_calib.c).
 */
struct heap_calib {
	double emulated_ns;
	double stepped_ns;
	double call_ns;		/* an allocation not sampled: entry trap and program */
	double sampled_ns;	/* a sampled one: also return trap, stack walk, record */
	double free_ns;		/* a free of a block not sampled */
	double free_tracked_ns; /* a free of a sampled block: also a record */
	double calls_ms;	/* how long calibrating the calls took */
};
struct bpf_program;
int heap_probe__calibrate(struct bpf_program *prog, struct heap_calib *out);
/* Our own code's file (path) and file offset of addr, from /proc/self/maps. */
int heap_probe__self_offset(uintptr_t addr, char *path, size_t len, uint64_t *off);

/* --- libbpfprof-heap.so's shared state (heap_preload.c) --- */

/* Writes R then the attached flag (0 to detach) into pid's bpfprof_heap_state. 0 or -errno. */
int heap_preload__set_state(uint32_t pid, const struct heap_alloc_bin *bin, uint64_t rate,
			    uint32_t attached);

/* A uprobe session link (raw BPF_LINK_CREATE): fd or -errno. */
int heap_probe__session_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, uint32_t cnt, uint32_t pid);

#endif
