package proxylog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/srctl/srctl/lakehouse"
)

// Options tune Read. Zero values take the defaults.
type Options struct {
	Workers      int // parser goroutines; default GOMAXPROCS
	ChunkBytes   int // bytes handed to a parser at once; default 512 KiB
	MaxLineBytes int // longer lines are skipped and counted; default 8 MiB
	// Progress, when set, is updated while reading (atomically; poll it from another goroutine).
	Progress *Progress
}

// Defaults of Options. A chunk is small enough to stay in the CPU's cache from the read that
// fills it to the parser that decodes it (BenchmarkRead: 256 KiB to 1 MiB chunks read about twice
// as fast as 4 MiB ones, which leave the cache before their parser gets to them).
const (
	DefaultChunkBytes   = 512 << 10
	DefaultMaxLineBytes = 8 << 20
)

// Progress counts what Read has done so far.
type Progress struct {
	Bytes      atomic.Int64 // JSONL bytes read (after decompression)
	Rows       atomic.Int64
	FilesDone  atomic.Int64
	FilesTotal atomic.Int64
}

// Stats summarise a Read.
type Stats struct {
	Files   int     `json:"files"`
	Bytes   int64   `json:"bytes"`
	Lines   int64   `json:"lines"`
	Rows    int64   `json:"rows"`
	Quality Quality `json:"quality"`
}

// Add adds the counts of o (another part of the same read) to s.
func (s *Stats) Add(o Stats) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Rows += o.Rows
	s.Quality.Merge(o.Quality)
}

// Batch is a run of consecutive rows of one object. Rows and every slice inside them are valid
// only during the call of the process function: they point into a buffer that is reused after.
type Batch struct {
	Object string
	Rows   []Row
	Lines  []int // Lines[i] is the 1-based line number of Rows[i]
}

type chunk struct {
	name      string
	firstLine int
	data      []byte
	pooled    *[]byte // returned to the pool after parsing; nil for oversize buffers
	issue     *Issue  // a reader-found issue travelling in order with the data (data is nil)
}

// bufferPool hands out at most n chunk buffers of one size and takes them back, so that a read
// reuses the same few buffers from start to end. (A sync.Pool was emptied by every other garbage
// collection, and each new buffer's pages are faulted in afresh: on a virtual machine that cost
// more than the read itself.)
type bufferPool struct {
	size int
	free chan *[]byte
	made atomic.Int32
	n    int32
}

func newBufferPool(size, n int) *bufferPool {
	return &bufferPool{size: size, free: make(chan *[]byte, n), n: int32(n)}
}

// get returns a free buffer, a new one while fewer than n exist, or waits for one to be put back;
// it returns nil when ctx ends first.
func (p *bufferPool) get(ctx context.Context) *[]byte {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.made.Add(1) <= p.n {
		b := make([]byte, p.size)
		return &b
	}
	p.made.Add(-1)
	select {
	case b := <-p.free:
		return b
	case <-ctx.Done():
		return nil
	}
}

// put gives b back; nil (an oversize buffer) is ignored.
func (p *bufferPool) put(b *[]byte) {
	if b != nil {
		p.free <- b // never blocks: at most n buffers exist
	}
}

// Read decodes every row of objs. process is called concurrently from Options.Workers
// goroutines, each time with the rows of one chunk; the worker index (0 <= worker < Workers)
// lets it keep per-worker state without locks. A process error stops the read and is returned,
// as is ctx's error; bad input never stops it.
func Read(ctx context.Context, objs []lakehouse.Object, opts Options, process func(worker int, b *Batch) error) (Stats, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = DefaultChunkBytes
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	prog := opts.Progress
	if prog == nil {
		prog = &Progress{}
	}
	prog.FilesTotal.Store(int64(len(objs)))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	chunks := make(chan chunk, opts.Workers*2)
	next := make(chan int)

	readers := min(opts.Workers, len(objs))
	// Enough buffers for every reader's, every queued and every parsed chunk: readers never wait
	// for one while parsers are idle.
	pool := newBufferPool(opts.ChunkBytes, readers+cap(chunks)+opts.Workers)
	readerQ := make([]Quality, readers)
	readerLines := make([]int64, readers)
	var rwg sync.WaitGroup
	for r := range readers {
		rwg.Go(func() {
			for i := range next {
				n, err := readObject(ctx, objs[i], opts, pool, chunks, prog)
				readerLines[r] += int64(n)
				switch {
				case errors.Is(err, errEmpty):
					readerQ[r].Add(Issue{Kind: KindEmptyFile, File: objs[i].Name, Msg: "no rows"})
				case err != nil && ctx.Err() == nil:
					readerQ[r].Add(Issue{Kind: KindUnreadable, File: objs[i].Name, Msg: err.Error()})
				}
				prog.FilesDone.Add(1)
			}
		})
	}
	go func() {
		defer close(next)
		for i := range objs {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { rwg.Wait(); close(chunks) }()

	parserQ := make([]Quality, opts.Workers)
	parserRows := make([]int64, opts.Workers)
	var pwg sync.WaitGroup
	for w := range opts.Workers {
		pwg.Go(func() {
			b := &Batch{}
			var dec Decoder // its scratch and hour cache kept from chunk to chunk
			for c := range chunks {
				// Once the read is stopped, chunks are drained unparsed so that readers can finish;
				// each buffer is still given back (a reader may be waiting for one).
				if ctx.Err() == nil {
					b.Object, b.Rows, b.Lines = c.name, b.Rows[:0], b.Lines[:0]
					parseChunk(c, &dec, b, &parserQ[w], opts.MaxLineBytes)
					parserRows[w] += int64(len(b.Rows))
					prog.Rows.Add(int64(len(b.Rows)))
					if err := process(w, b); err != nil {
						cancel(err)
					}
				}
				pool.put(c.pooled)
			}
		})
	}
	pwg.Wait()

	st := Stats{Files: len(objs), Bytes: prog.Bytes.Load()}
	for _, q := range readerQ {
		st.Quality.Merge(q)
	}
	for w := range opts.Workers {
		st.Quality.Merge(parserQ[w])
		st.Rows += parserRows[w]
	}
	for _, n := range readerLines {
		st.Lines += n
	}
	// The context ends early only when the caller cancelled or process failed; either is the error.
	return st, context.Cause(ctx)
}

// readObject splits one object into newline-terminated chunks. It returns the number of lines.
//
// Local files are read too, not memory-mapped: BenchmarkFirstPass measured read(2) into a reused
// buffer 6-8x faster than a first pass over freshly mapped pages on a virtual machine (each mapped
// page costs a fault and nested page walks on first touch, while the kernel's copy reads the page
// cache through its own mapping), and the process then holds only its buffers, not file pages.
func readObject(ctx context.Context, o lakehouse.Object, opts Options, pool *bufferPool, out chan<- chunk, prog *Progress) (lines int, err error) {
	r, err := lakehouse.OpenJSONL(ctx, o)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var carry []byte
	var total int64
	emit := func(data []byte, pooled *[]byte) bool {
		c := chunk{name: o.Name, firstLine: lines + 1, data: data, pooled: pooled}
		lines += bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++ // a last line without newline
		}
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		bufp := pool.get(ctx)
		if bufp == nil {
			return lines, ctx.Err()
		}
		buf := *bufp
		var pooled = bufp
		if len(carry) >= len(buf) {
			buf, pooled = make([]byte, 2*len(carry)), nil
			pool.put(bufp)
		}
		k := copy(buf, carry)
		n, rerr := io.ReadFull(r, buf[k:])
		total += int64(n)
		prog.Bytes.Add(int64(n))
		data := buf[:k+n]
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			if len(data) > 0 && !emit(data, pooled) {
				pool.put(pooled)
				return lines, ctx.Err()
			} else if len(data) == 0 {
				pool.put(pooled)
			}
			if total == 0 {
				return lines, errEmpty
			}
			return lines, nil
		}
		if rerr != nil {
			pool.put(pooled)
			return lines, fmt.Errorf("reading after %d bytes: %w", total, rerr)
		}
		nl := bytes.LastIndexByte(data, '\n')
		if nl < 0 {
			if len(data) >= opts.MaxLineBytes {
				// One line longer than the limit: report it and skip to its end unbuffered.
				lines++
				rest, skipped, err := skipLine(r, prog)
				total += skipped
				pool.put(pooled)
				sendIssue(ctx, out, Issue{Kind: KindTooLong, File: o.Name, Line: lines,
					Msg: fmt.Sprintf("line of more than %d bytes skipped", opts.MaxLineBytes)})
				carry = rest
				if err == io.EOF {
					if len(rest) > 0 {
						emit(rest, nil)
					}
					return lines, nil
				} else if err != nil {
					return lines, fmt.Errorf("reading after %d bytes: %w", total, err)
				}
				continue
			}
			carry = append([]byte(nil), data...) // grows the next buffer
			pool.put(pooled)
			continue
		}
		carry = append(carry[:0:0], data[nl+1:]...)
		if !emit(data[:nl+1], pooled) {
			pool.put(pooled)
			return lines, ctx.Err()
		}
	}
}

var errEmpty = errors.New("empty")

// sendIssue sends a chunk that carries an issue instead of data, so that Quality stays per
// parser goroutine.
func sendIssue(ctx context.Context, out chan<- chunk, is Issue) {
	select {
	case out <- chunk{name: is.File, issue: &is}:
	case <-ctx.Done():
	}
}

// skipLine discards input up to and including the next newline and returns what was read
// after it (the start of the next lines).
func skipLine(r io.Reader, prog *Progress) (rest []byte, n int64, err error) {
	var buf [64 << 10]byte
	for {
		k, err := r.Read(buf[:])
		if i := bytes.IndexByte(buf[:k], '\n'); i >= 0 {
			n += int64(k)
			prog.Bytes.Add(int64(k))
			return append([]byte(nil), buf[i+1:k]...), n, err
		}
		n += int64(k)
		prog.Bytes.Add(int64(k))
		if err != nil {
			return nil, n, err
		}
	}
}

// parseChunk decodes the lines of c into b with dec; bad lines go to q.
func parseChunk(c chunk, dec *Decoder, b *Batch, q *Quality, maxLine int) {
	if c.issue != nil {
		q.Add(*c.issue)
		return
	}
	data, line := c.data, c.firstLine
	for len(data) > 0 {
		// The structural scan finds the line's end as it marks it; a line it cannot mark (not
		// printable ASCII) is split here and decoded the checked way.
		l, rest, marked := dec.nextLine(data)
		if !marked {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				l, rest = data, nil
			} else {
				l, rest = data[:nl], data[nl+1:]
			}
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
		}
		data = rest
		if len(l) > maxLine {
			q.Add(Issue{Kind: KindTooLong, File: c.name, Line: line, Msg: fmt.Sprintf("line of %d bytes skipped (limit %d)", len(l), maxLine)})
		} else if len(bytes.TrimSpace(l)) > 0 {
			// Decoded in place, into the batch's next slot: a row is a few hundred bytes, and
			// copying each one in after decoding it elsewhere was a measurable share of the parse.
			// The slot is not zeroed here: Decode resets it first.
			b.Rows = slices.Grow(b.Rows, 1)[:len(b.Rows)+1]
			row := &b.Rows[len(b.Rows)-1]
			var err error
			if marked {
				err = dec.decodeMarked(l, row)
			} else {
				err = dec.Decode(l, row)
			}
			if err != nil {
				b.Rows = b.Rows[:len(b.Rows)-1]
				kind, msg := KindSyntax, err.Error()
				var de *DecodeError
				if errors.As(err, &de) {
					kind = de.Kind
				}
				q.Add(Issue{Kind: kind, File: c.name, Line: line, Msg: msg})
			} else {
				if row.UnknownKey != nil {
					q.Add(Issue{Kind: KindUnknownField, File: c.name, Line: line, Msg: "unknown key " + strconv.Quote(string(row.UnknownKey))})
				}
				b.Lines = append(b.Lines, line)
			}
		}
		line++
	}
}
