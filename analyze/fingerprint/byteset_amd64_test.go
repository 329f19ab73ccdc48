package fingerprint

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestByteSetMarksVersions holds the AVX2 version and the generic one (which CPUs without AVX2
// run) to the same reference.
func TestByteSetMarksVersions(t *testing.T) {
	testenv.EachVectorVersion(t, &hasAVX2, checkByteSetMarks)
}
