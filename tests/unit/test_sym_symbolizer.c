// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The symbolizer end to end on live processes: children that print the
 * addresses of their own functions, then sleep until killed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolizer/symbolizer.h"

static const char fx_src[] =
    "#include <stdio.h>\n"
    "#include <unistd.h>\n"
    "volatile int sink;\n"
    "__attribute__((noinline)) int fx_alpha(int x)\n"
    "{\n"
    "	for (int i = 0; i < x * 3; i++)\n"
    "		sink += i * x;\n"
    "	return sink;\n"
    "}\n"
    "__attribute__((noinline)) int fx_beta(int x)\n"
    "{\n"
    "	for (int i = 0; i < x; i++)\n"
    "		sink ^= i + x;\n"
    "	return sink + 1;\n"
    "}\n"
    "int main(void)\n"
    "{\n"
    "	printf(\"%lx %lx\\n\", (unsigned long)fx_alpha, (unsigned long)fx_beta);\n"
    "	fflush(stdout);\n"
    "	for (;;)\n"
    "		pause();\n"
    "}\n";

static char tmp[64];

struct child {
	pid_t pid;
	uint64_t alpha, beta;
	uint64_t getpid; /* of its libc, 0 for static binaries */
};

/* Children still running, killed after each test even when it failed. */
static pid_t running[16];

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
	char path[128];
	FILE *f;

	(void)state;
	strcpy(tmp, "/tmp/test_sym_e2e.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(path, sizeof(path), "%s/fx.c", tmp);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(fx_src, f);
	if (fclose(f))
		return -1;
	sh("cd %s && gcc -g -O1 -o fx fx.c && mkdir root && gcc -static -O1 -o root/fixture fx.c",
	   tmp);
	/* a stripped static binary whose debug file sits beside it */
	sh("cd %s && mkdir nsbin mnt && gcc -static -g -O1 -o static fx.c && "
	   "objcopy --only-keep-debug static nsbin/fixture.debug && strip -g -s static -o s.tmp && "
	   "objcopy --add-gnu-debuglink=nsbin/fixture.debug s.tmp nsbin/fixture",
	   tmp);
	return 0;
}

static void children__kill(void)
{
	for (size_t i = 0; i < sizeof(running) / sizeof(*running); i++) {
		if (running[i] > 0) {
			kill(running[i], SIGKILL);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
		}
	}
}

static int test_teardown(void **state)
{
	(void)state;
	children__kill();
	return 0;
}

static void children__add(pid_t pid)
{
	for (size_t i = 0; i < sizeof(running) / sizeof(*running); i++) {
		if (!running[i]) {
			running[i] = pid;
			return;
		}
	}
	fail_msg("too many children");
}

static int teardown(void **state)
{
	(void)state;
	children__kill();
	sh("rm -rf %s", tmp);
	return 0;
}

/* Starts argv[0] and reads the addresses it prints. */
static void child__start(struct child *c, char *const argv[])
{
	int pfd[2];
	FILE *f;

	assert_int_equal(pipe(pfd), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	children__add(c->pid);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%" SCNx64 " %" SCNx64, &c->alpha, &c->beta), 2);
	fclose(f);
}

static void child__kill(struct child *c)
{
	for (size_t i = 0; i < sizeof(running) / sizeof(*running); i++) {
		if (running[i] == c->pid)
			running[i] = 0;
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

static void expect_func(struct symbolizer *s, int pid, uint64_t addr, const char *func)
{
	struct sym_result r;

	assert_int_equal(symbolizer__user(s, pid, addr, &r), 0);
	assert_non_null(r.map_path);
	assert_non_null(r.func);
	assert_string_equal(r.func, func);
	assert_int_equal(r.file_offset, addr - r.map_start + r.map_offset);
	assert_true(addr >= r.map_start && addr < r.map_limit);
}

static void readelf_build_id(const char *path, char *hex, size_t size)
{
	char cmd[256], line[512];
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

/* start - offset of the executable mapping of a path containing name. */
static uint64_t lib_base(int pid, const char *name)
{
	char path[64], line[512], perms[8];
	uint64_t start, end, off, base = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64, &start, &end, perms,
			   &off) == 4 &&
		    perms[2] == 'x' && strstr(line, name)) {
			base = start - off;
			break;
		}
	}
	fclose(f);
	assert_true(base != 0);
	return base;
}

static void child__start_fx(struct child *c, const char *bin)
{
	char path[128];
	char *argv[] = {path, NULL};

	snprintf(path, sizeof(path), "%s/%s", tmp, bin);
	child__start(c, argv);
	/* getpid of libc in the child: same offset from libc's base as in us */
	c->getpid = lib_base(c->pid, "libc.so") + (uint64_t)(uintptr_t)getpid -
		    lib_base(getpid(), "libc.so");
}

static void check_fx(struct symbolizer *s, const struct child *c, const char *want_path)
{
	char exe[128], hex[128];
	struct sym_result r;

	expect_func(s, c->pid, c->alpha, "fx_alpha");
	expect_func(s, c->pid, c->beta + 3, "fx_beta");
	assert_int_equal(symbolizer__user(s, c->pid, c->beta, &r), 0);
	assert_string_equal(r.map_path, want_path);
	assert_string_equal(r.mangled, "fx_beta");
	snprintf(exe, sizeof(exe), "%s/fx", tmp);
	readelf_build_id(exe, hex, sizeof(hex));
	assert_string_equal(r.build_id, hex);
	/* built with -g: the source line comes from DWARF */
	assert_non_null(r.src_file);
	assert_non_null(strstr(r.src_file, "fx.c"));
	assert_true(r.line >= 10 && r.line <= 15);
}

static void check_libc(struct symbolizer *s, const struct child *c)
{
	struct sym_result r;

	assert_int_equal(symbolizer__user(s, c->pid, c->getpid + 1, &r), 0);
	assert_non_null(r.func);
	assert_non_null(strstr(r.func, "getpid"));
	assert_non_null(strstr(r.map_path, "libc.so"));
	assert_true(strlen(r.build_id) >= 16);
}

static void test_live_then_dead(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct symbolizer_stats st;
	char path[128];
	struct sym_result r;
	struct child c;

	(void)state;
	assert_non_null(s);
	child__start_fx(&c, "fx");
	snprintf(path, sizeof(path), "%s/fx", tmp);
	assert_int_equal(symbolizer__user(s, c.pid, c.beta, &r), -ESRCH);
	assert_false(symbolizer__has_pid(s, c.pid));
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	assert_true(symbolizer__has_pid(s, c.pid));
	check_fx(s, &c, path);
	check_libc(s, &c);
	assert_int_equal(symbolizer__user(s, c.pid, 0x10, &r), -ENOENT);
	assert_null(r.map_path);
	assert_int_equal(symbolizer__refresh_pid(s, c.pid), 0);
	check_fx(s, &c, path);

	/* gone: what was captured at add_pid still resolves */
	child__kill(&c);
	check_fx(s, &c, path);
	check_libc(s, &c);
	assert_int_equal(symbolizer__refresh_pid(s, c.pid), -ESRCH);
	check_fx(s, &c, path);
	symbolizer__stats(s, &st);
	assert_int_equal(st.pids, 1);
	assert_true(st.binaries >= 3); /* fx, libc, ld.so */
	assert_true(st.bytes > 0);
	assert_true(st.hits > 0);
	assert_int_equal(st.misses, st.binaries);
	assert_int_equal(st.evictions, 0);
	/* known: not re-read; unknown and gone: ESRCH */
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	symbolizer__free(s);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	assert_int_equal(symbolizer__add_pid(s, c.pid), -ESRCH);
	assert_false(symbolizer__has_pid(s, c.pid));
	symbolizer__free(s);
}

static void test_shared_cache(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct symbolizer_stats one, two;
	struct child a, b;

	(void)state;
	assert_non_null(s);
	child__start_fx(&a, "fx");
	child__start_fx(&b, "fx");
	assert_int_equal(symbolizer__add_pid(s, a.pid), 0);
	symbolizer__stats(s, &one);
	assert_int_equal(symbolizer__add_pid(s, b.pid), 0);
	symbolizer__stats(s, &two);
	/* the second process loads nothing new */
	assert_int_equal(two.binaries, one.binaries);
	assert_int_equal(two.misses, one.misses);
	assert_true(two.hits >= one.hits + 3);
	assert_int_equal(two.pids, 2);
	expect_func(s, b.pid, b.beta + 1, "fx_beta");
	expect_func(s, a.pid, a.alpha + 1, "fx_alpha");
	child__kill(&a);
	child__kill(&b);
	symbolizer__free(s);
}

static void test_chroot(void **state)
{
	char root[128];
	char *argv[] = {"/usr/sbin/chroot", root, "/fixture", NULL};
	struct symbolizer *s;
	struct sym_result r;
	struct child c;

	(void)state;
	if (geteuid() != 0 || access("/usr/sbin/chroot", X_OK))
		skip();
	snprintf(root, sizeof(root), "%s/root", tmp);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	child__start(&c, argv);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	expect_func(s, c.pid, c.beta + 2, "fx_beta");
	assert_int_equal(symbolizer__user(s, c.pid, c.alpha, &r), 0);
	/* maps shows paths from the reader's root: ours, not the chroot's */
	assert_string_equal(r.map_path, strcat(root, "/fixture"));
	assert_string_equal(r.func, "fx_alpha");
	child__kill(&c);
	expect_func(s, c.pid, c.beta + 2, "fx_beta");
	symbolizer__free(s);
}

/*
 * The binary and its debug file exist only in the child's mount namespace
 * (a tmpfs mounted there): symbols come through /proc/PID/root.
 */
static void test_mount_namespace(void **state)
{
	char script[512], path[128];
	char *argv[] = {"/usr/bin/unshare", "-m", "sh", "-c", script, NULL};
	struct symbolizer *s;
	struct sym_result r;
	struct child c;

	(void)state;
	if (geteuid() != 0 || access(argv[0], X_OK))
		skip();
	snprintf(script, sizeof(script),
		 "mount -t tmpfs none %s/mnt && cp %s/nsbin/* %s/mnt/ && exec %s/mnt/fixture", tmp,
		 tmp, tmp, tmp);
	snprintf(path, sizeof(path), "%s/mnt/fixture", tmp);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	child__start(&c, argv);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	assert_int_equal(symbolizer__user(s, c.pid, c.beta + 1, &r), 0);
	assert_string_equal(r.map_path, path);
	assert_non_null(r.func);
	assert_string_equal(r.func, "fx_beta");
	assert_non_null(r.src_file);
	child__kill(&c);
	expect_func(s, c.pid, c.alpha + 1, "fx_alpha");
	symbolizer__free(s);
}

static void test_deleted_binary(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	char path[128];
	struct sym_result r;
	struct child c;

	(void)state;
	assert_non_null(s);
	sh("cp %s/fx %s/victim", tmp, tmp);
	child__start_fx(&c, "victim");
	snprintf(path, sizeof(path), "%s/victim", tmp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	expect_func(s, c.pid, c.beta + 4, "fx_beta");
	assert_int_equal(symbolizer__user(s, c.pid, c.alpha, &r), 0);
	assert_string_equal(r.map_path, path);
	assert_string_equal(r.func, "fx_alpha");
	child__kill(&c);
	expect_func(s, c.pid, c.alpha + 1, "fx_alpha");
	symbolizer__free(s);
}

static void test_cache_bound(void **state)
{
	struct symbolizer_opts o = {.cache_bytes = 1};
	struct symbolizer *s = symbolizer__new(&o);
	struct symbolizer_stats st, st2;
	struct child c;

	(void)state;
	assert_non_null(s);
	child__start_fx(&c, "fx");
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	symbolizer__stats(s, &st);
	assert_int_equal(st.binaries, 1);
	assert_true(st.evictions >= 2);
	/* each lookup reloads what the previous one evicted, and stays right */
	for (int i = 0; i < 3; i++) {
		expect_func(s, c.pid, c.beta + 1, "fx_beta");
		check_libc(s, &c);
	}
	symbolizer__stats(s, &st2);
	assert_true(st2.evictions >= st.evictions + 5);
	assert_true(st2.misses >= st.misses + 5);
	assert_int_equal(st2.binaries, 1);
	child__kill(&c);
	symbolizer__free(s);
}

static void test_max_pids(void **state)
{
	struct symbolizer_opts o = {.max_pids = 2};
	struct symbolizer *s = symbolizer__new(&o);
	struct symbolizer_stats st;
	struct child c[3];

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < 3; i++) {
		child__start_fx(&c[i], "fx");
		assert_int_equal(symbolizer__add_pid(s, c[i].pid), 0);
		/* c[0] stays the most recently used */
		expect_func(s, c[0].pid, c[0].beta, "fx_beta");
	}
	symbolizer__stats(s, &st);
	assert_int_equal(st.pids, 2);
	assert_int_equal(st.pid_evictions, 1);
	assert_true(symbolizer__has_pid(s, c[0].pid));
	assert_false(symbolizer__has_pid(s, c[1].pid));
	assert_true(symbolizer__has_pid(s, c[2].pid));
	for (int i = 0; i < 3; i++)
		child__kill(&c[i]);
	symbolizer__free(s);
}

__attribute__((noinline)) static int self_marker(int x)
{
	return x * 7 + getpid();
}

static void test_self(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	uint64_t addr = (uint64_t)(uintptr_t)self_marker;
	struct sym_result r;
	char exe[PATH_MAX];
	ssize_t n;

	(void)state;
	assert_non_null(s);
	assert_true(self_marker(1) != 0);
	assert_int_equal(symbolizer__add_pid(s, getpid()), 0);
	assert_int_equal(symbolizer__user(s, getpid(), addr + 1, &r), 0);
	assert_string_equal(r.func, "self_marker");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(r.map_path, exe);
	assert_non_null(r.src_file);
	assert_non_null(strstr(r.src_file, "test_sym_symbolizer.c"));
	symbolizer__free(s);
}

/* The vdso's own dynsym value of name, read with plain libelf calls. */
static uint64_t vdso_sym(const void *image, size_t size, const char *name)
{
	Elf *elf = elf_memory((char *)image, size);
	Elf_Scn *scn = NULL;
	uint64_t val = 0;
	GElf_Shdr sh;
	GElf_Sym sym;

	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !d)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			if (gelf_getsym(d, i, &sym) &&
			    !strcmp(elf_strptr(elf, sh.sh_link, sym.st_name), name))
				val = sym.st_value;
		}
	}
	elf_end(elf);
	return val;
}

static void test_vdso(void **state)
{
	const Elf64_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct symbolizer *s;
	struct sym_result r;
	uint64_t val;

	(void)state;
	if (!eh)
		skip();
	assert_true(elf_version(EV_CURRENT) != EV_NONE);
	val = vdso_sym(eh, eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize,
		       "__vdso_clock_gettime");
	assert_true(val != 0);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	assert_int_equal(symbolizer__add_pid(s, getpid()), 0);
	assert_int_equal(symbolizer__user(s, getpid(), (uintptr_t)eh + val + 2, &r), 0);
	assert_string_equal(r.map_path, "[vdso]");
	assert_non_null(r.func);
	assert_non_null(strstr(r.func, "clock_gettime"));
	assert_true(strlen(r.build_id) > 0);
	symbolizer__free(s);
}

static void test_perf_map(void **state)
{
	struct symbolizer *s;
	struct sym_result r;
	char path[64];
	uint8_t *code;
	FILE *f;

	(void)state;
	code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(code != MAP_FAILED);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%lx 40 jit_one\n%lx 100 LazyCompile:*two app.js:3\n",
		(unsigned long)(uintptr_t)code, (unsigned long)(uintptr_t)(code + 0x40));
	assert_int_equal(fclose(f), 0);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	assert_int_equal(symbolizer__add_pid(s, getpid()), 0);
	unlink(path);
	assert_int_equal(symbolizer__user(s, getpid(), (uintptr_t)code + 8, &r), 0);
	assert_string_equal(r.map_path, "[anon]");
	assert_string_equal(r.func, "jit_one");
	assert_int_equal(symbolizer__user(s, getpid(), (uintptr_t)code + 0x80, &r), 0);
	assert_string_equal(r.func, "LazyCompile:*two app.js:3");
	assert_int_equal(symbolizer__user(s, getpid(), (uintptr_t)code + 0x800, &r), 0);
	assert_null(r.func);
	symbolizer__free(s);
	munmap(code, 4096);
}

/*
 * A FIFO as /tmp/perf-PID.map: fopen() blocked the agent forever. Now it is
 * refused at once and counted once, not again at every re-read of the maps.
 */
static void test_perf_map_fifo(void **state)
{
	struct symbolizer_stats before, after;
	struct symbolizer *s;
	struct sym_result r;
	char path[64];
	uint8_t *code;

	(void)state;
	code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(code != MAP_FAILED);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	s = symbolizer__new(NULL);
	assert_non_null(s);
	symbolizer__stats(s, &before);
	alarm(20);
	assert_int_equal(symbolizer__add_pid(s, getpid()), 0);
	assert_int_equal(symbolizer__refresh_pid(s, getpid()), 0);
	assert_int_equal(symbolizer__user(s, getpid(), (uintptr_t)code + 8, &r), 0);
	alarm(0);
	assert_null(r.func);
	symbolizer__stats(s, &after);
	assert_int_equal(after.files_refused_by[SAFEFILE_NOT_REGULAR] -
			     before.files_refused_by[SAFEFILE_NOT_REGULAR],
			 1);
	assert_non_null(strstr(after.last_refused, "map: not a regular file"));
	unlink(path);
	symbolizer__free(s);
	munmap(code, 4096);
}

/*
 * Code mapped after the capture (dlopen, or ld.so's libraries right after
 * exec) resolves: the symbolizer re-reads the maps instead of answering
 * -ENOENT until some notice arrives.
 */
static void test_mapped_later(void **state)
{
	struct symbolizer_opts o = {0};
	struct symbolizer *s = symbolizer__new(&o);
	struct sym_result r;
	void *h, *fn;

	(void)state;
	assert_non_null(s);
	assert_int_equal(symbolizer__add_pid(s, getpid()), 0);
	h = dlopen("libcrypt.so.1", RTLD_NOW);
	assert_non_null(h);
	fn = dlsym(h, "crypt");
	assert_non_null(fn);
	usleep(250 * 1000); /* past the re-read interval */
	assert_int_equal(symbolizer__user(s, getpid(), (uint64_t)(uintptr_t)fn, &r), 0);
	assert_non_null(strstr(r.map_path, "libcrypt"));
	assert_non_null(r.func);
	assert_non_null(strstr(r.func, "crypt"));
	symbolizer__free(s);
	dlclose(h);
}

static void test_null_safe(void **state)
{
	struct symbolizer_stats st;

	(void)state;
	symbolizer__free(NULL);
	symbolizer__stats(NULL, &st);
	assert_int_equal(st.pids, 0);
	assert_false(symbolizer__has_pid(NULL, 1));
	assert_int_equal(symbolizer__add_pid(NULL, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_live_then_dead, test_teardown),
	    cmocka_unit_test_teardown(test_shared_cache, test_teardown),
	    cmocka_unit_test_teardown(test_chroot, test_teardown),
	    cmocka_unit_test_teardown(test_mount_namespace, test_teardown),
	    cmocka_unit_test_teardown(test_deleted_binary, test_teardown),
	    cmocka_unit_test_teardown(test_cache_bound, test_teardown),
	    cmocka_unit_test_teardown(test_max_pids, test_teardown),
	    cmocka_unit_test_teardown(test_self, test_teardown),
	    cmocka_unit_test_teardown(test_vdso, test_teardown),
	    cmocka_unit_test_teardown(test_perf_map, test_teardown),
	    cmocka_unit_test_teardown(test_perf_map_fifo, test_teardown),
	    cmocka_unit_test_teardown(test_mapped_later, test_teardown),
	    cmocka_unit_test_teardown(test_null_safe, test_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
