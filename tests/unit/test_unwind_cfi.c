// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The table compiler against fixtures built here: an assembly function with
 * a known prologue/epilogue (exact rows at exact offsets), a C function
 * that needs rbp as its frame register, the linker's PLT rows, _start's
 * outermost-frame row and glibc's signal trampoline.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prologue_epilogue), cmocka_unit_test(test_rbp_frame_register),
		cmocka_unit_test(test_plt),		  cmocka_unit_test(test_entry_is_outermost),
		cmocka_unit_test(test_libc_signal_frame), cmocka_unit_test(test_no_cfi),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
