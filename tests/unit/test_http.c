// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HTTP front against real HTTP: each test starts a server on 127.0.0.1
 * port 0 and talks to it with the curl binary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "http/auth.h"
#include "http/http.h"
#include "http/ratelimit.h"

static char tmpdir[] = "/tmp/test_http.XXXXXX";
static char body_path[64], hdr_path[64];

struct reply {
	int code;
	char *headers, *body;
};

static void reply__free(struct reply *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- handlers ---- */

static int h_hello(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	const char *name = http_req__arg(req, "name");
	struct json_object *o = json_object_new_object();
	int err;

	(void)ctx;
	json_object_object_add(o, "hello", json_object_new_string(name ? name : "world"));
	json_object_object_add(o, "n_args", json_object_new_int((int)req->n_args));
	json_object_object_add(o, "path", json_object_new_string(req->path));
	err = http_resp__json(resp, 200,
			      json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return err;
}

static int h_fail(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	/* A half-built body must not leak when the handler fails. */
	http_resp__json(resp, 200, "{}");
	return -EIO;
}

/* Waits ?seconds=N (default 30) or until the server cancels. */
static int h_long(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	const char *arg = http_req__arg(req, "seconds");
	long ms = (arg ? atol(arg) : 30) * 1000, i;

	(void)ctx;
	for (i = 0; i < ms / 10 && !__atomic_load_n(req->cancel, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	return http_resp__json(resp, 200, "{}");
}

static int h_text(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	resp->content_disposition = "attachment; filename=\"x.txt\"";
	return http_resp__bytes(resp, 200, "text/plain", "posted", 6);
}

/* Echoes the kept body back. */
static int h_echo(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	(void)ctx;
	assert_non_null(req->body);
	assert_int_equal(strlen(req->body), req->body_len);
	return http_resp__bytes(resp, 200, "text/plain", req->body, req->body_len);
}

static const struct http_route routes[] = {
    {.path = "/hello", .methods = "GET", .fn = h_hello},
    {.path = "/health/live", .methods = "GET", .flags = HTTP_PUBLIC, .fn = h_hello},
    {.path = "/long", .methods = "GET", .flags = HTTP_LONG, .fn = h_long},
    {.path = "/post", .methods = "POST", .fn = h_text},
    {.path = "/echo", .methods = "POST", .flags = HTTP_BODY, .fn = h_echo},
    {.path = "/fail", .methods = "GET", .fn = h_fail},
    {.path = "/api/", .methods = "GET,POST", .flags = HTTP_PREFIX, .fn = h_hello},
    {.path = "/we\"ird\\", .methods = "GET", .fn = h_hello},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- client ---- */

static char *file__read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;

	assert_non_null(m);
	if (f) {
		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(f);
	}
	assert_int_equal(fclose(m), 0);
	return buf;
}

/* Runs curl with the given arguments (shell syntax); fills code, headers and body. */
static void curl(struct reply *r, const char *fmt, ...)
{
	char *args = NULL, *cmd = NULL, code[16] = "";
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	assert_true(vasprintf(&args, fmt, ap) >= 0);
	va_end(ap);
	unlink(body_path);
	unlink(hdr_path);
	assert_true(asprintf(&cmd, "curl -s -g --max-time 10 -o %s -D %s -w '%%{http_code}' %s",
			     body_path, hdr_path, args) >= 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(code, sizeof(code), p))
		code[0] = '\0';
	pclose(p);
	r->code = atoi(code);
	r->headers = file__read(hdr_path);
	r->body = file__read(body_path);
	free(args);
	free(cmd);
}

/* Value of header name in the last response block, or NULL; the caller frees. */
static char *reply__header(const struct reply *r, const char *name)
{
	const char *p = r->headers, *line, *end;
	char *val = NULL;
	size_t n = strlen(name);

	for (line = p; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncasecmp(line, name, n) || line[n] != ':')
			continue;
		end = strpbrk(line, "\r\n");
		free(val);
		val = strndup(line + n + 2, (size_t)(end - line) - n - 2);
	}
	return val;
}

static void assert_header(const struct reply *r, const char *name, const char *want)
{
	char *v = reply__header(r, name);

	if (!v || strcmp(v, want))
		fail_msg("header %s: got '%s', want '%s'\n%s", name, v ? v : "(none)", want,
			 r->headers);
	free(v);
}

static void assert_json_error(const struct reply *r, int code)
{
	struct json_object *o = json_tokener_parse(r->body), *e;
	char *ct = reply__header(r, "Content-Type");

	if (r->code != code)
		fail_msg("status %d, want %d; body %s", r->code, code, r->body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "error", &e));
	assert_true(json_object_is_type(e, json_type_string));
	assert_non_null(ct);
	assert_string_equal(ct, "application/json");
	free(ct);
	json_object_put(o);
}

/* ---- servers ---- */

struct fixture {
	struct http_server *s;
	char base[64];
	FILE *bg; /* a request left running in the background */
};

static struct fixture *fixture__start(struct http_opts *o, const char *scheme)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->s = http__start(o, routes, N_ROUTES);
	assert_non_null(fx->s);
	assert_int_not_equal(http__port(fx->s), 0);
	snprintf(fx->base, sizeof(fx->base), "%s://%s:%u", scheme,
		 o->addr && strchr(o->addr, ':') ? "[::1]" : "127.0.0.1", http__port(fx->s));
	return fx;
}

static void fixture__stop(struct fixture *fx)
{
	http__stop(fx->s);
	if (fx->bg)
		pclose(fx->bg);
	free(fx);
}

static char *metrics__text(struct http_server *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	http__write_metrics(s, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Starts a long request in the background and waits until its handler runs. */
static void long__start(struct fixture *fx, const char *query)
{
	char *cmd, *m;
	int i;

	assert_true(asprintf(&cmd, "curl -s --max-time 20 -o /dev/null '%s/long?%s'", fx->base,
			     query) >= 0);
	fx->bg = popen(cmd, "r");
	assert_non_null(fx->bg);
	free(cmd);
	for (i = 0; i < 500; i++) {
		m = metrics__text(fx->s);
		if (strstr(m, "bpfprof_http_long_in_flight 1\n")) {
			free(m);
			return;
		}
		free(m);
		usleep(10000);
	}
	fail_msg("long request never started");
}

/* ---- tests ---- */

static void test_ok(void **state)
{
	struct http_opts o = {.addr = "127.0.0.1"};
	struct fixture *fx = fixture__start(&o, "http");
	struct json_object *j, *v;
	struct reply r;

	(void)state;
	curl(&r, "'%s/hello?name=a%%20b&flag&name=c'", fx->base);
	assert_int_equal(r.code, 200);
	assert_header(&r, "Content-Type", "application/json");
	assert_header(&r, "Cache-Control", "no-store");
	j = json_tokener_parse(r.body);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "hello", &v));
	assert_string_equal(json_object_get_string(v), "a b");
	assert_true(json_object_object_get_ex(j, "n_args", &v));
	assert_int_equal(json_object_get_int(v), 3);
	json_object_put(j);
	reply__free(&r);

	curl(&r, "'%s/api/v1/x'", fx->base);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "/api/v1/x"));
	reply__free(&r);

	curl(&r, "-X POST --data-binary hi '%s/post'", fx->base);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "posted");
	assert_header(&r, "Content-Type", "text/plain");
	assert_header(&r, "Content-Disposition", "attachment; filename=\"x.txt\"");
	reply__free(&r);

	/* HEAD answers as GET, without a body. */
	curl(&r, "-I '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	/* A body on GET is ignored. */
	curl(&r, "-X GET --data-binary 'ignored' '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_not_found_and_method(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;

	(void)state;
	curl(&r, "'%s/nope'", fx->base);
	assert_json_error(&r, 404);
	reply__free(&r);

	curl(&r, "'%s/hello/'", fx->base); /* exact match only */
	assert_json_error(&r, 404);
	reply__free(&r);

	curl(&r, "-X POST '%s/hello'", fx->base);
	assert_json_error(&r, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	reply__free(&r);

	curl(&r, "-X DELETE '%s/api/x'", fx->base);
	assert_json_error(&r, 405);
	assert_header(&r, "Allow", "GET, HEAD, POST");
	reply__free(&r);

	curl(&r, "'%s/post'", fx->base);
	assert_json_error(&r, 405);
	assert_header(&r, "Allow", "POST");
	reply__free(&r);
	fixture__stop(fx);
}

static void test_auth(void **state)
{
	struct http_opts o = {.api_key = "s3cret-key"};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;

	(void)state;
	curl(&r, "'%s/hello'", fx->base);
	assert_json_error(&r, 401);
	assert_header(&r, "WWW-Authenticate", "Bearer");
	reply__free(&r);

	curl(&r, "-H 'X-API-Key: s3cret-kez' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);

	curl(&r, "-H 'X-API-Key: s3cret-key-longer' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);

	curl(&r, "-H 'X-API-Key: s3cret' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);

	curl(&r, "-H 'Authorization: Basic s3cret-key' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);

	curl(&r, "-H 'X-API-Key: s3cret-key' '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	curl(&r, "-H 'Authorization: Bearer s3cret-key' '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	curl(&r, "-H 'authorization: bearer s3cret-key' '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	curl(&r, "'%s/health/live'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	fixture__stop(fx);
}

static void assert_basic(const char *value, int want, const char *want_pw)
{
	char pw[64];
	int rc = http_auth__basic_password(value, pw, sizeof(pw));

	if (rc != want)
		fail_msg("'%.60s': rc %d, want %d", value, rc, want);
	assert_string_equal(pw, want ? "" : want_pw);
}

static void test_basic_decode(void **state)
{
	char *big;
	char tiny[4];

	(void)state;
	assert_basic("Basic YnBmcHJvZjpzM2NyZXQta2V5", 0, "s3cret-key");
	assert_basic("basic   YnBmcHJvZjpzM2NyZXQta2V5  ", 0, "s3cret-key");
	assert_basic("Basic OnMzY3JldC1rZXk=", 0, "s3cret-key"); /* empty user name */
	assert_basic("Basic OnMzY3JldC1rZXk", 0, "s3cret-key");	 /* padding left out */
	assert_basic("Basic dTphOmI=", 0, "a:b");		 /* the first colon splits */
	/* bad base64 */
	assert_basic("Basic s3cret-key", -EINVAL, NULL);
	assert_basic("Basic YnBm*HJvZjpz", -EINVAL, NULL);
	assert_basic("Basic dXNlcjo=x", -EINVAL, NULL);
	assert_basic("Basic dXNlc=jo=", -EINVAL, NULL);
	assert_basic("Basic YnBmc", -EINVAL, NULL);
	assert_basic("Basic YTpiYw== extra", -EINVAL, NULL);
	/* no colon, empty password, control bytes */
	assert_basic("Basic bm9jb2xvbg==", -EINVAL, NULL);
	assert_basic("Basic dXNlcjo=", -EINVAL, NULL);
	assert_basic("Basic ", -EINVAL, NULL);
	assert_basic("Basic dToAeA==", -EINVAL, NULL);
	assert_basic("Basic dTpwCnE=", -EINVAL, NULL);
	/* other schemes */
	assert_basic("Bearer YTpiYw==", -EINVAL, NULL);
	assert_basic("BasicYTpiYw==", -EINVAL, NULL);
	assert_basic(NULL, -EINVAL, NULL);
	/* over-long credentials, and a password that does not fit */
	big = malloc(HTTP_AUTH_MAX_BASIC + 16);
	assert_non_null(big);
	strcpy(big, "Basic ");
	memset(big + 6, 'A', HTTP_AUTH_MAX_BASIC + 4);
	big[6 + HTTP_AUTH_MAX_BASIC + 4] = '\0';
	assert_basic(big, -E2BIG, NULL);
	free(big);
	assert_int_equal(http_auth__basic_password("Basic YTpiYw==", tiny, 2), -E2BIG);
	assert_string_equal(tiny, "");
	assert_int_equal(http_auth__basic_password("Basic YTpiYw==", tiny, 3), 0);
	assert_string_equal(tiny, "bc");
}

static void test_auth_basic(void **state)
{
	struct http_opts o = {.api_key = "s3cret-key"};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;
	char url[128];

	(void)state;
	/* what go tool pprof sends for http://user:KEY@host/... */
	curl(&r, "-u 'bpfprof:s3cret-key' '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	snprintf(url, sizeof(url), "%s", fx->base);
	assert_non_null(strstr(url, "://"));
	curl(&r, "'http://anyone:s3cret-key@%s/hello'", strstr(url, "://") + 3);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	curl(&r, "-u 'bpfprof:s3cret-kez' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	assert_header(&r, "WWW-Authenticate", "Bearer");
	reply__free(&r);
	curl(&r, "-u 'bpfprof:s3cret-key-longer' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);
	/* the key as the user name with an empty password is not the key */
	curl(&r, "-u 's3cret-key:' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);
	curl(&r, "-H 'Authorization: Basic bm9jb2xvbg==' '%s/hello'", fx->base);
	assert_json_error(&r, 401);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_kept_body(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	char *file;
	struct reply r;
	FILE *f;
	int i;

	(void)state;
	curl(&r, "--data-binary '0x1+0x2' '%s/echo'", fx->base);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "0x1+0x2");
	reply__free(&r);
	curl(&r, "-X POST '%s/echo'", fx->base);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "");
	reply__free(&r);

	/* larger than the ignored-body limit, within the kept-body one */
	assert_true(asprintf(&file, "%s/kept", tmpdir) >= 0);
	f = fopen(file, "w");
	assert_non_null(f);
	for (i = 0; i < HTTP_MAX_BODY_BYTES * 2; i++)
		fputc('a' + i % 26, f);
	assert_int_equal(fclose(f), 0);
	curl(&r, "-H 'Transfer-Encoding: chunked' --data-binary @%s '%s/echo'", file, fx->base);
	assert_int_equal(r.code, 200);
	assert_int_equal(strlen(r.body), HTTP_MAX_BODY_BYTES * 2);
	assert_memory_equal(r.body + 26 * 1000, "abcdefghij", 10);
	reply__free(&r);

	f = fopen(file, "w");
	assert_non_null(f);
	for (i = 0; i < HTTP_MAX_KEPT_BODY_BYTES + 1; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);
	curl(&r, "-H 'Expect:' --data-binary @%s '%s/echo'", file, fx->base);
	assert_json_error(&r, 413);
	reply__free(&r);
	curl(&r, "-H 'Transfer-Encoding: chunked' --data-binary @%s '%s/echo'", file, fx->base);
	assert_json_error(&r, 413);
	reply__free(&r);
	unlink(file);
	free(file);
	fixture__stop(fx);
}

static void test_rate_limit(void **state)
{
	struct http_opts o = {.rate_per_s = 0.5, .rate_burst = 3};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;
	char *ra, *m;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		curl(&r, "'%s/hello'", fx->base);
		assert_int_equal(r.code, 200);
		reply__free(&r);
	}
	curl(&r, "'%s/hello'", fx->base);
	assert_json_error(&r, 429);
	ra = reply__header(&r, "Retry-After");
	assert_non_null(ra);
	assert_true(atoi(ra) >= 1 && atoi(ra) <= 2);
	free(ra);
	reply__free(&r);

	/* Unknown paths cost tokens too; health probes are exempt. */
	curl(&r, "'%s/nope'", fx->base);
	assert_json_error(&r, 429);
	reply__free(&r);
	curl(&r, "'%s/health/live'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	m = metrics__text(fx->s);
	assert_non_null(strstr(m, "bpfprof_http_rate_limited_total 2\n"));
	assert_non_null(strstr(m, "bpfprof_http_requests_total{route=\"/hello\",code=\"429\"} 1"));
	free(m);
	fixture__stop(fx);
}

static void test_long_cap(void **state)
{
	struct http_opts o = {.max_long = 1};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;

	(void)state;
	long__start(fx, "seconds=10");
	curl(&r, "'%s/long?seconds=0'", fx->base);
	assert_json_error(&r, 503);
	assert_header(&r, "Retry-After", "1");
	reply__free(&r);

	/* Short requests are not capped. */
	curl(&r, "'%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	fixture__stop(fx);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_stop_in_flight(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	double t0;

	(void)state;
	long__start(fx, "seconds=30");
	t0 = mono_s();
	http__stop(fx->s);
	fx->s = NULL;
	assert_true(mono_s() - t0 < 2.0);
	fixture__stop(fx);
	http__stop(NULL);
}

static void test_limits(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	char big[40001];
	struct reply r;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	curl(&r, "'%s/hello?x=%.5000s'", fx->base, big);
	assert_json_error(&r, 414);
	reply__free(&r);

	curl(&r, "-H 'X-Big: %.9000s' '%s/hello'", big, fx->base);
	assert_json_error(&r, 431);
	reply__free(&r);

	/* Beyond MHD's own buffer MHD answers itself (not JSON). */
	curl(&r, "-H 'X-Big: %s' '%s/hello'", big, fx->base);
	assert_int_equal(r.code, 431);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_query_args(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	char q[512] = "";
	struct reply r;
	int i;

	(void)state;
	for (i = 0; i < HTTP_MAX_QUERY_ARGS; i++)
		snprintf(q + strlen(q), sizeof(q) - strlen(q), "a%d=%d&", i, i);
	curl(&r, "'%s/hello?%s'", fx->base, q);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	curl(&r, "'%s/hello?%sone=more'", fx->base, q);
	assert_json_error(&r, 400);
	reply__free(&r);

	curl(&r, "'%s/hello?a=%%zz'", fx->base);
	assert_json_error(&r, 400);
	reply__free(&r);

	curl(&r, "'%s/hello?a=%%4'", fx->base);
	assert_json_error(&r, 400);
	reply__free(&r);

	curl(&r, "'%s/hello?a=b%%00c'", fx->base);
	assert_json_error(&r, 400);
	reply__free(&r);

	/* A NUL must not cut the path down to a known route. */
	curl(&r, "'%s/hello%%00x'", fx->base);
	assert_int_equal(r.code / 100, 4);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_handler_error(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;

	(void)state;
	curl(&r, "'%s/fail'", fx->base);
	assert_json_error(&r, 500);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_post_body(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	char *file;
	struct reply r;
	FILE *f;
	int i;

	(void)state;
	assert_true(asprintf(&file, "%s/big", tmpdir) >= 0);
	f = fopen(file, "w");
	assert_non_null(f);
	for (i = 0; i < HTTP_MAX_BODY_BYTES + 1; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);

	curl(&r, "-H 'Expect:' --data-binary @%s '%s/post'", file, fx->base);
	assert_json_error(&r, 413);
	reply__free(&r);

	curl(&r, "-H 'Transfer-Encoding: chunked' --data-binary @%s '%s/post'", file, fx->base);
	assert_json_error(&r, 413);
	reply__free(&r);

	curl(&r, "-H 'Transfer-Encoding: chunked' --data-binary hello '%s/post'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	unlink(file);
	free(file);
	fixture__stop(fx);
}

static bool have_promtool(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

static void test_metrics(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx = fixture__start(&o, "http");
	struct reply r;
	char *m, *cmd;
	FILE *p;
	int i, rc;

	(void)state;
	for (i = 0; i < 2; i++) {
		curl(&r, "'%s/hello'", fx->base);
		reply__free(&r);
	}
	curl(&r, "'%s/nope'", fx->base);
	reply__free(&r);
	curl(&r, "'%s/we%%22ird%%5C'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);

	m = metrics__text(fx->s);
	assert_non_null(strstr(m, "# TYPE bpfprof_http_requests_total counter\n"));
	assert_non_null(
	    strstr(m, "bpfprof_http_requests_total{route=\"/hello\",code=\"200\"} 2\n"));
	assert_non_null(
	    strstr(m, "bpfprof_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n"));
	assert_non_null(
	    strstr(m, "bpfprof_http_requests_total{route=\"/we\\\"ird\\\\\",code=\"200\"} 1\n"));
	assert_non_null(strstr(m, "bpfprof_http_in_flight 0\n"));
	assert_non_null(
	    strstr(m, "bpfprof_http_request_duration_seconds_count{route=\"/hello\"} 2\n"));
	if (have_promtool()) {
		assert_true(
		    asprintf(&cmd, "promtool check metrics >%s/promtool.out 2>&1", tmpdir) >= 0);
		p = popen(cmd, "w");
		assert_non_null(p);
		fputs(m, p);
		rc = pclose(p);
		if (!WIFEXITED(rc) || WEXITSTATUS(rc))
			fail_msg("promtool check metrics failed:\n%s", m);
		free(cmd);
	} else {
		print_message("promtool not installed; exposition format not checked\n");
	}
	free(m);
	fixture__stop(fx);
}

static char *pem__read(const char *name)
{
	char *path, *text;

	assert_true(asprintf(&path, "%s/%s", tmpdir, name) >= 0);
	text = file__read(path);
	free(path);
	return text;
}

static void test_tls(void **state)
{
	struct http_opts o = {0};
	struct fixture *fx;
	struct reply r;
	char *cmd;

	(void)state;
	assert_true(asprintf(&cmd,
			     "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
			     "-days 1 -keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
			     tmpdir, tmpdir) >= 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	o.tls_cert_pem = pem__read("cert.pem");
	o.tls_key_pem = pem__read("key.pem");
	fx = fixture__start(&o, "https");

	curl(&r, "-k '%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	curl(&r, "-k '%s/nope'", fx->base);
	assert_json_error(&r, 404);
	reply__free(&r);
	fixture__stop(fx);
	free((char *)o.tls_cert_pem);
	free((char *)o.tls_key_pem);

	/* A certificate without a key is refused. */
	o.tls_cert_pem = "x";
	o.tls_key_pem = NULL;
	assert_null(http__start(&o, routes, N_ROUTES));
	assert_int_equal(errno, EINVAL);
}

static void test_ipv6(void **state)
{
	struct http_opts o = {.addr = "::1"};
	struct http_server *s = http__start(&o, routes, N_ROUTES);
	struct fixture *fx;
	struct reply r;

	(void)state;
	if (!s) {
		print_message("no IPv6 loopback; skipped\n");
		return;
	}
	http__stop(s);
	fx = fixture__start(&o, "http");
	curl(&r, "'%s/hello'", fx->base);
	assert_int_equal(r.code, 200);
	reply__free(&r);
	fixture__stop(fx);
}

static void test_bad_opts(void **state)
{
	struct http_opts o = {.addr = "localhost"};
	struct http_route bad = {.path = "/x", .methods = "GET"};

	(void)state;
	assert_null(http__start(&o, routes, N_ROUTES));
	assert_int_equal(errno, EINVAL);
	o.addr = NULL;
	assert_null(http__start(&o, &bad, 1));
	assert_int_equal(errno, EINVAL);
}

static void test_helpers(void **state)
{
	struct http_req req = {.n_args = 3, .args = {{"a", "1"}, {"b", ""}, {"a", "2"}}};
	struct http_resp resp = {0};
	struct json_object *o, *e;
	const char *out[4];
	char *text;

	(void)state;
	assert_string_equal(http_req__arg(&req, "a"), "1");
	assert_string_equal(http_req__arg(&req, "b"), "");
	assert_null(http_req__arg(&req, "c"));
	assert_int_equal(http_req__args(&req, "a", out, 4), 2);
	assert_string_equal(out[1], "2");
	assert_int_equal(http_req__args(&req, "a", out, 1), 1);

	assert_int_equal(http_resp__error(&resp, 400, "bad \"%s\"\n\\", "x"), 0);
	assert_int_equal(resp.status, 400);
	assert_string_equal(resp.content_type, "application/json");
	text = strndup((char *)resp.body, resp.len);
	o = json_tokener_parse(text);
	free(text);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "error", &e));
	assert_string_equal(json_object_get_string(e), "bad \"x\"\n\\");
	json_object_put(o);
	/* Helpers replace, not leak, an earlier body. */
	assert_int_equal(http_resp__bytes(&resp, 200, "text/plain", "", 0), 0);
	assert_int_equal(resp.len, 0);
	free(resp.body);
}

static void test_ratelimit_table(void **state)
{
	struct ratelimit *rl = ratelimit__new(1, 2);
	uint8_t ip[16] = {0};
	unsigned int wait_s = 0, i;

	(void)state;
	assert_non_null(rl);
	assert_true(ratelimit__take(rl, ip, 1, 0, &wait_s));
	assert_true(ratelimit__take(rl, ip, 1, 0, &wait_s));
	assert_false(ratelimit__take(rl, ip, 1, 0, &wait_s));
	assert_int_equal(wait_s, 1);
	assert_true(ratelimit__take(rl, ip, 1, 1000000000ull, &wait_s));
	/* A cost above the burst is capped rather than refused forever. */
	assert_true(ratelimit__take(rl, ip, 5, 3000000000ull, &wait_s));
	/* The table stays bounded: many clients evict the stalest ones. */
	for (i = 1; i <= 2 * RATELIMIT_SETS * RATELIMIT_WAYS; i++) {
		memcpy(ip, &i, sizeof(i));
		assert_true(ratelimit__take(rl, ip, 1, 4000000000ull + i, &wait_s));
	}
	assert_true(ratelimit__evictions(rl) >= RATELIMIT_SETS * RATELIMIT_WAYS);
	ratelimit__free(rl);
	assert_null(ratelimit__new(0, 1));
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(body_path, sizeof(body_path), "%s/body", tmpdir);
	snprintf(hdr_path, sizeof(hdr_path), "%s/headers", tmpdir);
	return 0;
}

static int group_teardown(void **state)
{
	char *cmd;
	int rc;

	(void)state;
	if (asprintf(&cmd, "rm -rf '%s'", tmpdir) < 0)
		return -1;
	rc = system(cmd);
	free(cmd);
	return rc ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_ratelimit_table),
	    cmocka_unit_test(test_ok),
	    cmocka_unit_test(test_not_found_and_method),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_basic_decode),
	    cmocka_unit_test(test_auth_basic),
	    cmocka_unit_test(test_kept_body),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_long_cap),
	    cmocka_unit_test(test_stop_in_flight),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_query_args),
	    cmocka_unit_test(test_handler_error),
	    cmocka_unit_test(test_post_body),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_bad_opts),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
