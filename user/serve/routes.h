/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Handlers that render text: the HTML index and the Prometheus metrics. */
#ifndef BPFPROF_SERVE_ROUTES_H
#define BPFPROF_SERVE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

struct http_req;
struct profile;
struct http_resp;

/*
 * Answers with p as gzip'd pprof (Content-Disposition: disposition), or as
 * folded stacks of sample type folded_type. 0 or negative errno.
 */
struct serve;
/* ... and, for pprof, remembers what /debug/pprof/symbol may be asked (sv may be NULL). */
int routes__send_profile(struct serve *sv, const struct profile *p, bool folded,
			 size_t folded_type, const char *disposition, struct http_resp *resp);
int routes__index(const struct http_req *req, struct http_resp *resp, void *ctx);
int routes__metrics(const struct http_req *req, struct http_resp *resp, void *ctx);

#endif
