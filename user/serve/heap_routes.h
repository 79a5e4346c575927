/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's heap routes (user/serve/heap_routes.c). */
#ifndef BPFPROF_SERVE_HEAP_ROUTES_H
#define BPFPROF_SERVE_HEAP_ROUTES_H

#include <stdio.h>

struct http_req;
struct http_resp;
struct serve;

int heap_routes__heap(const struct http_req *req, struct http_resp *resp, void *ctx);
int heap_routes__allocs(const struct http_req *req, struct http_resp *resp, void *ctx);
/* GET (list, or ?pid= stats), POST ?pid= (start), DELETE ?pid= (stop). */
int heap_routes__api(const struct http_req *req, struct http_resp *resp, void *ctx);
/* Heap gauges for /metrics. */
void heap_routes__metrics(struct serve *sv, FILE *f);

#endif
