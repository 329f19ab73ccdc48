package fingerprint

import "unsafe"

// byteSet is a set of printable ASCII bytes that a text can be searched for 64 bytes at a time:
// marks gives one bit per byte of a window. The vector version (byteset_amd64.s) looks each byte
// up by its two nibbles: c is in the set when lo[c&15] & hi[c>>4] != 0, where hi gives each high
// nibble of the set a bit of its own and lo holds, for each low nibble, the bits of the high
// nibbles that complete a member. Printable ASCII has six high nibbles (2 to 7), so eight bits
// are enough, and the zero byte that pads a short text is never a member.
type byteSet struct {
	nibbles [32]byte // lo[0:16], hi[16:32]
	member  [256]bool
}

func newByteSet(chars string) *byteSet {
	bs := &byteSet{}
	for i := 0; i < len(chars); i++ {
		c := chars[i]
		if c < 0x20 || c > 0x7e {
			panic("fingerprint: byteSet holds printable ASCII only")
		}
		bit := byte(1) << (c>>4 - 2)
		bs.nibbles[c&15] |= bit
		bs.nibbles[16+c>>4] = bit
		bs.member[c] = true
	}
	return bs
}

// marks returns the members among s[base:base+64]: bit k is s[base+k]. Bits past the end of s
// are zero. base must be below len(s).
func (bs *byteSet) marks(s string, base int) uint64 {
	if len(s)-base >= 64 {
		return bs.marks64((*[64]byte)(unsafe.Pointer(unsafe.StringData(s[base:]))))
	}
	if len(s) >= 64 {
		// The last 64 bytes, read in place, shifted so that bit 0 is base: no copy.
		last := len(s) - 64
		return bs.marks64((*[64]byte)(unsafe.Pointer(unsafe.StringData(s[last:])))) >> (base - last)
	}
	var pad [64]byte // zeros: never members
	copy(pad[:], s[base:])
	return bs.marks64(&pad)
}

// marksGeneric is marks64 a byte at a time: the version for CPUs without AVX2, and the
// reference that tests hold the vector version to.
func (bs *byteSet) marksGeneric(w *[64]byte) uint64 {
	var m uint64
	for k := 63; k >= 0; k-- {
		m <<= 1
		if bs.member[w[k]] {
			m |= 1
		}
	}
	return m
}
