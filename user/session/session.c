// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The session's life cycle and its one poll-and-drain loop. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap/heap.h"
#include "profile/profile.h"
#include "session/session_int.h"
#include "util/clock.h"

struct profile *session__new_profile(const struct session *s)
{
	static const struct profile_value_type cpu[] = {{"samples", "count"},
							{"cpu", "nanoseconds"}};
	static const struct profile_value_type block[] = {{"contentions", "count"},
							  {"delay", "nanoseconds"}};
	static const struct profile_value_type wall[] = {{"wall", "nanoseconds"}};
	struct profile *p;
	int err;

	switch (s->o.type) {
	case SESSION_HEAP:
		return heap_profile__new(HEAP_INUSE_SPACE, s->o.heap_rate);
	case SESSION_CPU:
		p = profile__new(cpu, 2, 1);
		err = p ? profile__set_period(p, "cpu", "nanoseconds", s->period_ns) : -ENOMEM;
		break;
	case SESSION_WALL:
		p = profile__new(wall, 1, 0);
		err = p ? profile__set_period(p, "wall", "nanoseconds", s->period_ns) : -ENOMEM;
		break;
	default:
		/* As Go's block and mutex profiles: period type contentions/count, period 1. */
		p = profile__new(block, 2, 1);
		err = p ? profile__set_period(p, "contentions", "count", 1) : -ENOMEM;
		break;
	}
	if (err) {
		profile__free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

static void add_collector(struct session *s, const struct session_collector_ops *ops)
{
	s->col[s->n_col++].ops = ops;
}

/* Which probe families a type needs; the order is the attach order. */
static void choose_collectors(struct session *s)
{
	switch (s->o.type) {
	case SESSION_CPU:
		add_collector(s, &session_cpu_ops);
		break;
	case SESSION_WALL:
		/* The CPU collector first: the off-CPU one shares its unwinder. */
		add_collector(s, &session_cpu_ops);
		add_collector(s, &session_offcpu_ops);
		break;
	case SESSION_HEAP:
		add_collector(s, &session_heap_ops);
		break;
	default:
		add_collector(s, &session_offcpu_ops);
		break;
	}
}

static int open_collectors(struct session *s)
{
	int err = 0;

	choose_collectors(s);
	for (size_t i = 0; i < s->n_col && !err; i++) {
		s->col[i].c = s->col[i].ops->open(s);
		err = s->col[i].c ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < s->n_col && !err; i++)
		err = s->col[i].ops->attach(s, s->col[i].c);
	return err;
}

struct session *session__new(const struct session_opts *opts)
{
	struct symbolizer_opts so = {0};
	struct session *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		goto fail;
	s->o = *opts;
	if (!s->o.freq_hz)
		s->o.freq_hz = 99;
	s->period_ns = CLOCK_NS_PER_S / s->o.freq_hz;
	s->last_drain_ns = clock__ns(CLOCK_REALTIME);
	atomic_init(&s->cancel, false);
	s->sym = symbolizer__new(&so);
	s->pl = s->sym ? pipeline__new(s->sym) : NULL;
	s->prof = s->pl && !s->o.slices ? session__new_profile(s) : NULL;
	if (!s->pl || (!s->o.slices && !s->prof)) {
		fprintf(stderr, "bpfprof: out of memory\n");
		goto fail;
	}
	err = open_collectors(s);
	if (err)
		goto fail;
	return s;
fail:
	session__free(s);
	errno = -err;
	return NULL;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	/* Reverse order: wall's off-CPU collector uses the CPU collector's unwinder. */
	for (size_t i = s->n_col; i-- > 0;)
		s->col[i].ops->close(s->col[i].c);
	pipeline__free(s->pl);
	symbolizer__free(s->sym);
	profile__free(s->prof);
	free(s);
}

void session__cancel(struct session *s)
{
	/* Release: what the canceller wrote before is visible to the loop that sees it. */
	atomic_store_explicit(&s->cancel, true, memory_order_release);
}

bool session__cancelled(const struct session *s)
{
	return atomic_load_explicit(&((struct session *)s)->cancel, memory_order_acquire);
}

/* With several collectors, the first opened waits and the others are served in passing. */
static int poll_all(struct session *s, int timeout_ms)
{
	int err = 0;

	for (size_t i = s->n_col; i-- > 0 && err >= 0;)
		err = s->col[i].ops->poll(s->col[i].c, i ? 0 : timeout_ms);
	return err < 0 ? err : 0;
}

static bool targets_alive(struct session *s)
{
	for (size_t i = 0; i < s->n_col; i++)
		if (!s->col[i].ops->alive || s->col[i].ops->alive(s->col[i].c))
			return true;
	return false;
}

static int drain_all(struct session *s)
{
	int64_t now;
	int n = 0;

	if (s->o.slices) {
		s->prof = session__new_profile(s);
		if (!s->prof)
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_col && n >= 0; i++)
		n = s->col[i].ops->drain(s, s->col[i].c);
	now = clock__ns(CLOCK_REALTIME);
	s->counts.drains++;
	if (s->o.slices) {
		profile__set_time(s->prof, s->last_drain_ns, now - s->last_drain_ns);
		s->last_drain_ns = now;
	}
	if (n >= 0 && s->o.hooks.on_drain)
		s->o.hooks.on_drain(s, s->prof, now, s->o.hooks.ctx);
	if (s->o.slices) {
		profile__free(s->prof);
		s->prof = NULL;
	}
	if (n < 0 && s->o.keep_going) {
		fprintf(stderr, "bpfprof: draining samples failed: %s\n", strerror(-n));
		return 0;
	}
	return n < 0 ? n : 0;
}

/* Whether the loop ends now, and why; the stop hook runs first, as it may cancel. */
static bool should_end(struct session *s, int64_t deadline, enum session_end *why)
{
	const struct session_hooks *h = &s->o.hooks;
	bool stop = h->should_stop && h->should_stop(s, h->ctx);

	if (session__cancelled(s))
		*why = SESSION_END_CANCEL;
	else if (clock__ns(CLOCK_MONOTONIC) >= deadline)
		*why = SESSION_END_DEADLINE;
	else if (stop)
		*why = SESSION_END_STOP;
	else if (s->o.stop_when_targets_exit && !targets_alive(s))
		*why = SESSION_END_TARGETS;
	else
		return false;
	return true;
}

static bool drain_due(struct session *s, int64_t last_ns)
{
	if (clock__ns(CLOCK_MONOTONIC) - last_ns >= SESSION_DRAIN_MS * CLOCK_NS_PER_MS)
		return true;
	return s->o.hooks.drain_now && s->o.hooks.drain_now(s, s->o.hooks.ctx);
}

int session__run(struct session *s, enum session_end *end)
{
	int64_t last = clock__ns(CLOCK_MONOTONIC);
	int64_t deadline =
	    s->o.seconds > 0 ? last + (int64_t)(s->o.seconds * CLOCK_NS_PER_S) : INT64_MAX;
	enum session_end why;
	int err = 0;

	while (!err && !should_end(s, deadline, &why)) {
		err = poll_all(s, SESSION_POLL_MS);
		if (err)
			return err;
		if (drain_due(s, last)) {
			last = clock__ns(CLOCK_MONOTONIC);
			err = drain_all(s);
		}
	}
	if (err)
		return err;
	/* Serve notices raised by the last samples before reading them. */
	err = poll_all(s, 0);
	err = err ?: drain_all(s);
	if (!err && end)
		*end = why;
	return err;
}

int session__add_pid(struct session *s, uint32_t pid)
{
	int err = -ENOTSUP;

	for (size_t i = 0; i < s->n_col; i++) {
		if (!s->col[i].ops->add_pid)
			continue;
		err = s->col[i].ops->add_pid(s->col[i].c, pid);
		if (err)
			break;
	}
	return err;
}

struct profile *session__profile(struct session *s)
{
	return s->prof;
}

struct profile *session__take_profile(struct session *s)
{
	struct profile *p = s->prof, *fresh = session__new_profile(s);

	if (!fresh)
		return NULL;
	s->prof = fresh;
	return p;
}

void session__replace_profile(struct session *s, struct profile *p)
{
	profile__free(s->prof);
	s->prof = p;
}

void session__stats(struct session *s, struct session_stats *out)
{
	*out = s->counts;
	out->period_ns = s->period_ns;
	for (size_t i = 0; i < s->n_col; i++)
		if (s->col[i].ops->stats)
			s->col[i].ops->stats(s->col[i].c, out);
	pipeline__stats(s->pl, &out->pipe);
	symbolizer__stats(s->sym, &out->sym);
}
