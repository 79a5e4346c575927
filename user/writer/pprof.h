/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pprof writer: profile model -> gzip'd profile.proto (google/pprof). */
#ifndef BPFPROF_WRITER_PPROF_H
#define BPFPROF_WRITER_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct profile;

/*
 * Encodes p as an uncompressed profile.proto message into a malloc'd buffer.
 * 0 on success (*out, *len set; caller frees), negative errno otherwise.
 */
int pprof__encode(const struct profile *p, uint8_t **out, size_t *len);

/* Encodes and gzips into a malloc'd buffer. */
int pprof__encode_gz(const struct profile *p, uint8_t **out, size_t *len);

/* Encodes, gzips and writes to f. 0 or negative errno. */
int pprof__write(const struct profile *p, FILE *f);

#endif
