/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table compiler: turns a binary's call-frame information (.eh_frame,
 * through libdw) into compact rows (include/unwind_keys.h) sorted by pc,
 * one row per change of the CFA rule or of where rbp was saved.
 */
#ifndef BPFPROF_UNWIND_CFI_H
#define BPFPROF_UNWIND_CFI_H

#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#include "unwind_keys.h"

struct cfi_rows {
	struct unwind_row *rows;
	size_t n, cap;
	size_t fdes; /* FDEs walked */
};

/*
 * Compiles the CFI of elf into *out (which must be zeroed). 0, -ENOENT when
 * the binary has no .eh_frame/.eh_frame_hdr, -EOVERFLOW for code above
 * 4 GiB, -ENOMEM, -EINVAL for malformed data.
 */
int cfi__compile(Elf *elf, struct cfi_rows *out);
/* The row covering vaddr (binary search), or NULL. For tests and tools. */
const struct unwind_row *cfi_rows__find(const struct cfi_rows *r, uint64_t vaddr);
void cfi_rows__free(struct cfi_rows *r); /* NULL-safe; leaves *r zeroed */

#endif
