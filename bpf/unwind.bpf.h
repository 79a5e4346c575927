/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * User-stack unwinding from .eh_frame tables compiled by user/unwind/.
 * Include once per BPF object (after vmlinux.h and the libbpf headers); it
 * defines the shared maps (user space sizes unwind_rows and lets several
 * objects share them with bpf_map__reuse_fd) and
 *
 *   __u64 unwind_user_stack(void *stacks, __u64 ip, __u64 sp, __u64 bp);
 *
 * which walks the current task's user stack from those registers, stores it
 * in `stacks` (a map declared with UNWIND_STACKS_MAP) and returns its key,
 * a 64-bit hash of the frames, or 0 when nothing could be stored. Its two
 * halves, unwind_user_walk() and unwind_store(), serve programs that keep
 * a stack elsewhere before storing it (offcpu.bpf.c: while a thread sleeps).
 * unwind_user_regs() gets the user registers of the current task.
 *
 * Per frame: find the mapping (binary search over the process's sorted
 * executable mappings), find the row (binary search over the binary's rows),
 * compute the CFA, read the return address at CFA-8 and the saved rbp. Code
 * without a table is walked with frame pointers, so JIT code still yields
 * frames, and the walk returns to the tables when it reaches tabled code.
 */
#ifndef BPFPROF_BPF_UNWIND_H
#define BPFPROF_BPF_UNWIND_H

#include "unwind_keys.h"

#ifndef EEXIST
#define EEXIST 17
#endif

/* Sized by user space from --unwind-table-mb before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNWIND_MAX_TABLES);
	__type(key, __u32);
	__type(value, struct unwind_table);
} unwind_tables SEC(".maps");

/* Not preallocated: 8 KiB per process, only for processes seen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct unwind_proc);
} unwind_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} unwind_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UNWIND_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} unwind_stats SEC(".maps");

struct unwind_scratch {
	__u64 ip, sp, bp;
	__u64 hash;
	__u32 exact; /* ip is an exact pc (leaf, or interrupted by a signal), not a return address */
	__u32 pad;
	struct unwind_stack stack;
};

/* The stack being built lives here: 1 KiB does not fit the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_scratch);
} unwind_scratch SEC(".maps");

/* A map of unwound stacks keyed by hash; not preallocated (1 KiB a stack). */
#define UNWIND_STACKS_MAP(name, entries)                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, entries);                                                      \
		__type(key, __u64);                                                                \
		__type(value, struct unwind_stack);                                                \
	} name SEC(".maps")

#define UNWIND_FNV_PRIME 0x100000001b3ULL
#define UNWIND_FNV_BASIS 0xcbf29ce484222325ULL
#define UNWIND_USER_MAX 0x800000000000ULL
#define UNWIND_NOTICE_NS 1000000000ULL

/* Offsets in the rt_sigframe at rsp when the sigreturn trampoline runs: uc_mcontext at 40. */
#define UNWIND_UC_RBP 120
#define UNWIND_UC_RSP 160
#define UNWIND_UC_RIP 168

struct unwind_ctx {
	struct unwind_scratch *st;
	struct unwind_proc *proc;
	__u32 tgid;
};

static __always_inline void unwind_stat_add(__u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&unwind_stats, &which);

	if (v)
		*v += n;
}

/*
 * The binary searches run as bpf_loop callbacks: as plain loops the
 * verifier walks every path of lo/hi through all their steps.
 */
struct unwind_search {
	struct unwind_proc *proc;
	__u64 key;
	__u32 lo, hi;
};

static long unwind_map_search_step(__u32 i, void *data)
{
	struct unwind_search *s = data;
	__u32 mid;

	if (s->lo >= s->hi)
		return 1;
	mid = (s->lo + s->hi) / 2;
	if (mid >= UNWIND_MAX_MAPPINGS)
		return 1;
	if (s->proc->maps[mid].start <= s->key)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* The mapping containing ip: the last one starting at or below it. */
static __always_inline struct unwind_mapping *unwind_find_mapping(struct unwind_proc *proc,
								   __u64 ip)
{
	struct unwind_search s = { .proc = proc, .key = ip, .lo = 0, .hi = proc->nr };
	__u32 idx;

	if (s.hi > UNWIND_MAX_MAPPINGS)
		s.hi = UNWIND_MAX_MAPPINGS;
	bpf_loop(UNWIND_MAP_SEARCH_STEPS + 1, unwind_map_search_step, &s, 0);
	if (s.lo == 0 || s.lo > UNWIND_MAX_MAPPINGS)
		return NULL;
	idx = (s.lo - 1) & (UNWIND_MAX_MAPPINGS - 1); /* a bound the verifier sees */
	if (ip >= proc->maps[idx].end)
		return NULL;
	return &proc->maps[idx];
}

static long unwind_row_search_step(__u32 i, void *data)
{
	struct unwind_search *s = data;
	struct unwind_row *r;
	__u32 mid;

	if (s->lo >= s->hi)
		return 1;
	mid = s->lo + (s->hi - s->lo) / 2;
	r = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!r)
		return 1;
	if (r->pc <= s->key)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* Copies the row covering vaddr (the last row at or below it) to *out. */
static __always_inline bool unwind_find_row(const struct unwind_table *t, __u64 vaddr,
					    struct unwind_row *out)
{
	struct unwind_search s = { .key = vaddr, .lo = t->row_start };
	struct unwind_row *r;
	__u32 idx;

	s.hi = t->row_start + t->row_count;
	bpf_loop(UNWIND_ROW_SEARCH_STEPS + 1, unwind_row_search_step, &s, 0);
	if (s.lo == t->row_start)
		return false;
	idx = s.lo - 1;
	r = bpf_map_lookup_elem(&unwind_rows, &idx);
	if (!r)
		return false;
	*out = *r;
	return true;
}

/* Asks user space (at most once a second per process) to re-read the maps. */
static __always_inline void unwind_notice(struct unwind_ctx *c, __u64 ip)
{
	struct unwind_event *e;
	__u64 now;

	if (!c->proc || !ip || ip >= UNWIND_USER_MAX)
		return;
	now = bpf_ktime_get_ns();
	if (now - c->proc->notice_ns < UNWIND_NOTICE_NS)
		return;
	c->proc->notice_ns = now;
	e = bpf_ringbuf_reserve(&unwind_events, sizeof(*e), 0);
	if (!e) {
		unwind_stat_add(UNWIND_STAT_NOTICE_DROP, 1);
		return;
	}
	e->tgid = c->tgid;
	e->pad = 0;
	e->ip = ip;
	bpf_ringbuf_submit(e, 0);
	unwind_stat_add(UNWIND_STAT_NOTICE, 1);
}

/* One frame by frame pointer, for code without a table; 1 stops the walk with why. */
static __always_inline long unwind_fp_step(struct unwind_scratch *st, __u32 why)
{
	__u64 pair[2]; /* saved rbp, return address */

	if (!st->bp || st->bp < st->sp || bpf_probe_read_user(pair, sizeof(pair), (void *)st->bp)) {
		st->stack.reason = why;
		return 1;
	}
	unwind_stat_add(UNWIND_STAT_FP_FRAMES, 1);
	if (!pair[1])
		return 1; /* the outermost frame */
	st->sp = st->bp + 16;
	st->bp = pair[0];
	st->ip = pair[1];
	st->exact = 0;
	return 0;
}

/* The sigreturn trampoline: the interrupted registers are in the ucontext at rsp. */
static __always_inline long unwind_signal_step(struct unwind_scratch *st)
{
	__u64 rbp, rsp, rip;

	if (bpf_probe_read_user(&rbp, 8, (void *)(st->sp + UNWIND_UC_RBP)) ||
	    bpf_probe_read_user(&rsp, 8, (void *)(st->sp + UNWIND_UC_RSP)) ||
	    bpf_probe_read_user(&rip, 8, (void *)(st->sp + UNWIND_UC_RIP))) {
		st->stack.reason = UNWIND_REASON_BAD_READ;
		return 1;
	}
	st->ip = rip;
	st->sp = rsp;
	st->bp = rbp;
	st->exact = 1;
	return rip ? 0 : 1;
}

static __always_inline long unwind_row_step(struct unwind_scratch *st, const struct unwind_row *r)
{
	__u64 cfa, ra, bp = st->bp;

	switch (r->cfa_type) {
	case UNWIND_CFA_RSP:
		cfa = st->sp + r->cfa_off;
		break;
	case UNWIND_CFA_RBP:
		cfa = st->bp + r->cfa_off;
		break;
	case UNWIND_CFA_PLT:
		cfa = st->sp + 8 + ((st->ip & 15) >= (__u64)r->cfa_off ? 8 : 0);
		break;
	case UNWIND_CFA_SIGNAL:
		return unwind_signal_step(st);
	case UNWIND_CFA_END:
		return 1;
	default:
		return unwind_fp_step(st, UNWIND_REASON_NO_TABLE);
	}
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8))) {
		st->stack.reason = UNWIND_REASON_BAD_READ;
		return 1;
	}
	if (r->rbp_type == UNWIND_RBP_CFA &&
	    bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + r->rbp_off))) {
		st->stack.reason = UNWIND_REASON_BAD_READ;
		return 1;
	}
	if (r->rbp_type == UNWIND_RBP_UNDEF)
		bp = 0;
	st->sp = cfa;
	st->bp = bp;
	st->ip = ra;
	st->exact = 0;
	return ra ? 0 : 1;
}

static long unwind_step(__u32 i, void *data)
{
	struct unwind_ctx *c = data;
	struct unwind_scratch *st = c->st;
	struct unwind_mapping *m;
	struct unwind_table *t;
	struct unwind_row row;
	__u32 d = st->stack.len, tid;
	__u64 pc;

	if (d >= MAX_STACK_DEPTH) {
		st->stack.reason = UNWIND_REASON_DEPTH_LIMIT;
		return 1;
	}
	st->stack.frames[d] = st->ip;
	st->stack.len = d + 1;
	st->hash = (st->hash ^ st->ip) * UNWIND_FNV_PRIME;

	if (!c->proc)
		return unwind_fp_step(st, UNWIND_REASON_TABLE_NOT_LOADED);
	m = unwind_find_mapping(c->proc, st->ip);
	if (!m) {
		unwind_notice(c, st->ip);
		return unwind_fp_step(st, UNWIND_REASON_NO_TABLE);
	}
	if (m->flags & UNWIND_MAP_NO_CFI)
		return unwind_fp_step(st, UNWIND_REASON_NO_TABLE);
	tid = m->table_id;
	t = bpf_map_lookup_elem(&unwind_tables, &tid);
	if (!t || !t->row_count)
		return unwind_fp_step(st, UNWIND_REASON_TABLE_NOT_LOADED);
	/* A return address may follow a call that ends its function: look up the call. */
	pc = st->ip - m->bias - (st->exact ? 0 : 1);
	if (pc >> 32 || !unwind_find_row(t, pc, &row))
		return unwind_fp_step(st, UNWIND_REASON_NO_TABLE);
	return unwind_row_step(st, &row);
}

/* The user registers of the current task, when a sample hit kernel mode. */
static __always_inline int unwind_user_regs(__u64 *ip, __u64 *sp, __u64 *bp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	if (!regs)
		return -1;
	*ip = BPF_CORE_READ(regs, ip);
	*sp = BPF_CORE_READ(regs, sp);
	*bp = BPF_CORE_READ(regs, bp);
	return 0;
}

/*
 * Walks the current task's user stack from these registers into the per-CPU
 * scratch, hash included; NULL when there is nothing to walk. The result
 * stays valid until the next walk on this CPU: store it before then.
 */
static __always_inline struct unwind_scratch *unwind_user_walk(__u64 ip, __u64 sp, __u64 bp)
{
	struct unwind_ctx c = {};
	__u32 zero = 0;

	c.st = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!c.st || !ip)
		return NULL;
	c.tgid = bpf_get_current_pid_tgid() >> 32;
	c.proc = bpf_map_lookup_elem(&unwind_procs, &c.tgid);
	c.st->ip = ip;
	c.st->sp = sp;
	c.st->bp = bp;
	c.st->exact = 1;
	c.st->hash = UNWIND_FNV_BASIS;
	c.st->stack.len = 0;
	c.st->stack.reason = UNWIND_REASON_NONE;
	bpf_loop(MAX_STACK_DEPTH + 1, unwind_step, &c, 0);

	c.st->hash ^= c.st->stack.len | (__u64)c.st->stack.reason << 32;
	c.st->hash *= UNWIND_FNV_PRIME;
	c.st->hash |= 1; /* 0 means "no stack" */
	if (c.st->stack.reason < UNWIND_REASON_MAX)
		unwind_stat_add(c.st->stack.reason, 1);
	unwind_stat_add(UNWIND_STAT_FRAMES, c.st->stack.len);
	return c.st;
}

/* Stores stack under hash in `stacks` (UNWIND_STACKS_MAP); returns hash, or 0 if it could not. */
static __always_inline __u64 unwind_store(void *stacks, __u64 hash,
					  const struct unwind_stack *stack)
{
	struct unwind_stack *old;
	long err;

	err = bpf_map_update_elem(stacks, &hash, stack, BPF_NOEXIST);
	if (err == -EEXIST) {
		old = bpf_map_lookup_elem(stacks, &hash);
		if (old && (old->len != stack->len || old->frames[0] != stack->frames[0]))
			unwind_stat_add(UNWIND_STAT_COLLIDE, 1);
	} else if (err) {
		unwind_stat_add(UNWIND_STAT_STACK_DROP, 1);
		return 0;
	}
	return hash;
}

static __always_inline __u64 unwind_user_stack(void *stacks, __u64 ip, __u64 sp, __u64 bp)
{
	struct unwind_scratch *st = unwind_user_walk(ip, sp, bp);

	return st ? unwind_store(stacks, st->hash, &st->stack) : 0;
}

#endif
