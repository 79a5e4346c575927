// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ties the parts together: per-process maps (LRU bounded by max_pids), the
 * shared per-binary cache, the vdso, perf maps for JIT code and kallsyms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symbolizer/symbolizer.h"
#include "symbolizer/demangle.h"
#include "symbolizer/elfsym.h"
#include "symbolizer/kallsyms.h"
#include "symbolizer/perfmap.h"
#include "symbolizer/procmaps.h"
#include "symbolizer/symcache.h"
#include "util/safefile.h"

#define DEFAULT_CACHE_BYTES (32u << 20)
#define DEFAULT_MAX_PIDS    4096
#define DEFAULT_DEBUG_ROOT  "/usr/lib/debug"
#define DEFAULT_KALLSYMS    "/proc/kallsyms"
#define KERNEL_NOTES	    "/sys/kernel/notes"
#define KERNEL_MAP	    "[kernel.kallsyms]"
/* A perf map that missed is re-read at most this often, when it grew. */
#define PERFMAP_RECHECK_NS 1000000000ull
#define MAPS_RECHECK_NS 200000000ULL /* 200 ms */
/*
 * Mapped binaries larger than this are refused: the biggest real ones
 * (browser engines, LLVM with symbols) are around 1-2 GiB, and what is read
 * from a binary (symbol tables, notes) is bounded by its size.
 */
#define BIN_MAX_BYTES (4ull << 30)

enum map_kind {
	MAP_NONE, /* nothing to symbolize with ([vsyscall], unreadable file) */
	MAP_ELF,
	MAP_VDSO,
	MAP_ANON, /* JIT code: perf map */
};

/* What one executable mapping of a process resolves through. */
struct mapbin {
	uint8_t bid[SYMCACHE_BID_MAX];
	uint8_t bid_len;
	uint8_t kind;
	bool failed; /* the binary could not be (re)loaded: do not retry */
};

struct proc {
	int pid, nspid;
	struct proc *hnext;	  /* hash chain */
	struct proc *prev, *next; /* LRU, most recent first */
	struct procmaps *maps;	  /* executable mappings only */
	struct mapbin *bins;	  /* parallel to maps->ents */
	struct perfmap *perfmap;
	uint64_t perfmap_checked; /* CLOCK_MONOTONIC ns */
	/* The perf map file last loaded or refused: not read again until it changes. */
	struct {
		uint64_t dev, ino, size, mtime_ns;
	} perfmap_seen;
	uint64_t maps_read;	  /* CLOCK_MONOTONIC ns of the last /proc/PID/maps read */
};

struct symbolizer {
	size_t max_pids;
	char *debug_root, *kallsyms_path;
	bool no_demangle;
	struct symcache *cache;
	struct proc **buckets;
	size_t nr_buckets, nr_pids;
	struct proc *head, *tail;
	uint64_t pid_evictions;
	struct elfsym *vdso;
	bool vdso_tried, ksyms_tried, ksyms_restricted;
	struct kallsyms *ksyms;
	char kernel_bid[2 * SYMCACHE_BID_MAX + 1];
	char bid_hex[2 * SYMCACHE_BID_MAX + 1];
	char *demangled; /* returned in the last result */
	char *unversioned; /* likewise: name without its "@@GLIBC_2.17" version */
};

static void elfsym__free_void(void *es)
{
	elfsym__free(es);
}

static size_t pow2__ceil(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts)
{
	struct symbolizer_opts o = opts ? *opts : (struct symbolizer_opts){0};
	struct symbolizer *s;

	if (!elfsym__init_libelf()) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->max_pids = o.max_pids ? o.max_pids : DEFAULT_MAX_PIDS;
	s->no_demangle = o.no_demangle;
	s->debug_root = strdup(o.debug_root ? o.debug_root : DEFAULT_DEBUG_ROOT);
	s->kallsyms_path = strdup(o.kallsyms ? o.kallsyms : DEFAULT_KALLSYMS);
	s->cache =
	    symcache__new(o.cache_bytes ? o.cache_bytes : DEFAULT_CACHE_BYTES, elfsym__free_void);
	s->nr_buckets = pow2__ceil(s->max_pids < 1024 ? s->max_pids : 1024);
	s->buckets = calloc(s->nr_buckets, sizeof(*s->buckets));
	if (!s->debug_root || !s->kallsyms_path || !s->cache || !s->buckets) {
		symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void proc__free(struct proc *p)
{
	if (!p)
		return;
	procmaps__free(p->maps);
	free(p->bins);
	perfmap__free(p->perfmap);
	free(p);
}

void symbolizer__free(struct symbolizer *s)
{
	struct proc *p, *next;

	if (!s)
		return;
	for (p = s->head; p; p = next) {
		next = p->next;
		proc__free(p);
	}
	free(s->buckets);
	symcache__free(s->cache);
	elfsym__free(s->vdso);
	kallsyms__free(s->ksyms);
	free(s->debug_root);
	free(s->kallsyms_path);
	free(s->demangled);
	free(s->unversioned);
	free(s);
}

/* --- processes: hash by pid, LRU list --- */

static struct proc **proc__slot(const struct symbolizer *s, int pid)
{
	return &s->buckets[(unsigned int)pid & (s->nr_buckets - 1)];
}

static struct proc *proc__find(const struct symbolizer *s, int pid)
{
	struct proc *p;

	for (p = *proc__slot(s, pid); p; p = p->hnext) {
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

static void proc__lru_unlink(struct symbolizer *s, struct proc *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		s->tail = p->prev;
	p->prev = p->next = NULL;
}

static void proc__lru_push(struct symbolizer *s, struct proc *p)
{
	p->next = s->head;
	if (s->head)
		s->head->prev = p;
	s->head = p;
	if (!s->tail)
		s->tail = p;
}

static void proc__touch(struct symbolizer *s, struct proc *p)
{
	if (s->head == p)
		return;
	proc__lru_unlink(s, p);
	proc__lru_push(s, p);
}

static void proc__remove(struct symbolizer *s, struct proc *p)
{
	struct proc **pp;

	for (pp = proc__slot(s, p->pid); *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	proc__lru_unlink(s, p);
	s->nr_pids--;
	proc__free(p);
}

static void proc__insert(struct symbolizer *s, struct proc *p)
{
	struct proc **slot = proc__slot(s, p->pid);

	p->hnext = *slot;
	*slot = p;
	proc__lru_push(s, p);
	s->nr_pids++;
	while (s->nr_pids > s->max_pids && s->tail != p) {
		proc__remove(s, s->tail);
		s->pid_evictions++;
	}
}

/* --- binaries of a process --- */

static uint64_t entry__dev(const struct procmaps_entry *e)
{
	return (uint64_t)e->dev_major << 32 | e->dev_minor;
}

/* A dirfd of the process's root, for opens that must not leave it: fd or -errno. */
static int proc__root_fd(int pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * The binary as the process sees it (resolved inside its root, no symlink
 * as the last component: /proc/PID/maps names the file itself), or through
 * map_files for deleted binaries and when that path does not open. The
 * map_files entry is a kernel-made link to exactly the mapped file, so it
 * is followed; the file must still be regular and under BIN_MAX_BYTES.
 */
static int bin__open(int pid, int root_fd, const struct procmaps_entry *e)
{
	char path[PATH_MAX];
	int fd = -1, err = -ENOENT;

	if (!e->deleted && root_fd >= 0)
		err = safefile__open(root_fd, e->path, SAFEFILE_IN_ROOT, BIN_MAX_BYTES, &fd, NULL);
	/* A refused file is not retried by another name: it is the same file. */
	if (!err || err == -ENODEV || err == -EFBIG)
		return err ? err : fd;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)e->start, (unsigned long long)e->end);
	err = safefile__open(AT_FDCWD, path, SAFEFILE_FOLLOW, BIN_MAX_BYTES, &fd, NULL);
	return err ? err : fd;
}

static struct elfsym *bin__load(struct symbolizer *s, int root_fd, const struct procmaps_entry *e,
				Elf *elf, int fd)
{
	char dir[PATH_MAX];
	struct elfsym_opts o = {
	    .debug_root = s->debug_root, .dir = dir, .in_root = root_fd >= 0, .root_fd = root_fd};
	const char *slash = strrchr(e->path, '/');
	int len = slash ? (int)(slash - e->path) : 0;

	if (root_fd < 0)
		o.dir = NULL; /* no directory to look in: only the debug root */
	snprintf(dir, sizeof(dir), "%.*s", len, e->path);
	o.dir_ns = dir;
	return elfsym__load(elf, fd, &o);
}

static void mapbin__set_bid(struct mapbin *b, const struct elfsym *es)
{
	const uint8_t *bid;
	size_t len = elfsym__build_id(es, &bid);

	b->bid_len = len <= SYMCACHE_BID_MAX ? len : 0;
	memcpy(b->bid, bid, b->bid_len);
}

/*
 * Opens the binary of e, finds it in the cache by build-id (unless the
 * caller just missed it there) or loads it.
 */
static struct elfsym *bin__resolve(struct symbolizer *s, int pid, const struct procmaps_entry *e,
				   struct mapbin *b, bool lookup)
{
	struct symcache_key k = {
	    .bid = b->bid, .dev = entry__dev(e), .ino = e->inode, .path = e->path};
	int root_fd = proc__root_fd(pid), fd, len;
	struct elfsym *es = NULL;
	Elf *elf = NULL;

	fd = bin__open(pid, root_fd, e);
	if (fd < 0)
		goto out;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	len = elfsym__read_build_id(elf, b->bid);
	if (len < 0)
		goto out;
	k.bid_len = b->bid_len = len;
	es = lookup ? symcache__lookup(s->cache, &k) : NULL;
	if (es)
		goto out;
	es = bin__load(s, root_fd, e, elf, fd);
	if (es && symcache__insert(s->cache, &k, es, elfsym__bytes(es)))
		es = NULL;
out:
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (root_fd >= 0)
		close(root_fd);
	b->failed = !es;
	return es;
}

static struct elfsym *bin__resolve_first(struct symbolizer *s, int pid,
					 const struct procmaps_entry *e, struct mapbin *b)
{
	struct elfsym *es;

	/* The same file seen before needs no open. */
	es = symcache__find_file(s->cache, entry__dev(e), e->inode, e->path);
	if (es) {
		mapbin__set_bid(b, es);
		return es;
	}
	return bin__resolve(s, pid, e, b, true);
}

static enum map_kind entry__kind(const struct procmaps_entry *e)
{
	if (procmaps_entry__is_file(e))
		return MAP_ELF;
	if (!strcmp(e->path, "[vdso]"))
		return MAP_VDSO;
	if (procmaps_entry__is_anon(e))
		return MAP_ANON;
	return MAP_NONE;
}

/* Loads every binary now: the process may be gone by the time we look up. */
static bool proc__load_bins(struct symbolizer *s, struct proc *p)
{
	const struct procmaps_entry *e;
	bool jit = false;
	size_t i;

	for (i = 0; i < p->maps->nr; i++) {
		e = &p->maps->ents[i];
		p->bins[i].kind = entry__kind(e);
		if (p->bins[i].kind == MAP_ELF)
			bin__resolve_first(s, p->pid, e, &p->bins[i]);
		if (p->bins[i].kind == MAP_ANON || !strncmp(e->path, "/memfd:", 7))
			jit = true;
	}
	return jit;
}

/* The innermost pid namespace's pid, which names the perf map in a container. */
static int proc__read_nspid(int pid)
{
	char path[64], *line = NULL, *last;
	size_t cap = 0;
	int nspid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		last = strrchr(line, '\t');
		nspid = last ? atoi(last + 1) : pid;
		break;
	}
	free(line);
	fclose(f);
	return nspid > 0 ? nspid : pid;
}

static uint64_t now__ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * True when st is the perf map file last loaded or refused (nothing new to
 * read); with remember, st becomes that file.
 */
static bool perfmap__seen(struct proc *p, const struct stat *st, bool remember)
{
	uint64_t mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + st->st_mtim.tv_nsec;
	bool same = p->perfmap_seen.dev == st->st_dev && p->perfmap_seen.ino == st->st_ino &&
		    p->perfmap_seen.size == (uint64_t)st->st_size &&
		    p->perfmap_seen.mtime_ns == mtime;

	if (remember) {
		p->perfmap_seen.dev = st->st_dev;
		p->perfmap_seen.ino = st->st_ino;
		p->perfmap_seen.size = st->st_size;
		p->perfmap_seen.mtime_ns = mtime;
	}
	return same;
}

/*
 * /tmp/perf-NSPID.map inside the process's root (containers), else
 * /tmp/perf-PID.map here. Any user writes /tmp: the file goes through
 * safefile (no symlink, no FIFO, at most PERFMAP_MAX_BYTES).
 */
static struct perfmap *perfmap__open(struct proc *p, int i)
{
	char path[64];
	struct perfmap *m;
	int root_fd;

	if (i == 1) {
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", p->pid);
		return perfmap__load(path);
	}
	root_fd = proc__root_fd(p->pid);
	if (root_fd < 0) {
		errno = -root_fd;
		return NULL;
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", p->nspid);
	m = perfmap__load_at(root_fd, path, SAFEFILE_IN_ROOT);
	close(root_fd);
	return m;
}

/* (Re)reads the perf map when it exists and changed since it was last read. */
static void proc__load_perfmap(struct proc *p)
{
	char paths[2][PATH_MAX];
	struct perfmap *m;
	struct stat st;
	int i;

	p->perfmap_checked = now__ns();
	snprintf(paths[0], sizeof(paths[0]), "/proc/%d/root/tmp/perf-%d.map", p->pid, p->nspid);
	snprintf(paths[1], sizeof(paths[1]), "/tmp/perf-%d.map", p->pid);
	for (i = 0; i < 2; i++) {
		/* lstat only tells what changed; the open is the checked one. */
		if (lstat(paths[i], &st))
			continue;
		if (perfmap__seen(p, &st, false))
			return;
		m = perfmap__open(p, i);
		/* Refused (FIFO, too big, symlink): the other name is likely the same file. */
		if (!m && (errno == ENODEV || errno == EFBIG || errno == ELOOP || errno == EXDEV)) {
			perfmap__seen(p, &st, true);
			return;
		}
		if (!m)
			continue;
		perfmap__seen(p, &st, true);
		perfmap__free(p->perfmap);
		p->perfmap = m;
		return;
	}
}

static int proc__read_maps(struct symbolizer *s, struct proc *p)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	p->maps_read = now__ns();
	p->maps = procmaps__read(path, true);
	if (!p->maps)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	p->bins = calloc(p->maps->nr ? p->maps->nr : 1, sizeof(*p->bins));
	if (!p->bins)
		return -ENOMEM;
	if (proc__load_bins(s, p))
		proc__load_perfmap(p);
	return 0;
}

int symbolizer__add_pid(struct symbolizer *s, int pid)
{
	struct proc *p;
	int err;

	if (!s || pid <= 0)
		return -EINVAL;
	p = proc__find(s, pid);
	if (p) {
		proc__touch(s, p);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->nspid = proc__read_nspid(pid);
	err = proc__read_maps(s, p);
	if (err) {
		proc__free(p);
		return err;
	}
	proc__insert(s, p);
	return 0;
}

int symbolizer__refresh_pid(struct symbolizer *s, int pid)
{
	struct proc *p = s ? proc__find(s, pid) : NULL;
	struct proc fresh = {.pid = pid};
	int err;

	if (!p)
		return symbolizer__add_pid(s, pid);
	fresh.nspid = proc__read_nspid(pid);
	fresh.perfmap = p->perfmap;
	fresh.perfmap_seen = p->perfmap_seen;
	err = proc__read_maps(s, &fresh);
	if (err) {
		/* Gone or failing: keep what we had, it still resolves old samples. */
		p->maps_read = fresh.maps_read;
		procmaps__free(fresh.maps);
		free(fresh.bins);
		if (fresh.perfmap != p->perfmap)
			perfmap__free(fresh.perfmap);
		return err;
	}
	procmaps__free(p->maps);
	free(p->bins);
	p->maps = fresh.maps;
	p->bins = fresh.bins;
	p->perfmap = fresh.perfmap;
	p->perfmap_checked = fresh.perfmap_checked;
	p->perfmap_seen = fresh.perfmap_seen;
	p->maps_read = fresh.maps_read;
	p->nspid = fresh.nspid;
	proc__touch(s, p);
	return 0;
}

bool symbolizer__has_pid(const struct symbolizer *s, int pid)
{
	return s && proc__find(s, pid);
}

/* --- lookups --- */

static const char *hex__format(char *hex, const uint8_t *bid, size_t len)
{
	size_t i;

	hex[0] = '\0';
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", bid[i]);
	return hex;
}

/* Our own vdso: the kernel maps the same image into every process. */
static struct elfsym *symbolizer__vdso(struct symbolizer *s)
{
	const ElfW(Ehdr) * eh;
	size_t size;

	if (s->vdso_tried)
		return s->vdso;
	s->vdso_tried = true;
	eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return NULL;
	/* The section headers come last in the image. */
	size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	s->vdso = elfsym__load_image(eh, size);
	return s->vdso;
}

/* The cached binary of a mapping, reloaded if it was evicted meanwhile. */
static struct elfsym *symbolizer__bin(struct symbolizer *s, struct proc *p,
				      const struct procmaps_entry *e, struct mapbin *b)
{
	struct symcache_key k = {.bid = b->bid,
				 .bid_len = b->bid_len,
				 .dev = entry__dev(e),
				 .ino = e->inode,
				 .path = e->path};
	struct elfsym *es;

	if (b->failed)
		return NULL;
	es = symcache__lookup(s->cache, &k);
	if (!es)
		es = bin__resolve(s, p->pid, e, b, false);
	return es;
}

static void result__set_func(struct symbolizer *s, struct sym_result *out, const char *name)
{
	const char *at = name ? strchr(name, '@') : NULL;

	/* Debug files' .symtab keep symbol versions; the function is the same without. */
	if (at && at != name) {
		s->unversioned = strndup(name, at - name);
		if (s->unversioned)
			name = s->unversioned;
	}
	out->mangled = out->func = name;
	if (!name || s->no_demangle)
		return;
	s->demangled = demangle__name(name);
	if (s->demangled)
		out->func = s->demangled;
}

static void result__from_elf(struct symbolizer *s, struct elfsym *es, struct sym_result *out)
{
	const uint8_t *bid;
	size_t len = elfsym__build_id(es, &bid);
	uint64_t vaddr;

	out->build_id = hex__format(s->bid_hex, bid, len <= SYMCACHE_BID_MAX ? len : 0);
	if (elfsym__offset_to_vaddr(es, out->file_offset, &vaddr))
		return;
	result__set_func(s, out, elfsym__find(es, vaddr, NULL));
	if (elfsym__srcline(es, vaddr, &out->src_file, &out->line))
		out->src_file = NULL;
}

static void result__from_perfmap(struct symbolizer *s, struct proc *p, uint64_t addr,
				 struct sym_result *out)
{
	const char *name = perfmap__find(p->perfmap, addr, NULL);

	if (!name && now__ns() - p->perfmap_checked >= PERFMAP_RECHECK_NS) {
		proc__load_perfmap(p);
		name = perfmap__find(p->perfmap, addr, NULL);
	}
	result__set_func(s, out, name);
}

static void result__reset(struct symbolizer *s, struct sym_result *out)
{
	memset(out, 0, sizeof(*out));
	out->build_id = "";
	free(s->demangled);
	s->demangled = NULL;
	free(s->unversioned);
	s->unversioned = NULL;
}

static void result__set_map(struct sym_result *out, const struct procmaps_entry *e, uint64_t addr)
{
	out->map_path = e->path[0] ? e->path : "[anon]";
	out->map_start = e->start;
	out->map_limit = e->end;
	out->map_offset = e->offset;
	out->file_offset = addr - e->start + e->offset;
}

int symbolizer__user(struct symbolizer *s, int pid, uint64_t addr, struct sym_result *out)
{
	const struct procmaps_entry *e;
	struct elfsym *es = NULL;
	struct mapbin *b;
	struct proc *p;

	result__reset(s, out);
	p = proc__find(s, pid);
	if (!p)
		return -ESRCH;
	proc__touch(s, p);
	e = procmaps__find(p->maps, addr);
	/*
	 * Code mapped after the capture (ld.so after exec, dlopen): re-read the
	 * maps, at most every MAPS_RECHECK_NS, so no notice has to arrive in time.
	 */
	if (!e && now__ns() - p->maps_read >= MAPS_RECHECK_NS &&
	    !symbolizer__refresh_pid(s, pid)) {
		p = proc__find(s, pid);
		e = p ? procmaps__find(p->maps, addr) : NULL;
	}
	if (!e)
		return -ENOENT;
	b = &p->bins[e - p->maps->ents];
	result__set_map(out, e, addr);
	if (b->kind == MAP_ELF)
		es = symbolizer__bin(s, p, e, b);
	else if (b->kind == MAP_VDSO)
		es = symbolizer__vdso(s);
	if (es)
		result__from_elf(s, es, out);
	if (!out->func && (b->kind == MAP_ANON || !strncmp(e->path, "/memfd:", 7)))
		result__from_perfmap(s, p, addr, out);
	return 0;
}

static struct kallsyms *symbolizer__ksyms(struct symbolizer *s)
{
	if (s->ksyms_tried)
		return s->ksyms;
	s->ksyms_tried = true;
	s->ksyms = kallsyms__load(s->kallsyms_path);
	s->ksyms_restricted = !s->ksyms && errno == EPERM;
	kallsyms__kernel_build_id(KERNEL_NOTES, s->kernel_bid, sizeof(s->kernel_bid));
	return s->ksyms;
}

int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_result *out)
{
	struct kallsyms *k;
	const char *name;

	result__reset(s, out);
	k = symbolizer__ksyms(s);
	name = kallsyms__find(k, addr, NULL, NULL);
	if (!name)
		return -ENOENT;
	out->map_path = KERNEL_MAP;
	out->build_id = s->kernel_bid;
	out->map_limit = UINT64_MAX;
	out->file_offset = addr;
	result__set_func(s, out, name);
	return 0;
}

bool symbolizer__kernel_restricted(struct symbolizer *s)
{
	symbolizer__ksyms(s);
	return s->ksyms_restricted;
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
	struct symcache_stats cs;
	struct safefile_stats fs;
	int i;

	memset(out, 0, sizeof(*out));
	safefile__stats(&fs);
	out->files_refused = fs.refused;
	for (i = 0; i < SAFEFILE_NR_REASONS; i++)
		out->files_refused_by[i] = fs.by_reason[i];
	memcpy(out->last_refused, fs.last, sizeof(out->last_refused));
	if (!s)
		return;
	symcache__stats(s->cache, &cs);
	out->hits = cs.hits;
	out->misses = cs.misses;
	out->evictions = cs.evictions;
	out->binaries = cs.entries;
	out->bytes = cs.bytes;
	out->pids = s->nr_pids;
	out->pid_evictions = s->pid_evictions;
}
