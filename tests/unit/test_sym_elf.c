// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * elfsym against binaries compiled here: names and addresses are checked
 * against nm and readelf, not against our own parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "symbolizer/elfsym.h"
#include "util/safefile.h"

static const char fx_src[] = "#include <stdio.h>\n"
			     "volatile int sink;\n"
			     "__attribute__((noinline)) int fx_alpha(int x)\n" /* line 3 */
			     "{\n"
			     "	for (int i = 0; i < x * 3; i++)\n"
			     "		sink += i * x;\n"
			     "	return sink;\n"
			     "}\n"
			     "__attribute__((noinline)) int fx_beta(int x)\n" /* line 9 */
			     "{\n"
			     "	for (int i = 0; i < x; i++)\n"
			     "		sink ^= i + x;\n"
			     "	return sink + 1;\n"
			     "}\n"
			     "__attribute__((noinline)) static int fx_gamma(int x)\n" /* line 15 */
			     "{\n"
			     "	for (int i = 0; i < x; i++)\n"
			     "		sink -= i;\n"
			     "	return sink * 2;\n"
			     "}\n"
			     "int main(int argc, char **argv)\n"
			     "{\n"
			     "	(void)argv;\n"
			     "	return fx_alpha(argc) + fx_beta(argc) + fx_gamma(argc);\n"
			     "}\n";

static const char lib_src[] = "volatile int lsink;\n"
			      "__attribute__((noinline)) int lib_one(int x)\n"
			      "{\n"
			      "	for (int i = 0; i < x; i++)\n"
			      "		lsink += i;\n"
			      "	return lsink;\n"
			      "}\n"
			      "int lib_two(int x) { return lib_one(x) * 3 + lsink; }\n";

static char tmp[64];

static void sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char path[PATH_MAX];

	(void)state;
	strcpy(tmp, "/tmp/test_sym_elf.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(path, sizeof(path), "%s/fx.c", tmp);
	write_file(path, fx_src);
	snprintf(path, sizeof(path), "%s/lib.c", tmp);
	write_file(path, lib_src);
	sh("cd %s && gcc -g -O1 -pie -fPIE -o pie fx.c && gcc -g -O1 -no-pie -o nopie fx.c && "
	   "gcc -g -O1 -shared -fPIC -o libfx.so lib.c",
	   tmp);
	/* A stripped copy with a debuglink, its debug file beside, in .debug/, wrong CRC. */
	sh("cd %s && objcopy --only-keep-debug pie pie.debug && "
	   "strip -g -s pie -o stripped.tmp && "
	   "mkdir -p beside dotdebug/.debug badcrc rootdir/fake/dir empty dbgroot && "
	   "objcopy --add-gnu-debuglink=pie.debug stripped.tmp beside/stripped && "
	   "cp pie.debug beside/ && cp beside/stripped dotdebug/ && cp pie.debug dotdebug/.debug/ "
	   "&& "
	   "cp beside/stripped badcrc/ && cp pie.debug badcrc/ && printf x >> badcrc/pie.debug && "
	   "cp pie.debug rootdir/fake/dir/ && "
	   "strip -s -R .gnu_debuglink beside/stripped -o nolink",
	   tmp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmp);
	return 0;
}

/* The value and size nm reports for name in path, 0 when absent. */
static uint64_t nm_addr(const char *path, const char *name, uint64_t *size)
{
	char cmd[PATH_MAX + 64], line[512], sym[256], type;
	uint64_t addr = 0, a, sz;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %255s", &a, &sz, &type, sym) == 4 &&
		    !strcmp(sym, name)) {
			addr = a;
			*size = sz;
		}
	}
	pclose(p);
	return addr;
}

/* The file offset of vaddr through the PT_LOAD lines of readelf -lW. */
static uint64_t readelf_offset(const char *path, uint64_t vaddr)
{
	char cmd[PATH_MAX + 64], line[512], type[32];
	uint64_t off, va, pa, filesz, res = UINT64_MAX;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " %31s %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, type, &off,
			   &va, &pa, &filesz) == 5 &&
		    !strcmp(type, "LOAD") && vaddr >= va && vaddr < va + filesz)
			res = vaddr - va + off;
	}
	pclose(p);
	assert_true(res != UINT64_MAX);
	return res;
}

static void readelf_build_id(const char *path, char *hex, size_t size)
{
	char cmd[PATH_MAX + 64], line[512];
	FILE *p;

	hex[0] = '\0';
	snprintf(cmd, sizeof(cmd), "readelf -n %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " Build ID: %127s", hex) == 1)
			break;
	}
	pclose(p);
	assert_true(strlen(hex) > 2 && strlen(hex) < size);
}

/* The line addr2line (binutils, not libdw) gives for addr. */
static int addr2line(const char *bin, uint64_t addr)
{
	char cmd[PATH_MAX + 64], line[PATH_MAX], *colon;
	int lno = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "addr2line -e %s/%s 0x%" PRIx64, tmp, bin, addr);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(line, sizeof(line), p)) {
		colon = strrchr(line, ':');
		lno = colon ? atoi(colon + 1) : -1;
	}
	pclose(p);
	assert_true(lno > 0);
	return lno;
}

struct loaded {
	int fd;
	Elf *elf;
	struct elfsym *es;
};

static void load(struct loaded *l, const char *rel, const struct elfsym_opts *o)
{
	char path[PATH_MAX];

	assert_true(elfsym__init_libelf());
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	l->fd = open(path, O_RDONLY);
	assert_true(l->fd >= 0);
	l->elf = elf_begin(l->fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(l->elf);
	l->es = elfsym__load(l->elf, l->fd, o);
	assert_non_null(l->es);
}

static void unload(struct loaded *l)
{
	elfsym__free(l->es);
	elf_end(l->elf);
	close(l->fd);
}

/* file offset -> vaddr -> name at the start, middle and last byte of name. */
static void check_roundtrip(const struct elfsym *es, const char *bin, const char *name)
{
	char path[PATH_MAX];
	uint64_t addr, size, vaddr, start, probes[3];

	snprintf(path, sizeof(path), "%s/%s", tmp, bin);
	addr = nm_addr(path, name, &size);
	assert_true(addr != 0);
	assert_true(size > 2);
	probes[0] = addr;
	probes[1] = addr + size / 2;
	probes[2] = addr + size - 1;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    elfsym__offset_to_vaddr(es, readelf_offset(path, probes[i]), &vaddr), 0);
		assert_int_equal(vaddr, probes[i]);
		assert_string_equal(elfsym__find(es, vaddr, &start), name);
		assert_int_equal(start, addr);
	}
	/* the byte after a sized function is not that function */
	assert_true(!elfsym__find(es, addr + size, NULL) ||
		    strcmp(elfsym__find(es, addr + size, NULL), name));
	assert_int_equal(elfsym__addr_of(es, name, &start), 0);
	assert_int_equal(start, addr);
}

static void check_build_id(const struct elfsym *es, const char *bin)
{
	char path[PATH_MAX], want[128], got[128] = "";
	const uint8_t *bid;
	size_t len = elfsym__build_id(es, &bid);

	snprintf(path, sizeof(path), "%s/%s", tmp, bin);
	readelf_build_id(path, want, sizeof(want));
	for (size_t i = 0; i < len; i++)
		sprintf(got + 2 * i, "%02x", bid[i]);
	assert_string_equal(got, want);
}

static void check_fixture(const char *bin, const struct elfsym_opts *o, const char *symbols_from)
{
	struct loaded l;

	load(&l, bin, o);
	assert_true(elfsym__nr_syms(l.es) > 3);
	check_roundtrip(l.es, symbols_from, "fx_alpha");
	check_roundtrip(l.es, symbols_from, "fx_beta");
	check_roundtrip(l.es, symbols_from, "fx_gamma");
	check_roundtrip(l.es, symbols_from, "main");
	check_build_id(l.es, bin);
	assert_null(elfsym__find(l.es, 0x10, NULL));
	unload(&l);
}

static void test_pie(void **state)
{
	(void)state;
	check_fixture("pie", NULL, "pie");
}

static void test_nopie(void **state)
{
	char path[PATH_MAX];
	uint64_t size;

	(void)state;
	snprintf(path, sizeof(path), "%s/nopie", tmp);
	/* a non-zero p_vaddr: the executable is linked at 0x400000 */
	assert_true(nm_addr(path, "fx_alpha", &size) >= 0x400000);
	check_fixture("nopie", NULL, "nopie");
}

static void test_shared_lib(void **state)
{
	struct loaded l;

	(void)state;
	load(&l, "libfx.so", NULL);
	check_roundtrip(l.es, "libfx.so", "lib_one");
	check_roundtrip(l.es, "libfx.so", "lib_two");
	check_build_id(l.es, "libfx.so");
	unload(&l);
}

static void test_srcline(void **state)
{
	char path[PATH_MAX];
	uint64_t addr, size;
	const char *file;
	struct loaded l;
	int line;

	(void)state;
	snprintf(path, sizeof(path), "%s/pie", tmp);
	load(&l, "pie", NULL);
	addr = nm_addr(path, "fx_beta", &size);
	assert_int_equal(elfsym__srcline(l.es, addr, &file, &line), 0);
	assert_non_null(strstr(file, "fx.c"));
	assert_int_equal(line, addr2line("pie", addr));
	assert_true(line >= 9 && line <= 14);
	addr = nm_addr(path, "fx_gamma", &size);
	assert_int_equal(elfsym__srcline(l.es, addr + size / 2, &file, &line), 0);
	assert_int_equal(line, addr2line("pie", addr + size / 2));
	assert_true(line >= 15 && line <= 20);
	assert_int_equal(elfsym__srcline(l.es, 0x10, &file, &line), -ENOENT);
	unload(&l);
}

static void test_debuglink_beside(void **state)
{
	char dir[PATH_MAX];
	struct elfsym_opts o = {.dir = dir};
	struct loaded l;
	const char *file;
	uint64_t addr, size;
	int line;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/beside", tmp);
	load(&l, "beside/stripped", &o);
	assert_non_null(elfsym__debug_path(l.es));
	assert_non_null(strstr(elfsym__debug_path(l.es), "beside/pie.debug"));
	unload(&l);
	check_fixture("beside/stripped", &o, "pie");

	/* DWARF comes from the debug file too */
	load(&l, "beside/stripped", &o);
	snprintf(dir, sizeof(dir), "%s/pie", tmp);
	addr = nm_addr(dir, "fx_alpha", &size);
	assert_int_equal(elfsym__srcline(l.es, addr, &file, &line), 0);
	assert_int_equal(line, addr2line("pie", addr));
	assert_true(line >= 3 && line <= 8);
	unload(&l);
}

static void test_debuglink_dot_debug(void **state)
{
	char dir[PATH_MAX];
	struct elfsym_opts o = {.dir = dir};
	struct loaded l;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/dotdebug", tmp);
	load(&l, "dotdebug/stripped", &o);
	assert_non_null(strstr(elfsym__debug_path(l.es), "dotdebug/.debug/pie.debug"));
	unload(&l);
	check_fixture("dotdebug/stripped", &o, "pie");
}

static void test_debuglink_under_root(void **state)
{
	char dir[PATH_MAX], root[PATH_MAX];
	struct elfsym_opts o = {.dir = dir, .dir_ns = "/fake/dir", .debug_root = root};
	struct loaded l;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/empty", tmp);
	snprintf(root, sizeof(root), "%s/rootdir", tmp);
	sh("cp %s/beside/stripped %s/empty/", tmp, tmp);
	load(&l, "empty/stripped", &o);
	assert_non_null(strstr(elfsym__debug_path(l.es), "rootdir/fake/dir/pie.debug"));
	unload(&l);
	check_fixture("empty/stripped", &o, "pie");
	sh("rm %s/empty/stripped", tmp);
}

static void test_debuglink_bad_crc(void **state)
{
	char dir[PATH_MAX];
	struct elfsym_opts o = {.dir = dir};
	struct loaded l;
	uint64_t addr, size;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/pie", tmp);
	addr = nm_addr(dir, "fx_gamma", &size);
	snprintf(dir, sizeof(dir), "%s/badcrc", tmp);
	load(&l, "badcrc/stripped", &o);
	assert_null(elfsym__debug_path(l.es));
	/* only .dynsym is left, where a static function is not */
	assert_true(!elfsym__find(l.es, addr, NULL) ||
		    strcmp(elfsym__find(l.es, addr, NULL), "fx_gamma"));
	assert_int_equal(elfsym__addr_of(l.es, "fx_gamma", &addr), -ENOENT);
	unload(&l);
}

/*
 * A stripped binary whose debuglink target is /dev/zero or a FIFO, beside
 * it or under the debug root: refused at once, counted. The
 * CRC of /dev/zero never ended and open() of a FIFO blocked: the alarm
 * turns either into a failure.
 */
static void check_hostile_debuglink(const char *sub, const char *make_target, bool under_root)
{
	char dir[PATH_MAX], root[PATH_MAX], rel[PATH_MAX];
	struct safefile_stats before, after;
	struct elfsym_opts o = {.dir = dir};
	struct loaded l;

	safefile__stats(&before);
	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	snprintf(root, sizeof(root), "%s/%s.root", tmp, sub);
	if (under_root) {
		sh("mkdir -p %s/fake/hostile %s && cp %s/beside/stripped %s/", root, dir, tmp, dir);
		sh("cd %s/fake/hostile && %s pie.debug", root, make_target);
		o.debug_root = root;
		o.dir_ns = "/fake/hostile";
	} else {
		sh("mkdir -p %s && cp %s/beside/stripped %s/ && cd %s && %s pie.debug", dir, tmp,
		   dir, dir, make_target);
	}
	snprintf(rel, sizeof(rel), "%s/stripped", sub);
	alarm(20);
	load(&l, rel, &o);
	alarm(0);
	assert_null(elfsym__debug_path(l.es));
	unload(&l);
	safefile__stats(&after);
	assert_true(after.refused > before.refused);
}

static void test_debuglink_dev_zero(void **state)
{
	(void)state;
	check_hostile_debuglink("zero_beside", "ln -s /dev/zero", false);
	check_hostile_debuglink("zero_root", "ln -s /dev/zero", true);
}

static void test_debuglink_fifo(void **state)
{
	(void)state;
	check_hostile_debuglink("fifo_beside", "mkfifo", false);
	check_hostile_debuglink("fifo_root", "mkfifo", true);
}

static void bid_path(const char *bin, char *path, size_t size)
{
	char exe[PATH_MAX], hex[128];

	snprintf(exe, sizeof(exe), "%s/%s", tmp, bin);
	readelf_build_id(exe, hex, sizeof(hex));
	snprintf(path, size, "%s/dbgroot/.build-id/%.2s/%s.debug", tmp, hex, hex + 2);
}

static void test_build_id_path(void **state)
{
	char root[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
	struct elfsym_opts o = {.dir = dir, .debug_root = root};
	struct loaded l;

	(void)state;
	snprintf(root, sizeof(root), "%s/dbgroot", tmp);
	snprintf(dir, sizeof(dir), "%s/empty", tmp);
	bid_path("nolink", path, sizeof(path));
	sh("mkdir -p $(dirname %s) && cp %s/pie.debug %s", path, tmp, path);
	load(&l, "nolink", &o);
	assert_string_equal(elfsym__debug_path(l.es), path);
	unload(&l);
	check_fixture("nolink", &o, "pie");

	/* a debug file whose build-id differs is not taken */
	sh("objcopy --only-keep-debug %s/nopie %s", tmp, path);
	load(&l, "nolink", &o);
	assert_null(elfsym__debug_path(l.es));
	unload(&l);
	sh("rm -rf %s/.build-id", root);
}

static void test_no_symbols_found(void **state)
{
	struct loaded l;
	uint64_t addr;

	(void)state;
	/* no debuglink, no build-id file: .dynsym only, but still a valid table */
	load(&l, "nolink", NULL);
	assert_null(elfsym__debug_path(l.es));
	assert_int_equal(elfsym__addr_of(l.es, "fx_alpha", &addr), -ENOENT);
	assert_true(elfsym__bytes(l.es) > 0);
	unload(&l);
}

static void test_vdso_image(void **state)
{
	const Elf64_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct elfsym *es;
	uint64_t addr, vaddr;

	(void)state;
	if (!eh)
		skip();
	es = elfsym__load_image(eh, eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize);
	assert_non_null(es);
	assert_int_equal(elfsym__addr_of(es, "__vdso_clock_gettime", &addr), 0);
	assert_int_equal(elfsym__offset_to_vaddr(es, addr + 1, &vaddr), 0);
	assert_string_equal(elfsym__find(es, vaddr, NULL), "__vdso_clock_gettime");
	elfsym__free(es);
}

static void test_null_safe(void **state)
{
	const uint8_t *bid;

	(void)state;
	elfsym__free(NULL);
	assert_null(elfsym__find(NULL, 1, NULL));
	assert_int_equal(elfsym__build_id(NULL, &bid), 0);
	assert_int_equal(elfsym__read_build_id(NULL, NULL), -EINVAL);
	assert_null(elfsym__load(NULL, -1, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pie),
	    cmocka_unit_test(test_nopie),
	    cmocka_unit_test(test_shared_lib),
	    cmocka_unit_test(test_srcline),
	    cmocka_unit_test(test_debuglink_beside),
	    cmocka_unit_test(test_debuglink_dot_debug),
	    cmocka_unit_test(test_debuglink_under_root),
	    cmocka_unit_test(test_debuglink_bad_crc),
	    cmocka_unit_test(test_debuglink_dev_zero),
	    cmocka_unit_test(test_debuglink_fifo),
	    cmocka_unit_test(test_build_id_path),
	    cmocka_unit_test(test_no_symbols_found),
	    cmocka_unit_test(test_vdso_image),
	    cmocka_unit_test(test_null_safe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
