package lakehouse

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/srctl/srctl/lakehouse/jsonl"
)

// Object is one stored file of records (JSONL, or JSONL.gz when its name ends in .gz), as the
// source layer found it: a local file, an object in a bucket, or standard input.
type Object struct {
	Name string                                           // shown in issues: path or URI
	Size int64                                            // bytes as stored, -1 when unknown
	Open func(ctx context.Context) (io.ReadCloser, error) // opened by one reader goroutine
}

// IsJSONLFile reports whether a name is a record file srctl reads: .jsonl or .jsonl.gz.
func IsJSONLFile(name string) bool {
	return strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".jsonl.gz")
}

// Window restricts records to a time range. Zero ends are open.
type Window struct{ Since, Until time.Time }

// partitionSlack widens partition pruning: a pair's rows can straddle hour partitions (the shadow
// row is logged after the primary one, a profile is filed by its start), so the hour on each side
// of the window is read too and records are filtered by time later.
const partitionSlack = time.Hour

// KeepHour reports whether a partition hour can hold records of the window.
func (w Window) KeepHour(h time.Time) bool {
	if !w.Since.IsZero() && !h.Add(time.Hour+partitionSlack).After(w.Since) {
		return false
	}
	if !w.Until.IsZero() && h.Add(-partitionSlack).After(w.Until) {
		return false
	}
	return true
}

// Widened is w with partitionSlack on each open side: the range a table scan reads so that it
// sees what partition pruning would have kept.
func (w Window) Widened() Window {
	if !w.Since.IsZero() {
		w.Since = w.Since.Add(-partitionSlack)
	}
	if !w.Until.IsZero() {
		w.Until = w.Until.Add(partitionSlack)
	}
	return w
}

// OpenJSONL opens o and, when its name ends in .gz, decompresses it: the one place a stored
// JSONL(.gz) object becomes a stream of lines. Closing the result closes both. Errors do not
// repeat the object's name: callers report them with it.
func OpenJSONL(ctx context.Context, o Object) (io.ReadCloser, error) {
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(o.Name, ".gz") {
		return rc, nil
	}
	zr, err := gzip.NewReader(rc)
	if err != nil {
		rc.Close()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty gzip stream")
		}
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return gzipReadCloser{zr, rc}, nil
}

type gzipReadCloser struct {
	*gzip.Reader
	under io.Closer
}

func (g gzipReadCloser) Close() error {
	g.Reader.Close()
	return g.under.Close()
}

// ObjectError says that a whole object could not be read (not opened, not gzip, cut short):
// readers report it and go on with the next object.
type ObjectError struct {
	Object string
	Err    error
}

func (e *ObjectError) Error() string { return e.Object + ": " + e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// ReadJSONL decodes every line of o as a T and calls fn with it. A line that is not a T reaches
// fn as a *jsonl.SyntaxError naming the object and line, with the zero T; fn decides whether
// that stops the read (return it) or not (return nil). ctx is checked between lines. An object
// that cannot be opened or read to its end is an *ObjectError.
func ReadJSONL[T any](ctx context.Context, o Object, fn func(rec T, line int, err error) error) error {
	r, err := OpenJSONL(ctx, o)
	if err != nil {
		return &ObjectError{o.Name, err}
	}
	defer r.Close()
	jr := jsonl.NewReader[T](r, o.Name)
	for jr.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, rerr := jr.Record()
		if err := fn(rec, jr.Line(), rerr); err != nil {
			return err
		}
	}
	if err := jr.Err(); err != nil {
		return &ObjectError{o.Name, err}
	}
	return nil
}
