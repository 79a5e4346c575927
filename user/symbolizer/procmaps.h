/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Parser for /proc/PID/maps. A parsed table keeps its entries sorted by
 * start address, with every path in one string blob, for binary search.
 */
#ifndef BPFPROF_SYMBOLIZER_PROCMAPS_H
#define BPFPROF_SYMBOLIZER_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCMAPS_R 0x1
#define PROCMAPS_W 0x2
#define PROCMAPS_X 0x4
#define PROCMAPS_P 0x8 /* private (copy on write), else shared */

struct procmaps_entry {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint8_t perms;	  /* PROCMAPS_* */
	bool deleted;	  /* path had the " (deleted)" suffix, now stripped */
	const char *path; /* "" for anonymous mappings, never NULL */
};

struct procmaps {
	struct procmaps_entry *ents;
	size_t nr;
	char *strs; /* blob holding every path */
	size_t strs_len;
};

/*
 * Parses one line in place (the trailing newline and " (deleted)" are cut
 * off); e->path points into line. 0 or -EINVAL.
 */
int procmaps__parse_line(char *line, struct procmaps_entry *e);
/* Reads a maps file; exec_only keeps only executable mappings. NULL + errno. */
struct procmaps *procmaps__read(const char *path, bool exec_only);
/* The entry containing addr, or NULL. */
const struct procmaps_entry *procmaps__find(const struct procmaps *m, uint64_t addr);
/* True for mappings of a file (path is absolute), as opposed to [vdso], anonymous... */
bool procmaps_entry__is_file(const struct procmaps_entry *e);
/* True for anonymous mappings, named ("[anon:...]") or not. */
bool procmaps_entry__is_anon(const struct procmaps_entry *e);
size_t procmaps__bytes(const struct procmaps *m);
void procmaps__free(struct procmaps *m);

#endif
