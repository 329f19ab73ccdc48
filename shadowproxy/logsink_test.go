package shadowproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// recordsOnly hides JSONLWriter's line store: a LogSink writing to it keeps records until it
// writes them, as it does for any other store.
type recordsOnly struct{ LogWriter }

// objectLines returns every line stored in b, by partition directory, sorted.
func objectLines(t *testing.T, b *objstore.Mem) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	err := b.List(context.Background(), "", func(key string) error {
		rc, err := b.Get(context.Background(), key)
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		dir := key[:strings.LastIndexByte(key, '/')]
		for line := range strings.Lines(string(data)) {
			got[dir] = append(got[dir], line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, lines := range got {
		slices.Sort(lines)
	}
	return got
}

// TestLogSinkEncodesRowsAsTheyCome: rows written to a JSONL store are encoded as the sink takes
// them, and what is stored is line for line what the same rows stored as records give: same
// partitions, same bytes (escaping, enrichment, optional fields), each row once although the
// store fails twice (the batch is retried as it was encoded).
func TestLogSinkEncodesRowsAsTheyCome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows := func() []*lakehouse.ProxyLogRecord {
			var out []*lakehouse.ProxyLogRecord
			base := time.Date(2026, 3, 5, 14, 59, 59, 0, time.UTC)
			for i := range 3000 {
				r := &lakehouse.ProxyLogRecord{TS: base.Add(time.Duration(i%7) * 300 * time.Millisecond), // both sides of 15:00
					QueryID: fmt.Sprintf("q%04d", i), Target: []string{"primary", "shadow"}[i%2], Command: "COM_QUERY",
					QueryText:  fmt.Sprintf("SELECT a <> %d AND b < 'é&' FROM t /*route='/r%d'*/", i, i%5),
					DurationMS: float64(i) / 7, Success: i%11 != 0, ClientAddr: "10.0.0.1:5000"}
				if !r.Success {
					code := 1064
					r.Error, r.ErrorCode = "syntax <error>", &code
				}
				out = append(out, r)
			}
			return out
		}
		store := func(w LogWriter, flush time.Duration) {
			s := NewLogSink(w, LogSinkConfig{FlushInterval: flush, MaxBatch: 700})
			for i, r := range rows() {
				s.Write(r)
				if i%500 == 0 {
					time.Sleep(150 * time.Millisecond) // several collections and batches
				}
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.Written.Load() != 3000 || s.Dropped.Load() != 0 {
				t.Fatalf("written %d, dropped %d; want 3000, 0", s.Written.Load(), s.Dropped.Load())
			}
		}
		lines := objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1)))
		fails := 0
		lines.SetFailPut(func(string) error {
			if fails < 2 {
				fails++
				return errors.New("store unavailable")
			}
			return nil
		})
		records := objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1)))
		if _, ok := JSONLWriter(lines).(lineStore); !ok {
			t.Fatal("JSONLWriter no longer takes encoded lines: this test would compare records with records")
		}
		store(JSONLWriter(lines), 200*time.Millisecond)
		if fails != 2 {
			t.Fatalf("the store failed %d times, want 2", fails)
		}
		store(recordsOnly{JSONLWriter(records)}, time.Second)
		got, want := objectLines(t, lines), objectLines(t, records)
		if len(want) != 2 {
			t.Fatalf("the records went to %d partitions, want 2 (hours 14 and 15)", len(want))
		}
		for dir, w := range want {
			if g := got[dir]; !slices.Equal(g, w) {
				t.Errorf("%s: %d lines stored from encoded rows, %d from records; first difference: %q vs %q",
					dir, len(g), len(w), firstDiff(g, w), firstDiff(w, g))
			}
		}
		if len(got) != len(want) {
			t.Errorf("encoded rows went to %d partitions, records to %d", len(got), len(want))
		}
	})
}

func firstDiff(a, b []string) string {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return a[i]
		}
	}
	return ""
}

// TestLineBufferViewsAreAdjacent: the lines taken for a batch lie one after another in one array
// (what lets sink.JSONL put an hour's object without copying it), each ends with its newline, and
// lines taken earlier keep their bytes while more rows are added.
func TestLineBufferViewsAreAdjacent(t *testing.T) {
	var b lineBuffer
	ts := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	for i := range 5 {
		b.add(&lakehouse.ProxyLogRecord{TS: ts, QueryID: fmt.Sprintf("q%d", i), Target: "primary", Command: "COM_QUERY"})
	}
	first := b.take(3)
	kept := make([]string, len(first))
	for i, l := range first {
		kept[i] = string(l.line)
	}
	for i := range 100 { // the arena grows (and moves) while the first batch is held
		b.add(&lakehouse.ProxyLogRecord{TS: ts.Add(time.Hour), QueryID: fmt.Sprintf("r%d", i), Target: "shadow", Command: "COM_QUERY"})
	}
	rest := b.take(b.len())
	if len(rest) != 102 || b.len() != 0 {
		t.Fatalf("took %d then %d rows, %d left; want 3, 102, 0", len(first), len(rest), b.len())
	}
	for _, batch := range [][]logLine{first, rest} {
		for i, l := range batch {
			if n := len(l.line); n < 2 || l.line[n-1] != '\n' || l.line[0] != '{' {
				t.Fatalf("line %q is not one JSON object and its newline", l.line)
			}
			if i > 0 {
				prev := batch[i-1].line
				if cap(prev) <= len(prev) || &prev[:len(prev)+1][len(prev)] != &l.line[0] {
					t.Fatalf("line %d of a batch does not start where line %d ends", i, i-1)
				}
			}
		}
	}
	if rest[1].hour != ts || rest[2].hour != ts.Add(time.Hour) {
		t.Errorf("hours %v, %v; want each row's own", rest[1].hour, rest[2].hour)
	}
	for i, l := range first {
		if string(l.line) != kept[i] {
			t.Errorf("line %d changed after more rows were added: %q, was %q", i, l.line, kept[i])
		}
	}
}
