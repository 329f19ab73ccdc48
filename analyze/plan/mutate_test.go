package plan

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestMutatedInputsNeverHang mutates the fixtures (byte changes, truncations, inserted
// "|----" prefixes that exercise the child-prefix recursion) and requires every parse, normalise
// and compare to finish. It complements FuzzParse with a deterministic run in every `make test`.
func TestMutatedInputsNeverHang(t *testing.T) {
	seeds := []string{fixture(t, "join3-a.txt"), fixture(t, "logical-mv.txt"), fixture(t, "mariadb-join.json")}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 3000; i++ {
		s := []byte(seeds[r.IntN(len(seeds))])
		for k := 0; k < 1+r.IntN(5) && len(s) > 1; k++ {
			switch r.IntN(3) {
			case 0:
				s[r.IntN(len(s))] = byte(r.IntN(128))
			case 1:
				j := r.IntN(len(s))
				s = s[:j]
			case 2:
				j := r.IntN(len(s))
				s = append(s[:j], append([]byte("|----\n  "), s[j:]...)...)
			}
		}
		done := make(chan bool)
		go func() {
			p := Parse(string(s))
			p.Normalized()
			p.Structure()
			Compare(p, p)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("hang on %q", s)
		}
	}
}
