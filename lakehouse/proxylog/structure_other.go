//go:build !amd64

package proxylog

// structureScan is false where structureBlocks has no vector version: Decode then keeps to its
// byte-searching path, which is faster than the generic scan.
const structureScan = false

func structureBlocks(b []byte, m []uint64) (blocks int, ctl uint64) {
	return structureBlocksGeneric(b, m)
}
