#include "textflag.h"

// The marks of 16 bytes in X0..X3 against the byte broadcast in VAL, packed into R: each PCMPEQB
// (on a copy, SSE being destructive) gives 16 byte-wide flags, PMOVMSKB 16 bits, and the four
// are combined into one word.
#define SSE2_MARKS(VAL, R) \
	MOVO     X0, X4 ; \
	PCMPEQB  VAL, X4 ; \
	PMOVMSKB X4, R ; \
	MOVO     X1, X5 ; \
	PCMPEQB  VAL, X5 ; \
	PMOVMSKB X5, BX ; \
	SHLQ     $16, BX ; \
	ORQ      BX, R ; \
	MOVO     X2, X6 ; \
	PCMPEQB  VAL, X6 ; \
	PMOVMSKB X6, BX ; \
	SHLQ     $32, BX ; \
	ORQ      BX, R ; \
	MOVO     X3, X7 ; \
	PCMPEQB  VAL, X7 ; \
	PMOVMSKB X7, BX ; \
	SHLQ     $48, BX ; \
	ORQ      BX, R

// func markBlocksSSE2(b []byte, m []uint64)
//
// For each 64-byte block of b, four words of m: quotes, backslashes, newlines and the bytes
// outside 0x20..0x7f. The last kind is a signed PCMPGTB of 0x20 against each byte: true for the
// control bytes 0x00..0x1f and for 0x80..0xff, which are negative when signed.
TEXT ·markBlocksSSE2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ m_base+24(FP), DI

	MOVQ       $0x2222222222222222, AX
	MOVQ       AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ       $0x5c5c5c5c5c5c5c5c, AX
	MOVQ       AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ       $0x0a0a0a0a0a0a0a0a, AX
	MOVQ       AX, X11
	PUNPCKLQDQ X11, X11
	MOVQ       $0x2020202020202020, AX
	MOVQ       AX, X10
	PUNPCKLQDQ X10, X10

sseloop:
	CMPQ  CX, $64
	JB    ssedone
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3

	SSE2_MARKS(X8, AX)
	MOVQ AX, 0(DI)
	SSE2_MARKS(X9, AX)
	MOVQ AX, 8(DI)
	SSE2_MARKS(X11, AX)
	MOVQ AX, 16(DI)

	MOVO     X10, X4
	PCMPGTB  X0, X4
	PMOVMSKB X4, AX
	MOVO     X10, X5
	PCMPGTB  X1, X5
	PMOVMSKB X5, BX
	SHLQ     $16, BX
	ORQ      BX, AX
	MOVO     X10, X6
	PCMPGTB  X2, X6
	PMOVMSKB X6, BX
	SHLQ     $32, BX
	ORQ      BX, AX
	MOVO     X10, X7
	PCMPGTB  X3, X7
	PMOVMSKB X7, BX
	SHLQ     $48, BX
	ORQ      BX, AX
	MOVQ     AX, 24(DI)

	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $64, CX
	JMP  sseloop

ssedone:
	RET

// The marks of the 64 bytes in Y0 and Y1 against the byte broadcast in VAL, into R.
#define AVX2_MARKS(VAL, R) \
	VPCMPEQB  VAL, Y0, Y2 ; \
	VPMOVMSKB Y2, R ; \
	VPCMPEQB  VAL, Y1, Y3 ; \
	VPMOVMSKB Y3, BX ; \
	SHLQ      $32, BX ; \
	ORQ       BX, R

// func markBlocksAVX2(b []byte, m []uint64)
//
// markBlocksSSE2 32 bytes per instruction.
TEXT ·markBlocksAVX2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ m_base+24(FP), DI

	MOVL         $0x22, AX
	MOVQ         AX, X8
	VPBROADCASTB X8, Y8
	MOVL         $0x5c, AX
	MOVQ         AX, X9
	VPBROADCASTB X9, Y9
	MOVL         $0x0a, AX
	MOVQ         AX, X11
	VPBROADCASTB X11, Y11
	MOVL         $0x20, AX
	MOVQ         AX, X10
	VPBROADCASTB X10, Y10

avxloop:
	CMPQ    CX, $64
	JB      avxdone
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1

	AVX2_MARKS(Y8, AX)
	MOVQ AX, 0(DI)
	AVX2_MARKS(Y9, AX)
	MOVQ AX, 8(DI)
	AVX2_MARKS(Y11, AX)
	MOVQ AX, 16(DI)

	VPCMPGTB  Y0, Y10, Y2
	VPMOVMSKB Y2, AX
	VPCMPGTB  Y1, Y10, Y3
	VPMOVMSKB Y3, BX
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      AX, 24(DI)

	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $64, CX
	JMP  avxloop

avxdone:
	VZEROUPPER
	RET
