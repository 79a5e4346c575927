/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /health/memory, /api/v1/leaks and /api/v1/snapshots[/{id}]: thin JSON
 * handlers over the health model. ctx is the daemon's struct serve; each
 * returns 0 with resp filled (2xx or 4xx/5xx JSON error) or a negative errno.
 * Threads: any HTTP thread (the model is thread-safe).
 */
#ifndef BPFPROF_SERVE_HEALTH_ROUTES_H
#define BPFPROF_SERVE_HEALTH_ROUTES_H

struct http_req;
struct http_resp;

int health_routes__memory(const struct http_req *req, struct http_resp *resp, void *ctx);
int health_routes__leaks(const struct http_req *req, struct http_resp *resp, void *ctx);
int health_routes__snapshots(const struct http_req *req, struct http_resp *resp, void *ctx);
int health_routes__snapshot(const struct http_req *req, struct http_resp *resp, void *ctx);

#endif
