package source

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// ReadProxyLogs decodes every proxy-log row of the Set: Iceberg tables first (rows decoded
// straight from their columns, each Arrow batch split among the workers), then JSONL objects
// (proxylog.Read). process is called concurrently from opts.Workers goroutines, as in
// proxylog.Read; the rows of a batch are valid only during the call. Bad rows are counted in the
// returned Stats' Quality, never fatal; a process error or cancellation stops the read.
// The Set's own findings (pruned files, empty partitions) are not in the Stats: see Pruned and
// Quality.
func (s *Set) ReadProxyLogs(ctx context.Context, opts proxylog.Options, process func(worker int, b *proxylog.Batch) error) (proxylog.Stats, error) {
	if s.Kind != ProxyLogs {
		return proxylog.Stats{}, errors.New("the inputs are not proxy logs")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	var st proxylog.Stats
	if opts.Progress != nil {
		opts.Progress.FilesTotal.Store(int64(len(s.Objects) + len(s.Tables)))
	}
	for _, t := range s.Tables {
		tst, err := s.readLogTable(ctx, t, opts, process)
		tst.Files = 1
		st.Add(tst)
		if err != nil {
			return st, err
		}
		if opts.Progress != nil {
			opts.Progress.FilesDone.Add(1)
		}
	}
	if len(s.Objects) > 0 {
		ost, err := proxylog.Read(ctx, s.Objects, opts, process)
		st.Add(ost)
		if err != nil {
			return st, err
		}
	}
	if opts.Progress != nil {
		opts.Progress.FilesTotal.Store(int64(len(s.Objects) + len(s.Tables)))
	}
	return st, nil
}

// readLogTable reads one proxy_logs table in the Set's window (widened by the partition slack).
// Row numbers in issues count rows of the table in read order.
func (s *Set) readLogTable(ctx context.Context, t Table, opts proxylog.Options, process func(int, *proxylog.Batch) error) (proxylog.Stats, error) {
	var st proxylog.Stats
	w := s.Window.Widened()
	name := t.URI.String()
	batches := make([]proxylog.Batch, opts.Workers)
	qs := make([]proxylog.Quality, opts.Workers)
	errs := make([]error, opts.Workers)
	rowNo := 0
	size, err := t.Lake.ScanProxyLogs(ctx, t.URI.Ident(), w.Since, w.Until, func(recs []lakehouse.ProxyLogRecord) error {
		per := (len(recs) + opts.Workers - 1) / opts.Workers
		for wi := range batches {
			batches[wi].Rows = batches[wi].Rows[:0] // a worker with no part of this batch adds nothing
		}
		var wg sync.WaitGroup
		for wi := range opts.Workers {
			lo, hi := min(wi*per, len(recs)), min((wi+1)*per, len(recs))
			if lo == hi {
				continue
			}
			first := rowNo + lo + 1
			wg.Go(func() {
				b := &batches[wi]
				b.Object, b.Rows, b.Lines = name, b.Rows[:0], b.Lines[:0]
				var row proxylog.Row
				for i := lo; i < hi; i++ {
					if err := proxylog.FromRecord(&recs[i], &row); err != nil {
						kind := proxylog.KindBadValue
						var de *proxylog.DecodeError
						if errors.As(err, &de) {
							kind = de.Kind
						}
						qs[wi].Add(proxylog.Issue{Kind: kind, File: name, Line: first + i - lo, Msg: err.Error()})
						continue
					}
					b.Rows = append(b.Rows, row)
					b.Lines = append(b.Lines, first+i-lo)
				}
				if opts.Progress != nil {
					opts.Progress.Rows.Add(int64(len(b.Rows)))
				}
				errs[wi] = process(wi, b)
			})
		}
		wg.Wait()
		rowNo += len(recs)
		for wi := range errs {
			if errs[wi] != nil {
				return errs[wi]
			}
			st.Rows += int64(len(batches[wi].Rows))
		}
		return ctx.Err()
	})
	st.Lines = int64(rowNo)
	st.Bytes = size // the Parquet bytes the scan covered, as stored
	if opts.Progress != nil {
		opts.Progress.Bytes.Add(size)
	}
	for _, q := range qs {
		st.Quality.Merge(q)
	}
	if err != nil {
		return st, fmt.Errorf("reading %s: %w", name, err)
	}
	return st, nil
}

// ReadProfiles calls fn with every profile record of the Set, in input order: Iceberg tables
// (records whose queries started in the window, widened by the partition slack), then JSONL(.gz)
// objects. A line that is not a record reaches fn with its error (a *jsonl.SyntaxError naming
// the object and line), and so does an object or table that cannot be read (a
// *lakehouse.ObjectError, with a nil record), after which the read goes on with the next one;
// fn's own error stops the read.
func (s *Set) ReadProfiles(ctx context.Context, fn func(rec *lakehouse.ProfileRecord, err error) error) error {
	if s.Kind != Profiles {
		return errors.New("the inputs are not profile records")
	}
	w := s.Window.Widened()
	var stop error // fn's own error: it ends the read, it is not a failed object
	user := fn
	fn = func(rec *lakehouse.ProfileRecord, err error) error {
		stop = user(rec, err)
		return stop
	}
	for _, t := range s.Tables {
		err := t.Lake.ReadProfiles(ctx, t.URI.Ident(), w.Since, w.Until, func(recs []lakehouse.ProfileRecord) error {
			for i := range recs {
				if err := fn(&recs[i], nil); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
		if stop != nil {
			return stop
		}
		if err := objectFailed(ctx, t.URI.String(), err, fn); err != nil {
			return err
		}
	}
	for _, o := range s.Objects {
		err := lakehouse.ReadJSONL(ctx, o, func(rec lakehouse.ProfileRecord, _ int, err error) error {
			return fn(&rec, err)
		})
		if stop != nil {
			return stop
		}
		if err := objectFailed(ctx, o.Name, err, fn); err != nil {
			return err
		}
	}
	return nil
}

// objectFailed hands a failed object's error to fn (as a *lakehouse.ObjectError) and returns
// what stops the read: cancellation, or fn's own error.
func objectFailed(ctx context.Context, name string, err error, fn func(*lakehouse.ProfileRecord, error) error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var oe *lakehouse.ObjectError
	if !errors.As(err, &oe) {
		oe = &lakehouse.ObjectError{Object: name, Err: err}
	}
	if ferr := fn(nil, oe); ferr != nil {
		return ferr
	}
	return nil
}
