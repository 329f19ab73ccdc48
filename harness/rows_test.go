package harness

import (
	"database/sql"
	"hash/maphash"
	"testing"
)

func raw(vals ...any) []sql.RawBytes {
	out := make([]sql.RawBytes, len(vals))
	for i, v := range vals {
		if v != nil {
			out[i] = sql.RawBytes(v.(string))
		}
	}
	return out
}

func TestRowHasher(t *testing.T) {
	seed := maphash.MakeSeed()
	cols := []Column{{"a", "VARCHAR"}, {"d", "DECIMAL"}, {"f", "DOUBLE"}}
	h := newRowHasher(seed, cols, 1e-9)
	same := [][2][]sql.RawBytes{
		{raw("x", "1.50", "0.30000000000000004"), raw("x", "1.5", "0.3")},
		{raw("x", "-0.00", "-0"), raw("x", "0", "0")},
		{raw("x", "10", "1e3"), raw("x", "10.000", "1000")},
	}
	for _, p := range same {
		if h.Hash(p[0]) != h.Hash(p[1]) {
			t.Errorf("%q and %q hash apart", p[0], p[1])
		}
	}
	differ := [][2][]sql.RawBytes{
		{raw(nil, "1", "1"), raw("", "1", "1")},
		{raw("ab", "1", "1"), raw("a", "b1", "1")}, // no collision by concatenation
		{raw("x", "1.51", "1"), raw("x", "1.5", "1")},
		{raw("x", "1", "0.3"), raw("x", "1", "0.30001")},
		{raw("x", "10", "1"), raw("x", "1", "1")},
	}
	for _, p := range differ {
		if h.Hash(p[0]) == h.Hash(p[1]) {
			t.Errorf("%q and %q hash alike", p[0], p[1])
		}
	}
	exact := newRowHasher(seed, cols, 0)
	if exact.Hash(raw("x", "1", "0.30000000000000004")) == exact.Hash(raw("x", "1", "0.3")) {
		t.Error("tolerance 0 must compare floats exactly")
	}
}

func TestDigest(t *testing.T) {
	var a, b, c, d Digest
	for _, h := range []uint64{1, 2, 3} {
		a.Add(h)
	}
	for _, h := range []uint64{3, 2, 1} {
		b.Add(h)
	}
	for _, h := range []uint64{1, 2, 3, 3} {
		c.Add(h)
	}
	for _, h := range []uint64{0, 3, 3} { // same sum of hashes as 1,2,3 in the first lane
		d.Add(h)
	}
	if !a.SameSet(b) || a.SameSequence(b) {
		t.Error("reordered rows: same set, other sequence")
	}
	if a.SameSet(c) {
		t.Error("a duplicate row must change the multiset")
	}
	if a.SameSet(d) {
		t.Error("equal first-lane sums must not make equal sets")
	}
}

func TestRowsEquivalent(t *testing.T) {
	s := func(v string) *string { return &v }
	kinds := []valueKind{kindExact, kindDecimal, kindFloat}
	if !rowsEquivalent([]*string{s("a"), s("1.50"), s("1.0000000001")}, []*string{s("a"), s("1.5"), s("1.0")}, kinds, 1e-9) {
		t.Error("within tolerance")
	}
	if rowsEquivalent([]*string{s("a"), s("1"), s("1.1")}, []*string{s("a"), s("1"), s("1.0")}, kinds, 1e-9) {
		t.Error("beyond tolerance")
	}
	if rowsEquivalent([]*string{nil, s("1"), s("1")}, []*string{s(""), s("1"), s("1")}, kinds, 1e-9) {
		t.Error("NULL is not ''")
	}
}
