// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /health/memory, /api/v1/leaks and /api/v1/snapshots[/{id}]: thin JSON handlers. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "health/health.h"
#include "http/http.h"
#include "serve/health_json.h"
#include "serve/health_routes.h"
#include "serve/query.h"
#include "serve/serve.h"

#define PID_MAX		       4194304 /* PID_MAX_LIMIT on 64-bit kernels */
#define SNAPSHOT_PREFIX	       "/api/v1/snapshots/"
#define CPU_SNAPSHOT_DEFAULT_S 60
#define MIB		       (1024.0 * 1024.0)

static int reply(struct http_resp *resp, int status, struct json_object *o)
{
	int err = o ? http_resp__json(resp, status,
				      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN))
		    : -ENOMEM;

	json_object_put(o);
	return err;
}

/* pid= as digits only, 1..PID_MAX. 0, or 1 after filling resp with the 400. */
static int parse_pid(const struct http_req *req, struct http_resp *resp, uint32_t *pid)
{
	const char *s = http_req__arg(req, "pid");
	unsigned long v = 0;
	size_t i;

	if (!s || !*s)
		return http_resp__error(resp, 400, "pid: required (pid=PID)") ?: 1;
	for (i = 0; s[i] && v <= PID_MAX; i++) {
		if (s[i] < '0' || s[i] > '9')
			break;
		v = v * 10 + (s[i] - '0');
	}
	if (s[i] || !v || v > PID_MAX)
		return http_resp__error(resp, 400, "pid: expected a process ID 1..%d, got '%.32s'",
					PID_MAX, s)
			   ?: 1;
	*pid = v;
	return 0;
}

static struct health *health_of(void *ctx, struct http_resp *resp, int *err)
{
	struct serve *sv = ctx;

	if (sv->health)
		return sv->health;
	resp->retry_after_s = 1;
	*err = http_resp__error(resp, 503, "the health monitor is not running");
	return NULL;
}

static int no_pid(struct http_resp *resp, uint32_t pid, int err)
{
	if (err == -ENODATA)
		return http_resp__error(resp, 404,
					"PID %" PRIu32 " has no user memory (kernel thread)", pid);
	if (err == -ESRCH || err == -ENOENT)
		return http_resp__error(resp, 404, "no process with PID %" PRIu32, pid);
	return err;
}

int health_routes__memory(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct health *h;
	struct health_report *r;
	uint32_t pid;
	int err = 0;

	h = health_of(ctx, resp, &err);
	if (!h)
		return err;
	err = parse_pid(req, resp, &pid);
	if (err)
		return err < 0 ? err : 0;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = health__report(h, pid, NULL, r);
	err = err ? no_pid(resp, pid, err) : reply(resp, 200, health_report__json(r));
	free(r);
	return err;
}

/* ---- leaks ---- */

static struct json_object *leak_json(const struct leak_report *l)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "function", json_object_new_string(l->function));
	json_object_object_add(o, "stack_id", json_object_new_int64(l->stack_key));
	json_object_object_add(o, "severity",
			       json_object_new_string(leak_severity__name(l->severity)));
	json_object_object_add(o, "outstanding_bytes", json_object_new_int64(l->bytes));
	json_object_object_add(o, "outstanding_objects", json_object_new_int64(l->objects));
	json_object_object_add(o, "growth_bytes_per_hour",
			       json_object_new_double(l->growth_bytes_per_hour));
	json_object_object_add(o, "growth_r2", json_object_new_double(l->r2));
	json_object_object_add(o, "observations", json_object_new_int64(l->points));
	json_object_object_add(o, "first_seen", json_object_new_double(l->first_seen_ns / 1e9));
	json_object_object_add(o, "last_seen", json_object_new_double(l->last_seen_ns / 1e9));
	json_object_object_add(o, "oldest_allocation",
			       l->oldest_ns ? json_object_new_double(l->oldest_ns / 1e9) : NULL);
	return o;
}

static struct json_object *rss_trend_json(const struct health_report *r)
{
	struct json_object *o = json_object_new_object();
	bool fit = r->has_fit;

	if (!o)
		return NULL;
	json_object_object_add(o, "sustained_growth", json_object_new_boolean(r->sustained));
	json_object_object_add(o, "rss_mb", json_object_new_double(r->mem.rss_kib / 1024.0));
	json_object_object_add(o, "slope_mb_per_sec",
			       fit ? json_object_new_double(r->fit.slope / MIB) : NULL);
	json_object_object_add(o, "slope_mb_per_hour",
			       fit ? json_object_new_double(r->fit.slope * 3600 / MIB) : NULL);
	json_object_object_add(o, "r2", fit ? json_object_new_double(r->fit.r2) : NULL);
	json_object_object_add(o, "samples", json_object_new_int64(fit ? r->fit.n : 0));
	json_object_object_add(o, "window_seconds",
			       json_object_new_double(fit ? r->fit.span_s : 0));
	return o;
}

static struct json_object *leaks_json(const struct health_leaks *l, uint32_t pid)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "comm", json_object_new_string(l->rss.mem.comm));
	json_object_object_add(o, "heap_profiling", json_object_new_boolean(l->heap_profiling));
	if (!l->heap_profiling)
		json_object_object_add(
		    o, "note",
		    json_object_new_string(
			"not heap-profiled: no allocation stacks, only the RSS trend; start the "
			"daemon with --heap-pid PID or POST /api/v1/heap?pid=PID"));
	json_object_object_add(o, "min_age_seconds", json_object_new_int64(l->min_age_s));
	json_object_object_add(o, "observations", json_object_new_int64(l->observations));
	json_object_object_add(o, "stacks_dropped", json_object_new_int64(l->dropped));
	json_object_object_add(o, "total_leaks", json_object_new_int64(l->total_stacks));
	for (size_t i = 0; i < l->n_stacks; i++)
		json_object_array_add(a, leak_json(&l->stacks[i]));
	json_object_object_add(o, "leaks", a);
	json_object_object_add(o, "rss_trend", rss_trend_json(&l->rss));
	return o;
}

int health_routes__leaks(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct health_leaks *l;
	struct health *h;
	uint32_t pid;
	int err = 0;

	h = health_of(ctx, resp, &err);
	if (!h)
		return err;
	err = parse_pid(req, resp, &pid);
	if (err)
		return err < 0 ? err : 0;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	err = health__leaks(h, pid, l);
	err = err ? no_pid(resp, pid, err) : reply(resp, 200, leaks_json(l, pid));
	free(l);
	return err;
}

/* ---- snapshots ---- */

static struct json_object *meta_json(const struct snapshot_meta *m)
{
	struct json_object *o = json_object_new_object();
	char url[sizeof(SNAPSHOT_PREFIX) + SNAPSHOT_ID_MAX];

	if (!o)
		return NULL;
	snprintf(url, sizeof(url), SNAPSHOT_PREFIX "%s", m->id);
	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "pid", json_object_new_int64(m->pid));
	json_object_object_add(o, "comm", json_object_new_string(m->comm));
	json_object_object_add(o, "type", json_object_new_string(m->type));
	json_object_object_add(o, "created", json_object_new_double(m->created_ns / 1e9));
	json_object_object_add(o, "bytes", json_object_new_int64(m->bytes));
	json_object_object_add(o, "reason", json_object_new_string(m->reason));
	json_object_object_add(o, "url", json_object_new_string(url));
	return o;
}

static int no_data_dir(struct http_resp *resp)
{
	return http_resp__error(resp, 409,
				"snapshots are saved in the data dir: start the daemon with "
				"--data-dir DIR");
}

static int list(struct snapshots *s, struct http_resp *resp)
{
	struct snapshot_meta *v = NULL;
	struct json_object *o, *a;
	size_t n = 0;
	int err = snapshots__list(s, &v, &n);

	if (err)
		return err;
	o = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; o && a && i < n; i++)
		json_object_array_add(a, meta_json(&v[i]));
	free(v);
	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(o, "snapshots", a);
	return reply(resp, 200, o);
}

static int snapshot_error(struct http_resp *resp, int err, uint32_t pid, const char *type,
			  unsigned int seconds)
{
	switch (err) {
	case -ENOTDIR:
		return no_data_dir(resp);
	case -EINVAL:
		return http_resp__error(resp, 400, "type: expected heap or cpu, got '%.32s'", type);
	case -ESRCH:
		return http_resp__error(resp, 404, "no process with PID %" PRIu32, pid);
	case -ENOPROTOOPT:
		return http_resp__error(resp, 409,
					"PID %" PRIu32 " is not heap-profiled: start the daemon "
					"with --heap-pid %" PRIu32
					" or POST /api/v1/heap?pid=%" PRIu32,
					pid, pid, pid);
	case -ENOENT:
		return http_resp__error(
		    resp, 404, "no CPU samples of PID %" PRIu32 " in the last %u s", pid, seconds);
	default:
		return err;
	}
}

static int parse_seconds(const struct http_req *req, struct http_resp *resp, unsigned int max,
			 unsigned int *out)
{
	const char *s = http_req__arg(req, "seconds");
	int64_t v;

	*out = CPU_SNAPSHOT_DEFAULT_S < max ? CPU_SNAPSHOT_DEFAULT_S : max;
	if (!s)
		return 0;
	v = query__parse_duration(s);
	if (v <= 0 || v > max)
		return http_resp__error(resp, 400, "seconds: expected 1..%u (or 5m), got '%.32s'",
					max, s)
			   ?: 1;
	*out = v;
	return 0;
}

static int create(struct serve *sv, const struct http_req *req, struct http_resp *resp)
{
	const char *type = http_req__arg(req, "type");
	struct snapshot_meta m;
	unsigned int seconds;
	uint32_t pid;
	int err;

	if (!health__snapshots(sv->health))
		return no_data_dir(resp);
	err = parse_pid(req, resp, &pid);
	if (!err)
		err = parse_seconds(req, resp, sv->cfg.retention_s, &seconds);
	if (err)
		return err < 0 ? err : 0;
	type = type ? type : "heap";
	err = health__snapshot(sv->health, pid, type, seconds, "manual", &m);
	if (err)
		return snapshot_error(resp, err, pid, type, seconds);
	return reply(resp, 201, meta_json(&m));
}

int health_routes__snapshots(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct snapshots *s;
	struct health *h;
	int err = 0;

	h = health_of(ctx, resp, &err);
	if (!h)
		return err;
	if (!strcmp(req->method, "POST"))
		return create(ctx, req, resp);
	s = health__snapshots(h);
	return s ? list(s, resp) : no_data_dir(resp);
}

static int send_one(struct snapshots *s, const char *id, struct http_resp *resp)
{
	uint8_t *data;
	size_t len;
	int err = snapshots__read(s, id, &data, &len);

	if (err == -ENOENT)
		return http_resp__error(resp, 404, "no snapshot %s", id);
	if (err)
		return err;
	resp->status = 200;
	resp->content_type = "application/octet-stream";
	resp->content_disposition = "attachment; filename=\"snapshot.pb.gz\"";
	resp->body = data;
	resp->len = len;
	return 0;
}

int health_routes__snapshot(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	const char *id = req->path + strlen(SNAPSHOT_PREFIX);
	struct snapshots *s;
	struct health *h;
	int err = 0;

	h = health_of(ctx, resp, &err);
	if (!h)
		return err;
	/* Checked before any path is built: hex only, so no "..", "/" or NUL gets through. */
	if (strncmp(req->path, SNAPSHOT_PREFIX, strlen(SNAPSHOT_PREFIX)) ||
	    !snapshot__id_valid(id, strlen(id)))
		return http_resp__error(resp, 400,
					"invalid snapshot id: expected %d to %d hex digits",
					SNAPSHOT_ID_MIN, SNAPSHOT_ID_MAX);
	s = health__snapshots(h);
	if (!s)
		return no_data_dir(resp);
	if (!strcmp(req->method, "DELETE")) {
		err = snapshots__delete(s, id);
		if (err == -ENOENT)
			return http_resp__error(resp, 404, "no snapshot %s", id);
		return err ? err : http_resp__json(resp, 200, "{\"deleted\":true}");
	}
	return send_one(s, id, resp);
}
