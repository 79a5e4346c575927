// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Off-CPU time from the scheduler, after libbpf-tools' offcputime.bpf.c:
 * when a chosen thread leaves the CPU, remember when and its stacks; when it
 * runs again, add the time it was away to (tgid, tid, user stack, kernel
 * stack) in the kernel. One program body, attached as tp_btf/sched_switch or,
 * where that does not load, as raw_tp/sched_switch (user space picks).
 *
 * User stacks come from the .eh_frame unwinder (unwind.bpf.h) when
 * dwarf_unwind is set, else from bpf_get_stackid's frame-pointer walk plus
 * a search of the stack for the callers it skips (scan_gap()). Kernel
 * stacks always come from bpf_get_stackid.
 *
 * Draining: the counts maps are double-buffered like cpu.bpf.c (user space
 * flips `active`, waits for a grace period, drains the idle set). A stack is
 * taken at switch-out but counted at switch-in, possibly many drains later,
 * so where a stack lives until then decides when it may be freed:
 *
 * - Unwound stacks (1 KiB each) follow one rule: a stack enters a set's
 *   ustacks map only at the switch-in that adds its count to the same set's
 *   counts map, both chosen by one read of `active`. Until then it belongs
 *   to its sleeping thread, in sleep_ustacks (keyed by tid, deleted at that
 *   switch-in). After the flip and the grace period, a set's counts and
 *   stacks are therefore complete and referenced by nothing else: user space
 *   drains the counts, reads their stacks, then clears that ustacks map, and
 *   no count can name a stack from a cleared map.
 * - bpf_get_stackid stacks (kernel stacks; user stacks with --unwind fp) go
 *   to the single `stacks` map, never cleared during a collection: a start
 *   entry holds their ids for as long as the thread sleeps. Collections are
 *   bounded (a record's duration, a request's seconds) and each owns its
 *   maps; a full stack map costs counted stack losses, never wrong stacks
 *   (no BPF_F_REUSE_STACKID, so an id always names the same stack).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "offcpu_keys.h"
#include "unwind.bpf.h"
#include "common.bpf.h"

#define PF_EXITING   0x00000004
#define PF_KTHREAD   0x00200000
#define TASK_RUNNING 0

/* Futex system calls that wait, by architecture (asm/unistd_64.h). */
#if defined(__TARGET_ARCH_x86)
#define NR_FUTEX 202
#elif defined(__TARGET_ARCH_arm64)
#define NR_FUTEX 98
#endif
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAIT  455

const volatile bool filter_pids = false;
const volatile bool follow_forks = false;
const volatile bool no_kernel = false;
const volatile __u32 mode = OFFCPU_MODE_BLOCK;
const volatile __u64 min_block_ns = 1000;
/* Walk user stacks with the .eh_frame tables (unwind.bpf.h), not frame pointers. */
const volatile bool dwarf_unwind = false;

/* Which counts map new periods go to; flipped by user space. */
__u32 active = 0;

PID_FILTER_MAP();

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_START_ENTRIES);
	__type(key, __u32);
	__type(value, struct offcpu_start);
} start SEC(".maps");

#define COUNTS_MAP(name)                                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, DEFAULT_COUNT_ENTRIES);                                        \
		__type(key, struct offcpu_key);                                                    \
		__type(value, struct offcpu_val);                                                  \
	} name SEC(".maps")

COUNTS_MAP(counts_a);
COUNTS_MAP(counts_b);
/* Unwound user stacks of the periods counted in counts_a/b (see the top). */
UNWIND_STACKS_MAP(ustacks_a, DEFAULT_STACK_ENTRIES);
UNWIND_STACKS_MAP(ustacks_b, DEFAULT_STACK_ENTRIES);

/* The unwound user stack of each thread off CPU, from switch-out to switch-in. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, OFFCPU_START_ENTRIES);
	__type(key, __u32);
	__type(value, struct unwind_stack);
} sleep_ustacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, DEFAULT_STACK_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

STATS_MAP(OFFCPU_STAT_MAX);

PID_NOTICE_MAPS();

/* Per-CPU copy of the top of a user stack, searched for hidden return addresses. */
struct gap_scratch {
	__u64 w[OFFCPU_GAP_SCAN_BYTES / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gap_scratch);
} scratch SEC(".maps");

/* Kernels before 5.14 name the field `state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline void stat_inc(__u32 which)
{
	stats__inc(&stats, which);
}

static __always_inline void announce(__u32 tgid, __u32 kind)
{
	pid__announce(&seen, &events, &stats, OFFCPU_STAT_NEW_PID_DROP, tgid, kind);
}

static __always_inline long task_state(struct task_struct *t)
{
	struct task_struct___pre514 *old = (void *)t;

	if (bpf_core_field_exists(old->state))
		return BPF_CORE_READ(old, state);
	return BPF_CORE_READ(t, __state);
}

/*
 * Mutex profiles need to know whether a sleep is a futex wait. Decided here,
 * from the system call number the sleeping thread entered (current is still
 * prev at sched_switch), rather than in user space from kernel stack symbols:
 * it needs no kernel stack (mutex profiles do not keep one), does not depend
 * on futex internals that are renamed between kernel versions
 * (futex_wait_queue_me became futex_wait_queue in 5.16), works with
 * kptr_restrict, and drops every other sleep before a stack is taken.
 */
static __always_inline bool in_futex_wait(void)
{
#ifdef NR_FUTEX
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
	long nr;

#if defined(__TARGET_ARCH_x86)
	nr = BPF_CORE_READ(regs, orig_ax);
#else
	nr = BPF_CORE_READ(regs, syscallno);
#endif
	return nr == NR_FUTEX || nr == NR_FUTEX_WAITV || nr == NR_FUTEX_WAIT;
#else
	return false;
#endif
}

static __always_inline __s32 stack_id(void *ctx, __u64 flags, __u32 err_stat)
{
	long id = bpf_get_stackid(ctx, &stacks, flags);

	if (id == -EEXIST)
		stat_inc(OFFCPU_STAT_STACK_COLLIDE);
	else if (id < 0)
		stat_inc(err_stat);
	return id;
}

#if defined(__TARGET_ARCH_x86)
/* Whether the bytes before ret are a call instruction (e8 rel32, or ff /2 forms). */
static __always_inline bool after_call(__u64 ret)
{
	__u8 b[8]; /* b[i] is the byte at ret - 8 + i */

	if (bpf_probe_read_user(b, sizeof(b), (void *)(ret - 8)))
		return false;
	if (b[3] == 0xe8)
		return true;
	if (b[2] == 0xff && (b[3] == 0x15 || (b[3] & 0xf8) == 0x90))
		return true;
	if (b[5] == 0xff && (b[6] & 0xf8) == 0x50)
		return true;
	return b[6] == 0xff && (b[7] & 0xf8) == 0xd0;
}

/* How far from the leaf IP a return address into the leaf's library may be. */
#define NEAR_LEAF (16ULL << 20)

/*
 * Sleeps happen in libc, which Debian builds without frame pointers: the
 * frame-pointer walk starts at the leaf IP, then jumps from %rbp (the frame
 * of the first caller that keeps one) to that caller's caller. The libc
 * frames in between and the caller's own call site are lost, and that caller
 * is the function a user looks for (the one that slept or locked). Their
 * return addresses lie between %rsp and %rbp: keep the words there that
 * follow a call instruction, and let user space drop any that are not in an
 * executable mapping. Only when the leaf is outside the main executable
 * (whose code keeps frame pointers when the user asked for them), and only
 * words that point into the main executable's text or near the leaf (its
 * library): the probe read behind each candidate is the cost, and context
 * switch heavy loads pay it per switch.
 */
static __always_inline void scan_gap(struct offcpu_start *s)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
	__u64 sp = BPF_CORE_READ(regs, sp), bp = BPF_CORE_READ(regs, bp);
	__u64 ip = BPF_CORE_READ(regs, ip), len = bp - sp, w;
	__u64 code_lo = BPF_CORE_READ(t, mm, start_code), code_hi = BPF_CORE_READ(t, mm, end_code);
	struct gap_scratch *g;
	__u32 zero = 0, n = 0;

	if (ip >= code_lo && ip < code_hi)
		return;
	/* Without a frame pointer above the stack pointer there is no gap to bound. */
	if (bp <= sp || len > sizeof(g->w))
		return;
	g = bpf_map_lookup_elem(&scratch, &zero);
	if (!g || bpf_probe_read_user(g->w, len, (void *)sp))
		return;
	for (__u32 i = 0; i < OFFCPU_GAP_SCAN_BYTES / 8 && n < OFFCPU_GAP_FRAMES; i++) {
		if (i >= len / 8)
			break;
		w = g->w[i];
		if (!(w >= code_lo && w < code_hi) && !(w > ip - NEAR_LEAF && w < ip + NEAR_LEAF))
			continue;
		if (after_call(w))
			s->gap[n++ & (OFFCPU_GAP_FRAMES - 1)] = w;
	}
}
#else
static __always_inline void scan_gap(struct offcpu_start *s)
{
}
#endif

/*
 * The .eh_frame walk of the sleeping thread (current is still prev, in the
 * kernel inside schedule(): its user registers are those saved on entry).
 * The stack waits in sleep_ustacks until the thread runs again.
 */
static __always_inline void capture_dwarf(__u32 tid, struct offcpu_start *s)
{
	struct unwind_scratch *st = NULL;
	__u64 ip, sp, bp;

	if (!unwind_user_regs(&ip, &sp, &bp))
		st = unwind_user_walk(ip, sp, bp);
	if (!st) {
		stat_inc(OFFCPU_STAT_USTACK_ERR);
		return;
	}
	if (bpf_map_update_elem(&sleep_ustacks, &tid, &st->stack, BPF_ANY)) {
		stat_inc(OFFCPU_STAT_STACK_COLLIDE);
		return;
	}
	s->user_stack_hash = st->hash;
	s->unwind_reason = st->stack.reason;
}

/* The one place stacks are taken: at switch-out, current == prev. */
static __always_inline void capture_stacks(void *ctx, __u32 tid, bool kthread,
					   struct offcpu_start *s)
{
	s->user_stack_id = -1;
	if (!kthread && dwarf_unwind)
		capture_dwarf(tid, s);
	else if (!kthread)
		s->user_stack_id = stack_id(ctx, BPF_F_USER_STACK, OFFCPU_STAT_USTACK_ERR);
	s->kern_stack_id = no_kernel ? -1 : stack_id(ctx, 0, OFFCPU_STAT_KSTACK_ERR);
	if (s->user_stack_id >= 0)
		scan_gap(s);
}

/* Whether this switch-out of a chosen thread is one the mode counts. */
static __always_inline bool counted_switch(bool preempt, struct task_struct *prev, bool kthread)
{
	if (mode == OFFCPU_MODE_WALL)
		return true;
	/* Preempted, or woken before it slept: still runnable, not blocked. */
	if (preempt || task_state(prev) == TASK_RUNNING)
		return false;
	if (mode == OFFCPU_MODE_FUTEX)
		return !kthread && in_futex_wait();
	return true;
}

static __always_inline void switch_out(void *ctx, bool preempt, struct task_struct *prev)
{
	__u32 tid = BPF_CORE_READ(prev, pid), tgid = BPF_CORE_READ(prev, tgid);
	unsigned int flags = BPF_CORE_READ(prev, flags);
	bool kthread = flags & PF_KTHREAD;
	struct offcpu_start s = {};

	/* The idle task is not waiting; an exiting thread never runs again. */
	if (!tid || (flags & PF_EXITING))
		return;
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return;
	if (!counted_switch(preempt, prev, kthread))
		return;
	if (!kthread)
		announce(tgid, PID_EVENT_NEW);
	s.ts = bpf_ktime_get_ns();
	capture_stacks(ctx, tid, kthread, &s);
	if (bpf_map_update_elem(&start, &tid, &s, BPF_ANY)) {
		stat_inc(OFFCPU_STAT_DROP_START);
		/* No switch-in will come for it. */
		if (s.user_stack_hash)
			bpf_map_delete_elem(&sleep_ustacks, &tid);
	}
}

static __always_inline void add_period(void *counts, struct offcpu_key *key, __u64 delta)
{
	struct offcpu_val *val, init = {.count = 1, .total_ns = delta};

	stat_inc(OFFCPU_STAT_SWITCHES);
	val = bpf_map_lookup_elem(counts, key);
	if (!val && bpf_map_update_elem(counts, key, &init, BPF_NOEXIST) == 0)
		return;
	/* Present, or lost the race to another CPU: add. Else the map is full. */
	if (!val)
		val = bpf_map_lookup_elem(counts, key);
	if (!val) {
		stat_inc(OFFCPU_STAT_DROP_COUNTS);
		return;
	}
	__sync_fetch_and_add(&val->count, 1);
	__sync_fetch_and_add(&val->total_ns, delta);
}

/*
 * Moves the thread's unwound stack from sleep_ustacks to the ustacks map of
 * the set its count goes to; clears key's hash when it could not be stored.
 */
static __always_inline void move_ustack(__u32 tid, void *ustacks, struct offcpu_key *key)
{
	struct unwind_stack *st = bpf_map_lookup_elem(&sleep_ustacks, &tid);

	if (st)
		key->user_stack_hash = unwind_store(ustacks, key->user_stack_hash, st);
	else
		key->user_stack_hash = 0;
	if (!key->user_stack_hash) {
		key->unwind_reason = 0;
		stat_inc(OFFCPU_STAT_STACK_COLLIDE);
	}
	bpf_map_delete_elem(&sleep_ustacks, &tid);
}

static __always_inline void switch_in(struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct offcpu_key key = {};
	struct offcpu_start *s;
	__u64 delta;
	bool set_b;

	s = bpf_map_lookup_elem(&start, &tid);
	if (!s)
		return;
	delta = bpf_ktime_get_ns() - s->ts;
	key.user_stack_id = s->user_stack_id;
	key.kern_stack_id = s->kern_stack_id;
	key.user_stack_hash = s->user_stack_hash;
	key.unwind_reason = s->unwind_reason;
	__builtin_memcpy(key.gap, s->gap, sizeof(key.gap));
	bpf_map_delete_elem(&start, &tid);
	if ((__s64)delta < 0 || delta < min_block_ns) {
		stat_inc(OFFCPU_STAT_SHORT);
		if (key.user_stack_hash)
			bpf_map_delete_elem(&sleep_ustacks, &tid);
		return;
	}
	key.tgid = BPF_CORE_READ(next, tgid);
	key.tid = tid;
	BPF_CORE_READ_STR_INTO(&key.comm, next, comm);
	/* One read of active picks both maps: the stack goes with its count. */
	set_b = active & 1;
	if (key.user_stack_hash)
		move_ustack(tid, set_b ? (void *)&ustacks_b : (void *)&ustacks_a, &key);
	if (set_b)
		add_period(&counts_b, &key, delta);
	else
		add_period(&counts_a, &key, delta);
}

static __always_inline int on_switch(void *ctx, bool preempt, struct task_struct *prev,
				     struct task_struct *next)
{
	switch_out(ctx, preempt, prev);
	switch_in(next);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, preempt, prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, preempt, prev, next);
}

/* Children of a profiled command are profiled too, as perf record does. */
static __always_inline int fork_child(struct task_struct *parent, struct task_struct *child)
{
	return pid__follow_fork(&pids, follow_forks, parent, child);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return fork_child(parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return fork_child(parent, child);
}

static __always_inline int exec_notice(struct task_struct *p)
{
	pid__exec_notice(&seen, &events, &stats, OFFCPU_STAT_NEW_PID_DROP,
			 dwarf_unwind ? &unwind_procs : NULL, p);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec_btf, struct task_struct *p)
{
	return exec_notice(p);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec_raw, struct task_struct *p)
{
	return exec_notice(p);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
