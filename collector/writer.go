package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/jsonl"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/sink"
)

// probeEvery is how often a sink known to be down is tried again (by replaying a spill file).
const probeEvery = 5 * time.Second

var errSinkDown = errors.New("sink is down; not retried until the next probe")

// writer hands batches of records to the sink (Config.Sink). One goroutine runs it; submit is
// safe from any goroutine. A record is acknowledged (its cursor position released) only once it
// is in the sink or in a local spill file.
//
// Its dependencies are named, not reached through the Collector: the settings, metrics, log and
// counters it updates, the memory budget it releases, the journal it reads records from and
// acknowledges them to, its heartbeat, and where the collector stands (position, for checkpoints).
type writer struct {
	cfg      *Config
	m        *metrics
	log      *slog.Logger
	stats    *Stats
	budget   *budget
	j        *journal // set by Collector.Run once the journal is open
	beat     *atomic.Int64
	position func() checkpoint
	snapshot func() StatsSnapshot
	spillDir string

	mu     sync.Mutex
	queue  []*pending
	qbytes int64
	notify chan struct{}

	// Owned by the writer goroutine.
	arena     bytes.Buffer // journaled records' JSON of the batch being written (see load)
	spillBuf  []byte
	sinkDown  bool
	lastProbe time.Time
	lastSaved []byte // the last checkpoint saved, to skip writing an unchanged one
}

func newWriter(c *Collector) *writer {
	return &writer{cfg: &c.cfg, m: c.m, log: c.log, stats: &c.stats, budget: c.budget, beat: &c.writerBeat,
		position: c.checkpointState, snapshot: c.Stats,
		spillDir: filepath.Join(c.cfg.StateDir, "spill"), notify: make(chan struct{}, 1)}
}

func (w *writer) openSpill() error {
	if err := os.MkdirAll(w.spillDir, 0o755); err != nil {
		return fmt.Errorf("creating spill directory under --state-dir: %w", err)
	}
	return nil
}

func (w *writer) submit(p *pending) {
	w.mu.Lock()
	w.queue = append(w.queue, p)
	w.qbytes += p.bytes
	full := len(w.queue) >= w.cfg.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
}

// take removes up to n records, and up to maxBatchBytes of them unless that is the first,
// from the front of the queue.
func (w *writer) take(n int) []*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	n = min(n, len(w.queue))
	limit := w.maxBatchBytes()
	var size int64
	for i, p := range w.queue[:n] {
		if size += p.bytes; i > 0 && size > limit {
			n = i
			break
		}
	}
	batch := make([]*pending, n)
	copy(batch, w.queue[:n])
	w.queue = w.queue[n:]
	for _, p := range batch {
		w.qbytes -= p.bytes
	}
	return batch
}

// maxBatchBytes bounds the records one flush holds in memory (read back from the journal):
// a quarter of --max-buffered-bytes, at most 32 MiB.
func (w *writer) maxBatchBytes() int64 { return min(w.cfg.MaxBufferedBytes/4, 32<<20) }

// load reads the records of batch that are only in the journal: decoded for a table sink, as
// their JSON bytes (into the writer's arena, valid until the next load) for a JSONL sink. A
// record that cannot be read (a damaged journal) is dropped with an error log: it is returned
// apart so that it is acknowledged and does not hold the journal forever.
//
// The arena holds the records as a JSONL object does, each followed by its newline, in batch
// order, and each record's line is a view of the arena up to its end: the sink sees that an
// hour's lines follow one another and puts them from the arena as they are (sink.JSONL.Line).
// Copying them into an object body was a second batch-sized buffer (up to 32 MiB more heap, less
// room under the GC's memory limit when the collector falls behind) and a copy of every byte.
func (w *writer) load(batch []*pending) (ok, lost []*pending) {
	_, decode := w.cfg.Sink.(sink.CheckpointStore)
	ok = batch[:0:0]
	type span struct {
		p          *pending
		start, end int
	}
	var spans []span
	w.arena.Reset()
	for _, p := range batch {
		if p.rec == nil && p.line == nil {
			var err error
			if decode {
				p.rec, err = w.j.read(p.loc)
			} else {
				start := w.arena.Len()
				if err = w.j.readInto(&w.arena, p.loc); err == nil {
					w.arena.WriteByte('\n')
					spans = append(spans, span{p, start, w.arena.Len()})
				}
			}
			if err != nil {
				w.log.Error("a journaled record cannot be read back: it is lost", "fe", p.fe, "query_id", p.queryID, "err", err)
				lost = append(lost, p)
				continue
			}
		}
		ok = append(ok, p)
	}
	data := w.arena.Bytes() // sliced once every read is in: the arena may have grown meanwhile
	for _, sp := range spans {
		sp.p.line = data[sp.start:sp.end] // not capped: the next record's line follows in it
	}
	return ok, lost
}

// unload drops records that the journal holds from memory, and every record's view of the
// load arena (reused by the next batch).
func unload(batch []*pending) {
	for _, p := range batch {
		p.line = nil
		if p.seq > 0 && !p.inMemory {
			p.rec = nil
		}
	}
}

// requeue puts records that could not be made durable back at the front.
func (w *writer) requeue(batch []*pending) {
	unload(batch)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queue = append(batch, w.queue...)
	for _, p := range batch {
		w.qbytes += p.bytes
	}
}

func (w *writer) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// run flushes until stop is closed, always between two batches; ctx bounds the I/O.
func (w *writer) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(w.cfg.FlushInterval)
	defer t.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	progress := time.NewTicker(time.Minute)
	defer progress.Stop()
	// Spills of an earlier run go first, here rather than before polling starts: with the sink
	// still down, a replay at start-up would hold polling back while the FEs evict entries.
	w.replaySpills(ctx)
	for {
		w.beat.Store(time.Now().UnixNano())
		w.updateGauges()
		stopping := func() bool {
			select {
			case <-stop:
				return true
			default:
				return ctx.Err() != nil
			}
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-w.notify:
			// Full batches only: partial ones wait for the interval.
			for w.queued() >= w.cfg.BatchSize && !stopping() {
				if !w.flushOnce(ctx) {
					break
				}
			}
		case <-t.C:
			for w.queued() > 0 && !stopping() {
				if !w.flushOnce(ctx) {
					break
				}
			}
			w.saveCheckpoint() // cursors move even when nothing is written (RUNNING, duplicates)
			// Once per flush interval, not per loop: it lists and stats the segment files.
			w.m.journalBytes.Set(float64(w.j.diskBytes()))
		case <-probe.C:
			w.replaySpills(ctx)
		case <-progress.C:
			s := w.snapshot()
			w.log.Info("progress", "records_written", s.RecordsWritten, "objects", s.ObjectsWritten,
				"records_spilled", s.RecordsSpilled, "profiles_missing", s.ProfilesMissing,
				"buffered_bytes", s.BufferedBytes, "sink_down", w.sinkDown)
		}
	}
}

// final flushes everything queued (spilling if the sink stays down) and writes the checkpoint.
func (w *writer) final(ctx context.Context) error {
	for w.queued() > 0 && ctx.Err() == nil {
		if !w.flushOnce(ctx) {
			select { // neither sink nor spill worked: try again shortly until the deadline
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	w.saveCheckpoint()
	if n := w.queued(); n > 0 {
		return fmt.Errorf("shutdown timeout: %d records were neither written nor spilled; they are collected again after a restart if the FEs still hold them", n)
	}
	return nil
}

// flushOnce makes one batch durable. It reports false when the batch had to be put back.
func (w *writer) flushOnce(ctx context.Context) bool {
	batch, lost := w.load(w.take(w.cfg.BatchSize))
	w.release(lost)
	if len(batch) == 0 {
		return true
	}
	defer unload(batch)
	start := time.Now()
	if err := w.writeBatch(ctx, batch, ""); err != nil {
		if serr := w.spill(batch); serr != nil {
			w.m.flushFailures.Inc()
			w.log.Error("sink down and spill failed: keeping records in memory (polling pauses when the buffer is full)",
				"records", len(batch), "sink_err", err, "spill_err", serr)
			w.requeue(batch)
			w.saveCheckpoint()
			return false
		}
		w.log.Warn("sink down: batch spilled to the local write-ahead directory", "records", len(batch), "dir", w.spillDir, "err", err)
	}
	w.ack(batch)
	w.m.flushSeconds.Observe(time.Since(start).Seconds())
	w.saveCheckpoint()
	return true
}

// writeBatch stores batch as one sink batch (id "" derives it from the records); on error none
// of it counts as written. A batch the sink had partly stored is completed by the next write
// under the same id (its spill file carries the id).
func (w *writer) writeBatch(ctx context.Context, batch []*pending, id string) error {
	recs := make([]*Record, len(batch))
	hours := map[time.Time]bool{}
	size := 0
	for i, p := range batch {
		recs[i] = &Record{Profile: p.rec, line: p.line, hour: p.partition()}
		hours[recs[i].hour] = true
		if p.line != nil {
			size += len(p.line)
		} else {
			size += int(p.bytes)
		}
	}
	if id == "" {
		id = batchID(batch)
	}
	b := sink.Batch[*Record]{ID: id, Records: recs}
	timeout := w.cfg.RequestTimeout * time.Duration(len(hours)) // one object per hour
	if _, table := w.cfg.Sink.(sink.CheckpointStore); table {
		cp, err := w.checkpointWith(batch)
		if err != nil {
			return err
		}
		b.Checkpoint, b.CheckpointKey = cp, CheckpointKey(w.cfg.Cluster)
		timeout = max(w.cfg.RequestTimeout, time.Minute) // Parquet files and a catalog commit
	}
	if err := w.retry(ctx, "writing batch "+id, timeout, func(actx context.Context) error {
		return w.cfg.Sink.Write(actx, b)
	}); err != nil {
		return err
	}
	w.written(len(batch), len(hours), size)
	return nil
}

// retry runs one sink operation, retrying with backoff for up to SpillAfter, each attempt
// bounded by timeout. A sink known to be down is not tried again until the next probe (a spill
// replay), so batches spill at once instead of piling up.
func (w *writer) retry(ctx context.Context, what string, timeout time.Duration, op func(context.Context) error) error {
	if w.sinkDown && time.Since(w.lastProbe) < probeEvery {
		return errSinkDown
	}
	deadline := time.Now().Add(w.cfg.SpillAfter)
	backoff := time.Duration(0)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := op(actx)
		cancel()
		if err == nil {
			if w.sinkDown {
				w.log.Info("sink is back", "sink", w.sinkName())
			}
			w.sinkDown = false
			return nil
		}
		if w.sinkDown || ctx.Err() != nil || time.Now().After(deadline) {
			w.sinkDown, w.lastProbe = true, time.Now()
			return fmt.Errorf("%s after %d attempts: %w", what, attempt, err)
		}
		w.m.flushRetries.Inc()
		backoff = nextBackoff(backoff, 200*time.Millisecond, 2*time.Second)
		w.log.Warn("sink write failed; retrying", "op", what, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

func (w *writer) sinkName() string { return w.cfg.Sink.String() }

func (w *writer) written(records, objects, bytes int) {
	w.m.recordsWritten.Add(float64(records))
	w.m.objectsWritten.Add(float64(objects))
	w.m.bytesWritten.Add(float64(bytes))
	w.stats.RecordsWritten.Add(int64(records))
	w.stats.ObjectsWritten.Add(int64(objects))
}

// ack releases records that are in the sink (or a spill file): their cursor positions, their
// memory, their place in the journal.
func (w *writer) ack(batch []*pending) {
	for _, p := range batch {
		if p.fe != "" {
			w.m.feWritten.WithLabelValues(p.fe).Inc()
		}
	}
	w.release(batch)
}

// release gives up records: written (ack) or unreadable.
func (w *writer) release(batch []*pending) {
	seqs := make([]int64, 0, len(batch))
	for _, p := range batch {
		if p.tracker != nil {
			p.tracker.done(p.eventTime, p.queryID)
		}
		if p.inMemory {
			w.budget.release(p.bytes)
		}
		if p.seq > 0 {
			seqs = append(seqs, p.seq)
		}
	}
	if len(seqs) > 0 {
		w.j.uploaded(seqs)
	}
}

// saveCheckpoint writes the local checkpoint when it changed. With a Committer the sink's
// position travels with every commit too; the local file adds the journal's cursors.
func (w *writer) saveCheckpoint() {
	cp := w.position()
	sig, _ := json.Marshal(cp) // Written is zero here: equal states give equal bytes
	if bytes.Equal(sig, w.lastSaved) {
		return
	}
	if err := cp.save(w.cfg.StateDir); err != nil {
		w.m.checkpointFails.Inc()
		w.log.Error("writing cursor checkpoint failed: a restart would re-collect from the previous one", "err", err)
		return
	}
	w.lastSaved = sig
}

func (w *writer) updateGauges() {
	w.m.bufferBytes.Set(float64(w.budget.used.Load()))
	w.m.pendingRecords.Set(float64(w.queued()))
}

// spill writes records to one local file, durably, so that their cursor positions can be
// released. The file is named after the batch id, so the replay completes a batch the sink had
// partly stored instead of storing its records twice.
func (w *writer) spill(records []*pending) error {
	w.spillBuf = w.spillBuf[:0]
	for _, p := range records {
		var err error
		if w.spillBuf, err = appendRecordJSON(w.spillBuf, &Record{Profile: p.rec, line: p.line}); err != nil {
			return err
		}
		w.spillBuf = append(w.spillBuf, '\n')
	}
	name := filepath.Join(w.spillDir, batchID(records)+".jsonl")
	if err := objstore.WriteFileAtomic(name, w.spillBuf); err != nil {
		return fmt.Errorf("spilling %d records: %w", len(records), err)
	}
	w.m.spills.Inc()
	w.m.spilledRecords.Add(float64(len(records)))
	w.stats.RecordsSpilled.Add(int64(len(records)))
	return nil
}

// replaySpills moves spill files into the sink, oldest first. The batch id is the spill file's
// name, so a replay interrupted by a crash rewrites the same batch instead of duplicating it. A file is deleted only when all of its records are in the sink.
func (w *writer) replaySpills(ctx context.Context) {
	names, err := filepath.Glob(filepath.Join(w.spillDir, "*.jsonl"))
	if err != nil || len(names) == 0 {
		w.m.spillFiles.Set(0)
		return
	}
	sort.Strings(names)
	w.m.spillFiles.Set(float64(len(names)))
	w.lastProbe = time.Time{} // a replay is the probe: always try
	for _, name := range names {
		if ctx.Err() != nil {
			return
		}
		if err := w.replayFile(ctx, name); err != nil {
			w.log.Warn("spill replay stopped: sink still down", "file", name, "err", err)
			return
		}
		w.m.spillReplays.Inc()
	}
	w.m.spillFiles.Set(0)
	w.log.Info("spill files replayed into the sink", "files", len(names))
}

func (w *writer) replayFile(ctx context.Context, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	r := jsonl.NewReader[lakehouse.ProfileRecord](f, name)
	var batch []*pending
	for r.Scan() {
		rec, err := r.Record()
		if err != nil {
			w.log.Error("unreadable line in spill file: skipped", "err", err)
			continue
		}
		batch = append(batch, &pending{rec: &rec}) // no tracker: the cursor already covers them
	}
	f.Close()
	if r.Err() != nil {
		return r.Err()
	}
	id := strings.TrimSuffix(filepath.Base(name), ".jsonl")
	if sink.ValidBatchID(id) != nil {
		// Not a name this writer gives (a file put there by hand, or renamed): an id derived
		// from the name, so that a replay cut short is completed under the same id.
		id = sink.DerivedBatchID(time.Unix(0, 0), []string{id})
	}
	if err := w.writeBatch(ctx, batch, id); err != nil {
		return err
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("removing replayed spill file: %w", err)
	}
	return nil
}
