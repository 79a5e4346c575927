// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The session loop with real collectors in the real kernel: how a run ends
 * (cancel from another thread, deadline, the targets' exit, the stop hook),
 * the slices handed to on_drain, and which sample types each type builds.
 * Needs root (BPF); skipped otherwise. Sessions watch a child of ours, not
 * the whole system: other processes' files are no part of these tests.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile/profile.h"
#include "session/session.h"

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "# skipped: BPF needs root\n");
	return false;
}

/* A child that spins for ms milliseconds, then exits. */
static pid_t spin_child(int ms)
{
	pid_t pid = fork();
	struct timespec t0, t;
	volatile uint64_t x = 0;

	if (pid)
		return pid;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	_exit(0);
}

/* A spinning child for each test, killed after it. */
static pid_t spinner;
static uint32_t spinner_pid;

static int spinner_start(void **state)
{
	(void)state;
	spinner = spin_child(20000);
	spinner_pid = spinner;
	return spinner > 0 ? 0 : -1;
}

static int spinner_stop(void **state)
{
	int status;

	(void)state;
	kill(spinner, SIGKILL);
	waitpid(spinner, &status, 0);
	return 0;
}

static void *cancel_soon(void *arg)
{
	usleep(200 * 1000);
	session__cancel(arg);
	return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
	struct session_opts so = {.type = SESSION_CPU, .freq_hz = 99, .pids = &spinner_pid,
				  .n_pids = 1};
	struct session *s;
	enum session_end end = SESSION_END_DEADLINE;
	pthread_t th;

	(void)state;
	if (!need_root())
		return;
	s = session__new(&so); /* no deadline: only the cancel ends it */
	assert_non_null(s);
	assert_false(session__cancelled(s));
	assert_int_equal(pthread_create(&th, NULL, cancel_soon, s), 0);
	assert_int_equal(session__run(s, &end), 0);
	pthread_join(th, NULL);
	assert_int_equal(end, SESSION_END_CANCEL);
	assert_true(session__cancelled(s));
	session__free(s);
}

static void test_deadline_and_cpu_types(void **state)
{
	struct session_opts so = {.type = SESSION_CPU, .freq_hz = 199, .seconds = 0.3,
				  .pids = &spinner_pid, .n_pids = 1};
	struct session_stats st;
	enum session_end end = SESSION_END_CANCEL;
	struct session *s;
	struct profile *p;
	int64_t period;
	struct profile_value_type pt;

	(void)state;
	if (!need_root())
		return;
	s = session__new(&so);
	assert_non_null(s);
	assert_int_equal(session__run(s, &end), 0);
	assert_int_equal(end, SESSION_END_DEADLINE);
	p = session__profile(s);
	assert_int_equal(profile__n_types(p), 2);
	assert_string_equal(profile__type(p, 0)->type, "samples");
	assert_string_equal(profile__type(p, 1)->type, "cpu");
	profile__period(p, &pt, &period);
	assert_int_equal(period, 1000000000LL / 199);
	session__stats(s, &st);
	assert_true(st.has_cpu);
	assert_false(st.has_offcpu);
	assert_true(st.drains >= 1); /* the last drain always runs */
	assert_int_equal(st.period_ns, 1000000000LL / 199);
	session__free(s);
}

static void test_targets_exit_ends_run(void **state)
{
	pid_t child;
	uint32_t pid;
	struct session_opts so = {.type = SESSION_CPU, .freq_hz = 99, .seconds = 30};
	enum session_end end = SESSION_END_DEADLINE;
	struct session_stats st;
	struct session *s;
	int status;

	(void)state;
	if (!need_root())
		return;
	child = spin_child(300);
	assert_true(child > 0);
	pid = child;
	so.pids = &pid;
	so.n_pids = 1;
	so.stop_when_targets_exit = true;
	s = session__new(&so);
	assert_non_null(s);
	/* Reaped by a thread-free wait: the loop sees the PID gone once it is reaped. */
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(session__run(s, &end), 0);
	assert_int_equal(end, SESSION_END_TARGETS);
	session__stats(s, &st);
	assert_true(st.drains >= 1);
	session__free(s);
}

struct slices {
	int calls;
	struct profile *last;
	bool distinct; /* every slice a different, fresh profile */
	int64_t last_end;
	bool contiguous; /* each slice starts where the previous ended */
};

static void on_slice(struct session *s, struct profile *p, int64_t now, void *ctx)
{
	struct slices *sl = ctx;
	int64_t t, d;

	(void)s;
	profile__time(p, &t, &d);
	if (sl->calls && t != sl->last_end)
		sl->contiguous = false;
	sl->last_end = t + d;
	assert_true(t + d == now);
	sl->calls++;
	sl->last = p;
}

static bool drain_always(struct session *s, void *ctx)
{
	(void)s;
	(void)ctx;
	return true;
}

static bool stop_after_three(struct session *s, void *ctx)
{
	struct slices *sl = ctx;

	(void)s;
	return sl->calls >= 3;
}

static void test_slices_and_stop_hook(void **state)
{
	struct slices sl = {.distinct = true, .contiguous = true};
	struct session_opts so = {
	    .type = SESSION_CPU,
	    .freq_hz = 99,
	    .pids = &spinner_pid,
	    .n_pids = 1,
	    .slices = true,
	    .hooks = {.should_stop = stop_after_three,
		      .drain_now = drain_always,
		      .on_drain = on_slice,
		      .ctx = &sl},
	};
	enum session_end end = SESSION_END_DEADLINE;
	struct session *s;

	(void)state;
	if (!need_root())
		return;
	s = session__new(&so);
	assert_non_null(s);
	assert_null(session__profile(s)); /* slices: no profile between drains */
	assert_int_equal(session__run(s, &end), 0);
	assert_int_equal(end, SESSION_END_STOP);
	/* Three drains asked for by drain_now, then the last one. */
	assert_int_equal(sl.calls, 4);
	assert_true(sl.contiguous);
	session__free(s);
}

static void test_block_and_wall_types(void **state)
{
	struct session_opts so = {.type = SESSION_MUTEX, .seconds = 0.1, .min_block_ns = 1000,
				  .pids = &spinner_pid, .n_pids = 1};
	struct session_stats st;
	struct session *s;
	struct profile *p;

	(void)state;
	if (!need_root())
		return;
	s = session__new(&so);
	assert_non_null(s);
	assert_int_equal(session__run(s, NULL), 0);
	p = session__take_profile(s);
	assert_non_null(p);
	assert_ptr_not_equal(p, session__profile(s));
	assert_string_equal(profile__type(p, 0)->type, "contentions");
	assert_string_equal(profile__type(p, 1)->type, "delay");
	profile__free(p);
	session__free(s);

	so = (struct session_opts){
	    .type = SESSION_WALL, .pids = &spinner_pid, .n_pids = 1, .seconds = 0.2};
	s = session__new(&so);
	assert_non_null(s);
	assert_int_equal(session__run(s, NULL), 0);
	p = session__profile(s);
	assert_int_equal(profile__n_types(p), 1);
	assert_string_equal(profile__type(p, 0)->type, "wall");
	session__stats(s, &st);
	assert_true(st.has_cpu && st.has_offcpu);
	assert_int_equal(session__add_pid(s, spinner_pid), -ENOTSUP); /* only heap adds PIDs */
	session__free(s);
}

static void test_bad_pid_fails_cleanly(void **state)
{
	uint32_t pid = 0x3fffffff; /* above any pid_max */
	struct session_opts so = {.type = SESSION_HEAP, .pids = &pid, .n_pids = 1};

	(void)state;
	if (!need_root())
		return;
	errno = 0;
	assert_null(session__new(&so));
	assert_int_equal(errno, ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cancel_from_another_thread, spinner_start, spinner_stop),
	    cmocka_unit_test_setup_teardown(test_deadline_and_cpu_types, spinner_start, spinner_stop),
	    cmocka_unit_test(test_targets_exit_ends_run),
	    cmocka_unit_test_setup_teardown(test_slices_and_stop_hook, spinner_start, spinner_stop),
	    cmocka_unit_test_setup_teardown(test_block_and_wall_types, spinner_start, spinner_stop),
	    cmocka_unit_test(test_bad_pid_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
