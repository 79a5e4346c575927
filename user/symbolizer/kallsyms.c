// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elf.h>

#include "symbolizer/kallsyms.h"

#define NO_MODULE UINT32_MAX

struct ksym {
	uint64_t addr;
	uint32_t name;
	uint32_t module; /* offset in names, or NO_MODULE */
	uint32_t line;	 /* input order, so that duplicates resolve stably */
	uint8_t global;
};

struct kallsyms {
	struct ksym *syms;
	size_t nr, cap;
	char *names;
	size_t names_len, names_cap;
	size_t nr_zero;
};

/* A parsed line; the strings point into the line. */
struct kline {
	uint64_t addr;
	char type;
	const char *name, *module;
};

static int kline__parse(char *line, struct kline *kl)
{
	char *save = NULL, *tok, *mod;

	tok = strtok_r(line, " \t\n", &save);
	if (!tok)
		return -EINVAL;
	kl->addr = strtoull(tok, NULL, 16);
	tok = strtok_r(NULL, " \t\n", &save);
	if (!tok || tok[1])
		return -EINVAL;
	kl->type = tok[0];
	kl->name = strtok_r(NULL, " \t\n", &save);
	if (!kl->name)
		return -EINVAL;
	kl->module = NULL;
	mod = strtok_r(NULL, " \t\n", &save);
	if (mod && mod[0] == '[') {
		mod[strcspn(mod, "]")] = '\0';
		kl->module = mod + 1;
	}
	return 0;
}

static bool ktype__is_text(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

static long names__add(struct kallsyms *k, const char *s)
{
	size_t len = strlen(s) + 1, off = k->names_len;
	char *p;

	if (off + len > UINT32_MAX - 1)
		return -E2BIG;
	if (off + len > k->names_cap) {
		size_t ncap = k->names_cap ? k->names_cap * 2 : 64 * 1024;

		while (ncap < off + len)
			ncap *= 2;
		p = realloc(k->names, ncap);
		if (!p)
			return -ENOMEM;
		k->names = p;
		k->names_cap = ncap;
	}
	memcpy(k->names + off, s, len);
	k->names_len += len;
	return off;
}

/* Module names repeat on every line of a module: reuse the last one. */
static long names__add_module(struct kallsyms *k, const char *mod, long *last)
{
	if (!mod)
		return NO_MODULE;
	if (*last >= 0 && !strcmp(k->names + *last, mod))
		return *last;
	*last = names__add(k, mod);
	return *last;
}

static int kallsyms__push(struct kallsyms *k, const struct kline *kl, long *last_mod)
{
	long name, mod;
	struct ksym *p;

	if (k->nr == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 4096;

		p = realloc(k->syms, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->syms = p;
		k->cap = ncap;
	}
	name = names__add(k, kl->name);
	mod = names__add_module(k, kl->module, last_mod);
	if (name < 0 || mod < 0)
		return name < 0 ? name : mod;
	k->syms[k->nr] = (struct ksym){
	    .addr = kl->addr,
	    .name = name,
	    .module = mod,
	    .line = k->nr,
	    .global = kl->type == 'T' || kl->type == 'W',
	};
	k->nr++;
	return 0;
}

static int ksym__cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->global != y->global)
		return x->global ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorted, one symbol per address (global first, then the first listed). */
static void kallsyms__sort(struct kallsyms *k)
{
	size_t i, n = 0;

	qsort(k->syms, k->nr, sizeof(*k->syms), ksym__cmp);
	for (i = 0; i < k->nr; i++) {
		if (n && k->syms[n - 1].addr == k->syms[i].addr)
			continue;
		k->syms[n++] = k->syms[i];
	}
	k->nr = n;
}

static int kallsyms__fill(struct kallsyms *k, FILE *f)
{
	size_t lcap = 0;
	long last_mod = -1;
	char *line = NULL;
	struct kline kl;
	int err = 0;

	while (getline(&line, &lcap, f) > 0) {
		if (kline__parse(line, &kl) || !ktype__is_text(kl.type))
			continue;
		if (!kl.addr) {
			k->nr_zero++;
			continue;
		}
		err = kallsyms__push(k, &kl, &last_mod);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	return err;
}

struct kallsyms *kallsyms__load(const char *path)
{
	struct kallsyms *k = NULL;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	err = -ENOMEM;
	k = calloc(1, sizeof(*k));
	if (!k)
		goto out;
	err = kallsyms__fill(k, f);
	if (!err && !k->nr)
		err = k->nr_zero ? -EPERM : -ENOENT;
	if (!err)
		kallsyms__sort(k);
out:
	fclose(f);
	if (err) {
		kallsyms__free(k);
		errno = -err;
		return NULL;
	}
	return k;
}

void kallsyms__free(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

const char *kallsyms__find(const struct kallsyms *k, uint64_t addr, const char **module,
			   uint64_t *start)
{
	size_t lo = 0, hi, mid;
	const struct ksym *s;

	if (!k)
		return NULL;
	hi = k->nr;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &k->syms[lo - 1];
	/* No sizes in kallsyms: the last symbol covers only a bounded tail. */
	if (lo == k->nr && addr - s->addr >= KALLSYMS_TAIL)
		return NULL;
	if (module)
		*module = s->module == NO_MODULE ? NULL : k->names + s->module;
	if (start)
		*start = s->addr;
	return k->names + s->name;
}

int kallsyms__addr_of(const struct kallsyms *k, const char *name, uint64_t *addr)
{
	size_t i;

	for (i = 0; k && i < k->nr; i++) {
		if (!strcmp(k->names + k->syms[i].name, name)) {
			*addr = k->syms[i].addr;
			return 0;
		}
	}
	return -ENOENT;
}

size_t kallsyms__nr(const struct kallsyms *k)
{
	return k ? k->nr : 0;
}

size_t kallsyms__nr_zero(const struct kallsyms *k)
{
	return k ? k->nr_zero : 0;
}

size_t kallsyms__bytes(const struct kallsyms *k)
{
	return k ? sizeof(*k) + k->cap * sizeof(*k->syms) + k->names_cap : 0;
}

static void hex__format(const uint8_t *p, size_t n, char *hex, size_t size)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < size; i++)
		sprintf(hex + 2 * i, "%02x", p[i]);
}

/* Walks raw ELF notes (4-byte aligned name and desc) for NT_GNU_BUILD_ID. */
static int notes__find_build_id(const uint8_t *buf, size_t len, char *hex, size_t size)
{
	size_t off = 0, name_sz, desc_sz;
	Elf64_Nhdr nh;

	while (off + sizeof(nh) <= len) {
		memcpy(&nh, buf + off, sizeof(nh));
		off += sizeof(nh);
		name_sz = (nh.n_namesz + 3) & ~3u;
		desc_sz = (nh.n_descsz + 3) & ~3u;
		if (name_sz > len - off || desc_sz > len - off - name_sz)
			break;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(buf + off, "GNU", 4) && 2 * nh.n_descsz < size) {
			hex__format(buf + off + name_sz, nh.n_descsz, hex, size);
			return 0;
		}
		off += name_sz + desc_sz;
	}
	return -ENOENT;
}

int kallsyms__kernel_build_id(const char *notes_path, char *hex, size_t size)
{
	uint8_t buf[4096];
	ssize_t n;
	int fd, err;

	if (!size)
		return -EINVAL;
	hex[0] = '\0';
	fd = open(notes_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	err = n < 0 ? -errno : notes__find_build_id(buf, n, hex, size);
	close(fd);
	return err;
}
