package proxylog

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestScanMarksAgreesWithGeneric holds the scan to the byte-at-a-time reference on every length
// up to 300 (every tail), with quotes, backslashes, newlines, control and non-ASCII bytes at
// every position of a block, and checks the helpers that read the marks against plain searches.
// structure_amd64_test.go runs it for each vector version.
func TestScanMarksAgreesWithGeneric(t *testing.T) {
	checkScanMarks(t)
}

func checkScanMarks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \"\\\x00\x1f\x20\x7e\x7f\x80\xff\n\r{}")
	for n := range 300 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = 'x'
				if rng.IntN(8) == 0 {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			if rng.IntN(2) == 0 { // half the inputs printable apart from newlines
				for i, c := range b {
					if c != '\n' && (c < 0x20 || c >= 0x80) {
						b[i] = 'y'
					}
				}
			}
			got, want := make([]uint64, marksLen(n)), make([]uint64, marksLen(n))
			scanMarks(b, got)
			padded := append(bytes.Clone(b), bytes.Repeat([]byte(" "), (n+63)/64*64-n)...)
			markBlocksGeneric(padded, want)
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("len %d word %d (kind %d): %064b, want %064b for %q", n, k, k%markKinds, got[k], want[k], b)
				}
			}
			if c := countNewlines(got); c != bytes.Count(b, []byte("\n")) {
				t.Fatalf("len %d: %d newlines counted, %d in %q", n, c, bytes.Count(b, []byte("\n")), b)
			}
			for pos := 0; pos < n; pos++ {
				want := bytes.IndexByte(b[pos:], '\n')
				if want < 0 {
					want = n
				} else {
					want += pos
				}
				if got := nextNewline(got, pos, n); got != want {
					t.Fatalf("len %d: nextNewline from %d = %d, want %d in %q", n, pos, got, want, b)
				}
			}
			for range 10 {
				from := rng.IntN(n + 1)
				to := from + rng.IntN(n+1-from)
				if bad, want := anyBad(got, from, to), !printableASCII(b[from:to]); bad != want {
					t.Fatalf("len %d: anyBad(%d, %d) = %v for %q", n, from, to, bad, b[from:to])
				}
			}
		}
	}
}

func BenchmarkScanMarks(b *testing.B) {
	line := bytes.Repeat([]byte(`SELECT a FROM t WHERE x \u003c 3 AND "y" = 'z' `), 13)[:600]
	m := make([]uint64, marksLen(len(line)))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		scanMarks(line, m)
	}
}
