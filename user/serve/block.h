/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /debug/pprof/block and /debug/pprof/mutex: each request runs its own
 * short-lived off-CPU session (own BPF programs, symbolizer and pipeline,
 * none of which are shared across threads), filtered by PID in the kernel.
 * Threads: any HTTP thread; requests share nothing.
 */
#ifndef BPFPROF_SERVE_BLOCK_H
#define BPFPROF_SERVE_BLOCK_H

#include <stdint.h>

struct http_req;
struct http_resp;
struct profile;
struct query;
struct serve;

/* Default and cap of seconds= are Go's 30 and the daemon's max_seconds. */
#define BLOCK_DEFAULT_SECONDS 30

/*
 * Parses req, records `seconds` of off-CPU time (mode: enum offcpu_mode,
 * BLOCK or FUTEX) and returns 0 with *out, or 1 after filling resp with the
 * 4xx/5xx that explains why not, or a negative errno (500).
 */
int block__profile(struct serve *sv, const struct http_req *req, uint32_t mode, struct query *q,
		   struct http_resp *resp, struct profile **out);

#endif
