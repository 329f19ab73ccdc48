package fingerprint

import "golang.org/x/sys/cpu"

// marks64 marks the members among the 64 bytes at w (bit k is w[k]).
func (bs *byteSet) marks64(w *[64]byte) uint64 {
	if hasAVX2 {
		return marksAVX2(w, &bs.nibbles)
	}
	return bs.marksGeneric(w)
}

// hasAVX2 is read at every call rather than a function variable set once: a call through a
// variable makes its arguments escape, and marks' padded window would be allocated.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func marksAVX2(w *[64]byte, nibbles *[32]byte) uint64
