// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ELF symbols of a binary any local user can map: the input is opened with
 * elf_memory and loaded by elfsym__load, with the same bytes behind the fd
 * (a memfd) so the lazy DWARF line lookup runs too. The debug-file search
 * runs against an empty directory: a .gnu_debuglink name cannot hold '/'
 * and a build-id path stays under debug_root, so nothing else is opened.
 * Then build-id, lookups at every segment and around symbol addresses, and
 * source lines.
 */
#include <libelf.h>

#include "fuzz.h"
#include "symbolizer/elfsym.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!elfsym__init_libelf())
		fuzz__die("elf_version");
	fuzz__mkdir();
	return 0;
}

static void lookups(struct elfsym *es)
{
	static const uint64_t offs[] = {0, 0x40, 0x1000, 0x1040, 0x2000, 0x401000, UINT64_MAX};
	const char *name, *file;
	uint64_t vaddr, start, addr;
	const uint8_t *bid;
	size_t i;
	int line;

	(void)elfsym__build_id(es, &bid);
	(void)elfsym__nr_syms(es);
	(void)elfsym__debug_path(es);
	(void)elfsym__bytes(es);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		vaddr = offs[i];
		(void)elfsym__offset_to_vaddr(es, offs[i], &vaddr);
		name = elfsym__find(es, vaddr, &start);
		if (name && !elfsym__addr_of(es, name, &addr))
			(void)elfsym__find(es, addr, &start);
		if (i < 4)
			(void)elfsym__srcline(es, vaddr, &file, &line);
	}
	(void)elfsym__addr_of(es, "main", &addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfsym_opts opts = {.debug_root = fuzz__dir, .dir = fuzz__dir, .dir_ns = "/usr/bin"};
	uint8_t bid[ELFSYM_BUILD_ID_MAX];
	char path[64], *image;
	struct elfsym *es;
	Elf *elf;
	int fd;

	fd = fuzz__memfd(data, size, path, sizeof(path));
	/* libelf may convert the image in place: give it a copy. */
	image = fuzz__strdup(data, size);
	elf = elf_memory(image, size);
	if (elf) {
		(void)elfsym__read_build_id(elf, bid);
		es = elfsym__load(elf, fd, &opts);
		if (es)
			lookups(es);
		elfsym__free(es);
		elf_end(elf);
	}
	es = elfsym__load_image(image, size);
	elfsym__free(es);
	free(image);
	return 0;
}
