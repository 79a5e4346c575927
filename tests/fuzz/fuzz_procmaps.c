// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /proc/PID/maps parser: procmaps__read on the input as a file (the
 * executable-only or the full table, as the symbolizer and the heap
 * profiler read it), then lookups at every parsed boundary; and
 * procmaps__parse_line on each line alone.
 */
#include "fuzz.h"
#include "symbolizer/procmaps.h"

static void lookups(const struct procmaps *m)
{
	size_t i;

	(void)procmaps__bytes(m);
	(void)procmaps__find(m, 0);
	(void)procmaps__find(m, UINT64_MAX);
	for (i = 0; i < m->nr && i < 64; i++) {
		const struct procmaps_entry *e = procmaps__find(m, m->ents[i].start);

		if (e) {
			(void)procmaps_entry__is_file(e);
			(void)procmaps_entry__is_anon(e);
			(void)strlen(e->path);
		}
		(void)procmaps__find(m, m->ents[i].end - 1);
		(void)procmaps__find(m, m->ents[i].end);
	}
}

static void lines(const uint8_t *data, size_t size)
{
	char *copy = fuzz__strdup(data, size), *line, *save = NULL;
	struct procmaps_entry e;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!procmaps__parse_line(line, &e))
			(void)strlen(e.path);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct procmaps *m;

	fuzz__memfd(data, size, path, sizeof(path));
	/* The length's parity picks the table, leaving every byte to the text. */
	m = procmaps__read(path, size % 2);
	if (m)
		lookups(m);
	procmaps__free(m);
	lines(data, size);
	return 0;
}
