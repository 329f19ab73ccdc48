//go:build !amd64

package proxylog

// structureScan is false where markBlocks has no vector version: the reader and Decode then keep
// to searching bytes, which is faster than the generic scan.
const structureScan = false

func markBlocks(b []byte, m []uint64) { markBlocksGeneric(b, m) }
