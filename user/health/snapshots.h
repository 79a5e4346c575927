/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Saved profiles ("snapshots") in <data_dir>/snapshots/: <id>.pb.gz and a
 * JSON sidecar <id>.json (pid, comm, type, time, size, reason). An id is 24
 * lower-case hex digits: 16 of the creation time in ns, then 8 random, so ids
 * sort by age and cannot be guessed. Anything else is refused before a path
 * is built, so no id can reach outside the directory. Rotation keeps the
 * newest `keep`. Thread-safe.
 */
#ifndef BPFPROF_HEALTH_SNAPSHOTS_H
#define BPFPROF_HEALTH_SNAPSHOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_ID_LEN 24
#define SNAPSHOT_ID_MIN 16
#define SNAPSHOT_ID_MAX 32
/* Listing is bounded; beyond this many files the oldest are not listed. */
#define SNAPSHOTS_LIST_MAX 10000

struct snapshots;

struct snapshot_meta {
	char id[SNAPSHOT_ID_MAX + 1];
	uint32_t pid;
	char comm[32];
	char type[8]; /* "heap", "cpu" */
	int64_t created_ns;
	uint64_t bytes;
	char reason[96]; /* "manual", "auto: severity high" */
};

/* ^[0-9a-f]{16,32}$ over the whole string (len bytes, so an embedded NUL fails). */
bool snapshot__id_valid(const char *id, size_t len);

/* Creates <data_dir>/snapshots (0700). NULL + errno. keep: 0 means 20. */
struct snapshots *snapshots__open(const char *data_dir, unsigned int keep);
void snapshots__close(struct snapshots *s); /* NULL-safe */

/* Writes the pprof and its sidecar atomically, rotates; meta->id, created_ns and bytes are set. */
int snapshots__save(struct snapshots *s, struct snapshot_meta *meta, const void *gz, size_t len);
/* Every snapshot, newest first; *out malloc'd. */
int snapshots__list(struct snapshots *s, struct snapshot_meta **out, size_t *n);
/* 0, -EINVAL (bad id), -ENOENT. */
int snapshots__get(struct snapshots *s, const char *id, struct snapshot_meta *meta);
int snapshots__read(struct snapshots *s, const char *id, uint8_t **data, size_t *len);
int snapshots__delete(struct snapshots *s, const char *id);
uint64_t snapshots__rotated(struct snapshots *s);

#endif
