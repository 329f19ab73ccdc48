package stats

import (
	"math"
	"slices"
	"unsafe"
)

// radixMin is the length below which a comparison sort is faster than three counting passes.
const radixMin = 512

// SortFloat32 sorts s in increasing order. Long slices use an LSD radix sort on the IEEE-754
// bits (three passes of 11 bits), several times faster than a comparison sort on the million
// latencies of a busy endpoint; the order equals slices.Sort's except that -0 precedes +0 and
// NaNs (which no latency or ratio here can be) sort by their bits. The keys are made in s's own
// memory, so the sort allocates one scratch array of len(s), not two: on a million pairs diff
// sorts three such slices per endpoint, and new memory is what costs on a virtual machine (a page
// fault per 4 KiB touched the first time).
func SortFloat32(s []float32) { SortFloat32With(s, nil) }

// SortFloat32With is SortFloat32 with the caller's scratch array, which it returns (grown when
// too short) for the next sort: a caller sorting many slices allocates it once.
func SortFloat32With(s []float32, scratch []uint32) []uint32 {
	if len(s) < radixMin {
		slices.Sort(s)
		return scratch
	}
	keys := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), len(s)) // s's memory
	for i, f := range s {
		keys[i] = orderedBits(f)
	}
	if cap(scratch) < len(s) {
		scratch = make([]uint32, len(s))
	}
	tmp := scratch[:len(s)]
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
	// Three passes leave the sorted keys in the scratch array; s (now tmp) takes them back.
	for i, k := range keys {
		s[i] = fromOrderedBits(k)
	}
	return scratch
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
