package shadowproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/sink"
)

// flakyWriter fails its first n batches.
type flakyWriter struct {
	mu    sync.Mutex
	fails int
	rows  []*lakehouse.ProxyLogRecord
}

func (w *flakyWriter) String() string { return "flaky" }
func (w *flakyWriter) Write(_ context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	rows := b.Records
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fails > 0 {
		w.fails--
		return errors.New("store unavailable")
	}
	w.rows = append(w.rows, rows...)
	return nil
}

func TestLogSinkRetriesAndFlushesOnClose(t *testing.T) {
	// On synctest's clock: the flush ticker, the retry backoff and Close's deadline take no real time.
	synctest.Test(t, func(t *testing.T) {
		w := &flakyWriter{fails: 2}
		s := NewLogSink(w, LogSinkConfig{FlushInterval: 50 * time.Millisecond})
		ts := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
		for i := range 1000 {
			s.Write(&lakehouse.ProxyLogRecord{TS: ts, QueryID: "q", Target: "primary", Command: "COM_QUERY",
				QueryText: "SELECT 1 /*route='/r" + string(rune('a'+i%3)) + "'*/"})
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(w.rows) != 1000 || s.Written.Load() != 1000 || s.Dropped.Load() != 0 {
			t.Fatalf("stored %d, written %d, dropped %d; want 1000, 1000, 0", len(w.rows), s.Written.Load(), s.Dropped.Load())
		}
		if r := w.rows[0]; r.QueryHash == "" || !strings.HasPrefix(r.Endpoint, "/r") || r.Fingerprint == "" {
			t.Errorf("row not enriched: hash %q endpoint %q fingerprint %q", r.QueryHash, r.Endpoint, r.Fingerprint)
		}
		s.Write(&lakehouse.ProxyLogRecord{QueryID: "late"})
		if s.Dropped.Load() != 1 {
			t.Errorf("a row after Close must be counted as lost")
		}
	})
}

func TestLogSinkBoundedBuffer(t *testing.T) {
	// On synctest's clock: the flush ticker, the retry backoff and Close's deadline take no real time.
	synctest.Test(t, func(t *testing.T) {
		w := &flakyWriter{fails: 1 << 30} // never stores
		s := NewLogSink(w, LogSinkConfig{Buffer: 100, FlushInterval: time.Hour})
		for range 250 {
			s.Write(&lakehouse.ProxyLogRecord{QueryID: "q"})
		}
		if d := s.Dropped.Load(); d < 150 {
			t.Errorf("dropped %d of 250 rows with a buffer of 100, want at least 150", d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := s.Close(ctx); err == nil {
			t.Error("Close must report rows it could not store")
		}
	})
}

func TestJSONLWriterPartitionsByHour(t *testing.T) {
	b := objstore.NewMem("logs")
	rows := []*lakehouse.ProxyLogRecord{
		{TS: time.Date(2026, 3, 5, 14, 59, 0, 0, time.UTC), QueryID: "a", Target: "primary", Command: "COM_QUERY"},
		{TS: time.Date(2026, 3, 5, 15, 0, 1, 0, time.UTC), QueryID: "a", Target: "shadow", Command: "COM_QUERY"},
	}
	if err := JSONLWriter(b).Write(context.Background(), sink.Batch[*lakehouse.ProxyLogRecord]{ID: "20260305_140000_0000abcd", Records: rows}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	b.List(context.Background(), "", func(k string) error { keys = append(keys, k); return nil })
	if len(keys) != 2 || !strings.Contains(keys[0], "hour=14/") || !strings.Contains(keys[1], "hour=15/") {
		t.Errorf("objects %v, want one in hour=14 and one in hour=15", keys)
	}
}

var memStores atomic.Int64

// lostAnswerWriter stores every batch but reports failure for the first `lose` writes, as a
// store does when a commit lands and its answer is lost.
type lostAnswerWriter struct {
	LogWriter
	lose int
	ids  []string
}

func (w *lostAnswerWriter) Write(ctx context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	w.ids = append(w.ids, b.ID)
	if err := w.LogWriter.Write(ctx, b); err != nil {
		return err
	}
	if w.lose > 0 {
		w.lose--
		return errors.New("answer lost")
	}
	return nil
}

// TestLogSinkRetriesStoreOnce: a batch whose write landed but looked failed is retried under the
// same id, so the idempotent store holds each row once.
func TestLogSinkRetriesStoreOnce(t *testing.T) {
	// On synctest's clock: the flush ticker, the retry backoff and Close's deadline take no real time.
	synctest.Test(t, func(t *testing.T) {
		b := objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1))) // Mem stores of one name are shared in a process
		w := &lostAnswerWriter{LogWriter: JSONLWriter(b), lose: 2}
		s := NewLogSink(w, LogSinkConfig{FlushInterval: 20 * time.Millisecond})
		ts := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
		for i := range 500 {
			s.Write(&lakehouse.ProxyLogRecord{TS: ts, QueryID: fmt.Sprintf("q%d", i), Target: "primary", Command: "COM_QUERY"})
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		rows := 0
		err := lakehouse.ScanJSONL(context.Background(), b, "", func(rec lakehouse.ProxyLogRecord, err error) error {
			rows++
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if rows != 500 || len(w.ids) < 3 || w.ids[0] != w.ids[1] || w.ids[1] != w.ids[2] {
			t.Fatalf("%d rows stored (want 500), batch ids written %v (want the first one three times)", rows, w.ids)
		}
	})
}

// batchWriter records the size of every batch stored, and refuses them while down is set.
type batchWriter struct {
	mu       sync.Mutex
	down     bool
	sizes    []int
	attempts int
}

func (w *batchWriter) String() string { return "batches" }
func (w *batchWriter) Write(_ context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts++
	if w.down {
		return errors.New("store unavailable")
	}
	w.sizes = append(w.sizes, len(b.Records))
	return nil
}

func (w *batchWriter) stored() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sizes)
}

// TestLogSinkWritesFullBatchesBeforeTheInterval: at a high rate a batch is written as soon as it
// is full (MaxBatch rows), not when the flush interval ends, so the sink holds at most about a
// batch of rows; the rows short of a batch wait for the interval (here: Close) and are not
// written as a small batch of their own each time a full one goes.
func TestLogSinkWritesFullBatchesBeforeTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &batchWriter{}
		s := NewLogSink(w, LogSinkConfig{MaxBatch: 100, FlushInterval: time.Hour})
		for range 250 {
			s.Write(&lakehouse.ProxyLogRecord{QueryID: "q"})
		}
		time.Sleep(2 * collectEvery) // the sink takes the rows and seals what fills batches
		synctest.Wait()
		if got := w.stored(); !slices.Equal(got, []int{100, 100}) {
			t.Fatalf("batches stored within the interval: %v, want [100 100] (the other 50 wait)", got)
		}
		for range 30 {
			s.Write(&lakehouse.ProxyLogRecord{QueryID: "q"})
		}
		time.Sleep(2 * collectEvery)
		synctest.Wait()
		if got := w.stored(); len(got) != 2 {
			t.Fatalf("80 rows, less than a batch, were written before the interval ended: %v", got)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := w.stored(); !slices.Equal(got, []int{100, 100, 80}) || s.Written.Load() != 280 {
			t.Fatalf("batches %v, %d rows written; want [100 100 80], 280", got, s.Written.Load())
		}
	})
}

// TestLogSinkKeepsMaxKeptRowsWhileTheStoreIsDown: batches the store refuses are kept to be retried
// up to MaxKept rows, however small the batches; the oldest are counted as lost first.
func TestLogSinkKeepsMaxKeptRowsWhileTheStoreIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &batchWriter{down: true}
		s := NewLogSink(w, LogSinkConfig{MaxBatch: 10, MaxKept: 30, FlushInterval: time.Hour})
		for i := range 100 {
			s.Write(&lakehouse.ProxyLogRecord{QueryID: fmt.Sprint(i)})
		}
		time.Sleep(2 * collectEvery)
		synctest.Wait()
		if d := s.Dropped.Load(); d != 70 {
			t.Fatalf("%d rows lost with the store down, want 70 (100 rows, 30 kept)", d)
		}
		// More full batches while the store refuses: kept within MaxKept, but not written at
		// every tick (a failing store is retried at the interval).
		for i := range 50 {
			s.Write(&lakehouse.ProxyLogRecord{QueryID: fmt.Sprint(100 + i)})
			time.Sleep(collectEvery / 5)
		}
		time.Sleep(2 * collectEvery)
		synctest.Wait()
		w.mu.Lock()
		attempts := w.attempts
		w.down = false
		w.mu.Unlock()
		if attempts != 1 || s.Dropped.Load() != 120 {
			t.Fatalf("%d writes tried and %d rows lost within the interval; want 1 and 120", attempts, s.Dropped.Load())
		}
		time.Sleep(time.Hour) // the interval: the kept batches are written
		synctest.Wait()
		if got := w.stored(); !slices.Equal(got, []int{10, 10, 10}) || s.Written.Load() != 30 {
			t.Fatalf("stored %v (%d rows) once the store was back, want the 3 newest batches", got, s.Written.Load())
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
