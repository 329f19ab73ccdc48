package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, radixMin - 1, radixMin, 10_000, 100_001} {
		s := make([]float32, n)
		for i := range s {
			switch rng.IntN(6) {
			case 0:
				s[i] = float32(rng.NormFloat64()) // log ratios: negative and positive
			case 1:
				s[i] = float32(rng.ExpFloat64() * 1e4) // latencies
			case 2:
				s[i] = []float32{0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1))}[rng.IntN(8)]
			default:
				s[i] = float32(rng.IntN(100)) / 8 // ties
			}
		}
		want := slices.Clone(s)
		slices.Sort(want)
		SortFloat32(s)
		if !slices.Equal(s, want) {
			t.Fatalf("n=%d: radix order differs from slices.Sort", n)
		}
	}
}

func BenchmarkSortFloat32(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]float32, 1_000_000)
	for i := range src {
		src[i] = float32(rng.ExpFloat64() * 100)
	}
	benchAgainstSort(b, src, "radix", SortFloat32, "pdqsort")
}
