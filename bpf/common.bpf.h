/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Helpers every collector's BPF program shares: counters and process notices. */
#ifndef BPFPROF_COMMON_BPF_H
#define BPFPROF_COMMON_BPF_H

/* The PID filter: tgids whose events count, when filtering is on. */
#define PID_FILTER_MAP()                                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, MAX_FILTER_PIDS);                                              \
		__type(key, __u32);                                                                \
		__type(value, __u8);                                                               \
	} pids SEC(".maps")

/* Per-CPU counters, indexed by the collector's stat enum. */
#define STATS_MAP(n)                                                                               \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, n);                                                            \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
	} stats SEC(".maps")

/*
 * Process notices: processes already announced (so each costs one ring
 * record), and the ring itself.
 */
#define PID_NOTICE_MAPS()                                                                          \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);                                               \
		__uint(max_entries, SEEN_PID_ENTRIES);                                             \
		__type(key, __u32);                                                                \
		__type(value, __u8);                                                               \
	} seen SEC(".maps");                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, 64 * 1024);                                                    \
	} events SEC(".maps")

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

/* Children of a followed process are followed too, as perf record -- CMD does. */
static __always_inline int pid__follow_fork(void *pids, bool follow, struct task_struct *parent,
					    struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (!follow || ptgid == ctgid || !bpf_map_lookup_elem(pids, &ptgid))
		return 0;
	bpf_map_update_elem(pids, &ctgid, &one, BPF_ANY);
	return 0;
}

/*
 * After exec the old maps are stale: tell user space to read them again.
 * A process with unwind tables (unwind_procs non-NULL) is told even when no
 * event of it was seen yet (a -p target or a command tabled at start): its
 * tables are stale too.
 */
static __always_inline void pid__exec_notice(void *seen, void *events, void *stats, __u32 drop_stat,
					     void *unwind_procs, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (bpf_map_lookup_elem(seen, &tgid) ||
	    (unwind_procs && bpf_map_lookup_elem(unwind_procs, &tgid)))
		pid__announce(seen, events, stats, drop_stat, tgid, PID_EVENT_EXEC);
}

#endif
