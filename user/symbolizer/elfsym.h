/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Function symbols of one ELF binary: a compact array sorted by address with
 * one string blob, from .symtab, else from a separate debug file (build-id,
 * .gnu_debuglink), else from .dynsym. Also translates file offsets to ELF
 * virtual addresses and, when DWARF is available, addresses to source lines.
 */
#ifndef BPFPROF_SYMBOLIZER_ELFSYM_H
#define BPFPROF_SYMBOLIZER_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#define ELFSYM_BUILD_ID_MAX 32 /* bytes; longer build-ids are ignored */
/*
 * Separate debug files larger than this are refused (counted by safefile):
 * it covers the largest debug files distributions ship (browser engines,
 * LLVM) and bounds the CRC of a debuglink target (~1 s at the cap).
 */
#define ELFSYM_DEBUG_MAX_BYTES (2ull << 30)

struct elfsym;

struct elfsym_opts {
	/* Separate debug files: <debug_root>/.build-id/xx/rest.debug and
	 * <debug_root>/<dir_ns>/<debuglink>. NULL: no search under a root.
	 * The tree is root's: symlinks in it are followed (Fedora's build-id
	 * links are symlinks); files must still be regular and capped. */
	const char *debug_root;
	/* The binary's directory, for <dir>/<debuglink> and
	 * <dir>/.debug/<debuglink>. A user may write there: a symlink as the
	 * debuglink target is refused. With in_root, dir is resolved inside
	 * root_fd (a dirfd of /proc/PID/root) and cannot leave it. */
	const char *dir;
	/* The same directory as the process sees it. NULL: dir. */
	const char *dir_ns;
	bool in_root;
	int root_fd;
};

/* elf_version() once; false when libelf cannot work. Thread use: one thread per elfsym. */
bool elfsym__init_libelf(void);

/* The NT_GNU_BUILD_ID note: its length (0 when absent) or -errno. */
int elfsym__read_build_id(Elf *elf, uint8_t bid[ELFSYM_BUILD_ID_MAX]);

/*
 * Loads the symbols of the binary elf, read from fd (fd is dup'ed when the
 * DWARF of the binary may be needed later; the caller keeps fd). NULL + errno.
 */
struct elfsym *elfsym__load(Elf *elf, int fd, const struct elfsym_opts *opts);
/* The same from an ELF image in memory (the vdso); image must outlive es. */
struct elfsym *elfsym__load_image(const void *image, size_t size);
void elfsym__free(struct elfsym *es);

/* File offset -> ELF virtual address through the PT_LOAD headers: 0 or -ENOENT. */
int elfsym__offset_to_vaddr(const struct elfsym *es, uint64_t off, uint64_t *vaddr);
/* The function containing vaddr (raw name, owned by es) or NULL; *start: its address. */
const char *elfsym__find(const struct elfsym *es, uint64_t vaddr, uint64_t *start);
/* The address of the symbol called name (first match): 0 or -ENOENT. Linear. */
int elfsym__addr_of(const struct elfsym *es, const char *name, uint64_t *addr);
/*
 * Source file and line of vaddr from DWARF, opened lazily on first use:
 * 0 or -ENOENT. *file is owned by es.
 */
int elfsym__srcline(struct elfsym *es, uint64_t vaddr, const char **file, int *line);

/* The build-id of the binary: its length, *bid owned by es. */
size_t elfsym__build_id(const struct elfsym *es, const uint8_t **bid);
size_t elfsym__nr_syms(const struct elfsym *es);
/* Path of the separate debug file the symbols came from, or NULL. */
const char *elfsym__debug_path(const struct elfsym *es);
/* Estimated bytes held, for the cache budget. */
size_t elfsym__bytes(const struct elfsym *es);

#endif
