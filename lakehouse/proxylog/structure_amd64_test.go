package proxylog

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestScanStructureVersions runs the scan's agreement test with each vector version, whichever
// one this CPU would pick.
func TestScanStructureVersions(t *testing.T) {
	defer func(avx2 bool) { hasAVX2 = avx2 }(hasAVX2)
	cpuAVX2 := hasAVX2
	t.Run("sse2", func(t *testing.T) {
		hasAVX2 = false
		checkScanStructure(t)
	})
	t.Run("avx2", func(t *testing.T) {
		if !cpuAVX2 {
			testenv.SkipOrFail(t, "this CPU has no AVX2")
		}
		hasAVX2 = true
		checkScanStructure(t)
	})
}
