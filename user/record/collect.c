// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which collectors a record runs and what a sample is worth:
 *   cpu     CPU collector; samples/count, cpu/nanoseconds (samples x period)
 *   offcpu  off-CPU collector, voluntary sleeps; contentions/count,
 *           delay/nanoseconds, like Go's block profile
 *   mutex   off-CPU collector, futex waits only; the same types as offcpu
 *   wall    both, for the chosen threads; wall/nanoseconds = on-CPU
 *           samples x period + every off-CPU period (runqueue waits too)
 *   heap    heap tracker (allocator uprobes of -p or the command); the
 *           profile is rebuilt from the tracker at each drain, like Go's
 *           heap profile: alloc_objects, alloc_space, inuse_objects,
 *           inuse_space (default)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offcpu_keys.h"
#include "collector/cpu.h"
#include "collector/offcpu.h"
#include "heap/heap.h"
#include "pipeline/pipeline.h"
#include "profile/profile.h"
#include "record/record_int.h"
#include "symbolizer/symbolizer.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool uses_cpu(const struct record *r)
{
	return r->o->type == RECORD_CPU || r->o->type == RECORD_WALL;
}

static bool uses_offcpu(const struct record *r)
{
	return r->o->type != RECORD_CPU && r->o->type != RECORD_HEAP;
}

static void on_pid(uint32_t pid, uint32_t kind, void *ctx)
{
	pipeline__on_pid(ctx, pid, kind);
}

/* Recovered return addresses are kept only inside executable mappings. */
static bool is_code(uint32_t pid, uint64_t addr, void *ctx)
{
	struct record *r = ctx;
	struct sym_result res = {0};

	symbolizer__add_pid(r->sym, pid);
	return !symbolizer__user(r->sym, pid, addr, &res) && res.map_path;
}

static void on_offcpu_pid(uint32_t pid, uint32_t kind, void *ctx)
{
	struct record *r = ctx;

	pipeline__on_pid(r->pl, pid, kind);
}

static int on_cpu_sample(const struct raw_sample *s, void *ctx)
{
	struct record *r = ctx;
	int64_t ns = (int64_t)s->count * r->period_ns;
	int64_t values[2] = {(int64_t)s->count, ns};

	r->drained += s->count;
	if (r->o->type == RECORD_WALL) {
		r->cpu_samples += s->count;
		return pipeline__add(r->pl, r->prof, s, &ns);
	}
	return pipeline__add(r->pl, r->prof, s, values);
}

static int on_offcpu_sample(const struct raw_sample *s, uint64_t total_ns, void *ctx)
{
	struct record *r = ctx;
	int64_t values[2] = {(int64_t)s->count, (int64_t)total_ns};

	r->drained += s->count;
	r->offcpu_ns += total_ns;
	if (r->o->type == RECORD_WALL)
		return pipeline__add(r->pl, r->prof, s, &values[1]);
	return pipeline__add(r->pl, r->prof, s, values);
}

static int make_profile(struct record *r)
{
	static const struct profile_value_type cpu[] = {{"samples", "count"},
							{"cpu", "nanoseconds"}};
	static const struct profile_value_type block[] = {{"contentions", "count"},
							  {"delay", "nanoseconds"}};
	static const struct profile_value_type wall[] = {{"wall", "nanoseconds"}};

	r->period_ns = 1000000000LL / r->o->freq_hz;
	switch (r->o->type) {
	case RECORD_HEAP:
		r->value_type = HEAP_INUSE_SPACE;
		r->prof = heap_profile__new(HEAP_INUSE_SPACE, r->o->heap_rate);
		return r->prof ? 0 : -ENOMEM;
	case RECORD_CPU:
		r->prof = profile__new(cpu, 2, 1);
		return r->prof ? profile__set_period(r->prof, "cpu", "nanoseconds", r->period_ns)
			       : -ENOMEM;
	case RECORD_WALL:
		r->prof = profile__new(wall, 1, 0);
		return r->prof ? profile__set_period(r->prof, "wall", "nanoseconds", r->period_ns)
			       : -ENOMEM;
	default:
		/* As Go's block and mutex profiles: period type contentions/count, period 1. */
		r->value_type = 1;
		r->prof = profile__new(block, 2, 1);
		return r->prof ? profile__set_period(r->prof, "contentions", "count", 1) : -ENOMEM;
	}
}

static int start_cpu(struct record *r)
{
	struct cpu_collector_opts co = {
	    .freq_hz = r->o->freq_hz,
	    .no_kernel = r->o->no_kernel,
	    .pids = r->o->pids,
	    .n_pids = r->o->n_pids,
	    .follow_forks = r->o->command != NULL,
	    .fp_unwind = r->o->fp_unwind,
	    .unwind_table_mb = r->o->unwind_table_mb,
	    .on_pid = on_pid,
	    .ctx = r->pl,
	};

	r->col = cpu_collector__start(&co);
	if (!r->col) {
		fprintf(stderr, "bpfprof: cannot start CPU sampling: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static uint32_t offcpu_mode(const struct record *r)
{
	if (r->o->type == RECORD_WALL)
		return OFFCPU_MODE_WALL;
	return r->o->type == RECORD_MUTEX ? OFFCPU_MODE_FUTEX : OFFCPU_MODE_BLOCK;
}

static int start_offcpu(struct record *r)
{
	struct offcpu_collector_opts oo = {
	    .mode = offcpu_mode(r),
	    .pids = r->o->pids,
	    .n_pids = r->o->n_pids,
	    .follow_forks = r->o->command != NULL,
	    /* A futex wait's kernel stack is always the same: mutex profiles are user stacks. */
	    .no_kernel = r->o->no_kernel || r->o->type == RECORD_MUTEX,
	    .min_block_ns = r->o->min_block_us * 1000,
	    .fp_unwind = r->o->fp_unwind,
	    .unwind_table_mb = r->o->unwind_table_mb,
	    /* wall: one set of tables for both collectors (NULL with --unwind fp). */
	    .unwinder = r->col ? cpu_collector__unwinder(r->col) : NULL,
	    .on_pid = on_offcpu_pid,
	    .is_code = is_code,
	    .ctx = r,
	};

	r->off = offcpu_collector__start(&oo);
	if (!r->off) {
		fprintf(stderr, "bpfprof: cannot start off-CPU tracing: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* With a command the child is still a copy of us until it execs: its PID is added later. */
static int start_heap(struct record *r)
{
	struct heap_opts ho = {
	    .sample_bytes = r->o->heap_rate,
	    .mode = (enum heap_mode)r->o->heap_mode,
	    .fp_unwind = r->o->fp_unwind,
	    .unwind_table_mb = r->o->unwind_table_mb,
	};
	int err = 0;

	r->heap = heap_tracker__new(&ho);
	if (!r->heap) {
		fprintf(stderr, "bpfprof: cannot start heap profiling: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < r->o->n_pids && !err && !r->o->command; i++) {
		err = heap_tracker__add_pid(r->heap, r->o->pids[i]);
		if (err)
			fprintf(stderr, "bpfprof: cannot profile the heap of PID %" PRIu32 ": %s\n",
				r->o->pids[i],
				err == -ENOENT ? "no known allocator (malloc) found in its mappings" :
						 strerror(-err));
	}
	return err ? EXIT_RUNTIME : EXIT_OK;
}

/* The command's PID once it runs its own program. */
static void heap_add_command(struct record *r)
{
	char self[64], exe[4096], mine[4096];
	ssize_t n, m;
	int err;

	if (!r->heap || !r->o->command || r->child <= 0 || r->go_fd >= 0 ||
	    heap_tracker__has_pid(r->heap, r->child))
		return;
	snprintf(self, sizeof(self), "/proc/%d/exe", (int)r->child);
	n = readlink(self, exe, sizeof(exe) - 1);
	m = readlink("/proc/self/exe", mine, sizeof(mine) - 1);
	if (n <= 0 || m <= 0 || (n == m && !memcmp(exe, mine, n)))
		return;
	err = heap_tracker__add_pid(r->heap, r->child);
	/* Preloaded: the loader may not have mapped the library yet; next round. */
	if (err == -ENOENT && r->o->heap_mode == HEAP_MODE_PRELOAD)
		return;
	if (err && err != -EEXIST)
		fprintf(stderr, "bpfprof: cannot profile the heap of the command: %s\n",
			strerror(-err));
}

/* The heap profile is the tracker's state: rebuilt, not accumulated. */
static int drain_heap(struct record *r)
{
	uint32_t pids[MAX_FILTER_PIDS];
	size_t n;
	struct profile *p;
	int err = 0;

	heap_tracker__poll(r->heap);
	p = heap_profile__new(HEAP_INUSE_SPACE, heap_tracker__rate(r->heap));
	if (!p)
		return -ENOMEM;
	n = heap_tracker__pids(r->heap, pids, MAX_FILTER_PIDS);
	for (size_t i = 0; i < n && i < MAX_FILTER_PIDS && !err; i++)
		err = heap_tracker__add_to_profile(r->heap, pids[i], p);
	if (err) {
		profile__free(p);
		return err;
	}
	profile__free(r->prof);
	r->prof = p;
	return 0;
}

int record__setup(struct record *r)
{
	struct symbolizer_opts so = {0};
	int rc = EXIT_OK;

	r->sym = symbolizer__new(&so);
	r->pl = r->sym ? pipeline__new(r->sym) : NULL;
	if (!r->pl || make_profile(r)) {
		fprintf(stderr, "bpfprof: out of memory\n");
		return EXIT_RUNTIME;
	}
	if (uses_cpu(r))
		rc = start_cpu(r);
	if (rc == EXIT_OK && uses_offcpu(r))
		rc = start_offcpu(r);
	if (rc == EXIT_OK && r->o->type == RECORD_HEAP)
		rc = start_heap(r);
	return rc;
}

int record__drain(struct record *r)
{
	int n = 0;

	if (r->col)
		n = cpu_collector__drain(r->col, on_cpu_sample, r);
	if (n >= 0 && r->off)
		n = offcpu_collector__drain(r->off, on_offcpu_sample, r);
	if (n >= 0 && r->heap)
		n = drain_heap(r);
	r->last_drain_ms = now_ms();
	if (n < 0) {
		fprintf(stderr, "bpfprof: reading samples failed: %s\n", strerror(-n));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int record__poll(struct record *r, int timeout_ms)
{
	int err = 0;

	if (r->heap) {
		heap_add_command(r);
		/* The tracker's own thread reads the kernel; this is only the loop's pace. */
		usleep(timeout_ms * 1000);
		return 0;
	}
	/* With both collectors, one waits and the other is served in passing. */
	if (r->off)
		err = offcpu_collector__poll(r->off, r->col ? 0 : timeout_ms);
	if (err >= 0 && r->col)
		err = cpu_collector__poll(r->col, timeout_ms);
	return err;
}

static bool heap_targets_alive(struct record *r)
{
	uint32_t pids[MAX_FILTER_PIDS];
	struct heap_pid_stats st;
	size_t n = heap_tracker__pids(r->heap, pids, MAX_FILTER_PIDS);

	for (size_t i = 0; i < n && i < MAX_FILTER_PIDS; i++)
		if (!heap_tracker__pid_stats(r->heap, pids[i], &st) && st.attached)
			return true;
	return r->o->command && !n; /* the command has not exec'd yet */
}

bool record__targets_alive(struct record *r)
{
	if (r->heap)
		return heap_targets_alive(r);
	if (r->col)
		return cpu_collector__targets_alive(r->col);
	return offcpu_collector__targets_alive(r->off);
}

/* The .eh_frame unwinder: why stacks stopped early, and what the tables cost. */
static void print_unwind_counts(const struct unwinder_stats *u)
{
	fprintf(stderr,
		"bpfprof: unwind: %" PRIu64 " stacks complete, truncated: %" PRIu64
		" no_table, %" PRIu64 " table_not_loaded, %" PRIu64 " bad_read, %" PRIu64
		" depth_limit; %" PRIu64 " frames (%" PRIu64 " by frame pointer)\n",
		u->reasons[UNWIND_REASON_NONE], u->reasons[UNWIND_REASON_NO_TABLE],
		u->reasons[UNWIND_REASON_TABLE_NOT_LOADED], u->reasons[UNWIND_REASON_BAD_READ],
		u->reasons[UNWIND_REASON_DEPTH_LIMIT], u->frames, u->fp_frames);
	fprintf(stderr,
		"bpfprof: unwind tables: %" PRIu64 " binaries (%" PRIu64 " loaded, %" PRIu64
		" without CFI, %" PRIu64 " over budget, %" PRIu64 " FDEs refused), %" PRIu64
		" KiB of %" PRIu64 " KiB, %" PRIu64 " evictions, %" PRIu64
		" not loaded, %.0f ms compiling; %" PRIu64 " processes, %" PRIu64 " refreshes\n",
		u->binaries, u->tables_loaded, u->no_cfi, u->over_budget, u->fdes_rejected,
		u->table_bytes / 1024,
		u->rows_total * sizeof(struct unwind_row) / 1024, u->evictions, u->not_loaded,
		u->compile_ns / 1e6, u->procs, u->refreshes);
}

static void print_cpu_counts(struct record *r, double secs, uint64_t processes)
{
	struct cpu_stats cs;

	cpu_collector__stats(r->col, &cs);
	fprintf(stderr,
		"bpfprof: %" PRIu64 " samples from %" PRIu64 " processes in %.1f s at %u Hz; "
		"wrote %s (%s)\n",
		r->drained, processes, secs, r->o->freq_hz, r->o->output,
		r->o->format == FORMAT_FOLDED ? "folded" : "pprof");
	fprintf(stderr,
		"bpfprof: dropped: %" PRIu64 " samples (map full), %" PRIu64
		" stacks (collisions), %" PRIu64 " stacks missing, %" PRIu64
		" process notices; stack errors: %" PRIu64 " user, %" PRIu64 " kernel\n",
		cs.drop_counts, cs.stack_collide, cs.stack_missing, cs.pid_event_drop,
		cs.ustack_err, cs.kstack_err);
	if (cs.dwarf)
		print_unwind_counts(&cs.unwind);
}

static void print_offcpu_counts(struct record *r, double secs, uint64_t processes)
{
	struct offcpu_stats os;

	offcpu_collector__stats(r->off, &os);
	if (r->o->type == RECORD_WALL)
		fprintf(stderr,
			"bpfprof: wall: %.3f s on CPU (%" PRIu64 " samples at %u Hz) + %.3f s off "
			"CPU (%" PRIu64 " periods)",
			(double)r->cpu_samples * r->period_ns / 1e9, r->cpu_samples, r->o->freq_hz,
			r->offcpu_ns / 1e9, os.periods);
	else
		fprintf(stderr, "bpfprof: %" PRIu64 " off-CPU periods, %.3f s in all", os.periods,
			r->offcpu_ns / 1e9);
	fprintf(stderr, " from %" PRIu64 " processes in %.1f s; wrote %s (%s)\n", processes, secs,
		r->o->output, r->o->format == FORMAT_FOLDED ? "folded" : "pprof");
	fprintf(stderr,
		"bpfprof: dropped: %" PRIu64 " switch-outs (start map full), %" PRIu64
		" periods (map full), %" PRIu64 " stacks (collisions), %" PRIu64
		" stacks missing, %" PRIu64 " process notices; stack errors: %" PRIu64
		" user, %" PRIu64 " kernel; %" PRIu64 " periods under %" PRIu64
		" us; sched_switch via %s\n",
		os.drop_start, os.drop_counts, os.stack_collide, os.stack_missing,
		os.pid_event_drop, os.ustack_err, os.kstack_err, os.short_periods,
		r->o->min_block_us, os.raw_tp ? "raw_tp" : "tp_btf");
	if (os.dwarf)
		print_unwind_counts(&os.unwind);
}

void record__print_counts(struct record *r, double secs, uint64_t processes)
{
	if (r->heap) {
		(void)processes;
		fprintf(stderr, "bpfprof: heap profile of %zu processes over %.1f s; wrote %s (%s)\n",
			heap_tracker__pids(r->heap, NULL, 0), secs, r->o->output,
			r->o->format == FORMAT_FOLDED ? "folded" : "pprof");
		heap_tracker__print_summary(r->heap, stderr);
		return;
	}
	if (r->o->type == RECORD_CPU)
		print_cpu_counts(r, secs, processes);
	else
		print_offcpu_counts(r, secs, processes);
}

const char *record__top_title(const struct record *r)
{
	switch (r->o->type) {
	case RECORD_OFFCPU:
		return "own off-CPU time";
	case RECORD_WALL:
		return "own wall time";
	case RECORD_MUTEX:
		return "own futex wait time";
	case RECORD_HEAP:
		return "in-use bytes (estimated)";
	default:
		return "own CPU time";
	}
}

void record__stop_collectors(struct record *r)
{
	/* wall: the off-CPU collector uses the CPU collector's unwinder; it goes first. */
	offcpu_collector__free(r->off);
	r->off = NULL;
	cpu_collector__free(r->col);
	r->col = NULL;
	heap_tracker__free(r->heap);
	r->heap = NULL;
}
