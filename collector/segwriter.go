package collector

import (
	"fmt"
	"os"
)

// segmentWriter appends journal entries to the open segment. Small entries (details) gather in a
// buffer; a large one (a record, tens of KB of escaped profile) is written from where it was
// encoded, with the gathered bytes and its header in front, in one writev. A bufio.Writer copied
// every record into its buffer first and the kernel copied it again from there, out of cache:
// at thousands of records a second, that copy and its cache misses were a tenth of the journal's
// append cost.
//
// Like bufio.Writer, an error is sticky: once a write fails, the segment may end in a torn entry,
// and nothing more is appended to it (recovery ignores a torn last line, which nothing
// acknowledged).
type segmentWriter struct {
	f   *os.File
	buf []byte
	err error
	iov [4][]byte // the writev's buffers (an array here, not a slice made per write)
}

// gatherBytes is how much a segmentWriter gathers before writing it out on its own: details
// arrive between records, so this is rarely reached.
const gatherBytes = 256 << 10

// reset points w at a new segment; what was gathered must have been flushed.
func (w *segmentWriter) reset(f *os.File) {
	w.f, w.buf, w.err = f, w.buf[:0], nil
}

// write appends the concatenation of parts: gathered when it is small, else written now with
// whatever was gathered before it.
func (w *segmentWriter) write(parts ...[]byte) error {
	if w.err != nil {
		return w.err
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if len(w.buf)+n <= gatherBytes && n <= gatherBytes/8 {
		for _, p := range parts {
			w.buf = append(w.buf, p...)
		}
		return nil
	}
	return w.writeOut(parts...)
}

// flush writes what was gathered.
func (w *segmentWriter) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	return w.writeOut()
}

// writeOut writes what was gathered, then parts, in one writeAll.
func (w *segmentWriter) writeOut(parts ...[]byte) error {
	iov := w.iov[:0]
	if len(w.buf) > 0 {
		iov = append(iov, w.buf)
	}
	iov = append(iov, parts...)
	err := writeAll(w.f, iov)
	clear(w.iov[:]) // hold no reference to the caller's buffers
	if err != nil {
		w.err = fmt.Errorf("appending to the journal: %w", err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}
