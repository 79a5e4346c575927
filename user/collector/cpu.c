// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cpu_keys.h"
#include "cpu.skel.h"
#include "collector/bpfmap.h"
#include "collector/cpu.h"
#include "util/proc.h"
#include "unwind/unwind.h"


struct cpu_collector {
	struct cpu_bpf *skel;
	struct bpf_link **links; /* perf event links, one per online CPU */
	int *pfds;
	int n_cpus;		 /* possible CPUs: per-CPU map value count */
	struct bpf_link *fork_link, *exec_link;
	struct ring_buffer *rb;
	struct cpu_collector_opts opts;
	uint32_t *pids;
	uint64_t stack_missing;
	/* Drain buffers, sized once from the map bounds. */
	struct cpu_key *keys;
	uint64_t *vals;
	uint64_t *ustack, *kstack;
	struct unwind_stack *ustack_buf;
	uint32_t count_entries, stack_entries;
	struct unwinder *unwinder; /* NULL: frame-pointer user stacks */
};

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct cpu_collector *c = ctx;
	const struct new_pid_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (c->opts.on_pid)
		c->opts.on_pid(e->tgid, e->kind, c->opts.ctx);
	unwinder__defer_pid(c->unwinder, e->tgid);
	return 0;
}

/* New code mapped (dlopen): the unwinder and the symbolizer both re-read the maps. */
static int handle_unwind_event(void *ctx, void *data, size_t size)
{
	struct cpu_collector *c = ctx;
	const struct unwind_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (c->opts.on_pid)
		c->opts.on_pid(e->tgid, PID_EVENT_MMAP, c->opts.ctx);
	unwinder__defer_pid(c->unwinder, e->tgid);
	return 0;
}

static int size_maps(struct cpu_collector *c)
{
	struct cpu_bpf *s = c->skel;
	uint32_t ce = c->opts.count_entries ?: DEFAULT_COUNT_ENTRIES;
	uint32_t se = c->opts.stack_entries ?: DEFAULT_STACK_ENTRIES;
	int err = 0;

	err = err ?: bpf_map__set_max_entries(s->maps.counts_a, ce);
	err = err ?: bpf_map__set_max_entries(s->maps.counts_b, ce);
	err = err ?: bpf_map__set_max_entries(s->maps.stacks_a, se);
	err = err ?: bpf_map__set_max_entries(s->maps.stacks_b, se);
	err = err ?: bpf_map__set_max_entries(s->maps.ustacks_a, se);
	err = err ?: bpf_map__set_max_entries(s->maps.ustacks_b, se);
	if (!c->opts.fp_unwind) {
		struct unwinder_opts uo = { .table_mb = c->opts.unwind_table_mb };

		err = err ?: unwinder__prepare(s->obj, &uo);
	}
	return err;
}

static int fill_filter(struct cpu_collector *c)
{
	uint8_t one = 1;
	int err;

	for (size_t i = 0; i < c->opts.n_pids; i++) {
		err = bpf_map__update_elem(c->skel->maps.pids, &c->pids[i], sizeof(uint32_t), &one,
					   sizeof(one), BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

static int attach_perf(struct cpu_collector *c)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = c->opts.freq_hz,
	};
	int attached = 0, err = 0;

	for (int cpu = 0; cpu < c->n_cpus; cpu++) {
		c->pfds[cpu] = perf_event_open(&attr, cpu);
		if (c->pfds[cpu] < 0) {
			/* Offline CPUs refuse with ENODEV; they take no samples. */
			if (errno == ENODEV)
				continue;
			err = -errno;
			fprintf(stderr, "bpfprof: perf_event_open on CPU %d: %s\n", cpu,
				strerror(errno));
			return err;
		}
		c->links[cpu] = bpf_program__attach_perf_event(c->skel->progs.do_sample,
							       c->pfds[cpu]);
		if (!c->links[cpu]) {
			err = -errno;
			fprintf(stderr, "bpfprof: attaching to CPU %d: %s\n", cpu, strerror(errno));
			return err;
		}
		attached++;
	}
	return attached ? 0 : -ENODEV;
}

static int alloc_buffers(struct cpu_collector *c)
{
	c->count_entries = c->opts.count_entries ?: DEFAULT_COUNT_ENTRIES;
	c->stack_entries = c->opts.stack_entries ?: DEFAULT_STACK_ENTRIES;
	c->keys = calloc(c->count_entries, sizeof(*c->keys));
	c->vals = calloc(c->count_entries, sizeof(*c->vals));
	c->ustack = calloc(MAX_STACK_DEPTH, sizeof(uint64_t));
	c->kstack = calloc(MAX_STACK_DEPTH, sizeof(uint64_t));
	c->ustack_buf = calloc(1, sizeof(*c->ustack_buf));
	c->links = calloc(c->n_cpus, sizeof(*c->links));
	c->pfds = malloc(c->n_cpus * sizeof(*c->pfds));
	c->pids = calloc(c->opts.n_pids ?: 1, sizeof(*c->pids));
	if (!c->keys || !c->vals || !c->ustack || !c->kstack || !c->ustack_buf || !c->links ||
	    !c->pfds || !c->pids)
		return -ENOMEM;
	for (int i = 0; i < c->n_cpus; i++)
		c->pfds[i] = -1;
	if (c->opts.n_pids)
		memcpy(c->pids, c->opts.pids, c->opts.n_pids * sizeof(*c->pids));
	c->opts.pids = c->pids;
	return 0;
}

static int open_and_load(struct cpu_collector *c)
{
	int err;

	c->skel = cpu_bpf__open();
	if (!c->skel)
		return -errno;
	c->skel->rodata->filter_pids = c->opts.n_pids > 0;
	c->skel->rodata->follow_forks = c->opts.follow_forks;
	c->skel->rodata->no_kernel = c->opts.no_kernel;
	c->skel->rodata->dwarf_unwind = !c->opts.fp_unwind;
	bpf_program__set_autoload(c->skel->progs.on_fork, c->opts.follow_forks);
	err = size_maps(c);
	if (err)
		return err;
	err = cpu_bpf__load(c->skel);
	if (err) {
		fprintf(stderr, "bpfprof: loading the CPU BPF program failed: %s\n", strerror(-err));
		return err;
	}
	if (!c->opts.fp_unwind) {
		struct unwinder_opts uo = { .table_mb = c->opts.unwind_table_mb };

		c->unwinder = unwinder__new(c->skel->obj, &uo);
		if (!c->unwinder)
			return -errno;
	}
	return 0;
}

static int attach_all(struct cpu_collector *c)
{
	int err;

	if (c->opts.follow_forks) {
		c->fork_link = bpf_program__attach(c->skel->progs.on_fork);
		if (!c->fork_link)
			return -errno;
	}
	c->exec_link = bpf_program__attach(c->skel->progs.on_exec);
	if (!c->exec_link)
		return -errno;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), handle_event, c, NULL);
	if (!c->rb)
		return -errno;
	if (c->unwinder) {
		err = ring_buffer__add(c->rb, unwinder__events_fd(c->unwinder), handle_unwind_event,
				       c);
		if (err)
			return err;
	}
	err = attach_perf(c);
	return err;
}

struct cpu_collector *cpu_collector__start(const struct cpu_collector_opts *opts)
{
	struct cpu_collector *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	if (!c)
		goto fail;
	c->opts = *opts;
	c->n_cpus = libbpf_num_possible_cpus();
	if (c->n_cpus <= 0) {
		err = c->n_cpus ?: -EINVAL;
		goto fail;
	}
	err = alloc_buffers(c);
	if (err)
		goto fail;
	err = open_and_load(c);
	if (err)
		goto fail;
	err = fill_filter(c);
	if (err)
		goto fail;
	/* Named processes get their tables before the first sample, not after it. */
	for (size_t i = 0; c->unwinder && i < c->opts.n_pids; i++)
		unwinder__add_pid(c->unwinder, c->pids[i]);
	err = attach_all(c);
	if (err)
		goto fail;
	return c;
fail:
	cpu_collector__free(c);
	errno = -err;
	return NULL;
}

void cpu_collector__free(struct cpu_collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	for (int i = 0; c->links && i < c->n_cpus; i++)
		bpf_link__destroy(c->links[i]);
	for (int i = 0; c->pfds && i < c->n_cpus; i++)
		if (c->pfds[i] >= 0)
			close(c->pfds[i]);
	bpf_link__destroy(c->fork_link);
	bpf_link__destroy(c->exec_link);
	unwinder__free(c->unwinder);
	cpu_bpf__destroy(c->skel);
	free(c->ustack_buf);
	free(c->links);
	free(c->pfds);
	free(c->pids);
	free(c->keys);
	free(c->vals);
	free(c->ustack);
	free(c->kstack);
	free(c);
}

int cpu_collector__poll(struct cpu_collector *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	unwinder__flush(c->unwinder);
	return n == -EINTR ? 0 : n;
}

/* Pulls and deletes every entry of a counts map; returns how many. */
static int take_counts(struct cpu_collector *c, int fd)
{
	return bpfmap__take_all(fd, c->keys, c->vals, sizeof(*c->keys), sizeof(*c->vals),
				c->count_entries);
}

static int drain_set(struct cpu_collector *c, int counts_fd, int stacks_fd, int ustacks_fd,
		     raw_sample_fn fn, void *ctx)
{
	struct raw_sample s;
	int n = take_counts(c, counts_fd), err = 0;

	for (int i = 0; i < n && !err; i++) {
		const struct cpu_key *k = &c->keys[i];

		memset(&s, 0, sizeof(s));
		s.pid = k->tgid;
		s.tid = k->tid;
		memcpy(s.comm, k->comm, sizeof(s.comm));
		s.comm[sizeof(s.comm) - 1] = 0;
		s.ustack = c->ustack;
		if (k->user_stack_hash)
			s.n_ustack = bpfmap__depth(unwind_stack__read(ustacks_fd, k->user_stack_hash,
								      c->ustack_buf, c->ustack,
								      &s.unwind_reason),
						   &c->stack_missing);
		else
			s.n_ustack = bpfmap__depth(
			    bpfmap__read_stackid(stacks_fd, k->user_stack_id, c->ustack),
			    &c->stack_missing);
		s.kstack = c->kstack;
		s.n_kstack = bpfmap__depth(bpfmap__read_stackid(stacks_fd, k->kern_stack_id, c->kstack),
					   &c->stack_missing);
		s.count = c->vals[i];
		err = fn(&s, ctx);
	}
	bpfmap__clear(stacks_fd, sizeof(uint32_t), c->stack_entries);
	bpfmap__clear(ustacks_fd, sizeof(uint64_t), c->stack_entries);
	if (c->unwinder)
		unwinder__sweep(c->unwinder);
	return err ? err : n;
}

int cpu_collector__drain(struct cpu_collector *c, raw_sample_fn fn, void *ctx)
{
	struct cpu_bpf *s = c->skel;
	uint32_t old = __atomic_load_n(&s->bss->active, __ATOMIC_RELAXED) & 1;

	__atomic_store_n(&s->bss->active, old ^ 1, __ATOMIC_SEQ_CST);
	bpfmap__grace_period();
	if (old)
		return drain_set(c, bpf_map__fd(s->maps.counts_b), bpf_map__fd(s->maps.stacks_b),
				 bpf_map__fd(s->maps.ustacks_b), fn, ctx);
	return drain_set(c, bpf_map__fd(s->maps.counts_a), bpf_map__fd(s->maps.stacks_a),
			 bpf_map__fd(s->maps.ustacks_a), fn, ctx);
}

void cpu_collector__stats(struct cpu_collector *c, struct cpu_stats *out)
{
	uint64_t sums[CPU_STAT_MAX] = {0};
	uint64_t *vals = calloc(c->n_cpus, sizeof(uint64_t));
	int fd = bpf_map__fd(c->skel->maps.stats);

	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; vals && k < CPU_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int cpu = 0; cpu < c->n_cpus; cpu++)
			sums[k] += vals[cpu];
	}
	free(vals);
	out->samples = sums[CPU_STAT_SAMPLES];
	out->drop_counts = sums[CPU_STAT_DROP_COUNTS];
	out->ustack_err = sums[CPU_STAT_USTACK_ERR];
	out->kstack_err = sums[CPU_STAT_KSTACK_ERR];
	out->stack_collide = sums[CPU_STAT_STACK_COLLIDE];
	out->pid_event_drop = sums[CPU_STAT_NEW_PID_DROP];
	out->stack_missing = c->stack_missing;
	out->dwarf = c->unwinder != NULL;
	if (c->unwinder)
		unwinder__stats(c->unwinder, &out->unwind);
}

struct unwinder *cpu_collector__unwinder(struct cpu_collector *c)
{
	return c->unwinder;
}

bool cpu_collector__targets_alive(struct cpu_collector *c)
{
	if (!c->opts.n_pids)
		return true;
	for (size_t i = 0; i < c->opts.n_pids; i++)
		if (proc__alive(c->pids[i]))
			return true;
	return false;
}
