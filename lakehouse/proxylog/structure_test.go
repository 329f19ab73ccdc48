package proxylog

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestScanStructureAgreesWithGeneric holds the scan to the byte-at-a-time reference on every
// length up to 300 (every tail), with quotes, backslashes, control and non-ASCII bytes at every
// position of a block. structure_amd64_test.go runs it for each vector version.
func TestScanStructureAgreesWithGeneric(t *testing.T) {
	checkScanStructure(t)
}

func checkScanStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \"\\\x00\x1f\x20\x7e\x7f\x80\xff\n{}")
	for n := range 300 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = 'x'
				if rng.IntN(8) == 0 {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			if rng.IntN(2) == 0 { // half the lines printable, so that the flag's both answers occur
				for i, c := range b {
					if c < 0x20 || c >= 0x80 {
						b[i] = 'y'
					}
				}
			}
			words := (n + 63) / 64
			got, want := make([]uint64, words), make([]uint64, words)
			printable := scanStructure(b, got)
			padded := append(bytes.Clone(b), bytes.Repeat([]byte(" "), words*64-n)...)
			bad := structureBlocksGeneric(padded, want)
			if printable == bad {
				t.Fatalf("len %d: printable %v for %q", n, printable, b)
			}
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("len %d word %d: %064b, want %064b for %q", n, k, got[k], want[k], b)
				}
			}
		}
	}
}

func BenchmarkScanStructure(b *testing.B) {
	line := bytes.Repeat([]byte(`SELECT a FROM t WHERE x \u003c 3 AND "y" = 'z' `), 13)[:600]
	m := make([]uint64, 16)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		scanStructure(line, m)
	}
}

// TestHTMLEscapeWords: the words strMarked compares escapes with are the three escapes' bytes.
func TestHTMLEscapeWords(t *testing.T) {
	for w, esc := range map[uint64]string{escLess: `\u003c`, escGreater: `\u003e`, escAmp: `\u0026`} {
		if got := binary.LittleEndian.Uint64([]byte(esc + "\x00\x00")); got != w || !htmlEscape([]byte(esc)) {
			t.Errorf("%s: word %#x, constant %#x", esc, got, w)
		}
	}
}
