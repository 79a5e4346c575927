/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HTTP front (libmicrohttpd): routing, API-key auth, per-client rate
 * limits, a cap on concurrent long requests, size limits, JSON errors and
 * request metrics. Route handlers never see MHD; they fill an http_resp.
 */
#ifndef BPFPROF_HTTP_H
#define BPFPROF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct http_server;

#define HTTP_MAX_QUERY_ARGS 32
/* Request bodies (POST) are read and ignored up to this size; beyond: 413. */
#define HTTP_MAX_BODY_BYTES (64 * 1024)
/* Routes with HTTP_BODY get the body in http_req, up to this size; beyond: 413. */
#define HTTP_MAX_KEPT_BODY_BYTES (1024 * 1024)

struct http_arg {
	const char *key, *value; /* value "" for "?flag" */
};

struct http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* without the query string */
	struct http_arg args[HTTP_MAX_QUERY_ARGS];
	size_t n_args;
	const char *client; /* peer address, for logs */
	/* HTTP_BODY routes: the request body, NUL-terminated ("" when none). */
	const char *body;
	size_t body_len;
	/* Set when the server is shutting down: long handlers must return promptly. */
	const volatile bool *cancel;
};

struct http_resp {
	int status;
	const char *content_type; /* default "application/json" */
	uint8_t *body;		  /* malloc'd; the server frees it */
	size_t len;
	const char *content_disposition; /* optional, e.g. attachment; filename="x.pb.gz" */
	unsigned int retry_after_s;	 /* > 0 adds Retry-After */
};

/* A handler returns 0 after filling resp (any status), or a negative errno for a 500. */
typedef int (*http_handler_fn)(const struct http_req *req, struct http_resp *resp, void *ctx);

enum http_route_flags {
	HTTP_PUBLIC = 1 << 0, /* no API key needed (health probes) */
	HTTP_LONG = 1 << 1,   /* waits (profile?seconds=N): counts against the long cap */
	HTTP_PREFIX = 1 << 2, /* path is a prefix ("/api/v1/snapshots/") */
	/* With HTTP_LONG: a request with last=, from= or to= answers at once, not long. */
	HTTP_RANGE_FAST = 1 << 3,
	/* Without HTTP_LONG: long only when the request has seconds=. */
	HTTP_WAIT_IF_SECONDS = 1 << 4,
	/* The handler reads the body (req->body), up to HTTP_MAX_KEPT_BODY_BYTES. */
	HTTP_BODY = 1 << 5,
};

struct http_route {
	const char *path;
	const char *methods; /* "GET", "GET,POST", ... others get 405 */
	unsigned int flags;
	http_handler_fn fn;
	void *ctx;
	/* Cost in rate-limit tokens; 0 means 1. */
	unsigned int cost;
};

struct http_opts {
	const char *addr;			/* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
	uint16_t port;				/* 0: pick a free port (tests); see http__port */
	/* NULL: no auth. Else X-API-Key: KEY, Authorization: Bearer KEY, or Basic with KEY as the password. */
	const char *api_key;
	const char *tls_cert_pem, *tls_key_pem; /* file contents, both or neither */
	double rate_per_s;			/* tokens per second per client; 0: no limit */
	double rate_burst;			/* bucket size */
	unsigned int max_long;			/* concurrent HTTP_LONG requests; beyond: 503 */
	unsigned int max_conns;
	size_t max_uri_bytes;	 /* longer URIs get 414; 0: 4096 */
	size_t max_header_bytes; /* 431 beyond; 0: 8192 */
};

struct http_server *http__start(const struct http_opts *opts, const struct http_route *routes,
				size_t n_routes); /* NULL + errno, message on stderr */
/* Stops accepting, cancels long requests, waits for open ones (bounded), frees. NULL-safe. */
void http__stop(struct http_server *s);
uint16_t http__port(const struct http_server *s);

/* Query helpers for handlers. */
const char *http_req__arg(const struct http_req *req, const char *key); /* first value or NULL */
size_t http_req__args(const struct http_req *req, const char *key, const char **out, size_t max);

/*
 * The request-head checks of the gate, pure so tests and fuzzers reach them:
 * a bad or NUL ("%00") percent-escape in the raw URI; the API key given as
 * X-API-Key, "Authorization: Bearer KEY" or Basic with KEY as the password
 * (either value may be NULL), compared in constant time; a Content-Length
 * of at most max bytes.
 */
bool http__uri_bad_escape(const char *uri);
bool http__key_ok(const char *key, const char *x_api_key, const char *authorization);
bool http__content_length_ok(const char *content_length, size_t max);

/* Response helpers: each sets status, content type and a malloc'd body. 0 or -ENOMEM. */
int http_resp__error(struct http_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4))); /* {"error": "..."} via json-c */
int http_resp__json(struct http_resp *resp, int status, const char *json_text);
int http_resp__bytes(struct http_resp *resp, int status, const char *content_type, const void *data,
		     size_t len);

/* Request counts by route and status, in Prometheus text format, appended to f. */
void http__write_metrics(struct http_server *s, FILE *f);

#endif
