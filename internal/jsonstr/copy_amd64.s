#include "textflag.h"

// Both versions: a block needs a look when one of its bytes is below 0x20 or at or above 0x80
// (one signed compare of 0x20 against each byte: the latter are negative when signed), '"',
// '\\', or, with escapeHTML, '<', '>' or '&' (without it those three compares look for '"'
// again). Each block is stored before it is looked at. At the first byte that needs a look,
// a newline is written as \n over the stored copy and the copy goes on after it; any other byte
// ends the call there. A block is stored only when dst has room for it and one byte more (the
// escape's growth): DI/R8 are dst's base and length, SI/CX src's, DX the bytes read, R9 the
// bytes written.

// func copyPlainSSE2(dst []byte, src string, escapeHTML bool) (read, written int)
TEXT ·copyPlainSSE2(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	XORQ DX, DX
	XORQ R9, R9

	MOVQ       $0x2020202020202020, AX
	MOVQ       AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ       $0x2222222222222222, AX
	MOVQ       AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ       $0x5c5c5c5c5c5c5c5c, AX
	MOVQ       AX, X10
	PUNPCKLQDQ X10, X10
	MOVO       X9, X11
	MOVO       X9, X12
	MOVO       X9, X13
	CMPB       escapeHTML+40(FP), $0
	JEQ        sseloop
	MOVQ       $0x3c3c3c3c3c3c3c3c, AX
	MOVQ       AX, X11
	PUNPCKLQDQ X11, X11
	MOVQ       $0x3e3e3e3e3e3e3e3e, AX
	MOVQ       AX, X12
	PUNPCKLQDQ X12, X12
	MOVQ       $0x2626262626262626, AX
	MOVQ       AX, X13
	PUNPCKLQDQ X13, X13

sseloop:
	MOVQ     CX, AX
	SUBQ     DX, AX
	CMPQ     AX, $16
	JB       ssedone
	LEAQ     17(R9), AX
	CMPQ     AX, R8
	JA       ssedone
	MOVOU    (SI)(DX*1), X0
	MOVOU    X0, (DI)(R9*1)
	MOVO     X8, X1
	PCMPGTB  X0, X1
	MOVO     X0, X2
	PCMPEQB  X9, X2
	POR      X2, X1
	MOVO     X0, X2
	PCMPEQB  X10, X2
	POR      X2, X1
	MOVO     X0, X2
	PCMPEQB  X11, X2
	POR      X2, X1
	MOVO     X0, X2
	PCMPEQB  X12, X2
	POR      X2, X1
	MOVO     X0, X2
	PCMPEQB  X13, X2
	POR      X2, X1
	PMOVMSKB X1, AX
	TESTL    AX, AX
	JNZ      ssefound
	ADDQ     $16, DX
	ADDQ     $16, R9
	JMP      sseloop

ssefound:
	BSFL    AX, AX
	ADDQ    AX, DX
	ADDQ    AX, R9
	MOVBLZX (SI)(DX*1), BX
	CMPB    BX, $0x0a
	JNE     ssedone
	MOVB    $0x5c, (DI)(R9*1)
	MOVB    $0x6e, 1(DI)(R9*1)
	INCQ    DX
	ADDQ    $2, R9
	JMP     sseloop

ssedone:
	MOVQ DX, read+48(FP)
	MOVQ R9, written+56(FP)
	RET

// func copyPlainAVX2(dst []byte, src string, escapeHTML bool) (read, written int)
TEXT ·copyPlainAVX2(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	XORQ DX, DX
	XORQ R9, R9

	MOVL         $0x20, AX
	VMOVQ        AX, X8
	VPBROADCASTB X8, Y8
	MOVL         $0x22, AX
	VMOVQ        AX, X9
	VPBROADCASTB X9, Y9
	MOVL         $0x5c, AX
	VMOVQ        AX, X10
	VPBROADCASTB X10, Y10
	VMOVDQU      Y9, Y11
	VMOVDQU      Y9, Y12
	VMOVDQU      Y9, Y13
	CMPB         escapeHTML+40(FP), $0
	JEQ          avxloop
	MOVL         $0x3c, AX
	VMOVQ        AX, X11
	VPBROADCASTB X11, Y11
	MOVL         $0x3e, AX
	VMOVQ        AX, X12
	VPBROADCASTB X12, Y12
	MOVL         $0x26, AX
	VMOVQ        AX, X13
	VPBROADCASTB X13, Y13

avxloop:
	MOVQ      CX, AX
	SUBQ      DX, AX
	CMPQ      AX, $32
	JB        avxdone
	LEAQ      33(R9), AX
	CMPQ      AX, R8
	JA        avxdone
	VMOVDQU   (SI)(DX*1), Y0
	VMOVDQU   Y0, (DI)(R9*1)
	VPCMPGTB  Y0, Y8, Y1
	VPCMPEQB  Y9, Y0, Y2
	VPOR      Y2, Y1, Y1
	VPCMPEQB  Y10, Y0, Y3
	VPOR      Y3, Y1, Y1
	VPCMPEQB  Y11, Y0, Y2
	VPOR      Y2, Y1, Y1
	VPCMPEQB  Y12, Y0, Y3
	VPOR      Y3, Y1, Y1
	VPCMPEQB  Y13, Y0, Y2
	VPOR      Y2, Y1, Y1
	VPMOVMSKB Y1, AX
	TESTL     AX, AX
	JNZ       avxfound
	ADDQ      $32, DX
	ADDQ      $32, R9
	JMP       avxloop

avxfound:
	BSFL    AX, AX
	ADDQ    AX, DX
	ADDQ    AX, R9
	MOVBLZX (SI)(DX*1), BX
	CMPB    BX, $0x0a
	JNE     avxdone
	MOVB    $0x5c, (DI)(R9*1)
	MOVB    $0x6e, 1(DI)(R9*1)
	INCQ    DX
	ADDQ    $2, R9
	JMP     avxloop

avxdone:
	VZEROUPPER
	MOVQ DX, read+48(FP)
	MOVQ R9, written+56(FP)
	RET
