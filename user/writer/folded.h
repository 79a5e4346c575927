/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Folded stacks for flamegraph.pl: "comm;root;...;leaf value" per line. */
#ifndef BPFPROF_WRITER_FOLDED_H
#define BPFPROF_WRITER_FOLDED_H

#include <stddef.h>
#include <stdio.h>

struct profile;

/*
 * One line per distinct (comm, stack), summing values[type]; the first
 * frame is the sample's "comm" label (left out when the sample has none).
 * Frames are function names, or when unsymbolized "file-basename+0xOFFSET"
 * (file offset) or "[unknown]" without a mapping; ';' becomes ':' and line
 * breaks become spaces so a line always parses. Lines are sorted; samples
 * whose value is 0 are skipped. 0 or negative errno.
 */
int folded__write(const struct profile *p, size_t type, FILE *f);

#endif
