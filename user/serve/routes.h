/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Handlers that render text: the HTML index and the Prometheus metrics. */
#ifndef BPFPROF_SERVE_ROUTES_H
#define BPFPROF_SERVE_ROUTES_H

struct http_req;
struct http_resp;

int routes__index(const struct http_req *req, struct http_resp *resp, void *ctx);
int routes__metrics(const struct http_req *req, struct http_resp *resp, void *ctx);

#endif
