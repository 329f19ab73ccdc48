package profile

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// eachLineMasksVersion runs check with the Go masks and with the AVX2 ones.
func eachLineMasksVersion(t *testing.T, check func(t *testing.T)) {
	testenv.EachVectorVersion(t, &hasAVX2, check)
}
