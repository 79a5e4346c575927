// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_keys.h"
#include "pipeline/pipeline.h"
#include "profile/profile.h"
#include "symbolizer/symbolizer.h"
#include "unwind/unwind.h"
#include "util/proc.h"

/* Above every user address, even with 5-level page tables. */
#define USER_ADDR_LIMIT (1ULL << 56)

struct proc_slot {
	uint32_t pid; /* 0: empty */
	bool has_samples;
	char exe[48];
};

struct pipeline {
	struct symbolizer *sym;
	struct proc_slot *procs; /* open addressing, never deleted: bounded by size */
	size_t n_procs;
	struct pipeline_stats stats;
	uint32_t locs[2 * MAX_STACK_DEPTH];
};

struct pipeline *pipeline__new(struct symbolizer *sym)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->sym = sym;
	pl->procs = calloc(PIPELINE_MAX_PROCS, sizeof(*pl->procs));
	if (!pl->procs) {
		free(pl);
		errno = ENOMEM;
		return NULL;
	}
	return pl;
}

void pipeline__free(struct pipeline *pl)
{
	if (!pl)
		return;
	free(pl->procs);
	free(pl);
}

/* Finds pid's slot, inserting it if absent; NULL when the table is full. */
static struct proc_slot *proc_slot(struct pipeline *pl, uint32_t pid, bool insert)
{
	size_t i = (pid * 2654435761u) % PIPELINE_MAX_PROCS;

	for (size_t probes = 0; probes < PIPELINE_MAX_PROCS; probes++) {
		struct proc_slot *s = &pl->procs[i];

		if (s->pid == pid)
			return s;
		if (!s->pid) {
			if (!insert || pl->n_procs >= PIPELINE_MAX_PROCS * 3 / 4)
				return NULL;
			s->pid = pid;
			pl->n_procs++;
			return s;
		}
		i = (i + 1) % PIPELINE_MAX_PROCS;
	}
	return NULL;
}

void pipeline__on_pid(struct pipeline *pl, uint32_t pid, uint32_t kind)
{
	struct proc_slot *slot = proc_slot(pl, pid, true);

	if (kind == PID_EVENT_EXEC || kind == PID_EVENT_MMAP)
		symbolizer__refresh_pid(pl->sym, pid);
	else
		symbolizer__add_pid(pl->sym, pid);
	if (slot && (!slot->exe[0] || kind == PID_EVENT_EXEC))
		proc__exe_name(pid, slot->exe, sizeof(slot->exe));
}

static uint32_t unsymbolized(struct profile *p, uint64_t addr)
{
	return profile__location(p, 0, addr, 0, 0);
}

static uint32_t location_of(struct pipeline *pl, struct profile *p, const struct sym_result *r,
			    uint64_t addr)
{
	uint32_t mid, fid = 0;

	mid = profile__mapping(p, r->map_start, r->map_limit, r->map_offset, r->map_path,
			       r->build_id ? r->build_id : "");
	if (!mid)
		return 0;
	if (r->func) {
		fid = profile__function(p, r->func, r->mangled ? r->mangled : r->func,
					r->src_file ? r->src_file : r->map_path);
		if (!fid)
			return 0;
	} else {
		pl->stats.frames_unsymbolized++;
	}
	return profile__location(p, mid, addr, fid, r->line);
}

/*
 * Every frame but the leaf is a return address, which points after the
 * call; one byte back lands inside the call instruction, on the right line.
 */
static uint64_t call_site(uint64_t addr, size_t depth)
{
	return depth && addr ? addr - 1 : addr;
}

/*
 * A frame-pointer walk through code without frame pointers reads garbage;
 * an address outside user space (or in the first page) ends the stack.
 */
static size_t user_depth(const uint64_t *stack, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (stack[i] < 4096 || stack[i] >= USER_ADDR_LIMIT)
			return i;
	return n;
}

static size_t add_frames(struct pipeline *pl, struct profile *p, uint32_t pid,
			 const uint64_t *stack, size_t n, bool kernel, uint32_t *out)
{
	struct sym_result r;
	size_t got = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		uint64_t addr = call_site(stack[i], i);
		uint32_t id;

		memset(&r, 0, sizeof(r));
		err = kernel ? symbolizer__kernel(pl->sym, addr, &r)
			     : symbolizer__user(pl->sym, pid, addr, &r);
		if (err || !r.map_path) {
			pl->stats.frames_unsymbolized++;
			id = unsymbolized(p, addr);
		} else {
			id = location_of(pl, p, &r, addr);
		}
		if (!id)
			return SIZE_MAX;
		out[got++] = id;
	}
	pl->stats.frames += n;
	return got;
}

int pipeline__add(struct pipeline *pl, struct profile *p, const struct raw_sample *s,
		  const int64_t *values)
{
	struct proc_slot *slot = proc_slot(pl, s->pid, true);
	char pid[16], tid[16];
	struct profile_label labels[5] = {
	    {.key = "pid", .str = pid},
	    {.key = "tid", .str = tid},
	    {.key = "comm", .str = s->comm},
	    {.key = "exe", .str = s->comm},
	    /* Only on truncated user stacks: why the unwinder stopped early. */
	    {.key = "unwind", .str = unwind_reason__name(s->unwind_reason)},
	};
	size_t nk, nu;

	/* The notice may have been lost (ring full): catch up while it may still live. */
	if (s->n_ustack && !symbolizer__has_pid(pl->sym, s->pid))
		pipeline__on_pid(pl, s->pid, PID_EVENT_NEW);
	if (!slot)
		pl->stats.procs_dropped++;
	else if (!slot->has_samples) {
		slot->has_samples = true;
		pl->stats.processes++;
	}
	if (slot && slot->exe[0])
		labels[3].str = slot->exe;
	snprintf(pid, sizeof(pid), "%" PRIu32, s->pid);
	snprintf(tid, sizeof(tid), "%" PRIu32, s->tid);

	nk = add_frames(pl, p, s->pid, s->kstack, s->n_kstack, true, pl->locs);
	if (nk == SIZE_MAX)
		return -ENOMEM;
	nu = add_frames(pl, p, s->pid, s->ustack, user_depth(s->ustack, s->n_ustack), false,
			pl->locs + nk);
	if (nu == SIZE_MAX)
		return -ENOMEM;
	return profile__add_sample(p, pl->locs, nk + nu, values, labels, s->unwind_reason ? 5 : 4);
}

void pipeline__stats(const struct pipeline *pl, struct pipeline_stats *out)
{
	*out = pl->stats;
}
