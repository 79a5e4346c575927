// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "writer/protobuf.h"

#define WIRE_VARINT 0
#define WIRE_BYTES  2
#define VARINT_MAX  10

void pb__init(struct pb_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pb__free(struct pb_buf *b)
{
	if (!b)
		return;
	free(b->data);
	pb__init(b);
}

int pb__err(const struct pb_buf *b)
{
	return b->err;
}

static bool pb__reserve(struct pb_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *tmp;

	if (b->err)
		return false;
	if (b->len + extra <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	tmp = realloc(b->data, cap);
	if (!tmp) {
		b->err = -ENOMEM;
		return false;
	}
	b->data = tmp;
	b->cap = cap;
	return true;
}

static size_t varint__put(uint8_t *dst, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		dst[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	dst[n++] = (uint8_t)v;
	return n;
}

static size_t varint__size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void pb__varint(struct pb_buf *b, uint64_t v)
{
	if (pb__reserve(b, VARINT_MAX))
		b->len += varint__put(b->data + b->len, v);
}

static void pb__key(struct pb_buf *b, uint32_t tag, int wire)
{
	pb__varint(b, (uint64_t)tag << 3 | (uint64_t)wire);
}

void pb__uint64(struct pb_buf *b, uint32_t tag, uint64_t v)
{
	pb__key(b, tag, WIRE_VARINT);
	pb__varint(b, v);
}

void pb__uint64_opt(struct pb_buf *b, uint32_t tag, uint64_t v)
{
	if (v)
		pb__uint64(b, tag, v);
}

/* int64 (not sint64) in profile.proto: negatives are sign-extended to 10 bytes */
void pb__int64(struct pb_buf *b, uint32_t tag, int64_t v)
{
	pb__uint64(b, tag, (uint64_t)v);
}

void pb__int64_opt(struct pb_buf *b, uint32_t tag, int64_t v)
{
	if (v)
		pb__int64(b, tag, v);
}

void pb__bool_opt(struct pb_buf *b, uint32_t tag, bool v)
{
	if (v)
		pb__uint64(b, tag, 1);
}

void pb__string(struct pb_buf *b, uint32_t tag, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	pb__key(b, tag, WIRE_BYTES);
	pb__varint(b, n);
	if (n && pb__reserve(b, n)) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	}
}

void pb__packed_uint32(struct pb_buf *b, uint32_t tag, const uint32_t *v, size_t n)
{
	size_t i, size = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		size += varint__size(v[i]);
	pb__key(b, tag, WIRE_BYTES);
	pb__varint(b, size);
	if (!pb__reserve(b, size))
		return;
	for (i = 0; i < n; i++)
		b->len += varint__put(b->data + b->len, v[i]);
}

void pb__packed_int64(struct pb_buf *b, uint32_t tag, const int64_t *v, size_t n)
{
	size_t i, size = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		size += varint__size((uint64_t)v[i]);
	pb__key(b, tag, WIRE_BYTES);
	pb__varint(b, size);
	if (!pb__reserve(b, size))
		return;
	for (i = 0; i < n; i++)
		b->len += varint__put(b->data + b->len, (uint64_t)v[i]);
}

size_t pb__start(const struct pb_buf *b)
{
	return b->len;
}

/*
 * The body is already at [start, len): build key + length in a scratch
 * buffer, shift the body right by that much and copy the header in front.
 */
void pb__end(struct pb_buf *b, uint32_t tag, size_t start)
{
	uint8_t hdr[2 * VARINT_MAX];
	size_t body, n;

	if (b->err || start > b->len)
		return;
	body = b->len - start;
	n = varint__put(hdr, (uint64_t)tag << 3 | WIRE_BYTES);
	n += varint__put(hdr + n, body);
	if (!pb__reserve(b, n))
		return;
	memmove(b->data + start + n, b->data + start, body);
	memcpy(b->data + start, hdr, n);
	b->len += n;
}

uint8_t *pb__take(struct pb_buf *b, size_t *len)
{
	uint8_t *data = b->data;

	*len = b->len;
	pb__init(b);
	return data;
}
