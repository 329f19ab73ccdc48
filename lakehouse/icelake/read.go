package icelake

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/jsonl"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// timeFilter is since <= col <= until (a zero bound is open); Iceberg prunes day partitions
// and files by their bounds with it before reading.
func timeFilter(col string, since, until time.Time) iceberg.BooleanExpression {
	var expr iceberg.BooleanExpression = iceberg.AlwaysTrue{}
	if !since.IsZero() {
		expr = iceberg.NewAnd(expr, iceberg.GreaterThanEqual(iceberg.Reference(col), iceberg.Timestamp(since.UnixMicro())))
	}
	if !until.IsZero() {
		expr = iceberg.NewAnd(expr, iceberg.LessThanEqual(iceberg.Reference(col), iceberg.Timestamp(until.UnixMicro())))
	}
	return expr
}

// ReadProxyLogs calls fn with every row of the proxy_logs table ident logged between since
// and until (zero: unbounded), in batches. The slice is reused between calls.
func (l *Lake) ReadProxyLogs(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) error {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return fmt.Errorf("loading %v: %w", ident, err)
	}
	scan := tbl.Scan(table.WithRowFilter(timeFilter("ts", since, until)))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning a scan of %v: %w", ident, err)
	}
	// Files in time order (then by name), rows in the order they were written: a table reads
	// back in the order its logs were imported, so "the first row seen" of a report is the
	// same as from the files.
	tsField, ok := tbl.Schema().FindFieldByName("ts")
	if !ok {
		return fmt.Errorf("%v has no ts column: not a proxy_logs table", ident)
	}
	tsID := tsField.ID
	slices.SortStableFunc(tasks, func(a, b table.FileScanTask) int {
		return cmp.Or(cmp.Compare(lowerBound(a.File, tsID), lowerBound(b.File, tsID)), cmp.Compare(a.File.FilePath(), b.File.FilePath()))
	})
	_, batches, err := scan.ReadTasks(ctx, tasks)
	if err != nil {
		return fmt.Errorf("scanning %v: %w", ident, err)
	}
	var recs []lakehouse.ProxyLogRecord
	for batch, err := range batches {
		if err != nil {
			return fmt.Errorf("scanning %v: %w", ident, err)
		}
		recs = recs[:0]
		n := int(batch.NumRows())
		recs = append(recs, make([]lakehouse.ProxyLogRecord, n)...)
		for c, f := range batch.Schema().Fields() {
			set, ok := proxyLogSetters[f.Name]
			if !ok {
				continue // a column a newer srctl added
			}
			col := batch.Column(c)
			for i := range n {
				set(&recs[i], col, i)
			}
		}
		batch.Release()
		if err := fn(recs); err != nil {
			return err
		}
	}
	return nil
}

// lowerBound is a file's smallest value of an int64-like column (timestamps are microseconds,
// stored little-endian), or the smallest int64 when the file has no bound.
func lowerBound(f iceberg.DataFile, id int) int64 {
	b := f.LowerBoundValues()[id]
	if len(b) != 8 {
		return math.MinInt64
	}
	return int64(binary.LittleEndian.Uint64(b))
}

// ProxyLogObject presents the rows of the proxy_logs table u between since and until as one
// JSONL object in the shadow proxy's layout, so that srctl diff reads a table exactly as it
// reads log files. Timestamps come back with microseconds (Iceberg's precision).
func (l *Lake) ProxyLogObject(u URI, since, until time.Time) proxylog.Object {
	return jsonlObject(u.String(), func(ctx context.Context, emit func(any) error) error {
		return l.ReadProxyLogs(ctx, u.Ident(), since, until, func(rs []lakehouse.ProxyLogRecord) error {
			for i := range rs {
				if err := emit(&rs[i]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// ProfileObject presents the records of the profiles table u whose queries started between
// since and until as one JSONL object of srctl collect's records.
func (l *Lake) ProfileObject(u URI, since, until time.Time) proxylog.Object {
	return jsonlObject(u.String(), func(ctx context.Context, emit func(any) error) error {
		return l.ReadProfiles(ctx, u.Ident(), since, until, func(rs []lakehouse.ProfileRecord) error {
			for i := range rs {
				if err := emit(&rs[i]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// jsonlObject streams what read emits as JSONL through a pipe, read by whoever opens it.
func jsonlObject(name string, read func(ctx context.Context, emit func(any) error) error) proxylog.Object {
	return proxylog.Object{Name: name, Size: -1, Open: func(ctx context.Context) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			w := jsonl.NewWriter(pw)
			err := read(ctx, w.Write)
			if err == nil {
				err = w.Flush()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}}
}
