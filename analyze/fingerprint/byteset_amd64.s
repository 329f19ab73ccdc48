#include "textflag.h"

// func marksAVX2(w *[64]byte, nibbles *[32]byte) uint64
//
// Two 32-byte loads. For each byte, VPSHUFB looks its low nibble up in the lo table and its
// high nibble (shifted down, masked) in the hi table; the byte is a member when the two
// lookups share a bit. VPCMPEQB against zero marks the non-members, VPMOVMSKB packs them into 32
// bits per load, and the complement of the two halves is the result.
TEXT ·marksAVX2(SB), NOSPLIT, $0-24
	MOVQ w+0(FP), SI
	MOVQ nibbles+8(FP), DX

	VBROADCASTI128 0(DX), Y4
	VBROADCASTI128 16(DX), Y5
	MOVL           $0x0f, AX
	VMOVQ          AX, X6
	VPBROADCASTB   X6, Y6
	VPXOR          Y7, Y7, Y7

	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VPSRLW  $4, Y0, Y2
	VPSRLW  $4, Y1, Y3
	VPAND   Y6, Y0, Y0
	VPAND   Y6, Y1, Y1
	VPAND   Y6, Y2, Y2
	VPAND   Y6, Y3, Y3
	VPSHUFB Y0, Y4, Y0
	VPSHUFB Y1, Y4, Y1
	VPSHUFB Y2, Y5, Y2
	VPSHUFB Y3, Y5, Y3
	VPAND   Y2, Y0, Y0
	VPAND   Y3, Y1, Y1

	VPCMPEQB  Y7, Y0, Y0
	VPCMPEQB  Y7, Y1, Y1
	VPMOVMSKB Y0, AX
	VPMOVMSKB Y1, BX
	VZEROUPPER
	SHLQ      $32, BX
	ORQ       BX, AX
	NOTQ      AX
	MOVQ      AX, ret+16(FP)
	RET
