// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Allocation stacks of the heap tracker. With .eh_frame unwinding (the
 * default) BPF walks each sampled allocation's stack with the tables of
 * user/unwind/ and stores it in the ustacks map by hash; the ALLOC record
 * carries the hash. The hash is of the frames, so the copy read here never
 * goes stale: each kernel entry is read once, cached by hash and deleted at
 * the next sweep, and the map only holds stacks in flight. With --unwind fp
 * the frames come in the record. Every function runs under the tracker's
 * mutex: the unwinder is not thread-safe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heap.skel.h"
#include "heap/heap_tracker.h"
#include "unwind/unwind.h"

/* Records are consumed within RB_POLL_MS: a key unread for this long lost its record. */
#define SWEEP_NS GOV_PERIOD_NS

int heap_stacks__prepare(struct heap_tracker *t, struct heap_bpf *s)
{
	struct unwinder_opts uo = {.table_mb = t->opts.unwind_table_mb};

	s->rodata->dwarf_unwind = !t->opts.fp_unwind;
	if (t->opts.fp_unwind)
		return 0;
	return unwinder__prepare(s->obj, &uo);
}

/* Code mapped after the tables were built (dlopen): rebuild that process's table. */
static int on_unwind_event(void *ctx, void *data, size_t size)
{
	struct heap_tracker *t = ctx;

	pthread_mutex_lock(&t->mu);
	unwinder__handle_event(t->unwinder, data, size);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

int heap_stacks__start(struct heap_tracker *t)
{
	struct unwinder_opts uo = {.table_mb = t->opts.unwind_table_mb};

	if (t->opts.fp_unwind)
		return 0;
	t->khash.max = MAX_STACKS; /* one hash per interned stack */
	t->ustack_buf = calloc(1, sizeof(*t->ustack_buf));
	t->sweep_keys = calloc(HEAP_STACK_ENTRIES, sizeof(*t->sweep_keys));
	t->unread = calloc(HEAP_STACK_ENTRIES, sizeof(*t->unread));
	if (!t->ustack_buf || !t->sweep_keys || !t->unread)
		return -ENOMEM;
	t->unwinder = unwinder__new(t->skel->obj, &uo);
	if (!t->unwinder)
		return -errno;
	return ring_buffer__add(t->rb, unwinder__events_fd(t->unwinder), on_unwind_event, t);
}

void heap_stacks__free(struct heap_tracker *t)
{
	unwinder__free(t->unwinder);
	t->unwinder = NULL;
	khash_tab__free(&t->khash);
	free(t->ustack_buf);
	free(t->sweep_keys);
	free(t->unread);
}

void heap_stacks__add_pid(struct heap_tracker *t, uint32_t pid)
{
	/*
	 * Before the probes, so the first samples unwind. On failure (no room,
	 * process gone) the walk falls back to frame pointers and labels the
	 * stacks table_not_loaded: no reason to refuse the target.
	 */
	if (t->unwinder)
		unwinder__add_pid(t->unwinder, pid);
}

/* The id of a stack unwound in BPF: from the cache, or read from ustacks once. */
static uint32_t hashed_stack(struct heap_tracker *t, uint64_t hash)
{
	struct unwind_stack *st = t->ustack_buf;
	uint32_t id = khash_tab__get(&t->khash, hash), n;

	if (id || !st)
		return id;
	if (bpf_map__lookup_elem(t->skel->maps.ustacks, &hash, sizeof(hash), st, sizeof(*st), 0))
		return 0;
	n = st->len < MAX_STACK_DEPTH ? st->len : MAX_STACK_DEPTH;
	id = stack_tab__intern(&t->stacks, (const uint64_t *)st->frames, n, st->reason);
	/* Uncached, the kernel copy is swept as unread and later records lose the stack. */
	if (id && khash_tab__put(&t->khash, hash, id))
		t->khash_full++;
	return id;
}

uint32_t heap_stacks__of_event(struct heap_tracker *t, const struct heap_event *e, size_t size)
{
	static const uint64_t none[1];
	uint32_t n;

	if (e->stack_hash)
		return hashed_stack(t, e->stack_hash);
	/* No stack (the walk failed): counted under an empty one, as before. */
	if (size < sizeof(*e))
		return stack_tab__intern(&t->stacks, none, 0, 0);
	n = e->n_frames < MAX_STACK_DEPTH ? e->n_frames : MAX_STACK_DEPTH;
	return stack_tab__intern(&t->stacks, (const uint64_t *)e->frames, n, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t read_keys(int fd, uint64_t *keys, size_t max)
{
	uint64_t *prev = NULL;
	size_t n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, &keys[n])) {
		prev = &keys[n];
		n++;
	}
	return n;
}

/*
 * Deletes the ustacks entries already read, and those unread since the last
 * sweep (their record was dropped or belonged to a stopped target); the
 * rest are remembered as unread. Deleting a read entry is safe: a record
 * still in flight with its hash finds the cached copy.
 */
void heap_stacks__sweep(struct heap_tracker *t, int64_t now)
{
	int fd;
	size_t n, kept = 0;

	if (!t->unwinder || now - t->last_sweep < SWEEP_NS)
		return;
	t->last_sweep = now;
	unwinder__sweep(t->unwinder);
	fd = bpf_map__fd(t->skel->maps.ustacks);
	n = read_keys(fd, t->sweep_keys, HEAP_STACK_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = t->sweep_keys[i];

		if (khash_tab__get(&t->khash, k) ||
		    bsearch(&k, t->unread, t->n_unread, sizeof(k), cmp_u64))
			bpf_map_delete_elem(fd, &k); /* ENOENT: gone already, as wanted */
		else
			t->sweep_keys[kept++] = k;
	}
	memcpy(t->unread, t->sweep_keys, kept * sizeof(*t->unread));
	qsort(t->unread, kept, sizeof(*t->unread), cmp_u64);
	t->n_unread = kept;
}

void heap_stacks__print_summary(struct heap_tracker *t, FILE *f)
{
	struct unwinder_stats u;

	if (!t->unwinder) {
		fprintf(f, "bpfprof: heap: allocation stacks walked by frame pointer\n");
		return;
	}
	unwinder__stats(t->unwinder, &u);
	fprintf(f,
		"bpfprof: heap: unwind: %" PRIu64 " stacks complete, truncated: %" PRIu64
		" no_table, %" PRIu64 " table_not_loaded, %" PRIu64 " bad_read, %" PRIu64
		" depth_limit; %" PRIu64 " frames (%" PRIu64 " by frame pointer); %" PRIu64
		" binaries tabled (%" PRIu64 " KiB), %" PRIu64 " stack cache full\n",
		u.reasons[UNWIND_REASON_NONE], u.reasons[UNWIND_REASON_NO_TABLE],
		u.reasons[UNWIND_REASON_TABLE_NOT_LOADED], u.reasons[UNWIND_REASON_BAD_READ],
		u.reasons[UNWIND_REASON_DEPTH_LIMIT], u.frames, u.fp_frames, u.tables_loaded,
		u.table_bytes / 1024, t->khash_full);
}
