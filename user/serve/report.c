// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "serve/report.h"

struct proc_row {
	uint32_t pid;
	const char *comm, *exe;
	int64_t value;
};

static int cmp_row_pid(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_usage(const void *a, const void *b)
{
	const struct proc_usage *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

/* Folds rows sorted by pid into one usage entry per pid. */
static size_t fold_rows(const struct proc_row *rows, size_t n, struct proc_usage *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (!m || out[m - 1].pid != rows[i].pid) {
			memset(&out[m], 0, sizeof(out[m]));
			out[m].pid = rows[i].pid;
			copy_str(out[m].comm, sizeof(out[m].comm), rows[i].comm);
			copy_str(out[m].exe, sizeof(out[m].exe), rows[i].exe);
			m++;
		}
		out[m - 1].value = profile__sat_add(out[m - 1].value, rows[i].value);
	}
	return m;
}

int report__processes(const struct profile *p, size_t type, struct proc_usage **out, size_t *n)
{
	size_t ns = profile__n_samples(p), m = 0;
	struct proc_row *rows = calloc(ns ? ns : 1, sizeof(*rows));
	struct proc_usage *res = calloc(ns ? ns : 1, sizeof(*res));
	int err = -ENOMEM;

	*out = NULL;
	*n = 0;
	if (!rows || !res)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		const struct profile_sample *s = profile__sample_at(p, i);
		const char *pid = profile__sample_label(s, "pid");

		if (!pid)
			continue;
		rows[m].pid = strtoul(pid, NULL, 10);
		rows[m].comm = profile__sample_label(s, "comm");
		rows[m].exe = profile__sample_label(s, "exe");
		rows[m++].value = s->values[type];
	}
	qsort(rows, m, sizeof(*rows), cmp_row_pid);
	m = fold_rows(rows, m, res);
	qsort(res, m, sizeof(*res), cmp_usage);
	*out = res;
	*n = m;
	res = NULL;
	err = 0;
out:
	free(rows);
	free(res);
	return err;
}

struct fn_acc {
	int64_t self, total;
	size_t last_sample; /* sample index + 1 that last added to total: once per sample */
	uint32_t best_loc;
	int64_t best_loc_self;
};

static void account_sample(const struct profile *p, size_t si, int64_t v, struct fn_acc *acc,
			   int64_t *loc_self)
{
	const struct profile_sample *s = profile__sample_at(p, si);

	for (size_t j = 0; j < s->n_locations; j++) {
		const struct profile_location *l = profile__location_by_id(p, s->location_ids[j]);
		struct fn_acc *a;

		if (!l || !l->function_id)
			continue;
		a = &acc[l->function_id];
		if (j == 0) {
			a->self = profile__sat_add(a->self, v);
			loc_self[l->id] = profile__sat_add(loc_self[l->id], v);
			if (loc_self[l->id] > a->best_loc_self) {
				a->best_loc_self = loc_self[l->id];
				a->best_loc = l->id;
			}
		}
		if (a->last_sample != si + 1) {
			a->last_sample = si + 1;
			a->total = profile__sat_add(a->total, v);
		}
	}
}

static int cmp_hotspot(const void *a, const void *b)
{
	const struct hotspot *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->function, y->function);
}

static size_t collect(const struct profile *p, const struct fn_acc *acc, size_t nf, int64_t grand,
		      struct hotspot *hs)
{
	size_t m = 0;

	for (size_t id = 1; id <= nf; id++) {
		const struct profile_function *f = profile__function_by_id(p, id);
		const struct profile_location *l = profile__location_by_id(p, acc[id].best_loc);

		if (!f || !acc[id].total)
			continue;
		hs[m].function = f->name;
		hs[m].file = f->file;
		hs[m].line = l ? l->line : 0;
		hs[m].self = acc[id].self;
		hs[m].total = acc[id].total;
		hs[m].impact = grand ? (0.7 * acc[id].self + 0.3 * acc[id].total) / grand : 0;
		if (hs[m].impact > 1)
			hs[m].impact = 1;
		m++;
	}
	return m;
}

int report__hotspots(const struct profile *p, size_t type, size_t max, struct hotspot **out,
		     size_t *n)
{
	size_t nf = profile__n_functions(p), nl = profile__n_locations(p), m;
	struct fn_acc *acc = calloc(nf + 1, sizeof(*acc));
	int64_t *loc_self = calloc(nl + 1, sizeof(*loc_self));
	struct hotspot *hs = calloc(nf + 1, sizeof(*hs));
	int64_t grand = profile__total(p, type);
	int err = -ENOMEM;

	*out = NULL;
	*n = 0;
	if (!acc || !loc_self || !hs)
		goto out;
	for (size_t i = 0; i < profile__n_samples(p); i++)
		account_sample(p, i, profile__sample_at(p, i)->values[type], acc, loc_self);
	m = collect(p, acc, nf, grand, hs);
	qsort(hs, m, sizeof(*hs), cmp_hotspot);
	*n = m < max ? m : max;
	*out = hs;
	hs = NULL;
	err = 0;
out:
	free(acc);
	free(loc_self);
	free(hs);
	return err;
}
