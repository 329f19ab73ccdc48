package shadowproxy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/sink"
)

// LogWriter is where the log sink stores its batches: sink.JSONL over a bucket (JSONLWriter)
// or an Iceberg proxy_logs table (icelake.ProxyLogWriter). Idempotent per batch id.
type LogWriter = sink.Writer[*lakehouse.ProxyLogRecord]

// LogSink batches log rows off the client's path and hands them to a LogWriter every
// FlushInterval or MaxBatch rows. A batch is sealed with its id before its first write and
// retried as it is, so a write whose answer was lost is not stored twice. Write never blocks:
// when the buffer is full (the store is down for long), rows are dropped and counted, because
// the proxy must not slow the client.
// It fills the keys computed from the text (query_hash, endpoint, fingerprint) here, on its
// own goroutine.
type LogSink struct {
	w             LogWriter
	rules         *fingerprint.Rules
	log           *slog.Logger
	flushInterval time.Duration
	maxBatch      int
	maxKept       int
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
	// MaxBatch bounds a batch (a JSONL object per hour, or an Iceberg commit): DefaultLogBatchRows.
	// At high rates it is what the sink holds: the open batch's rows and, while it is written, its
	// encoding; 20,000 rows of the benchmark's shape held ~40 MB of the proxy's peak heap.
	MaxBatch int
	Buffer   int // rows waiting for the writer (DefaultLogBufferRows)
	MaxKept  int // rows of unstored batches kept while the store refuses them (DefaultLogKeptRows); the oldest go first
	Rules    *fingerprint.Rules
	Log      *slog.Logger
}

// DefaultLogBatchRows is the default MaxBatch: at 22,000 rows/s (11,000 mirrored queries/s) a
// batch seals about four times a second, each ~3 MB of JSONL in the benchmark's shape. An
// Iceberg table, where each batch is a commit, takes DefaultIcebergLogBatchRows.
const (
	DefaultLogBatchRows        = 5000
	DefaultIcebergLogBatchRows = 20000
	DefaultLogBufferRows       = 200000 // Buffer's default: no batch can be larger
	DefaultLogKeptRows         = 80000  // MaxKept's default
)

// NewLogSink starts a sink writing through w.
func NewLogSink(w LogWriter, c LogSinkConfig) *LogSink {
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultLogBatchRows
	}
	if c.MaxKept <= 0 {
		c.MaxKept = DefaultLogKeptRows
	}
	if c.Buffer <= 0 {
		c.Buffer = DefaultLogBufferRows
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	s := &LogSink{w: w, rules: c.Rules, log: c.Log, flushInterval: c.FlushInterval, maxBatch: c.MaxBatch, maxKept: max(c.MaxKept, c.MaxBatch),
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
	var open, spare []*lakehouse.ProxyLogRecord
	var sealed []sink.Batch[*lakehouse.ProxyLogRecord] // oldest first, each written under its id
	lastFlush := time.Now()
	collect := func() {
		got := s.take(spare)
		for _, rec := range got {
			open = append(open, s.enrich(rec))
		}
		clear(got)
		spare = got
	}
	// seal makes batches of the open rows: all of them, or (a full batch waiting) only full ones,
	// the rest staying open until the interval ends or they fill another.
	seal := func(all bool) {
		for len(open) >= s.maxBatch || all && len(open) > 0 {
			n := min(len(open), s.maxBatch)
			// The batch owns its part of open's array: what stays open moves to an array of its own.
			sealed = append(sealed, sink.Batch[*lakehouse.ProxyLogRecord]{ID: sink.NewBatchID(time.Now()), Records: open[:n:n]})
			open = open[n:]
		}
		if len(open) == 0 {
			open = nil
		} else {
			open = slices.Clone(open)
		}
	}
	for {
		select {
		case <-ticker.C:
			collect()
			switch {
			case time.Since(lastFlush) >= s.flushInterval:
				seal(true)
				sealed = s.flush(ctx, sealed, false)
				lastFlush = time.Now()
			case len(open) >= s.maxBatch: // a full batch before the interval ends (high rates)
				// Batches still sealed are ones the store refused: they are retried at the
				// interval, not at every full batch (a failing store would get ten writes a
				// second, and the log as many warnings); meanwhile the newest MaxKept rows stay.
				refused := len(sealed) > 0
				seal(false)
				if refused {
					sealed = s.keepNewest(sealed)
					break
				}
				sealed = s.flush(ctx, sealed, false)
			}
		case <-s.stop:
			s.mu.Lock() // Close set closed: no row comes after this
			s.mu.Unlock()
			collect()
			seal(true)
			sealed = s.flush(ctx, sealed, true)
			left := 0
			for _, b := range sealed {
				left += len(b.Records)
			}
			s.pendingAtClose.Store(int64(left))
			return
		}
	}
}

// keepNewest drops the oldest batches, counted as lost, while more than MaxKept rows wait: the
// store is down for long.
func (s *LogSink) keepNewest(sealed []sink.Batch[*lakehouse.ProxyLogRecord]) []sink.Batch[*lakehouse.ProxyLogRecord] {
	rows := 0
	for _, b := range sealed {
		rows += len(b.Records)
	}
	for rows > s.maxKept && len(sealed) > 1 {
		s.Dropped.Add(int64(len(sealed[0].Records)))
		rows -= len(sealed[0].Records)
		sealed = sealed[1:]
	}
	return sealed
}

// flush writes the sealed batches in order and returns those not stored, to be retried as they
// are (final: retry until ctx ends). While the store is down, at most MaxKept rows are kept: the
// oldest batches are dropped first.
func (s *LogSink) flush(ctx context.Context, sealed []sink.Batch[*lakehouse.ProxyLogRecord], final bool) []sink.Batch[*lakehouse.ProxyLogRecord] {
	for attempt := 0; len(sealed) > 0; attempt++ {
		for len(sealed) > 0 {
			err := s.w.Write(ctx, sealed[0])
			if err != nil {
				s.WriteErrors.Add(1)
				s.LastWriteErr.Store(err.Error())
				s.log.Warn("writing proxy log rows failed; will retry", "sink", s.w.String(), "batch", sealed[0].ID, "rows", len(sealed[0].Records), "err", err)
				break
			}
			s.Written.Add(int64(len(sealed[0].Records)))
			sealed[0] = sink.Batch[*lakehouse.ProxyLogRecord]{}
			sealed = sealed[1:]
		}
		if len(sealed) == 0 {
			return nil
		}
		if !final || ctx.Err() != nil {
			return s.keepNewest(sealed)
		}
		select {
		case <-ctx.Done():
			return sealed
		case <-time.After(time.Duration(min(attempt+1, 10)) * 200 * time.Millisecond):
		}
	}
	return sealed
}

// enrich fills query_hash, endpoint and fingerprint from the text.
func (s *LogSink) enrich(rec *lakehouse.ProxyLogRecord) *lakehouse.ProxyLogRecord {
	if rec.QueryText == "" {
		return rec
	}
	rec.QueryHash = fingerprint.QueryHash(rec.QueryText)
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

// JSONLWriter stores each batch as Hive-partitioned JSONL objects in a bucket, one per hour of
// ts, named after the batch id: the layout srctl diff and the existing BigQuery tables read.
func JSONLWriter(b objstore.Bucket) LogWriter {
	return &sink.JSONL[*lakehouse.ProxyLogRecord]{Bucket: b, Hour: (*lakehouse.ProxyLogRecord).PartitionTime,
		Append: func(dst []byte, r *lakehouse.ProxyLogRecord) ([]byte, error) { return appendRecord(dst, r), nil }}
}
