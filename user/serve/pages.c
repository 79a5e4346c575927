// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The HTML index and the Prometheus text exposition. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health/health.h"
#include "serve/heap_routes.h"
#include "http/http.h"
#include "profile/profile.h"
#include "serve/report.h"
#include "serve/routes.h"
#include "serve/sampler.h"
#include "serve/serve.h"
#include "store/store.h"
#include "util/proc.h"

#define INDEX_PROCS 50
#define INDEX_RANGE_S 60

static void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void index_processes(struct serve *sv, FILE *f)
{
	struct timespec ts;
	struct profile *p = NULL;
	struct proc_usage *u = NULL;
	int64_t now, total;
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (store__query(sv->store, now - INDEX_RANGE_S * 1000000000LL, now, NULL, &p) ||
	    report__processes(p, 1, &u, &n)) {
		fputs("<p>No samples yet.</p>\n", f);
		goto out;
	}
	total = profile__total(p, 1);
	fprintf(f, "<h2>Processes seen in the last %d s, by CPU</h2>\n<table>\n"
		   "<tr><th>PID</th><th>comm</th><th>exe</th><th>CPU %%</th><th>profile</th></tr>\n",
		INDEX_RANGE_S);
	for (size_t i = 0; i < n && i < INDEX_PROCS; i++) {
		fprintf(f, "<tr><td>%" PRIu32 "</td><td>", u[i].pid);
		html_escape(f, u[i].comm);
		fputs("</td><td>", f);
		html_escape(f, u[i].exe);
		fprintf(f,
			"</td><td>%.1f</td><td><a href=\"profile?last=1m&amp;pid=%" PRIu32
			"\">last 1m</a></td></tr>\n",
			total ? 100.0 * u[i].value / total : 0.0, u[i].pid);
	}
	fputs("</table>\n", f);
out:
	free(u);
	profile__free(p);
}

int routes__index(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	(void)req;
	if (!f)
		return -ENOMEM;
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bpfprof</title></head>\n"
	      "<body><h1>bpfprof</h1>\n<p>Profiles (pprof; open with "
	      "<code>go tool pprof URL</code>):</p>\n<ul>\n"
	      "<li><a href=\"profile?seconds=30\">profile</a>: CPU, the next 30 s "
	      "(<code>seconds=N</code>, or from history: <code>last=5m</code>, "
	      "<code>from=&amp;to=</code>; filters <code>pid=</code>, <code>comm=</code>; "
	      "<code>format=folded</code>)</li>\n"
	      "<li><a href=\"profile?last=1m\">profile?last=1m</a>: CPU, the last minute</li>\n"
	      "<li><a href=\"block?seconds=10\">block</a>: off-CPU time (where threads wait), "
	      "the next N s</li>\n"
	      "<li><a href=\"mutex?seconds=10\">mutex</a>: time waiting in futex waits (locks, "
	      "condition variables), the next N s</li>\n"
	      "<li><a href=\"/api/v1/processes\">/api/v1/processes</a>, "
	      "<a href=\"/api/v1/hotspots\">/api/v1/hotspots</a>: JSON</li>\n"
	      "<li><a href=\"/metrics\">/metrics</a>, <a href=\"/health/ready\">/health/ready</a></li>\n"
	      "</ul>\n",
	      f);
	index_processes(ctx, f);
	fputs("</body></html>\n", f);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	err = http_resp__bytes(resp, 200, "text/html; charset=utf-8", buf, len);
	free(buf);
	return err;
}

static void metric(FILE *f, const char *name, const char *type, const char *help, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

static void metric2(FILE *f, const char *name, const char *type, const char *help,
		    const char *label, const char *l1, double v1, const char *l2, double v2)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s{%s=\"%s\"} %.17g\n%s{%s=\"%s\"} %.17g\n", name,
		help, name, type, name, label, l1, v1, name, label, l2, v2);
}

static void sampler_metrics(FILE *f, const struct sampler_stats *st)
{
	metric(f, "bpfprof_samples_total", "counter", "CPU samples taken by the kernel program.",
	       st->cpu.samples);
	fprintf(f,
		"# HELP bpfprof_samples_dropped_total Samples or stacks lost, by reason.\n"
		"# TYPE bpfprof_samples_dropped_total counter\n"
		"bpfprof_samples_dropped_total{reason=\"map_full\"} %" PRIu64 "\n"
		"bpfprof_samples_dropped_total{reason=\"stack_collision\"} %" PRIu64 "\n"
		"bpfprof_samples_dropped_total{reason=\"stack_missing\"} %" PRIu64 "\n",
		st->cpu.drop_counts, st->cpu.stack_collide, st->cpu.stack_missing);
	metric2(f, "bpfprof_stack_errors_total", "counter", "Stacks the kernel could not read.",
		"kind", "user", st->cpu.ustack_err, "kernel", st->cpu.kstack_err);
	metric(f, "bpfprof_process_notices_dropped_total", "counter",
	       "New-process notices lost to a full ring buffer.", st->cpu.pid_event_drop);
	metric(f, "bpfprof_stacks_total", "counter", "Distinct (thread, stack) counts drained.",
	       st->stacks);
	metric(f, "bpfprof_drains_total", "counter", "Drains of the kernel maps.", st->drains);
	metric(f, "bpfprof_store_add_errors_total", "counter", "Slices the store refused.",
	       st->store_errors);
	metric(f, "bpfprof_processes_seen", "gauge", "Distinct processes with samples.",
	       st->pipe.processes);
	metric(f, "bpfprof_frames_unsymbolized_total", "counter", "Frames without a symbol.",
	       st->pipe.frames_unsymbolized);
	metric(f, "bpfprof_symbol_cache_hits_total", "counter", "Symbol cache hits.", st->sym.hits);
	metric(f, "bpfprof_symbol_cache_misses_total", "counter", "Symbol cache misses.",
	       st->sym.misses);
	metric(f, "bpfprof_symbol_cache_evictions_total", "counter",
	       "Binaries evicted from the symbol cache.", st->sym.evictions);
	metric(f, "bpfprof_symbol_cache_bytes", "gauge", "Bytes held by the symbol cache.",
	       st->sym.bytes);
	metric(f, "bpfprof_symbol_cache_binaries", "gauge", "Binaries in the symbol cache.",
	       st->sym.binaries);
	fprintf(f, "# HELP bpfprof_files_refused_total Files users control refused, by reason.\n"
		   "# TYPE bpfprof_files_refused_total counter\n");
	for (int i = 0; i < SAFEFILE_NR_REASONS; i++)
		fprintf(f, "bpfprof_files_refused_total{reason=\"%s\"} %" PRIu64 "\n",
			safefile__reason_key(i), st->sym.files_refused_by[i]);
	metric(f, "bpfprof_long_requests_waiting", "gauge", "seconds=N requests collecting.",
	       st->waiters);
}

static void store_metrics(FILE *f, const struct store_stats *st)
{
	metric(f, "bpfprof_store_windows", "gauge", "Closed windows held in memory.", st->windows);
	metric(f, "bpfprof_store_bytes", "gauge", "Estimated bytes of windows in memory.",
	       st->bytes);
	metric(f, "bpfprof_store_evicted_total", "counter",
	       "Windows dropped by age or memory cap.", st->evicted);
	metric(f, "bpfprof_store_files", "gauge", "Window files in the data dir.", st->files);
	metric(f, "bpfprof_store_file_bytes", "gauge", "Bytes of window files in the data dir.",
	       st->file_bytes);
	metric(f, "bpfprof_store_files_rotated_total", "counter", "Window files deleted by rotation.",
	       st->files_rotated);
	metric(f, "bpfprof_store_write_errors_total", "counter", "Window files that failed to write.",
	       st->write_errors);
	metric(f, "bpfprof_store_load_errors_total", "counter",
	       "Window files that could not be read back.", st->load_errors);
	metric(f, "bpfprof_store_files_rejected_total", "counter",
	       "Window files refused at start-up: over a size or memory cap, not regular, or "
	       "from the future (each logged).",
	       st->files_rejected);
}

static void agent_metrics(struct serve *sv, FILE *f)
{
	double cpu;
	long maxrss, rss;

	proc__self_usage(&cpu, &maxrss, &rss);
	metric(f, "bpfprof_agent_cpu_seconds_total", "counter", "CPU time used by the agent.", cpu);
	metric(f, "bpfprof_agent_rss_bytes", "gauge", "Resident memory of the agent.",
	       rss * 1024.0);
	metric(f, "bpfprof_agent_max_rss_bytes", "gauge", "Peak resident memory of the agent.",
	       maxrss * 1024.0);
	metric(f, "bpfprof_ready", "gauge", "1 once the probes are attached.", sv->ready);
	metric(f, "bpfprof_start_time_seconds", "gauge", "Start time of the agent.",
	       sv->started_ns / 1e9);
}

int routes__metrics(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct serve *sv = ctx;
	struct sampler_stats ss;
	struct store_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	(void)req;
	if (!f)
		return -ENOMEM;
	if (sv->sampler) {
		sampler__stats(sv->sampler, &ss);
		sampler_metrics(f, &ss);
	}
	store__stats(sv->store, &st);
	store_metrics(f, &st);
	agent_metrics(sv, f);
	health__write_metrics(sv->health, f);
	heap_routes__metrics(sv, f);
	http__write_metrics(sv->http, f);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	err = http_resp__bytes(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
	return err;
}
