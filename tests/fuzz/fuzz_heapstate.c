// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The heap sampler's state, from both sides. The first input byte picks:
 *   even: the agent's lookup of bpfprof_heap_state in a library a user may
 *         have crafted (heap_preload__state_vaddr on elf_memory), which
 *         decides where the root agent writes into the target's memory;
 *   odd:  the library's set of sampled addresses (hs_set), driven by the
 *         input as a sequence of insert/take operations and checked against
 *         a plain model: take answers true exactly for an address inserted
 *         and not yet taken, the count matches, and an address in the set
 *         always passes the filter.
 */
#include <libelf.h>

#include "fuzz.h"
#include "heap/heap_int.h"
/* The library is not part of the agent's objects: its set is compiled in. */
#include "../../user/heapsampler/hs_set.c"

#define MODEL_MAX 4096

static struct hs_set set;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (elf_version(EV_CURRENT) == EV_NONE)
		fuzz__die("elf_version");
	return 0;
}

static void fuzz_state(const uint8_t *data, size_t size)
{
	char *image = fuzz__strdup(data, size);
	Elf *elf = elf_memory(image, size);
	uint64_t sym = 0, load0 = 0;

	if (elf)
		(void)heap_preload__state_vaddr(elf, &sym, &load0);
	elf_end(elf);
	free(image);
}

static int model_find(const uintptr_t *m, size_t n, uintptr_t a)
{
	for (size_t i = 0; i < n; i++)
		if (m[i] == a)
			return (int)i;
	return -1;
}

/*
 * Each 3-byte op: a flag byte (bit 0: insert or take) and a 16-bit address
 * index, spread so that collisions in one bucket are reachable (few
 * distinct bits) and the bucket-full path is exercised.
 */
static void fuzz_set(const uint8_t *data, size_t size)
{
	static uintptr_t model[MODEL_MAX];
	size_t n = 0;

	for (size_t i = 0; i + 3 <= size; i += 3) {
		uintptr_t a = ((uintptr_t)(data[i + 1] | data[i + 2] << 8) + 1) << 4;
		int at = model_find(model, n, a);

		if (data[i] & 1) {
			bool stored = hs_set__insert(&set, a);

			/* A duplicate insert is not the library's pattern; keep the model simple. */
			if (at >= 0) {
				if (stored)
					hs_set__take(&set, a);
				continue;
			}
			if (stored && n < MODEL_MAX)
				model[n++] = a;
			else if (stored)
				hs_set__take(&set, a);
		} else if (hs_set__take(&set, a) != (at >= 0)) {
			fprintf(stderr, "take(%#lx) disagrees with the model\n", (unsigned long)a);
			abort();
		} else if (at >= 0) {
			model[at] = model[--n];
		}
		if (set.count != n) {
			fprintf(stderr, "count %lu, model %zu\n", (unsigned long)set.count, n);
			abort();
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!hs_set__maybe(&set, model[i])) {
			fprintf(stderr, "filter misses %#lx\n", (unsigned long)model[i]);
			abort();
		}
	/* Emptied by taking back what the model holds: the next input starts clean. */
	for (size_t i = 0; i < n; i++)
		if (!hs_set__take(&set, model[i])) {
			fprintf(stderr, "take(%#lx) of a stored address failed\n",
				(unsigned long)model[i]);
			abort();
		}
	if (set.count) {
		fprintf(stderr, "set not empty after taking every stored address\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		fuzz_set(data + 1, size - 1);
	else
		fuzz_state(data + 1, size - 1);
	return 0;
}
