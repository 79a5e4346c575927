// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pprof reader: the data dir's .pb.gz files and uploaded profiles are read
 * with pprof__decode_gz_ex (gzip or zlib framing) or pprof__decode_ex (raw),
 * under the default caps.
 * A decoded profile then goes through what the store and the routes do with
 * it: merged into a range (twice, as two windows with the same samples),
 * filtered, totalled, ranked, and written back; the written profile must
 * decode again.
 */
#include <errno.h>

#include "fuzz.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "writer/pprof.h"
#include "writer/pprof_read.h"

static bool looks_compressed(const uint8_t *d, size_t n)
{
	/* gzip magic, or a zlib header (CMF deflate, FCHECK multiple of 31). */
	return n >= 2 && ((d[0] == 0x1f && d[1] == 0x8b) ||
			  ((d[0] & 0x0f) == 8 && ((d[0] << 8) | d[1]) % 31 == 0));
}

static void walk(const struct profile *p)
{
	struct profile_top top[8];
	size_t i, j;

	for (i = 0; i < profile__n_types(p); i++) {
		(void)profile__total(p, i);
		(void)profile__top(p, i, top, 8);
	}
	for (i = 0; i < profile__n_samples(p); i++) {
		const struct profile_sample *s = profile__sample_at(p, i);

		for (j = 0; j < s->n_locations; j++) {
			const struct profile_location *l = profile__location_by_id(p, s->location_ids[j]);

			if (l) {
				(void)profile__function_by_id(p, l->function_id);
				(void)profile__mapping_by_id(p, l->mapping_id);
			}
		}
		(void)profile__sample_label(s, "pid");
	}
}

static void merge(const struct profile *p)
{
	static const uint32_t pids[] = {1, 42};
	struct profile_filter f = {.pids = pids, .n_pids = 2, .comm = "a"};
	struct profile *q = profile__new_like(p);

	if (!q)
		return;
	if (!profile__merge(q, p, NULL) && !profile__merge(q, p, NULL) &&
	    !profile__merge(q, p, &f))
		walk(q);
	(void)profile__bytes(q);
	profile__free(q);
}

/* What the writer produces from a profile the reader accepted must read back. */
static void round_trip(const struct profile *p)
{
	struct profile *again = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (pprof__encode_gz(p, &buf, &len))
		return;
	err = pprof__decode_gz(buf, len, &again);
	if (err && err != -ENOMEM) {
		fprintf(stderr, "re-decoding our own output failed: %d\n", err);
		abort();
	}
	if (again && profile__n_samples(again) != profile__n_samples(p)) {
		fprintf(stderr, "round trip changed the sample count: %zu -> %zu\n",
			profile__n_samples(p), profile__n_samples(again));
		abort();
	}
	profile__free(again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	char why[256] = "";
	int err;

	/* Default caps, as the store's are only lower. */
	if (looks_compressed(data, size))
		err = pprof__decode_gz_ex(data, size, NULL, &p, why, sizeof(why));
	else
		err = pprof__decode_ex(data, size, NULL, &p, why, sizeof(why));
	if (!memchr(why, '\0', sizeof(why)))
		abort(); /* the reason must be a terminated string */
	if (err)
		return 0;
	walk(p);
	merge(p);
	round_trip(p);
	profile__free(p);
	return 0;
}
