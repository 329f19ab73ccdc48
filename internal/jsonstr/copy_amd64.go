package jsonstr

import "golang.org/x/sys/cpu"

// copyPlain copies src to dst a block at a time while its bytes need no escaping, escaping
// newlines on the way (a profile's every line ends in one), and returns how many bytes it read
// and wrote. It reads and stores whole blocks only (32 bytes with AVX2, 16 without: every amd64
// CPU has SSE2), so it stops with fewer than a block of src left, at a byte other than a newline
// that needs escaping, or when dst has no room for another block and an escape; the caller goes
// on from there. Bytes of dst past the written count may have been overwritten.
func copyPlain(dst []byte, src string, escapeHTML bool) (read, written int) {
	if hasAVX2 {
		return copyPlainAVX2(dst, src, escapeHTML)
	}
	return copyPlainSSE2(dst, src, escapeHTML)
}

// hasAVX2 is read at each call rather than a function variable set once: a call through a
// variable makes its arguments escape.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func copyPlainSSE2(dst []byte, src string, escapeHTML bool) (read, written int)

//go:noescape
func copyPlainAVX2(dst []byte, src string, escapeHTML bool) (read, written int)
