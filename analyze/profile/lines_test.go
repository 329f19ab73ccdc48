package profile

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// linesAgree holds lineIter to nextLine over the whole of text.
func linesAgree(t *testing.T, text string) {
	t.Helper()
	it := newLineIter(text)
	rest := text
	for n := 0; ; n++ {
		c, ind, ok := it.next()
		if !ok {
			if rest != "" {
				t.Fatalf("%q: the iterator ended after %d lines with %q left", text, n, rest)
			}
			return
		}
		if rest == "" {
			t.Fatalf("%q: the iterator gave line %d (%q) past the end", text, n, c)
		}
		wc, wi, wr := nextLine(rest)
		if c != wc || ind != wi {
			t.Fatalf("%q line %d: got %q indent %d, want %q indent %d", text, n, c, ind, wc, wi)
		}
		rest = wr
	}
}

func TestLineIterMatchesNextLine(t *testing.T) {
	texts := sampleProfiles(t)
	texts["hand"], texts["generated-1MB"] = readFixture(t, "hand-3x.txt"), bigProfile(t, 1<<20)
	eachLineMasksVersion(t, func(t *testing.T) {
		for name, text := range texts {
			t.Run(name, func(t *testing.T) { linesAgree(t, text) })
		}
		for _, s := range []string{"", "\n", "\n\n", "x", " ", "\t", "\r", "\r\n", " \r\n", "  \r\r\n  x",
			"a\nb", strings.Repeat(" ", 64) + "x\n", strings.Repeat(" ", 200), strings.Repeat("x", 63) + "\n" + " y",
			strings.Repeat(" ", 63) + "\n", strings.Repeat("\t", 64) + "\n\n", strings.Repeat("a\n", 600)} {
			linesAgree(t, s)
		}
		// Random texts of the bytes that matter, at every length around the blocks' and the
		// window's edges.
		rng := rand.New(rand.NewPCG(1, 2))
		alphabet := []byte(" \t\n\r-:ax")
		for n := range 1200 {
			b := make([]byte, n)
			for r := range 4 {
				for i := range b {
					// Long runs of blanks or letters as well as a mix, so that lines and
					// indentations cross blocks.
					switch r {
					case 0:
						b[i] = alphabet[rng.IntN(len(alphabet))]
					case 1:
						b[i] = " \n"[min(rng.IntN(40), 1)]
					default:
						b[i] = "x \n\t"[min(rng.IntN(100)/33, 3)]
					}
				}
				linesAgree(t, string(b))
			}
		}
	})
}

func TestLineMasksVersionsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 64*lineWindowBlocks)
	for range 2000 {
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(3) == 0 {
				b[i] = " \t\n"[rng.IntN(3)]
			}
		}
		var n1, s1, n2, s2 [lineWindowBlocks]uint64
		lineMasksGeneric(string(b), n1[:], s1[:])
		for k := range lineWindowBlocks {
			for j := range 64 {
				c := b[k*64+j]
				if (n1[k]>>j&1 == 1) != (c == '\n') || (s1[k]>>j&1 == 1) != (c == ' ' || c == '\t') {
					t.Fatalf("generic masks wrong at block %d byte %d (%q)", k, j, c)
				}
			}
		}
		eachLineMasksVersion(t, func(t *testing.T) {
			blocks := 1 + rng.IntN(lineWindowBlocks)
			n2, s2 = [lineWindowBlocks]uint64{}, [lineWindowBlocks]uint64{}
			lineMasks(string(b[:blocks*64]), n2[:blocks], s2[:blocks])
			if !slices.Equal(n2[:blocks], n1[:blocks]) || !slices.Equal(s2[:blocks], s1[:blocks]) {
				t.Fatalf("masks of %d blocks differ from the generic ones", blocks)
			}
			for k := blocks; k < lineWindowBlocks; k++ {
				if n2[k] != 0 || s2[k] != 0 {
					t.Fatalf("the vector code wrote past its %d blocks", blocks)
				}
			}
		})
	}
}

func TestLineMasksRefusesMismatchedLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("lineMasks accepted 63 bytes for one block")
		}
	}()
	var nl, blank [1]uint64
	lineMasks(strings.Repeat(" ", 63), nl[:], blank[:])
}

func FuzzLineIterMatchesNextLine(f *testing.F) {
	f.Add(readFixture(f, "hand-3x.txt"))
	f.Add("  \r\r\n  x\n\t- a: b\r\n")
	f.Add(strings.Repeat(" ", 70) + "\n" + strings.Repeat("y", 70))
	f.Fuzz(func(t *testing.T, text string) {
		linesAgree(t, text)
	})
}
