package shadowproxy

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// BatchWriter stores one batch of rows durably (an object per partition hour, an Iceberg
// commit...). It is retried on error, so it must be idempotent or all-or-nothing.
type BatchWriter interface {
	WriteBatch(ctx context.Context, rows []*lakehouse.ProxyLogRecord) error
	String() string
}

// LogSink batches log rows off the client's path and hands them to a BatchWriter every
// FlushInterval or MaxBatch rows. Write never blocks: when the buffer is full (the store is
// down for long), rows are dropped and counted, because the proxy must not slow the client.
// It fills the keys computed from the text (query_hash, endpoint, fingerprint) here, on its
// own goroutine.
type LogSink struct {
	w             BatchWriter
	rules         *fingerprint.Rules
	log           *slog.Logger
	flushInterval time.Duration
	maxBatch      int
	// pending are the rows written since the sink last took them. A slice under a lock rather
	// than a channel: a row costs no wake-up of the sink's goroutine, which takes them all a few
	// times a second.
	mu      sync.Mutex
	pending []*lakehouse.ProxyLogRecord
	buffer  int
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool

	Written      atomic.Int64 // rows stored
	Dropped      atomic.Int64 // rows lost to a full buffer
	WriteErrors  atomic.Int64 // failed batch writes (retried)
	LastWriteErr atomic.Value // string
	classes      map[string]fingerprint.Class

	ctx            context.Context // cancelled when Close gives up
	cancelClose    context.CancelFunc
	pendingAtClose atomic.Int64
}

// LogSinkConfig sets a LogSink up; zero values take the defaults noted.
type LogSinkConfig struct {
	FlushInterval time.Duration // 1s
	MaxBatch      int           // 20,000 rows
	Buffer        int           // rows waiting for the writer (200,000)
	Rules         *fingerprint.Rules
	Log           *slog.Logger
}

// NewLogSink starts a sink writing through w.
func NewLogSink(w BatchWriter, c LogSinkConfig) *LogSink {
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 20000
	}
	if c.Buffer <= 0 {
		c.Buffer = 200000
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	s := &LogSink{w: w, rules: c.Rules, log: c.Log, flushInterval: c.FlushInterval, maxBatch: c.MaxBatch,
		buffer: c.Buffer, stop: make(chan struct{}), done: make(chan struct{}),
		classes: map[string]fingerprint.Class{}}
	s.ctx, s.cancelClose = context.WithCancel(context.Background())
	go s.run()
	return s
}

// Write queues a row.
func (s *LogSink) Write(rec *lakehouse.ProxyLogRecord) {
	s.mu.Lock()
	if s.closed.Load() || len(s.pending) >= s.buffer {
		s.mu.Unlock()
		s.Dropped.Add(1)
		return
	}
	s.pending = append(s.pending, rec)
	s.mu.Unlock()
}

// take returns the rows written since the last call.
func (s *LogSink) take(spare []*lakehouse.ProxyLogRecord) []*lakehouse.ProxyLogRecord {
	s.mu.Lock()
	got := s.pending
	s.pending = spare[:0]
	s.mu.Unlock()
	return got
}

// collectEvery is how often the sink takes the rows written (a flush waits for FlushInterval).
const collectEvery = 100 * time.Millisecond

// Close flushes what is queued, retrying until ctx ends, and stops the sink.
func (s *LogSink) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		<-s.done
		return nil
	}
	close(s.stop)
	select {
	case <-s.done:
		if v, _ := s.LastWriteErr.Load().(string); v != "" && s.pendingAtClose.Load() > 0 {
			return fmt.Errorf("%d log rows not stored: %s", s.pendingAtClose.Load(), v)
		}
		return nil
	case <-ctx.Done():
		s.cancelClose()
		<-s.done
		return fmt.Errorf("log rows not all stored before the deadline: %d pending", s.pendingAtClose.Load())
	}
}

func (s *LogSink) run() {
	defer close(s.done)
	ctx := s.ctx
	defer s.cancelClose()
	ticker := time.NewTicker(min(collectEvery, s.flushInterval))
	defer ticker.Stop()
	var batch, spare []*lakehouse.ProxyLogRecord
	lastFlush := time.Now()
	collect := func() {
		got := s.take(spare)
		for _, rec := range got {
			batch = append(batch, s.enrich(rec))
		}
		clear(got)
		spare = got
	}
	for {
		select {
		case <-ticker.C:
			collect()
			if len(batch) >= s.maxBatch || time.Since(lastFlush) >= s.flushInterval {
				batch = s.flush(ctx, batch, false)
				lastFlush = time.Now()
			}
		case <-s.stop:
			s.mu.Lock() // Close set closed: no row comes after this
			s.mu.Unlock()
			collect()
			batch = s.flush(ctx, batch, true)
			s.pendingAtClose.Store(int64(len(batch)))
			return
		}
	}
}

// flush writes batch; on failure it keeps the rows for the next attempt (final: retry until
// ctx ends).
func (s *LogSink) flush(ctx context.Context, batch []*lakehouse.ProxyLogRecord, final bool) []*lakehouse.ProxyLogRecord {
	for attempt := 0; len(batch) > 0; attempt++ {
		err := s.w.WriteBatch(ctx, batch)
		if err == nil {
			s.Written.Add(int64(len(batch)))
			return batch[:0]
		}
		s.WriteErrors.Add(1)
		s.LastWriteErr.Store(err.Error())
		s.log.Warn("writing proxy log rows failed; will retry", "sink", s.w.String(), "rows", len(batch), "err", err)
		if !final || ctx.Err() != nil {
			if len(batch) > 4*s.maxBatch { // the store is down for long: keep the newest rows
				s.Dropped.Add(int64(len(batch) - 4*s.maxBatch))
				batch = append(batch[:0], batch[len(batch)-4*s.maxBatch:]...)
			}
			return batch
		}
		select {
		case <-ctx.Done():
			return batch
		case <-time.After(time.Duration(min(attempt+1, 10)) * 200 * time.Millisecond):
		}
	}
	return batch
}

// enrich fills query_hash, endpoint and fingerprint from the text.
func (s *LogSink) enrich(rec *lakehouse.ProxyLogRecord) *lakehouse.ProxyLogRecord {
	if rec.QueryText == "" {
		return rec
	}
	sum := md5.Sum([]byte(rec.QueryText))
	rec.QueryHash = hex.EncodeToString(sum[:])
	cl, ok := s.classes[rec.QueryHash]
	if !ok {
		cl = s.rules.Classify(rec.QueryText)
		cl.Tags, cl.Fingerprint = nil, ""
		if len(s.classes) >= 1<<16 {
			clear(s.classes) // texts with trace ids never repeat: keep the cache bounded
		}
		s.classes[rec.QueryHash] = cl
	}
	rec.Endpoint, rec.Fingerprint = cl.Endpoint, cl.FingerprintID
	return rec
}

// JSONLWriter stores each batch as Hive-partitioned JSONL objects (one per hour of ts) in an
// object store: the layout srctl diff and the existing BigQuery tables read.
type JSONLWriter struct {
	Bucket objstore.Bucket
}

func (w JSONLWriter) String() string { return w.Bucket.String() }

// WriteBatch implements BatchWriter. A retried batch may leave an earlier partial object of
// the same rows behind only if a Put succeeded and a later one failed; diff drops duplicate
// rows (same query_id and target), so the rows are counted once.
func (w JSONLWriter) WriteBatch(ctx context.Context, rows []*lakehouse.ProxyLogRecord) error {
	byHour := map[time.Time][]*lakehouse.ProxyLogRecord{}
	for _, r := range rows {
		h := r.TS.UTC().Truncate(time.Hour)
		byHour[h] = append(byHour[h], r)
	}
	hours := make([]time.Time, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	now := time.Now()
	for _, h := range hours {
		data := make([]byte, 0, 640*len(byHour[h])) // rows are ~300-600 bytes: grow once at most
		for _, r := range byHour[h] {
			data = append(appendRecord(data, r), '\n')
		}
		if err := w.Bucket.Put(ctx, lakehouse.ObjectKey("", h, now), data); err != nil {
			return err
		}
	}
	return nil
}
