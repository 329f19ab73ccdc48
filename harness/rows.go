package harness

import (
	"database/sql"
	"encoding/binary"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
)

// Column is a result column as compared: its name and the server's type name.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func columnsOf(types []*sql.ColumnType) []Column {
	cols := make([]Column, len(types))
	for i, t := range types {
		cols[i] = Column{Name: t.Name(), Type: t.DatabaseTypeName()}
	}
	return cols
}

// valueKind says how a column's values are normalised before hashing.
type valueKind uint8

const (
	kindExact   valueKind = iota // bytes as sent
	kindDecimal                  // 1.50 = 1.5: DECIMAL scale is a property of the type, not the value
	kindFloat                    // within the relative float tolerance
)

func kindOf(typeName string) valueKind {
	switch strings.ToUpper(typeName) {
	case "FLOAT", "DOUBLE", "REAL":
		return kindFloat
	case "DECIMAL", "NEWDECIMAL", "DECIMALV2", "DECIMAL32", "DECIMAL64", "DECIMAL128":
		return kindDecimal
	}
	return kindExact
}

// rowHasher hashes rows of one result shape. Values are tagged (NULL differs from ”),
// length-prefixed (no two rows collide by concatenation) and normalised per column kind.
// Floats are quantised to the significant digits the tolerance leaves, so two values within
// it almost always hash alike; the rare pair that straddles a rounding boundary is caught by
// the locate pass, which compares leftover rows with the tolerance itself.
type rowHasher struct {
	seed   maphash.Seed
	kinds  []valueKind
	digits int // significant digits kept of floats; -1 = exact
	h      maphash.Hash
	buf    []byte
}

func newRowHasher(seed maphash.Seed, cols []Column, tolerance float64) *rowHasher {
	rh := &rowHasher{seed: seed, kinds: make([]valueKind, len(cols)), digits: -1}
	for i, c := range cols {
		rh.kinds[i] = kindOf(c.Type)
	}
	if tolerance > 0 {
		rh.digits = max(1, int(math.Floor(-math.Log10(tolerance))))
	}
	rh.h.SetSeed(seed)
	return rh
}

// Hash returns the row's 64-bit hash.
func (rh *rowHasher) Hash(row []sql.RawBytes) uint64 {
	rh.h.Reset()
	for i, v := range row {
		if v == nil {
			rh.h.WriteByte(0)
			continue
		}
		norm := []byte(v)
		if i < len(rh.kinds) {
			norm = rh.normalise(rh.kinds[i], v)
		}
		rh.h.WriteByte(1)
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(norm)))
		rh.h.Write(n[:])
		rh.h.Write(norm)
	}
	return rh.h.Sum64()
}

func (rh *rowHasher) normalise(k valueKind, v []byte) []byte {
	switch k {
	case kindDecimal:
		return trimDecimal(v)
	case kindFloat:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return v
		}
		if f == 0 {
			f = 0 // -0 = 0
		}
		if rh.digits < 0 {
			rh.buf = strconv.AppendFloat(rh.buf[:0], f, 'g', -1, 64)
		} else {
			rh.buf = strconv.AppendFloat(rh.buf[:0], f, 'e', rh.digits-1, 64)
		}
		return rh.buf
	}
	return v
}

// trimDecimal drops trailing fractional zeros and a negative zero: 1.500 -> 1.5, -0.00 -> 0.
func trimDecimal(v []byte) []byte {
	s := v
	if i := strings.IndexByte(string(s), '.'); i >= 0 {
		for len(s) > i+1 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if len(s) == i+1 {
			s = s[:i]
		}
	}
	if string(s) == "-0" {
		return []byte("0")
	}
	return s
}

// mix64 is splitmix64's finaliser: a second, independent-looking lane of the multiset digest.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Digest summarises a result as it streams, in constant memory: the row count, an
// order-insensitive 128-bit multiset digest (sums of the row hashes in two lanes) and an
// order-sensitive chain.
type Digest struct {
	Rows     int64
	setA     uint64
	setB     uint64
	sequence uint64
}

// Add folds in one row's hash.
func (d *Digest) Add(h uint64) {
	d.Rows++
	d.setA += h
	d.setB += mix64(h)
	d.sequence = mix64(d.sequence ^ h + uint64(d.Rows))
}

// SameSet reports equal multisets of rows.
func (d Digest) SameSet(o Digest) bool {
	return d.Rows == o.Rows && d.setA == o.setA && d.setB == o.setB
}

// SameSequence reports equal rows in equal order.
func (d Digest) SameSequence(o Digest) bool { return d.SameSet(o) && d.sequence == o.sequence }

// floatsClose says whether two text values are within the relative tolerance as numbers.
func floatsClose(a, b []byte, tol float64) bool {
	x, err1 := strconv.ParseFloat(string(a), 64)
	y, err2 := strconv.ParseFloat(string(b), 64)
	if err1 != nil || err2 != nil {
		return false
	}
	if x == y {
		return true
	}
	scale := math.Max(math.Abs(x), math.Abs(y))
	return math.Abs(x-y) <= tol*scale
}

// rowsEquivalent compares two rendered rows column by column with the normalisation and
// tolerance of the hash.
func rowsEquivalent(a, b []*string, kinds []valueKind, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
		if a[i] == nil || *a[i] == *b[i] {
			continue
		}
		k := kindExact
		if i < len(kinds) {
			k = kinds[i]
		}
		switch k {
		case kindDecimal:
			if string(trimDecimal([]byte(*a[i]))) != string(trimDecimal([]byte(*b[i]))) {
				return false
			}
		case kindFloat:
			if !floatsClose([]byte(*a[i]), []byte(*b[i]), tol) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// copyRow renders raw column bytes into strings that outlive the scan (nil for NULL).
func copyRow(row []sql.RawBytes) []*string {
	out := make([]*string, len(row))
	for i, v := range row {
		if v != nil {
			s := string(v)
			out[i] = &s
		}
	}
	return out
}
