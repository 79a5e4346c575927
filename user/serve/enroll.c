// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap auto-enrollment of processes that loaded libbpfprof-heap.so. The
 * sampler thread only queues a notice; this thread reads /proc/PID/maps
 * once the loader has had time to map the preloaded library, and again a
 * little later when it had not yet.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heap/heap.h"
#include "serve/enroll.h"
#include "util/clock.h"

#define ENROLL_QUEUE	256 /* pending notices; beyond: dropped, counted */
#define ENROLL_FIRST_NS (250 * 1000000LL)
#define ENROLL_RETRY_NS (1500 * 1000000LL)
#define ENROLL_TRIES	2
#define ENROLL_TICK_MS	100
#define LIB_NAME	"/libbpfprof-heap"

struct pending {
	uint32_t pid;
	uint32_t tries;
	int64_t due_ns;
};

struct enroll {
	struct heap_tracker *heap;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct pending q[ENROLL_QUEUE];
	size_t n; /* unordered: a retry is due later than newer first checks */
	/* Counters: written under mu or by the thread, read for /metrics. */
	_Atomic uint64_t enrolled, drop_queue, drop_limit, drop_error;
};

/* Under mu: false when the queue is full. */
static bool push(struct enroll *e, uint32_t pid, uint32_t tries, int64_t due)
{
	if (e->n == ENROLL_QUEUE)
		return false;
	e->q[e->n++] = (struct pending){pid, tries, due};
	return true;
}

void enroll__notice(uint32_t pid, uint32_t kind, void *ctx)
{
	struct enroll *e = ctx;
	bool ok;

	(void)kind;
	if (!e || pid == (uint32_t)getpid())
		return;
	pthread_mutex_lock(&e->mu);
	ok = push(e, pid, 0, clock__ns(CLOCK_MONOTONIC) + ENROLL_FIRST_NS);
	pthread_mutex_unlock(&e->mu);
	if (!ok)
		atomic_fetch_add(&e->drop_queue, 1);
}

/* Has pid mapped the library? One read of its maps. */
static bool has_library(uint32_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, LIB_NAME) != NULL;
	free(line);
	fclose(f);
	return found;
}

/* Returns true to retry later (the library may not be mapped yet). */
static bool check(struct enroll *e, uint32_t pid)
{
	int err;

	if (heap_tracker__has_pid(e->heap, pid))
		return false;
	if (!has_library(pid))
		return true;
	err = heap_tracker__add_pid_mode(e->heap, pid, HEAP_MODE_PRELOAD);
	switch (err) {
	case 0:
		atomic_fetch_add(&e->enrolled, 1);
		fprintf(stderr,
			"bpfprof: heap: enrolled PID %" PRIu32 " (libbpfprof-heap.so loaded)\n",
			pid);
		break;
	case -EEXIST:
	case -ESRCH:
		break;
	case -ENOSPC:
		atomic_fetch_add(&e->drop_limit, 1);
		break;
	default:
		atomic_fetch_add(&e->drop_error, 1);
		fprintf(stderr, "bpfprof: heap: cannot enroll PID %" PRIu32 ": %s\n", pid,
			err == -ENOENT ? "its executable bypasses the library's malloc"
				       : strerror(-err));
	}
	return false;
}

/* Takes a due notice: true with *out filled. */
static bool pop_due(struct enroll *e, int64_t now, struct pending *out)
{
	bool due = false;

	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->n && !due; i++) {
		due = e->q[i].due_ns <= now;
		if (due) {
			*out = e->q[i];
			e->q[i] = e->q[--e->n];
		}
	}
	pthread_mutex_unlock(&e->mu);
	return due;
}

static void *enroll_thread(void *arg)
{
	struct enroll *e = arg;
	struct pending p;

	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&e->mu);
		if (!e->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += ENROLL_TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&e->cond, &e->mu, &ts);
		}
		if (e->stop) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		pthread_mutex_unlock(&e->mu);
		while (pop_due(e, clock__ns(CLOCK_MONOTONIC), &p)) {
			if (!check(e, p.pid) || ++p.tries >= ENROLL_TRIES)
				continue;
			pthread_mutex_lock(&e->mu);
			if (!push(e, p.pid, p.tries, clock__ns(CLOCK_MONOTONIC) + ENROLL_RETRY_NS))
				atomic_fetch_add(&e->drop_queue, 1);
			pthread_mutex_unlock(&e->mu);
		}
	}
	return NULL;
}

struct enroll *enroll__start(struct heap_tracker *t)
{
	struct enroll *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->heap = t;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cond, NULL);
	err = pthread_create(&e->thread, NULL, enroll_thread, e);
	if (err) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->mu);
		free(e);
		errno = err;
		return NULL;
	}
	return e;
}

void enroll__stop(struct enroll *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void enroll__write_metrics(struct enroll *e, FILE *f)
{
	if (!e)
		return;
	fprintf(f,
		"# HELP bpfprof_heap_auto_enrolled_total Processes with libbpfprof-heap.so "
		"enrolled as heap targets on their own.\n"
		"# TYPE bpfprof_heap_auto_enrolled_total counter\n"
		"bpfprof_heap_auto_enrolled_total %" PRIu64 "\n"
		"# HELP bpfprof_heap_auto_enroll_dropped_total Processes with the library not "
		"enrolled: queue full, heap target limit reached, or an error.\n"
		"# TYPE bpfprof_heap_auto_enroll_dropped_total counter\n"
		"bpfprof_heap_auto_enroll_dropped_total{reason=\"queue\"} %" PRIu64 "\n"
		"bpfprof_heap_auto_enroll_dropped_total{reason=\"limit\"} %" PRIu64 "\n"
		"bpfprof_heap_auto_enroll_dropped_total{reason=\"error\"} %" PRIu64 "\n",
		atomic_load(&e->enrolled), atomic_load(&e->drop_queue), atomic_load(&e->drop_limit),
		atomic_load(&e->drop_error));
}
