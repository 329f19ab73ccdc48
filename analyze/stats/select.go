package stats

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// selectSmall is the length below which Select sorts what is left instead of partitioning.
const selectSmall = 16

// Select reorders s so that s[k] holds the value a sort would put there, with nothing greater
// before it and nothing smaller after it, and returns that value. It orders as slices.Sort does
// (cmp.Less: NaNs first). Expected O(len(s)): a quickselect around the median of three, with a
// three-way partition so that runs of equal values (a proxy's constant size offset) end it at
// once. Input crafted against the pivot choice cannot make it quadratic: after 2*log2(n) rounds it
// sorts what is left, O(n log n) at worst. A median needs this, not a sort: srctl diff takes the
// medians of every endpoint's differences before it sorts anything.
func Select[T cmp.Ordered](s []T, k int) T {
	return selectRounds(s, k, 2*bits.Len(uint(len(s))))
}

// selectRounds is Select with at most rounds partitions before the sort takes over.
func selectRounds[T cmp.Ordered](s []T, k, rounds int) T {
	lo, hi := 0, len(s) // s[k] is among s[lo:hi]
	for ; hi-lo > selectSmall && rounds > 0; rounds-- {
		p := median3(s[lo], s[lo+(hi-lo)/2], s[hi-1])
		// s[lo:lt] < p, s[lt:i] == p, s[gt:hi] > p; s[i:gt] not yet seen.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch v := s[i]; {
			case cmp.Less(v, p):
				s[lt], s[i] = v, s[lt]
				lt++
				i++
			case cmp.Less(p, v):
				gt--
				s[i], s[gt] = s[gt], v
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return s[k] // among the values equal to the pivot
		}
	}
	slices.Sort(s[lo:hi])
	return s[k]
}

func median3[T cmp.Ordered](a, b, c T) T {
	if cmp.Less(b, a) {
		a, b = b, a
	}
	if cmp.Less(c, b) {
		b = c
		if cmp.Less(b, a) {
			b = a
		}
	}
	return b
}

// Median returns the median of s (the mean of the two middle values when len(s) is even),
// reordering s; NaN when s is empty.
func Median(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	lower := Select(s, (n-1)/2)
	if n%2 == 1 {
		return lower
	}
	return (lower + slices.MinFunc(s[n/2:], cmp.Compare[float64])) / 2
}
