/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /debug/pprof/symbol, as Go's net/http/pprof serves it. pprof posts the
 * addresses of a mapping it could not symbolize ("0xA+0xB+...", the mapping
 * it asks about named nowhere in the request) and reads "0xADDR name" lines.
 *
 * A whole-host profile holds many processes, so a bare address is ambiguous.
 * The index remembers, for the last SYMBOL_PROFILES pprof profiles served
 * (each at most SYMBOL_TTL_S old), every mapping pprof will ask about (one
 * with an unresolved location, not "[...]"-named) with up to SYMBOL_PIDS PIDs
 * whose samples used it. pprof shifts a mapping's addresses into the range of
 * the profile's first mapping of the same build ID (or file); the index keeps
 * that range and the shift back. A request is answered from the newest
 * remembered mapping holding most of its addresses, through a symbolizer of
 * its own reading those PIDs' maps now, and only where a PID still maps that
 * file at that range. Addresses it cannot name are left out, as Go does.
 *
 * Thread use: every function may be called from any thread (one lock).
 */
#ifndef BPFPROF_SERVE_SYMBOL_H
#define BPFPROF_SERVE_SYMBOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct profile;
struct http_req;
struct http_resp;
struct symbol_index;

#define SYMBOL_PROFILES	    16
#define SYMBOL_MAX_MAPPINGS 1024 /* remembered per profile; the rest are counted */
#define SYMBOL_PIDS	    4
#define SYMBOL_TTL_S	    600
#define SYMBOL_MAX_ADDRS    65536 /* per request; more: 413 */

struct symbol_stats {
	uint64_t requests;	   /* POSTs answered */
	uint64_t addresses;	   /* addresses asked about */
	uint64_t resolved;	   /* of which named */
	uint64_t mappings_dropped; /* beyond SYMBOL_MAX_MAPPINGS */
};

struct symbol_index *symbol_index__new(void);	 /* NULL + errno */
void symbol_index__free(struct symbol_index *x); /* NULL-safe */

/* Remembers what pprof may ask about p. 0 or -ENOMEM; NULL x or p: 0. */
int symbol_index__remember(struct symbol_index *x, const struct profile *p);

/*
 * Writes "0xADDR name\n" for each address of addrs it can name. 0 or
 * negative errno (a write to out failing).
 */
int symbol_index__resolve(struct symbol_index *x, const uint64_t *addrs, size_t n, FILE *out);
void symbol_index__stats(struct symbol_index *x, struct symbol_stats *out);
/* The stats in Prometheus text format. */
void symbol_index__write_metrics(struct symbol_index *x, FILE *f);

/*
 * Parses a request body: addresses joined by '+', each 0x-hex or decimal,
 * optional trailing whitespace; an empty body is no addresses. At most max
 * go to addrs. 0; -EINVAL (message in err) for a bad token; -E2BIG over max.
 */
int symbol__parse(const char *body, size_t len, uint64_t *addrs, size_t max, size_t *n, char *err,
		  size_t err_size);

/* The route handler; ctx is the struct symbol_index. */
int symbol__route(const struct http_req *req, struct http_resp *resp, void *ctx);

#endif
