/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JIT symbols from a perf map file (/tmp/perf-PID.map: "START SIZE name", hex). */
#ifndef BPFPROF_SYMBOLIZER_PERFMAP_H
#define BPFPROF_SYMBOLIZER_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

struct perfmap;

/* NULL + errno. */
struct perfmap *perfmap__load(const char *path);
void perfmap__free(struct perfmap *m);
/* Name of the entry containing addr or NULL; later lines win over earlier ones. */
const char *perfmap__find(const struct perfmap *m, uint64_t addr, uint64_t *start);
size_t perfmap__nr(const struct perfmap *m);
/* Size of the file when it was read, to notice that the JIT appended to it. */
uint64_t perfmap__file_size(const struct perfmap *m);
size_t perfmap__bytes(const struct perfmap *m);

#endif
