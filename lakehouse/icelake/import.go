package icelake

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/jsonl"
	"github.com/srctl/srctl/lakehouse/proxylog"
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
const DefaultImportBatchRows = 200_000

// ImportProxyLogs loads shadow-proxy JSONL objects (.jsonl or .jsonl.gz) into the proxy_logs
// table ident, in batches of batchRows. A batch's id is a hash of its rows' content, so
// re-running an import over the same logs adds nothing, whatever the files are called now.
// Lines that are not records are counted and skipped. progress (optional) hears each batch.
func (l *Lake) ImportProxyLogs(ctx context.Context, ident table.Identifier, objs []proxylog.Object, batchRows int, progress func(ImportStats)) (ImportStats, error) {
	var st ImportStats
	if batchRows <= 0 {
		batchRows = DefaultImportBatchRows
	}
	batch := make([]lakehouse.ProxyLogRecord, 0, batchRows)
	h := sha256.New()
	flush := func(source string) error {
		if len(batch) == 0 {
			return nil
		}
		id := "import-" + hex.EncodeToString(h.Sum(nil)[:16])
		res, err := l.AppendProxyLogs(ctx, ident, batch, id, map[string]string{"srctl.operation": "import", "srctl.source": source})
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
		if err := l.importObject(ctx, o, &st, func(r lakehouse.ProxyLogRecord) error {
			b, _ := json.Marshal(&r)
			h.Write(b)
			h.Write([]byte{'\n'})
			batch = append(batch, r)
			if len(batch) >= batchRows {
				return flush(o.Name)
			}
			return nil
		}); err != nil {
			return st, err
		}
		if err := flush(o.Name); err != nil { // batches never straddle objects
			return st, err
		}
	}
	return st, nil
}

func (l *Lake) importObject(ctx context.Context, o proxylog.Object, st *ImportStats, add func(lakehouse.ProxyLogRecord) error) error {
	rc, err := o.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening %s: %w", o.Name, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if strings.HasSuffix(o.Name, ".gz") {
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Name, err)
		}
		defer zr.Close()
		r = zr
	}
	jr := jsonl.NewReader[lakehouse.ProxyLogRecord](r, o.Name)
	for jr.Scan() {
		rec, err := jr.Record()
		if err == nil && (rec.TS.IsZero() || rec.QueryID == "" || rec.Target == "") {
			err = fmt.Errorf("%s:%d: a log row needs ts, query_id and target", o.Name, jr.Line())
		}
		if err != nil {
			st.BadLines++
			if st.FirstBadLine == "" {
				st.FirstBadLine = err.Error()
			}
			continue
		}
		if err := add(rec); err != nil {
			return err
		}
	}
	return jr.Err()
}
