package jsonstr

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestAppendStringVersions holds each vector version of copyPlain to encoding/json.
func TestAppendStringVersions(t *testing.T) {
	testenv.EachVectorVersion(t, &hasAVX2, checkCases)
}
