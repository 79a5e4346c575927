// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The per-binary table cache and its storage in the kernel. Rows of every
 * binary live in one BPF array (unwind_rows) sized from the budget; each
 * binary holds one contiguous range, found first-fit among the loaded
 * binaries. When nothing fits, binaries no live process maps are evicted,
 * least recently used first; if still nothing fits the binary stays "not
 * loaded" and the BPF side says so. Rows are dropped from our memory once
 * uploaded: an evicted binary needed again is compiled again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "symbolizer/elfsym.h"
#include "unwind/cfi.h"
#include "unwind/unwind_int.h"

#define UPLOAD_CHUNK 8192

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct unwind_bin *find_by_key(struct unwinder *u, const char *key, uint32_t *id)
{
	for (uint32_t i = 0; i < UNWIND_MAX_TABLES; i++) {
		if (u->bins[i].used && !strcmp(u->bins[i].key, key)) {
			*id = i;
			return &u->bins[i];
		}
	}
	return NULL;
}

static struct unwind_bin *find_by_stat(struct unwinder *u, const struct stat *st, uint32_t *id)
{
	for (uint32_t i = 0; i < UNWIND_MAX_TABLES; i++) {
		struct unwind_bin *b = &u->bins[i];

		if (b->used && b->ino == st->st_ino && b->dev == st->st_dev &&
		    b->size == st->st_size && b->mtime == st->st_mtime) {
			*id = i;
			return b;
		}
	}
	return NULL;
}

/* A free slot, evicting the least recently used unreferenced binary when all are taken. */
static struct unwind_bin *new_bin(struct unwinder *u, uint32_t *id)
{
	struct unwind_bin *lru = NULL;
	uint32_t lru_id = 0;

	for (uint32_t i = 0; i < UNWIND_MAX_TABLES; i++) {
		if (!u->bins[i].used) {
			*id = i;
			return &u->bins[i];
		}
		if (!u->bins[i].refs && (!lru || u->bins[i].last_use < lru->last_use)) {
			lru = &u->bins[i];
			lru_id = i;
		}
	}
	if (!lru)
		return NULL;
	if (lru->row_count) {
		struct unwind_table none = { 0 };

		bpf_map_update_elem(u->tables_fd, &lru_id, &none, BPF_ANY);
		u->st.evictions++;
		u->st.tables_loaded--;
		u->st.rows_used -= lru->row_count;
	}
	memset(lru, 0, sizeof(*lru));
	*id = lru_id;
	return lru;
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct unwind_bin *bins = ctx;
	uint32_t x = bins[*(const uint32_t *)a].row_start, y = bins[*(const uint32_t *)b].row_start;

	return x < y ? -1 : x > y;
}

/* First fit among the loaded ranges; UINT32_MAX when no gap holds n rows. */
static uint32_t first_fit(struct unwinder *u, uint32_t n, uint32_t *order)
{
	uint32_t k = 0, at = 0;

	for (uint32_t i = 0; i < UNWIND_MAX_TABLES; i++)
		if (u->bins[i].used && u->bins[i].row_count)
			order[k++] = i;
	qsort_r(order, k, sizeof(*order), cmp_start, u->bins);
	for (uint32_t i = 0; i < k; i++) {
		const struct unwind_bin *b = &u->bins[order[i]];

		if (b->row_start - at >= n)
			return at;
		at = b->row_start + b->row_count;
	}
	return u->rows_total - at >= n ? at : UINT32_MAX;
}

static bool evict_one(struct unwinder *u, uint32_t keep)
{
	struct unwind_bin *lru = NULL;
	struct unwind_table none = { 0 };
	uint32_t lru_id = 0;

	for (uint32_t i = 0; i < UNWIND_MAX_TABLES; i++) {
		struct unwind_bin *b = &u->bins[i];

		if (i != keep && b->used && b->row_count && !b->refs &&
		    (!lru || b->last_use < lru->last_use)) {
			lru = b;
			lru_id = i;
		}
	}
	if (!lru)
		return false;
	/* Unpublish first: the BPF side stops using the range before it is reused. */
	bpf_map_update_elem(u->tables_fd, &lru_id, &none, BPF_ANY);
	u->st.rows_used -= lru->row_count;
	lru->row_count = 0;
	u->st.evictions++;
	u->st.tables_loaded--;
	return true;
}

static uint32_t alloc_rows(struct unwinder *u, uint32_t id, uint32_t n)
{
	uint32_t *order = calloc(UNWIND_MAX_TABLES, sizeof(*order)), at = UINT32_MAX;

	if (!order)
		return UINT32_MAX;
	if (n <= u->rows_total) {
		while ((at = first_fit(u, n, order)) == UINT32_MAX)
			if (!evict_one(u, id))
				break;
	}
	free(order);
	return at;
}

static int upload(struct unwinder *u, uint32_t at, const struct cfi_rows *r)
{
	uint32_t *keys = malloc(UPLOAD_CHUNK * sizeof(*keys)), count;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t done = 0; done < r->n && !err; done += count) {
		count = r->n - done < UPLOAD_CHUNK ? r->n - done : UPLOAD_CHUNK;
		for (uint32_t i = 0; i < count; i++)
			keys[i] = at + done + i;
		if (bpf_map_update_batch(u->rows_fd, keys, r->rows + done, &count, NULL))
			err = -errno;
	}
	free(keys);
	return err;
}

/* Puts rows of b in the kernel and publishes its table entry. */
static int load_rows(struct unwinder *u, struct unwind_bin *b, uint32_t id,
		     const struct cfi_rows *r)
{
	struct unwind_table t;
	uint32_t at = alloc_rows(u, id, r->n);
	int err;

	if (at == UINT32_MAX) {
		u->st.not_loaded++;
		return -ENOSPC;
	}
	err = upload(u, at, r);
	if (err)
		return err;
	t.row_start = at;
	t.row_count = r->n;
	if (bpf_map_update_elem(u->tables_fd, &id, &t, BPF_ANY))
		return -errno;
	b->row_start = at;
	b->row_count = r->n;
	u->st.rows_used += r->n;
	u->st.tables_loaded++;
	return 0;
}

static void read_loads(Elf *elf, struct unwind_bin *b)
{
	GElf_Phdr ph;
	size_t n;

	b->n_loads = 0;
	if (elf_getphdrnum(elf, &n))
		return;
	for (size_t i = 0; i < n && b->n_loads < UNWIND_MAX_LOADS; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		b->loads[b->n_loads++] =
			(struct unwind_load){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
}

/* Compiles elf's CFI into b and loads it; a binary without CFI is remembered as such. */
static int compile_bin(struct unwinder *u, struct unwind_bin *b, uint32_t id, Elf *elf)
{
	struct cfi_rows rows = { 0 };
	uint64_t t0 = mono_ns();
	int err;

	read_loads(elf, b);
	err = cfi__compile(elf, &rows);
	u->st.compile_ns += mono_ns() - t0;
	u->st.fdes_rejected += rows.rejected;
	if (err == -ENOMEM)
		return err;
	if (err) {
		/* Over budget or no CFI: frame pointers only, never compiled again. */
		b->no_cfi = true;
		if (err == -E2BIG)
			u->st.over_budget++;
		else
			u->st.no_cfi++;
		return 0;
	}
	err = load_rows(u, b, id, &rows);
	cfi_rows__free(&rows);
	return err == -ENOSPC ? 0 : err;
}

static void bid_key(Elf *elf, const struct stat *st, char *key, size_t size)
{
	uint8_t bid[ELFSYM_BUILD_ID_MAX];
	int n = elfsym__read_build_id(elf, bid);
	size_t at;

	if (n <= 0) {
		snprintf(key, size, "f:%ju:%ju:%jd:%jd", (uintmax_t)st->st_dev,
			 (uintmax_t)st->st_ino, (intmax_t)st->st_size, (intmax_t)st->st_mtime);
		return;
	}
	at = snprintf(key, size, "b:");
	for (int i = 0; i < n && at + 3 <= size; i++)
		at += snprintf(key + at, size - at, "%02x", bid[i]);
}

/* Finds or creates the binary of elf under key; loads its rows if they are not in. */
static int bin_of_elf(struct unwinder *u, Elf *elf, const char *key, const struct stat *st,
		      uint32_t *id)
{
	struct unwind_bin *b = find_by_key(u, key, id);
	int err = 0;

	if (!b) {
		b = new_bin(u, id);
		if (!b)
			return -ENOSPC;
		b->used = true;
		snprintf(b->key, sizeof(b->key), "%s", key);
		u->st.binaries++;
		err = compile_bin(u, b, *id, elf);
	} else if (!b->no_cfi && !b->row_count) {
		err = compile_bin(u, b, *id, elf); /* evicted earlier: needed again */
	}
	if (st) {
		b->dev = st->st_dev;
		b->ino = st->st_ino;
		b->size = st->st_size;
		b->mtime = st->st_mtime;
	}
	b->last_use = ++u->tick;
	return err;
}

int unwind_bin__from_fd(struct unwinder *u, int fd, uint32_t *id)
{
	struct unwind_bin *b;
	struct stat st;
	char key[80];
	Elf *elf;
	int err;

	if (fstat(fd, &st))
		return -errno;
	b = find_by_stat(u, &st, id);
	if (b && (b->no_cfi || b->row_count)) {
		b->last_use = ++u->tick;
		return 0;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -EINVAL;
	bid_key(elf, &st, key, sizeof(key));
	err = bin_of_elf(u, elf, key, &st, id);
	elf_end(elf);
	return err;
}

int unwind_bin__from_image(struct unwinder *u, const void *img, size_t size, const char *key,
			   uint32_t *id)
{
	struct unwind_bin *b = find_by_key(u, key, id);
	Elf *elf;
	int err;

	if (b && (b->no_cfi || b->row_count)) {
		b->last_use = ++u->tick;
		return 0;
	}
	elf = elf_memory((char *)img, size);
	if (!elf)
		return -EINVAL;
	err = bin_of_elf(u, elf, key, NULL, id);
	elf_end(elf);
	return err;
}

void unwind_bin__ref(struct unwinder *u, uint32_t id)
{
	if (id < UNWIND_MAX_TABLES)
		u->bins[id].refs++;
}

void unwind_bin__unref(struct unwinder *u, uint32_t id)
{
	if (id < UNWIND_MAX_TABLES && u->bins[id].refs)
		u->bins[id].refs--;
}

int unwind_bin__bias(const struct unwinder *u, uint32_t id, uint64_t start, uint64_t off,
		     uint64_t *bias)
{
	const struct unwind_bin *b = &u->bins[id];

	for (uint32_t i = 0; i < b->n_loads; i++) {
		const struct unwind_load *l = &b->loads[i];
		uint64_t lo = l->off & ~0xfffULL;

		if (off >= lo && off < l->off + l->filesz) {
			*bias = start - off + l->off - l->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

static struct bpf_map *map_of(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		errno = ENOENT;
	return m;
}

int unwinder__prepare(struct bpf_object *obj, const struct unwinder_opts *opts)
{
	size_t mb = opts && opts->table_mb ? opts->table_mb : UNWIND_DEFAULT_TABLE_MB;
	uint64_t rows = (uint64_t)mb * 1024 * 1024 / sizeof(struct unwind_row);
	struct bpf_map *m = map_of(obj, "unwind_rows");

	if (!m)
		return -ENOENT;
	if (rows > UINT32_MAX / 2)
		rows = UINT32_MAX / 2;
	return bpf_map__set_max_entries(m, rows ?: 1);
}

static const char *const shared_maps[] = {
	"unwind_rows", "unwind_tables", "unwind_procs", "unwind_events", "unwind_stats",
};

int unwinder__share(struct unwinder *u, struct bpf_object *obj)
{
	for (size_t i = 0; i < sizeof(shared_maps) / sizeof(shared_maps[0]); i++) {
		struct bpf_map *mine = map_of(u->obj, shared_maps[i]);
		struct bpf_map *theirs = map_of(obj, shared_maps[i]);
		int err;

		if (!mine || !theirs)
			return -ENOENT;
		err = bpf_map__reuse_fd(theirs, bpf_map__fd(mine));
		if (err)
			return err;
	}
	return 0;
}

static int bind_maps(struct unwinder *u, struct bpf_object *obj)
{
	struct bpf_map *m[5];

	for (size_t i = 0; i < 5; i++) {
		m[i] = map_of(obj, shared_maps[i]);
		if (!m[i])
			return -ENOENT;
	}
	u->obj = obj;
	u->rows_fd = bpf_map__fd(m[0]);
	u->rows_total = bpf_map__max_entries(m[0]);
	u->tables_fd = bpf_map__fd(m[1]);
	u->procs_fd = bpf_map__fd(m[2]);
	u->events_fd = bpf_map__fd(m[3]);
	u->stats_fd = bpf_map__fd(m[4]);
	return 0;
}

struct unwinder *unwinder__new(struct bpf_object *obj, const struct unwinder_opts *opts)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	int err = -ENOMEM;

	(void)opts;
	if (!u)
		goto fail;
	u->bins = calloc(UNWIND_MAX_TABLES, sizeof(*u->bins));
	u->scratch = calloc(1, sizeof(*u->scratch));
	if (!u->bins || !u->scratch)
		goto fail;
	u->n_cpus = libbpf_num_possible_cpus();
	if (u->n_cpus <= 0 || !elfsym__init_libelf()) {
		err = -EINVAL;
		goto fail;
	}
	err = bind_maps(u, obj);
	if (err)
		goto fail;
	u->st.rows_total = u->rows_total;
	return u;
fail:
	unwinder__free(u);
	errno = -err;
	return NULL;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	unwind_pids__free(u);
	free(u->bins);
	free(u->scratch);
	free(u);
}

int unwinder__events_fd(const struct unwinder *u)
{
	return u->events_fd;
}

static void read_bpf_stats(struct unwinder *u, uint64_t sums[UNWIND_STAT_MAX])
{
	uint64_t *vals = calloc(u->n_cpus, sizeof(*vals));

	for (uint32_t k = 0; vals && k < UNWIND_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(u->stats_fd, &k, vals))
			continue;
		for (int cpu = 0; cpu < u->n_cpus; cpu++)
			sums[k] += vals[cpu];
	}
	free(vals);
}

void unwinder__stats(struct unwinder *u, struct unwinder_stats *out)
{
	uint64_t sums[UNWIND_STAT_MAX] = { 0 };

	read_bpf_stats(u, sums);
	*out = u->st;
	memcpy(out->reasons, sums, sizeof(out->reasons));
	out->frames = sums[UNWIND_STAT_FRAMES];
	out->fp_frames = sums[UNWIND_STAT_FP_FRAMES];
	out->notices = sums[UNWIND_STAT_NOTICE];
	out->notice_drops = sums[UNWIND_STAT_NOTICE_DROP];
	out->collisions = sums[UNWIND_STAT_COLLIDE];
	out->stack_drops = sums[UNWIND_STAT_STACK_DROP];
	out->table_bytes = u->st.rows_used * sizeof(struct unwind_row);
}

const char *unwind_reason__name(uint32_t reason)
{
	static const char *const names[UNWIND_REASON_MAX] = {
		"none", "no_table", "table_not_loaded", "bad_read", "depth_limit",
	};

	return reason < UNWIND_REASON_MAX ? names[reason] : "unknown";
}
