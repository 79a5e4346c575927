/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Quick answers computed from a profile: CPU by process, and hotspots. */
#ifndef BPFPROF_SERVE_REPORT_H
#define BPFPROF_SERVE_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct profile;

struct proc_usage {
	uint32_t pid;
	char comm[64];
	char exe[64];
	int64_t value; /* of the chosen sample type */
};

/* Processes by value, descending. *out is malloc'd. 0 or -ENOMEM. */
int report__processes(const struct profile *p, size_t type, struct proc_usage **out, size_t *n);

struct hotspot {
	const char *function; /* owned by the profile */
	const char *file;
	int64_t line; /* the most sampled line of the function as a leaf, 0 if unknown */
	int64_t self, total;
	/*
	 * How much optimizing this function could pay, in [0, 1]: mostly its
	 * own time, partly the time below it, 0.7 * self + 0.3 * total shares.
	 */
	double impact;
};

/* Top max functions by self value, then total. *out is malloc'd. 0 or -ENOMEM. */
int report__hotspots(const struct profile *p, size_t type, size_t max, struct hotspot **out,
		     size_t *n);

#endif
