// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/exit.h"
#include "health/health.h"
#include "heap/heap.h"
#include "http/http.h"
#include "serve/enroll.h"
#include "serve/sampler.h"
#include "serve/serve.h"
#include "serve/symbol.h"
#include "store/store.h"

#define MAX_PEM_BYTES (1 << 20)

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *read_small_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, MAX_PEM_BYTES + 1);
	if (buf) {
		n = fread(buf, 1, MAX_PEM_BYTES, f);
		buf[n] = 0;
	}
	fclose(f);
	return buf;
}

/* SIGHUP: reopen the log so logrotate can move it. */
static int open_log(const struct config *c)
{
	if (!c->log_file)
		return 0;
	if (!freopen(c->log_file, "a", stderr)) {
		fprintf(stdout, "bpfprof: cannot open log file '%s': %s\n", c->log_file,
			strerror(errno));
		return -errno;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	return 0;
}

static int load_config(struct serve *sv, int argc, char **argv, char **envp)
{
	char err[512] = "";
	int rc;

	config__defaults(&sv->cfg);
	rc = config__load(&sv->cfg, argc, argv, envp, err, sizeof(err));
	if (rc == 1) {
		config__usage(stdout);
		return -1;
	}
	if (rc == 0)
		rc = config__validate(&sv->cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bpfprof: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int start_store(struct serve *sv)
{
	struct store_opts so = {
		.window_s = sv->cfg.window_s,
		.retention_s = sv->cfg.retention_s,
		.max_bytes = (size_t)sv->cfg.store_mb << 20,
		.data_dir = sv->cfg.data_dir,
		.max_files = sv->cfg.data_max_files,
		.max_dir_bytes = (size_t)sv->cfg.data_max_mb << 20,
	};

	sv->store = store__new(&so);
	if (!sv->store) {
		fprintf(stderr, "bpfprof: cannot open the store%s%s: %s\n",
			sv->cfg.data_dir ? " in " : "", sv->cfg.data_dir ? sv->cfg.data_dir : "",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int start_health(struct serve *sv)
{
	const struct config *c = &sv->cfg;
	uint32_t pids[2 * CONFIG_MAX_HEAP_PIDS];
	struct health_opts ho = {
		.data_dir = c->data_dir,
		.store = sv->store,
		.window_s = c->window_s,
		.trend_window_s = c->trend_window_s,
		.leak_min_age_s = c->leak_min_age_s,
		.th = {c->mem_warning_mb, c->mem_critical_mb, c->mem_warning_percent,
		       c->mem_critical_percent},
		.snapshot_keep = c->snapshot_keep,
		.snapshot_cooldown_s = c->snapshot_cooldown_s,
		.auto_severity = c->auto_snapshot_severity,
		.pids = pids,
	};

	/* Heap PIDs are watched too; the tracker, once started, is handed over by health__set_heap. */
	memcpy(pids, c->watch_pids, c->n_watch_pids * sizeof(*pids));
	memcpy(pids + c->n_watch_pids, c->heap_pids, c->n_heap_pids * sizeof(*pids));
	ho.n_pids = c->n_watch_pids + c->n_heap_pids;
	sv->health = health__start(&ho);
	return sv->health ? EXIT_OK : EXIT_RUNTIME;
}

/* Heap profiling of --heap-pid PIDs; POST /api/v1/heap adds more later. */
static int start_heap(struct serve *sv)
{
	struct heap_opts ho = {
		.sample_bytes = sv->cfg.heap_rate,
		.budget_cpu_percent = sv->cfg.heap_budget,
		.mode = (enum heap_mode)sv->cfg.heap_mode,
		/* A few watched processes need far fewer rows than the whole host. */
		.unwind_table_mb = sv->cfg.unwind_table_mb / 4 ? sv->cfg.unwind_table_mb / 4 : 1,
	};
	int err;

	sv->heap = heap_tracker__new(&ho);
	if (!sv->heap) {
		fprintf(stderr, "bpfprof: cannot start heap profiling: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < sv->cfg.n_heap_pids; i++) {
		err = heap_tracker__add_pid(sv->heap, sv->cfg.heap_pids[i]);
		if (err) {
			fprintf(stderr, "bpfprof: heap_pid %u: %s\n", sv->cfg.heap_pids[i],
				err == -ENOENT && sv->cfg.heap_mode == HEAP_MODE_PRELOAD ?
						 "libbpfprof-heap.so is not loaded in it (heap_mode = preload)" :
				err == -ENOENT ? "no known allocator (malloc) in its mappings" :
				err == -ESRCH  ? "no such process" :
						 strerror(-err));
			return EXIT_USAGE;
		}
	}
	health__set_heap(sv->health, sv->heap);
	if (sv->cfg.heap_auto_enroll) {
		sv->enroll = enroll__start(sv->heap);
		if (!sv->enroll) {
			fprintf(stderr, "bpfprof: cannot start heap auto-enrollment: %s\n",
				strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	return EXIT_OK;
}

static int start_http(struct serve *sv)
{
	const struct http_route *routes;
	size_t n = serve__routes(sv, &routes);
	char *cert = NULL, *key = NULL;
	struct http_opts ho = {
		.addr = sv->cfg.listen_addr,
		.port = sv->cfg.listen_port,
		.api_key = sv->cfg.api_key,
		.rate_per_s = sv->cfg.rate_limit,
		.rate_burst = sv->cfg.rate_burst,
		.max_long = sv->cfg.max_long_requests,
		.max_conns = sv->cfg.max_connections,
	};
	int rc = EXIT_OK;

	sv->symbols = symbol_index__new();
	if (!sv->symbols) {
		fprintf(stderr, "bpfprof: cannot set up /debug/pprof/symbol: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (sv->cfg.tls_cert) {
		cert = read_small_file(sv->cfg.tls_cert);
		key = read_small_file(sv->cfg.tls_key);
		if (!cert || !key) {
			fprintf(stderr, "bpfprof: cannot read the TLS certificate or key\n");
			rc = EXIT_RUNTIME;
			goto out;
		}
		ho.tls_cert_pem = cert;
		ho.tls_key_pem = key;
	}
	sv->http = http__start(&ho, routes, n);
	if (!sv->http)
		rc = EXIT_RUNTIME;
out:
	free(cert);
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	return rc;
}

static int start_sampler(struct serve *sv)
{
	struct sampler_opts so = {
		.freq_hz = sv->cfg.freq_hz,
		.no_kernel = sv->cfg.no_kernel,
		.unwind_table_mb = sv->cfg.unwind_table_mb,
		.store = sv->store,
		.max_waiters = sv->cfg.max_long_requests,
		.on_pid = sv->enroll ? enroll__notice : NULL,
		.on_pid_ctx = sv->enroll,
	};

	/* The session says on stderr what could not start. */
	sv->sampler = sampler__start(&so);
	if (!sv->sampler)
		return EXIT_RUNTIME;
	sv->ready = true;
	return EXIT_OK;
}

static void announce(struct serve *sv)
{
	char where[96];

	config__listen_str(&sv->cfg, where, sizeof(where));
	/* Port 0 means "any": say the real one so scripts can find it. */
	if (sv->cfg.listen_port == 0) {
		char *colon = strrchr(where, ':');

		if (colon)
			snprintf(colon + 1, sizeof(where) - (colon + 1 - where), "%u",
				 http__port(sv->http));
	}
	fprintf(stderr, "bpfprof: serving on %s://%s/debug/pprof/ (%u Hz, %u s windows, %u s kept%s%s)\n",
		sv->cfg.tls_cert ? "https" : "http", where, sv->cfg.freq_hz, sv->cfg.window_s,
		sv->cfg.retention_s, sv->cfg.data_dir ? ", data dir " : "",
		sv->cfg.data_dir ? sv->cfg.data_dir : "");
	fflush(stderr);
}

/* Signals are taken synchronously by the main thread; every other thread blocks them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(struct serve *sv, const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig))
			continue;
		if (sig != SIGHUP)
			break;
		open_log(&sv->cfg);
		fprintf(stderr, "bpfprof: log reopened\n");
	}
	fprintf(stderr, "bpfprof: %s: shutting down\n", strsignal(sig));
}

static void shutdown_all(struct serve *sv)
{
	/* Stop answering first, so no request reads a half-stopped sampler. */
	http__stop(sv->http);
	sv->http = NULL;
	symbol_index__free(sv->symbols);
	sv->symbols = NULL;
	sampler__stop(sv->sampler);
	sv->sampler = NULL;
	enroll__stop(sv->enroll);
	sv->enroll = NULL;
	if (sv->health)
		health__set_heap(sv->health, NULL);
	heap_tracker__free(sv->heap);
	sv->heap = NULL;
	health__stop(sv->health);
	sv->health = NULL;
	if (sv->store && store__flush(sv->store))
		fprintf(stderr, "bpfprof: flushing the last window failed\n");
	store__free(sv->store);
	sv->store = NULL;
}

int serve__main(int argc, char **argv, char **envp)
{
	struct serve *sv = calloc(1, sizeof(*sv));
	sigset_t set;
	int rc;

	if (!sv)
		return EXIT_RUNTIME;
	/*
	 * One arena per connection thread would keep every request's peak
	 * forever; a few shared arenas keep the agent's RSS near its working set.
	 */
	mallopt(M_ARENA_MAX, 2);
	sem_init(&sv->query_slots, 0, SERVE_QUERY_SLOTS);
	rc = load_config(sv, argc, argv, envp);
	if (rc) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bpfprof: must run as root to load BPF programs "
				"(CAP_BPF and CAP_PERFMON); try: sudo bpfprof serve ...\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = open_log(&sv->cfg) ? EXIT_RUNTIME : EXIT_OK;
	block_signals(&set);
	sv->started_ns = now_ns();
	rc = rc ?: start_store(sv);
	rc = rc ?: start_health(sv);
	rc = rc ?: start_heap(sv);
	rc = rc ?: start_http(sv);
	rc = rc ?: start_sampler(sv);
	if (rc == EXIT_OK) {
		announce(sv);
		wait_for_stop(sv, &set);
	}
	shutdown_all(sv);
out:
	config__free(&sv->cfg);
	sem_destroy(&sv->query_slots);
	free(sv);
	return rc;
}
