package stats

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkSelect holds Select(s, k) to a sort of s: the same value at k, nothing greater before it,
// nothing smaller after it, and the same multiset of values.
func checkSelect[T float64 | int32](t *testing.T, name string, s []T, k int) {
	t.Helper()
	want := slices.Clone(s)
	slices.Sort(want)
	got := Select(s, k)
	if !same(got, want[k]) || !same(s[k], want[k]) {
		t.Fatalf("%s: Select(k=%d) = %v (s[k] = %v), a sort puts %v there", name, k, got, s[k], want[k])
	}
	for i := range s {
		if i < k && less(s[k], s[i]) || i > k && less(s[i], s[k]) {
			t.Fatalf("%s: after Select(k=%d), s[%d] = %v is on the wrong side of %v", name, k, i, s[i], s[k])
		}
	}
	slices.Sort(s)
	for i := range s {
		if !same(s[i], want[i]) {
			t.Fatalf("%s: Select lost or changed values", name)
		}
	}
}

func same[T float64 | int32](a, b T) bool { return a == b || a != a && b != b }
func less[T float64 | int32](a, b T) bool { return a != a && b == b || a < b }

func TestSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := map[string]func(i, n int) float64{
		"random":    func(int, int) float64 { return rng.NormFloat64() },
		"ties":      func(int, int) float64 { return float64(rng.IntN(4)) },
		"constant":  func(int, int) float64 { return 4 },
		"sorted":    func(i, _ int) float64 { return float64(i) },
		"reversed":  func(i, n int) float64 { return float64(n - i) },
		"organpipe": func(i, n int) float64 { return float64(min(i, n-i)) },
		"nan": func(int, int) float64 {
			if rng.IntN(5) == 0 {
				return math.NaN()
			}
			return rng.ExpFloat64()
		},
	}
	for name, gen := range shapes {
		for _, n := range []int{1, 2, 3, 16, 17, 100, 1001, 50_000} {
			s := make([]float64, n)
			for i := range s {
				s[i] = gen(i, n)
			}
			for _, k := range []int{0, (n - 1) / 2, n / 2, n - 1, rng.IntN(n)} {
				checkSelect(t, name, slices.Clone(s), k)
			}
		}
	}
	b := make([]int32, 10_001)
	for i := range b {
		b[i] = int32(rng.IntN(3)) - 1 // a size offset with a few differences
	}
	checkSelect(t, "int32", b, 5000)
}

// TestSelectRoundBudget runs the partitioning with no, one and two rounds allowed: whatever is
// left when the budget runs out (as crafted input would make it) is sorted, and the answer is
// the same.
func TestSelectRoundBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for rounds := range 3 {
		s := make([]float64, 5000)
		for i := range s {
			s[i] = float64(rng.IntN(1000))
		}
		want := slices.Clone(s)
		slices.Sort(want)
		for _, k := range []int{0, 17, 2500, 4999} {
			if got := selectRounds(s, k, rounds); got != want[k] {
				t.Fatalf("%d rounds, k=%d: got %v, want %v", rounds, k, got, want[k])
			}
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{4, 1}, 2.5}, {[]float64{5, 1, 3}, 3}, {[]float64{7, 1, 3, 5}, 4}, {[]float64{2, 2, 2, 9}, 2}} {
		if got := Median(slices.Clone(c.in)); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

// FuzzSelect checks Select against a sort on any input (values and k from the fuzzer's bytes).
func FuzzSelect(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(0))
	f.Add(make([]byte, 8*40), uint16(20))
	f.Fuzz(func(t *testing.T, raw []byte, k uint16) {
		s := make([]float64, len(raw)/8)
		if len(s) == 0 {
			return
		}
		for i := range s {
			s[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		checkSelect(t, "fuzz", s, int(k)%len(s))
	})
}

func BenchmarkMedian(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	src := make([]float64, 3300) // an endpoint's pairs on the real-shape bench data
	for i := range src {
		src[i] = rng.NormFloat64()
	}
	benchAgainstSort(b, src, "select", func(s []float64) { Median(s) }, "sort")
}

// benchAgainstSort times f and slices.Sort, each on a fresh copy of src, as sub-benchmarks
// name and sortName.
func benchAgainstSort[T cmp.Ordered](b *testing.B, src []T, name string, f func([]T), sortName string) {
	s := make([]T, len(src))
	for _, c := range []struct {
		name string
		f    func([]T)
	}{{name, f}, {sortName, slices.Sort[[]T]}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				copy(s, src)
				c.f(s)
			}
		})
	}
}
