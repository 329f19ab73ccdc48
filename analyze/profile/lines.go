package profile

import (
	"math/bits"
	"unsafe"
)

// lineIter splits a profile into lines as nextLine does (the line without its newline and
// trailing carriage returns, its indentation of spaces and tabs counted and cut off), from bit
// masks of the text's newlines and blanks, made for 1 KiB of it at a time (vector code on amd64), so
// that finding a line's end and its first non-blank byte is a few bit operations instead of a
// call to IndexByte and a scan per line: those were half of ScanHeadlines' time on profiles of
// the real samples' shape (lines of ~45 bytes).
type lineIter struct {
	text string
	pos  int // where the next line starts
	// Masks of the window's blocks: bit k of nl[i] is set when byte (base+i)*64+k is '\n', of
	// blank[i] when it is ' ' or '\t'. Bytes past the text (in its last block) are neither, and
	// the word after the window's last block is zero, so that 64 bits can be read from anywhere
	// in the window.
	base      int // the window's first block; -1 before the first
	n         int // blocks in the window
	nl, blank [lineWindowBlocks + 1]uint64
}

// lineWindowBlocks is how many 64-byte blocks are masked at once (1 KiB): one call to the vector
// code per window, and a window fits in L1 with room for the text it masks.
const lineWindowBlocks = 16

func newLineIter(text string) lineIter { return lineIter{text: text, base: -1} }

// remask makes the window start at block k.
func (it *lineIter) remask(k int) {
	it.base = k
	start := k * 64
	full := (len(it.text) - start) / 64 // whole blocks left
	it.n = min(full, lineWindowBlocks)
	if it.n > 0 {
		lineMasks(it.text[start:start+it.n*64], it.nl[:it.n], it.blank[:it.n])
	}
	if it.n < lineWindowBlocks && start+it.n*64 < len(it.text) {
		// The text's last, partial block, through a zero-padded copy: a zero byte is neither a
		// newline nor a blank.
		var pad [64]byte
		copy(pad[:], it.text[start+it.n*64:])
		lineMasks(unsafe.String(&pad[0], len(pad)), it.nl[it.n:it.n+1], it.blank[it.n:it.n+1])
		it.n++
	}
	it.nl[it.n], it.blank[it.n] = 0, 0
}

// words returns the 64 bits of both masks that start at byte p (p < len(text)).
func (it *lineIter) words(p int) (nl, nonBlank uint64) {
	// The window is remade when p's block is outside it (always before the first: base is -1,
	// n 0), or is its last and the text goes on past it (the next word would be a zero that
	// stands for bytes the window did not mask).
	b := p>>6 - it.base
	if b < 0 || b >= it.n || b+1 == it.n && (it.base+it.n)*64 < len(it.text) {
		it.remask(p >> 6)
		b = 0
	}
	s := uint(p & 63)
	nl = it.nl[b]>>s | it.nl[b+1]<<(64-s) // a shift by 64 gives 0
	blank := it.blank[b]>>s | it.blank[b+1]<<(64-s)
	return nl, ^blank
}

// next returns the next line's content (nextLine's first result) and indentation, or ok false
// at the end of the text.
func (it *lineIter) next() (content string, indent int, ok bool) {
	start, n := it.pos, len(it.text)
	if start >= n {
		return "", 0, false
	}
	var i, end int
	if nl, nonBlank := it.words(start); nl != 0 {
		// The line ends within 64 bytes (most do): its newline is the first of nl, and its
		// content starts at the first non-blank byte, which is at the newline at the latest.
		end = start + bits.TrailingZeros64(nl)
		i = start + bits.TrailingZeros64(nonBlank)
	} else {
		i, end = it.longLine(start)
	}
	it.pos = end + 1
	line := it.text[i:end]
	for len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i - start, true
}

// longLine finds where a line that does not end within 64 bytes of start has its content (i)
// and its newline (end; len(text) when it has none).
func (it *lineIter) longLine(start int) (i, end int) {
	n := len(it.text)
	for i = start; i < n; i += 64 {
		if _, nonBlank := it.words(i); nonBlank != 0 {
			i += bits.TrailingZeros64(nonBlank) // a padding byte when the text ends in blanks
			break
		}
	}
	i = min(i, n)
	for end = i; end < n; end += 64 {
		if nl, _ := it.words(end); nl != 0 {
			return i, end + bits.TrailingZeros64(nl)
		}
	}
	return i, n
}

// lineMasks writes the newline and blank masks of b's 64-byte blocks into nl and blank.
func lineMasks(b string, nl, blank []uint64) {
	if len(b) != 64*len(nl) || len(nl) != len(blank) {
		panic("profile: lineMasks: lengths do not match") // the vector code trusts them
	}
	if len(nl) > 0 && lineMasksVector(b, nl, blank) {
		return
	}
	lineMasksGeneric(b, nl, blank)
}

// lineMasksGeneric is lineMasks in plain Go, eight bytes at a time: a byte equal to c is a zero
// byte of x^c*ones, found exactly (no borrow between bytes) by the high bit of
// ^(((y&0x7f..)+0x7f..)|y).
func lineMasksGeneric(b string, nl, blank []uint64) {
	const (
		ones = 0x0101010101010101
		lows = 0x7f7f7f7f7f7f7f7f
	)
	zeros := func(y uint64) uint64 { return ^((y&lows + lows) | y | lows) } // high bit per zero byte
	// pack gathers the eight high bits of a word into its low byte (bit k from byte k).
	pack := func(h uint64) uint64 { return (h >> 7) * 0x0102040810204080 >> 56 }
	for k := range nl {
		var n, s uint64
		for w := range 8 {
			x := load64(b[k*64+w*8:])
			n |= pack(zeros(x^'\n'*ones)) << (w * 8)
			s |= pack(zeros(x^' '*ones)|zeros(x^'\t'*ones)) << (w * 8)
		}
		nl[k], blank[k] = n, s
	}
}
