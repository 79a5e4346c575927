// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /debug/pprof/symbol: see symbol.h for how addresses find their process. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "profile/profile.h"
#include "serve/symbol.h"
#include "symbolizer/symbolizer.h"

#define NS		1000000000LL
#define SYM_CACHE_BYTES (16u << 20)
#define SYM_MAX_PIDS	64
#define CANDIDATES	8 /* remembered mappings tried per request */
#define PARSE_ERR_TOKEN 24

struct sym_entry {
	uint64_t start, limit; /* the range pprof posts addresses in */
	uint64_t map_start;    /* where the PIDs map it: address - start + map_start */
	char *file;
	uint32_t pids[SYMBOL_PIDS];
	size_t n_pids;
};

struct sym_profile {
	int64_t at_ns; /* CLOCK_MONOTONIC; 0: empty slot */
	struct sym_entry *ents;
	size_t n;
};

struct symbol_index {
	pthread_mutex_t lock; /* everything below */
	struct sym_profile ring[SYMBOL_PROFILES];
	size_t next;
	struct symbolizer *sym; /* for requests only: the sampler's is not thread-safe */
	struct symbol_stats stats;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void sym_profile__clear(struct sym_profile *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		free(sp->ents[i].file);
	free(sp->ents);
	memset(sp, 0, sizeof(*sp));
}

struct symbol_index *symbol_index__new(void)
{
	struct symbolizer_opts so = {.cache_bytes = SYM_CACHE_BYTES, .max_pids = SYM_MAX_PIDS};
	struct symbol_index *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->sym = symbolizer__new(&so);
	if (!x->sym) {
		free(x);
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	return x;
}

void symbol_index__free(struct symbol_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < SYMBOL_PROFILES; i++)
		sym_profile__clear(&x->ring[i]);
	symbolizer__free(x->sym);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* pprof's Mapping.Unsymbolizable: names it never sends to a symbolizer. */
static bool mapping__pprof_skips(const struct profile_mapping *m)
{
	const char *base = strrchr(m->file, '/');

	base = base ? base + 1 : m->file;
	return !*m->file || *base == '[' || !strncmp(base, "linux-vdso", 10) ||
	       !strncmp(m->file, "/dev/dri/", 9);
}

/*
 * The mapping whose start pprof shifts m's addresses to: the first one keyed
 * by m's file (mappings without a build ID are keyed by file), else the
 * first with m's build ID (google/pprof internal/symbolz and fetch.go).
 */
static const struct profile_mapping *mapping__pprof_base(const struct profile *p,
							 const struct profile_mapping *m)
{
	size_t i, n = profile__n_mappings(p);
	const struct profile_mapping *o;

	for (i = 0; i < n; i++) {
		o = profile__mapping_at(p, i);
		if (!*o->build_id && o->file == m->file)
			return o;
	}
	for (i = 0; *m->build_id && i < n; i++) {
		o = profile__mapping_at(p, i);
		if (o->build_id == m->build_id)
			return o;
	}
	return m;
}

/* slot[mapping id] = entry index + 1 of each mapping pprof will ask about. */
static int entries__collect(const struct profile *p, struct sym_profile *sp, uint32_t *slot,
			    uint64_t *dropped)
{
	size_t i;

	for (i = 0; i < profile__n_mappings(p); i++) {
		const struct profile_mapping *m = profile__mapping_at(p, i), *b;
		struct sym_entry *e;

		if (!m->n_locations || m->has_functions || mapping__pprof_skips(m))
			continue;
		if (sp->n >= SYMBOL_MAX_MAPPINGS) {
			(*dropped)++;
			continue;
		}
		b = mapping__pprof_base(p, m);
		e = &sp->ents[sp->n];
		e->start = b->start;
		e->limit = b->start + (m->limit - m->start);
		e->map_start = m->start;
		e->file = strdup(m->file);
		if (!e->file)
			return -ENOMEM;
		slot[m->id] = (uint32_t)++sp->n;
	}
	return 0;
}

static void entry__add_pid(struct sym_entry *e, uint32_t pid)
{
	for (size_t i = 0; i < e->n_pids; i++)
		if (e->pids[i] == pid)
			return;
	if (e->n_pids < SYMBOL_PIDS)
		e->pids[e->n_pids++] = pid;
}

/* The PIDs whose samples went through each remembered mapping. */
static void entries__add_pids(const struct profile *p, struct sym_profile *sp, const uint32_t *slot)
{
	for (size_t i = 0; i < profile__n_samples(p); i++) {
		const struct profile_sample *s = profile__sample_at(p, i);
		const char *v = profile__sample_label(s, "pid");
		unsigned long pid = v ? strtoul(v, NULL, 10) : 0;

		for (size_t j = 0; pid && pid <= UINT32_MAX && j < s->n_locations; j++) {
			const struct profile_location *l =
			    profile__location_by_id(p, s->location_ids[j]);

			if (l && l->mapping_id && slot[l->mapping_id])
				entry__add_pid(&sp->ents[slot[l->mapping_id] - 1], (uint32_t)pid);
		}
	}
}

static bool profile__asks(const struct profile *p)
{
	for (size_t i = 0; i < profile__n_mappings(p); i++) {
		const struct profile_mapping *m = profile__mapping_at(p, i);

		if (m->n_locations && !m->has_functions && !mapping__pprof_skips(m))
			return true;
	}
	return false;
}

int symbol_index__remember(struct symbol_index *x, const struct profile *p)
{
	size_t n = p ? profile__n_mappings(p) : 0;
	struct sym_profile sp = {0};
	uint32_t *slot = NULL;
	uint64_t dropped = 0;
	int err = -ENOMEM;

	if (!x || !p || !profile__asks(p))
		return 0;
	slot = calloc(n + 1, sizeof(*slot));
	sp.ents = calloc(n < SYMBOL_MAX_MAPPINGS ? n : SYMBOL_MAX_MAPPINGS, sizeof(*sp.ents));
	if (!slot || !sp.ents)
		goto out;
	err = entries__collect(p, &sp, slot, &dropped);
	if (err)
		goto out;
	entries__add_pids(p, &sp, slot);
	sp.at_ns = mono_ns();
	pthread_mutex_lock(&x->lock);
	sym_profile__clear(&x->ring[x->next]);
	x->ring[x->next] = sp;
	x->next = (x->next + 1) % SYMBOL_PROFILES;
	x->stats.mappings_dropped += dropped;
	pthread_mutex_unlock(&x->lock);
	memset(&sp, 0, sizeof(sp));
out:
	sym_profile__clear(&sp);
	free(slot);
	return err;
}

static int u64__cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* How many of the sorted addresses fall in [lo, hi). */
static size_t sorted__count(const uint64_t *s, size_t n, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = n, first;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (s[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	first = a;
	b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (s[m] < hi)
			a = m + 1;
		else
			b = m;
	}
	return a - first;
}

struct candidate {
	const struct sym_entry *e;
	size_t hits;
};

/* Keeps the CANDIDATES entries holding most addresses, newest first among equals. */
static size_t candidates__pick(struct symbol_index *x, const uint64_t *sorted, size_t n,
			       struct candidate *out)
{
	int64_t now = mono_ns();
	size_t k = 0, i, j, r;

	for (r = 1; r <= SYMBOL_PROFILES; r++) {
		const struct sym_profile *sp =
		    &x->ring[(x->next + SYMBOL_PROFILES - r) % SYMBOL_PROFILES];

		if (!sp->at_ns || now - sp->at_ns > SYMBOL_TTL_S * NS)
			continue;
		for (i = 0; i < sp->n; i++) {
			struct candidate c = {&sp->ents[i], 0};

			c.hits = sorted__count(sorted, n, c.e->start, c.e->limit);
			if (!c.hits || (k == CANDIDATES && c.hits <= out[k - 1].hits))
				continue;
			j = k < CANDIDATES ? k++ : k - 1;
			for (; j > 0 && out[j - 1].hits < c.hits; j--)
				out[j] = out[j - 1];
			out[j] = c;
		}
	}
	return k;
}

/* Reads each PID's maps afresh once per request: code may have moved since. */
static bool pid__fresh(struct symbol_index *x, uint32_t pid, uint32_t *seen, size_t *n_seen,
		       size_t max)
{
	size_t i;
	int err;

	for (i = 0; i < *n_seen; i++)
		if (seen[i] == pid)
			return true;
	err = symbolizer__has_pid(x->sym, (int)pid) ? symbolizer__refresh_pid(x->sym, (int)pid)
						    : symbolizer__add_pid(x->sym, (int)pid);
	if (err || *n_seen >= max)
		return !err;
	seen[(*n_seen)++] = pid;
	return true;
}

/* Names addr through e's PIDs; NULL when none maps that file there or it has no symbol. */
static const char *entry__name(struct symbol_index *x, const struct sym_entry *e, uint64_t addr,
			       uint32_t *seen, size_t *n_seen, size_t max_seen)
{
	uint64_t rt = addr - e->start + e->map_start;
	struct sym_result r;

	for (size_t i = 0; i < e->n_pids; i++) {
		if (!pid__fresh(x, e->pids[i], seen, n_seen, max_seen))
			continue;
		if (symbolizer__user(x->sym, (int)e->pids[i], rt, &r) || !r.map_path || !r.func)
			continue;
		if (r.map_start == e->map_start && !strcmp(r.map_path, e->file))
			return r.func;
	}
	return NULL;
}

/* One "0xADDR name" line; control bytes would break pprof's line reader. */
static int line__write(FILE *out, uint64_t addr, const char *name)
{
	fprintf(out, "%#" PRIx64 " ", addr);
	for (; *name; name++)
		fputc(iscntrl((unsigned char)*name) ? '?' : *name, out);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

static const struct sym_entry *candidates__holding(const struct candidate *c, size_t k,
						   uint64_t addr)
{
	for (size_t i = 0; i < k; i++)
		if (addr >= c[i].e->start && addr < c[i].e->limit)
			return c[i].e;
	return NULL;
}

static int resolve__locked(struct symbol_index *x, const uint64_t *addrs, size_t n,
			   const uint64_t *sorted, FILE *out)
{
	struct candidate c[CANDIDATES];
	uint32_t seen[CANDIDATES * SYMBOL_PIDS];
	size_t k = candidates__pick(x, sorted, n, c), n_seen = 0;
	const struct sym_entry *e;
	const char *name;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		e = addrs[i] ? candidates__holding(c, k, addrs[i]) : NULL;
		name =
		    e ? entry__name(x, e, addrs[i], seen, &n_seen, CANDIDATES * SYMBOL_PIDS) : NULL;
		if (!name)
			continue;
		x->stats.resolved++;
		err = line__write(out, addrs[i], name);
	}
	return err;
}

int symbol_index__resolve(struct symbol_index *x, const uint64_t *addrs, size_t n, FILE *out)
{
	uint64_t *sorted = NULL;
	int err;

	if (!x || !out || (n && !addrs))
		return -EINVAL;
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, addrs, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), u64__cmp);
	}
	pthread_mutex_lock(&x->lock);
	x->stats.requests++;
	x->stats.addresses += n;
	err = resolve__locked(x, addrs, n, sorted, out);
	pthread_mutex_unlock(&x->lock);
	free(sorted);
	return err;
}

void symbol_index__stats(struct symbol_index *x, struct symbol_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	*out = x->stats;
	pthread_mutex_unlock(&x->lock);
}

void symbol_index__write_metrics(struct symbol_index *x, FILE *f)
{
	struct symbol_stats s;

	if (!x || !f)
		return;
	symbol_index__stats(x, &s);
	fprintf(
	    f,
	    "# HELP bpfprof_pprof_symbol_requests_total POST /debug/pprof/symbol requests "
	    "answered.\n"
	    "# TYPE bpfprof_pprof_symbol_requests_total counter\n"
	    "bpfprof_pprof_symbol_requests_total %" PRIu64 "\n"
	    "# HELP bpfprof_pprof_symbol_addresses_total Addresses pprof asked to name, by "
	    "outcome.\n"
	    "# TYPE bpfprof_pprof_symbol_addresses_total counter\n"
	    "bpfprof_pprof_symbol_addresses_total{result=\"resolved\"} %" PRIu64 "\n"
	    "bpfprof_pprof_symbol_addresses_total{result=\"unresolved\"} %" PRIu64 "\n"
	    "# HELP bpfprof_pprof_symbol_mappings_dropped_total Unsymbolized mappings of a served "
	    "profile not remembered (over %d).\n"
	    "# TYPE bpfprof_pprof_symbol_mappings_dropped_total counter\n"
	    "bpfprof_pprof_symbol_mappings_dropped_total %" PRIu64 "\n",
	    s.requests, s.resolved, s.addresses - s.resolved, SYMBOL_MAX_MAPPINGS,
	    s.mappings_dropped);
}

static int token__parse(const char *t, size_t len, uint64_t *out)
{
	bool hex = len > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
	uint64_t v = 0, d, base = hex ? 16 : 10;
	size_t i = hex ? 2 : 0;

	if (i == len || len - i > (hex ? 16 : 20))
		return -EINVAL;
	for (; i < len; i++) {
		char c = t[i];

		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (uint64_t)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			d = (uint64_t)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int symbol__parse(const char *body, size_t len, uint64_t *addrs, size_t max, size_t *n, char *err,
		  size_t err_size)
{
	const char *t, *end, *plus;
	size_t tlen;

	*n = 0;
	while (len && isspace((unsigned char)body[len - 1]))
		len--;
	for (t = body, end = body + len; len && t <= end; t += tlen + 1) {
		plus = memchr(t, '+', (size_t)(end - t));
		tlen = (size_t)((plus ? plus : end) - t);
		if (*n >= max) {
			snprintf(err, err_size, "more than %zu addresses", max);
			return -E2BIG;
		}
		if (token__parse(t, tlen, &addrs[*n])) {
			snprintf(err, err_size,
				 "bad address '%.*s' (want 0xHEX or decimal, joined by '+')",
				 (int)(tlen > PARSE_ERR_TOKEN ? PARSE_ERR_TOKEN : tlen), t);
			for (char *c = err; *c; c++)
				*c = iscntrl((unsigned char)*c) ? '?' : *c;
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

#define NUM_SYMBOLS "num_symbols: 1\n"

/* pprof only reads whether num_symbols is > 0, as Go's handler says. */
int symbol__route(const struct http_req *req, struct http_resp *resp, void *ctx)
{
	struct symbol_index *x = ctx;
	uint64_t *addrs = NULL;
	char *buf = NULL, msg[160];
	size_t n = 0, len = 0;
	FILE *f = NULL;
	int err;

	if (strcmp(req->method, "POST"))
		return http_resp__bytes(resp, 200, "text/plain; charset=utf-8", NUM_SYMBOLS,
					strlen(NUM_SYMBOLS));
	addrs = malloc(SYMBOL_MAX_ADDRS * sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	err =
	    symbol__parse(req->body, req->body_len, addrs, SYMBOL_MAX_ADDRS, &n, msg, sizeof(msg));
	if (err) {
		err = http_resp__error(resp, err == -E2BIG ? 413 : 400, "%s", msg);
		goto out;
	}
	err = -ENOMEM;
	f = open_memstream(&buf, &len);
	if (!f)
		goto out;
	fputs(NUM_SYMBOLS, f);
	err = symbol_index__resolve(x, addrs, n, f);
	if (fclose(f))
		err = err ?: -ENOMEM;
	if (!err)
		err = http_resp__bytes(resp, 200, "text/plain; charset=utf-8", buf, len);
out:
	free(buf);
	free(addrs);
	return err;
}
