package fingerprint

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkByteSetMarks holds marks to a byte-by-byte membership test on every window of texts of
// every length up to 200: the in-place, the shifted last-64-bytes and the padded paths.
func checkByteSetMarks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := []string{"/*-#'\"`", " ~", "abcdefghijklmnopqrstuvwxyz", "0@P`p"}
	for _, chars := range sets {
		bs := newByteSet(chars)
		for n := 0; n <= 200; n++ {
			b := make([]byte, n)
			for i := range b {
				// Mostly members and their nibble neighbours, and some of every byte value:
				// 0x00 and 0x80..0xff must never be members.
				if rng.IntN(3) == 0 {
					b[i] = byte(rng.IntN(256))
				} else {
					b[i] = chars[rng.IntN(len(chars))] ^ byte(rng.IntN(2))<<(4*rng.IntN(2))
				}
			}
			s := string(b)
			for base := 0; base < n; base++ {
				var want uint64
				for k := 0; k < 64 && base+k < n; k++ {
					if strings.IndexByte(chars, s[base+k]) >= 0 {
						want |= 1 << k
					}
				}
				if got := bs.marks(s, base); got != want {
					t.Fatalf("set %q, text %q, base %d: marks %064b, want %064b", chars, s, base, got, want)
				}
			}
		}
	}
}

func TestByteSetMarks(t *testing.T) { checkByteSetMarks(t) }

func TestByteSetRefusesWhatItCannotHold(t *testing.T) {
	for _, chars := range []string{"\x00", "\n", "\x7f", "\x80", "é"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("newByteSet(%q) did not panic", chars)
				}
			}()
			newByteSet(chars)
		}()
	}
}
