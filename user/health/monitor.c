// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The health monitor: a thread that samples every watched PID every period
 * (trend_window / 30, clamped to 1..5 s): /proc figures, the cgroup limit,
 * the heap tracker's estimate, and once per store window the old live
 * stacks for leak detection; then takes automatic snapshots. /proc and the
 * heap tracker are read outside the lock, so requests never wait on them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health/health.h"
#include "health/heapsrc.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "store/store.h"
#include "util/proc.h"
#include "writer/pprof.h"

#define NS		 1000000000LL
#define TREND_MAX_POINTS 1024
#define N_GAUGES	 11

struct watched {
	uint32_t pid;
	struct procmem mem;
	bool has_mem;
	uint64_t limit_bytes;
	bool has_heap;
	uint64_t heap_inuse;
	struct trend rss; /* bytes */
	struct leaks leaks;
	int64_t last_leak_ns;
	int64_t last_auto_ns;
	enum health_status status;
	enum leak_severity severity; /* of the process, see process_severity() */
};

struct health {
	struct health_opts o;
	/*
	 * Every use of the tracker holds heap_lock for reading, so that
	 * health__set_heap(h, NULL) returns only once none is in flight and the
	 * caller may free the tracker.
	 */
	pthread_rwlock_t heap_lock;
	struct heap_tracker *heap;
	struct snapshots *snaps;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started, stopping;
	struct watched *w[HEALTH_MAX_PIDS];
	unsigned int period_s;
	size_t trend_cap;
	uint64_t watch_dropped, samples, auto_snapshots, snapshot_errors, leak_errors;
	uint64_t gone_points, gone_stacks; /* drops of PIDs no longer watched */
};

/* What one sampling pass read for a PID, outside the lock. */
struct sample {
	int err;
	struct procmem mem;
	uint64_t limit_bytes;
	bool has_heap;
	uint64_t heap_inuse;
	bool observed; /* stacks below are an observation */
	struct heap_live_stack *stacks;
	size_t n_stacks;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* ---- the watch table (lock held) ---- */

static struct watched *find(struct health *h, uint32_t pid)
{
	for (size_t i = 0; i < HEALTH_MAX_PIDS; i++)
		if (h->w[i] && h->w[i]->pid == pid)
			return h->w[i];
	return NULL;
}

static void watched_free(struct watched *w)
{
	if (!w)
		return;
	trend__fini(&w->rss);
	leaks__fini(&w->leaks);
	free(w);
}

static int add(struct health *h, uint32_t pid, struct watched **out)
{
	struct watched *w;
	size_t i;

	for (i = 0; i < HEALTH_MAX_PIDS && h->w[i]; i++)
		;
	if (i == HEALTH_MAX_PIDS) {
		h->watch_dropped++;
		return -ENOSPC;
	}
	w = calloc(1, sizeof(*w));
	if (!w || trend__init(&w->rss, h->trend_cap)) {
		free(w);
		return -ENOMEM;
	}
	w->pid = pid;
	leaks__init(&w->leaks);
	h->w[i] = w;
	*out = w;
	return 0;
}

static void drop(struct health *h, uint32_t pid)
{
	for (size_t i = 0; i < HEALTH_MAX_PIDS; i++) {
		if (h->w[i] && h->w[i]->pid == pid) {
			/* Keep the drop counters monotonic past the PID's end. */
			h->gone_points += h->w[i]->rss.overwritten;
			h->gone_stacks += h->w[i]->leaks.dropped;
			watched_free(h->w[i]);
			h->w[i] = NULL;
		}
	}
}

int health__watch(struct health *h, uint32_t pid)
{
	struct watched *w;
	int err = 0;

	if (!pid || !proc__alive(pid))
		return -ESRCH;
	pthread_mutex_lock(&h->lock);
	if (!find(h, pid))
		err = add(h, pid, &w);
	pthread_mutex_unlock(&h->lock);
	return err;
}

int health__unwatch(struct health *h, uint32_t pid)
{
	int err = 0;

	pthread_mutex_lock(&h->lock);
	if (find(h, pid))
		drop(h, pid);
	else
		err = -ENOENT;
	pthread_mutex_unlock(&h->lock);
	return err;
}

void health__set_heap(struct health *h, struct heap_tracker *t)
{
	if (!h)
		return;
	pthread_rwlock_wrlock(&h->heap_lock);
	h->heap = t;
	pthread_rwlock_unlock(&h->heap_lock);
}

/* The tracker (or NULL), held until heap_put(): taken before h->lock, never inside it. */
static struct heap_tracker *heap_get(struct health *h)
{
	pthread_rwlock_rdlock(&h->heap_lock);
	return h->heap;
}

static void heap_put(struct health *h)
{
	pthread_rwlock_unlock(&h->heap_lock);
}

/* ---- reports ---- */

static void fill_report(struct health *h, const struct watched *w, int64_t now,
			struct health_report *r)
{
	r->watched = true;
	r->has_heap = w->has_heap;
	r->heap_inuse_bytes = w->heap_inuse;
	r->has_fit = !trend__fit(&w->rss, now - (int64_t)h->o.trend_window_s * NS, &r->fit);
}

int health__report(struct health *h, uint32_t pid, const struct health_thresholds *th,
		   struct health_report *out)
{
	struct watched *w = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->t_ns = now_ns();
	err = procmem__read(NULL, pid, &out->mem);
	if (err)
		return err;
	cgroup__memory_limit(NULL, NULL, pid, &out->limit_bytes);
	if (!th && h)
		th = &h->o.th;
	if (h) {
		pthread_mutex_lock(&h->lock);
		w = find(h, pid);
		/* Asked about once, watched from now on, so the next answer has a trend. */
		if (!w && !add(h, pid, &w))
			trend__add(&w->rss, out->t_ns, out->mem.rss_kib * 1024.0);
		if (w)
			fill_report(h, w, out->t_ns, out);
		pthread_mutex_unlock(&h->lock);
	}
	if (th)
		health_report__evaluate(out, th);
	return 0;
}

int health__leaks(struct health *h, uint32_t pid, struct health_leaks *out)
{
	struct watched *w;
	int err;

	memset(out, 0, sizeof(*out));
	out->min_age_s = h->o.leak_min_age_s;
	err = health__report(h, pid, &h->o.th, &out->rss);
	if (err)
		return err == -ENODATA ? -ESRCH : err;
	out->heap_profiling = heapsrc__has_pid(heap_get(h), pid);
	heap_put(h);
	pthread_mutex_lock(&h->lock);
	w = find(h, pid);
	if (w) {
		out->total_stacks = leaks__report(&w->leaks, out->stacks, HEALTH_MAX_LEAKS);
		out->n_stacks =
		    out->total_stacks < HEALTH_MAX_LEAKS ? out->total_stacks : HEALTH_MAX_LEAKS;
		out->observations = w->leaks.observations;
		out->dropped = w->leaks.dropped;
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* ---- snapshots ---- */

struct snapshots *health__snapshots(struct health *h)
{
	return h ? h->snaps : NULL;
}

static int cpu_profile(struct health *h, uint32_t pid, unsigned int seconds, bool allow_empty,
		       struct profile **p)
{
	struct profile_filter f = {.pids = &pid, .n_pids = 1};
	int64_t now = now_ns();
	int err;

	*p = NULL;
	if (!h->o.store)
		return -ENOENT;
	err = store__query(h->o.store, now - (int64_t)seconds * NS, now, &f, p);
	if (!err && !allow_empty && !profile__n_samples(*p))
		err = -ENOENT;
	if (err) {
		profile__free(*p);
		*p = NULL;
	}
	return err;
}

static void comm_of(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	long n;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	n = procmem__read_text(path, buf, len);
	if (n <= 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int take(struct health *h, uint32_t pid, const char *type, unsigned int seconds,
		const char *reason, bool allow_empty, struct snapshot_meta *m)
{
	struct profile *p = NULL;
	uint8_t *gz = NULL;
	size_t len = 0;
	int err;

	memset(m, 0, sizeof(*m));
	if (!h->snaps)
		return -ENOTDIR;
	if (strcmp(type, "heap") && strcmp(type, "cpu"))
		return -EINVAL;
	if (!proc__alive(pid))
		return -ESRCH;
	if (!strcmp(type, "heap")) {
		err = heapsrc__profile(heap_get(h), pid, &p);
		heap_put(h);
		err = err == -ENOENT ? -ENOPROTOOPT : err;
	} else {
		err = cpu_profile(h, pid, seconds, allow_empty, &p);
	}
	if (!err)
		err = pprof__encode_gz(p, &gz, &len);
	if (!err) {
		m->pid = pid;
		comm_of(pid, m->comm, sizeof(m->comm));
		snprintf(m->type, sizeof(m->type), "%s", type);
		snprintf(m->reason, sizeof(m->reason), "%s", reason);
		err = snapshots__save(h->snaps, m, gz, len);
	}
	free(gz);
	profile__free(p);
	return err;
}

int health__snapshot(struct health *h, uint32_t pid, const char *type, unsigned int seconds,
		     const char *reason, struct snapshot_meta *out)
{
	return take(h, pid, type, seconds, reason, false, out);
}

/* ---- sampling ---- */

static enum leak_severity process_severity(struct watched *w, const struct health_report *r)
{
	struct leak_report top;
	enum leak_severity s = LEAK_NONE;

	if (leaks__report(&w->leaks, &top, 1))
		s = top.severity;
	if (r->sustained && s < LEAK_HIGH)
		s = LEAK_HIGH;
	if (r->status == HEALTH_CRITICAL)
		s = LEAK_CRITICAL;
	else if (r->status == HEALTH_WARNING && s < LEAK_MEDIUM)
		s = LEAK_MEDIUM;
	return s;
}

/* Lock held. True when an automatic snapshot is due now. */
static bool auto_due(struct health *h, struct watched *w, int64_t now)
{
	if (!h->snaps || h->o.auto_severity == LEAK_NONE || w->severity < h->o.auto_severity)
		return false;
	if (w->last_auto_ns && now - w->last_auto_ns < (int64_t)h->o.snapshot_cooldown_s * NS)
		return false;
	w->last_auto_ns = now;
	return true;
}

/* Lock held. Folds one sample into w; returns whether to snapshot. */
static bool apply(struct health *h, struct watched *w, struct sample *s, int64_t now)
{
	struct health_report r = {.pid = w->pid, .t_ns = now};

	w->mem = s->mem;
	w->has_mem = true;
	w->limit_bytes = s->limit_bytes;
	w->has_heap = s->has_heap;
	w->heap_inuse = s->heap_inuse;
	trend__add(&w->rss, now, s->mem.rss_kib * 1024.0);
	h->samples++;
	if (s->observed) {
		w->last_leak_ns = now;
		if (leaks__observe(&w->leaks, now, s->stacks, s->n_stacks))
			h->leak_errors++;
	}
	r.mem = w->mem;
	r.limit_bytes = w->limit_bytes;
	fill_report(h, w, now, &r);
	health_report__evaluate(&r, &h->o.th);
	w->status = r.status;
	w->severity = process_severity(w, &r);
	return auto_due(h, w, now);
}

static bool leak_due(struct health *h, uint32_t pid, int64_t now)
{
	struct watched *w;
	bool due;

	pthread_mutex_lock(&h->lock);
	w = find(h, pid);
	due = w && now - w->last_leak_ns >= (int64_t)h->o.window_s * NS;
	pthread_mutex_unlock(&h->lock);
	return due;
}

static void read_sample(struct health *h, uint32_t pid, int64_t now, struct sample *s)
{
	struct heap_tracker *t;

	memset(s, 0, sizeof(*s));
	s->err = procmem__read(NULL, pid, &s->mem);
	if (s->err)
		return;
	cgroup__memory_limit(NULL, NULL, pid, &s->limit_bytes);
	t = heap_get(h);
	s->has_heap = !heapsrc__inuse(t, pid, &s->heap_inuse);
	if (s->has_heap && leak_due(h, pid, now))
		s->observed = !heapsrc__live_stacks(t, pid, (int64_t)h->o.leak_min_age_s * NS,
						    &s->stacks, &s->n_stacks);
	heap_put(h);
}

static void auto_snapshot(struct health *h, uint32_t pid, enum leak_severity sev)
{
	bool heap = heapsrc__has_pid(heap_get(h), pid);
	struct snapshot_meta m;
	char reason[64];
	int err;

	heap_put(h);
	snprintf(reason, sizeof(reason), "auto: severity %s", leak_severity__name(sev));
	/* Without heap profiling, the CPU profile of the growth window is what there is. */
	err = take(h, pid, heap ? "heap" : "cpu", h->o.trend_window_s, reason, true, &m);
	pthread_mutex_lock(&h->lock);
	if (err)
		h->snapshot_errors++;
	else
		h->auto_snapshots++;
	pthread_mutex_unlock(&h->lock);
	if (err)
		fprintf(stderr,
			"bpfprof: health: automatic snapshot of PID %" PRIu32 " failed: %s\n", pid,
			strerror(-err));
	else
		fprintf(stderr,
			"bpfprof: health: PID %" PRIu32
			" (%s) reached severity %s: saved %s snapshot %s\n",
			pid, m.comm, leak_severity__name(sev), m.type, m.id);
}

static void sample_one(struct health *h, uint32_t pid)
{
	int64_t now = now_ns();
	enum leak_severity sev = LEAK_NONE;
	struct watched *w;
	struct sample s;
	bool snap = false;

	read_sample(h, pid, now, &s);
	pthread_mutex_lock(&h->lock);
	w = find(h, pid);
	if (w && s.err)
		drop(h, pid); /* exited (or became a zombie) */
	else if (w)
		snap = apply(h, w, &s, now);
	if (snap)
		sev = w->severity;
	pthread_mutex_unlock(&h->lock);
	free(s.stacks);
	if (snap)
		auto_snapshot(h, pid, sev);
}

static size_t pid_list(struct health *h, uint32_t *out)
{
	size_t n = 0;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < HEALTH_MAX_PIDS; i++)
		if (h->w[i])
			out[n++] = h->w[i]->pid;
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void tick(struct health *h)
{
	uint32_t pids[HEALTH_MAX_PIDS];
	size_t n;

	/* PIDs the heap tracker took on (--heap-pid, POST /api/v1/heap) are watched too. */
	n = heapsrc__pids(heap_get(h), pids, HEALTH_MAX_PIDS);
	heap_put(h);
	for (size_t i = 0; i < n; i++)
		health__watch(h, pids[i]);
	n = pid_list(h, pids);
	for (size_t i = 0; i < n; i++)
		sample_one(h, pids[i]);
}

static void *monitor(void *arg)
{
	struct health *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		pthread_mutex_unlock(&h->lock);
		tick(h);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += h->period_s;
		pthread_mutex_lock(&h->lock);
		while (!h->stopping && pthread_cond_timedwait(&h->cond, &h->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ---- metrics ---- */

struct row {
	uint32_t pid;
	char comm[PROCMEM_COMM_LEN];
	double v[N_GAUGES];
	bool ok[N_GAUGES];
};

static const struct {
	const char *name, *help;
} gauges[N_GAUGES] = {
    {"bpfprof_process_rss_bytes", "Resident memory of a watched process (VmRSS)."},
    {"bpfprof_process_pss_bytes", "Proportional set size of a watched process (smaps_rollup)."},
    {"bpfprof_process_virtual_bytes", "Virtual memory size of a watched process (VmSize)."},
    {"bpfprof_process_shared_bytes", "Resident file and shmem pages of a watched process."},
    {"bpfprof_process_swap_bytes", "Swapped-out memory of a watched process (VmSwap)."},
    {"bpfprof_process_threads", "Threads of a watched process."},
    {"bpfprof_process_heap_inuse_bytes", "Estimated live heap bytes (heap profiling)."},
    {"bpfprof_process_memory_growth_bytes_per_second",
     "Least-squares RSS slope over the trend window."},
    {"bpfprof_process_memory_limit_bytes", "cgroup v2 memory.max in force for the process."},
    {"bpfprof_process_memory_status", "Threshold status: 0 normal, 1 warning, 2 critical."},
    {"bpfprof_process_leak_severity",
     "Worst of leak, trend and threshold: 0 none, 1 low, 2 medium, 3 high, 4 critical."},
};

static void fill_row(struct health *h, const struct watched *w, int64_t now, struct row *r)
{
	struct trend_fit f;
	const double v[N_GAUGES] = {
	    w->mem.rss_kib * 1024.0,
	    w->mem.pss_kib * 1024.0,
	    w->mem.vm_kib * 1024.0,
	    w->mem.shared_kib * 1024.0,
	    w->mem.swap_kib * 1024.0,
	    w->mem.threads,
	    w->heap_inuse,
	    0,
	    w->limit_bytes,
	    w->status,
	    w->severity,
	};

	r->pid = w->pid;
	memcpy(r->comm, w->mem.comm, sizeof(r->comm));
	memcpy(r->v, v, sizeof(v));
	for (size_t i = 0; i < N_GAUGES; i++)
		r->ok[i] = true;
	r->ok[1] = w->mem.has_pss;
	r->ok[6] = w->has_heap;
	r->ok[7] = !trend__fit(&w->rss, now - (int64_t)h->o.trend_window_s * NS, &f);
	r->v[7] = r->ok[7] ? f.slope : 0;
	r->ok[8] = w->limit_bytes != 0;
}

/* Label values escape backslash, double quote and newline (text format 0.0.4). */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void write_family(FILE *f, size_t g, const struct row *rows, size_t n)
{
	bool head = false;

	for (size_t i = 0; i < n; i++) {
		if (!rows[i].ok[g])
			continue;
		if (!head)
			fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
				gauges[g].help, gauges[g].name);
		head = true;
		fprintf(f, "%s{pid=\"%" PRIu32 "\",comm=\"", gauges[g].name, rows[i].pid);
		label_value(f, rows[i].comm);
		fprintf(f, "\"} %.17g\n", rows[i].v[g]);
	}
}

static void metric(FILE *f, const char *name, const char *type, const char *help, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void health__write_metrics(struct health *h, FILE *f)
{
	struct row rows[HEALTH_MAX_PIDS];
	uint64_t c[5], dropped_pts = 0, dropped_stacks = 0;
	int64_t now = now_ns();
	size_t n = 0;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < HEALTH_MAX_PIDS; i++) {
		if (!h->w[i] || !h->w[i]->has_mem)
			continue;
		fill_row(h, h->w[i], now, &rows[n++]);
		dropped_pts += h->w[i]->rss.overwritten;
		dropped_stacks += h->w[i]->leaks.dropped;
	}
	c[0] = h->watch_dropped;
	c[1] = h->samples;
	c[2] = h->auto_snapshots;
	c[3] = h->snapshot_errors;
	c[4] = h->snaps ? snapshots__rotated(h->snaps) : 0;
	dropped_pts += h->gone_points;
	dropped_stacks += h->gone_stacks;
	pthread_mutex_unlock(&h->lock);
	for (size_t g = 0; g < N_GAUGES; g++)
		write_family(f, g, rows, n);
	metric(f, "bpfprof_health_watched_processes", "gauge",
	       "Processes the health monitor watches.", n);
	metric(f, "bpfprof_health_watch_dropped_total", "counter",
	       "PIDs not watched: the watch table was full.", c[0]);
	metric(f, "bpfprof_health_samples_total", "counter", "Memory samples taken.", c[1]);
	metric(f, "bpfprof_health_trend_points_dropped_total", "counter",
	       "RSS trend points overwritten by newer ones.", dropped_pts);
	metric(f, "bpfprof_health_leak_stacks_dropped_total", "counter",
	       "Allocation stacks not tracked: a per-process table was full.", dropped_stacks);
	metric(f, "bpfprof_health_auto_snapshots_total", "counter", "Automatic snapshots saved.",
	       c[2]);
	metric(f, "bpfprof_health_snapshot_errors_total", "counter",
	       "Automatic snapshots that failed.", c[3]);
	metric(f, "bpfprof_health_snapshots_rotated_total", "counter",
	       "Snapshots deleted by rotation.", c[4]);
}

/* ---- life cycle ---- */

static void set_defaults(struct health *h, const struct health_opts *o)
{
	h->o = *o;
	h->o.window_s = o->window_s ?: 10;
	h->o.trend_window_s = o->trend_window_s ?: 300;
	h->o.leak_min_age_s = o->leak_min_age_s ?: 60;
	h->o.pids = NULL;
	h->o.n_pids = 0;
	h->o.data_dir = NULL;
	h->heap = o->heap;
	/* About 30 points per trend window, at most one /proc read per PID a second. */
	h->period_s = h->o.trend_window_s / 30;
	h->period_s = h->period_s < 1 ? 1 : h->period_s > 5 ? 5 : h->period_s;
	h->trend_cap = h->o.trend_window_s / h->period_s + 2;
	if (h->trend_cap > TREND_MAX_POINTS)
		h->trend_cap = TREND_MAX_POINTS;
}

static void init_sync(struct health *h)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&h->lock, NULL);
	pthread_rwlock_init(&h->heap_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
}

static void watch_initial(struct health *h, const struct health_opts *o)
{
	for (size_t i = 0; i < o->n_pids; i++) {
		int err = health__watch(h, o->pids[i]);

		if (err)
			fprintf(stderr, "bpfprof: health: cannot watch PID %" PRIu32 ": %s\n",
				o->pids[i], err == -ESRCH ? "no such process" : strerror(-err));
	}
}

struct health *health__start(const struct health_opts *o)
{
	struct health *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	set_defaults(h, o);
	init_sync(h);
	if (o->data_dir) {
		h->snaps = snapshots__open(o->data_dir, o->snapshot_keep);
		if (!h->snaps) {
			fprintf(stderr, "bpfprof: health: cannot create %s/snapshots: %s\n",
				o->data_dir, strerror(errno));
			goto fail;
		}
	}
	watch_initial(h, o);
	err = pthread_create(&h->thread, NULL, monitor, h);
	if (err) {
		errno = err;
		fprintf(stderr, "bpfprof: health: cannot start the monitor: %s\n", strerror(err));
		goto fail;
	}
	h->thread_started = true;
	return h;
fail:
	health__stop(h);
	return NULL;
}

void health__stop(struct health *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		pthread_mutex_lock(&h->lock);
		h->stopping = true;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	for (size_t i = 0; i < HEALTH_MAX_PIDS; i++)
		watched_free(h->w[i]);
	snapshots__close(h->snaps);
	pthread_cond_destroy(&h->cond);
	pthread_rwlock_destroy(&h->heap_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
