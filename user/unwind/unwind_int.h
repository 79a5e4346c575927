/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to user/unwind/: the binary cache and the unwinder object. */
#ifndef BPFPROF_UNWIND_INT_H
#define BPFPROF_UNWIND_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "unwind/unwind.h"

/* Processes a poll may queue for tabling (unwinder__defer_pid). */
#define UNWIND_PENDING_PIDS 256

#define UNWIND_MAX_LOADS 8

/* An executable PT_LOAD: file offset -> ELF virtual address. */
struct unwind_load {
	uint64_t off, vaddr, filesz;
};

/* One binary: its identity, its rows in the kernel (if loaded) and its users. */
struct unwind_bin {
	bool used;
	bool no_cfi;
	char key[80]; /* "b:<build-id>" or "f:<dev>:<ino>:<size>:<mtime>" */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime;
	uint32_t row_start, row_count; /* row_count 0: not in the kernel */
	uint32_t refs;		       /* live processes mapping it */
	uint64_t last_use;
	struct unwind_load loads[UNWIND_MAX_LOADS];
	uint32_t n_loads;
};

struct unwind_pid;

struct unwinder {
	int rows_fd, tables_fd, procs_fd, events_fd, stats_fd;
	struct bpf_object *obj;
	uint32_t rows_total;
	int n_cpus;
	struct unwind_bin *bins; /* UNWIND_MAX_TABLES, index = table id */
	uint64_t tick;
	struct unwinder_stats st;
	struct unwind_pid *pids; /* UNWIND_MAX_PROCS slots, open addressing */
	struct unwind_proc *scratch;
	int64_t last_sweep_ms;
	uint32_t pending[UNWIND_PENDING_PIDS]; /* unwinder__defer_pid, until unwinder__flush */
	uint32_t n_pending;
};

/* The table id of the binary open at fd (compiling and loading its rows when needed). */
int unwind_bin__from_fd(struct unwinder *u, int fd, uint32_t *id);
/* The same for an ELF image in memory (the vdso), cached under key. */
int unwind_bin__from_image(struct unwinder *u, const void *img, size_t size, const char *key,
			   uint32_t *id);
void unwind_bin__ref(struct unwinder *u, uint32_t id);
void unwind_bin__unref(struct unwinder *u, uint32_t id);
/* bias such that vaddr = ip - bias, for a mapping at start of file offset off: 0 or -ENOENT. */
int unwind_bin__bias(const struct unwinder *u, uint32_t id, uint64_t start, uint64_t off,
		     uint64_t *bias);

void unwind_pids__free(struct unwinder *u);

#endif
