// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What `bpfprof record` prints once the file is written: counts, losses, the top functions. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/wait.h>

#include "profile/profile.h"
#include "record/record_int.h"
#include "session/session.h"

#define TOP_N 10

static const char *format_name(const struct record *r)
{
	return r->o->format == FORMAT_FOLDED ? "folded" : "pprof";
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

static void print_cpu_counts(const struct record *r, const struct session_stats *st,
			     double secs)
{
	const struct cpu_stats *cs = &st->cpu;

	fprintf(stderr,
		"bpfprof: %" PRIu64 " samples from %" PRIu64 " processes in %.1f s at %u Hz; "
		"wrote %s (%s)\n",
		st->samples, st->pipe.processes, secs, r->o->freq_hz, r->o->output,
		format_name(r));
	fprintf(stderr,
		"bpfprof: dropped: %" PRIu64 " samples (map full), %" PRIu64
		" stacks (collisions), %" PRIu64 " stacks missing, %" PRIu64
		" process notices; stack errors: %" PRIu64 " user, %" PRIu64 " kernel\n",
		cs->drop_counts, cs->stack_collide, cs->stack_missing, cs->pid_event_drop,
		cs->ustack_err, cs->kstack_err);
	if (cs->dwarf)
		print_unwind_counts(&cs->unwind);
}

static void print_offcpu_counts(const struct record *r, const struct session_stats *st,
				double secs)
{
	const struct offcpu_stats *os = &st->offcpu;

	if (r->o->type == RECORD_WALL)
		fprintf(stderr,
			"bpfprof: wall: %.3f s on CPU (%" PRIu64 " samples at %u Hz) + %.3f s off "
			"CPU (%" PRIu64 " periods)",
			(double)st->cpu_samples * st->period_ns / 1e9, st->cpu_samples,
			r->o->freq_hz, st->offcpu_ns / 1e9, os->periods);
	else
		fprintf(stderr, "bpfprof: %" PRIu64 " off-CPU periods, %.3f s in all", os->periods,
			st->offcpu_ns / 1e9);
	fprintf(stderr, " from %" PRIu64 " processes in %.1f s; wrote %s (%s)\n",
		st->pipe.processes, secs, r->o->output, format_name(r));
	fprintf(stderr,
		"bpfprof: dropped: %" PRIu64 " switch-outs (start map full), %" PRIu64
		" periods (map full), %" PRIu64 " stacks (collisions), %" PRIu64
		" stacks missing, %" PRIu64 " process notices; stack errors: %" PRIu64
		" user, %" PRIu64 " kernel; %" PRIu64 " periods under %" PRIu64
		" us; sched_switch via %s\n",
		os->drop_start, os->drop_counts, os->stack_collide, os->stack_missing,
		os->pid_event_drop, os->ustack_err, os->kstack_err, os->short_periods,
		r->o->min_block_us, os->raw_tp ? "raw_tp" : "tp_btf");
	if (os->dwarf)
		print_unwind_counts(&os->unwind);
}

void record__print_counts(struct record *r, double secs)
{
	struct session_stats st;

	session__stats(r->sess, &st);
	if (st.has_heap) {
		fprintf(stderr, "bpfprof: heap profile of %zu processes over %.1f s; wrote %s (%s)\n",
			st.heap_pids, secs, r->o->output, format_name(r));
		session__print_heap_summary(r->sess, stderr);
	} else if (r->o->type == RECORD_CPU) {
		print_cpu_counts(r, &st, secs);
	} else {
		print_offcpu_counts(r, &st, secs);
	}
	fprintf(stderr,
		"bpfprof: frames: %" PRIu64 ", unsymbolized %" PRIu64 "; symbol cache %" PRIu64
		" hits, %" PRIu64 " misses, %" PRIu64 " evictions; %" PRIu64 " files refused\n",
		st.pipe.frames, st.pipe.frames_unsymbolized, st.sym.hits, st.sym.misses,
		st.sym.evictions, st.sym.files_refused);
	if (st.sym.files_refused)
		fprintf(stderr, "bpfprof: refused files users control (last: %s)\n",
			st.sym.last_refused);
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
