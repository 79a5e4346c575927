// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The collectors as a session sees them, and what a sample is worth:
 *   cpu     samples/count, cpu/nanoseconds (samples x period)
 *   offcpu  contentions/count, delay/nanoseconds, like Go's block profile
 *   mutex   the same, futex waits only
 *   wall    wall/nanoseconds = on-CPU samples x period + every off-CPU period
 *   heap    the tracker's tables, rebuilt into a new profile at each drain,
 *           like Go's heap profile
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offcpu_keys.h"
#include "heap/heap.h"
#include "profile/profile.h"
#include "session/session_int.h"

struct session_col {
	struct session *s;
	void *col; /* struct cpu_collector, offcpu_collector or heap_tracker */
};

static void *col_open(struct session *s)
{
	struct session_col *c = calloc(1, sizeof(*c));

	if (c)
		c->s = s;
	return c;
}

/* Every attach says on stderr what could not start: a per-PID failure needs its own words. */
static int attach_failed(const char *what, int err)
{
	fprintf(stderr, "bpfprof: cannot start %s: %s\n", what, strerror(-err));
	return err;
}

static void on_pid(uint32_t pid, uint32_t kind, void *ctx)
{
	struct session *s = ctx;

	pipeline__on_pid(s->pl, pid, kind);
	if (s->o.hooks.on_pid)
		s->o.hooks.on_pid(s, pid, kind, s->o.hooks.ctx);
}

/* --- cpu --- */

static int on_cpu_sample(const struct raw_sample *rs, void *ctx)
{
	struct session *s = ctx;
	int64_t ns = (int64_t)rs->count * s->period_ns;
	int64_t values[2] = {(int64_t)rs->count, ns};

	s->counts.samples += rs->count;
	s->counts.stacks++;
	if (s->o.type == SESSION_WALL) {
		s->counts.cpu_samples += rs->count;
		return pipeline__add(s->pl, s->prof, rs, &ns);
	}
	return pipeline__add(s->pl, s->prof, rs, values);
}

static int cpu_attach(struct session *s, void *p)
{
	struct session_col *c = p;
	struct cpu_collector_opts co = {
	    .freq_hz = s->o.freq_hz,
	    .no_kernel = s->o.no_kernel,
	    .pids = s->o.pids,
	    .n_pids = s->o.n_pids,
	    .follow_forks = s->o.follow_forks,
	    .fp_unwind = s->o.fp_unwind,
	    .unwind_table_mb = s->o.unwind_table_mb,
	    .on_pid = on_pid,
	    .ctx = s,
	};

	c->col = cpu_collector__start(&co);
	return c->col ? 0 : attach_failed("CPU sampling", errno ? -errno : -EIO);
}

static int cpu_poll(void *p, int timeout_ms)
{
	return cpu_collector__poll(((struct session_col *)p)->col, timeout_ms);
}

static int cpu_drain(struct session *s, void *p)
{
	return cpu_collector__drain(((struct session_col *)p)->col, on_cpu_sample, s);
}

static void cpu_stats(void *p, struct session_stats *out)
{
	out->has_cpu = true;
	cpu_collector__stats(((struct session_col *)p)->col, &out->cpu);
}

static bool cpu_alive(void *p)
{
	return cpu_collector__targets_alive(((struct session_col *)p)->col);
}

static void cpu_close(void *p)
{
	struct session_col *c = p;

	if (c)
		cpu_collector__free(c->col);
	free(c);
}

struct unwinder *session_cpu__unwinder(void *p)
{
	struct session_col *c = p;

	return c && c->col ? cpu_collector__unwinder(c->col) : NULL;
}

const struct session_collector_ops session_cpu_ops = {
    .name = "CPU sampling",
    .open = col_open,
    .attach = cpu_attach,
    .poll = cpu_poll,
    .drain = cpu_drain,
    .stats = cpu_stats,
    .alive = cpu_alive,
    .close = cpu_close,
};

/* --- offcpu, wall, mutex --- */

/* Recovered return addresses are kept only inside executable mappings. */
static bool is_code(uint32_t pid, uint64_t addr, void *ctx)
{
	struct session *s = ctx;
	struct sym_result res = {0};

	symbolizer__add_pid(s->sym, pid);
	return !symbolizer__user(s->sym, pid, addr, &res) && res.map_path;
}

static int on_offcpu_sample(const struct raw_sample *rs, uint64_t total_ns, void *ctx)
{
	struct session *s = ctx;
	int64_t values[2] = {(int64_t)rs->count, (int64_t)total_ns};

	s->counts.samples += rs->count;
	s->counts.stacks++;
	s->counts.offcpu_ns += total_ns;
	if (s->o.type == SESSION_WALL)
		return pipeline__add(s->pl, s->prof, rs, &values[1]);
	return pipeline__add(s->pl, s->prof, rs, values);
}

static uint32_t offcpu_mode(const struct session *s)
{
	if (s->o.type == SESSION_WALL)
		return OFFCPU_MODE_WALL;
	return s->o.type == SESSION_MUTEX ? OFFCPU_MODE_FUTEX : OFFCPU_MODE_BLOCK;
}

/* wall: one set of tables for both collectors (NULL with --unwind fp). */
static struct unwinder *shared_unwinder(const struct session *s)
{
	for (size_t i = 0; i < s->n_col; i++)
		if (s->col[i].ops == &session_cpu_ops)
			return session_cpu__unwinder(s->col[i].c);
	return NULL;
}

static int offcpu_attach(struct session *s, void *p)
{
	struct session_col *c = p;
	struct offcpu_collector_opts oo = {
	    .mode = offcpu_mode(s),
	    .pids = s->o.pids,
	    .n_pids = s->o.n_pids,
	    .follow_forks = s->o.follow_forks,
	    /* A futex wait's kernel stack is always the same: mutex profiles are user stacks. */
	    .no_kernel = s->o.no_kernel || s->o.type == SESSION_MUTEX,
	    .min_block_ns = s->o.min_block_ns,
	    .fp_unwind = s->o.fp_unwind,
	    .unwind_table_mb = s->o.unwind_table_mb,
	    .unwinder = shared_unwinder(s),
	    .on_pid = on_pid,
	    .is_code = is_code,
	    .ctx = s,
	};

	c->col = offcpu_collector__start(&oo);
	return c->col ? 0 : attach_failed("off-CPU tracing", errno ? -errno : -EIO);
}

static int offcpu_poll(void *p, int timeout_ms)
{
	return offcpu_collector__poll(((struct session_col *)p)->col, timeout_ms);
}

static int offcpu_drain(struct session *s, void *p)
{
	return offcpu_collector__drain(((struct session_col *)p)->col, on_offcpu_sample, s);
}

static void offcpu_stats(void *p, struct session_stats *out)
{
	out->has_offcpu = true;
	offcpu_collector__stats(((struct session_col *)p)->col, &out->offcpu);
}

static bool offcpu_alive(void *p)
{
	return offcpu_collector__targets_alive(((struct session_col *)p)->col);
}

static void offcpu_close(void *p)
{
	struct session_col *c = p;

	if (c)
		offcpu_collector__free(c->col);
	free(c);
}

const struct session_collector_ops session_offcpu_ops = {
    .name = "off-CPU tracing",
    .open = col_open,
    .attach = offcpu_attach,
    .poll = offcpu_poll,
    .drain = offcpu_drain,
    .stats = offcpu_stats,
    .alive = offcpu_alive,
    .close = offcpu_close,
};

/* --- heap --- */

static const char *heap_add_error(int err)
{
	return err == -ENOENT ? "no known allocator (malloc) found in its mappings"
			      : strerror(-err);
}

static int heap_attach(struct session *s, void *p)
{
	struct session_col *c = p;
	struct heap_opts ho = {
	    .sample_bytes = s->o.heap_rate,
	    .mode = s->o.heap_mode,
	    .fp_unwind = s->o.fp_unwind,
	    .unwind_table_mb = s->o.unwind_table_mb,
	    .sym = s->sym,
	    .pl = s->pl,
	};
	int err = 0;

	c->col = heap_tracker__new(&ho);
	if (!c->col)
		return attach_failed("heap profiling", errno ? -errno : -EIO);
	for (size_t i = 0; i < s->o.n_pids && !err; i++) {
		err = heap_tracker__add_pid(c->col, s->o.pids[i]);
		if (err)
			fprintf(stderr, "bpfprof: cannot profile the heap of PID %" PRIu32 ": %s\n",
				s->o.pids[i], heap_add_error(err));
	}
	return err;
}

/* The tracker's own thread reads the kernel; this is only the loop's pace. */
static int heap_poll(void *p, int timeout_ms)
{
	(void)p;
	if (timeout_ms > 0)
		usleep(timeout_ms * 1000);
	return 0;
}

/* The heap profile is the tracker's state: rebuilt, not accumulated. */
static int heap_drain(struct session *s, void *p)
{
	struct heap_tracker *t = ((struct session_col *)p)->col;
	uint32_t pids[MAX_FILTER_PIDS];
	struct profile *prof;
	size_t n;
	int err = 0;

	heap_tracker__poll(t);
	prof = heap_profile__new(HEAP_INUSE_SPACE, heap_tracker__rate(t));
	if (!prof)
		return -ENOMEM;
	n = heap_tracker__pids(t, pids, MAX_FILTER_PIDS);
	for (size_t i = 0; i < n && i < MAX_FILTER_PIDS && !err; i++)
		err = heap_tracker__add_to_profile(t, pids[i], prof);
	if (err) {
		profile__free(prof);
		return err;
	}
	session__replace_profile(s, prof);
	return 0;
}

static void heap_stats(void *p, struct session_stats *out)
{
	out->has_heap = true;
	out->heap_pids = heap_tracker__pids(((struct session_col *)p)->col, NULL, 0);
}

static bool heap_alive(void *p)
{
	struct heap_tracker *t = ((struct session_col *)p)->col;
	uint32_t pids[MAX_FILTER_PIDS];
	struct heap_pid_stats st;
	size_t n = heap_tracker__pids(t, pids, MAX_FILTER_PIDS);

	for (size_t i = 0; i < n && i < MAX_FILTER_PIDS; i++)
		if (!heap_tracker__pid_stats(t, pids[i], &st) && st.attached)
			return true;
	return false;
}

static int heap_add_pid(void *p, uint32_t pid)
{
	return heap_tracker__add_pid(((struct session_col *)p)->col, pid);
}

static void heap_close(void *p)
{
	struct session_col *c = p;

	if (c)
		heap_tracker__free(c->col);
	free(c);
}

void session__print_heap_summary(struct session *s, FILE *f)
{
	for (size_t i = 0; i < s->n_col; i++)
		if (s->col[i].ops == &session_heap_ops)
			heap_tracker__print_summary(((struct session_col *)s->col[i].c)->col, f);
}

const struct session_collector_ops session_heap_ops = {
    .name = "heap profiling",
    .open = col_open,
    .attach = heap_attach,
    .poll = heap_poll,
    .drain = heap_drain,
    .stats = heap_stats,
    .alive = heap_alive,
    .add_pid = heap_add_pid,
    .close = heap_close,
};
