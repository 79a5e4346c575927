	.text
	.globl _start
	.type _start, @function
_start:
	.cfi_startproc
	nop
	.cfi_escape 0x10, 0xae, 0xff, 0xff, 0x64, 0x01, 0x30
	nop
	ret
	.cfi_endproc
	.size _start, .-_start
