package analyze

import (
	"testing"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// TestLocalPairerBatches pairs batches through one localPairer: pairs complete within a batch,
// a third row of a key is a duplicate, and nothing of a batch leaks into the next (the index
// empties by generation, not by clearing).
func TestLocalPairerBatches(t *testing.T) {
	var lp localPairer
	sk := newSink(lakehouse.Window{}, 0, false)
	mk := func(key uint64, tgt proxylog.Target) half {
		return half{key: key, target: tgt, flags: flagSuccess, dur: 1, rowIdx: -1}
	}
	for batch := range 3 {
		var hs []half
		for k := range uint64(500) {
			key := k*0x9e3779b97f4a7c15 + 1 // spread as maphash values are
			hs = append(hs, mk(key, proxylog.Primary))
			if k%5 != 0 {
				hs = append(hs, mk(key, proxylog.Shadow)) // keys k%5 == 0 stay unpaired here
			}
			if k%50 == 1 {
				hs = append(hs, mk(key, proxylog.Shadow)) // a third row: a duplicate
			}
		}
		before, dups := sk.sum.Pairs, sk.sum.Duplicates
		left, done := lp.pairBatch(hs, sk, nil, nil)
		if got := sk.sum.Pairs - before; got != 400 || len(done) != 400 {
			t.Fatalf("batch %d: %d pairs (%d keys done), want 400", batch, got, len(done))
		}
		if got := sk.sum.Duplicates - dups; got != 10 {
			t.Fatalf("batch %d: %d duplicates, want 10", batch, got)
		}
		if len(left) != 100 {
			t.Fatalf("batch %d: %d halves left, want 100", batch, len(left))
		}
	}
}

func TestBatchIndexGenerationWrap(t *testing.T) {
	var ix batchIndex
	ix.reset(10)
	*ix.slot(42) = batchSlot{key: 42, gen: ix.gen, idx: 7}
	ix.gen = ^uint32(0) // the next reset wraps
	ix.reset(10)
	if s := ix.slot(42); s.gen == ix.gen {
		t.Fatalf("after the generation wrapped, key 42 is still found: %+v", *s)
	}
}

// TestLocalPairerOneKey is the worst batch the logs can make: every row with the same query id
// (empty ids all hash to 0). The first primary and shadow pair, and every other row is a
// duplicate.
func TestLocalPairerOneKey(t *testing.T) {
	var lp localPairer
	sk := newSink(lakehouse.Window{}, 0, false)
	hs := make([]half, 20_000)
	for i := range hs {
		hs[i] = half{target: proxylog.Primary, flags: flagSuccess, dur: 1, rowIdx: -1}
		if i%2 == 1 {
			hs[i].target = proxylog.Shadow
		}
	}
	left, done := lp.pairBatch(hs, sk, nil, nil)
	if sk.sum.Pairs != 1 || len(done) != 1 || sk.sum.Duplicates != int64(len(hs)-2) || len(left) != 0 {
		t.Fatalf("%d pairs, %d done, %d duplicates, %d left; want 1, 1, %d, 0", sk.sum.Pairs, len(done), sk.sum.Duplicates, len(left), len(hs)-2)
	}
}

// TestSawShadowRemembersEveryClient: the cache in front of the set never keeps a client out of
// it, whatever the order and however the clients share cache slots.
func TestSawShadowRemembersEveryClient(t *testing.T) {
	sk := newSink(lakehouse.Window{}, 0, false)
	want := map[uint64]struct{}{}
	for i := range 5000 {
		c := uint64(i%300)*64 + uint64(i%7) + 1 // many clients per slot, revisited in turn
		if i%11 == 0 {
			c = 0 // no client address: never a connection
		} else {
			want[c] = struct{}{}
		}
		sk.sawShadow(c)
	}
	if len(sk.shadowClients) != len(want) {
		t.Fatalf("%d clients remembered, want %d", len(sk.shadowClients), len(want))
	}
	for c := range want {
		if _, ok := sk.shadowClients[c]; !ok {
			t.Fatalf("client %d forgotten", c)
		}
	}
}
