// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Calls into the heap tracker through weak references, so the agent links
 * and runs (heap figures absent) before user/heap/ has an implementation;
 * once it lands the references bind to it as usual.
 */
#include <errno.h>
#include <stddef.h>

#include "heap/heap.h"
#include "health/heapsrc.h"

#pragma weak heap_tracker__has_pid
#pragma weak heap_tracker__pids
#pragma weak heap_tracker__pid_stats
#pragma weak heap_tracker__live_stacks
#pragma weak heap_tracker__profile

bool heapsrc__has_pid(struct heap_tracker *t, uint32_t pid)
{
	return t && heap_tracker__has_pid && heap_tracker__has_pid(t, pid);
}

size_t heapsrc__pids(struct heap_tracker *t, uint32_t *out, size_t max)
{
	return t && heap_tracker__pids ? heap_tracker__pids(t, out, max) : 0;
}

int heapsrc__inuse(struct heap_tracker *t, uint32_t pid, uint64_t *bytes)
{
	struct heap_pid_stats st;
	int err;

	if (!t || !heap_tracker__pid_stats || !heapsrc__has_pid(t, pid))
		return -ENOENT;
	err = heap_tracker__pid_stats(t, pid, &st);
	if (!err)
		*bytes = st.inuse_bytes_est;
	return err;
}

int heapsrc__live_stacks(struct heap_tracker *t, uint32_t pid, int64_t min_age_ns,
			 struct heap_live_stack **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!t || !heap_tracker__live_stacks || !heapsrc__has_pid(t, pid))
		return -ENOENT;
	return heap_tracker__live_stacks(t, pid, min_age_ns, out, n);
}

int heapsrc__profile(struct heap_tracker *t, uint32_t pid, struct profile **out)
{
	*out = NULL;
	if (!t || !heap_tracker__profile || !heapsrc__has_pid(t, pid))
		return -ENOENT;
	return heap_tracker__profile(t, pid, HEAP_INUSE_SPACE, out);
}
