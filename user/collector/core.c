// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The plumbing shared by the CPU and off-CPU collectors (see core.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cpu_keys.h"
#include "prof_limits.h"
#include "collector/bpfmap.h"
#include "collector/core.h"
#include "unwind/unwind.h"
#include "util/proc.h"

int collector_core__init(struct collector_core *k, const struct collector_core_opts *o)
{
	k->n_cpus = libbpf_num_possible_cpus();
	if (k->n_cpus <= 0)
		return k->n_cpus ?: -EINVAL;
	k->n_pids = o->n_pids;
	k->on_pid = o->on_pid;
	k->ctx = o->ctx;
	k->count_entries = o->count_entries ?: DEFAULT_COUNT_ENTRIES;
	k->stack_entries = o->stack_entries ?: DEFAULT_STACK_ENTRIES;
	k->key_size = o->key_size;
	k->val_size = o->val_size;
	k->pids = calloc(o->n_pids ?: 1, sizeof(*k->pids));
	k->ustack = calloc(MAX_STACK_DEPTH, sizeof(uint64_t));
	k->kstack = calloc(MAX_STACK_DEPTH, sizeof(uint64_t));
	k->ustack_buf = calloc(1, sizeof(*k->ustack_buf));
	k->keys = calloc(k->count_entries, k->key_size);
	k->vals = calloc(k->count_entries, k->val_size);
	if (!k->pids || !k->ustack || !k->kstack || !k->ustack_buf || !k->keys || !k->vals)
		return -ENOMEM;
	if (o->n_pids)
		memcpy(k->pids, o->pids, o->n_pids * sizeof(*k->pids));
	return 0;
}

void collector_core__fini(struct collector_core *k)
{
	ring_buffer__free(k->rb);
	k->rb = NULL;
	free(k->pids);
	free(k->ustack);
	free(k->kstack);
	free(k->ustack_buf);
	free(k->keys);
	free(k->vals);
}

int collector_core__fill_filter(struct collector_core *k, struct bpf_map *pids)
{
	uint8_t one = 1;
	int err;

	for (size_t i = 0; i < k->n_pids; i++) {
		err = bpf_map__update_elem(pids, &k->pids[i], sizeof(uint32_t), &one, sizeof(one),
					   BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

/*
 * A failure is not fatal: that process's stacks are walked by frame pointer
 * and labelled table_not_loaded (the unwinder counts it).
 */
void collector_core__table_targets(struct collector_core *k)
{
	for (size_t i = 0; k->unwinder && i < k->n_pids; i++)
		unwinder__add_pid(k->unwinder, k->pids[i]);
}

/* A sleeping thread is unwound at its switch-out: its process needs tables by then. */
static int on_pid_event(void *ctx, void *data, size_t size)
{
	struct collector_core *k = ctx;
	const struct new_pid_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (k->on_pid)
		k->on_pid(e->tgid, e->kind, k->ctx);
	unwinder__defer_pid(k->unwinder, e->tgid);
	return 0;
}

/* New code mapped (dlopen): the unwinder and the symbolizer both re-read the maps. */
static int on_unwind_event(void *ctx, void *data, size_t size)
{
	struct collector_core *k = ctx;
	const struct unwind_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (k->on_pid)
		k->on_pid(e->tgid, PID_EVENT_MMAP, k->ctx);
	unwinder__defer_pid(k->unwinder, e->tgid);
	return 0;
}

int collector_core__open_events(struct collector_core *k, struct bpf_map *events,
				bool serve_unwinder)
{
	k->rb = ring_buffer__new(bpf_map__fd(events), on_pid_event, k, NULL);
	if (!k->rb)
		return -errno;
	if (!serve_unwinder || !k->unwinder)
		return 0;
	return ring_buffer__add(k->rb, unwinder__events_fd(k->unwinder), on_unwind_event, k);
}

int collector_core__poll(struct collector_core *k, int timeout_ms)
{
	/* Queued tabling work goes on at once: only an idle poll sleeps. */
	int n = ring_buffer__poll(k->rb, unwinder__pending(k->unwinder) ? 0 : timeout_ms);

	unwinder__flush(k->unwinder);
	return n == -EINTR ? 0 : n;
}

uint32_t collector_core__flip(uint32_t *active)
{
	uint32_t old = __atomic_load_n(active, __ATOMIC_RELAXED) & 1;

	__atomic_store_n(active, old ^ 1, __ATOMIC_SEQ_CST);
	bpfmap__grace_period();
	return old;
}

int collector_core__take_counts(struct collector_core *k, int counts_fd)
{
	return bpfmap__take_all(counts_fd, k->keys, k->vals, k->key_size, k->val_size,
				k->count_entries);
}

void collector_core__sample(struct collector_core *k, struct raw_sample *s, uint32_t tgid,
			    uint32_t tid, const char *comm)
{
	memset(s, 0, sizeof(*s));
	s->pid = tgid;
	s->tid = tid;
	memcpy(s->comm, comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	s->ustack = k->ustack;
}

size_t collector_core__read_ustack(struct collector_core *k, int ustacks_fd, uint64_t hash,
				   uint32_t *reason)
{
	return bpfmap__depth(unwind_stack__read(ustacks_fd, hash, k->ustack_buf, k->ustack, reason),
			     &k->stack_missing);
}

/*
 * No count still names a drained set's user stacks, and nothing writes to
 * the set until the next flip, so one walk of the keys sees them all. A
 * stack left behind by a failed delete is harmless: a later count with its
 * hash names the same frames.
 */
void collector_core__end_drain(struct collector_core *k, int ustacks_fd)
{
	bpfmap__clear(ustacks_fd, sizeof(uint64_t), k->stack_entries);
	if (k->unwinder)
		unwinder__sweep(k->unwinder);
}

void collector_core__sum_stats(const struct collector_core *k, struct bpf_map *stats,
			       uint64_t *sums, uint32_t n)
{
	uint64_t *vals = calloc(k->n_cpus, sizeof(uint64_t));
	int fd = bpf_map__fd(stats);

	for (uint32_t key = 0; vals && key < n; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (int cpu = 0; cpu < k->n_cpus; cpu++)
			sums[key] += vals[cpu];
	}
	free(vals);
}

bool collector_core__targets_alive(const struct collector_core *k)
{
	if (!k->n_pids)
		return true;
	for (size_t i = 0; i < k->n_pids; i++)
		if (proc__alive(k->pids[i]))
			return true;
	return false;
}
