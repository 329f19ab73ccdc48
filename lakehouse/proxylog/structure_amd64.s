#include "textflag.h"

// func structureBlocks(b []byte, m []uint64) (bad bool)
//
// For each 64-byte block of b: four 16-byte loads; PCMPEQB against '"' and '\\' gives the
// quote-or-backslash bytes, PMOVMSKB packs them into 16 bits each, and the four are combined
// into one word of m. A signed PCMPGTB of 0x20 against each byte marks both the control bytes
// (0x00..0x1f) and the bytes 0x80..0xff (negative when signed): their OR over all blocks is bad.
TEXT ·structureBlocks(SB), NOSPLIT, $0-49
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ m_base+24(FP), DI

	MOVQ $0x2222222222222222, AX
	MOVQ AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10
	PXOR X11, X11

loop:
	CMPQ CX, $64
	JB   done
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3

	MOVO    X10, X4
	PCMPGTB X0, X4
	MOVO    X10, X5
	PCMPGTB X1, X5
	POR     X5, X4
	MOVO    X10, X6
	PCMPGTB X2, X6
	MOVO    X10, X7
	PCMPGTB X3, X7
	POR     X7, X6
	POR     X4, X11
	POR     X6, X11

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

	ADDQ $64, SI
	ADDQ $8, DI
	SUBQ $64, CX
	JMP  loop

done:
	PMOVMSKB X11, AX
	TESTL    AX, AX
	SETNE    bad+48(FP)
	RET
