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
			_, ctl := structureBlocksGeneric(padded, want)
			if printable != (ctl == 0) {
				t.Fatalf("len %d: printable %v for %q", n, printable, b)
			}
			if !printable {
				continue // the marks stop at the first block with such a byte: checked below
			}
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("len %d word %d: %064b, want %064b for %q", n, k, got[k], want[k], b)
				}
			}
		}
	}
}

// checkStructureBlocksStops: the blocks' scan stops after the first block with a byte outside
// 0x20..0x7f and returns that block's mask of them, having marked every block up to it.
func checkStructureBlocksStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := bytes.Repeat([]byte{'x'}, 64*(1+rng.IntN(6)))
		for range rng.IntN(12) {
			b[rng.IntN(len(b))] = "\"\\"[rng.IntN(2)]
		}
		for range rng.IntN(3) {
			b[rng.IntN(len(b))] = "\n\r\t\x00\x1f\x80\xff"[rng.IntN(7)]
		}
		got, want := make([]uint64, len(b)/64), make([]uint64, len(b)/64)
		wantBlocks, wantCtl := len(b)/64, uint64(0)
		for k := 0; k < len(b)/64; k++ {
			for j, c := range b[64*k : 64*k+64] {
				if c == '"' || c == '\\' {
					want[k] |= 1 << j
				}
				if c < 0x20 || c >= 0x80 {
					wantCtl |= 1 << j
				}
			}
			if wantCtl != 0 {
				wantBlocks = k + 1
				break
			}
		}
		blocks, ctl := structureBlocks(b, got)
		if blocks != wantBlocks || ctl != wantCtl {
			t.Fatalf("%q: %d blocks, ctl %064b; want %d, %064b", b, blocks, ctl, wantBlocks, wantCtl)
		}
		for k := range blocks {
			if got[k] != want[k] {
				t.Fatalf("%q word %d: %064b, want %064b", b, k, got[k], want[k])
			}
		}
	}
}

func TestStructureBlocksStops(t *testing.T) { checkStructureBlocksStops(t) }

// checkScanLine holds scanLine to parseChunk's split (up to '\n', one '\r' before it dropped),
// printableASCII and the generic marks, on chunks of short and long lines with newlines at
// every offset of a block, CRLF endings, lone '\r's, tabs and non-ASCII bytes.
func checkScanLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("ab \"\\\n\n\n\r\t\x80{}")
	for n := range 400 {
		for range 10 {
			data := make([]byte, n)
			for i := range data {
				data[i] = 'x'
				if rng.IntN(6) == 0 {
					data[i] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			m := make([]uint64, (n+63)/64+1)
			for len(data) > 0 {
				for i := range m {
					m[i] = rng.Uint64() // stale marks of earlier lines must not leak in
				}
				wantLine, wantRest := data, []byte(nil)
				if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
					wantLine, wantRest = data[:nl], data[nl+1:]
				}
				if len(wantLine) > 0 && wantLine[len(wantLine)-1] == '\r' {
					wantLine = wantLine[:len(wantLine)-1]
				}
				ln, next, ok := scanLine(data, m)
				if ok != printableASCII(wantLine) {
					t.Fatalf("%q: ok %v for line %q", data, ok, wantLine)
				}
				if ok {
					if ln != len(wantLine) || len(data)-next != len(wantRest) {
						t.Fatalf("%q: line %d, next %d; want line %q, rest %q", data, ln, next, wantLine, wantRest)
					}
					words := (ln + 63) / 64
					want := make([]uint64, words)
					structureBlocksGeneric(append(bytes.Clone(wantLine), bytes.Repeat([]byte(" "), 64*words-ln)...), want)
					for k := range want {
						if m[k] != want[k] {
							t.Fatalf("%q line %q word %d: %064b, want %064b", data, wantLine, k, m[k], want[k])
						}
					}
				}
				data = wantRest
			}
		}
	}
}

func TestScanLine(t *testing.T) { checkScanLine(t) }

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
