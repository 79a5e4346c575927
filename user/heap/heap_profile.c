// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap profiles and live stacks from the tracker's tables. Values are
 * scaled per (stack, size) as Go's scaleHeapSample does: a block of s bytes
 * is sampled with probability 1 - exp(-s/R), so each sample stands for
 * 1/(1 - exp(-s/R)) blocks.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap/heap_int.h"
#include "heap/heap_tab.h"
#include "heap/heap_tracker.h"
#include "pipeline/pipeline.h"
#include "profile/profile.h"
#include "symbolizer/symbolizer.h"

struct profile *heap_profile__new(enum heap_value default_type, uint64_t sample_bytes)
{
	static const struct profile_value_type types[HEAP_N_VALUES] = {
	    [HEAP_ALLOC_OBJECTS] = {"alloc_objects", "count"},
	    [HEAP_ALLOC_SPACE] = {"alloc_space", "bytes"},
	    [HEAP_INUSE_OBJECTS] = {"inuse_objects", "count"},
	    [HEAP_INUSE_SPACE] = {"inuse_space", "bytes"},
	};
	struct profile *p = profile__new(types, HEAP_N_VALUES, default_type);

	/* As Go's heap profile: the period is the sampling rate in bytes. */
	if (p && profile__set_period(p, "space", "bytes", sample_bytes ?: HEAP_DEFAULT_RATE)) {
		profile__free(p);
		return NULL;
	}
	return p;
}

static int add_comments(struct heap_tracker *t, struct heap_proc *p, struct profile *prof)
{
	char c[PATH_MAX + 512];
	int err;

	snprintf(c, sizeof(c),
		 "bpfprof: heap of PID %" PRIu32 " (%s), allocator %s %s, sampling every %" PRIu64
		 " bytes on average, %s",
		 p->pid, p->comm, heap_alloc__name(p->bin.kind), p->bin.path, t->opts.sample_bytes,
		 p->bin.kind == HEAP_ALLOC_SAMPLER ? "probes on its hooks (sampled in-process)"
		 : p->sessions			   ? "uprobe sessions"
						   : "uprobes + uretprobes");
	err = profile__add_comment(prof, c);
	if (!err && p->ever_degraded) {
		snprintf(
		    c, sizeof(c),
		    "bpfprof: governor degraded heap profiling to %.0f%% duty cycle: "
		    "estimates cover attached time only (projected %.1f%% of a CPU, budget %.1f%%)",
		    p->min_duty * 100, p->projected, t->opts.budget_cpu_percent);
		err = profile__add_comment(prof, c);
	}
	if (!err && !p->alive && p->stop_reason) {
		snprintf(c, sizeof(c), "bpfprof: heap tracking of PID %" PRIu32 " stopped: %s",
			 p->pid, p->stop_reason);
		err = profile__add_comment(prof, c);
	}
	return err;
}

/* The stack as the pipeline wants it: every frame a return address, leaf first. */
static void fill_sample(const struct heap_proc *p, const struct stack_ent *s, uint64_t *buf,
			struct raw_sample *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->pid = p->pid;
	rs->tid = p->pid;
	memcpy(rs->comm, p->comm, sizeof(rs->comm));
	memcpy(buf, s->frames, s->n * sizeof(*buf));
	/* Frame 0 is where malloc returns to: one byte back is the call. */
	if (s->n && buf[0])
		buf[0]--;
	rs->ustack = buf;
	rs->n_ustack = s->n;
	rs->unwind_reason = s->reason;
	rs->count = 1;
}

static int add_entries(struct heap_tracker *t, struct heap_proc *p, struct profile *prof)
{
	uint64_t frames[MAX_STACK_DEPTH];
	struct raw_sample rs;
	int err = 0;

	for (size_t i = 0; i < p->agg.cap && !err; i++) {
		const struct agg_ent *a = &p->agg.e[i];
		const struct stack_ent *s = stack_tab__get(&t->stacks, a->stack);
		double sc = heap__scale(a->size, t->opts.sample_bytes);
		int64_t v[HEAP_N_VALUES];

		if (!a->stack || !s || (!a->n_alloc && !a->n_inuse))
			continue;
		v[HEAP_ALLOC_OBJECTS] = llround(a->n_alloc * sc);
		v[HEAP_ALLOC_SPACE] = llround(a->n_alloc * sc * a->size);
		v[HEAP_INUSE_OBJECTS] = llround(a->n_inuse * sc);
		v[HEAP_INUSE_SPACE] = llround(a->n_inuse * sc * a->size);
		fill_sample(p, s, frames, &rs);
		err = pipeline__add(t->pl, prof, &rs, v);
	}
	return err;
}

int heap_tracker__add_to_profile(struct heap_tracker *t, uint32_t pid, struct profile *prof)
{
	struct heap_proc *p;
	int err;

	pthread_mutex_lock(&t->mu);
	p = find_proc(t, pid);
	if (!p) {
		err = -ENOENT;
		goto out;
	}
	/* New code may have been mapped (dlopen) since the maps were read. */
	if (p->alive)
		pipeline__on_pid(t->pl, pid, 3 /* PID_EVENT_MMAP */);
	err = add_comments(t, p, prof) ?: add_entries(t, p, prof);
out:
	pthread_mutex_unlock(&t->mu);
	return err;
}

int heap_tracker__profile(struct heap_tracker *t, uint32_t pid, enum heap_value default_type,
			  struct profile **out)
{
	struct profile *p = heap_profile__new(default_type, t->opts.sample_bytes);
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	profile__set_time(p, clock_ns(CLOCK_REALTIME), 0);
	err = heap_tracker__add_to_profile(t, pid, p);
	if (err) {
		profile__free(p);
		return err;
	}
	*out = p;
	return 0;
}

/* The innermost frame that is not the allocator or operator new. */
static void leaf_name(struct heap_tracker *t, const struct heap_proc *p, const struct stack_ent *s,
		      char *out, size_t len)
{
	struct sym_result r;

	snprintf(out, len, "[unknown]");
	for (uint32_t i = 0; i < s->n; i++) {
		memset(&r, 0, sizeof(r));
		if (symbolizer__user(t->sym, p->pid, s->frames[i] - 1, &r) || !r.map_path)
			continue;
		if (!strcmp(r.map_path, p->bin.path))
			continue;
		if (r.func && !strncmp(r.func, "operator new", 12))
			continue;
		snprintf(out, len, "%s", r.func ? r.func : r.map_path);
		return;
	}
}

static struct heap_live_stack *group_of(struct heap_live_stack *v, size_t n, uint32_t stack)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].stack_key == stack)
			return &v[i];
	return NULL;
}

static int collect_live(struct heap_tracker *t, struct heap_proc *p, int64_t min_age_ns,
			struct heap_live_stack **out, size_t *n)
{
	int64_t boot_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	int64_t now = clock_ns(CLOCK_REALTIME);
	struct heap_live_stack *v = NULL, *g;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0; i < p->live.cap; i++) {
		const struct live_ent *e = &p->live.e[i];
		double sc = heap__scale(e->size, t->opts.sample_bytes);
		int64_t ts = e->ts + boot_to_real;

		if (!e->addr)
			continue;
		g = group_of(v, *n, e->stack);
		if (!g) {
			if (*n == cap) {
				struct heap_live_stack *nv =
				    realloc(v, (cap = cap * 2 + 16) * sizeof(*v));

				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			g = &v[(*n)++];
			memset(g, 0, sizeof(*g));
			g->stack_key = e->stack;
			g->oldest_ns = g->newest_ns = ts;
		}
		g->bytes_est += llround(sc * e->size);
		g->objects_est += llround(sc);
		g->oldest_ns = ts < g->oldest_ns ? ts : g->oldest_ns;
		g->newest_ns = ts > g->newest_ns ? ts : g->newest_ns;
	}
	/* Keep the groups old enough, named. */
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (now - v[i].oldest_ns < min_age_ns)
			continue;
		v[k] = v[i];
		leaf_name(t, p, stack_tab__get(&t->stacks, v[k].stack_key), v[k].leaf_function,
			  sizeof(v[k].leaf_function));
		k++;
	}
	*n = k;
	*out = v;
	return 0;
}

int heap_tracker__live_stacks(struct heap_tracker *t, uint32_t pid, int64_t min_age_ns,
			      struct heap_live_stack **out, size_t *n)
{
	struct heap_proc *p;
	int err;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&t->mu);
	p = find_proc(t, pid);
	err = p ? collect_live(t, p, min_age_ns, out, n) : -ENOENT;
	pthread_mutex_unlock(&t->mu);
	return err;
}
