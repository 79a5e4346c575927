// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Workload for test_hostile_cfi.sh (issue 16): CPU time in functions whose
 * .eh_frame is hostile and in ordinary C functions.
 *   hostile_cfi SECS [LIB]
 * hostile_undef's FDE has `.cfi_undefined 200000000` after 32 rows,
 * hostile_expr's a DW_CFA_expression on register 211812270: libdw grew a
 * register array of that size for every row. normal_spin is plain C. With
 * LIB, the library is dlopen'd and its big_spin called too (the test builds
 * it with more rows than the table compiler's budget).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The loop, after rows and the hostile rule; ecx counts down 3 M. */
#define SPIN_BODY                                                                                  \
	"	mov $3000000, %ecx\n"                                                                    \
	"1:	dec %ecx\n"                                                                            \
	"	jnz 1b\n"                                                                                \
	"	ret\n"                                                                                   \
	"	.cfi_endproc\n"
#define ROWS_32                                                                                    \
	"	.rept 16\n"                                                                              \
	"	nop\n"                                                                                   \
	"	.cfi_adjust_cfa_offset 8\n"                                                              \
	"	nop\n"                                                                                   \
	"	.cfi_adjust_cfa_offset -8\n"                                                             \
	"	.endr\n"

__asm__("	.text\n"
	"	.globl hostile_undef\n"
	"	.type hostile_undef,@function\n"
	"hostile_undef:\n"
	"	.cfi_startproc\n" ROWS_32 "	.cfi_undefined 200000000\n" SPIN_BODY
	"	.size hostile_undef, .-hostile_undef\n"
	"	.globl hostile_expr\n"
	"	.type hostile_expr,@function\n"
	"hostile_expr:\n"
	"	.cfi_startproc\n" ROWS_32
	/* DW_CFA_expression, ULEB128 211812270, a 1-byte block: DW_OP_nop */
	"	.cfi_escape 0x10, 0xae, 0xff, 0xff, 0x64, 0x01, 0x96\n" SPIN_BODY
	"	.size hostile_expr, .-hostile_expr\n");

void hostile_undef(void);
void hostile_expr(void);

volatile unsigned long sink;

__attribute__((noinline)) static void normal_spin(void)
{
	for (unsigned long i = 0; i < 3000000; i++)
		sink += i;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	void (*big_spin)(void) = NULL;
	double end;
	void *lib;

	if (argc < 2) {
		fprintf(stderr, "usage: hostile_cfi SECS [LIB]\n");
		return 2;
	}
	end = now() + atof(argv[1]);
	if (argc > 2) {
		lib = dlopen(argv[2], RTLD_NOW);
		big_spin = lib ? (void (*)(void))dlsym(lib, "big_spin") : NULL;
		if (!big_spin) {
			fprintf(stderr, "hostile_cfi: %s: %s\n", argv[2], dlerror());
			return 1;
		}
	}
	while (now() < end) {
		normal_spin();
		hostile_undef();
		hostile_expr();
		if (big_spin)
			big_spin();
	}
	return 0;
}
