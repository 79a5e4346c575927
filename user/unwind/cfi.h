/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table compiler: turns a binary's call-frame information (.eh_frame)
 * into compact rows (include/unwind_keys.h) sorted by pc, one row per change
 * of the CFA rule or of where rbp was saved. Any local user can make the
 * agent compile a binary, so the work is linear in the CFA instructions and
 * capped per binary (struct cfi_budget). Not thread-safe per cfi_rows; no
 * global state.
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
	size_t fdes;	 /* FDEs interpreted */
	size_t rejected; /* FDEs refused (register >= 128, malformed): their range is a gap */
	uint64_t ops;	 /* DW_CFA instructions interpreted, CIEs' included: the work done */
};

/* What one binary may cost. The compile's memory is max_rows * 12 bytes plus a few KiB. */
struct cfi_budget {
	size_t max_rows;
	uint64_t max_ops;
	uint64_t max_cpu_ns; /* thread CPU time */
};

/* The agent's budget (cfi.c says why those numbers). */
extern const struct cfi_budget cfi_default_budget;

/*
 * Compiles the CFI of elf into *out (which must be zeroed) within
 * cfi_default_budget. 0, -ENOENT when the binary has no .eh_frame /
 * .eh_frame_hdr, -EOVERFLOW for code above 4 GiB, -E2BIG when it is over
 * budget, -ENOMEM, -EINVAL for a malformed or unsorted search table. On
 * error *out holds no rows; its counters say how far it got.
 */
int cfi__compile(Elf *elf, struct cfi_rows *out);
/* The same within *budget (tests use small ones). */
int cfi__compile_budget(Elf *elf, const struct cfi_budget *budget, struct cfi_rows *out);
/* The row covering vaddr (binary search), or NULL. For tests and tools. */
const struct unwind_row *cfi_rows__find(const struct cfi_rows *r, uint64_t vaddr);
void cfi_rows__free(struct cfi_rows *r); /* NULL-safe; leaves *r zeroed */

#endif
