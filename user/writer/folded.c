// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Folded stacks, the input of flamegraph.pl: each sample becomes one
 * "comm;root;...;leaf" string; the strings are sorted so identical stacks
 * end up adjacent and are summed, and the output is deterministic.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "writer/folded.h"

struct strbuf {
	char *s;
	size_t len, cap;
};

struct folded_line {
	char *stack;
	int64_t value;
};

static int strbuf__reserve(struct strbuf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 128;
	char *tmp;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	while (cap < b->len + extra + 1)
		cap *= 2;
	tmp = realloc(b->s, cap);
	if (!tmp)
		return -ENOMEM;
	b->s = tmp;
	b->cap = cap;
	return 0;
}

/* Appends a frame name with ';' and line breaks replaced: they would split the line. */
static int strbuf__frame(struct strbuf *b, const char *name)
{
	size_t i, n = strlen(name);

	if (strbuf__reserve(b, n + 1))
		return -ENOMEM;
	if (b->len)
		b->s[b->len++] = ';';
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c == ';')
			c = ':';
		else if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		b->s[b->len++] = c;
	}
	b->s[b->len] = '\0';
	return 0;
}

static int folded__location(const struct profile *p, uint32_t id, struct strbuf *b)
{
	const struct profile_location *l = profile__location_by_id(p, id);
	const struct profile_function *f = profile__function_by_id(p, l->function_id);
	const struct profile_mapping *m = profile__mapping_by_id(p, l->mapping_id);
	const char *base;
	char name[512];

	if (f && f->name[0])
		return strbuf__frame(b, f->name);
	if (!m)
		return strbuf__frame(b, "[unknown]");
	base = strrchr(m->file, '/');
	base = base ? base + 1 : m->file;
	/* the file offset, unlike the runtime address, is stable across runs */
	snprintf(name, sizeof(name), "%s+0x%" PRIx64, base[0] ? base : "[unknown]",
		 l->address - m->start + m->offset);
	return strbuf__frame(b, name);
}

/* Builds "comm;root;...;leaf" into *out (malloc'd); comm is left out when unlabeled. */
static int folded__stack(const struct profile *p, const struct profile_sample *s, char **out)
{
	const char *comm = profile__sample_label(s, "comm");
	struct strbuf b = {0};
	size_t i;
	int err = 0;

	if (comm)
		err = strbuf__frame(&b, comm);
	for (i = s->n_locations; i > 0 && !err; i--)
		err = folded__location(p, s->location_ids[i - 1], &b);
	if (!err && !b.s)
		err = strbuf__frame(&b, "[unknown]");
	if (err) {
		free(b.s);
		return err;
	}
	*out = b.s;
	return 0;
}

static int folded_line__cmp(const void *pa, const void *pb)
{
	const struct folded_line *a = pa, *b = pb;

	return strcmp(a->stack, b->stack);
}

static int folded__collect(const struct profile *p, size_t type, struct folded_line *lines,
			   size_t *n)
{
	size_t i;
	int err;

	*n = 0;
	for (i = 0; i < profile__n_samples(p); i++) {
		const struct profile_sample *s = profile__sample_at(p, i);

		if (!s->values[type])
			continue;
		err = folded__stack(p, s, &lines[*n].stack);
		if (err)
			return err;
		lines[(*n)++].value = s->values[type];
	}
	return 0;
}

static int folded__emit(const struct folded_line *lines, size_t n, FILE *f)
{
	size_t i = 0, j;
	int64_t sum;

	while (i < n) {
		sum = 0;
		for (j = i; j < n && !strcmp(lines[j].stack, lines[i].stack); j++)
			sum = profile__sat_add(sum, lines[j].value);
		if (sum && fprintf(f, "%s %" PRId64 "\n", lines[i].stack, sum) < 0)
			return -EIO;
		i = j;
	}
	return fflush(f) ? -EIO : 0;
}

int folded__write(const struct profile *p, size_t type, FILE *f)
{
	struct folded_line *lines = NULL;
	size_t i, n = 0;
	int err;

	if (!p || !f || type >= profile__n_types(p))
		return -EINVAL;
	lines = calloc(profile__n_samples(p) + 1, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	err = folded__collect(p, type, lines, &n);
	if (err)
		goto out;
	qsort(lines, n, sizeof(*lines), folded_line__cmp);
	err = folded__emit(lines, n, f);
out:
	for (i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
	return err;
}
