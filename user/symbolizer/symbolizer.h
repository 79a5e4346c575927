/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Two-stage symbolizer.
 *  (a) address -> mapping (path, build-id, file offset) via a per-process
 *      copy of /proc/PID/maps, captured when the PID is first added so
 *      short-lived processes still resolve;
 *  (b) (binary, file offset) -> function, source file, line via a
 *      per-binary cache shared by every process mapping that binary.
 * Kernel addresses come from /proc/kallsyms. The caches are bounded by
 * opts.cache_bytes and evict least recently used binaries.
 */
#ifndef BPFPROF_SYMBOLIZER_H
#define BPFPROF_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/safefile.h"

struct symbolizer;

struct symbolizer_opts {
	size_t cache_bytes;	/* budget for per-binary symbol tables; 0: 32 MiB */
	size_t max_pids;	/* processes whose maps are kept; 0: 4096 */
	const char *debug_root; /* separate debug files; NULL: "/usr/lib/debug" */
	const char *kallsyms;	/* NULL: "/proc/kallsyms" (tests pass a fixture) */
	bool no_demangle;
};

struct sym_result {
	/* Stage (a): the mapping. For kernel addresses map_path is "[kernel.kallsyms]". */
	const char *map_path; /* NULL when the address is in no known mapping */
	const char *build_id; /* lower-case hex, "" when unknown */
	uint64_t map_start, map_limit, map_offset;
	uint64_t file_offset; /* addr - map_start + map_offset */
	/* Stage (b): the symbol. func is NULL when not found. */
	const char *func;     /* demangled when possible */
	const char *mangled;  /* raw symbol name, == func when not mangled */
	const char *src_file; /* from DWARF when available, else NULL */
	int line;	      /* 0 when unknown */
};

struct symbolizer_stats {
	uint64_t hits, misses, evictions;
	uint64_t binaries;	/* binaries currently cached */
	uint64_t bytes;		/* estimated bytes held by binary caches */
	uint64_t pids;		/* processes whose maps are held */
	uint64_t pid_evictions; /* processes dropped at the max_pids bound */
	/*
	 * Files users control that were refused (FIFO, device, over a size or
	 * line cap, symlink, escape from a process's root). Process-wide: every
	 * symbolizer and reader of the agent counts here.
	 */
	uint64_t files_refused;
	uint64_t files_refused_by[SAFEFILE_NR_REASONS];
	char last_refused[256]; /* "PATH: reason", "" if none */
};

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts); /* NULL + errno */
void symbolizer__free(struct symbolizer *s);				/* NULL-safe */

/*
 * Captures /proc/PID/maps (and opens deleted or other-namespace binaries
 * through /proc/PID/map_files and /proc/PID/root) now. Idempotent: a PID
 * already known is not re-read. 0, or -ESRCH when the process is gone.
 */
int symbolizer__add_pid(struct symbolizer *s, int pid);
/* Re-reads the maps of a known PID (after exec or dlopen). */
int symbolizer__refresh_pid(struct symbolizer *s, int pid);
bool symbolizer__has_pid(const struct symbolizer *s, int pid);

/*
 * Resolves a user address of pid. Strings in *out stay valid until the next
 * call on s. Returns 0 when a mapping was found (func may still be NULL),
 * -ENOENT when the address is in no mapping, -ESRCH for an unknown PID.
 */
int symbolizer__user(struct symbolizer *s, int pid, uint64_t addr, struct sym_result *out);
/* Resolves a kernel address: 0 or -ENOENT. */
int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_result *out);

/*
 * True when kallsyms only shows zero addresses (kptr_restrict, no
 * CAP_SYSLOG): kernel frames cannot be named. Loads kallsyms if needed.
 */
bool symbolizer__kernel_restricted(struct symbolizer *s);

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *out);

#endif
