// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Heap routes of the daemon: /debug/pprof/heap and /debug/pprof/allocs
 * (Go's names and defaults) and /api/v1/heap to start, stop and list heap
 * profiling of a PID. Thin: everything is the tracker's.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "heap/heap.h"
#include "http/http.h"
#include "profile/profile.h"
#include "serve/enroll.h"
#include "serve/heap_routes.h"
#include "serve/routes.h"
#include "serve/serve.h"
#include "util/proc.h"

/* pid= as a positive PID: 0, or 1 with a 400 in resp. */
static int pid_arg(const struct http_req *req, struct http_resp *resp, uint32_t *pid)
{
	const char *s = http_req__arg(req, "pid");
	char *end;
	long v;

	if (!s || !*s)
		return http_resp__error(resp, 400, "missing parameter 'pid'") ?: 1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return http_resp__error(resp, 400, "invalid parameter 'pid': '%.32s'", s) ?: 1;
	*pid = v;
	return 0;
}

static int no_tracker(struct http_resp *resp)
{
	resp->retry_after_s = 5;
	return http_resp__error(resp, 503, "heap profiling is not running");
}

static int heap_profile_route(const struct http_req *req, struct http_resp *resp,
			      struct serve *sv, enum heap_value type)
{
	const char *fmt = http_req__arg(req, "format");
	struct profile *p = NULL;
	uint32_t pid;
	int err;

	if (!sv->heap)
		return no_tracker(resp);
	if (fmt && strcmp(fmt, "pprof") && strcmp(fmt, "folded"))
		return http_resp__error(resp, 400, "invalid parameter 'format': expected pprof or folded");
	err = pid_arg(req, resp, &pid);
	if (err)
		return err < 0 ? err : 0;
	if (!heap_tracker__has_pid(sv->heap, pid))
		return proc__alive(pid) ?
			       http_resp__error(resp, 404,
						"PID %" PRIu32 " is not heap-profiled: POST "
						"/api/v1/heap?pid=%" PRIu32 " first",
						pid, pid) :
			       http_resp__error(resp, 404, "no process with PID %" PRIu32, pid);
	err = heap_tracker__profile(sv->heap, pid, type, &p);
	if (err == -ENOENT)
		return http_resp__error(resp, 404, "PID %" PRIu32 " is not heap-profiled", pid);
	if (err)
		return err;
	err = routes__send_profile(sv, p, fmt && !strcmp(fmt, "folded"), type,
				   "attachment; filename=\"heap.pb.gz\"", resp);
	profile__free(p);
	return err;
}

int heap_routes__heap(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	return heap_profile_route(req, resp, ctx, HEAP_INUSE_SPACE);
}

int heap_routes__allocs(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	return heap_profile_route(req, resp, ctx, HEAP_ALLOC_SPACE);
}

/* What the governor charges per call of each kind on this target (ns). */
static struct json_object *costs_json(const struct heap_costs *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "unsampled", json_object_new_double(c->call_ns));
	json_object_object_add(o, "sampled", json_object_new_double(c->sampled_ns));
	json_object_object_add(o, "free", json_object_new_double(c->free_ns));
	json_object_object_add(o, "free_sampled", json_object_new_double(c->free_tracked_ns));
	return o;
}

static struct json_object *stats_json(const struct heap_pid_stats *s)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pid", json_object_new_int64(s->pid));
	json_object_object_add(o, "mode", json_object_new_string(heap_mode__name(s->mode)));
	json_object_object_add(o, "allocator", json_object_new_string(heap_allocator__name(s->allocator)));
	json_object_object_add(o, "allocator_path",
			       json_object_new_string(s->allocator_path ? s->allocator_path : ""));
	json_object_object_add(o, "attached", json_object_new_boolean(s->attached));
	json_object_object_add(o, "uprobe_sessions", json_object_new_boolean(s->sessions));
	json_object_object_add(o, "trap_cost_ns", json_object_new_double(s->trap_cost_ns));
	json_object_object_add(o, "call_cost_ns", costs_json(&s->cost));
	json_object_object_add(o, "traps_per_second", json_object_new_double(s->traps_per_s));
	json_object_object_add(o, "calls_per_second", json_object_new_double(s->calls_per_s));
	json_object_object_add(o, "sampled_per_second", json_object_new_double(s->sampled_per_s));
	json_object_object_add(o, "projected_cpu_percent",
			       json_object_new_double(s->projected_cpu_percent));
	json_object_object_add(o, "degraded", json_object_new_boolean(s->degraded));
	json_object_object_add(o, "duty_cycle", json_object_new_double(s->duty_cycle));
	json_object_object_add(o, "inuse_bytes", json_object_new_int64(s->inuse_bytes_est));
	json_object_object_add(o, "inuse_objects", json_object_new_int64(s->inuse_objects_est));
	json_object_object_add(o, "alloc_bytes", json_object_new_int64(s->alloc_bytes_est));
	json_object_object_add(o, "live_dropped", json_object_new_int64(s->live_dropped));
	return o;
}

static int reply_stats(struct serve *sv, uint32_t pid, int status, struct http_resp *resp)
{
	struct heap_pid_stats s;
	struct json_object *o;
	int err = heap_tracker__pid_stats(sv->heap, pid, &s);

	if (err)
		return http_resp__error(resp, 404, "PID %" PRIu32 " is not heap-profiled", pid);
	o = stats_json(&s);
	err = o ? http_resp__json(resp, status,
				  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) :
		  -ENOMEM;
	json_object_put(o);
	return err;
}

/* mode= of POST, else heap_mode from the config: 0, or 1 with a 400 in resp. */
static int mode_arg(const struct http_req *req, struct http_resp *resp, const struct serve *sv,
		    enum heap_mode *mode)
{
	const char *s = http_req__arg(req, "mode");

	*mode = (enum heap_mode)sv->cfg.heap_mode;
	if (!s)
		return 0;
	if (heap_mode__parse(s, mode))
		return http_resp__error(resp, 400,
					"invalid parameter 'mode': '%.32s': expected auto, "
					"preload or uprobe",
					s) ?:
		       1;
	return 0;
}

static int add_pid(struct serve *sv, uint32_t pid, enum heap_mode mode, struct http_resp *resp)
{
	int err = heap_tracker__add_pid_mode(sv->heap, pid, mode);

	switch (err) {
	case 0:
		return reply_stats(sv, pid, 201, resp);
	case -ESRCH:
		return http_resp__error(resp, 404, "no process with PID %" PRIu32, pid);
	case -EEXIST:
		return http_resp__error(resp, 409, "PID %" PRIu32 " is already heap-profiled", pid);
	case -ENOSPC:
		return http_resp__error(resp, 409, "too many heap-profiled PIDs; DELETE one first");
	case -ENOENT:
		if (mode == HEAP_MODE_PRELOAD)
			return http_resp__error(resp, 409,
						"libbpfprof-heap.so is not loaded in PID %" PRIu32
						" (start it with LD_PRELOAD=libbpfprof-heap.so, "
						"or use mode=uprobe or mode=auto)",
						pid);
		return http_resp__error(resp, 422,
					"PID %" PRIu32 " maps no known allocator (malloc)", pid);
	default:
		return http_resp__error(resp, 500, "cannot attach to PID %" PRIu32 ": %s", pid,
					strerror(-err));
	}
}

static int list_pids(struct serve *sv, struct http_resp *resp)
{
	uint32_t pids[256];
	size_t n = heap_tracker__pids(sv->heap, pids, 256);
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct heap_pid_stats s;
	int err = -ENOMEM;

	for (size_t i = 0; o && arr && i < n && i < 256; i++)
		if (!heap_tracker__pid_stats(sv->heap, pids[i], &s))
			json_object_array_add(arr, stats_json(&s));
	if (o && arr) {
		json_object_object_add(o, "pids", arr);
		arr = NULL;
		err = http_resp__json(resp, 200,
				      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(arr);
	json_object_put(o);
	return err;
}

int heap_routes__api(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;
	enum heap_mode mode;
	uint32_t pid;
	int err;

	if (!sv->heap)
		return no_tracker(resp);
	if (!strcmp(req->method, "GET") && !http_req__arg(req, "pid"))
		return list_pids(sv, resp);
	err = pid_arg(req, resp, &pid);
	if (err)
		return err < 0 ? err : 0;
	if (!strcmp(req->method, "POST")) {
		err = mode_arg(req, resp, sv, &mode);
		return err ? (err < 0 ? err : 0) : add_pid(sv, pid, mode, resp);
	}
	if (!strcmp(req->method, "GET"))
		return reply_stats(sv, pid, 200, resp);
	if (heap_tracker__remove_pid(sv->heap, pid))
		return http_resp__error(resp, 404, "PID %" PRIu32 " is not heap-profiled", pid);
	return http_resp__json(resp, 200, "{\"status\":\"removed\"}");
}

void heap_routes__metrics(struct serve *sv, FILE *f)
{
	if (sv->heap)
		heap_tracker__write_metrics(sv->heap, f);
	enroll__write_metrics(sv->enroll, f);
}
