	.text
	.globl _start
	.type _start, @function
_start:
	.cfi_startproc
	nop
	.cfi_undefined 200000000
	nop
	ret
	.cfi_endproc
	.size _start, .-_start
