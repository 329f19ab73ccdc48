package proxylog

import "golang.org/x/sys/cpu"

// structureScan says that markBlocks is vector code (AVX2 where the CPU has it, else SSE2, which
// every amd64 CPU has), fast enough for the reader and Decode to scan everything with it.
const structureScan = true

// markBlocks does markBlocksGeneric's work 16 or 32 bytes per instruction (structure_amd64.s).
// len(b) must be a multiple of 64 and m must hold marksLen(len(b)) words.
func markBlocks(b []byte, m []uint64) {
	if hasAVX2 {
		markBlocksAVX2(b, m)
	} else {
		markBlocksSSE2(b, m)
	}
}

// hasAVX2 is read at every call rather than a function variable set once: a call through a
// variable makes its arguments escape, and scanMarks's padded block would be allocated.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func markBlocksSSE2(b []byte, m []uint64)

//go:noescape
func markBlocksAVX2(b []byte, m []uint64)
