package icelake

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
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

// scanInOrder reads the rows of table ident whose timeCol is between since and until (zero:
// unbounded), calling fn with each Arrow batch (released after fn returns). Files come in order
// of their smallest timeCol value (then by name) and rows in the order they were written, so a
// table reads back in the order its rows were appended and a report's "first row seen" is
// stable.
//
// It returns the bytes, as stored, of the data files the scan planned after pruning.
func (l *Lake) scanInOrder(ctx context.Context, ident table.Identifier, timeCol string, since, until time.Time, fn func(arrow.RecordBatch) error) (int64, error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return 0, fmt.Errorf("loading %v: %w", ident, err)
	}
	tf, ok := tbl.Schema().FindFieldByName(timeCol)
	if !ok {
		return 0, fmt.Errorf("%v has no %s column", ident, timeCol)
	}
	scan := tbl.Scan(table.WithRowFilter(timeFilter(timeCol, since, until)))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return 0, fmt.Errorf("planning a scan of %v: %w", ident, err)
	}
	var size int64
	for _, t := range tasks {
		size += t.File.FileSizeBytes()
	}
	slices.SortStableFunc(tasks, func(a, b table.FileScanTask) int {
		return cmp.Or(cmp.Compare(lowerBound(a.File, tf.ID), lowerBound(b.File, tf.ID)), cmp.Compare(a.File.FilePath(), b.File.FilePath()))
	})
	_, batches, err := scan.ReadTasks(ctx, tasks)
	if err != nil {
		return size, fmt.Errorf("scanning %v: %w", ident, err)
	}
	for batch, err := range batches {
		if err != nil {
			return size, fmt.Errorf("scanning %v: %w", ident, err)
		}
		err = fn(batch)
		batch.Release()
		if err != nil {
			return size, err
		}
	}
	return size, nil
}

// ReadProxyLogs calls fn with every row of the proxy_logs table ident logged between since
// and until (zero: unbounded), in batches. The slice is reused between calls.
func (l *Lake) ReadProxyLogs(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) error {
	_, err := l.ScanProxyLogs(ctx, ident, since, until, fn)
	return err
}

// ScanProxyLogs is ReadProxyLogs that also returns the bytes, as stored, of the data files the
// scan covered. Columns are mapped by hand-written setters, not reflection: this is diff's hot
// read path.
func (l *Lake) ScanProxyLogs(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) (int64, error) {
	var recs []lakehouse.ProxyLogRecord
	return l.scanInOrder(ctx, ident, "ts", since, until, func(batch arrow.RecordBatch) error {
		n := int(batch.NumRows())
		recs = append(recs[:0], make([]lakehouse.ProxyLogRecord, n)...)
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
		return fn(recs)
	})
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
