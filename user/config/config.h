/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Configuration of `bpfprof serve`, layered: defaults -> config file
 * (`key = value`, '#' comments) -> environment (BPFPROF_<KEY>, upper case)
 * -> command-line flags (--key-with-dashes VALUE). Every value is validated;
 * an unknown key or bad value is an error that names the key and its source.
 */
#ifndef BPFPROF_CONFIG_H
#define BPFPROF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_HEAP_PIDS 64

struct config {
	/* listen = ADDR:PORT ("127.0.0.1:6060", "[::1]:6060") */
	char listen_addr[64];
	uint16_t listen_port;
	unsigned int freq_hz;		/* freq = 99 (1..perf_event_max_sample_rate) */
	bool no_kernel;			/* no_kernel = false */
	unsigned int unwind_table_mb;	/* unwind_table_mb = 64: .eh_frame rows in the kernel */
	unsigned int window_s;		/* window = 10 (1..3600) seconds */
	unsigned int retention_s;	/* retention = 900 (>= window) seconds; also "15m", "1h" */
	unsigned int store_mb;		/* store_mb = 64: memory cap of the window ring */
	char *data_dir;			/* data_dir = (none) */
	unsigned int data_max_files;	/* data_max_files = 1000 */
	unsigned int data_max_mb;	/* data_max_mb = 256 */
	unsigned int max_seconds;	/* max_seconds = 300: cap of profile?seconds=N */
	char *api_key_file;		/* api_key_file = (none) */
	char *api_key;			/* loaded from api_key_file (trimmed); NULL if none */
	bool insecure_allow_remote;	/* insecure_allow_remote = false */
	char *tls_cert, *tls_key;	/* tls_cert / tls_key = PEM file paths, both or neither */
	double rate_limit;		/* rate_limit = 20 requests/s per client (0: off) */
	double rate_burst;		/* rate_burst = 40 */
	unsigned int max_long_requests; /* max_long_requests = 4 */
	unsigned int max_connections;	/* max_connections = 256 */
	char *log_file;			/* log_file = (stderr) */
	uint32_t heap_pids[CONFIG_MAX_HEAP_PIDS]; /* heap_pid = P[,P] (later issues) */
	size_t n_heap_pids;
	unsigned int heap_rate; /* heap_rate = 524288: mean bytes between heap samples */
	double heap_budget;	/* heap_budget = 2: governor budget, % of one CPU per target */
	unsigned int heap_mode; /* heap_mode = auto: 0 auto, 1 preload, 2 uprobe (enum heap_mode) */
	bool heap_auto_enroll;	/* heap_auto_enroll = true: enroll processes with the library */
	/* Memory health (user/health/). */
	uint32_t watch_pids[CONFIG_MAX_HEAP_PIDS]; /* watch_pid = P[,P] */
	size_t n_watch_pids;
	unsigned int mem_warning_mb, mem_critical_mb;	  /* 0: off */
	double mem_warning_percent, mem_critical_percent; /* of the cgroup limit: 80, 95; 0: off */
	unsigned int leak_min_age_s;			  /* leak_min_age = 60 */
	unsigned int snapshot_keep;			  /* snapshot_keep = 20 */
	unsigned int snapshot_cooldown_s;		  /* snapshot_cooldown = 600 */
	unsigned int auto_snapshot_severity; /* 0 none, 1 low, 2 medium, 3 high, 4 critical (default) */
	unsigned int trend_window_s;	     /* trend_window = 300 */
};

/* Fills defaults. */
void config__defaults(struct config *c);
/* Frees the strings; NULL-safe. */
void config__free(struct config *c);

/*
 * Applies the config file named by --config (if any), then the environment
 * (envp, NULL-terminated "KEY=VALUE"), then argv's flags (argv[0] is the
 * subcommand name). On error returns -EINVAL and writes a one-line message
 * naming the key and its source into err, e.g.
 * "config file /etc/bpfprof.conf line 3: unknown key 'windw'".
 * Returns 1 (and writes nothing) for --help.
 */
int config__load(struct config *c, int argc, char **argv, char **envp, char *err, size_t errlen);

/* Checks cross-key rules (remote bind needs a key, TLS pair, ...); loads api_key. */
int config__validate(struct config *c, char *err, size_t errlen);

/* True when listen_addr is a loopback address. */
bool config__is_loopback(const struct config *c);

/* The serve usage text, listing every key with its default. */
void config__usage(FILE *f);

/*
 * listen_addr holds the canonical address without brackets ("127.0.0.1",
 * "::1"); this writes it back as "ADDR:PORT" or "[ADDR]:PORT" for messages.
 */
void config__listen_str(const struct config *c, char *buf, size_t len);

#endif
