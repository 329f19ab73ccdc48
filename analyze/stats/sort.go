package stats

import (
	"math"
	"slices"
)

// radixMin is the length below which a comparison sort is faster than three counting passes.
const radixMin = 512

// SortFloat32 sorts s in increasing order. Long slices use an LSD radix sort on the IEEE-754
// bits (three passes of 11 bits), several times faster than a comparison sort on the million
// latencies of a busy endpoint; the order equals slices.Sort's except that -0 precedes +0 and
// NaNs (which no latency or ratio here can be) sort by their bits.
func SortFloat32(s []float32) {
	if len(s) < radixMin {
		slices.Sort(s)
		return
	}
	keys := make([]uint32, len(s))
	for i, f := range s {
		keys[i] = orderedBits(f)
	}
	tmp := make([]uint32, len(s))
	var count [1 << 11]int
	for shift := uint(0); shift < 32; shift += 11 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&(1<<11-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			b := (k >> shift) & (1<<11 - 1)
			tmp[count[b]] = k
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	for i, k := range keys {
		s[i] = fromOrderedBits(k)
	}
}

// orderedBits maps a float32 to a uint32 whose unsigned order is the float's order: negative
// numbers have every bit flipped, positive ones only the sign bit.
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

func fromOrderedBits(k uint32) float32 {
	if k&(1<<31) != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}
