/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Minimal protobuf encoder, after Go's runtime/pprof/protobuf.go: one
 * growable buffer; a nested message is written in place and its tag and
 * length are inserted in front of it when it ends. Errors are sticky: after
 * the first failed allocation every call is a no-op and pb__err() reports it,
 * so encoders check once at the end instead of after every field.
 */
#ifndef BPFPROF_WRITER_PROTOBUF_H
#define BPFPROF_WRITER_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pb_buf {
	uint8_t *data;
	size_t len, cap;
	int err;
};

void pb__init(struct pb_buf *b);
void pb__free(struct pb_buf *b); /* NULL-safe */
int pb__err(const struct pb_buf *b);

/* Scalar fields; the _opt variants skip the default value like proto3 does. */
void pb__uint64(struct pb_buf *b, uint32_t tag, uint64_t v);
void pb__uint64_opt(struct pb_buf *b, uint32_t tag, uint64_t v);
void pb__int64(struct pb_buf *b, uint32_t tag, int64_t v);
void pb__int64_opt(struct pb_buf *b, uint32_t tag, int64_t v);
void pb__bool_opt(struct pb_buf *b, uint32_t tag, bool v);
void pb__string(struct pb_buf *b, uint32_t tag, const char *s);

/* Packed repeated fields; nothing is written for n == 0. */
void pb__packed_uint32(struct pb_buf *b, uint32_t tag, const uint32_t *v, size_t n);
void pb__packed_int64(struct pb_buf *b, uint32_t tag, const int64_t *v, size_t n);

/* Embedded messages: pass the start position back to pb__end. */
size_t pb__start(const struct pb_buf *b);
void pb__end(struct pb_buf *b, uint32_t tag, size_t start);

/* Hands the encoded bytes to the caller, who frees them; resets b. */
uint8_t *pb__take(struct pb_buf *b, size_t *len);

#endif
