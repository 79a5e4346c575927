// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "offcpu_keys.h"
#include "offcpu.skel.h"
#include "collector/bpfmap.h"
#include "collector/core.h"
#include "collector/offcpu.h"
#include "unwind/unwind.h"

struct offcpu_collector {
	struct collector_core k; /* filter, notices, stack buffers, unwinder */
	struct offcpu_bpf *skel;
	struct bpf_link *switch_link, *fork_link, *exec_link;
	struct offcpu_collector_opts opts;
	bool raw_tp;
	uint64_t *walk; /* the frame-pointer walk, before recovered frames go in */
	uint64_t sched_lo, sched_hi; /* __schedule: kernel stacks start there */
	bool own_unwinder;	     /* else shared: opts.unwinder */
};

static int alloc_buffers(struct offcpu_collector *c)
{
	const struct offcpu_collector_opts *o = &c->opts;
	struct collector_core_opts ko = {
	    .pids = o->pids,
	    .n_pids = o->n_pids,
	    .count_entries = o->count_entries,
	    .stack_entries = o->stack_entries,
	    .key_size = sizeof(struct offcpu_key),
	    .val_size = sizeof(struct offcpu_val),
	    .on_pid = o->on_pid,
	    .ctx = o->ctx,
	};
	int err = collector_core__init(&c->k, &ko);

	if (err)
		return err;
	c->opts.pids = c->k.pids;
	c->walk = calloc(MAX_STACK_DEPTH, sizeof(uint64_t));
	return c->walk ? 0 : -ENOMEM;
}

/* Keeps only the tp_btf or only the raw_tp variant of each program. */
static void choose_programs(struct offcpu_bpf *s, bool raw, bool follow_forks)
{
	bpf_program__set_autoload(s->progs.on_switch_btf, !raw);
	bpf_program__set_autoload(s->progs.on_fork_btf, !raw && follow_forks);
	bpf_program__set_autoload(s->progs.on_exec_btf, !raw);
	bpf_program__set_autoload(s->progs.on_switch_raw, raw);
	bpf_program__set_autoload(s->progs.on_fork_raw, raw && follow_forks);
	bpf_program__set_autoload(s->progs.on_exec_raw, raw);
}

/* Sizes the unwind rows, or makes the object use the shared unwinder's maps. */
static int prepare_unwind(struct offcpu_collector *c)
{
	struct unwinder_opts uo = { .table_mb = c->opts.unwind_table_mb };

	if (c->opts.fp_unwind)
		return 0;
	if (c->opts.unwinder)
		return unwinder__share(c->opts.unwinder, c->skel->obj);
	return unwinder__prepare(c->skel->obj, &uo);
}

static int configure(struct offcpu_collector *c, bool raw)
{
	struct offcpu_bpf *s = c->skel;
	uint32_t ce = c->opts.count_entries ?: DEFAULT_COUNT_ENTRIES;
	uint32_t se = c->opts.stack_entries ?: DEFAULT_STACK_ENTRIES;
	int err = 0;

	s->rodata->filter_pids = c->opts.n_pids > 0;
	s->rodata->follow_forks = c->opts.follow_forks;
	s->rodata->no_kernel = c->opts.no_kernel;
	s->rodata->mode = c->opts.mode;
	s->rodata->min_block_ns = c->opts.min_block_ns;
	s->rodata->dwarf_unwind = !c->opts.fp_unwind;
	choose_programs(s, raw, c->opts.follow_forks);
	err = err ?: bpf_map__set_max_entries(s->maps.counts_a, ce);
	err = err ?: bpf_map__set_max_entries(s->maps.counts_b, ce);
	err = err ?: bpf_map__set_max_entries(s->maps.stacks, se);
	err = err ?: bpf_map__set_max_entries(s->maps.ustacks_a, se);
	err = err ?: bpf_map__set_max_entries(s->maps.ustacks_b, se);
	err = err ?: prepare_unwind(c);
	return err;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * One open + load attempt. The tp_btf attempt is silent (its failure is
 * expected on kernels without BTF tracing); libbpf's printer is global, so
 * the swap is serialized for concurrent collections in the daemon.
 */
static int try_load(struct offcpu_collector *c, bool raw)
{
	static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
	libbpf_print_fn_t old = NULL;
	int err;

	c->skel = offcpu_bpf__open();
	if (!c->skel)
		return -errno;
	err = configure(c, raw);
	if (err)
		return err;
	if (!raw) {
		pthread_mutex_lock(&print_lock);
		old = libbpf_set_print(quiet_print);
	}
	err = offcpu_bpf__load(c->skel);
	if (!raw) {
		libbpf_set_print(old);
		pthread_mutex_unlock(&print_lock);
	}
	return err;
}

static bool force_raw_tp(void)
{
	const char *v = getenv(OFFCPU_FORCE_RAW_TP_ENV);

	return v && !strcmp(v, "1");
}

/* tp_btf where the kernel has BTF and supports it; raw_tp otherwise. */
static int open_and_load(struct offcpu_collector *c)
{
	int err = -ENOENT;

	if (!force_raw_tp() && !access("/sys/kernel/btf/vmlinux", R_OK)) {
		err = try_load(c, false);
		if (!err)
			return 0;
		offcpu_bpf__destroy(c->skel);
		c->skel = NULL;
	}
	c->raw_tp = true;
	err = try_load(c, true);
	if (err)
		fprintf(stderr, "bpfprof: loading the off-CPU BPF program failed: %s\n",
			strerror(-err));
	return err;
}

/* Binds the unwinder to the loaded maps (a shared one is bound already). */
static int start_unwinder(struct offcpu_collector *c)
{
	struct unwinder_opts uo = { .table_mb = c->opts.unwind_table_mb };

	if (c->opts.fp_unwind)
		return 0;
	if (c->opts.unwinder) {
		c->k.unwinder = c->opts.unwinder;
		return 0;
	}
	c->k.unwinder = unwinder__new(c->skel->obj, &uo);
	if (!c->k.unwinder)
		return -errno;
	c->own_unwinder = true;
	return 0;
}

static struct bpf_link *attach_one(struct bpf_program *btf, struct bpf_program *raw, bool use_raw,
				   const char *tp)
{
	if (use_raw)
		return bpf_program__attach_raw_tracepoint(raw, tp);
	return bpf_program__attach(btf);
}

static int attach_all(struct offcpu_collector *c)
{
	struct offcpu_bpf *s = c->skel;
	bool raw = c->raw_tp;
	int err;

	if (c->opts.follow_forks) {
		c->fork_link = attach_one(s->progs.on_fork_btf, s->progs.on_fork_raw, raw,
					  "sched_process_fork");
		if (!c->fork_link)
			return -errno;
	}
	c->exec_link =
	    attach_one(s->progs.on_exec_btf, s->progs.on_exec_raw, raw, "sched_process_exec");
	if (!c->exec_link)
		return -errno;
	/* A shared unwinder's notices are its owner's to serve: one consumer per ring. */
	err = collector_core__open_events(&c->k, s->maps.events, c->own_unwinder);
	if (err)
		return err;
	c->switch_link =
	    attach_one(s->progs.on_switch_btf, s->progs.on_switch_raw, raw, "sched_switch");
	if (!c->switch_link) {
		fprintf(stderr, "bpfprof: attaching to sched_switch: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Kernel stacks taken in the sched_switch program begin with the program
 * and the tracepoint glue (bpf_prog_..., bpf_trace_run4, __bpf_trace_...),
 * whose number differs between tp_btf, raw_tp and kernel builds: cut them
 * at __schedule, which every switch goes through. Without kallsyms
 * addresses (kptr_restrict) stacks are kept whole.
 */
static void find_schedule(struct offcpu_collector *c)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256], type;
	unsigned long long addr;
	bool found = false;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (found && addr > c->sched_lo) {
			c->sched_hi = addr;
			break;
		}
		if (!found && addr && !strcmp(name, "__schedule")) {
			c->sched_lo = addr;
			found = true;
		}
	}
	if (f)
		fclose(f);
	if (!c->sched_hi)
		c->sched_lo = 0;
}

/* Index of the first frame to keep. */
static size_t tracing_frames(const struct offcpu_collector *c, const uint64_t *stack, size_t n)
{
	for (size_t i = 0; c->sched_lo && i < n; i++)
		if (stack[i] >= c->sched_lo && stack[i] < c->sched_hi)
			return i;
	return 0;
}

struct offcpu_collector *offcpu_collector__start(const struct offcpu_collector_opts *opts)
{
	struct offcpu_collector *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	if (!c)
		goto fail;
	c->opts = *opts;
	err = alloc_buffers(c);
	if (!c->opts.no_kernel)
		find_schedule(c);
	err = err ?: open_and_load(c);
	err = err ?: start_unwinder(c);
	err = err ?: collector_core__fill_filter(&c->k, c->skel->maps.pids);
	if (err)
		goto fail;
	/* Named processes get their tables before the first switch-out, not after it. */
	collector_core__table_targets(&c->k);
	err = attach_all(c);
	if (err)
		goto fail;
	return c;
fail:
	offcpu_collector__free(c);
	errno = -err;
	return NULL;
}

void offcpu_collector__free(struct offcpu_collector *c)
{
	if (!c)
		return;
	/* The switch program first: nothing new is counted while the rest goes. */
	bpf_link__destroy(c->switch_link);
	ring_buffer__free(c->k.rb);
	c->k.rb = NULL;
	bpf_link__destroy(c->fork_link);
	bpf_link__destroy(c->exec_link);
	if (c->own_unwinder)
		unwinder__free(c->k.unwinder);
	offcpu_bpf__destroy(c->skel);
	collector_core__fini(&c->k);
	free(c->walk);
	free(c);
}

int offcpu_collector__poll(struct offcpu_collector *c, int timeout_ms)
{
	return collector_core__poll(&c->k, timeout_ms);
}

/* Frame-pointer walk: the leaf, the recovered return addresses that are code, then the rest. */
static size_t fp_user_stack(struct offcpu_collector *c, const struct offcpu_key *k)
{
	size_t n = bpfmap__depth(bpfmap__read_stackid(bpf_map__fd(c->skel->maps.stacks),
						     k->user_stack_id, c->walk),
				 &c->k.stack_missing),
	       out = 0;

	if (!n)
		return 0;
	c->k.ustack[out++] = c->walk[0];
	for (int g = 0; g < OFFCPU_GAP_FRAMES && k->gap[g] && c->opts.is_code; g++)
		if (k->gap[g] != c->walk[0] && (n < 2 || k->gap[g] != c->walk[1]) &&
		    c->opts.is_code(k->tgid, k->gap[g], c->opts.ctx))
			c->k.ustack[out++] = k->gap[g];
	for (size_t i = 1; i < n && out < MAX_STACK_DEPTH; i++)
		c->k.ustack[out++] = c->walk[i];
	return out;
}

static int drain_set(struct offcpu_collector *c, int counts_fd, int ustacks_fd, offcpu_sample_fn fn,
		     void *ctx)
{
	const struct offcpu_key *keys = c->k.keys;
	const struct offcpu_val *vals = c->k.vals;
	struct raw_sample s;
	int n = collector_core__take_counts(&c->k, counts_fd), err = 0;
	size_t nk, skip;

	for (int i = 0; i < n && !err; i++) {
		const struct offcpu_key *k = &keys[i];

		collector_core__sample(&c->k, &s, k->tgid, k->tid, k->comm);
		if (k->user_stack_hash)
			s.n_ustack = collector_core__read_ustack(&c->k, ustacks_fd,
								 k->user_stack_hash,
								 &s.unwind_reason);
		else
			s.n_ustack = fp_user_stack(c, k);
		nk = bpfmap__depth(bpfmap__read_stackid(bpf_map__fd(c->skel->maps.stacks),
							k->kern_stack_id, c->k.kstack),
				   &c->k.stack_missing);
		skip = tracing_frames(c, c->k.kstack, nk);
		s.kstack = c->k.kstack + skip;
		s.n_kstack = nk - skip;
		s.count = vals[i].count;
		err = fn(&s, vals[i].total_ns, ctx);
	}
	collector_core__end_drain(&c->k, ustacks_fd);
	return err ? err : n;
}

int offcpu_collector__drain(struct offcpu_collector *c, offcpu_sample_fn fn, void *ctx)
{
	struct offcpu_bpf *s = c->skel;

	if (collector_core__flip(&s->bss->active))
		return drain_set(c, bpf_map__fd(s->maps.counts_b), bpf_map__fd(s->maps.ustacks_b),
				 fn, ctx);
	return drain_set(c, bpf_map__fd(s->maps.counts_a), bpf_map__fd(s->maps.ustacks_a), fn, ctx);
}

void offcpu_collector__stats(struct offcpu_collector *c, struct offcpu_stats *out)
{
	uint64_t sums[OFFCPU_STAT_MAX] = {0};

	collector_core__sum_stats(&c->k, c->skel->maps.stats, sums, OFFCPU_STAT_MAX);
	memset(out, 0, sizeof(*out));
	out->periods = sums[OFFCPU_STAT_SWITCHES];
	out->short_periods = sums[OFFCPU_STAT_SHORT];
	out->drop_start = sums[OFFCPU_STAT_DROP_START];
	out->drop_counts = sums[OFFCPU_STAT_DROP_COUNTS];
	out->ustack_err = sums[OFFCPU_STAT_USTACK_ERR];
	out->kstack_err = sums[OFFCPU_STAT_KSTACK_ERR];
	out->stack_collide = sums[OFFCPU_STAT_STACK_COLLIDE];
	out->pid_event_drop = sums[OFFCPU_STAT_NEW_PID_DROP];
	out->stack_missing = c->k.stack_missing;
	out->raw_tp = c->raw_tp;
	out->dwarf = c->k.unwinder != NULL;
	if (c->k.unwinder)
		unwinder__stats(c->k.unwinder, &out->unwind);
}

bool offcpu_collector__targets_alive(struct offcpu_collector *c)
{
	return collector_core__targets_alive(&c->k);
}
