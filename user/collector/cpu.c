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
#include "collector/core.h"
#include "collector/cpu.h"
#include "unwind/unwind.h"

struct cpu_collector {
	struct collector_core k; /* filter, notices, stack buffers, unwinder */
	struct cpu_bpf *skel;
	struct bpf_link **links; /* perf event links, one per online CPU */
	int *pfds;
	struct bpf_link *fork_link, *exec_link;
	struct cpu_collector_opts opts;
};

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
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

	for (int cpu = 0; cpu < c->k.n_cpus; cpu++) {
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
	const struct cpu_collector_opts *o = &c->opts;
	struct collector_core_opts ko = {
	    .pids = o->pids,
	    .n_pids = o->n_pids,
	    .count_entries = o->count_entries,
	    .stack_entries = o->stack_entries,
	    .key_size = sizeof(struct cpu_key),
	    .val_size = sizeof(uint64_t), /* samples */
	    .on_pid = o->on_pid,
	    .ctx = o->ctx,
	};
	int err = collector_core__init(&c->k, &ko);

	if (err)
		return err;
	c->opts.pids = c->k.pids;
	c->links = calloc(c->k.n_cpus, sizeof(*c->links));
	c->pfds = malloc(c->k.n_cpus * sizeof(*c->pfds));
	if (!c->links || !c->pfds)
		return -ENOMEM;
	for (int i = 0; i < c->k.n_cpus; i++)
		c->pfds[i] = -1;
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

		c->k.unwinder = unwinder__new(c->skel->obj, &uo);
		if (!c->k.unwinder)
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
	err = collector_core__open_events(&c->k, c->skel->maps.events, true);
	return err ?: attach_perf(c);
}

struct cpu_collector *cpu_collector__start(const struct cpu_collector_opts *opts)
{
	struct cpu_collector *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	if (!c)
		goto fail;
	c->opts = *opts;
	err = alloc_buffers(c);
	err = err ?: open_and_load(c);
	err = err ?: collector_core__fill_filter(&c->k, c->skel->maps.pids);
	if (err)
		goto fail;
	/* Named processes get their tables before the first sample, not after it. */
	collector_core__table_targets(&c->k);
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
	ring_buffer__free(c->k.rb);
	c->k.rb = NULL;
	for (int i = 0; c->links && i < c->k.n_cpus; i++)
		bpf_link__destroy(c->links[i]);
	for (int i = 0; c->pfds && i < c->k.n_cpus; i++)
		if (c->pfds[i] >= 0)
			close(c->pfds[i]);
	bpf_link__destroy(c->fork_link);
	bpf_link__destroy(c->exec_link);
	unwinder__free(c->k.unwinder);
	cpu_bpf__destroy(c->skel);
	collector_core__fini(&c->k);
	free(c->links);
	free(c->pfds);
	free(c);
}

int cpu_collector__poll(struct cpu_collector *c, int timeout_ms)
{
	return collector_core__poll(&c->k, timeout_ms);
}

static int drain_set(struct cpu_collector *c, int counts_fd, int stacks_fd, int ustacks_fd,
		     raw_sample_fn fn, void *ctx)
{
	struct raw_sample s;
	const struct cpu_key *keys = c->k.keys;
	const uint64_t *vals = c->k.vals;
	int n = collector_core__take_counts(&c->k, counts_fd), err = 0;

	for (int i = 0; i < n && !err; i++) {
		const struct cpu_key *k = &keys[i];

		collector_core__sample(&c->k, &s, k->tgid, k->tid, k->comm);
		if (k->user_stack_hash)
			s.n_ustack = collector_core__read_ustack(&c->k, ustacks_fd,
								 k->user_stack_hash,
								 &s.unwind_reason);
		else
			s.n_ustack = bpfmap__depth(
			    bpfmap__read_stackid(stacks_fd, k->user_stack_id, c->k.ustack),
			    &c->k.stack_missing);
		s.kstack = c->k.kstack;
		s.n_kstack = bpfmap__depth(
		    bpfmap__read_stackid(stacks_fd, k->kern_stack_id, c->k.kstack),
		    &c->k.stack_missing);
		s.count = vals[i];
		err = fn(&s, ctx);
	}
	bpfmap__clear(stacks_fd, sizeof(uint32_t), c->k.stack_entries);
	collector_core__end_drain(&c->k, ustacks_fd);
	return err ? err : n;
}

int cpu_collector__drain(struct cpu_collector *c, raw_sample_fn fn, void *ctx)
{
	struct cpu_bpf *s = c->skel;

	if (collector_core__flip(&s->bss->active))
		return drain_set(c, bpf_map__fd(s->maps.counts_b), bpf_map__fd(s->maps.stacks_b),
				 bpf_map__fd(s->maps.ustacks_b), fn, ctx);
	return drain_set(c, bpf_map__fd(s->maps.counts_a), bpf_map__fd(s->maps.stacks_a),
			 bpf_map__fd(s->maps.ustacks_a), fn, ctx);
}

void cpu_collector__stats(struct cpu_collector *c, struct cpu_stats *out)
{
	uint64_t sums[CPU_STAT_MAX] = {0};

	collector_core__sum_stats(&c->k, c->skel->maps.stats, sums, CPU_STAT_MAX);
	memset(out, 0, sizeof(*out));
	out->samples = sums[CPU_STAT_SAMPLES];
	out->drop_counts = sums[CPU_STAT_DROP_COUNTS];
	out->ustack_err = sums[CPU_STAT_USTACK_ERR];
	out->kstack_err = sums[CPU_STAT_KSTACK_ERR];
	out->stack_collide = sums[CPU_STAT_STACK_COLLIDE];
	out->pid_event_drop = sums[CPU_STAT_NEW_PID_DROP];
	out->stack_missing = c->k.stack_missing;
	out->dwarf = c->k.unwinder != NULL;
	if (c->k.unwinder)
		unwinder__stats(c->k.unwinder, &out->unwind);
}

struct unwinder *cpu_collector__unwinder(struct cpu_collector *c)
{
	return c->k.unwinder;
}

bool cpu_collector__targets_alive(struct cpu_collector *c)
{
	return collector_core__targets_alive(&c->k);
}
