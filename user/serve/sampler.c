// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/merge.h"
#include "profile/profile.h"
#include "serve/sampler.h"
#include "session/session.h"
#include "store/store.h"
#include "util/clock.h"

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
	struct session *sess; /* the sampler thread's once started */
	pthread_t thread;
	bool thread_started;
	/* Set by sampler__stop, read by waiting requests: release/acquire. */
	atomic_bool stopping;

	pthread_mutex_t lock; /* guards waiters and stats */
	pthread_cond_t cond;
	struct waiter **waiters;
	size_t n_waiters;
	/* Set under lock, read by the sampler thread: drain before the second is up. */
	volatile bool drain_now;
	int64_t next_end_ns; /* earliest waiter end, INT64_MAX when none */
	struct sampler_stats stats;
};

struct profile *sampler__new_profile(const struct sampler *s)
{
	return session__new_profile(s->sess);
}

static bool is_stopping(struct sampler *s)
{
	return atomic_load_explicit(&s->stopping, memory_order_acquire);
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
static void feed_waiters(struct sampler *s, struct profile *slice, int64_t now)
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
			w->err = profile__merge(w->prof, slice, w->filter);
		if (now >= w->end_ns || w->err)
			w->done = true;
	}
	update_deadline(s);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void on_pid(struct session *sess, uint32_t pid, uint32_t kind, void *ctx)
{
	struct sampler *s = ctx;

	(void)sess;
	if (s->opts.on_pid)
		s->opts.on_pid(pid, kind, s->opts.on_pid_ctx);
}

/* A request just came, or one's time is up: drain before the second is. */
static bool drain_now(struct session *sess, void *ctx)
{
	struct sampler *s = ctx;
	bool due;

	(void)sess;
	pthread_mutex_lock(&s->lock);
	due = s->drain_now || clock__ns(CLOCK_REALTIME) >= s->next_end_ns;
	s->drain_now = false;
	pthread_mutex_unlock(&s->lock);
	return due;
}

static void update_stats(struct sampler *s)
{
	struct session_stats st;

	session__stats(s->sess, &st);
	pthread_mutex_lock(&s->lock);
	s->stats.drains = st.drains;
	s->stats.stacks = st.stacks;
	s->stats.cpu = st.cpu;
	s->stats.pipe = st.pipe;
	s->stats.sym = st.sym;
	pthread_mutex_unlock(&s->lock);
}

/* Each slice goes to the store and to every live request. */
static void on_slice(struct session *sess, struct profile *slice, int64_t now, void *ctx)
{
	struct sampler *s = ctx;

	(void)sess;
	if (store__add(s->opts.store, slice, now)) {
		pthread_mutex_lock(&s->lock);
		s->stats.store_errors++;
		pthread_mutex_unlock(&s->lock);
	}
	feed_waiters(s, slice, now);
	update_stats(s);
}

static void *sampler_thread(void *arg)
{
	struct sampler *s = arg;
	int err = session__run(s->sess, NULL);

	if (err)
		fprintf(stderr, "bpfprof: CPU sampling stopped: %s\n", strerror(-err));
	return NULL;
}

static int sampler_open(struct sampler *s)
{
	struct session_opts so = {
	    .type = SESSION_CPU,
	    .freq_hz = s->opts.freq_hz,
	    .no_kernel = s->opts.no_kernel,
	    .unwind_table_mb = s->opts.unwind_table_mb,
	    .slices = true,
	    .keep_going = true,
	    .hooks = {.drain_now = drain_now, .on_drain = on_slice, .on_pid = on_pid, .ctx = s},
	};

	s->sess = session__new(&so);
	return s->sess ? 0 : -errno;
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
	atomic_init(&s->stopping, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->next_end_ns = INT64_MAX;
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
	atomic_store_explicit(&s->stopping, true, memory_order_release);
	if (s->sess)
		session__cancel(s->sess);
	/* The session's last drain goes to the store; then every probe is detached. */
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	session__free(s->sess);
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

	while (!w->done && !(cancel && *cancel) && !is_stopping(s)) {
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
	int64_t start = clock__ns(CLOCK_REALTIME);
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
		profile__set_time(w.prof, start, clock__ns(CLOCK_REALTIME) - start);
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
