// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's routes: thin handlers over the store, the sampler and reports. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "offcpu_keys.h"
#include "http/http.h"
#include "serve/health_routes.h"
#include "serve/heap_routes.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "serve/block.h"
#include "serve/query.h"
#include "serve/report.h"
#include "serve/routes.h"
#include "serve/sampler.h"
#include "serve/serve.h"
#include "serve/symbol.h"
#include "store/store.h"
#include "util/proc.h"
#include "writer/folded.h"
#include "writer/pprof.h"

#define NS 1000000000LL
#define PROFILE_DISPOSITION "attachment; filename=\"profile.pb.gz\""
#define CPU_NS_TYPE 1
#define HOTSPOTS_MAX 20

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void filter_of(const struct query *q, struct profile_filter *f)
{
	f->pids = q->pids;
	f->n_pids = q->n_pids;
	f->comm = q->comm[0] ? q->comm : NULL;
}

static int json_reply(struct http_resp *resp, int status, struct json_object *obj)
{
	int err = obj ? http_resp__json(resp, status,
					json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN)) :
			-ENOMEM;

	json_object_put(obj);
	return err;
}

/* Live PIDs are required for a wait; history may name a PID that has exited. */
static int check_pids(const struct query *q, struct http_resp *resp)
{
	for (size_t i = 0; i < q->n_pids; i++)
		if (!proc__alive(q->pids[i]))
			return http_resp__error(resp, 404, "no process with PID %" PRIu32,
						q->pids[i]) ?: 1;
	return 0;
}

static int query_slot_take(struct serve *sv, struct http_resp *resp)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SERVE_QUERY_WAIT_S;
	while (sem_timedwait(&sv->query_slots, &ts)) {
		if (errno == EINTR)
			continue;
		resp->retry_after_s = 1;
		return http_resp__error(resp, 503, "too many history queries at once") ?: 1;
	}
	return 0;
}

static void query_slot_give(struct serve *sv)
{
	sem_post(&sv->query_slots);
	/* Merges free many small blocks; hand the pages back rather than hoard the peak. */
	malloc_trim(0);
}

static int range_profile(struct serve *sv, const struct query *q, struct http_resp *resp,
			 struct profile **out)
{
	struct profile_filter f;
	int err = query_slot_take(sv, resp);

	if (err)
		return err;
	filter_of(q, &f);
	err = store__query(sv->store, q->from_ns, q->to_ns, &f, out);
	query_slot_give(sv);
	if (err == -ENOENT)
		return http_resp__error(resp, 404, "no samples stored for that time range") ?: 1;
	if (err)
		return err;
	if (q->n_pids && !profile__n_samples(*out) && check_pids(q, resp)) {
		profile__free(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

static int wait_profile(struct serve *sv, const struct http_req *req, const struct query *q,
			struct http_resp *resp, struct profile **out)
{
	struct profile_filter f;
	int err = check_pids(q, resp);

	if (err)
		return err;
	filter_of(q, &f);
	err = sampler__record(sv->sampler, q->seconds, &f, req->cancel, out);
	if (err == -EBUSY) {
		resp->retry_after_s = 1;
		return http_resp__error(resp, 503, "too many profile requests waiting") ?: 1;
	}
	if (err == -ECANCELED)
		return http_resp__error(resp, 503, "shutting down") ?: 1;
	return err;
}

/*
 * Resolves a query into a profile, or fills resp with the 4xx/5xx that
 * explains why not and returns 1. Negative errno: internal failure.
 */
static int get_profile(struct serve *sv, const struct http_req *req,
		       const struct query_rules *rules, struct query *q, struct http_resp *resp,
		       struct profile **out)
{
	char err[256];
	int status = query__parse(req, rules, q, err, sizeof(err));

	*out = NULL;
	if (status)
		return http_resp__error(resp, status, "%s", err) ?: 1;
	if (!sv->ready || !sv->sampler) {
		resp->retry_after_s = 1;
		return http_resp__error(resp, 503, "probes not attached yet") ?: 1;
	}
	if (q->mode == QUERY_WAIT)
		return wait_profile(sv, req, q, resp, out);
	return range_profile(sv, q, resp, out);
}

static struct query_rules rules_for(struct serve *sv, bool default_wait, unsigned int dflt)
{
	struct query_rules r = {
		.default_seconds = dflt < sv->cfg.max_seconds ? dflt : sv->cfg.max_seconds,
		.max_seconds = sv->cfg.max_seconds,
		.allow_wait = true,
		.default_wait = default_wait,
		.now_ns = now_ns(),
	};

	return r;
}

int routes__send_profile(struct serve *sv, const struct profile *p, bool folded,
			 size_t folded_type, const char *disposition, struct http_resp *resp)
{
	char *buf = NULL;
	size_t len = 0;
	uint8_t *gz = NULL;
	FILE *f;
	int err;

	if (!folded) {
		/* pprof may come back for what the profile leaves unsymbolized. */
		err = symbol_index__remember(sv ? sv->symbols : NULL, p);
		err = err ?: pprof__encode_gz(p, &gz, &len);
		if (!err) {
			resp->status = 200;
			resp->content_type = "application/octet-stream";
			resp->content_disposition = disposition;
			resp->body = gz;
			resp->len = len;
		}
		return err;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	err = folded__write(p, folded_type, f);
	if (fclose(f))
		err = err ?: -ENOMEM;
	if (!err)
		err = http_resp__bytes(resp, 200, "text/plain; charset=utf-8", buf, len);
	free(buf);
	return err;
}

static int h_profile(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;
	struct query_rules rules = rules_for(sv, true, 30);
	struct query q;
	struct profile *p;
	int err = get_profile(sv, req, &rules, &q, resp, &p);

	if (err)
		return err < 0 ? err : 0;
	err = routes__send_profile(sv, p, q.folded, 0, PROFILE_DISPOSITION, resp);
	profile__free(p);
	return err;
}

/* Off-CPU profiles: folded stacks carry the delay in nanoseconds. */
static int off_cpu_route(const struct http_req *req, struct http_resp *resp, struct serve *sv,
			 uint32_t mode)
{
	struct profile *p;
	struct query q;
	int err = block__profile(sv, req, mode, &q, resp, &p);

	if (err)
		return err < 0 ? err : 0;
	err = routes__send_profile(sv, p, q.folded, profile__default_type(p), PROFILE_DISPOSITION,
				   resp);
	profile__free(p);
	return err;
}

static int h_block(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	return off_cpu_route(req, resp, ctx, OFFCPU_MODE_BLOCK);
}

static int h_mutex(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	return off_cpu_route(req, resp, ctx, OFFCPU_MODE_FUTEX);
}

static struct json_object *process_json(const struct proc_usage *u, int64_t total,
					 int64_t range_ns)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pid", json_object_new_int64(u->pid));
	json_object_object_add(o, "comm", json_object_new_string(u->comm));
	json_object_object_add(o, "exe", json_object_new_string(u->exe));
	json_object_object_add(o, "cpu_seconds", json_object_new_double(u->value / 1e9));
	json_object_object_add(o, "cpu_share", json_object_new_double(total ? (double)u->value / total : 0));
	json_object_object_add(o, "cpu_cores",
			       json_object_new_double(range_ns ? (double)u->value / range_ns : 0));
	return o;
}

static struct json_object *range_json(const struct profile *p)
{
	struct json_object *o = json_object_new_object();
	int64_t t, d;

	if (!o)
		return NULL;
	profile__time(p, &t, &d);
	json_object_object_add(o, "from", json_object_new_double(t / 1e9));
	json_object_object_add(o, "to", json_object_new_double((t + d) / 1e9));
	json_object_object_add(o, "total_cpu_seconds",
			       json_object_new_double(profile__total(p, CPU_NS_TYPE) / 1e9));
	json_object_object_add(o, "samples", json_object_new_int64(profile__total(p, 0)));
	return o;
}

static int h_processes(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;
	struct query_rules rules = rules_for(sv, false, sv->cfg.window_s);
	struct proc_usage *u = NULL;
	struct json_object *o, *arr;
	struct profile *p;
	struct query q;
	int64_t total, t, d;
	size_t n = 0;
	int err = get_profile(sv, req, &rules, &q, resp, &p);

	if (err)
		return err < 0 ? err : 0;
	err = report__processes(p, CPU_NS_TYPE, &u, &n);
	o = err ? NULL : range_json(p);
	arr = json_object_new_array();
	total = profile__total(p, CPU_NS_TYPE);
	profile__time(p, &t, &d);
	for (size_t i = 0; o && arr && i < n; i++)
		json_object_array_add(arr, process_json(&u[i], total, d));
	if (o && arr)
		json_object_object_add(o, "processes", arr);
	else
		json_object_put(arr);
	free(u);
	profile__free(p);
	return err ? err : json_reply(resp, 200, o);
}

static struct json_object *hotspot_json(const struct hotspot *h, int64_t total)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "function", json_object_new_string(h->function));
	json_object_object_add(o, "file", json_object_new_string(h->file ? h->file : ""));
	json_object_object_add(o, "line", json_object_new_int64(h->line));
	json_object_object_add(o, "self_percent",
			       json_object_new_double(total ? 100.0 * h->self / total : 0));
	json_object_object_add(o, "total_percent",
			       json_object_new_double(total ? 100.0 * h->total / total : 0));
	json_object_object_add(o, "impact", json_object_new_double(h->impact));
	return o;
}

static int h_hotspots(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;
	struct query_rules rules = rules_for(sv, false, 60);
	struct hotspot *hs = NULL;
	struct json_object *o, *arr;
	struct profile *p;
	struct query q;
	size_t n = 0;
	int64_t total;
	int err = get_profile(sv, req, &rules, &q, resp, &p);

	if (err)
		return err < 0 ? err : 0;
	err = report__hotspots(p, CPU_NS_TYPE, HOTSPOTS_MAX, &hs, &n);
	total = profile__total(p, CPU_NS_TYPE);
	o = err ? NULL : range_json(p);
	arr = json_object_new_array();
	for (size_t i = 0; o && arr && i < n; i++)
		json_object_array_add(arr, hotspot_json(&hs[i], total));
	if (o && arr)
		json_object_object_add(o, "hotspots", arr);
	else
		json_object_put(arr);
	free(hs);
	profile__free(p);
	return err ? err : json_reply(resp, 200, o);
}

static int h_live(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	return http_resp__json(resp, 200, "{\"status\":\"ok\"}");
}

static int h_ready(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;

	(void)req;
	if (!sv->ready) {
		resp->retry_after_s = 1;
		return http_resp__json(resp, 503, "{\"status\":\"starting\"}");
	}
	return http_resp__json(resp, 200, "{\"status\":\"ready\"}");
}

static int h_symbol(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;

	return symbol__route(req, resp, sv->symbols);
}

static const struct http_route *table(struct serve *sv, size_t *n)
{
	static struct http_route routes[] = {
		{ "/debug/pprof/", "GET", 0, routes__index, NULL, 1 },
		{ "/debug/pprof/profile", "GET", HTTP_LONG | HTTP_RANGE_FAST, h_profile, NULL, 5 },
		{ "/debug/pprof/block", "GET", HTTP_LONG, h_block, NULL, 5 },
		{ "/debug/pprof/mutex", "GET", HTTP_LONG, h_mutex, NULL, 5 },
		{ "/debug/pprof/symbol", "GET,POST", HTTP_BODY, h_symbol, NULL, 2 },
		{ "/health/live", "GET", HTTP_PUBLIC, h_live, NULL, 1 },
		{ "/health/ready", "GET", HTTP_PUBLIC, h_ready, NULL, 1 },
		{ "/metrics", "GET", 0, routes__metrics, NULL, 1 },
		{ "/api/v1/processes", "GET", HTTP_WAIT_IF_SECONDS, h_processes, NULL, 2 },
		{ "/api/v1/hotspots", "GET", HTTP_WAIT_IF_SECONDS, h_hotspots, NULL, 2 },
		{ "/debug/pprof/heap", "GET", 0, heap_routes__heap, NULL, 2 },
		{ "/debug/pprof/allocs", "GET", 0, heap_routes__allocs, NULL, 2 },
		{ "/api/v1/heap", "GET,POST,DELETE", 0, heap_routes__api, NULL, 2 },
		{ "/health/memory", "GET", 0, health_routes__memory, NULL, 2 },
		{ "/api/v1/leaks", "GET", 0, health_routes__leaks, NULL, 2 },
		{ "/api/v1/snapshots", "GET,POST", 0, health_routes__snapshots, NULL, 2 },
		{ "/api/v1/snapshots/", "GET,DELETE", HTTP_PREFIX, health_routes__snapshot, NULL, 2 },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		routes[i].ctx = sv;
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

size_t serve__routes(struct serve *sv, const struct http_route **out)
{
	size_t n;

	*out = table(sv, &n);
	return n;
}
