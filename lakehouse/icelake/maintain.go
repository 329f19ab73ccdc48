package icelake

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"
)

// CompactResult says what a compaction did.
type CompactResult struct {
	FilesBefore, FilesAfter int
	BytesBefore, BytesAfter int64
	Groups                  int
}

// Compact rewrites the small data files whose partition column (partCol) falls between since
// and until (zero: unbounded) into files of about targetBytes, one atomic snapshot. Readers
// see the same rows before and after; appends committed meanwhile are kept (iceberg-go
// validates the rewrite against them, and srctl's appends retry).
func (l *Lake) Compact(ctx context.Context, ident table.Identifier, partCol string, since, until time.Time, targetBytes int64) (CompactResult, error) {
	var res CompactResult
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return res, fmt.Errorf("loading %v: %w", ident, err)
	}
	tasks, err := tbl.Scan(table.WithRowFilter(timeFilter(partCol, since, until))).PlanFiles(ctx)
	if err != nil {
		return res, fmt.Errorf("planning %v: %w", ident, err)
	}
	cfg := compaction.DefaultConfig()
	if targetBytes > 0 {
		cfg.TargetFileSizeBytes, cfg.MinFileSizeBytes, cfg.MaxFileSizeBytes = targetBytes, targetBytes*3/4, targetBytes*9/5
	}
	cfg.MinInputFiles = 2
	plan, err := cfg.PlanCompaction(tasks)
	if err != nil {
		return res, err
	}
	res.FilesBefore = plan.TotalInputFiles
	res.FilesAfter = plan.TotalInputFiles
	if len(plan.Groups) == 0 {
		return res, nil
	}
	groups := make([]table.CompactionTaskGroup, len(plan.Groups))
	for i, g := range plan.Groups {
		groups[i] = table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes}
	}
	rr, err := tbl.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{
		SnapshotProps: map[string]string{"srctl.operation": "compact"}})
	if err != nil {
		return res, fmt.Errorf("compacting %v: %w", ident, err)
	}
	res.Groups = len(groups)
	res.BytesBefore, res.BytesAfter = rr.BytesBefore, rr.BytesAfter
	res.FilesAfter = plan.TotalInputFiles - rr.RemovedDataFiles + rr.AddedDataFiles
	return res, nil
}

// Expire removes snapshots older than olderThan, keeping at least retainLast, and the files
// only they referenced. Batch ids live in snapshot summaries: an import repeated after its
// snapshots expired adds its rows again. Collector checkpoints survive (they are also table
// properties).
func (l *Lake) Expire(ctx context.Context, ident table.Identifier, olderThan time.Duration, retainLast int) (before, after int, err error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %v: %w", ident, err)
	}
	before = len(tbl.Metadata().Snapshots())
	txn := tbl.NewTransaction()
	if err := txn.ExpireSnapshots(table.WithOlderThan(olderThan), table.WithRetainLast(retainLast)); err != nil {
		return before, before, fmt.Errorf("expiring snapshots of %v: %w", ident, err)
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return before, before, fmt.Errorf("expiring snapshots of %v: %w", ident, err)
	}
	return before, len(next.Metadata().Snapshots()), nil
}
