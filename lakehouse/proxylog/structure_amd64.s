#include "textflag.h"

// func structureBlocksSSE2(b []byte, m []uint64) (blocks int, ctl uint64)
//
// For each 64-byte block of b: four 16-byte loads; PCMPEQB against '"' and '\\' gives the
// quote-or-backslash bytes, PMOVMSKB packs them into 16 bits each, and the four are combined
// into one word of m. A signed PCMPGTB of 0x20 against each byte marks both the control bytes
// (0x00..0x1f) and the bytes 0x80..0xff (negative when signed). Their OR is tested per block:
// the loop stops after the first block that has one, and only then packs them into ctl.
TEXT ·structureBlocksSSE2(SB), NOSPLIT, $0-64
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ m_base+24(FP), DI
	XORQ R9, R9

	MOVQ $0x2222222222222222, AX
	MOVQ AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10

loop:
	CMPQ CX, $64
	JB   done
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3

	MOVO    X10, X12
	PCMPGTB X0, X12
	MOVO    X10, X13
	PCMPGTB X1, X13
	MOVO    X10, X14
	PCMPGTB X2, X14
	MOVO    X10, X15
	PCMPGTB X3, X15

	MOVO     X0, X4
	PCMPEQB  X8, X4
	PCMPEQB  X9, X0
	POR      X4, X0
	PMOVMSKB X0, AX
	MOVO     X1, X5
	PCMPEQB  X8, X5
	PCMPEQB  X9, X1
	POR      X5, X1
	PMOVMSKB X1, BX
	MOVO     X2, X6
	PCMPEQB  X8, X6
	PCMPEQB  X9, X2
	POR      X6, X2
	PMOVMSKB X2, DX
	MOVO     X3, X7
	PCMPEQB  X8, X7
	PCMPEQB  X9, X3
	POR      X7, X3
	PMOVMSKB X3, R8

	SHLQ $16, BX
	ORQ  BX, AX
	SHLQ $32, DX
	ORQ  DX, AX
	SHLQ $48, R8
	ORQ  R8, AX
	MOVQ AX, (DI)
	INCQ R9

	MOVO     X12, X4
	POR      X13, X4
	POR      X14, X4
	POR      X15, X4
	PMOVMSKB X4, AX
	TESTL    AX, AX
	JNZ      ctl

	ADDQ $64, SI
	ADDQ $8, DI
	SUBQ $64, CX
	JMP  loop

ctl:
	PMOVMSKB X12, AX
	PMOVMSKB X13, BX
	PMOVMSKB X14, DX
	PMOVMSKB X15, R8
	SHLQ     $16, BX
	ORQ      BX, AX
	SHLQ     $32, DX
	ORQ      DX, AX
	SHLQ     $48, R8
	ORQ      R8, AX
	MOVQ     R9, blocks+48(FP)
	MOVQ     AX, ctl+56(FP)
	RET

done:
	MOVQ R9, blocks+48(FP)
	MOVQ $0, ctl+56(FP)
	RET

// func structureBlocksAVX2(b []byte, m []uint64) (blocks int, ctl uint64)
//
// structureBlocksSSE2 32 bytes per instruction: two loads per block, VPCMPEQB/VPOR/VPMOVMSKB
// give 32 bits each, and VPCMPGTB marks the bytes outside 0x20..0x7f as above (VPTEST of their
// OR decides whether the loop stops).
TEXT ·structureBlocksAVX2(SB), NOSPLIT, $0-64
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ m_base+24(FP), DI
	XORQ R9, R9

	MOVL         $0x22, AX
	VMOVQ        AX, X8
	VPBROADCASTB X8, Y8
	MOVL         $0x5c, AX
	VMOVQ        AX, X9
	VPBROADCASTB X9, Y9
	MOVL         $0x20, AX
	VMOVQ        AX, X10
	VPBROADCASTB X10, Y10

avxloop:
	CMPQ    CX, $64
	JB      avxdone
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1

	VPCMPGTB Y0, Y10, Y4
	VPCMPGTB Y1, Y10, Y5

	VPCMPEQB  Y8, Y0, Y2
	VPCMPEQB  Y9, Y0, Y0
	VPOR      Y2, Y0, Y0
	VPMOVMSKB Y0, AX
	VPCMPEQB  Y8, Y1, Y3
	VPCMPEQB  Y9, Y1, Y1
	VPOR      Y3, Y1, Y1
	VPMOVMSKB Y1, BX

	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	INCQ R9

	VPOR  Y4, Y5, Y6
	VPTEST Y6, Y6
	JNZ   avxctl

	ADDQ $64, SI
	ADDQ $8, DI
	SUBQ $64, CX
	JMP  avxloop

avxctl:
	VPMOVMSKB Y4, AX
	VPMOVMSKB Y5, BX
	VZEROUPPER
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      R9, blocks+48(FP)
	MOVQ      AX, ctl+56(FP)
	RET

avxdone:
	VZEROUPPER
	MOVQ R9, blocks+48(FP)
	MOVQ $0, ctl+56(FP)
	RET
