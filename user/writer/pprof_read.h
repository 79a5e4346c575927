/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pprof reader: profile.proto (plain or gzip'd) -> profile model, the
 * inverse of pprof.h. Built for untrusted input: malformed data is -EINVAL,
 * never a crash; the file, the decompressed message (gzip bombs) and the
 * memory the decode takes are capped, and a cap hit is -EFBIG. The _ex
 * variants take the caps and write why a file was refused (naming the
 * limit) into why. Thread-safe: no shared state.
 */
#ifndef BPFPROF_WRITER_PPROF_READ_H
#define BPFPROF_WRITER_PPROF_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

/* Largest file and decompressed message accepted by default. */
#define PPROF_MAX_RAW_BYTES ((size_t)64 << 20)

struct pprof_limits {
	size_t max_raw_bytes; /* file and decompressed message; 0: PPROF_MAX_RAW_BYTES */
	/*
	 * Decode memory (string table, id tables, the profile) is capped at 32
	 * bytes per message byte + 1 MiB; this lowers that cap. 0: no extra cap.
	 */
	size_t max_mem_bytes;
	bool no_follow; /* refuse a symlink in place of the file */
	size_t *decoded; /* if set, receives the message bytes inflated, even when refused */
};

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

/*
 * The same with caps (NULL: defaults) and, in why (NULL: not wanted), a
 * one-line reason when refused: "string table: decoding would take over
 * N bytes, the memory limit for a M-byte message", "decompresses to over
 * the N-byte limit", "not a regular file", ... -EFBIG when a cap was hit.
 */
int pprof__decode_ex(const uint8_t *buf, size_t len, const struct pprof_limits *lim,
		     struct profile **out, char *why, size_t why_len);
int pprof__decode_gz_ex(const uint8_t *buf, size_t len, const struct pprof_limits *lim,
			struct profile **out, char *why, size_t why_len);
int pprof__read_file_ex(const char *path, const struct pprof_limits *lim, struct profile **out,
			char *why, size_t why_len);

#endif
