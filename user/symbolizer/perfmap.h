/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JIT symbols from a perf map file (/tmp/perf-PID.map: "START SIZE name", hex). */
#ifndef BPFPROF_SYMBOLIZER_PERFMAP_H
#define BPFPROF_SYMBOLIZER_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Caps for a file any user can write. A busy JIT (node, a JVM with
 * -XX:+DumpPerfMapAtExit) writes ~100 bytes per compiled method: 64 MiB is
 * over half a million methods; larger files are refused (-EFBIG), not read.
 * C++/Java signatures run to a few KiB; longer lines are skipped, counted.
 */
#define PERFMAP_MAX_BYTES (64ull << 20)
#define PERFMAP_MAX_LINE  8192

struct perfmap;

/*
 * Loads path through safefile (regular file, not a symlink, <=
 * PERFMAP_MAX_BYTES; flags as safefile__open, e.g. SAFEFILE_IN_ROOT with
 * dirfd a process's root). NULL + errno (-ENODEV, -EFBIG, -ELOOP: refused).
 * Thread use: a perfmap is used by one thread at a time.
 */
struct perfmap *perfmap__load_at(int dirfd, const char *path, unsigned int flags);
/* The same for a path of ours (AT_FDCWD, no flags). */
struct perfmap *perfmap__load(const char *path);
void perfmap__free(struct perfmap *m);
/* Name of the entry containing addr or NULL; later lines win over earlier ones. */
const char *perfmap__find(const struct perfmap *m, uint64_t addr, uint64_t *start);
size_t perfmap__nr(const struct perfmap *m);
/* Size of the file when it was read, to notice that the JIT appended to it. */
uint64_t perfmap__file_size(const struct perfmap *m);
size_t perfmap__bytes(const struct perfmap *m);
/* Lines skipped for being longer than PERFMAP_MAX_LINE. */
uint64_t perfmap__skipped(const struct perfmap *m);

#endif
