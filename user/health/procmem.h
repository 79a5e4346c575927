/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Memory figures of one process from /proc: /proc/PID/status (VmRSS, VmSize,
 * RssFile, RssShmem, VmSwap, Threads) and /proc/PID/smaps_rollup (Pss), and
 * the cgroup v2 memory limit that applies to it. The parsers take text so
 * unit tests feed them fixture files; the readers take a root ("/proc",
 * "/sys/fs/cgroup") for the same reason.
 */
#ifndef BPFPROF_HEALTH_PROCMEM_H
#define BPFPROF_HEALTH_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCMEM_COMM_LEN 17

struct procmem {
	uint64_t rss_kib;
	uint64_t pss_kib; /* valid when has_pss */
	uint64_t vm_kib;
	uint64_t shared_kib; /* RssFile + RssShmem: resident pages others may share */
	uint64_t swap_kib;
	uint32_t threads;
	bool has_pss; /* smaps_rollup readable (needs ptrace access to the PID) */
	char comm[PROCMEM_COMM_LEN];
};

/*
 * Parses /proc/PID/status text. 0; -ESRCH for a zombie or dead task;
 * -ENODATA when there is no VmRSS (kernel threads have no user memory).
 */
int procmem__parse_status(const char *text, struct procmem *m);
/* Pss of /proc/PID/smaps_rollup text in KiB; 0 or -ENODATA. */
int procmem__parse_smaps_rollup(const char *text, uint64_t *pss_kib);
/* Reads both under proc_root (NULL: "/proc"). 0, -ESRCH, -ENODATA, -EACCES. */
int procmem__read(const char *proc_root, uint32_t pid, struct procmem *m);

/* The cgroup v2 path ("/a/b") from /proc/PID/cgroup text ("0::/a/b"); 0 or -ENOENT. */
int cgroup__parse_path(const char *text, char *out, size_t len);
/* memory.max text: bytes, or 0 for "max" (no limit); 0 or -EINVAL. */
int cgroup__parse_max(const char *text, uint64_t *bytes);
/* The v1 memory controller's path ("4:memory:/a/b" -> "/a/b"); 0 or -ENOENT. */
int cgroup__parse_v1_path(const char *text, char *out, size_t len);
/* v1 memory.limit_in_bytes: bytes, or 0 for "no limit" (>= 2^62). */
int cgroup__parse_limit_in_bytes(const char *text, uint64_t *bytes);
/*
 * The memory limit that applies to pid: memory.max of its cgroup or of the
 * nearest limited ancestor under cgroup_root (NULL: "/sys/fs/cgroup"), else
 * (hybrid hosts) the v1 memory.limit_in_bytes under cgroup_root/memory.
 * *bytes = 0 when nothing limits it.
 */
int cgroup__memory_limit(const char *proc_root, const char *cgroup_root, uint32_t pid,
			 uint64_t *bytes);

/* Reads a small text file (at most max - 1 bytes) into buf; bytes read or -errno. */
long procmem__read_text(const char *path, char *buf, size_t max);

#endif
