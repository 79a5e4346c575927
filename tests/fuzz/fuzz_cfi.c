// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The unwind table compiler: cfi__compile on the input opened with
 * elf_memory, as the agent compiles the .eh_frame of every binary a
 * profiled process maps. The rows must come out sorted, and each must be
 * found by its own address.
 */
#include <libelf.h>

#include "fuzz.h"
#include "unwind/cfi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (elf_version(EV_CURRENT) == EV_NONE)
		fuzz__die("elf_version");
	return 0;
}

static void check(const struct cfi_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (i && r->rows[i].pc < r->rows[i - 1].pc) {
			fprintf(stderr, "rows not sorted at %zu\n", i);
			abort();
		}
		if (i < 256 && !cfi_rows__find(r, r->rows[i].pc)) {
			fprintf(stderr, "row %zu not found by its own pc\n", i);
			abort();
		}
	}
	(void)cfi_rows__find(r, 0);
	(void)cfi_rows__find(r, UINT64_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfi_rows rows = {0};
	char *image = fuzz__strdup(data, size);
	Elf *elf = elf_memory(image, size);

	if (elf && !cfi__compile(elf, &rows))
		check(&rows);
	cfi_rows__free(&rows);
	elf_end(elf);
	free(image);
	return 0;
}
