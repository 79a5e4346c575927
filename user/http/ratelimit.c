// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "http/ratelimit.h"

struct bucket {
	uint8_t ip[16];
	bool used;
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate, burst;
	/* Keyed hash so a client cannot pick addresses that evict someone else's set. */
	uint64_t seed[2];
	uint64_t evictions;
	struct bucket b[RATELIMIT_SETS][RATELIMIT_WAYS];
};

struct ratelimit *ratelimit__new(double rate_per_s, double burst)
{
	struct ratelimit *rl;

	if (!(rate_per_s > 0)) {
		errno = EINVAL;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->rate = rate_per_s;
	rl->burst = burst < 1 ? 1 : burst;
	if (getrandom(rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed)) {
		/* Weaker but still varies per run; eviction fairness only. */
		rl->seed[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
		rl->seed[1] = (uint64_t)(uintptr_t)rl;
	}
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void ratelimit__free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static size_t ratelimit__set(const struct ratelimit *rl, const uint8_t ip[16])
{
	uint64_t a, b;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	return mix64(mix64(a ^ rl->seed[0]) ^ b ^ rl->seed[1]) % RATELIMIT_SETS;
}

/* The client's bucket, or a fresh full one in place of the set's stalest. */
static struct bucket *ratelimit__find(struct ratelimit *rl, const uint8_t ip[16], uint64_t now_ns)
{
	struct bucket *set = rl->b[ratelimit__set(rl, ip)];
	struct bucket *victim = &set[0];
	size_t i;

	for (i = 0; i < RATELIMIT_WAYS; i++) {
		if (set[i].used && !memcmp(set[i].ip, ip, 16))
			return &set[i];
		if (!set[i].used)
			victim = &set[i];
		else if (victim->used && set[i].last_ns < victim->last_ns)
			victim = &set[i];
	}
	if (victim->used)
		rl->evictions++;
	memcpy(victim->ip, ip, 16);
	victim->used = true;
	victim->tokens = rl->burst;
	victim->last_ns = now_ns;
	return victim;
}

/* Whole seconds, rounded up, at least 1; capped so tiny rates cannot overflow. */
static unsigned int ratelimit__wait_s(double need_s)
{
	unsigned int s;

	if (need_s > 86400)
		return 86400;
	s = (unsigned int)need_s;
	if (s < need_s)
		s++;
	return s ? s : 1;
}

bool ratelimit__take(struct ratelimit *rl, const uint8_t ip[16], double cost, uint64_t now_ns,
		     unsigned int *retry_s)
{
	struct bucket *b;
	bool ok;

	/* A cost above the bucket size could never be paid. */
	if (cost > rl->burst)
		cost = rl->burst;
	pthread_mutex_lock(&rl->lock);
	b = ratelimit__find(rl, ip, now_ns);
	if (now_ns > b->last_ns)
		b->tokens += (double)(now_ns - b->last_ns) / 1e9 * rl->rate;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->last_ns = now_ns;
	ok = b->tokens >= cost;
	if (ok)
		b->tokens -= cost;
	else
		*retry_s = ratelimit__wait_s((cost - b->tokens) / rl->rate);
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

uint64_t ratelimit__evictions(struct ratelimit *rl)
{
	uint64_t n;

	if (!rl)
		return 0;
	pthread_mutex_lock(&rl->lock);
	n = rl->evictions;
	pthread_mutex_unlock(&rl->lock);
	return n;
}
