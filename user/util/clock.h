/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one clock reading: nanoseconds of a clock (CLOCK_MONOTONIC for
 * intervals and deadlines, CLOCK_REALTIME for profile and window times).
 * Threads: any.
 */
#ifndef BPFPROF_UTIL_CLOCK_H
#define BPFPROF_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_S	1000000000LL
#define CLOCK_NS_PER_MS 1000000LL

static inline int64_t clock__ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

#endif
