// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CPU sampling: a perf_event program on the cpu-clock software event counts
 * samples per (tgid, tid, user stack, kernel stack) in the kernel, after
 * libbpf-tools' profile.bpf.c. Maps are double-buffered (set A/B): user space
 * flips `active`, waits for a grace period, then drains the idle set at
 * leisure, so long runs never fill the maps and no count is read twice.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cpu_keys.h"
#include "unwind.bpf.h"
#include "common.bpf.h"

#define PF_KTHREAD 0x00200000

const volatile bool filter_pids = false;
const volatile bool follow_forks = false;
const volatile bool no_kernel = false;
/* Walk user stacks with the .eh_frame tables (unwind.bpf.h), not frame pointers. */
const volatile bool dwarf_unwind = false;

/* Which map set new samples go to; flipped by user space. */
__u32 active = 0;

PID_FILTER_MAP();

#define COUNTS_MAP(name)                                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, DEFAULT_COUNT_ENTRIES);                                        \
		__type(key, struct cpu_key);                                                       \
		__type(value, __u64);                                                              \
	} name SEC(".maps")

#define STACKS_MAP(name)                                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);                                            \
		__uint(max_entries, DEFAULT_STACK_ENTRIES);                                        \
		__uint(key_size, sizeof(__u32));                                                   \
		__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));                               \
	} name SEC(".maps")

COUNTS_MAP(counts_a);
COUNTS_MAP(counts_b);
STACKS_MAP(stacks_a);
STACKS_MAP(stacks_b);
UNWIND_STACKS_MAP(ustacks_a, DEFAULT_STACK_ENTRIES);
UNWIND_STACKS_MAP(ustacks_b, DEFAULT_STACK_ENTRIES);

STATS_MAP(CPU_STAT_MAX);

PID_NOTICE_MAPS();

static __always_inline void stat_inc(__u32 which)
{
	stats__inc(&stats, which);
}

static __always_inline void announce(__u32 tgid, __u32 kind)
{
	pid__announce(&seen, &events, &stats, CPU_STAT_NEW_PID_DROP, tgid, kind);
}

static __always_inline __s32 stack_id(void *ctx, void *stacks, __u64 flags, __u32 err_stat)
{
	long id = bpf_get_stackid(ctx, stacks, flags);

	if (id == -EEXIST)
		stat_inc(CPU_STAT_STACK_COLLIDE);
	else if (id < 0 && err_stat < CPU_STAT_MAX)
		stat_inc(err_stat);
	return id;
}

static __always_inline bool in_user_mode(struct bpf_perf_event_data *ctx)
{
#if defined(__TARGET_ARCH_x86)
	/* The verifier allows only whole-word context loads; cs is a u16 in a union here. */
	return *(volatile __u64 *)&ctx->regs.cs & 3;
#else
	return false;
#endif
}

/* The user stack by .eh_frame tables; the registers come from the sample or the task. */
static __always_inline __u64 dwarf_stack(struct bpf_perf_event_data *ctx, void *ustacks)
{
	__u64 ip, sp, bp, hash;

	if (in_user_mode(ctx)) {
		ip = ctx->regs.ip;
		sp = ctx->regs.sp;
		bp = ctx->regs.bp;
	} else if (unwind_user_regs(&ip, &sp, &bp)) {
		stat_inc(CPU_STAT_USTACK_ERR);
		return 0;
	}
	hash = unwind_user_stack(ustacks, ip, sp, bp);
	if (!hash)
		stat_inc(CPU_STAT_USTACK_ERR);
	return hash;
}

static __always_inline void count(struct bpf_perf_event_data *ctx, void *counts, void *stacks,
				  void *ustacks, struct cpu_key *key, bool kthread)
{
	static const __u64 one = 1;
	__u64 *val;

	/*
	 * Kernel threads have no user stack, and a sample taken in user mode
	 * has no kernel stack: neither is an error.
	 */
	key->user_stack_id = -1;
	if (!kthread && dwarf_unwind)
		key->user_stack_hash = dwarf_stack(ctx, ustacks);
	else if (!kthread)
		key->user_stack_id = stack_id(ctx, stacks, BPF_F_USER_STACK, CPU_STAT_USTACK_ERR);
	key->kern_stack_id = no_kernel || in_user_mode(ctx) ?
				     -1 : stack_id(ctx, stacks, 0, CPU_STAT_KSTACK_ERR);

	val = bpf_map_lookup_elem(counts, key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return;
	}
	if (bpf_map_update_elem(counts, key, &one, BPF_NOEXIST)) {
		/* Lost the race to another CPU, or the map is full. */
		val = bpf_map_lookup_elem(counts, key);
		if (val)
			__sync_fetch_and_add(val, 1);
		else
			stat_inc(CPU_STAT_DROP_COUNTS);
	}
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct task_struct *task;
	struct cpu_key key = {};
	bool kthread;

	/* The idle task is not CPU use. */
	if (tid == 0)
		return 0;
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return 0;
	stat_inc(CPU_STAT_SAMPLES);

	task = bpf_get_current_task_btf();
	kthread = BPF_CORE_READ(task, flags) & PF_KTHREAD;
	if (!kthread)
		announce(tgid, PID_EVENT_NEW);

	key.tgid = tgid;
	key.tid = tid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	if (active & 1)
		count(ctx, &counts_b, &stacks_b, &ustacks_b, &key, kthread);
	else
		count(ctx, &counts_a, &stacks_a, &ustacks_a, &key, kthread);
	return 0;
}

/* Children of a profiled command are profiled too, as perf record does. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	return pid__follow_fork(&pids, follow_forks, parent, child);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	pid__exec_notice(&seen, &events, &stats, CPU_STAT_NEW_PID_DROP,
			 dwarf_unwind ? &unwind_procs : NULL, p);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
