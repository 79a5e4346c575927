/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel text symbols from /proc/kallsyms, sorted by address, one name blob. */
#ifndef BPFPROF_SYMBOLIZER_KALLSYMS_H
#define BPFPROF_SYMBOLIZER_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

/* How far past the last symbol an address still belongs to it. */
#define KALLSYMS_TAIL (64 * 1024)

struct kallsyms;

/*
 * Loads the text symbols (t, T, w, W) of a kallsyms file. NULL + errno;
 * EPERM when every address reads as zero (kptr_restrict hides them).
 */
struct kallsyms *kallsyms__load(const char *path);
void kallsyms__free(struct kallsyms *k);

/* Name of the symbol containing addr or NULL; *module: its module or NULL. */
const char *kallsyms__find(const struct kallsyms *k, uint64_t addr, const char **module,
			   uint64_t *start);
/* The address of name (first match): 0 or -ENOENT. Linear. */
int kallsyms__addr_of(const struct kallsyms *k, const char *name, uint64_t *addr);
size_t kallsyms__nr(const struct kallsyms *k);
/* Lines skipped because their address was zero. */
size_t kallsyms__nr_zero(const struct kallsyms *k);
size_t kallsyms__bytes(const struct kallsyms *k);

/*
 * The kernel's build-id from a notes file (/sys/kernel/notes) as lower-case
 * hex into hex[size]: 0 or -errno.
 */
int kallsyms__kernel_build_id(const char *notes_path, char *hex, size_t size);

#endif
