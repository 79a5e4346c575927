// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdw.h>
#include <zlib.h>

#include "symbolizer/elfsym.h"
#include "util/safefile.h"

/* Rough cost of the libdw state for one binary beyond its line tables. */
#define DWARF_BASE_COST (16 * 1024)

struct elfsym_sym {
	uint64_t addr;
	uint32_t size; /* 0: unknown, the symbol runs to the next one */
	uint32_t name; /* offset in names */
};

struct elfsym_seg {
	uint64_t off, vaddr, filesz;
};

struct elfsym {
	struct elfsym_sym *syms;
	size_t nr;
	char *names;
	size_t names_len;
	struct elfsym_seg *segs;
	size_t nr_segs;
	uint8_t bid[ELFSYM_BUILD_ID_MAX];
	size_t bid_len;
	char *debug_path;
	/* DWARF source kept open as an fd so it outlives the process. */
	int dwarf_fd;
	size_t dwarf_cost;
	bool dwarf_tried;
	Elf *dw_elf;
	Dwarf *dw;
};

/* What a scan of the section headers found. */
struct elf_scan {
	Elf_Scn *symtab, *dynsym;
	size_t debug_line_size;
	bool debug_info;
	const char *debuglink; /* points into the Elf's data */
	uint32_t debuglink_crc;
};

/* A candidate separate debug file. */
struct dbgfile {
	int fd;
	Elf *elf;
	char *path;
	struct elf_scan scan;
};

bool elfsym__init_libelf(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = elf_version(EV_CURRENT) != EV_NONE;
	return ok;
}

static int notes__build_id(Elf_Data *data, uint8_t *bid)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
			if (!nh.n_descsz || nh.n_descsz > ELFSYM_BUILD_ID_MAX)
				return 0;
			memcpy(bid, (char *)data->d_buf + desc_off, nh.n_descsz);
			return nh.n_descsz;
		}
		off = next;
	}
	return 0;
}

/* Files without section headers still have PT_NOTE. */
static int phdrs__build_id(Elf *elf, uint8_t *bid)
{
	size_t i, n;
	GElf_Phdr ph;
	Elf_Data *d;
	int len;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		len = d ? notes__build_id(d, bid) : 0;
		if (len)
			return len;
	}
	return 0;
}

int elfsym__read_build_id(Elf *elf, uint8_t bid[ELFSYM_BUILD_ID_MAX])
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	int len;

	if (!elf || elf_kind(elf) != ELF_K_ELF)
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		len = d ? notes__build_id(d, bid) : 0;
		if (len)
			return len;
	}
	return phdrs__build_id(elf, bid);
}

static void scan__debuglink(struct elf_scan *sc, Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t len, crc_off;

	if (!d || !d->d_buf || !d->d_size)
		return;
	len = strnlen(d->d_buf, d->d_size);
	crc_off = (len + 4) & ~(size_t)3;
	if (!len || crc_off + 4 > d->d_size)
		return;
	/* The CRC is in the target's byte order, the same as ours here. */
	memcpy(&sc->debuglink_crc, (char *)d->d_buf + crc_off, 4);
	sc->debuglink = d->d_buf;
}

static int elf__scan(Elf *elf, struct elf_scan *sc)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;
	GElf_Shdr sh;

	memset(sc, 0, sizeof(*sc));
	if (elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			sc->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			sc->dynsym = scn;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || sh.sh_type == SHT_NOBITS)
			continue;
		if (!strcmp(name, ".debug_info"))
			sc->debug_info = true;
		else if (!strcmp(name, ".debug_line"))
			sc->debug_line_size = sh.sh_size;
		else if (!strcmp(name, ".gnu_debuglink"))
			scan__debuglink(sc, scn);
	}
	return 0;
}

static int segs__load(struct elfsym *es, Elf *elf)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	if (!n)
		return 0;
	es->segs = calloc(n, sizeof(*es->segs));
	if (!es->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		es->segs[es->nr_segs++] = (struct elfsym_seg){
		    .off = ph.p_offset,
		    .vaddr = ph.p_vaddr,
		    .filesz = ph.p_filesz,
		};
	}
	return 0;
}

/* Symbols during loading, with what ranks aliases at one address. */
struct tmpsym {
	uint64_t addr;
	uint64_t size;
	uint32_t name;
	uint8_t rank;
};

static bool sym__wanted(const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF &&
	       sym->st_value && sym->st_name;
}

/* Lower is better: sized, then global over weak over local, then fewer '_'. */
static uint8_t sym__rank(const GElf_Sym *sym, const char *name)
{
	int bind = GELF_ST_BIND(sym->st_info);
	uint8_t r = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
	uint8_t u = 0;

	while (name[u] == '_' && u < 3)
		u++;
	return (sym->st_size ? 0 : 16) | r << 2 | u;
}

static int tmpsym__cmp(const void *a, const void *b)
{
	const struct tmpsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Counts the wanted symbols and the bytes of their names. */
static size_t syms__count(Elf *elf, Elf_Data *d, size_t n, size_t strndx, size_t *bytes)
{
	size_t i, cnt = 0;
	const char *name;
	GElf_Sym sym;

	*bytes = 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(d, i, &sym) || !sym__wanted(&sym))
			continue;
		name = elf_strptr(elf, strndx, sym.st_name);
		if (!name || !*name)
			continue;
		*bytes += strlen(name) + 1;
		cnt++;
	}
	return cnt;
}

static size_t syms__fill(struct elfsym *es, struct tmpsym *t, Elf *elf, Elf_Data *d, size_t n,
			 size_t strndx, size_t max)
{
	size_t i, len, cnt = 0;
	const char *name;
	GElf_Sym sym;

	for (i = 0; i < n && cnt < max; i++) {
		if (!gelf_getsym(d, i, &sym) || !sym__wanted(&sym))
			continue;
		name = elf_strptr(elf, strndx, sym.st_name);
		if (!name || !*name)
			continue;
		len = strlen(name) + 1;
		memcpy(es->names + es->names_len, name, len);
		t[cnt++] = (struct tmpsym){
		    .addr = sym.st_value,
		    .size = sym.st_size,
		    .name = es->names_len,
		    .rank = sym__rank(&sym, name),
		};
		es->names_len += len;
	}
	return cnt;
}

/* Sorted, one symbol per address: the best ranked alias. */
static int syms__finish(struct elfsym *es, struct tmpsym *t, size_t cnt)
{
	struct elfsym_sym *p;
	size_t i;

	qsort(t, cnt, sizeof(*t), tmpsym__cmp);
	es->syms = calloc(cnt ? cnt : 1, sizeof(*es->syms));
	if (!es->syms)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		if (es->nr && es->syms[es->nr - 1].addr == t[i].addr)
			continue;
		es->syms[es->nr++] = (struct elfsym_sym){
		    .addr = t[i].addr,
		    .size = t[i].size > UINT32_MAX ? UINT32_MAX : t[i].size,
		    .name = t[i].name,
		};
	}
	/* Aliases were dropped: give the tail back. */
	p = realloc(es->syms, (es->nr ? es->nr : 1) * sizeof(*es->syms));
	if (p)
		es->syms = p;
	return 0;
}

static int syms__load(struct elfsym *es, Elf *elf, Elf_Scn *scn)
{
	struct tmpsym *t = NULL;
	size_t n, cnt, bytes;
	Elf_Data *d;
	GElf_Shdr sh;
	int err = -EINVAL;

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		goto out;
	d = elf_getdata(scn, NULL);
	if (!d)
		goto out;
	n = sh.sh_size / sh.sh_entsize;
	cnt = syms__count(elf, d, n, sh.sh_link, &bytes);
	if (bytes > UINT32_MAX) {
		err = -E2BIG;
		goto out;
	}
	err = -ENOMEM;
	t = malloc((cnt ? cnt : 1) * sizeof(*t));
	es->names = malloc(bytes ? bytes : 1);
	if (!t || !es->names)
		goto out;
	cnt = syms__fill(es, t, elf, d, n, sh.sh_link, cnt);
	err = syms__finish(es, t, cnt);
out:
	free(t);
	return err;
}

/* CRC of the first size bytes: a file that grows meanwhile is not read further. */
static int crc__file(int fd, uint64_t size, uint32_t *crc)
{
	size_t bufsz = 64 * 1024;
	uLong c = crc32(0, Z_NULL, 0);
	char *buf = malloc(bufsz);
	uint64_t off = 0;
	ssize_t n = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (off < size &&
	       (n = pread(fd, buf, size - off < bufsz ? size - off : bufsz, off)) > 0) {
		c = crc32(c, (const Bytef *)buf, n);
		off += n;
	}
	if (n < 0)
		err = -errno;
	*crc = c;
	free(buf);
	return err;
}

static void dbgfile__close(struct dbgfile *df)
{
	elf_end(df->elf);
	if (df->fd >= 0)
		close(df->fd);
	free(df->path);
	memset(df, 0, sizeof(*df));
	df->fd = -1;
}

static bool same_file(int fd, const struct stat *other)
{
	struct stat st;

	return other && !fstat(fd, &st) && st.st_dev == other->st_dev && st.st_ino == other->st_ino;
}

/* Where a candidate debug file is looked up, and how. */
struct dbgloc {
	int dirfd;
	const char *path;
	unsigned int flags; /* safefile_flags */
};

/* Both files have a build-id and they differ: not this binary's debug file. */
static bool dbgfile__bid_differs(struct dbgfile *df, const uint8_t *bid, size_t bid_len)
{
	uint8_t dbid[ELFSYM_BUILD_ID_MAX];
	int len = elfsym__read_build_id(df->elf, dbid);

	return bid_len && len > 0 && ((size_t)len != bid_len || memcmp(dbid, bid, len));
}

/*
 * Opens loc as the debug file of a binary with build-id bid (checked when
 * both have one) and debuglink CRC crc (checked when want_crc, after the
 * cheaper checks: ELF, build-id). The file goes through safefile: regular, at most
 * ELFSYM_DEBUG_MAX_BYTES, never a FIFO or device. 0 or -errno.
 */
static int dbgfile__open(struct dbgfile *df, const struct dbgloc *loc, const uint8_t *bid,
			 size_t bid_len, const uint32_t *want_crc, const struct stat *self)
{
	uint64_t size = 0;
	uint32_t crc;
	int err;

	err = safefile__open(loc->dirfd, loc->path, loc->flags, ELFSYM_DEBUG_MAX_BYTES, &df->fd,
			     &size);
	if (err)
		goto out;
	err = -ENOENT;
	if (same_file(df->fd, self))
		goto out;
	df->elf = elf_begin(df->fd, ELF_C_READ_MMAP, NULL);
	if (!df->elf || elf_kind(df->elf) != ELF_K_ELF || elf__scan(df->elf, &df->scan))
		goto out;
	if (dbgfile__bid_differs(df, bid, bid_len))
		goto out;
	if (want_crc && (crc__file(df->fd, size, &crc) || crc != *want_crc))
		goto out;
	df->path = strdup(loc->path);
	err = df->path ? 0 : -ENOMEM;
out:
	if (err)
		dbgfile__close(df);
	return err;
}

static int dbgfile__by_build_id(struct dbgfile *df, const struct elfsym_opts *o, const uint8_t *bid,
				size_t bid_len)
{
	char hex[2 * ELFSYM_BUILD_ID_MAX + 1], path[PATH_MAX];
	struct dbgloc loc = {.dirfd = AT_FDCWD, .path = path, .flags = SAFEFILE_FOLLOW};
	size_t i;

	if (!o->debug_root || bid_len < 2)
		return -ENOENT;
	for (i = 0; i < bid_len; i++)
		sprintf(hex + 2 * i, "%02x", bid[i]);
	if (snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", o->debug_root, hex,
		     hex + 2) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return dbgfile__open(df, &loc, bid, bid_len, NULL, NULL);
}

/*
 * Candidate i of the debuglink: <dir>/<link> and <dir>/.debug/<link> (a
 * user's directory: no symlink, inside the process's root), then
 * <debug_root><dir_ns>/<link> (root's tree: symlinks followed). false when
 * there is no such candidate.
 */
static bool dbgloc__link(struct dbgloc *loc, char *path, size_t size, const struct elfsym_opts *o,
			 const char *link, int i)
{
	const char *dir_ns = o->dir_ns ? o->dir_ns : o->dir;
	int n;

	*loc = (struct dbgloc){.dirfd = o->in_root ? o->root_fd : AT_FDCWD,
			       .path = path,
			       .flags = o->in_root ? SAFEFILE_IN_ROOT : 0};
	if (i == 0 && o->dir)
		n = snprintf(path, size, "%s/%s", o->dir, link);
	else if (i == 1 && o->dir)
		n = snprintf(path, size, "%s/.debug/%s", o->dir, link);
	else if (i == 2 && o->debug_root && dir_ns) {
		*loc = (struct dbgloc){.dirfd = AT_FDCWD, .path = path, .flags = SAFEFILE_FOLLOW};
		n = snprintf(path, size, "%s%s/%s", o->debug_root, dir_ns, link);
	} else
		return false;
	return n > 0 && (size_t)n < size;
}

static int dbgfile__by_link(struct dbgfile *df, const struct elfsym_opts *o,
			    const struct elf_scan *sc, const uint8_t *bid, size_t bid_len,
			    const struct stat *self)
{
	const char *link = sc->debuglink;
	char path[PATH_MAX];
	struct dbgloc loc;
	int i;

	if (!link || strchr(link, '/') || !strcmp(link, "..") || !strcmp(link, "."))
		return -ENOENT;
	for (i = 0; i < 3; i++) {
		if (!dbgloc__link(&loc, path, sizeof(path), o, link, i))
			continue;
		if (!dbgfile__open(df, &loc, bid, bid_len, &sc->debuglink_crc, self))
			return 0;
	}
	return -ENOENT;
}

static int dbgfile__find(struct dbgfile *df, int fd, const struct elfsym_opts *o,
			 const struct elfsym *es, const struct elf_scan *sc)
{
	struct stat self;

	if (!o)
		return -ENOENT;
	if (!dbgfile__by_build_id(df, o, es->bid, es->bid_len))
		return 0;
	return dbgfile__by_link(df, o, sc, es->bid, es->bid_len, fstat(fd, &self) ? NULL : &self);
}

static struct elfsym *elfsym__alloc(void)
{
	struct elfsym *es = calloc(1, sizeof(*es));

	if (es)
		es->dwarf_fd = -1;
	return es;
}

/* Picks the symbol source: .symtab, the debug file's .symtab, .dynsym. */
static int elfsym__load_syms(struct elfsym *es, Elf *elf, const struct elf_scan *sc,
			     struct dbgfile *df)
{
	if (sc->symtab)
		return syms__load(es, elf, sc->symtab);
	if (df->elf && df->scan.symtab) {
		es->debug_path = strdup(df->path);
		if (!es->debug_path)
			return -ENOMEM;
		return syms__load(es, df->elf, df->scan.symtab);
	}
	if (sc->dynsym)
		return syms__load(es, elf, sc->dynsym);
	return 0;
}

static int elfsym__keep_dwarf(struct elfsym *es, int fd, const struct elf_scan *sc,
			      struct dbgfile *df)
{
	size_t line_size = 0;

	if (sc->debug_info && fd >= 0) {
		es->dwarf_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		line_size = sc->debug_line_size;
	} else if (df->elf && df->scan.debug_info) {
		es->dwarf_fd = fcntl(df->fd, F_DUPFD_CLOEXEC, 0);
		line_size = df->scan.debug_line_size;
	} else {
		return 0;
	}
	if (es->dwarf_fd < 0)
		return -errno;
	/* Decoded line tables take a few times their encoded size. */
	es->dwarf_cost = DWARF_BASE_COST + 2 * line_size;
	return 0;
}

struct elfsym *elfsym__load(Elf *elf, int fd, const struct elfsym_opts *opts)
{
	struct dbgfile df = {.fd = -1};
	struct elfsym *es = NULL;
	struct elf_scan sc;
	int err = -EINVAL, len;

	if (!elf || elf_kind(elf) != ELF_K_ELF || elf__scan(elf, &sc))
		goto out;
	err = -ENOMEM;
	es = elfsym__alloc();
	if (!es)
		goto out;
	err = segs__load(es, elf);
	if (err)
		goto out;
	len = elfsym__read_build_id(elf, es->bid);
	es->bid_len = len > 0 ? len : 0;
	if (!sc.symtab || !sc.debug_info)
		dbgfile__find(&df, fd, opts, es, &sc);
	err = elfsym__load_syms(es, elf, &sc, &df);
	if (!err)
		err = elfsym__keep_dwarf(es, fd, &sc, &df);
out:
	dbgfile__close(&df);
	if (err) {
		elfsym__free(es);
		errno = -err;
		return NULL;
	}
	return es;
}

struct elfsym *elfsym__load_image(const void *image, size_t size)
{
	struct elfsym *es;
	Elf *elf;

	if (!elfsym__init_libelf()) {
		errno = EINVAL;
		return NULL;
	}
	/* libelf only reads the image, the cast is for its old prototype. */
	elf = elf_memory((char *)image, size);
	if (!elf) {
		errno = EINVAL;
		return NULL;
	}
	es = elfsym__load(elf, -1, NULL);
	elf_end(elf);
	return es;
}

void elfsym__free(struct elfsym *es)
{
	if (!es)
		return;
	if (es->dw)
		dwarf_end(es->dw);
	elf_end(es->dw_elf);
	if (es->dwarf_fd >= 0)
		close(es->dwarf_fd);
	free(es->syms);
	free(es->names);
	free(es->segs);
	free(es->debug_path);
	free(es);
}

int elfsym__offset_to_vaddr(const struct elfsym *es, uint64_t off, uint64_t *vaddr)
{
	const struct elfsym_seg *s;
	size_t i;

	for (i = 0; es && i < es->nr_segs; i++) {
		s = &es->segs[i];
		if (off >= s->off && off < s->off + s->filesz) {
			*vaddr = off - s->off + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const char *elfsym__find(const struct elfsym *es, uint64_t vaddr, uint64_t *start)
{
	const struct elfsym_sym *sym;
	size_t lo = 0, hi, mid;

	if (!es)
		return NULL;
	hi = es->nr;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (es->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	sym = &es->syms[lo - 1];
	/* Past the end of a sized function is padding, not the function. */
	if (sym->size && vaddr - sym->addr >= sym->size)
		return NULL;
	if (start)
		*start = sym->addr;
	return es->names + sym->name;
}

int elfsym__addr_of(const struct elfsym *es, const char *name, uint64_t *addr)
{
	size_t i;

	for (i = 0; es && i < es->nr; i++) {
		if (!strcmp(es->names + es->syms[i].name, name)) {
			*addr = es->syms[i].addr;
			return 0;
		}
	}
	return -ENOENT;
}

static Dwarf *elfsym__dwarf(struct elfsym *es)
{
	if (es->dw || es->dwarf_tried || es->dwarf_fd < 0)
		return es->dw;
	es->dwarf_tried = true;
	es->dw_elf = elf_begin(es->dwarf_fd, ELF_C_READ_MMAP, NULL);
	if (es->dw_elf)
		es->dw = dwarf_begin_elf(es->dw_elf, DWARF_C_READ, NULL);
	return es->dw;
}

/* Without .debug_aranges dwarf_addrdie fails: walk the CUs instead. */
static int dwarf__cu_of(Dwarf *dw, uint64_t vaddr, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(dw, vaddr, cu))
		return 0;
	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		if (dwarf_offdie(dw, off + hsize, cu) && dwarf_haspc(cu, vaddr) > 0)
			return 0;
		off = next;
	}
	return -ENOENT;
}

int elfsym__srcline(struct elfsym *es, uint64_t vaddr, const char **file, int *line)
{
	Dwarf *dw = es ? elfsym__dwarf(es) : NULL;
	Dwarf_Line *l;
	Dwarf_Die cu;
	const char *f;
	int lno;

	if (!dw || dwarf__cu_of(dw, vaddr, &cu))
		return -ENOENT;
	l = dwarf_getsrc_die(&cu, vaddr);
	if (!l)
		return -ENOENT;
	f = dwarf_linesrc(l, NULL, NULL);
	if (!f || dwarf_lineno(l, &lno))
		return -ENOENT;
	*file = f;
	*line = lno;
	return 0;
}

size_t elfsym__build_id(const struct elfsym *es, const uint8_t **bid)
{
	*bid = es ? es->bid : NULL;
	return es ? es->bid_len : 0;
}

size_t elfsym__nr_syms(const struct elfsym *es)
{
	return es ? es->nr : 0;
}

const char *elfsym__debug_path(const struct elfsym *es)
{
	return es ? es->debug_path : NULL;
}

size_t elfsym__bytes(const struct elfsym *es)
{
	if (!es)
		return 0;
	return sizeof(*es) + es->nr * sizeof(*es->syms) + es->names_len +
	       es->nr_segs * sizeof(*es->segs) + es->dwarf_cost;
}
