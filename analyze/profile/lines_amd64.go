package profile

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// lineMasksVector is lineMasks with AVX2, when the CPU has it (false: not done). The lengths are
// checked by lineMasks, and nl is not empty.
func lineMasksVector(b string, nl, blank []uint64) bool {
	if !hasAVX2 {
		return false
	}
	lineMasksAVX2(unsafe.StringData(b), len(nl), &nl[0], &blank[0])
	return true
}

// hasAVX2 selects the vector version; a variable so that tests run both.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func lineMasksAVX2(b *byte, blocks int, nl, blank *uint64)
