#include "textflag.h"

// func lineMasksAVX2(b *byte, blocks int, nl, blank *uint64)
//
// For each 64-byte block: two 32-byte loads, each compared with '\n' (VPCMPEQB) for the newline
// mask and with ' ' and '\t' (VPOR of the two) for the blank mask; VPMOVMSKB packs 32 bits per
// load. It reads blocks*64 bytes from b and writes blocks words to nl and to blank, nothing else.
TEXT ·lineMasksAVX2(SB), NOSPLIT, $0-32
	MOVQ b+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ nl+16(FP), DI
	MOVQ blank+24(FP), DX

	MOVL         $0x0a, AX
	VMOVQ        AX, X4
	VPBROADCASTB X4, Y4 // '\n'
	MOVL         $0x20, AX
	VMOVQ        AX, X5
	VPBROADCASTB X5, Y5 // ' '
	MOVL         $0x09, AX
	VMOVQ        AX, X6
	VPBROADCASTB X6, Y6 // '\t'

loop:
	TESTQ CX, CX
	JZ    done
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1

	VPCMPEQB  Y4, Y0, Y2
	VPCMPEQB  Y4, Y1, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      AX, 0(DI)

	VPCMPEQB  Y5, Y0, Y2
	VPCMPEQB  Y6, Y0, Y7
	VPOR      Y7, Y2, Y2
	VPCMPEQB  Y5, Y1, Y3
	VPCMPEQB  Y6, Y1, Y8
	VPOR      Y8, Y3, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      AX, 0(DX)

	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, DX
	DECQ CX
	JMP  loop

done:
	VZEROUPPER
	RET
