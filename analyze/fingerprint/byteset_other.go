//go:build !amd64

package fingerprint

// marks64 marks the members among the 64 bytes at w (bit k is w[k]); no vector version here.
func (bs *byteSet) marks64(w *[64]byte) uint64 { return bs.marksGeneric(w) }
