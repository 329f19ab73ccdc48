package icelake

import (
	"context"
	"fmt"
	"time"

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

// ReadProxyLogs calls fn with every row of the proxy_logs table ident logged between since
// and until (zero: unbounded), in batches. The slice is reused between calls.
func (l *Lake) ReadProxyLogs(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) error {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return fmt.Errorf("loading %v: %w", ident, err)
	}
	_, batches, err := tbl.Scan(table.WithRowFilter(timeFilter("ts", since, until))).ToArrowRecords(ctx)
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
