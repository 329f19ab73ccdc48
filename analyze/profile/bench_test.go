package profile

import (
	"strings"
	"testing"
)

// bigProfile builds a profile of about n bytes from the hand-written fixture: its summary and
// execution counters, then its fragments repeated with fresh fragment numbers.
func bigProfile(t testing.TB, n int) string {
	text := readFixture(t, "hand-3x.txt")
	i := strings.Index(text, "    Fragment 0:")
	head, frags := text[:i], text[i:]
	var b strings.Builder
	b.WriteString(head)
	for k := 0; b.Len() < n; k++ {
		b.WriteString(strings.NewReplacer("Fragment 0:", "Fragment "+itoa(2*k)+":", "Fragment 1:", "Fragment "+itoa(2*k+1)+":").Replace(frags))
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// BenchmarkParse1MB is the collector's budget: every collected profile is parsed, so a 1 MB
// profile must parse in well under 10 ms.
func BenchmarkParse1MB(b *testing.B) {
	text := bigProfile(b, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		p := Parse(text)
		if len(p.Warnings) != 0 {
			b.Fatal(p.Warnings[0])
		}
		_ = p.Headlines()
	}
}

// benchSample runs fn over the 476 KB real 3.4.4 profile when the shared samples are present.
func benchSample(b *testing.B, fn func(string)) {
	text, ok := readSample(b, "profile-3.4.4-insert-overwrite-spill-join.txt")
	if !ok {
		b.Skip("shared samples not present")
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		fn(text)
	}
}

func BenchmarkParseSample3_4_4(b *testing.B) {
	benchSample(b, func(text string) { _ = Parse(text).Headlines() })
}

func TestBigProfileIsLinear(t *testing.T) {
	// Memory linear in the input: the tree of a 4 MB profile is about 4x that of a 1 MB one.
	small, large := bigProfile(t, 1<<20), bigProfile(t, 4<<20)
	allocs := func(s string) float64 {
		return testing.AllocsPerRun(3, func() { Parse(s) })
	}
	ratio := allocs(large) / allocs(small)
	if ratio < 3 || ratio > 5 {
		t.Fatalf("allocations grow %.1fx for 4x input", ratio)
	}
	if p := Parse(large); len(p.Operators()) < 4*len(Parse(small).Operators())*9/10 {
		t.Fatal("operators lost in a large profile")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readFixture(f, "hand-3x.txt"))
	f.Add("Query:\n  Summary:\n     - Sql Statement: a\n- b\n  c:\n     - __MAX_OF_x: 1\n")
	f.Add("Query:\n  Planner:\n     -     -- X[1] 1s\n     - --\n     - -- \n")
	f.Add("  Fragment x:\n  Pipeline (id=):\n  OP (plan_node_id=z):\n  - k__DUP(: 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		p := Parse(text)
		h := p.Headlines()
		if h.OperatorTotalNS < 0 || len(h.TopOperators) > TopOperatorCount || len(h.TopOperators) > len(p.Operators()) {
			t.Fatalf("operator time %d, %d top operators of %d", h.OperatorTotalNS, len(h.TopOperators), len(p.Operators()))
		}
		for _, op := range h.TopOperators {
			if op.NS < 0 || op.Share < 0 || op.Share > 1 {
				t.Fatalf("top operator %+v", op)
			}
		}
		for _, w := range p.Warnings {
			if w.Line < 1 {
				t.Fatalf("warning without a line: %v", w)
			}
		}
	})
}
