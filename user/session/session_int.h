/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to user/session/: the session's state and the small interface
 * every collector implements inside it. A new probe family (growth) is one
 * more struct session_collector_ops and one line in session__new.
 */
#ifndef BPFPROF_SESSION_INT_H
#define BPFPROF_SESSION_INT_H

#include <stdatomic.h>

#include "session/session.h"

#define SESSION_MAX_COLLECTORS 4

struct session;

/*
 * One probe family inside a session. open builds the collector's state
 * without touching the kernel; attach loads and attaches its BPF programs;
 * poll serves its notices for up to timeout_ms; drain moves what it counted
 * into the session's profile; stats adds its figures; alive says whether
 * one of its targets lives; close detaches and frees (NULL-safe). Every
 * call but open returns 0 or a negative errno, except poll and drain, which
 * may return a count >= 0. Optional: add_pid, stats, alive (NULL).
 */
struct session_collector_ops {
	const char *name;
	void *(*open)(struct session *s);
	int (*attach)(struct session *s, void *c);
	int (*poll)(void *c, int timeout_ms);
	int (*drain)(struct session *s, void *c);
	void (*stats)(void *c, struct session_stats *out);
	bool (*alive)(void *c);
	int (*add_pid)(void *c, uint32_t pid);
	void (*close)(void *c);
};

struct session_collector {
	const struct session_collector_ops *ops;
	void *c;
};

struct session {
	struct session_opts o;
	struct symbolizer *sym;
	struct pipeline *pl;
	struct profile *prof; /* accumulated, rebuilt (heap) or the current slice */
	struct session_collector col[SESSION_MAX_COLLECTORS];
	size_t n_col;
	int64_t period_ns;
	int64_t last_drain_ns; /* wall clock: the start of the next slice */
	/* Written by any thread or a signal handler, read by the loop: release/acquire. */
	atomic_bool cancel;
	struct session_stats counts; /* samples, stacks, cpu_samples, offcpu_ns, drains */
};

extern const struct session_collector_ops session_cpu_ops;
extern const struct session_collector_ops session_offcpu_ops;
extern const struct session_collector_ops session_heap_ops;

/* The CPU collector's unwinder, for an off-CPU collector of the same session (wall). */
struct unwinder *session_cpu__unwinder(void *c);
/* Replaces the session's profile with p (heap: the profile is the tracker's state). */
void session__replace_profile(struct session *s, struct profile *p);

#endif
