package proxylog

// structureScan says that structureBlocks is vector code (SSE2, which every amd64 CPU has), fast
// enough for Decode to scan every line with it.
const structureScan = true

// structureBlocks does structureBlocksGeneric's work 16 bytes per instruction (structure_amd64.s).
// len(b) must be a multiple of 64 and m must hold len(b)/64 words.
//
//go:noescape
func structureBlocks(b []byte, m []uint64) (bad bool)
