// Package jsonl reads and writes JSON Lines streams of records.
//
// Reading follows the Scan/Record/Err shape of golang.org/x/perf's benchfmt: a line that is not a
// valid record is reported as a *SyntaxError carrying the file name and line number, and the
// stream continues with the next line. Only I/O failures stop a stream; they surface from Err.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLineBytes bounds one line. Profiles of several MB are normal; a line beyond this is
// reported as a syntax error and skipped rather than read into memory.
const DefaultMaxLineBytes = 64 << 20

// SyntaxError is a line that could not be decoded. It never stops the stream.
type SyntaxError struct {
	File string // name given to NewReader
	Line int    // 1-based
	Err  error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *SyntaxError) Unwrap() error { return e.Err }

// ErrLineTooLong is wrapped by a SyntaxError for a line over the reader's limit.
var ErrLineTooLong = errors.New("line too long")

// Reader decodes one T per line. Blank lines are skipped. A Reader is not safe for concurrent use.
type Reader[T any] struct {
	br      *bufio.Reader
	name    string
	maxLine int
	line    int
	rec     T
	recErr  error
	err     error
	buf     []byte
}

// NewReader reads records from r; name (usually the file or object name) labels syntax errors.
func NewReader[T any](r io.Reader, name string) *Reader[T] {
	return &Reader[T]{br: bufio.NewReaderSize(r, 256<<10), name: name, maxLine: DefaultMaxLineBytes}
}

// SetMaxLineBytes changes the longest line accepted.
func (r *Reader[T]) SetMaxLineBytes(n int) { r.maxLine = n }

// Scan advances to the next non-blank line. It returns false at the end of the stream or on an
// I/O error (see Err). After Scan returns true, Record returns the decoded record or a *SyntaxError.
func (r *Reader[T]) Scan() bool {
	if r.err != nil {
		return false
	}
	for {
		line, tooLong, err := r.readLine()
		if err != nil && len(line) == 0 && !tooLong {
			if !errors.Is(err, io.EOF) {
				r.err = fmt.Errorf("reading %s after line %d: %w", r.name, r.line, err)
			}
			return false
		}
		r.line++
		var zero T
		r.rec, r.recErr = zero, nil
		if tooLong {
			r.recErr = &SyntaxError{File: r.name, Line: r.line, Err: fmt.Errorf("%w: over %d bytes", ErrLineTooLong, r.maxLine)}
			return true
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err != nil {
				return r.Scan()
			}
			continue
		}
		if derr := json.Unmarshal(line, &r.rec); derr != nil {
			r.rec = zero
			r.recErr = &SyntaxError{File: r.name, Line: r.line, Err: derr}
		}
		return true
	}
}

// readLine returns the next line without its newline. A line over maxLine is drained and reported
// with tooLong; its bytes are not kept.
func (r *Reader[T]) readLine() (line []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(chunk) > r.maxLine+1 {
				tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			return bytes.TrimSuffix(r.buf, []byte("\n")), tooLong, nil
		}
		return r.buf, tooLong, err
	}
}

// Record returns the record of the current line, or a *SyntaxError for a line that is not one.
func (r *Reader[T]) Record() (T, error) { return r.rec, r.recErr }

// Line is the 1-based number of the current line.
func (r *Reader[T]) Line() int { return r.line }

// Err is the I/O error that ended the stream, or nil at a clean end.
func (r *Reader[T]) Err() error { return r.err }

// Writer encodes one value per line. It buffers: call Flush (or Close on the underlying writer
// after Flush) to push the bytes out. Not safe for concurrent use.
type Writer struct {
	bw  *bufio.Writer
	enc *json.Encoder
	n   int
}

// NewWriter writes records to w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Write encodes v as one line.
func (w *Writer) Write(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("encoding record %d: %w", w.n+1, err)
	}
	w.n++
	return nil
}

// Count is the number of records written.
func (w *Writer) Count() int { return w.n }

// Flush writes buffered bytes to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Marshal encodes v as one JSONL line (with its trailing newline), without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
