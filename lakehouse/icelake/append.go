package icelake

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
)

// BatchIDKey is the snapshot-summary property that names the batch a snapshot added.
const BatchIDKey = "srctl.batch-id"

// maxCommitAttempts bounds the retries of one batch's commit.
const maxCommitAttempts = 50

// HasBatch reports whether a snapshot in tbl's history added batch id.
func HasBatch(tbl *table.Table, id string) bool {
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary != nil && s.Summary.Properties[BatchIDKey] == id {
			return true
		}
	}
	return false
}

// AppendResult says what an append did.
type AppendResult struct {
	Rows     int
	Files    []string
	Attempts int
	// AlreadyThere: the batch id was in the table's history before this append wrote
	// anything; nothing was added.
	AlreadyThere bool
}

// AppendProxyLogs appends recs to the proxy_logs table ident as batch id (with extra snapshot
// summary properties), exactly once: see the package comment.
func (l *Lake) AppendProxyLogs(ctx context.Context, ident table.Identifier, recs []lakehouse.ProxyLogRecord, batchID string, props map[string]string) (AppendResult, error) {
	return l.appendProxyLogs(ctx, ident, ProxyLogsDef, recs, batchID, props)
}

func (l *Lake) appendProxyLogs(ctx context.Context, ident table.Identifier, def Def, recs []lakehouse.ProxyLogRecord, batchID string, props map[string]string) (AppendResult, error) {
	return l.appendRows(ctx, ident, def, len(recs), func(i int) time.Time { return recs[i].TS },
		func(schema *arrow.Schema, rows []int) (arrow.RecordBatch, error) {
			sub := make([]lakehouse.ProxyLogRecord, len(rows))
			for k, i := range rows {
				sub[k] = recs[i]
			}
			return proxyLogBatch(schema, sub)
		}, batchID, props, nil)
}

// appendRows writes n rows as one Parquet file per day of partTime (a file's partition is
// read back from its column bounds, so a file must not straddle two days) and commits them as
// batch batchID, exactly once, with summary properties props and, in the same commit, table
// properties tableProps.
func (l *Lake) appendRows(ctx context.Context, ident table.Identifier, def Def, n int, partTime func(i int) time.Time,
	build func(schema *arrow.Schema, rows []int) (arrow.RecordBatch, error), batchID string, props, tableProps map[string]string) (AppendResult, error) {
	res := AppendResult{Rows: n}
	tbl, err := l.Table(ctx, ident, def)
	if err != nil {
		return res, err
	}
	if HasBatch(tbl, batchID) {
		res.AlreadyThere = true
		return res, nil
	}
	if n == 0 {
		return res, nil
	}
	schema, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return res, err
	}
	byDay := map[string][]int{}
	var days []string
	for i := range n {
		d := "null"
		if t := partTime(i); !t.IsZero() {
			d = t.UTC().Format(time.DateOnly)
		}
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], i)
	}
	slices.Sort(days)
	for i, d := range days {
		rec, err := build(schema, byDay[d])
		if err != nil {
			return res, err
		}
		path := fmt.Sprintf("%s/data/%s_day=%s/%s-%d.parquet", tbl.Location(), def.Partition, d, safeName(batchID), i)
		err = writeParquet(ctx, tbl, path, schema, rec)
		rec.Release()
		if err != nil {
			return res, err
		}
		res.Files = append(res.Files, path)
	}
	summary := iceberg.Properties{BatchIDKey: batchID}
	for k, v := range props {
		summary[k] = v
	}
	res.Attempts, err = l.commitFiles(ctx, ident, tbl, res.Files, batchID, summary, tableProps)
	return res, err
}

// commitFiles adds the written files in one snapshot, retrying after reloading the table on
// any failure (iceberg-go's SQL catalog reports a moved head as a plain error), until the
// batch is in the table's history.
func (l *Lake) commitFiles(ctx context.Context, ident table.Identifier, tbl *table.Table, files []string, batchID string, summary iceberg.Properties, tableProps map[string]string) (int, error) {
	var lastErr error
	for attempt := 1; attempt <= maxCommitAttempts; attempt++ {
		if attempt > 1 {
			backoff := time.Duration(min(attempt*attempt, 100)) * 10 * time.Millisecond
			select {
			case <-ctx.Done():
				return attempt - 1, errors.Join(ctx.Err(), lastErr)
			case <-time.After(backoff/2 + rand.N(backoff)):
			}
			fresh, err := l.cat.LoadTable(ctx, ident)
			if err != nil {
				lastErr = err
				continue
			}
			tbl = fresh
			if HasBatch(tbl, batchID) {
				return attempt, nil // an earlier attempt's commit landed after all
			}
		}
		txn := tbl.NewTransaction()
		var err error
		props := iceberg.Properties{}
		for k, v := range missingManifestMerging(tbl) { // older tables get it with their next append
			props[k] = v
		}
		for k, v := range tableProps {
			props[k] = v
		}
		if len(props) > 0 {
			err = txn.SetProperties(props) // before AddFiles: its producer reads the merge setting
		}
		if err == nil {
			err = txn.AddFiles(ctx, files, summary, false)
		}
		if err == nil {
			_, err = txn.Commit(ctx)
		}
		if err == nil {
			return attempt, nil
		}
		lastErr = err
	}
	return maxCommitAttempts, fmt.Errorf("committing batch %s to %v after %d attempts: %w", batchID, ident, maxCommitAttempts, lastErr)
}

// writeParquet writes rec as a zstd Parquet file with Iceberg field ids.
func writeParquet(ctx context.Context, tbl *table.Table, path string, schema *arrow.Schema, rec arrow.RecordBatch) error {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	wfs, ok := fs.(icebergio.WriteFileIO)
	if !ok {
		return fmt.Errorf("the warehouse of %v cannot be written", tbl.Identifier())
	}
	w, err := wfs.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	fw, err := pqarrow.NewFileWriter(schema, w, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		w.Close()
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// safeName keeps a batch id usable in a file name.
func safeName(id string) string {
	out := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
		} else {
			out = append(out, '_')
		}
	}
	if len(out) > 80 {
		out = append(out[:60], strconv.FormatUint(uint64(len(id)), 10)...)
	}
	return string(out)
}
