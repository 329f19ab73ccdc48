// Package sinktest is the conformance suite every sink.Writer must pass, like objstoretest for
// buckets: JSONL over file, mem, GCS and S3 fakes (lakehouse/sink's tests) and the Iceberg
// writers over SQLite and PostgreSQL catalogs (lakehouse/icelake's tests), for both record kinds.
package sinktest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse/sink"
)

// Harness describes one implementation under test.
type Harness[R any] struct {
	// Open returns a writer to an empty store and a function that reads back every record it
	// holds (in any order).
	Open func(t *testing.T) (w sink.Writer[R], readBack func() []R)
	// Record makes record i, filed at ts.
	Record func(i int, ts time.Time) R
	// Key identifies a record (the same for the same i).
	Key func(R) string
	// CutShort, when set, returns a writer to the same store as w whose next write fails after
	// storing part of the batch (a crash or a lost connection in the middle of a write).
	CutShort func(t *testing.T, w sink.Writer[R]) sink.Writer[R]
}

// start is a fixed hour, so that partitions are predictable.
var start = time.Date(2026, 3, 5, 22, 0, 0, 0, time.UTC)

// Run checks the sink.Writer contract: every record of a batch is stored once, across hours and
// days; writing the same batch id again stores nothing more, whatever happened to the earlier
// write; other ids are other batches; an empty batch stores nothing.
func Run[R any](t *testing.T, h Harness[R]) {
	records := func(from, n int, step time.Duration) []R {
		rs := make([]R, n)
		for i := range rs {
			rs[i] = h.Record(from+i, start.Add(time.Duration(i)*step))
		}
		return rs
	}
	check := func(t *testing.T, got []R, want map[string]int) {
		t.Helper()
		counts := map[string]int{}
		for _, r := range got {
			counts[h.Key(r)]++
		}
		for k, n := range want {
			if counts[k] != n {
				t.Errorf("record %s stored %d times, want %d", k, counts[k], n)
			}
		}
		if len(got) != sum(want) {
			t.Errorf("%d records stored, want %d", len(got), sum(want))
		}
	}
	once := func(rs ...[]R) map[string]int {
		m := map[string]int{}
		for _, part := range rs {
			for _, r := range part {
				m[h.Key(r)]++
			}
		}
		return m
	}
	ctx := context.Background()

	t.Run("across hours and days", func(t *testing.T) {
		w, read := h.Open(t)
		rs := records(0, 60, 47*time.Minute) // about two days, every hour partition
		if err := w.Write(ctx, sink.Batch[R]{ID: sink.NewBatchID(start), Records: rs}); err != nil {
			t.Fatal(err)
		}
		check(t, read(), once(rs))
	})
	t.Run("same id three times", func(t *testing.T) {
		w, read := h.Open(t)
		rs := records(100, 20, 7*time.Minute)
		b := sink.Batch[R]{ID: sink.NewBatchID(start), Records: rs}
		for range 3 {
			if err := w.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		check(t, read(), once(rs))
	})
	t.Run("derived ids", func(t *testing.T) {
		w, read := h.Open(t)
		rs := records(200, 10, time.Minute)
		keys := make([]string, len(rs))
		for i, r := range rs {
			keys[i] = h.Key(r)
		}
		slices.Sort(keys)
		for range 2 { // the same records batched again, e.g. after a restart
			if err := w.Write(ctx, sink.Batch[R]{ID: sink.DerivedBatchID(start, keys), Records: rs}); err != nil {
				t.Fatal(err)
			}
		}
		check(t, read(), once(rs))
	})
	t.Run("other ids are other batches", func(t *testing.T) {
		w, read := h.Open(t)
		a, b := records(300, 10, time.Minute), records(400, 10, time.Minute)
		for i, rs := range [][]R{a, b, a} {
			id := fmt.Sprintf("batch_%d", i%2) // a, b, then a under its own id again
			if err := w.Write(ctx, sink.Batch[R]{ID: id, Records: rs}); err != nil {
				t.Fatal(err)
			}
		}
		check(t, read(), once(a, b))
		if err := w.Write(ctx, sink.Batch[R]{ID: sink.NewBatchID(start), Records: a}); err != nil {
			t.Fatal(err)
		}
		check(t, read(), once(a, a, b)) // an id is the batch's identity, not its contents
	})
	t.Run("empty batch", func(t *testing.T) {
		w, read := h.Open(t)
		if err := w.Write(ctx, sink.Batch[R]{ID: sink.NewBatchID(start)}); err != nil {
			t.Fatal(err)
		}
		if got := read(); len(got) != 0 {
			t.Errorf("an empty batch stored %d records", len(got))
		}
	})
	if h.CutShort == nil {
		return
	}
	t.Run("cut short then retried", func(t *testing.T) {
		w, read := h.Open(t)
		rs := records(500, 30, 13*time.Minute) // several partitions: several objects or files
		b := sink.Batch[R]{ID: sink.NewBatchID(start), Records: rs}
		if err := h.CutShort(t, w).Write(ctx, b); err == nil {
			t.Fatal("the cut-short write reported success")
		}
		t.Logf("the cut-short write left %d of %d records", len(read()), len(rs))
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		check(t, read(), once(rs))
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
