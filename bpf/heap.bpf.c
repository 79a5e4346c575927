// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap profiling: probes on the allocator of chosen processes sample
 * allocations by bytes (a Poisson process with mean sample_bytes per thread,
 * as Go and tcmalloc do) and track the sampled ones live by {tgid, addr}.
 *
 * Traps are the cost, so the entry probe decides and only a sampled call
 * pays for a second trap at return: with uprobe sessions (6.13+) the entry
 * returns 0 to ask for the return call; without them a uretprobe fires on
 * every call and returns at once when nothing is pending. The cookie of each
 * probe says which allocator function it is on (enum heap_fn).
 *
 * Only sampled allocations and frees of sampled addresses reach user space,
 * through the ring buffer; the order of records is the order of
 * reservation, so an alloc record is reserved before its address becomes
 * visible to free(). The allocation's user stack is taken at the return,
 * where the registers are the caller's just after its call: unwound from
 * .eh_frame (unwind.bpf.h) into the ustacks map, the record carrying its
 * hash, or walked by frame pointer and copied into the record.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "heap_keys.h"
#include "unwind.bpf.h"

/* Every allocation sampled (R = 1): exact profiles, for tests. */
const volatile bool sample_all = false;
/* Walk user stacks with the .eh_frame tables, not frame pointers (libstdc++ has none). */
const volatile bool dwarf_unwind = false;
/* Exponential gaps with mean R, one per uniform 12-bit draw (user space fills it). */
const volatile __u64 exp_table[HEAP_EXP_TABLE_SIZE];

extern bool bpf_session_is_return(void) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HEAP_DEFAULT_MAX_LIVE);
	__type(key, struct heap_live_key);
	__type(value, struct heap_live_val);
} live SEC(".maps");

/* Watched processes: counters per CPU, entries created by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HEAP_DEFAULT_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct heap_target);
} targets SEC(".maps");

/* Per-thread sampling state, freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct heap_thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HEAP_RINGBUF_BYTES);
} events SEC(".maps");

/*
 * Unwound stacks by hash: deduplicated here, so records stay small. User
 * space deletes each at the sweep after reading it; the hash is of the
 * frames, so its cached copy serves later records with the same hash.
 */
UNWIND_STACKS_MAP(ustacks, HEAP_STACK_ENTRIES);

/* The fixed part of every record; FREE, EXIT and EXEC records are only this. */
struct heap_small_event {
	__u32 kind;
	__u32 tgid;
	__u32 tid;
	__u32 flags;
	__u64 addr;
};

static __always_inline __u64 next_gap(void)
{
	return exp_table[bpf_get_prandom_u32() & (HEAP_EXP_TABLE_SIZE - 1)];
}

/* Go's rule: an allocation reaching the remaining gap is sampled and a new gap drawn. */
static __always_inline bool take_sample(struct heap_thread *th, __u64 size)
{
	if (sample_all)
		return true;
	if (!th->initialized) {
		th->bytes_until_sample = next_gap();
		th->initialized = 1;
	}
	if ((__s64)size < th->bytes_until_sample) {
		th->bytes_until_sample -= size;
		return false;
	}
	th->bytes_until_sample = next_gap();
	return true;
}

static __always_inline void send_small(__u32 kind, __u32 tgid, __u32 tid, __u64 addr,
				       struct heap_target *t)
{
	struct heap_small_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		if (t)
			t->ring_drops++;
		return;
	}
	e->kind = kind;
	e->tgid = tgid;
	e->tid = tid;
	e->flags = 0;
	e->addr = addr;
	bpf_ringbuf_submit(e, 0);
}

/* A free (or the old block of a realloc): only sampled addresses are in live. */
static __always_inline bool on_free(__u32 tgid, __u32 tid, __u64 addr, struct heap_target *t)
{
	struct heap_live_key k = {.tgid = tgid, .addr = addr};

	if (!addr || bpf_map_delete_elem(&live, &k))
		return false;
	send_small(HEAP_EV_FREE, tgid, tid, addr, t);
	return true;
}

static __always_inline __u64 request_size(struct pt_regs *ctx, __u32 fn)
{
	switch (fn) {
	case HEAP_FN_CALLOC:
		return PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx);
	case HEAP_FN_REALLOC:
	case HEAP_FN_MEMALIGN:
		return PT_REGS_PARM2(ctx);
	case HEAP_FN_REALLOCARRAY:
		return PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx);
	case HEAP_FN_POSIX_MEMALIGN:
		return PT_REGS_PARM3(ctx);
	default:
		return PT_REGS_PARM1(ctx);
	}
}

/*
 * An ALLOC record with the user stack. At the return the registers are the
 * caller's just after its call, so the walk starts at the allocating call
 * (frame 0 is its return address) whichever way it goes. The record is
 * reserved first: a full ring costs no walk and leaves no unread stack.
 */
static __always_inline struct heap_event *reserve_alloc(struct pt_regs *ctx, struct heap_target *t,
							 __u64 ip, __u64 sp)
{
	struct heap_event *e;
	long n;

	if (dwarf_unwind) {
		e = bpf_ringbuf_reserve(&events, HEAP_EVENT_HASHED_SIZE, 0);
		if (!e)
			return NULL;
		e->stack_hash = unwind_user_stack(&ustacks, ip, sp, PT_REGS_FP(ctx));
		if (!e->stack_hash)
			t->stack_errs++;
		e->n_frames = 0;
		return e;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return NULL;
	e->stack_hash = 0;
	n = bpf_get_stack(ctx, e->frames, sizeof(e->frames), BPF_F_USER_STACK);
	if (n < 0) {
		t->stack_errs++;
		n = 0;
	}
	/* At a hook, frame 0 is the hook: the caller's return address stands for it. */
	if (n > 0 && ip != PT_REGS_IP(ctx))
		e->frames[0] = ip;
	e->n_frames = n / sizeof(__u64);
	return e;
}

/* An ALLOC record of ptr with the stack from (ip, sp), and the block tracked live. */
static __always_inline void record_alloc(struct pt_regs *ctx, struct heap_target *t, __u32 tgid,
					 __u32 tid, __u64 ptr, __u64 size, __u64 ip, __u64 sp)
{
	struct heap_live_key k = {.tgid = tgid, .addr = ptr};
	struct heap_live_val v = {.size = size};
	struct heap_event *e;

	t->sampled++;
	e = reserve_alloc(ctx, t, ip, sp);
	if (!e) {
		t->ring_drops++;
		return;
	}
	e->kind = HEAP_EV_ALLOC;
	e->tgid = tgid;
	e->tid = tid;
	e->flags = 0;
	e->addr = ptr;
	e->size = size;
	e->ts = bpf_ktime_get_boot_ns();
	if (bpf_map_update_elem(&live, &k, &v, BPF_ANY)) {
		e->flags = HEAP_EVF_UNTRACKED;
		t->live_full++;
	}
	bpf_ringbuf_submit(e, 0);
}

/*
 * libbpfprof-heap.so's alloc hook: sampled already. Its callers tail-call
 * it where they can, so the word at sp is the allocating call's return
 * address and the caller's registers are those just after that call: the
 * stack starts as at an allocator's return probe.
 */
static __always_inline void on_hook_alloc(struct pt_regs *ctx, struct heap_target *t, __u32 tgid,
					  __u32 tid)
{
	__u64 ptr = PT_REGS_PARM1(ctx), size = PT_REGS_PARM2(ctx), sp = PT_REGS_SP(ctx), ret;

	if (!ptr || bpf_probe_read_user(&ret, sizeof(ret), (void *)sp)) {
		t->stack_errs++;
		return;
	}
	record_alloc(ctx, t, tgid, tid, ptr, size, ret, sp + 8);
}

/* Entry of any allocator function. Returns true when the return must be seen. */
static __always_inline bool on_entry(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), size;
	__u32 tgid = id >> 32, tid = (__u32)id, fn = bpf_get_attach_cookie(ctx);
	struct heap_target *t = bpf_map_lookup_elem(&targets, &tgid);
	struct heap_thread *th;

	if (!t)
		return false;
	t->traps++;
	t->calls++;
	if (fn == HEAP_FN_HOOK_ALLOC) {
		on_hook_alloc(ctx, t, tgid, tid);
		return false;
	}
	/* The governor prices frees apart: a tracked one also sends a record. */
	if (fn == HEAP_FN_FREE || fn == HEAP_FN_HOOK_FREE) {
		t->frees++;
		if (on_free(tgid, tid, PT_REGS_PARM1(ctx), t))
			t->frees_tracked++;
		return false;
	}
	if (fn == HEAP_FN_REALLOC || fn == HEAP_FN_REALLOCARRAY)
		on_free(tgid, tid, PT_REGS_PARM1(ctx), t);
	th = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!th) {
		t->thread_drops++;
		return false;
	}
	size = request_size(ctx, fn);
	/* realloc(p, 0) frees; a failed or zero request allocates nothing. */
	if (!size || !take_sample(th, size)) {
		th->pending_size = 0;
		return false;
	}
	th->pending_size = size;
	th->pending_fn = fn;
	th->pending_ptrp = fn == HEAP_FN_POSIX_MEMALIGN ? PT_REGS_PARM1(ctx) : 0;
	return true;
}

/* Return of a sampled call: record the block with the caller's stack. */
static __always_inline void on_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), ptr = 0, size;
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct heap_target *t = bpf_map_lookup_elem(&targets, &tgid);
	struct heap_thread *th;

	if (!t)
		return;
	t->traps++;
	th = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0, 0);
	if (!th || !th->pending_size)
		return;
	size = th->pending_size;
	th->pending_size = 0;
	if (th->pending_fn == HEAP_FN_POSIX_MEMALIGN) {
		if (PT_REGS_RC(ctx) == 0 &&
		    bpf_probe_read_user(&ptr, sizeof(ptr), (void *)th->pending_ptrp))
			ptr = 0;
	} else {
		ptr = PT_REGS_RC(ctx);
	}
	if (!ptr)
		return;
	record_alloc(ctx, t, tgid, tid, ptr, size, PT_REGS_IP(ctx), PT_REGS_SP(ctx));
}

/* Uprobe session: one program for entry and return; 0 from the entry asks for the return. */
SEC("kprobe")
int heap_session(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		on_return(ctx);
		return 0;
	}
	return on_entry(ctx) ? 0 : 1;
}

/* Fallback without sessions: a uprobe on every function and a uretprobe on allocators. */
SEC("uprobe")
int heap_entry(struct pt_regs *ctx)
{
	on_entry(ctx);
	return 0;
}

SEC("uretprobe")
int heap_return(struct pt_regs *ctx)
{
	on_return(ctx);
	return 0;
}

/* Calibration: the cheapest useful program, to time what a trap costs. */
SEC("uprobe")
int heap_calib(struct pt_regs *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(heap_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), pid = BPF_CORE_READ(p, pid);

	/* The leader exits last of the group only in the common case: enough for a notice. */
	if (pid != tgid || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	send_small(HEAP_EV_EXIT, tgid, pid, 0, NULL);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(heap_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	send_small(HEAP_EV_EXEC, tgid, (__u32)old_pid, 0, NULL);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
