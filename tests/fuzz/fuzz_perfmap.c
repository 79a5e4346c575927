// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Perf map parser (/tmp/perf-PID.map, written by any JIT, so by any local
 * user): perfmap__load_at on the input as a regular file inside a directory
 * standing for the process's root (SAFEFILE_IN_ROOT, as the symbolizer reads
 * it), then lookups at the addresses the lines name and around them.
 */
#include <inttypes.h>

#include "fuzz.h"
#include "symbolizer/perfmap.h"
#include "util/safefile.h"

static void lookups(const struct perfmap *m, const uint8_t *data, size_t size)
{
	char *copy = fuzz__strdup(data, size), *line, *save = NULL;
	uint64_t a, start;
	int n = 0;

	(void)perfmap__nr(m);
	(void)perfmap__bytes(m);
	(void)perfmap__file_size(m);
	(void)perfmap__skipped(m);
	(void)perfmap__find(m, 0, &start);
	(void)perfmap__find(m, UINT64_MAX, &start);
	for (line = strtok_r(copy, "\n", &save); line && n < 64;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (sscanf(line, "%" SCNx64, &a) != 1)
			continue;
		const char *name = perfmap__find(m, a, &start);

		if (name)
			(void)strlen(name);
		(void)perfmap__find(m, a - 1, NULL);
		(void)perfmap__find(m, a + 1, NULL);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap *m = perfmap__load_at(fuzz__file(data, size), "input", SAFEFILE_IN_ROOT);

	if (m)
		lookups(m, data, size);
	perfmap__free(m);
	return 0;
}
