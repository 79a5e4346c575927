// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which allocator a process really uses, and where its functions are: the
 * process's mappings are searched in symbol lookup order (executable,
 * preloaded or linked replacement allocators, libc) and the chosen binary's
 * symbols give each entry point's file offset, the place uprobes take.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap/heap_int.h"
#include "util/safefile.h"

#define MAPS_MAX_BYTES (4 << 20)
#define CODE_PEEK      64

struct fn_name {
	const char *name;
	enum heap_fn fn;
	bool cxx; /* operator new/delete: only where the allocator replaces libstdc++'s */
};

/*
 * glibc's reallocarray tail-calls realloc (probed), and its aligned_alloc is
 * memalign: aliases at one address are probed once. jemalloc's extended
 * API (mallocx, rallocx, dallocx, sdallocx) and C23's sized frees take the
 * pointer or size in the same argument as the function of their kind.
 */
static const struct fn_name fn_names[] = {
    {"malloc", HEAP_FN_MALLOC, false},
    {"calloc", HEAP_FN_CALLOC, false},
    {"realloc", HEAP_FN_REALLOC, false},
    {"reallocarray", HEAP_FN_REALLOCARRAY, false},
    {"posix_memalign", HEAP_FN_POSIX_MEMALIGN, false},
    {"aligned_alloc", HEAP_FN_MEMALIGN, false},
    {"memalign", HEAP_FN_MEMALIGN, false},
    {"valloc", HEAP_FN_MALLOC, false},
    {"pvalloc", HEAP_FN_MALLOC, false},
    {"free", HEAP_FN_FREE, false},
    {"free_sized", HEAP_FN_FREE, false},
    {"free_aligned_sized", HEAP_FN_FREE, false},
    {"mallocx", HEAP_FN_MALLOC, false},
    {"rallocx", HEAP_FN_REALLOC, false},
    {"dallocx", HEAP_FN_FREE, false},
    {"sdallocx", HEAP_FN_FREE, false},
    {"_Znwm", HEAP_FN_MALLOC, true},
    {"_Znam", HEAP_FN_MALLOC, true},
    {"_ZnwmRKSt9nothrow_t", HEAP_FN_MALLOC, true},
    {"_ZnamRKSt9nothrow_t", HEAP_FN_MALLOC, true},
    {"_ZnwmSt11align_val_t", HEAP_FN_MALLOC, true},
    {"_ZnamSt11align_val_t", HEAP_FN_MALLOC, true},
    {"_ZnwmSt11align_val_tRKSt9nothrow_t", HEAP_FN_MALLOC, true},
    {"_ZnamSt11align_val_tRKSt9nothrow_t", HEAP_FN_MALLOC, true},
    {"_ZdlPv", HEAP_FN_FREE, true},
    {"_ZdaPv", HEAP_FN_FREE, true},
    {"_ZdlPvm", HEAP_FN_FREE, true},
    {"_ZdaPvm", HEAP_FN_FREE, true},
    {"_ZdlPvRKSt9nothrow_t", HEAP_FN_FREE, true},
    {"_ZdaPvRKSt9nothrow_t", HEAP_FN_FREE, true},
    {"_ZdlPvSt11align_val_t", HEAP_FN_FREE, true},
    {"_ZdaPvSt11align_val_t", HEAP_FN_FREE, true},
    {"_ZdlPvmSt11align_val_t", HEAP_FN_FREE, true},
    {"_ZdaPvmSt11align_val_t", HEAP_FN_FREE, true},
    {"_ZdlPvSt11align_val_tRKSt9nothrow_t", HEAP_FN_FREE, true},
    {"_ZdaPvSt11align_val_tRKSt9nothrow_t", HEAP_FN_FREE, true},
};

#define N_FN_NAMES (sizeof(fn_names) / sizeof(fn_names[0]))

const char *heap_allocator__name(enum heap_allocator kind)
{
	return heap_alloc__name(kind);
}

const char *heap_alloc__name(enum heap_allocator kind)
{
	switch (kind) {
	case HEAP_ALLOC_GLIBC:
		return "glibc";
	case HEAP_ALLOC_JEMALLOC:
		return "jemalloc";
	case HEAP_ALLOC_TCMALLOC:
		return "tcmalloc";
	case HEAP_ALLOC_MIMALLOC:
		return "mimalloc";
	case HEAP_ALLOC_STATIC:
		return "static";
	case HEAP_ALLOC_SAMPLER:
		return "libbpfprof-heap";
	default:
		return "unknown";
	}
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

enum heap_allocator heap_alloc__kind_of_path(const char *path, bool is_exe)
{
	const char *b = base_name(path);

	if (!strncmp(b, "libbpfprof-heap", 15))
		return HEAP_ALLOC_SAMPLER;
	if (strstr(b, "jemalloc"))
		return HEAP_ALLOC_JEMALLOC;
	if (strstr(b, "tcmalloc"))
		return HEAP_ALLOC_TCMALLOC;
	if (strstr(b, "mimalloc"))
		return HEAP_ALLOC_MIMALLOC;
	if (!strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5))
		return HEAP_ALLOC_GLIBC;
	return is_exe ? HEAP_ALLOC_STATIC : HEAP_ALLOC_UNKNOWN;
}

/* The path of a maps line, or NULL for anonymous and special mappings. */
static const char *maps_path(const char *line, char *buf, size_t len)
{
	const char *p = line;
	size_t n;

	for (int field = 0; field < 5 && *p; field++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	if (*p != '/')
		return NULL;
	n = strcspn(p, "\n");
	if (n >= len || (n > 10 && !strncmp(p + n - 10, " (deleted)", 10)))
		return NULL;
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

/* The first mapped binary whose name is of kind want and that defines malloc. */
static bool find_kind(const char *maps, enum heap_allocator want,
		      bool (*defines)(const char *path, void *ctx), void *ctx, char *path,
		      size_t path_len)
{
	char buf[PATH_MAX], last[PATH_MAX] = "";

	for (const char *line = maps; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!maps_path(line, buf, sizeof(buf)) || !strcmp(buf, last))
			continue;
		snprintf(last, sizeof(last), "%s", buf);
		if (heap_alloc__kind_of_path(buf, false) != want || !defines(buf, ctx))
			continue;
		snprintf(path, path_len, "%s", buf);
		return true;
	}
	return false;
}

int heap_alloc__choose(const char *maps, const char *exe,
		       bool (*defines)(const char *path, void *ctx), void *ctx,
		       enum heap_allocator *kind, char *path, size_t path_len)
{
	static const enum heap_allocator order[] = {HEAP_ALLOC_JEMALLOC, HEAP_ALLOC_TCMALLOC,
						    HEAP_ALLOC_MIMALLOC, HEAP_ALLOC_GLIBC};
	enum heap_allocator k;

	/* The executable comes first in lookup order: static, or interposing malloc. */
	if (exe && *exe && defines(exe, ctx)) {
		k = heap_alloc__kind_of_path(exe, true);
		*kind = k == HEAP_ALLOC_GLIBC ? HEAP_ALLOC_GLIBC : HEAP_ALLOC_STATIC;
		snprintf(path, path_len, "%s", exe);
		return 0;
	}
	/* Replacement allocators interpose libc wherever they are in the maps. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (find_kind(maps, order[i], defines, ctx, path, path_len)) {
			*kind = order[i];
			return 0;
		}
	}
	return -ENOENT;
}

struct elf_file {
	int fd;
	Elf *elf;
};

/* The largest allocator binary we read symbols from. */
#define ALLOC_BIN_MAX_BYTES (4ull << 30)

int heap_bin__open(uint32_t pid, const char *path)
{
	char root[32];
	int root_fd, fd = -1, err;

	snprintf(root, sizeof(root), "/proc/%" PRIu32 "/root", pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	err = safefile__open(root_fd, path, SAFEFILE_IN_ROOT, ALLOC_BIN_MAX_BYTES, &fd, NULL);
	close(root_fd);
	return err ? err : fd;
}

static int elf_file__open(uint32_t pid, const char *path, struct elf_file *ef)
{
	ef->elf = NULL;
	ef->fd = heap_bin__open(pid, path);
	if (ef->fd < 0)
		return ef->fd;
	elf_version(EV_CURRENT);
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf) {
		close(ef->fd);
		ef->fd = -1;
		return -EINVAL;
	}
	return 0;
}

static void elf_file__close(struct elf_file *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
}

/* The defined function called name in .symtab or .dynsym: 0 with *vaddr, or -ENOENT. */
static int elf_func_addr(Elf *elf, const char *name, uint64_t *vaddr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			const char *s;
			int type;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				*vaddr = sym.st_value;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* ELF virtual address -> file offset through the PT_LOAD headers. */
static int vaddr_to_off(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static bool defines_malloc(const char *path, void *ctx)
{
	struct elf_file ef;
	uint64_t v;
	bool yes;

	if (elf_file__open(*(uint32_t *)ctx, path, &ef))
		return false;
	yes = !elf_func_addr(ef.elf, "malloc", &v) && !elf_func_addr(ef.elf, "free", &v);
	elf_file__close(&ef);
	return yes;
}

static bool already_probed(const struct heap_alloc_bin *b, uint64_t off)
{
	for (size_t i = 0; i < b->n_funcs; i++)
		if (b->funcs[i].file_off == off)
			return true;
	return false;
}

int heap_fn__n_args(enum heap_fn fn)
{
	switch (fn) {
	case HEAP_FN_MALLOC:
	case HEAP_FN_FREE:
	case HEAP_FN_HOOK_FREE:
		return 1;
	case HEAP_FN_CALLOC:
	case HEAP_FN_REALLOC:
	case HEAP_FN_MEMALIGN:
	case HEAP_FN_HOOK_ALLOC:
		return 2;
	default:
		return 3; /* reallocarray, posix_memalign */
	}
}

/* Does [vaddr, +1) lie in the PLT (.plt or .plt.sec)? */
static bool in_plt(Elf *elf, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".plt") || !strcmp(name, ".plt.sec")) &&
		    vaddr >= sh.sh_addr && vaddr < sh.sh_addr + sh.sh_size)
			return true;
	}
	return false;
}

/*
 * A delete that is only `jmp free@plt` (jemalloc's operator delete, most
 * variants) reaches an exported free that is probed already: probing the
 * wrapper too would count each such call twice, and cost two traps.
 */
static bool plt_wrapper(Elf *elf, const struct heap_func *f, const uint8_t *code, ssize_t n,
			uint64_t vaddr)
{
	int32_t rel;

	if (f->fn != HEAP_FN_FREE || n < 5 || code[0] != 0xe9)
		return false;
	memcpy(&rel, code + 1, sizeof(rel));
	return in_plt(elf, vaddr + 5 + (int64_t)rel);
}

/* Chooses where f's probe goes; false when f needs none (see plt_wrapper). */
static bool place(Elf *elf, struct heap_func *f, int fd, uint64_t vaddr)
{
	uint8_t code[CODE_PEEK];
	ssize_t n = pread(fd, code, sizeof(code), f->file_off);

	f->probe_off = f->file_off;
	f->emulated = false;
	if (n <= 0)
		return true;
	if (plt_wrapper(elf, f, code, n, vaddr))
		return false;
	f->probe_off += heap_probe__place(code, n, heap_fn__n_args(f->fn), &f->emulated);
	return true;
}

/* libbpfprof-heap.so: only its hooks (names in user/heapsampler/heapsampler.h). */
static const struct fn_name hook_names[] = {
    {"bpfprof_heap_alloc", HEAP_FN_HOOK_ALLOC, false},
    {"bpfprof_heap_free", HEAP_FN_HOOK_FREE, false},
};

static int resolve_funcs(uint32_t pid, struct heap_alloc_bin *b)
{
	bool hooks = b->kind == HEAP_ALLOC_SAMPLER;
	const struct fn_name *names = hooks ? hook_names : fn_names;
	size_t n_names = hooks ? sizeof(hook_names) / sizeof(hook_names[0]) : N_FN_NAMES;
	struct elf_file ef;
	uint64_t vaddr, off;
	int err = elf_file__open(pid, b->path, &ef);

	if (err)
		return err;
	b->n_funcs = 0;
	for (size_t i = 0; i < n_names; i++) {
		const struct fn_name *fnn = &names[i];

		if (fnn->cxx && b->kind == HEAP_ALLOC_GLIBC)
			continue; /* libstdc++'s operator new calls malloc */
		if (fnn->fn == HEAP_FN_REALLOCARRAY && b->kind == HEAP_ALLOC_GLIBC)
			continue;
		if (elf_func_addr(ef.elf, fnn->name, &vaddr) || vaddr_to_off(ef.elf, vaddr, &off) ||
		    already_probed(b, off))
			continue;
		/* Bounded: an overflow here once overwrote n_funcs and dropped free. */
		if (b->n_funcs >= HEAP_MAX_FUNCS)
			break;
		b->funcs[b->n_funcs] =
		    (struct heap_func){.fn = fnn->fn, .name = fnn->name, .file_off = off};
		if (place(ef.elf, &b->funcs[b->n_funcs], ef.fd, vaddr))
			b->n_funcs++;
	}
	elf_file__close(&ef);
	if (hooks && b->n_funcs != 2)
		return -ENOENT;
	return b->n_funcs ? 0 : -ENOENT;
}

static char *read_maps(uint32_t pid)
{
	char path[64];
	char *buf = NULL;
	size_t len = 0;
	FILE *f, *out;
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	out = open_memstream(&buf, &len);
	while (out && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && len < MAPS_MAX_BYTES)
		fwrite(chunk, 1, n, out);
	if (out)
		fclose(out);
	fclose(f);
	return buf;
}

/* The executable's path as the process sees it (maps spell it the same way). */
static void exe_path(uint32_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%" PRIu32 "/exe", pid);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[0] = 0;
}

static bool defines_hook(const char *path, void *ctx)
{
	struct elf_file ef;
	uint64_t v;
	bool yes;

	if (elf_file__open(*(uint32_t *)ctx, path, &ef))
		return false;
	yes = !elf_func_addr(ef.elf, hook_names[0].name, &v);
	elf_file__close(&ef);
	return yes;
}

int heap_alloc__detect(uint32_t pid, enum heap_mode mode, struct heap_alloc_bin *out)
{
	char exe[PATH_MAX];
	char *maps = read_maps(pid);
	int err = -ENOENT;

	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	memset(out, 0, sizeof(*out));
	exe_path(pid, exe, sizeof(exe));
	/* An executable with its own malloc never calls the library's: its hooks would stay silent. */
	if (mode != HEAP_MODE_UPROBE && !(*exe && defines_malloc(exe, &pid)) &&
	    find_kind(maps, HEAP_ALLOC_SAMPLER, defines_hook, &pid, out->path, sizeof(out->path))) {
		out->kind = HEAP_ALLOC_SAMPLER;
		err = 0;
	} else if (mode != HEAP_MODE_PRELOAD) {
		err = heap_alloc__choose(maps, exe, defines_malloc, &pid, &out->kind, out->path,
					 sizeof(out->path));
	}
	free(maps);
	if (err)
		return err;
	snprintf(out->access, sizeof(out->access), "/proc/%" PRIu32 "/root%s", pid, out->path);
	return resolve_funcs(pid, out);
}
