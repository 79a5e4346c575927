// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/merge.h"
#include "profile/profile.h"
#include "serve/sampler.h"
#include "store/store.h"

#define DRAIN_INTERVAL_MS   1000
#define POLL_MS		    100
#define MAX_WAITERS_DEFAULT 16

struct waiter {
	const struct profile_filter *filter;
	struct profile *prof;
	int64_t end_ns;
	int err;
	bool done;
	/*
	 * The first slice after a request arrives holds samples from before it:
	 * it is skipped, and a drain is forced at once so that it is short.
	 */
	bool armed;
};

struct sampler {
	struct sampler_opts opts;
	struct symbolizer *sym;
	struct pipeline *pl;
	struct cpu_collector *col;
	int64_t period_ns;
	pthread_t thread;
	bool thread_started;
	volatile bool stopping;

	pthread_mutex_t lock; /* guards waiters and stats */
	pthread_cond_t cond;
	struct waiter **waiters;
	size_t n_waiters;
	/* Set under lock, read by the sampler thread: drain before the second is up. */
	volatile bool drain_now;
	int64_t next_end_ns; /* earliest waiter end, INT64_MAX when none */
	struct sampler_stats stats;

	struct profile *slice; /* sampler thread only */
	uint64_t stacks;       /* sampler thread only; published in update_stats */
	int64_t last_drain_ns; /* sampler thread only */
};

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct profile *sampler__new_profile(const struct sampler *s)
{
	static const struct profile_value_type types[] = {
	    {"samples", "count"},
	    {"cpu", "nanoseconds"},
	};
	struct profile *p = profile__new(types, 2, 1);

	if (p && profile__set_period(p, "cpu", "nanoseconds", s->period_ns)) {
		profile__free(p);
		p = NULL;
	}
	return p;
}

static void on_pid(uint32_t pid, uint32_t kind, void *ctx)
{
	pipeline__on_pid(ctx, pid, kind);
}

static int on_sample(const struct raw_sample *rs, void *ctx)
{
	struct sampler *s = ctx;
	int64_t values[2] = {(int64_t)rs->count, (int64_t)rs->count * s->period_ns};

	s->stacks++;
	return pipeline__add(s->pl, s->slice, rs, values);
}

/* Called with the lock held. */
static void update_deadline(struct sampler *s)
{
	s->next_end_ns = INT64_MAX;
	for (size_t i = 0; i < s->n_waiters; i++)
		if (!s->waiters[i]->done && s->waiters[i]->end_ns < s->next_end_ns)
			s->next_end_ns = s->waiters[i]->end_ns;
}

/* Hands the slice to every live request; wakes those whose time is up. */
static void feed_waiters(struct sampler *s, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_waiters; i++) {
		struct waiter *w = s->waiters[i];

		if (w->done)
			continue;
		if (!w->armed) {
			w->armed = true;
			continue;
		}
		if (!w->err)
			w->err = profile__merge(w->prof, s->slice, w->filter);
		if (now >= w->end_ns || w->err)
			w->done = true;
	}
	update_deadline(s);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static bool drain_due(struct sampler *s, int64_t last_ms)
{
	bool due;

	if (monotonic_ms() - last_ms >= DRAIN_INTERVAL_MS)
		return true;
	pthread_mutex_lock(&s->lock);
	due = s->drain_now || realtime_ns() >= s->next_end_ns;
	s->drain_now = false;
	pthread_mutex_unlock(&s->lock);
	return due;
}

static void update_stats(struct sampler *s)
{
	pthread_mutex_lock(&s->lock);
	s->stats.drains++;
	s->stats.stacks = s->stacks;
	cpu_collector__stats(s->col, &s->stats.cpu);
	pipeline__stats(s->pl, &s->stats.pipe);
	symbolizer__stats(s->sym, &s->stats.sym);
	pthread_mutex_unlock(&s->lock);
}

static int drain_once(struct sampler *s)
{
	int64_t now;
	int n;

	s->slice = sampler__new_profile(s);
	if (!s->slice)
		return -ENOMEM;
	n = cpu_collector__drain(s->col, on_sample, s);
	now = realtime_ns();
	profile__set_time(s->slice, s->last_drain_ns, now - s->last_drain_ns);
	s->last_drain_ns = now;
	if (n >= 0 && store__add(s->opts.store, s->slice, now)) {
		pthread_mutex_lock(&s->lock);
		s->stats.store_errors++;
		pthread_mutex_unlock(&s->lock);
	}
	feed_waiters(s, now);
	update_stats(s);
	profile__free(s->slice);
	s->slice = NULL;
	return n < 0 ? n : 0;
}

static void *sampler_thread(void *arg)
{
	struct sampler *s = arg;
	int64_t last = monotonic_ms();

	while (!s->stopping) {
		cpu_collector__poll(s->col, POLL_MS);
		if (!drain_due(s, last))
			continue;
		last = monotonic_ms();
		if (drain_once(s))
			fprintf(stderr, "bpfprof: draining samples failed\n");
	}
	cpu_collector__poll(s->col, 0);
	drain_once(s);
	return NULL;
}

static int sampler_open(struct sampler *s)
{
	struct symbolizer_opts so = {0};
	struct cpu_collector_opts co = {
	    .freq_hz = s->opts.freq_hz,
	    .no_kernel = s->opts.no_kernel,
	    .on_pid = on_pid,
	};

	s->sym = symbolizer__new(&so);
	if (!s->sym)
		return -errno;
	s->pl = pipeline__new(s->sym);
	if (!s->pl)
		return -ENOMEM;
	co.ctx = s->pl;
	s->col = cpu_collector__start(&co);
	return s->col ? 0 : -errno;
}

struct sampler *sampler__start(const struct sampler_opts *opts)
{
	struct sampler *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		goto fail;
	s->opts = *opts;
	if (!s->opts.max_waiters)
		s->opts.max_waiters = MAX_WAITERS_DEFAULT;
	s->period_ns = 1000000000LL / opts->freq_hz;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->next_end_ns = INT64_MAX;
	s->last_drain_ns = realtime_ns();
	s->waiters = calloc(s->opts.max_waiters, sizeof(*s->waiters));
	if (!s->waiters)
		goto fail;
	err = sampler_open(s);
	if (err)
		goto fail;
	err = -pthread_create(&s->thread, NULL, sampler_thread, s);
	if (err)
		goto fail;
	s->thread_started = true;
	return s;
fail:
	sampler__stop(s);
	errno = -err;
	return NULL;
}

void sampler__stop(struct sampler *s)
{
	if (!s)
		return;
	s->stopping = true;
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	cpu_collector__free(s->col);
	pipeline__free(s->pl);
	symbolizer__free(s->sym);
	free(s->waiters);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int waiter_add(struct sampler *s, struct waiter *w)
{
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (s->n_waiters >= s->opts.max_waiters) {
		err = -EBUSY;
	} else {
		s->waiters[s->n_waiters++] = w;
		s->drain_now = true;
		update_deadline(s);
	}
	s->stats.waiters = s->n_waiters;
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Called with the lock held. */
static void waiter_remove(struct sampler *s, struct waiter *w)
{
	for (size_t i = 0; i < s->n_waiters; i++) {
		if (s->waiters[i] == w) {
			s->waiters[i] = s->waiters[--s->n_waiters];
			break;
		}
	}
	update_deadline(s);
	s->stats.waiters = s->n_waiters;
}

static void wait_done(struct sampler *s, struct waiter *w, const volatile bool *cancel)
{
	struct timespec ts;

	while (!w->done && !(cancel && *cancel) && !s->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
}

int sampler__record(struct sampler *s, unsigned int seconds, const struct profile_filter *f,
		    const volatile bool *cancel, struct profile **out)
{
	struct waiter w = {.filter = f};
	int64_t start = realtime_ns();
	int err;

	*out = NULL;
	w.prof = sampler__new_profile(s);
	if (!w.prof)
		return -ENOMEM;
	w.end_ns = start + (int64_t)seconds * 1000000000LL;
	err = waiter_add(s, &w);
	if (err)
		goto out;
	pthread_mutex_lock(&s->lock);
	wait_done(s, &w, cancel);
	err = w.err ? w.err : (w.done ? 0 : -ECANCELED);
	waiter_remove(s, &w);
	pthread_mutex_unlock(&s->lock);
	if (!err) {
		profile__set_time(w.prof, start, realtime_ns() - start);
		*out = w.prof;
		w.prof = NULL;
	}
out:
	profile__free(w.prof);
	return err;
}

void sampler__stats(struct sampler *s, struct sampler_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}
