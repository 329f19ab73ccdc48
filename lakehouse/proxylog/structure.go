package proxylog

import "math/bits"

// The structural scan. One pass over the bytes, 64 per step, marks where the quotes,
// backslashes and newlines are and which bytes are not printable ASCII (one bit per byte per
// kind). The reader scans each chunk as it reads it: the newline marks split and count its lines,
// the other marks prove each line printable and let str find a string's closing quote and its
// escapes with a shift and a count of trailing zeros, instead of a search per string and one per
// escape (analytic SQL in Go-encoded logs carries an escape every ~90 bytes: \u003c, \u003e,
// \u0026).
//
// Layout: for the 64-byte block k, marks[markKinds*k+kind] holds the bits of that kind.
const (
	markQuote = iota
	markBackslash
	markNewline
	markBad // a byte outside 0x20..0x7f: a control character (the newline too) or not ASCII
	markKinds
)

// marksLen is the number of words of marks for n bytes.
func marksLen(n int) int { return (n + 63) / 64 * markKinds }

// spaces64 pads the last partial block: a space is printable and of no other kind.
var spaces64 = [64]byte{
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
}

// scanMarks fills m (marksLen(len(b)) words) with b's marks; bits past the end of b are clear.
func scanMarks(b []byte, m []uint64) {
	n := len(b) &^ 63
	markBlocks(b[:n], m)
	if n < len(b) {
		tail := spaces64
		copy(tail[:], b[n:])
		markBlocks(tail[:], m[n/64*markKinds:])
	}
}

// markBlocksGeneric is markBlocks one byte at a time: the reference the tests hold the vector
// versions to.
func markBlocksGeneric(b []byte, m []uint64) {
	for k := 0; k+64 <= len(b); k += 64 {
		var w [markKinds]uint64
		for j, c := range b[k : k+64] {
			switch c {
			case '"':
				w[markQuote] |= 1 << j
			case '\\':
				w[markBackslash] |= 1 << j
			case '\n':
				w[markNewline] |= 1 << j
			}
			if c < 0x20 || c >= 0x80 {
				w[markBad] |= 1 << j
			}
		}
		copy(m[k/64*markKinds:], w[:])
	}
}

// countNewlines counts the newline marks.
func countNewlines(m []uint64) int {
	n := 0
	for k := markNewline; k < len(m); k += markKinds {
		n += bits.OnesCount64(m[k])
	}
	return n
}

// nextNewline returns the position of the first newline at or after pos, or end when none is
// marked (end is the length of the marked bytes).
func nextNewline(m []uint64, pos, end int) int {
	k := pos >> 6
	w := m[k*markKinds+markNewline] & (^uint64(0) << (pos & 63))
	for w == 0 {
		k++
		if k*markKinds >= len(m) {
			return end
		}
		w = m[k*markKinds+markNewline]
	}
	return k<<6 + bits.TrailingZeros64(w)
}

// anyBad reports a byte outside 0x20..0x7f among the marked bytes [from, to).
func anyBad(m []uint64, from, to int) bool {
	if from >= to {
		return false
	}
	k0, k1 := from>>6, (to-1)>>6
	first := ^uint64(0) << (from & 63)
	last := ^uint64(0) >> (63 - (to-1)&63)
	if k0 == k1 {
		return m[k0*markKinds+markBad]&first&last != 0
	}
	if m[k0*markKinds+markBad]&first != 0 || m[k1*markKinds+markBad]&last != 0 {
		return true
	}
	for k := k0 + 1; k < k1; k++ {
		if m[k*markKinds+markBad] != 0 {
			return true
		}
	}
	return false
}
