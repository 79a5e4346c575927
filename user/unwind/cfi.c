// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * .eh_frame -> compact rows, one pass over each FDE's CFA program.
 *
 * The FDEs come from the sorted search table in .eh_frame_hdr (present in
 * every binary linked with --eh-frame-hdr, the default). Walking from the
 * first FDE, each FDE's program is interpreted once and emits a row at each
 * advance of the location; where the FDE ends the walk goes on with the FDE
 * covering that address, and where none does it leaves a gap (an INVALID row:
 * the BPF side falls back to frame pointers there).
 *
 * This used to ask libdw (dwarf_cfi_addrframe) for the row at each address.
 * That re-ran the FDE's program for every row (quadratic: 64 k rows took
 * 5.3 s) and libdw grows a register array to the largest register a rule
 * names (a 9 KB binary naming register 200000000 cost 1.5 GB and 4 s per
 * row). The interpreter below keeps only what the rows need (the CFA, rbp
 * and the return address), refuses an FDE that names a register x86-64 does
 * not have (DWARF numbers < 128) or that it cannot decode, and counts its
 * work against a per-binary budget. The rows are the ones libdw's answers
 * gave (the unit test compares both on system binaries).
 */
#include <dwarf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unwind/cfi.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16
#define REG_LIMIT 128 /* x86-64 DWARF register numbers are below this */
#define PC_MAX 0xffffffffULL

/*
 * Per-binary budget. Rows: 4 Mi rows (48 MiB) is 4x the largest binary on
 * a Debian desktop (libLLVM-15, 117 MB, 0.98 M rows) and 3/4 of the default
 * 64 MiB row array, so a binary over it would evict nearly everything else
 * anyway. Instructions: real CFI runs about 2 per row; 8 per row of the row
 * cap leaves room for odd compilers while bounding a program of nops.
 * CPU: libLLVM compiles in about 0.1 s; 2 s is the backstop if the counts
 * above ever miss a cost.
 */
const struct cfi_budget cfi_default_budget = {
	.max_rows = 4u << 20,
	.max_ops = 32u << 20,
	.max_cpu_ns = 2000000000ULL,
};

#define MAX_DEPTH 16	   /* DW_CFA_remember_state nesting; compilers use 1 or 2 */
#define CIE_SLOTS 64	   /* CIEs' initial states cached; linkers merge CIEs to a few */
#define MAX_AUG 8	   /* augmentation string length ("zPLR" and the like) */
#define MAX_EXPR_OPS 10	   /* DWARF operations decoded in an expression */
#define CPU_CHECK_OPS 4096 /* instructions between CPU-time checks */

/* The interpreter's verdicts, beside 0 and negative errnos. */
#define REJECT 1 /* this FDE is refused: its range becomes a gap */
#define DONE 2	 /* the FDE's rows are all out */

enum rule_kind { R_UNSPEC, R_UNDEF, R_SAME, R_OFFSET, R_VAL_OFFSET, R_REGISTER, R_EXPR, R_VAL_EXPR };
enum cfa_kind { C_UNDEF, C_OFFSET, C_EXPR, C_INVALID };

struct rule {
	uint8_t kind; /* enum rule_kind */
	int64_t val;  /* R_OFFSET, R_VAL_OFFSET */
	const uint8_t *expr;
	uint64_t len;
};

/* What the rows need of a CFA program's state. */
struct state {
	uint8_t cfa; /* enum cfa_kind */
	uint64_t cfa_reg;
	int64_t cfa_off;
	const uint8_t *cfa_expr;
	uint64_t cfa_len;
	struct rule rbp, ra;
};

struct cie {
	uint64_t off; /* in .eh_frame; UINT64_MAX: slot empty */
	bool ok;      /* false: malformed, every FDE using it is refused */
	bool signal;  /* 'S': a signal trampoline */
	uint8_t fde_enc;
	bool z;
	uint64_t caf;
	int64_t daf;
	struct state init; /* after the ABI defaults and the CIE's instructions */
};

struct fde {
	uint64_t start, end;
	uint64_t cie_off;
	const uint8_t *ins, *ins_end;
};

struct ctx {
	const uint8_t *eh; /* .eh_frame */
	size_t eh_size;
	uint64_t eh_addr;
	const uint8_t *hdr; /* .eh_frame_hdr */
	size_t hdr_size;
	uint64_t hdr_addr;
	const uint8_t *tab; /* its search table */
	size_t tab_n, ent_len;
	uint8_t tab_enc;
	const struct cfi_budget *b;
	struct cfi_rows *out;
	uint64_t cpu0;
	struct cie cies[CIE_SLOTS];
};

/* An FDE program being run: rows go out from pc until end. */
struct run {
	uint64_t loc, pc, end;
	bool signal;
};

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Counts one unit of work; -E2BIG past the instruction or CPU budget. */
static int charge(struct ctx *c)
{
	if (++c->out->ops > c->b->max_ops)
		return -E2BIG;
	if (c->out->ops % CPU_CHECK_OPS == 0 && cpu_ns() - c->cpu0 > c->b->max_cpu_ns)
		return -E2BIG;
	return 0;
}

static uint8_t rd_u8(struct rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static uint64_t rd_fixed(struct rd *r, size_t len)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < len) {
		r->bad = true;
		r->p = r->end;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += len;
	return v;
}

static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	uint8_t byte;

	for (unsigned shift = 0;; shift += 7) {
		byte = rd_u8(r);
		if (r->bad || shift >= 64) {
			r->bad = true;
			return 0;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
}

static int64_t rd_sleb(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t byte;

	do {
		byte = rd_u8(r);
		if (r->bad || shift >= 64) {
			r->bad = true;
			return 0;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	if (shift < 64 && (byte & 0x40))
		v |= ~0ULL << shift;
	return (int64_t)v;
}

/* The byte size of a DW_EH_PE format with a fixed size, or 0. */
static size_t enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		return 2;
	default:
		return 0;
	}
}

/* One DW_EH_PE value at r (at address at); false if unsupported or truncated. */
static bool rd_encoded(struct rd *r, uint8_t enc, uint64_t at, uint64_t data, uint64_t *val)
{
	size_t len = enc_size(enc);
	uint64_t v;

	if (!len || (enc & DW_EH_PE_indirect))
		return false;
	v = rd_fixed(r, len);
	if (r->bad)
		return false;
	if ((enc & 0x0f) == DW_EH_PE_sdata4)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if ((enc & 0x0f) == DW_EH_PE_sdata2)
		v = (uint64_t)(int64_t)(int16_t)v;
	if ((enc & 0x70) == DW_EH_PE_pcrel)
		v += at;
	else if ((enc & 0x70) == DW_EH_PE_datarel)
		v += data;
	else if (enc & 0x70)
		return false;
	*val = v;
	return true;
}

/* Grows the row array by one and appends *row unless it repeats the last rule. */
static int push_row(struct ctx *c, const struct unwind_row *row)
{
	struct cfi_rows *r = c->out;
	struct unwind_row *last = r->n ? &r->rows[r->n - 1] : NULL, *grown;
	size_t cap;

	if (last && last->cfa_type == row->cfa_type && last->cfa_off == row->cfa_off &&
	    last->rbp_type == row->rbp_type && last->rbp_off == row->rbp_off)
		return 0;
	if (last && last->pc == row->pc) {
		*last = *row; /* an empty range: the newer rule wins */
		return 0;
	}
	if (r->n >= c->b->max_rows)
		return -E2BIG;
	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 1024;
		if (cap > c->b->max_rows)
			cap = c->b->max_rows;
		grown = realloc(r->rows, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->rows = grown;
		r->cap = cap;
	}
	r->rows[r->n++] = *row;
	return 0;
}

static int gap_row(struct ctx *c, uint64_t pc)
{
	struct unwind_row row = { .pc = pc, .cfa_type = UNWIND_CFA_INVALID };

	return push_row(c, &row);
}

/* A DWARF operation, as far as the rows' patterns need. */
struct op {
	uint8_t atom;
	uint64_t a, b;
};

/* Decodes expr into ops; the count, or -1 when it holds anything the patterns never use. */
static int decode_expr(const uint8_t *expr, uint64_t len, struct op *ops)
{
	struct rd r = { expr, expr + len, false };
	int n = 0;

	while (r.p < r.end) {
		struct op *o = &ops[n];

		if (n == MAX_EXPR_OPS)
			return -1;
		o->atom = rd_u8(&r);
		o->a = o->b = 0;
		if (o->atom >= DW_OP_breg0 && o->atom <= DW_OP_breg31) {
			o->a = (uint64_t)rd_sleb(&r);
		} else if (o->atom == DW_OP_bregx) {
			o->a = rd_uleb(&r);
			o->b = (uint64_t)rd_sleb(&r);
		} else if (o->atom == DW_OP_plus_uconst) {
			o->a = rd_uleb(&r);
		} else if (o->atom == DW_OP_consts) {
			o->a = (uint64_t)rd_sleb(&r);
		} else if (!(o->atom >= DW_OP_lit0 && o->atom <= DW_OP_lit31) &&
			   o->atom != DW_OP_and && o->atom != DW_OP_ge && o->atom != DW_OP_shl &&
			   o->atom != DW_OP_plus) {
			return -1;
		}
		if (r.bad)
			return -1;
		n++;
	}
	return n;
}

/* The PLT's CFA: rsp + 8, + 8 more once past the push in each 16-byte entry. */
static bool plt_expr(const struct op *o, struct unwind_row *row)
{
	if (o[0].atom != DW_OP_breg7 || o[0].a != 8 || o[1].atom != DW_OP_breg16 ||
	    o[2].atom != DW_OP_lit15 || o[3].atom != DW_OP_and || o[4].atom < DW_OP_lit0 ||
	    o[4].atom > DW_OP_lit31 || o[5].atom != DW_OP_ge || o[6].atom != DW_OP_lit3 ||
	    o[7].atom != DW_OP_shl || o[8].atom != DW_OP_plus)
		return false;
	row->cfa_type = UNWIND_CFA_PLT;
	row->cfa_off = o[4].atom - DW_OP_lit0;
	return true;
}

/* rsp+off, rbp+off, the PLT expression; anything else is INVALID. */
static void cfa_rule(const struct state *s, struct unwind_row *row)
{
	struct op ops[MAX_EXPR_OPS];
	uint64_t reg;
	int64_t off;
	int n;

	row->cfa_type = UNWIND_CFA_INVALID;
	if (s->cfa == C_OFFSET) {
		reg = s->cfa_reg;
		off = s->cfa_off;
	} else if (s->cfa == C_EXPR) {
		n = decode_expr(s->cfa_expr, s->cfa_len, ops);
		if (n == 9 && plt_expr(ops, row))
			return;
		if (n != 1)
			return;
		if (ops[0].atom == DW_OP_bregx) {
			reg = ops[0].a;
			off = (int64_t)ops[0].b;
		} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
			reg = ops[0].atom - DW_OP_breg0;
			off = (int64_t)ops[0].a;
		} else {
			return;
		}
	} else {
		return;
	}
	if (off < INT32_MIN || off > INT32_MAX)
		return;
	if (reg == REG_RSP)
		row->cfa_type = UNWIND_CFA_RSP;
	else if (reg == REG_RBP)
		row->cfa_type = UNWIND_CFA_RBP;
	else
		return;
	row->cfa_off = off;
}

/* Where the caller's rbp is: unchanged, at CFA+off, or lost. */
static void rbp_rule(const struct rule *r, struct unwind_row *row)
{
	struct op ops[MAX_EXPR_OPS];
	int64_t off;
	int n;

	row->rbp_type = UNWIND_RBP_UNDEF;
	switch (r->kind) {
	case R_UNSPEC:
	case R_UNDEF:
	case R_SAME:
		row->rbp_type = UNWIND_RBP_SAME;
		return;
	case R_OFFSET:
		off = r->val;
		break;
	case R_EXPR: /* the address is the expression's value with the CFA pushed first */
		n = decode_expr(r->expr, r->len, ops);
		if (n == 0)
			off = 0;
		else if (n == 1 && ops[0].atom == DW_OP_plus_uconst)
			off = (int64_t)ops[0].a;
		else if (n == 2 && ops[0].atom == DW_OP_consts && ops[1].atom == DW_OP_plus)
			off = (int64_t)ops[0].a;
		else
			return;
		break;
	default:
		return;
	}
	if (off < INT16_MIN || off > INT16_MAX)
		return;
	row->rbp_type = UNWIND_RBP_CFA;
	row->rbp_off = off;
}

static int emit(struct ctx *c, const struct run *f, const struct state *s)
{
	struct unwind_row row;

	memset(&row, 0, sizeof(row));
	row.pc = f->pc;
	cfa_rule(s, &row);
	rbp_rule(&s->rbp, &row);
	if (f->signal)
		row.cfa_type = UNWIND_CFA_SIGNAL;
	else if (s->ra.kind == R_UNDEF || s->ra.kind == R_UNSPEC)
		row.cfa_type = UNWIND_CFA_END; /* the outermost frame (_start, clone3) */
	return push_row(c, &row);
}

/* A rule for reg; only rbp and the return address matter to the rows. */
static int set_rule(struct state *s, uint64_t reg, struct rule r)
{
	if (reg >= REG_LIMIT)
		return REJECT;
	if (reg == REG_RBP)
		s->rbp = r;
	else if (reg == REG_RA)
		s->ra = r;
	return 0;
}

static int restore_rule(struct state *s, const struct cie *cie, uint64_t reg)
{
	if (!cie)
		return REJECT; /* DW_CFA_restore in a CIE's own instructions */
	if (reg >= REG_LIMIT)
		return REJECT;
	if (reg == REG_RBP)
		s->rbp = cie->init.rbp;
	else if (reg == REG_RA)
		s->ra = cie->init.ra;
	return 0;
}

static int def_cfa(struct state *s, uint64_t reg, int64_t off)
{
	if (reg >= REG_LIMIT)
		return REJECT;
	s->cfa = C_OFFSET;
	s->cfa_reg = reg;
	s->cfa_off = off;
	return 0;
}

/* The location moves to loc: the row before it goes out when it covers [f->pc, loc). */
static int advance(struct ctx *c, struct run *f, const struct state *s, uint64_t loc)
{
	int err;

	if (!f)
		return REJECT; /* a location in a CIE's instructions */
	if (loc > f->pc) {
		err = emit(c, f, s);
		if (err)
			return err;
		f->pc = loc < f->end ? loc : f->end;
		if (f->pc == f->end)
			return DONE;
	}
	f->loc = loc;
	return 0;
}

/* Reads a DW_FORM_block (ULEB128 length, bytes) from r. */
static bool rd_block(struct rd *r, const uint8_t **p, uint64_t *len)
{
	*len = rd_uleb(r);
	if (r->bad || *len > (uint64_t)(r->end - r->p))
		return false;
	*p = r->p;
	r->p += *len;
	return true;
}

struct interp {
	struct ctx *c;
	const struct cie *cie; /* NULL while running the CIE's own instructions */
	const struct cie *fmt; /* alignment factors and encodings */
	struct state *s;
	struct run *f; /* NULL for a CIE */
	struct state stack[MAX_DEPTH];
	int depth;
};

/* DW_CFA_offset-like rules: reg and a factored offset. */
static int offset_rule(struct interp *in, uint64_t reg, uint64_t factored, uint8_t kind)
{
	struct rule r = { .kind = kind, .val = (int64_t)(factored * (uint64_t)in->fmt->daf) };

	return set_rule(in->s, reg, r);
}

static int expr_rule(struct interp *in, struct rd *r, uint8_t kind)
{
	uint64_t reg = rd_uleb(r);
	struct rule rule = { .kind = kind };

	if (!rd_block(r, &rule.expr, &rule.len))
		return REJECT;
	return set_rule(in->s, reg, rule);
}

static int cfa_change(struct interp *in, struct rd *r, uint8_t op)
{
	struct state *s = in->s;
	uint64_t reg, u;

	switch (op) {
	case DW_CFA_def_cfa:
		reg = rd_uleb(r);
		return def_cfa(s, reg, (int64_t)rd_uleb(r));
	case DW_CFA_def_cfa_sf:
		reg = rd_uleb(r);
		return def_cfa(s, reg, (int64_t)((uint64_t)rd_sleb(r) * (uint64_t)in->fmt->daf));
	case DW_CFA_def_cfa_register:
		reg = rd_uleb(r);
		if (reg >= REG_LIMIT)
			return REJECT;
		if (s->cfa != C_OFFSET)
			s->cfa = C_INVALID;
		s->cfa_reg = reg;
		return 0;
	case DW_CFA_def_cfa_offset:
	case DW_CFA_def_cfa_offset_sf:
		u = op == DW_CFA_def_cfa_offset ? rd_uleb(r) :
						  (uint64_t)rd_sleb(r) * (uint64_t)in->fmt->daf;
		if (s->cfa != C_OFFSET)
			s->cfa = C_INVALID;
		s->cfa_off = (int64_t)u;
		return 0;
	case DW_CFA_def_cfa_expression:
		if (!rd_block(r, &s->cfa_expr, &s->cfa_len))
			return REJECT;
		s->cfa = C_EXPR;
		return 0;
	}
	return REJECT;
}

static int state_op(struct interp *in, uint8_t op)
{
	if (op == DW_CFA_remember_state) {
		if (in->depth == MAX_DEPTH)
			return REJECT;
		in->stack[in->depth++] = *in->s;
		return 0;
	}
	if (!in->depth)
		return REJECT;
	*in->s = in->stack[--in->depth];
	return 0;
}

/* The extended (0x00-0x3f) instructions that set rules. */
static int rule_op(struct interp *in, struct rd *r, uint8_t op)
{
	uint64_t reg, reg2;

	switch (op) {
	case DW_CFA_offset_extended:
		reg = rd_uleb(r);
		return offset_rule(in, reg, rd_uleb(r), R_OFFSET);
	case DW_CFA_offset_extended_sf:
		reg = rd_uleb(r);
		return offset_rule(in, reg, (uint64_t)rd_sleb(r), R_OFFSET);
	case DW_CFA_GNU_negative_offset_extended:
		reg = rd_uleb(r);
		return offset_rule(in, reg, -rd_uleb(r), R_OFFSET);
	case DW_CFA_val_offset:
		reg = rd_uleb(r);
		return offset_rule(in, reg, rd_uleb(r), R_VAL_OFFSET);
	case DW_CFA_val_offset_sf:
		reg = rd_uleb(r);
		return offset_rule(in, reg, (uint64_t)rd_sleb(r), R_VAL_OFFSET);
	case DW_CFA_restore_extended:
		return restore_rule(in->s, in->cie, rd_uleb(r));
	case DW_CFA_undefined:
		return set_rule(in->s, rd_uleb(r), (struct rule){ .kind = R_UNDEF });
	case DW_CFA_same_value:
		return set_rule(in->s, rd_uleb(r), (struct rule){ .kind = R_SAME });
	case DW_CFA_register:
		reg = rd_uleb(r);
		reg2 = rd_uleb(r);
		if (reg2 >= REG_LIMIT)
			return REJECT;
		return set_rule(in->s, reg, (struct rule){ .kind = R_REGISTER });
	case DW_CFA_expression:
		return expr_rule(in, r, R_EXPR);
	case DW_CFA_val_expression:
		return expr_rule(in, r, R_VAL_EXPR);
	case DW_CFA_GNU_window_save:
		/* SPARC's shorthand, as libdw reads it: the return address at CFA + 0. */
		in->s->ra = (struct rule){ .kind = R_OFFSET };
		return 0;
	case DW_CFA_GNU_args_size:
		rd_uleb(r);
		return 0;
	case DW_CFA_nop:
		return 0;
	}
	return cfa_change(in, r, op);
}

/* The instructions that move the location. */
static int loc_op(struct interp *in, struct rd *r, uint8_t op)
{
	uint64_t delta, loc;
	const uint8_t *at = r->p;

	switch (op) {
	case DW_CFA_advance_loc1:
		delta = rd_fixed(r, 1);
		break;
	case DW_CFA_advance_loc2:
		delta = rd_fixed(r, 2);
		break;
	case DW_CFA_advance_loc4:
		delta = rd_fixed(r, 4);
		break;
	case DW_CFA_MIPS_advance_loc8:
		delta = rd_fixed(r, 8);
		break;
	case DW_CFA_set_loc:
		if (!in->f || !rd_encoded(r, in->fmt->fde_enc, in->c->eh_addr + (at - in->c->eh),
					  in->c->eh_addr, &loc))
			return REJECT;
		return advance(in->c, in->f, in->s, loc);
	default:
		return -1; /* not a location instruction */
	}
	if (r->bad || !in->f)
		return REJECT;
	return advance(in->c, in->f, in->s, in->f->loc + delta * in->fmt->caf);
}

static int step(struct interp *in, struct rd *r)
{
	uint8_t op = rd_u8(r), low = op & 0x3f;
	int err;

	switch (op & 0xc0) {
	case DW_CFA_advance_loc:
		if (!in->f)
			return REJECT;
		return advance(in->c, in->f, in->s, in->f->loc + low * in->fmt->caf);
	case DW_CFA_offset:
		return offset_rule(in, low, rd_uleb(r), R_OFFSET);
	case DW_CFA_restore:
		return restore_rule(in->s, in->cie, low);
	}
	if (op == DW_CFA_remember_state || op == DW_CFA_restore_state)
		return state_op(in, op);
	err = loc_op(in, r, op);
	return err == -1 ? rule_op(in, r, op) : err;
}

/*
 * Runs ins..end from *s. For an FDE (f set) rows go out from f->pc; the
 * last row runs to f->end. 0, REJECT, or a negative errno.
 */
static int interpret(struct ctx *c, const struct cie *fmt, const struct cie *cie,
		     struct state *s, struct run *f, const uint8_t *ins, const uint8_t *end)
{
	struct interp in = { .c = c, .cie = cie, .fmt = fmt, .s = s, .f = f };
	struct rd r = { ins, end, false };
	int err = 0;

	while (!err && r.p < r.end) {
		err = charge(c);
		err = err ?: step(&in, &r);
		if (!err && r.bad)
			err = REJECT;
	}
	if (err == DONE)
		return 0;
	if (err || !f)
		return err;
	if (f->pc < f->end) {
		err = emit(c, f, s);
		f->pc = f->end;
	}
	return err;
}

/* The augmentation of a CIE: encodings and flags. false when it cannot be read. */
static bool cie_augmentation(struct cie *cie, struct rd *r, const char *aug, uint64_t at,
			     uint64_t eh_addr)
{
	const uint8_t *data_end = r->end;
	uint64_t len, ignored;
	uint8_t enc;

	if (aug[0] == 'z') {
		len = rd_uleb(r);
		if (r->bad || len > (uint64_t)(r->end - r->p))
			return false;
		data_end = r->p + len;
	} else if (aug[0]) {
		return false; /* data of unknown size follows */
	}
	for (const char *a = aug + 1; *a && aug[0] == 'z'; a++) {
		struct rd d = { r->p, data_end, false };

		if (*a == 'S') {
			cie->signal = true;
		} else if (*a == 'R') {
			cie->fde_enc = rd_u8(&d);
		} else if (*a == 'L') {
			rd_u8(&d);
		} else if (*a == 'P') {
			enc = rd_u8(&d);
			if (!rd_encoded(&d, enc & ~DW_EH_PE_indirect, at + (d.p - r->p), eh_addr,
					&ignored))
				return false;
		} else {
			break; /* unknown: the 'z' length lets us skip the rest */
		}
		if (d.bad)
			return false;
		r->p = d.p;
	}
	if (aug[0] == 'z')
		r->p = data_end;
	return !r->bad;
}

/* Reads the CIE at off and runs its instructions from the x86-64 ABI's defaults. */
static void cie_load(struct ctx *c, struct cie *cie, uint64_t off)
{
	struct rd r = { c->eh + off, c->eh + c->eh_size, false };
	uint64_t len = rd_fixed(&r, 4);
	char aug[MAX_AUG + 1];
	size_t n = 0;
	uint8_t version;

	memset(cie, 0, sizeof(*cie));
	cie->off = off;
	if (r.bad || len == 0 || len == 0xffffffff || len > (uint64_t)(r.end - r.p))
		return;
	r.end = r.p + len;
	if (rd_fixed(&r, 4) != 0)
		return; /* not a CIE */
	version = rd_u8(&r);
	while (n < MAX_AUG && r.p < r.end && *r.p)
		aug[n++] = *r.p++;
	aug[n] = 0;
	if (rd_u8(&r) != 0 || (version != 1 && version != 3 && version != 4))
		return;
	if (version == 4)
		rd_fixed(&r, 2); /* address and segment selector sizes */
	cie->caf = rd_uleb(&r);
	cie->daf = rd_sleb(&r);
	if (version == 1)
		rd_u8(&r);
	else
		rd_uleb(&r); /* the return address column */
	cie->fde_enc = DW_EH_PE_absptr;
	cie->z = aug[0] == 'z';
	if (r.bad || !cie_augmentation(cie, &r, aug, c->eh_addr + (r.p - c->eh), c->eh_addr))
		return;
	cie->init = (struct state){ .cfa = C_UNDEF,
				    .rbp = { .kind = R_SAME },
				    .ra = { .kind = R_SAME } };
	cie->ok = interpret(c, cie, NULL, &cie->init, NULL, r.p, r.end) == 0;
}

/* The CIE at off, from the cache or read now; NULL when it is malformed. */
static const struct cie *cie_get(struct ctx *c, uint64_t off)
{
	struct cie *cie = &c->cies[(off >> 2) % CIE_SLOTS];

	if (cie->off != off)
		cie_load(c, cie, off);
	return cie->ok ? cie : NULL;
}

/* Reads the FDE at vaddr; false when it is not one we can read. */
static bool fde_read(struct ctx *c, uint64_t vaddr, struct fde *fd, const struct cie **cie)
{
	uint64_t off = vaddr - c->eh_addr, len, id, range;
	struct rd r;

	if (vaddr < c->eh_addr || off >= c->eh_size)
		return false;
	r = (struct rd){ c->eh + off, c->eh + c->eh_size, false };
	len = rd_fixed(&r, 4);
	if (r.bad || len == 0 || len == 0xffffffff || len > (uint64_t)(r.end - r.p))
		return false;
	r.end = r.p + len;
	id = rd_fixed(&r, 4);
	if (r.bad || id == 0 || id > off + 4)
		return false;
	fd->cie_off = off + 4 - id;
	*cie = cie_get(c, fd->cie_off);
	if (!*cie)
		return false;
	if (!rd_encoded(&r, (*cie)->fde_enc, c->eh_addr + (r.p - c->eh), c->eh_addr, &fd->start) ||
	    !rd_encoded(&r, (*cie)->fde_enc & 0x0f, 0, 0, &range))
		return false;
	fd->end = fd->start + range;
	if (fd->end < fd->start)
		return false;
	if ((*cie)->z) {
		len = rd_uleb(&r);
		if (r.bad || len > (uint64_t)(r.end - r.p))
			return false;
		r.p += len;
	}
	fd->ins = r.p;
	fd->ins_end = r.end;
	return true;
}

/* Entry i of the search table: the FDE's start and its address. */
static bool tab_entry(const struct ctx *c, size_t i, uint64_t *loc, uint64_t *fde)
{
	const uint8_t *p = c->tab + i * 2 * c->ent_len;
	struct rd r = { p, p + 2 * c->ent_len, false };
	uint64_t at = c->hdr_addr + (p - c->hdr);

	return rd_encoded(&r, c->tab_enc, at, c->hdr_addr, loc) &&
	       rd_encoded(&r, c->tab_enc, at + c->ent_len, c->hdr_addr, fde);
}

/* The FDE covering pc, as libdw finds it: the last table entry at or below pc. */
static bool fde_at(struct ctx *c, uint64_t pc, struct fde *fd, const struct cie **cie)
{
	size_t lo = 0, hi = c->tab_n, mid;
	uint64_t loc, addr;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (!tab_entry(c, mid, &loc, &addr))
			return false;
		if (loc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !tab_entry(c, lo - 1, &loc, &addr) || !fde_read(c, addr, fd, cie))
		return false;
	return fd->start <= pc && pc < fd->end;
}

/* Rows of one FDE from *pc to its end; a refused FDE leaves one gap row instead. */
static int fde_walk(struct ctx *c, const struct fde *fd, const struct cie *cie, uint64_t *pc)
{
	struct run f = { .loc = fd->start, .pc = *pc, .end = fd->end, .signal = cie->signal };
	struct state s = cie->init;
	size_t n0 = c->out->n;
	int err;

	c->out->fdes++;
	err = charge(c);
	err = err ?: interpret(c, cie, cie, &s, &f, fd->ins, fd->ins_end);
	if (err == REJECT) {
		c->out->n = n0;
		c->out->rejected++;
		err = gap_row(c, *pc);
		f.pc = fd->end;
	}
	*pc = f.pc;
	return err;
}

/* Walks one run of contiguous FDEs from pc; returns where CFI stops (the cursor). */
static int walk_from(struct ctx *c, uint64_t pc, uint64_t *cursor)
{
	const struct cie *cie;
	struct fde fd;
	int err = 0;

	while (!err && fde_at(c, pc, &fd, &cie)) {
		if (fd.end > PC_MAX + 1)
			return -EOVERFLOW;
		err = fde_walk(c, &fd, cie, &pc);
	}
	*cursor = pc;
	return err;
}

static const uint8_t *section(Elf *elf, const char *name, size_t *size, uint64_t *addr)
{
	Elf_Scn *scn = NULL;
	Elf_Data *d;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *n;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name) || sh.sh_type == SHT_NOBITS)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return NULL;
		*size = d->d_size;
		*addr = sh.sh_addr;
		return d->d_buf;
	}
	return NULL;
}

/* Finds .eh_frame, .eh_frame_hdr and its search table; checks the table is sorted. */
static int ctx_init(struct ctx *c, Elf *elf)
{
	struct rd r;
	uint64_t count, prev = 0, loc, fde;

	c->hdr = section(elf, ".eh_frame_hdr", &c->hdr_size, &c->hdr_addr);
	c->eh = section(elf, ".eh_frame", &c->eh_size, &c->eh_addr);
	if (!c->hdr || !c->eh || c->hdr_size < 4)
		return -ENOENT;
	if (c->hdr[0] != 1 || c->hdr[2] == DW_EH_PE_omit || c->hdr[3] == DW_EH_PE_omit)
		return -ENOENT;
	r = (struct rd){ c->hdr + 4, c->hdr + c->hdr_size, false };
	if (!rd_encoded(&r, c->hdr[1], c->hdr_addr + 4, c->hdr_addr, &fde) ||
	    !rd_encoded(&r, c->hdr[2], c->hdr_addr + (r.p - c->hdr), c->hdr_addr, &count))
		return -EINVAL;
	c->tab = r.p;
	c->tab_enc = c->hdr[3];
	c->ent_len = enc_size(c->tab_enc);
	if (!c->ent_len)
		return -EINVAL;
	c->tab_n = (size_t)(r.end - r.p) / (2 * c->ent_len);
	if (count < c->tab_n)
		c->tab_n = count;
	for (size_t i = 0; i < c->tab_n; i++) {
		if (!tab_entry(c, i, &loc, &fde) || loc < prev)
			return -EINVAL; /* libdw's binary search needs it sorted: so do we */
		if (charge(c))
			return -E2BIG; /* a table of a billion entries is work too */
		prev = loc;
	}
	for (size_t i = 0; i < CIE_SLOTS; i++)
		c->cies[i].off = UINT64_MAX;
	return 0;
}

static int walk_all(struct ctx *c)
{
	uint64_t cursor = 0, loc = 0, fde = 0;
	int err = 0;

	for (size_t i = 0; i < c->tab_n && !err; i++) {
		tab_entry(c, i, &loc, &fde); /* readable: checked by ctx_init */
		if (loc < cursor)
			continue; /* walked already, as part of a contiguous run */
		if (loc > PC_MAX)
			return -EOVERFLOW;
		if (cursor && loc > cursor)
			err = gap_row(c, cursor);
		err = err ?: charge(c);
		err = err ?: walk_from(c, loc, &cursor);
	}
	if (!err && cursor && cursor <= PC_MAX)
		err = gap_row(c, cursor);
	if (!err && !c->out->n)
		err = -ENOENT;
	return err;
}

int cfi__compile_budget(Elf *elf, const struct cfi_budget *budget, struct cfi_rows *out)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->b = budget;
	c->out = out;
	c->cpu0 = cpu_ns();
	err = ctx_init(c, elf);
	err = err ?: walk_all(c);
	free(c);
	if (err) {
		free(out->rows); /* the counters stay: they say how far it got */
		out->rows = NULL;
		out->n = out->cap = 0;
	}
	return err;
}

int cfi__compile(Elf *elf, struct cfi_rows *out)
{
	return cfi__compile_budget(elf, &cfi_default_budget, out);
}

const struct unwind_row *cfi_rows__find(const struct cfi_rows *r, uint64_t vaddr)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->rows[mid].pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &r->rows[lo - 1] : NULL;
}

void cfi_rows__free(struct cfi_rows *r)
{
	if (!r)
		return;
	free(r->rows);
	memset(r, 0, sizeof(*r));
}
