// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HTTP request head as the gate and the profile routes see it. Input:
 * the request target on the first line ("/debug/pprof/profile?seconds=5"),
 * then "Name: value" header lines. The target is judged raw
 * (http__uri_bad_escape), its query split and unescaped the way
 * libmicrohttpd hands arguments over (MHD_http_unescape), then parsed by
 * query__parse under each route's rules; the API-key headers go through
 * http__key_ok (checked against a plain comparison) and Content-Length
 * through http__content_length_ok.
 */
#include <strings.h>

#include <microhttpd.h>

#include "fuzz.h"
#include "http/auth.h"
#include "http/http.h"
#include "serve/query.h"

#define KEY "s3cret-key"

static const struct query_rules rules[] = {
    /* /debug/pprof/profile: waits by default. */
    {.default_seconds = 30, .max_seconds = 300, .allow_wait = true, .default_wait = true,
     .now_ns = 1764000000LL * 1000000000LL},
    /* /api/v1/ ranges: no waiting. */
    {.default_seconds = 300, .max_seconds = 300, .now_ns = 1764000000LL * 1000000000LL},
    /* A clock at the epoch (a badly set host). */
    {.default_seconds = 1, .max_seconds = 1, .allow_wait = true},
};

static void split_query(char *query, struct http_req *req)
{
	char *arg, *save = NULL, *eq;

	for (arg = strtok_r(query, "&", &save); arg && req->n_args < HTTP_MAX_QUERY_ARGS;
	     arg = strtok_r(NULL, "&", &save)) {
		eq = strchr(arg, '=');
		if (eq)
			*eq++ = '\0';
		MHD_http_unescape(arg);
		if (eq)
			MHD_http_unescape(eq);
		req->args[req->n_args].key = arg;
		req->args[req->n_args].value = eq ? eq : "";
		req->n_args++;
	}
}

static void target(char *uri)
{
	struct http_req req = {.method = "GET", .client = "fuzz"};
	char err[256], *q = strchr(uri, '?');
	struct query out;
	size_t i;
	int64_t ns;

	(void)http__uri_bad_escape(uri);
	if (q)
		*q++ = '\0';
	req.path = uri;
	if (q)
		split_query(q, &req);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (query__parse(&req, &rules[i], &out, err, sizeof(err)) &&
		    !memchr(err, '\0', sizeof(err)))
			abort(); /* the reason must be a terminated string */
	for (i = 0; i < req.n_args; i++) {
		(void)query__parse_duration(req.args[i].value);
		(void)query__parse_time(req.args[i].value, &ns);
	}
}

static bool plain_key_ok(const char *x, const char *auth)
{
	if (x && !strcmp(x, KEY))
		return true;
	char pw[HTTP_AUTH_MAX_BASIC];

	if (auth && strncasecmp(auth, "Bearer ", 7))
		return !http_auth__basic_password(auth, pw, sizeof(pw)) && !strcmp(pw, KEY);
	if (!auth)
		return false;
	auth += 7;
	auth += strspn(auth, " ");
	return !strcmp(auth, KEY);
}

static void headers(char *lines)
{
	const char *x = NULL, *auth = NULL, *cl = NULL;
	char *line, *save = NULL, *colon, *v;

	for (line = strtok_r(lines, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		v = colon + 1 + strspn(colon + 1, " \t");
		if (!strcasecmp(line, "X-API-Key"))
			x = v;
		else if (!strcasecmp(line, "Authorization"))
			auth = v;
		else if (!strcasecmp(line, "Content-Length"))
			cl = v;
	}
	if (http__key_ok(KEY, x, auth) != plain_key_ok(x, auth))
		abort();
	if (cl)
		(void)http__content_length_ok(cl, 1 << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz__strdup(data, size), *nl = strchr(copy, '\n');

	if (nl)
		*nl = '\0';
	target(copy);
	if (nl)
		headers(nl + 1);
	free(copy);
	return 0;
}
