package proxylog

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestScanStructureVersions runs the scan's agreement test with each vector version.
func TestScanStructureVersions(t *testing.T) {
	testenv.EachVectorVersion(t, &hasAVX2, checkScanStructure)
}
