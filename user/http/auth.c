// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"

static int b64__val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Standard alphabet; the "=" padding may be left out, but nothing may follow
 * it. Returns the decoded length or -EINVAL.
 */
static int b64__decode(const char *in, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0, pad = 0;
	int v;

	while (len && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if ((pad && (len + pad) % 4) || len % 4 == 1)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		v = b64__val((unsigned char)in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)n;
}

static int basic__split(const uint8_t *raw, size_t n, char *out, size_t size)
{
	const uint8_t *colon = memchr(raw, ':', n);
	size_t i, plen;

	if (!colon)
		return -EINVAL;
	plen = n - (size_t)(colon + 1 - raw);
	if (!plen)
		return -EINVAL;
	if (plen >= size)
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (raw[i] < 0x20 || raw[i] == 0x7f)
			return -EINVAL;
	memcpy(out, colon + 1, plen);
	out[plen] = '\0';
	return 0;
}

int http_auth__basic_password(const char *value, char *out, size_t size)
{
	uint8_t raw[HTTP_AUTH_MAX_BASIC];
	size_t len;
	int n, err = -EINVAL;

	if (!out || !size)
		return -EINVAL;
	memset(out, 0, size);
	if (!value || strncasecmp(value, "Basic ", 6))
		return -EINVAL;
	value += 6 + strspn(value + 6, " ");
	len = strcspn(value, " \t");
	if (value[len + strspn(value + len, " \t")])
		return -EINVAL; /* more than one token */
	if (len > HTTP_AUTH_MAX_BASIC)
		return -E2BIG;
	n = b64__decode(value, len, raw);
	if (n >= 0)
		err = basic__split(raw, (size_t)n, out, size);
	explicit_bzero(raw, sizeof(raw));
	if (err)
		memset(out, 0, size);
	return err;
}
