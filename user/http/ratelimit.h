/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-client token buckets in a bounded, set-associative table: a client
 * hashes to one set of a few ways and the least recently seen way in a full
 * set is evicted, so memory is fixed and every lookup is O(1).
 */
#ifndef BPFPROF_HTTP_RATELIMIT_H
#define BPFPROF_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SETS 512
#define RATELIMIT_WAYS 8 /* 4096 clients */

struct ratelimit;

/* NULL + errno. rate_per_s must be > 0; burst < 1 is raised to 1. */
struct ratelimit *ratelimit__new(double rate_per_s, double burst);
void ratelimit__free(struct ratelimit *rl);

/*
 * Takes cost tokens from the bucket of client ip (16 bytes, IPv4 mapped) at
 * now_ns. True if granted; else *retry_s is the wait until enough tokens (>= 1).
 */
bool ratelimit__take(struct ratelimit *rl, const uint8_t ip[16], double cost, uint64_t now_ns,
		     unsigned int *retry_s);
uint64_t ratelimit__evictions(struct ratelimit *rl);

#endif
