package shadowproxy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// flakyWriter fails its first n batches.
type flakyWriter struct {
	mu    sync.Mutex
	fails int
	rows  []*lakehouse.ProxyLogRecord
}

func (w *flakyWriter) String() string { return "flaky" }
func (w *flakyWriter) WriteBatch(_ context.Context, rows []*lakehouse.ProxyLogRecord) error {
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
}

func TestLogSinkBoundedBuffer(t *testing.T) {
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
}

func TestJSONLWriterPartitionsByHour(t *testing.T) {
	b := objstore.NewMem("logs")
	rows := []*lakehouse.ProxyLogRecord{
		{TS: time.Date(2026, 3, 5, 14, 59, 0, 0, time.UTC), QueryID: "a", Target: "primary", Command: "COM_QUERY"},
		{TS: time.Date(2026, 3, 5, 15, 0, 1, 0, time.UTC), QueryID: "a", Target: "shadow", Command: "COM_QUERY"},
	}
	if err := (JSONLWriter{Bucket: b}).WriteBatch(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	var keys []string
	b.List(context.Background(), "", func(k string) error { keys = append(keys, k); return nil })
	if len(keys) != 2 || !strings.Contains(keys[0], "hour=14/") || !strings.Contains(keys[1], "hour=15/") {
		t.Errorf("objects %v, want one in hour=14 and one in hour=15", keys)
	}
}
