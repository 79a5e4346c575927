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
