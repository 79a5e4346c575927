/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Credentials from an Authorization header value. HTTP Basic auth (RFC 7617)
 * is what clients that only take a URL can send (go tool pprof, a browser):
 * "http://user:KEY@host/..." becomes "Basic base64(user:KEY)". Pure
 * functions, callable from any thread.
 */
#ifndef BPFPROF_HTTP_AUTH_H
#define BPFPROF_HTTP_AUTH_H

#include <stddef.h>

/* Longest base64 credential accepted (the header limit bounds it anyway). */
#define HTTP_AUTH_MAX_BASIC 1024

/*
 * Decodes value ("Basic <base64 of user:password>", scheme case-insensitive)
 * and copies the password (after the first colon; any user name) into out.
 * 0; -EINVAL: not Basic, bad base64, no colon, empty password or a NUL or
 * control byte inside; -E2BIG: credentials over HTTP_AUTH_MAX_BASIC or the
 * password does not fit in size bytes. out is zeroed on every error.
 */
int http_auth__basic_password(const char *value, char *out, size_t size);

#endif
