package profile

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// lineMasks writes the newline and blank masks of b's 64-byte blocks into nl and blank
// (len(b) == 64*len(nl) == 64*len(blank)).
func lineMasks(b string, nl, blank []uint64) {
	if len(b) != 64*len(nl) || len(nl) != len(blank) {
		panic("profile: lineMasks: lengths do not match") // the assembly trusts them
	}
	if hasAVX2 && len(nl) > 0 {
		lineMasksAVX2(unsafe.StringData(b), len(nl), &nl[0], &blank[0])
		return
	}
	lineMasksGeneric(b, nl, blank)
}

// hasAVX2 selects the vector version; a variable so that tests run both.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func lineMasksAVX2(b *byte, blocks int, nl, blank *uint64)
