// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's side of libbpfprof-heap.so (user/heapsampler/heapsampler.h):
 * finding the library to preload into a command, checking the command can
 * take it, and writing the sampling rate and the attached flag into a
 * target's copy of bpfprof_heap_state through /proc/PID/mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap/heap_int.h"
#include "heapsampler/heapsampler.h"

#define LIB_NAME "libbpfprof-heap.so"

const char *heap_mode__name(enum heap_mode m)
{
	switch (m) {
	case HEAP_MODE_PRELOAD:
		return "preload";
	case HEAP_MODE_UPROBE:
		return "uprobe";
	default:
		return "auto";
	}
}

int heap_mode__parse(const char *s, enum heap_mode *out)
{
	static const enum heap_mode all[] = {HEAP_MODE_AUTO, HEAP_MODE_PRELOAD, HEAP_MODE_UPROBE};

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, heap_mode__name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_file(const char *path)
{
	return !access(path, R_OK);
}

int heap_preload__lib_path(char *path, size_t len)
{
	static const char *const rel[] = {"/" LIB_NAME, "/../" LIB_NAME,
					  "/../lib/bpfprof/" LIB_NAME};
	const char *env = getenv("BPFPROF_HEAP_LIB");
	char self[PATH_MAX], dir[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, dir) || !is_file(dir))
			return -ENOENT;
		snprintf(path, len, "%s", dir);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 32];

		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		if (realpath(cand, dir) && is_file(dir)) {
			snprintf(path, len, "%s", dir);
			return 0;
		}
	}
	return -ENOENT;
}

/* As execvp finds it: a name without '/' is searched in $PATH. */
static int find_exe(const char *cmd, char *out, size_t len)
{
	const char *p = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return 0;
	}
	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", cmd);
		if (!access(out, X_OK))
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

/* A defined dynamic symbol called name: 0 with *out filled, or -ENOENT. */
static int dynsym__find(Elf *elf, const char *name, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *sym;

			if (!gelf_getsym(d, i, out) || out->st_shndx == SHN_UNDEF)
				continue;
			sym = elf_strptr(elf, sh.sh_link, out->st_name);
			if (sym && !strcmp(sym, name))
				return 0;
		}
	}
	return -ENOENT;
}

/* A defined malloc in the executable's dynamic symbols: it would bypass the library. */
static bool defines_malloc(Elf *elf)
{
	GElf_Sym s;

	return !dynsym__find(elf, "malloc", &s);
}

int heap_preload__check_exe(const char *cmd, char *why, size_t len)
{
	char path[PATH_MAX], interp[PATH_MAX] = "";
	unsigned char magic[4] = {0};
	int fd, err = -ENOEXEC;
	size_t n = 0;
	Elf *elf;

	if (find_exe(cmd, path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A script's interpreter inherits the environment: judged when it runs. */
	if (pread(fd, magic, sizeof(magic), 0) >= 2 && magic[0] == '#' && magic[1] == '!') {
		close(fd);
		return 0;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		elf = NULL;
	}
	if (elf && !elf_getphdrnum(elf, &n)) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_INTERP ||
			    ph.p_filesz >= sizeof(interp))
				continue;
			if (pread(fd, interp, ph.p_filesz, ph.p_offset) != (ssize_t)ph.p_filesz)
				interp[0] = 0;
			interp[ph.p_filesz] = 0;
		}
	}
	if (!elf)
		snprintf(why, len, "%s is not an ELF executable", path);
	else if (!interp[0])
		snprintf(why, len, "%s is statically linked", path);
	else if (!strstr(interp, "/ld-linux"))
		snprintf(why, len, "%s is not linked against glibc (loader %s)", path, interp);
	else if (defines_malloc(elf))
		snprintf(why, len, "%s defines its own malloc", path);
	else
		err = 0;
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int heap_preload__state_vaddr(Elf *elf, uint64_t *sym, uint64_t *load0)
{
	GElf_Sym s;
	size_t n;

	*load0 = UINT64_MAX;
	if (!elf_getphdrnum(elf, &n)) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0)
				*load0 = ph.p_vaddr;
		}
	}
	if (dynsym__find(elf, BPFPROF_HEAP_STATE_SYM, &s) || GELF_ST_TYPE(s.st_info) != STT_OBJECT ||
	    s.st_size < sizeof(struct bpfprof_heap_state))
		return -ENOENT;
	*sym = s.st_value;
	return *load0 == UINT64_MAX ? -ENOEXEC : 0;
}

/* The same, for the library as process pid maps it (opened inside its root). */
static int state_vaddr(uint32_t pid, const char *path, uint64_t *sym, uint64_t *load0)
{
	int fd = heap_bin__open(pid, path), err = -ENOEXEC;
	Elf *elf;

	if (fd < 0)
		return fd;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		err = heap_preload__state_vaddr(elf, sym, load0);
	elf_end(elf);
	close(fd);
	return err;
}

/* Where pid mapped path's first page (file offset 0). */
static int map_start(uint32_t pid, const char *path, uint64_t *start)
{
	char maps[64], line[PATH_MAX + 128];
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long long lo, off;
		char *s = strchr(line, '/');

		if (!s || sscanf(line, "%llx-%*x %*s %llx", &lo, &off) != 2 || off)
			continue;
		s[strcspn(s, "\n")] = 0;
		if (!strcmp(s, path)) {
			*start = lo;
			err = 0;
		}
	}
	fclose(f);
	return err;
}

int heap_preload__set_state(uint32_t pid, const struct heap_alloc_bin *bin, uint64_t rate,
			    uint32_t attached)
{
	struct bpfprof_heap_state st;
	uint64_t sym = 0, load0 = 0, start = 0, addr;
	char mem[64];
	int fd, err;

	err = state_vaddr(pid, bin->path, &sym, &load0);
	if (!err)
		err = map_start(pid, bin->path, &start);
	if (err)
		return err;
	addr = start - (load0 & ~4095ull) + sym;
	snprintf(mem, sizeof(mem), "/proc/%" PRIu32 "/mem", pid);
	fd = open(mem, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = -EPROTO;
	if (pread(fd, &st, sizeof(st), (off_t)addr) != (ssize_t)sizeof(st) ||
	    st.magic != BPFPROF_HEAP_MAGIC || st.version != BPFPROF_HEAP_VERSION)
		goto out;
	/* The rate first: the library samples as soon as it sees the flag. */
	err = -EIO;
	if (pwrite(fd, &rate, sizeof(rate),
		   (off_t)(addr + offsetof(struct bpfprof_heap_state, rate))) != sizeof(rate))
		goto out;
	if (pwrite(fd, &attached, sizeof(attached),
		   (off_t)(addr + offsetof(struct bpfprof_heap_state, attached))) !=
	    sizeof(attached))
		goto out;
	err = 0;
out:
	close(fd);
	return err;
}
