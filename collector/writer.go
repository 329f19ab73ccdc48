package collector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/jsonl"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// probeEvery is how often a sink known to be down is tried again (by replaying a spill file).
const probeEvery = 5 * time.Second

var errSinkDown = errors.New("sink is down; not retried until the next probe")

// writer batches records into Hive-partitioned JSONL objects. One goroutine runs it; submit is
// safe from any goroutine. A record is acknowledged (its cursor position released) only once it
// is in the sink or in a local spill file.
type writer struct {
	c        *Collector
	spillDir string

	mu     sync.Mutex
	queue  []*pending
	qbytes int64
	notify chan struct{}

	// Owned by the writer goroutine.
	buf       bytes.Buffer
	enc       *json.Encoder
	sinkDown  bool
	lastProbe time.Time
	lastSaved []byte // the last checkpoint saved, to skip writing an unchanged one
	// unreadable are records encode could not read back from the journal; flushOnce
	// acknowledges them so that they do not hold the journal forever.
	unreadable []*pending
}

func newWriter(c *Collector) *writer {
	return &writer{c: c, spillDir: filepath.Join(c.cfg.StateDir, "spill"), notify: make(chan struct{}, 1)}
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
	full := len(w.queue) >= w.c.cfg.BatchSize
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
func (w *writer) maxBatchBytes() int64 { return min(w.c.cfg.MaxBufferedBytes/4, 32<<20) }

// load decodes, for a Committer, the records of batch that are only in the journal (a JSONL
// sink gets their bytes copied straight into its objects by encode). A record that
// cannot be read (a damaged journal) is dropped with an error log: it is returned apart so that
// it is acknowledged and does not hold the journal forever.
func (w *writer) load(batch []*pending) (ok, lost []*pending) {
	ok = batch[:0:0]
	for _, p := range batch {
		if p.rec == nil && p.raw == nil && w.c.cfg.Committer != nil {
			var err error
			if p.rec, err = w.c.j.read(p.loc); err != nil {
				w.c.log.Error("a journaled record cannot be read back: it is lost", "fe", p.fe, "query_id", p.queryID, "err", err)
				lost = append(lost, p)
				continue
			}
		}
		ok = append(ok, p)
	}
	return ok, lost
}

// unload drops records that the journal holds from memory.
func unload(batch []*pending) {
	for _, p := range batch {
		if p.seq > 0 && !p.inMemory {
			p.rec, p.raw = nil, nil
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

func (w *writer) queuedBytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.qbytes
}

func (w *writer) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// run flushes until stop is closed, always between two batches; ctx bounds the I/O.
func (w *writer) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(w.c.cfg.FlushInterval)
	defer t.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	progress := time.NewTicker(time.Minute)
	defer progress.Stop()
	// Spills of an earlier run go first, here rather than before polling starts: with the sink
	// still down, a replay at start-up would hold polling back while the FEs evict entries.
	w.replaySpills(ctx)
	for {
		w.c.writerBeat.Store(time.Now().UnixNano())
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
			for w.queued() >= w.c.cfg.BatchSize && !stopping() {
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
			w.c.m.journalBytes.Set(float64(w.c.j.diskBytes()))
		case <-probe.C:
			w.replaySpills(ctx)
		case <-progress.C:
			s := w.c.Stats()
			w.c.log.Info("progress", "records_written", s.RecordsWritten, "objects", s.ObjectsWritten,
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
	batch, lost := w.load(w.take(w.c.cfg.BatchSize))
	w.release(lost)
	if len(batch) == 0 {
		return true
	}
	defer unload(batch)
	defer func() {
		w.release(w.unreadable)
		w.unreadable = nil
	}()
	start := time.Now()
	failed, err := w.writeBatch(ctx, batch, start)
	if len(failed) > 0 {
		if serr := w.spill(failed); serr != nil {
			w.c.m.flushFailures.Inc()
			w.c.log.Error("sink down and spill failed: keeping records in memory (polling pauses when the buffer is full)",
				"records", len(failed), "sink_err", err, "spill_err", serr)
			w.ack(without(batch, failed))
			w.requeue(failed)
			w.saveCheckpoint()
			return false
		}
		w.c.log.Warn("sink down: batch spilled to the local write-ahead directory", "records", len(failed), "dir", w.spillDir, "err", err)
	}
	w.ack(batch)
	w.c.m.flushSeconds.Observe(time.Since(start).Seconds())
	w.saveCheckpoint()
	return true
}

// writeBatch writes one object per partition hour and returns the records of the objects that
// could not be written.
func (w *writer) writeBatch(ctx context.Context, batch []*pending, now time.Time) ([]*pending, error) {
	if cm := w.c.cfg.Committer; cm != nil {
		return w.commitBatch(ctx, cm, batch, "")
	}
	var failed []*pending
	var firstErr error
	for _, g := range groupByPartition(batch) {
		data, err := w.encode(g.records)
		if err != nil {
			return batch, err // cannot happen for these types; keep everything
		}
		key := lakehouse.ObjectKey("", g.hour, now)
		if err := w.put(ctx, key, data); err != nil {
			failed = append(failed, g.records...)
			firstErr = cmpErr(firstErr, err)
			continue
		}
		w.written(len(g.records), len(data))
	}
	return failed, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// put writes one object, retrying with backoff for up to SpillAfter.
func (w *writer) put(ctx context.Context, key string, data []byte) error {
	return w.retry(ctx, "writing "+key, w.c.cfg.RequestTimeout, func(actx context.Context) error {
		return w.c.cfg.Sink.Put(actx, key, data)
	})
}

// retry runs one sink operation, retrying with backoff for up to SpillAfter, each attempt
// bounded by timeout. A sink known to be down gets a single attempt until the next probe, so
// batches spill at once instead of piling up.
func (w *writer) retry(ctx context.Context, what string, timeout time.Duration, op func(context.Context) error) error {
	if w.sinkDown && time.Since(w.lastProbe) < probeEvery {
		return errSinkDown
	}
	deadline := time.Now().Add(w.c.cfg.SpillAfter)
	backoff := time.Duration(0)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := op(actx)
		cancel()
		if err == nil {
			if w.sinkDown {
				w.c.log.Info("sink is back", "sink", w.sinkName())
			}
			w.sinkDown = false
			return nil
		}
		if w.sinkDown || ctx.Err() != nil || time.Now().After(deadline) {
			w.sinkDown, w.lastProbe = true, time.Now()
			return fmt.Errorf("%s after %d attempts: %w", what, attempt, err)
		}
		w.c.m.flushRetries.Inc()
		backoff = nextBackoff(backoff, 200*time.Millisecond, 2*time.Second)
		w.c.log.Warn("sink write failed; retrying", "op", what, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

func (w *writer) sinkName() string {
	if cm := w.c.cfg.Committer; cm != nil {
		return cm.String()
	}
	return w.c.cfg.Sink.String()
}

func (w *writer) written(records, bytes int) {
	w.c.m.recordsWritten.Add(float64(records))
	w.c.m.objectsWritten.Inc()
	w.c.m.bytesWritten.Add(float64(bytes))
	w.c.stats.RecordsWritten.Add(int64(records))
	w.c.stats.ObjectsWritten.Add(1)
}

// ack releases records that are in the sink (or a spill file): their cursor positions, their
// memory, their place in the journal.
func (w *writer) ack(batch []*pending) {
	for _, p := range batch {
		if p.fe != "" {
			w.c.m.feWritten.WithLabelValues(p.fe).Inc()
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
			w.c.budget.release(p.bytes)
		}
		if p.seq > 0 {
			seqs = append(seqs, p.seq)
		}
	}
	if len(seqs) > 0 {
		w.c.j.uploaded(seqs)
	}
}

func without(all, remove []*pending) []*pending {
	drop := make(map[*pending]bool, len(remove))
	for _, p := range remove {
		drop[p] = true
	}
	var out []*pending
	for _, p := range all {
		if !drop[p] {
			out = append(out, p)
		}
	}
	return out
}

// saveCheckpoint writes the local checkpoint when it changed. With a Committer the sink's
// position travels with every commit too; the local file adds the journal's cursors.
func (w *writer) saveCheckpoint() {
	cp := w.c.checkpointState()
	sig, _ := json.Marshal(cp) // Written is zero here: equal states give equal bytes
	if bytes.Equal(sig, w.lastSaved) {
		return
	}
	if err := cp.save(w.c.cfg.StateDir); err != nil {
		w.c.m.checkpointFails.Inc()
		w.c.log.Error("writing cursor checkpoint failed: a restart would re-collect from the previous one", "err", err)
		return
	}
	w.lastSaved = sig
}

func (w *writer) updateGauges() {
	w.c.m.bufferBytes.Set(float64(w.c.budget.used.Load()))
	w.c.m.pendingRecords.Set(float64(w.queued()))
}

type partitionGroup struct {
	hour    time.Time
	records []*pending
}

func groupByPartition(batch []*pending) []partitionGroup {
	idx := map[time.Time]int{}
	var groups []partitionGroup
	for _, p := range batch {
		h := p.partition()
		i, ok := idx[h]
		if !ok {
			i = len(groups)
			idx[h] = i
			groups = append(groups, partitionGroup{hour: h})
		}
		groups[i].records = append(groups[i].records, p)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].hour.Before(groups[j].hour) })
	return groups
}

// encode renders records as JSONL into w's reusable buffer. The result is valid until the next
// call: sinks copy or send the bytes before Put returns. A record only in the journal is read
// from it straight into the buffer: it is already JSON, as the sink stores it.
func (w *writer) encode(records []*pending) ([]byte, error) {
	size := 0
	for _, p := range records {
		switch {
		case p.rec == nil:
			size += int(p.loc.n) + 1
		default:
			size += int(p.bytes) + len(p.rec.ProfileText)/8 // escaping newlines grows the text a little
		}
	}
	w.buf.Reset()
	w.buf.Grow(size)
	if w.enc == nil {
		w.enc = json.NewEncoder(&w.buf)
		w.enc.SetEscapeHTML(false)
	}
	for _, p := range records {
		if p.rec == nil {
			if err := w.c.j.readInto(&w.buf, p.loc); err != nil {
				// A damaged journal: the record is lost, the rest of the object is not.
				w.c.log.Error("a journaled record cannot be read back: it is lost", "fe", p.fe, "query_id", p.queryID, "err", err)
				w.unreadable = append(w.unreadable, p)
				continue
			}
			w.buf.WriteByte('\n')
			continue
		}
		if err := w.enc.Encode(p.rec); err != nil {
			return nil, fmt.Errorf("encoding record %s: %w", p.rec.QueryID, err)
		}
	}
	return w.buf.Bytes(), nil
}

// spill writes records to one local file, durably, so that their cursor positions can be released.
func (w *writer) spill(records []*pending) error {
	data, err := w.encode(records)
	if err != nil {
		return err
	}
	name := filepath.Join(w.spillDir, fmt.Sprintf("%d.jsonl", time.Now().UnixNano()))
	if err := objstore.WriteFileAtomic(name, data); err != nil {
		return fmt.Errorf("spilling %d records: %w", len(records), err)
	}
	w.c.m.spills.Inc()
	w.c.m.spilledRecords.Add(float64(len(records)))
	w.c.stats.RecordsSpilled.Add(int64(len(records)))
	return nil
}

// replaySpills moves spill files into the sink, oldest first. Object keys are derived from the
// spill file's name, so a replay interrupted by a crash rewrites the same objects instead of
// duplicating them. A file is deleted only when all of its records are in the sink.
func (w *writer) replaySpills(ctx context.Context) {
	names, err := filepath.Glob(filepath.Join(w.spillDir, "*.jsonl"))
	if err != nil || len(names) == 0 {
		w.c.m.spillFiles.Set(0)
		return
	}
	sort.Strings(names)
	w.c.m.spillFiles.Set(float64(len(names)))
	w.lastProbe = time.Time{} // a replay is the probe: always try
	for _, name := range names {
		if ctx.Err() != nil {
			return
		}
		if err := w.replayFile(ctx, name); err != nil {
			w.c.log.Warn("spill replay stopped: sink still down", "file", name, "err", err)
			return
		}
		w.c.m.spillReplays.Inc()
	}
	w.c.m.spillFiles.Set(0)
	w.c.log.Info("spill files replayed into the sink", "files", len(names))
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
			w.c.log.Error("unreadable line in spill file: skipped", "err", err)
			continue
		}
		batch = append(batch, &pending{rec: &rec}) // no tracker: the cursor already covers them
	}
	f.Close()
	if r.Err() != nil {
		return r.Err()
	}
	base := strings.TrimSuffix(filepath.Base(name), ".jsonl")
	if cm := w.c.cfg.Committer; cm != nil {
		// The batch id comes from the spill file, so a replay cut by a crash is not added twice.
		if _, err := w.commitBatch(ctx, cm, batch, "collect-"+w.c.cfg.Cluster+"-spill-"+base); err != nil {
			return err
		}
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("removing replayed spill file: %w", err)
		}
		return nil
	}
	written := spillTime(base)
	for _, g := range groupByPartition(batch) {
		data, err := w.encode(g.records)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(base + g.hour.String()))
		key := lakehouse.PartitionDir(g.hour) + "/" + written.UTC().Format("20060102_150405") + "_" + hex.EncodeToString(sum[:4]) + ".jsonl"
		if err := w.put(ctx, key, data); err != nil {
			return err
		}
		w.written(len(g.records), len(data))
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("removing replayed spill file: %w", err)
	}
	return nil
}

func spillTime(base string) time.Time {
	var ns int64
	if _, err := fmt.Sscanf(base, "%d", &ns); err != nil {
		return time.Now()
	}
	return time.Unix(0, ns)
}
