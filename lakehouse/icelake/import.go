package icelake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
)

// ImportStats count what an import did.
type ImportStats struct {
	Objects      int
	Rows         int64
	Batches      int
	Skipped      int // batches already in the table (a re-run)
	BadLines     int64
	FirstBadLine string // "file:line: why" of the first bad line
}

// DefaultImportBatchRows is the rows per committed batch of an import.
const DefaultImportBatchRows = lakehouse.DefaultImportBatchRows

// ImportProxyLogs loads shadow-proxy JSONL objects (.jsonl or .jsonl.gz) into the proxy_logs
// table ident, in batches of batchRows. A batch's id is a hash of its rows' content, so
// re-running an import over the same logs adds nothing, whatever the files are called now.
// Lines that are not records are counted and skipped. progress (optional) hears each batch.
func (l *Lake) ImportProxyLogs(ctx context.Context, ident table.Identifier, objs []lakehouse.Object, batchRows int, progress func(ImportStats)) (ImportStats, error) {
	return importJSONL(ctx, objs, batchRows, progress,
		func(r *lakehouse.ProxyLogRecord) bool { return !r.TS.IsZero() && r.QueryID != "" && r.Target != "" },
		"a log row needs ts, query_id and target",
		func(batch []lakehouse.ProxyLogRecord, id, source string) (AppendResult, error) {
			return l.AppendProxyLogs(ctx, ident, batch, id, map[string]string{"srctl.operation": "import", "srctl.source": source})
		})
}

// ImportProfiles loads profile records (srctl collect's output, or the earlier collector's)
// into the profiles table ident, idempotently as ImportProxyLogs does.
func (l *Lake) ImportProfiles(ctx context.Context, ident table.Identifier, objs []lakehouse.Object, batchRows int, progress func(ImportStats)) (ImportStats, error) {
	return importJSONL(ctx, objs, batchRows, progress,
		func(r *lakehouse.ProfileRecord) bool { return !r.TS.IsZero() && r.QueryID != "" && r.Cluster != "" },
		"a profile record needs ts, cluster and sr_query_id",
		func(batch []lakehouse.ProfileRecord, id, source string) (AppendResult, error) {
			ptrs := make([]*lakehouse.ProfileRecord, len(batch))
			for i := range batch {
				ptrs[i] = &batch[i]
			}
			return l.AppendProfiles(ctx, ident, ptrs, id, map[string]string{"srctl.operation": "import", "srctl.source": source}, nil)
		})
}

// importJSONL reads records of type T from objs and appends them in content-addressed batches
// that never straddle two objects.
func importJSONL[T any](ctx context.Context, objs []lakehouse.Object, batchRows int, progress func(ImportStats),
	valid func(*T) bool, invalidMsg string, appendBatch func(batch []T, id, source string) (AppendResult, error)) (ImportStats, error) {
	var st ImportStats
	if batchRows <= 0 {
		batchRows = DefaultImportBatchRows
	}
	batch := make([]T, 0, min(batchRows, 1<<16))
	h := sha256.New()
	flush := func(source string) error {
		if len(batch) == 0 {
			return nil
		}
		id := "import-" + hex.EncodeToString(h.Sum(nil)[:16])
		res, err := appendBatch(batch, id, source)
		if err != nil {
			return fmt.Errorf("importing %s: %w", source, err)
		}
		st.Batches++
		if res.AlreadyThere {
			st.Skipped++
		}
		st.Rows += int64(len(batch))
		batch = batch[:0]
		h.Reset()
		if progress != nil {
			progress(st)
		}
		return nil
	}
	for _, o := range objs {
		st.Objects++
		err := readJSONL(ctx, o, &st, valid, invalidMsg, func(r T) error {
			b, _ := json.Marshal(&r)
			h.Write(b)
			h.Write([]byte{'\n'})
			batch = append(batch, r)
			if len(batch) >= batchRows {
				return flush(o.Name)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		if err := flush(o.Name); err != nil {
			return st, err
		}
	}
	return st, nil
}

func readJSONL[T any](ctx context.Context, o lakehouse.Object, st *ImportStats, valid func(*T) bool, invalidMsg string, add func(T) error) error {
	return lakehouse.ReadJSONL(ctx, o, func(rec T, line int, err error) error {
		if err == nil && !valid(&rec) {
			err = fmt.Errorf("%s:%d: %s", o.Name, line, invalidMsg)
		}
		if err != nil {
			st.BadLines++
			if st.FirstBadLine == "" {
				st.FirstBadLine = err.Error()
			}
			return nil
		}
		return add(rec)
	})
}
