// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Query and response helpers for route handlers. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http/http.h"

const char *http_req__arg(const struct http_req *req, const char *key)
{
	size_t i;

	if (!req || !key)
		return NULL;
	for (i = 0; i < req->n_args; i++)
		if (!strcmp(req->args[i].key, key))
			return req->args[i].value;
	return NULL;
}

size_t http_req__args(const struct http_req *req, const char *key, const char **out, size_t max)
{
	size_t i, n = 0;

	if (!req || !key || !out)
		return 0;
	for (i = 0; i < req->n_args && n < max; i++)
		if (!strcmp(req->args[i].key, key))
			out[n++] = req->args[i].value;
	return n;
}

/* Takes ownership of body; a body set earlier by the handler is replaced, not leaked. */
static void http_resp__set(struct http_resp *resp, int status, const char *type, uint8_t *body,
			   size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = type;
	resp->body = body;
	resp->len = len;
}

int http_resp__bytes(struct http_resp *resp, int status, const char *content_type, const void *data,
		     size_t len)
{
	uint8_t *body = malloc(len ? len : 1);

	if (!body)
		return -ENOMEM;
	if (len)
		memcpy(body, data, len);
	http_resp__set(resp, status, content_type, body, len);
	return 0;
}

int http_resp__json(struct http_resp *resp, int status, const char *json_text)
{
	return http_resp__bytes(resp, status, "application/json", json_text, strlen(json_text));
}

/* {"error": msg} through json-c so any byte in msg is escaped correctly. */
static int http_resp__error_msg(struct http_resp *resp, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *v = json_object_new_string(msg);
	const char *text;
	int err = -ENOMEM;

	if (!o || !v)
		goto out;
	if (json_object_object_add(o, "error", v))
		goto out;
	v = NULL; /* owned by o now */
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto out;
	err = http_resp__json(resp, status, text);
out:
	json_object_put(v);
	json_object_put(o);
	return err;
}

int http_resp__error(struct http_resp *resp, int status, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (err < 0)
		return -ENOMEM;
	err = http_resp__error_msg(resp, status, msg);
	free(msg);
	return err;
}
