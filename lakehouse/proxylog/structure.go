package proxylog

import "math/bits"

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
// The marks are complete only when it is.
func scanStructure(b []byte, m []uint64) (printable bool) {
	n := len(b) &^ 63
	if _, ctl := structureBlocks(b[:n], m); ctl != 0 {
		return false
	}
	if n < len(b) {
		tail := spaces64
		copy(tail[:], b[n:])
		_, ctl := structureBlocks(tail[:], m[n/64:])
		return ctl == 0
	}
	return true
}

// scanLine is the structural scan of data's first line, found in the same pass: the scan stops
// at the first block that holds a byte outside 0x20..0x7f, and when that byte is the line's
// newline (or a '\r' right before it), the line is printable and m holds its marks (bits past
// its end clear). n is the line's length without its terminator, next where the following line
// starts. ok is false when the line holds any other such byte (a tab, a control or a non-ASCII
// byte): the caller then splits and decodes it the checked way. m must hold (len(data)+63)/64
// words. A line without a newline ends with data.
func scanLine(data []byte, m []uint64) (n, next int, ok bool) {
	full := len(data) &^ 63
	blocks, ctl := structureBlocks(data[:full], m)
	if ctl == 0 {
		if full == len(data) {
			return len(data), len(data), true
		}
		// The last partial block, padded: only at a chunk's end, where the line has no newline
		// or it is among data's last 63 bytes.
		tail := spaces64
		copy(tail[:], data[full:])
		if _, ctl = structureBlocks(tail[:], m[full/64:]); ctl == 0 {
			return len(data), len(data), true
		}
		blocks = full/64 + 1
	}
	pos := (blocks-1)*64 + bits.TrailingZeros64(ctl)
	switch {
	case data[pos] == '\n':
		n, next = pos, pos+1
	case data[pos] == '\r' && pos+1 < len(data) && data[pos+1] == '\n':
		n, next = pos, pos+2
	case data[pos] == '\r' && pos+1 == len(data): // the last line, without its '\n'
		n, next = pos, pos+1
	default:
		return 0, 0, false
	}
	if n&63 != 0 {
		m[n>>6] &= 1<<(n&63) - 1 // the next line's marks, where it shares the block
	}
	return n, next, true
}

// structureBlocksGeneric is structureBlocks one byte at a time: the reference the tests hold the
// vector version to, and the version of architectures without one. For each 64-byte block of b
// it sets bit j of m[k] when b[64k+j] is '"' or '\\', and it stops after the first block that
// holds a byte outside 0x20..0x7f: blocks is the number of blocks marked, ctl that block's mask
// of such bytes (0 when there is none).
func structureBlocksGeneric(b []byte, m []uint64) (blocks int, ctl uint64) {
	for k := 0; k+64 <= len(b); k += 64 {
		var w uint64
		for j, c := range b[k : k+64] {
			if c == '"' || c == '\\' {
				w |= 1 << j
			}
			if c < 0x20 || c >= 0x80 {
				ctl |= 1 << j
			}
		}
		m[k/64] = w
		blocks++
		if ctl != 0 {
			return blocks, ctl
		}
	}
	return blocks, 0
}
