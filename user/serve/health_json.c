// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON of one process's memory health: field names are the /health/memory contract. */
#include <json-c/json.h>

#include "health/health.h"
#include "serve/health_json.h"

#define MIB (1024.0 * 1024.0)

static struct json_object *mb(double kib)
{
	return json_object_new_double(kib / 1024.0);
}

static void add_growth(struct json_object *o, const struct health_report *r)
{
	json_object_object_add(o, "growth_rate_mb_per_sec",
			       r->has_fit ? json_object_new_double(r->fit.slope / MIB) : NULL);
	json_object_object_add(o, "growth_r2",
			       r->has_fit ? json_object_new_double(r->fit.r2) : NULL);
	json_object_object_add(o, "growth_samples",
			       json_object_new_int64(r->has_fit ? r->fit.n : 0));
	json_object_object_add(o, "growth_window_seconds",
			       json_object_new_double(r->has_fit ? r->fit.span_s : 0));
	json_object_object_add(o, "sustained_growth", json_object_new_boolean(r->sustained));
}

static void add_limit(struct json_object *o, const struct health_report *r)
{
	json_object_object_add(o, "memory_limit_mb",
			       r->limit_bytes ? json_object_new_double(r->limit_bytes / MIB)
					      : NULL);
	json_object_object_add(
	    o, "memory_limit_percent",
	    r->limit_bytes ? json_object_new_double(100.0 * r->mem.rss_kib * 1024 / r->limit_bytes)
			   : NULL);
}

static struct json_object *warnings_json(const struct health_report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < r->n_warnings; i++)
		json_object_array_add(a, json_object_new_string(r->warnings[i]));
	return a;
}

struct json_object *health_report__json(const struct health_report *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pid", json_object_new_int64(r->pid));
	json_object_object_add(o, "comm", json_object_new_string(r->mem.comm));
	json_object_object_add(o, "timestamp", json_object_new_double(r->t_ns / 1e9));
	json_object_object_add(o, "rss_mb", mb(r->mem.rss_kib));
	json_object_object_add(o, "pss_mb", r->mem.has_pss ? mb(r->mem.pss_kib) : NULL);
	json_object_object_add(o, "heap_inuse_mb",
			       r->has_heap ? json_object_new_double(r->heap_inuse_bytes / MIB)
					   : NULL);
	json_object_object_add(o, "virtual_mb", mb(r->mem.vm_kib));
	json_object_object_add(o, "shared_mb", mb(r->mem.shared_kib));
	json_object_object_add(o, "swap_mb", mb(r->mem.swap_kib));
	json_object_object_add(o, "threads", json_object_new_int64(r->mem.threads));
	add_growth(o, r);
	add_limit(o, r);
	json_object_object_add(o, "threshold_status",
			       json_object_new_string(health_status__name(r->status)));
	json_object_object_add(o, "warnings", warnings_json(r));
	json_object_object_add(o, "watched", json_object_new_boolean(r->watched));
	return o;
}
