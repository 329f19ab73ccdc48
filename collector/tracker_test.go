package collector

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestInt64HeapPopsInOrder: the typed heap gives back any sequence of pushes, interleaved with
// pops, smallest first (duplicates and negative times included).
func TestInt64HeapPopsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var h int64Heap
		var shadow []int64 // what the heap holds, kept sorted
		for range rng.IntN(300) {
			if len(shadow) > 0 && rng.IntN(3) == 0 {
				if h[0] != shadow[0] {
					t.Fatalf("round %d: smallest is %d, want %d", round, h[0], shadow[0])
				}
				h.pop()
				shadow = shadow[1:]
				continue
			}
			v := rng.Int64N(50) - 10
			h.push(v)
			i, _ := slices.BinarySearch(shadow, v)
			shadow = slices.Insert(shadow, i, v)
		}
		for len(shadow) > 0 {
			if h[0] != shadow[0] {
				t.Fatalf("round %d: smallest is %d, want %d", round, h[0], shadow[0])
			}
			h.pop()
			shadow = shadow[1:]
		}
		if h.Len() != 0 {
			t.Fatalf("round %d: %d values left", round, h.Len())
		}
	}
}
