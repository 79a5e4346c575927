/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Growable arrays: the one reallocation rule every subsystem shares. */
#ifndef BPFPROF_UTIL_ARRAY_H
#define BPFPROF_UTIL_ARRAY_H

#include <stddef.h>

/*
 * Makes room for need elements of elem bytes in *data (capacity *cap),
 * doubling so appends stay amortized O(1). 0 or -ENOMEM; on failure *data
 * and *cap are unchanged.
 */
int array__reserve(void **data, size_t *cap, size_t need, size_t elem);

#endif
