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
func (l *Lake) scanInOrder(ctx context.Context, ident table.Identifier, timeCol string, since, until time.Time, fn func(arrow.RecordBatch) error) error {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return fmt.Errorf("loading %v: %w", ident, err)
	}
	tf, ok := tbl.Schema().FindFieldByName(timeCol)
	if !ok {
		return fmt.Errorf("%v has no %s column", ident, timeCol)
	}
	scan := tbl.Scan(table.WithRowFilter(timeFilter(timeCol, since, until)))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning a scan of %v: %w", ident, err)
	}
	slices.SortStableFunc(tasks, func(a, b table.FileScanTask) int {
		return cmp.Or(cmp.Compare(lowerBound(a.File, tf.ID), lowerBound(b.File, tf.ID)), cmp.Compare(a.File.FilePath(), b.File.FilePath()))
	})
	_, batches, err := scan.ReadTasks(ctx, tasks)
	if err != nil {
		return fmt.Errorf("scanning %v: %w", ident, err)
	}
	for batch, err := range batches {
		if err != nil {
			return fmt.Errorf("scanning %v: %w", ident, err)
		}
		err = fn(batch)
		batch.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadProxyLogs calls fn with every row of the proxy_logs table ident logged between since
// and until (zero: unbounded), in batches. The slice is reused between calls. Columns are
// mapped by hand-written setters, not reflection: this is diff's hot read path.
func (l *Lake) ReadProxyLogs(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) error {
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

// DataSize is what a read of table ident between since and until (zero: unbounded) covers: the
// data files the scan plans after partition and file pruning, and their bytes as stored.
func (l *Lake) DataSize(ctx context.Context, ident table.Identifier, timeCol string, since, until time.Time) (files int, bytes int64, err error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %v: %w", ident, err)
	}
	tasks, err := tbl.Scan(table.WithRowFilter(timeFilter(timeCol, since, until))).PlanFiles(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("planning a scan of %v: %w", ident, err)
	}
	for _, t := range tasks {
		bytes += t.File.FileSizeBytes()
	}
	return len(tasks), bytes, nil
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
