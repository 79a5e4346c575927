// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The table compiler against fixtures built here: an assembly function with
 * a known prologue/epilogue (exact rows at exact offsets), a C function
 * that needs rbp as its frame register, the linker's PLT rows, _start's
 * outermost-frame row and glibc's signal trampoline; the same rows as the
 * libdw-based compiler it replaced on system binaries; and hostile CFI
 * (issue 16): rules for registers x86-64 does not have, FDEs of many rows,
 * deep state stacks, budgets. Work is asserted by counting the DW_CFA
 * instructions interpreted, never by time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer/elfsym.h"
#include "unwind/cfi.h"
#include "unwind_cfi_ref.h"

/* fx_frame: push rbp (1 byte); mov rsp,rbp (3); nop (1); pop rbp (1); ret. */
static const char asm_src[] = "	.text\n"
			      "	.globl fx_frame\n"
			      "	.type fx_frame,@function\n"
			      "fx_frame:\n"
			      "	.cfi_startproc\n"
			      "	push %rbp\n"
			      "	.cfi_def_cfa_offset 16\n"
			      "	.cfi_offset %rbp, -16\n"
			      "	mov %rsp, %rbp\n"
			      "	.cfi_def_cfa_register %rbp\n"
			      "	nop\n"
			      "	pop %rbp\n"
			      "	.cfi_def_cfa %rsp, 8\n"
			      "	.cfi_restore %rbp\n"
			      "	ret\n"
			      "	.cfi_endproc\n"
			      "	.size fx_frame, .-fx_frame\n"
			      "	.section .note.GNU-stack,\"\",@progbits\n";

/* fx_vla needs a frame register for its variable-length array, even at -fomit-frame-pointer. */
static const char c_src[] = "#include <stdio.h>\n"
			    "void fx_frame(void);\n"
			    "volatile int sink;\n"
			    "__attribute__((noinline)) int fx_vla(int n)\n"
			    "{\n"
			    "	volatile char buf[n];\n"
			    "	for (int i = 0; i < n; i++)\n"
			    "		buf[i] = i;\n"
			    "	return buf[n / 2];\n"
			    "}\n"
			    "int main(int argc, char **argv)\n"
			    "{\n"
			    "	fx_frame();\n"
			    "	puts(argv[0]);\n"
			    "	return fx_vla(argc + 10);\n"
			    "}\n";

static char tmp[64];
static char bin[128];

static int run(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	err = fputs(text, f) < 0;
	return fclose(f) || err ? -1 : 0;
}

static int setup(void **state)
{
	char cmd[512], p[128];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/bpfprof-unwind-XXXXXX");
	if (!mkdtemp(tmp) || !elfsym__init_libelf())
		return -1;
	snprintf(p, sizeof(p), "%s/fx.S", tmp);
	if (write_file(p, asm_src))
		return -1;
	snprintf(p, sizeof(p), "%s/fx.c", tmp);
	if (write_file(p, c_src))
		return -1;
	snprintf(bin, sizeof(bin), "%s/fx", tmp);
	snprintf(cmd, sizeof(cmd),
		 "gcc -O2 -g -fomit-frame-pointer -fno-inline -o %s %s/fx.c %s/fx.S 2>&1", bin, tmp,
		 tmp);
	return run(cmd);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return run(cmd);
}

struct fixture {
	int fd;
	Elf *elf;
	struct cfi_rows rows;
};

static void open_fixture(const char *path, struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->fd = open(path, O_RDONLY);
	assert_true(fx->fd >= 0);
	fx->elf = elf_begin(fx->fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(fx->elf);
	assert_int_equal(cfi__compile(fx->elf, &fx->rows), 0);
	assert_true(fx->rows.n > 0);
}

static void close_fixture(struct fixture *fx)
{
	cfi_rows__free(&fx->rows);
	elf_end(fx->elf);
	close(fx->fd);
}

/* The address of a symbol, from nm (not from our own ELF reading). */
static uint64_t sym_addr(const char *path, const char *name)
{
	char cmd[256];
	unsigned long long a = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s | awk '$3 == \"%s\" { print $1 }'", path, name);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%llx", &a) != 1)
		a = 0;
	pclose(p);
	return a;
}

static void expect_row(const struct cfi_rows *r, uint64_t pc, int cfa_type, int cfa_off,
		       int rbp_type, int rbp_off)
{
	const struct unwind_row *row = cfi_rows__find(r, pc);

	assert_non_null(row);
	assert_int_equal(row->cfa_type, cfa_type);
	assert_int_equal(row->cfa_off, cfa_off);
	assert_int_equal(row->rbp_type, rbp_type);
	if (rbp_type == UNWIND_RBP_CFA)
		assert_int_equal(row->rbp_off, rbp_off);
}

static void test_prologue_epilogue(void **state)
{
	struct fixture fx;
	uint64_t f;

	(void)state;
	open_fixture(bin, &fx);
	f = sym_addr(bin, "fx_frame");
	assert_true(f != 0);
	expect_row(&fx.rows, f, UNWIND_CFA_RSP, 8, UNWIND_RBP_SAME, 0);
	expect_row(&fx.rows, f + 1, UNWIND_CFA_RSP, 16, UNWIND_RBP_CFA, -16); /* after push */
	expect_row(&fx.rows, f + 4, UNWIND_CFA_RBP, 16, UNWIND_RBP_CFA, -16); /* after mov */
	expect_row(&fx.rows, f + 5, UNWIND_CFA_RBP, 16, UNWIND_RBP_CFA, -16);
	expect_row(&fx.rows, f + 6, UNWIND_CFA_RSP, 8, UNWIND_RBP_SAME, 0); /* after pop */
	/* Rows are sorted and strictly increasing. */
	for (size_t i = 1; i < fx.rows.n; i++)
		assert_true(fx.rows.rows[i - 1].pc < fx.rows.rows[i].pc);
	close_fixture(&fx);
}

static void test_rbp_frame_register(void **state)
{
	struct fixture fx;
	uint64_t f, g;
	bool rbp = false;

	(void)state;
	open_fixture(bin, &fx);
	f = sym_addr(bin, "fx_vla");
	g = sym_addr(bin, "main");
	assert_true(f != 0);
	/* Somewhere in fx_vla the CFA is rbp + 16 with rbp saved at CFA - 16. */
	for (size_t i = 0; i < fx.rows.n; i++) {
		const struct unwind_row *r = &fx.rows.rows[i];

		if (r->pc >= f && r->pc < (g > f ? g : f + 256) && r->cfa_type == UNWIND_CFA_RBP) {
			assert_int_equal(r->cfa_off, 16);
			assert_int_equal(r->rbp_type, UNWIND_RBP_CFA);
			assert_int_equal(r->rbp_off, -16);
			rbp = true;
		}
	}
	assert_true(rbp);
	close_fixture(&fx);
}

/* The section header of name in path, from readelf. */
static uint64_t section_addr(const char *path, const char *name)
{
	char cmd[256];
	unsigned long long a = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "readelf -SW %s | awk '{ for (i = 1; i < NF; i++) if ($i == \"%s\") print $(i + 2) }'",
		 path, name);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%llx", &a) != 1)
		a = 0;
	pclose(p);
	return a;
}

static void test_plt(void **state)
{
	struct fixture fx;
	uint64_t plt;

	(void)state;
	open_fixture(bin, &fx);
	plt = section_addr(bin, ".plt");
	assert_true(plt != 0);
	/* PLT0 pushes once (rsp+16), then jumps after a second push (rsp+24). */
	expect_row(&fx.rows, plt, UNWIND_CFA_RSP, 16, UNWIND_RBP_SAME, 0);
	expect_row(&fx.rows, plt + 6, UNWIND_CFA_RSP, 24, UNWIND_RBP_SAME, 0);
	/* The entries: rsp + 8, + 8 once past the push at offset 11 of each entry. */
	expect_row(&fx.rows, plt + 16, UNWIND_CFA_PLT, 11, UNWIND_RBP_SAME, 0);
	close_fixture(&fx);
}

static void test_entry_is_outermost(void **state)
{
	struct fixture fx;
	GElf_Ehdr eh;

	(void)state;
	open_fixture(bin, &fx);
	assert_non_null(gelf_getehdr(fx.elf, &eh));
	/* _start's CFI leaves the return address undefined: the walk ends there. */
	assert_int_equal(cfi_rows__find(&fx.rows, eh.e_entry)->cfa_type, UNWIND_CFA_END);
	close_fixture(&fx);
}

static void test_libc_signal_frame(void **state)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct fixture fx;
	size_t signal = 0;

	(void)state;
	if (access(libc, R_OK))
		skip();
	open_fixture(libc, &fx);
	/* __restore_rt's FDE has the 'S' augmentation. */
	for (size_t i = 0; i < fx.rows.n; i++)
		signal += fx.rows.rows[i].cfa_type == UNWIND_CFA_SIGNAL;
	assert_true(signal >= 1);
	close_fixture(&fx);
}

static void test_no_cfi(void **state)
{
	struct cfi_rows rows = { 0 };
	Elf *elf;
	char img[64] = { 0x7f, 'E', 'L', 'F' };

	(void)state;
	elf = elf_memory(img, sizeof(img));
	if (elf) {
		assert_true(cfi__compile(elf, &rows) < 0);
		assert_int_equal(rows.n, 0);
		elf_end(elf);
	}
	cfi_rows__free(NULL);
}

/* Old and new compilers agree, row for row, on a well-formed binary. */
static void expect_same_as_libdw(const char *path)
{
	struct cfi_rows ref = { 0 };
	struct fixture fx;

	open_fixture(path, &fx);
	assert_int_equal(ref_compile(fx.elf, &ref), 0);
	assert_int_equal(fx.rows.n, ref.n);
	assert_memory_equal(fx.rows.rows, ref.rows, ref.n * sizeof(*ref.rows));
	assert_int_equal(fx.rows.rejected, 0);
	/* One pass: a few instructions per row, not a program run per row. */
	assert_true(fx.rows.ops <= 4 * fx.rows.n + 64);
	cfi_rows__free(&ref);
	close_fixture(&fx);
}

static void test_same_rows_as_libdw(void **state)
{
	const char *sys[] = { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/python3.11",
			      "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
			      "/lib64/ld-linux-x86-64.so.2" };

	(void)state;
	expect_same_as_libdw(bin);
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (!access(sys[i], R_OK))
			expect_same_as_libdw(sys[i]);
}

/*
 * Hostile fixtures: shared objects built from assembly. ok_before and
 * ok_after are ordinary functions around hostile, whose FDE gets `rows`
 * rows (alternating CFA rsp+16 / rsp+8, one per nop) and then `rule`.
 */
static void build_so(const char *name, const char *rule, int rows, char *out, size_t size)
{
	static const char ok_fn[] = "	.globl %s\n"
				    "	.type %s,@function\n"
				    "%s:\n"
				    "	.cfi_startproc\n"
				    "	push %%rbp\n"
				    "	.cfi_def_cfa_offset 16\n"
				    "	.cfi_offset %%rbp, -16\n"
				    "	pop %%rbp\n"
				    "	.cfi_def_cfa_offset 8\n"
				    "	.cfi_restore %%rbp\n"
				    "	ret\n"
				    "	.cfi_endproc\n"
				    "	.size %s, .-%s\n";
	char path[128], cmd[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.S", tmp, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "	.text\n");
	fprintf(f, ok_fn, "ok_before", "ok_before", "ok_before", "ok_before", "ok_before");
	fprintf(f,
		"	.globl hostile\n	.type hostile,@function\nhostile:\n	.cfi_startproc\n"
		"	.rept %d\n	nop\n	.cfi_adjust_cfa_offset 8\n	nop\n"
		"	.cfi_adjust_cfa_offset -8\n	.endr\n%s\n	nop\n	ret\n	.cfi_endproc\n"
		"	.size hostile, .-hostile\n",
		rows / 2, rule);
	fprintf(f, ok_fn, "ok_after", "ok_after", "ok_after", "ok_after", "ok_after");
	fprintf(f, "	.section .note.GNU-stack,\"\",@progbits\n");
	assert_int_equal(fclose(f), 0);
	snprintf(out, size, "%s/%s.so", tmp, name);
	snprintf(cmd, sizeof(cmd), "gcc -shared -nostdlib -o %s %s 2>&1", out, path);
	assert_int_equal(run(cmd), 0);
}

/* Rows inside [from, to). */
static size_t rows_in(const struct cfi_rows *r, uint64_t from, uint64_t to)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->rows[i].pc >= from && r->rows[i].pc < to;
	return n;
}

/* The neighbours keep their rows; hostile is one gap row; the work is bounded. */
static void expect_refused(const char *so, int rows)
{
	struct fixture fx;
	uint64_t h, before, after;

	open_fixture(so, &fx);
	h = sym_addr(so, "hostile");
	before = sym_addr(so, "ok_before");
	after = sym_addr(so, "ok_after");
	assert_true(h && before && after);
	assert_int_equal(fx.rows.rejected, 1);
	expect_row(&fx.rows, before, UNWIND_CFA_RSP, 8, UNWIND_RBP_SAME, 0);
	expect_row(&fx.rows, before + 1, UNWIND_CFA_RSP, 16, UNWIND_RBP_CFA, -16);
	expect_row(&fx.rows, after + 1, UNWIND_CFA_RSP, 16, UNWIND_RBP_CFA, -16);
	for (uint64_t pc = h; pc < after; pc++)
		assert_int_equal(cfi_rows__find(&fx.rows, pc)->cfa_type, UNWIND_CFA_INVALID);
	assert_int_equal(rows_in(&fx.rows, h, after), 1);
	/* The FDE's instructions once, the CIE's once per use: no register array. */
	assert_true(fx.rows.ops <= (uint64_t)2 * rows + 64);
	close_fixture(&fx);
}

/* Issue 16: `.cfi_undefined 200000000`, one row (libdw: 1.5 GB, 4 s). */
static void test_huge_register_undefined(void **state)
{
	char so[128];

	(void)state;
	build_so("undef1", "	.cfi_undefined 200000000", 0, so, sizeof(so));
	expect_refused(so, 0);
}

/* Issue 16: the same after 32 rows (libdw: 47 s, the rule re-run per row). */
static void test_huge_register_32_rows(void **state)
{
	char so[128];

	(void)state;
	build_so("undef32", "	.cfi_undefined 200000000", 32, so, sizeof(so));
	expect_refused(so, 32);
}

/* Issue 16: DW_CFA_expression on register 211812270 (ULEB128 ae ff ff 64), DW_OP_nop. */
static void test_huge_register_expression(void **state)
{
	char so[128];

	(void)state;
	build_so("expr", "	.cfi_escape 0x10, 0xae, 0xff, 0xff, 0x64, 0x01, 0x96", 32, so,
		 sizeof(so));
	expect_refused(so, 32);
}

/* Both registers of DW_CFA_register are checked; so is the CFA's. */
static void test_huge_register_other_rules(void **state)
{
	char so[128];

	(void)state;
	build_so("reg2", "	.cfi_register %rbp, 300", 4, so, sizeof(so));
	expect_refused(so, 4);
	build_so("cfareg", "	.cfi_def_cfa_register 4000", 4, so, sizeof(so));
	expect_refused(so, 4);
	build_so("offreg", "	.cfi_offset 128, -16", 4, so, sizeof(so));
	expect_refused(so, 4);
}

/* 127 is the last register x86-64 may name: a rule for it is accepted. */
static void test_register_127_accepted(void **state)
{
	struct fixture fx;
	char so[128];
	uint64_t h;

	(void)state;
	build_so("reg127", "	.cfi_undefined 127", 4, so, sizeof(so));
	open_fixture(so, &fx);
	h = sym_addr(so, "hostile");
	assert_int_equal(fx.rows.rejected, 0);
	expect_row(&fx.rows, h, UNWIND_CFA_RSP, 8, UNWIND_RBP_SAME, 0);
	expect_row(&fx.rows, h + 1, UNWIND_CFA_RSP, 16, UNWIND_RBP_SAME, 0);
	expect_row(&fx.rows, h + 2, UNWIND_CFA_RSP, 8, UNWIND_RBP_SAME, 0);
	close_fixture(&fx);
}

/* An FDE of n rows: its rows and the instructions interpreted to make them. */
static void many_rows(int n, size_t *rows, uint64_t *ops)
{
	struct fixture fx;
	char so[128], name[32];
	uint64_t h, after;

	snprintf(name, sizeof(name), "rows%d", n);
	build_so(name, "", n, so, sizeof(so));
	open_fixture(so, &fx);
	h = sym_addr(so, "hostile");
	after = sym_addr(so, "ok_after");
	*rows = rows_in(&fx.rows, h, after);
	*ops = fx.rows.ops;
	assert_int_equal(fx.rows.rejected, 0);
	assert_int_equal(cfi_rows__find(&fx.rows, h + n - 1)->cfa_off, 16);
	assert_int_equal(cfi_rows__find(&fx.rows, h + n)->cfa_off, 8);
	close_fixture(&fx);
}

/* Issue 16: 16 k rows took 0.25 s and 64 k rows 5.3 s; the work must grow 4x, not 16x. */
static void test_rows_linear(void **state)
{
	size_t r16, r64;
	uint64_t o16, o64;

	(void)state;
	many_rows(16384, &r16, &o16);
	many_rows(65536, &r64, &o64);
	/* One per nop; the entry's rule (rsp+8) merges with ok_before's last row. */
	assert_int_equal(r16, 16384);
	assert_int_equal(r64, 65536);
	assert_true(o16 <= 2 * 16384 + 64); /* advance + def_cfa_offset per row */
	assert_true(o64 <= 2 * 65536 + 64);
	assert_true(o64 <= 4 * o16 + 64);
}

static void test_budget(void **state)
{
	struct cfi_budget rows_cap = { .max_rows = 1000, .max_ops = 1 << 20, .max_cpu_ns = ~0ULL };
	struct cfi_budget ops_cap = { .max_rows = 1 << 20, .max_ops = 1000, .max_cpu_ns = ~0ULL };
	struct cfi_budget cpu_cap = { .max_rows = 1 << 20, .max_ops = 1 << 20, .max_cpu_ns = 0 };
	struct cfi_rows rows = { 0 };
	char so[128];
	Elf *elf;
	int fd;

	(void)state;
	build_so("budget", "", 4096, so, sizeof(so));
	fd = open(so, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	assert_int_equal(cfi__compile_budget(elf, &rows_cap, &rows), -E2BIG);
	assert_int_equal(rows.n, 0);
	assert_null(rows.rows);
	cfi_rows__free(&rows);
	assert_int_equal(cfi__compile_budget(elf, &ops_cap, &rows), -E2BIG);
	assert_int_equal(rows.n, 0);
	assert_true(rows.ops <= 1001); /* stopped at the cap */
	cfi_rows__free(&rows);
	/* CPU time is read every 4096 instructions: a zero allowance stops at the first look. */
	assert_int_equal(cfi__compile_budget(elf, &cpu_cap, &rows), -E2BIG);
	assert_int_equal(rows.ops, 4096);
	cfi_rows__free(&rows);
	assert_int_equal(cfi__compile(elf, &rows), 0);
	assert_true(rows.n > 4096);
	cfi_rows__free(&rows);
	elf_end(elf);
	close(fd);
}

/* remember_state nested past 16 deep, restore_state with nothing remembered. */
static void test_state_stack(void **state)
{
	char rule[1024], so[128];
	size_t at = 0;

	(void)state;
	for (int i = 0; i < 17; i++)
		at += snprintf(rule + at, sizeof(rule) - at, "	.cfi_remember_state\n");
	build_so("deep", rule, 4, so, sizeof(so));
	expect_refused(so, 4);
	/* gas refuses .cfi_restore_state here: the raw DW_CFA_restore_state. */
	build_so("underflow", "	.cfi_escape 0x0b", 4, so, sizeof(so));
	expect_refused(so, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prologue_epilogue), cmocka_unit_test(test_rbp_frame_register),
		cmocka_unit_test(test_plt),		  cmocka_unit_test(test_entry_is_outermost),
		cmocka_unit_test(test_libc_signal_frame), cmocka_unit_test(test_no_cfi),
		cmocka_unit_test(test_same_rows_as_libdw),
		cmocka_unit_test(test_huge_register_undefined),
		cmocka_unit_test(test_huge_register_32_rows),
		cmocka_unit_test(test_huge_register_expression),
		cmocka_unit_test(test_huge_register_other_rules),
		cmocka_unit_test(test_register_127_accepted),
		cmocka_unit_test(test_rows_linear),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_state_stack),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
