	.text
	.globl _start
	.type _start, @function
_start:
	.cfi_startproc
	nop
	.cfi_undefined 200000000
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	nop
	.cfi_adjust_cfa_offset 8
	ret
	.cfi_endproc
	.size _start, .-_start
