// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HTTP front on libmicrohttpd. MHD runs an internal polling thread and a
 * thread per connection, so a handler may block (a profile waits N seconds).
 * Every request goes through the same gate before its handler: size limits,
 * routing, per-client rate limit, method, API key, query checks, then the cap
 * on concurrent long requests. Each refusal is a JSON {"error": ...} body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/auth.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/ratelimit.h"

/* MHD changed the callback return type in 0.9.71 (as collectd's write_prometheus.c). */
#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

#define DEFAULT_ADDR	   "127.0.0.1"
#define DEFAULT_MAX_URI	   4096
#define DEFAULT_MAX_HEADER 8192
#define DEFAULT_MAX_LONG   4
#define DEFAULT_MAX_CONNS  128
#define CONN_TIMEOUT_S	   60 /* idle; a handler blocking longer still answers */
#define STOP_WAIT_NS	   1500000000ull
#define UNMATCHED	   "unmatched"
/* Sent when even the error body cannot be allocated. */
#define OOM_BODY "{\"error\":\"out of memory\"}"

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_route *routes; /* copies, with copied strings */
	char **allow;		   /* Allow header value per route */
	const char **labels;	   /* metrics rows: route paths, then UNMATCHED */
	size_t n_routes;
	char *api_key;
	size_t key_len;
	struct ratelimit *rl; /* NULL: no limit */
	struct http_metrics *metrics;
	size_t max_uri, max_header;
	unsigned int max_long;
	bool log;
	volatile bool cancel;
	pthread_mutex_t lock; /* running, long_running */
	pthread_cond_t idle;
	unsigned int running, long_running;
};

/* One request, from the URI log callback to the completion callback. */
struct http_call {
	struct http_server *s;
	size_t uri_len;
	bool bad_uri; /* invalid or NUL percent-encoding */
	bool started, is_get;
	size_t body_len;
	const struct http_route *route;
	size_t row;	   /* metrics row */
	const char *allow; /* for 405 */
	bool www_auth;	   /* for 401 */
	uint8_t *body;	   /* kept for HTTP_BODY routes, NUL-terminated */
	size_t body_cap;
	uint64_t t0_ns;
	uint8_t ip[16]; /* IPv4 mapped into IPv6 */
	char client[INET6_ADDRSTRLEN];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * MHD leaves a bad "%zz" as is and decodes "%00" into a NUL that silently cuts
 * the value (or the path, which could then match a route), so judge the raw URI.
 */
bool http__uri_bad_escape(const char *uri)
{
	int hi, lo;

	for (; *uri; uri++) {
		if (*uri != '%')
			continue;
		hi = hexval(uri[1]);
		lo = hi < 0 ? -1 : hexval(uri[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return true;
		uri += 2;
	}
	return false;
}

static void call__set_client(struct http_call *c, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const struct sockaddr_in *in4;

	strcpy(c->client, "?");
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(c->ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		inet_ntop(AF_INET6, c->ip, c->client, sizeof(c->client));
	} else if (sa && sa->sa_family == AF_INET) {
		in4 = (const struct sockaddr_in *)sa;
		c->ip[10] = c->ip[11] = 0xff;
		memcpy(c->ip + 12, &in4->sin_addr, 4);
		inet_ntop(AF_INET, &in4->sin_addr, c->client, sizeof(c->client));
	}
}

/* MHD calls this with the raw request target; its result becomes the request's context. */
static void *server__uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = cls;
	c->uri_len = strlen(uri);
	c->bad_uri = http__uri_bad_escape(uri);
	c->t0_ns = now_ns();
	call__set_client(c, conn);
	return c;
}

static void server__completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*con_cls)
		free(((struct http_call *)*con_cls)->body);
	free(*con_cls);
	*con_cls = NULL;
}

static void server__mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("bpfprof: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* True if the comma-separated list holds method. */
static bool methods__has(const char *list, const char *method)
{
	size_t n = strlen(method), len;

	while (*list) {
		list += strspn(list, " ,");
		len = strcspn(list, " ,");
		if (len == n && !strncmp(list, method, n))
			return true;
		list += len;
	}
	return false;
}

/* HEAD is answered as GET; MHD drops the body. */
static bool route__allows(const struct http_route *r, const char *method)
{
	if (methods__has(r->methods, method))
		return true;
	return !strcmp(method, "HEAD") && methods__has(r->methods, "GET");
}

/* Exact match first, else the longest HTTP_PREFIX match. */
static const struct http_route *server__route(const struct http_server *s, const char *path)
{
	const struct http_route *best = NULL;
	size_t i, n, best_n = 0;

	for (i = 0; i < s->n_routes; i++) {
		const struct http_route *r = &s->routes[i];

		n = strlen(r->path);
		if (!strcmp(r->path, path))
			return r;
		if ((r->flags & HTTP_PREFIX) && n > best_n && !strncmp(r->path, path, n)) {
			best = r;
			best_n = n;
		}
	}
	return best;
}

static MHD_RESULT header__sum(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	size_t *sum = cls;

	(void)kind;
	/* "Key: value\r\n" */
	*sum += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static size_t call__header_bytes(struct MHD_Connection *conn)
{
	size_t sum = 0;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, header__sum, &sum);
	return sum;
}

/*
 * Compares the whole key whatever the input, touching every key byte and
 * folding the length difference in, so timing does not reveal a matching prefix.
 */
static bool key__equal(const char *key, size_t key_len, const char *given)
{
	size_t glen = strlen(given), i;
	volatile size_t diff = key_len ^ glen;

	for (i = 0; i < key_len; i++)
		diff |= (unsigned char)(key[i] ^ given[i < glen ? i : glen]);
	return diff == 0;
}

bool http__key_ok(const char *key, const char *x_api_key, const char *authorization)
{
	size_t key_len = strlen(key);
	char pw[HTTP_AUTH_MAX_BASIC];
	bool ok = false;

	if (x_api_key)
		ok |= key__equal(key, key_len, x_api_key);
	if (authorization && !strncasecmp(authorization, "Bearer ", 7)) {
		ok |= key__equal(key, key_len, authorization + 7 + strspn(authorization + 7, " "));
	} else if (authorization && !http_auth__basic_password(authorization, pw, sizeof(pw))) {
		/* Basic: any user name, the key as the password (what a URL's user info sends). */
		ok |= key__equal(key, key_len, pw);
		explicit_bzero(pw, sizeof(pw));
	}
	return ok;
}

static bool server__authorized(const struct http_server *s, struct MHD_Connection *conn)
{
	return http__key_ok(
	    s->api_key, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key"),
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

static bool call__rate_ok(struct http_call *c, struct http_resp *resp)
{
	struct http_server *s = c->s;
	double cost = c->route && c->route->cost ? c->route->cost : 1;
	unsigned int wait_s = 1;

	if (!s->rl || (c->route && (c->route->flags & HTTP_PUBLIC)))
		return true;
	if (ratelimit__take(s->rl, c->ip, cost, now_ns(), &wait_s))
		return true;
	http_metrics__rate_limited(s->metrics);
	http_resp__error(resp, 429, "too many requests: retry in %u s", wait_s);
	resp->retry_after_s = wait_s;
	return false;
}

bool http__content_length_ok(const char *v, size_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	return !errno && end != v && n <= max;
}

static size_t route__max_body(const struct http_route *r)
{
	return r && (r->flags & HTTP_BODY) ? HTTP_MAX_KEPT_BODY_BYTES : HTTP_MAX_BODY_BYTES;
}

/* Body size is only known up front from Content-Length; chunked bodies are counted later. */
static bool call__body_ok(struct MHD_Connection *conn, bool is_get, size_t max)
{
	const char *v =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return is_get || !v || http__content_length_ok(v, max);
}

/* Checks needing only the request head. False with resp filled on refusal. */
static bool call__admit(struct http_call *c, struct MHD_Connection *conn, const char *url,
			const char *method, struct http_resp *resp)
{
	struct http_server *s = c->s;

	c->is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	c->route = server__route(s, url);
	c->row = c->route ? (size_t)(c->route - s->routes) : s->n_routes;
	if (c->uri_len > s->max_uri)
		return http_resp__error(resp, 414, "URI longer than %zu bytes", s->max_uri), false;
	if (call__header_bytes(conn) > s->max_header)
		return http_resp__error(resp, 431, "request headers over %zu bytes", s->max_header),
		       false;
	if (!call__rate_ok(c, resp))
		return false;
	if (!c->route)
		return http_resp__error(resp, 404, "no such path"), false;
	if (!route__allows(c->route, method)) {
		c->allow = s->allow[c->row];
		return http_resp__error(resp, 405, "method %s not allowed", method), false;
	}
	if (s->api_key && !(c->route->flags & HTTP_PUBLIC) && !server__authorized(s, conn)) {
		c->www_auth = true;
		return http_resp__error(resp, 401, "missing or wrong API key"), false;
	}
	if (c->bad_uri)
		return http_resp__error(resp, 400, "invalid percent-encoding in URI"), false;
	if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) >
	    HTTP_MAX_QUERY_ARGS)
		return http_resp__error(resp, 400, "more than %d query arguments",
					HTTP_MAX_QUERY_ARGS),
		       false;
	if (!call__body_ok(conn, c->is_get, route__max_body(c->route)))
		return http_resp__error(resp, 413, "request body over %zu bytes",
					route__max_body(c->route)),
		       false;
	return true;
}

static MHD_RESULT arg__collect(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct http_req *req = cls;

	(void)kind;
	if (req->n_args >= HTTP_MAX_QUERY_ARGS)
		return MHD_NO;
	req->args[req->n_args].key = key ? key : "";
	req->args[req->n_args].value = value ? value : "";
	req->n_args++;
	return MHD_YES;
}

/* Takes a slot for the handler; false (with resp filled) when shutting down or at the long cap. */
static bool server__enter(struct http_server *s, bool is_long, struct http_resp *resp)
{
	bool ok = false;

	pthread_mutex_lock(&s->lock);
	if (s->cancel) {
		http_resp__error(resp, 503, "server shutting down");
		goto out;
	}
	if (is_long && s->long_running >= s->max_long) {
		http_resp__error(resp, 503, "too many long requests (max %u)", s->max_long);
		resp->retry_after_s = 1;
		goto out;
	}
	s->running++;
	s->long_running += is_long;
	ok = true;
out:
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void server__leave(struct http_server *s, bool is_long)
{
	pthread_mutex_lock(&s->lock);
	s->running--;
	s->long_running -= is_long;
	if (!s->running)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

/* A handler's answer must be a real status with a body to match its length. */
static void call__check_resp(int rc, struct http_resp *resp)
{
	if (rc < 0) {
		http_resp__error(resp, 500, "internal error: %s", strerror(-rc));
		return;
	}
	if (resp->status < 100 || resp->status > 599 || (!resp->body && resp->len))
		http_resp__error(resp, 500, "internal error: bad handler response");
}

/* Whether this request will wait, and so counts against the long-request cap. */
static bool call__is_long(const struct http_route *r, const struct http_req *req)
{
	bool ranged = http_req__arg(req, "last") || http_req__arg(req, "from") ||
		      http_req__arg(req, "to");

	if (r->flags & HTTP_LONG)
		return !((r->flags & HTTP_RANGE_FAST) && ranged);
	if (r->flags & HTTP_WAIT_IF_SECONDS)
		return http_req__arg(req, "seconds") != NULL;
	return false;
}

static void call__run(struct http_call *c, struct MHD_Connection *conn, const char *url,
		      const char *method, struct http_resp *resp)
{
	struct http_server *s = c->s;
	const struct http_route *r = c->route;
	bool is_long;
	struct http_req req = {
	    .method = method,
	    .path = url,
	    .client = c->client,
	    .cancel = &s->cancel,
	};
	int rc;

	if (!c->is_get && c->body_len > route__max_body(r)) {
		http_resp__error(resp, 413, "request body over %zu bytes", route__max_body(r));
		return;
	}
	if (r->flags & HTTP_BODY) {
		req.body = c->body ? (const char *)c->body : "";
		req.body_len = c->body ? c->body_len : 0;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg__collect, &req);
	is_long = call__is_long(r, &req);
	if (!server__enter(s, is_long, resp))
		return;
	rc = r->fn(&req, resp, r->ctx);
	server__leave(s, is_long);
	call__check_resp(rc, resp);
}

static int resp__add_headers(struct MHD_Response *r, const struct http_call *c,
			     const struct http_resp *resp)
{
	char retry[16];
	int ok = 1;

	ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				      resp->content_type ? resp->content_type
							 : "application/json") == MHD_YES;
	ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
	ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
	if (resp->content_disposition)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					      resp->content_disposition) == MHD_YES;
	if (resp->retry_after_s) {
		snprintf(retry, sizeof(retry), "%u", resp->retry_after_s);
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry) == MHD_YES;
	}
	if (c && c->allow)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, c->allow) == MHD_YES;
	if (c && c->www_auth)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") ==
		      MHD_YES;
	return ok ? 0 : -ENOMEM;
}

/* Path with control bytes replaced, so a request cannot forge log lines. */
static void log__path(const char *path, char *out, size_t size)
{
	size_t i;

	for (i = 0; path[i] && i + 1 < size; i++)
		out[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7f ? '?' : path[i];
	out[i] = '\0';
}

static void call__account(const struct http_call *c, const char *method, const char *url,
			  int status)
{
	uint64_t dur = now_ns() - c->t0_ns;
	char path[256];

	http_metrics__observe(c->s->metrics, c->row, status, dur);
	if (!c->s->log)
		return;
	log__path(url, path, sizeof(path));
	fprintf(stderr, "bpfprof: http: %s %s %s %d %.1f ms\n", c->client, method, path, status,
		(double)dur / 1e6);
}

/* Queues resp (taking its body) and counts it. c may be NULL when out of memory. */
static MHD_RESULT call__finish(struct http_call *c, struct MHD_Connection *conn, const char *method,
			       const char *url, struct http_resp *resp)
{
	struct MHD_Response *r;
	MHD_RESULT ret = MHD_NO;

	if (!resp->status) { /* even the error body failed */
		free(resp->body);
		resp->body = (uint8_t *)OOM_BODY;
		resp->len = strlen(OOM_BODY);
		resp->status = 500;
		r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (void *)"",
						    resp->body ? MHD_RESPMEM_MUST_FREE
							       : MHD_RESPMEM_PERSISTENT);
		if (!r)
			free(resp->body);
	}
	if (!r)
		goto out;
	if (!resp__add_headers(r, c, resp))
		ret = MHD_queue_response(conn, (unsigned int)resp->status, r);
	MHD_destroy_response(r);
	if (c)
		call__account(c, method, url, resp->status);
out:
	return ret;
}

/*
 * Appends a chunk to the kept body while it fits; past the route's limit it
 * only counts, and call__run answers 413. Out of memory also ends in a 413
 * rather than a handler reading half a body.
 */
static void call__take_body(struct http_call *c, const char *data, size_t n)
{
	size_t max = route__max_body(c->route), want;
	uint8_t *nb;

	c->body_len += n;
	if (!(c->route->flags & HTTP_BODY) || c->body_len > max)
		return;
	if (c->body_len + 1 > c->body_cap) {
		want = c->body_cap ? c->body_cap : 4096;
		while (want < c->body_len + 1)
			want *= 2;
		want = want > max + 1 ? max + 1 : want;
		nb = realloc(c->body, want);
		if (!nb) {
			c->body_len = max + 1;
			return;
		}
		c->body = nb;
		c->body_cap = want;
	}
	memcpy(c->body + c->body_len - n, data, n);
	c->body[c->body_len] = '\0';
}

static MHD_RESULT server__access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct http_call *c = *con_cls;
	struct http_resp resp = {0};

	(void)cls;
	(void)version;
	(void)upload;
	if (!c) /* the URI callback could not allocate */
		return call__finish(NULL, conn, method, url, &resp);
	if (!c->started) {
		c->started = true;
		if (!call__admit(c, conn, url, method, &resp))
			return call__finish(c, conn, method, url, &resp);
		return MHD_YES;
	}
	if (*upload_size) { /* kept for HTTP_BODY routes, else counted and ignored */
		call__take_body(c, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	call__run(c, conn, url, method, &resp);
	return call__finish(c, conn, method, url, &resp);
}

static void server__free(struct http_server *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; s->routes && i < s->n_routes; i++) {
		free((char *)s->routes[i].path);
		free((char *)s->routes[i].methods);
		free(s->allow ? s->allow[i] : NULL);
	}
	free(s->routes);
	free(s->allow);
	free(s->labels);
	free(s->api_key);
	ratelimit__free(s->rl);
	http_metrics__free(s->metrics);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* "GET,POST" -> "GET, HEAD, POST": the Allow header, listing HEAD wherever GET is. */
static char *allow__build(const char *methods)
{
	char *buf = NULL, *tok, *save = NULL, *copy = strdup(methods);
	size_t len = 0;
	FILE *f = copy ? open_memstream(&buf, &len) : NULL;
	const char *sep = "";

	if (!f)
		goto out;
	for (tok = strtok_r(copy, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		fprintf(f, "%s%s", sep, tok);
		sep = ", ";
		if (!strcmp(tok, "GET") && !methods__has(methods, "HEAD"))
			fputs(", HEAD", f);
	}
	if (fclose(f)) {
		free(buf);
		buf = NULL;
	}
out:
	free(copy);
	return buf;
}

static int server__copy_route(struct http_server *s, size_t i, const struct http_route *r)
{
	struct http_route *d = &s->routes[i];

	if (!r->path || !r->methods || !r->fn)
		return -EINVAL;
	*d = *r;
	d->path = strdup(r->path);
	d->methods = strdup(r->methods);
	s->allow[i] = allow__build(r->methods);
	if (!d->path || !d->methods || !s->allow[i])
		return -ENOMEM;
	s->labels[i] = d->path;
	return 0;
}

static int server__init_routes(struct http_server *s, const struct http_route *routes, size_t n)
{
	size_t i;
	int err;

	s->routes = calloc(n ? n : 1, sizeof(*s->routes));
	s->allow = calloc(n ? n : 1, sizeof(*s->allow));
	s->labels = calloc(n + 1, sizeof(*s->labels));
	if (!s->routes || !s->allow || !s->labels)
		return -ENOMEM;
	s->n_routes = n;
	for (i = 0; i < n; i++) {
		err = server__copy_route(s, i, &routes[i]);
		if (err)
			return err;
	}
	s->labels[n] = UNMATCHED;
	s->metrics = http_metrics__new(s->labels, n + 1);
	return s->metrics ? 0 : -ENOMEM;
}

static int server__init(struct http_server *s, const struct http_opts *o,
			const struct http_route *routes, size_t n)
{
	pthread_condattr_t ca;
	int err;

	pthread_mutex_init(&s->lock, NULL);
	/* Monotonic, so a clock step cannot stretch the shutdown wait. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	s->max_uri = o->max_uri_bytes ? o->max_uri_bytes : DEFAULT_MAX_URI;
	s->max_header = o->max_header_bytes ? o->max_header_bytes : DEFAULT_MAX_HEADER;
	s->max_long = o->max_long ? o->max_long : DEFAULT_MAX_LONG;
	s->log = getenv("BPFPROF_HTTP_LOG") && !strcmp(getenv("BPFPROF_HTTP_LOG"), "1");
	if (o->api_key && *o->api_key) {
		s->api_key = strdup(o->api_key);
		if (!s->api_key)
			return -ENOMEM;
		s->key_len = strlen(s->api_key);
	}
	if (o->rate_per_s > 0) {
		s->rl = ratelimit__new(o->rate_per_s, o->rate_burst);
		if (!s->rl)
			return -errno;
	}
	err = server__init_routes(s, routes, n);
	if (err == -EINVAL)
		fprintf(stderr, "bpfprof: http: route without path, methods or handler\n");
	return err;
}

union any_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static int addr__parse(const char *addr, uint16_t port, union any_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, addr, &a->in4.sin_addr) == 1) {
		a->in4.sin_family = AF_INET;
		a->in4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	fprintf(stderr, "bpfprof: http: bad listen address '%s' (want an IP literal)\n", addr);
	return -EINVAL;
}

static int tls__check(const struct http_opts *o)
{
	if (!o->tls_cert_pem != !o->tls_key_pem) {
		fprintf(stderr, "bpfprof: http: TLS needs both a certificate and a key\n");
		return -EINVAL;
	}
	if (o->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "bpfprof: http: this libmicrohttpd was built without TLS\n");
		return -ENOTSUP;
	}
	return 0;
}

/* Headers, the URI and body chunks share MHD's per-connection pool. */
static size_t server__pool_size(const struct http_server *s)
{
	size_t want = s->max_uri + s->max_header + 16384;

	return want < 32768 ? 32768 : want;
}

static int server__listen(struct http_server *s, const struct http_opts *o, const union any_addr *a)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	struct MHD_OptionItem tls[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};

	if (a->sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert_pem)
		flags |= MHD_USE_TLS;
	/* The logger goes first, or MHD complains through its default logger. */
	s->mhd = MHD_start_daemon(
	    flags, o->port, NULL, NULL, server__access, s, MHD_OPTION_EXTERNAL_LOGGER,
	    server__mhd_log, s, MHD_OPTION_SOCK_ADDR, &a->sa, MHD_OPTION_URI_LOG_CALLBACK,
	    server__uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, server__completed, s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, server__pool_size(s), MHD_OPTION_CONNECTION_LIMIT,
	    o->max_conns ? o->max_conns : DEFAULT_MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)CONN_TIMEOUT_S, MHD_OPTION_ARRAY, o->tls_cert_pem ? tls : &tls[2],
	    MHD_OPTION_END);
	if (!s->mhd) {
		fprintf(stderr, "bpfprof: http: cannot listen on %s port %u\n",
			o->addr ? o->addr : DEFAULT_ADDR, o->port);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

struct http_server *http__start(const struct http_opts *opts, const struct http_route *routes,
				size_t n_routes)
{
	struct http_server *s = NULL;
	union any_addr a;
	int err = -EINVAL;

	if (!opts || (n_routes && !routes))
		goto out;
	err = addr__parse(opts->addr ? opts->addr : DEFAULT_ADDR, opts->port, &a);
	if (!err)
		err = tls__check(opts);
	if (err)
		goto out;
	err = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	err = server__init(s, opts, routes, n_routes);
	if (!err)
		err = server__listen(s, opts, &a);
out:
	if (err) {
		server__free(s);
		s = NULL;
		errno = -err;
	}
	return s;
}

/* Waits until no handler runs or the deadline passes; true if idle. */
static bool server__drain(struct http_server *s)
{
	struct timespec deadline;
	bool idle;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += STOP_WAIT_NS % 1000000000ull;
	deadline.tv_sec += STOP_WAIT_NS / 1000000000ull + deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	pthread_mutex_lock(&s->lock);
	__atomic_store_n(&s->cancel, true, __ATOMIC_RELEASE); /* handlers poll it unlocked */
	while (s->running && pthread_cond_timedwait(&s->idle, &s->lock, &deadline) != ETIMEDOUT)
		;
	idle = !s->running;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

void http__stop(struct http_server *s)
{
	MHD_socket fd;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->mhd);
	if (!server__drain(s)) {
		/*
		 * MHD_stop_daemon joins connection threads and would hang on a
		 * handler that ignores cancel; the process is exiting, so leave
		 * the daemon and its memory rather than miss the shutdown deadline.
		 */
		fprintf(stderr, "bpfprof: http: handlers still running at stop; not waiting\n");
		return;
	}
	MHD_stop_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	server__free(s);
}

uint16_t http__port(const struct http_server *s)
{
	const union MHD_DaemonInfo *di;

	if (!s || !s->mhd)
		return 0;
	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void http__write_metrics(struct http_server *s, FILE *f)
{
	struct http_metrics_gauges g = {0};

	if (!s || !f)
		return;
	pthread_mutex_lock(&s->lock);
	g.in_flight = s->running;
	g.long_in_flight = s->long_running;
	pthread_mutex_unlock(&s->lock);
	g.rate_evictions = ratelimit__evictions(s->rl);
	http_metrics__write(s->metrics, &g, f);
}
