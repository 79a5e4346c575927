/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reference for test_unwind_cfi.c: the table compiler as it was before
 * it interpreted CFA programs itself, asking libdw (dwarf_cfi_addrframe) for
 * the row at each address. Quadratic in an FDE's rows and unbounded in
 * memory on hostile input, so only ever run on well-formed system binaries:
 * the new compiler must give the same rows, byte for byte.
 */
#ifndef BPFPROF_TEST_UNWIND_CFI_REF_H
#define BPFPROF_TEST_UNWIND_CFI_REF_H

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/cfi.h"

#define REF_REG_RBP 6
#define REF_REG_RSP 7
#define REF_REG_RA 16
#define REF_PC_MAX 0xffffffffULL

/* Grows the row array by one and appends *row unless it repeats the last rule. */
static int ref_push_row(struct cfi_rows *r, const struct unwind_row *row)
{
	struct unwind_row *last = r->n ? &r->rows[r->n - 1] : NULL, *grown;
	size_t cap;

	if (last && last->cfa_type == row->cfa_type && last->cfa_off == row->cfa_off &&
	    last->rbp_type == row->rbp_type && last->rbp_off == row->rbp_off)
		return 0;
	if (last && last->pc == row->pc) {
		*last = *row; /* an empty range: the newer rule wins */
		return 0;
	}
	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 1024;
		grown = realloc(r->rows, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->rows = grown;
		r->cap = cap;
	}
	r->rows[r->n++] = *row;
	return 0;
}

/* One value of a DW_EH_PE encoding at p (fixed-size formats only); false if unsupported. */
static bool ref_read_encoded(const uint8_t *p, const uint8_t *end, uint8_t enc, uint64_t pc,
			 uint64_t data, uint64_t *val, size_t *len)
{
	int64_t v;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		*len = 8;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		*len = 4;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		*len = 2;
		break;
	default:
		return false;
	}
	if (p + *len > end)
		return false;
	if (*len == 8) {
		memcpy(&v, p, 8);
	} else if (*len == 4) {
		int32_t s;
		uint32_t u;

		memcpy(&s, p, 4);
		memcpy(&u, p, 4);
		v = (enc & 0x0f) == DW_EH_PE_sdata4 ? s : (int64_t)u;
	} else {
		int16_t s;
		uint16_t u;

		memcpy(&s, p, 2);
		memcpy(&u, p, 2);
		v = (enc & 0x0f) == DW_EH_PE_sdata2 ? s : (int64_t)u;
	}
	if ((enc & 0x70) == DW_EH_PE_pcrel)
		v += pc;
	else if ((enc & 0x70) == DW_EH_PE_datarel)
		v += data;
	else if (enc & 0x70)
		return false;
	*val = v;
	return true;
}

static Elf_Scn *ref_find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *n;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name) && sh->sh_type != SHT_NOBITS)
			return scn;
	}
	return NULL;
}

/* The FDE start addresses from .eh_frame_hdr's search table (sorted by the linker). */
static int ref_fde_starts(Elf *elf, uint64_t **out, size_t *n)
{
	GElf_Shdr sh;
	Elf_Scn *scn = ref_find_section(elf, ".eh_frame_hdr", &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const uint8_t *p, *end;
	uint64_t base, v, count, fde;
	size_t len;

	if (!d || d->d_size < 4)
		return -ENOENT;
	p = d->d_buf;
	end = p + d->d_size;
	base = sh.sh_addr;
	if (p[0] != 1 || p[2] == DW_EH_PE_omit || p[3] == DW_EH_PE_omit)
		return -ENOENT;
	if (!ref_read_encoded(p + 4, end, p[1], base + 4, base, &v, &len))
		return -EINVAL;
	p += 4 + len;
	if (!ref_read_encoded(p, end, ((const uint8_t *)d->d_buf)[2], base + (p - (uint8_t *)d->d_buf),
			  base, &count, &len))
		return -EINVAL;
	p += len;
	if (count > d->d_size) /* each entry takes at least 4 bytes */
		return -EINVAL;
	*out = calloc(count ?: 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (*n = 0; *n < count; (*n)++) {
		uint8_t enc = ((const uint8_t *)d->d_buf)[3];
		uint64_t off = base + (p - (uint8_t *)d->d_buf);

		if (!ref_read_encoded(p, end, enc, off, base, &(*out)[*n], &len))
			break;
		p += len;
		if (!ref_read_encoded(p, end, enc, off + len, base, &fde, &len))
			break;
		p += len;
	}
	return 0;
}

/* rsp+off, rbp+off, the PLT expression; anything else is INVALID. */
static void ref_cfa_rule(Dwarf_Frame *fr, struct unwind_row *row)
{
	Dwarf_Op *ops;
	size_t nops;
	int reg = -1;
	int64_t off = 0;

	row->cfa_type = UNWIND_CFA_INVALID;
	if (dwarf_frame_cfa(fr, &ops, &nops) || !nops)
		return;
	if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		reg = ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (nops == 1 && ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else if (nops == 9 && ops[0].atom == DW_OP_breg7 && ops[0].number == 8 &&
		   ops[1].atom == DW_OP_breg16 && ops[2].atom == DW_OP_lit15 &&
		   ops[3].atom == DW_OP_and && ops[4].atom >= DW_OP_lit0 &&
		   ops[4].atom <= DW_OP_lit31 && ops[5].atom == DW_OP_ge &&
		   ops[6].atom == DW_OP_lit3 && ops[7].atom == DW_OP_shl &&
		   ops[8].atom == DW_OP_plus) {
		/* The PLT: CFA = rsp + 8, + 8 more once past the push in each 16-byte entry. */
		row->cfa_type = UNWIND_CFA_PLT;
		row->cfa_off = ops[4].atom - DW_OP_lit0;
		return;
	}
	if (off < INT32_MIN || off > INT32_MAX)
		return;
	if (reg == REF_REG_RSP)
		row->cfa_type = UNWIND_CFA_RSP;
	else if (reg == REF_REG_RBP)
		row->cfa_type = UNWIND_CFA_RBP;
	else
		return;
	row->cfa_off = off;
}

/* Where the caller's rbp is: unchanged, at CFA+off, or lost. */
static void ref_rbp_rule(Dwarf_Frame *fr, struct unwind_row *row)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;

	row->rbp_type = UNWIND_RBP_UNDEF;
	if (dwarf_frame_register(fr, REF_REG_RBP, mem, &ops, &nops))
		return;
	if (nops == 0) {
		row->rbp_type = UNWIND_RBP_SAME;
		return;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return;
	if (nops == 1)
		off = 0;
	else if (nops == 2 && ops[1].atom == DW_OP_plus_uconst)
		off = (int64_t)ops[1].number;
	else if (nops == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus)
		off = (int64_t)ops[1].number;
	else
		return;
	if (off < INT16_MIN || off > INT16_MAX)
		return;
	row->rbp_type = UNWIND_RBP_CFA;
	row->rbp_off = off;
}

/* An undefined return address marks the outermost frame (_start, clone3). */
static bool ref_ra_undefined(Dwarf_Frame *fr)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	return !dwarf_frame_register(fr, REF_REG_RA, mem, &ops, &nops) && nops == 0 && ops == mem;
}

static void ref_row_of_frame(Dwarf_Frame *fr, bool signal, struct unwind_row *row)
{
	ref_cfa_rule(fr, row);
	ref_rbp_rule(fr, row);
	if (signal)
		row->cfa_type = UNWIND_CFA_SIGNAL;
	else if (ref_ra_undefined(fr))
		row->cfa_type = UNWIND_CFA_END;
}

/* Walks one run of contiguous FDEs from pc; returns where CFI stops (the cursor). */
static int ref_walk_from(Dwarf_CFI *cfi, uint64_t pc, struct cfi_rows *out, uint64_t *cursor)
{
	Dwarf_Addr start, end;
	Dwarf_Frame *fr;
	struct unwind_row row;
	bool signal;
	int err = 0;

	while (!err && dwarf_cfi_addrframe(cfi, pc, &fr) == 0) {
		if (dwarf_frame_info(fr, &start, &end, &signal) < 0 || end <= pc) {
			free(fr);
			break;
		}
		if (end > REF_PC_MAX + 1) {
			free(fr);
			return -EOVERFLOW;
		}
		memset(&row, 0, sizeof(row));
		row.pc = pc;
		ref_row_of_frame(fr, signal, &row);
		free(fr);
		err = ref_push_row(out, &row);
		pc = end;
	}
	*cursor = pc;
	return err;
}

static int ref_gap_row(struct cfi_rows *out, uint64_t pc)
{
	struct unwind_row row = { .pc = pc, .cfa_type = UNWIND_CFA_INVALID };

	return ref_push_row(out, &row);
}

static int ref_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int ref_compile(Elf *elf, struct cfi_rows *out)
{
	Dwarf_CFI *cfi = NULL;
	uint64_t *starts = NULL, cursor = 0;
	size_t n = 0;
	int err;

	err = ref_fde_starts(elf, &starts, &n);
	if (err)
		goto out;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		err = -ENOENT;
		goto out;
	}
	qsort(starts, n, sizeof(*starts), ref_cmp_u64);
	for (size_t i = 0; i < n && !err; i++) {
		if (starts[i] < cursor)
			continue; /* walked already, as part of a contiguous run */
		if (starts[i] > REF_PC_MAX) {
			err = -EOVERFLOW;
			break;
		}
		if (cursor && starts[i] > cursor)
			err = ref_gap_row(out, cursor);
		out->fdes++;
		err = err ?: ref_walk_from(cfi, starts[i], out, &cursor);
	}
	if (!err && cursor && cursor <= REF_PC_MAX)
		err = ref_gap_row(out, cursor);
	if (!err && !out->n)
		err = -ENOENT;
out:
	if (cfi)
		dwarf_cfi_end(cfi);
	free(starts);
	if (err)
		cfi_rows__free(out);
	return err;
}

#endif
