package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/sink"
)

// Record is a profile record on its way to the sink: decoded (Profile), or as the JSON line the
// journal holds (a JSONL sink stores it without decoding it), or both.
type Record struct {
	Profile *lakehouse.ProfileRecord
	line    []byte // the record's JSON and its newline, when the writer loaded it into its arena
	hour    time.Time
}

// JSON is the record's JSON as the journal holds it, without the newline; nil when the record
// was not read back from the journal.
func (r *Record) JSON() []byte { return lineJSON(r.line) }

// lineJSON is a JSON line without its newline (nil for none), capped so that an append to it
// cannot write over the line that follows it in the arena.
func lineJSON(line []byte) []byte {
	if len(line) == 0 {
		return nil
	}
	return line[: len(line)-1 : len(line)-1]
}

// Hour is the partition hour the record is filed under.
func (r *Record) Hour() time.Time { return r.hour }

// Sink is where the collector's batches go (Config.Sink). A Sink that is also a
// sink.CheckpointStore (TableSink) gets the collector's checkpoint with every batch, in the same
// commit, and is read back as the authority on what is stored when the collector starts.
type Sink = sink.Writer[*Record]

// CheckpointKey names the collector checkpoint of a cluster in a CheckpointStore (one per
// cluster, so that several clusters' collectors can write one table).
func CheckpointKey(cluster string) string { return "srctl.collector-checkpoint." + cluster }

// JSONLSink stores batches as Hive-partitioned JSONL objects in b (see sink.JSONL).
func JSONLSink(b objstore.Bucket) Sink {
	return &sink.JSONL[*Record]{Bucket: b, Hour: (*Record).Hour, Append: appendRecordJSON,
		Line: func(r *Record) []byte { return r.line }}
}

// appendRecordJSON appends r's JSON line: the journal's bytes when it has them, else r.Profile
// encoded as the journal encodes it (no HTML escaping).
func appendRecordJSON(dst []byte, r *Record) ([]byte, error) {
	if j := r.JSON(); j != nil {
		return append(dst, j...), nil
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.Profile); err != nil {
		return dst, fmt.Errorf("encoding record %s: %w", r.Profile.QueryID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// TableWriter is a store of decoded profile records that keeps a checkpoint with each batch
// (icelake.ProfileWriter).
type TableWriter interface {
	sink.Writer[*lakehouse.ProfileRecord]
	sink.CheckpointStore
}

// TableSink stores batches in a table writer, decoding journaled records first.
func TableSink(w TableWriter) Sink { return tableSink{w} }

type tableSink struct{ w TableWriter }

func (t tableSink) String() string { return t.w.String() }

func (t tableSink) LoadCheckpoint(ctx context.Context, key string) ([]byte, error) {
	return t.w.LoadCheckpoint(ctx, key)
}

func (t tableSink) Write(ctx context.Context, b sink.Batch[*Record]) error {
	recs := make([]*lakehouse.ProfileRecord, len(b.Records))
	for i, r := range b.Records {
		if recs[i] = r.Profile; recs[i] == nil {
			var p lakehouse.ProfileRecord
			if err := json.Unmarshal(r.JSON(), &p); err != nil {
				return fmt.Errorf("decoding a journaled record: %w", err)
			}
			recs[i] = &p
		}
	}
	return t.w.Write(ctx, sink.Batch[*lakehouse.ProfileRecord]{ID: b.ID, Records: recs, Checkpoint: b.Checkpoint, CheckpointKey: b.CheckpointKey})
}
