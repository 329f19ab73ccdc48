package shadowproxy

import (
	"context"
	"fmt"
	"log/slog"
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
func NewLogSink(w LogWriter, c LogSinkConfig) *LogSink {
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
	defer s.cancelClose()
	if lw, ok := s.w.(lineStore); ok {
		runSink(s, lw.lineWriter(), &lineBuffer{})
	} else {
		runSink(s, s.w, &recordBuffer{})
	}
}

// rowBuffer holds the rows the sink has taken until they are sealed into batches: as the
// records themselves (any LogWriter) or encoded as they arrive (a JSONL store: lineBuffer).
type rowBuffer[R any] interface {
	add(rec *lakehouse.ProxyLogRecord)
	len() int
	// take removes the first n rows (n <= len) and returns them for a batch of their own.
	take(n int) []R
}

// recordBuffer keeps the records.
type recordBuffer struct{ open []*lakehouse.ProxyLogRecord }

func (b *recordBuffer) add(rec *lakehouse.ProxyLogRecord) { b.open = append(b.open, rec) }
func (b *recordBuffer) len() int                          { return len(b.open) }
func (b *recordBuffer) take(n int) []*lakehouse.ProxyLogRecord {
	got := b.open[:n:n] // the batch owns this part of the array: appends go to a new one
	if b.open = b.open[n:]; len(b.open) == 0 {
		b.open = nil
	}
	return got
}

// runSink takes the rows written every collectEvery, seals them into batches every
// FlushInterval (or MaxBatch rows) and writes the batches through w, oldest first, until Close.
func runSink[R any](s *LogSink, w sink.Writer[R], open rowBuffer[R]) {
	ctx := s.ctx
	ticker := time.NewTicker(min(collectEvery, s.flushInterval))
	defer ticker.Stop()
	var spare []*lakehouse.ProxyLogRecord
	var sealed []sink.Batch[R] // oldest first, each written under its id
	lastFlush := time.Now()
	collect := func() {
		got := s.take(spare)
		for _, rec := range got {
			open.add(s.enrich(rec))
		}
		clear(got)
		spare = got
	}
	seal := func() {
		for open.len() > 0 {
			n := min(open.len(), s.maxBatch)
			sealed = append(sealed, sink.Batch[R]{ID: sink.NewBatchID(time.Now()), Records: open.take(n)})
		}
	}
	for {
		select {
		case <-ticker.C:
			collect()
			if open.len() >= s.maxBatch || time.Since(lastFlush) >= s.flushInterval {
				seal()
				sealed = flushBatches(ctx, s, w, sealed, false)
				lastFlush = time.Now()
			}
		case <-s.stop:
			s.mu.Lock() // Close set closed: no row comes after this
			s.mu.Unlock()
			collect()
			seal()
			sealed = flushBatches(ctx, s, w, sealed, true)
			left := 0
			for _, b := range sealed {
				left += len(b.Records)
			}
			s.pendingAtClose.Store(int64(left))
			return
		}
	}
}

// flushBatches writes the sealed batches in order and returns those not stored, to be retried as
// they are (final: retry until ctx ends). While the store is down, at most four batches' worth of
// rows is kept: the oldest batches are dropped first.
func flushBatches[R any](ctx context.Context, s *LogSink, w sink.Writer[R], sealed []sink.Batch[R], final bool) []sink.Batch[R] {
	for attempt := 0; len(sealed) > 0; attempt++ {
		for len(sealed) > 0 {
			err := w.Write(ctx, sealed[0])
			if err != nil {
				s.WriteErrors.Add(1)
				s.LastWriteErr.Store(err.Error())
				s.log.Warn("writing proxy log rows failed; will retry", "sink", w.String(), "batch", sealed[0].ID, "rows", len(sealed[0].Records), "err", err)
				break
			}
			s.Written.Add(int64(len(sealed[0].Records)))
			sealed[0] = sink.Batch[R]{}
			sealed = sealed[1:]
		}
		if len(sealed) == 0 {
			return nil
		}
		if !final || ctx.Err() != nil {
			rows := 0
			for _, b := range sealed {
				rows += len(b.Records)
			}
			for rows > 4*s.maxBatch && len(sealed) > 1 { // the store is down for long: keep the newest rows
				s.Dropped.Add(int64(len(sealed[0].Records)))
				rows -= len(sealed[0].Records)
				sealed = sealed[1:]
			}
			return sealed
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
// A LogSink writing to it encodes each row as it takes it (lineBuffer), so a second of rows waits
// as the bytes of its objects rather than as records and then, while the objects are built, both.
func JSONLWriter(b objstore.Bucket) LogWriter {
	return &jsonlLogWriter{
		records: &sink.JSONL[*lakehouse.ProxyLogRecord]{Bucket: b, Hour: (*lakehouse.ProxyLogRecord).PartitionTime,
			Append: func(dst []byte, r *lakehouse.ProxyLogRecord) ([]byte, error) { return appendRecord(dst, r), nil }},
		lines: &sink.JSONL[logLine]{Bucket: b, Hour: func(l logLine) time.Time { return l.hour },
			Line:   func(l logLine) []byte { return l.line },
			Append: func(dst []byte, l logLine) ([]byte, error) { return append(dst, l.line[:len(l.line)-1]...), nil }},
	}
}

// lineStore is a LogWriter that also stores rows already encoded as JSON lines.
type lineStore interface{ lineWriter() sink.Writer[logLine] }

// jsonlLogWriter is JSONLWriter's: records handed to it (Write) and lines a LogSink encoded
// (lineWriter) go to the same objects, byte for byte the same.
type jsonlLogWriter struct {
	records *sink.JSONL[*lakehouse.ProxyLogRecord]
	lines   *sink.JSONL[logLine]
}

func (w *jsonlLogWriter) Write(ctx context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	return w.records.Write(ctx, b)
}
func (w *jsonlLogWriter) String() string                   { return w.records.String() }
func (w *jsonlLogWriter) lineWriter() sink.Writer[logLine] { return w.lines }

// logLine is a row encoded by a lineBuffer: its partition hour and its JSON line with the
// newline, a view of its batch's arena that runs on to the next line (so sink.JSONL puts an
// hour's adjacent lines as they lie, without copying them).
type logLine struct {
	hour time.Time
	line []byte
}

// lineBuffer encodes each row as it is added into one arena, the lines one after another: the
// object bodies of the batches sealed from it.
type lineBuffer struct {
	arena []byte
	rows  []lineEnd // of the rows not taken yet, in order
	start int       // where the first of them starts in arena
	hint  int       // capacity of a new arena: what the last one held
}

type lineEnd struct {
	hour time.Time
	end  int
}

// maxArenaHint bounds the capacity a new arena starts with (a burst does not set it for good).
const maxArenaHint = 64 << 20

func (b *lineBuffer) add(rec *lakehouse.ProxyLogRecord) {
	if b.arena == nil {
		b.arena = make([]byte, 0, b.hint)
	}
	b.arena = appendRecord(b.arena, rec)
	b.arena = append(b.arena, '\n')
	b.rows = append(b.rows, lineEnd{hour: rec.PartitionTime(), end: len(b.arena)})
}

func (b *lineBuffer) len() int { return len(b.rows) }

// take returns views of the first n lines. The arena is only ever appended to, so they stay
// valid while later rows are added; once every row is taken, the next row starts a new arena and
// this one belongs to the batches until they are written.
func (b *lineBuffer) take(n int) []logLine {
	got := make([]logLine, n)
	off := b.start
	for i, r := range b.rows[:n] {
		got[i] = logLine{hour: r.hour, line: b.arena[off:r.end]}
		off = r.end
	}
	b.rows, b.start = b.rows[n:], off
	if len(b.rows) == 0 {
		b.hint = min(len(b.arena)+len(b.arena)/8, maxArenaHint)
		b.arena, b.rows, b.start = nil, nil, 0
	}
	return got
}
