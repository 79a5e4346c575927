// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The heap tracker: per-PID allocator probes (a uprobe session link, or
 * uprobes + uretprobes where sessions are missing), the sampled
 * allocations from the ring buffer, the overhead governor and the profiles.
 * A thread consumes the ring buffer and runs the governor's duty cycle; the
 * rest is called by the owner. One mutex guards every table.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heap.skel.h"
#include "heap/heap_int.h"
#include "heap/heap_tab.h"
#include "heap/heap_tracker.h"
#include "pipeline/pipeline.h"
#include "profile/profile.h"
#include "symbolizer/symbolizer.h"

/* --- probes --- */

void heap_proc__detach(struct heap_proc *p)
{
	if (p->sess_fd >= 0)
		close(p->sess_fd);
	p->sess_fd = -1;
	for (size_t i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	p->n_links = 0;
	p->attached = false;
}

static int attach_session(struct heap_tracker *t, struct heap_proc *p)
{
	uint64_t offs[HEAP_MAX_FUNCS], cookies[HEAP_MAX_FUNCS];

	for (size_t i = 0; i < p->bin.n_funcs; i++) {
		offs[i] = p->bin.funcs[i].probe_off;
		cookies[i] = p->bin.funcs[i].fn;
	}
	p->sess_fd = heap_probe__session_link(bpf_program__fd(t->skel->progs.heap_session),
					      p->bin.access, offs, cookies, p->bin.n_funcs, p->pid);
	return p->sess_fd < 0 ? p->sess_fd : 0;
}

static int attach_one(struct heap_tracker *t, struct heap_proc *p, const struct heap_func *f,
		      bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = f->fn, .retprobe = ret);
	struct bpf_program *prog = ret ? t->skel->progs.heap_return : t->skel->progs.heap_entry;
	struct bpf_link *l;

	if (p->n_links >= MAX_LINKS)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, p->pid, p->bin.access, f->probe_off, &uo);
	if (!l)
		return -errno;
	p->links[p->n_links++] = l;
	return 0;
}

/* Without sessions every allocator call pays a return trap too. */
static int attach_uretprobes(struct heap_tracker *t, struct heap_proc *p)
{
	int err = 0;

	for (size_t i = 0; i < p->bin.n_funcs && !err; i++) {
		const struct heap_func *f = &p->bin.funcs[i];

		err = attach_one(t, p, f, false);
		/* Frees and the library's hooks need nothing at the return. */
		if (!err && f->fn != HEAP_FN_FREE && f->fn != HEAP_FN_HOOK_ALLOC &&
		    f->fn != HEAP_FN_HOOK_FREE)
			err = attach_one(t, p, f, true);
	}
	return err;
}

int heap_proc__attach(struct heap_tracker *t, struct heap_proc *p)
{
	int err = -EOPNOTSUPP;

	if (p->attached)
		return 0;
	if (t->sessions && !t->opts.no_session) {
		err = attach_session(t, p);
		p->sessions = !err;
	}
	if (err) {
		err = attach_uretprobes(t, p);
		if (err)
			heap_proc__detach(p);
	}
	p->attached = !err;
	if (!err)
		p->attach_since = clock_ns(CLOCK_MONOTONIC);
	return err;
}

/* --- BPF side bookkeeping --- */

static int read_counters(struct heap_tracker *t, uint32_t pid, struct heap_target *sum)
{
	int err = bpf_map__lookup_elem(t->skel->maps.targets, &pid, sizeof(pid), t->pcpu,
				       sizeof(*t->pcpu) * t->n_cpus, 0);

	if (err)
		return err;
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < t->n_cpus; c++) {
		sum->traps += t->pcpu[c].traps;
		sum->calls += t->pcpu[c].calls;
		sum->frees += t->pcpu[c].frees;
		sum->frees_tracked += t->pcpu[c].frees_tracked;
		sum->sampled += t->pcpu[c].sampled;
		sum->live_full += t->pcpu[c].live_full;
		sum->ring_drops += t->pcpu[c].ring_drops;
		sum->thread_drops += t->pcpu[c].thread_drops;
		sum->stack_errs += t->pcpu[c].stack_errs;
	}
	return 0;
}

/* A stopped target's entries would hold the bounded live map forever. */
void heap_proc__purge_live(struct heap_tracker *t, uint32_t pid)
{
	int fd = bpf_map__fd(t->skel->maps.live);
	struct heap_live_key k, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		if (k.tgid == pid) {
			bpf_map_delete_elem(fd, &k);
			/* Restart: the deleted key cannot anchor the walk. */
			prev = NULL;
			continue;
		}
		prev = &k;
	}
}

/* Clean stop: probes out, kernel state gone, the data kept. */
static void stop_proc(struct heap_tracker *t, struct heap_proc *p, const char *why)
{
	if (!p->alive)
		return;
	heap_proc__detach(p);
	/* The library stops sampling for us (best effort: it may be gone). */
	if (p->bin.kind == HEAP_ALLOC_SAMPLER)
		heap_preload__set_state(p->pid, &p->bin, t->opts.sample_bytes, 0);
	read_counters(t, p->pid, &p->counters);
	bpf_map__delete_elem(t->skel->maps.targets, &p->pid, sizeof(p->pid), 0);
	heap_proc__purge_live(t, p->pid);
	p->alive = false;
	p->stop_reason = why;
}

/* --- events --- */

static void account_free(struct heap_proc *p, uint64_t addr)
{
	struct live_ent old;
	struct agg_ent *a;

	if (!live_tab__take(&p->live, addr, &old))
		return;
	a = agg_tab__get(&p->agg, old.stack, old.size, false);
	if (a && a->n_inuse)
		a->n_inuse--;
}

static void account_alloc(struct heap_tracker *t, struct heap_proc *p, const struct heap_event *e,
			  size_t size)
{
	uint32_t stack = heap_stacks__of_event(t, e, size);
	struct live_ent v = {.addr = e->addr, .size = e->size, .ts = e->ts}, old;
	struct agg_ent *a;

	if (!stack) {
		p->stack_dropped++;
		return;
	}
	v.stack = stack;
	a = agg_tab__get(&p->agg, stack, e->size, true);
	if (!a) {
		p->agg_dropped++;
		return;
	}
	a->n_alloc++;
	if (e->flags & HEAP_EVF_UNTRACKED) {
		p->untracked++;
		return;
	}
	if (live_tab__put(&p->live, &v, &old)) {
		p->untracked++;
		return;
	}
	a->n_inuse++;
	/* The same address again: its free was missed (detached, ring full). */
	if (old.addr) {
		a = agg_tab__get(&p->agg, old.stack, old.size, false);
		if (a && a->n_inuse)
			a->n_inuse--;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct heap_tracker *t = ctx;
	const struct heap_event *e = data;
	struct heap_proc *p;

	if (size < offsetof(struct heap_event, size))
		return 0;
	pthread_mutex_lock(&t->mu);
	p = find_proc(t, e->tgid);
	if (!p)
		goto out;
	switch (e->kind) {
	case HEAP_EV_ALLOC:
		if (size >= HEAP_EVENT_HASHED_SIZE)
			account_alloc(t, p, e, size);
		break;
	case HEAP_EV_FREE:
		account_free(p, e->addr);
		break;
	case HEAP_EV_EXIT:
		stop_proc(t, p, "exited");
		break;
	case HEAP_EV_EXEC:
		stop_proc(t, p, "exec'd");
		break;
	}
out:
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* --- governor --- */

/*
 * CPU ns the calls counted between last and c took: each kind at its own
 * price. Sampled calls cost ~20x an unsampled one (return trap, stack walk,
 * record), so pricing every trap alike under-projected R=1 about 10x.
 * realloc's free of a sampled block is priced as part of the allocation.
 */
static double calls_cost_ns(const struct heap_costs *k, const struct heap_target *c,
			    const struct heap_target *last)
{
	double calls = c->calls - last->calls, frees = c->frees - last->frees;
	double sampled = c->sampled - last->sampled;
	double tracked = c->frees_tracked - last->frees_tracked;
	double unsampled = calls - frees - sampled;

	return (unsampled > 0 ? unsampled : 0) * k->call_ns + sampled * k->sampled_ns +
	       (frees - tracked) * k->free_ns + tracked * k->free_tracked_ns;
}

/* Projects the cost of full attachment from the calls counted while attached. */
static void governor_measure(struct heap_tracker *t, struct heap_proc *p)
{
	double budget = t->opts.budget_cpu_percent, per_s;
	struct heap_target c;

	if (read_counters(t, p->pid, &c))
		return;
	if (p->attached_ns >= GOV_PERIOD_NS / 50) {
		per_s = 1e9 / p->attached_ns;
		p->traps_per_s = (double)(c.traps - p->last.traps) * per_s;
		p->calls_per_s = (double)(c.calls - p->last.calls) * per_s;
		p->sampled_per_s = (double)(c.sampled - p->last.sampled) * per_s;
		p->projected = calls_cost_ns(&p->cost, &c, &p->last) * per_s / 1e9 * 100.0;
	}
	p->last = c;
	p->counters = c;
	if (p->projected > budget) {
		p->degraded = p->ever_degraded = true;
		p->duty = budget / p->projected;
		if (p->duty < HEAP_MIN_DUTY)
			p->duty = HEAP_MIN_DUTY;
		if (p->duty < p->min_duty)
			p->min_duty = p->duty;
	} else if (p->projected < 0.8 * budget) {
		p->degraded = false;
		p->duty = 1.0;
	}
}

/*
 * A load that starts while the probes are fully attached would otherwise
 * run at full cost until the period ends (a second): check every
 * GOV_FAST_NS whether the cost so far already spent this period's budget.
 */
static bool governor_over_early(struct heap_tracker *t, struct heap_proc *p, int64_t now)
{
	struct heap_target c;
	double spent_ns;

	if (p->degraded || !p->attached || now - p->last_fast < GOV_FAST_NS)
		return false;
	p->last_fast = now;
	if (now - p->period_start < GOV_FAST_NS || read_counters(t, p->pid, &c))
		return false;
	spent_ns = calls_cost_ns(&p->cost, &c, &p->last);
	return spent_ns > t->opts.budget_cpu_percent / 100.0 * (double)(now - p->period_start);
}

static void governor_tick(struct heap_tracker *t, struct heap_proc *p, int64_t now)
{
	bool want;

	if (!p->alive)
		return;
	if (p->attached) {
		p->attached_ns += now - p->attach_since;
		p->attach_since = now;
	}
	if (now - p->period_start >= GOV_PERIOD_NS || governor_over_early(t, p, now)) {
		governor_measure(t, p);
		p->period_start = now;
		p->attached_ns = 0;
	}
	want = !p->degraded || now - p->period_start < p->duty * GOV_PERIOD_NS;
	if (want && !p->attached) {
		if (heap_proc__attach(t, p))
			stop_proc(t, p, "could not re-attach");
	} else if (!want && p->attached) {
		heap_proc__detach(p);
	}
}

static void *tracker_thread(void *arg)
{
	struct heap_tracker *t = arg;
	int64_t last_check = clock_ns(CLOCK_MONOTONIC);

	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		int64_t now;

		/* Exits, execs and unmaps are noticed here too: owners need not poll. */
		if (clock_ns(CLOCK_MONOTONIC) - last_check >= GOV_PERIOD_NS) {
			heap_tracker__poll(t);
			last_check = clock_ns(CLOCK_MONOTONIC);
		}

		ring_buffer__poll(t->rb, RB_POLL_MS);
		pthread_mutex_lock(&t->mu);
		now = clock_ns(CLOCK_MONOTONIC);
		for (size_t i = 0; i < t->n_procs; i++)
			governor_tick(t, t->procs[i], now);
		pthread_mutex_unlock(&t->mu);
	}
	return NULL;
}

/* --- life cycle --- */

static int load_skel(struct heap_tracker *t, bool sessions)
{
	struct heap_bpf *s = heap_bpf__open();
	uint64_t *table = NULL;
	int err;

	if (!s)
		return -errno;
	if (sessions)
		err = bpf_program__set_expected_attach_type(s->progs.heap_session, 57);
	else
		err = bpf_program__set_autoload(s->progs.heap_session, false);
	err = err ?: bpf_map__set_max_entries(s->maps.live, t->opts.max_live);
	err = err ?: bpf_map__set_max_entries(s->maps.targets, t->opts.max_pids);
	err = err ?: heap_stacks__prepare(t, s);
	s->rodata->sample_all = t->opts.sample_bytes <= 1;
	table = calloc(HEAP_EXP_TABLE_SIZE, sizeof(*table));
	if (!err && !table)
		err = -ENOMEM;
	if (!err) {
		heap__exp_table(t->opts.sample_bytes, table, HEAP_EXP_TABLE_SIZE);
		memcpy((void *)s->rodata->exp_table, table, HEAP_EXP_TABLE_SIZE * sizeof(*table));
	}
	free(table);
	err = err ?: heap_bpf__load(s);
	if (err) {
		heap_bpf__destroy(s);
		return err;
	}
	t->skel = s;
	t->sessions = sessions;
	return 0;
}

/* Per-call costs; without them, figures measured on the development VM (R=1: ~12 us a pair). */
static void calibrate_calls(struct heap_tracker *t)
{
	int err = heap_calib__calls(t);

	if (!err && t->calib.sampled_ns > 0)
		return;
	fprintf(stderr, "bpfprof: heap: call cost calibration failed (%s); assuming defaults\n",
		strerror(err ? -err : EIO));
	t->calib.call_ns = t->calib.free_ns = 1.5 * t->calib.emulated_ns;
	t->calib.sampled_ns = 10000;
	t->calib.free_tracked_ns = 2000;
}

static int start_bpf(struct heap_tracker *t)
{
	int err = t->opts.no_session ? -EOPNOTSUPP : load_skel(t, true);

	if (err)
		err = load_skel(t, false);
	if (err) {
		fprintf(stderr, "bpfprof: loading the heap BPF program failed: %s\n",
			strerror(-err));
		return err;
	}
	t->exit_link = bpf_program__attach(t->skel->progs.heap_exit);
	t->exec_link = t->exit_link ? bpf_program__attach(t->skel->progs.heap_exec) : NULL;
	if (!t->exec_link)
		return -errno;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL);
	if (!t->rb)
		return -errno;
	err = heap_stacks__start(t);
	if (err) {
		fprintf(stderr, "bpfprof: heap: starting the .eh_frame unwinder failed: %s\n",
			strerror(-err));
		return err;
	}
	err = heap_probe__calibrate(t->skel->progs.heap_calib, &t->calib);
	if (err)
		fprintf(stderr, "bpfprof: heap: trap calibration failed; assuming 1 us/7 us\n");
	if (err || t->calib.emulated_ns <= 0) {
		t->calib.emulated_ns = 1000;
		t->calib.stepped_ns = 7000;
	}
	calibrate_calls(t);
	return 0;
}

static void apply_defaults(struct heap_opts *o)
{
	if (!o->sample_bytes)
		o->sample_bytes = HEAP_DEFAULT_RATE;
	if (o->budget_cpu_percent <= 0)
		o->budget_cpu_percent = HEAP_DEFAULT_BUDGET;
	if (!o->max_live)
		o->max_live = HEAP_DEFAULT_MAX_LIVE;
	if (!o->max_pids)
		o->max_pids = HEAP_DEFAULT_MAX_PIDS;
}

struct heap_tracker *heap_tracker__new(const struct heap_opts *opts)
{
	struct heap_tracker *t = calloc(1, sizeof(*t));
	struct symbolizer_opts so = {0};
	int err = -ENOMEM;

	if (!t)
		goto fail;
	pthread_mutex_init(&t->mu, NULL);
	t->opts = *opts;
	apply_defaults(&t->opts);
	t->stacks.max = MAX_STACKS;
	t->n_cpus = libbpf_num_possible_cpus();
	t->procs = calloc(t->opts.max_pids, sizeof(*t->procs));
	t->pcpu = t->n_cpus > 0 ? calloc(t->n_cpus, sizeof(*t->pcpu)) : NULL;
	t->own_pl = !opts->sym || !opts->pl;
	t->sym = t->own_pl ? symbolizer__new(&so) : opts->sym;
	t->pl = !t->own_pl ? opts->pl : t->sym ? pipeline__new(t->sym) : NULL;
	if (!t->procs || !t->pcpu || !t->pl)
		goto fail;
	err = start_bpf(t);
	if (err)
		goto fail;
	err = -pthread_create(&t->thread, NULL, tracker_thread, t);
	if (err)
		goto fail;
	t->thread_started = true;
	return t;
fail:
	heap_tracker__free(t);
	errno = -err;
	return NULL;
}

static void free_proc(struct heap_proc *p)
{
	if (!p)
		return;
	heap_proc__detach(p);
	live_tab__free(&p->live);
	agg_tab__free(&p->agg);
	free(p);
}

void heap_tracker__free(struct heap_tracker *t)
{
	if (!t)
		return;
	atomic_store_explicit(&t->stop, true, memory_order_release);
	if (t->thread_started)
		pthread_join(t->thread, NULL);
	for (size_t i = 0; i < t->n_procs; i++)
		free_proc(t->procs[i]);
	ring_buffer__free(t->rb);
	bpf_link__destroy(t->exit_link);
	bpf_link__destroy(t->exec_link);
	heap_stacks__free(t);
	heap_bpf__destroy(t->skel);
	if (t->own_pl) {
		pipeline__free(t->pl);
		symbolizer__free(t->sym);
	}
	stack_tab__free(&t->stacks);
	free(t->procs);
	free(t->pcpu);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static bool pid_exists(uint32_t pid)
{
	return !kill((pid_t)pid, 0) || errno == EPERM;
}

static double func_cost(const struct heap_tracker *t, const struct heap_proc *p, enum heap_fn fn)
{
	for (size_t i = 0; i < p->bin.n_funcs; i++)
		if (p->bin.funcs[i].fn == fn)
			return p->bin.funcs[i].emulated ? t->calib.emulated_ns
							: t->calib.stepped_ns;
	return t->calib.emulated_ns;
}

/*
 * The calls were calibrated on emulated probes: where this target's malloc
 * or free probe is single-stepped, each call of that side pays the
 * difference. malloc and free are the hot pair: their probes set it.
 */
static void proc_costs(const struct heap_tracker *t, struct heap_proc *p)
{
	const struct heap_calib *c = &t->calib;
	double alloc_x = func_cost(t, p, HEAP_FN_MALLOC) - c->emulated_ns;
	double free_x = func_cost(t, p, HEAP_FN_FREE) - c->emulated_ns;

	p->trap_cost_ns = (func_cost(t, p, HEAP_FN_MALLOC) + func_cost(t, p, HEAP_FN_FREE)) / 2;
	p->cost.call_ns = c->call_ns + alloc_x;
	p->cost.sampled_ns = c->sampled_ns + alloc_x;
	p->cost.free_ns = c->free_ns + free_x;
	p->cost.free_tracked_ns = c->free_tracked_ns + free_x;
	/* The library's hooks see sampled calls only, and a hook has no return trap. */
	if (p->bin.kind == HEAP_ALLOC_SAMPLER && c->sampled_ns > c->emulated_ns)
		p->cost.sampled_ns = c->sampled_ns - c->emulated_ns;
}

static void read_comm(uint32_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	comm[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, len, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

static struct heap_proc *new_proc(struct heap_tracker *t, uint32_t pid, enum heap_mode mode,
				  int *err)
{
	struct heap_proc *p = calloc(1, sizeof(*p));

	*err = -ENOMEM;
	if (!p)
		return NULL;
	p->pid = pid;
	p->sess_fd = -1;
	p->duty = p->min_duty = 1.0;
	p->live.max = t->opts.max_live;
	p->agg.max = MAX_AGG_PER_PID;
	p->started_ns = clock_ns(CLOCK_REALTIME);
	/* Backdated so the first measurement comes GOV_FIRST_NS after attaching. */
	p->period_start = clock_ns(CLOCK_MONOTONIC) - GOV_PERIOD_NS + GOV_FIRST_NS;
	read_comm(pid, p->comm, sizeof(p->comm));
	*err = heap_alloc__detect(pid, mode, &p->bin);
	if (*err) {
		free(p);
		return NULL;
	}
	proc_costs(t, p);
	return p;
}

static int start_proc(struct heap_tracker *t, struct heap_proc *p)
{
	struct heap_target zero = {0};
	struct heap_target *z = calloc(t->n_cpus, sizeof(*z));
	int err;

	if (!z)
		return -ENOMEM;
	(void)zero;
	err = bpf_map__update_elem(t->skel->maps.targets, &p->pid, sizeof(p->pid), z,
				   sizeof(*z) * t->n_cpus, BPF_NOEXIST);
	free(z);
	if (err)
		return err == -E2BIG ? -ENOSPC : err;
	pipeline__on_pid(t->pl, p->pid, 1 /* PID_EVENT_NEW */);
	heap_stacks__add_pid(t, p->pid);
	err = heap_proc__attach(t, p);
	/*
	 * Hooks: our rate and the flag into the library's state. A library not
	 * initialized yet (-EPROTO: a command just exec'd) samples at the rate
	 * record put in its environment.
	 */
	if (!err && p->bin.kind == HEAP_ALLOC_SAMPLER) {
		err = heap_preload__set_state(p->pid, &p->bin, t->opts.sample_bytes,
					      (uint32_t)getpid());
		if (err == -EPROTO)
			err = 0;
		if (err)
			heap_proc__detach(p);
	}
	if (err) {
		bpf_map__delete_elem(t->skel->maps.targets, &p->pid, sizeof(p->pid), 0);
		return err;
	}
	p->alive = true;
	return 0;
}

int heap_tracker__add_pid(struct heap_tracker *t, uint32_t pid)
{
	return heap_tracker__add_pid_mode(t, pid, t->opts.mode);
}

int heap_tracker__add_pid_mode(struct heap_tracker *t, uint32_t pid, enum heap_mode mode)
{
	struct heap_proc *p = NULL;
	int err;

	if (!pid || !pid_exists(pid))
		return -ESRCH;
	pthread_mutex_lock(&t->mu);
	err = find_proc(t, pid) ? -EEXIST : 0;
	if (!err && t->n_procs >= t->opts.max_pids)
		err = -ENOSPC;
	if (!err)
		p = new_proc(t, pid, mode, &err);
	if (!err)
		err = start_proc(t, p);
	if (!err)
		t->procs[t->n_procs++] = p;
	else
		free_proc(p);
	pthread_mutex_unlock(&t->mu);
	return err;
}

int heap_tracker__remove_pid(struct heap_tracker *t, uint32_t pid)
{
	int err = -ENOENT;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n_procs; i++) {
		struct heap_proc *p = t->procs[i];

		if (p->pid != pid)
			continue;
		stop_proc(t, p, "removed");
		free_proc(p);
		t->procs[i] = t->procs[--t->n_procs];
		err = 0;
		break;
	}
	pthread_mutex_unlock(&t->mu);
	return err;
}

bool heap_tracker__has_pid(struct heap_tracker *t, uint32_t pid)
{
	bool has;

	pthread_mutex_lock(&t->mu);
	has = find_proc(t, pid) != NULL;
	pthread_mutex_unlock(&t->mu);
	return has;
}

/* Still mapped? A dlclose'd or replaced allocator leaves nothing to probe. */
static bool allocator_mapped(const struct heap_proc *p)
{
	char path[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = strchr(line, '/');

		if (s) {
			s[strcspn(s, "\n")] = 0;
			found = !strcmp(s, p->bin.path);
		}
	}
	fclose(f);
	return found;
}

int heap_tracker__poll(struct heap_tracker *t)
{
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n_procs; i++) {
		struct heap_proc *p = t->procs[i];

		if (!p->alive)
			continue;
		if (!pid_exists(p->pid))
			stop_proc(t, p, "exited");
		else if (!allocator_mapped(p))
			stop_proc(t, p, "allocator unmapped");
		else
			read_counters(t, p->pid, &p->counters);
	}
	heap_stacks__sweep(t, clock_ns(CLOCK_MONOTONIC));
	pthread_mutex_unlock(&t->mu);
	return 0;
}

size_t heap_tracker__pids(struct heap_tracker *t, uint32_t *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n_procs;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = t->procs[i]->pid;
	pthread_mutex_unlock(&t->mu);
	return n;
}

/* --- reading --- */

static void estimates(const struct heap_tracker *t, const struct heap_proc *p,
		      struct heap_pid_stats *o)
{
	double ab = 0, ib = 0, io = 0;

	for (size_t i = 0; i < p->agg.cap; i++) {
		const struct agg_ent *a = &p->agg.e[i];
		double s = heap__scale(a->size, t->opts.sample_bytes);

		if (!a->stack)
			continue;
		ab += a->n_alloc * s * a->size;
		ib += a->n_inuse * s * a->size;
		io += a->n_inuse * s;
	}
	o->alloc_bytes_est = ab;
	o->inuse_bytes_est = ib;
	o->inuse_objects_est = io;
}

static void fill_stats(const struct heap_tracker *t, const struct heap_proc *p,
		       struct heap_pid_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = p->pid;
	o->allocator = p->bin.kind;
	o->mode = p->bin.kind == HEAP_ALLOC_SAMPLER ? HEAP_MODE_PRELOAD : HEAP_MODE_UPROBE;
	o->allocator_path = p->bin.path;
	o->attached = p->alive;
	o->sessions = p->sessions;
	o->trap_cost_ns = p->trap_cost_ns;
	o->cost = p->cost;
	o->traps_per_s = p->traps_per_s;
	o->calls_per_s = p->calls_per_s;
	o->sampled_per_s = p->sampled_per_s;
	o->projected_cpu_percent = p->projected;
	o->degraded = p->degraded;
	o->duty_cycle = p->degraded ? p->duty : 1.0;
	o->live_dropped = p->untracked + p->counters.live_full;
	o->started_ns = p->started_ns;
	estimates(t, p, o);
}

int heap_tracker__pid_stats(struct heap_tracker *t, uint32_t pid, struct heap_pid_stats *out)
{
	struct heap_proc *p;

	pthread_mutex_lock(&t->mu);
	p = find_proc(t, pid);
	if (p)
		fill_stats(t, p, out);
	pthread_mutex_unlock(&t->mu);
	return p ? 0 : -ENOENT;
}

uint64_t heap_tracker__rate(const struct heap_tracker *t)
{
	return t->opts.sample_bytes;
}

void heap_tracker__print_summary(struct heap_tracker *t, FILE *f)
{
	struct heap_pid_stats s;

	pthread_mutex_lock(&t->mu);
	fprintf(f,
		"bpfprof: heap: trap cost %.0f ns emulated, %.0f ns single-stepped; sampling every "
		"%" PRIu64 " bytes\n",
		t->calib.emulated_ns, t->calib.stepped_ns, t->opts.sample_bytes);
	fprintf(f,
		"bpfprof: heap: cost per call %.0f ns unsampled, %.0f ns sampled, %.0f ns free, "
		"%.0f ns free of a sampled block (calibrated in %.0f ms)\n",
		t->calib.call_ns, t->calib.sampled_ns, t->calib.free_ns, t->calib.free_tracked_ns,
		t->calib.calls_ms);
	heap_stacks__print_summary(t, f);
	for (size_t i = 0; i < t->n_procs; i++) {
		const struct heap_proc *p = t->procs[i];

		fill_stats(t, p, &s);
		fprintf(
		    f,
		    "bpfprof: heap PID %" PRIu32 ": %s %s, %zu probes (%s), %" PRIu64
		    " calls, %" PRIu64 " sampled, %" PRIu64 " frees (%" PRIu64
		    " of sampled blocks); in use %.1f MiB, allocated %.1f MiB (estimates)%s%s\n",
		    p->pid, heap_alloc__name(p->bin.kind), p->bin.path, p->bin.n_funcs,
		    p->bin.kind == HEAP_ALLOC_SAMPLER ? "hooks, sampled in-process"
		    : p->sessions			  ? "uprobe sessions"
							  : "uprobes + uretprobes",
		    (uint64_t)p->counters.calls, (uint64_t)p->counters.sampled,
		    (uint64_t)p->counters.frees, (uint64_t)p->counters.frees_tracked,
		    s.inuse_bytes_est / 1048576.0, s.alloc_bytes_est / 1048576.0,
		    p->stop_reason ? "; stopped: " : "", p->stop_reason ? p->stop_reason : "");
		fprintf(f,
			"bpfprof: heap PID %" PRIu32 ": dropped %" PRIu64
			" untracked (live map full), %" PRIu64 " events (ring full), %" PRIu64
			" stacks; governor: %.0f calls/s (%.0f sampled), %.0f traps/s, projected "
			"%.2f%% of a CPU%s\n",
			p->pid, s.live_dropped, (uint64_t)p->counters.ring_drops,
			(uint64_t)(p->stack_dropped + p->agg_dropped + p->counters.stack_errs),
			p->calls_per_s, p->sampled_per_s, p->traps_per_s, p->projected,
			p->ever_degraded ? ", DEGRADED to duty cycle" : "");
		if (p->ever_degraded)
			fprintf(f,
				"bpfprof: heap PID %" PRIu32
				": governor degraded heap profiling to %.0f%% duty cycle: "
				"estimates cover attached time only\n",
				p->pid, p->min_duty * 100);
	}
	pthread_mutex_unlock(&t->mu);
}

/* One metric family: HELP, TYPE, then a line per watched PID (families stay contiguous). */
static void metric_family(FILE *f, const char *name, const char *type, const char *help,
			  const struct heap_pid_stats *st, size_t n,
			  double (*value)(const struct heap_pid_stats *))
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{pid=\"%" PRIu32 "\"} %.17g\n", name, st[i].pid, value(&st[i]));
}

static double m_degraded(const struct heap_pid_stats *s)
{
	return s->degraded;
}

static double m_duty(const struct heap_pid_stats *s)
{
	return s->duty_cycle;
}

static double m_projected(const struct heap_pid_stats *s)
{
	return s->projected_cpu_percent;
}

static double m_traps(const struct heap_pid_stats *s)
{
	return s->traps_per_s;
}

static double m_inuse(const struct heap_pid_stats *s)
{
	return s->inuse_bytes_est;
}

static double m_alloc(const struct heap_pid_stats *s)
{
	return s->alloc_bytes_est;
}

static double m_dropped(const struct heap_pid_stats *s)
{
	return s->live_dropped;
}

static double m_attached(const struct heap_pid_stats *s)
{
	return s->attached;
}

void heap_tracker__write_metrics(struct heap_tracker *t, FILE *f)
{
	struct heap_pid_stats *st;
	size_t n = 0;

	fprintf(f,
		"# HELP bpfprof_heap_trap_cost_seconds Calibrated cost of one uprobe trap "
		"(emulated, single_step) and of one allocator call by kind.\n"
		"# TYPE bpfprof_heap_trap_cost_seconds gauge\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"emulated\"} %.9f\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"single_step\"} %.9f\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"call_unsampled\"} %.9f\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"call_sampled\"} %.9f\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"free\"} %.9f\n"
		"bpfprof_heap_trap_cost_seconds{kind=\"free_sampled\"} %.9f\n",
		t->calib.emulated_ns / 1e9, t->calib.stepped_ns / 1e9, t->calib.call_ns / 1e9,
		t->calib.sampled_ns / 1e9, t->calib.free_ns / 1e9, t->calib.free_tracked_ns / 1e9);
	pthread_mutex_lock(&t->mu);
	st = calloc(t->n_procs ? t->n_procs : 1, sizeof(*st));
	for (size_t i = 0; st && i < t->n_procs; i++)
		fill_stats(t, t->procs[i], &st[n++]);
	pthread_mutex_unlock(&t->mu);
	if (!st)
		return;
	fprintf(f, "# HELP bpfprof_heap_target_info Heap target and how it is probed: mode "
		   "preload (libbpfprof-heap.so's hooks) or uprobe (the allocator's).\n"
		   "# TYPE bpfprof_heap_target_info gauge\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "bpfprof_heap_target_info{pid=\"%" PRIu32 "\",mode=\"%s\",allocator=\"%s\"} 1\n",
			st[i].pid, heap_mode__name(st[i].mode), heap_allocator__name(st[i].allocator));
	metric_family(f, "bpfprof_heap_attached", "gauge",
		      "1 while the target's probes are attached.", st, n, m_attached);
	metric_family(f, "bpfprof_heap_degraded", "gauge",
		      "1 while the governor duty-cycles the target's probes.", st, n, m_degraded);
	metric_family(f, "bpfprof_heap_duty_cycle", "gauge",
		      "Fraction of time the target's probes are attached.", st, n, m_duty);
	metric_family(f, "bpfprof_heap_projected_cpu_percent", "gauge",
		      "Projected probe cost, % of one CPU.", st, n, m_projected);
	metric_family(f, "bpfprof_heap_traps_per_second", "gauge",
		      "Allocator probe hits per second while attached.", st, n, m_traps);
	metric_family(f, "bpfprof_heap_inuse_bytes", "gauge", "Estimated live heap bytes.", st, n,
		      m_inuse);
	metric_family(f, "bpfprof_heap_alloc_bytes_total", "counter",
		      "Estimated bytes allocated since tracking began.", st, n, m_alloc);
	metric_family(f, "bpfprof_heap_live_dropped_total", "counter",
		      "Sampled allocations not tracked: live map full.", st, n, m_dropped);
	free(st);
}
