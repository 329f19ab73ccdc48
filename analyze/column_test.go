package analyze

import (
	"slices"
	"testing"
)

// TestColumn adds (by add and by push, in turn) across the doubling steps and several full
// blocks: every element comes back once, in order, and no block is ever copied once full.
func TestColumn(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, columnBlock - 1, columnBlock, columnBlock + 1, 3*columnBlock + 5} {
		var c column[int32]
		var firstBlock *int32
		for i := range n {
			if i%2 == 0 {
				c.add(int32(i))
			} else {
				*c.push() = int32(i)
			}
			if len(c.blocks) > 0 && firstBlock == nil {
				firstBlock = &c.blocks[0][0]
			}
		}
		if c.len() != n {
			t.Fatalf("n=%d: len() = %d", n, c.len())
		}
		var got []int32
		c.each(func(b []int32) {
			if len(b) == 0 {
				t.Fatalf("n=%d: each passed an empty block", n)
			}
			got = append(got, b...)
		})
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: elements differ from those added", n)
		}
		if firstBlock != nil && &c.blocks[0][0] != firstBlock {
			t.Fatalf("n=%d: a full block moved", n)
		}
		for _, b := range c.blocks {
			if len(b) != columnBlock {
				t.Fatalf("n=%d: a full block holds %d, want %d", n, len(b), columnBlock)
			}
		}
	}
}

// TestJoinKeepsPairsAligned merges three accumulators and checks that join lines up each
// primary latency with its shadow latency and keeps every size difference.
func TestJoinKeepsPairsAligned(t *testing.T) {
	accs := []*groupAcc{{}, {}, {}}
	sizes := 0
	for k, a := range accs {
		for i := range (k + 1) * (columnBlock + 7) {
			a.lat.add([2]float32{float32(i), float32(-i)})
			if i%3 == 0 {
				a.sizes.add(int32(i))
				sizes++
			}
		}
	}
	a := accs[0]
	a.merge(accs[1])
	a.merge(accs[2])
	total := a.pairsAdded()
	a.join()
	if len(a.pd) != total || len(a.sd) != total || a.pairsAdded() != total {
		t.Fatalf("joined %d/%d pairs (pairsAdded %d), added %d", len(a.pd), len(a.sd), a.pairsAdded(), total)
	}
	for i := range a.pd {
		if a.sd[i] != -a.pd[i] {
			t.Fatalf("pair %d: primary %v, shadow %v: not the pair added", i, a.pd[i], a.sd[i])
		}
	}
	if len(a.bdiff) != sizes {
		t.Fatalf("joined %d size differences, added %d", len(a.bdiff), sizes)
	}
}
