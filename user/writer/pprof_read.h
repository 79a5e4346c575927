/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pprof reader: profile.proto (plain or gzip'd) -> profile model, the
 * inverse of pprof.h. Built for untrusted input: malformed data is -EINVAL,
 * never a crash, and decompression is bounded against gzip bombs.
 */
#ifndef BPFPROF_WRITER_PPROF_READ_H
#define BPFPROF_WRITER_PPROF_READ_H

#include <stddef.h>
#include <stdint.h>

struct profile;

/* Largest decompressed profile pprof__decode_gz and pprof__read_file accept. */
#define PPROF_MAX_RAW_BYTES ((size_t)512 << 20)

/*
 * Decodes an uncompressed profile.proto message into a new profile (*out,
 * caller frees). 0, -EINVAL on malformed input, -ENOMEM.
 */
int pprof__decode(const uint8_t *buf, size_t len, struct profile **out);

/* Gunzips (gzip or zlib framing) then decodes; -EFBIG past PPROF_MAX_RAW_BYTES. */
int pprof__decode_gz(const uint8_t *buf, size_t len, struct profile **out);

/*
 * Inflates buf into a malloc'd buffer of at most max bytes (*out, *out_len;
 * caller frees). -EINVAL on corrupt or truncated data, -EFBIG past max.
 */
int pprof__gunzip(const uint8_t *buf, size_t len, size_t max, uint8_t **out, size_t *out_len);

/* Reads a file written by pprof__write (or any pprof, gzip'd or not). */
int pprof__read_file(const char *path, struct profile **out);

#endif
