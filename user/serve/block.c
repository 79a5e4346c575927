// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offcpu_keys.h"
#include "http/http.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "serve/block.h"
#include "serve/query.h"
#include "serve/serve.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/proc.h"

/* The server shutting down cancels the request. */
static bool request_cancelled(struct session *s, void *ctx)
{
	const volatile bool *cancel = ctx;

	if (cancel && *cancel)
		session__cancel(s);
	return false;
}

/* Runs a session of `seconds`; -ECANCELED when the server shuts down first. */
static int record_session(const struct query *q, uint32_t mode, bool no_kernel,
			  const volatile bool *cancel, struct profile **out)
{
	struct session_opts so = {
	    .type = mode == OFFCPU_MODE_FUTEX ? SESSION_MUTEX : SESSION_OFFCPU,
	    .pids = q->pids,
	    .n_pids = q->n_pids,
	    .no_kernel = no_kernel,
	    .min_block_ns = 1000,
	    /* .eh_frame user stacks (fp_unwind false), as the daemon's CPU profiles. */
	    /* A request lives seconds; a few PIDs need a fraction of the host's rows. */
	    .unwind_table_mb = q->n_pids ? 16 : 0,
	    .seconds = q->seconds,
	    .hooks = {.should_stop = request_cancelled, .ctx = (void *)cancel},
	};
	struct session *s = session__new(&so);
	enum session_end end;
	int err;

	*out = NULL;
	if (!s)
		return -errno;
	err = session__run(s, &end);
	if (!err && end == SESSION_END_CANCEL)
		err = -ECANCELED;
	if (!err) {
		*out = session__take_profile(s);
		err = *out ? 0 : -errno;
	}
	session__free(s);
	return err;
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
	int64_t start = clock__ns(CLOCK_REALTIME);
	int err = record_session(q, mode, sv->cfg.no_kernel, req->cancel, out);

	if (!err) {
		profile__set_time(*out, start, clock__ns(CLOCK_REALTIME) - start);
		err = apply_comm(q, out);
	}
	if (err) {
		profile__free(*out);
		*out = NULL;
	}
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
	    .now_ns = clock__ns(CLOCK_REALTIME),
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
