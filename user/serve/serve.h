/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `bpfprof serve`: the continuous profiling daemon. */
#ifndef BPFPROF_SERVE_H
#define BPFPROF_SERVE_H

#include <stdbool.h>
#include <semaphore.h>
#include <stdint.h>

#include "config/config.h"

struct store;
struct sampler;
struct http_server;
struct health;
struct heap_tracker;
struct enroll;
struct symbol_index;

struct serve {
	struct config cfg;
	struct store *store;
	struct sampler *sampler;
	struct http_server *http;
	struct heap_tracker *heap; /* heap profiling: --heap-pid and POST /api/v1/heap */
	struct enroll *enroll;	   /* heap_auto_enroll: fed by the sampler, stopped after it */
	struct health *health; /* memory health monitor: after the store, stopped before it */
	struct symbol_index *symbols; /* served profiles' mappings, for /debug/pprof/symbol */
	volatile bool ready; /* probes attached */
	/*
	 * History queries merge windows into a fresh profile each; bounding how
	 * many run at once bounds the memory they take (a wait, then 503).
	 */
	sem_t query_slots;
	int64_t started_ns;
};

#define SERVE_QUERY_SLOTS 4
#define SERVE_QUERY_WAIT_S 10

int serve__main(int argc, char **argv, char **envp);

/* Route table of the daemon (user/serve/routes.c). */
struct http_route;
size_t serve__routes(struct serve *sv, const struct http_route **out);

#endif
