package jsonstr

import (
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// TestAppendStringVersions holds each vector version of copyPlain to encoding/json, whichever
// one this CPU would pick.
func TestAppendStringVersions(t *testing.T) {
	defer func(avx2 bool) { hasAVX2 = avx2 }(hasAVX2)
	cpuAVX2 := hasAVX2
	t.Run("sse2", func(t *testing.T) {
		hasAVX2 = false
		checkCases(t)
	})
	t.Run("avx2", func(t *testing.T) {
		if !cpuAVX2 {
			testenv.SkipOrFail(t, "this CPU has no AVX2")
		}
		hasAVX2 = true
		checkCases(t)
	})
}
