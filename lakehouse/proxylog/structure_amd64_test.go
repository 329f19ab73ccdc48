package proxylog

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestScanStructureVersions runs the scan's agreement test with each vector version.
func TestScanStructureVersions(t *testing.T) {
	testenv.EachVectorVersion(t, &hasAVX2, func(t *testing.T) {
		checkScanStructure(t)
		checkStructureBlocksStops(t)
		checkScanLine(t)
	})
}

// TestStructureBlocksChecksItsBound: marks too short for the bytes panic in Go before the vector
// code, which trusts the bound, could store past them.
func TestStructureBlocksChecksItsBound(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("structureBlocks took 128 bytes with room for one word of marks")
		}
	}()
	structureBlocks(make([]byte, 128), make([]uint64, 1))
}
