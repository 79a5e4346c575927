// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a probe goes and what it costs. An x86 uprobe hit on an instruction
 * the kernel emulates (push of a register, nop, jmp, jcc, call rel32) costs
 * one trap; any other instruction is also single-stepped out of line, about
 * ten times dearer here. So the probe moves forward from the entry to the
 * first emulated instruction, as long as nothing before it changes an
 * argument register or the stack pointer (glibc's free: `test %rdi,%rdi`
 * then `je`, which is emulated).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <capstone/capstone.h>

#include "heap/heap_int.h"

/* jemalloc's free reaches its first jcc at the 10th instruction. */
#define PLACE_MAX_INSNS	 12
#define CALIB_EMUL_CALLS 20000
#define CALIB_STEP_CALLS 2000
#define CALIB_ROUNDS	 3

/* Prefixes the kernel refuses to emulate (is_prefix_bad): segment, lock, rep. */
static bool bad_prefix(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (b[i]) {
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x64:
		case 0x65:
		case 0xf0:
		case 0xf2:
		case 0xf3:
			return true;
		}
	}
	return false;
}

/* Mirrors arch/x86/kernel/uprobes.c: branch_setup_xol_ops and push_setup_xol_ops. */
static bool kernel_emulates(const cs_insn *in)
{
	const uint8_t *b = in->bytes;
	size_t n = in->size, i = 0;

	if (n >= 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57 && n == 2)
		return true; /* push %r8..%r15 */
	if (n == 1 && b[0] >= 0x50 && b[0] <= 0x57)
		return true; /* push %rax..%rdi */
	while (i < n && (b[i] == 0x66 || b[i] == 0x67))
		i++;
	if (i >= n || bad_prefix(b, i))
		return false;
	switch (b[i]) {
	case 0x90: /* nop */
	case 0xeb: /* jmp rel8 */
	case 0xe9: /* jmp rel32 */
	case 0xe8: /* call rel32 */
		return true;
	case 0x0f:
		/* jcc rel32; multi-byte nop (nopl) */
		return i + 1 < n && ((b[i + 1] >= 0x80 && b[i + 1] <= 0x8f) || b[i + 1] == 0x1f);
	default:
		return b[i] >= 0x70 && b[i] <= 0x7f; /* jcc rel8 */
	}
}

/* Which argument (0: rdi .. 5: r9) a register is part of; 6 for the stack pointer, -1 else. */
static int arg_index(uint16_t r)
{
	switch (r) {
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
		return 0;
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
		return 1;
	case X86_REG_RDX:
	case X86_REG_EDX:
	case X86_REG_DX:
	case X86_REG_DL:
	case X86_REG_DH:
		return 2;
	case X86_REG_RCX:
	case X86_REG_ECX:
	case X86_REG_CX:
	case X86_REG_CL:
	case X86_REG_CH:
		return 3;
	case X86_REG_R8:
	case X86_REG_R8D:
	case X86_REG_R8W:
	case X86_REG_R8B:
		return 4;
	case X86_REG_R9:
	case X86_REG_R9D:
	case X86_REG_R9W:
	case X86_REG_R9B:
		return 5;
	case X86_REG_RSP:
	case X86_REG_ESP:
	case X86_REG_SP:
	case X86_REG_SPL:
	case X86_REG_RIP:
		return 6;
	default:
		return -1;
	}
}

/* A register the probe needs intact: one of the first n_args arguments, or rsp/rip. */
static bool needed_reg(uint16_t r, int n_args)
{
	int i = arg_index(r);

	return i == 6 || (i >= 0 && i < n_args);
}

/* An instruction that can be passed: changes no used argument, no stack pointer, no flow. */
static bool harmless(csh h, const cs_insn *in, int n_args)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	if (cs_insn_group(h, in, CS_GRP_JUMP) || cs_insn_group(h, in, CS_GRP_CALL) ||
	    cs_insn_group(h, in, CS_GRP_RET) || cs_insn_group(h, in, CS_GRP_INT))
		return false;
	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr))
		return false;
	for (uint8_t i = 0; i < nwr; i++)
		if (needed_reg(wr[i], n_args))
			return false;
	return true;
}

size_t heap_probe__place(const uint8_t *code, size_t len, int n_args, bool *emulated)
{
	size_t best = 0, count;
	cs_insn *insn = NULL;
	csh h;

	*emulated = false;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	count = cs_disasm(h, code, len, 0, PLACE_MAX_INSNS, &insn);
	for (size_t i = 0; i < count; i++) {
		if (kernel_emulates(&insn[i])) {
			best = insn[i].address;
			*emulated = true;
			break;
		}
		if (!harmless(h, &insn[i], n_args))
			break;
	}
	if (count)
		cs_free(insn, count);
	cs_close(&h);
	return best;
}

/* The layout of union bpf_attr's link_create for uprobe_multi (Linux 6.6+). */
struct link_create_umulti {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t um_flags;
	uint32_t pid;
	uint32_t pad;
};

#define BPF_TRACE_UPROBE_SESSION_ 57
#define BPF_LINK_CREATE_	  28

int heap_probe__session_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, uint32_t cnt, uint32_t pid)
{
	union {
		struct link_create_umulti lc;
		uint8_t raw[128];
	} attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.lc.prog_fd = prog_fd;
	attr.lc.attach_type = BPF_TRACE_UPROBE_SESSION_;
	attr.lc.path = (uintptr_t)path;
	attr.lc.offsets = (uintptr_t)offsets;
	attr.lc.cookies = (uintptr_t)cookies;
	attr.lc.cnt = cnt;
	attr.lc.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE_, &attr, sizeof(attr.lc));
	return fd < 0 ? -errno : (int)fd;
}

/*
 * Calibration targets: one begins with an emulated push, one with a test that
 * must be single-stepped, as glibc's malloc and free do.
 */
__asm__(".text\n"
	".globl heap_calib_emul\n.type heap_calib_emul,@function\n"
	"heap_calib_emul:\n\tpush %rbp\n\tpop %rbp\n\tret\n"
	".size heap_calib_emul, .-heap_calib_emul\n"
	".globl heap_calib_step\n.type heap_calib_step,@function\n"
	"heap_calib_step:\n\ttest %rdi,%rdi\n\tret\n"
	".size heap_calib_step, .-heap_calib_step\n");
void heap_calib_emul(void);
void heap_calib_step(void);

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Nanoseconds per call of fn, best of a few rounds (others share the CPUs). */
static double time_calls(void (*volatile fn)(void), int calls)
{
	double best = 1e18;

	for (int r = 0; r < CALIB_ROUNDS; r++) {
		int64_t t0 = mono_ns();

		for (int i = 0; i < calls; i++)
			fn();
		if ((double)(mono_ns() - t0) / calls < best)
			best = (double)(mono_ns() - t0) / calls;
	}
	return best;
}

int heap_probe__self_offset(uintptr_t addr, char *path, size_t len, uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	unsigned long start, end, moff;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &moff) != 3 || addr < start ||
		    addr >= end || !p)
			continue;
		p[strcspn(p, "\n")] = 0;
		snprintf(path, len, "%s", p);
		*off = addr - start + moff;
		err = 0;
	}
	fclose(f);
	return err;
}

static double trap_cost(struct bpf_program *prog, void (*fn)(void), int calls)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	char path[PATH_MAX];
	struct bpf_link *link;
	double plain, probed;
	uint64_t off = 0;

	if (heap_probe__self_offset((uintptr_t)fn, path, sizeof(path), &off))
		return -1;
	plain = time_calls(fn, calls);
	link = bpf_program__attach_uprobe_opts(prog, getpid(), path, off, &uo);
	if (!link)
		return -1;
	probed = time_calls(fn, calls);
	bpf_link__destroy(link);
	return probed > plain ? probed - plain : 0;
}

int heap_probe__calibrate(struct bpf_program *prog, struct heap_calib *out)
{
	out->emulated_ns = trap_cost(prog, heap_calib_emul, CALIB_EMUL_CALLS);
	out->stepped_ns = trap_cost(prog, heap_calib_step, CALIB_STEP_CALLS);
	return out->emulated_ns < 0 || out->stepped_ns < 0 ? -EIO : 0;
}
