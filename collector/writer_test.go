package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/sink"
)

// downSink fails every write while down is set, and keeps every record it stores by batch id
// (a second write of an id replaces the first, as the real sinks do).
type downSink struct {
	mu      sync.Mutex
	down    atomic.Bool
	writes  []time.Time // when each write was attempted
	batches map[string][]string
}

func (s *downSink) String() string { return "down-sink" }

func (s *downSink) Write(_ context.Context, b sink.Batch[*Record]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, time.Now())
	if err := sink.ValidBatchID(b.ID); err != nil {
		return err // as the JSONL sink, whose objects are named after the id
	}
	if s.down.Load() {
		return errors.New("503 (injected)")
	}
	ids := make([]string, len(b.Records))
	for i, r := range b.Records {
		ids[i] = r.Profile.QueryID
	}
	s.batches[b.ID] = ids
	return nil
}

func (s *downSink) stored() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[string]int{}
	for _, ids := range s.batches {
		for _, id := range ids {
			n[id]++
		}
	}
	return n
}

// testWriter is a writer on its own, with no Collector: its dependencies are what it names.
func testWriter(t *testing.T, s Sink) *writer {
	cfg := &Config{Cluster: "test", Sink: s, StateDir: t.TempDir(), BatchSize: 100, FlushInterval: 10 * time.Second,
		SpillAfter: 10 * time.Second, RequestTimeout: time.Second, MaxBufferedBytes: 64 << 20}
	c := &Collector{cfg: *cfg, log: slog.New(slog.DiscardHandler), m: newMetrics(prometheus.NewRegistry()), budget: &budget{max: cfg.MaxBufferedBytes}}
	w := newWriter(c)
	// No journal and no FEs: the position a checkpoint records is empty.
	w.position = func() checkpoint { return checkpoint{Version: 1, Cluster: "test", FEs: map[string]feCheckpoint{}} }
	if err := w.openSpill(); err != nil {
		t.Fatal(err)
	}
	j, _, err := openJournal(filepath.Join(cfg.StateDir, "journal"), journalOptions{recycle: cfg.JournalRecycle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.close() })
	w.j = j
	return w
}

func submitRecords(w *writer, from, n int) {
	start := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		rec := &lakehouse.ProfileRecord{Cluster: "test", FEHost: "fe1:8030", QueryID: fmt.Sprintf("q%04d", i), StartTime: start.Add(time.Duration(i) * time.Second), State: "FINISHED"}
		w.submit(&pending{rec: rec, fe: rec.FEHost, queryID: rec.QueryID, bytes: 100})
	}
}

// TestWriterRetriesThenSpillsThenReplays runs the writer on synctest's clock: a sink that is
// down is retried with backoff for SpillAfter, the batch then goes to a spill file (records
// acknowledged), a down sink is not retried for every batch until the next probe, and once the
// sink is back the probe replays the spill under its batch id: every record stored once.
func TestWriterRetriesThenSpillsThenReplays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &downSink{batches: map[string][]string{}}
		s.down.Store(true)
		w := testWriter(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); w.run(ctx, stop) }()

		start := time.Now()
		submitRecords(w, 0, 100) // a full batch: flushed at once
		synctest.Wait()
		time.Sleep(15 * time.Second)
		synctest.Wait()
		spills, _ := filepath.Glob(filepath.Join(w.spillDir, "*.jsonl"))
		if len(spills) != 1 || w.queued() != 0 || w.stats.RecordsSpilled.Load() != 100 {
			t.Fatalf("after 15 s of a down sink: %d spill files, %d queued, %d spilled; want 1, 0, 100", len(spills), w.queued(), w.stats.RecordsSpilled.Load())
		}
		s.mu.Lock()
		var retries []time.Duration // the batch's own attempts; later ones are probes replaying the spill
		for _, at := range s.writes {
			if d := at.Sub(start); d <= w.cfg.SpillAfter+time.Second {
				retries = append(retries, d)
			}
		}
		attempts := len(s.writes)
		s.mu.Unlock()
		if len(retries) < 5 || retries[0] != 0 || retries[len(retries)-1] < w.cfg.SpillAfter-2*time.Second {
			t.Errorf("attempts at %v: want retries with backoff for about SpillAfter (10 s), then the spill", retries)
		}

		// A second batch while the sink is known to be down, between two probes: spilled at
		// once, without an attempt, so that batches do not pile up behind a dead sink.
		submitRecords(w, 100, 100)
		synctest.Wait()
		s.mu.Lock()
		extra := len(s.writes) - attempts
		s.mu.Unlock()
		spills, _ = filepath.Glob(filepath.Join(w.spillDir, "*.jsonl"))
		if extra != 0 || len(spills) != 2 {
			t.Errorf("the second batch: %d attempts and %d spill files while the sink was known to be down, want 0 and 2", extra, len(spills))
		}

		// The sink comes back: the next probe (every 5 s) replays both spill files.
		s.down.Store(false)
		time.Sleep(probeEvery + time.Second)
		synctest.Wait()
		if left, _ := filepath.Glob(filepath.Join(w.spillDir, "*.jsonl")); len(left) != 0 {
			t.Errorf("spill files left after the sink came back: %v", left)
		}
		got := s.stored()
		for i := range 200 {
			if n := got[fmt.Sprintf("q%04d", i)]; n != 1 {
				t.Errorf("q%04d stored %d times, want once", i, n)
			}
		}
		close(stop)
		<-done
		cancel()
	})
}

// TestWriterSpillIsNamedAfterTheBatch: a spill file's name is the batch id, so a replay cut
// short by a crash rewrites the same batch instead of adding it again.
func TestWriterSpillIsNamedAfterTheBatch(t *testing.T) {
	s := &downSink{batches: map[string][]string{}}
	w := testWriter(t, s)
	submitRecords(w, 0, 10)
	batch := w.take(10)
	if err := w.spill(batch); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(w.spillDir, batchID(batch)+".jsonl")
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("spill file %s: %v", name, err)
	}
	for range 2 { // a replay, then the same replay again after a crash before the file was removed
		data, _ := os.ReadFile(name)
		w.replaySpills(context.Background())
		os.WriteFile(name, data, 0o644)
	}
	if got := s.stored(); len(got) != 10 || len(s.batches) != 1 {
		t.Errorf("%d records in %d batches after replaying the same spill twice, want 10 in 1", len(got), len(s.batches))
	}
}

// TestWriterReplaysASpillFileOfAnyName: a spill file whose name cannot be a batch id (put there
// by hand, or renamed) is still replayed, under an id derived from its name, instead of failing
// every probe and holding back the files after it.
func TestWriterReplaysASpillFileOfAnyName(t *testing.T) {
	s := &downSink{batches: map[string][]string{}}
	w := testWriter(t, s)
	submitRecords(w, 0, 5)
	batch := w.take(5)
	if err := w.spill(batch); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(w.spillDir, batchID(batch)+".jsonl")
	odd := filepath.Join(w.spillDir, "copied by hand.v2.jsonl")
	if err := os.Rename(good, odd); err != nil {
		t.Fatal(err)
	}
	w.replaySpills(context.Background())
	if left, _ := filepath.Glob(filepath.Join(w.spillDir, "*.jsonl")); len(left) != 0 || len(s.stored()) != 5 {
		t.Fatalf("spill files left %v, %d records stored; want none left and 5 stored", left, len(s.stored()))
	}
}

// arenaBucket notes, for every Put, whether its data is a view of the writer's load arena
// rather than an object body the sink built.
type arenaBucket struct {
	objstore.Bucket
	arena     func() []byte
	fromArena map[string]bool
}

func (a *arenaBucket) Put(ctx context.Context, key string, data []byte) error {
	arena := a.arena()
	in := false
	for i := range arena {
		in = in || &arena[i] == &data[0]
	}
	a.fromArena[key] = in
	return a.Bucket.Put(ctx, key, data)
}

// TestJSONLObjectsArePutFromTheArena: records read back from the journal reach a JSONL sink as
// one view of the writer's arena per hour (no second batch-sized buffer, no copy), and the
// objects hold the records, a line each, in order. An hour whose records are not adjacent in the
// batch is encoded as before, to the same bytes.
func TestJSONLObjectsArePutFromTheArena(t *testing.T) {
	mem := objstore.NewMem(fmt.Sprintf("arena-%d", time.Now().UnixNano()))
	var w *writer
	b := &arenaBucket{Bucket: mem, arena: func() []byte { return w.arena.Bytes() }}
	w = testWriter(t, JSONLSink(b))
	h14 := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	h15 := h14.Add(time.Hour)
	n := 0
	// batch journals records filed under hours, hands them to the writer and flushes them; it
	// returns the query ids of each hour, in order.
	batch := func(hours ...time.Time) map[time.Time][]string {
		b.fromArena = map[string]bool{}
		ids := map[time.Time][]string{}
		for _, h := range hours {
			id := fmt.Sprintf("q%04d", n)
			rec := &lakehouse.ProfileRecord{Cluster: "test", FEHost: "fe1:8030", QueryID: id,
				StartTime: h.Add(time.Duration(n) * time.Second), State: "FINISHED",
				ProfileText: "Query:\n  Summary:\n     - Query ID: " + id + "\n     - Sql Statement: SELECT \"x\" < 1\n"}
			n++
			ids[h] = append(ids[h], id)
			err := w.j.appendRecord(rec.FEHost, rec, func(seq int64, loc journalLoc) {
				w.submit(&pending{seq: seq, loc: loc, fe: rec.FEHost, queryID: rec.QueryID, bytes: int64(loc.n)})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		w.j.syncNow() // durable: the callbacks hand the records to the writer
		if !w.flushOnce(t.Context()) {
			t.Fatal("the batch was not written")
		}
		return ids
	}
	// check finds the object of hour h and holds it to the ids and to where it was put from.
	check := func(h time.Time, ids []string, wantFromArena bool) {
		t.Helper()
		var key string
		for k := range b.fromArena {
			if strings.HasPrefix(k, lakehouse.PartitionDir(h)+"/") {
				key = k
			}
		}
		if key == "" {
			t.Fatalf("no object for hour %s among %v", h, b.fromArena)
		}
		if b.fromArena[key] != wantFromArena {
			t.Errorf("%s put from the arena: %v, want %v", key, b.fromArena[key], wantFromArena)
		}
		r, err := mem.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		data, _ := io.ReadAll(r)
		var got []string
		for line := range strings.Lines(string(data)) {
			var rec lakehouse.ProfileRecord
			if err := json.Unmarshal([]byte(line), &rec); err != nil || !strings.HasSuffix(line, "}\n") {
				t.Fatalf("%s: line %q: %v", key, line, err)
			}
			got = append(got, rec.QueryID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s holds %v, want %v", key, got, ids)
		}
	}

	ids := batch(h14, h14, h14)
	check(h14, ids[h14], true)
	ids = batch(h14, h15, h15, h14) // hour 14's records are apart: encoded
	check(h14, ids[h14], false)
	check(h15, ids[h15], true)
}
