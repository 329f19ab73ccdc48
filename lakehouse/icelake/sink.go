package icelake

import (
	"context"
	"errors"

	"github.com/apache/iceberg-go/catalog"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/sink"
)

// ProfileWriter appends batches of profile records to a profiles table, exactly once per batch
// id, with the batch's checkpoint in the same snapshot (a sink.Writer and sink.CheckpointStore).
type ProfileWriter struct {
	lake *Lake
	uri  URI
}

// NewProfileWriter writes to the profiles table u of l.
func NewProfileWriter(l *Lake, u URI) *ProfileWriter { return &ProfileWriter{lake: l, uri: u} }

func (s *ProfileWriter) String() string { return s.uri.String() }

// Write appends b, exactly once per b.ID. A checkpoint is stored in the snapshot summary and as
// a table property under b.CheckpointKey (the table property is the newest one and survives
// snapshot expiry; tables written before it existed are searched by snapshot).
func (s *ProfileWriter) Write(ctx context.Context, b sink.Batch[*lakehouse.ProfileRecord]) error {
	if len(b.Records) == 0 && b.Checkpoint == nil {
		return nil
	}
	props := map[string]string{"srctl.operation": "collect"}
	var tableProps map[string]string
	if b.Checkpoint != nil {
		props[b.CheckpointKey] = string(b.Checkpoint)
		tableProps = map[string]string{b.CheckpointKey: string(b.Checkpoint)}
	}
	_, err := s.lake.AppendProfiles(ctx, s.uri.Ident(), b.Records, b.ID, props, tableProps)
	return err
}

// ProxyLogWriter appends batches of proxy-log rows to a proxy_logs table, exactly once per
// batch id (a sink.Writer).
type ProxyLogWriter struct {
	lake   *Lake
	uri    URI
	writer string
}

// NewProxyLogWriter writes to the proxy_logs table u of l; writer names the program in each
// snapshot's summary (srctl.writer).
func NewProxyLogWriter(l *Lake, u URI, writer string) *ProxyLogWriter {
	return &ProxyLogWriter{lake: l, uri: u, writer: writer}
}

func (w *ProxyLogWriter) String() string { return w.uri.String() }

// Write appends b, exactly once per b.ID.
func (w *ProxyLogWriter) Write(ctx context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	if len(b.Records) == 0 {
		return nil
	}
	recs := make([]lakehouse.ProxyLogRecord, len(b.Records))
	for i, r := range b.Records {
		recs[i] = *r
	}
	_, err := w.lake.AppendProxyLogs(ctx, w.uri.Ident(), recs, b.ID, map[string]string{"srctl.writer": w.writer})
	return err
}

// LoadCheckpoint returns the newest checkpoint stored under key (nil: none, or no table).
func (s *ProfileWriter) LoadCheckpoint(ctx context.Context, key string) ([]byte, error) {
	tbl, err := s.lake.cat.LoadTable(ctx, s.uri.Ident())
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v, ok := tbl.Properties()[key]; ok {
		return []byte(v), nil
	}
	// Tables written before the property existed: the newest snapshot that carries it.
	var best []byte
	var bestSeq int64 = -1
	for _, snap := range tbl.Metadata().Snapshots() {
		if snap.Summary == nil {
			continue
		}
		if v, ok := snap.Summary.Properties[key]; ok && snap.SequenceNumber > bestSeq {
			best, bestSeq = []byte(v), snap.SequenceNumber
		}
	}
	return best, nil
}

var (
	_ sink.Writer[*lakehouse.ProxyLogRecord] = (*ProxyLogWriter)(nil)
	_ sink.Writer[*lakehouse.ProfileRecord]  = (*ProfileWriter)(nil)
	_ sink.CheckpointStore                   = (*ProfileWriter)(nil)
)
