package proxylog

import "golang.org/x/sys/cpu"

// structureScan says that structureBlocks is vector code (AVX2 where the CPU has it, else SSE2,
// which every amd64 CPU has), fast enough for Decode to scan every line with it.
const structureScan = true

// structureBlocks does structureBlocksGeneric's work 16 or 32 bytes per instruction
// (structure_amd64.s). len(b) must be a multiple of 64 and m must hold len(b)/64 words.
func structureBlocks(b []byte, m []uint64) (blocks int, ctl uint64) {
	if len(b) >= 64 {
		_ = m[len(b)/64-1] // the stores' bound, checked here: the vector code trusts it
	}
	if hasAVX2 {
		return structureBlocksAVX2(b, m)
	}
	return structureBlocksSSE2(b, m)
}

// hasAVX2 is read at every call rather than a function variable set once: a call through a
// variable makes its arguments escape, and scanStructure's padded block would be allocated.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func structureBlocksSSE2(b []byte, m []uint64) (blocks int, ctl uint64)

//go:noescape
func structureBlocksAVX2(b []byte, m []uint64) (blocks int, ctl uint64)
