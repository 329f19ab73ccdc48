package proxylog

// The structural scan. One pass over a line, 64 bytes per step, marks where its quotes and
// backslashes are (one bit per byte) and proves that every byte is printable ASCII. str then
// finds a string's closing quote and its escapes with a shift and a count of trailing zeros per
// string and per escape, instead of a search per string and one per escape: analytic SQL in
// Go-encoded logs carries an escape every ~90 bytes (\u003c, \u003e, \u0026).

// spaces64 pads a line's last partial block: a space is printable and neither quote nor backslash.
var spaces64 = [64]byte{
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
}

// scanStructure sets bit j of m[k] when b[64k+j] is '"' or '\\' (m must hold (len(b)+63)/64
// words; bits past the end of b are clear) and reports whether every byte of b is in 0x20..0x7f.
func scanStructure(b []byte, m []uint64) (printable bool) {
	n := len(b) &^ 63
	bad := structureBlocks(b[:n], m)
	if n < len(b) {
		tail := spaces64
		copy(tail[:], b[n:])
		bad = structureBlocks(tail[:], m[n/64:]) || bad
	}
	return !bad
}

// structureBlocksGeneric is structureBlocks one byte at a time: the reference the tests hold the
// vector version to, and the version of architectures without one.
func structureBlocksGeneric(b []byte, m []uint64) (bad bool) {
	for k := 0; k+64 <= len(b); k += 64 {
		var w uint64
		for j, c := range b[k : k+64] {
			if c == '"' || c == '\\' {
				w |= 1 << j
			}
			bad = bad || c < 0x20 || c >= 0x80
		}
		m[k/64] = w
	}
	return bad
}
