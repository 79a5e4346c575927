/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Helpers every collector's BPF program shares: counters and process notices. */
#ifndef BPFPROF_COMMON_BPF_H
#define BPFPROF_COMMON_BPF_H

/* Bumps one slot of a per-CPU array of counters. */
static __always_inline void stats__inc(void *stats, __u32 which)
{
	__u64 *v = bpf_map_lookup_elem(stats, &which);

	if (v)
		(*v)++;
}

/*
 * Tells user space about a process once (kind PID_EVENT_NEW) or again
 * (exec, mmap), so it reads the process's maps while it lives. A notice the
 * ring cannot take is counted in drop_stat and not marked seen, so the next
 * event retries it.
 */
static __always_inline void pid__announce(void *seen, void *events, void *stats, __u32 drop_stat,
					  __u32 tgid, __u32 kind)
{
	struct new_pid_event *e;
	__u8 one = 1;

	if (kind == PID_EVENT_NEW && bpf_map_lookup_elem(seen, &tgid))
		return;
	e = bpf_ringbuf_reserve(events, sizeof(*e), 0);
	if (!e) {
		stats__inc(stats, drop_stat);
		return;
	}
	e->tgid = tgid;
	e->kind = kind;
	bpf_ringbuf_submit(e, 0);
	bpf_map_update_elem(seen, &tgid, &one, BPF_ANY);
}

#endif
