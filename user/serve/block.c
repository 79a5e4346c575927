// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offcpu_keys.h"
#include "collector/offcpu.h"
#include "http/http.h"
#include "pipeline/pipeline.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "serve/block.h"
#include "serve/query.h"
#include "serve/serve.h"
#include "symbolizer/symbolizer.h"
#include "util/proc.h"

#define NS		  1000000000LL
#define POLL_MS		  100
#define DRAIN_INTERVAL_MS 1000

struct block_run {
	struct symbolizer *sym;
	struct pipeline *pl;
	struct profile *prof;
	struct offcpu_collector *off;
	int err; /* first pipeline error */
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void on_pid(uint32_t pid, uint32_t kind, void *ctx)
{
	struct block_run *b = ctx;

	pipeline__on_pid(b->pl, pid, kind);
}

/* Recovered return addresses are kept only inside executable mappings. */
static bool is_code(uint32_t pid, uint64_t addr, void *ctx)
{
	struct block_run *b = ctx;
	struct sym_result res = {0};

	symbolizer__add_pid(b->sym, pid);
	return !symbolizer__user(b->sym, pid, addr, &res) && res.map_path;
}

static int on_sample(const struct raw_sample *s, uint64_t total_ns, void *ctx)
{
	struct block_run *b = ctx;
	int64_t values[2] = {(int64_t)s->count, (int64_t)total_ns};

	return pipeline__add(b->pl, b->prof, s, values);
}

/* Go's block and mutex profiles: contentions/count, delay/nanoseconds, period 1. */
static struct profile *new_block_profile(void)
{
	static const struct profile_value_type types[] = {{"contentions", "count"},
							  {"delay", "nanoseconds"}};
	struct profile *p = profile__new(types, 2, 1);

	if (p && profile__set_period(p, "contentions", "count", 1)) {
		profile__free(p);
		p = NULL;
	}
	return p;
}

static int run_open(struct block_run *b, const struct query *q, uint32_t mode, bool no_kernel)
{
	struct symbolizer_opts so = {0};
	struct offcpu_collector_opts oo = {
	    .mode = mode,
	    .pids = q->pids,
	    .n_pids = q->n_pids,
	    .no_kernel = no_kernel || mode == OFFCPU_MODE_FUTEX,
	    .min_block_ns = 1000,
	    /* .eh_frame user stacks (fp_unwind false), as the daemon's CPU profiles. */
	    /* A request lives seconds; a few PIDs need a fraction of the host's rows. */
	    .unwind_table_mb = q->n_pids ? 16 : 0,
	    .on_pid = on_pid,
	    .is_code = is_code,
	    .ctx = b,
	};

	b->sym = symbolizer__new(&so);
	if (!b->sym)
		return -errno;
	b->pl = pipeline__new(b->sym);
	b->prof = new_block_profile();
	if (!b->pl || !b->prof)
		return -ENOMEM;
	b->off = offcpu_collector__start(&oo);
	return b->off ? 0 : -errno;
}

static void run_close(struct block_run *b)
{
	offcpu_collector__free(b->off);
	pipeline__free(b->pl);
	symbolizer__free(b->sym);
	profile__free(b->prof);
}

/* Polls and drains for `seconds`; -ECANCELED when the server shuts down first. */
static int run_wait(struct block_run *b, unsigned int seconds, const volatile bool *cancel)
{
	int64_t end = clock_ns(CLOCK_MONOTONIC) + (int64_t)seconds * NS;
	int64_t last = clock_ns(CLOCK_MONOTONIC);
	int n = 0;

	while (n >= 0 && clock_ns(CLOCK_MONOTONIC) < end) {
		if (cancel && *cancel)
			return -ECANCELED;
		n = offcpu_collector__poll(b->off, POLL_MS);
		if (n >= 0 && clock_ns(CLOCK_MONOTONIC) - last >= DRAIN_INTERVAL_MS * 1000000LL) {
			last = clock_ns(CLOCK_MONOTONIC);
			n = offcpu_collector__drain(b->off, on_sample, b);
		}
	}
	if (n >= 0)
		n = offcpu_collector__poll(b->off, 0);
	if (n >= 0)
		n = offcpu_collector__drain(b->off, on_sample, b);
	return n < 0 ? n : 0;
}

/* comm= is applied after the fact: the kernel filters by PID only. */
static int apply_comm(const struct query *q, struct profile **p)
{
	struct profile_filter f = {.comm = q->comm};
	struct profile *out;
	int err;

	if (!q->comm[0])
		return 0;
	out = profile__new_like(*p);
	if (!out)
		return -ENOMEM;
	err = profile__merge(out, *p, &f);
	if (err) {
		profile__free(out);
		return err;
	}
	profile__free(*p);
	*p = out;
	return 0;
}

static int record_block(struct serve *sv, const struct http_req *req, const struct query *q,
			uint32_t mode, struct profile **out)
{
	struct block_run b = {0};
	int64_t start = clock_ns(CLOCK_REALTIME);
	int err = run_open(&b, q, mode, sv->cfg.no_kernel);

	err = err ?: run_wait(&b, q->seconds, req->cancel);
	if (!err) {
		profile__set_time(b.prof, start, clock_ns(CLOCK_REALTIME) - start);
		err = apply_comm(q, &b.prof);
	}
	if (!err) {
		*out = b.prof;
		b.prof = NULL;
	}
	run_close(&b);
	return err;
}

static int check_request(struct serve *sv, const struct http_req *req, struct query *q,
			 struct http_resp *resp)
{
	struct query_rules rules = {
	    .default_seconds = BLOCK_DEFAULT_SECONDS < sv->cfg.max_seconds ? BLOCK_DEFAULT_SECONDS
									   : sv->cfg.max_seconds,
	    .max_seconds = sv->cfg.max_seconds,
	    .allow_wait = true,
	    .default_wait = true,
	    .now_ns = clock_ns(CLOCK_REALTIME),
	};
	char err[256];
	int status = query__parse(req, &rules, q, err, sizeof(err));

	if (status)
		return http_resp__error(resp, status, "%s", err) ?: 1;
	/* Off-CPU time is recorded on request only: there is no history to answer from. */
	if (q->mode != QUERY_WAIT)
		return http_resp__error(resp, 400,
					"last/from/to: not supported for off-CPU profiles "
					"(recorded on request); use seconds=N")
			   ?: 1;
	for (size_t i = 0; i < q->n_pids; i++)
		if (!proc__alive(q->pids[i]))
			return http_resp__error(resp, 404, "no process with PID %" PRIu32,
						q->pids[i])
				   ?: 1;
	return 0;
}

int block__profile(struct serve *sv, const struct http_req *req, uint32_t mode, struct query *q,
		   struct http_resp *resp, struct profile **out)
{
	int err = check_request(sv, req, q, resp);

	*out = NULL;
	if (err)
		return err;
	err = record_block(sv, req, q, mode, out);
	if (err == -ECANCELED)
		return http_resp__error(resp, 503, "shutting down") ?: 1;
	if (err == -EPERM || err == -EACCES)
		return http_resp__error(resp, 503, "cannot load the off-CPU BPF program: %s",
					strerror(-err))
			   ?: 1;
	return err;
}
