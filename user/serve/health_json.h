/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON of one process's memory health, as GET /health/memory and
 * `bpfprof health` print it (json-c objects stay on this side of the model).
 * Threads: any; r is only read.
 */
#ifndef BPFPROF_SERVE_HEALTH_JSON_H
#define BPFPROF_SERVE_HEALTH_JSON_H

struct health_report;
struct json_object;

/* A new object the caller puts; NULL on ENOMEM. */
struct json_object *health_report__json(const struct health_report *r);

#endif
