// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer/procmaps.h"

#define DELETED_SUFFIX " (deleted)"

static uint8_t perms__parse(const char *p)
{
	uint8_t perms = 0;

	if (p[0] == 'r')
		perms |= PROCMAPS_R;
	if (p[1] == 'w')
		perms |= PROCMAPS_W;
	if (p[2] == 'x')
		perms |= PROCMAPS_X;
	if (p[3] == 'p')
		perms |= PROCMAPS_P;
	return perms;
}

int procmaps__parse_line(char *line, struct procmaps_entry *e)
{
	size_t len, slen = strlen(DELETED_SUFFIX);
	char perms[5];
	int n = -1;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &e->start,
		   &e->end, perms, &e->offset, &e->dev_major, &e->dev_minor, &e->inode, &n) < 7 ||
	    n < 0 || strlen(perms) != 4 || e->end < e->start)
		return -EINVAL;
	e->perms = perms__parse(perms);
	e->path = line + n;
	/* Paths may hold spaces: the path is the whole rest of the line. */
	len = strlen(e->path);
	while (len && e->path[len - 1] == '\n')
		line[n + --len] = '\0';
	e->deleted = len > slen && !strcmp(e->path + len - slen, DELETED_SUFFIX);
	if (e->deleted)
		line[n + len - slen] = '\0';
	return 0;
}

bool procmaps_entry__is_file(const struct procmaps_entry *e)
{
	return e->path[0] == '/';
}

bool procmaps_entry__is_anon(const struct procmaps_entry *e)
{
	return !e->path[0] || !strncmp(e->path, "[anon", 5);
}

static int entry__cmp(const void *a, const void *b)
{
	const struct procmaps_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Appends s to the blob; returns its offset or -ENOMEM. */
static long blob__add(struct procmaps *m, size_t *cap, const char *s)
{
	size_t len = strlen(s) + 1, off = m->strs_len;
	char *p;

	if (m->strs_len + len > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 256) + len;

		p = realloc(m->strs, ncap);
		if (!p)
			return -ENOMEM;
		m->strs = p;
		*cap = ncap;
	}
	memcpy(m->strs + off, s, len);
	m->strs_len += len;
	return off;
}

static int ents__push(struct procmaps *m, size_t *cap, const struct procmaps_entry *e)
{
	struct procmaps_entry *p;

	if (m->nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;

		p = realloc(m->ents, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->ents = p;
		*cap = ncap;
	}
	m->ents[m->nr++] = *e;
	return 0;
}

/* Paths were stored as blob offsets while the blob could still move. */
static void procmaps__fix_paths(struct procmaps *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		m->ents[i].path = m->strs + (uintptr_t)m->ents[i].path;
	/* Kernel threads have no mappings, and qsort's array may not be NULL. */
	if (m->nr)
		qsort(m->ents, m->nr, sizeof(*m->ents), entry__cmp);
}

static int procmaps__fill(struct procmaps *m, FILE *f, bool exec_only)
{
	size_t ecap = 0, scap = 0, lcap = 0;
	struct procmaps_entry e;
	char *line = NULL;
	long off;
	int err = 0;

	while (getline(&line, &lcap, f) > 0) {
		if (procmaps__parse_line(line, &e) || (exec_only && !(e.perms & PROCMAPS_X)))
			continue;
		off = blob__add(m, &scap, e.path);
		if (off < 0) {
			err = off;
			goto out;
		}
		e.path = (const char *)(uintptr_t)off;
		err = ents__push(m, &ecap, &e);
		if (err)
			goto out;
	}
	if (ferror(f))
		err = -EIO;
out:
	free(line);
	return err;
}

struct procmaps *procmaps__read(const char *path, bool exec_only)
{
	struct procmaps *m = NULL;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto out;
	}
	err = procmaps__fill(m, f, exec_only);
	if (!err)
		procmaps__fix_paths(m);
out:
	fclose(f);
	if (err) {
		procmaps__free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

const struct procmaps_entry *procmaps__find(const struct procmaps *m, uint64_t addr)
{
	size_t lo = 0, hi, mid;

	if (!m)
		return NULL;
	hi = m->nr;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->ents[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= m->ents[lo - 1].end)
		return NULL;
	return &m->ents[lo - 1];
}

size_t procmaps__bytes(const struct procmaps *m)
{
	return m ? sizeof(*m) + m->nr * sizeof(*m->ents) + m->strs_len : 0;
}

void procmaps__free(struct procmaps *m)
{
	if (!m)
		return;
	free(m->ents);
	free(m->strs);
	free(m);
}
