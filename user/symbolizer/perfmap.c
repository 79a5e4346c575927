// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer/perfmap.h"
#include "util/safefile.h"

/* How many overlapping older entries a lookup looks back through. */
#define PERFMAP_SCAN_BACK 16

struct pmsym {
	uint64_t start, size;
	uint32_t name;
	uint32_t line;
};

struct perfmap {
	struct pmsym *syms;
	size_t nr, cap;
	char *names;
	size_t names_len, names_cap;
	uint64_t file_size;
	uint64_t skipped; /* lines over PERFMAP_MAX_LINE */
};

static long perfmap__add_name(struct perfmap *m, const char *s, size_t len)
{
	size_t off = m->names_len;
	char *p;

	if (off + len + 1 > UINT32_MAX)
		return -E2BIG;
	if (off + len + 1 > m->names_cap) {
		size_t ncap = m->names_cap ? m->names_cap * 2 : 4096;

		while (ncap < off + len + 1)
			ncap *= 2;
		p = realloc(m->names, ncap);
		if (!p)
			return -ENOMEM;
		m->names = p;
		m->names_cap = ncap;
	}
	memcpy(m->names + off, s, len);
	m->names[off + len] = '\0';
	m->names_len += len + 1;
	return off;
}

static int perfmap__push(struct perfmap *m, uint64_t start, uint64_t size, const char *name)
{
	size_t len = strcspn(name, "\n");
	struct pmsym *p;
	long off;

	if (m->nr == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;

		p = realloc(m->syms, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->syms = p;
		m->cap = ncap;
	}
	off = perfmap__add_name(m, name, len);
	if (off < 0)
		return off;
	m->syms[m->nr] = (struct pmsym){.start = start, .size = size, .name = off, .line = m->nr};
	m->nr++;
	return 0;
}

/* "START SIZE name": hex numbers with or without 0x; the name may hold spaces. */
static int perfmap__parse_line(struct perfmap *m, const char *line)
{
	uint64_t start, size;
	int n = -1;

	if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &n) < 2 || n < 0 ||
	    !line[n] || line[n] == '\n' || !size)
		return 0;
	return perfmap__push(m, start, size, line + n);
}

static int pmsym__cmp(const void *a, const void *b)
{
	const struct pmsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Reads the lines of fd, at most PERFMAP_MAX_BYTES whatever the file does meanwhile. */
static int perfmap__fill(struct perfmap *m, int fd, const char *path)
{
	struct safefile_lines *lr;
	const char *line;
	size_t len;
	int err = 0, r;

	lr = safefile_lines__new(fd, PERFMAP_MAX_LINE, PERFMAP_MAX_BYTES, path);
	if (!lr)
		return -errno;
	while (!err && (r = safefile_lines__next(lr, &line, &len)) > 0)
		err = perfmap__parse_line(m, line);
	if (!err && r < 0)
		err = r;
	m->skipped = safefile_lines__skipped(lr);
	safefile_lines__free(lr);
	/* qsort(NULL, 0, ...) is undefined: an empty map has nothing to sort. */
	if (!err && m->nr)
		qsort(m->syms, m->nr, sizeof(*m->syms), pmsym__cmp);
	return err;
}

struct perfmap *perfmap__load_at(int dirfd, const char *path, unsigned int flags)
{
	struct perfmap *m = NULL;
	int fd = -1, err;

	err = safefile__open(dirfd, path, flags, PERFMAP_MAX_BYTES, &fd, NULL);
	if (err)
		goto out;
	err = -ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->file_size = lseek(fd, 0, SEEK_END);
	if (lseek(fd, 0, SEEK_SET)) {
		err = -errno;
		goto out;
	}
	err = perfmap__fill(m, fd, path);
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		perfmap__free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

struct perfmap *perfmap__load(const char *path)
{
	return perfmap__load_at(AT_FDCWD, path, 0);
}

void perfmap__free(struct perfmap *m)
{
	if (!m)
		return;
	free(m->syms);
	free(m->names);
	free(m);
}

const char *perfmap__find(const struct perfmap *m, uint64_t addr, uint64_t *start)
{
	const struct pmsym *best = NULL, *s;
	size_t lo = 0, hi, mid, i;

	if (!m)
		return NULL;
	hi = m->nr;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* JITs reuse freed code space: of overlapping entries, the newest is live. */
	for (i = lo; i > 0 && lo - i < PERFMAP_SCAN_BACK; i--) {
		s = &m->syms[i - 1];
		if (addr - s->start < s->size && (!best || s->line > best->line))
			best = s;
	}
	if (!best)
		return NULL;
	if (start)
		*start = best->start;
	return m->names + best->name;
}

uint64_t perfmap__skipped(const struct perfmap *m)
{
	return m ? m->skipped : 0;
}

size_t perfmap__nr(const struct perfmap *m)
{
	return m ? m->nr : 0;
}

uint64_t perfmap__file_size(const struct perfmap *m)
{
	return m ? m->file_size : 0;
}

size_t perfmap__bytes(const struct perfmap *m)
{
	return m ? sizeof(*m) + m->cap * sizeof(*m->syms) + m->names_cap : 0;
}
